/* The sampler: a thread that wakes on absolute CLOCK_MONOTONIC deadlines,
 * reads the process's RSS and every fast source into preallocated arrays,
 * and counts the deadlines it missed. A slow source (the Pi 5 PMIC) gets a
 * thread and a time series of its own at its own interval. Phases are
 * attributed afterwards from the boundary timestamps the benchmark records. */
#ifndef EDGEBENCH_SAMPLER_H
#define EDGEBENCH_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "edgebench/energy.h"
#include "edgebench/error.h"
#include "edgebench/sensors.h"

typedef struct eb_sampler eb_sampler;

typedef struct eb_sampler_config {
    double interval_s;     /* 0.001 .. 1.0 */
    const char *root;      /* sysfs/procfs root */
    size_t max_samples;    /* per series; 0: one hour at the interval */
    bool no_power;         /* memory only (for comparisons) */
    bool no_state;         /* no CPU frequency or temperature sources */
    double tdp_w;          /* > 0 allows the CPU-load x TDP estimate */
    const char *meter;     /* --meter: read live, the total; one that does not answer fails */
    double meter_gain_err; /* its stated accuracy as a fraction; NaN: not published */
} eb_sampler_config;

typedef struct eb_probe_report {
    const char *source;
    const char *description;
    eb_probe result;
    char reason[256];
    /* channels the source found but did not keep, and why; "" when none */
    char left_out[640];
} eb_probe_report;

eb_status eb_sampler_create(const eb_sampler_config *cfg, eb_sampler **out, eb_error *err);
void eb_sampler_free(eb_sampler *s);

/* What each backend said when probed. */
size_t eb_sampler_probe_count(const eb_sampler *s);
const eb_probe_report *eb_sampler_probe(const eb_sampler *s, size_t i);

/* Channel 0 is the process's RSS (MiB); the sources' channels follow. */
int eb_sampler_n_channels(const eb_sampler *s);
const eb_channel *eb_sampler_channel(const eb_sampler *s, int i);
bool eb_sampler_has_total(const eb_sampler *s);
bool eb_sampler_total_is_estimate(const eb_sampler *s);
/* Where the device total comes from, in words (e.g. "ina3221:VDD_IN"). */
const char *eb_sampler_total_source(const eb_sampler *s);

/* Starts the threads after one synchronous sample; stop takes a last one,
 * so any interval between start and stop is bracketed by samples. */
eb_status eb_sampler_start(eb_sampler *s, eb_error *err);
void eb_sampler_stop(eb_sampler *s);
/* Takes a sample of the fast series now, from the calling thread (at phase
 * boundaries, so that counters are read exactly there). */
void eb_sampler_sample_now(eb_sampler *s);

/* The series holding channel c: its times, its values (row stride
 * *stride) and its sample count. */
void eb_sampler_series(const eb_sampler *s, int c, const double **times, const double **values,
                       size_t *stride, size_t *n);
/* Samples of the fast series (RSS's). */
size_t eb_sampler_n_samples(const eb_sampler *s);
uint64_t eb_sampler_missed(const eb_sampler *s); /* all series */
size_t eb_sampler_dropped(const eb_sampler *s);  /* samples past max_samples */
double eb_sampler_interval(const eb_sampler *s);

/* Intervals between the thread's own samples of the fast series (samples
 * taken at phase boundaries excluded). */
typedef struct eb_sampler_timing {
    size_t n_intervals;
    double median_s, p99_s, max_s;
    uint64_t missed;
} eb_sampler_timing;
void eb_sampler_timing_get(const eb_sampler *s, eb_sampler_timing *out);

/* Energy of the device total between a and b, with the peak of the summed
 * power. False when no total exists or samples do not cover [a, b]. */
bool eb_sampler_total_energy(const eb_sampler *s, double a, double b, double *joules,
                             double *peak_w);
/* The device total between a and b with what its readings can and cannot
 * tell: est's integration and resolution bounds summed over the total's
 * channels, the fewest readings any of them has inside [a, b] and the
 * longest interval. *u_sys: what is the same in every repetition, the
 * channels' gain and offset errors and their resolution (a constant power
 * rounds the same way each time); *published false when a channel's
 * accuracy is not published (its gain and offset then left out). */
bool eb_sampler_total_energy_est(const eb_sampler *s, double a, double b, eb_energy_est *est,
                                 double *u_sys, bool *published);
/* The same over the on-board total (eb_channel.onboard): the device's own
 * sensors when an external meter is the total. */
bool eb_sampler_onboard_energy_est(const eb_sampler *s, double a, double b, eb_energy_est *est,
                                   double *u_sys, bool *published);
/* Why a source of the total last failed to read ("" when none did). */
const char *eb_sampler_total_error(const eb_sampler *s);
/* The total's channels' accuracy in words: "name: basis; ...". */
void eb_sampler_total_accuracy(const eb_sampler *s, char *out, size_t cap);
/* Energy of one energy or power channel between a and b. */
bool eb_sampler_channel_energy(const eb_sampler *s, int c, double a, double b, double *joules,
                               double *peak_w);
/* Mean and maximum of a channel's samples within [a, b]; a window with no
 * sample uses the value interpolated at its middle. False when nothing is
 * known. */
bool eb_sampler_channel_summary(const eb_sampler *s, int c, double a, double b, double *mean,
                                double *max);

/* The device's state over a window, from every channel of its kind, each
 * NaN when no channel has it: the CPU's clock (the mean of its clock
 * channels' means: a GPU's clock is apart), the hottest zone, the GPU's
 * largest memory sample, its mean clock and load, other processes' CPU
 * share and steal, and the process's largest sampled RSS. One reading of
 * the channels for a run's phases and a server's load level alike. */
typedef struct eb_window_state {
    double cpu_freq_mhz, temp_max_c;
    double gpu_memory_mib, gpu_freq_mhz, gpu_load_pct;
    double other_cpu_pct, steal_pct;
    double rss_max_mib;
} eb_window_state;
void eb_sampler_window_state(const eb_sampler *s, double a, double b, eb_window_state *out);
/* The same from summaries already taken: mean[c] and max[c] are channel
 * c's over the window (eb_sampler_channel_summary; NaN where it has none). */
void eb_window_state_of(const eb_sampler *s, const double *mean, const double *max,
                        eb_window_state *out);

#endif
