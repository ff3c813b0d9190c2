/* The one parser of llama.cpp's log (lib/engine/engine_log.c): a test per
 * line format it reads, with lines as the pinned release writes them, and
 * lines that look alike but say nothing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine_log.h"

static void test_layer_placement(void **state)
{
    (void)state;
    eb_llama_log_facts f;
    eb_llama_log_load_reset(&f);
    assert_true(
        eb_llama_log_line(&f, "load_tensors: layer   0 assigned to device CPU, is_swa = 0\n"));
    assert_true(eb_llama_log_line(
        &f, "load_tensors: layer   1 assigned to device RPC0[127.0.0.1:50052], is_swa = 0\n"));
    assert_true(
        eb_llama_log_line(&f, "load_tensors: layer   2 assigned to device CUDA0, is_swa = 1\n"));
    assert_int_equal(f.layers, 3);
    assert_int_equal(f.layers_away, 2);
    assert_int_equal(f.offloaded, -1);
    assert_true(eb_llama_log_line(&f, "load_tensors: offloaded 0/3 layers to GPU\n"));
    assert_int_equal(f.offloaded, 0);
    assert_int_equal(f.offload_total, 3);
    eb_llama_log_load_reset(&f);
    assert_int_equal(f.layers, 0);
    assert_int_equal(f.offloaded, -1);
}

static void test_kv_cache(void **state)
{
    (void)state;
    eb_llama_log_facts f;
    eb_llama_log_ctx_reset(&f, -1);
    assert_true(isnan(f.ctx.kv_mib));
    assert_true(
        eb_llama_log_line(&f, "llama_kv_cache: size =    0.50 MiB (   512 cells,   2 layers,  1/1 "
                              "seqs), K (f16):    0.25 MiB, V (f16):    0.25 MiB\n"));
    assert_true(fabs(f.ctx.kv_mib - 0.5) < 1e-12);
    assert_true(fabs(f.ctx.k_mib - 0.25) < 1e-12);
    assert_int_equal(f.ctx.kv_cells, 512);
    assert_string_equal(f.ctx.type_k, "f16");
    /* a sliding-window model's second cache is added */
    assert_true(
        eb_llama_log_line(&f, "llama_kv_cache: size =    0.27 MiB (   512 cells,   1 layers,  1/1 "
                              "seqs), K (q8_0):    0.13 MiB, V (q8_0):    0.14 MiB\n"));
    assert_true(fabs(f.ctx.kv_mib - 0.77) < 1e-12);
    assert_true(fabs(f.ctx.v_mib - 0.39) < 1e-12);
    assert_string_equal(f.ctx.type_v, "q8_0");
    /* the size line without its K and V parts says nothing */
    eb_llama_log_ctx_reset(&f, -1);
    assert_false(eb_llama_log_line(&f, "llama_kv_cache: size =    0.50 MiB (   512 cells\n"));
    assert_true(isnan(f.ctx.kv_mib));
}

static void test_flash_attention(void **state)
{
    (void)state;
    eb_llama_log_facts f;
    eb_llama_log_ctx_reset(&f, -1);
    /* what was asked is not what was chosen */
    assert_false(eb_llama_log_line(&f, "llama_context: flash_attn            = auto\n"));
    assert_int_equal(f.ctx.flash_attn, -1);
    assert_true(eb_llama_log_line(&f, "resolve_fused_ops: Flash Attention enabled\n"));
    assert_int_equal(f.ctx.flash_attn, 1);
    assert_true(eb_llama_log_line(&f, "llama_context: Flash Attention not supported, disabling\n"));
    assert_int_equal(f.ctx.flash_attn, 0);
    eb_llama_log_ctx_reset(&f, 1);
    assert_true(eb_llama_log_line(&f, "llama_context: flash_attn = disabled\n"));
    assert_int_equal(f.ctx.flash_attn, 0);
}

static void test_other_lines(void **state)
{
    (void)state;
    eb_llama_log_facts f;
    eb_llama_log_load_reset(&f);
    eb_llama_log_ctx_reset(&f, -1);
    const char *noise[] = {"llama_model_loader: - type  f32:    5 tensors\n",
                           "load_tensors:   CPU_Mapped model buffer size =    11.41 MiB\n",
                           "print_info: n_layer          = 2\n", "", "offloaded\n"};
    for (size_t i = 0; i < sizeof noise / sizeof noise[0]; i++)
        assert_false(eb_llama_log_line(&f, noise[i]));
    assert_int_equal(f.layers, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layer_placement),
        cmocka_unit_test(test_kv_cache),
        cmocka_unit_test(test_flash_attention),
        cmocka_unit_test(test_other_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
