/* The report's table of where each model stopped fitting: failed trials
 * are results (the context at which a model no longer ran, and why). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/analysis.h"
#include "edgebench/params.h"
#include "report_plot.h"

/* Memory against context per KV cache type: each ok trial's peak RSS, the
 * KV cache llama.cpp allocated, and the KV cache the model's shape
 * predicts (model plan's bytes per position, scaled to the types). */
static void memory_vs_context(report *r, const eb_table *t)
{
    chart c = {.id = "fig4b_memory_vs_context",
               .title = "Fig. 4b: memory against context per KV cache type",
               .ylabel = "MiB",
               .xlabel = "context (tokens)",
               .lines = true,
               .log_x = true};
    int c_ctx = eb_table_column(t, "n_ctx"), c_k = eb_table_column(t, "type_k"),
        c_v = eb_table_column(t, "type_v"), c_kv = eb_table_column(t, "kv_cache_mib"),
        c_rss = eb_table_column(t, "peak_rss_mib"), c_pos = eb_table_column(t, "kv_bytes_per_pos"),
        c_model = eb_table_column(t, "model"), c_quant = eb_table_column(t, "quant"),
        c_status = eb_table_column(t, "status");
    int with_kv = 0;
    for (size_t i = 0; i < t->nrow; i++) {
        const char *st = eb_table_cell(t, i, c_status), *m = eb_table_cell(t, i, c_model);
        double ctx = eb_table_number(t, i, c_ctx), kv = eb_table_number(t, i, c_kv);
        if (!st || strcmp(st, "ok") || !m || !isfinite(ctx) || !isfinite(kv)) continue;
        const char *k = eb_table_cell(t, i, c_k), *v = eb_table_cell(t, i, c_v);
        k = k ? k : eb_param_find("type_k")->def, v = v ? v : eb_param_find("type_v")->def;
        char base[300], key[360];
        snprintf(base, sizeof base, "%.*s %s KV %s/%s", (int)strcspn(m, "("), m,
                 eb_table_cell(t, i, c_quant) ? eb_table_cell(t, i, c_quant) : "", k, v);
        double pos = eb_table_number(t, i, c_pos);
        double pred = isfinite(pos) ? pos / 2 * (eb_kv_type_bytes(k) + eb_kv_type_bytes(v)) / 2 *
                                          ctx / 1048576.0
                                    : NAN;
        const double vals[3] = {eb_table_number(t, i, c_rss), kv, pred};
        static const char *const what[3] = {"peak RSS", "KV cache (llama.cpp)",
                                            "KV cache predicted"};
        for (int w = 0; w < 3; w++) {
            snprintf(key, sizeof key, "%s: %s", base, what[w]);
            int s = chart_series(&c, key);
            if (s < 0) continue;
            c.style[s] = w == 2 ? 2 : w == 1 ? 1 : 0;
            double v8[REPORT_MAX_SERIES];
            for (int q = 0; q < REPORT_MAX_SERIES; q++)
                v8[q] = NAN;
            v8[s] = vals[w];
            chart_add(&c, key, ctx, v8);
        }
        with_kv++;
    }
    if (with_kv)
        report_chart(r, &c,
                     "Each trial that ran: its peak resident memory, the KV cache llama.cpp "
                     "allocated, and the KV cache the model's shape predicts (model plan's bytes "
                     "per position x the types' bytes per element).",
                     "no trial recorded its KV cache");
    chart_free(&c);
}

void report_fit(report *r, eb_store *s)
{
    eb_table trials, fit;
    eb_error err = {0};
    if (eb_store_results(s, EB_VIEW_TRIALS, NULL, &trials, &err) != EB_OK) {
        report_missing(r, "fit", "Where each model stopped fitting", err.msg);
        return;
    }
    eb_status st = eb_fit_table(&trials, &fit, &err);
    if (st != EB_OK) {
        eb_table_free(&trials);
        report_missing(r, "fit", "Where each model stopped fitting", err.msg);
        return;
    }
    size_t failed = 0;
    int c = eb_table_column(&fit, "smallest_ctx_failed");
    for (size_t i = 0; i < fit.nrow; i++)
        failed += eb_table_cell(&fit, i, c) != NULL;
    report_text(r, failed ? "Per device, model, weight type and KV cache type: the largest "
                            "context that ran and the smallest that failed, with the reason "
                            "the failed trial recorded."
                          : "No stored trial failed: every model ran at every context tried "
                            "(the largest is listed).");
    report_table(r, "Where each model stopped fitting", &fit);
    memory_vs_context(r, &trials);
    eb_table_free(&fit);
    eb_table_free(&trials);
}
