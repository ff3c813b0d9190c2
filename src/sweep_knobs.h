/* Device knobs during a sweep: governors, Jetson power mode and clocks,
 * cache dropping, with everything changed given back at the end. */
#ifndef EDGEBENCH_SWEEP_KNOBS_H
#define EDGEBENCH_SWEEP_KNOBS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "edgebench/error.h"
#include "edgebench/plan.h"

typedef struct sweep_knobs {
    const char *root;
    const char *state;
    bool saved;
    int nvp_original; /* -1: never changed */
    char clocks_file[1100];
    bool clocks_stored;
} sweep_knobs;

/* Restores what an earlier sweep that died left behind (its state file). */
eb_status sweep_knobs_begin(sweep_knobs *k, const char *root, const char *state, eb_error *err);
/* Sets the trial's knobs and drops caches; records what was done in sys.
 * False with why when a knob could not be set (the trial fails). */
bool sweep_knobs_apply(sweep_knobs *k, const eb_trial *t, cJSON *sys, char *why, size_t cap);
/* Gives everything back and removes the state file. */
void sweep_knobs_end(sweep_knobs *k);

/* oom_kill count of this process's cgroup (cgroup v2 memory.events). */
uint64_t sweep_oom_kills(void);

#endif
