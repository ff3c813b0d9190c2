/* edgebench: what it costs to run a language model on a small device. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"run", cmd_run, "benchmark load, prefill and generation of one model"},
    {"model", cmd_model, "synthetic models: synth, list, plan, fit"},
    {"ppl", cmd_ppl, "perplexity on a corpus, KL divergence against a base model"},
    {"sweep", cmd_sweep, "run a plan of trials (models x types x threads x governors ...)"},
    {"fleet", cmd_fleet, "one plan for many devices through PostgreSQL: submit, status, cancel"},
    {"node", cmd_node, "this device as an RPC node of a distributed run (llama.cpp rpc-server)"},
    {"agent", cmd_agent, "this device in a fleet: claim, run and store its trials"},
    {"results", cmd_results, "list and filter stored results (table, CSV, JSON, Markdown, SQL)"},
    {"analyze", cmd_analyze, "optimal configurations, usability, battery, cost, break-even"},
    {"report", cmd_report, "HTML report with the study's figures (gnuplot) and tables"},
    {"import", cmd_import, "read llama-bench output or fallback records into the store"},
    {"device", cmd_device, "probe this device's memory bandwidth, kernel and disk ceilings"},
    {"monitor", cmd_monitor,
     "a live view of this device's power, clocks, temperatures, memory and runs"},
    {"calibrate", cmd_calibrate, "fit this device's power sensors to an external meter"},
    {"sensors", cmd_sensors, "power, memory, clock and temperature sources on this device"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: edgebench <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'edgebench <command> --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("edgebench %s\n", EB_CLI_VERSION_STR);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "edgebench: invalid_argument: unknown command '%s' (see edgebench --help)\n",
            argv[1]);
    return EXIT_USAGE;
}
