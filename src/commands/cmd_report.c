/* `edgebench report -o DIR`: the study's figures and tables from whatever
 * is in the store, as static HTML (SVG figures, PNG beside them) and a
 * Markdown summary. A figure without data is left out with the reason. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze_cli.h"
#include "cli.h"
#include "cli_store.h"
#include "edgebench/stats.h"
#include "edgebench/util.h"
#include "report_plot.h"

static void usage(FILE *f)
{
    fputs("usage: edgebench report -o DIR [options]\n"
          "Writes DIR/index.html (figures as SVG, PNG beside them) and DIR/summary.md from\n"
          "the results store: memory, timelines, throughput vs threads, counters per token,\n"
          "load time, energy and action per token, battery, cost and break-even.\n\n",
          f);
    eb_cmd_help(EB_CMD_REPORT,
                &(eb_cmd_rows){.rows = eb_analysis_options, .n = eb_analysis_option_count}, f);
}

static const char *const NO_ENERGY = "no energy sensor measured these runs";

/* What a label says: the model on its device; that and the configuration
 * in words; or the configuration without the model (a figure of one model,
 * whose caption names it). */
typedef enum label_kind { LABEL_MODEL, LABEL_CONFIG, LABEL_CONFIG_NO_MODEL } label_kind;

/* Labels short enough for an axis: the model's name without the
 * synthetic note, the governor without its policy names. */
/* The governor once when every policy has it ("schedutil"), else every
 * policy's ("policy0=performance policy4=powersave"). */
static void governor_words(const eb_config *c, char *gov, size_t cap)
{
    const char *eq = strchr(c->governor, '=');
    snprintf(gov, cap, "%.*s", (int)strcspn(eq ? eq + 1 : c->governor, " "),
             eq ? eq + 1 : c->governor);
    for (const char *p = eq; p && (p = strchr(p + 1, '=')) != NULL;)
        if (strncmp(p + 1, gov, strlen(gov)) != 0) {
            snprintf(gov, cap, "%s", c->governor);
            break;
        }
}

/* What a configuration adds to its model's label besides threads:
 * ", governor G, power mode, settings". */
static void config_rest(const eb_config *c, char *out, size_t cap)
{
    char gov[160];
    governor_words(c, gov, sizeof gov);
    snprintf(out, cap, "%s%s%s%s%s%s", gov[0] ? ", governor " : "", gov,
             c->power_mode[0] ? ", " : "", c->power_mode, c->settings[0] ? ", " : "", c->settings);
}

static void label_of(const eb_config *c, label_kind kind, char *out, size_t cap)
{
    char model[32], gov[160];
    snprintf(model, sizeof model, "%.*s", (int)strcspn(c->model, "("), c->model);
    size_t n = strlen(model);
    while (n > 0 && model[n - 1] == ' ')
        model[--n] = '\0';
    governor_words(c, gov, sizeof gov);
    char gpu[40] = "";
    if (c->gpu_layers > 0) snprintf(gpu, sizeof gpu, " GPU%d", c->gpu_layers);
    if (c->energy_estimate) snprintf(gpu + strlen(gpu), sizeof gpu - strlen(gpu), " (est.)");
    if (kind != LABEL_MODEL) {
        /* the configuration in words ("prefill 2 threads, generation 1"),
         * never "2/1"; the governor once when every policy has it */
        char words[300];
        eb_config_label(c->threads_prefill, c->threads_gen, gov, c->power_mode, c->gpu_layers,
                        c->energy_estimate, words, sizeof words);
        if (kind == LABEL_CONFIG)
            snprintf(out, cap, "%s %s @%s, %s%s%s", model, c->quant, c->device, words,
                     c->settings[0] ? ", " : "", c->settings);
        else
            snprintf(out, cap, "%s, %s%s%s", c->device, words, c->settings[0] ? ", " : "",
                     c->settings);
    } else
        snprintf(out, cap, "%s %s @%s%s", model, c->quant, c->device, gpu);
}

/* Which configurations a figure shows: all, one weight type, or those run
 * under a Jetson power mode. */
typedef struct config_filter {
    const char *quant;
    bool power_mode;
} config_filter;

static bool shown(const config_filter *f, const eb_config *c)
{
    return !f ||
           ((!f->quant || !strcmp(c->quant, f->quant)) && (!f->power_mode || c->power_mode[0]));
}

