/* A trial record into the store: the trial, its runs, its timeline and
 * llama-bench's per-test rows. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgebench/util.h"
#include "store_put_impl.h"

eb_status sp_put_trial(eb_store *s, const cJSON *rec, long long ids[3], long long *trial_id,
                       eb_error *err)
{
    const cJSON *result = sp_jobj(rec, "result");
    const cJSON *cfg = sp_jobj(result, "config");
    const cJSON *plan_cfg = sp_jobj(rec, "config");
    const cJSON *meas = sp_jobj(result, "measurement");
    char now[32];
    eb_utc_iso8601(time(NULL), now, sizeof now);
    params p = {0};
    sp_p_json(&p, rec, "trial_key");
    const char *source = sp_jtext(rec, "source", p.buf[p.n], sizeof p.buf[p.n]);
    sp_p_str(&p, source ? source : "sweep");
    for (int i = 0; i < 3; i++)
        sp_p_id(&p, ids[i]);
    sp_p_json(&p, rec, "plan");
    sp_p_json(&p, rec, "section");
    const char *status = sp_jtext(rec, "status", p.buf[p.n], sizeof p.buf[p.n]);
    sp_p_str(&p, status ? status : (result ? "ok" : "failed"));
    sp_p_json(&p, rec, "reason");
    const char *started = sp_jtext(rec, "started_at", p.buf[p.n], sizeof p.buf[p.n]);
    if (!started) started = sp_jtext(result, "started_at", p.buf[p.n], sizeof p.buf[p.n]);
    sp_p_str(&p, started);
    sp_p_str(&p, now);
    sp_p_json(&p, rec, "duration_s");
    static const char *const cfg_keys[] = {"n_prompt",    "n_gen",   "n_ctx",    "threads_prefill",
                                           "threads_gen", "n_batch", "n_ubatch", "n_gpu_layers"};
    static const char *const plan_keys[] = {"n_prompt", "n_gen", "ctx",    "threads_prefill",
                                            "threads",  "batch", "ubatch", "ngl"};
    for (int i = 0; i < 8; i++) {
        if (cfg)
            sp_p_json(&p, cfg, cfg_keys[i]);
        else
            sp_p_json(&p, plan_cfg, plan_keys[i]);
    }
    const char *gov = sp_jtext(plan_cfg, "governor", p.buf[p.n], sizeof p.buf[p.n]);
    if (!gov) gov = sp_jtext(meas, "governors", p.buf[p.n], sizeof p.buf[p.n]);
    sp_p_str(&p, gov && gov[0] ? gov : NULL);
    sp_p_json(&p, plan_cfg, "power_mode");
    sp_p_json(&p, meas, "energy_source");
    char *cfg_text = cJSON_PrintUnformatted(plan_cfg ? plan_cfg : cfg);
    char *sys_text = sp_jobj(rec, "system") ? cJSON_PrintUnformatted(sp_jobj(rec, "system")) : NULL;
    /* the timeline has its own table */
    cJSON *copy = NULL;
    if (sp_jobj(result, "timeline") && (copy = cJSON_Duplicate(rec, 1)))
        cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(copy, "result"),
                                                "timeline");
    char *rec_text = cJSON_PrintUnformatted(copy ? copy : rec);
    cJSON_Delete(copy);
    sp_p_str(&p, cfg_text);
    sp_p_str(&p, sys_text);
    /* from schema 7 the record has a table of its own */
    bool own_table = s->version >= 7;
    if (!own_table) sp_p_str(&p, rec_text);
    eb_status st = rec_text ? EB_OK : eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    if (st == EB_OK)
        st = eb_sq_id_num(
            s,
            own_table
                ? "INSERT INTO trials (trial_key, source, device_id, build_id, model_id, plan,"
                  " section, status, reason, started_at, stored_at, duration_s, n_prompt,"
                  " n_gen, n_ctx, threads_prefill, threads_gen, n_batch, n_ubatch,"
                  " n_gpu_layers, governor, power_mode, energy_source, config_json,"
                  " system_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
                  " $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,"
                  " $24, $25) RETURNING id"
                : "INSERT INTO trials (trial_key, source, device_id, build_id, model_id, plan,"
                  " section, status, reason, started_at, stored_at, duration_s, n_prompt,"
                  " n_gen, n_ctx, threads_prefill, threads_gen, n_batch, n_ubatch,"
                  " n_gpu_layers, governor, power_mode, energy_source, config_json,"
                  " system_json, record_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
                  " $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,"
                  " $24, $25, $26) RETURNING id",
            p.n, p.v, p.num, trial_id, err);
    if (st == EB_OK && own_table) {
        char tid[24];
        snprintf(tid, sizeof tid, "%lld", *trial_id);
        const char *q[] = {tid, rec_text};
        st = eb_sq_exec(s, "INSERT INTO trial_records (trial_id, record_json) VALUES ($1, $2)", 2,
                        q, err);
    }
    if (st == EB_OK) st = eb_store_set_record_hash(s, "trials", *trial_id, rec_text, err);
    free(cfg_text);
    free(sys_text);
    free(rec_text);
    const cJSON *off = sp_jobj(cfg, "offload");
    if (st == EB_OK && off && s->version >= 5) {
        params q = {0};
        sp_p_id(&q, *trial_id);
        sp_p_json(&q, off, "layers_offloaded");
        sp_p_json(&q, off, "devices");
        st = eb_sq_exec_num(s,
                            "UPDATE trials SET gpu_layers_offloaded = $2,"
                            " offload_devices = NULLIF($3, '') WHERE id = $1",
                            q.n, q.v, q.num, err);
    }
    return st;
}

