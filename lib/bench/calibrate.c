/* `calibrate`: the load ladder, the fitted line, and calibrated energy in
 * a run's result (calibrate.h). */
#include "edgebench/calibrate.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgebench/energy.h"
#include "edgebench/measure.h"
#include "edgebench/sampler.h"
#include "edgebench/stats.h"
#include "edgebench/util.h"

bool eb_calibration_fit(const eb_calib_point *p, int n, eb_calibration *c)
{
    if (n < 3) return false;
    double mx = 0, my = 0;
    for (int i = 0; i < n; i++)
        mx += p[i].onboard_w / n, my += p[i].meter_w / n;
    double sxx = 0, sxy = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        double dx = p[i].onboard_w - mx, dy = p[i].meter_w - my;
        sxx += dx * dx, sxy += dx * dy, syy += dy * dy;
    }
    if (!(sxx > 1e-12 * (1 + mx * mx))) return false;
    c->gain = sxy / sxx;
    c->offset_w = my - c->gain * mx;
    double ssr = 0;
    for (int i = 0; i < n; i++) {
        double r = p[i].meter_w - (c->gain * p[i].onboard_w + c->offset_w);
        ssr += r * r;
    }
    c->residual_w = sqrt(ssr / (n - 2));
    c->r2 = syy > 0 ? 1 - ssr / syy : 1;
    c->n_points = n;
    return true;
}

/* ---- the ladder's loads ---- */

typedef struct load {
    pthread_t th[256];
    int n;
    bool memory;
    _Atomic int stop;
} load;

static void *spin(void *arg)
{
    load *l = arg;
    volatile double x = 1.0;
    while (!atomic_load_explicit(&l->stop, memory_order_relaxed))
        for (int i = 0; i < 100000; i++)
            x = x * 1.0000001 + 1e-9;
    return NULL;
}

/* Streams through buffers larger than a cache: memory-bound, as a
 * generation step is. */
static void *stream(void *arg)
{
    load *l = arg;
    size_t len = 32u << 20;
    char *a = malloc(len), *b = malloc(len);
    if (a && b) {
        memset(a, 1, len);
        while (!atomic_load_explicit(&l->stop, memory_order_relaxed))
            memcpy(b, a, len), memcpy(a, b, len);
    }
    free(a);
    free(b);
    return NULL;
}

static void load_start(load *l, int n, bool memory)
{
    atomic_store(&l->stop, 0);
    l->n = 0;
    l->memory = memory;
    for (int i = 0; i < n && i < 256; i++)
        if (pthread_create(&l->th[l->n], NULL, memory ? stream : spin, l) == 0) l->n++;
}

static void load_stop(load *l)
{
    atomic_store(&l->stop, 1);
    for (int i = 0; i < l->n; i++)
        pthread_join(l->th[i], NULL);
    l->n = 0;
}

static bool mean_watts(const eb_sampler *s, bool onboard, double a, double b, double *w)
{
    eb_energy_est est;
    double u;
    bool pub;
    bool ok = onboard ? eb_sampler_onboard_energy_est(s, a, b, &est, &u, &pub)
                      : eb_sampler_total_energy_est(s, a, b, &est, &u, &pub);
    if (ok) *w = est.joules / (b - a);
    return ok;
}

