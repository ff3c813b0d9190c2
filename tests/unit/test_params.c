/* The parameter table: one boolean parser, every row well formed, every
 * run key round-tripping plan -> trial argv -> run options, trial keys as
 * stored before the table, and the knob bugs of mixed-case booleans
 * (jetson_clocks = ON, drop_caches = OFF, keep_timeline = yes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "assert_close.h"
#include "edgebench/knobs.h"
#include "edgebench/params.h"
#include "edgebench/plan.h"
#include "edgebench/sweep.h"
#include "edgebench/util.h"

static void test_bool_parser(void **state)
{
    (void)state;
    const char *yes[] = {"on", "ON", "On", "true", "TRUE", "yes", "Yes", "1"};
    const char *no[] = {"off", "OFF", "false", "False", "no", "NO", "0"};
    bool b;
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        b = false;
        assert_true(eb_parse_bool(yes[i], &b));
        assert_true(b);
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        b = true;
        assert_true(eb_parse_bool(no[i], &b));
        assert_false(b);
    }
    assert_false(eb_parse_bool("maybe", &b));
    assert_false(eb_parse_bool("", &b));
    assert_false(eb_parse_bool(NULL, &b));
}

/* Keys, flags and short flags are unique; defaults pass their own row's
 * check; run keys have a field. */
static void test_rows_well_formed(void **state)
{
    (void)state;
    assert_true(eb_param_count <= EB_PARAM_MAX);
    for (size_t i = 0; i < eb_param_count; i++) {
        const eb_param *p = &eb_params[i];
        assert_non_null(p->key);
        assert_non_null(p->help);
        for (size_t j = i + 1; j < eb_param_count; j++) {
            const eb_param *q = &eb_params[j];
            assert_string_not_equal(p->key, q->key);
            /* unique among the rows of each command that takes both */
            unsigned both = (p->cmds ? p->cmds : EB_CMD_RUN) & (q->cmds ? q->cmds : EB_CMD_RUN);
            if (!both || !p->flag || !q->flag) continue;
            assert_string_not_equal(p->flag, q->flag);
            if (p->short_flag && q->short_flag) assert_int_not_equal(p->short_flag, q->short_flag);
        }
        if (p->type == EB_PT_INT || p->type == EB_PT_NUM) assert_true(p->min <= p->max);
        eb_error err = {0};
        if (p->def) {
            if (eb_param_check(p, p->def, &err) != EB_OK)
                print_message("%s: %s\n", p->key, err.msg);
            assert_int_equal(eb_param_check(p, p->def, &err), EB_OK);
        }
        if (p->sweep_def) assert_int_equal(eb_param_check(p, p->sweep_def, &err), EB_OK);
        if (p->scope == EB_PS_RUN) {
            assert_non_null(p->flag);
            assert_int_not_equal(p->field, EB_FK_NONE);
        }
        if (p->scope == EB_PS_CLI) assert_null(eb_param_plan_key(p->key));
        if (eb_param_takes(p, EB_CMD_RUN)) {
            char f[64];
            snprintf(f, sizeof f, "--%s", p->flag);
            assert_ptr_equal(eb_param_by_flag(f), p);
        }
    }
}

static char sample_file[256];

/* A valid value other than the default, for each row. */
static const char *sample(const eb_param *p, char *buf, size_t cap)
{
    switch (p->type) {
    case EB_PT_INT:
        snprintf(buf, cap, "%.0f", p->min + 1 <= p->max ? p->min + 1 : p->min);
        break;
    case EB_PT_NUM:
        snprintf(buf, cap, "%g", p->min + 1.5 <= p->max ? p->min + 1.5 : p->min);
        break;
    case EB_PT_BOOL:
        snprintf(buf, cap, "%s", p->def && strcmp(p->def, "on") == 0 ? "Off" : "YES");
        break;
    case EB_PT_CHOICE:
        snprintf(buf, cap, "%s", strrchr(p->choices, '|') + 1);
        break;
    case EB_PT_PATH:
        snprintf(buf, cap, "%s", sample_file);
        break;
    case EB_PT_STR:
        snprintf(buf, cap, "value-of-%s", p->key);
        break;
    }
    return buf;
}