static const char *const span_keys[] = {"load", "prefill", "generation", "run"};

eb_status sp_put_run(eb_store *s, long long trial_id, const cJSON *rep, eb_error *err)
{
    static const char *const cols[] = {
        "n_prompt",    "n_gen",   "load_s",    "prefill_s", "gen_s",     "e2e_s",       "ttft_s",
        "prefill_tps", "gen_tps", "itl_p50_s", "itl_p90_s", "itl_p99_s", "peak_rss_mib"};
    params p = {0};
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", trial_id);
    sp_p_str(&p, tid);
    sp_p_json(&p, rep, "index");
    sp_p_json(&p, rep, "warmup");
    if (!p.v[2]) p.v[2] = "0";
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        sp_p_json(&p, rep, cols[i]);
    long long run_id = 0;
    eb_status st = eb_sq_id_num(s,
                                "INSERT INTO runs (trial_id, rep, warmup, n_prompt, n_gen, load_s,"
                                " prefill_s, gen_s, e2e_s, ttft_s, prefill_tps, gen_tps, itl_p50_s,"
                                " itl_p90_s, itl_p99_s, peak_rss_mib) VALUES ($1, $2, $3, $4, $5,"
                                " $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
                                p.n, p.v, p.num, &run_id, err);
    char rid[24];
    snprintf(rid, sizeof rid, "%lld", run_id);
    const cJSON *spans = sp_jobj(rep, "spans");
    for (int sp = 0; st == EB_OK && sp < 4; sp++) {
        const cJSON *o = sp_jobj(spans, span_keys[sp]), *m;
        cJSON_ArrayForEach(m, o)
        {
            /* a measure not taken is no row (the views read it as NULL):
             * most rows of a machine without power sensors were such */
            if (!cJSON_IsNumber(m) || !isfinite(m->valuedouble)) continue;
            if (strcmp(m->string, "t_start_s") == 0 || strcmp(m->string, "t_end_s") == 0) continue;
            params q = {0};
            sp_p_str(&q, rid);
            sp_p_str(&q, span_keys[sp]);
            sp_p_str(&q, m->string);
            sp_p_num(&q, cJSON_IsNumber(m) ? m->valuedouble : NAN);
            st = eb_sq_exec_num(s,
                                "INSERT INTO run_measures (run_id, span, measure, value) VALUES"
                                " ($1, $2, $3, $4)",
                                q.n, q.v, q.num, err);
            if (st != EB_OK) break;
        }
    }
    const cJSON *counters = sp_jobj(rep, "counters");
    for (int sp = 0; st == EB_OK && sp < 3; sp++) {
        const cJSON *o = sp_jobj(counters, span_keys[sp]), *c;
        cJSON_ArrayForEach(c, o)
        {
            params q = {0};
            sp_p_str(&q, rid);
            sp_p_str(&q, span_keys[sp]);
            sp_p_str(&q, c->string);
            sp_p_json(&q, c, "status");
            if (!q.v[3]) q.v[3] = "unknown";
            sp_p_json(&q, c, "value");
            st = eb_sq_exec_num(s,
                                "INSERT INTO run_counters (run_id, span, counter, status, value)"
                                " VALUES ($1, $2, $3, $4, $5)",
                                q.n, q.v, q.num, err);
            if (st != EB_OK) break;
        }
    }
    return st;
}

