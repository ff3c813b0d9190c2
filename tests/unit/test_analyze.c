/* The analyses' formulas against hand-computed values (the study's own
 * figures where it gives them), Welch's test where the t distribution has a
 * closed form, the Pareto front, and the grouping of stored runs. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_close.h"

#include "edgebench/analysis.h"

static void test_study_figures(void **state)
{
    (void)state;
    /* 4 words/s at 0.75 words/token: the study's 5.3 tokens/s */
    assert_close(eb_reading_tokens_per_s(4, 0.75), 16.0 / 3.0, 1e-12);
    /* the 18.84 Wh battery is 67824 J: 100 J per run gives 678.24 runs */
    assert_close(eb_battery_runs(18.84, 100), 678.24, 1e-9);
    assert_close(eb_battery_runs(18.84, 67824), 1.0, 1e-12);
    assert_true(isnan(eb_battery_runs(18.84, 0)));
    /* 1 J/token: a million tokens are 1e6 J = 0.2778 kWh, 5.556 cents at 20 cents/kWh */
    assert_close(eb_cost_per_mtok_cents(1.0, 20), 1e6 / 3.6e6 * 20, 1e-12);
    assert_close(eb_cost_per_mtok_cents(0.036, 100), 1.0, 1e-12);
}

static void test_breakeven(void **state)
{
    (void)state;
    /* a costs 400 more; per 1 input + 1 output token it takes 0.01 + 0.1 s and
     * saves (0.2 + 2) - (0.1 + 1) = 1.1 J */
    eb_device_costs a = {500, 100, 10, 0.1, 1.0}, b = {100, 50, 5, 0.2, 2.0};
    double units = 365.25 * 86400 / 0.11, saving = units * 1.1 / 3.6e6 * 0.2;
    assert_close(eb_breakeven_years(&a, &b, 1, 1, 1.0, 0.2), 400 / saving, 1e-9);
    assert_close(eb_breakeven_years(&a, &b, 1, 1, 1.0, 0.2), 22.8154, 1e-4);
    /* half the utilisation, twice the time; twice the price, half the time */
    assert_close(eb_breakeven_years(&a, &b, 1, 1, 0.5, 0.2), 2 * 400 / saving, 1e-9);
    assert_close(eb_breakeven_years(&a, &b, 1, 1, 1.0, 0.4), 400 / saving / 2, 1e-9);
    /* a device that saves nothing never pays back; a cheaper one at once */
    eb_device_costs c = {500, 100, 10, 0.2, 2.0};
    assert_true(isinf(eb_breakeven_years(&c, &b, 1, 1, 1, 0.2)));
    eb_device_costs d = {50, 100, 10, 0.1, 1.0};
    assert_close(eb_breakeven_years(&d, &b, 1, 1, 1, 0.2), 0, 0);
}

static void test_bootstrap(void **state)
{
    (void)state;
    const double fast[] = {10.0, 10.2, 9.9, 10.1, 10.0, 9.8};
    const double slow[] = {8.0, 8.1, 7.9, 8.2, 8.0, 7.8};
    const double same[] = {10.1, 9.9, 10.0, 10.2, 9.8, 10.0};
    double lo, hi, lo2, hi2;
    /* clearly apart: the interval holds the difference of means (2.0) and not 0 */
    assert_true(eb_bootstrap_diff_ci(fast, 6, slow, 6, 4000, 42, &lo, &hi));
    assert_true(lo > 0 && lo < 2.0 && hi > 2.0 && hi < 2.4);
    /* the same seed gives the same interval */
    assert_true(eb_bootstrap_diff_ci(fast, 6, slow, 6, 4000, 42, &lo2, &hi2));
    assert_true(lo == lo2 && hi == hi2);
    /* one distribution: the interval holds 0 */
    assert_true(eb_bootstrap_diff_ci(fast, 6, same, 6, 4000, 42, &lo, &hi));
    assert_true(lo < 0 && hi > 0);
    /* too few values or resamples */
    assert_false(eb_bootstrap_diff_ci(fast, 1, slow, 6, 4000, 42, &lo, &hi));
    assert_false(eb_bootstrap_diff_ci(fast, 6, slow, 6, 5, 42, &lo, &hi));
}

