/* `edgebench device probe`: measures this device's ceilings (memory read
 * bandwidth, the engine's matrix kernels, disk reads), prints them beside
 * the board's nominal figures where known, and stores them for `run`,
 * `analyze roofline` and `model plan`. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_store.h"
#include "edgebench/params.h"
#include "edgebench/plan.h"
#include "edgebench/probe.h"
#include "edgebench/roofline.h"
#include "edgebench/util.h"

typedef struct probe_cli {
    const char *threads, *types, *shape, *disk_dir;
    int buffer_mib, passes, mem_passes, disk_mib;
    double mem_seconds;
    bool no_disk;
} probe_cli;

#define P(f) offsetof(probe_cli, f)
/* the probe's own options; format, output, store, root and quiet are the
 * table's */
static const eb_param own_rows[] = {
    {.key = "threads",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "threads",
     .short_flag = 't',
     .def_doc = "1 .. online CPUs",
     .field = EB_FK_STR,
     .offset = P(threads),
     .metavar = "LIST",
     .help = "thread counts, e.g. 1,2,4 or 1-4"},
    {.key = "types",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "types",
     .def_doc = "F16,Q8_0,Q4_0,Q4_K",
     .field = EB_FK_STR,
     .offset = P(types),
     .metavar = "LIST",
     .help = "kernel weight types"},
    {.key = "shape",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "shape",
     .def_doc = "2048x256x2048",
     .field = EB_FK_STR,
     .offset = P(shape),
     .metavar = "MxNxK",
     .help = "kernel shape: weight rows x tokens x inner size, each 1..65536"},
    {.key = "buffer_mib",
     .scope = EB_PS_CLI,
     .type = EB_PT_INT,
     .flag = "buffer-mib",
     .min = 1,
     .max = 1 << 20,
     .def_doc = "max(256, 8 x last-level cache)",
     .field = EB_FK_INT,
     .offset = P(buffer_mib),
     .unit = "MiB",
     .help = "memory probe buffer"},
    {.key = "passes",
     .scope = EB_PS_CLI,
     .type = EB_PT_INT,
     .flag = "passes",
     .min = 1,
     .max = EB_PROBE_MAX_PASSES,
     .def_doc = "5",
     .field = EB_FK_INT,
     .offset = P(passes),
     .help = "timed kernel passes, best kept"},
    {.key = "mem_passes",
     .scope = EB_PS_CLI,
     .type = EB_PT_INT,
     .flag = "mem-passes",
     .min = 1,
     .max = EB_PROBE_MAX_MEM_PASSES,
     .def_doc = "48",
     .field = EB_FK_INT,
     .offset = P(mem_passes),
     .help = "timed memory passes at least, best kept"},
    {.key = "mem_seconds",
     .scope = EB_PS_CLI,
     .type = EB_PT_NUM,
     .flag = "mem-seconds",
     .min = 0.001,
     .max = 600,
     .def_doc = "1",
     .field = EB_FK_DOUBLE,
     .offset = P(mem_seconds),
     .unit = "s",
     .metavar = "S",
     .help = "and for at least S seconds per thread count"},
    {.key = "disk_dir",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "disk-dir",
     .def_doc = "the cache",
     .field = EB_FK_STR,
     .offset = P(disk_dir),
     .metavar = "DIR",
     .help = "where the disk probe writes its file"},
    {.key = "disk_mib",
     .scope = EB_PS_CLI,
     .type = EB_PT_INT,
     .flag = "disk-mib",
     .min = 4,
     .max = 1 << 20,
     .def_doc = "256",
     .field = EB_FK_INT,
     .offset = P(disk_mib),
     .unit = "MiB",
     .help = "disk probe file size"},
    {.key = "no_disk",
     .scope = EB_PS_CLI,
     .type = EB_PT_BOOL,
     .flag = "no-disk",
     .field = EB_FK_BOOL,
     .offset = P(no_disk),
     .help = "no disk probe"},
};
#undef P

static void usage(FILE *f, const eb_cmd_rows *own)
{
    fputs("usage: edgebench device probe [options]\n"
          "Measures this device's ceilings and stores them: sustained memory read\n"
          "bandwidth (a buffer much larger than the last-level cache, streamed by each\n"
          "thread count), the engine's matrix kernels per weight type, and disk reads.\n\n",
          f);
    eb_cmd_help(EB_CMD_DEVICE, own, f);
}

static void progress(void *user, const char *what)
{
    if (!*(bool *)user) fprintf(stderr, "edgebench device probe: %s\n", what);
}

