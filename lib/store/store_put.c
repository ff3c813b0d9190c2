/* One trial record in, spread over the tables: device, build and model are
 * shared rows found by fingerprint; the trial, its runs, per-phase measures,
 * counters and timeline are new rows. One transaction per trial. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgebench/util.h"
#include "store_impl.h"

/* Text of a JSON value for a parameter: strings as they are, numbers as
 * their shortest exact text, booleans 1/0; NULL for null, absent or NaN. */
static const char *jtext(const cJSON *o, const char *key, char *buf, size_t cap)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v) ? "1" : "0";
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return NULL;
    eb_format_double(buf, cap, v->valuedouble);
    return buf;
}

static const cJSON *jobj(const cJSON *o, const char *key)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    return cJSON_IsObject(v) ? v : NULL;
}

static const char insert_lb_test[] =
    "INSERT INTO lb_tests (trial_id, test, n_prompt, n_gen, n_depth, n_threads, avg_ns,"
    " stddev_ns, avg_ts, stddev_ts, samples_ns, samples_ts) VALUES ($1, $2, $3, $4, $5, $6, $7,"
    " $8, $9, $10, $11, $12)";

#define MAXP 48
typedef struct params {
    int n;
    const char *v[MAXP];
    unsigned char num[MAXP]; /* the value is a number (see the backend) */
    char buf[MAXP][40];
} params;

static void p_json(params *p, const cJSON *o, const char *key)
{
    p->v[p->n] = jtext(o, key, p->buf[p->n], sizeof p->buf[p->n]);
    p->num[p->n] = cJSON_IsNumber(o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL);
    p->n++;
}

static void p_str(params *p, const char *s)
{
    p->v[p->n++] = s;
}

/* A row id, or NULL for 0 (none) */
static void p_id(params *p, long long id)
{
    if (id) snprintf(p->buf[p->n], sizeof p->buf[p->n], "%lld", id);
    p->v[p->n] = id ? p->buf[p->n] : NULL;
    p->n++;
}

static void p_num(params *p, double d)
{
    if (!isfinite(d)) {
        p->v[p->n++] = NULL;
        return;
    }
    eb_format_double(p->buf[p->n], sizeof p->buf[p->n], d);
    p->v[p->n] = p->buf[p->n];
    p->num[p->n] = 1;
    p->n++;
}

/* A fingerprint over some fields of an object: the same device, build or
 * model found again by what it is. */
