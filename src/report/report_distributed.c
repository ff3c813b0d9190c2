/* The report's distributed figures (run --rpc): generation t/s, J/token of
 * every device and TTFT against the number of RPC nodes, a line per model
 * and link, the model in one process at 0 nodes; and the analysis table. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "edgebench/analysis.h"
#include "report_plot.h"

static bool same_text(const eb_table *t, size_t a, size_t b, int col)
{
    const char *x = eb_table_cell(t, a, col), *y = eb_table_cell(t, b, col);
    return !strcmp(x ? x : "", y ? y : "");
}

static void series_key(const eb_table *t, size_t i, int c_model, int c_quant, int c_link, char *key,
                       size_t cap)
{
    const char *m = eb_table_cell(t, i, c_model), *q = eb_table_cell(t, i, c_quant),
               *l = eb_table_cell(t, i, c_link);
    int mlen = m ? (int)strcspn(m, "(") : 1;
    while (m && mlen > 0 && m[mlen - 1] == ' ')
        mlen--;
    snprintf(key, cap, "%.*s %s, %s", mlen, m ? m : "?", q ? q : "",
             l && l[0] ? l : "link not named");
}

static void against_nodes(report *r, const eb_table *t, const char *id, const char *title,
                          const char *ylabel, const char *column, const char *caption,
                          const char *why)
{
    chart c = {.id = id,
               .title = title,
               .ylabel = ylabel,
               .xlabel = "RPC nodes (0: one process)",
               .lines = true};
    int c_model = eb_table_column(t, "model"), c_quant = eb_table_column(t, "quant"),
        c_link = eb_table_column(t, "link"), c_nodes = eb_table_column(t, "nodes"),
        c_v = eb_table_column(t, column);
    /* a line per model, type and link; the model in one process (its row
     * has 0 nodes) starts each of its model's lines */
    for (size_t j = 0; j < t->nrow; j++) {
        if (eb_table_number(t, j, c_nodes) <= 0) continue;
        char key[400];
        series_key(t, j, c_model, c_quant, c_link, key, sizeof key);
        int s = chart_series(&c, key);
        if (s < 0) continue;
        for (size_t i = 0; i < t->nrow; i++) {
            bool one = eb_table_number(t, i, c_nodes) <= 0;
            if (!(i == j || (one && same_text(t, i, j, c_model) && same_text(t, i, j, c_quant))))
                continue;
            double v[REPORT_MAX_SERIES];
            for (int k = 0; k < REPORT_MAX_SERIES; k++)
                v[k] = NAN;
            v[s] = eb_table_number(t, i, c_v);
            chart_add(&c, key, one ? 0 : eb_table_number(t, i, c_nodes), v);
        }
    }
    report_chart(r, &c, caption, why);
    chart_free(&c);
}

void report_distributed(report *r, eb_store *s)
{
    eb_table trials = {0}, t = {0};
    eb_error err = {0};
    if (eb_store_results(s, EB_VIEW_DISTRIBUTED, NULL, &trials, &err) != EB_OK) return;
    if (eb_distributed_table(&trials, &t, &err) == EB_OK && t.nrow > 0) {
        report_heading(r, "Models across devices (RPC)");
        against_nodes(r, &t, "fig21_rpc_tps", "Fig. 21a: generation throughput against RPC nodes",
                      "tokens/s", "gen_tps",
                      "Mean generation tokens/s of the trials run with 'run --rpc', a line per "
                      "model and link; 0 nodes is the same model in one process.",
                      "no generation measured");
        against_nodes(r, &t, "fig21_rpc_energy",
                      "Fig. 21b: energy per generated token, every device", "J/token",
                      "gen_j_tok_all_devices",
                      "Generation energy per token summed over this device and every node, each "
                      "measured by its own sensors on its own clock.",
                      "energy was not measured on every device (a node or this device has no "
                      "power sensor)");
        against_nodes(r, &t, "fig21_rpc_ttft", "Fig. 21c: time to first token against RPC nodes",
                      "seconds", "ttft_s", "The study's TTFT (load + prefill) of the same trials.",
                      "no TTFT measured");
        report_table(r, "Models across devices: per number of nodes and link", &t);
    }
    eb_table_free(&t);
    eb_table_free(&trials);
}