static const char ESTIMATE_NOTE[] =
    " Configurations marked (est.) had no power sensor: their energy is the CPU-load x TDP "
    "ESTIMATE, not a measurement.";

/* The caption, with the note on estimates when the figure shows any. */
static const char *with_estimate_note(const char *caption, bool estimated, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s", caption, estimated ? ESTIMATE_NOTE : "");
    return buf;
}

/* A configuration's mean with its 95 % interval half-width (Student's t;
 * NaN under two runs) and run count. */
/* A configuration's mean of av with its 95 % interval: for an energy
 * figure the runs' spread with the sensor's bounds (eb_config_energy_u95). */
static double mean_ci(const eb_config *c, int av, double *half, int *runs)
{
    const eb_samples *x = &c->s[av];
    eb_stats st;
    eb_stats_compute(x->v, x->n, &st);
    *runs = (int)x->n;
    *half = x->n >= 2 ? (st.ci95_hi - st.ci95_lo) / 2 : NAN;
    double u = eb_config_energy_u95(c, av, NULL);
    if (isfinite(u)) *half = u;
    return x->n ? st.mean : NAN;
}

static bool is_energy(int av)
{
    return av == EB_AV_PREFILL_JPT || av == EB_AV_GEN_JPT || av == EB_AV_PREFILL_ACTION ||
           av == EB_AV_GEN_ACTION || av == EB_AV_RUN_ENERGY;
}

/* Per configuration (those the filter passes): the means of up to two
 * measures. */
static void per_config_of(report *r, const eb_config_set *set, const config_filter *f,
                          const char *id, const char *title, const char *ylabel, int av1,
                          const char *s1, int av2, const char *s2, const char *caption,
                          const char *why)
{
    chart c = {.id = id,
               .title = title,
               .ylabel = ylabel,
               .series = {s1, s2},
               .n_series = av2 >= 0 ? 2 : 1};
    bool estimated = false;
    /* one model and weight type in the figure: said once in its caption */
    const eb_config *first = NULL;
    bool models = false;
    for (size_t i = 0; i < set->n; i++) {
        if (!shown(f, &set->c[i])) continue;
        if (!first) first = &set->c[i];
        models |= strcmp(first->model, set->c[i].model) != 0 ||
                  strcmp(first->quant, set->c[i].quant) != 0;
    }
    for (size_t i = 0; i < set->n; i++) {
        if (!shown(f, &set->c[i])) continue;
        char label[700];
        label_of(&set->c[i], models ? LABEL_CONFIG : LABEL_CONFIG_NO_MODEL, label, sizeof label);
        double v[2], half[2] = {NAN, NAN};
        int runs[2] = {0, 0};
        v[0] = mean_ci(&set->c[i], av1, &half[0], &runs[0]);
        v[1] = av2 >= 0 ? mean_ci(&set->c[i], av2, &half[1], &runs[1]) : NAN;
        chart_add_ci(&c, label, (double)i, v, half, runs);
        estimated |= set->c[i].energy_estimate;
    }
    char cap[1200], with_model[1100];
    if (first && !models)
        snprintf(with_model, sizeof with_model, "%s Every bar is of %.*s %s.", caption,
                 (int)strcspn(first->model, "("), first->model, first->quant);
    else
        snprintf(with_model, sizeof with_model, "%s", caption);
    report_chart(r, &c,
                 with_estimate_note(with_model, estimated && (is_energy(av1) || is_energy(av2)),
                                    cap, sizeof cap),
                 why);
    chart_free(&c);
}

static void per_config(report *r, const eb_config_set *set, const char *id, const char *title,
                       const char *ylabel, int av1, const char *s1, int av2, const char *s2,
                       const char *caption, const char *why)
{
    per_config_of(r, set, NULL, id, title, ylabel, av1, s1, av2, s2, caption, why);
}

/* Figs. 13-15: action per token in prefill; in generation, one figure per
 * weight type; and both phases under each Jetson power mode. */
