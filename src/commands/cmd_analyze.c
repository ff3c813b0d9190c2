/* `edgebench analyze KIND`: the study's section 6 for whatever is in the
 * store. Each analysis states its inputs, the measurements it used, and says
 * "not available" where a measurement is missing, never 0. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_cli.h"
#include "cli.h"
#include "cli_store.h"
#include "edgebench/analyze.h"
#include "edgebench/params.h"
#include "edgebench/store.h"
#include "edgebench/util.h"

static void usage(FILE *f)
{
    fputs("usage: edgebench analyze KIND [options]\nKIND:\n", f);
    for (size_t i = 0; i < eb_analysis_count; i++) {
        char first[32];
        snprintf(first, sizeof first, "  %-12s", eb_analyses[i].name);
        eb_print_wrapped(f, first, "              ", eb_analyses[i].answers, 92);
    }
    fputs("Options:\n", f);
    eb_cmd_help(EB_CMD_ANALYZE,
                &(eb_cmd_rows){.rows = eb_analysis_options, .n = eb_analysis_option_count}, f);
}

/* Failed trials included: the trials view, not the measured runs. */
/* fit and distributed: a table from a view of the trials */
static int analyze_trials_table(eb_store *s, const analyze_opts *o, const eb_analysis *a)
{
    eb_error err = {0};
    eb_table trials = {0}, fit = {0};
    bool dist = a->input == EB_AI_DISTRIBUTED, serving = a->input == EB_AI_SERVING;
    eb_status st = eb_store_results(s,
                                    dist      ? EB_VIEW_DISTRIBUTED
                                    : serving ? EB_VIEW_SERVING
                                              : EB_VIEW_TRIALS,
                                    &o->f, &trials, &err);
    eb_store_close(s);
    const eb_analysis_data d = {.trials = &trials};
    if (st == EB_OK) st = a->table(&d, o, &fit, &err);
    eb_table_free(&trials);
    if (st == EB_OK && fit.nrow == 0) {
        fprintf(stderr,
                "edgebench analyze: not available: no %s in the store match (see "
                "'edgebench results')\n",
                dist      ? "trials with RPC nodes (run --rpc)"
                : serving ? "closed-loop levels of a server (run --engine server --concurrency N)"
                          : "trials");
        return EXIT_FAILURE_RUN;
    }
    if (st == EB_OK) st = eb_table_write(stdout, &fit, o->format, a->name, &err);
    eb_table_free(&fit);
    return st == EB_OK ? EXIT_OK : cli_report("analyze", &err);
}

/* ---- groups of configurations: one device, model and weight type ---- */

int analyze_parse(unsigned cmd, int argc, char **argv, analyze_opts *o, eb_run_options *ro,
                  const char **kind)
{
    eb_analysis_defaults(o);
    eb_run_options_defaults(ro);
    eb_cmd_rows own = {
        eb_analysis_options, eb_analysis_option_count, o, NULL, kind, kind ? 1 : 0, 0};
    eb_error err = {0};
    const char *name = cmd == EB_CMD_REPORT ? "report" : "analyze";
    if (eb_cmd_parse(cmd, &own, argc, argv, ro, &err) != EB_OK) return cli_report(name, &err);
    if (ro->help) return EXIT_OK;
    if (o->bootstrap > 0 && o->bootstrap < 20) {
        eb_fail(&err, EB_E_INVALID_ARG,
                "--bootstrap must be 0 or a whole number of resamples from 20 to 1000000, got %d",
                o->bootstrap);
        return cli_report(name, &err);
    }
    o->spec = ro->store;
    o->format = ro->table_format;
    o->f.device = ro->filter_device;
    o->f.model = ro->filter_model;
    o->f.quant = ro->filter_quant;
    o->f.governor = ro->filter_governor;
    o->f.since = ro->filter_since;
    o->f.until = ro->filter_until;
    return EXIT_OK;
}

int analyze_table(const char *kind, const eb_config_set *set, const analyze_opts *o, eb_table *out)
{
    eb_error err = {0};
    return eb_analysis_table(kind, set, o, out, &err) == EB_OK ? EXIT_OK
                                                               : cli_report("analyze", &err);
}

/* What an analysis assumed and used, in words. */
static void state_inputs(FILE *f, const char *kind, const analyze_opts *o, const eb_config_set *set,
                         bool as_comment);