/* Plan -> trial -> argv -> run options, for every key a trial hands on. */
static void test_every_run_key_round_trips(void **state)
{
    (void)state;
    snprintf(sample_file, sizeof sample_file, "%s/eb-params-%d.txt", P_tmpdir, (int)getpid());
    FILE *f = fopen(sample_file, "w");
    assert_non_null(f);
    fputs("a prompt\n", f);
    fclose(f);
    size_t n_run = 0;
    for (size_t i = 0; i < eb_param_count; i++) {
        const eb_param *p = &eb_params[i];
        if (p->scope != EB_PS_RUN) continue;
        n_run++;
        char buf[256];
        const char *v = sample(p, buf, sizeof buf);
        eb_plan plan;
        memset(&plan, 0, sizeof plan);
        eb_error err = {0};
        assert_int_equal(eb_plan_set(&plan, "s", p->key, v, 1, &err), EB_OK);
        assert_int_equal(eb_plan_expand(&plan, &err), EB_OK);
        assert_int_equal(plan.n_trials, 1);
        int argc = 0;
        char **args = eb_trial_run_args(&plan.trials[0], false, &argc, &err);
        assert_non_null(args);
        char *argv[EB_PARAM_MAX + 2] = {"run"};
        for (int a = 0; a < argc; a++)
            argv[a + 1] = args[a];
        eb_run_options o;
        eb_run_options_defaults(&o);
        if (eb_run_options_parse(argc + 1, argv, &o, &err) != EB_OK)
            print_message("%s=%s: %s\n", p->key, v, err.msg);
        assert_true(o.given[i]);
        const char *field = (const char *)&o + p->offset;
        bool b = false;
        switch (p->field) {
        case EB_FK_INT:
            assert_int_equal(*(const int *)field, atoi(v));
            break;
        case EB_FK_U64:
            assert_int_equal(*(const uint64_t *)field, strtoull(v, NULL, 10));
            break;
        case EB_FK_DOUBLE:
            assert_close(*(const double *)field, atof(v) * (p->scale ? p->scale : 1), 1e-12);
            break;
        case EB_FK_STR:
            assert_string_equal(*(const char *const *)field, v);
            break;
        case EB_FK_BOOL:
            assert_true(eb_parse_bool(v, &b));
            assert_int_equal(*(const bool *)field, b);
            break;
        case EB_FK_NONE:
        case EB_FK_APPEND: /* a command's own rows only, not run's */
            fail();
        }
        /* and the configuration passes the library's own validation */
        o.cfg.model_path = sample_file;
        eb_error verr = {0};
        if (p->offset < sizeof(eb_run_config) && strcmp(p->key, "n_prompt") != 0 &&
            strcmp(p->key, "ctx") != 0)
            assert_int_equal(eb_params_validate(&o.cfg, &verr), EB_OK);
        eb_trial_run_args_free(args);
        eb_plan_free(&plan);
    }
    assert_true(n_run >= 20);
    unlink(sample_file);
}

/* A sweep's own default travels in the argv (the study's 30 s pause), and
 * unset keys with run's default do not. */
static void test_sweep_defaults_in_argv(void **state)
{
    (void)state;
    eb_plan plan;
    memset(&plan, 0, sizeof plan);
    eb_error err = {0};
    assert_int_equal(eb_plan_set(&plan, NULL, "preset", "tiny-llama", 1, &err), EB_OK);
    assert_int_equal(eb_plan_expand(&plan, &err), EB_OK);
    int argc = 0;
    char **args = eb_trial_run_args(&plan.trials[0], false, &argc, &err);
    assert_int_equal(argc, 2);
    assert_string_equal(args[0], "--preset=tiny-llama");
    assert_string_equal(args[1], "--pause=30");
    assert_string_equal(eb_trial_value(&plan.trials[0], "timeout"), "3600");
    assert_string_equal(eb_trial_value(&plan.trials[0], "pause"), "30");
    eb_trial_run_args_free(args);
    eb_plan_free(&plan);
}

/* The key of a trial is what it was before the table held run-only
 * options: stores and journals keep resuming. */