static void test_welch(void **state)
{
    (void)state;
    /* two samples of two with equal variance: df = 2, where
     * P(|T| > t) = 1 - t / sqrt(t^2 + 2); here t = sqrt(2) */
    double a[] = {0, 2}, b[] = {2, 4};
    assert_close(eb_welch_p(a, 2, b, 2), 1 - sqrt(2.0) / 2.0, 1e-10);
    /* t = 2 * sqrt(2) */
    double c[] = {4, 6};
    assert_close(eb_welch_p(a, 2, c, 2), 1 - sqrt(8.0) / sqrt(10.0), 1e-10);
    /* the same samples: no difference at all */
    assert_close(eb_welch_p(a, 2, a, 2), 1.0, 1e-12);
    /* clearly apart */
    double x[] = {5.0, 5.1, 5.05, 4.95, 5.02}, y[] = {6.0, 6.1, 5.9, 6.05, 6.02};
    assert_true(eb_welch_p(x, 5, y, 5) < 1e-6);
    /* overlapping noise */
    double u[] = {10.1, 10.3, 9.9, 10.2}, v[] = {10.0, 10.4, 10.1, 9.8};
    assert_true(eb_welch_p(u, 4, v, 4) > 0.5);
    /* too few runs to say anything */
    assert_close(eb_welch_p(x, 1, y, 5), 1.0, 0);
}

static void test_pareto(void **state)
{
    (void)state;
    double tps[] = {10, 8, 9, 5, 10, NAN}, jpt[] = {1, 0.5, 2, 0.4, 1.5, 0.1};
    bool front[6];
    eb_pareto(tps, jpt, 6, front);
    bool expect[] = {true, true, false, true, false, false};
    for (int i = 0; i < 6; i++)
        assert_int_equal(front[i], expect[i]);
}

static void test_configs_from_runs(void **state)
{
    (void)state;
    const char *names[] = {"device",     "model",           "quant",          "governor",
                           "power_mode", "threads_prefill", "threads_gen",    "warmup",
                           "status",     "gen_tps",         "gen_j_per_token"};
    eb_table t;
    assert_int_equal(eb_table_init(&t, 11, names, NULL), EB_OK);
    char *rows[][11] = {
        {"pi", "m", "Q4_0", "ondemand", NULL, "4", "4", "1", "ok", "99", "9"}, /* warm-up */
        {"pi", "m", "Q4_0", "ondemand", NULL, "4", "4", "0", "ok", "10", "1"},
        {"pi", "m", "Q4_0", "ondemand", NULL, "4", "4", "0", "ok", "12", "1.5"},
        {"pi", "m", "Q4_0", "powersave", NULL, "4", "4", "0", "ok", "6", NULL},
        {"pi", "m", "Q4_0", "ondemand", NULL, "2", "2", "0", "failed", "1", "1"},
    };
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(eb_table_add_row(&t, rows[i]), EB_OK);
    eb_config_set set;
    eb_error err = {0};
    assert_int_equal(eb_configs_from_runs(&t, &set, &err), EB_OK);
    assert_int_equal(set.n, 2);
    assert_string_equal(set.c[0].governor, "ondemand");
    assert_int_equal(set.c[0].s[EB_AV_GEN_TPS].n, 2);
    assert_close(eb_samples_mean(&set.c[0].s[EB_AV_GEN_TPS]), 11, 1e-12);
    assert_close(eb_samples_mean(&set.c[0].s[EB_AV_GEN_JPT]), 1.25, 1e-12);
    /* not measured stays not measured */
    assert_int_equal(set.c[1].s[EB_AV_GEN_JPT].n, 0);
    assert_true(isnan(eb_samples_mean(&set.c[1].s[EB_AV_GEN_JPT])));
    eb_config_set_free(&set);
    eb_table_free(&t);
}

/* The analysis tables from the library: a usability table with a row per
 * configuration, a breakeven without its devices refused naming the
 * options, and the configuration label. */
