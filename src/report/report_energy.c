/* The report's energy section: how each device measured it (source,
 * accuracy, the readings' interval, the interval of a token's energy, idle
 * power, calibration), and its newest trial's energy per phase beside the
 * energy above idle and each rail's part. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_plot.h"

/* A stored trial's record, parsed; NULL when it cannot be read. */
cJSON *report_trial_record(eb_store *s, long long id)
{
    char *json = NULL;
    eb_error err = {0};
    if (eb_store_trial_record(s, id, &json, &err) != EB_OK) return NULL;
    cJSON *rec = cJSON_Parse(json);
    free(json);
    return rec;
}

static const cJSON *at(const cJSON *o, const char *a, const char *b, const char *c)
{
    o = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b) o = cJSON_GetObjectItemCaseSensitive(o, b);
    if (c) o = cJSON_GetObjectItemCaseSensitive(o, c);
    return o;
}

/* x to sig significant digits; NULL (an empty cell) when not a number */
static char *num(char *buf, size_t cap, const cJSON *x, int sig)
{
    if (!cJSON_IsNumber(x)) return NULL;
    snprintf(buf, cap, "%.*g", sig, x->valuedouble);
    return buf;
}

/* How energy was measured on each device (its newest trial): the source
 * and its accuracy, the readings' interval, the calibration or none, and
 * what the interval of a generated token's energy came to. */
static void energy_table(report *r, eb_store *s, const eb_table *methods)
{
    const char *names[] = {"device",
                           "model",
                           "energy source",
                           "accuracy, from",
                           "interval between readings, ms",
                           "readings per generation",
                           "generation J/token",
                           "95% interval, +-",
                           "idle W",
                           "idle +-",
                           "calibration"};
    const unsigned char kinds[] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0};
    eb_table t;
    if (eb_table_init(&t, 11, names, kinds) != EB_OK) return;
    int c_dev = eb_table_column(methods, "device"), c_model = eb_table_column(methods, "model"),
        c_trial = eb_table_column(methods, "newest trial");
    for (size_t i = 0; i < methods->nrow; i++) {
        long long id = (long long)eb_table_number(methods, i, c_trial);
        cJSON *rec = report_trial_record(s, id);
        if (!rec) continue;
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(rec, "result");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(res, "measurement");
        const cJSON *jpt = at(res, "span_summary", "generation", "energy_per_token_j");
        const cJSON *rd = at(res, "span_summary", "generation", "energy_readings");
        const cJSON *cal = cJSON_GetObjectItemCaseSensitive(m, "calibration");
        char v[6][48], calib[320] = "none";
        if (cal)
            snprintf(calib, sizeof calib,
                     "meter W = %.4g x on-board %+.4g W, residual %.3g W, to %s on %s",
                     cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cal, "gain")),
                     cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cal, "offset_w")),
                     cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cal, "residual_w")),
                     cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cal, "meter")),
                     cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cal, "created_at")));
        const char *src =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "energy_source"));
        const char *acc =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "energy_accuracy"));
        char *cells[11] = {
            (char *)eb_table_cell(methods, i, c_dev),
            (char *)eb_table_cell(methods, i, c_model),
            (char *)(src ? src : "none"),
            (char *)(acc ? acc : "-"),
            num(v[0], sizeof v[0], cJSON_GetObjectItemCaseSensitive(m, "energy_interval_ms"), 4),
            num(v[1], sizeof v[1], cJSON_GetObjectItemCaseSensitive(rd, "median"), 3),
            num(v[2], sizeof v[2], cJSON_GetObjectItemCaseSensitive(jpt, "mean"), 4),
            num(v[3], sizeof v[3], cJSON_GetObjectItemCaseSensitive(jpt, "u95"), 2),
            num(v[4], sizeof v[4], cJSON_GetObjectItemCaseSensitive(m, "idle_power_w"), 4),
            num(v[5], sizeof v[5], cJSON_GetObjectItemCaseSensitive(m, "idle_power_u95_w"), 2),
            calib};
        eb_table_add_row(&t, cells);
        cJSON_Delete(rec);
    }
    if (t.nrow) report_table(r, "Energy: how it was measured, on each device's newest trial", &t);
    eb_table_free(&t);
}

