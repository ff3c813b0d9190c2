/* Per-phase measurements of real runs of a tiny preset: energy through a
 * fixture device whose power is known (so every figure is exact), an
 * external meter log, the timeline, and the reasons given when something is
 * missing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "assert_close.h"

#include "edgebench/bench.h"
#include "edgebench/meter.h"
#include "edgebench/output.h"
#include "edgebench/synth.h"

static char model_path[1024];
static char tmp[256];

static int setup(void **state)
{
    (void)state;
    eb_error err = {0};
    bool created;
    eb_synth_options o = {.seed = 42};
    snprintf(tmp, sizeof tmp, "%s/eb-measure-%d", P_tmpdir, (int)getpid());
    return eb_synth_cached(eb_preset_find("tiny-llama"), EB_SYNTH_Q4_0, &o, model_path,
                           sizeof model_path, &created, &err) == EB_OK
               ? 0
               : -1;
}

static eb_run_config config(void)
{
    eb_run_config c;
    eb_run_config_defaults(&c);
    c.model_path = model_path;
    c.n_gen = 24;
    c.reps = 2;
    c.warmup = 0;
    c.idle_s = 0.2;
    return c;
}

/* The Jetson fixture: VDD_IN is a constant 4.968 V x 2.632 A (13.1 W; the rails inside it draw 11.3
 * W). */
static void test_energy_exact_on_fixture(void **state)
{
    (void)state;
    eb_run_config c = config();
    c.root = FIXTURES "/jetson-orin-nano";
    eb_run_result r;
    eb_error err = {0};
    assert_int_equal(eb_run(&eb_engine_llama, &c, &r, NULL, NULL, &err), EB_OK);
    const double P = 4.968 * 2.632;
    assert_string_equal(r.energy_source, "ina3221:VDD_IN");
    assert_close(r.idle_w, P, 1e-9);
    for (int i = 0; i < r.n_reps; i++) {
        const eb_rep *w = &r.reps[i];
        for (int s = 0; s < EB_SPAN_COUNT; s++) {
            double d = w->t_end[s] - w->t_start[s];
            assert_true(d > 0);
            assert_close(w->pm[s][EB_PM_ENERGY_J], P * d, 1e-9);
            assert_close(w->pm[s][EB_PM_MEAN_W], P, 1e-9);
            assert_close(w->pm[s][EB_PM_PEAK_W], P, 1e-9);
            assert_close(w->pm[s][EB_PM_ENERGY_ABOVE_IDLE_J], 0, 1e-9);
        }
        const double *g = w->pm[EB_SPAN_GEN];
        assert_close(g[EB_PM_J_PER_TOKEN], P * w->gen_s / 24, 1e-9);
        /* action per token: E / throughput = (P t) / (n / t) */
        assert_close(g[EB_PM_ACTION], P * w->gen_s * w->gen_s / 24, 1e-9);
        const double *p = w->pm[EB_SPAN_PREFILL];
        assert_close(p[EB_PM_J_PER_TOKEN], P * w->prefill_s / w->n_prompt, 1e-9);
        assert_true(isnan(w->pm[EB_SPAN_LOAD][EB_PM_J_PER_TOKEN]));
        /* the fixture's unified memory, clock and temperatures */
        assert_close(g[EB_PM_NVMAP], 123456.0 / 1024, 1e-9);
        assert_close(g[EB_PM_CPU_FREQ], 1510.4, 1e-9);
        assert_close(g[EB_PM_TEMP_MAX], 49.0, 1e-9);
        /* the fixture has no /proc/self: memory of the process is missing */
        assert_true(isnan(g[EB_PM_RSS_ANON]));
    }
    assert_int_equal(r.pm_stats[EB_SPAN_GEN][EB_PM_ENERGY_J].n, 2);
    assert_int_equal(r.pm_stats[EB_SPAN_GEN][EB_PM_RSS_ANON].n, 0);
    assert_non_null(strstr(r.pm_reason[EB_PM_RSS_ANON], "RssAnon"));
    assert_string_equal(r.pm_reason[EB_PM_ENERGY_J], "");
    eb_run_result_free(&r);
}

static void write_meter_log(const char *path, bool iso)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("timestamp,watts\n", f);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    for (long t = now.tv_sec - 5; t < now.tv_sec + 120; t++) {
        if (iso) {
            time_t tt = t;
            struct tm tmv;
            gmtime_r(&tt, &tmv);
            char b[64];
            strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S.000Z", &tmv);
            fprintf(f, "%s,5.0\n", b);
        } else {
            fprintf(f, "%ld.0,5.0\n", t);
        }
    }
    fclose(f);
}

/* A wall-power meter's log (constant 5 W) is the energy source when given;
 * this machine's own memory readings are real. */