eb_status eb_calibrate_run(const eb_calibrate_config *cfg, eb_calib_point **points, int *n,
                           eb_calibration *cal, eb_run_progress_fn progress, void *user,
                           eb_error *err)
{
    *points = NULL;
    *n = 0;
    if (!cfg->meter) return eb_fail(err, EB_E_INVALID_ARG, "calibrate needs --meter");
    eb_sampler_config sc = {.interval_s = cfg->interval_s > 0 ? cfg->interval_s : 0.01,
                            .root = cfg->root,
                            .no_state = true,
                            .meter = cfg->meter,
                            .meter_gain_err = cfg->meter_gain_err};
    eb_sampler *s = NULL;
    eb_status st = eb_sampler_create(&sc, &s, err);
    if (st != EB_OK) return st;
    bool any_onboard = false;
    size_t len = 0;
    for (int c = 0; c < eb_sampler_n_channels(s); c++) {
        const eb_channel *ch = eb_sampler_channel(s, c);
        if (!ch->onboard) continue;
        any_onboard = true;
        len += (size_t)snprintf(cal->onboard + len,
                                len < sizeof cal->onboard ? sizeof cal->onboard - len : 0, "%s%s",
                                len ? " + " : "", ch->name);
    }
    if (!any_onboard) {
        eb_sampler_free(s);
        return eb_fail(err, EB_E_NOT_AVAILABLE,
                       "calibrate: this device has no power sensor of its own to calibrate (only "
                       "the meter measures)");
    }
    eb_meter_spec_public(cfg->meter, cal->meter, sizeof cal->meter);
    int max_t = cfg->max_threads > 0 ? cfg->max_threads : 1;
    bool extra = cfg->extra_rung && cfg->extra_start && cfg->extra_stop;
    int n_rungs = 1 + max_t + 1 + extra;
    eb_calib_point *p = calloc((size_t)n_rungs, sizeof *p);
    if (!p) {
        eb_sampler_free(s);
        return eb_fail(err, EB_E_NO_MEMORY, "calibrate");
    }
    if ((st = eb_sampler_start(s, err)) != EB_OK) {
        eb_sampler_free(s);
        free(p);
        return st;
    }
    load l = {0};
    for (int r = 0; r < n_rungs && st == EB_OK; r++) {
        eb_calib_point *pt = &p[r];
        bool inference = extra && r == n_rungs - 1;
        int threads = inference || r == 0 ? 0 : r <= max_t ? r : max_t;
        bool memory = r == max_t + 1;
        if (r == 0)
            snprintf(pt->rung, sizeof pt->rung, "idle");
        else if (inference)
            snprintf(pt->rung, sizeof pt->rung, "%.47s", cfg->extra_rung);
        else
            snprintf(pt->rung, sizeof pt->rung, "%s %d thread%s", memory ? "memory-bound" : "busy",
                     threads, threads == 1 ? "" : "s");
        if (progress) progress(user, pt->rung, r + 1, n_rungs);
        char why[256] = "";
        if (inference && !cfg->extra_start(cfg->extra_user, why, sizeof why)) {
            st = eb_fail(err, EB_E_IO, "calibrate: rung '%s' did not start: %s", pt->rung, why);
            break;
        }
        load_start(&l, threads, memory);
        eb_sleep(cfg->settle_s);
        double a = eb_now();
        eb_sleep(cfg->rung_s);
        double b = eb_now();
        /* the slow series (the meter, the PMIC) read once more past the window */
        eb_sleep(0.5);
        load_stop(&l);
        if (inference) cfg->extra_stop(cfg->extra_user);
        pt->seconds = b - a;
        if (!mean_watts(s, true, a, b, &pt->onboard_w) || !mean_watts(s, false, a, b, &pt->meter_w))
            st = eb_fail(err, EB_E_IO, "calibrate: rung '%s' has no reading of %s%s%s", pt->rung,
                         "the meter or the on-board sensors",
                         eb_sampler_total_error(s)[0] ? ": " : "", eb_sampler_total_error(s));
    }
    eb_sampler_stop(s);
    eb_sampler_free(s);
    if (st != EB_OK) {
        free(p);
        return st;
    }
    *points = p;
    *n = n_rungs;
    eb_utc_iso8601(time(NULL), cal->created_at, sizeof cal->created_at);
    /* a line through points that barely differ says nothing (a machine
     * already busy, a sensor that does not see the load) */
    double lo = p[0].onboard_w, hi = p[0].onboard_w;
    for (int i = 1; i < n_rungs; i++)
        lo = fmin(lo, p[i].onboard_w), hi = fmax(hi, p[i].onboard_w);
    if (!(hi - lo >= fmax(0.05, 0.02 * hi)) || !eb_calibration_fit(p, n_rungs, cal))
        return eb_fail(err, EB_E_NOT_AVAILABLE,
                       "calibrate: the on-board power hardly changed with the load (%.3f..%.3f W "
                       "over the rungs): nothing to fit (is something else keeping the CPUs "
                       "busy?)",
                       lo, hi);
    return EB_OK;
}

/* ---- calibrated energy in a result ---- */

void eb_result_calibrate(eb_run_result *res, const eb_calibration *cal)
{
    if (!res->sampler) return;
    res->has_calibration = true;
    res->calibration = *cal;
    for (int i = 0; i < res->n_reps; i++) {
        eb_rep *w = &res->reps[i];
        for (int s = 0; s < EB_SPAN_COUNT; s++) {
            double a = w->t_start[s], b = w->t_end[s], u_sys;
            eb_energy_est est;
            bool pub;
            if (!(b > a) || !eb_sampler_onboard_energy_est(res->sampler, a, b, &est, &u_sys, &pub))
                continue;
            double *pm = w->pm[s], t = b - a;
            pm[EB_PM_ONBOARD_J] = est.joules;
            pm[EB_PM_CALIBRATED_J] = cal->gain * est.joules + cal->offset_w * t;
            /* the sensors' bounds through the line, and the line's own scatter */
            double sensors = fabs(cal->gain) * (u_sys + est.u_integration_j);
            double fit = 1.96 * cal->residual_w * t;
            pm[EB_PM_CALIBRATED_U_J] = sqrt(sensors * sensors + fit * fit);
            int tokens = s == EB_SPAN_PREFILL ? w->n_prompt : s == EB_SPAN_GEN ? w->n_gen : 0;
            if (tokens > 0) pm[EB_PM_CALIBRATED_J_PER_TOKEN] = pm[EB_PM_CALIBRATED_J] / tokens;
        }
    }
    double *vals = calloc((size_t)res->n_reps + 1, sizeof *vals);
    if (!vals) return;
    for (int s = 0; s < EB_SPAN_COUNT; s++)
        for (int m = EB_PM_ONBOARD_J; m <= EB_PM_CALIBRATED_J_PER_TOKEN; m++) {
            size_t k = 0;
            for (int i = 0; i < res->n_reps; i++)
                if (!res->reps[i].warmup && !isnan(res->reps[i].pm[s][m]))
                    vals[k++] = res->reps[i].pm[s][m];
            eb_stats_compute(vals, k, &res->pm_stats[s][m]);
            if (k > 0) res->pm_reason[m][0] = '\0';
        }
    free(vals);
}
