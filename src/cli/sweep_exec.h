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

/* Runs an expanded, checked plan; returns the exit code. */
int sweep_execute(eb_plan *plan, const sweep_opts *o);

#endif
