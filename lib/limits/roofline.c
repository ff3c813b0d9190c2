/* The roofline arithmetic: limits from a model's shape and a device's
 * ceilings, the probe figure that fits a configuration, and the nominal
 * figures of known boards. */
#include "edgebench/roofline.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

double eb_gen_bytes_per_token(const eb_model_shape *s, double depth)
{
    return (double)s->streamed_bytes + (double)s->kv_bytes_per_pos * (depth > 0 ? depth : 0);
}

double eb_prefill_flops_per_token(const eb_model_shape *s)
{
    return 2.0 * (double)(s->matmul_params - s->output_params);
}

void eb_roofline_compute(const eb_model_shape *s, const eb_ceilings *c, int n_prompt, int n_gen,
                         double prefill_tps, double gen_tps, eb_roofline *out)
{
    memset(out, 0, sizeof *out);
    out->ceil = *c;
    out->prefill_tps = prefill_tps;
    out->gen_tps = gen_tps;
    /* Token i of n_gen is evaluated with n_prompt + i positions cached. */
    out->gen_depth = n_prompt + (n_gen > 1 ? (n_gen - 1) / 2.0 : 0.0);
    out->gen_bytes_per_token = eb_gen_bytes_per_token(s, out->gen_depth);
    out->prefill_flops_per_token = eb_prefill_flops_per_token(s);
    out->gen_max_tps = out->gen_efficiency = NAN;
    out->prefill_max_tps = out->prefill_efficiency = NAN;
    if (s->streamed_bytes == 0)
        snprintf(out->gen_reason, sizeof out->gen_reason, "the model's size is not known");
    else if (!(c->bw_gbs > 0))
        snprintf(out->gen_reason, sizeof out->gen_reason,
                 "no memory bandwidth probe stored for this device (run: edgebench device probe)");
    else {
        out->gen_max_tps = c->bw_gbs * 1e9 / out->gen_bytes_per_token;
        if (gen_tps > 0) out->gen_efficiency = gen_tps / out->gen_max_tps;
    }
    if (s->matmul_params == 0)
        snprintf(out->prefill_reason, sizeof out->prefill_reason,
                 "the model's parameters are not known");
    else if (!(c->gflops > 0))
        snprintf(out->prefill_reason, sizeof out->prefill_reason,
                 "no %s kernel probe stored for this device (run: edgebench device probe "
                 "--types %s)",
                 c->gflops_type[0] ? c->gflops_type : "matrix",
                 c->gflops_type[0] ? c->gflops_type : "TYPE");
    else {
        out->prefill_max_tps = c->gflops * 1e9 / out->prefill_flops_per_token;
        if (prefill_tps > 0) out->prefill_efficiency = prefill_tps / out->prefill_max_tps;
    }
}

void eb_predict(const eb_model_shape *s, const eb_ceilings *c, double disk_cold_gbs,
                double disk_cached_gbs, uint64_t file_bytes, int n_ctx, int n_prompt, int n_gen,
                eb_prediction *out)
{
    memset(out, 0, sizeof *out);
    out->weights_bytes = (double)s->weights_bytes;
    out->kv_bytes = (double)s->kv_bytes_per_pos * n_ctx;
    /* one prompt batch (at most llama.cpp's 512-token micro-batch): the
     * residual stream and its normed copy, Q, K, V and attention output,
     * three feed-forward rows and the attention scores over the context,
     * in F32; and the last token's logits */
    double u = n_prompt < 512 ? n_prompt : 512;
    if (u < 1) u = 1;
    out->compute_bytes =
        4.0 * u * (6.0 * s->n_embd + 3.0 * s->n_ff + (double)s->n_head * n_ctx) + 4.0 * s->n_vocab;
    out->repacked_bytes = c->weights_repacked ? (double)s->main_type_bytes : 0;
    out->memory_bytes =
        out->weights_bytes + out->repacked_bytes + out->kv_bytes + out->compute_bytes;
    out->load_cold_s = disk_cold_gbs > 0 ? (double)file_bytes / (disk_cold_gbs * 1e9) : NAN;
    out->load_cached_s = disk_cached_gbs > 0 ? (double)file_bytes / (disk_cached_gbs * 1e9) : NAN;
    eb_roofline_compute(s, c, n_prompt, n_gen, NAN, NAN, &out->rl);
}

const eb_probe_point *eb_probe_pick(const eb_probe_point *p, size_t n, const char *measure,
                                    const char *type, int threads)
{
    const eb_probe_point *best = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(p[i].measure, measure) != 0) continue;
        if (type && strcasecmp(p[i].type, type) != 0) continue;
        if (!(p[i].value > 0)) continue;
        if (!best) {
            best = &p[i];
            continue;
        }
        int d = abs(p[i].threads - threads), bd = abs(best->threads - threads);
        if (d < bd || (d == bd && p[i].threads < best->threads)) best = &p[i];
    }
    return best;
}

void eb_kernel_type(const char *weight_type, char *out, size_t cap)
{
    size_t n = 0;
    for (; weight_type[n] && n + 1 < cap; n++)
        out[n] = (char)toupper((unsigned char)weight_type[n]);
    out[n] = '\0';
    /* K-quant mixes (Q4_K_M, Q3_K_S ...) run the Q*_K kernel */
    char *k = strstr(out, "_K_");
    if (k && (k[3] == 'S' || k[3] == 'M' || k[3] == 'L' || k[3] == 'X') && k[4] == '\0')
        k[2] = '\0';
}

void eb_ceilings_pick(const eb_probe_point *p, size_t n, int tg, int tp, const char *main_type,
                      eb_ceilings *out)
{
    memset(out, 0, sizeof *out);
    out->bw_gbs = out->gflops = NAN;
    eb_kernel_type(main_type ? main_type : "", out->gflops_type, sizeof out->gflops_type);
    const eb_probe_point *bw = eb_probe_pick(p, n, "mem_read", NULL, tg);
    if (bw) {
        out->bw_gbs = bw->value;
        out->bw_threads = bw->threads;
    }
    const eb_probe_point *mm =
        out->gflops_type[0] ? eb_probe_pick(p, n, "matmul", out->gflops_type, tp) : NULL;
    if (mm) {
        out->gflops = mm->value;
        out->gflops_threads = mm->threads;
        out->weights_repacked = mm->repacked;
    }
}

/* Memory: bus width x transfer rate. CPU: cores x clock x 16 FP32
 * operations per cycle (two 128-bit NEON FMA pipes on the A76 and A78). */
static const eb_nominal nominal_boards[] = {
    {"Raspberry Pi 5", "LPDDR4X-4267, 32-bit bus", 17.07, "4 x Cortex-A76 at 2.4 GHz", 153.6},
    {"Jetson Orin Nano 8GB", "LPDDR5, 128-bit bus", 68.0, "6 x Cortex-A78AE at 1.5 GHz", 144.0},
    {"Jetson Orin Nano 4GB", "LPDDR5, 64-bit bus", 34.0, "6 x Cortex-A78AE at 1.5 GHz", 144.0},
};

const eb_nominal *eb_nominal_find(const char *board_model, uint64_t ram_total_kb)
{
    if (!board_model) return NULL;
    if (strstr(board_model, "Raspberry Pi 5")) return &nominal_boards[0];
    if (strstr(board_model, "Orin Nano"))
        return ram_total_kb > 5ull * 1024 * 1024 ? &nominal_boards[1] : &nominal_boards[2];
    return NULL;
}
