#include "edgebench/energy.h"

#include <math.h>

/* Index of the last sample at or before x (n >= 2, t[0] <= x <= t[n-1]). */
static size_t seg_start(const double *t, size_t n, double x)
{
    size_t lo = 0, hi = n - 1;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (t[mid] <= x)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static double lerp(const double *t, const double *v, size_t stride, size_t i, double x)
{
    double t0 = t[i], t1 = t[i + 1], v0 = v[i * stride], v1 = v[(i + 1) * stride];
    if (t1 <= t0) return v1;
    return v0 + (v1 - v0) * (x - t0) / (t1 - t0);
}

/* A counter's mean power over segment i (0 when it has no length). */
static double seg_power(const double *t, const double *v, size_t stride, size_t i)
{
    double dt = t[i + 1] - t[i];
    return dt > 0 ? (v[(i + 1) * stride] - v[i * stride]) / dt : 0;
}

bool eb_energy_between_est(eb_channel_kind kind, const double *t, const double *v, size_t stride,
                           size_t n, double a, double b, double step, eb_energy_est *out)
{
    if (n < 2 || b < a || a < t[0] || b > t[n - 1]) return false;
    size_t ia = seg_start(t, n, a), ib = seg_start(t, n, b);
    if (ib == n - 1) ib = n - 2;
    for (size_t i = ia; i <= ib + 1; i++)
        if (isnan(v[i * stride])) return false;
    double peak = 0, e = 0, u_int = 0;
    for (size_t i = ia; i <= ib; i++) {
        double x0 = t[i] < a ? a : t[i];
        double x1 = t[i + 1] > b ? b : t[i + 1];
        double dt = t[i + 1] - t[i], ov = x1 - x0;
        if (kind == EB_CH_ENERGY) {
            double p = seg_power(t, v, stride, i);
            if (p > peak) peak = p;
            if (ov <= 0 || ov >= dt) continue; /* whole segments are counted exactly */
            /* a cut segment: its power assumed within its neighbours' range */
            double lo = p, hi = p;
            if (i > 0 && !isnan(v[(i - 1) * stride])) {
                double q = seg_power(t, v, stride, i - 1);
                lo = fmin(lo, q), hi = fmax(hi, q);
            }
            if (i + 2 < n && !isnan(v[(i + 2) * stride])) {
                double q = seg_power(t, v, stride, i + 1);
                lo = fmin(lo, q), hi = fmax(hi, q);
            }
            u_int += (hi - lo) * fmin(ov, dt - ov);
        } else {
            if (ov <= 0) continue;
            double p0 = lerp(t, v, stride, i, x0), p1 = lerp(t, v, stride, i, x1);
            e += 0.5 * (p0 + p1) * ov;
            if (p0 > peak) peak = p0;
            if (p1 > peak) peak = p1;
            double range = fabs(v[(i + 1) * stride] - v[i * stride]);
            /* the trapezoid sits in the middle of a whole segment's range,
             * not necessarily of a cut one's */
            u_int += range * (ov < dt ? ov : 0.5 * ov);
        }
    }
    if (kind == EB_CH_ENERGY) e = lerp(t, v, stride, ib, b) - lerp(t, v, stride, ia, a);
    size_t inside = 0;
    for (size_t i = ia; i <= ib + 1; i++)
        inside += t[i] >= a && t[i] <= b;
    out->joules = e;
    out->peak_w = peak;
    out->u_integration_j = u_int;
    out->u_resolution_j = step > 0 ? (kind == EB_CH_ENERGY ? step : 0.5 * step * (b - a)) : 0;
    out->n_inside = inside;
    out->interval_s = (t[ib + 1] - t[ia]) / (double)(ib + 1 - ia);
    return true;
}

bool eb_energy_between(eb_channel_kind kind, const double *t, const double *v, size_t stride,
                       size_t n, double a, double b, double *joules, double *peak_w)
{
    eb_energy_est est;
    if (!eb_energy_between_est(kind, t, v, stride, n, a, b, 0, &est)) return false;
    *joules = est.joules;
    if (peak_w) *peak_w = est.peak_w;
    return true;
}

double eb_energy_u95(double ci_half, size_t n, double u_sys, double u_rand)
{
    if (n == 0) return NAN;
    double s = isfinite(ci_half) ? ci_half : 0;
    double sys = isfinite(u_sys) ? u_sys : 0;
    double rnd = isfinite(u_rand) ? u_rand / sqrt((double)n) : 0;
    return sqrt(s * s + sys * sys + rnd * rnd);
}

const char *eb_energy_u95_covers(bool with_spread, bool accuracy_left_out)
{
    if (with_spread)
        return accuracy_left_out ? "the runs' spread, integration and resolution bounds; not the "
                                   "sensor's accuracy (not published)"
                                 : "the runs' spread, the sensor's accuracy, integration and "
                                   "resolution bounds";
    return accuracy_left_out
               ? "integration and resolution bounds; not the sensor's accuracy (not published)"
               : "the sensor's accuracy, integration and resolution bounds";
}
