/* `run --rpc`: the nodes' facts and clocks before the runs, the bytes our
 * sockets moved to each in every span, each node's own figures for the
 * span's window after each repetition, and in the end per span and token
 * where the time and the energy went. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distributed.h"
#include "edgebench/roofline.h"
#include "edgebench/stats.h"

static void nan_fill(double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = NAN;
}

/* "3/1" or "3,1": one share a node, at least one positive. */
static eb_status parse_split(const char *text, int n_nodes, float *out, eb_error *err)
{
    int n = 0;
    const char *p = text;
    double sum = 0;
    while (*p) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || v < 0 || !isfinite(v))
            return eb_fail(err, EB_E_INVALID_ARG,
                           "tensor_split '%s': shares are numbers >= 0 separated by '/'", text);
        if (n == EB_MAX_NODES)
            return eb_fail(err, EB_E_INVALID_ARG, "tensor_split '%s': more than %d shares", text,
                           EB_MAX_NODES);
        out[n++] = (float)v;
        sum += v;
        p = end;
        if (*p == '/' || *p == ',')
            p++;
        else if (*p)
            return eb_fail(err, EB_E_INVALID_ARG, "tensor_split '%s': '%c' unexpected", text, *p);
    }
    if (n != n_nodes)
        return eb_fail(err, EB_E_INVALID_ARG, "tensor_split '%s' has %d shares for %d RPC node%s",
                       text, n, n_nodes, n_nodes == 1 ? "" : "s");
    if (sum <= 0)
        return eb_fail(err, EB_E_INVALID_ARG, "tensor_split '%s': every share is 0", text);
    return EB_OK;
}

/* Layers each node can hold within its --mem, from the model's tensor
 * table: a layer's weights and its share of the KV cache on every node;
 * the output matrix and the logits' compute buffer on the last (where
 * llama.cpp puts the output layer); a compute buffer on each. An
 * estimate, said as one when the model does not fit. */
static eb_status split_by_memory(const eb_run_config *cfg, eb_run_result *res, eb_error *err)
{
    eb_model_shape sh;
    eb_status st = eb_model_shape_read(cfg->model_path, &sh, err);
    if (st != EB_OK) return st;
    int n = res->n_nodes;
    int n_layer = sh.n_layer > 0 ? sh.n_layer : 1;
    int on_nodes =
        cfg->n_gpu_layers > 0 && cfg->n_gpu_layers - 1 < n_layer ? cfg->n_gpu_layers - 1 : n_layer;
    const double mib = 1048576.0;
    double ub = cfg->n_ubatch < cfg->n_batch ? cfg->n_ubatch : cfg->n_batch;
    double layer = ((double)sh.layer_bytes + (double)sh.kv_bytes_per_pos * cfg->n_ctx) / n_layer;
    double compute = ub * (sh.n_embd + sh.n_ff) * 16.0;
    double last_extra = (double)sh.output_bytes + ub * sh.n_vocab * 4.0;
    double total = 0;
    for (int i = 0; i < n; i++) {
        const eb_node_result *nr = &res->nodes[i];
        /* a tenth kept for what the estimate leaves out */
        double room = 0.9 * nr->facts.mem_limit_mib * mib - compute - (i == n - 1 ? last_extra : 0);
        double cap = room > 0 ? room / layer : 0;
        res->tensor_split[i] = (float)cap;
        total += cap;
        if (i == n - 1 && cap < 1 && on_nodes > 0)
            return eb_fail(err, EB_E_NO_MEMORY,
                           "rpc: node %s (--mem %d MiB) is last, so it takes the output layer "
                           "(%.0f MiB with its logits buffer, estimated) and has no room for a "
                           "layer: give it more memory or list a larger node last",
                           nr->endpoint, nr->facts.mem_limit_mib, (last_extra + compute) / mib);
    }
    if (total < on_nodes)
        return eb_fail(
            err, EB_E_NO_MEMORY,
            "rpc: the model does not fit the memory of the node%s: %d layers of %.1f MiB "
            "each (weights and KV cache) and %.0f MiB of output and buffers, estimated, "
            "but the %d node%s (--mem) hold about %.1f layers: add a node or give "
            "them more memory",
            n == 1 ? "" : "s", on_nodes, layer / mib, (last_extra + n * compute) / mib, n,
            n == 1 ? "" : "s", total);
    return EB_OK;
}

