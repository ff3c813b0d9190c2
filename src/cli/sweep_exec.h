/* The sweep executor: each trial of an expanded plan in its own
 * `edgebench run` process, device knobs set and restored, durable results. */
#ifndef EDGEBENCH_CLI_SWEEP_EXEC_H
#define EDGEBENCH_CLI_SWEEP_EXEC_H

#include <stdbool.h>
#include "edgebench/plan.h"

typedef struct sweep_opts {
    const char *results; /* NULL: the plan's, else edgebench-sweep.jsonl */
    const char *store;   /* NULL: the plan's, else the default store */
    const char *root;    /* where knobs are read and written ("/") */
    const char *state;   /* state file; NULL: in the cache directory */
    bool resume;
    bool dry_run;
    bool quiet;
} sweep_opts;

/* One trial in its own `edgebench run` process: what it gave and why not. */
typedef struct trial_outcome {
    bool ok, interrupted;
    char reason[512];
    double seconds;
    struct cJSON *result; /* an array: one result per configuration the process ran */
} trial_outcome;

/* Runs one trial (pairs: --thread-pairs for a group, else NULL; ceilings: a
 * probe file, or NULL), killing it past timeout_s; a stop asked with
 * sweep_stop() interrupts it (out->interrupted). */
void sweep_run_trial(const char *self, const eb_trial *t, const char *tmpdir, double timeout_s,
                     const char *pairs, const char *ceilings, trial_outcome *out);
void sweep_stop(int sig);
bool sweep_stopping(void);

/* Runs an expanded, checked plan; returns the exit code. */
int sweep_execute(eb_plan *plan, const sweep_opts *o);

#endif
