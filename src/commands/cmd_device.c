/* `edgebench device probe`: measures this device's ceilings (memory read
 * bandwidth, the engine's matrix kernels, disk reads), prints them beside
 * the board's nominal figures where known, and stores them for `run`,
 * `analyze roofline` and `model plan`. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_store.h"
#include "edgebench/plan.h"
#include "edgebench/probe.h"
#include "edgebench/roofline.h"
#include "edgebench/util.h"

static void usage(FILE *f)
{
    fputs("usage: edgebench device probe [options]\n"
          "Measures this device's ceilings and stores them: sustained memory read\n"
          "bandwidth (a buffer much larger than the last-level cache, streamed by each\n"
          "thread count), the engine's matrix kernels per weight type, and disk reads.\n\n"
          "  -t, --threads LIST     thread counts, e.g. 1,2,4 or 1-4 (default 1 .. online CPUs)\n"
          "      --types LIST       kernel weight types (default F16,Q8_0,Q4_0,Q4_K)\n"
          "      --shape MxNxK      kernel shape: weight rows x tokens x inner size\n"
          "                         (default 2048x256x2048)\n"
          "      --buffer-mib N     memory probe buffer (default max(256, 8 x last-level cache))\n"
          "      --passes N         timed kernel passes, best kept (default 5)\n"
          "      --mem-passes N     timed memory passes at least, best kept (default 48)\n"
          "      --mem-seconds S    and for at least S seconds per thread count (default 1)\n"
          "      --disk-dir DIR     where the disk probe writes its file (default the cache)\n"
          "      --disk-mib N       disk probe file size (default 256)\n"
          "      --no-disk          no disk probe\n"
          "      --format FMT       text or json (default text)\n"
          "  -o, --output FILE      write to FILE instead of stdout\n"
          "      --store SPEC       results store (default $EDGEBENCH_STORE, else\n"
          "                         sqlite:edgebench.db)\n"
          "      --no-store         do not store the probe\n"
          "      --fallback FILE    where the record goes when the store fails\n"
          "      --sysfs-root DIR   read /proc and /sys under DIR (default /)\n"
          "  -q, --quiet            no progress lines\n",
          f);
}

enum {
    O_TYPES = 256,
    O_SHAPE,
    O_BUF,
    O_PASSES,
    O_MPASSES,
    O_MSECS,
    O_DDIR,
    O_DMIB,
    O_NODISK,
    O_FORMAT,
    O_STORE,
    O_NOSTORE,
    O_FALLBACK,
    O_ROOT
};

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
    if (*n < 0) fprintf(stderr, "edgebench device probe: invalid_argument: %s\n", err.msg);
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
            fprintf(stderr,
                    "edgebench device probe: invalid_argument: --types takes up to %d "
                    "names such as Q4_0,Q4_K, got '%s'\n",
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
    static const struct option opts[] = {{"threads", required_argument, NULL, 't'},
                                         {"types", required_argument, NULL, O_TYPES},
                                         {"shape", required_argument, NULL, O_SHAPE},
                                         {"buffer-mib", required_argument, NULL, O_BUF},
                                         {"passes", required_argument, NULL, O_PASSES},
                                         {"mem-passes", required_argument, NULL, O_MPASSES},
                                         {"mem-seconds", required_argument, NULL, O_MSECS},
                                         {"disk-dir", required_argument, NULL, O_DDIR},
                                         {"disk-mib", required_argument, NULL, O_DMIB},
                                         {"no-disk", no_argument, NULL, O_NODISK},
                                         {"format", required_argument, NULL, O_FORMAT},
                                         {"output", required_argument, NULL, 'o'},
                                         {"store", required_argument, NULL, O_STORE},
                                         {"no-store", no_argument, NULL, O_NOSTORE},
                                         {"fallback", required_argument, NULL, O_FALLBACK},
                                         {"sysfs-root", required_argument, NULL, O_ROOT},
                                         {"root", required_argument, NULL, O_ROOT},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    eb_probe_options o = {0};
    char *thread_items[EB_PROBE_MAX_THREADS] = {0}, *type_items[EB_PROBE_MAX_TYPES] = {0};
    int n_ti = 0, n_ty = 0, code = EXIT_OK;
    const char *output = NULL, *store = NULL, *fallback = NULL, *format = "text";
    bool no_store = false, no_disk = false, quiet = false;
    long v;
    char cache[1024];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (!parse_list("threads", optarg, thread_items, EB_PROBE_MAX_THREADS, &n_ti))
                code = EXIT_USAGE;
            break;
        case O_TYPES:
            if (!parse_types(optarg, type_items, &n_ty)) code = EXIT_USAGE;
            break;
        case O_SHAPE:
            if (sscanf(optarg, "%dx%dx%d", &o.mm_m, &o.mm_n, &o.mm_k) != 3 || o.mm_m < 1 ||
                o.mm_n < 1 || o.mm_k < 1 || o.mm_m > 65536 || o.mm_n > 65536 || o.mm_k > 65536) {
                fprintf(stderr,
                        "edgebench device probe: invalid_argument: --shape must be MxNxK "
                        "(each 1..65536), got '%s'\n",
                        optarg);
                code = EXIT_USAGE;
            }
            break;
        case O_BUF:
            if (!cli_int("--buffer-mib", optarg, 1, 1 << 20, &v)) code = EXIT_USAGE;
            o.buffer_bytes = (uint64_t)v << 20;
            break;
        case O_PASSES:
            if (!cli_int("--passes", optarg, 1, EB_PROBE_MAX_PASSES, &v)) code = EXIT_USAGE;
            o.passes = (int)v;
            break;
        case O_MPASSES:
            if (!cli_int("--mem-passes", optarg, 1, EB_PROBE_MAX_MEM_PASSES, &v)) code = EXIT_USAGE;
            o.mem_passes = (int)v;
            break;
        case O_MSECS:
            if (!cli_double("--mem-seconds", optarg, &o.mem_seconds) || o.mem_seconds <= 0 ||
                o.mem_seconds > 600) {
                fprintf(stderr, "edgebench device probe: invalid_argument: --mem-seconds must be "
                                "in (0, 600]\n");
                code = EXIT_USAGE;
            }
            break;
        case O_DDIR:
            o.disk_dir = optarg;
            break;
        case O_DMIB:
            if (!cli_int("--disk-mib", optarg, 4, 1 << 20, &v)) code = EXIT_USAGE;
            o.disk_bytes = (uint64_t)v << 20;
            break;
        case O_NODISK:
            no_disk = true;
            break;
        case O_FORMAT:
            format = optarg;
            if (strcmp(format, "text") && strcmp(format, "json")) {
                fprintf(stderr,
                        "edgebench device probe: invalid_argument: --format must be text or "
                        "json, got '%s'\n",
                        optarg);
                code = EXIT_USAGE;
            }
            break;
        case 'o':
            output = optarg;
            break;
        case O_STORE:
            store = optarg;
            break;
        case O_NOSTORE:
            no_store = true;
            break;
        case O_FALLBACK:
            fallback = optarg;
            break;
        case O_ROOT:
            o.root = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            usage(stdout);
            code = -1;
            break;
        default:
            usage(stderr);
            code = EXIT_USAGE;
        }
        if (code != EXIT_OK) break;
    }
    if (code == EXIT_OK && optind < argc) {
        fprintf(stderr, "edgebench device probe: invalid_argument: unexpected '%s'\n",
                argv[optind]);
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
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "probe") == 0) return probe(argc - 1, argv + 1);
    fprintf(stderr, "edgebench device: invalid_argument: unknown subcommand '%s' (probe)\n",
            argv[1]);
    return EXIT_USAGE;
}
