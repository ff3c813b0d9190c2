/* edgebench sweep PLAN, and `edgebench run` with lists or ranges as values. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edgebench/params.h"
#include "edgebench/plan.h"
#include "sweep_exec.h"

#define S(f) offsetof(sweep_opts, f)
/* sweep's own options; the store, root and quiet are the table's */
static const eb_param own_rows[] = {
    {.key = "results",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "results",
     .def_doc = "the plan's, or edgebench-sweep.jsonl",
     .field = EB_FK_STR,
     .offset = S(results),
     .metavar = "FILE",
     .help = "journal of every record as JSON lines; when the store fails the sweep goes on "
             "and 'edgebench import FILE' catches up"},
    {.key = "resume",
     .scope = EB_PS_CLI,
     .type = EB_PT_BOOL,
     .flag = "resume",
     .field = EB_FK_BOOL,
     .offset = S(resume),
     .help = "skip trials already complete (store or journal)"},
    {.key = "dry_run",
     .scope = EB_PS_CLI,
     .type = EB_PT_BOOL,
     .flag = "dry-run",
     .field = EB_FK_BOOL,
     .offset = S(dry_run),
     .help = "print the trials and an estimated duration"},
    {.key = "state",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "state",
     .def_doc = "in the cache directory",
     .field = EB_FK_STR,
     .offset = S(state),
     .metavar = "FILE",
     .help = "where the settings to restore are kept"},
};
#undef S

static void sweep_usage(FILE *f, const eb_cmd_rows *own)
{
    fprintf(f, "usage: edgebench sweep PLAN.ini [options]\n"
               "Runs every trial of a plan, each in its own process, records each one as it\n"
               "finishes, and gives back every device setting it changed. The store: the plan's,\n"
               "else --store's (postgresql://... for a fleet).\n\n");
    eb_cmd_help(EB_CMD_SWEEP, own, f);
    fprintf(f, "\nA plan has a [global] section and one section per experiment. Any key may\n"
               "hold a list (a,b,c) and integer keys a range (1-4, 32-128:32); each\n"
               "experiment runs the product of its values. Keys:\n");
    eb_params_plan_help(f);
}

static int prepare_and_run(eb_plan *plan, const sweep_opts *o)
{
    eb_error err = {0};
    if (eb_plan_expand(plan, &err) != EB_OK || eb_plan_check_device(plan, o->root, &err) != EB_OK) {
        eb_plan_free(plan);
        return cli_report("sweep", &err);
    }
    int code = sweep_execute(plan, o);
    eb_plan_free(plan);
    return code;
}

int cmd_sweep(int argc, char **argv)
{
    sweep_opts o = {0};
    const char *plan_file[1] = {NULL};
    eb_cmd_rows own = {own_rows, sizeof own_rows / sizeof own_rows[0], &o, NULL, plan_file, 1, 0};
    eb_run_options ro;
    int code = cli_parse(EB_CMD_SWEEP, "sweep", &own, argc, argv, &ro, sweep_usage);
    if (code != EXIT_OK) return code < 0 ? EXIT_OK : code;
    if (!plan_file[0]) {
        cli_usage_error("sweep", "give one plan file (see --help)");
        return EXIT_USAGE;
    }
    /* the store given here, else the plan's (sweep_execute) */
    o.store = eb_run_options_given(&ro, "store") ? ro.store : NULL;
    o.root = ro.cfg.root;
    o.quiet = ro.quiet;
    eb_plan plan;
    eb_error err = {0};
    if (eb_plan_load(plan_file[0], &plan, &err) != EB_OK) {
        eb_plan_free(&plan);
        return cli_report("sweep", &err);
    }
    return prepare_and_run(&plan, &o);
}

/* A value that asks for several: a list, or a range of an integer key. */
static bool is_multi(const eb_param *o, const char *v)
{
    char sep = eb_param_list_sep(o);
    if (!sep) return false;
    if (strchr(v, sep)) return true;
    long a, b;
    char tail;
    return o->type == EB_PT_INT && sscanf(v, "%ld-%ld%c", &a, &b, &tail) >= 2 && a >= 0;
}

int cli_run_sweep(int argc, char **argv, bool *handled)
{
    *handled = false;
    bool multi = false;
    for (int i = 1; i + 1 < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        char flag[64];
        snprintf(flag, sizeof flag, "%.*s", eq ? (int)(eq - argv[i]) : 63, argv[i]);
        const eb_param *o = eb_param_by_flag(flag);
        if (o && o->scope != EB_PS_CLI && is_multi(o, eq ? eq + 1 : argv[i + 1])) multi = true;
    }
    if (!multi) return EXIT_OK;
    *handled = true;
    eb_plan plan;
    memset(&plan, 0, sizeof plan);
    sweep_opts so = {.root = "/"};
    eb_error err = {0};
    eb_status st = EB_OK;
    for (int i = 1; i < argc && st == EB_OK; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        char flag[64];
        snprintf(flag, sizeof flag, "%.*s", eq ? (int)(eq - a) : 63, a);
        const eb_param *o = eb_param_by_flag(flag);
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            so.quiet = true;
        } else if (strcmp(flag, "--results") == 0 && (eq || i + 1 < argc)) {
            so.results = eq ? eq + 1 : argv[++i];
        } else if (o && o->scope != EB_PS_CLI && (eq || i + 1 < argc)) {
            const char *v = eq ? eq + 1 : argv[++i];
            st = eb_plan_set(&plan, NULL, o->key, v, i, &err);
        } else {
            st = eb_fail(&err, EB_E_INVALID_ARG,
                         "'%s' cannot be used in a sweep from the command line (results go to "
                         "the store, and to --results FILE as JSONL)",
                         a);
        }
    }
    /* Sweeps from the command line do not pause for 30 s unless asked, and
     * run the default preset without a model, as `run` does. */
    const eb_param *pause = eb_param_plan_key("pause"), *preset = eb_param_plan_key("preset");
    if (st == EB_OK && !plan.global.value[eb_param_index(pause)])
        st = eb_plan_set(&plan, NULL, "pause", pause->def, 0, &err);
    if (st == EB_OK && !plan.global.value[eb_param_index(eb_param_plan_key("model"))] &&
        !plan.global.value[eb_param_index(preset)])
        st = eb_plan_set(&plan, NULL, "preset", preset->def, 0, &err);
    if (st != EB_OK) {
        eb_plan_free(&plan);
        return cli_report("run", &err);
    }
    return prepare_and_run(&plan, &so);
}
