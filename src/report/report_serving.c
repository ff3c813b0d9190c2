/* The report's serving figures (run --engine server): against the number
 * of clients of each closed-loop level, the slowest and the median
 * stream's t/s beside reading speed, the slowest first token, and a
 * user-hour's energy with its interval; a line per device, model and
 * weights; and the capacity table. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "edgebench/analysis.h"
#include "edgebench/analyze.h"
#include "report_plot.h"

static void key_of(const eb_table *t, size_t i, char *key, size_t cap)
{
    const char *m = eb_table_cell(t, i, eb_table_column(t, "model"));
    const char *q = eb_table_cell(t, i, eb_table_column(t, "quant"));
    const char *d = eb_table_cell(t, i, eb_table_column(t, "device"));
    int mlen = m ? (int)strcspn(m, "(") : 1;
    while (m && mlen > 0 && m[mlen - 1] == ' ')
        mlen--;
    snprintf(key, cap, "%.*s %s, %s", mlen, m ? m : "?", q ? q : "", d ? d : "?");
}

typedef double (*figure_of)(const eb_table *t, size_t i, double *half);

static double col(const eb_table *t, size_t i, const char *name)
{
    return eb_table_number(t, i, eb_table_column(t, name));
}

static double slowest(const eb_table *t, size_t i, double *half)
{
    *half = NAN;
    return col(t, i, "stream_tps_min");
}

static double ttft_worst(const eb_table *t, size_t i, double *half)
{
    *half = NAN;
    return col(t, i, "ttft_max_s");
}

/* a user-hour: the level's mean power for an hour over its clients, Wh */
static double user_hour(const eb_table *t, size_t i, double *half)
{
    double n = col(t, i, "concurrency");
    *half = col(t, i, "energy_u95_j") / col(t, i, "duration_s") / n;
    return col(t, i, "mean_power_w") / n;
}

static void against_clients(report *r, const eb_table *t, const char *id, const char *title,
                            const char *ylabel, figure_of f, double reading, const char *caption,
                            const char *why)
{
    chart c = {.id = id,
               .title = title,
               .ylabel = ylabel,
               .xlabel = "concurrent clients (closed loop)",
               .lines = true,
               .from_zero = true};
    int c_loop = eb_table_column(t, "loop");
    for (size_t i = 0; i < t->nrow; i++) {
        const char *loop = eb_table_cell(t, i, c_loop);
        if (!loop || strcmp(loop, "closed") != 0) continue;
        char key[400];
        key_of(t, i, key, sizeof key);
        int s = chart_series(&c, key);
        if (s < 0) continue;
        double v[REPORT_MAX_SERIES], h[REPORT_MAX_SERIES];
        int n[REPORT_MAX_SERIES] = {0};
        for (int k = 0; k < REPORT_MAX_SERIES; k++)
            v[k] = h[k] = NAN;
        v[s] = f(t, i, &h[s]);
        chart_add_ci(&c, key, col(t, i, "concurrency"), v, h, n);
        if (reading > 0) {
            int rs = chart_series(&c, "reading speed");
            if (rs >= 0) {
                c.style[rs] = 2;
                double w[REPORT_MAX_SERIES], z[REPORT_MAX_SERIES];
                for (int k = 0; k < REPORT_MAX_SERIES; k++)
                    w[k] = z[k] = NAN;
                w[rs] = reading;
                chart_add_ci(&c, "reading speed", col(t, i, "concurrency"), w, z, n);
            }
        }
    }
    report_chart(r, &c, caption, why);
    chart_free(&c);
}

void report_serving(report *r, eb_store *s, const eb_analysis_opts *o)
{
    eb_table levels = {0}, cap = {0};
    eb_error err = {0};
    if (eb_store_results(s, EB_VIEW_SERVING, &o->f, &levels, &err) != EB_OK || levels.nrow == 0) {
        eb_table_free(&levels);
        return;
    }
    double reading = eb_reading_tokens_per_s(o->words_per_s, o->words_per_token);
    report_heading(r, "Serving: a server under load (run --engine server)");
    against_clients(r, &levels, "fig22_serve_stream",
                    "Fig. 22a: the slowest stream against clients", "tokens/s", slowest, reading,
                    "Each closed-loop level's slowest request: its tokens over the time from its "
                    "first token to its last, as the client received them; the flat line is the "
                    "reading speed of the usability analysis.",
                    "no level had a request that finished");
    against_clients(r, &levels, "fig22_serve_ttft",
                    "Fig. 22b: the slowest first token against clients", "seconds", ttft_worst, 0,
                    "Each closed-loop level's longest time to first token, queueing included.",
                    "no level had a first token");
    against_clients(r, &levels, "fig22_serve_energy",
                    "Fig. 22c: energy of a user-hour against clients", "Wh a user-hour", user_hour,
                    0,
                    "The level's mean power for an hour shared by its clients; error bars: the "
                    "95 % interval of the sensor's bounds.",
                    "no power sensor or meter measured the levels");
    if (eb_capacity_table(&levels, reading, &cap, &err) == EB_OK && cap.nrow > 0) {
        char note[400];
        snprintf(note, sizeof note,
                 "The most clients whose every request succeeded, with the slowest stream at "
                 "or above %.2f tokens/s and, where the level had an objective, the slowest "
                 "first token within it ('edgebench analyze capacity').",
                 reading);
        report_table_note(r, "How many people one device serves", note, &cap);
    }
    eb_table_free(&cap);
    eb_table_free(&levels);
}
