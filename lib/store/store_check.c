/* A record checked against the store's schema before any store sees it:
 * types and the ranges of the integer columns, the same for SQLite (which
 * would take "12345" as a status or 1e300 as an INTEGER) and PostgreSQL
 * (which would refuse the second mid-batch). The rules are the schema's
 * columns by the JSON path that fills each; the stored settings' rules come
 * from the parameter table's rows (eb_setting_sql_type). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/params.h"
#include "store_impl.h"
#include "store_settings.h"

typedef enum ck_type {
    CK_TEXT,    /* a string */
    CK_SCALAR,  /* a TEXT column filled from a string, number or boolean */
    CK_INT,     /* INTEGER: a whole number in 32 bits (or a boolean) */
    CK_BIGINT,  /* BIGINT: a whole number in 64 bits */
    CK_NUM,     /* DOUBLE PRECISION: a number */
    CK_OBJECT,  /* read as an object */
    CK_ARRAY,   /* read as an array */
    CK_STATUS,  /* "ok" or "failed" */
    CK_REQ_INT, /* INTEGER NOT NULL */
    CK_INT_TEXT /* INTEGER from a plan: CK_INT, or text that reads as one */
} ck_type;

typedef struct ck_rule {
    const char *path; /* "a.b", "a[].b": each element of array a */
    ck_type type;
} ck_rule;

/* Paths as the writers (store_put*.c) read them; null is always "not
 * measured" and absent is always allowed, except for CK_REQ_INT. */
static const ck_rule rules[] = {
    {"status", CK_STATUS},
    {"trial_key", CK_TEXT},
    {"source", CK_TEXT},
    {"kind", CK_TEXT},
    {"plan", CK_SCALAR},
    {"section", CK_SCALAR},
    {"reason", CK_SCALAR},
    {"started_at", CK_TEXT},
    {"model_sha256", CK_TEXT},
    {"duration_s", CK_NUM},
    {"config", CK_OBJECT},
    {"config.n_prompt", CK_INT_TEXT},
    {"planned", CK_OBJECT},
    {"planned.n_prompt", CK_INT_TEXT},
    {"system", CK_OBJECT},
    {"result", CK_OBJECT},
    {"result.config", CK_OBJECT},
    {"result.config.n_prompt", CK_INT},
    {"result.config.n_gen", CK_INT},
    {"result.config.n_ctx", CK_INT},
    {"result.config.offload", CK_OBJECT},
    {"result.config.offload.layers_offloaded", CK_INT},
    {"result.config.kv_cache", CK_OBJECT},
    {"result.config.kv_cache.size_mib", CK_NUM},
    {"result.config.flash_attn_used", CK_INT},
    {"result.measurement", CK_OBJECT},
    {"result.measurement.energy_source", CK_SCALAR},
    {"result.started_at", CK_TEXT},
    {"result.reps", CK_ARRAY},
    {"result.reps[]", CK_OBJECT},
    {"result.reps[].index", CK_REQ_INT},
    {"result.reps[].warmup", CK_INT},
    {"result.reps[].n_prompt", CK_INT},
    {"result.reps[].n_gen", CK_INT},
    {"result.reps[].load_s", CK_NUM},
    {"result.reps[].prefill_s", CK_NUM},
    {"result.reps[].gen_s", CK_NUM},
    {"result.reps[].e2e_s", CK_NUM},
    {"result.reps[].ttft_s", CK_NUM},
    {"result.reps[].prefill_tps", CK_NUM},
    {"result.reps[].gen_tps", CK_NUM},
    {"result.reps[].itl_p50_s", CK_NUM},
    {"result.reps[].itl_p90_s", CK_NUM},
    {"result.reps[].itl_p99_s", CK_NUM},
    {"result.reps[].peak_rss_mib", CK_NUM},
    {"result.reps[].spans", CK_OBJECT},
    {"result.reps[].counters", CK_OBJECT},
    {"result.timeline", CK_OBJECT},
    {"result.timeline.columns", CK_ARRAY},
    {"result.timeline.rows", CK_ARRAY},
    {"result.timeline.rows[]", CK_ARRAY},
    {"result.sustained", CK_OBJECT},
    {"result.sustained.windows", CK_ARRAY},
    {"result.sustained.windows[]", CK_OBJECT},
    {"result.sustained.windows[].runs", CK_INT},
    {"result.sustained.windows[].throttled", CK_BIGINT},
    {"result.distributed", CK_OBJECT},
    {"result.distributed.n_nodes", CK_INT},
    {"result.quality", CK_OBJECT},
    {"result.quality.chunks", CK_INT},
    {"result.quality.corpus_tokens", CK_INT},
    {"result.quality.scored_tokens", CK_INT},
    {"device", CK_OBJECT},
    {"device.n_cpus", CK_INT},
    {"device.n_cpus_configured", CK_INT},
    {"device.ram_total_kib", CK_BIGINT},
    {"result.device", CK_OBJECT},
    {"result.device.n_cpus", CK_INT},
    {"result.device.n_cpus_configured", CK_INT},
    {"result.device.ram_total_kib", CK_BIGINT},
    {"build", CK_OBJECT},
    {"result.engine", CK_OBJECT},
    {"model", CK_OBJECT},
    {"result.model", CK_OBJECT},
#define MODEL_RULES(m)                                                                             \
    {m ".n_params", CK_BIGINT}, {m ".file_size_bytes", CK_BIGINT},                                 \
        {m ".weights_size_bytes", CK_BIGINT}, {m ".matmul_params", CK_BIGINT},                     \
        {m ".output_params", CK_BIGINT}, {m ".streamed_bytes", CK_BIGINT},                         \
        {m ".kv_bytes_per_pos", CK_BIGINT}, {m ".n_layer", CK_INT}, {m ".n_embd", CK_INT},         \
        {m ".n_ctx_train", CK_INT},                                                                \
    {                                                                                              \
        m ".synthetic", CK_INT                                                                     \
    }
    MODEL_RULES("model"),
    MODEL_RULES("result.model"),
#undef MODEL_RULES
    {"probe", CK_OBJECT},
    {"probe.duration_s", CK_NUM},
    {"probe.buffer_bytes", CK_BIGINT},
    {"probe.llc_bytes", CK_BIGINT},
    {"probe.passes", CK_INT},
    {"llama_bench_tests", CK_ARRAY},
    {"llama_bench_tests[]", CK_OBJECT},
    {"llama_bench_tests[].test", CK_TEXT},
    {"llama_bench_tests[].n_prompt", CK_INT},
    {"llama_bench_tests[].n_gen", CK_INT},
    {"llama_bench_tests[].n_depth", CK_INT},
    {"llama_bench_tests[].n_threads", CK_INT},
    {"llama_bench_tests[].avg_ns", CK_BIGINT},
    {"llama_bench_tests[].stddev_ns", CK_BIGINT},
    {"llama_bench_tests[].avg_ts", CK_NUM},
    {"llama_bench_tests[].stddev_ts", CK_NUM},
};