static void action_figures(report *r, const eb_config_set *set)
{
    per_config(r, set, "fig13_prefill_action", "Fig. 13: prefill action per token", "J*s/token",
               EB_AV_PREFILL_ACTION, "prefill", -1, NULL,
               "Prefill energy per token divided by prefill throughput, per configuration "
               "(lower is better).",
               NO_ENERGY);
    int n_types = 0;
    for (size_t i = 0; i < set->n; i++) {
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            first = strcmp(set->c[j].quant, set->c[i].quant) != 0;
        if (!first) continue;
        char id[96], title[160];
        config_filter f = {.quant = set->c[i].quant};
        snprintf(id, sizeof id, "fig14_gen_action_%c", 'a' + n_types);
        snprintf(title, sizeof title, "Fig. 14%c: generation action per token, %s", 'a' + n_types,
                 set->c[i].quant);
        per_config_of(r, set, &f, id, title, "J*s/token", EB_AV_GEN_ACTION, "generation", -1, NULL,
                      "Generation energy per token divided by generation throughput, per "
                      "configuration of this weight type (lower is better).",
                      NO_ENERGY);
        if (++n_types == 26) break;
    }
    if (n_types == 0)
        report_missing(r, "fig14_gen_action_a", "Fig. 14: generation action per token",
                       "no measured runs");
    bool any_mode = false;
    for (size_t i = 0; i < set->n && !any_mode; i++)
        any_mode = set->c[i].power_mode[0] != '\0';
    config_filter modes = {.power_mode = true};
    if (any_mode)
        per_config_of(r, set, &modes, "fig15_action_power_modes",
                      "Fig. 15: action per token under each power mode", "J*s/token",
                      EB_AV_PREFILL_ACTION, "prefill", EB_AV_GEN_ACTION, "generation",
                      "Action per token of both phases for the configurations run under a "
                      "Jetson power mode (nvpmodel).",
                      NO_ENERGY);
    else
        report_missing(r, "fig15_action_power_modes",
                       "Fig. 15: action per token under each power mode",
                       "no runs under a Jetson power mode (plan key power_mode)");
}

/* The study's grouped bars: a cluster per model, device, governor or power
 * mode and the other settings, a bar per thread count of the phase. */
static void grouped_by_threads(report *r, const eb_config_set *set, const char *id,
                               const char *title, const char *ylabel, int av, bool gen,
                               const char *caption, const char *why)
{
    chart c = {.id = id, .title = title, .ylabel = ylabel};
    int threads[REPORT_MAX_SERIES], n_threads = 0;
    char names[REPORT_MAX_SERIES][32];
    /* the bars: thread counts, ascending (the first eight) */
    for (size_t i = 0; i < set->n; i++) {
        int t = gen ? set->c[i].threads_gen : set->c[i].threads_prefill;
        bool seen = false;
        for (int k = 0; k < n_threads; k++)
            seen |= threads[k] == t;
        if (seen || set->c[i].s[av].n == 0) continue;
        if (n_threads == REPORT_MAX_SERIES) {
            c.left_out++;
            continue;
        }
        int k = n_threads++;
        while (k > 0 && threads[k - 1] > t) {
            threads[k] = threads[k - 1];
            k--;
        }
        threads[k] = t;
    }
    for (int k = 0; k < n_threads; k++) {
        snprintf(names[k], sizeof names[k], "%d thread%s", threads[k], threads[k] == 1 ? "" : "s");
        c.series[k] = names[k];
    }
    c.n_series = n_threads;
    /* the clusters: configurations but for the phase's threads */
    bool *done = calloc(set->n + 1, sizeof *done);
    for (size_t i = 0; done && i < set->n; i++) {
        const eb_config *a = &set->c[i];
        if (done[i] || a->s[av].n == 0) continue;
        double v[REPORT_MAX_SERIES], half[REPORT_MAX_SERIES];
        int runs[REPORT_MAX_SERIES] = {0};
        for (int k = 0; k < REPORT_MAX_SERIES; k++)
            v[k] = half[k] = NAN;
        for (size_t j = i; j < set->n; j++) {
            const eb_config *b = &set->c[j];
            if (done[j] || b->s[av].n == 0 ||
                !eb_config_alike(a, b, EB_BUT_THREADS_PREFILL | EB_BUT_THREADS_GEN))
                continue;
            /* the other phase's threads may move with these (-t N -T N); a
             * second configuration for one bar makes a cluster of its own */
            int t = gen ? b->threads_gen : b->threads_prefill;
            for (int k = 0; k < n_threads; k++)
                if (threads[k] == t && isnan(v[k])) {
                    v[k] = mean_ci(b, av, &half[k], &runs[k]);
                    done[j] = true;
                }
        }
        char label[700];
        label_of(a, LABEL_MODEL, label, sizeof label);
        size_t n = strlen(label);
        config_rest(a, label + n, sizeof label - n);
        chart_add_ci(&c, label, (double)i, v, half, runs);
    }
    free(done);
    report_chart(r, &c, caption, why);
    chart_free(&c);
}