static void fingerprint(const cJSON *o, const char *const *keys, char out[17])
{
    uint64_t h = EB_FNV1A_OFFSET;
    char buf[40];
    for (; *keys; keys++) {
        const char *t = jtext(o, *keys, buf, sizeof buf);
        h = eb_fnv1a(h, *keys);
        h = eb_fnv1a(h, "=");
        h = eb_fnv1a(h, t ? t : "(none)");
        h = eb_fnv1a(h, "\n");
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* Inserts unless the fingerprint is known; either way gives the id. */
static eb_status upsert(eb_store *s, const char *table, const cJSON *o, const char *const *columns,
                        const char *const *fp_keys, long long *id, eb_error *err)
{
    char fp[17];
    fingerprint(o, fp_keys, fp);
    params p = {0};
    p_str(&p, fp);
    char sql[2048];
    size_t n = (size_t)snprintf(sql, sizeof sql, "INSERT INTO %s (fingerprint", table);
    for (const char *const *c = columns; *c; c++) {
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", %s", *c);
        p_json(&p, o, *c);
    }
    n += (size_t)snprintf(sql + n, sizeof sql - n, ") VALUES ($1");
    for (int i = 2; i <= p.n; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", $%d", i);
    snprintf(sql + n, sizeof sql - n, ") ON CONFLICT (fingerprint) DO NOTHING");
    eb_status st = eb_sq_exec_num(s, sql, p.n, p.v, p.num, err);
    if (st != EB_OK) return st;
    snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE fingerprint = $1", table);
    return eb_sq_id(s, sql, 1, p.v, id, err);
}

static const char *const device_cols[] = {
    "hostname", "board_model", "cpu_model",         "n_cpus",      "cpu_topology", "ram_total_kib",
    "kernel",   "os",          "governors_offered", "power_modes", "gpu",          "arch",
    NULL};
static const char *const build_cols[] = {"edgebench_version", "engine",  "engine_version",
                                         "engine_commit",     "backend", "build_options",
                                         "system_info",       NULL};
static const char *const model_cols[] = {"path",      "sha256",          "name",
                                         "arch",      "description",     "quant",
                                         "n_params",  "file_size_bytes", "weights_size_bytes",
                                         "n_layer",   "n_embd",          "n_ctx_train",
                                         "synthetic", "preset",          NULL};
/* A model is what its file holds: its hash when known, else its shape. */
static const char *const model_fp_hashed[] = {"sha256", NULL};
static const char *const model_fp_plain[] = {"path",      "quant", "n_params", "file_size_bytes",
                                             "synthetic", NULL};

static eb_status put_device(eb_store *s, const cJSON *rec, long long *id, eb_error *err)
{
    const cJSON *result = jobj(rec, "result");
    const cJSON *d = jobj(rec, "device");
    if (!d) d = jobj(result, "device");
    *id = 0;
    if (!d) return EB_OK;
    cJSON *c = cJSON_Duplicate(d, 1);
    if (!c) return eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    if (!cJSON_GetObjectItemCaseSensitive(c, "n_cpus")) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "n_cpus_configured");
        if (cJSON_IsNumber(n)) cJSON_AddNumberToObject(c, "n_cpus", n->valuedouble);
    }
    /* The device is what it is, not what it has free. */
    static const char *const fp[] = {"hostname",    "board_model",  "cpu_model",
                                     "n_cpus",      "cpu_topology", "ram_total_kib",
                                     "kernel",      "os",           "governors_offered",
                                     "power_modes", "gpu",          "arch",
                                     NULL};
    eb_status st = upsert(s, "devices", c, device_cols, fp, id, err);
    cJSON_Delete(c);
    return st;
}

static eb_status put_build(eb_store *s, const cJSON *rec, long long *id, eb_error *err)
{
    const cJSON *result = jobj(rec, "result");
    const cJSON *b = jobj(rec, "build");
    *id = 0;
    cJSON *c = NULL;
    if (b) {
        c = cJSON_Duplicate(b, 1);
    } else if (result && jobj(result, "engine")) {
        const cJSON *e = jobj(result, "engine");
        c = cJSON_Duplicate(e, 1);
        if (c) {
            cJSON_DeleteItemFromObjectCaseSensitive(c, "name");
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
            cJSON_AddStringToObject(c, "engine", cJSON_IsString(n) ? n->valuestring : "");
            cJSON_DeleteItemFromObjectCaseSensitive(c, "version");
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "version");
            const char *vs = cJSON_IsString(v) ? v->valuestring : "";
            cJSON_AddStringToObject(c, "engine_version", vs);
            /* "v0.5.0 (de3ff815)": the commit, as llama-bench's build_commit */
            char commit[64] = "";
            const char *open = strchr(vs, '(');
            if (open) sscanf(open + 1, "%63[0-9a-f]", commit);
            cJSON_AddStringToObject(c, "engine_commit", commit);
            const cJSON *ev = cJSON_GetObjectItemCaseSensitive(result, "edgebench_version");
            cJSON_AddStringToObject(c, "edgebench_version",
                                    cJSON_IsString(ev) ? ev->valuestring : "");
        }
    } else {
        return EB_OK;
    }
    if (!c) return eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    static const char *const fp[] = {"edgebench_version", "engine",        "engine_version",
                                     "backend",           "build_options", NULL};
    eb_status st = upsert(s, "builds", c, build_cols, fp, id, err);
    cJSON_Delete(c);
    return st;
}

