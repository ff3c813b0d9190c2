/* A server-under-load trial's level (result.serving, `run --engine
 * server`) into trial_serving: one row, its columns named as the record's
 * keys. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "store_put_impl.h"

/* trial_serving's columns after trial_id (schema 12), in its order; each
 * read from the record's serving object, the configuration (the load) or
 * the count of requests by how they ended */
static const char *const serving_cols[] = {"loop",
                                           "concurrency",
                                           "request_rate",
                                           "slots",
                                           "requests",
                                           "ok",
                                           "failed",
                                           "timeout",
                                           "stalled",
                                           "dropped",
                                           "http_error",
                                           "server_error",
                                           "malformed",
                                           "refused",
                                           "duration_s",
                                           "ttft_p50_s",
                                           "ttft_p90_s",
                                           "ttft_p99_s",
                                           "ttft_max_s",
                                           "itl_p50_s",
                                           "itl_p90_s",
                                           "itl_p99_s",
                                           "stream_tps_min",
                                           "stream_tps_p10",
                                           "stream_tps_p50",
                                           "throughput_tps",
                                           "requests_per_s",
                                           "slo_ttft_s",
                                           "slo_itl_s",
                                           "good",
                                           "goodput_rps",
                                           "client_gen_tps_mean",
                                           "server_gen_tps_mean",
                                           "client_over_server",
                                           "gen_tokens",
                                           "energy_j",
                                           "energy_u95_j",
                                           "j_per_request",
                                           "j_per_token",
                                           "j_per_token_u95",
                                           "mean_power_w",
                                           "energy_estimate",
                                           "server_rss_peak_mib",
                                           "temp_max_c",
                                           "cpu_freq_mhz",
                                           "server_died",
                                           "first_error"};

eb_status sp_put_serving(eb_store *s, long long trial_id, const cJSON *rec, eb_error *err)
{
    const cJSON *result = sp_jobj(rec, "result");
    const cJSON *sv = sp_jobj(result, "serving");
    if (!sv) return EB_OK;
    const cJSON *cfg = sp_jobj(result, "config");
    const cJSON *by = sp_jobj(sv, "by_status");
    params p = {0};
    sp_p_id(&p, trial_id);
    char sql[2048];
    size_t n = (size_t)snprintf(sql, sizeof sql, "INSERT INTO trial_serving (trial_id");
    size_t ncol = sizeof serving_cols / sizeof serving_cols[0];
    for (size_t i = 0; i < ncol; i++) {
        const char *c = serving_cols[i];
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", %s", c);
        if (!strcmp(c, "concurrency") || !strcmp(c, "request_rate"))
            sp_p_json(&p, cfg, c);
        else if (cJSON_GetObjectItemCaseSensitive(by, c))
            sp_p_json(&p, by, c);
        else
            sp_p_json(&p, sv, c);
    }
    n += (size_t)snprintf(sql + n, sizeof sql - n, ") VALUES ($1");
    for (int i = 2; i <= p.n; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", $%d", i);
    snprintf(sql + n, sizeof sql - n, ")");
    return eb_sq_exec_num(s, sql, p.n, p.v, p.num, err);
}