/* The inputs, each line wrapped at 120 columns. */
void analyze_state_inputs(FILE *out, const char *kind, const analyze_opts *o,
                          const eb_config_set *set, bool as_comment)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) {
        state_inputs(out, kind, o, set, as_comment);
        return;
    }
    state_inputs(m, kind, o, set, as_comment);
    fclose(m);
    const char *indent = as_comment ? "#         " : "        ";
    for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        eb_print_wrapped(out, "", indent, line, 120);
    }
    free(text);
}

static void state_inputs(FILE *f, const char *kind, const analyze_opts *o, const eb_config_set *set,
                         bool as_comment)
{
    const char *p = as_comment ? "# " : "";
    fprintf(f, "%sanalysis: %s over %zu configuration(s) of measured runs (warm-ups left out)\n", p,
            kind, set->n);
    if (set->n_disturbed > 0)
        fprintf(f,
                "%sinterference: %zu measured run(s) marked disturbed (other processes took the "
                "CPUs) %s\n",
                p, set->n_disturbed,
                o->f.with_disturbed ? "are kept (--with-disturbed)"
                                    : "are left out (--with-disturbed keeps them)");
    size_t est = eb_configs_estimated(set);
    if (est > 0)
        fprintf(f,
                "%senergy: %zu of %zu configuration(s) had no power sensor and carry the CPU-load "
                "x TDP ESTIMATE (--tdp), marked 'energy ESTIMATE' and ranked apart from measured "
                "ones\n",
                p, est, set->n);
    const eb_analysis *a = eb_analysis_find(kind);
    if (a && a->inputs) a->inputs(f, p, o);
}

int cmd_analyze(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *kind = argv[1];
    const eb_analysis *an = eb_analysis_find(kind);
    if (!an) {
        eb_error unknown = {0};
        eb_analysis_unknown(kind, &unknown);
        cli_report("analyze", &unknown);
        return EXIT_USAGE;
    }
    analyze_opts o;
    eb_run_options ro;
    /* argv + 1: the kind is the parser's argv[0] */
    int code = analyze_parse(EB_CMD_ANALYZE, argc - 1, argv + 1, &o, &ro, NULL);
    if (code != EXIT_OK) return code;
    if (ro.help) {
        usage(stdout);
        return EXIT_OK;
    }
    eb_error err = {0};
    eb_store *s = NULL;
    if (eb_store_open_existing(o.spec, &s, &err) != EB_OK) return cli_report("analyze", &err);
    if (cli_store_says_empty("analyze", s)) {
        eb_store_close(s);
        return EXIT_FAILURE_RUN;
    }
    if (an->input != EB_AI_CONFIGS) return analyze_trials_table(s, &o, an);
    eb_config_set set = {0};
    eb_table quality = {0}, rl_trials = {0}, probes = {0};
    eb_status st = eb_store_configs(s, &o.f, &set, &err);
    if (st == EB_OK && (an->needs & EB_AN_QUALITY))
        st = eb_analysis_load_quality(s, &o, &quality, &err);
    if (st == EB_OK && (an->needs & EB_AN_ROOFLINE))
        st = eb_analysis_load_roofline(s, &o, &rl_trials, &probes, &err);
    o.quality = &quality;
    o.roofline_trials = &rl_trials;
    o.probes = &probes;
    eb_store_close(s);
    if (st != EB_OK) {
        eb_config_set_free(&set);
        eb_table_free(&quality);
        eb_table_free(&rl_trials);
        eb_table_free(&probes);
        return cli_report("analyze", &err);
    }
    if (set.n == 0 && quality.nrow == 0) {
        fprintf(stderr, "edgebench analyze: not available: no measured runs in the store match "
                        "(see 'edgebench results')\n");
        eb_config_set_free(&set);
        eb_table_free(&rl_trials);
        eb_table_free(&probes);
        return EXIT_FAILURE_RUN;
    }
    eb_table table = {0};
    code = analyze_table(kind, &set, &o, &table);
    if (code == EXIT_OK) {
        bool readable = !strcmp(o.format, "table") || !strcmp(o.format, "md");
        analyze_state_inputs(readable ? stdout : stderr, kind, &o, &set, !readable);
        if (readable) fputc('\n', stdout);
        if (eb_table_write(stdout, &table, o.format, kind, &err) != EB_OK)
            code = cli_report("analyze", &err);
    }
    eb_table_free(&table);
    eb_table_free(&quality);
    eb_table_free(&rl_trials);
    eb_table_free(&probes);
    eb_config_set_free(&set);
    return code;
}
