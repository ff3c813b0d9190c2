/* A distributed run's nodes and its per-token split, as JSON and text. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "edgebench/output.h"

static const char *wait_note =
    "ESTIMATE: network wait = wall time - this device's engine-thread CPU time - each node's "
    "serving-thread CPU time (nodes compute one after another for one sequence)";

static cJSON *span_json(const eb_node_result *n, int s)
{
    cJSON *o = cJSON_CreateObject();
    eb_json_number(o, "energy_j", n->energy_j[s]);
    eb_json_number(o, "mean_w", n->mean_w[s]);
    eb_json_number(o, "peak_w", n->peak_w[s]);
    eb_json_number(o, "peak_rss_mib", n->peak_rss_mib[s]);
    eb_json_number(o, "compute_s", n->compute_s[s]);
    eb_json_number(o, "sent_bytes", n->sent_bytes[s]);
    eb_json_number(o, "received_bytes", n->recv_bytes[s]);
    eb_json_number(o, "iface_tx_bytes", n->iface_tx_bytes[s]);
    eb_json_number(o, "iface_rx_bytes", n->iface_rx_bytes[s]);
    eb_json_number(o, "temp_max_c", n->temp_max_c[s]);
    eb_json_number(o, "cpu_freq_mhz", n->cpu_freq_mhz[s]);
    return o;
}

static cJSON *node_json(const eb_node_result *n)
{
    cJSON *o = cJSON_CreateObject();
    const eb_node_facts *f = &n->facts;
    cJSON_AddStringToObject(o, "address", n->endpoint);
    cJSON *d = cJSON_AddObjectToObject(o, "device");
    cJSON_AddStringToObject(d, "hostname", f->hostname);
    cJSON_AddStringToObject(d, "board", f->board);
    cJSON_AddStringToObject(d, "cpu", f->cpu);
    cJSON_AddStringToObject(d, "arch", f->arch);
    cJSON_AddNumberToObject(d, "n_cpus", f->n_cpus);
    eb_json_number(d, "ram_mib", f->ram_mib);
    if (f->mem_limit_mib > 0) {
        cJSON_AddNumberToObject(d, "mem_limit_mib", f->mem_limit_mib);
        cJSON_AddStringToObject(d, "mem_limit_by", f->cage);
    }
    if (f->threads > 0) cJSON_AddNumberToObject(d, "threads", f->threads);
    cJSON_AddStringToObject(d, "iface", f->iface);
    eb_json_number(o, "clock_offset_ms", n->clock_offset_s * 1e3);
    eb_json_number(o, "clock_uncertainty_ms", n->clock_uncertainty_s * 1e3);
    eb_json_number(o, "share", n->share);
    cJSON_AddNumberToObject(o, "layers", n->placed.layers);
    eb_json_number(o, "model_mib", n->placed.model_mib);
    eb_json_number(o, "kv_mib", n->placed.kv_mib);
    eb_json_number(o, "compute_buffer_mib", n->placed.compute_mib);
    eb_json_number(o, "rtt_ms", n->rtt_s * 1e3);
    if (f->energy_source[0]) {
        cJSON_AddStringToObject(o, "energy_source", f->energy_source);
        if (f->energy_estimate) cJSON_AddBoolToObject(o, "energy_estimate", true);
    } else {
        cJSON_AddStringToObject(o, "energy_not_available", f->energy_reason);
    }
    cJSON *ph = cJSON_AddObjectToObject(o, "phases");
    for (int s = 0; s < EB_SPAN_COUNT; s++)
        cJSON_AddItemToObject(ph, eb_span_name((eb_span)s), span_json(n, s));
    return o;
}

void eb_dist_to_json(const eb_run_result *r, cJSON *root)
{
    cJSON *nodes = cJSON_AddArrayToObject(root, "nodes");
    for (int i = 0; i < r->n_nodes; i++)
        cJSON_AddItemToArray(nodes, node_json(&r->nodes[i]));
    cJSON *d = cJSON_AddObjectToObject(root, "distributed");
    cJSON_AddStringToObject(d, "rpc", r->rpc_list);
    cJSON_AddNumberToObject(d, "n_nodes", r->n_nodes);
    if (r->config.link) cJSON_AddStringToObject(d, "link", r->config.link);
    if (r->config.link_mbit > 0) cJSON_AddNumberToObject(d, "link_mbit", r->config.link_mbit);
    if (r->config.link_delay_ms >= 0)
        cJSON_AddNumberToObject(d, "link_delay_ms", r->config.link_delay_ms);
    if (r->has_split) {
        cJSON *ts = cJSON_AddArrayToObject(d, "tensor_split");
        for (int i = 0; i < r->n_nodes; i++)
            cJSON_AddItemToArray(ts, cJSON_CreateNumber(r->tensor_split[i]));
    } else {
        cJSON_AddStringToObject(d, "tensor_split", "llama.cpp's (by each node's free memory)");
    }
    cJSON_AddStringToObject(d, "per_token_note", wait_note);
    for (int s = EB_SPAN_PREFILL; s <= EB_SPAN_GEN; s++) {
        const eb_dist_span *x = &r->dist[s];
        cJSON *o = cJSON_AddObjectToObject(d, eb_span_name((eb_span)s));
        eb_json_number(o, "wall_s_per_token", x->wall_s);
        eb_json_number(o, "local_compute_s_per_token", x->local_compute_s);
        eb_json_number(o, "nodes_compute_s_per_token", x->nodes_compute_s);
        eb_json_number(o, "network_wait_s_per_token_estimate", x->network_wait_s);
        eb_json_number(o, "bytes_per_token", x->bytes);
        eb_json_number(o, "predicted_transfer_s_per_token", x->predicted_transfer_s);
        eb_json_number(o, "energy_j_all_devices", x->energy_j);
        eb_json_number(o, "j_per_token_all_devices", x->j_per_token);
        if (x->energy_note[0]) cJSON_AddStringToObject(o, "energy_not_available", x->energy_note);
    }
}

static void ms_or_na(char *out, size_t cap, double s)
{
    if (isnan(s))
        snprintf(out, cap, "n/a");
    else
        snprintf(out, cap, "%.3f", s * 1e3);
}

void eb_dist_write_text(FILE *f, const eb_run_result *r)
{
    if (r->n_nodes == 0) return;
    fprintf(f, "\nRPC nodes (%d%s%s)\n", r->n_nodes, r->config.link ? ", link " : "",
            r->config.link ? r->config.link : "");
    fprintf(f, "  %-22s %-14s %6s %9s %9s %9s %10s %10s %9s\n", "node", "host", "layers",
            "model MiB", "peak MiB", "gen J", "sent/tok", "recv/tok", "clock ms");
    for (int i = 0; i < r->n_nodes; i++) {
        const eb_node_result *n = &r->nodes[i];
        double toks = r->config.n_gen > 0 ? r->config.n_gen : 1;
        char e[32];
        if (isnan(n->energy_j[EB_SPAN_GEN]))
            snprintf(e, sizeof e, "n/a");
        else
            snprintf(e, sizeof e, "%.3f", n->energy_j[EB_SPAN_GEN]);
        fprintf(f, "  %-22s %-14.14s %6d %9.1f %9.1f %9s %10.0f %10.0f %+9.3f\n", n->endpoint,
                n->facts.hostname, n->placed.layers, n->placed.model_mib,
                n->peak_rss_mib[EB_SPAN_GEN], e, n->sent_bytes[EB_SPAN_GEN] / toks,
                n->recv_bytes[EB_SPAN_GEN] / toks, n->clock_offset_s * 1e3);
    }
    for (int i = 0; i < r->n_nodes; i++)
        if (!r->nodes[i].facts.energy_source[0]) {
            fprintf(f, "  energy of %s: not available (%.120s)\n", r->nodes[i].endpoint,
                    r->nodes[i].facts.energy_reason);
            break; /* one line says it; JSON has each node's */
        }
    fprintf(f, "  per token [ms]     wall    here  nodes  network wait (estimate)  bytes/token\n");
    for (int s = EB_SPAN_PREFILL; s <= EB_SPAN_GEN; s++) {
        const eb_dist_span *x = &r->dist[s];
        char w[24], l[24], nd[24], nw[24];
        ms_or_na(w, sizeof w, x->wall_s);
        ms_or_na(l, sizeof l, x->local_compute_s);
        ms_or_na(nd, sizeof nd, x->nodes_compute_s);
        ms_or_na(nw, sizeof nw, x->network_wait_s);
        fprintf(f, "  %-12s %9s %7s %6s %13s %21.0f\n", eb_span_name((eb_span)s), w, l, nd, nw,
                x->bytes);
        if (!isnan(x->predicted_transfer_s))
            fprintf(f, "  %-12s transfer at %.0f Mbit/s predicts %.3f ms a token\n", "",
                    r->config.link_mbit, x->predicted_transfer_s * 1e3);
    }
}
