/* `edgebench analyze KIND`: the study's section 6 for whatever is in the
 * store. Each analysis states its inputs, the measurements it used, and says
 * "not available" where a measurement is missing, never 0. */
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_cli.h"
#include "cli.h"
#include "edgebench/analyze.h"
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
    fputs("Common: --store SPEC, --device, --model, --quant, --governor, --since, --until,\n"
          "        --format table|csv|json|jsonl|md|sql, --alpha 0.05, --bootstrap 2000\n"
          "        (optimal: resamples for the interval of best minus runner-up; 0: none)\n",
          f);
}

/* Failed trials included: the trials view, not the measured runs. */
/* fit and distributed: a table from a view of the trials */
static int analyze_trials_table(eb_store *s, const analyze_opts *o, const eb_analysis *a)
{
    eb_error err = {0};
    eb_table trials = {0}, fit = {0};
    bool dist = a->input == EB_AI_DISTRIBUTED;
    eb_status st =
        eb_store_results(s, dist ? EB_VIEW_DISTRIBUTED : EB_VIEW_TRIALS, &o->f, &trials, &err);
    eb_store_close(s);
    const eb_analysis_data d = {.trials = &trials};
    if (st == EB_OK) st = a->table(&d, o, &fit, &err);
    eb_table_free(&trials);
    if (st == EB_OK && fit.nrow == 0) {
        fprintf(stderr,
                "edgebench analyze: not available: no %s in the store match (see "
                "'edgebench results')\n",
                dist ? "trials with RPC nodes (run --rpc)" : "trials");
        return EXIT_FAILURE_RUN;
    }
    if (st == EB_OK) st = eb_table_write(stdout, &fit, o->format, a->name, &err);
    eb_table_free(&fit);
    return st == EB_OK ? EXIT_OK : cli_report("analyze", &err);
}

/* ---- groups of configurations: one device, model and weight type ---- */

int analyze_option(analyze_opts *o, const char *name, const char *value, const char *cmd)
{
    static const struct {
        const char *name;
        size_t offset;
    } nums[] = {
        {"words-per-s", offsetof(analyze_opts, words_per_s)},
        {"words-per-token", offsetof(analyze_opts, words_per_token)},
        {"capacity-wh", offsetof(analyze_opts, capacity_wh)},
        {"cents-per-kwh", offsetof(analyze_opts, cents_per_kwh)},
        {"cloud-input-cents", offsetof(analyze_opts, cloud_in)},
        {"cloud-output-cents", offsetof(analyze_opts, cloud_out)},
        {"price-a", offsetof(analyze_opts, price_a)},
        {"price-b", offsetof(analyze_opts, price_b)},
        {"alpha", offsetof(analyze_opts, alpha)},
        {"bootstrap", offsetof(analyze_opts, bootstrap_d)},
    };
    char flag[64];
    snprintf(flag, sizeof flag, "--%s", name);
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        if (strcmp(name, nums[i].name) != 0) continue;
        double *v = (double *)((char *)o + nums[i].offset);
        if (!cli_double(flag, value, v)) return -1;
        if (*v < 0 || (*v == 0 && !strcmp(name, "words-per-token"))) {
            fprintf(stderr, "edgebench %s: invalid_argument: %s must be positive, got '%s'\n", cmd,
                    flag, value);
            return -1;
        }
        if (!strcmp(name, "bootstrap")) {
            if (*v != floor(*v) || *v > 1e6 || (*v > 0 && *v < 20)) {
                fprintf(stderr,
                        "edgebench %s: invalid_argument: --bootstrap must be 0 or a whole "
                        "number of resamples from 20 to 1000000, got '%s'\n",
                        cmd, value);
                return -1;
            }
            o->bootstrap = (int)*v;
        }
        return 1;
    }
    static const struct {
        const char *name;
        size_t offset;
    } strs[] = {
        {"store", offsetof(analyze_opts, spec)},
        {"device", offsetof(analyze_opts, f.device)},
        {"model", offsetof(analyze_opts, f.model)},
        {"quant", offsetof(analyze_opts, f.quant)},
        {"governor", offsetof(analyze_opts, f.governor)},
        {"since", offsetof(analyze_opts, f.since)},
        {"until", offsetof(analyze_opts, f.until)},
        {"device-a", offsetof(analyze_opts, device_a)},
        {"device-b", offsetof(analyze_opts, device_b)},
        {"ratios", offsetof(analyze_opts, ratios)},
        {"utilisations", offsetof(analyze_opts, utilisations)},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (!strcmp(name, strs[i].name)) {
            *(const char **)((char *)o + strs[i].offset) = value;
            return 1;
        }
    if (!strcmp(name, "format")) {
        if (!eb_table_format_known(value)) {
            fprintf(stderr,
                    "edgebench %s: invalid_argument: --format must be table, csv, json, jsonl, "
                    "md or sql, got '%s'\n",
                    cmd, value);
            return -1;
        }
        o->format = value;
        return 1;
    }
    if (!strcmp(name, "pick")) {
        if (strcmp(value, "fastest") != 0 && strcmp(value, "least-energy") != 0) {
            fprintf(stderr,
                    "edgebench %s: invalid_argument: --pick must be fastest or least-energy, "
                    "got '%s'\n",
                    cmd, value);
            return -1;
        }
        o->pick = value;
        return 1;
    }
    return 0;
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
    eb_analysis_defaults(&o);
    static const struct option opts[] = {{"store", 1, NULL, 0},
                                         {"format", 1, NULL, 0},
                                         {"device", 1, NULL, 0},
                                         {"model", 1, NULL, 0},
                                         {"quant", 1, NULL, 0},
                                         {"governor", 1, NULL, 0},
                                         {"since", 1, NULL, 0},
                                         {"until", 1, NULL, 0},
                                         {"words-per-s", 1, NULL, 0},
                                         {"words-per-token", 1, NULL, 0},
                                         {"capacity-wh", 1, NULL, 0},
                                         {"cents-per-kwh", 1, NULL, 0},
                                         {"cloud-input-cents", 1, NULL, 0},
                                         {"cloud-output-cents", 1, NULL, 0},
                                         {"device-a", 1, NULL, 0},
                                         {"device-b", 1, NULL, 0},
                                         {"price-a", 1, NULL, 0},
                                         {"price-b", 1, NULL, 0},
                                         {"ratios", 1, NULL, 0},
                                         {"utilisations", 1, NULL, 0},
                                         {"pick", 1, NULL, 0},
                                         {"alpha", 1, NULL, 0},
                                         {"bootstrap", 1, NULL, 0},
                                         {"help", 0, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int opt, li = 0;
    optind = 2;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", opts, &li)) != -1) {
        if (opt == 0) {
            if (analyze_option(&o, opts[li].name, optarg, "analyze") != 1) return EXIT_USAGE;
        } else if (opt == 'h') {
            usage(stdout);
            return EXIT_OK;
        } else {
            fprintf(stderr, "edgebench analyze: invalid_argument: %s '%s' (see --help)\n",
                    opt == ':' ? "option needs a value:" : "unknown option", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    eb_error err = {0};
    eb_store *s = NULL;
    if (eb_store_open(o.spec, &s, &err) != EB_OK) return cli_report("analyze", &err);
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
    int code = analyze_table(kind, &set, &o, &table);
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
