/* Energy over an interval from sampled series: differences of a cumulative
 * counter interpolated at the boundaries, or the trapezoid rule over power
 * with the boundary values interpolated. Exact for piecewise-linear power. */
#ifndef EDGEBENCH_ENERGY_H
#define EDGEBENCH_ENERGY_H

#include <stdbool.h>
#include <stddef.h>
#include "edgebench/sensors.h"

/* t: n sample times (ascending); v: values with the given stride. NaN values
 * are gaps: an interval touching one has no answer. */
bool eb_energy_between(eb_channel_kind kind, const double *t, const double *v, size_t stride,
                       size_t n, double a, double b, double *joules, double *peak_w);

#endif
