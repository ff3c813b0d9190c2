/* The report's physical-limits section: per device, a roofline chart of
 * every trial (generation and prefill as points of operations per byte
 * read and operations per second) under the device's probed ceilings, and
 * the `analyze roofline` table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_cli.h"
#include "cli.h"
#include "report_plot.h"

/* The device's highest probed figure of a measure (NAN when none). */
static double best_probe(const eb_table *probes, const char *device, const char *measure)
{
    int c_dev = eb_table_column(probes, "device"), c_m = eb_table_column(probes, "measure"),
        c_v = eb_table_column(probes, "value");
    double best = NAN;
    for (size_t i = 0; i < probes->nrow; i++) {
        const char *d = eb_table_cell(probes, i, c_dev), *m = eb_table_cell(probes, i, c_m);
        double v = eb_table_number(probes, i, c_v);
        if (d && !strcmp(d, device) && m && !strcmp(m, measure) && !(v <= best)) best = v;
    }
    return best;
}

static void device_chart(report *r, const analyze_opts *o, const eb_roofline_point *pts, size_t n,
                         const char *device, int index)
{
    double bw = best_probe(o->probes, device, "mem_read");
    double peak = best_probe(o->probes, device, "matmul");
    char id[64], title[400], roof[200], caption[900];
    snprintf(id, sizeof id, "fig19_roofline_%d", index);
    snprintf(title, sizeof title, "Fig. 19%c: roofline of %s", 'a' + index % 26, device);
    if (!isfinite(bw) || !isfinite(peak)) {
        /* a roofline without its roofs is a scatter that says nothing of
         * the limits: left out, with what would draw it */
        char why[400];
        snprintf(why, sizeof why,
                 "%s has no probed ceilings (memory bandwidth and matrix kernels): run `edgebench "
                 "device probe` on it to draw its roofs",
                 device);
        report_missing(r, id, title, why);
        return;
    }
    chart c = {.id = id,
               .title = title,
               .ylabel = "GFLOP/s (matrix products)",
               .xlabel = "operations per byte read (weights and KV cache)",
               .lines = true,
               .log_x = true,
               .log_y = true};
    if (isfinite(bw) && isfinite(peak)) {
        snprintf(roof, sizeof roof, "ceiling: %.1f GB/s x intensity, at most %.0f GFLOP/s", bw,
                 peak);
        int s = chart_series(&c, roof);
        c.style[s] = 2;
        /* the roof on a log grid, with its ridge point exactly */
        for (double x = 0.1; x <= 10000; x *= 1.5) {
            double v[REPORT_MAX_SERIES];
            for (int k = 0; k < REPORT_MAX_SERIES; k++)
                v[k] = NAN;
            v[s] = fmin(peak, bw * x);
            chart_add(&c, "roof", x, v);
        }
        double v[REPORT_MAX_SERIES];
        for (int k = 0; k < REPORT_MAX_SERIES; k++)
            v[k] = NAN;
        v[s] = peak;
        chart_add(&c, "ridge", peak / bw, v);
    }
    int gs = chart_series(&c, "generation (trials)"), ps = chart_series(&c, "prefill (trials)");
    if (gs >= 0) c.style[gs] = 1;
    if (ps >= 0) c.style[ps] = 1;
    int n_points = 0;
    for (size_t i = 0; i < n; i++) {
        const eb_roofline_point *p = &pts[i];
        if (strcmp(p->device, device) != 0 || !p->has_shape) continue;
        double v[REPORT_MAX_SERIES];
        for (int k = 0; k < REPORT_MAX_SERIES; k++)
            v[k] = NAN;
        char label[300];
        snprintf(label, sizeof label, "%s %s t%d", p->model, p->quant, p->threads_gen);
        if (gs >= 0 && isfinite(p->gen_gflops) && isfinite(p->gen_intensity)) {
            v[gs] = p->gen_gflops;
            chart_add(&c, label, p->gen_intensity, v);
            v[gs] = NAN;
            n_points++;
        }
        if (ps >= 0 && isfinite(p->prefill_gflops) && isfinite(p->prefill_intensity)) {
            v[ps] = p->prefill_gflops;
            chart_add(&c, label, p->prefill_intensity, v);
            n_points++;
        }
    }
    snprintf(caption, sizeof caption,
             "Each trial twice: generation (one token reads every weight once: about 2 operations "
             "per weight byte, left, under the bandwidth slope) and prefill (a prompt batch "
             "reads the weights once for all its tokens, right, under the kernels' ceiling). "
             "The ceiling is the device's best probed memory bandwidth and best matrix kernel "
             "of any weight type and thread count; %d point(s).",
             n_points);
    report_chart(r, &c, caption, "no trial of this device has a stored model shape");
    chart_free(&c);
}

void report_roofline(report *r, const analyze_opts *o)
{
    report_heading(r, "Physical limits");
    eb_roofline_point *pts = NULL;
    size_t n = 0;
    eb_error err = {0};
    eb_status st = eb_analysis_roofline_points(o, &pts, &n, &err);
    if (st != EB_OK) cli_report("report", &err);
    if (st != EB_OK || n == 0) {
        report_missing(r, "fig19_roofline", "Fig. 19: roofline",
                       "no trials with a stored model shape (schema 4), or no trials at all");
        free(pts);
        return;
    }
    int devices = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(pts[j].device, pts[i].device);
        if (!seen) device_chart(r, o, pts, n, pts[i].device, devices++);
    }
    free(pts);
    eb_table t = {0};
    if (analyze_table("roofline", NULL, o, &t) == EXIT_OK) {
        report_text(r, "Each trial against its device's probed ceilings ('edgebench device "
                       "probe'); efficiency = measured / predicted maximum.");
        report_table(r, "Table: roofline (analyze roofline)", &t);
    }
    eb_table_free(&t);
}
