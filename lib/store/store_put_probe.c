/* Quality (perplexity) and probe records into the store. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgebench/util.h"
#include "store_put_impl.h"

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
                                           "eval_j_per_token_u95",
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

eb_status sp_put_quality(eb_store *s, const cJSON *rec, const long long ids[3], long long *id,
                         eb_error *err)
{
    if (s->version < 3)
        return eb_fail(err, EB_E_UNSUPPORTED, "store %s: schema %d has no quality table", s->name,
                       s->version);
    const cJSON *result = sp_jobj(rec, "result"), *q = sp_jobj(result, "quality");
    if (!q) return eb_fail(err, EB_E_INVALID_ARG, "a perplexity record without \"quality\"");
    const cJSON *b = sp_jobj(q, "versus_base");
    char now[32], sql[2048];
    eb_utc_iso8601(time(NULL), now, sizeof now);
    params p = {0};
    for (int i = 0; i < 3; i++)
        sp_p_id(&p, ids[i]);
    sp_p_json(&p, rec, "source");
    const char *started = sp_jtext(rec, "started_at", p.buf[p.n], sizeof p.buf[p.n]);
    if (!started) started = sp_jtext(result, "started_at", p.buf[p.n], sizeof p.buf[p.n]);
    sp_p_str(&p, started);
    sp_p_str(&p, now);
    size_t n = (size_t)snprintf(sql, sizeof sql,
                                "INSERT INTO quality (device_id, build_id, model_id, source,"
                                " started_at, stored_at");
    for (const char *const *c = quality_cols; *c; c++) {
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", %s", *c);
        sp_p_json(&p, q, *c);
    }
    for (size_t i = 0; i < sizeof quality_base_cols / sizeof quality_base_cols[0]; i++) {
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", %s", quality_base_cols[i][1]);
        sp_p_json(&p, b, quality_base_cols[i][0]);
    }
    sp_p_json(&p, sp_jobj(result, "measurement"), "energy_source");
    char *rec_text = cJSON_PrintUnformatted(rec);
    sp_p_str(&p, rec_text);
    n += (size_t)snprintf(sql + n, sizeof sql - n, ", energy_source, record_json) VALUES ($1");
    for (int i = 2; i <= p.n; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", $%d", i);
    snprintf(sql + n, sizeof sql - n, ") RETURNING id");
    eb_status st = rec_text ? eb_sq_id_num(s, sql, p.n, p.v, p.num, id, err)
                            : eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    if (st == EB_OK) st = eb_store_set_record_hash(s, "quality", *id, rec_text, err);
    free(rec_text);
    return st;
}

bool sp_is_kind(const cJSON *rec, const char *kind)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(rec, "kind");
    return cJSON_IsString(k) && strcmp(k->valuestring, kind) == 0;
}

static eb_status sp_put_probe_row(eb_store *s, const char *probe_id, const char *measure,
                                  const char *type, const cJSON *threads, const cJSON *best,
                                  const cJSON *median, const char *unit, const char *detail,
                                  eb_error *err)
{
    if (!cJSON_IsNumber(best) || !isfinite(best->valuedouble)) return EB_OK;
    params p = {0};
    sp_p_str(&p, probe_id);
    sp_p_str(&p, measure);
    sp_p_str(&p, type);
    sp_p_num(&p, cJSON_IsNumber(threads) ? threads->valuedouble : 1);
    sp_p_num(&p, best->valuedouble);
    sp_p_num(&p, cJSON_IsNumber(median) ? median->valuedouble : NAN);
    sp_p_str(&p, unit);
    sp_p_str(&p, detail);
    return eb_sq_exec_num(s,
                          "INSERT INTO probes (probe_id, measure, weight_type, threads, value,"
                          " median, unit, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                          p.n, p.v, p.num, err);
}

/* A device probe: one probe_runs row and a row per measurement. */
eb_status sp_put_probe(eb_store *s, const cJSON *rec, const long long ids[3], long long *id,
                       eb_error *err)
{
    if (s->version < 4)
        return eb_fail(err, EB_E_UNSUPPORTED, "store %s: schema %d has no probe tables", s->name,
                       s->version);
    const cJSON *pr = sp_jobj(rec, "probe");
    if (!pr) return eb_fail(err, EB_E_INVALID_ARG, "a probe record without \"probe\"");
    char now[32];
    eb_utc_iso8601(time(NULL), now, sizeof now);
    params p = {0};
    for (int i = 0; i < 2; i++)
        sp_p_id(&p, ids[i]);
    sp_p_json(&p, rec, "started_at");
    sp_p_str(&p, now);
    sp_p_json(&p, pr, "duration_s");
    sp_p_json(&p, pr, "buffer_bytes");
    sp_p_json(&p, pr, "llc_bytes");
    sp_p_json(&p, pr, "passes");
    char *rec_text = cJSON_PrintUnformatted(rec);
    sp_p_str(&p, rec_text);
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
        const char *b = sp_jtext(pr, "buffer_bytes", bb, sizeof bb);
        snprintf(detail, sizeof detail, "buffer %s bytes", b ? b : "?");
        st = sp_put_probe_row(
            s, pid, "mem_read", "", cJSON_GetObjectItemCaseSensitive(m, "threads"),
            cJSON_GetObjectItemCaseSensitive(m, "best_gbs"),
            cJSON_GetObjectItemCaseSensitive(m, "median_gbs"), "GB/s", detail, err);
    }
    const cJSON *ker = cJSON_GetObjectItemCaseSensitive(pr, "kernels");
    cJSON_ArrayForEach(m, ker)
    {
        if (st != EB_OK) break;
        char b[3][40];
        const char *mm = sp_jtext(m, "m", b[0], 40), *nn = sp_jtext(m, "n", b[1], 40),
                   *kk = sp_jtext(m, "k", b[2], 40);
        const cJSON *tyj = cJSON_GetObjectItemCaseSensitive(m, "type");
        const char *ty = cJSON_IsString(tyj) ? tyj->valuestring : NULL;
        const cJSON *wb = cJSON_GetObjectItemCaseSensitive(m, "weights_buffer");
        snprintf(detail, sizeof detail, "%s x %s x %s, weights in %s", mm ? mm : "?", nn ? nn : "?",
                 kk ? kk : "?", cJSON_IsString(wb) ? wb->valuestring : "?");
        st = sp_put_probe_row(
            s, pid, "matmul", ty ? ty : "", cJSON_GetObjectItemCaseSensitive(m, "threads"),
            cJSON_GetObjectItemCaseSensitive(m, "best_gflops"),
            cJSON_GetObjectItemCaseSensitive(m, "median_gflops"), "GFLOP/s", detail, err);
    }
    const cJSON *d = sp_jobj(pr, "disk");
    const char *dir = d ? sp_jtext(d, "dir", detail, sizeof detail) : NULL;
    if (st == EB_OK && d)
        st = sp_put_probe_row(s, pid, "disk_cold", "", NULL,
                              cJSON_GetObjectItemCaseSensitive(d, "cold_gbs"), NULL, "GB/s", dir,
                              err);
    if (st == EB_OK && d)
        st = sp_put_probe_row(s, pid, "disk_cached", "", NULL,
                              cJSON_GetObjectItemCaseSensitive(d, "cached_gbs"), NULL, "GB/s", dir,
                              err);
    return st;
}