static void test_trial_key_unchanged(void **state)
{
    (void)state;
    eb_plan plan;
    memset(&plan, 0, sizeof plan);
    eb_error err = {0};
    assert_int_equal(eb_plan_set(&plan, NULL, "preset", "tiny-llama", 1, &err), EB_OK);
    assert_int_equal(eb_plan_set(&plan, NULL, "threads", "2", 2, &err), EB_OK);
    assert_int_equal(eb_plan_expand(&plan, &err), EB_OK);
    assert_string_equal(plan.trials[0].key_hex, "a6c0135500fd27d9");
    eb_plan_free(&plan);
}

static void test_cli_only_rows_are_not_plan_keys(void **state)
{
    (void)state;
    eb_plan plan;
    memset(&plan, 0, sizeof plan);
    eb_error err = {0};
    assert_int_not_equal(eb_plan_set(&plan, NULL, "format", "json", 1, &err), EB_OK);
    assert_non_null(strstr(err.msg, "unknown key 'format'"));
    eb_plan_free(&plan);
    eb_run_options o;
    eb_run_options_defaults(&o);
    char *argv[] = {"run", "--format", "xml"};
    assert_int_not_equal(eb_run_options_parse(3, argv, &o, &err), EB_OK);
    assert_non_null(strstr(err.msg, "--format expects one of text|json|jsonl|csv, got 'xml'"));
    char *argv2[] = {"run", "-q", "--no-store", "--root", "/tmp", "--keep-timeline=off", "-t", "3"};
    eb_run_options_defaults(&o);
    assert_int_equal(eb_run_options_parse(8, argv2, &o, &err), EB_OK);
    assert_true(o.quiet && o.no_store);
    assert_string_equal(o.cfg.root, "/tmp");
    assert_false(o.cfg.keep_timeline);
    assert_int_equal(o.cfg.threads_gen, 3);
    assert_string_equal(o.format, "text");
    assert_string_equal(o.type, "Q4_0");
    assert_false(o.given[eb_param_index(eb_param_find("type"))]);
}

/* Ranges come from the table, in run's validation as in plans. */
static void test_ranges_from_the_table(void **state)
{
    (void)state;
    eb_run_config c;
    eb_run_config_defaults(&c);
    assert_int_equal(c.n_gen, 100);
    assert_int_equal(c.n_ctx, 512);
    assert_int_equal(c.reps, 4);
    assert_close(c.sample_interval_s, 0.010, 1e-12);
    assert_close(c.pause_s, 0, 0);
    eb_error err = {0};
    c.n_gen = 0;
    assert_int_not_equal(eb_params_validate(&c, &err), EB_OK);
    assert_non_null(strstr(err.msg, "generation tokens (-n/--n-gen) must be between 1 and"));
    c.n_gen = 100;
    c.sample_interval_s = 0.0001;
    assert_int_not_equal(eb_params_validate(&c, &err), EB_OK);
    assert_non_null(strstr(err.msg, "sample interval must be 1..1000 ms"));
}

/* A stand-in for jetson_clocks, nvpmodel and swapoff/swapon: logs its
 * arguments. */
static char tool_log[256], tool[256], root[256];

static void make_tools(void)
{
    snprintf(root, sizeof root, "%s/eb-params-root-%d", P_tmpdir, (int)getpid());
    char dir[300];
    snprintf(dir, sizeof dir, "%s/proc/sys/vm", root);
    assert_int_equal(eb_mkdirs(dir, NULL), EB_OK);
    snprintf(tool_log, sizeof tool_log, "%s/tool.log", root);
    snprintf(tool, sizeof tool, "%s/tool.sh", root);
    FILE *f = fopen(tool, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\necho \"$(basename \"$0\") $*\" >> '%s'\n", tool_log);
    fclose(f);
    chmod(tool, 0755);
    setenv("EDGEBENCH_JETSON_CLOCKS", tool, 1);
    setenv("EDGEBENCH_NVPMODEL", tool, 1);
    unlink(tool_log);
}

