/* The stored settings in the store, all made from their rows in the
 * parameter table (eb_params, EB_PF_STORED): the trials columns (added to
 * a store that lacks one), the llama_bench view's fields for them, the
 * columns the queries select, what a trial record writes, and llama-bench's
 * values when one of its files is imported. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/params.h"
#include "edgebench/util.h"
#include "store_put_impl.h"
#include "store_settings.h"

static size_t rows(const eb_param **out)
{
    size_t n = eb_stored_settings(out, EB_PARAM_MAX);
    return n < EB_PARAM_MAX ? n : EB_PARAM_MAX;
}

bool eb_store_has_trial_column(const eb_store *s, const char *column)
{
    char want[80];
    snprintf(want, sizeof want, " %s ", column);
    return strstr(s->trial_columns, want) != NULL;
}

eb_status eb_store_read_trial_columns(eb_store *s, eb_error *err)
{
    s->trial_columns[0] = '\0';
    if (s->version < 1) return EB_OK;
    eb_table t;
    eb_status st = s->be->query(s, "SELECT * FROM trials WHERE 1 = 0", 0, NULL, NULL, &t, err);
    if (st != EB_OK) return st;
    size_t n = (size_t)snprintf(s->trial_columns, sizeof s->trial_columns, " ");
    for (size_t c = 0; c < t.ncol && n < sizeof s->trial_columns; c++)
        n += (size_t)snprintf(s->trial_columns + n, sizeof s->trial_columns - n, "%s ", t.name[c]);
    eb_table_free(&t);
    if (n >= sizeof s->trial_columns)
        return eb_fail(err, EB_E_INTERNAL,
                       "store %s: the trials table has more columns than %zu bytes of names hold",
                       s->name, sizeof s->trial_columns);
    return EB_OK;
}

/* A setting's default in llama-bench's terms, as an SQL literal. */
static void lb_default_sql(const eb_param *p, char *out, size_t cap)
{
    const char *d = p->def;
    char mapped[64];
    if (d && p->lb_values) {
        /* our value -> llama-bench's: "on=1|off=0|auto=-1" */
        const char *c = p->lb_values, *ours, *lb;
        size_t ol, ll;
        while (eb_setting_lb_pair(&c, &ours, &ol, &lb, &ll))
            if (ol == strlen(d) && strncmp(ours, d, ol) == 0) {
                snprintf(mapped, sizeof mapped, "%.*s", (int)ll, lb);
                d = mapped;
                break;
            }
    }
    bool b;
    if (!d && p->lb_unset)
        snprintf(out, cap, "'%s'", p->lb_unset);
    else if (!d)
        snprintf(out, cap, "NULL");
    else if (p->field == EB_FK_BOOL && eb_parse_bool(d, &b))
        snprintf(out, cap, "%d", b ? 1 : 0);
    else if (p->field == EB_FK_STR && !p->lb_values)
        snprintf(out, cap, "'%s'", d);
    else
        snprintf(out, cap, "%s", d);
}

/* One llama_bench field of a stored setting: its column with the default
 * for trials stored before it, in llama-bench's values. */
static size_t lb_field_sql(const eb_param *p, char *out, size_t cap)
{
    const char *col = eb_setting_column(p);
    char def[80];
    lb_default_sql(p, def, sizeof def);
    if (p->flags & EB_PF_LB_PER_TEST) return (size_t)snprintf(out, cap, " l.%s,", p->lb_field);
    if (!p->lb_values)
        return (size_t)snprintf(out, cap, " COALESCE(t.%s, %s) AS %s,", col, def, p->lb_field);
    size_t n = (size_t)snprintf(out, cap, " (CASE t.%s", col);
    const char *c = p->lb_values, *ours, *lb;
    size_t ol, ll;
    while (n < cap && eb_setting_lb_pair(&c, &ours, &ol, &lb, &ll))
        n += (size_t)snprintf(out + n, cap - n, " WHEN '%.*s' THEN %.*s", (int)ol, ours, (int)ll,
                              lb);
    if (n < cap) n += (size_t)snprintf(out + n, cap - n, " ELSE %s END) AS %s,", def, p->lb_field);
    return n;
}

/* Whether sql selects the column already (t.col, r.col or AS col). */
static bool selects(const char *sql, const char *col)
{
    size_t cl = strlen(col);
    for (const char *h = sql; (h = strstr(h, col)) != NULL; h += cl) {
        char after = h[cl];
        if (after == '_' || (after >= 'a' && after <= 'z') || (after >= '0' && after <= '9'))
            continue;
        /* "t.col" as an item of the list, not an argument ("NULLIF(r.col, 0)")
         * nor another table's column of the same name (a build's backend) */
        if (h - sql >= 3 && h[-1] == '.' && h[-2] == 't' && (h[-3] == ' ' || h[-3] == ','))
            return true;
        if (h - sql >= 3 && strncmp(h - 3, "AS ", 3) == 0) return true;
    }
    return false;
}

