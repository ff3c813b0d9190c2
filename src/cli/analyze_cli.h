/* The analyses as `analyze` and `report` share them. */
#ifndef EDGEBENCH_ANALYZE_CLI_H
#define EDGEBENCH_ANALYZE_CLI_H

#include <stdio.h>

#include "edgebench/analyze.h"

typedef struct analyze_opts {
    const char *spec, *format;
    eb_results_filter f;
    double words_per_s, words_per_token, capacity_wh, cents_per_kwh, cloud_in, cloud_out;
    const char *device_a, *device_b, *ratios, *utilisations, *pick;
    double price_a, price_b;
    double alpha;
    double bootstrap_d; /* --bootstrap as parsed; bootstrap is its whole value */
    int bootstrap;
    const eb_table *quality; /* the store's quality view, for quant-effect (may be NULL) */
    /* roofline: the store's roofline and probes views (may be NULL) */
    const eb_table *roofline_trials, *probes;
} analyze_opts;

void analyze_defaults(analyze_opts *o);
/* Sets the option of a long name (without "--"): 1 done, -1 a bad value
 * (said on stderr), 0 not an analysis option. */
int analyze_option(analyze_opts *o, const char *name, const char *value, const char *cmd);
/* kind: optimal, pareto, usability, battery, cost, breakeven or
 * quant-effect; returns an
 * exit code (the reason already printed when not 0). */
int analyze_table(const char *kind, const eb_config_set *set, const analyze_opts *o, eb_table *out);
void analyze_state_inputs(FILE *f, const char *kind, const analyze_opts *o, size_t n_configs,
                          bool as_comment);
/* The quality view for quant-effect (an empty table on a store without
 * one); the caller frees it. */
eb_status analyze_load_quality(eb_store *s, const analyze_opts *o, eb_table *out, eb_error *err);
/* The roofline and probes views for roofline (empty tables on a store
 * without them); the caller frees both. */
eb_status analyze_load_roofline(eb_store *s, const analyze_opts *o, eb_table *trials,
                                eb_table *probes, eb_error *err);
/* Every trial against its device's ceilings; an exit code. */
int analyze_roofline(const analyze_opts *o, eb_table *out);
/* Stored trials that are the points of a roofline (the caller frees *pts). */
int analyze_roofline_points(const analyze_opts *o, eb_roofline_point **pts, size_t *n);

#endif
