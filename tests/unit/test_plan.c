/* Plan files: lists, ranges, products, errors with file:line, the closest
 * key for a misspelt one, and checks against a fixture device; governors
 * set and restored through a state file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgebench/knobs.h"
#include "edgebench/plan.h"
#include "edgebench/util.h"

static char path[256];

static void write_plan(const char *text)
{
    snprintf(path, sizeof path, "%s/eb-plan-%d.ini", P_tmpdir, (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static eb_status load(const char *text, eb_plan *p, eb_error *err)
{
    write_plan(text);
    eb_status st = eb_plan_load(path, p, err);
    if (st == EB_OK) st = eb_plan_expand(p, err);
    return st;
}

static void expect_error(const char *text, const char *msg)
{
    eb_plan p;
    eb_error err = {0};
    assert_int_not_equal(load(text, &p, &err), EB_OK);
    if (!strstr(err.msg, msg)) print_message("got: %s\n", err.msg);
    assert_non_null(strstr(err.msg, msg));
    eb_plan_free(&p);
}

static void test_lists_ranges_products(void **state)
{
    (void)state;
    eb_plan p;
    eb_error err = {0};
    assert_int_equal(load("; the study's matrix, in small\n"
                          "[global]\n"
                          "preset = tiny-llama\n"
                          "reps = 2\n"
                          "[quant]\n"
                          "type = Q4_0, Q8_0\n"
                          "threads = 1-3\n"
                          "[gen-lengths]\n"
                          "n_gen = 32-128:32\n"
                          "prompt = Hello, world\n",
                          &p, &err),
                     EB_OK);
    assert_int_equal(p.n_sections, 2);
    assert_int_equal(p.n_trials, 2 * 3 + 4);
    /* the last key varies fastest; global values are defaults */
    assert_string_equal(eb_trial_get(&p.trials[0], "type"), "Q4_0");
    assert_string_equal(eb_trial_get(&p.trials[0], "threads"), "1");
    assert_string_equal(eb_trial_get(&p.trials[1], "threads"), "2");
    assert_string_equal(eb_trial_get(&p.trials[3], "type"), "Q8_0");
    assert_string_equal(eb_trial_get(&p.trials[5], "reps"), "2");
    assert_string_equal(p.trials[6].section, "gen-lengths");
    assert_string_equal(eb_trial_get(&p.trials[9], "n_gen"), "128");
    assert_string_equal(eb_trial_get(&p.trials[9], "prompt"), "Hello, world"); /* not a list */
    assert_null(eb_trial_get(&p.trials[9], "threads"));
    /* every trial has its own key; the same configuration has the same key */
    for (size_t i = 0; i < p.n_trials; i++)
        for (size_t j = i + 1; j < p.n_trials; j++)
            assert_true(p.trials[i].key != p.trials[j].key);
    uint64_t k0 = p.trials[0].key;
    eb_plan_free(&p);
    assert_int_equal(
        load("[global]\nreps=2\npreset=tiny-llama\n[quant]\nthreads=1\ntype=Q4_0\n", &p, &err),
        EB_OK);
    assert_true(p.trials[0].key == k0);
    eb_plan_free(&p);
}

