/* `edgebench import FILE...`: llama-bench output and edgebench records
 * (fallback files, sweep journals) into the results store. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "edgebench/store.h"

static void usage(FILE *f)
{
    fputs("usage: edgebench import [--store SPEC] FILE...\n"
          "Reads into the results store: llama-bench output (-o json or -o jsonl), a\n"
          "fallback file left when the store could not be written, a sweep's JSONL\n"
          "journal, or a run's --format json. A record already in the store is skipped,\n"
          "so importing a file again is safe.\n\n"
          "      --store SPEC   sqlite:FILE, FILE or postgresql://... (default\n"
          "                     $EDGEBENCH_STORE, else sqlite:edgebench.db)\n"
          "  -q, --quiet        no summary line\n"
          "  -h, --help         this help\n",
          f);
}

int cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {{"store", required_argument, NULL, 's'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *spec = NULL;
    bool quiet = false;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
        if (opt == 's') {
            spec = optarg;
        } else if (opt == 'q') {
            quiet = true;
        } else if (opt == 'h') {
            usage(stdout);
            return EXIT_OK;
        } else {
            fprintf(stderr, "edgebench import: invalid_argument: %s '%s' (see --help)\n",
                    opt == ':' ? "option needs a value:" : "unknown option", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "edgebench import: invalid_argument: no file to import (see --help)\n");
        return EXIT_USAGE;
    }
    eb_error err = {0};
    eb_store *s = NULL;
    if (eb_store_open(spec, &s, &err) != EB_OK) return cli_report("import", &err);
    int code = EXIT_OK;
    for (int i = optind; i < argc; i++) {
        size_t n = 0;
        eb_status st = eb_store_import(s, argv[i], &n, &err);
        if (!quiet || st != EB_OK)
            fprintf(stderr, "edgebench import: %s: %zu trial%s stored in %s\n", argv[i], n,
                    n == 1 ? "" : "s", eb_store_name(s));
        if (st != EB_OK) code = cli_report("import", &err);
    }
    eb_store_close(s);
    return code;
}