eb_status eb_dist_open(const eb_run_config *cfg, eb_run_result *res, eb_error *err)
{
    res->n_nodes = 0;
    res->rpc_list[0] = '\0';
    for (int s = 0; s < EB_SPAN_COUNT; s++) {
        eb_dist_span *d = &res->dist[s];
        d->wall_s = d->local_compute_s = d->nodes_compute_s = d->network_wait_s = NAN;
        d->bytes = d->predicted_transfer_s = d->energy_j = d->j_per_token = NAN;
        d->energy_note[0] = '\0';
    }
    if (!cfg->rpc || cfg->rpc_nodes == 0) return EB_OK;
    char *copy = strdup(cfg->rpc), *save = NULL;
    if (!copy) return eb_fail(err, EB_E_NO_MEMORY, "rpc list");
    int n = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        n++;
    free(copy);
    if (n == 0) return eb_fail(err, EB_E_INVALID_ARG, "rpc '%s': no HOST:PORT in it", cfg->rpc);
    if (cfg->rpc_nodes > 0 && cfg->rpc_nodes < n)
        n = cfg->rpc_nodes;
    else if (cfg->rpc_nodes > n)
        return eb_fail(err, EB_E_INVALID_ARG, "rpc_nodes=%d but rpc '%s' names %d node%s",
                       cfg->rpc_nodes, cfg->rpc, n, n == 1 ? "" : "s");
    if (n > EB_MAX_NODES)
        return eb_fail(err, EB_E_INVALID_ARG, "rpc: %d nodes, llama.cpp takes at most %d", n,
                       EB_MAX_NODES);
    res->nodes = calloc((size_t)n, sizeof *res->nodes);
    if (!res->nodes) return eb_fail(err, EB_E_NO_MEMORY, "%d nodes", n);
    copy = strdup(cfg->rpc);
    if (!copy) return eb_fail(err, EB_E_NO_MEMORY, "rpc list");
    save = NULL;
    eb_status st = EB_OK;
    char *t = strtok_r(copy, ",", &save);
    for (int i = 0; i < n && t; i++, t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        eb_node_result *nr = &res->nodes[i];
        snprintf(nr->endpoint, sizeof nr->endpoint, "%s", t);
        double *per_span[] = {nr->energy_j,     nr->mean_w,         nr->peak_w,
                              nr->peak_rss_mib, nr->compute_s,      nr->sent_bytes,
                              nr->recv_bytes,   nr->iface_tx_bytes, nr->iface_rx_bytes,
                              nr->temp_max_c,   nr->cpu_freq_mhz};
        for (size_t k = 0; k < sizeof per_span / sizeof *per_span; k++)
            nan_fill(per_span[k], EB_SPAN_COUNT);
        nr->rtt_s = NAN;
        res->n_nodes = i + 1;
        if ((st = eb_node_open(t, &nr->link, &nr->facts, &nr->clock_offset_s,
                               &nr->clock_uncertainty_s, err)) != EB_OK ||
            (st = eb_node_begin(nr->link, err)) != EB_OK)
            break;
        if (!eb_endpoint_numeric(t, nr->peer, sizeof nr->peer))
            snprintf(nr->peer, sizeof nr->peer, "%s", t);
        size_t used = strlen(res->rpc_list);
        snprintf(res->rpc_list + used, sizeof res->rpc_list - used, "%s%s", used ? "," : "", t);
    }
    free(copy);
    if (st != EB_OK) return st;

    /* the split: as given, else by each node's memory limit when every node
     * has one, else llama.cpp's (by the memory each node reports) */
    bool all_limited = true;
    for (int i = 0; i < n; i++)
        all_limited &= res->nodes[i].facts.mem_limit_mib > 0;
    if (cfg->tensor_split) {
        if ((st = parse_split(cfg->tensor_split, n, res->tensor_split, err)) != EB_OK) return st;
        res->has_split = true;
    } else if (all_limited) {
        if ((st = split_by_memory(cfg, res, err)) != EB_OK) return st;
        res->has_split = true;
    }
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += res->has_split ? res->tensor_split[i] : 1.0;
    for (int i = 0; i < n; i++)
        res->nodes[i].share = (res->has_split ? res->tensor_split[i] : 1.0) / sum;
    return EB_OK;
}