static const char *type_words(ck_type t)
{
    switch (t) {
    case CK_TEXT:
        return "a string";
    case CK_SCALAR:
        return "a string, number or boolean";
    case CK_INT:
    case CK_REQ_INT:
    case CK_INT_TEXT:
        return "a whole number in -2147483648..2147483647 (an INTEGER column)";
    case CK_BIGINT:
        return "a whole number in 64 bits (a BIGINT column)";
    case CK_NUM:
        return "a number";
    case CK_OBJECT:
        return "an object";
    case CK_ARRAY:
        return "an array";
    case CK_STATUS:
        return "\"ok\" or \"failed\"";
    }
    return "?";
}

static bool whole_in(double v, double lo, double hi)
{
    return isfinite(v) && v == floor(v) && v >= lo && v <= hi;
}

static bool fits(const cJSON *v, ck_type t)
{
    if (cJSON_IsNull(v)) return t != CK_REQ_INT && t != CK_STATUS;
    switch (t) {
    case CK_TEXT:
        return cJSON_IsString(v);
    case CK_SCALAR:
        return cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v);
    case CK_INT:
    case CK_REQ_INT:
        return cJSON_IsBool(v) ||
               (cJSON_IsNumber(v) && whole_in(v->valuedouble, -2147483648.0, 2147483647.0));
    case CK_INT_TEXT:
        if (cJSON_IsString(v)) {
            char *end = NULL;
            double d = strtod(v->valuestring, &end);
            return end && end != v->valuestring && *end == '\0' &&
                   whole_in(d, -2147483648.0, 2147483647.0);
        }
        return fits(v, CK_INT);
    case CK_BIGINT:
        /* 2^63 itself is out; doubles below it are whole */
        return cJSON_IsNumber(v) &&
               whole_in(v->valuedouble, -9223372036854775808.0, 9223372036854774784.0);
    case CK_NUM:
        return cJSON_IsNumber(v) && isfinite(v->valuedouble);
    case CK_OBJECT:
        return cJSON_IsObject(v);
    case CK_ARRAY:
        return cJSON_IsArray(v);
    case CK_STATUS:
        return cJSON_IsString(v) &&
               (strcmp(v->valuestring, "ok") == 0 || strcmp(v->valuestring, "failed") == 0);
    }
    return false;
}

