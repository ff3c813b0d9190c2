/* edgebench fleet submit | status | cancel: one plan queued once in a
 * PostgreSQL store, run by every matching device's `edgebench agent`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edgebench/fleet.h"
#include "edgebench/plan.h"
#include "edgebench/util.h"

static void usage(FILE *f)
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
            "ram_gib>=N. --retries N: attempts before a trial is recorded failed (default 3).\n"
            "Devices run them with 'edgebench agent --store ...'.\n");
}

static const struct option opts[] = {
    {"store", 1, NULL, 'S'},  {"devices", 1, NULL, 'D'}, {"per-device", 0, NULL, 'P'},
    {"split", 0, NULL, 'X'},  {"name", 1, NULL, 'n'},    {"retries", 1, NULL, 'r'},
    {"format", 1, NULL, 'f'}, {"help", 0, NULL, 'h'},    {NULL, 0, NULL, 0}};

int cmd_fleet(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1], *spec = NULL, *selector = NULL, *name = NULL, *format = "table";
    bool split = false;
    long retries = 3;
    int c;
    optind = 2;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'S':
            spec = optarg;
            break;
        case 'D':
            selector = optarg;
            break;
        case 'P':
            split = false;
            break;
        case 'X':
            split = true;
            break;
        case 'n':
            name = optarg;
            break;
        case 'f':
            format = optarg;
            break;
        case 'r':
            if (!eb_parse_long(optarg, 1, 1000, &retries)) {
                fprintf(stderr,
                        "edgebench fleet: invalid_argument: --retries expects 1..1000, got "
                        "'%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            fprintf(stderr, "edgebench fleet: invalid_argument: %s '%s' (see --help)\n",
                    c == ':' ? "option needs a value:" : "unknown option", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (!spec) spec = getenv("EDGEBENCH_STORE");
    if (!spec || !spec[0]) {
        fprintf(stderr, "edgebench fleet: invalid_argument: --store postgresql://... is needed\n");
        return EXIT_USAGE;
    }
    const char *arg = optind < argc ? argv[optind] : NULL;
    if ((!strcmp(sub, "submit") || !strcmp(sub, "cancel")) && !arg) {
        fprintf(stderr, "edgebench fleet %s: invalid_argument: which plan?\n", sub);
        return EXIT_USAGE;
    }
    char why[256];
    if (selector && !eb_fleet_selector_valid(selector, why, sizeof why)) {
        fprintf(stderr, "edgebench fleet: invalid_argument: --devices: %s\n", why);
        return EXIT_USAGE;
    }
    if (strcmp(sub, "submit") && strcmp(sub, "status") && strcmp(sub, "cancel")) {
        fprintf(stderr, "edgebench fleet: invalid_argument: unknown subcommand '%s'\n", sub);
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
    int code = EXIT_OK;
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
