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

/* A long import says how far it is, at most every 2 s, with an ETA from the
 * bytes read. */
typedef struct progress_state {
    const char *path;
    double last;
    bool quiet, shown;
} progress_state;

static void progress(void *user, const eb_import_progress *p)
{
    progress_state *ps = user;
    if (ps->quiet || p->elapsed_s < 2 || p->elapsed_s - ps->last < 2) return;
    ps->last = p->elapsed_s;
    ps->shown = true;
    double frac = p->bytes_total ? (double)p->bytes_done / (double)p->bytes_total : 0;
    double eta = frac > 0 ? p->elapsed_s * (1 - frac) / frac : 0;
    fprintf(stderr,
            "edgebench import: %s: %zu records read, %zu stored, %.0f%% in %.0f s, ETA %.0f s "
            "(%.1f ms a record)\n",
            ps->path, p->records, p->stored, 100 * frac, p->elapsed_s, eta,
            p->records ? 1000 * p->elapsed_s / (double)p->records : 0);
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
        progress_state ps = {.path = argv[i], .quiet = quiet};
        eb_status st = eb_store_import_progress(s, argv[i], progress, &ps, &n, &err);
        if (!quiet || st != EB_OK)
            fprintf(stderr, "edgebench import: %s: %zu trial%s stored in %s\n", argv[i], n,
                    n == 1 ? "" : "s", eb_store_name(s));
        if (st != EB_OK) code = cli_report("import", &err);
    }
    eb_store_close(s);
    return code;
}