/* Per model and device: the best configuration's mean (max or min). */
static void per_model(report *r, const eb_config_set *set, const char *id, const char *title,
                      const char *ylabel, int av, bool higher, const char *series,
                      const char *caption, const char *why)
{
    chart c = {.id = id, .title = title, .ylabel = ylabel, .series = {series}, .n_series = 1};
    bool estimated = false;
    for (size_t i = 0; i < set->n; i++) {
        if (!eb_config_first_of_group(set, i)) continue;
        const eb_config *b = eb_config_best(set, &set->c[i], av, higher, NULL);
        double half = NAN;
        int runs = 0;
        double best = b ? mean_ci(b, av, &half, &runs) : NAN;
        char label[600];
        label_of(&set->c[i], LABEL_MODEL, label, sizeof label);
        chart_add_ci(&c, label, (double)i, &best, &half, &runs);
        estimated |= set->c[i].energy_estimate && is_energy(av);
    }
    char cap[1200];
    report_chart(r, &c, with_estimate_note(caption, estimated, cap, sizeof cap), why);
    chart_free(&c);
}

/* Throughput against thread count, a line per model, device and governor. */
static void versus_threads(report *r, const eb_config_set *set, const char *id, const char *title,
                           const char *ylabel, int av, bool gen)
{
    chart c = {.id = id,
               .title = title,
               .ylabel = ylabel,
               .xlabel = gen ? "generation threads" : "prefill threads",
               .lines = true,
               .from_zero = true};
    /* a line is a configuration but for this phase's threads: the other
     * phase's threads name it where they vary, so two points at one x are
     * two lines with words in the legend */
    /* named only where two configurations meet at one x with different
     * other-phase threads (not when both counts move together, -t N -T N) */
    bool other_varies = false;
    for (size_t i = 0; i < set->n && !other_varies; i++)
        for (size_t j = i + 1; j < set->n && !other_varies; j++) {
            const eb_config *a = &set->c[i], *b = &set->c[j];
            other_varies =
                eb_config_same_group(a, b) &&
                (gen ? a->threads_gen == b->threads_gen && a->threads_prefill != b->threads_prefill
                     : a->threads_prefill == b->threads_prefill &&
                           a->threads_gen != b->threads_gen);
        }
    for (size_t i = 0; i < set->n; i++) {
        const eb_config *x = &set->c[i];
        char key[700];
        label_of(x, LABEL_MODEL, key, sizeof key);
        size_t n = strlen(key);
        if (other_varies && n < sizeof key)
            n += (size_t)snprintf(key + n, sizeof key - n,
                                  gen ? ", prefill %d thread%s" : ", generation %d thread%s",
                                  gen ? x->threads_prefill : x->threads_gen,
                                  (gen ? x->threads_prefill : x->threads_gen) == 1 ? "" : "s");
        if (n < sizeof key) config_rest(x, key + n, sizeof key - n);
        int s = chart_series(&c, key);
        if (s < 0) continue;
        double v[REPORT_MAX_SERIES], half[REPORT_MAX_SERIES];
        int runs[REPORT_MAX_SERIES] = {0};
        for (int k = 0; k < REPORT_MAX_SERIES; k++)
            v[k] = half[k] = NAN;
        v[s] = mean_ci(x, av, &half[s], &runs[s]);
        chart_add_ci(&c, key, gen ? x->threads_gen : x->threads_prefill, v, half, runs);
    }
    report_chart(&*r, &c,
                 "Mean over the measured runs; one line per configuration but for the threads "
                 "on the x axis (the first eight).",
                 "no measured runs");
    chart_free(&c);
}

/* --parallel: generation t/s of all sequences together and of one stream,
 * against the number of sequences (drawn only when a run had several). */
