/* The physical-limits arithmetic on hand-worked examples, the choice of a
 * probe figure for a configuration, the shape of a preset and of the file
 * it writes, and the probe's parts that run anywhere. */
#include <math.h>
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
#include "edgebench/probe.h"
#include "edgebench/roofline.h"
#include "edgebench/synth.h"
#include "edgebench/util.h"

/* 1e9 bytes streamed, 1e5 bytes of KV per position; a 100-token prompt and
 * 101 generated tokens: token i sees 100 + i cached positions, 150 on
 * average, so 1e9 + 150 x 1e5 = 1.015e9 bytes per token. At 10 GB/s that
 * is 9.8522 tokens/s at most; 5 measured is 50.75% of it. Prefill: 5e8
 * matrix weights of which 1e8 are the output matrix, so 2 x 4e8 = 8e8
 * operations per token; at 100 GFLOP/s at most 125 tokens/s; 50 measured
 * is 40%. */
static void test_roofline_hand_worked(void **state)
{
    (void)state;
    eb_model_shape s = {.streamed_bytes = 1000000000,
                        .kv_bytes_per_pos = 100000,
                        .matmul_params = 500000000,
                        .output_params = 100000000};
    eb_ceilings c = {.bw_gbs = 10, .bw_threads = 4, .gflops = 100, .gflops_threads = 4};
    eb_roofline r;
    eb_roofline_compute(&s, &c, 100, 101, 50, 5, &r);
    assert_close(r.gen_depth, 150, 1e-12);
    assert_close(r.gen_bytes_per_token, 1.015e9, 1e-3);
    assert_close(r.gen_max_tps, 10e9 / 1.015e9, 1e-9);
    assert_close(r.gen_efficiency, 5 * 1.015e9 / 10e9, 1e-12);
    assert_close(r.prefill_flops_per_token, 8e8, 1e-3);
    assert_close(r.prefill_max_tps, 125, 1e-9);
    assert_close(r.prefill_efficiency, 0.4, 1e-12);
    assert_string_equal(r.gen_reason, "");

    /* no probe: maxima and efficiencies not available, and why */
    eb_ceilings none = {.bw_gbs = NAN, .gflops = NAN, .gflops_type = "Q4_K"};
    eb_roofline_compute(&s, &none, 100, 101, 50, 5, &r);
    assert_true(isnan(r.gen_max_tps) && isnan(r.gen_efficiency));
    assert_true(isnan(r.prefill_max_tps) && isnan(r.prefill_efficiency));
    assert_non_null(strstr(r.gen_reason, "edgebench device probe"));
    assert_non_null(strstr(r.prefill_reason, "--types Q4_K"));
}

static void test_predict_hand_worked(void **state)
{
    (void)state;
    eb_model_shape s = {.weights_bytes = 1000000000,
                        .main_type_bytes = 600000000,
                        .streamed_bytes = 1000000000,
                        .kv_bytes_per_pos = 100000,
                        .matmul_params = 500000000,
                        .n_embd = 1000,
                        .n_ff = 2000,
                        .n_head = 10,
                        .n_vocab = 50000};
    eb_ceilings c = {.bw_gbs = 10, .gflops = 100, .weights_repacked = true};
    eb_prediction p;
    /* 2 GB file: 2 s at 1 GB/s cold, 0.2 s at 10 GB/s cached */
    eb_predict(&s, &c, 1.0, 10.0, 2000000000, 512, 64, 100, &p);
    assert_close(p.kv_bytes, 512 * 100000.0, 1e-6);
    assert_close(p.repacked_bytes, 6e8, 1e-6);
    /* 4 x 64 x (6 x 1000 + 3 x 2000 + 10 x 512) + 4 x 50000 */
    assert_close(p.compute_bytes, 4.0 * 64 * (6000 + 6000 + 5120) + 200000, 1e-6);
    assert_close(p.memory_bytes, 1e9 + 6e8 + 5.12e7 + p.compute_bytes, 1e-3);
    assert_close(p.load_cold_s, 2.0, 1e-12);
    assert_close(p.load_cached_s, 0.2, 1e-12);
    c.weights_repacked = false;
    eb_predict(&s, &c, NAN, NAN, 2000000000, 512, 64, 100, &p);
    assert_close(p.repacked_bytes, 0, 0);
    assert_true(isnan(p.load_cold_s) && isnan(p.load_cached_s));
}

