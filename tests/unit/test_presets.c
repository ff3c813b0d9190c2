/* Every preset's shape, checked through llama.cpp itself: a metadata-only
 * GGUF (sparse data region) is loaded without allocating weights and its
 * parameter count and vocabulary compared with the published figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgebench/engine.h"
#include "edgebench/synth.h"

static void check_preset(const eb_preset *p)
{
    char path[256];
    snprintf(path, sizeof path, "%s/eb-shape-%d-%s.gguf", P_tmpdir, (int)getpid(), p->name);
    eb_error err = {0};
    eb_synth_options o = {.seed = 1, .metadata_only = true};
    assert_int_equal(eb_synth_write(p, EB_SYNTH_F16, path, &o, &err), EB_OK);

    /* The file has the full logical size but no data blocks. */
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true((uint64_t)sb.st_size > eb_preset_weights_bytes(p, EB_SYNTH_F16));
    assert_true((uint64_t)sb.st_blocks * 512 < 64ull << 20);

    eb_model *m = NULL;
    eb_load_params lp = {.no_alloc = true, .use_mmap = true};
    assert_int_equal(eb_engine_llama.model_load(path, &lp, &m, &err), EB_OK);
    eb_model_info info;
    eb_engine_llama.model_info(m, &info);
    eb_engine_llama.model_free(m);
    unlink(path);

    print_message("%-16s arch %-10s params %llu (published %.3g) vocab %d\n", p->name, info.arch,
                  (unsigned long long)info.n_params, p->published_params, info.n_vocab);
    assert_string_equal(info.arch, p->arch);
    assert_int_equal(info.n_vocab, p->n_vocab);
    assert_int_equal(info.n_layer, p->n_layer);
    assert_int_equal(info.n_embd, p->n_embd);
    assert_true(info.synthetic);
    assert_int_equal(info.n_params, eb_preset_n_params(p));
    if (p->published_params > 0) {
        double rel = ((double)info.n_params - p->published_params) / p->published_params;
        assert_true(rel < 0.01 && rel > -0.01);
    }
}

static void test_all_presets(void **state)
{
    (void)state;
    assert_true(eb_preset_count() >= 10);
    for (size_t i = 0; i < eb_preset_count(); i++)
        check_preset(eb_preset_at(i));
}

static void test_study_models_present(void **state)
{
    (void)state;
    /* the study's eleven models */
    const char *names[] = {"qwen2-0.5b",      "flan-t5-large", "llama-3.2-1b", "qwen2-1.5b",
                           "gemma-2-2b",      "llama-3.2-3b",  "phi-3.5-mini", "yi-1.5-6b",
                           "internlm-2.5-7b", "llama-3.1-8b",  "gemma-2-9b"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const eb_preset *p = eb_preset_find(names[i]);
        assert_non_null(p);
        assert_true(p->published_params > 0);
    }
    assert_null(eb_preset_find("no-such-model"));
}

/* Flan-T5 Large by hand: embeddings and the untied output 32,128 x 1024
 * each; per encoder layer q, k, v, o 1024 x 1024 and gate, up, down
 * 1024 x 2816, two norms; per decoder layer the same plus cross-attention
 * (four more 1024 x 1024 and a norm); the relative position bias 16 x 32 in
 * the first layer of each stack; two output norms. */
static void test_flan_t5_large_shape(void **state)
{
    (void)state;
    const eb_preset *p = eb_preset_find("flan-t5-large");
    assert_non_null(p);
    assert_true(p->encoder_decoder);
    assert_string_equal(p->abbrev, "FT5-L");
    const uint64_t E = 1024, F = 2816, V = 32128;
    const uint64_t attn = 4 * E * E, ffn = 3 * E * F;
    const uint64_t enc = 24 * (attn + ffn + 2 * E), dec = 24 * (2 * attn + ffn + 3 * E);
    const uint64_t expect = 2 * V * E + enc + dec + 2 * 16 * 32 + 2 * E;
    assert_true(eb_preset_n_params(p) == expect);
    double rel = ((double)expect - 0.783e9) / 0.783e9;
    assert_true(rel < 0.01 && rel > -0.01);
    assert_int_equal(p->n_vocab, 32128);
    assert_int_equal(p->rel_buckets, 32);
    /* the roofline's view: the prompt runs the encoder's matrices, a
     * generated token streams the decoder, the output matrix and one
     * embedding row */
    eb_model_shape s;
    eb_preset_shape(p, EB_SYNTH_F16, &s);
    assert_true(s.has_encoder);
    assert_true(s.matmul_params == 24 * (attn + ffn));
    assert_true(s.streamed_bytes ==
                2 * (24 * (2 * attn + ffn) + V * E + E) + 4 * (24 * 3 * E + E + 16 * 32));
}

static void test_quant_sizes_ordered(void **state)
{
    (void)state;
    for (size_t i = 0; i < eb_preset_count(); i++) {
        const eb_preset *p = eb_preset_at(i);
        uint64_t f16 = eb_preset_weights_bytes(p, EB_SYNTH_F16);
        uint64_t q8 = eb_preset_weights_bytes(p, EB_SYNTH_Q8_0);
        uint64_t q4 = eb_preset_weights_bytes(p, EB_SYNTH_Q4_0);
        assert_true(f16 > q8 && q8 > q4);
        /* F16 is two bytes a parameter, apart from the F32 norms. */
        assert_true(f16 >= 2 * eb_preset_n_params(p));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_study_models_present),
        cmocka_unit_test(test_flan_t5_large_shape),
        cmocka_unit_test(test_quant_sizes_ordered),
        cmocka_unit_test(test_all_presets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