static void versus_parallel(report *r, const eb_config_set *set)
{
    bool any = false;
    for (size_t i = 0; i < set->n; i++)
        any |= set->c[i].n_parallel > 1;
    if (!any) return;
    chart c = {.id = "fig5e_parallel",
               .title = "Fig. 5e: generation throughput vs sequences decoded together",
               .ylabel = "tokens/s",
               .xlabel = "sequences in parallel",
               .lines = true};
    for (size_t i = 0; i < set->n; i++) {
        const eb_config *x = &set->c[i];
        char base[300], key[340];
        label_of(x, LABEL_MODEL, base, sizeof base);
        double all = eb_samples_mean(&x->s[EB_AV_GEN_TPS]);
        for (int per_stream = 0; per_stream < 2; per_stream++) {
            snprintf(key, sizeof key, "%s, %s", base, per_stream ? "per stream" : "all streams");
            int s = chart_series(&c, key);
            if (s < 0) continue;
            double v[REPORT_MAX_SERIES];
            for (int k = 0; k < REPORT_MAX_SERIES; k++)
                v[k] = NAN;
            v[s] = per_stream ? all / x->n_parallel : all;
            chart_add(&c, key, x->n_parallel, v);
        }
    }
    report_chart(r, &c,
                 "Mean generation tokens/s over the measured runs of --parallel N: all N "
                 "sequences together (llama-batched-bench's S_TG) and one stream's share.",
                 "no runs with --parallel");
    chart_free(&c);
}

static void breakeven(report *r, const eb_config_set *set, const analyze_opts *o)
{
    const char *title = "Fig. 18: break-even time between two devices";
    if (!o->device_a || !o->device_b || o->price_a < 0 || o->price_b < 0) {
        report_missing(r, "fig18_breakeven", title,
                       "needs --device-a NAME --price-a P --device-b NAME --price-b P");
        return;
    }
    eb_table t;
    if (analyze_table("breakeven", set, o, &t) != EXIT_OK) {
        report_missing(r, "fig18_breakeven", title,
                       "no runs with prefill and generation energy for both devices");
        return;
    }
    /* rows: ratio x utilisation; a line per input:output ratio */
    chart c = {.id = "fig18_breakeven",
               .title = title,
               .ylabel = "years",
               .xlabel = "utilisation of the dearer device",
               .lines = true};
    for (size_t i = 0; i < t.nrow; i++) {
        char key[64];
        snprintf(key, sizeof key, "in:out %s:%s", t.cell[i * t.ncol + 2], t.cell[i * t.ncol + 3]);
        int s = chart_series(&c, key);
        if (s < 0) continue;
        double v[REPORT_MAX_SERIES];
        for (int k = 0; k < REPORT_MAX_SERIES; k++)
            v[k] = NAN;
        const char *y = t.cell[i * t.ncol + 5];
        v[s] = y && strcmp(y, "never") != 0 ? atof(y) : NAN;
        chart_add(&c, key, atof(t.cell[i * t.ncol + 4]), v);
    }
    bool estimated = false;
    for (size_t i = 0; i < t.nrow * t.ncol; i++)
        estimated |= t.cell[i] && strstr(t.cell[i], "energy ESTIMATE") != NULL;
    char cap[1200];
    report_chart(r, &c,
                 with_estimate_note(
                     "Years until the dearer device's lower energy cost pays its extra price.",
                     estimated, cap, sizeof cap),
                 "the dearer device never saves energy in these runs");
    chart_free(&c);
    report_table(r, "Break-even (years)", &t);
    eb_table_free(&t);
}

/* Every analysis of the configurations that has a report title (eb_analyses),
 * with what it assumed; one whose table is empty (the fleet with one device
 * of each board) says nothing and is left out. */
static void tables(report *r, const eb_config_set *set, const analyze_opts *o)
{
    for (size_t k = 0; k < eb_analysis_count; k++) {
        const eb_analysis *a = &eb_analyses[k];
        if (!a->report_title || a->input != EB_AI_CONFIGS) continue;
        eb_table t;
        if (analyze_table(a->name, set, o, &t) != EXIT_OK) continue;
        if (t.nrow == 0) {
            eb_table_free(&t);
            continue;
        }
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        if (mem) {
            analyze_state_inputs(mem, a->name, o, set, false);
            fclose(mem);
        }
        report_table_note(r, a->report_title, text, &t);
        free(text);
        eb_table_free(&t);
    }
}

