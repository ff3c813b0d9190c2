/* A model spread over RPC nodes: per model, weight type, number of nodes
 * and link, generation t/s, J/token of every device together and TTFT,
 * with the network's share of a token, beside the same model in one
 * process where it fits one device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/analysis.h"

typedef struct dist_group {
    const char *model, *quant, *link;
    long nodes;
    size_t n;
    double sum[7]; /* gen_tps, prefill_tps, ttft, J/token, wait, bytes, predicted */
    size_t cnt[7];
    bool estimate;
} dist_group;

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static void add(dist_group *g, int k, double v)
{
    if (isfinite(v)) g->sum[k] += v, g->cnt[k]++;
}

static double mean(const dist_group *g, int k)
{
    return g->cnt[k] ? g->sum[k] / (double)g->cnt[k] : NAN;
}

eb_status eb_distributed_table(const eb_table *trials, eb_table *out, eb_error *err)
{
    int c_model = eb_table_column(trials, "model"), c_quant = eb_table_column(trials, "quant"),
        c_nodes = eb_table_column(trials, "n_nodes"), c_link = eb_table_column(trials, "link"),
        c_gen = eb_table_column(trials, "gen_tps"), c_pre = eb_table_column(trials, "prefill_tps"),
        c_ttft = eb_table_column(trials, "ttft_s"),
        c_jall = eb_table_column(trials, "gen_j_per_token_all"),
        c_jhere = eb_table_column(trials, "gen_j_per_token_here"),
        c_wait = eb_table_column(trials, "gen_network_wait_s"),
        c_bytes = eb_table_column(trials, "gen_bytes_per_token"),
        c_pred = eb_table_column(trials, "gen_predicted_transfer_s"),
        c_src = eb_table_column(trials, "energy_source");
    if (c_model < 0 || c_nodes < 0 || c_gen < 0)
        return eb_fail(err, EB_E_INTERNAL, "distributed: the trials table lacks its columns");
    dist_group *g = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < trials->nrow; i++) {
        const char *m = or_empty(eb_table_cell(trials, i, c_model)),
                   *q = or_empty(eb_table_cell(trials, i, c_quant));
        long nodes = (long)eb_table_number(trials, i, c_nodes);
        if (nodes < 0) nodes = 0;
        /* one process has no link: its figure stands beside every link's */
        const char *l = nodes > 0 ? or_empty(eb_table_cell(trials, i, c_link)) : "";
        size_t k = 0;
        while (k < n && !(g[k].nodes == nodes && !strcmp(g[k].model, m) && !strcmp(g[k].quant, q) &&
                          !strcmp(g[k].link, l)))
            k++;
        if (k == n) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 16;
                dist_group *ng = realloc(g, nc * sizeof *ng);
                if (!ng) {
                    free(g);
                    return eb_fail(err, EB_E_NO_MEMORY, "distributed: out of memory");
                }
                g = ng, cap = nc;
            }
            g[n++] = (dist_group){.model = m, .quant = q, .link = l, .nodes = nodes};
        }
        dist_group *x = &g[k];
        x->n++;
        add(x, 0, eb_table_number(trials, i, c_gen));
        add(x, 1, eb_table_number(trials, i, c_pre));
        add(x, 2, eb_table_number(trials, i, c_ttft));
        add(x, 3, eb_table_number(trials, i, nodes > 0 ? c_jall : c_jhere));
        add(x, 4, eb_table_number(trials, i, c_wait));
        add(x, 5, eb_table_number(trials, i, c_bytes));
        add(x, 6, eb_table_number(trials, i, c_pred));
        const char *src = eb_table_cell(trials, i, c_src);
        if (src && !strncmp(src, "estimate:", 9)) x->estimate = true;
    }
    static const char *const names[] = {"model",
                                        "quant",
                                        "nodes",
                                        "link",
                                        "trials",
                                        "gen_tps",
                                        "prefill_tps",
                                        "ttft_s",
                                        "gen_j_tok_all_devices",
                                        "net_wait_ms_tok_estimate",
                                        "bytes_tok",
                                        "predicted_ms_tok",
                                        "one_process_tps",
                                        "vs_one_process",
                                        "energy"};
    static const unsigned char numeric[] = {0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
    eb_status st = eb_table_init(out, 15, names, numeric);
    for (size_t i = 0; st == EB_OK && i < n; i++) {
        /* only models that ran on nodes, and their one-process figure */
        bool has_rpc = false;
        const dist_group *one = NULL;
        for (size_t j = 0; j < n; j++) {
            if (strcmp(g[j].model, g[i].model) || strcmp(g[j].quant, g[i].quant)) continue;
            if (g[j].nodes > 0)
                has_rpc = true;
            else
                one = &g[j];
        }
        if (!has_rpc) continue;
        char b[12][48];
        snprintf(b[0], sizeof b[0], "%ld", g[i].nodes);
        snprintf(b[1], sizeof b[1], "%zu", g[i].n);
        double base = one ? mean(one, 0) : NAN;
        bool any_energy = g[i].cnt[3] > 0;
        char *cells[] = {(char *)g[i].model,
                         (char *)g[i].quant,
                         b[0],
                         (char *)(g[i].nodes > 0 ? g[i].link : "one process"),
                         b[1],
                         eb_cell_num(b[2], sizeof b[2], mean(&g[i], 0), 4),
                         eb_cell_num(b[3], sizeof b[3], mean(&g[i], 1), 4),
                         eb_cell_num(b[4], sizeof b[4], mean(&g[i], 2), 4),
                         eb_cell_num(b[5], sizeof b[5], mean(&g[i], 3), 4),
                         eb_cell_num(b[6], sizeof b[6], mean(&g[i], 4) * 1e3, 4),
                         eb_cell_num(b[7], sizeof b[7], mean(&g[i], 5), 0),
                         eb_cell_num(b[8], sizeof b[8], mean(&g[i], 6) * 1e3, 4),
                         eb_cell_num(b[9], sizeof b[9], base, 4),
                         eb_cell_num(b[10], sizeof b[10], mean(&g[i], 0) / base, -3),
                         (char *)(!any_energy     ? "not measured"
                                  : g[i].estimate ? "ESTIMATE (CPU load x TDP)"
                                                  : "measured")};
        st = eb_table_add_row(out, cells);
    }
    free(g);
    if (st != EB_OK) {
        eb_table_free(out);
        return eb_fail(err, EB_E_NO_MEMORY, "distributed: out of memory");
    }
    return EB_OK;
}