void eb_dist_after_context(const eb_engine_ops *e, eb_run_result *res)
{
    if (res->n_nodes == 0 || !e->placement) return;
    eb_placement pl[EB_MAX_NODES];
    int n = e->placement(pl, EB_MAX_NODES);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < res->n_nodes; k++)
            if (strcmp(pl[i].endpoint, res->nodes[k].endpoint) == 0) res->nodes[k].placed = pl[i];
}

eb_status eb_dist_rep_start(eb_run_result *res, eb_rep *rep, eb_error *err)
{
    if (res->n_nodes == 0) return EB_OK;
    rep->nodes = calloc((size_t)res->n_nodes, sizeof *rep->nodes);
    if (!rep->nodes) return eb_fail(err, EB_E_NO_MEMORY, "node figures");
    return EB_OK;
}

void eb_dist_mark(eb_run_result *res, eb_rep *rep, eb_span s, bool end)
{
    if (!rep->nodes) return;
    for (int i = 0; i < res->n_nodes; i++) {
        eb_peer_bytes b;
        eb_rep_node *rn = &rep->nodes[i];
        bool open = eb_peer_bytes_read(res->nodes[i].peer, &b);
        if (!end) {
            rn->sent0[s] = open ? b.sent : 0;
            rn->recv0[s] = open ? b.received : 0;
            continue;
        }
        double sent = open ? b.sent : 0, recv = open ? b.received : 0;
        /* sockets opened during the span (the load connects): counted from 0 */
        rn->sent[s] = sent >= rn->sent0[s] ? sent - rn->sent0[s] : sent;
        rn->recv[s] = recv >= rn->recv0[s] ? recv - rn->recv0[s] : recv;
        if (open && !isnan(b.rtt_s)) rn->rtt_s = b.rtt_s;
    }
}

eb_status eb_dist_rep_done(eb_run_result *res, eb_rep *rep, eb_error *err)
{
    if (!rep->nodes) return EB_OK;
    for (int i = 0; i < res->n_nodes; i++) {
        eb_rep_node *rn = &rep->nodes[i];
        rn->sent[EB_SPAN_RUN] =
            rn->sent[EB_SPAN_LOAD] + rn->sent[EB_SPAN_PREFILL] + rn->sent[EB_SPAN_GEN];
        rn->recv[EB_SPAN_RUN] =
            rn->recv[EB_SPAN_LOAD] + rn->recv[EB_SPAN_PREFILL] + rn->recv[EB_SPAN_GEN];
        for (int s = 0; s < EB_SPAN_COUNT; s++) {
            /* our monotonic span times on our realtime clock: the link adds
             * the node's offset */
            double t0 = rep->t_start[s] + res->wall_minus_mono,
                   t1 = rep->t_end[s] + res->wall_minus_mono;
            eb_status st = eb_node_window_get(res->nodes[i].link, t0, t1, &rn->win[s], err);
            if (st != EB_OK) return st;
        }
        rn->has_win = true;
    }
    return EB_OK;
}

/* Mean over the measured repetitions of one figure. */
#define MEAN_OVER(res, expr, out)                                                                  \
    do {                                                                                           \
        double sum_ = 0;                                                                           \
        int n_ = 0;                                                                                \
        for (int r_ = 0; r_ < (res)->n_reps; r_++) {                                               \
            const eb_rep *rep = &(res)->reps[r_];                                                  \
            if (rep->warmup || !rep->nodes || !rep->nodes[i].has_win) continue;                    \
            double v_ = (expr);                                                                    \
            if (!isnan(v_)) sum_ += v_, n_++;                                                      \
        }                                                                                          \
        (out) = n_ ? sum_ / n_ : NAN;                                                              \
    } while (0)