static cJSON *apply(const char *key, const char *value, bool *ok)
{
    eb_plan plan;
    memset(&plan, 0, sizeof plan);
    eb_error err = {0};
    assert_int_equal(eb_plan_set(&plan, NULL, "preset", "tiny-llama", 1, &err), EB_OK);
    assert_int_equal(eb_plan_set(&plan, NULL, key, value, 2, &err), EB_OK);
    assert_int_equal(eb_plan_expand(&plan, &err), EB_OK);
    char state_file[300];
    snprintf(state_file, sizeof state_file, "%s/state", root);
    eb_knob_session k;
    bool restored = true;
    assert_int_equal(eb_knob_session_begin(&k, root, state_file, &restored, &err), EB_OK);
    assert_false(restored);
    cJSON *sys = cJSON_CreateObject();
    char why[512] = "";
    *ok = eb_knob_session_apply(&k, &plan.trials[0], sys, why, sizeof why);
    if (!*ok) print_message("apply: %s\n", why);
    assert_int_equal(eb_knob_session_end(&k, &err), EB_OK);
    eb_plan_free(&plan);
    return sys;
}

static void test_jetson_clocks_upper_case_on(void **state)
{
    (void)state;
    make_tools();
    bool ok;
    cJSON_Delete(apply("jetson_clocks", "ON", &ok));
    assert_true(ok);
    char log[2048];
    assert_int_equal(eb_read_text(tool_log, log, sizeof log, NULL), EB_OK);
    /* store the settings, pin the clocks (no arguments), restore at the end */
    char *lines[4] = {0};
    int n = 0;
    for (char *l = strtok(log, "\n"); l && n < 4; l = strtok(NULL, "\n"))
        lines[n++] = l;
    assert_int_equal(n, 3);
    assert_non_null(strstr(lines[0], "--store"));
    assert_string_equal(lines[1], "tool.sh ");
    assert_non_null(strstr(lines[2], "--restore"));
}

static void test_drop_caches_upper_case_off(void **state)
{
    (void)state;
    make_tools();
    bool ok;
    cJSON *sys = apply("drop_caches", "OFF", &ok);
    assert_true(ok);
    assert_string_equal(cJSON_GetObjectItem(sys, "drop_caches")->valuestring, "off");
    cJSON_Delete(sys);
    sys = apply("drop_caches", "Yes", &ok);
    assert_string_not_equal(cJSON_GetObjectItem(sys, "drop_caches")->valuestring, "off");
    cJSON_Delete(sys);
}

/* llama-bench's single-dash flags set the same rows as the long ones. */
static void test_llama_bench_flags(void **state)
{
    (void)state;
    char *argv[] = {"run", "-ctk", "q8_0", "-ctv",         "q4_0",   "-fa", "on", "-d",
                    "512", "-lm",  "none", "--cpu-strict", "--poll", "0",   NULL};
    eb_run_options o;
    eb_run_options_defaults(&o);
    eb_error err = {0};
    assert_int_equal(eb_run_options_parse(14, argv, &o, &err), EB_OK);
    assert_string_equal(o.cfg.type_k, "q8_0");
    assert_string_equal(o.cfg.type_v, "q4_0");
    assert_string_equal(o.cfg.flash_attn, "on");
    assert_int_equal(o.cfg.n_depth, 512);
    assert_string_equal(o.cfg.load_mode, "none");
    assert_true(o.cfg.cpu_strict);
    assert_int_equal(o.cfg.poll, 0);
    /* the argv given is left as it was */
    assert_string_equal(argv[1], "-ctk");
    /* defaults: llama.cpp's */
    eb_run_options_defaults(&o);
    assert_string_equal(o.cfg.type_k, "f16");
    assert_string_equal(o.cfg.flash_attn, "auto");
    assert_string_equal(o.cfg.load_mode, "mmap");
    assert_int_equal(o.cfg.poll, 50);
    assert_int_equal(o.cfg.n_depth, 0);
}

