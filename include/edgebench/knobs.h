/* Device knobs a sweep sets and must give back: CPU governors (cpufreq
 * sysfs) and Jetson power modes (nvpmodel). Only these known knobs are ever
 * written, and values are checked against what the device offers. Paths go
 * through a root so tests use fixture trees. */
#ifndef EDGEBENCH_KNOBS_H
#define EDGEBENCH_KNOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "edgebench/error.h"

struct cJSON;

/* Every cpufreq policy under root, in policy order ("policy0", "policy4",
 * ..., "policy127"), in a new array the caller frees; returns the count (0
 * when there is none, -1 when out of memory). */
int eb_cpufreq_policies(const char *root, char (**names)[16]);
/* True when every policy offers gov; offered gets the first policy's list. */
bool eb_governor_offered(const char *root, const char *gov, char *offered, size_t cap);
/* Sets gov on every policy and reads each back; any that differs fails. */
eb_status eb_governor_set_all(const char *root, const char *gov, eb_error *err);
/* "policy0=ondemand policy4=schedutil", every policy, in a new string the
 * caller frees (NULL when out of memory). */
char *eb_governors_describe(const char *root);

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

/* oom_kill count of this process's cgroup (cgroup v2 memory.events). */
uint64_t eb_oom_kills(void);

#endif
