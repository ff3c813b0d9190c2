/* The results store: SQLite on one device with no setup, PostgreSQL when
 * several devices report to one place. One record per trial (the JSON a run
 * or a sweep produces) goes in as one transaction and is spread over tables
 * for devices, builds, models, trials, runs, per-phase measures, counters
 * and timelines. The schema is versioned; older stores are migrated, a store
 * made by a newer edgebench is refused and never written. */
#ifndef EDGEBENCH_STORE_H
#define EDGEBENCH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "edgebench/bench.h"
#include "edgebench/error.h"
#include "edgebench/table.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eb_store eb_store;

/* The schema version this build writes. */
int eb_store_latest_version(void);

/* The store a spec names: "sqlite:PATH", a plain PATH (SQLite),
 * "postgresql://..." or "postgres://..." (a libpq URI) or "postgresql:" alone
 * (libpq's PG* environment). NULL or "" means $EDGEBENCH_STORE, else
 * "sqlite:edgebench.db". */
const char *eb_store_default_spec(void);

/* Opens (creating or migrating as needed) the store a spec names. */
eb_status eb_store_open(const char *spec, eb_store **out, eb_error *err);
/* For readers (results, analyze, report): as eb_store_open, but a store file
 * that is not there is an error naming it, not a new empty store. */
eb_status eb_store_open_existing(const char *spec, eb_store **out, eb_error *err);
/* As eb_store_open, migrating no further than max_version (tests build an
 * old store with it). */
eb_status eb_store_open_version(const char *spec, int max_version, eb_store **out, eb_error *err);
void eb_store_close(eb_store *s);

int eb_store_schema_version(const eb_store *s);
/* A stored trial's whole record (JSON, malloc'd). */
eb_status eb_store_trial_record(eb_store *s, long long trial_id, char **json, eb_error *err);
/* Whether the store holds nothing yet: no trial, perplexity run or probe
 * (each found by one indexed row, whatever the store's size). */
eb_status eb_store_is_empty(eb_store *s, bool *empty, eb_error *err);
/* The spec with any password replaced by "***": safe to print. */
const char *eb_store_name(const eb_store *s);
void eb_store_redact(const char *spec, char *out, size_t cap);

/* Stores one trial record (a JSON object: trial_key, config, status,
 * reason, started_at, duration_s, device, system, result = a run's JSON) in
 * one transaction. *trial_id (may be NULL) gets its id. */
eb_status eb_store_put(eb_store *s, const char *record_json, long long *trial_id, eb_error *err);

/* Whether a trial with this key completed (status ok) on the device of this
 * hostname ("" = on any device). */
eb_status eb_store_trial_done(eb_store *s, const char *trial_key, const char *hostname, bool *done,
                              eb_error *err);

/* Reads a file of records into the store: llama-bench output (-o json or
 * jsonl) or edgebench records (a fallback file, a run's --format json).
 * *n_trials (may be NULL) gets how many trials were stored. JSON lines are
 * read one at a time (memory bounded by one record) and committed in
 * batches; a record already stored (by its content hash) is skipped, so an
 * import cut short by a crash is run again and stores only the rest. */
eb_status eb_store_import(eb_store *s, const char *path, size_t *n_trials, eb_error *err);

typedef struct eb_import_progress {
    size_t records; /* read so far */
    size_t stored;  /* of them, new (committed) */
    size_t skipped; /* of them, already in the store */
    size_t refused; /* left out: no JSON, no record, a field that does not fit the
                       schema, a line over the limit, a stored trial with other content */
    uint64_t bytes_done, bytes_total;
    double elapsed_s;
} eb_import_progress;
typedef void (*eb_import_progress_fn)(void *user, const eb_import_progress *p);
/* eb_store_import with a progress callback at each committed batch. */
eb_status eb_store_import_progress(eb_store *s, const char *path, eb_import_progress_fn fn,
                                   void *user, size_t *n_trials, eb_error *err);
/* A line of a JSON-lines file that is no record: where ("FILE:LINE") and why. */
typedef void (*eb_import_bad_fn)(void *user, const char *where, const char *why);
typedef struct eb_import_opts {
    eb_import_progress_fn progress;
    eb_import_bad_fn bad_line; /* each line left out (NULL: none told) */
    void *user;
    bool strict;           /* stop at the first bad line instead of going on past it */
    size_t max_line_bytes; /* a longer line is refused; 0: EB_IMPORT_LINE_MAX */
} eb_import_opts;
#define EB_IMPORT_LINE_MAX ((size_t)16 << 20)
/* The import: a line that is no record (not JSON, cut short, neither a
 * llama-bench result nor an edgebench record, a field whose type or range
 * does not fit the schema, longer than the limit, or the same trial as a
 * stored one with different content) is told and left out, and the lines
 * after it are imported; the status then says how many were left out
 * and which was first (EB_E_INVALID_ARG), with every valid record stored.
 * strict: the first such line ends the import (what came before stays). A
 * failure of the store itself ends it. */
