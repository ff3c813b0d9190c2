/* A sweep's bookkeeping, apart from running processes: the journal (every
 * record as a JSON line, fsync'd), which trials are already complete, the
 * record of a trial, the trials that share one process (isolation=model),
 * and the `edgebench run` arguments each trial gets from the parameter
 * table. */
#ifndef EDGEBENCH_SWEEP_H
#define EDGEBENCH_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "edgebench/error.h"
#include "edgebench/plan.h"
#include "edgebench/sysinfo.h"

struct cJSON;

/* Trial keys known complete (status ok) in a journal: a sorted set, so a
 * lookup costs log(n) whatever the journal's size. */
typedef struct eb_keyset {
    uint64_t *keys;
    size_t n, cap;
} eb_keyset;

/* Reads the journal at path line by line (memory bounded by one line); a
 * missing file is an empty set, a line cut short by a crash is skipped.
 * *n_lines counts the records read. */
eb_status eb_journal_done_keys(const char *path, eb_keyset *ks, size_t *n_lines, eb_error *err);
bool eb_keyset_has(const eb_keyset *ks, const char *key_hex);
eb_status eb_keyset_add(eb_keyset *ks, const char *key_hex, eb_error *err);
void eb_keyset_free(eb_keyset *ks);

/* Appends one record as a line and makes it durable before returning. */
bool eb_journal_append(int fd, const struct cJSON *rec);

/* The values a trial sets, by key. */
struct cJSON *eb_trial_config_json(const eb_trial *t);
/* Where a record comes from: its source ("run", "model-fit", "fleet",
 * "llama-bench"; NULL: a sweep's), its plan's name, and whether the trial's
 * index in its plan means anything. */
typedef struct eb_record_from {
    const char *source;
    const char *plan;
    bool indexed;
} eb_record_from;
/* The one record builder: a trial (eb_trial, keyed by eb_trial_rekey) as
 * the journal and the store take it; sys and result (either may be NULL)
 * are taken over; device NULL: none (the caller adds its own); seconds NaN:
 * not timed. A failed trial keeps its planned configuration and model. */
struct cJSON *eb_record_build(const eb_record_from *from, const eb_trial *t, const char *started_at,
                              bool ok, const char *reason, double seconds, struct cJSON *sys,
                              const eb_device_info *device, struct cJSON *result);
/* A sweep trial's record (eb_record_build with the plan's name and the
 * trial's index). */
struct cJSON *eb_trial_record(const eb_plan *plan, const eb_trial *t, time_t started, bool ok,
                              const char *reason, double seconds, struct cJSON *sys,
                              const eb_device_info *device, struct cJSON *result);

/* The most trials one process runs for isolation=model. */
#define EB_GROUP_MAX_TRIALS 64

/* Tells whether trial i of a plan is complete (journal or store). */
typedef bool (*eb_trial_done_fn)(void *user, const eb_trial *t);
/* isolation=model: how many trials from i on run in one process sharing one
 * model load: consecutive, in one section, not done, differing only in
 * thread counts (at most max). 1 for isolation=trial. */
size_t eb_plan_group_size(const eb_plan *plan, size_t i, size_t max, eb_trial_done_fn done,
                          void *user);

/* The `edgebench run` options of a trial, from the table: every run-scope
 * key it sets (or whose sweep default differs from run's) as --flag=value.
 * Without thread keys when skip_threads (a group's --thread-pairs carries
 * them). A NULL-terminated array of new strings; *argc its length. */
char **eb_trial_run_args(const eb_trial *t, bool skip_threads, int *argc, eb_error *err);
void eb_trial_run_args_free(char **args);

/* Why a trial process failed, from its stderr text: the trial's own error
 * line, led by the memory failure it shows ("out of memory: allocation of
 * 101.8 MiB failed under the address-space limit of 200 MiB
 * (memory_limit)"); memory_limit_mib 0: none set. */
void eb_failure_reason(const char *log, int memory_limit_mib, char *out, size_t cap);

/* The knobs of a sweep's trials: governors, Jetson power mode and clocks,
 * cache dropping, with everything changed given back at the end. The
 * programs (nvpmodel, jetson_clocks, swapoff/swapon) are found on PATH or
 * through $EDGEBENCH_NVPMODEL, $EDGEBENCH_JETSON_CLOCKS, $EDGEBENCH_SWAPOFF
 * and $EDGEBENCH_SWAPON. */
typedef struct eb_knob_session {
    const char *root;
    char state[1024];
    bool saved;
    int nvp_original; /* -1: never changed */
    char clocks_file[1100];
    bool clocks_stored;
} eb_knob_session;

/* Restores what an earlier sweep that died left behind (its state file);
 * *restored_before says whether there was any. */
eb_status eb_knob_session_begin(eb_knob_session *k, const char *root, const char *state,
                                bool *restored_before, eb_error *err);
/* Sets the trial's knobs and drops caches; records what was done in sys.
 * False with why when a knob could not be set (the trial fails). */
bool eb_knob_session_apply(eb_knob_session *k, const eb_trial *t, struct cJSON *sys, char *why,
                           size_t cap);
/* Gives everything back and removes the state file. */
eb_status eb_knob_session_end(eb_knob_session *k, eb_error *err);

#endif
