/* edgebench fleet submit | status | cancel: one plan queued once in a
 * PostgreSQL store, run by every matching device's `edgebench agent`. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edgebench/fleet.h"
#include "edgebench/params.h"
#include "edgebench/plan.h"
#include "edgebench/util.h"

static void usage(FILE *f, const eb_cmd_rows *own)
{
    fprintf(f,
            "usage: edgebench fleet submit PLAN.ini --store postgresql://... [--devices SELECTOR]\n"
            "                              [--per-device | --split] [--name NAME] [--retries N]\n"
            "       edgebench fleet status --store postgresql://... [--format table|csv|json|md]\n"
            "       edgebench fleet cancel PLAN --store postgresql://...\n\n"
            "submit queues the plan's trials: --per-device (the default) has every matching\n"
            "device run every trial, --split runs each trial once on any matching device.\n"
            "SELECTOR: comma-separated terms that all must match a device: board=, cpu=,\n"
            "gpu= (substring), hostname=, arch= (exact), tag= (one of its tags), ram_gib=N or\n"
            "ram_gib>=N. Devices run them with 'edgebench agent --store ...'.\n\n");
    eb_cmd_help(EB_CMD_FLEET, own, f);
}

typedef struct fleet_opts {
    const char *selector, *name;
    bool per_device, split;
    int retries;
} fleet_opts;

#define F(f) offsetof(fleet_opts, f)
/* fleet's own options; the store and format are the table's */
static const eb_param own_rows[] = {
    {.key = "devices",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "devices",
     .def_doc = "all",
     .field = EB_FK_STR,
     .offset = F(selector),
     .metavar = "SELECTOR",
     .help = "the devices that run the plan"},
    {.key = "per_device",
     .scope = EB_PS_CLI,
     .type = EB_PT_BOOL,
     .flag = "per-device",
     .field = EB_FK_BOOL,
     .offset = F(per_device),
     .help = "every matching device runs every trial (the default)"},
    {.key = "split",
     .scope = EB_PS_CLI,
     .type = EB_PT_BOOL,
     .flag = "split",
     .field = EB_FK_BOOL,
     .offset = F(split),
     .help = "each trial runs once, on any matching device"},
    {.key = "name",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "name",
     .def_doc = "the plan file's",
     .field = EB_FK_STR,
     .offset = F(name),
     .metavar = "NAME",
     .help = "the plan's name in the queue"},
    {.key = "retries",
     .scope = EB_PS_CLI,
     .type = EB_PT_INT,
     .flag = "retries",
     .min = 1,
     .max = 1000,
     .def = "3",
     .field = EB_FK_INT,
     .offset = F(retries),
     .help = "attempts before a trial is recorded failed"},
};
#undef F

int cmd_fleet(int argc, char **argv)
{
    fleet_opts fo = {0};
    const char *args[1] = {NULL};
    eb_cmd_rows own = {own_rows, sizeof own_rows / sizeof own_rows[0], &fo, NULL, args, 1, 0};
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout, &own);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    eb_run_options ro;
    /* argv + 1: the subcommand is the parser's argv[0] */
    int code = cli_parse(EB_CMD_FLEET, "fleet", &own, argc - 1, argv + 1, &ro, usage);
    if (code != EXIT_OK) return code < 0 ? EXIT_OK : code;
    if (fo.split && fo.per_device) {
        cli_usage_error("fleet", "--per-device or --split, not both");
        return EXIT_USAGE;
    }
    const char *spec = ro.store, *selector = fo.selector, *name = fo.name,
               *format = ro.table_format;
    bool split = fo.split;
    long retries = fo.retries;
    if (!spec) spec = getenv("EDGEBENCH_STORE");
    if (!spec || !spec[0]) {
        cli_usage_error("fleet", "--store postgresql://... is needed");
        return EXIT_USAGE;
    }
    const char *arg = args[0];
    if ((!strcmp(sub, "submit") || !strcmp(sub, "cancel")) && !arg) {
        return cli_usage_error("fleet", "%s: which plan?", sub);
    }
    char why[256];
    if (selector && !eb_fleet_selector_valid(selector, why, sizeof why)) {
        cli_usage_error("fleet", "--devices: %s", why);
        return EXIT_USAGE;
    }
    if (strcmp(sub, "submit") && strcmp(sub, "status") && strcmp(sub, "cancel")) {
        cli_usage_error("fleet", "unknown subcommand '%s'", sub);
        return EXIT_USAGE;
    }
    eb_error err = {0};
    eb_plan plan;
    bool have_plan = false;
    if (!strcmp(sub, "submit")) {
        /* checked here as far as it can be without the devices */
        if (eb_plan_load(arg, &plan, &err) != EB_OK || eb_plan_expand(&plan, &err) != EB_OK)
            return cli_report("fleet submit", &err);
        have_plan = true;
    }
    eb_store *s = NULL;
    if (eb_fleet_open(spec, &s, &err) != EB_OK) {
        if (have_plan) eb_plan_free(&plan);
        return cli_report("fleet", &err);
    }
    code = EXIT_OK;
    if (have_plan) {
        long long id = 0;
        const char *base = strrchr(arg, '/');
        eb_status st = eb_fleet_submit(s, &plan,
                                       name   ? name
                                       : base ? base + 1
                                              : arg,
                                       split, selector, (int)retries, &id, &err);
        if (st == EB_OK)
            printf("plan %lld queued: %zu trials, %s, devices %s\n", id, plan.n_trials,
                   split ? "each once on any matching device"
                         : "every one on every matching device",
                   selector ? selector : "all");
        else
            code = cli_report("fleet submit", &err);
        eb_plan_free(&plan);
    } else if (!strcmp(sub, "cancel")) {
        long long n = 0;
        if (eb_fleet_cancel(s, arg, &n, &err) == EB_OK)
            printf("plan %s cancelled: %lld queued or running trials will not run\n", arg, n);
        else
            code = cli_report("fleet cancel", &err);
    } else {
        eb_table devices, plans;
        if (eb_fleet_status(s, &devices, &plans, &err) == EB_OK && !strcmp(format, "json")) {
            /* one JSON object: {"devices": [...], "plans": [...]} */
            printf("{\"devices\": ");
            if (eb_table_write(stdout, &devices, "json", "fleet_devices", &err) == EB_OK) {
                printf(", \"plans\": ");
                if (eb_table_write(stdout, &plans, "json", "fleet_plans", &err) != EB_OK)
                    code = cli_report("fleet status", &err);
            } else {
                code = cli_report("fleet status", &err);
            }
            printf("}\n");
            eb_table_free(&devices);
            eb_table_free(&plans);
        } else if (err.status == EB_OK) {
            bool text = !strcmp(format, "table") || !strcmp(format, "md");
            if (text) printf("devices\n");
            if (eb_table_write(stdout, &devices, format, "fleet_devices", &err) != EB_OK)
                code = cli_report("fleet status", &err);
            if (text) printf("\nplans\n");
            if (code == EXIT_OK &&
                eb_table_write(stdout, &plans, format, "fleet_plans", &err) != EB_OK)
                code = cli_report("fleet status", &err);
            eb_table_free(&devices);
            eb_table_free(&plans);
        } else {
            code = cli_report("fleet status", &err);
        }
    }
    eb_store_close(s);
    return code;
}
