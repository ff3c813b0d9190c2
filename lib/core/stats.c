#include "edgebench/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double eb_student_t975(size_t df)
{
    /* Two-sided 95% critical values of Student's t for df = 1..30. */
    static const double t[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                               2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                               2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                               2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
    if (df == 0) return NAN;
    if (df <= 30) return t[df - 1];
    if (df <= 60) return 2.042 + (2.000 - 2.042) * (double)(df - 30) / 30.0;
    if (df <= 120) return 2.000 + (1.980 - 2.000) * (double)(df - 60) / 60.0;
    return 1.960;
}

static double percentile_sorted(const double *s, size_t n, double p)
{
    if (n == 0) return 0;
    if (p <= 0) return s[0];
    if (p >= 100) return s[n - 1];
    double rank = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)rank;
    double frac = rank - (double)lo;
    if (lo + 1 >= n) return s[n - 1];
    return s[lo] + frac * (s[lo + 1] - s[lo]);
}

double eb_percentile(const double *values, size_t n, double p)
{
    if (n == 0) return 0;
    double stackbuf[256];
    double *s = n <= 256 ? stackbuf : malloc(n * sizeof *s);
    if (!s) return NAN;
    memcpy(s, values, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double r = percentile_sorted(s, n, p);
    if (s != stackbuf) free(s);
    return r;
}

void eb_stats_compute(const double *values, size_t n, eb_stats *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0) return;
    out->n = n;
    double sum = 0;
    out->min = out->max = values[0];
    for (size_t i = 0; i < n; i++) {
        sum += values[i];
        if (values[i] < out->min) out->min = values[i];
        if (values[i] > out->max) out->max = values[i];
    }
    out->mean = sum / (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (values[i] - out->mean) * (values[i] - out->mean);
    out->stddev = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
    out->median = eb_percentile(values, n, 50);
    if (n > 1) {
        double half = eb_student_t975(n - 1) * out->stddev / sqrt((double)n);
        out->ci95_lo = out->mean - half;
        out->ci95_hi = out->mean + half;
    } else {
        out->ci95_lo = out->ci95_hi = out->mean;
    }
}