/* llama-bench's view: its fields, the stored settings among them, then
 * what edgebench adds (the trial, where it ran, what llama.cpp chose). */
static char *view_sql(void)
{
    const eb_param *r[EB_PARAM_MAX];
    size_t nr = rows(r), cap = 8192, n = 0;
    char *sql = malloc(cap);
    if (!sql) return NULL;
    n += (size_t)snprintf(
        sql + n, cap - n, "%s",
        "CREATE VIEW llama_bench AS SELECT b.engine_commit AS build_commit, 0 AS build_number,"
        " d.cpu_model AS cpu_info, d.gpu AS gpu_info, b.backend AS backends,"
        " m.path AS model_filename, m.description AS model_type,"
        " m.weights_size_bytes AS model_size, m.n_params AS model_n_params, l.n_threads,");
    for (size_t i = 0; i < nr && n < cap; i++)
        if (r[i]->lb_field && !(r[i]->flags & EB_PF_LB_PER_TEST))
            n += lb_field_sql(r[i], sql + n, cap - n);
    if (n < cap) n += (size_t)snprintf(sql + n, cap - n, " l.n_prompt, l.n_gen,");
    for (size_t i = 0; i < nr && n < cap; i++)
        if (r[i]->lb_field && (r[i]->flags & EB_PF_LB_PER_TEST))
            n += lb_field_sql(r[i], sql + n, cap - n);
    if (n < cap)
        n += (size_t)snprintf(
            sql + n, cap - n, "%s",
            " t.started_at AS test_time,"
            " l.avg_ns, l.stddev_ns, l.avg_ts, l.stddev_ts, l.samples_ns, l.samples_ts,"
            " t.id AS trial_id, l.test, d.hostname, d.board_model, m.quant, m.synthetic,"
            " t.governor, t.power_mode, t.flash_attn_used, t.kv_cache_mib, t.source");
    for (size_t i = 0; i < nr && n < cap; i++)
        if (!r[i]->lb_field && !selects(sql, eb_setting_column(r[i])))
            n += (size_t)snprintf(sql + n, cap - n, ", t.%s", eb_setting_column(r[i]));
    if (n < cap)
        n += (size_t)snprintf(sql + n, cap - n, "%s",
                              " FROM lb_tests l JOIN trials t ON t.id = l.trial_id"
                              " LEFT JOIN devices d ON d.id = t.device_id"
                              " LEFT JOIN builds b ON b.id = t.build_id"
                              " LEFT JOIN models m ON m.id = t.model_id");
    if (n >= cap) {
        free(sql);
        return NULL;
    }
    return sql;
}

eb_status eb_store_sync_settings(eb_store *s, eb_error *err)
{
    eb_status st = eb_store_read_trial_columns(s, err);
    if (st != EB_OK || s->version < eb_store_latest_version()) return st;
    char *view = view_sql();
    if (!view) return eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    char sig[32];
    snprintf(sig, sizeof sig, "%016llx", (unsigned long long)eb_fnv1a(EB_FNV1A_OFFSET, view));
    const eb_param *r[EB_PARAM_MAX];
    size_t nr = rows(r);
    bool missing = false;
    for (size_t i = 0; i < nr; i++)
        missing |= !eb_store_has_trial_column(s, eb_setting_column(r[i]));
    long long same = 0;
    const char *p[] = {sig};
    st = eb_sq_id(s, "SELECT count(*) FROM eb_meta WHERE key = 'settings_view' AND value = $1", 1,
                  p, &same, err);
    if (st != EB_OK || (same && !missing)) {
        free(view);
        return st;
    }
    /* Another process may be doing the same: take the lock, then look again. */
    st = s->be->exec(s, s->be->begin_exclusive, err);
    if (st == EB_OK) st = eb_store_read_trial_columns(s, err);
    for (size_t i = 0; st == EB_OK && i < nr; i++) {
        const char *col = eb_setting_column(r[i]);
        if (eb_store_has_trial_column(s, col)) continue;
        char sql[160];
        snprintf(sql, sizeof sql, "ALTER TABLE trials ADD COLUMN %s %s", col,
                 eb_setting_sql_type(r[i]));
        st = s->be->exec(s, sql, err);
    }
    if (st == EB_OK) st = s->be->exec(s, "DROP VIEW IF EXISTS llama_bench", err);
    if (st == EB_OK) st = s->be->exec(s, view, err);
    if (st == EB_OK)
        st = eb_sq_exec(s, "DELETE FROM eb_meta WHERE key = 'settings_view'", 0, NULL, err);
    if (st == EB_OK)
        st = eb_sq_exec(s, "INSERT INTO eb_meta (key, value) VALUES ('settings_view', $1)", 1, p,
                        err);
    st = eb_sq_end(s, st, err);
    free(view);
    return st == EB_OK ? eb_store_read_trial_columns(s, err) : st;
}