static eb_status put_model(eb_store *s, const cJSON *rec, long long *id, eb_error *err)
{
    const cJSON *m = jobj(rec, "model");
    if (!m) m = jobj(jobj(rec, "result"), "model");
    *id = 0;
    if (!m) return EB_OK;
    cJSON *c = cJSON_Duplicate(m, 1);
    if (!c) return eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    const cJSON *hash = cJSON_GetObjectItemCaseSensitive(rec, "model_sha256");
    if (cJSON_IsString(hash) && !cJSON_GetObjectItemCaseSensitive(c, "sha256"))
        cJSON_AddStringToObject(c, "sha256", hash->valuestring);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(c, "sha256");
    bool hashed = cJSON_IsString(h) && h->valuestring[0];
    eb_status st =
        upsert(s, "models", c, model_cols, hashed ? model_fp_hashed : model_fp_plain, id, err);
    /* The roofline's shape, also for a model stored before it was recorded. */
    if (st == EB_OK && s->version >= 4 && cJSON_GetObjectItemCaseSensitive(c, "streamed_bytes")) {
        params p = {0};
        p_id(&p, *id);
        p_json(&p, c, "matmul_params");
        p_json(&p, c, "output_params");
        p_json(&p, c, "streamed_bytes");
        p_json(&p, c, "kv_bytes_per_pos");
        p_json(&p, c, "main_type");
        st = eb_sq_exec_num(s,
                            "UPDATE models SET matmul_params = COALESCE(matmul_params, $2),"
                            " output_params = COALESCE(output_params, $3),"
                            " streamed_bytes = COALESCE(streamed_bytes, $4),"
                            " kv_bytes_per_pos = COALESCE(kv_bytes_per_pos, $5),"
                            " main_type = COALESCE(main_type, $6) WHERE id = $1",
                            p.n, p.v, p.num, err);
    }
    cJSON_Delete(c);
    return st;
}

static eb_status put_trial(eb_store *s, const cJSON *rec, long long ids[3], long long *trial_id,
                           eb_error *err)
{
    const cJSON *result = jobj(rec, "result");
    const cJSON *cfg = jobj(result, "config");
    const cJSON *plan_cfg = jobj(rec, "config");
    const cJSON *meas = jobj(result, "measurement");
    char now[32];
    eb_utc_iso8601(time(NULL), now, sizeof now);
    params p = {0};
    p_json(&p, rec, "trial_key");
    const char *source = jtext(rec, "source", p.buf[p.n], sizeof p.buf[p.n]);
    p_str(&p, source ? source : "sweep");
    for (int i = 0; i < 3; i++)
        p_id(&p, ids[i]);
    p_json(&p, rec, "plan");
    p_json(&p, rec, "section");
    const char *status = jtext(rec, "status", p.buf[p.n], sizeof p.buf[p.n]);
    p_str(&p, status ? status : (result ? "ok" : "failed"));
    p_json(&p, rec, "reason");
    const char *started = jtext(rec, "started_at", p.buf[p.n], sizeof p.buf[p.n]);
    if (!started) started = jtext(result, "started_at", p.buf[p.n], sizeof p.buf[p.n]);
    p_str(&p, started);
    p_str(&p, now);
    p_json(&p, rec, "duration_s");
    static const char *const cfg_keys[] = {"n_prompt",    "n_gen",   "n_ctx",    "threads_prefill",
                                           "threads_gen", "n_batch", "n_ubatch", "n_gpu_layers"};
    static const char *const plan_keys[] = {"n_prompt", "n_gen", "ctx",    "threads_prefill",
                                            "threads",  "batch", "ubatch", "ngl"};
    for (int i = 0; i < 8; i++) {
        if (cfg)
            p_json(&p, cfg, cfg_keys[i]);
        else
            p_json(&p, plan_cfg, plan_keys[i]);
    }
    const char *gov = jtext(plan_cfg, "governor", p.buf[p.n], sizeof p.buf[p.n]);
    if (!gov) gov = jtext(meas, "governors", p.buf[p.n], sizeof p.buf[p.n]);
    p_str(&p, gov && gov[0] ? gov : NULL);
    p_json(&p, plan_cfg, "power_mode");
    p_json(&p, meas, "energy_source");
    char *cfg_text = cJSON_PrintUnformatted(plan_cfg ? plan_cfg : cfg);
    char *sys_text = jobj(rec, "system") ? cJSON_PrintUnformatted(jobj(rec, "system")) : NULL;
    /* the timeline has its own table */
    cJSON *copy = NULL;
    if (jobj(result, "timeline") && (copy = cJSON_Duplicate(rec, 1)))
        cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(copy, "result"),
                                                "timeline");
    char *rec_text = cJSON_PrintUnformatted(copy ? copy : rec);
    cJSON_Delete(copy);
    p_str(&p, cfg_text);
    p_str(&p, sys_text);
    p_str(&p, rec_text);
    eb_status st = rec_text ? EB_OK : eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    if (st == EB_OK)
        st = eb_sq_id_num(
            s,
            "INSERT INTO trials (trial_key, source, device_id, build_id, model_id, plan,"
            " section, status, reason, started_at, stored_at, duration_s, n_prompt,"
            " n_gen, n_ctx, threads_prefill, threads_gen, n_batch, n_ubatch,"
            " n_gpu_layers, governor, power_mode, energy_source, config_json,"
            " system_json, record_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
            " $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,"
            " $24, $25, $26) RETURNING id",
            p.n, p.v, p.num, trial_id, err);
    free(cfg_text);
    free(sys_text);
    free(rec_text);
    const cJSON *off = jobj(cfg, "offload");
    if (st == EB_OK && off && s->version >= 5) {
        params q = {0};
        p_id(&q, *trial_id);
        p_json(&q, off, "layers_offloaded");
        p_json(&q, off, "devices");
        st = eb_sq_exec_num(s,
                            "UPDATE trials SET gpu_layers_offloaded = $2,"
                            " offload_devices = NULLIF($3, '') WHERE id = $1",
                            q.n, q.v, q.num, err);
    }
    return st;
}

