/* An external power meter's log: a CSV of timestamp, watts. Wall-power
 * meters measure what the device really draws, converters included; the run
 * is aligned to the log by wall-clock time. */
#ifndef EDGEBENCH_METER_H
#define EDGEBENCH_METER_H

#include <stdbool.h>
#include <stddef.h>
#include "edgebench/error.h"

typedef struct eb_meter {
    size_t n;
    double *t; /* seconds since the Unix epoch, ascending */
    double *w; /* watts */
} eb_meter;

/* Reads "timestamp,watts" lines (also ';' or tab separated). A timestamp is
 * Unix seconds (fractions allowed) or ISO 8601 (2026-11-23T10:00:00.250Z;
 * without a zone it is local time). A header line, blank lines and lines
 * starting with '#' are skipped. Errors name the file and line. */
eb_status eb_meter_load(const char *path, eb_meter *m, eb_error *err);
void eb_meter_free(eb_meter *m);

/* Energy between two wall-clock times (trapezoid rule, interpolated at the
 * ends), with the peak; false when the log does not cover [a, b]. */
bool eb_meter_energy(const eb_meter *m, double a, double b, double *joules, double *peak_w);

#endif