/* A chart from columns of an analysis table. */
static void from_table(report *r, const eb_config_set *set, const analyze_opts *o, const char *kind,
                       chart *c, const int *cols, const char *caption)
{
    eb_table t;
    if (analyze_table(kind, set, o, &t) != EXIT_OK) return;
    bool estimated = false;
    for (size_t i = 0; i < t.nrow; i++) {
        char label[600];
        bool est = false;
        for (size_t k = 0; k < t.ncol; k++) {
            const char *x = t.cell[i * t.ncol + k];
            est |= x && strstr(x, "energy ESTIMATE") != NULL;
        }
        estimated |= est;
        snprintf(label, sizeof label, "%s %s @ %s%s", t.cell[i * t.ncol + 1],
                 t.cell[i * t.ncol + 2], t.cell[i * t.ncol], est ? " (est.)" : "");
        double v[REPORT_MAX_SERIES];
        for (int s = 0; s < c->n_series; s++) {
            const char *x = t.cell[i * t.ncol + (size_t)cols[s]];
            v[s] = x ? atof(x) : NAN;
        }
        chart_add(c, label, (double)i, v);
    }
    char cap[1200];
    report_chart(r, c, with_estimate_note(caption, estimated, cap, sizeof cap), NO_ENERGY);
    chart_free(c);
    eb_table_free(&t);
}

/* Which llama.cpp build each device's trials ran on: its CPU features and
 * any it turned off, and why (a native build that failed its self-test). */
static void builds_table(report *r, eb_store *s)
{
    eb_table t;
    eb_error err = {0};
    if (eb_store_builds(s, &t, &err) != EB_OK) {
        report_text(r, err.msg);
        return;
    }
    report_table(r, "llama.cpp builds the trials ran on", &t);
    eb_table_free(&t);
}

static void figures(report *r, eb_store *s, const eb_config_set *set, const analyze_opts *o)
{
    report_heading(r, "Memory");
    per_model(r, set, "fig3_peak_memory", "Fig. 3: peak memory per model and device",
              "peak RSS [MiB]", EB_AV_PEAK_RSS, true, "peak RSS",
              "Largest peak resident set of any configuration (VmHWM, reset per phase).",
              "no memory readings");
    report_memory_timeline(r, s);
    report_fit(r, s);

    report_heading(r, "Latency and throughput");
    versus_threads(r, set, "fig5_gen_vs_threads", "Fig. 5a: generation throughput vs threads",
                   "tokens/s", EB_AV_GEN_TPS, true);
    versus_threads(r, set, "fig5_prefill_vs_threads", "Fig. 5b: prefill throughput vs threads",
                   "tokens/s", EB_AV_PREFILL_TPS, false);
    versus_threads(r, set, "fig5_gen_latency", "Fig. 5c: generation latency vs threads", "seconds",
                   EB_AV_GEN_S, true);
    versus_threads(r, set, "fig5_prefill_latency", "Fig. 5d: prefill latency vs threads", "seconds",
                   EB_AV_PREFILL_S, false);
    versus_parallel(r, set);
    per_config(r, set, "fig6_cache_misses", "Fig. 6: cache misses per token", "misses/token",
               EB_AV_PREFILL_CACHE_MISSES_PT, "prefill", EB_AV_GEN_CACHE_MISSES_PT, "generation",
               "Last-level cache misses (perf_event) per token of each phase.",
               "hardware cache counters were not available on the devices measured");
    per_config(r, set, "fig7_context_switches", "Fig. 7: context switches per token",
               "switches/token", EB_AV_PREFILL_CTX_SWITCHES_PT, "prefill",
               EB_AV_GEN_CTX_SWITCHES_PT, "generation",
               "Context switches (perf_event software counter) per token of each phase.",
               "the context-switch counter was not available");
    per_model(r, set, "fig8_load_time", "Fig. 8a: load time per model", "seconds", EB_AV_LOAD_S,
              false, "load", "Shortest mean load time of any configuration.", "no load times");
    per_model(r, set, "fig8_gen_throughput", "Fig. 8b: generation throughput per model", "tokens/s",
              EB_AV_GEN_TPS, true, "generation",
              "Highest mean generation throughput of any configuration.", "no measured runs");

    report_heading(r, "Energy");
    per_config(r, set, "fig9_energy_per_token", "Fig. 9: energy per token per configuration",
               "J/token", EB_AV_PREFILL_JPT, "prefill", EB_AV_GEN_JPT, "generation",
               "Mean energy per token of each phase (whole-device sensor where there is one).",
               NO_ENERGY);
    grouped_by_threads(r, set, "fig9a_prefill_energy_by_threads",
                       "Fig. 9a: prefill energy per token by prefill threads", "J/token",
                       EB_AV_PREFILL_JPT, false,
                       "As the study's Fig. 9: a cluster per model, device, governor or power "
                       "mode and setting, a bar per number of prefill threads.",
                       NO_ENERGY);
    grouped_by_threads(r, set, "fig9b_gen_energy_by_threads",
                       "Fig. 9b: generation energy per token by generation threads", "J/token",
                       EB_AV_GEN_JPT, true,
                       "As the study's Fig. 9: a cluster per model, device, governor or power "
                       "mode and setting, a bar per number of generation threads.",
                       NO_ENERGY);
    per_model(r, set, "fig10_energy_per_model", "Fig. 10: generation energy per token per model",
              "J/token", EB_AV_GEN_JPT, false, "generation",
              "Least mean generation energy per token of any configuration.", NO_ENERGY);
    action_figures(r, set);

    report_sustained(r, s);
    report_distributed(r, s);
    report_serving(r, s, o);
    report_quality(r, set, o);
    report_roofline(r, o);

    report_heading(r, "Battery, cost and break-even");
    chart b = {.id = "fig16_battery_runs",
               .title = "Fig. 16a: runs on one battery charge",
               .ylabel = "runs",
               .series = {"runs"},
               .n_series = 1};
    static const int runs_col[] = {5}, hours_col[] = {6}, cost_cols[] = {4, 7};
    char cap[200];
    snprintf(cap, sizeof cap, "%.4g Wh battery, least-energy configuration, 100%% utilisation.",
             o->capacity_wh);
    from_table(r, set, o, "battery", &b, runs_col, cap);
    chart h = {.id = "fig16_battery_hours",
               .title = "Fig. 16b: hours until recharge",
               .ylabel = "hours",
               .series = {"hours"},
               .n_series = 1};
    from_table(r, set, o, "battery", &h, hours_col, cap);
    chart c = {.id = "fig17_cost",
               .title = "Fig. 17: energy cost per million tokens",
               .ylabel = "cents",
               .series = {"input (prefill)", "output (generation)"},
               .n_series = 2};
    snprintf(cap, sizeof cap, "At %.4g cents/kWh, least-energy configuration per phase.",
             o->cents_per_kwh);
    from_table(r, set, o, "cost", &c, cost_cols, cap);
    breakeven(r, set, o);

    report_heading(r, "Tables");
    tables(r, set, o);
    builds_table(r, s);
}