static void test_external_meter_and_real_memory(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s-meter.csv", tmp);
    for (int iso = 0; iso < 2; iso++) {
        write_meter_log(path, iso);
        eb_run_config c = config();
        c.meter_csv = path;
        eb_run_result r;
        eb_error err = {0};
        assert_int_equal(eb_run(&eb_engine_llama, &c, &r, NULL, NULL, &err), EB_OK);
        assert_non_null(strstr(r.energy_source, "external meter"));
        assert_close(r.idle_w, 5.0, 1e-5);
        const eb_rep *w = &r.reps[1];
        double d = w->t_end[EB_SPAN_GEN] - w->t_start[EB_SPAN_GEN];
        /* the meter speaks Unix seconds: near 1.7e9 a double resolves ~0.24 us,
         * so each boundary may move by that much (5 W x 1 us = 5e-6 J) */
        assert_close(w->pm[EB_SPAN_GEN][EB_PM_ENERGY_J], 5.0 * d, 1e-5);
        assert_true(w->pm[EB_SPAN_GEN][EB_PM_PEAK_RSS] > 1.0);
        assert_true(w->pm[EB_SPAN_GEN][EB_PM_PSS] > 1.0);
        assert_true(w->pm[EB_SPAN_GEN][EB_PM_RSS_FILE] > 0.0);
        assert_true(w->pm[EB_SPAN_GEN][EB_PM_MEM_AVAILABLE] > 1.0);
        assert_true(w->pm[EB_SPAN_GEN][EB_PM_SAMPLED_RSS_MAX] > 1.0);
        eb_run_result_free(&r);
    }
    unlink(path);
}

static void test_meter_log_errors(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s-bad.csv", tmp);
    struct {
        const char *text, *expect;
    } cases[] = {
        {"timestamp,watts\n100,1\n101,x\n", ":3: bad watts 'x'"},
        {"100,1\nyesterday,2\n", ":2: bad timestamp 'yesterday'"},
        {"100,1\n99,2\n", ":2: timestamps go backwards"},
        {"100 1\n", ":1: expected 'timestamp,watts'"},
        {"# only a comment\n100,1\n", "fewer than two readings"},
        {"100,-3\n101,1\n", ":1: bad watts '-3'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *f = fopen(path, "w");
        fputs(cases[i].text, f);
        fclose(f);
        eb_meter m;
        eb_error err = {0};
        assert_int_not_equal(eb_meter_load(path, &m, &err), EB_OK);
        if (!strstr(err.msg, cases[i].expect)) print_message("%s\n", err.msg);
        assert_non_null(strstr(err.msg, cases[i].expect));
        assert_non_null(strstr(err.msg, path));
    }
    /* ISO 8601 with an offset, and energy over a ramp */
    FILE *f = fopen(path, "w");
    fputs("2026-11-23T10:00:00+01:00;2\n2026-11-23T09:00:10Z;4\n", f);
    fclose(f);
    eb_meter m;
    eb_error err = {0};
    assert_int_equal(eb_meter_load(path, &m, &err), EB_OK);
    assert_int_equal(m.n, 2);
    assert_close(m.t[1] - m.t[0], 10, 1e-9);
    double j, peak;
    assert_true(eb_meter_energy(&m, m.t[0], m.t[1], &j, &peak));
    assert_close(j, 30, 1e-9);
    assert_false(eb_meter_energy(&m, m.t[0] - 1, m.t[1], &j, &peak));
    eb_meter_free(&m);
    unlink(path);
}

static void test_no_sampler_and_timeline(void **state)
{
    (void)state;
    eb_run_config c = config();
    c.no_sampler = true;
    eb_run_result r;
    eb_error err = {0};
    assert_int_equal(eb_run(&eb_engine_llama, &c, &r, NULL, NULL, &err), EB_OK);
    assert_null(r.sampler);
    assert_string_equal(r.pm_reason[EB_PM_ENERGY_J], "sampler off (--no-sampler)");
    assert_true(r.pm_stats[EB_SPAN_GEN][EB_PM_PEAK_RSS].n == 2); /* /proc still read */
    FILE *f = tmpfile();
    assert_int_equal(eb_write_timeline(f, &r, &err), EB_E_NOT_AVAILABLE);
    fclose(f);
    eb_run_result_free(&r);

    c.no_sampler = false;
    assert_int_equal(eb_run(&eb_engine_llama, &c, &r, NULL, NULL, &err), EB_OK);
    char *buf = NULL;
    size_t len = 0;
    f = open_memstream(&buf, &len);
    assert_int_equal(eb_write_timeline(f, &r, &err), EB_OK);
    fclose(f);
    assert_true(strncmp(buf, "t_s,rep,phase,process:rss [MiB]", 31) == 0);
    assert_non_null(strstr(buf, ",load,"));
    assert_non_null(strstr(buf, ",generation,"));
    free(buf);
    eb_run_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_energy_exact_on_fixture),
        cmocka_unit_test(test_external_meter_and_real_memory),
        cmocka_unit_test(test_meter_log_errors),
        cmocka_unit_test(test_no_sampler_and_timeline),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
