/* Figures for `edgebench report`: data files and gnuplot scripts rendered
 * to SVG and PNG, and the HTML and Markdown around them. */
#ifndef EDGEBENCH_REPORT_PLOT_H
#define EDGEBENCH_REPORT_PLOT_H

#include <stdbool.h>
#include <stdio.h>

#include "edgebench/store.h"

typedef struct report {
    const char *dir;
    FILE *html, *md; /* html: the page's body, assembled by report_page_write */
    char *body;
    size_t body_len;
    int n_figures, n_missing;
    char gnuplot[1024];
    char gnuplot_log[1200]; /* gnuplot's messages go here, not to the terminal */
    /* the sections, for the table of contents */
    char (*toc)[160];
    int n_toc, cap_toc;
    /* models in the order first seen: a model keeps its colour in every figure */
    char (*models)[128];
    int n_models, cap_models;
    char source[600]; /* which runs every figure is drawn from */
} report;

/* Starts the page's body (in memory) and the log; false on failure. */
bool report_page_begin(report *r);
/* Writes index.html: head, table of contents, the body, the figure check. */
bool report_page_write(report *r, const char *path, const char *style, const char *checker);
void report_page_free(report *r);
/* A model whose series should keep one colour across figures. */
void report_model(report *r, const char *model);

/* A chart: rows of a label and up to 4 series. */
#define REPORT_MAX_SERIES 8
typedef struct chart {
    const char *id, *title, *ylabel, *xlabel;
    const char *series[REPORT_MAX_SERIES];
    char series_name[REPORT_MAX_SERIES][160]; /* names chart_series added */
    int n_series;
    bool lines; /* x is numeric (first column), one line per series */
    bool log_y, log_x;
    /* lines charts: how each series is drawn (0 lines and points, 1 points
     * only, 2 a line only) */
    unsigned char style[REPORT_MAX_SERIES];
    char *labels[512];
    double x[512];
    double v[512][REPORT_MAX_SERIES];
    /* a value's 95 % interval half-width (NaN: none) and its runs (0: not
     * counted); a chart with any draws error bars and says n in its caption */
    double err[512][REPORT_MAX_SERIES];
    int runs[512][REPORT_MAX_SERIES];
    bool has_err;
    bool from_zero; /* lines: the y axis starts at 0 (throughput, energy) */
    int n;
    int left_out; /* rows or series past the capacity: said in the caption */
} chart;

/* values: n_series of them for bars, REPORT_MAX_SERIES for lines. */
/* The index of a line chart's series of this name, added when new; -1 when
 * the chart has all it can hold. */
int chart_series(chart *c, const char *name);
void chart_add(chart *c, const char *label, double x, const double *values);
/* The same with each value's interval half-width and run count. */
void chart_add_ci(chart *c, const char *label, double x, const double *values, const double *half,
                  const int *runs);
/* Renders a chart (or, with no finite value, leaves it out with a note
 * saying why) and adds it to the report. */
void report_chart(report *r, chart *c, const char *caption, const char *why_missing);
/* A section note for a figure that cannot be drawn. */
void report_missing(report *r, const char *id, const char *title, const char *why);
/* The same with a note under its heading (what the table is made of). */
void report_table_note(report *r, const char *title, const char *note, const eb_table *t);
void report_table(report *r, const char *title, const eb_table *t);
void report_heading(report *r, const char *text);
void report_text(report *r, const char *text);
void chart_free(chart *c);

struct eb_analysis_opts;
struct eb_config_set;
/* Figs. 11 and 12 and the quantization-effect table (src/report_quality.c). */
void report_quality(report *r, const struct eb_config_set *set, const struct eb_analysis_opts *o);
/* The roofline figure per device and its table (src/report_roofline.c). */
void report_roofline(report *r, const struct eb_analysis_opts *o);
/* Where each model stopped fitting (src/report/report_fit.c). */
struct eb_store;
void report_fit(report *r, struct eb_store *s);
/* Fig. 4: memory over the newest stored timeline (src/report/report_memory.c). */
void report_memory_timeline(report *r, struct eb_store *s);
/* Throughput and temperature over sustained runs (src/report/report_sustained.c). */
void report_sustained(report *r, struct eb_store *s);
/* The methods section: devices, builds, models, workloads, repetitions,
 * disturbed runs, energy sources and sampling (src/report/report_methods.c). */
/* A stored trial's record, parsed; NULL when it cannot be read. */
struct cJSON *report_trial_record(struct eb_store *s, long long id);
/* How energy was measured per device (a table) and the energy per phase
 * and rail of each device's newest trial (a figure), for the methods rows'
 * newest trials (src/report/report_energy.c). */
void report_energy(report *r, struct eb_store *s, const eb_table *methods);
void report_methods(report *r, struct eb_store *s, const struct eb_analysis_opts *o,
                    const struct eb_config_set *set);
/* A model over RPC nodes (src/report/report_distributed.c). */
void report_distributed(report *r, struct eb_store *s);
/* A server under load: streams, first tokens and a user-hour's energy
 * against clients, and the capacity table (src/report/report_serving.c). */
void report_serving(report *r, struct eb_store *s, const struct eb_analysis_opts *o);

#endif
