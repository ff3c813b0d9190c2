/* The report's sustained-run figures (--duration): generation t/s and the
 * hottest temperature per window over time, a line per trial. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_plot.h"

static const char *or_text(const char *s, const char *none)
{
    return s ? s : none;
}

static void over_time(report *r, const eb_table *w, const char *id, const char *title,
                      const char *ylabel, const char *column, const char *caption, const char *why)
{
    chart c = {.id = id, .title = title, .ylabel = ylabel, .xlabel = "seconds", .lines = true};
    int c_trial = eb_table_column(w, "trial_id"), c_dev = eb_table_column(w, "device"),
        c_model = eb_table_column(w, "model"), c_quant = eb_table_column(w, "quant"),
        c_t0 = eb_table_column(w, "t_start_s"), c_t1 = eb_table_column(w, "t_end_s"),
        c_v = eb_table_column(w, column);
    for (size_t i = 0; i < w->nrow; i++) {
        const char *m = eb_table_cell(w, i, c_model);
        char key[400];
        snprintf(key, sizeof key, "trial %s: %.*s %s @%s", eb_table_cell(w, i, c_trial),
                 m ? (int)strcspn(m, "(") : 1, m ? m : "?",
                 or_text(eb_table_cell(w, i, c_quant), ""),
                 or_text(eb_table_cell(w, i, c_dev), "?"));
        int s = chart_series(&c, key);
        if (s < 0) continue;
        double v[REPORT_MAX_SERIES];
        for (int k = 0; k < REPORT_MAX_SERIES; k++)
            v[k] = NAN;
        v[s] = eb_table_number(w, i, c_v);
        /* a window drawn at its middle */
        chart_add(&c, key, (eb_table_number(w, i, c_t0) + eb_table_number(w, i, c_t1)) / 2, v);
    }
    report_chart(r, &c, caption, why);
    chart_free(&c);
}

void report_sustained(report *r, eb_store *s)
{
    eb_table w;
    eb_error err = {0};
    if (eb_store_windows(s, &w, &err) != EB_OK) return;
    if (w.nrow > 0) {
        report_heading(r, "Sustained runs");
        over_time(r, &w, "fig20_sustained_tps", "Fig. 20a: generation throughput over time",
                  "tokens/s", "gen_tps",
                  "Generation tokens/s of the runs that ended in each window of a sustained run "
                  "(--duration), a line per trial.",
                  "no generation measured in the windows");
        over_time(r, &w, "fig20_sustained_temp", "Fig. 20b: hottest temperature over time",
                  "degrees C", "temp_max_c",
                  "Hottest thermal zone during generation, per window of a sustained run.",
                  "no thermal zone was read on the devices measured");
    }
    eb_table_free(&w);
}
