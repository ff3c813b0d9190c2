/* Summary statistics over repetitions. */
#ifndef EDGEBENCH_STATS_H
#define EDGEBENCH_STATS_H

#include <stddef.h>

typedef struct eb_stats {
    size_t n;
    double mean;
    double stddev; /* sample standard deviation (n - 1); 0 when n < 2 */
    double median;
    double min;
    double max;
    double ci95_lo; /* Student-t 95% confidence interval of the mean */
    double ci95_hi;
} eb_stats;

/* Computes the summary of n values; n == 0 yields all zeros and n = 0. */
void eb_stats_compute(const double *values, size_t n, eb_stats *out);

/* Two-sided 97.5% quantile of Student's t with df degrees of freedom. */
double eb_student_t975(size_t df);

/* Percentile p in [0,100] with linear interpolation between order statistics;
 * values is left unchanged. Returns 0 when n == 0. */
double eb_percentile(const double *values, size_t n, double p);

#endif