static void test_analysis_tables(void **state)
{
    (void)state;
    const char *names[] = {"device",     "model",           "quant",          "governor",
                           "power_mode", "threads_prefill", "threads_gen",    "warmup",
                           "status",     "gen_tps",         "gen_j_per_token"};
    eb_table t;
    assert_int_equal(eb_table_init(&t, 11, names, NULL), EB_OK);
    char *rows[][11] = {
        {"pi", "m", "Q4_0", "ondemand", NULL, "4", "4", "0", "ok", "10", "1"},
        {"pi", "m", "Q4_0", "ondemand", NULL, "4", "4", "0", "ok", "12", "1.5"},
        {"pi", "m", "Q4_0", "powersave", NULL, "2", "1", "0", "ok", "3", "2"},
    };
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(eb_table_add_row(&t, rows[i]), EB_OK);
    eb_config_set set;
    eb_error err = {0};
    assert_int_equal(eb_configs_from_runs(&t, &set, &err), EB_OK);
    eb_analysis_opts o;
    eb_analysis_defaults(&o);
    eb_table u = {0};
    assert_int_equal(eb_analysis_table("usability", &set, &o, &u, &err), EB_OK);
    /* one row per device and model: its fastest configuration, which a
     * reader at 4 words/s can follow */
    assert_int_equal(u.nrow, 1);
    assert_string_equal(u.cell[3], "4 threads, governor ondemand");
    assert_close(atof(u.cell[4]), 11, 1e-9);
    assert_true(strncmp(u.cell[6], "yes", 3) == 0);
    eb_table_free(&u);
    assert_int_equal(eb_analysis_table("breakeven", &set, &o, &u, &err), EB_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "breakeven needs --device-a"));
    char label[128];
    eb_config_label(2, 1, "powersave", "15W", 29, false, label, sizeof label);
    assert_string_equal(
        label,
        "prefill 2 threads, generation 1, governor powersave, 15W mode, 29 layers on the GPU");
    eb_config_set_free(&set);
    eb_table_free(&t);
}

/* Estimated and measured energy of one device and model are two groups:
 * never ranked against each other, the estimate labelled. */
static void test_estimates_apart(void **state)
{
    (void)state;
    const char *names[] = {"device",     "model",           "quant",           "governor",
                           "power_mode", "threads_prefill", "threads_gen",     "warmup",
                           "status",     "gen_tps",         "gen_j_per_token", "energy_estimate"};
    eb_table t;
    assert_int_equal(eb_table_init(&t, 12, names, NULL), EB_OK);
    char *rows[][12] = {
        {"pi", "m", "Q4_0", "", NULL, "4", "4", "0", "ok", "10", "1", "0"},
        {"pi", "m", "Q4_0", "", NULL, "4", "4", "0", "ok", "10", "0.1", "1"},
    };
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(eb_table_add_row(&t, rows[i]), EB_OK);
    eb_config_set set;
    eb_error err = {0};
    assert_int_equal(eb_configs_from_runs(&t, &set, &err), EB_OK);
    assert_int_equal(set.n, 2);
    assert_false(eb_config_same_group(&set.c[0], &set.c[1]));
    assert_int_equal(eb_configs_estimated(&set), 1);
    eb_analysis_opts o;
    eb_analysis_defaults(&o);
    eb_table opt = {0};
    assert_int_equal(eb_analysis_table("optimal", &set, &o, &opt, &err), EB_OK);
    int best = eb_table_column(&opt, "best"), obj = eb_table_column(&opt, "objective");
    int n_energy = 0;
    for (size_t r = 0; r < opt.nrow; r++) {
        const char *ob = opt.cell[r * opt.ncol + (size_t)obj];
        if (!ob || !strstr(ob, "energy per token")) continue;
        n_energy++;
    }
    /* one energy row per group: the estimate's 0.1 J never beats the measured 1 J */
    assert_true(n_energy >= 2);
    bool marked = false, plain = false;
    for (size_t r = 0; r < opt.nrow; r++) {
        const char *b = opt.cell[r * opt.ncol + (size_t)best];
        if (!b) continue;
        marked |= strstr(b, "energy ESTIMATE") != NULL;
        plain |= strstr(b, "ESTIMATE") == NULL;
    }
    assert_true(marked && plain);
    eb_table_free(&opt);
    eb_config_set_free(&set);
    eb_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_study_figures),   cmocka_unit_test(test_breakeven),
        cmocka_unit_test(test_welch),           cmocka_unit_test(test_bootstrap),
        cmocka_unit_test(test_pareto),          cmocka_unit_test(test_configs_from_runs),
        cmocka_unit_test(test_analysis_tables), cmocka_unit_test(test_estimates_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
