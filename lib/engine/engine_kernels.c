/* Times ggml's own matrix product on the CPU backend, the kernel llama.cpp
 * runs for every weight matrix: weights of the probed type (quantized by
 * ggml from random values, in the buffer type llama.cpp would load them
 * into) times F32 activations, as in a prefill batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edgebench/util.h"
#include "engine_kernels.h"
#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "ggml.h"

static bool type_by_name(const char *name, enum ggml_type *out)
{
    for (int t = 0; t < GGML_TYPE_COUNT; t++) {
        if (ggml_blck_size((enum ggml_type)t) <= 0 || ggml_type_size((enum ggml_type)t) == 0)
            continue; /* removed types keep their numbers */
        const char *n = ggml_type_name((enum ggml_type)t);
        if (n && strcasecmp(n, name) == 0) {
            *out = (enum ggml_type)t;
            return true;
        }
    }
    return false;
}

static void fill_random(float *v, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((double)(eb_rng_next(&s) >> 11) / 9007199254740992.0 - 0.5) * 0.04f;
}

/* The weight buffer type llama.cpp would load this matrix into: the first
 * of the CPU's extra types (repacked layouts, AMX ...) that supports the
 * product, else plain host memory. */
static ggml_backend_buffer_type_t weight_buft(ggml_backend_dev_t dev, struct ggml_tensor *a,
                                              struct ggml_tensor *op)
{
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(dev);
    ggml_backend_dev_get_extra_bufts_t get_extra =
        reg ? (ggml_backend_dev_get_extra_bufts_t)ggml_backend_reg_get_proc_address(
                  reg, "ggml_backend_dev_get_extra_bufts")
            : NULL;
    ggml_backend_buffer_type_t *extra = get_extra ? get_extra(dev) : NULL;
    for (; extra && *extra; extra++) {
        ggml_backend_buffer_t dummy = ggml_backend_buft_alloc_buffer(*extra, 0);
        if (!dummy) continue;
        a->buffer = dummy;
        bool ok = ggml_backend_dev_supports_op(dev, op);
        a->buffer = NULL;
        ggml_backend_buffer_free(dummy);
        if (ok) return *extra;
    }
    return ggml_backend_cpu_buffer_type();
}

eb_status eb_ggml_matmul_probe(const char *type, int m, int n, int k, int threads, int passes,
                               double *pass_s, char *variant, size_t variant_cap, eb_error *err)
{
    enum ggml_type t;
    if (!type_by_name(type, &t))
        return eb_fail(err, EB_E_INVALID_ARG, "kernel probe: unknown weight type '%s'", type);
    const struct ggml_type_traits_cpu *tr = ggml_get_type_traits_cpu(t);
    if (t != GGML_TYPE_F32 && (!tr || !tr->vec_dot || !tr->from_float))
        return eb_fail(err, EB_E_UNSUPPORTED,
                       "kernel probe: the CPU backend has no %s matrix kernel", type);
    if (ggml_quantize_requires_imatrix(t))
        return eb_fail(err, EB_E_UNSUPPORTED,
                       "kernel probe: %s needs an importance matrix to quantize", type);
    if (m <= 0 || n <= 0 || k <= 0 || k % ggml_blck_size(t) != 0)
        return eb_fail(err, EB_E_INVALID_ARG,
                       "kernel probe: inner size %d is not a multiple of %s's block of %lld", k,
                       type, (long long)ggml_blck_size(t));
    ggml_backend_dev_t dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    ggml_backend_t be = ggml_backend_cpu_init();
    struct ggml_init_params ip = {.mem_size = 8 * ggml_tensor_overhead() + ggml_graph_overhead(),
                                  .mem_buffer = NULL,
                                  .no_alloc = true};
    struct ggml_context *cw = ggml_init(ip), *cx = ggml_init(ip), *cg = ggml_init(ip);
    size_t a_bytes = ggml_row_size(t, k) * (size_t)m;
    float *src = malloc((size_t)k * (size_t)(m > n ? m : n) * sizeof *src);
    void *qa = malloc(a_bytes);
    ggml_backend_buffer_t bw = NULL, bx = NULL, bg = NULL;
    eb_status st = EB_OK;
    if (!dev || !be || !cw || !cx || !cg || !src || !qa) {
        st = eb_fail(err, EB_E_NO_MEMORY, "kernel probe: cannot set up the CPU backend for %s",
                     type);
        goto done;
    }
    ggml_backend_cpu_set_n_threads(be, threads);
    struct ggml_tensor *a = ggml_new_tensor_2d(cw, t, k, m);
    struct ggml_tensor *b = ggml_new_tensor_2d(cx, GGML_TYPE_F32, k, n);
    struct ggml_tensor *c = ggml_mul_mat(cg, a, b);
    struct ggml_cgraph *gf = ggml_new_graph(cg);
    ggml_build_forward_expand(gf, c);
    ggml_backend_buffer_type_t wbuft = weight_buft(dev, a, c);
    snprintf(variant, variant_cap, "%s", ggml_backend_buft_name(wbuft));
    bw = ggml_backend_alloc_ctx_tensors_from_buft(cw, wbuft);
    bx = ggml_backend_alloc_ctx_tensors_from_buft(cx, ggml_backend_cpu_buffer_type());
    bg = ggml_backend_alloc_ctx_tensors_from_buft(cg, ggml_backend_cpu_buffer_type());
    if (!bw || !bx || !bg) {
        st = eb_fail(err, EB_E_NO_MEMORY, "kernel probe: out of memory for %d x %d x %d", m, n, k);
        goto done;
    }
    fill_random(src, (size_t)k * (size_t)m, 1);
    ggml_quantize_chunk(t, src, qa, 0, m, k, NULL);
    ggml_backend_tensor_set(a, qa, 0, a_bytes); /* repacked here when the type is */
    fill_random(src, (size_t)k * (size_t)n, 2);
    ggml_backend_tensor_set(b, src, 0, (size_t)k * (size_t)n * sizeof *src);
    for (int p = -1; p < passes && st == EB_OK; p++) {
        double t0 = eb_now();
        if (ggml_backend_graph_compute(be, gf) != GGML_STATUS_SUCCESS)
            st = eb_fail(err, EB_E_ENGINE, "kernel probe: ggml failed to compute %s", type);
        if (p >= 0) pass_s[p] = eb_now() - t0;
    }
done:
    if (bw) ggml_backend_buffer_free(bw);
    if (bx) ggml_backend_buffer_free(bx);
    if (bg) ggml_backend_buffer_free(bg);
    if (cw) ggml_free(cw);
    if (cx) ggml_free(cx);
    if (cg) ggml_free(cg);
    if (be) ggml_backend_free(be);
    free(src);
    free(qa);
    return st;
}
