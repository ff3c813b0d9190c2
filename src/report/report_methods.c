/* The report's methods section, before any figure: how the numbers were
 * made, per device, build and model file, and how each device sampled. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/analysis.h"
#include "report_plot.h"

/* The sampler as each device's newest trial ran it: the period asked, the
 * intervals it kept, its misses, and the energy source (one record read per
 * row of the methods table, whatever the store's size). */
static void sampling_table(report *r, eb_store *s, const eb_table *methods)
{
    const char *names[] = {"device",
                           "model",
                           "newest trial",
                           "sampler period asked, ms",
                           "median interval, ms",
                           "99th percentile interval, ms",
                           "samples",
                           "missed deadlines",
                           "energy source"};
    const unsigned char kinds[] = {0, 0, 1, 1, 1, 1, 1, 1, 0};
    eb_table t;
    if (eb_table_init(&t, 9, names, kinds) != EB_OK) return;
    int c_dev = eb_table_column(methods, "device"), c_model = eb_table_column(methods, "model"),
        c_trial = eb_table_column(methods, "newest trial");
    for (size_t i = 0; i < methods->nrow; i++) {
        long long id = (long long)eb_table_number(methods, i, c_trial);
        cJSON *rec = report_trial_record(s, id);
        if (!rec) continue;
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(rec, "result"), "measurement");
        const cJSON *smp = cJSON_GetObjectItemCaseSensitive(m, "sampler");
        char v[6][32];
        const char *keys[] = {"interval_ms", "interval_median_ms", "interval_p99_ms", "samples",
                              "missed_deadlines"};
        char *cells[9] = {(char *)eb_table_cell(methods, i, c_dev),
                          (char *)eb_table_cell(methods, i, c_model), v[0]};
        snprintf(v[0], sizeof v[0], "%lld", id);
        for (int k = 0; k < 5; k++) {
            const cJSON *x = cJSON_GetObjectItemCaseSensitive(smp, keys[k]);
            cells[3 + k] = cJSON_IsNumber(x) ? v[1 + k] : NULL;
            if (cJSON_IsNumber(x)) snprintf(v[1 + k], sizeof v[1 + k], "%.4g", x->valuedouble);
        }
        const char *src =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "energy_source"));
        cells[8] = (char *)(src ? src : "none");
        eb_table_add_row(&t, cells);
        cJSON_Delete(rec);
    }
    if (t.nrow) report_table(r, "Sampling: the newest trial of each", &t);
    eb_table_free(&t);
}

/* How the numbers were made, before any of them: per device, build and
 * model file, the trials, workloads, repetitions, warm-ups, runs left out
 * as disturbed and the energy source; and how the analyses group. */
void report_methods(report *r, eb_store *s, const eb_analysis_opts *o, const eb_config_set *set)
{
    report_heading(r, "Methods");
    char text[1400];
    snprintf(text, sizeof text,
             "Each configuration below is everything stored that changes the measurement "
             "(device, build, model file and weight type, threads, governor, power mode, GPU "
             "layers, every stored setting, prompt and generated tokens); its figures are the "
             "mean of its measured runs, warm-ups left out, and the error bars their 95 %% "
             "interval. Runs during which other processes took more of the CPUs than the "
             "run's --disturbed-above threshold are marked disturbed: %zu such run(s) %s. "
             "Energy comes from the source named per device below (\"none\": not measured); "
             "the sampler's period is each run's --sample-ms (default 10 ms; slow sources "
             "such as the Pi 5 PMIC at their own cadence).",
             set->n_disturbed,
             o->f.with_disturbed ? "are kept (--with-disturbed)" : "are left out of every figure");
    report_text(r, text);
    eb_table t = {0};
    eb_error err = {0};
    if (eb_store_results(s, EB_VIEW_METHODS, &o->f, &t, &err) != EB_OK) {
        report_text(r, err.msg);
        return;
    }
    report_table(r, "Devices, builds and models", &t);
    eb_table w = {0};
    if (eb_store_results(s, EB_VIEW_BACKENDS, &o->f, &w, &err) == EB_OK && w.nrow > 0)
        report_table_note(r, "What ran where",
                          "Trials by backend and devices (--backend, --device), those that "
                          "failed with their reason: a backend the build or the machine lacks "
                          "is a row here, not a gap.",
                          &w);
    eb_table_free(&w);
    sampling_table(r, s, &t);
    report_energy(r, s, &t);
    eb_table_free(&t);
}
