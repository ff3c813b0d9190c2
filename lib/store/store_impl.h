/* Inside the results store: the backend table every database implements,
 * and the helpers the schema, writer, importer and queries share. */
#ifndef EDGEBENCH_STORE_IMPL_H
#define EDGEBENCH_STORE_IMPL_H

#include "edgebench/store.h"

/* A backend speaks SQL with $1..$n text parameters and gives back text
 * cells (NULL for SQL NULL); numbers cross as their shortest exact text.
 * A parameter flagged numeric is a number written that way: a backend whose
 * own text-to-number conversion is not exact (SQLite's) binds it as a
 * number instead. */
/* What a backend can do, that callers ask it instead of comparing backends. */
enum {
    /* many devices at once: row leases (FOR UPDATE SKIP LOCKED), advisory
     * locks, a server every device reaches (the fleet's queue) */
    EB_STORE_CAP_FLEET = 1 << 0,
};

typedef struct eb_store_backend {
    const char *name;
    unsigned caps; /* EB_STORE_CAP_* */
    /* the column type of an auto-numbered primary key */
    const char *id_column;
    eb_status (*open)(eb_store *s, const char *target, eb_error *err);
    /* whether the target is there already (NULL: a server, always) */
    bool (*exists)(const char *target);
    void (*close)(eb_store *s);
    /* one or more statements without parameters */
    eb_status (*exec)(eb_store *s, const char *sql, eb_error *err);
    /* one statement; out (may be NULL) gets the rows */
    eb_status (*query)(eb_store *s, const char *sql, int n_params, const char *const *params,
                       const unsigned char *numeric, eb_table *out, eb_error *err);
    /* a transaction that holds the writers' lock from its start, so two
     * processes creating or migrating one store take turns */
    const char *begin_exclusive;
    const char *begin;
    /* spec prefixes that choose this backend, NULL-terminated */
    const char *const *prefixes;
    bool strip_prefix;     /* open() gets the spec without its prefix */
    bool spec_has_secrets; /* passwords may sit in the spec: redact it */
    /* counts of edgebench's meta table and of all tables, for read_version */
    const char *tables_sql;
} eb_store_backend;

/* Every backend; a spec with none of their prefixes is a file for the last
 * one (sqlite). */
extern const eb_store_backend *const eb_store_backends[];
extern const size_t eb_store_backend_count;
extern const eb_store_backend eb_store_sqlite;
extern const eb_store_backend eb_store_postgresql;
/* The backend a spec names, and where its target starts. */
const eb_store_backend *eb_store_backend_for(const char *spec, const char **target);

struct eb_store {
    const eb_store_backend *be;
    void *conn;
    int version;
    char name[1024];
    /* " a b c ": the trials table's columns (store_settings.c) */
    char trial_columns[4096];
    bool in_batch; /* eb_store_batch_begin: records go in as savepoints of one transaction */
    /* Sees every statement with parameters that goes through eb_sq_query:
     * the tests check each one's query plan. */
    void (*trace)(void *user, const char *sql, int n, const char *const *params);
    void *trace_user;
};

/* Every parameterised statement of the store goes through here. */
eb_status eb_sq_query(eb_store *s, const char *sql, int n, const char *const *p,
                      const unsigned char *numeric, eb_table *out, eb_error *err);

/* Sets the content hash (SHA-256 of record_json) of a trial or quality row
 * just written; schema 6 and later. */
eb_status eb_store_set_record_hash(eb_store *s, const char *table, long long id,
                                   const char *record_json, eb_error *err);

/* Runs a query and returns its first cell as a long long (0 when none). */
eb_status eb_sq_id(eb_store *s, const char *sql, int n, const char *const *p, long long *id,
                   eb_error *err);
eb_status eb_sq_id_num(eb_store *s, const char *sql, int n, const char *const *p,
                       const unsigned char *numeric, long long *id, eb_error *err);
eb_status eb_sq_exec(eb_store *s, const char *sql, int n, const char *const *p, eb_error *err);
/* As eb_sq_exec with numeric flags per parameter (see the backend). */
eb_status eb_sq_exec_num(eb_store *s, const char *sql, int n, const char *const *p,
                         const unsigned char *numeric, eb_error *err);
/* Ends a transaction: commit when st is EB_OK, else roll back; returns st or
 * the commit's failure. */
eb_status eb_sq_end(eb_store *s, eb_status st, eb_error *err);

/* Schema: creates or migrates up to max_version inside one exclusive
 * transaction; refuses a store newer than this build. */
eb_status eb_store_migrate(eb_store *s, int max_version, eb_error *err);
/* Summaries in llama-bench's terms of one trial's measured runs (used when
 * storing a trial and when migrating runs stored before they existed). */
eb_status eb_store_summarize_trial(eb_store *s, long long trial_id, eb_error *err);

/* eb_store_put on a parsed record (the importer's way in). */
struct cJSON;
/* One line of a file to import as a checked record (a llama-bench row
 * converted); NULL with err naming where and why. */
struct cJSON *eb_store_record_from_line(const char *text, size_t len, const char *where,
                                        eb_error *err);
/* Types and integer ranges of a record's fields against the schema, before
 * any store sees it (store_check.c); the message names the path. */
eb_status eb_store_check_record(const struct cJSON *rec, eb_error *err);
/* The record's device, build and model rows (found, else added); outside
 * a batch each statement commits on its own. ids: device, build, model. */
eb_status eb_store_put_shared(eb_store *s, const struct cJSON *rec, long long ids[3],
                              eb_error *err);
eb_status eb_store_put_json(eb_store *s, const struct cJSON *rec, long long *trial_id,
                            eb_error *err);

#endif
