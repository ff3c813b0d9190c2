/* Energy over an interval from sampled series: differences of a cumulative
 * counter interpolated at the boundaries, or the trapezoid rule over power
 * with the boundary values interpolated. Exact for piecewise-linear power.
 *
 * With it, what the samples cannot see: between two readings the power is
 * assumed to stay within the range of the readings around it (for a
 * counter, of the mean powers of the neighbouring intervals). The
 * integration bound is that range times the time, halved where the
 * trapezoid sits in its middle, summed over the intervals the span touches:
 * zero for constant power, one step's height times half an interval for a
 * step, shrinking with the interval for a ramp. A pulse that falls between
 * two readings of a power sensor is invisible to any such bound; a counter
 * (RAPL, NVML energy) counts it. */
#ifndef EDGEBENCH_ENERGY_H
#define EDGEBENCH_ENERGY_H

#include <stdbool.h>
#include <stddef.h>
#include "edgebench/sensors.h"

typedef struct eb_energy_est {
    double joules;
    double peak_w;
    double u_integration_j; /* bound of the integration error (above) */
    double u_resolution_j;  /* readings within half a step each */
    size_t n_inside;        /* readings taken within [a, b] */
    double interval_s;      /* mean spacing of the readings around [a, b] */
} eb_energy_est;

/* t: n sample times (ascending); v: values with the given stride. NaN values
 * are gaps: an interval touching one has no answer. step: one step of the
 * reading (0: unknown). */
bool eb_energy_between_est(eb_channel_kind kind, const double *t, const double *v, size_t stride,
                           size_t n, double a, double b, double step, eb_energy_est *out);
bool eb_energy_between(eb_channel_kind kind, const double *t, const double *v, size_t stride,
                       size_t n, double a, double b, double *joules, double *peak_w);

/* A 95 % interval (half-width) of the mean of n repeated energy figures:
 * the repetitions' spread (Student t, ci_half; 0 when n < 2), the
 * instrument's systematic part (gain, offset and resolution: the same in
 * every repetition, so it does not shrink) and its random part (the
 * integration bound: the readings fall elsewhere in each repetition, so it
 * is divided by sqrt(n)), combined in quadrature. The bounds are treated as
 * 95 % half-widths, which overstates them. NaN parts are left out. */
double eb_energy_u95(double ci_half, size_t n, double u_sys, double u_rand);
/* What such an interval covers, in words, for the record: with the runs'
 * spread or without it (one window), with the sensor's accuracy or
 * without it (not published). */
const char *eb_energy_u95_covers(bool with_spread, bool accuracy_left_out);

#endif
