/* The shared parts of storing a record: JSON fields as parameters and the
 * fingerprinted upserts of devices, builds and models. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgebench/util.h"
#include "store_put_impl.h"

const char sp_insert_lb_test[] =
    "INSERT INTO lb_tests (trial_id, test, n_prompt, n_gen, n_depth, n_threads, avg_ns,"
    " stddev_ns, avg_ts, stddev_ts, samples_ns, samples_ts) VALUES ($1, $2, $3, $4, $5, $6, $7,"
    " $8, $9, $10, $11, $12)";

/* Text of a JSON value for a parameter: strings as they are, numbers as
 * their shortest exact text, booleans 1/0; NULL for null, absent or NaN. */
const char *sp_jtext(const cJSON *o, const char *key, char *buf, size_t cap)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v) ? "1" : "0";
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return NULL;
    eb_format_double(buf, cap, v->valuedouble);
    return buf;
}

const cJSON *sp_jobj(const cJSON *o, const char *key)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    return cJSON_IsObject(v) ? v : NULL;
}

void sp_p_json(params *p, const cJSON *o, const char *key)
{
    if (p->n >= MAXP) {
        p->overflow = true; /* the statement then lacks a parameter and fails */
        return;
    }
    p->v[p->n] = sp_jtext(o, key, p->buf[p->n], sizeof p->buf[p->n]);
    p->num[p->n] = cJSON_IsNumber(o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL);
    p->n++;
}

void sp_p_str(params *p, const char *s)
{
    if (p->n >= MAXP) {
        p->overflow = true; /* the statement then lacks a parameter and fails */
        return;
    }
    p->v[p->n++] = s;
}

/* A row id, or NULL for 0 (none) */
void sp_p_id(params *p, long long id)
{
    if (p->n >= MAXP) {
        p->overflow = true; /* the statement then lacks a parameter and fails */
        return;
    }
    if (id) snprintf(p->buf[p->n], sizeof p->buf[p->n], "%lld", id);
    p->v[p->n] = id ? p->buf[p->n] : NULL;
    p->n++;
}