eb_status eb_store_import_with(eb_store *s, const char *path, const eb_import_opts *o,
                               size_t *n_trials, eb_error *err);

/* Several records in one transaction: each eb_store_put between these is
 * a savepoint (a bad record is rolled back alone), committed together. */
eb_status eb_store_batch_begin(eb_store *s, eb_error *err);
eb_status eb_store_batch_end(eb_store *s, eb_error *err);

/* Appends a record as one JSON line to a local file and syncs it: where a
 * sweep goes on when the store cannot be written; eb_store_import reads it. */
eb_status eb_fallback_append(const char *path, const char *record_json, eb_error *err);

/* ---- getting results out ---- */

typedef enum eb_results_view {
    EB_VIEW_TRIALS,      /* one row per trial with means of the measured runs */
    EB_VIEW_RUNS,        /* one row per run */
    EB_VIEW_LLAMA_BENCH, /* llama-bench's rows: one per prompt or generation test */
    EB_VIEW_QUALITY,     /* perplexity runs, with KL divergence against a base */
    EB_VIEW_PROBES,      /* device probes: one row per measurement, newest first */
    EB_VIEW_ROOFLINE,    /* trials with their model's shape, for the limits */
    /* measured runs of ok trials with only what the analyses group and
     * average: the runs view's lookups a fleet's store cannot afford */
    EB_VIEW_ANALYSIS,
    /* trials with their RPC nodes, link and per-token split (schema 9),
     * and the one-process trials beside them */
    EB_VIEW_DISTRIBUTED,
    /* how the numbers were made: one row per device, build and model file
     * with the trials, workloads, repetitions, warm-ups, disturbed runs and
     * energy sources (the report's methods section; human column names) */
    EB_VIEW_METHODS,
    /* one row per server-under-load trial (run --engine server): its load
     * level's distributions, goodput, errors and energy, beside the same
     * device's and model's in-process generation t/s */
    EB_VIEW_SERVING,
    /* what ran where: trials by device, model, backend, devices and
     * outcome, with a failure's reason */
    EB_VIEW_BACKENDS
} eb_results_view;

typedef struct eb_results_filter {
    const char *device;   /* hostname or board, substring */
    const char *model;    /* name or path, substring */
    const char *quant;    /* exact, case-insensitive */
    const char *governor; /* exact */
    const char *status;   /* ok / failed */
    const char *since;    /* ISO 8601 date or time, inclusive */
    const char *until;    /* exclusive */
    int threads;          /* generation threads; 0 = any */
    long long limit;      /* 0 = all */
    bool with_disturbed;  /* analyses: keep runs marked disturbed (left out by default) */
} eb_results_filter;

eb_status eb_store_results(eb_store *s, eb_results_view view, const eb_results_filter *f,
                           eb_table *out, eb_error *err);

/* Every window of the sustained runs (--duration), with its trial's
 * device, model, type and settings: trial_id, device, model, quant,
 * threads_gen, n_parallel, t_start_s, t_end_s, runs, gen_tps, ... */
eb_status eb_store_windows(eb_store *s, eb_table *out, eb_error *err);

/* The llama.cpp builds the trials ran on, per device: device,
 * engine_version, backend, variant, cpu_features, features_off,
 * features_off_reason, trials (schema 10). */
eb_status eb_store_builds(eb_store *s, eb_table *out, eb_error *err);
/* A calibration (calibrate.h) with its rungs as JSON; the newest of a
 * device (*found false when it has none); every device's newest, for the
 * report. */
eb_status eb_store_put_calibration(eb_store *s, const eb_calibration *c, const char *rungs_json,
                                   eb_error *err);
eb_status eb_store_calibration_of(eb_store *s, const char *device, eb_calibration *out, bool *found,
                                  eb_error *err);
eb_status eb_store_calibrations(eb_store *s, eb_table *out, eb_error *err);

/* The newest trial that has a stored timeline (0: none). */
eb_status eb_store_latest_timeline(eb_store *s, long long *trial_id, eb_error *err);
/* Timeline samples of one trial: columns trial_id, rep, t_s, channel, value. */
eb_status eb_store_timeline(eb_store *s, long long trial_id, eb_table *out, eb_error *err);

#ifdef __cplusplus
}
#endif
#endif
