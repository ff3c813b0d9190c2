/* `edgebench results`: what the store holds, filtered, in the format asked. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_store.h"
#include "edgebench/params.h"
#include "edgebench/store.h"

typedef struct results_opts {
    const char *view, *status;
    uint64_t limit, timeline;
} results_opts;

#define R(f) offsetof(results_opts, f)
/* results' own options; the store, format, output and filters are the
 * parameter table's */
static const eb_param own_rows[] = {
    {.key = "view",
     .scope = EB_PS_CLI,
     .type = EB_PT_CHOICE,
     .flag = "view",
     .choices = "trials|runs|llama-bench|quality|probes|roofline|serving",
     .def = "trials",
     .field = EB_FK_STR,
     .offset = R(view),
     .help = "trials (one row each, means of the measured runs), runs (one row per run), "
             "llama-bench (llama-bench's field names: one row per prompt or generation test), "
             "quality (perplexity runs and KL divergence), probes (device probes, newest first) "
             "roofline (trials with their model's shape) or serving (server-under-load levels)"},
    {.key = "status",
     .scope = EB_PS_CLI,
     .type = EB_PT_CHOICE,
     .flag = "status",
     .choices = "ok|failed",
     .field = EB_FK_STR,
     .offset = R(status),
     .help = "only trials that ran (ok) or failed"},
    {.key = "limit",
     .scope = EB_PS_CLI,
     .type = EB_PT_INT,
     .flag = "limit",
     .min = 1,
     .max = 1e12,
     .field = EB_FK_U64,
     .offset = R(limit),
     .help = "at most N rows"},
    {.key = "timeline",
     .scope = EB_PS_CLI,
     .type = EB_PT_INT,
     .flag = "timeline",
     .min = 1,
     .max = 1e15,
     .field = EB_FK_U64,
     .offset = R(timeline),
     .metavar = "ID",
     .help = "the sampled timeline of trial ID instead"},
};
#undef R

static void usage(FILE *f, const eb_cmd_rows *own)
{
    fputs("usage: edgebench results [options]\n"
          "Lists the trials in the results store.\n\n",
          f);
    eb_cmd_help(EB_CMD_RESULTS, own, f);
}

int cmd_results(int argc, char **argv)
{
    results_opts ro = {0};
    eb_cmd_rows own = {own_rows, sizeof own_rows / sizeof own_rows[0], &ro, NULL, NULL, 0, 0};
    eb_run_options o;
    int code = cli_parse(EB_CMD_RESULTS, "results", &own, argc, argv, &o, usage);
    if (code != EXIT_OK) return code < 0 ? EXIT_OK : code;
    static const struct {
        const char *name;
        eb_results_view view;
    } views[] = {{"trials", EB_VIEW_TRIALS},           {"runs", EB_VIEW_RUNS},
                 {"llama-bench", EB_VIEW_LLAMA_BENCH}, {"quality", EB_VIEW_QUALITY},
                 {"probes", EB_VIEW_PROBES},           {"roofline", EB_VIEW_ROOFLINE},
                 {"serving", EB_VIEW_SERVING}};
    eb_results_view view = EB_VIEW_TRIALS;
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
        if (!strcmp(views[i].name, ro.view)) view = views[i].view;
    eb_results_filter f = {.device = o.filter_device,
                           .model = o.filter_model,
                           .quant = o.filter_quant,
                           .governor = o.filter_governor,
                           .status = ro.status,
                           .since = o.filter_since,
                           .until = o.filter_until,
                           .limit = (long long)ro.limit,
                           .threads = eb_run_options_given(&o, "threads") ? o.cfg.threads_gen : 0};
    const char *spec = o.store, *format = o.table_format, *output = o.output;
    long timeline = (long)ro.timeline;
    eb_error err = {0};
    eb_store *s = NULL;
    if (eb_store_open_existing(spec, &s, &err) != EB_OK) return cli_report("results", &err);
    cli_store_says_empty("results", s); /* an empty listing follows */
    eb_table t;
    eb_status st = timeline ? eb_store_timeline(s, timeline, &t, &err)
                            : eb_store_results(s, view, &f, &t, &err);
    eb_store_close(s);
    if (st != EB_OK) return cli_report("results", &err);
    FILE *out = stdout;
    if (output && !(out = fopen(output, "w"))) {
        eb_fail(&err, EB_E_IO, "output %s: %s", output, strerror(errno));
        eb_table_free(&t);
        return cli_report("results", &err);
    }
    const char *table = timeline                      ? "timelines"
                        : view == EB_VIEW_LLAMA_BENCH ? "llama_bench"
                                                      : "results";
    st = eb_table_write(out, &t, format, table, &err);
    if (out != stdout && fclose(out) != 0 && st == EB_OK)
        st = eb_fail(&err, EB_E_IO, "output %s: %s", output, strerror(errno));
    eb_table_free(&t);
    return st == EB_OK ? EXIT_OK : cli_report("results", &err);
}
