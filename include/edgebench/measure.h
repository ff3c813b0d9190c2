/* Per-span measurements of `edgebench run` beside the timings: memory at
 * span boundaries, and after the run the energy, power and sampled channels
 * of every span, with a reason for each measurement that is missing. */
#ifndef EDGEBENCH_MEASURE_H
#define EDGEBENCH_MEASURE_H

#include "edgebench/bench.h"

/* Fills every measurement with NaN. */
void eb_measure_clear(double pm[EB_PM_COUNT]);
/* Process and system memory now, as the end of a span. */
void eb_measure_span_memory(const char *root, double pm[EB_PM_COUNT]);
/* The hottest thermal zone under root (C); false when there is none. */
bool eb_measure_max_temp(const char *root, double *celsius);
/* Pages swapped in and out since boot (/proc/vmstat); NaN when unknown. */
double eb_measure_swap_pages(const char *root);
/* --wait-idle: until other processes take at most cfg->disturbed_above_pct
 * of the CPUs over half a second, at most cfg->wait_idle_s; the wait. */
double eb_wait_idle(const eb_run_config *cfg);
/* Governors per cpufreq policy and online CPUs, for the result header. */
void eb_measure_cpu_header(const char *root, eb_run_result *res);
/* After the runs: energy (sampler total or external meter), idle power,
 * channel summaries, statistics and reasons. The meter log is read here,
 * once the run is over; a bad log is an error but leaves the rest. */
eb_status eb_measure_finish(eb_run_result *res, eb_error *err);

/* Readings fewer than this within a phase make its per-repetition energy
 * an interpolation; the result's figure is then the mean over the
 * repetitions, whose readings pool, and says so. */
#define EB_ENERGY_MIN_READINGS 4

/* The 95 % interval (half-width) of the mean over the measured repetitions
 * of span s's energy figure m (energy, energy above idle, mean power,
 * energy per token, action per token): the repetitions' spread with the
 * sensor's bounds (eb_energy_u95). NaN for other figures or when the energy
 * is an estimate. *sys_left_out: the sensor's accuracy is not published and
 * the interval leaves it out. */
double eb_result_energy_u95(const eb_run_result *r, eb_span s, eb_pm m, bool *sys_left_out);
/* Whether m is one of those energy figures. */
bool eb_pm_is_energy(eb_pm m);

/* The shared parts of a measured run (`run` and `ppl`): the result's
 * header; the sampler started and idle power measured; and the span
 * boundaries, where peak RSS is reset, a sample taken and memory read. */
/* The devices and GPU layers of a run's --backend or --device (see
 * eb_load_params.devices); EB_E_NOT_AVAILABLE for a backend not here. */
eb_status eb_run_devices(const eb_engine_ops *e, const eb_run_config *cfg, char *devices,
                         size_t cap, int *ngl, eb_error *err);
/* The sampler a run's configuration asks for (its period, root, TDP
 * estimate and meter): one place for every command that samples a run. */
eb_sampler_config eb_run_sampler_config(const eb_run_config *cfg);
void eb_run_fill_header(const eb_engine_ops *e, const eb_run_config *cfg, eb_run_result *res);
eb_status eb_measure_begin(const eb_run_config *cfg, eb_run_result *res,
                           eb_run_progress_fn progress, void *user, eb_error *err);
double eb_span_begin(const eb_run_config *cfg, eb_sampler *smp, eb_rep *rep, eb_span s);
void eb_span_end(const eb_run_config *cfg, eb_sampler *smp, eb_rep *rep, eb_span s, double t);

/* --duration: the measured runs per window (lib/bench/sustained.c). */
eb_status eb_sustained_windows(eb_run_result *res);

#endif
