/* Calibrating a device's own power sensors against an external meter:
 * a load ladder (idle, 1..N threads busy, a memory-bound load), the
 * on-board total against the meter at each rung, and a line fitted through
 * them (the meter's watts = gain x on-board + offset). The Pi 5's PMIC rails
 * miss conversion losses and the 5 V input; a fitted line puts them back,
 * with the fit's residual carried into every calibrated figure. */
#ifndef EDGEBENCH_CALIBRATE_H
#define EDGEBENCH_CALIBRATE_H

#include "edgebench/bench.h"

typedef struct eb_calib_point {
    char rung[48];
    double seconds;
    double onboard_w, meter_w;
} eb_calib_point;

typedef struct eb_calibrate_config {
    const char *root;      /* sysfs/procfs root */
    const char *meter;     /* sensors.h's forms */
    double meter_gain_err; /* NaN: not published */
    double rung_s;         /* each rung's measured window */
    double settle_s;       /* load running before the window opens */
    int max_threads;       /* busy rungs 1..max_threads */
    double interval_s;     /* sampler interval */
    /* a last rung run by the caller (an inference): started before the
     * rung's settling, stopped after its window; NULL: no such rung */
    const char *extra_rung;
    bool (*extra_start)(void *user, char *why, size_t cap);
    void (*extra_stop)(void *user);
    void *extra_user;
} eb_calibrate_config;

/* Least squares through n points; false with fewer than 3 or no spread in
 * the on-board watts. */
bool eb_calibration_fit(const eb_calib_point *p, int n, eb_calibration *c);

/* Runs the ladder: *points (owned by the caller) gets each rung. Fails when
 * the meter does not answer or the device has no on-board total. */
eb_status eb_calibrate_run(const eb_calibrate_config *cfg, eb_calib_point **points, int *n,
                           eb_calibration *cal, eb_run_progress_fn progress, void *user,
                           eb_error *err);

/* A run's on-board energy through the calibration: per repetition and
 * span, calibrated energy (gain x on-board + offset x length), its bound
 * (the on-board bounds times the gain, and 1.96 residuals over the span)
 * and per token; then their statistics. The result keeps the calibration. */
void eb_result_calibrate(eb_run_result *res, const eb_calibration *cal);

#endif
