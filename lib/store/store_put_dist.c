/* A distributed run into the store (schema 9): the trial's nodes and link,
 * one row a node and span, and the per-token split a span. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "store_put_impl.h"

static const char *const span_keys[] = {"load", "prefill", "generation", "run"};

static eb_status put_node(eb_store *s, const char *tid, int idx, const cJSON *node, eb_error *err)
{
    const cJSON *dev = sp_jobj(node, "device"), *phases = sp_jobj(node, "phases");
    eb_status st = EB_OK;
    for (size_t k = 0; st == EB_OK && k < sizeof span_keys / sizeof *span_keys; k++) {
        const cJSON *ph = sp_jobj(phases, span_keys[k]);
        params q = {0};
        sp_p_str(&q, tid);
        sp_p_num(&q, idx);
        sp_p_str(&q, span_keys[k]);
        sp_p_json(&q, node, "address");
        static const char *const dev_keys[] = {"hostname", "board", "cpu", "arch", "mem_limit_mib"};
        for (size_t i = 0; i < sizeof dev_keys / sizeof *dev_keys; i++)
            sp_p_json(&q, dev, dev_keys[i]);
        static const char *const node_keys[] = {
            "layers", "model_mib",    "share", "clock_offset_ms", "clock_uncertainty_ms",
            "rtt_ms", "energy_source"};
        for (size_t i = 0; i < sizeof node_keys / sizeof *node_keys; i++)
            sp_p_json(&q, node, node_keys[i]);
        static const char *const ph_keys[] = {"energy_j",  "mean_w",     "peak_rss_mib",
                                              "compute_s", "sent_bytes", "received_bytes"};
        for (size_t i = 0; i < sizeof ph_keys / sizeof *ph_keys; i++)
            sp_p_json(&q, ph, ph_keys[i]);
        st = eb_sq_exec_num(s,
                            "INSERT INTO trial_nodes (trial_id, node, span, address, hostname,"
                            " board, cpu, arch, mem_limit_mib, layers, model_mib, share,"
                            " clock_offset_ms, clock_uncertainty_ms, rtt_ms, energy_source,"
                            " energy_j, mean_w, peak_rss_mib, compute_s, sent_bytes,"
                            " received_bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
                            " $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
                            q.n, q.v, q.num, err);
    }
    return st;
}

eb_status sp_put_distributed(eb_store *s, long long trial_id, const cJSON *rec, eb_error *err)
{
    const cJSON *result = sp_jobj(rec, "result");
    const cJSON *dist = sp_jobj(result, "distributed");
    /* a failed trial: what its plan asked for */
    const cJSON *plan = sp_jobj(rec, "planned") ? sp_jobj(rec, "planned") : sp_jobj(rec, "config");
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", trial_id);
    params q = {0};
    sp_p_str(&q, tid);
    if (dist) {
        sp_p_json(&q, dist, "rpc");
        sp_p_json(&q, dist, "n_nodes");
        sp_p_json(&q, dist, "link");
        sp_p_json(&q, dist, "link_mbit");
        sp_p_json(&q, dist, "link_delay_ms");
    } else if (result) {
        /* measured in one process (rpc_nodes = 0): the baseline of its link's
         * comparisons */
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(plan, "rpc"))) return EB_OK;
        sp_p_str(&q, NULL);
        sp_p_num(&q, 0);
        sp_p_json(&q, plan, "link");
        sp_p_json(&q, plan, "link_mbit");
        sp_p_json(&q, plan, "link_delay_ms");
    } else {
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(plan, "rpc"))) return EB_OK;
        sp_p_json(&q, plan, "rpc");
        sp_p_str(&q, NULL);
        sp_p_json(&q, plan, "link");
        sp_p_json(&q, plan, "link_mbit");
        sp_p_json(&q, plan, "link_delay_ms");
    }
    eb_status st = eb_sq_exec_num(s,
                                  "UPDATE trials SET rpc = $2, n_nodes = $3, link = $4,"
                                  " link_mbit = $5, link_delay_ms = $6 WHERE id = $1",
                                  q.n, q.v, q.num, err);
    if (st != EB_OK || !dist) return st;
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(result, "nodes"), *node;
    int idx = 0;
    cJSON_ArrayForEach(node, nodes)
    {
        if ((st = put_node(s, tid, idx++, node, err)) != EB_OK) return st;
    }
    for (int k = 1; k <= 2; k++) { /* prefill, generation */
        const cJSON *sp = sp_jobj(dist, span_keys[k]);
        params r = {0};
        sp_p_str(&r, tid);
        sp_p_str(&r, span_keys[k]);
        static const char *const keys[] = {
            "wall_s_per_token",          "local_compute_s_per_token",
            "nodes_compute_s_per_token", "network_wait_s_per_token_estimate",
            "bytes_per_token",           "predicted_transfer_s_per_token",
            "energy_j_all_devices",      "j_per_token_all_devices"};
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
            sp_p_json(&r, sp, keys[i]);
        st =
            eb_sq_exec_num(s,
                           "INSERT INTO trial_distributed (trial_id, span, wall_s, local_compute_s,"
                           " nodes_compute_s, network_wait_s_estimate, bytes, predicted_transfer_s,"
                           " energy_j_all_devices, j_per_token_all_devices) VALUES ($1, $2, $3, $4,"
                           " $5, $6, $7, $8, $9, $10)",
                           r.n, r.v, r.num, err);
        if (st != EB_OK) return st;
    }
    return st;
}
