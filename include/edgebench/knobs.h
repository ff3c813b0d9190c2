/* Device knobs a sweep sets and must give back: CPU governors (cpufreq
 * sysfs) and Jetson power modes (nvpmodel). Only these known knobs are ever
 * written, and values are checked against what the device offers. Paths go
 * through a root so tests use fixture trees. */
#ifndef EDGEBENCH_KNOBS_H
#define EDGEBENCH_KNOBS_H

#include <stdbool.h>
#include <stddef.h>
#include "edgebench/error.h"

#define EB_MAX_POLICIES 32

/* cpufreq policies under root ("policy0", ...); returns the count. */
int eb_cpufreq_policies(const char *root, char names[][16], int max);
/* True when every policy offers gov; offered gets the first policy's list. */
bool eb_governor_offered(const char *root, const char *gov, char *offered, size_t cap);
eb_status eb_governor_set_all(const char *root, const char *gov, eb_error *err);
/* "policy0=ondemand policy4=schedutil" */
void eb_governors_describe(const char *root, char *out, size_t cap);

/* The id of a power mode name in <root>/etc/nvpmodel.conf; -1 if unknown. */
int eb_nvpmodel_id(const char *root, const char *name);

/* The state file: what the device had before the sweep changed it. Saved
 * before the first change; restored at the end, on SIGINT/SIGTERM, and at
 * the next start if a sweep died. */
eb_status eb_knobs_save(const char *state_path, const char *root, int nvpmodel_id, eb_error *err);
/* Restores the governors of a state file and removes it; *restored says
 * whether one existed, *nvpmodel_id the power mode to set back (-1: none),
 * which the caller sets with the nvpmodel program. */
eb_status eb_knobs_restore(const char *state_path, const char *root, bool *restored,
                           int *nvpmodel_id, eb_error *err);

#endif
