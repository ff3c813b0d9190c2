/* The sampler: a thread that wakes on absolute CLOCK_MONOTONIC deadlines,
 * reads every power source and the process's RSS into preallocated arrays,
 * and counts the deadlines it missed. Phases are attributed afterwards from
 * the boundary timestamps the benchmark records. */
#ifndef EDGEBENCH_SAMPLER_H
#define EDGEBENCH_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "edgebench/error.h"
#include "edgebench/sensors.h"

typedef struct eb_sampler eb_sampler;

typedef struct eb_sampler_config {
    double interval_s;  /* 0.001 .. 1.0 */
    const char *root;   /* sysfs/procfs root */
    size_t max_samples; /* 0: one hour at the interval */
    bool no_power;      /* memory only (for comparisons) */
} eb_sampler_config;

typedef struct eb_probe_report {
    const char *source;
    eb_probe result;
    char reason[256];
} eb_probe_report;

eb_status eb_sampler_create(const eb_sampler_config *cfg, eb_sampler **out, eb_error *err);
void eb_sampler_free(eb_sampler *s);

/* What each backend said when probed. */
size_t eb_sampler_probe_count(const eb_sampler *s);
const eb_probe_report *eb_sampler_probe(const eb_sampler *s, size_t i);

int eb_sampler_n_channels(const eb_sampler *s);
const eb_channel *eb_sampler_channel(const eb_sampler *s, int i);
bool eb_sampler_has_total(const eb_sampler *s);

/* Starts the thread after one synchronous sample; stop takes a last one, so
 * any interval between start and stop is bracketed by samples. */
eb_status eb_sampler_start(eb_sampler *s, eb_error *err);
void eb_sampler_stop(eb_sampler *s);
/* Takes a sample now, from the calling thread (used at phase boundaries of
 * phases shorter than the interval would otherwise go unsampled). */
void eb_sampler_sample_now(eb_sampler *s);

size_t eb_sampler_n_samples(const eb_sampler *s);
const double *eb_sampler_times(const eb_sampler *s);
const double *eb_sampler_values(const eb_sampler *s); /* n_samples x n_channels */
const uint64_t *eb_sampler_rss_kb(const eb_sampler *s);
uint64_t eb_sampler_missed(const eb_sampler *s);
size_t eb_sampler_dropped(const eb_sampler *s); /* samples past max_samples */
double eb_sampler_interval(const eb_sampler *s);

/* Energy of the device total (sum of in_total channels) between a and b,
 * with mean and peak power. False when no total exists or samples do not
 * cover [a, b]. */
bool eb_sampler_total_energy(const eb_sampler *s, double a, double b, double *joules,
                             double *peak_w);

#endif
