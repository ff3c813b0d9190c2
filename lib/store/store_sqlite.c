/* The SQLite backend: one file, WAL mode, writers wait for each other. */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "edgebench/util.h"
#include "store_impl.h"

/* Prepared statements kept for reuse: a trial's record is a few hundred
 * inserts of a dozen shapes, and parsing each again was most of the cost
 * of storing one. A cache, not a limit: a statement not in it is prepared. */
#define SQ_STMT_CACHE 64

typedef struct sq_conn {
    sqlite3 *db;
    struct {
        char *sql;
        sqlite3_stmt *st;
    } cache[SQ_STMT_CACHE];
    int next; /* the slot replaced next */
} sq_conn;

static sqlite3 *db_of(const eb_store *s)
{
    return s->conn ? ((sq_conn *)s->conn)->db : NULL;
}

static sqlite3_stmt *prepare(sq_conn *c, const char *sql)
{
    for (int i = 0; i < SQ_STMT_CACHE; i++)
        if (c->cache[i].sql && strcmp(c->cache[i].sql, sql) == 0) {
            sqlite3_reset(c->cache[i].st);
            sqlite3_clear_bindings(c->cache[i].st);
            return c->cache[i].st;
        }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) return NULL;
    char *copy = strdup(sql);
    if (!copy) return st; /* used once, finalized by the caller's reset path */
    int k = c->next;
    c->next = (c->next + 1) % SQ_STMT_CACHE;
    if (c->cache[k].st) sqlite3_finalize(c->cache[k].st);
    free(c->cache[k].sql);
    c->cache[k].sql = copy;
    c->cache[k].st = st;
    return st;
}

static bool cached(const sq_conn *c, const sqlite3_stmt *st)
{
    for (int i = 0; i < SQ_STMT_CACHE; i++)
        if (c->cache[i].st == st) return true;
    return false;
}

static eb_status sq_fail(eb_store *s, eb_error *err, const char *what)
{
    sqlite3 *db = db_of(s);
    int code = db ? sqlite3_errcode(db) : SQLITE_ERROR;
    eb_status st = code == SQLITE_NOMEM ? EB_E_NO_MEMORY : EB_E_IO;
    const char *hint = code == SQLITE_FULL       ? " (disk full)"
                       : code == SQLITE_READONLY ? " (read-only)"
                       : code == SQLITE_NOTADB   ? " (not an SQLite database)"
                       : code == SQLITE_CORRUPT  ? " (the database is corrupt)"
                                                 : "";
    return eb_fail(err, st, "store %s: %s: %s%s", s->name, what, db ? sqlite3_errmsg(db) : "",
                   hint);
}

static bool sq_exists(const char *target)
{
    struct stat sb;
    return stat(target, &sb) == 0;
}