static const char *const span_keys[] = {"load", "prefill", "generation", "run"};

static eb_status put_run(eb_store *s, long long trial_id, const cJSON *rep, eb_error *err)
{
    static const char *const cols[] = {
        "n_prompt",    "n_gen",   "load_s",    "prefill_s", "gen_s",     "e2e_s",       "ttft_s",
        "prefill_tps", "gen_tps", "itl_p50_s", "itl_p90_s", "itl_p99_s", "peak_rss_mib"};
    params p = {0};
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", trial_id);
    p_str(&p, tid);
    p_json(&p, rep, "index");
    p_json(&p, rep, "warmup");
    if (!p.v[2]) p.v[2] = "0";
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        p_json(&p, rep, cols[i]);
    long long run_id = 0;
    eb_status st = eb_sq_id_num(s,
                                "INSERT INTO runs (trial_id, rep, warmup, n_prompt, n_gen, load_s,"
                                " prefill_s, gen_s, e2e_s, ttft_s, prefill_tps, gen_tps, itl_p50_s,"
                                " itl_p90_s, itl_p99_s, peak_rss_mib) VALUES ($1, $2, $3, $4, $5,"
                                " $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
                                p.n, p.v, p.num, &run_id, err);
    char rid[24];
    snprintf(rid, sizeof rid, "%lld", run_id);
    const cJSON *spans = jobj(rep, "spans");
    for (int sp = 0; st == EB_OK && sp < 4; sp++) {
        const cJSON *o = jobj(spans, span_keys[sp]), *m;
        cJSON_ArrayForEach(m, o)
        {
            if (!cJSON_IsNumber(m) && !cJSON_IsNull(m)) continue;
            if (strcmp(m->string, "t_start_s") == 0 || strcmp(m->string, "t_end_s") == 0) continue;
            params q = {0};
            p_str(&q, rid);
            p_str(&q, span_keys[sp]);
            p_str(&q, m->string);
            p_num(&q, cJSON_IsNumber(m) ? m->valuedouble : NAN);
            st = eb_sq_exec_num(s,
                                "INSERT INTO run_measures (run_id, span, measure, value) VALUES"
                                " ($1, $2, $3, $4)",
                                q.n, q.v, q.num, err);
            if (st != EB_OK) break;
        }
    }
    const cJSON *counters = jobj(rep, "counters");
    for (int sp = 0; st == EB_OK && sp < 3; sp++) {
        const cJSON *o = jobj(counters, span_keys[sp]), *c;
        cJSON_ArrayForEach(c, o)
        {
            params q = {0};
            p_str(&q, rid);
            p_str(&q, span_keys[sp]);
            p_str(&q, c->string);
            p_json(&q, c, "status");
            if (!q.v[3]) q.v[3] = "unknown";
            p_json(&q, c, "value");
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

static eb_status tl_flush(eb_store *s, tl_batch *b, eb_error *err)
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
static eb_status put_timeline(eb_store *s, long long trial_id, const cJSON *tl, eb_error *err)
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
                if (b->rows == TL_BATCH) st = tl_flush(s, b, err);
            }
            if (v) v = v->next;
        }
        if (st != EB_OK) break;
    }
    if (st == EB_OK) st = tl_flush(s, b, err);
    free(b);
    return st;
}

