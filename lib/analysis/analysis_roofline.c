/* `edgebench analyze roofline`: every stored trial against its device's
 * probed ceilings: how close generation came to memory bandwidth and
 * prefill to the matrix kernels' throughput. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/analysis.h"
#include "edgebench/util.h"

eb_status eb_analysis_load_roofline(eb_store *s, const eb_analysis_opts *o, eb_table *trials,
                                    eb_table *probes, eb_error *err)
{
    memset(trials, 0, sizeof *trials);
    memset(probes, 0, sizeof *probes);
    if (eb_store_schema_version(s) < 4) return EB_OK;
    eb_status st = eb_store_results(s, EB_VIEW_ROOFLINE, &o->f, trials, err);
    /* ceilings of every device: the filter names trials, not probes */
    eb_results_filter pf = {.device = o->f.device};
    if (st == EB_OK) st = eb_store_results(s, EB_VIEW_PROBES, &pf, probes, err);
    return st;
}

eb_status eb_analysis_roofline_points(const eb_analysis_opts *o, eb_roofline_point **pts, size_t *n,
                                      eb_error *err)
{
    *pts = NULL;
    *n = 0;
    if (!o->roofline_trials || !o->probes || o->roofline_trials->ncol == 0) return EB_OK;
    return eb_roofline_points(o->roofline_trials, o->probes, pts, n, err);
}

static char *fmt(char *buf, size_t cap, double v)
{
    if (!isfinite(v)) return NULL;
    eb_format_double(buf, cap, v);
    return buf;
}

eb_status eb_analysis_roofline(const eb_analysis_opts *o, eb_table *out, eb_error *err)
{
    static const char *const names[] = {"device",
                                        "model",
                                        "quant",
                                        "config",
                                        "gen_tps",
                                        "gen_max_tps",
                                        "gen_efficiency",
                                        "gen_mib_per_token",
                                        "bandwidth_gbs",
                                        "prefill_tps",
                                        "prefill_max_tps",
                                        "prefill_efficiency",
                                        "kernel",
                                        "kernel_gflops",
                                        "note"};
    static const unsigned char kinds[] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0};
    eb_roofline_point *pts = NULL;
    size_t n = 0;
    eb_status st = eb_analysis_roofline_points(o, &pts, &n, err);
    if (st != EB_OK) return st;
    bool ok = eb_table_init(out, 15, names, kinds) == EB_OK;
    for (size_t i = 0; ok && i < n; i++) {
        const eb_roofline_point *p = &pts[i];
        const eb_roofline *rl = &p->rl;
        char b[10][40], cfg[300], kernel[64] = "", note[600] = "";
        eb_config_label(p->threads_prefill, p->threads_gen, p->governor, p->power_mode, 0, false,
                        cfg, sizeof cfg);
        if (isfinite(rl->ceil.gflops))
            snprintf(kernel, sizeof kernel, "%s x%d", rl->ceil.gflops_type,
                     rl->ceil.gflops_threads);
        size_t len = 0;
        if (rl->gen_reason[0])
            len += (size_t)snprintf(note, sizeof note, "generation: %s; ", rl->gen_reason);
        if (rl->prefill_reason[0] && strcmp(rl->prefill_reason, rl->gen_reason) != 0 &&
            len < sizeof note)
            len += (size_t)snprintf(note + len, sizeof note - len, "prefill: %s; ",
                                    rl->prefill_reason);
        if (isfinite(rl->ceil.bw_gbs) && rl->ceil.bw_threads != p->threads_gen && len < sizeof note)
            len += (size_t)snprintf(note + len, sizeof note - len,
                                    "bandwidth probed at %d threads, not %d; ", rl->ceil.bw_threads,
                                    p->threads_gen);
        if (len >= 2 && len < sizeof note) note[len - 2] = '\0';
        char *cells[15] = {(char *)p->device,
                           (char *)p->model,
                           (char *)p->quant,
                           cfg,
                           fmt(b[0], 40, rl->gen_tps),
                           fmt(b[1], 40, rl->gen_max_tps),
                           fmt(b[2], 40, rl->gen_efficiency),
                           p->has_shape ? fmt(b[3], 40, rl->gen_bytes_per_token / 1048576.0) : NULL,
                           fmt(b[4], 40, rl->ceil.bw_gbs),
                           fmt(b[5], 40, rl->prefill_tps),
                           fmt(b[6], 40, rl->prefill_max_tps),
                           fmt(b[7], 40, rl->prefill_efficiency),
                           kernel[0] ? kernel : NULL,
                           fmt(b[8], 40, rl->ceil.gflops),
                           note[0] ? note : NULL};
        ok = eb_table_add_row(out, cells) == EB_OK;
    }
    free(pts);
    if (!ok) return eb_fail(err, EB_E_NO_MEMORY, "analysis: out of memory");
    return EB_OK;
}