static void test_errors_name_the_line(void **state)
{
    (void)state;
    expect_error("[global]\npreset = tiny-llama\nthreds = 4\n", ":3: unknown key 'threds' (did you "
                                                                "mean 'threads'?)");
    expect_error("[global]\nthreads = 0-4\n", ":2: threads: range '0-4'");
    expect_error("[global]\n\nthreads = 4-1\n", ":3: threads: range '4-1'");
    expect_error("[global]\nthreads = two\n", ":2: threads must be an integer");
    expect_error("[global]\ntype = Q3_K\n", "type must be one of F16|Q8_0|Q4_0|Q4_K_M");
    expect_error("[global]\nthis line is not ini\n", ":2: syntax error");
    expect_error("[global\nthreads=1\n", ":1: syntax error");
    expect_error("[a]\nthreads=1\nthreads=2\n", ":3: key 'threads' given twice in [a] (first at "
                                                "line 2)");
    expect_error("[a]\nresults=x.jsonl\n", ":2: key 'results' belongs in [global]");
    expect_error("[global]\nn_gen = 1-200000:1\n", "more than 1024 values");
    expect_error("[global]\nthreads = 1,,2\n", "empty item");
    expect_error("[global]\nsample_ms = 0.5\n", "sample_ms must be a number in [1, 1000]");
    eb_plan p;
    eb_error err = {0};
    assert_int_equal(eb_plan_load("/nonexistent/plan.ini", &p, &err), EB_E_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/plan.ini"));
    eb_plan_free(&p);
    unlink(path);
}

static void test_checked_against_the_device(void **state)
{
    (void)state;
    const char *pi = FIXTURES "/pi5";
    eb_plan p;
    eb_error err = {0};
    assert_int_equal(load("[global]\npreset=tiny-llama\ngovernor=ondemand,performance\n", &p, &err),
                     EB_OK);
    assert_int_equal(eb_plan_check_device(&p, pi, &err), EB_OK);
    assert_int_equal(eb_plan_check_device(&p, FIXTURES "/vm", &err), EB_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, ":3: governor=ondemand is not offered here (no cpufreq"));
    eb_plan_free(&p);
    assert_int_equal(load("[global]\npreset=tiny-llama\ngovernor=turbo\n", &p, &err), EB_OK);
    assert_int_equal(eb_plan_check_device(&p, pi, &err), EB_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "offered here (conservative ondemand"));
    eb_plan_free(&p);
    assert_int_equal(load("[global]\nmodel=/nonexistent/m.gguf\n", &p, &err), EB_OK);
    assert_int_equal(eb_plan_check_device(&p, "/", &err), EB_E_IO);
    assert_non_null(strstr(err.msg, ":2: model=/nonexistent/m.gguf"));
    eb_plan_free(&p);
    assert_int_equal(load("[global]\npreset=tiny-lama\n", &p, &err), EB_OK);
    assert_int_equal(eb_plan_check_device(&p, "/", &err), EB_E_INVALID_ARG);
    eb_plan_free(&p);
    assert_int_equal(load("[global]\nthreads=1\n", &p, &err), EB_OK);
    assert_int_equal(eb_plan_check_device(&p, "/", &err), EB_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "neither model nor preset"));
    eb_plan_free(&p);
    assert_int_equal(load("[global]\npreset=tiny-llama\npower_mode=15W\n", &p, &err), EB_OK);
    assert_int_equal(eb_plan_check_device(&p, "/", &err), EB_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "nvpmodel.conf"));
    eb_plan_free(&p);
    unlink(path);
}

static void read_gov(const char *root, char *out)
{
    char p[512];
    snprintf(p, sizeof p, "%s/sys/devices/system/cpu/cpufreq/policy0/scaling_governor", root);
    assert_true(eb_read_line(p, out, 64));
}

static void test_governor_set_and_restore(void **state)
{
    (void)state;
    char root[256], cmd[700], st[300], gov[64];
    snprintf(root, sizeof root, "%s/eb-knobs-%d", P_tmpdir, (int)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s/pi5' '%s'", root, FIXTURES, root);
    assert_int_equal(system(cmd), 0);
    snprintf(st, sizeof st, "%s/state", root);
    eb_error err = {0};
    assert_int_equal(eb_knobs_save(st, root, 2, &err), EB_OK);
    assert_int_equal(eb_governor_set_all(root, "performance", &err), EB_OK);
    read_gov(root, gov);
    assert_string_equal(gov, "performance");
    /* a second save keeps the first state (the original settings) */
    assert_int_equal(eb_knobs_save(st, root, 5, &err), EB_OK);
    assert_int_equal(eb_governor_set_all(root, "nonsense", &err), EB_E_INVALID_ARG);
    bool restored;
    int nvp;
    assert_int_equal(eb_knobs_restore(st, root, &restored, &nvp, &err), EB_OK);
    assert_true(restored);
    assert_int_equal(nvp, 2);
    read_gov(root, gov);
    assert_string_equal(gov, "ondemand");
    assert_int_not_equal(access(st, F_OK), 0); /* removed */
    assert_int_equal(eb_knobs_restore(st, root, &restored, &nvp, &err), EB_OK);
    assert_false(restored);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists_ranges_products),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_checked_against_the_device),
        cmocka_unit_test(test_governor_set_and_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