void sp_p_num(params *p, double d)
{
    if (p->n >= MAXP) {
        p->overflow = true; /* the statement then lacks a parameter and fails */
        return;
    }
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
static void sp_fingerprint(const cJSON *o, const char *const *keys, char out[17])
{
    uint64_t h = EB_FNV1A_OFFSET;
    char buf[40];
    for (; *keys; keys++) {
        const char *t = sp_jtext(o, *keys, buf, sizeof buf);
        h = eb_fnv1a(h, *keys);
        h = eb_fnv1a(h, "=");
        h = eb_fnv1a(h, t ? t : "(none)");
        h = eb_fnv1a(h, "\n");
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* Inserts unless the fingerprint is known; either way gives the id. */
eb_status sp_upsert(eb_store *s, const char *table, const cJSON *o, const char *const *columns,
                    const char *const *fp_keys, long long *id, eb_error *err)
{
    char fp[17];
    sp_fingerprint(o, fp_keys, fp);
    params p = {0};
    sp_p_str(&p, fp);
    char sql[2048];
    /* Looked up first: the row is almost always there, and an INSERT ... ON
     * CONFLICT of a key another writer's open transaction inserted waits for
     * that transaction (PostgreSQL), which would queue writers behind each
     * other. */
    snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE fingerprint = $1", table);
    *id = 0;
    eb_status found = eb_sq_id(s, sql, 1, p.v, id, err);
    if (found != EB_OK || *id) return found;
    size_t n = (size_t)snprintf(sql, sizeof sql, "INSERT INTO %s (fingerprint", table);
    for (const char *const *c = columns; *c; c++) {
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", %s", *c);
        sp_p_json(&p, o, *c);
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
static const char *const build_cols_v1[] = {"edgebench_version", "engine",  "engine_version",
                                            "engine_commit",     "backend", "build_options",
                                            "system_info",       NULL};
/* schema 10 on: the build's record of its CPU features */
static const char *const build_cols[] = {
    "edgebench_version", "engine",        "engine_version",      "engine_commit",
    "backend",           "build_options", "system_info",         "variant",
    "cpu_features",      "features_off",  "features_off_reason", NULL};
static const char *const model_cols[] = {"path",      "sha256",          "name",
                                         "arch",      "description",     "quant",
                                         "n_params",  "file_size_bytes", "weights_size_bytes",
                                         "n_layer",   "n_embd",          "n_ctx_train",
                                         "synthetic", "preset",          NULL};
/* A model is what its file holds: its hash when known, else its shape. */
static const char *const model_fp_hashed[] = {"sha256", NULL};
static const char *const model_fp_plain[] = {"path",      "quant", "n_params", "file_size_bytes",
                                             "synthetic", NULL};

eb_status sp_put_device(eb_store *s, const cJSON *rec, long long *id, eb_error *err)
{
    const cJSON *result = sp_jobj(rec, "result");
    const cJSON *d = sp_jobj(rec, "device");
    if (!d) d = sp_jobj(result, "device");
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
    eb_status st = sp_upsert(s, "devices", c, device_cols, fp, id, err);
    cJSON_Delete(c);
    return st;
}

eb_status sp_put_build(eb_store *s, const cJSON *rec, long long *id, eb_error *err)
{
    const cJSON *result = sp_jobj(rec, "result");
    const cJSON *b = sp_jobj(rec, "build");
    *id = 0;
    cJSON *c = NULL;
    if (b) {
        c = cJSON_Duplicate(b, 1);
    } else if (result && sp_jobj(result, "engine")) {
        const cJSON *e = sp_jobj(result, "engine");
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
    eb_status st =
        sp_upsert(s, "builds", c, s->version >= 10 ? build_cols : build_cols_v1, fp, id, err);
    cJSON_Delete(c);
    return st;
}

eb_status sp_put_model(eb_store *s, const cJSON *rec, long long *id, eb_error *err)
{
    const cJSON *m = sp_jobj(rec, "model");
    if (!m) m = sp_jobj(sp_jobj(rec, "result"), "model");
    *id = 0;
    if (!m) return EB_OK;
    cJSON *c = cJSON_Duplicate(m, 1);
    if (!c) return eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    const cJSON *hash = cJSON_GetObjectItemCaseSensitive(rec, "model_sha256");
    if (cJSON_IsString(hash) && !cJSON_GetObjectItemCaseSensitive(c, "sha256"))
        cJSON_AddStringToObject(c, "sha256", hash->valuestring);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(c, "sha256");
    bool hashed = cJSON_IsString(h) && h->valuestring[0];
    /* a failed trial's model as planned, never loaded: known by its name */
    static const char *const model_fp_planned[] = {"not_loaded", "name",      "preset", "quant",
                                                   "path",       "synthetic", NULL};
    bool planned = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "not_loaded"));
    eb_status st = sp_upsert(s, "models", c, model_cols,
                             hashed    ? model_fp_hashed
                             : planned ? model_fp_planned
                                       : model_fp_plain,
                             id, err);
    /* The roofline's shape, also for a model stored before it was recorded. */
    if (st == EB_OK && s->version >= 4 && cJSON_GetObjectItemCaseSensitive(c, "streamed_bytes")) {
        params p = {0};
        sp_p_id(&p, *id);
        sp_p_json(&p, c, "matmul_params");
        sp_p_json(&p, c, "output_params");
        sp_p_json(&p, c, "streamed_bytes");
        sp_p_json(&p, c, "kv_bytes_per_pos");
        sp_p_json(&p, c, "main_type");
        st = eb_sq_exec_num(s,
                            "UPDATE models SET matmul_params = COALESCE(matmul_params, $2),"
                            " output_params = COALESCE(output_params, $3),"
                            " streamed_bytes = COALESCE(streamed_bytes, $4),"
                            " kv_bytes_per_pos = COALESCE(kv_bytes_per_pos, $5),"
                            " main_type = COALESCE(main_type, $6) WHERE id = $1"
                            /* only where it adds something: a row lock held
                             * for a batch is what other writers wait for */
                            " AND ((matmul_params IS NULL AND CAST($2 AS BIGINT) IS NOT NULL)"
                            " OR (output_params IS NULL AND CAST($3 AS BIGINT) IS NOT NULL)"
                            " OR (streamed_bytes IS NULL AND CAST($4 AS BIGINT) IS NOT NULL)"
                            " OR (kv_bytes_per_pos IS NULL AND CAST($5 AS BIGINT) IS NOT NULL)"
                            " OR (main_type IS NULL AND CAST($6 AS TEXT) IS NOT NULL))",
                            p.n, p.v, p.num, err);
    }
    cJSON_Delete(c);
    return st;
}