static eb_status bad(const cJSON *v, const char *where, ck_type t, eb_error *err)
{
    char shown[48] = "absent";
    if (v) {
        char *text = cJSON_PrintUnformatted(v);
        snprintf(shown, sizeof shown, "%.40s%s", text ? text : "?",
                 text && strlen(text) > 40 ? "..." : "");
        cJSON_free(text);
    }
    return eb_fail(err, EB_E_INVALID_ARG, "%s is %s, not %s", where, shown, type_words(t));
}

/* Applies one rule from node o down the rest of its path; where is the
 * path so far, as the message names it ("result.reps[2].n_gen"). */
static eb_status walk(const cJSON *o, const char *rest, ck_type t, char *where, size_t len,
                      size_t cap, eb_error *err)
{
    size_t seg = strcspn(rest, ".[");
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)(seg < 63 ? seg : 63), rest);
    const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    size_t n = len + (size_t)snprintf(where + len, cap - len, "%s%s", len ? "." : "", key);
    const char *after = rest + seg;
    if (*after == '\0') {
        if (!v) return t == CK_REQ_INT ? bad(NULL, where, t, err) : EB_OK;
        return fits(v, t) ? EB_OK : bad(v, where, t, err);
    }
    if (!v) return EB_OK;
    if (after[0] == '[') {
        /* "[]" then "" or ".rest": each element */
        if (!cJSON_IsArray(v)) return EB_OK; /* its own rule says what it must be */
        const char *more = after + 2;
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            size_t m = n + (size_t)snprintf(where + n, cap - n, "[%d]", i++);
            eb_status s = EB_OK;
            if (*more == '\0')
                s = fits(e, t) ? EB_OK : bad(e, where, t, err);
            else if (cJSON_IsObject(e))
                s = walk(e, more + 1, t, where, m, cap, err);
            if (s != EB_OK) return s;
        }
        return EB_OK;
    }
    return walk(v, after + 1, t, where, n, cap, err);
}

static ck_type setting_type(const eb_param *p)
{
    const char *sql = eb_setting_sql_type(p);
    if (strcmp(sql, "INTEGER") == 0) return p->field == EB_FK_BOOL ? CK_SCALAR : CK_INT;
    if (strcmp(sql, "BIGINT") == 0) return CK_BIGINT;
    if (strcmp(sql, "DOUBLE PRECISION") == 0) return CK_NUM;
    return CK_SCALAR;
}

eb_status eb_store_check_record(const cJSON *rec, eb_error *err)
{
    if (!cJSON_IsObject(rec)) return eb_fail(err, EB_E_INVALID_ARG, "a record is a JSON object");
    char where[256];
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) {
        where[0] = '\0';
        eb_status s = walk(rec, rules[i].path, rules[i].type, where, 0, sizeof where, err);
        if (s != EB_OK) return s;
    }
    /* the stored settings: result.config by their JSON names, a plan's
     * config and a failed trial's planned one by plan keys */
    const eb_param *rows[EB_PARAM_MAX];
    size_t n = eb_stored_settings(rows, EB_PARAM_MAX);
    static const char *const homes[] = {"result.config", "config", "planned"};
    for (size_t h = 0; h < 3; h++)
        for (size_t i = 0; i < n && i < EB_PARAM_MAX; i++) {
            char path[128];
            snprintf(path, sizeof path, "%s.%s", homes[h],
                     h == 0 ? eb_setting_json(rows[i]) : rows[i]->key);
            ck_type t = setting_type(rows[i]);
            /* a plan writes its values as text ("threads": "4") */
            if (h > 0 && t == CK_INT) t = CK_INT_TEXT;
            if (h > 0 && t != CK_INT_TEXT) t = CK_SCALAR;
            where[0] = '\0';
            eb_status s = walk(rec, path, t, where, 0, sizeof where, err);
            if (s != EB_OK) return s;
        }
    return EB_OK;
}