/* Tests imported from llama-bench arrive already summarised. */
static eb_status put_lb_tests(eb_store *s, long long trial_id, const cJSON *tests, eb_error *err)
{
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", trial_id);
    const cJSON *t;
    eb_status st = EB_OK;
    cJSON_ArrayForEach(t, tests)
    {
        params q = {0};
        p_str(&q, tid);
        static const char *const keys[] = {"test",   "n_prompt",  "n_gen",  "n_depth",  "n_threads",
                                           "avg_ns", "stddev_ns", "avg_ts", "stddev_ts"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            p_json(&q, t, keys[i]);
        char *ns = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(t, "samples_ns"));
        char *ts = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(t, "samples_ts"));
        p_str(&q, ns);
        p_str(&q, ts);
        st = eb_sq_exec_num(s, insert_lb_test, q.n, q.v, q.num, err);
        free(ns);
        free(ts);
        if (st != EB_OK) break;
    }
    return st;
}

/* llama-bench's statistics of one test: samples, mean and sample stddev. */
static eb_status put_summary(eb_store *s, const char *tid, const char *test, const eb_table *t,
                             int col_s, int col_n, int col_threads, const char *n_prompt,
                             const char *n_gen, const char *n_depth, eb_error *err)
{
    size_t n = 0;
    double sum_ns = 0, sum_ts = 0, sq_ns = 0, sq_ts = 0;
    cJSON *ns = cJSON_CreateArray(), *ts = cJSON_CreateArray();
    for (size_t i = 0; i < t->nrow; i++) {
        const char *sec = t->cell[i * t->ncol + col_s], *tok = t->cell[i * t->ncol + col_n];
        if (!sec || !tok || atof(sec) <= 0) continue;
        double x = atof(sec) * 1e9, y = atof(tok) / atof(sec);
        cJSON_AddItemToArray(ns, cJSON_CreateNumber(llround(x)));
        cJSON_AddItemToArray(ts, cJSON_CreateNumber(y));
        sum_ns += x;
        sum_ts += y;
        sq_ns += x * x;
        sq_ts += y * y;
        n++;
    }
    eb_status st = EB_OK;
    if (n > 0) {
        double m_ns = sum_ns / (double)n, m_ts = sum_ts / (double)n;
        double v_ns = n > 1 ? (sq_ns - (double)n * m_ns * m_ns) / (double)(n - 1) : 0;
        double v_ts = n > 1 ? (sq_ts - (double)n * m_ts * m_ts) / (double)(n - 1) : 0;
        char *sns = cJSON_PrintUnformatted(ns), *sts = cJSON_PrintUnformatted(ts);
        params q = {0};
        p_str(&q, tid);
        p_str(&q, test);
        p_str(&q, n_prompt);
        p_str(&q, n_gen);
        p_str(&q, n_depth);
        p_str(&q, t->cell[col_threads]);
        snprintf(q.buf[q.n], sizeof q.buf[q.n], "%lld", llround(m_ns));
        p_str(&q, q.buf[q.n]);
        snprintf(q.buf[q.n], sizeof q.buf[q.n], "%lld", llround(sqrt(v_ns > 0 ? v_ns : 0)));
        p_str(&q, q.buf[q.n]);
        p_num(&q, m_ts);
        p_num(&q, sqrt(v_ts > 0 ? v_ts : 0));
        p_str(&q, sns);
        p_str(&q, sts);
        st = eb_sq_exec_num(s, insert_lb_test, q.n, q.v, q.num, err);
        free(sns);
        free(sts);
    }
    cJSON_Delete(ns);
    cJSON_Delete(ts);
    return st;
}