static void test_probe_pick(void **state)
{
    (void)state;
    /* newest first, as the store gives them */
    eb_probe_point p[] = {
        {.measure = "mem_read", .threads = 4, .value = 20},
        {.measure = "mem_read", .threads = 1, .value = 8},
        {.measure = "mem_read", .threads = 4, .value = 99}, /* an older probe */
        {.measure = "mem_read", .threads = 2, .value = 0},  /* not a figure */
        {.measure = "matmul", .type = "Q4_0", .threads = 2, .value = 50, .repacked = true},
        {.measure = "matmul", .type = "Q4_K", .threads = 4, .value = 70},
    };
    size_t n = sizeof p / sizeof p[0];
    assert_ptr_equal(eb_probe_pick(p, n, "mem_read", NULL, 4), &p[0]);
    assert_ptr_equal(eb_probe_pick(p, n, "mem_read", NULL, 1), &p[1]);
    /* not probed: the nearest count (2 is nearer 1, 3 nearer 4) */
    assert_ptr_equal(eb_probe_pick(p, n, "mem_read", NULL, 2), &p[1]);
    assert_ptr_equal(eb_probe_pick(p, n, "mem_read", NULL, 3), &p[0]);
    /* equally near: the smaller count */
    eb_probe_point tie[] = {{.measure = "mem_read", .threads = 3, .value = 1},
                            {.measure = "mem_read", .threads = 1, .value = 2}};
    assert_ptr_equal(eb_probe_pick(tie, 2, "mem_read", NULL, 2), &tie[1]);
    assert_ptr_equal(eb_probe_pick(p, n, "matmul", "q4_k", 1), &p[5]);
    assert_null(eb_probe_pick(p, n, "matmul", "F16", 4));
    assert_null(eb_probe_pick(p, n, "disk_cold", NULL, 1));

    eb_ceilings c;
    eb_ceilings_pick(p, n, 4, 2, "Q4_0", &c);
    assert_close(c.bw_gbs, 20, 0);
    assert_int_equal(c.bw_threads, 4);
    assert_close(c.gflops, 50, 0);
    assert_true(c.weights_repacked);
    eb_ceilings_pick(p, n, 4, 4, "Q4_K_M", &c);
    assert_string_equal(c.gflops_type, "Q4_K");
    assert_close(c.gflops, 70, 0);
    assert_false(c.weights_repacked);
    eb_ceilings_pick(p, n, 4, 4, "F16", &c);
    assert_true(isnan(c.gflops));
}