void eb_dist_finish(eb_run_result *res)
{
    if (res->n_nodes == 0) return;
    for (int i = 0; i < res->n_nodes; i++) {
        eb_node_result *nr = &res->nodes[i];
        for (int s = 0; s < EB_SPAN_COUNT; s++) {
            MEAN_OVER(res, rep->nodes[i].win[s].energy_j, nr->energy_j[s]);
            MEAN_OVER(res, rep->nodes[i].win[s].mean_w, nr->mean_w[s]);
            MEAN_OVER(res, rep->nodes[i].win[s].peak_w, nr->peak_w[s]);
            MEAN_OVER(res, rep->nodes[i].win[s].compute_s, nr->compute_s[s]);
            MEAN_OVER(res, rep->nodes[i].win[s].iface_tx_bytes, nr->iface_tx_bytes[s]);
            MEAN_OVER(res, rep->nodes[i].win[s].iface_rx_bytes, nr->iface_rx_bytes[s]);
            MEAN_OVER(res, rep->nodes[i].sent[s], nr->sent_bytes[s]);
            MEAN_OVER(res, rep->nodes[i].recv[s], nr->recv_bytes[s]);
            MEAN_OVER(res, rep->nodes[i].win[s].temp_max_c, nr->temp_max_c[s]);
            MEAN_OVER(res, rep->nodes[i].win[s].cpu_freq_mhz, nr->cpu_freq_mhz[s]);
            /* peaks: the largest of the repetitions' */
            double peak = NAN;
            for (int r = 0; r < res->n_reps; r++) {
                const eb_rep *rep = &res->reps[r];
                if (rep->warmup || !rep->nodes) continue;
                double v = rep->nodes[i].win[s].peak_rss_mib;
                if (!isnan(v) && (isnan(peak) || v > peak)) peak = v;
            }
            nr->peak_rss_mib[s] = peak;
        }
        MEAN_OVER(res, rep->nodes[i].rtt_s, nr->rtt_s);
    }

    /* per token: the spans' wall time against the computes, the bytes,
     * and the energy of every device */
    for (int s = EB_SPAN_PREFILL; s <= EB_SPAN_GEN; s++) {
        eb_dist_span *d = &res->dist[s];
        double wall = 0, local = 0, tokens = 0;
        int n = 0;
        for (int r = 0; r < res->n_reps; r++) {
            const eb_rep *rep = &res->reps[r];
            if (rep->warmup) continue;
            wall += rep->t_end[s] - rep->t_start[s];
            local += rep->thread_cpu_s[s];
            tokens += s == EB_SPAN_GEN ? rep->n_gen : rep->n_prompt;
            n++;
        }
        if (n == 0 || tokens <= 0) continue;
        double per = (double)n / tokens; /* a repetition's figure -> per token */
        d->wall_s = wall / tokens;
        d->local_compute_s = local / tokens;
        double nodes = 0, bytes = 0;
        bool all_compute = true;
        for (int i = 0; i < res->n_nodes; i++) {
            const eb_node_result *nr = &res->nodes[i];
            if (isnan(nr->compute_s[s]))
                all_compute = false;
            else
                nodes += nr->compute_s[s] * per;
            bytes += (isnan(nr->sent_bytes[s]) ? 0 : nr->sent_bytes[s]) +
                     (isnan(nr->recv_bytes[s]) ? 0 : nr->recv_bytes[s]);
        }
        d->nodes_compute_s = all_compute ? nodes : NAN;
        d->bytes = bytes * per;
        if (all_compute) {
            double w = d->wall_s - d->local_compute_s - d->nodes_compute_s;
            d->network_wait_s = w > 0 ? w : 0;
        }
        d->predicted_transfer_s =
            res->config.link_mbit > 0 ? d->bytes * 8 / (res->config.link_mbit * 1e6) : NAN;
        /* energy: this device's and each node's; one unmeasured device
         * leaves the total unknown */
        double e =
            res->pm_stats[s][EB_PM_ENERGY_J].n > 0 ? res->pm_stats[s][EB_PM_ENERGY_J].mean : NAN;
        if (isnan(e))
            snprintf(d->energy_note, sizeof d->energy_note, "this device: %.200s",
                     res->pm_reason[EB_PM_ENERGY_J][0] ? res->pm_reason[EB_PM_ENERGY_J]
                                                       : "not measured");
        for (int i = 0; i < res->n_nodes && !isnan(e); i++) {
            const eb_node_result *nr = &res->nodes[i];
            if (isnan(nr->energy_j[s])) {
                snprintf(d->energy_note, sizeof d->energy_note, "node %s: %.200s", nr->endpoint,
                         nr->facts.energy_reason[0] ? nr->facts.energy_reason : "not measured");
                e = NAN;
            } else {
                e += nr->energy_j[s];
            }
        }
        d->energy_j = e;
        d->j_per_token = isnan(e) ? NAN : e * per;
    }
}

void eb_dist_close(eb_run_result *res)
{
    for (int i = 0; i < res->n_nodes; i++) {
        eb_node_close(res->nodes[i].link);
        res->nodes[i].link = NULL;
    }
}
