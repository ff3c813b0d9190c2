/* edgebench sweep PLAN, and `edgebench run` with lists or ranges as values. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edgebench/params.h"
#include "edgebench/plan.h"
#include "sweep_exec.h"

static void sweep_usage(FILE *f)
{
    fprintf(f, "usage: edgebench sweep PLAN.ini [options]\n"
               "Runs every trial of a plan, each in its own process, records each one as it\n"
               "finishes, and gives back every device setting it changed.\n\n"
               "      --store SPEC      results store (default: the plan's, $EDGEBENCH_STORE or\n"
               "                        sqlite:edgebench.db; postgresql://... for a fleet)\n"
               "      --results FILE    journal of every record as JSON lines (default: the\n"
               "                        plan's, or edgebench-sweep.jsonl); when the store fails\n"
               "                        the sweep goes on and 'edgebench import FILE' catches up\n"
               "      --resume          skip trials already complete (store or journal)\n"
               "      --dry-run         print the trials and an estimated duration\n"
               "      --sysfs-root DIR  where governors are read and written (default /)\n"
               "      --state FILE      where the settings to restore are kept\n"
               "  -q, --quiet           no progress lines\n\n"
               "A plan has a [global] section and one section per experiment. Any key may\n"
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
    static const struct option opts[] = {{"results", required_argument, NULL, 'r'},
                                         {"resume", no_argument, NULL, 'R'},
                                         {"store", required_argument, NULL, 'D'},
                                         {"dry-run", no_argument, NULL, 'd'},
                                         {"sysfs-root", required_argument, NULL, 's'},
                                         {"state", required_argument, NULL, 'S'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    sweep_opts o = {.root = "/"};
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            o.results = optarg;
            break;
        case 'D':
            o.store = optarg;
            break;
        case 'R':
            o.resume = true;
            break;
        case 'd':
            o.dry_run = true;
            break;
        case 's':
            o.root = optarg;
            break;
        case 'S':
            o.state = optarg;
            break;
        case 'q':
            o.quiet = true;
            break;
        case 'h':
            sweep_usage(stdout);
            return EXIT_OK;
        case ':':
            fprintf(stderr, "edgebench sweep: invalid_argument: option '%s' needs a value\n",
                    argv[optind - 1]);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "edgebench sweep: invalid_argument: unknown option '%s' (see --help)\n",
                    argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "edgebench sweep: invalid_argument: give one plan file (see --help)\n");
        return EXIT_USAGE;
    }
    eb_plan plan;
    eb_error err = {0};
    if (eb_plan_load(argv[optind], &plan, &err) != EB_OK) {
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