static const char style[] =
    "body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}"
    "figure{margin:1.5em 0}img.fig{max-width:100%;border:1px solid #ddd}"
    "figcaption{color:#555;font-size:90%}.missing{border-left:4px solid #c90;padding-left:1em;"
    "color:#555}table{border-collapse:collapse;font-size:85%;margin-bottom:1em}"
    "td,th{border:1px solid #ccc;padding:2px 6px}td.n{text-align:right}"
    ".wide{max-width:100%;overflow-x:auto}nav.toc{background:#f6f6f6;padding:.5em 1em}"
    "nav.toc ol{columns:2;margin:.3em 0}h2{border-bottom:1px solid #ddd}"
    ".broken{outline:3px solid #c00}";

/* Marks, on the page, whether every figure loaded (a figure that failed is
 * outlined red), so a browser and a test can tell. */
static const char checker[] =
    "<script>window.addEventListener('load',function(){var i=document.querySelectorAll("
    "'img.fig'),ok=0,bad=0;i.forEach(function(m){if(m.complete&&m.naturalWidth>0)ok++;else{bad++;"
    "m.classList.add('broken');}});document.body.setAttribute('data-figures-loaded',ok);"
    "document.body.setAttribute('data-figures-broken',bad);"
    "document.body.setAttribute('data-doc-width',document.documentElement.scrollWidth);});"
    "</script>\n";

