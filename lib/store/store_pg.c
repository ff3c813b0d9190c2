/* The PostgreSQL backend through libpq: several devices write into one
 * database at once. Messages name the store by its redacted spec only, so a
 * password never reaches output or logs. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

/* libpq's message, first line only, with nothing of the connection string */
static void pg_message(PGconn *c, const PGresult *r, char *out, size_t cap)
{
    const char *m = r ? PQresultErrorMessage(r) : "";
    if ((!m || !m[0]) && c) m = PQerrorMessage(c);
    snprintf(out, cap, "%s", m ? m : "");
    out[strcspn(out, "\n")] = '\0';
}

static void pg_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* NOTICEs ("relation exists, skipping") are not errors */
}

static eb_status pg_open(eb_store *s, const char *target, eb_error *err)
{
    /* "postgresql:" alone: everything from the PG* environment */
    const char *conninfo = strcmp(target, "postgresql:") == 0 ? "" : target;
    PGconn *c = PQconnectdb(conninfo);
    s->conn = c;
    if (!c) return eb_fail(err, EB_E_NO_MEMORY, "store %s: out of memory", s->name);
    if (PQstatus(c) != CONNECTION_OK) {
        char m[512];
        pg_message(c, NULL, m, sizeof m);
        return eb_fail(err, EB_E_IO, "store %s: cannot connect: %s", s->name, m);
    }
    PQsetNoticeProcessor(c, pg_notice, NULL);
    PGresult *r = PQexec(c, "SET client_min_messages = warning; SET extra_float_digits = 1");
    ExecStatusType rs = PQresultStatus(r);
    PQclear(r);
    if (rs != PGRES_COMMAND_OK)
        return eb_fail(err, EB_E_IO, "store %s: cannot set up the session", s->name);
    return EB_OK;
}

static void pg_close(eb_store *s)
{
    if (s->conn) PQfinish(s->conn);
    s->conn = NULL;
}

static eb_status pg_fail(eb_store *s, PGresult *r, eb_error *err, const char *what)
{
    char m[512];
    pg_message(s->conn, r, m, sizeof m);
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *hint = state && strcmp(state, "53100") == 0   ? " (disk full)"
                       : state && strcmp(state, "25006") == 0 ? " (read-only)"
                       : PQstatus(s->conn) == CONNECTION_BAD  ? " (connection lost)"
                                                              : "";
    PQclear(r);
    return eb_fail(err, EB_E_IO, "store %s: %s: %s%s", s->name, what, m, hint);
}

static eb_status pg_exec(eb_store *s, const char *sql, eb_error *err)
{
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType rs = PQresultStatus(r);
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK)
        return pg_fail(s, r, err, "statement failed");
    PQclear(r);
    return EB_OK;
}

/* Type OIDs of the numeric types (pg_type.h) */
static int oid_numeric(Oid t)
{
    return t == 20 || t == 21 || t == 23 || t == 700 || t == 701 || t == 1700 || t == 26;
}

/* PostgreSQL's own conversion of number text is exact: numeric flags are
 * not needed. */
static eb_status pg_query(eb_store *s, const char *sql, int n, const char *const *params,
                          const unsigned char *param_numeric, eb_table *out, eb_error *err)
{
    (void)param_numeric;
    PGresult *r = PQexecParams(s->conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType rs = PQresultStatus(r);
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK)
        return pg_fail(s, r, err, "statement failed");
    if (!out) {
        PQclear(r);
        return EB_OK;
    }
    size_t ncol = (size_t)PQnfields(r), nrow = (size_t)PQntuples(r);
    const char **names = calloc(ncol ? ncol : 1, sizeof *names);
    unsigned char *numeric = calloc(ncol ? ncol : 1, 1);
    char **row = calloc(ncol ? ncol : 1, sizeof *row);
    eb_status st = names && numeric && row ? EB_OK : EB_E_NO_MEMORY;
    for (size_t c = 0; st == EB_OK && c < ncol; c++) {
        names[c] = PQfname(r, (int)c);
        numeric[c] = (unsigned char)oid_numeric(PQftype(r, (int)c));
    }
    if (st == EB_OK) st = eb_table_init(out, ncol, names, numeric);
    for (size_t i = 0; st == EB_OK && i < nrow; i++) {
        for (size_t c = 0; c < ncol; c++)
            row[c] = PQgetisnull(r, (int)i, (int)c) ? NULL : PQgetvalue(r, (int)i, (int)c);
        st = eb_table_add_row(out, row);
    }
    free(names);
    free(numeric);
    free(row);
    PQclear(r);
    if (st != EB_OK) {
        eb_table_free(out);
        return eb_fail(err, st, "store %s: out of memory", s->name);
    }
    return EB_OK;
}

const eb_store_backend eb_store_postgresql = {
    .name = "postgresql",
    .caps = EB_STORE_CAP_FLEET,
    .id_column = "BIGSERIAL PRIMARY KEY",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .query = pg_query,
    /* an advisory lock serialises schema changes between devices */
    .begin_exclusive = "BEGIN; SELECT pg_advisory_xact_lock(7302451)",
    .begin = "BEGIN",
    .prefixes = (const char *const[]){"postgresql:", "postgres:", NULL},
    .strip_prefix = false, /* libpq takes the whole URI */
    .spec_has_secrets = true,
    .tables_sql = "SELECT (SELECT count(*) FROM information_schema.tables WHERE"
                  " table_schema = current_schema() AND table_name = 'eb_meta'),"
                  " (SELECT count(*) FROM information_schema.tables WHERE"
                  " table_schema = current_schema())",
};