static void test_kernel_type(void **state)
{
    (void)state;
    char out[16];
    const char *cases[][2] = {{"Q4_K_M", "Q4_K"}, {"q4_K", "Q4_K"},    {"Q3_K_S", "Q3_K"},
                              {"Q3_K_L", "Q3_K"}, {"Q8_0", "Q8_0"},    {"f16", "F16"},
                              {"Q4_K", "Q4_K"},   {"IQ4_XS", "IQ4_XS"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eb_kernel_type(cases[i][0], out, sizeof out);
        assert_string_equal(out, cases[i][1]);
    }
}

static void test_nominal(void **state)
{
    (void)state;
    const eb_nominal *n = eb_nominal_find("Raspberry Pi 5 Model B Rev 1.0", 8000000);
    assert_non_null(n);
    /* LPDDR4X-4267 on a 32-bit bus: 4267e6 x 4 bytes */
    assert_close(n->mem_gbs, 4267e6 * 4 / 1e9, 0.01);
    /* 4 cores x 2.4 GHz x 16 FP32 operations per cycle */
    assert_close(n->cpu_gflops, 4 * 2.4 * 16, 1e-9);
    n = eb_nominal_find("NVIDIA Jetson Orin Nano Developer Kit", 7800000);
    assert_non_null(n);
    assert_close(n->mem_gbs, 68, 0);
    n = eb_nominal_find("NVIDIA Jetson Orin Nano Developer Kit", 3900000);
    assert_close(n->mem_gbs, 34, 0);
    assert_null(eb_nominal_find("", 8000000));
    assert_null(eb_nominal_find(NULL, 8000000));
}

/* Llama 3.2 1B by hand: per layer q and o 2048 x 2048, k and v 2048 x 512,
 * gate, up and down 2048 x 8192: 60,817,408 weights, x 16 layers, plus the
 * tied 128,256 x 2048 embeddings (also the output matrix). Q4_0 layers:
 * 18 bytes per 32 weights; the tied embeddings Q6_K: 210 bytes per 256;
 * 67,616 norm and rope weights in F32. KV: 16 layers x 8 heads x (64 + 64)
 * x 2 bytes per position. */
static void test_preset_shape_by_hand(void **state)
{
    (void)state;
    eb_model_shape s;
    eb_preset_shape(eb_preset_find("llama-3.2-1b"), EB_SYNTH_Q4_0, &s);
    const uint64_t layers = 16ull * 60817408ull, embd = 128256ull * 2048ull;
    assert_true(s.matmul_params == layers + embd);
    assert_true(s.output_params == embd);
    assert_true(s.n_params == layers + embd + 67616);
    const uint64_t bytes = layers / 32 * 18 + embd / 256 * 210 + 67616 * 4;
    assert_true(s.weights_bytes == bytes);
    assert_true(s.streamed_bytes == bytes); /* tied: the whole table is the output */
    assert_true(s.main_type_bytes == layers / 32 * 18);
    assert_string_equal(s.main_type, "Q4_0");
    assert_true(s.kv_bytes_per_pos == 16ull * 8 * 128 * 2);
    assert_close(eb_prefill_flops_per_token(&s), 2.0 * (double)layers, 0);
}

/* The file a preset writes has the shape the preset says it has. */
static void test_file_shape_matches_preset(void **state)
{
    (void)state;
    char path[] = "/tmp/eb-roofline-XXXXXX.gguf";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    close(fd);
    const char *names[] = {"tiny-llama", "llama-3.2-1b", "phi-3.5-mini", "gemma-2-2b"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const eb_preset *p = eb_preset_find(names[i]);
        eb_synth_options o = {.seed = 1, .metadata_only = true};
        eb_error err = {0};
        assert_int_equal(eb_synth_write(p, EB_SYNTH_Q4_K_M, path, &o, &err), EB_OK);
        eb_model_shape f, ps;
        assert_int_equal(eb_model_shape_read(path, &f, &err), EB_OK);
        eb_preset_shape(p, EB_SYNTH_Q4_K_M, &ps);
        assert_true(f.n_params == ps.n_params);
        assert_true(f.matmul_params == ps.matmul_params);
        assert_true(f.output_params == ps.output_params);
        assert_true(f.weights_bytes == ps.weights_bytes);
        assert_true(f.streamed_bytes == ps.streamed_bytes);
        assert_true(f.main_type_bytes == ps.main_type_bytes);
        assert_true(f.kv_bytes_per_pos == ps.kv_bytes_per_pos);
        assert_string_equal(f.main_type, ps.main_type);
        assert_int_equal(f.n_layer, p->n_layer);
        assert_int_equal(f.n_vocab, p->n_vocab);
        /* untied presets (Phi 3.5) stream all but the unused embedding rows */
        if (!p->tied_embeddings) assert_true(f.streamed_bytes < f.weights_bytes);
    }
    unlink(path);
    eb_model_shape s;
    eb_error err = {0};
    assert_int_equal(eb_model_shape_read("/nonexistent/model.gguf", &s, &err), EB_E_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/model.gguf"));
}

static void test_llc_fixture(void **state)
{
    (void)state;
    char root[] = "/tmp/eb-llc-XXXXXX";
    assert_non_null(mkdtemp(root));
    const char *files[][2] = {{"index0", "32K"}, {"index2", "1024K"}, {"index3", "32768K"}};
    char path[512];
    eb_error err = {0};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/sys/devices/system/cpu/cpu0/cache/%s", root, files[i][0]);
        assert_int_equal(eb_mkdirs(path, &err), EB_OK);
        strncat(path, "/size", sizeof path - strlen(path) - 1);
        FILE *f = fopen(path, "w");
        fprintf(f, "%s\n", files[i][1]);
        fclose(f);
    }
    assert_true(eb_llc_bytes(root) == 32ull << 20);
    assert_true(eb_llc_bytes("/nonexistent-root") == 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    assert_int_equal(system(cmd), 0);
}

/* A small memory probe runs and gives sane figures anywhere. */
static void test_memory_probe(void **state)
{
    (void)state;
    eb_probe_mem m;
    eb_error err = {0};
    assert_int_equal(eb_probe_memory(64ull << 20, 2, 4, 0, &m, &err), EB_OK);
    assert_int_equal(m.threads, 2);
    assert_int_equal(m.n_passes, 4);
    assert_true(m.best_gbs > 0.1 && m.best_gbs < 5000);
    assert_true(0 < m.slowest_gbs && m.slowest_gbs <= m.median_gbs && m.median_gbs <= m.best_gbs);
    /* at least 0.2 s: more passes than the 2 asked for (a 1 MiB buffer, so
     * that two passes stay far below 0.2 s on a loaded machine under ASan) */
    assert_int_equal(eb_probe_memory(1ull << 20, 1, 2, 0.2, &m, &err), EB_OK);
    assert_true(m.n_passes > 2);
    assert_int_equal(eb_probe_memory(64ull << 20, 0, 4, 0, &m, &err), EB_E_INVALID_ARG);
    assert_int_equal(eb_probe_memory(64ull << 20, 1, 0, 0, &m, &err), EB_E_INVALID_ARG);
}

static void test_points_json_round_trip(void **state)
{
    (void)state;
    eb_probe_point p[] = {
        {.measure = "mem_read", .threads = 2, .value = 12.5},
        {.measure = "matmul", .type = "Q4_0", .threads = 2, .value = 80, .repacked = true},
        {.measure = "disk_cold", .threads = 1, .value = 1.5}, /* not in a ceilings file */
    };
    cJSON *j = eb_probe_points_to_json(p, 3);
    eb_probe_point *q = NULL;
    size_t n = 0;
    eb_error err = {0};
    assert_int_equal(eb_probe_points_from_json(j, &q, &n, &err), EB_OK);
    assert_int_equal(n, 2);
    assert_string_equal(q[0].measure, "mem_read");
    assert_close(q[0].value, 12.5, 0);
    assert_string_equal(q[1].type, "Q4_0");
    assert_true(q[1].repacked);
    free(q);
    cJSON_Delete(j);
    cJSON *bad = cJSON_Parse("{\"kind\":\"run\"}");
    assert_int_equal(eb_probe_points_from_json(bad, &q, &n, &err), EB_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "probe"));
    cJSON_Delete(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roofline_hand_worked),
        cmocka_unit_test(test_predict_hand_worked),
        cmocka_unit_test(test_probe_pick),
        cmocka_unit_test(test_kernel_type),
        cmocka_unit_test(test_nominal),
        cmocka_unit_test(test_preset_shape_by_hand),
        cmocka_unit_test(test_file_shape_matches_preset),
        cmocka_unit_test(test_llc_fixture),
        cmocka_unit_test(test_memory_probe),
        cmocka_unit_test(test_points_json_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
