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
#include "store_settings.h"

eb_status sp_put_trial(eb_store *s, const cJSON *rec, long long ids[3], long long *trial_id,
                       eb_error *err)
{
    const cJSON *result = sp_jobj(rec, "result");
    const cJSON *cfg = sp_jobj(result, "config");
    const cJSON *plan_cfg = sp_jobj(rec, "config");
    /* a failed trial's configuration as it was to run (plan + defaults) */
    const cJSON *planned = sp_jobj(rec, "planned");
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
    sp_p_json(&p, cfg ? cfg : planned ? planned : plan_cfg, "n_prompt");
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
    /* the stored settings (eb_params' EB_PF_STORED rows) the store has columns for */
    char mask[1024 / 4 + 4], settings[2048]; /* 1024 CPUs */
    eb_store_put_settings(s, &p,
                          cfg       ? cfg
                          : planned ? planned
                                    : plan_cfg,
                          cfg == NULL, settings, sizeof settings, mask, sizeof mask);
    /* and what llama.cpp made of them (schema 8) */
    if (s->version >= 8) {
        sp_p_json(&p, cfg, "flash_attn_used");
        sp_p_json(&p, sp_jobj(cfg, "kv_cache"), "size_mib");
    }
    char sql[4096];
    size_t n = (size_t)snprintf(
        sql, sizeof sql, "%s%s%s%s) VALUES ($1",
        "INSERT INTO trials (trial_key, source, device_id, build_id, model_id, plan, section,"
        " status, reason, started_at, stored_at, duration_s, n_prompt, governor, power_mode,"
        " energy_source, config_json, system_json",
        own_table ? "" : ", record_json", settings,
        s->version >= 8 ? ", flash_attn_used, kv_cache_mib" : "");
    for (int i = 2; i <= p.n; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", $%d", i);
    snprintf(sql + n, sizeof sql - n, ") RETURNING id");
    eb_status st = rec_text ? EB_OK : eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    if (st == EB_OK) st = eb_sq_id_num(s, sql, p.n, p.v, p.num, trial_id, err);
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
    if (st == EB_OK && off && s->version >= 13) {
        params q = {0};
        sp_p_id(&q, *trial_id);
        sp_p_json(&q, off, "drivers");
        st = eb_sq_exec_num(s, "UPDATE trials SET device_drivers = NULLIF($2, '') WHERE id = $1",
                            q.n, q.v, q.num, err);
    }
    return st;
}

static const char *const span_keys[] = {"load", "prefill", "generation", "run"};

/* Rows of one table go in many to a statement: one statement each would
 * cost a round trip each on PostgreSQL (a run has a hundred measures and
 * counters, a long timeline tens of thousands of samples). Every row shares
 * the first parameter (the trial's or run's id). */
#define RB_ROWS 128
#define RB_WIDTH 4
typedef struct row_batch {
    const char *head; /* "INSERT INTO t (id, a, b, c) VALUES " */
    int width;        /* parameters a row after the shared $1 */
    int rows, n;      /* complete rows; parameters so far, $1 included */
    const char *p[1 + RB_WIDTH * RB_ROWS];
    unsigned char is_num[1 + RB_WIDTH * RB_ROWS];
    char num[RB_WIDTH * RB_ROWS][32];
    char text[RB_WIDTH * RB_ROWS][96]; /* texts made for the row, not the record's */
} row_batch;

static row_batch *rb_new(const char *head, int width, const char *shared_id)
{
    row_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->head = head;
    b->width = width;
    b->p[0] = shared_id;
    b->n = 1;
    return b;
}

static void rb_text(row_batch *b, const char *text)
{
    b->p[b->n++] = text;
}

static void rb_text_copy(row_batch *b, const char *text)
{
    char *buf = b->text[b->n - 1];
    snprintf(buf, sizeof b->text[0], "%s", text);
    b->p[b->n++] = buf;
}

static void rb_number(row_batch *b, double d)
{
    if (!isfinite(d)) {
        b->p[b->n++] = NULL;
        return;
    }
    char *buf = b->num[b->n - 1];
    eb_format_double(buf, sizeof b->num[0], d);
    b->is_num[b->n] = 1;
    b->p[b->n++] = buf;
}

