/* The analyses' tables, as `analyze` prints them and `report` draws them:
 * optimal, pareto, usability, battery, cost, breakeven, quant-effect and
 * roofline, from the configurations of the store's measured runs. */
#ifndef EDGEBENCH_ANALYSIS_H
#define EDGEBENCH_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "edgebench/analyze.h"
#include "edgebench/error.h"
#include "edgebench/params.h"
#include "edgebench/roofline.h"
#include "edgebench/store.h"

typedef struct eb_analysis_opts {
    const char *spec, *format;
    eb_results_filter f;
    double words_per_s, words_per_token, capacity_wh, cents_per_kwh, cloud_in, cloud_out;
    const char *device_a, *device_b, *ratios, *utilisations, *pick;
    double price_a, price_b;
    double alpha;
    int bootstrap;
    const eb_table *quality; /* the store's quality view, for quant-effect (may be NULL) */
    /* roofline: the store's roofline and probes views (may be NULL) */
    const eb_table *roofline_trials, *probes;
} eb_analysis_opts;

/* The analyses' options (`analyze`, `report`), one row each: flag, range,
 * default (the study's assumptions: reading 4 words/s at 0.75 words/token,
 * an 18.84 Wh battery, 20 cents/kWh, and so on). */
extern const eb_param eb_analysis_options[];
extern const size_t eb_analysis_option_count;
/* Every option at its row's default; no prices (-1). */
void eb_analysis_defaults(eb_analysis_opts *o);

/* What an analysis reads from the store. */
typedef enum eb_analysis_input {
    EB_AI_CONFIGS,     /* the configurations of measured runs (eb_store_configs) */
    EB_AI_TRIALS,      /* the trials view, failed trials included */
    EB_AI_DISTRIBUTED, /* the distributed view */
    EB_AI_SERVING,     /* the serving view (run --engine server) */
} eb_analysis_input;
/* What it needs beside its input. */
enum {
    EB_AN_QUALITY = 1 << 0,  /* the quality view (eb_analysis_load_quality) */
    EB_AN_ROOFLINE = 1 << 1, /* the roofline and probes views (eb_analysis_load_roofline) */
};
typedef struct eb_analysis_data {
    const eb_config_set *set; /* EB_AI_CONFIGS */
    const eb_table *trials;   /* EB_AI_TRIALS, EB_AI_DISTRIBUTED, EB_AI_SERVING */
} eb_analysis_data;

/* One analysis: `analyze NAME`, its line of help, its input, its table,
 * and what it assumed in words (NULL: its table says it all). A report
 * shows those with a report_title. */
typedef struct eb_analysis {
    const char *name;
    const char *answers;
    eb_analysis_input input;
    unsigned needs; /* EB_AN_* */
    const char *report_title;
    eb_status (*table)(const eb_analysis_data *d, const eb_analysis_opts *o, eb_table *out,
                       eb_error *err);
    void (*inputs)(FILE *f, const char *prefix, const eb_analysis_opts *o);
} eb_analysis;

extern const eb_analysis eb_analyses[];
extern const size_t eb_analysis_count;
/* The analysis of a name, or NULL. */
const eb_analysis *eb_analysis_find(const char *name);
/* "optimal, pareto, ...": every name, for messages. */
void eb_analysis_names(char *out, size_t cap);
/* EB_E_INVALID_ARG: "unknown analysis 'x' (known: optimal, ...)". */
eb_status eb_analysis_unknown(const char *name, eb_error *err);

/* The table of an analysis of the configurations (eb_analyses: input
 * EB_AI_CONFIGS). An unknown kind is refused naming the known ones; a bad
 * option (breakeven without its devices) is EB_E_INVALID_ARG, no data to
 * compare EB_E_NOT_AVAILABLE. */
eb_status eb_analysis_table(const char *kind, const eb_config_set *set, const eb_analysis_opts *o,
                            eb_table *out, eb_error *err);

/* The quality view for quant-effect (an empty table on a store without
 * one); the caller frees it. */
eb_status eb_analysis_load_quality(eb_store *s, const eb_analysis_opts *o, eb_table *out,
                                   eb_error *err);
/* The roofline and probes views for roofline (empty tables on a store
 * without them); the caller frees both. */
eb_status eb_analysis_load_roofline(eb_store *s, const eb_analysis_opts *o, eb_table *trials,
                                    eb_table *probes, eb_error *err);
/* Every trial against its device's ceilings. */
eb_status eb_analysis_roofline(const eb_analysis_opts *o, eb_table *out, eb_error *err);
/* Stored trials that are the points of a roofline (the caller frees *pts). */
eb_status eb_analysis_roofline_points(const eb_analysis_opts *o, eb_roofline_point **pts, size_t *n,
                                      eb_error *err);

/* Where each model stopped fitting, from the trials view (eb_store_results
 * EB_VIEW_TRIALS): per device, model, weight type and KV cache types, the
 * largest context that ran, the smallest that failed and why. */
eb_status eb_fit_table(const eb_table *trials, eb_table *out, eb_error *err);

/* A model spread over RPC nodes, from the distributed view (eb_store_results
 * EB_VIEW_DISTRIBUTED): per model, type, number of nodes and link, mean
 * generation t/s, J/token of every device, TTFT, the network's estimated
 * share of a token and the bytes it moved, beside the one-process figure
 * of the same model where one exists. */
eb_status eb_distributed_table(const eb_table *trials, eb_table *out, eb_error *err);
/* capacity: from the serving view, per device, model, weights and
 * configuration, the most closed-loop clients whose requests all succeeded
 * with the slowest stream at or above reading_tps and the slowest first
 * token within the level's TTFT objective; Wh a user-hour there (the
 * level's mean power over its clients) with its interval; and at one
 * client the server's median stream t/s over the in-process engine's. */
eb_status eb_capacity_table(const eb_table *serving, double reading_tps, eb_table *out,
                            eb_error *err);

/* The fleet's view: configurations measured on two or more devices of one
 * board, side by side, with the unit-to-unit coefficient of variation of
 * generation t/s and J/token over the devices' own means. */
eb_status eb_fleet_spread_table(const eb_config_set *set, eb_table *out, eb_error *err);

#endif