int cmd_report(int argc, char **argv)
{
    analyze_opts o;
    eb_run_options ro;
    int code = analyze_parse(EB_CMD_REPORT, argc, argv, &o, &ro, NULL);
    if (code != EXIT_OK) return code;
    if (ro.help) {
        usage(stdout);
        return EXIT_OK;
    }
    const char *dir = ro.report_dir;
    if (!dir) {
        cli_usage_error("report", "give -o DIR (see --help)");
        return EXIT_USAGE;
    }
    report r = {.dir = dir};
    if (!eb_find_program("gnuplot", r.gnuplot, sizeof r.gnuplot)) {
        fprintf(stderr, "edgebench report: not_available: gnuplot is not installed (Debian: "
                        "gnuplot-nox)\n");
        return EXIT_FAILURE_RUN;
    }
    eb_error err = {0};
    eb_store *s = NULL;
    /* the store first: a missing one makes no directory either */
    if (eb_store_open_existing(o.spec, &s, &err) != EB_OK) return cli_report("report", &err);
    if (cli_store_says_empty("report", s)) {
        eb_store_close(s);
        return EXIT_FAILURE_RUN;
    }
    if (eb_mkdirs(dir, &err) != EB_OK) {
        eb_store_close(s);
        return cli_report("report", &err);
    }
    eb_config_set set = {0};
    eb_table quality = {0}, rl_trials = {0}, probes = {0};
    if (eb_store_configs(s, &o.f, &set, &err) != EB_OK ||
        eb_analysis_load_quality(s, &o, &quality, &err) != EB_OK ||
        eb_analysis_load_roofline(s, &o, &rl_trials, &probes, &err) != EB_OK) {
        eb_config_set_free(&set);
        eb_table_free(&quality);
        eb_table_free(&rl_trials);
        eb_table_free(&probes);
        eb_store_close(s);
        return cli_report("report", &err);
    }
    o.quality = &quality;
    o.roofline_trials = &rl_trials;
    o.probes = &probes;
    char path[1200], mdpath[1200];
    snprintf(path, sizeof path, "%s/index.html", dir);
    snprintf(mdpath, sizeof mdpath, "%s/summary.md", dir);
    bool page = report_page_begin(&r);
    r.md = fopen(mdpath, "w");
    if (!page || !r.md) {
        eb_fail(&err, EB_E_IO, "report %s: %s", page ? mdpath : path, strerror(errno));
        if (r.md) fclose(r.md);
        report_page_free(&r);
        eb_config_set_free(&set);
        eb_table_free(&quality);
        eb_table_free(&rl_trials);
        eb_table_free(&probes);
        eb_store_close(s);
        return cli_report("report", &err);
    }
    for (size_t i = 0; i < set.n; i++)
        report_model(&r, set.c[i].model);
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    char filters[400] = "";
    const eb_results_filter *fl = &o.f;
    size_t fn = 0;
    const char *fk[] = {"device", "model", "quant", "governor", "since", "until"};
    const char *fv[] = {fl->device, fl->model, fl->quant, fl->governor, fl->since, fl->until};
    for (int i = 0; i < 6; i++)
        if (fv[i] && fv[i][0] && fn < sizeof filters)
            fn += (size_t)snprintf(filters + fn, sizeof filters - fn, "%s%s %s", fn ? ", " : "",
                                   fk[i], fv[i]);
    snprintf(r.source, sizeof r.source, "the measured runs (warm-ups left out) of %s%s%s%s",
             eb_store_name(s), filters[0] ? " (" : "", filters, filters[0] ? ")" : "");
    fprintf(r.md, "# edgebench report\n\n");
    char intro[1500];
    snprintf(intro, sizeof intro,
             "Generated %s from %s: %zu configuration(s) with measured runs (warm-ups left out). "
             "Synthetic (random-weight) models are real for speed, memory and energy; their "
             "text and perplexity mean nothing. Values marked ESTIMATE are estimates (the "
             "CPU-load x TDP model), never measurements. gnuplot's messages are in gnuplot.log.",
             when, eb_store_name(s), set.n);
    report_text(&r, intro);
    if (set.n == 0)
        report_text(&r, "The store holds no measured runs matching the filters: every figure "
                        "below is left out.");
    report_methods(&r, s, &o, &set);
    figures(&r, s, &set, &o);
    bool bad = !report_page_write(&r, path, style, checker);
    bad |= ferror(r.md) != 0;
    bad |= fclose(r.md) != 0;
    report_page_free(&r);
    eb_config_set_free(&set);
    eb_table_free(&quality);
    eb_table_free(&rl_trials);
    eb_table_free(&probes);
    eb_store_close(s);
    if (bad) {
        eb_fail(&err, EB_E_IO, "report %s: cannot write", dir);
        return cli_report("report", &err);
    }
    fprintf(stderr, "edgebench report: %s/index.html: %d figure(s), %d left out (see the page)\n",
            dir, r.n_figures, r.n_missing);
    return EXIT_OK;
}