/* The measured repetitions' mean of a span's channel energy. */
static double rail_mean(const cJSON *reps, const char *span, const char *rail)
{
    double sum = 0;
    int n = 0;
    const cJSON *rep;
    cJSON_ArrayForEach(rep, reps)
    {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rep, "warmup"))) continue;
        const cJSON *e = at(rep, "spans", span, "channels");
        e = at(cJSON_GetObjectItemCaseSensitive(e, rail), "energy_j", NULL, NULL);
        if (cJSON_IsNumber(e) && isfinite(e->valuedouble)) sum += e->valuedouble, n++;
    }
    return n ? sum / n : NAN;
}

static void rails_figure(report *r, eb_store *s, const eb_table *methods)
{
    chart c = {.id = "fig_energy_rails",
               .title = "Energy per phase: the device, above idle, and each rail",
               .ylabel = "joules"};
    c.series[0] = "device total";
    c.series[1] = "above idle";
    c.n_series = 2;
    int c_dev = eb_table_column(methods, "device"),
        c_trial = eb_table_column(methods, "newest trial");
    static const char *const phases[] = {"prefill", "generation"};
    for (size_t i = 0; i < methods->nrow; i++) {
        cJSON *rec = report_trial_record(s, (long long)eb_table_number(methods, i, c_trial));
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(rec, "result");
        const cJSON *reps = cJSON_GetObjectItemCaseSensitive(res, "reps");
        const char *total = cJSON_GetStringValue(at(res, "measurement", "energy_source", NULL));
        for (int p = 0; p < 2 && total; p++) {
            const cJSON *e = at(res, "span_summary", phases[p], "energy_j");
            const cJSON *ai = at(res, "span_summary", phases[p], "energy_above_idle_j");
            double v[REPORT_MAX_SERIES], half[REPORT_MAX_SERIES];
            int runs[REPORT_MAX_SERIES];
            for (int k = 0; k < REPORT_MAX_SERIES; k++)
                v[k] = half[k] = NAN, runs[k] = 0;
            const cJSON *x[2] = {e, ai};
            for (int k = 0; k < 2; k++) {
                const cJSON *m = cJSON_GetObjectItemCaseSensitive(x[k], "mean"),
                            *u = cJSON_GetObjectItemCaseSensitive(x[k], "u95"),
                            *n = cJSON_GetObjectItemCaseSensitive(x[k], "n");
                v[k] = cJSON_IsNumber(m) ? m->valuedouble : NAN;
                half[k] = cJSON_IsNumber(u) ? u->valuedouble : NAN;
                runs[k] = cJSON_IsNumber(n) ? (int)n->valuedouble : 0;
            }
            /* the rails: every power channel but the total itself */
            const cJSON *first = cJSON_GetArrayItem(reps, cJSON_GetArraySize(reps) - 1);
            const cJSON *ch;
            cJSON_ArrayForEach(ch, at(first, "spans", phases[p], "channels"))
            {
                /* a rail is measured: the Pi 5's wall-power estimate is not one */
                if (!cJSON_GetObjectItemCaseSensitive(ch, "energy_j") ||
                    !strcmp(ch->string, total) || strstr(ch->string, "estimate"))
                    continue;
                int k = 2;
                while (k < c.n_series && strcmp(c.series[k], ch->string) != 0)
                    k++;
                if (k == c.n_series) {
                    if (k == REPORT_MAX_SERIES) {
                        c.left_out++;
                        continue;
                    }
                    snprintf(c.series_name[k], sizeof c.series_name[k], "%s", ch->string);
                    c.series[k] = c.series_name[k];
                    c.n_series++;
                }
                v[k] = rail_mean(reps, phases[p], ch->string);
            }
            char label[400];
            snprintf(label, sizeof label, "%s, %s", eb_table_cell(methods, i, c_dev), phases[p]);
            chart_add_ci(&c, label, 0, v, half, runs);
        }
        cJSON_Delete(rec);
    }
    report_chart(
        r, &c,
        "Each device's newest trial: a phase's energy (mean of the measured runs, with its "
        "95% interval: the runs' spread and the sensor's bounds), the part above idle "
        "power, and each power rail the device reports (RAPL package/core/dram, the "
        "Orin's VDD_CPU_GPU_CV and VDD_SOC, the Pi 5's VDD_CORE and DDR, NVML per GPU). "
        "Rails are parts of the total, not additions to it.",
        "no trial measured energy");
    chart_free(&c);
}

void report_energy(report *r, eb_store *s, const eb_table *methods)
{
    energy_table(r, s, methods);
    rails_figure(r, s, methods);
}
