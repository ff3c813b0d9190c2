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

bool eb_energy_between(eb_channel_kind kind, const double *t, const double *v, size_t stride,
                       size_t n, double a, double b, double *joules, double *peak_w)
{
    if (n < 2 || b < a || a < t[0] || b > t[n - 1]) return false;
    size_t ia = seg_start(t, n, a), ib = seg_start(t, n, b);
    if (ib == n - 1) ib = n - 2;
    for (size_t i = ia; i <= ib + 1; i++)
        if (isnan(v[i * stride])) return false;
    double peak = 0;
    if (kind == EB_CH_ENERGY) {
        *joules = lerp(t, v, stride, ib, b) - lerp(t, v, stride, ia, a);
        for (size_t i = ia; i <= ib; i++) {
            double dt = t[i + 1] - t[i];
            if (dt > 0) {
                double p = (v[(i + 1) * stride] - v[i * stride]) / dt;
                if (p > peak) peak = p;
            }
        }
    } else {
        double e = 0;
        for (size_t i = ia; i <= ib; i++) {
            double x0 = t[i] < a ? a : t[i];
            double x1 = t[i + 1] > b ? b : t[i + 1];
            if (x1 <= x0) continue;
            double p0 = lerp(t, v, stride, i, x0), p1 = lerp(t, v, stride, i, x1);
            e += 0.5 * (p0 + p1) * (x1 - x0);
            if (p0 > peak) peak = p0;
            if (p1 > peak) peak = p1;
        }
        *joules = e;
    }
    if (peak_w) *peak_w = peak;
    return true;
}
