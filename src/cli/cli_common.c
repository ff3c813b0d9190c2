#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <sched.h>
#include <string.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "edgebench/params.h"
#include "edgebench/engine.h"
#include "edgebench/quality.h"
#include "edgebench/util.h"

int cli_parse(unsigned cmd, const char *name, eb_cmd_rows *own, int argc, char **argv,
              eb_run_options *o, void (*usage)(FILE *f, const eb_cmd_rows *own))
{
    eb_run_options_defaults(o);
    eb_error err = {0};
    if (eb_cmd_parse(cmd, own, argc, argv, o, &err) != EB_OK) return cli_report(name, &err);
    if (!o->help) return EXIT_OK;
    usage(stdout, own);
    return -1;
}

int cli_report(const char *cmd, const eb_error *err)
{
    fprintf(stderr, "edgebench %s: %s: %s\n", cmd, eb_status_name(err->status), err->msg);
    switch (err->status) {
    case EB_E_INVALID_ARG:
    case EB_E_IO:
    case EB_E_NOT_GGUF:
    case EB_E_TRUNCATED:
    case EB_E_UNSUPPORTED:
    case EB_E_CONTEXT:
        return EXIT_USAGE;
    default:
        return EXIT_FAILURE_RUN;
    }
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    eb_error err = {.status = EB_E_INVALID_ARG};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.msg, sizeof err.msg, fmt, ap);
    va_end(ap);
    return cli_report(cmd, &err);
}

bool cli_set_affinity(const char *list, eb_error *err)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    const char *p = list;
    while (*p) {
        char *end;
        long lo = strtol(p, &end, 10), hi = lo;
        if (end == p || lo < 0 || lo >= CPU_SETSIZE) goto bad;
        p = end;
        if (*p == '-') {
            hi = strtol(p + 1, &end, 10);
            if (end == p + 1 || hi < lo || hi >= CPU_SETSIZE) goto bad;
            p = end;
        }
        for (long c = lo; c <= hi; c++)
            CPU_SET((int)c, &set);
        if (*p == ',')
            p++;
        else if (*p)
            goto bad;
    }
    if (CPU_COUNT(&set) == 0) goto bad;
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        eb_fail(err, EB_E_INVALID_ARG, "--cpus %s: %s", list, strerror(errno));
        return false;
    }
    return true;
bad:
    eb_fail(err, EB_E_INVALID_ARG, "--cpus must be a CPU list such as 0-3 or 4,5, got '%s'", list);
    return false;
}

typedef struct progress_state {
    const char *label;
    int last_pct;
    bool tty;
} progress_state;

static void synth_progress(void *user, uint64_t done, uint64_t total)
{
    progress_state *ps = user;
    int pct = total ? (int)(100.0 * (double)done / (double)total) : 100;
    if (pct == ps->last_pct || (!ps->tty && pct % 25 != 0)) return;
    ps->last_pct = pct;
    fprintf(stderr, ps->tty ? "\r%s: %3d%%" : "%s: %d%%\n", ps->label, pct);
    if (ps->tty && pct == 100) fputc('\n', stderr);
}

eb_status cli_synth_cached(const eb_preset *p, eb_synth_type t, char *path, size_t cap, bool quiet,
                           eb_error *err)
{
    char label[160];
    snprintf(label, sizeof label, "edgebench: generating synthetic %s %s (first use, cached after)",
             p->name, eb_synth_type_name(t));
    progress_state ps = {.label = label, .last_pct = -1, .tty = isatty(2)};
    eb_synth_options opt = {
        .seed = 42, .progress = quiet ? NULL : synth_progress, .progress_user = &ps};
    bool created = false;
    return eb_synth_cached(p, t, &opt, path, cap, &created, err);
}

eb_status cli_quantized(const char *src, const char *type, int threads, char *path, size_t cap,
                        bool quiet, eb_error *err)
{
    if (!quiet)
        fprintf(stderr, "edgebench: %s as %s (quantized by llama.cpp on first use, cached after)\n",
                src, type);
    bool created = false;
    return eb_quantize_cached(eb_engine_default(), src, type, threads, path, cap, &created, err);
}
