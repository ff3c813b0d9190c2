/* End to end through the library: the real engine on a tiny synthetic
 * preset, checking phases, token counts, timings and the JSON document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "assert_close.h"

#include "edgebench/bench.h"
#include "edgebench/output.h"
#include "edgebench/synth.h"

static char model_path[1024];

static int setup(void **state)
{
    (void)state;
    eb_error err = {0};
    bool created;
    eb_synth_options o = {.seed = 42};
    eb_status st = eb_synth_cached(eb_preset_find("tiny-llama"), EB_SYNTH_Q4_0, &o, model_path,
                                   sizeof model_path, &created, &err);
    if (st != EB_OK) fprintf(stderr, "setup: %s\n", err.msg);
    return st == EB_OK ? 0 : -1;
}

static eb_run_config small_config(void)
{
    eb_run_config c;
    eb_run_config_defaults(&c);
    c.model_path = model_path;
    c.n_gen = 12;
    c.reps = 3;
    c.warmup = 1;
    c.idle_s = 0;
    return c;
}

static void test_phases_and_counts(void **state)
{
    (void)state;
    eb_run_config c = small_config();
    eb_run_result r;
    eb_error err = {0};
    assert_int_equal(eb_run(&eb_engine_llama, &c, &r, NULL, NULL, &err), EB_OK);
    assert_int_equal(r.n_reps, 4);
    assert_true(r.model.synthetic);
    assert_string_equal(r.model.preset, "tiny-llama");
    assert_string_equal(r.model.quant, "Q4_0");
    assert_true(r.n_prompt > 50 && r.n_prompt < 120);
    for (int i = 0; i < r.n_reps; i++) {
        const eb_rep *w = &r.reps[i];
        assert_int_equal(w->warmup, i == 0);
        assert_int_equal(w->n_prompt, r.n_prompt);
        assert_int_equal(w->n_gen, 12);
        /* llama.cpp's own counters agree on the tokens evaluated */
        assert_int_equal(w->engine_perf.n_prompt_eval, r.n_prompt);
        assert_int_equal(w->engine_perf.n_eval, 12);
        assert_true(w->load_s > 0 && w->prefill_s > 0 && w->gen_s > 0);
        assert_true(w->load_s + w->prefill_s + w->gen_s <= w->e2e_s + 1e-9);
        assert_true(w->first_token_s >= w->prefill_s && w->first_token_s < w->prefill_s + w->gen_s);
        assert_close(w->ttft_s, w->load_s + w->prefill_s, 1e-12);
        assert_close(w->gen_tps, 12 / w->gen_s, 1e-6);
        double sum = 0;
        for (int k = 0; k < w->n_gen; k++) {
            assert_true(w->itl_s[k] > 0);
            sum += w->itl_s[k];
        }
        assert_close(sum, w->gen_s, 1e-9);
        assert_true(w->itl_p50_s <= w->itl_p90_s && w->itl_p90_s <= w->itl_p99_s);
        assert_true(w->peak_rss_kb > 1024);
    }
    /* statistics cover the measured runs only */
    assert_int_equal(r.stats[EB_M_GEN_TPS].n, 3);
    double mean = (r.reps[1].gen_tps + r.reps[2].gen_tps + r.reps[3].gen_tps) / 3;
    assert_close(r.stats[EB_M_GEN_TPS].mean, mean, 1e-9);
    eb_run_result_free(&r);
}

static void test_separate_threads_and_random_prompt(void **state)
{
    (void)state;
    eb_run_config c = small_config();
    c.threads_gen = 1;
    c.threads_prefill = 2;
    c.n_prompt_random = 32;
    c.reps = 1;
    c.warmup = 0;
    eb_run_result r;
    eb_error err = {0};
    assert_int_equal(eb_run(&eb_engine_llama, &c, &r, NULL, NULL, &err), EB_OK);
    assert_int_equal(r.n_prompt, 32);
    assert_int_equal(r.reps[0].engine_perf.n_prompt_eval, 32);
    assert_int_equal(r.stats[EB_M_PREFILL_S].n, 1);
    eb_run_result_free(&r);
}

static void test_context_too_small(void **state)
{
    (void)state;
    eb_run_config c = small_config();
    c.n_ctx = 64; /* the default prompt alone is longer */
    eb_run_result r;
    eb_error err = {0};
    assert_int_equal(eb_run(&eb_engine_llama, &c, &r, NULL, NULL, &err), EB_E_CONTEXT);
    assert_non_null(strstr(err.msg, "context of 64 tokens"));
    assert_int_equal(r.n_reps, 0);
    eb_run_result_free(&r);
}

static void test_json_document(void **state)
{
    (void)state;
    eb_run_config c = small_config();
    c.reps = 2;
    eb_run_result r;
    eb_error err = {0};
    assert_int_equal(eb_run(&eb_engine_llama, &c, &r, NULL, NULL, &err), EB_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(eb_write_json(f, &r, &err), EB_OK);
    fclose(f);
    cJSON *doc = cJSON_Parse(buf);
    assert_non_null(doc);
    const char *top[] = {"edgebench_version",
                         "started_at",
                         "engine",
                         "device",
                         "model",
                         "config",
                         "reps",
                         "summary"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        assert_non_null(cJSON_GetObjectItemCaseSensitive(doc, top[i]));
    cJSON *model = cJSON_GetObjectItemCaseSensitive(doc, "model");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "synthetic")));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(model, "synthetic_note"));
    cJSON *reps = cJSON_GetObjectItemCaseSensitive(doc, "reps");
    assert_int_equal(cJSON_GetArraySize(reps), 3);
    cJSON *rep = cJSON_GetArrayItem(reps, 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rep, "itl_s")), 12);
    const char *fields[] = {"load_s",    "prefill_s",     "gen_s",       "e2e_s",
                            "ttft_s",    "first_token_s", "prefill_tps", "gen_tps",
                            "itl_p50_s", "itl_p90_s",     "itl_p99_s",   "peak_rss_mib"};
    cJSON *summary = cJSON_GetObjectItemCaseSensitive(doc, "summary");
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rep, fields[i])));
        cJSON *s = cJSON_GetObjectItemCaseSensitive(summary, fields[i]);
        assert_non_null(s);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(s, "n")->valueint, 2);
    }
    /* every counter of every phase has a status; usable ones a value */
    cJSON *gen = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rep, "counters"),
                                                  "generation");
    cJSON *cs = cJSON_GetObjectItemCaseSensitive(gen, "context_switches");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(cs, "status"));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(cs, "per_token")));
    cJSON *cyc = cJSON_GetObjectItemCaseSensitive(gen, "cycles");
    const char *cyc_status = cJSON_GetObjectItemCaseSensitive(cyc, "status")->valuestring;
    if (strcmp(cyc_status, "ok") != 0 && strcmp(cyc_status, "scaled") != 0)
        assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cyc, "value")));
    cJSON *engine = cJSON_GetObjectItemCaseSensitive(doc, "engine");
    assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(engine, "build_options")->valuestring,
                           "GGML_NATIVE"));
    cJSON_Delete(doc);
    free(buf);
    eb_run_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phases_and_counts),
        cmocka_unit_test(test_separate_threads_and_random_prompt),
        cmocka_unit_test(test_context_too_small),
        cmocka_unit_test(test_json_document),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