static eb_status rb_flush(eb_store *s, row_batch *b, eb_error *err)
{
    if (b->rows == 0) return EB_OK;
    char sql[256 + RB_ROWS * (8 + RB_WIDTH * 8)];
    size_t n = (size_t)snprintf(sql, sizeof sql, "%s", b->head);
    for (int r = 0; r < b->rows; r++) {
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s($1", r ? ", " : "");
        for (int c = 0; c < b->width; c++)
            n += (size_t)snprintf(sql + n, sizeof sql - n, ", $%d", 2 + r * b->width + c);
        n += (size_t)snprintf(sql + n, sizeof sql - n, ")");
    }
    eb_status st = eb_sq_exec_num(s, sql, b->n, b->p, b->is_num, err);
    b->rows = 0;
    b->n = 1;
    memset(b->is_num + 1, 0, sizeof b->is_num - 1);
    return st;
}

static eb_status rb_end_row(eb_store *s, row_batch *b, eb_error *err)
{
    return ++b->rows == RB_ROWS ? rb_flush(s, b, err) : EB_OK;
}

static eb_status put_measures(eb_store *s, const char *rid, const cJSON *rep, eb_error *err)
{
    row_batch *b =
        rb_new("INSERT INTO run_measures (run_id, span, measure, value) VALUES ", 3, rid);
    if (!b) return eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    const cJSON *spans = sp_jobj(rep, "spans");
    eb_status st = EB_OK;
    for (int sp = 0; st == EB_OK && sp < 4; sp++) {
        const cJSON *o = sp_jobj(spans, span_keys[sp]), *m;
        cJSON_ArrayForEach(m, o)
        {
            /* a measure not taken is no row (the views read it as NULL):
             * most rows of a machine without power sensors were such */
            if (!cJSON_IsNumber(m) || !isfinite(m->valuedouble)) continue;
            if (strcmp(m->string, "t_start_s") == 0 || strcmp(m->string, "t_end_s") == 0) continue;
            rb_text(b, span_keys[sp]);
            rb_text(b, m->string);
            rb_number(b, m->valuedouble);
            if ((st = rb_end_row(s, b, err)) != EB_OK) break;
        }
        /* every power channel's energy in the span: the rails beside the total */
        const cJSON *ch;
        cJSON_ArrayForEach(ch, sp_jobj(o, "channels"))
        {
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(ch, "energy_j");
            if (st != EB_OK || !cJSON_IsNumber(e) || !isfinite(e->valuedouble) || !ch->string)
                continue;
            char name[160];
            snprintf(name, sizeof name, "rail:%s:energy_j", ch->string);
            rb_text(b, span_keys[sp]);
            rb_text_copy(b, name);
            rb_number(b, e->valuedouble);
            st = rb_end_row(s, b, err);
        }
    }
    if (st == EB_OK) st = rb_flush(s, b, err);
    free(b);
    return st;
}

static eb_status put_counters(eb_store *s, const char *rid, const cJSON *rep, eb_error *err)
{
    row_batch *b =
        rb_new("INSERT INTO run_counters (run_id, span, counter, status, value) VALUES ", 4, rid);
    if (!b) return eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    const cJSON *counters = sp_jobj(rep, "counters");
    eb_status st = EB_OK;
    for (int sp = 0; st == EB_OK && sp < 3; sp++) {
        const cJSON *o = sp_jobj(counters, span_keys[sp]), *c;
        cJSON_ArrayForEach(c, o)
        {
            const cJSON *status = cJSON_GetObjectItemCaseSensitive(c, "status");
            const cJSON *value = cJSON_GetObjectItemCaseSensitive(c, "value");
            rb_text(b, span_keys[sp]);
            rb_text(b, c->string);
            rb_text(b, cJSON_IsString(status) ? status->valuestring : "unknown");
            rb_number(b, cJSON_IsNumber(value) ? value->valuedouble : NAN);
            if ((st = rb_end_row(s, b, err)) != EB_OK) break;
        }
    }
    if (st == EB_OK) st = rb_flush(s, b, err);
    free(b);
    return st;
}

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
    if (st == EB_OK) st = put_measures(s, rid, rep, err);
    if (st == EB_OK) st = put_counters(s, rid, rep, err);
    return st;
}

/* result.sustained.windows: a row each */
eb_status sp_put_windows(eb_store *s, long long trial_id, const cJSON *sustained, eb_error *err)
{
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(sustained, "windows"), *w;
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", trial_id);
    eb_status st = EB_OK;
    cJSON_ArrayForEach(w, ws)
    {
        static const char *const keys[] = {"t_start_s",    "t_end_s",          "runs",
                                           "gen_tps",      "prefill_tps",      "temp_max_c",
                                           "cpu_freq_mhz", "gen_mean_power_w", "throttled"};
        params q = {0};
        sp_p_str(&q, tid);
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            sp_p_json(&q, w, keys[i]);
        st = eb_sq_exec_num(s,
                            "INSERT INTO sustained_windows (trial_id, t_start_s, t_end_s, runs,"
                            " gen_tps, prefill_tps, temp_max_c, cpu_freq_mhz, gen_mean_power_w,"
                            " throttled) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                            q.n, q.v, q.num, err);
        if (st != EB_OK) break;
    }
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
    row_batch *b = rb_new("INSERT INTO timelines (trial_id, t_s, channel, value) VALUES ", 3, tid);
    if (!b) return eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    eb_status st = EB_OK;
    cJSON_ArrayForEach(row, rows)
    {
        const cJSON *t = cJSON_GetArrayItem(row, 0);
        if (!cJSON_IsNumber(t)) continue;
        const cJSON *name = cols->child ? cols->child->next : NULL, *v = t->next;
        for (int c = 1; c < ncol && st == EB_OK && name; c++, name = name->next) {
            if (v && cJSON_IsString(name) && cJSON_IsNumber(v)) {
                rb_number(b, t->valuedouble);
                rb_text(b, name->valuestring);
                rb_number(b, v->valuedouble);
                st = rb_end_row(s, b, err);
            }
            if (v) v = v->next;
        }
        if (st != EB_OK) break;
    }
    if (st == EB_OK) st = rb_flush(s, b, err);
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
