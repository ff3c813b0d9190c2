/* The store's lowest layer: every statement with parameters goes through
 * these (and the tests' trace sees it), and a written record's content
 * hash. The schema, the writers and the queries build on them; nothing here
 * calls back up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/util.h"
#include "store_impl.h"

/* ---- small query helpers ---- */

eb_status eb_sq_query(eb_store *s, const char *sql, int n, const char *const *p,
                      const unsigned char *numeric, eb_table *out, eb_error *err)
{
    if (s->trace) s->trace(s->trace_user, sql, n, p);
    return s->be->query(s, sql, n, p, numeric, out, err);
}

eb_status eb_sq_exec(eb_store *s, const char *sql, int n, const char *const *p, eb_error *err)
{
    return eb_sq_query(s, sql, n, p, NULL, NULL, err);
}

eb_status eb_sq_exec_num(eb_store *s, const char *sql, int n, const char *const *p,
                         const unsigned char *numeric, eb_error *err)
{
    return eb_sq_query(s, sql, n, p, numeric, NULL, err);
}

eb_status eb_sq_id_num(eb_store *s, const char *sql, int n, const char *const *p,
                       const unsigned char *numeric, long long *id, eb_error *err)
{
    eb_table t;
    eb_status st = eb_sq_query(s, sql, n, p, numeric, &t, err);
    if (st != EB_OK) return st;
    *id = t.nrow > 0 && t.ncol > 0 && t.cell[0] ? atoll(t.cell[0]) : 0;
    eb_table_free(&t);
    return EB_OK;
}

eb_status eb_sq_id(eb_store *s, const char *sql, int n, const char *const *p, long long *id,
                   eb_error *err)
{
    return eb_sq_id_num(s, sql, n, p, NULL, id, err);
}

eb_status eb_sq_end(eb_store *s, eb_status st, eb_error *err)
{
    if (st == EB_OK) return s->be->exec(s, "COMMIT", err);
    eb_error ignored = {0};
    s->be->exec(s, "ROLLBACK", &ignored);
    return st;
}

/* ---- specs ---- */

eb_status eb_store_set_record_hash(eb_store *s, const char *table, long long id,
                                   const char *record_json, eb_error *err)
{
    if (s->version < 6) return EB_OK;
    char hex[65], ids[32], sql[96];
    eb_sha256_text(record_json, strlen(record_json), hex);
    snprintf(ids, sizeof ids, "%lld", id);
    snprintf(sql, sizeof sql, "UPDATE %s SET record_hash = $2 WHERE id = $1", table);
    const char *p[] = {ids, hex};
    return eb_sq_exec(s, sql, 2, p, err);
}
