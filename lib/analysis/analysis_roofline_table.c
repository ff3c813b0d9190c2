/* Stored trials against their device's probed ceilings. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/analyze.h"

static const char *text(const eb_table *t, size_t r, int c)
{
    const char *v = eb_table_cell(t, r, c);
    return v ? v : "";
}

eb_status eb_probe_points_from_table(const eb_table *probes, const char *device,
                                     eb_probe_point **out, size_t *n, eb_error *err)
{
    *out = NULL;
    *n = 0;
    int c_dev = eb_table_column(probes, "device"), c_m = eb_table_column(probes, "measure"),
        c_ty = eb_table_column(probes, "weight_type"), c_th = eb_table_column(probes, "threads"),
        c_v = eb_table_column(probes, "value"), c_det = eb_table_column(probes, "detail");
    if (c_m < 0 || c_th < 0 || c_v < 0)
        return eb_fail(err, EB_E_INTERNAL, "roofline: the probes table lacks its columns");
    if (probes->nrow == 0) return EB_OK;
    eb_probe_point *p = calloc(probes->nrow, sizeof *p);
    if (!p) return eb_fail(err, EB_E_NO_MEMORY, "roofline: out of memory");
    for (size_t r = 0; r < probes->nrow; r++) {
        if (device && strcmp(text(probes, r, c_dev), device) != 0) continue;
        eb_probe_point *q = &p[(*n)++];
        snprintf(q->measure, sizeof q->measure, "%s", text(probes, r, c_m));
        snprintf(q->type, sizeof q->type, "%s", text(probes, r, c_ty));
        q->threads = atoi(text(probes, r, c_th));
        q->value = eb_table_number(probes, r, c_v);
        q->repacked = strstr(text(probes, r, c_det), "REPACK") != NULL;
    }
    *out = p;
    return EB_OK;
}

eb_status eb_roofline_points(const eb_table *trials, const eb_table *probes,
                             eb_roofline_point **out, size_t *n, eb_error *err)
{
    *out = NULL;
    *n = 0;
    int c_id = eb_table_column(trials, "trial_id"), c_dev = eb_table_column(trials, "device"),
        c_model = eb_table_column(trials, "model"), c_quant = eb_table_column(trials, "quant"),
        c_main = eb_table_column(trials, "main_type"), c_np = eb_table_column(trials, "n_params"),
        c_mm = eb_table_column(trials, "matmul_params"),
        c_op = eb_table_column(trials, "output_params"),
        c_sb = eb_table_column(trials, "streamed_bytes"),
        c_kv = eb_table_column(trials, "kv_bytes_per_pos"),
        c_syn = eb_table_column(trials, "synthetic"),
        c_tp = eb_table_column(trials, "threads_prefill"),
        c_tg = eb_table_column(trials, "threads_gen"), c_gov = eb_table_column(trials, "governor"),
        c_pm = eb_table_column(trials, "power_mode"), c_st = eb_table_column(trials, "status"),
        c_npr = eb_table_column(trials, "n_prompt"), c_ng = eb_table_column(trials, "n_gen"),
        c_ptps = eb_table_column(trials, "prefill_tps"),
        c_gtps = eb_table_column(trials, "gen_tps"),
        c_gpu = eb_table_column(trials, "gpu_layers_offloaded");
    if (c_dev < 0 || c_sb < 0 || c_gtps < 0)
        return eb_fail(err, EB_E_INTERNAL, "roofline: the trials table lacks its columns");
    if (trials->nrow == 0) return EB_OK;
    eb_roofline_point *pts = calloc(trials->nrow, sizeof *pts);
    eb_probe_point *pp = NULL;
    size_t npp = 0;
    eb_status st = pts ? eb_probe_points_from_table(probes, NULL, &pp, &npp, err)
                       : eb_fail(err, EB_E_NO_MEMORY, "roofline: out of memory");
    eb_probe_point *dev = npp ? calloc(npp, sizeof *dev) : NULL;
    for (size_t r = 0; st == EB_OK && r < trials->nrow; r++) {
        if (c_st >= 0 && strcmp(text(trials, r, c_st), "ok") != 0) continue;
        /* the probe measures the CPU: a run with layers on a GPU is not under it */
        if (c_gpu >= 0 && atoi(text(trials, r, c_gpu)) > 0) continue;
        eb_roofline_point *q = &pts[(*n)++];
        q->trial_id = atoll(text(trials, r, c_id));
        q->row = r;
        snprintf(q->device, sizeof q->device, "%s", text(trials, r, c_dev));
        snprintf(q->model, sizeof q->model, "%s", text(trials, r, c_model));
        snprintf(q->quant, sizeof q->quant, "%s", text(trials, r, c_quant));
        snprintf(q->governor, sizeof q->governor, "%s", text(trials, r, c_gov));
        snprintf(q->power_mode, sizeof q->power_mode, "%s", text(trials, r, c_pm));
        q->threads_prefill = atoi(text(trials, r, c_tp));
        q->threads_gen = atoi(text(trials, r, c_tg));
        q->synthetic = atoi(text(trials, r, c_syn)) != 0;
        q->n_prompt = eb_table_number(trials, r, c_npr);
        q->n_gen = eb_table_number(trials, r, c_ng);
        double np = eb_table_number(trials, r, c_np), mm = eb_table_number(trials, r, c_mm),
               sb = eb_table_number(trials, r, c_sb), kv = eb_table_number(trials, r, c_kv);
        q->has_shape = isfinite(mm) && isfinite(sb);
        q->shape.n_params = isfinite(np) ? (uint64_t)np : 0;
        q->shape.matmul_params = q->has_shape ? (uint64_t)mm : 0;
        q->shape.streamed_bytes = q->has_shape ? (uint64_t)sb : 0;
        double op = eb_table_number(trials, r, c_op);
        q->shape.output_params = q->has_shape && isfinite(op) ? (uint64_t)op : 0;
        q->shape.kv_bytes_per_pos = isfinite(kv) ? (uint64_t)kv : 0;
        snprintf(q->shape.main_type, sizeof q->shape.main_type, "%s", text(trials, r, c_main));
        /* this device's points, newest first as the view gives them (pp
         * holds every row of probes, in order) */
        size_t nd = 0;
        int c_pdev = eb_table_column(probes, "device");
        for (size_t i = 0; i < npp; i++)
            if (strcmp(text(probes, i, c_pdev), q->device) == 0) dev[nd++] = pp[i];
        eb_ceilings c;
        eb_ceilings_pick(dev, nd, q->threads_gen, q->threads_prefill, q->shape.main_type, &c);
        eb_roofline_compute(&q->shape, &c, isfinite(q->n_prompt) ? (int)lround(q->n_prompt) : 0,
                            isfinite(q->n_gen) ? (int)lround(q->n_gen) : 0,
                            eb_table_number(trials, r, c_ptps), eb_table_number(trials, r, c_gtps),
                            &q->rl);
        if (!q->has_shape) {
            snprintf(q->rl.gen_reason, sizeof q->rl.gen_reason,
                     "the model's shape was not stored with this trial (stored by an older "
                     "edgebench; run it again)");
            snprintf(q->rl.prefill_reason, sizeof q->rl.prefill_reason, "%s", q->rl.gen_reason);
            q->rl.gen_max_tps = q->rl.gen_efficiency = NAN;
            q->rl.prefill_max_tps = q->rl.prefill_efficiency = NAN;
        }
        /* a generated token also runs the output matrix */
        double flop = q->rl.prefill_flops_per_token, gflop = 2.0 * (double)q->shape.matmul_params;
        q->gen_intensity = q->has_shape ? gflop / q->rl.gen_bytes_per_token : NAN;
        q->gen_gflops = q->rl.gen_tps * gflop / 1e9;
        /* a prompt batch reads the weights once for all its tokens */
        q->prefill_intensity =
            q->has_shape && q->n_prompt > 0 ? flop * q->n_prompt / (double)sb : NAN;
        q->prefill_gflops = q->rl.prefill_tps * flop / 1e9;
    }
    free(pp);
    free(dev);
    if (st != EB_OK) {
        free(pts);
        *n = 0;
        return st;
    }
    *out = pts;
    return EB_OK;
}