eb_status eb_store_summarize_trial(eb_store *s, long long trial_id, eb_error *err)
{
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", trial_id);
    const char *p[] = {tid};
    eb_status st = eb_sq_exec(s, "DELETE FROM lb_tests WHERE trial_id = $1", 1, p, err);
    eb_table t;
    if (st == EB_OK)
        st = s->be->query(s,
                          "SELECT r.prefill_s, r.n_prompt, r.gen_s, r.n_gen, t.threads_prefill,"
                          " t.threads_gen FROM runs r JOIN trials t ON t.id = r.trial_id WHERE"
                          " r.trial_id = $1 AND r.warmup = 0 AND t.status = 'ok' ORDER BY r.rep",
                          1, p, NULL, &t, err);
    if (st != EB_OK) return st;
    if (t.nrow > 0) {
        const char *np = t.cell[1], *ng = t.cell[3];
        st = put_summary(s, tid, "pp", &t, 0, 1, 4, np, "0", "0", err);
        /* generation follows the prompt: its depth is the prompt's length */
        if (st == EB_OK) st = put_summary(s, tid, "tg", &t, 2, 3, 5, "0", ng, np, err);
    }
    eb_table_free(&t);
    return st;
}

/* Columns of the quality table filled from the record's "quality" object,
 * in order after the ids and times. */
static const char *const quality_cols[] = {"corpus",
                                           "corpus_sha256",
                                           "corpus_tokens",
                                           "n_ctx",
                                           "n_batch",
                                           "chunks",
                                           "scored_tokens",
                                           "threads",
                                           "ppl",
                                           "ppl_se",
                                           "load_s",
                                           "eval_s",
                                           "eval_tps",
                                           "load_energy_j",
                                           "eval_energy_j",
                                           "eval_j_per_token",
                                           "eval_mean_w",
                                           "peak_rss_mib",
                                           NULL};
/* The "versus_base" object: JSON key and column. */
static const char *const quality_base_cols[][2] = {
    {"model", "base_model"},
    {"quant", "base_quant"},
    {"sha256", "base_sha256"},
    {"base_ppl", "base_ppl"},
    {"ln_ppl_ratio", "ln_ppl_ratio"},
    {"ln_ppl_ratio_se", "ln_ppl_ratio_se"},
    {"kl_mean", "kl_mean"},
    {"kl_se", "kl_se"},
    {"kl_max", "kl_max"},
    {"top1_agreement", "top1_agreement"},
    {"top1_agreement_se", "top1_agreement_se"},
};

/* A perplexity record: one row of the quality table. */
static eb_status put_quality(eb_store *s, const cJSON *rec, const long long ids[3], long long *id,
                             eb_error *err)
{
    if (s->version < 3)
        return eb_fail(err, EB_E_UNSUPPORTED, "store %s: schema %d has no quality table", s->name,
                       s->version);
    const cJSON *result = jobj(rec, "result"), *q = jobj(result, "quality");
    if (!q) return eb_fail(err, EB_E_INVALID_ARG, "a perplexity record without \"quality\"");
    const cJSON *b = jobj(q, "versus_base");
    char now[32], sql[2048];
    eb_utc_iso8601(time(NULL), now, sizeof now);
    params p = {0};
    for (int i = 0; i < 3; i++)
        p_id(&p, ids[i]);
    p_json(&p, rec, "source");
    const char *started = jtext(rec, "started_at", p.buf[p.n], sizeof p.buf[p.n]);
    if (!started) started = jtext(result, "started_at", p.buf[p.n], sizeof p.buf[p.n]);
    p_str(&p, started);
    p_str(&p, now);
    size_t n = (size_t)snprintf(sql, sizeof sql,
                                "INSERT INTO quality (device_id, build_id, model_id, source,"
                                " started_at, stored_at");
    for (const char *const *c = quality_cols; *c; c++) {
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", %s", *c);
        p_json(&p, q, *c);
    }
    for (size_t i = 0; i < sizeof quality_base_cols / sizeof quality_base_cols[0]; i++) {
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", %s", quality_base_cols[i][1]);
        p_json(&p, b, quality_base_cols[i][0]);
    }
    p_json(&p, jobj(result, "measurement"), "energy_source");
    char *rec_text = cJSON_PrintUnformatted(rec);
    p_str(&p, rec_text);
    n += (size_t)snprintf(sql + n, sizeof sql - n, ", energy_source, record_json) VALUES ($1");
    for (int i = 2; i <= p.n; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", $%d", i);
    snprintf(sql + n, sizeof sql - n, ") RETURNING id");
    eb_status st = rec_text ? eb_sq_id_num(s, sql, p.n, p.v, p.num, id, err)
                            : eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    free(rec_text);
    return st;
}