/* Settings that only go together, named by key and value. */
static void test_settings_check(void **state)
{
    (void)state;
    eb_error err = {0};
    assert_int_equal(eb_settings_check("q8_0", "off", 0, 0, 8, 512, 1, &err), EB_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "type_v=q8_0"));
    assert_non_null(strstr(err.msg, "flash_attn=off"));
    assert_int_equal(eb_settings_check("q8_0", "auto", 0, 0, 8, 512, 1, &err), EB_OK);
    assert_int_equal(eb_settings_check("bf16", "off", 0, 0, 8, 512, 1, &err), EB_OK);
    assert_int_equal(eb_settings_check("f16", "auto", 400, 100, 13, 512, 1, &err), EB_E_CONTEXT);
    assert_non_null(strstr(err.msg, "n_depth=400 + n_prompt=100"));
    assert_int_equal(eb_settings_check("f16", "auto", 400, 100, 12, 512, 1, &err), EB_OK);
    /* a text prompt's length is not known yet: the depth alone is checked */
    assert_int_equal(eb_settings_check("f16", "auto", 510, 0, 8, 512, 1, &err), EB_E_CONTEXT);
    assert_int_equal(eb_settings_check("f16", "auto", 0, 0, 800, 512, 1, &err), EB_OK);
    /* each of n sequences gets ctx / n */
    assert_int_equal(eb_settings_check("f16", "auto", 0, 100, 28, 512, 4, &err), EB_OK);
    assert_int_equal(eb_settings_check("f16", "auto", 0, 100, 29, 512, 4, &err), EB_E_CONTEXT);
    assert_non_null(strstr(err.msg, "n_parallel=4 sequences"));
    /* a new row unset keeps the trial key of a plan that never named it */
    const eb_param *p = eb_param_find("type_k");
    assert_non_null(p);
    assert_true(p->flags & EB_PF_KEY_WHEN_SET);
}

/* A failed trial's reason: its own error line, led by the allocation that
 * failed, never the warning printed last. */
static void test_failure_reason(void **state)
{
    (void)state;
    char out[512];
    const char *log = "llama_model_loader: control-looking token: 128247 '</s>' was not "
                      "control-type\n"
                      "edgebench run: engine: llama.cpp could not create a context of 100000 "
                      "tokens: ggml_aligned_malloc: insufficient memory (attempted to allocate "
                      "101.76 MB)\n"
                      "load_tensors: a warning printed after it\n";
    eb_failure_reason(log, 200, out, sizeof out);
    assert_non_null(strstr(out, "out of memory: allocation of 101.8 MiB failed under the "
                                "address-space limit of 200 MiB (memory_limit); edgebench run:"));
    assert_null(strstr(out, "control-looking"));
    assert_null(strstr(out, "a warning printed after it"));
    eb_failure_reason("ggml: failed to allocate CPU buffer of size 1048576\n", 0, out, sizeof out);
    assert_string_equal(out, "out of memory: allocation of 1.0 MiB failed; ggml: failed to "
                             "allocate CPU buffer of size 1048576");
    eb_failure_reason("terminate called after throwing an instance of 'std::bad_alloc'\n", 0, out,
                      sizeof out);
    assert_non_null(strstr(out, "out of memory: allocation failed (std::bad_alloc)"));
    eb_failure_reason("edgebench run: invalid_argument: no model\n", 0, out, sizeof out);
    assert_string_equal(out, "edgebench run: invalid_argument: no model");
    eb_failure_reason("", 0, out, sizeof out);
    assert_string_equal(out, "no message");
    /* a driver's compiler that stopped the process, not the emulator's word on the signal */
    eb_failure_reason("LLVM ERROR: Cannot select: 0x55 v4f32 = fp_extend 0x55\n"
                      "  0x55: v4i16,ch = load\nIn function: cs_co_variant\n"
                      "qemu: uncaught target signal 6 (Aborted) - core dumped\n",
                      0, out, sizeof out);
    assert_string_equal(out, "LLVM ERROR: Cannot select: 0x55 v4f32 = fp_extend 0x55");
}