/* Timeline rows go in many to a statement: a long run has tens of
 * thousands of samples, and one statement each would cost a round trip
 * each (PostgreSQL). */
#define TL_BATCH 128
typedef struct tl_batch {
    const char *p[1 + 3 * TL_BATCH];
    unsigned char is_num[1 + 3 * TL_BATCH];
    char num[2 * TL_BATCH][32];
    int rows;
} tl_batch;

static eb_status sp_tl_flush(eb_store *s, tl_batch *b, eb_error *err)
{
    if (b->rows == 0) return EB_OK;
    char sql[64 + TL_BATCH * 24];
    size_t n = (size_t)snprintf(sql, sizeof sql,
                                "INSERT INTO timelines (trial_id, t_s, channel, value) VALUES ");
    for (int r = 0; r < b->rows; r++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s($1, $%d, $%d, $%d)", r ? ", " : "",
                              2 + 3 * r, 3 + 3 * r, 4 + 3 * r);
    eb_status st = eb_sq_exec_num(s, sql, 1 + 3 * b->rows, b->p, b->is_num, err);
    b->rows = 0;
    return st;
}

/* result.timeline = {"columns": ["t_s", ch...], "rows": [[t, v...], ...]} */
eb_status sp_put_timeline(eb_store *s, long long trial_id, const cJSON *tl, eb_error *err)
{
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(tl, "columns");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(tl, "rows"), *row;
    if (!cJSON_IsArray(cols) || !cJSON_IsArray(rows)) return EB_OK;
    int ncol = cJSON_GetArraySize(cols);
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", trial_id);
    tl_batch *b = calloc(1, sizeof *b);
    if (!b) return eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    b->p[0] = tid;
    eb_status st = EB_OK;
    cJSON_ArrayForEach(row, rows)
    {
        const cJSON *t = cJSON_GetArrayItem(row, 0);
        if (!cJSON_IsNumber(t)) continue;
        const cJSON *name = cols->child ? cols->child->next : NULL, *v = t->next;
        for (int c = 1; c < ncol && st == EB_OK && name; c++, name = name->next) {
            if (v && cJSON_IsString(name) && cJSON_IsNumber(v)) {
                int r = b->rows++;
                eb_format_double(b->num[2 * r], sizeof b->num[2 * r], t->valuedouble);
                eb_format_double(b->num[2 * r + 1], sizeof b->num[2 * r + 1], v->valuedouble);
                b->p[1 + 3 * r] = b->num[2 * r];
                b->p[2 + 3 * r] = name->valuestring;
                b->p[3 + 3 * r] = b->num[2 * r + 1];
                b->is_num[1 + 3 * r] = b->is_num[3 + 3 * r] = 1;
                if (b->rows == TL_BATCH) st = sp_tl_flush(s, b, err);
            }
            if (v) v = v->next;
        }
        if (st != EB_OK) break;
    }
    if (st == EB_OK) st = sp_tl_flush(s, b, err);
    free(b);
    return st;
}

/* Tests imported from llama-bench arrive already summarised. */
eb_status sp_put_lb_tests(eb_store *s, long long trial_id, const cJSON *tests, eb_error *err)
{
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", trial_id);
    const cJSON *t;
    eb_status st = EB_OK;
    cJSON_ArrayForEach(t, tests)
    {
        params q = {0};
        sp_p_str(&q, tid);
        static const char *const keys[] = {"test",   "n_prompt",  "n_gen",  "n_depth",  "n_threads",
                                           "avg_ns", "stddev_ns", "avg_ts", "stddev_ts"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            sp_p_json(&q, t, keys[i]);
        char *ns = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(t, "samples_ns"));
        char *ts = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(t, "samples_ts"));
        sp_p_str(&q, ns);
        sp_p_str(&q, ts);
        st = eb_sq_exec_num(s, sp_insert_lb_test, q.n, q.v, q.num, err);
        free(ns);
        free(ts);
        if (st != EB_OK) break;
    }
    return st;
}

/* llama-bench's statistics of one test: samples, mean and sample stddev. */