static void write_text(FILE *f, const eb_probe_result *r)
{
    const eb_device_info *d = &r->device;
    fprintf(f, "device  %s%s%s, %s, %d CPUs online\n", d->hostname, d->board_model[0] ? ", " : "",
            d->board_model, d->cpu_model, d->n_cpus_online);
    const eb_nominal *nom = eb_nominal_find(d->board_model, d->ram_total_kb);
    if (r->busy_cpus_before > 0.25)
        fprintf(f,
                "WARNING: the machine was busy before the probe (%.2f CPUs' worth of other "
                "work or hypervisor steal): these ceilings may read low; probe again when "
                "it is quiet\n",
                r->busy_cpus_before);
    fprintf(f,
            "\nmemory read bandwidth (%.0f MiB buffer, last-level cache %.0f MiB, best of at least "
            "%d passes and %g s)\n",
            (double)r->buffer_bytes / 1048576.0, (double)r->llc_bytes / 1048576.0, r->mem_passes,
            r->mem_seconds);
    fprintf(f, "  %7s %10s %10s %8s  (spread: best to slowest pass)\n", "threads", "best GB/s",
            "median", "spread");
    for (int i = 0; i < r->n_mem; i++) {
        const eb_probe_mem *m = &r->mem[i];
        double lo = m->slowest_gbs;
        fprintf(f, "  %7d %10.2f %10.2f %7.1f%%\n", m->threads, m->best_gbs, m->median_gbs,
                100 * (m->best_gbs - lo) / m->best_gbs);
    }
    if (nom)
        fprintf(f, "  nominal: %.2f GB/s (%s, %s); best measured = %.0f%% of it\n", nom->mem_gbs,
                nom->board, nom->memory,
                r->n_mem ? 100 * r->mem[r->n_mem - 1].best_gbs / nom->mem_gbs : NAN);
    else
        fprintf(f, "  nominal: not known for this board\n");
    fprintf(f, "\nmatrix kernels (%s %s, %d x %d x %d, GFLOP/s, best of %d)\n", r->engine,
            r->engine_version, r->mm_m, r->mm_n, r->mm_k, r->passes);
    fprintf(f, "  %-6s %7s %10s %10s  %s\n", "type", "threads", "best", "median", "weights in");
    for (int i = 0; i < r->n_kernels; i++) {
        const eb_probe_kernel *k = &r->kernels[i];
        if (k->reason[0])
            fprintf(f, "  %-6s %7d  n/a (%s)\n", k->type, k->threads, k->reason);
        else
            fprintf(f, "  %-6s %7d %10.1f %10.1f  %s\n", k->type, k->threads, k->best_gflops,
                    k->median_gflops, k->variant);
    }
    if (nom) fprintf(f, "  nominal FP32 peak: %.1f GFLOP/s (%s)\n", nom->cpu_gflops, nom->cpu);
    fprintf(f, "\ndisk read");
    if (r->disk.measured) {
        fprintf(f, " (%.0f MiB in %s)\n", (double)r->disk.bytes / 1048576.0, r->disk.dir);
        if (isfinite(r->disk.cold_gbs))
            fprintf(f, "  cold (pages dropped): %.3f GB/s\n", r->disk.cold_gbs);
        else
            fprintf(f, "  cold: n/a (%s)\n", r->disk.reason);
        fprintf(f, "  cached (page cache):  %.3f GB/s\n", r->disk.cached_gbs);
    } else {
        fprintf(f, ": n/a (%s)\n", r->disk.reason);
    }
    fprintf(f, "\nprobe took %.1f s\n", r->duration_s);
}

static bool parse_list(const char *key, const char *text, char **items, int cap, int *n)
{
    eb_error err = {0};
    *n = eb_plan_split(eb_param_plan_key(key), text, items, cap, &err);
    if (*n < 0) cli_usage_error("device probe", "%s", err.msg);
    return *n >= 0;
}

/* The probe's result written out and stored; an exit code. */
static int write_and_store(const eb_probe_result *res, const char *output, const char *format,
                           bool no_store, const char *store, const char *fallback, bool quiet)
{
    int code = EXIT_OK;
    eb_error err = {0};
    FILE *out = output ? fopen(output, "w") : stdout;
    cJSON *rec = eb_probe_to_json(res);
    if (!out) {
        eb_fail(&err, EB_E_IO, "output %s: %s", output, strerror(errno));
        code = cli_report("device probe", &err);
    } else if (strcmp(format, "json") == 0) {
        char *t = cJSON_Print(rec);
        if (t) fprintf(out, "%s\n", t);
        free(t);
    } else {
        write_text(out, res);
    }
    if (out && out != stdout && fclose(out) != 0) {
        eb_fail(&err, EB_E_IO, "output %s: %s", output, strerror(errno));
        code = cli_report("device probe", &err);
    }
    if (!no_store && rec) {
        cli_store cs;
        cli_store_begin(&cs, store, fallback ? fallback : "edgebench-fallback.jsonl",
                        "device probe");
        cs.verbose = !quiet;
        cs.what = "probe";
        if (cli_store_put(&cs, rec, quiet) != CLI_STORED && code == EXIT_OK)
            code = EXIT_FAILURE_RUN;
        cli_store_end(&cs);
    }
    cJSON_Delete(rec);
    return code;
}