static void test_keep_timeline_yes(void **state)
{
    (void)state;
    eb_plan plan;
    memset(&plan, 0, sizeof plan);
    eb_error err = {0};
    assert_int_equal(eb_plan_set(&plan, NULL, "keep_timeline", "yes", 1, &err), EB_OK);
    assert_int_equal(eb_plan_expand(&plan, &err), EB_OK);
    assert_true(eb_trial_bool(&plan.trials[0], "keep_timeline"));
    int argc = 0;
    char **args = eb_trial_run_args(&plan.trials[0], false, &argc, &err);
    char *argv[EB_PARAM_MAX + 2] = {"run"};
    for (int a = 0; a < argc; a++)
        argv[a + 1] = args[a];
    eb_run_options o;
    eb_run_options_defaults(&o);
    assert_int_equal(eb_run_options_parse(argc + 1, argv, &o, &err), EB_OK);
    assert_true(o.cfg.keep_timeline);
    eb_trial_run_args_free(args);
    eb_plan_free(&plan);
}

/* The stored settings: unique record keys and columns, a field in the run's
 * configuration, label words shown only off the default, llama-bench's
 * values mapped both ways. */
static void test_stored_settings(void **state)
{
    (void)state;
    const eb_param *rows[EB_PARAM_MAX];
    size_t n = eb_stored_settings(rows, EB_PARAM_MAX);
    assert_true(n > 10 && n <= EB_PARAM_MAX);
    eb_run_config cfg;
    memset(&cfg, 0, sizeof cfg);
    for (size_t i = 0; i < n; i++) {
        assert_true(rows[i]->flags & EB_PF_STORED);
        assert_non_null(eb_param_config_field(rows[i], &cfg));
        for (size_t j = i + 1; j < n; j++) {
            assert_string_not_equal(eb_setting_json(rows[i]), eb_setting_json(rows[j]));
            assert_string_not_equal(eb_setting_column(rows[i]), eb_setting_column(rows[j]));
        }
    }
    char label[256] = "";
    const eb_param *ctx = eb_param_find("ctx"), *fa = eb_param_find("flash_attn");
    const eb_param *cold = eb_param_find("cold_load"), *cpus = eb_param_find("cpus");
    /* at the default, or stored before the column (NULL): no words */
    assert_false(eb_setting_label_add(ctx, "512", label, sizeof label));
    assert_false(eb_setting_label_add(ctx, NULL, label, sizeof label));
    assert_false(eb_setting_label_add(fa, "AUTO", label, sizeof label));
    assert_false(eb_setting_label_add(cold, "0", label, sizeof label));
    assert_string_equal(label, "");
    assert_true(eb_setting_label_add(ctx, "4096", label, sizeof label));
    assert_true(eb_setting_label_add(fa, "on", label, sizeof label));
    assert_true(eb_setting_label_add(cold, "1", label, sizeof label));
    assert_string_equal(label, "ctx 4096, flash attention on, cold load");
    char v[64];
    eb_setting_normalize(eb_param_find("duration"), "30.0", v, sizeof v);
    assert_string_equal(v, "30");
    /* llama-bench's flash_attn -1/0/1 (and true/false before auto) */
    assert_true(eb_setting_from_lb(fa, "-1", v, sizeof v));
    assert_string_equal(v, "auto");
    assert_true(eb_setting_from_lb(fa, "true", v, sizeof v));
    assert_string_equal(v, "on");
    assert_false(eb_setting_from_lb(fa, "7", v, sizeof v));
    assert_false(eb_setting_from_lb(cpus, "0x0", v, sizeof v));
    assert_true(eb_setting_from_lb(cpus, "\"0xf\"", v, sizeof v));
    assert_string_equal(v, "0xf");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bool_parser),
        cmocka_unit_test(test_rows_well_formed),
        cmocka_unit_test(test_every_run_key_round_trips),
        cmocka_unit_test(test_sweep_defaults_in_argv),
        cmocka_unit_test(test_trial_key_unchanged),
        cmocka_unit_test(test_cli_only_rows_are_not_plan_keys),
        cmocka_unit_test(test_ranges_from_the_table),
        cmocka_unit_test(test_jetson_clocks_upper_case_on),
        cmocka_unit_test(test_drop_caches_upper_case_off),
        cmocka_unit_test(test_keep_timeline_yes),
        cmocka_unit_test(test_llama_bench_flags),
        cmocka_unit_test(test_settings_check),
        cmocka_unit_test(test_failure_reason),
        cmocka_unit_test(test_stored_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
