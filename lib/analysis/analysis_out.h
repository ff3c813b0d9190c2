/* What the analyses' tables share (analysis_tables.c, analysis_optimal.c):
 * a table being filled, cells from numbers and configurations. */
#ifndef EDGEBENCH_ANALYSIS_OUT_H
#define EDGEBENCH_ANALYSIS_OUT_H

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "edgebench/analysis.h"
#include "edgebench/util.h"

static inline void describe(const eb_config *c, char *out, size_t cap)
{
    eb_config_label(c->threads_prefill, c->threads_gen, c->governor, c->power_mode, c->gpu_layers,
                    c->energy_estimate, out, cap);
    size_t n = strlen(out);
    if (c->settings[0] && n < cap) snprintf(out + n, cap - n, ", %s", c->settings);
}

static inline char *fmt(char *buf, size_t cap, double v)
{
    if (!isfinite(v)) return NULL;
    eb_format_double(buf, cap, v); /* exact in CSV/JSON; tables round for reading */
    return buf;
}

typedef struct out_table {
    eb_table t;
    bool ok;
} out_table;

static inline void add(out_table *o, char **cells)
{
    if (o->ok && eb_table_add_row(&o->t, cells) != EB_OK) o->ok = false;
}

static const char NO_ENERGY[] = "not available: no energy sensor";

/* optimal: per group and workload, the best configuration per objective
 * against its rivals (analysis_optimal.c). */
void eb_optimal_rows(const eb_config_set *set, const eb_analysis_opts *o, out_table *ot);

#endif