static bool is_kind(const cJSON *rec, const char *kind)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(rec, "kind");
    return cJSON_IsString(k) && strcmp(k->valuestring, kind) == 0;
}

static eb_status put_probe_row(eb_store *s, const char *probe_id, const char *measure,
                               const char *type, const cJSON *threads, const cJSON *best,
                               const cJSON *median, const char *unit, const char *detail,
                               eb_error *err)
{
    if (!cJSON_IsNumber(best) || !isfinite(best->valuedouble)) return EB_OK;
    params p = {0};
    p_str(&p, probe_id);
    p_str(&p, measure);
    p_str(&p, type);
    p_num(&p, cJSON_IsNumber(threads) ? threads->valuedouble : 1);
    p_num(&p, best->valuedouble);
    p_num(&p, cJSON_IsNumber(median) ? median->valuedouble : NAN);
    p_str(&p, unit);
    p_str(&p, detail);
    return eb_sq_exec_num(s,
                          "INSERT INTO probes (probe_id, measure, weight_type, threads, value,"
                          " median, unit, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                          p.n, p.v, p.num, err);
}

/* A device probe: one probe_runs row and a row per measurement. */
static eb_status put_probe(eb_store *s, const cJSON *rec, const long long ids[3], long long *id,
                           eb_error *err)
{
    if (s->version < 4)
        return eb_fail(err, EB_E_UNSUPPORTED, "store %s: schema %d has no probe tables", s->name,
                       s->version);
    const cJSON *pr = jobj(rec, "probe");
    if (!pr) return eb_fail(err, EB_E_INVALID_ARG, "a probe record without \"probe\"");
    char now[32];
    eb_utc_iso8601(time(NULL), now, sizeof now);
    params p = {0};
    for (int i = 0; i < 2; i++)
        p_id(&p, ids[i]);
    p_json(&p, rec, "started_at");
    p_str(&p, now);
    p_json(&p, pr, "duration_s");
    p_json(&p, pr, "buffer_bytes");
    p_json(&p, pr, "llc_bytes");
    p_json(&p, pr, "passes");
    char *rec_text = cJSON_PrintUnformatted(rec);
    p_str(&p, rec_text);
    eb_status st = rec_text
                       ? eb_sq_id_num(s,
                                      "INSERT INTO probe_runs (device_id, build_id, started_at,"
                                      " stored_at, duration_s, buffer_bytes, llc_bytes, passes,"
                                      " record_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
                                      " $9) RETURNING id",
                                      p.n, p.v, p.num, id, err)
                       : eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    free(rec_text);
    char pid[24], detail[128];
    snprintf(pid, sizeof pid, "%lld", *id);
    const cJSON *m;
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(pr, "memory");
    cJSON_ArrayForEach(m, mem)
    {
        if (st != EB_OK) break;
        char bb[40];
        const char *b = jtext(pr, "buffer_bytes", bb, sizeof bb);
        snprintf(detail, sizeof detail, "buffer %s bytes", b ? b : "?");
        st = put_probe_row(s, pid, "mem_read", "", cJSON_GetObjectItemCaseSensitive(m, "threads"),
                           cJSON_GetObjectItemCaseSensitive(m, "best_gbs"),
                           cJSON_GetObjectItemCaseSensitive(m, "median_gbs"), "GB/s", detail, err);
    }
    const cJSON *ker = cJSON_GetObjectItemCaseSensitive(pr, "kernels");
    cJSON_ArrayForEach(m, ker)
    {
        if (st != EB_OK) break;
        char b[3][40];
        const char *mm = jtext(m, "m", b[0], 40), *nn = jtext(m, "n", b[1], 40),
                   *kk = jtext(m, "k", b[2], 40);
        const cJSON *tyj = cJSON_GetObjectItemCaseSensitive(m, "type");
        const char *ty = cJSON_IsString(tyj) ? tyj->valuestring : NULL;
        const cJSON *wb = cJSON_GetObjectItemCaseSensitive(m, "weights_buffer");
        snprintf(detail, sizeof detail, "%s x %s x %s, weights in %s", mm ? mm : "?", nn ? nn : "?",
                 kk ? kk : "?", cJSON_IsString(wb) ? wb->valuestring : "?");
        st = put_probe_row(
            s, pid, "matmul", ty ? ty : "", cJSON_GetObjectItemCaseSensitive(m, "threads"),
            cJSON_GetObjectItemCaseSensitive(m, "best_gflops"),
            cJSON_GetObjectItemCaseSensitive(m, "median_gflops"), "GFLOP/s", detail, err);
    }
    const cJSON *d = jobj(pr, "disk");
    const char *dir = d ? jtext(d, "dir", detail, sizeof detail) : NULL;
    if (st == EB_OK && d)
        st = put_probe_row(s, pid, "disk_cold", "", NULL,
                           cJSON_GetObjectItemCaseSensitive(d, "cold_gbs"), NULL, "GB/s", dir, err);
    if (st == EB_OK && d)
        st = put_probe_row(s, pid, "disk_cached", "", NULL,
                           cJSON_GetObjectItemCaseSensitive(d, "cached_gbs"), NULL, "GB/s", dir,
                           err);
    return st;
}

eb_status eb_store_put_json(eb_store *s, const cJSON *rec, long long *trial_id, eb_error *err)
{
    long long ids[3] = {0}, id = 0;
    eb_status st = s->be->exec(s, s->be->begin, err);
    if (st != EB_OK) return st;
    st = put_device(s, rec, &ids[0], err);
    if (st == EB_OK) st = put_build(s, rec, &ids[1], err);
    if (st == EB_OK) st = put_model(s, rec, &ids[2], err);
    if (is_kind(rec, "probe")) {
        if (st == EB_OK) st = put_probe(s, rec, ids, &id, err);
        st = eb_sq_end(s, st, err);
        if (st == EB_OK && trial_id) *trial_id = id;
        return st;
    }
    if (is_kind(rec, "perplexity")) {
        if (st == EB_OK) st = put_quality(s, rec, ids, &id, err);
        st = eb_sq_end(s, st, err);
        if (st == EB_OK && trial_id) *trial_id = id;
        return st;
    }
    if (st == EB_OK) st = put_trial(s, rec, ids, &id, err);
    const cJSON *result = jobj(rec, "result");
    const cJSON *reps = result ? cJSON_GetObjectItemCaseSensitive(result, "reps") : NULL, *rep;
    cJSON_ArrayForEach(rep, reps)
    {
        if (st != EB_OK) break;
        st = put_run(s, id, rep, err);
    }
    if (s->version >= 2) {
        const cJSON *tl = jobj(result, "timeline");
        if (st == EB_OK && tl) st = put_timeline(s, id, tl, err);
        const cJSON *lb = cJSON_GetObjectItemCaseSensitive(rec, "llama_bench_tests");
        if (st == EB_OK && cJSON_IsArray(lb))
            st = put_lb_tests(s, id, lb, err);
        else if (st == EB_OK)
            st = eb_store_summarize_trial(s, id, err);
    }
    st = eb_sq_end(s, st, err);
    if (st == EB_OK && trial_id) *trial_id = id;
    return st;
}

eb_status eb_store_put(eb_store *s, const char *record_json, long long *trial_id, eb_error *err)
{
    cJSON *rec = cJSON_Parse(record_json);
    if (!cJSON_IsObject(rec)) {
        cJSON_Delete(rec);
        return eb_fail(err, EB_E_INVALID_ARG, "store %s: the record is not a JSON object", s->name);
    }
    eb_status st = eb_store_put_json(s, rec, trial_id, err);
    cJSON_Delete(rec);
    return st;
}