char *eb_store_expand_settings(const eb_store *s, const char *sql)
{
    const char *mark = strstr(sql, EB_SETTINGS_MARK);
    if (!mark) return strdup(sql);
    const eb_param *r[EB_PARAM_MAX];
    size_t nr = rows(r), cap = strlen(sql) + 64 * (nr + 2), n = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    n += (size_t)snprintf(out, cap, "%.*s", (int)(mark - sql), sql);
    bool first = true;
    for (size_t i = 0; i < nr; i++) {
        const char *col = eb_setting_column(r[i]);
        if (selects(sql, col) || !eb_store_has_trial_column(s, col)) continue;
        n += (size_t)snprintf(out + n, cap - n, "%s t.%s", first ? "" : ",", col);
        first = false;
    }
    /* what llama.cpp made of them */
    n += (size_t)snprintf(out + n, cap - n, "%s t.flash_attn_used, t.kv_cache_mib%s",
                          first ? "" : ",", mark + strlen(EB_SETTINGS_MARK));
    (void)n;
    return out;
}

/* --cpus 0-3,6 as llama-bench's mask, 0x4f; a mask stays as it is. */
static const char *cpu_mask_text(const char *list, char *out, size_t cap)
{
    if (!list || strncmp(list, "0x", 2) == 0) return list;
    unsigned char bits[1024 / 8] = {0};
    int top = -1;
    for (const char *c = list; *c;) {
        char *end;
        long a = strtol(c, &end, 10), b = a;
        if (end == c || a < 0 || a >= 1024) break;
        if (*end == '-') b = strtol(end + 1, &end, 10);
        for (long i = a; i <= b && i < 1024; i++) {
            bits[i / 8] |= (unsigned char)(1u << (i % 8));
            if (i > top) top = (int)i;
        }
        c = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') break;
    }
    if (top < 0) return NULL;
    size_t n = (size_t)snprintf(out, cap, "0x");
    for (int nib = top / 4; nib >= 0 && n + 1 < cap; nib--)
        out[n++] = "0123456789abcdef"[(bits[nib / 2] >> (nib % 2 * 4)) & 0xf];
    out[n] = '\0';
    return out;
}

size_t eb_store_put_settings(const eb_store *s, params *p, const cJSON *cfg, bool by_plan_key,
                             char *columns, size_t cap, char *mask, size_t mask_cap)
{
    const eb_param *r[EB_PARAM_MAX];
    size_t nr = rows(r), n = 0, added = 0;
    columns[0] = '\0';
    for (size_t i = 0; i < nr; i++) {
        const char *col = eb_setting_column(r[i]);
        if (!eb_store_has_trial_column(s, col)) continue;
        n += (size_t)snprintf(columns + n, n < cap ? cap - n : 0, ", %s", col);
        const char *key = by_plan_key ? r[i]->key : eb_setting_json(r[i]);
        const cJSON *v = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, key) : NULL;
        bool b;
        if (r[i]->flags & EB_PF_CPU_MASK)
            sp_p_str(p, cJSON_IsString(v) ? cpu_mask_text(v->valuestring, mask, mask_cap) : NULL);
        else if (r[i]->field == EB_FK_BOOL && cJSON_IsString(v) &&
                 eb_parse_bool(v->valuestring, &b))
            sp_p_str(p, b ? "1" : "0"); /* a plan's "on" */
        else
            sp_p_json(p, cfg, key);
        added++;
    }
    return added;
}

eb_status eb_store_lb_settings(cJSON *cfg, const cJSON *row, eb_error *err)
{
    const eb_param *r[EB_PARAM_MAX];
    size_t nr = rows(r);
    for (size_t i = 0; i < nr; i++) {
        if (!r[i]->lb_field) continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, r[i]->lb_field);
        char text[128], ours[128];
        if (cJSON_IsString(v))
            snprintf(text, sizeof text, "%s", v->valuestring);
        else if (cJSON_IsBool(v))
            snprintf(text, sizeof text, "%s", cJSON_IsTrue(v) ? "true" : "false");
        else if (cJSON_IsNumber(v))
            eb_format_double(text, sizeof text, v->valuedouble);
        else
            continue;
        if (!eb_setting_from_lb(r[i], text, ours, sizeof ours)) continue;
        const char *key = eb_setting_json(r[i]);
        bool b;
        switch (r[i]->field) {
        case EB_FK_BOOL:
            if (!eb_parse_bool(ours, &b))
                return eb_fail(err, EB_E_INVALID_ARG, "llama-bench field %s: '%s' is not a boolean",
                               r[i]->lb_field, text);
            cJSON_AddBoolToObject(cfg, key, b);
            break;
        case EB_FK_INT:
        case EB_FK_U64:
        case EB_FK_DOUBLE: {
            char *end;
            double d = strtod(ours, &end);
            if (end == ours || *end)
                return eb_fail(err, EB_E_INVALID_ARG, "llama-bench field %s: '%s' is not a number",
                               r[i]->lb_field, text);
            cJSON_AddNumberToObject(cfg, key, d);
            break;
        }
        default:
            cJSON_AddStringToObject(cfg, key, ours);
            break;
        }
    }
    return EB_OK;
}
