/* `edgebench import FILE...`: llama-bench output and edgebench records
 * (fallback files, sweep journals) into the results store. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edgebench/params.h"
#include "edgebench/store.h"

typedef struct import_flags {
    bool strict;
    int max_line_mib;
} import_flags;

#define N(f) offsetof(import_flags, f)
static const eb_param own_rows[] = {
    {.key = "strict",
     .scope = EB_PS_CLI,
     .type = EB_PT_BOOL,
     .flag = "strict",
     .field = EB_FK_BOOL,
     .offset = N(strict),
     .help = "stop at the first line that is no record (by default it is told and left out, "
             "and the lines after it are imported)"},
    {.key = "max_line_mib",
     .scope = EB_PS_CLI,
     .type = EB_PT_INT,
     .flag = "max-line-mib",
     .min = 1,
     .max = 4096,
     .def = "16",
     .field = EB_FK_INT,
     .offset = N(max_line_mib),
     .unit = "MiB",
     .metavar = "MIB",
     .help = "a line longer than this is refused (told and left out), so that one line "
             "cannot take the memory"},
};
#undef N

static void usage(FILE *f, const eb_cmd_rows *own)
{
    fputs("usage: edgebench import [--store SPEC] FILE...\n"
          "Reads into the results store: llama-bench output (-o json or -o jsonl), a\n"
          "fallback file left when the store could not be written, a sweep's JSONL\n"
          "journal, or a run's --format json. A record already in the store is skipped,\n"
          "so importing a file again is safe.\n\n",
          f);
    eb_cmd_help(EB_CMD_IMPORT, own, f);
}

/* A long import says how far it is, at most every 2 s, with an ETA from the
 * bytes read. */
typedef struct progress_state {
    const char *path;
    double last;
    bool quiet, shown;
    eb_import_progress final;
} progress_state;

static void bad_line(void *user, const char *where, const char *why)
{
    (void)user;
    fprintf(stderr, "edgebench import: %s: %s (left out)\n", where, why);
}

static void progress(void *user, const eb_import_progress *p)
{
    progress_state *ps = user;
    ps->final = *p;
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
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    if (!files) return cli_report("import", &(eb_error){EB_E_NO_MEMORY, "out of memory"});
    import_flags flags = {.max_line_mib = 16};
    eb_cmd_rows own = {own_rows, sizeof own_rows / sizeof *own_rows, &flags, NULL, files, argc, 0};
    eb_run_options o;
    int code = cli_parse(EB_CMD_IMPORT, "import", &own, argc, argv, &o, usage);
    if (code == EXIT_OK && own.n_positional == 0)
        code =
            cli_report("import", &(eb_error){EB_E_INVALID_ARG, "no file to import (see --help)"});
    if (code != EXIT_OK) {
        free(files);
        return code < 0 ? EXIT_OK : code;
    }
    const char *spec = o.store;
    bool quiet = o.quiet;
    eb_error err = {0};
    eb_store *s = NULL;
    if (eb_store_open(spec, &s, &err) != EB_OK) {
        free(files);
        return cli_report("import", &err);
    }
    for (int i = 0; i < own.n_positional; i++) {
        size_t n = 0;
        progress_state ps = {.path = files[i], .quiet = quiet};
        const eb_import_opts io = {.progress = progress,
                                   .bad_line = bad_line,
                                   .user = &ps,
                                   .strict = flags.strict,
                                   .max_line_bytes = (size_t)flags.max_line_mib << 20};
        eb_status st = eb_store_import_with(s, files[i], &io, &n, &err);
        if (!quiet || st != EB_OK)
            fprintf(stderr,
                    "edgebench import: %s: %zu trial%s stored in %s (%zu already there, %zu "
                    "left out)\n",
                    files[i], n, n == 1 ? "" : "s", eb_store_name(s), ps.final.skipped,
                    ps.final.refused);
        if (st != EB_OK) code = cli_report("import", &err);
    }
    eb_store_close(s);
    free(files);
    return code;
}