/* --types Q4_0,Q4_K: at most EB_PROBE_MAX_TYPES names. */
static bool parse_types(const char *arg, char **items, int *n)
{
    for (const char *p = arg;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= 16 || *n >= EB_PROBE_MAX_TYPES) {
            cli_usage_error("device probe",
                            "--types takes up to %d "
                            "names such as Q4_0,Q4_K, got '%s'",
                            EB_PROBE_MAX_TYPES, arg);
            return false;
        }
        items[(*n)++] = strndup(p, len);
        if (!p[len]) return true;
        p += len + 1;
    }
}

static int probe(int argc, char **argv)
{
    eb_probe_options o = {0};
    probe_cli pc = {0};
    char *thread_items[EB_PROBE_MAX_THREADS] = {0}, *type_items[EB_PROBE_MAX_TYPES] = {0};
    int n_ti = 0, n_ty = 0;
    char cache[1024];
    eb_cmd_rows own = {own_rows, sizeof own_rows / sizeof own_rows[0], &pc, NULL, NULL, 0, 0};
    eb_run_options ro;
    int code = cli_parse(EB_CMD_DEVICE, "device probe", &own, argc, argv, &ro, usage);
    if (code != EXIT_OK) return code < 0 ? EXIT_OK : code;
    const char *output = ro.output, *store = ro.store, *fallback = ro.fallback,
               *format = ro.format_text_json;
    bool no_store = ro.no_store, no_disk = pc.no_disk, quiet = ro.quiet;
    o.root = ro.cfg.root;
    o.disk_dir = pc.disk_dir;
    o.buffer_bytes = (uint64_t)pc.buffer_mib << 20;
    o.disk_bytes = (uint64_t)pc.disk_mib << 20;
    o.passes = pc.passes;
    o.mem_passes = pc.mem_passes;
    o.mem_seconds = pc.mem_seconds;
    if (pc.threads && !parse_list("threads", pc.threads, thread_items, EB_PROBE_MAX_THREADS, &n_ti))
        code = EXIT_USAGE;
    if (pc.types && !parse_types(pc.types, type_items, &n_ty)) code = EXIT_USAGE;
    if (pc.shape &&
        (sscanf(pc.shape, "%dx%dx%d", &o.mm_m, &o.mm_n, &o.mm_k) != 3 || o.mm_m < 1 || o.mm_n < 1 ||
         o.mm_k < 1 || o.mm_m > 65536 || o.mm_n > 65536 || o.mm_k > 65536)) {
        cli_usage_error("device probe",
                        "--shape must be MxNxK (each 1..65536), "
                        "got '%s'",
                        pc.shape);
        code = EXIT_USAGE;
    }
    eb_error err = {0};
    if (code == EXIT_OK && !no_disk && !o.disk_dir) {
        if (eb_cache_dir(cache, sizeof cache, &err) != EB_OK)
            code = cli_report("device probe", &err);
        o.disk_dir = cache;
    }
    if (no_disk) o.disk_dir = NULL;
    for (int i = 0; i < n_ti; i++)
        o.threads[i] = atoi(thread_items[i]);
    o.n_threads = n_ti;
    for (int i = 0; i < n_ty; i++)
        o.types[i] = type_items[i];
    o.n_types = n_ty;
    o.progress = progress;
    o.progress_user = &quiet;
    eb_probe_result *res = code == EXIT_OK ? calloc(1, sizeof *res) : NULL;
    if (code == EXIT_OK && !res) code = cli_report("device probe", &err);
    if (code == EXIT_OK && eb_probe_run(eb_engine_default(), &o, res, &err) != EB_OK)
        code = cli_report("device probe", &err);
    if (code == EXIT_OK)
        code = write_and_store(res, output, format, no_store, store, fallback, quiet);
    for (int i = 0; i < n_ti; i++)
        free(thread_items[i]);
    for (int i = 0; i < n_ty; i++)
        free(type_items[i]);
    free(res);
    return code < 0 ? EXIT_OK : code;
}

int cmd_device(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        eb_cmd_rows own = {.rows = own_rows, .n = sizeof own_rows / sizeof own_rows[0]};
        usage(argc < 2 ? stderr : stdout, &own);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "probe") == 0) return probe(argc - 1, argv + 1);
    cli_usage_error("device", "unknown subcommand '%s' (probe)", argv[1]);
    return EXIT_USAGE;
}