static eb_status sq_open(eb_store *s, const char *target, eb_error *err)
{
    sq_conn *c = calloc(1, sizeof *c);
    if (!c) return eb_fail(err, EB_E_NO_MEMORY, "store %s: out of memory", s->name);
    s->conn = c;
    int rc = sqlite3_open_v2(target, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    sqlite3 *db = c->db;
    if (rc != SQLITE_OK) return sq_fail(s, err, "cannot open");
    /* Several processes (two sweeps, a report) may share the file. */
    sqlite3_busy_timeout(db, 60000);
    sqlite3_extended_result_codes(db, 0);
    /* Reading the header finds a file that is not a database at once. */
    /* Switching a new file to WAL needs it alone; a second process opening
     * it at that moment is told "busy" without waiting, so it tries again. */
    for (int tries = 0; tries < 600; tries++) {
        rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;", NULL, NULL, NULL);
        if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (rc != SQLITE_OK) {
        /* A read-only file cannot switch to WAL but can still be read. */
        if (rc != SQLITE_READONLY) return sq_fail(s, err, "cannot open");
    }
    rc = sqlite3_exec(db, "PRAGMA synchronous=NORMAL; SELECT count(*) FROM sqlite_master;", NULL,
                      NULL, NULL);
    if (rc != SQLITE_OK) return sq_fail(s, err, "cannot read");
    return EB_OK;
}

static void sq_close(eb_store *s)
{
    sq_conn *c = s->conn;
    if (c) {
        for (int i = 0; i < SQ_STMT_CACHE; i++) {
            if (c->cache[i].st) sqlite3_finalize(c->cache[i].st);
            free(c->cache[i].sql);
        }
        if (c->db) sqlite3_close(c->db);
        free(c);
    }
    s->conn = NULL;
}

/* A cached statement keeps the column list it was prepared with (SQLite
 * re-prepares it on the next step, but its column count is read before
 * that): a schema change drops every cached statement. */
static void forget_statements(sq_conn *c)
{
    for (int i = 0; c && i < SQ_STMT_CACHE; i++) {
        if (c->cache[i].st) sqlite3_finalize(c->cache[i].st);
        free(c->cache[i].sql);
        c->cache[i].st = NULL;
        c->cache[i].sql = NULL;
    }
}

static eb_status sq_exec(eb_store *s, const char *sql, eb_error *err)
{
    while (*sql == ' ' || *sql == '\n')
        sql++;
    if (!strncasecmp(sql, "ALTER", 5) || !strncasecmp(sql, "CREATE", 6) ||
        !strncasecmp(sql, "DROP", 4))
        forget_statements(s->conn);
    char *msg = NULL;
    int rc = sqlite3_exec(db_of(s), sql, NULL, NULL, &msg);
    sqlite3_free(msg);
    return rc == SQLITE_OK ? EB_OK : sq_fail(s, err, "statement failed");
}

/* REAL cells as the shortest text that reads back to the same double. */
static char *real_text(double v)
{
    char buf[40];
    eb_format_double(buf, sizeof buf, v);
    return strdup(buf);
}

/* Done with a statement: a cached one is reset (so that it holds no lock or
 * read transaction), any other finalized. */
static void release(sq_conn *c, sqlite3_stmt *st)
{
    if (cached(c, st)) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    } else {
        sqlite3_finalize(st);
    }
}

static eb_status sq_query(eb_store *s, const char *sql, int n, const char *const *params,
                          const unsigned char *numeric, eb_table *out, eb_error *err)
{
    sq_conn *conn = s->conn;
    sqlite3_stmt *st = prepare(conn, sql);
    if (!st) return sq_fail(s, err, "cannot prepare a statement");
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", i + 1);
        int idx = sqlite3_bind_parameter_index(st, name);
        if (idx == 0) continue; /* a parameter the statement does not use */
        char *end = NULL;
        double d = params[i] && numeric && numeric[i] ? strtod(params[i], &end) : 0;
        if (!params[i])
            sqlite3_bind_null(st, idx);
        else if (end && end != params[i] && *end == '\0' && fabs(d) < 9e15 &&
                 d == (double)(long long)d) /* converted only once it is in range */
            sqlite3_bind_int64(st, idx, (long long)d);
        else if (end && end != params[i] && *end == '\0')
            sqlite3_bind_double(st, idx, d); /* glibc's strtod rounds exactly */
        else
            sqlite3_bind_text(st, idx, params[i], -1, SQLITE_TRANSIENT);
    }
    eb_status result = EB_OK;
    size_t ncol = (size_t)sqlite3_column_count(st);
    if (out) {
        const char **names = calloc(ncol ? ncol : 1, sizeof *names);
        if (!names) {
            release(conn, st);
            return eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
        }
        for (size_t c = 0; c < ncol; c++)
            names[c] = sqlite3_column_name(st, (int)c);
        result = eb_table_init(out, ncol, names, NULL);
        free(names);
    }
    char **row = out ? calloc(ncol ? ncol : 1, sizeof *row) : NULL;
    int rc = SQLITE_DONE;
    while (result == EB_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!out) continue;
        for (size_t c = 0; c < ncol; c++) {
            int type = sqlite3_column_type(st, (int)c);
            if (type == SQLITE_NULL)
                row[c] = NULL;
            else if (type == SQLITE_FLOAT)
                row[c] = real_text(sqlite3_column_double(st, (int)c));
            else
                row[c] = strdup((const char *)sqlite3_column_text(st, (int)c));
            if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) out->numeric[c] = 1;
        }
        result = eb_table_add_row(out, row);
        for (size_t c = 0; c < ncol; c++)
            free(row[c]);
    }
    free(row);
    if (result == EB_OK && rc != SQLITE_DONE) result = sq_fail(s, err, "statement failed");
    release(conn, st);
    if (result != EB_OK && out) eb_table_free(out);
    return result;
}

const eb_store_backend eb_store_sqlite = {
    .name = "sqlite",
    .caps = 0, /* one machine's file: no fleet */
    .id_column = "INTEGER PRIMARY KEY AUTOINCREMENT",
    .open = sq_open,
    .exists = sq_exists,
    .close = sq_close,
    .exec = sq_exec,
    .query = sq_query,
    .begin_exclusive = "BEGIN IMMEDIATE",
    .begin = "BEGIN IMMEDIATE",
    .prefixes = (const char *const[]){"sqlite:", NULL},
    .strip_prefix = true,
    .spec_has_secrets = false,
    .tables_sql = "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                  " AND name = 'eb_meta'), (SELECT count(*) FROM sqlite_master)",
};
