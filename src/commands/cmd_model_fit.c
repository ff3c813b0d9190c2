/* edgebench model fit: the largest context this device can allocate and run
 * (prefill + a few generated tokens) without swapping, found by search with
 * real allocations in child processes (an OOM kill is a result), beside
 * `model plan`'s prediction. Every probe is stored as a trial, failed ones
 * with their reason, so `analyze fit` and the report show them. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "measure_child.h"
#include "cli_store.h"
#include "edgebench/knobs.h"
#include "edgebench/limits.h"
#include "edgebench/memory.h"
#include "edgebench/params.h"
#include "edgebench/plan.h"
#include "edgebench/roofline.h"
#include "edgebench/sweep.h"
#include "edgebench/synth.h"
#include "edgebench/sysinfo.h"
#include "edgebench/util.h"

typedef struct fit_args {
    const char *file, *preset, *type, *type_k, *type_v, *flash_attn, *store, *format, *root;
    int memory_mib, min_ctx, max_ctx, n_gen, n_prompt, threads;
    bool no_store, quiet;
} fit_args;

typedef struct fit_probe {
    int ctx;
    bool ok;
    double peak_rss_mib, kv_mib;
    char reason[512];
} fit_probe;

static void usage(FILE *f, const eb_cmd_rows *own)
{
    (void)own;
    fputs("usage: edgebench model fit (-m FILE | --preset NAME [--type T]) [options]\n"
          "The largest context this device allocates and runs (prefill + a few generated\n"
          "tokens) without swapping: contexts are tried in child processes, doubling from\n"
          "--min-ctx, then halving the gap between the largest that ran and the smallest\n"
          "that failed. Beside it, what 'model plan' predicts. --memory-limit MIB\n"
          "is the memory the model may use (a cgroup of its own, memory.max and no swap, where\n"
          "one can be made, else an address-space limit, said); without it, the device's\n"
          "available memory, a run that swaps counting as failed; --sysfs-root also places\n"
          "the cgroups; --store names where the probes are stored.\n\n",
          f);
    eb_params_cmd_help(EB_CMD_FIT, f);
}

/* The options through the parameter table (the rows model fit takes). */
static int parse(int argc, char **argv, fit_args *a)
{
    eb_run_options o;
    int code = cli_parse(EB_CMD_FIT, "model fit", NULL, argc, argv, &o, usage);
    if (code != EXIT_OK) return code;
    eb_error err = {0};
    a->file = o.cfg.model_path;
    a->preset = eb_run_options_given(&o, "preset") ? o.preset : NULL;
    a->type = o.type;
    a->type_k = o.cfg.type_k;
    a->type_v = o.cfg.type_v;
    a->flash_attn = o.cfg.flash_attn;
    a->store = o.store;
    a->format = o.format_text_json;
    a->root = o.cfg.root;
    a->memory_mib = o.memory_limit_mib;
    a->min_ctx = o.min_ctx;
    a->max_ctx = o.max_ctx;
    a->n_gen = o.probe_n_gen;
    a->n_prompt = o.probe_n_prompt;
    a->threads = eb_run_options_given(&o, "threads") ? o.cfg.threads_gen : 0;
    a->no_store = o.no_store;
    a->quiet = o.quiet;
    if (!a->file == !a->preset)
        eb_fail(&err, EB_E_INVALID_ARG, "give -m FILE or --preset NAME");
    else if (a->min_ctx > a->max_ctx)
        eb_fail(&err, EB_E_INVALID_ARG, "--min-ctx %d is above --max-ctx %d", a->min_ctx,
                a->max_ctx);
    return err.status != EB_OK ? cli_report("model fit", &err) : EXIT_OK;
}

/* Swap in use and memory available, MiB (NaN where not read). */
static double swap_used_mib(const char *root)
{
    eb_meminfo m;
    eb_error err = {0};
    if (eb_meminfo_full(root ? root : "/", &m, &err) != EB_OK) return NAN;
    return ((double)m.swap_total_kb - (double)m.swap_free_kb) / 1024.0;
}

static double available_mib(const char *root)
{
    eb_meminfo m;
    eb_error err = {0};
    if (eb_meminfo_full(root ? root : "/", &m, &err) != EB_OK || !m.available_kb) return NAN;
    return (double)m.available_kb / 1024.0;
}

/* In the probe's process, before it runs: into the memory cage. */
static bool enter_cage(void *user)
{
    const eb_mem_cage *cage = user;
    if (eb_mem_cage_enter(cage)) return true;
    fprintf(stderr, "edgebench model fit: cannot enter %s: %s\n", cage->dir, strerror(errno));
    return false;
}

/* One context tried in a child `edgebench run`, in the cage when there is
 * one (else under an address-space limit when asked). */
static void try_ctx(const char *self, const fit_args *a, const eb_mem_cage *cage,
                    const char *tmpdir, int ctx, fit_probe *p, cJSON **result)
{
    char json_path[1100], err_path[1100], ctx_s[16], gen_s[16], np_s[16], thr_s[16], lim_s[16];
    snprintf(json_path, sizeof json_path, "%s/probe.json", tmpdir);
    snprintf(err_path, sizeof err_path, "%s/probe.err", tmpdir);
    snprintf(ctx_s, sizeof ctx_s, "%d", ctx);
    snprintf(gen_s, sizeof gen_s, "%d", a->n_gen);
    snprintf(np_s, sizeof np_s, "%d", a->n_prompt);
    snprintf(thr_s, sizeof thr_s, "%d", a->threads);
    snprintf(lim_s, sizeof lim_s, "%d", a->memory_mib);
    const char *argv[48];
    int n = 0;
    argv[n++] = self;
    argv[n++] = "run";
    if (a->file) argv[n++] = "-m", argv[n++] = a->file;
    if (a->preset) argv[n++] = "--preset", argv[n++] = a->preset;
    if (a->type) argv[n++] = "--type", argv[n++] = a->type;
    argv[n++] = "--ctx", argv[n++] = ctx_s;
    argv[n++] = "--n-gen", argv[n++] = gen_s;
    argv[n++] = "--n-prompt", argv[n++] = np_s;
    argv[n++] = "--cache-type-k", argv[n++] = a->type_k;
    argv[n++] = "--cache-type-v", argv[n++] = a->type_v;
    argv[n++] = "--flash-attn", argv[n++] = a->flash_attn;
    if (a->threads > 0) argv[n++] = "-t", argv[n++] = thr_s, argv[n++] = "-T", argv[n++] = thr_s;
    if (a->memory_mib > 0 && cage->kind == EB_CAGE_NONE)
        argv[n++] = "--memory-limit", argv[n++] = lim_s;
    if (a->root) argv[n++] = "--sysfs-root", argv[n++] = a->root;
    argv[n++] = "--reps", argv[n++] = "1", argv[n++] = "--warmup", argv[n++] = "0";
    argv[n++] = "--idle-s", argv[n++] = "0", argv[n++] = "--no-store", argv[n++] = "-q";
    argv[n++] = "--format", argv[n++] = "json", argv[n++] = "-o", argv[n++] = json_path;
    argv[n] = NULL;
    unlink(json_path);
    memset(p, 0, sizeof *p);
    p->ctx = ctx;
    p->peak_rss_mib = p->kv_mib = NAN;
    *result = NULL;
    double swap0 = swap_used_mib(a->root);
    uint64_t oom0 = eb_mem_cage_oom_kills(cage), sys_oom0 = eb_oom_kills();
    child_end ce;
    child_spawn_wait(argv, err_path, 0, NULL, enter_cage, (void *)cage, &ce);
    double swapped = swap_used_mib(a->root) - swap0;
    char *log = eb_read_file(err_path, NULL);
    bool caged = cage->kind != EB_CAGE_NONE;
    ce.oom = eb_mem_cage_oom_kills(cage) > oom0 || eb_oom_kills() > sys_oom0;
    /* under an address-space limit a failed allocation often aborts
     * without a word about it (signal 6): the limit is said */
    if (child_end_failed(&ce))
        child_end_reason(&ce, log, NULL, caged ? 0 : a->memory_mib, p->reason, sizeof p->reason);
    free(log);
    char *buf = eb_read_file(json_path, NULL);
    cJSON *r = buf ? cJSON_Parse(buf) : NULL;
    free(buf);
    if (r) {
        const cJSON *reps = cJSON_GetObjectItemCaseSensitive(r, "reps");
        const cJSON *rep = cJSON_GetArrayItem(reps, 0);
        const cJSON *pk = cJSON_GetObjectItemCaseSensitive(rep, "peak_rss_mib");
        if (cJSON_IsNumber(pk)) p->peak_rss_mib = pk->valuedouble;
        const cJSON *kv = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "config"),
                                             "kv_cache"),
            "size_mib");
        if (cJSON_IsNumber(kv)) p->kv_mib = kv->valuedouble;
    }
    p->ok = !p->reason[0] && r;
    if (p->ok && swapped > 16) {
        p->ok = false;
        snprintf(p->reason, sizeof p->reason,
                 "swapped: %.0f MiB went to swap during the run (it did not fit in memory)",
                 swapped);
    } else if (!p->ok && !p->reason[0]) {
        snprintf(p->reason, sizeof p->reason, "no result written");
    }
    *result = r;
}

/* The record of one probe, as a sweep's trial: its configuration (kept
 * when it failed), the run's result, the reason. */
static cJSON *probe_record(const fit_args *a, const fit_probe *p, cJSON *result,
                           const eb_device_info *dev, const char *limit)
{
    /* the probe as a trial: keyed as a sweep's trial of the same settings */
    eb_trial t;
    eb_trial_init(&t, NULL);
    eb_error err = {0};
    char num[6][24];
    int threads = a->threads > 0 ? a->threads : dev->n_cpus_online;
    snprintf(num[0], sizeof num[0], "%d", p->ctx);
    snprintf(num[1], sizeof num[1], "%d", a->n_prompt);
    snprintf(num[2], sizeof num[2], "%d", a->n_gen);
    snprintf(num[3], sizeof num[3], "%d", threads);
    snprintf(num[4], sizeof num[4], "%d", a->memory_mib);
    const char *kv[][2] = {{"model", a->file},
                           {"preset", a->preset},
                           {"type", a->type},
                           {"ctx", num[0]},
                           {"n_prompt", num[1]},
                           {"n_gen", num[2]},
                           {"type_k", a->type_k},
                           {"type_v", a->type_v},
                           {"flash_attn", a->flash_attn},
                           {"threads", num[3]},
                           {"threads_prefill", num[3]},
                           {"memory_limit", a->memory_mib > 0 ? num[4] : NULL}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (kv[i][1]) eb_trial_set(&t, kv[i][0], kv[i][1], &err);
    char ts[32];
    eb_utc_iso8601(time(NULL), ts, sizeof ts);
    cJSON *sys = cJSON_CreateObject();
    cJSON_AddStringToObject(sys, "memory_limit", limit);
    const eb_record_from from = {.source = "model-fit", .plan = "model fit"};
    cJSON *rec =
        eb_record_build(&from, &t, ts, p->ok, p->ok ? NULL : p->reason, NAN, sys, dev, result);
    eb_trial_clear(&t);
    return rec;
}

/* model plan's memory at a context, the KV cache scaled to its types. */
static double predicted_mib(const eb_model_shape *shape, const fit_args *a, int ctx)
{
    eb_ceilings none = {.bw_gbs = NAN, .gflops = NAN};
    eb_prediction pr;
    eb_predict(shape, &none, NAN, NAN, 0, ctx, a->n_prompt, a->n_gen, &pr);
    double kv_f16 = pr.kv_bytes;
    double kv = kv_f16 / 2 * (eb_kv_type_bytes(a->type_k) + eb_kv_type_bytes(a->type_v)) / 2;
    return (pr.memory_bytes - kv_f16 + kv) / 1048576.0;
}

static int predicted_largest(const eb_model_shape *shape, const fit_args *a, double limit_mib)
{
    if (!isfinite(limit_mib) || predicted_mib(shape, a, a->min_ctx) > limit_mib) return 0;
    int lo = a->min_ctx, hi = a->max_ctx;
    if (predicted_mib(shape, a, hi) <= limit_mib) return hi;
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (predicted_mib(shape, a, mid) <= limit_mib)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int cmd_model_fit(int argc, char **argv)
{
    fit_args a = {0};
    int code = parse(argc, argv, &a);
    if (code != EXIT_OK) return code < 0 ? EXIT_OK : code;
    const char *root = a.root ? a.root : "/";
    eb_error err = {0};
    eb_model_shape shape;
    bool has_shape = false;
    if (a.preset) {
        const eb_preset *p = eb_preset_find(a.preset);
        eb_synth_type t;
        if (!p || !eb_synth_type_parse(a.type, &t)) {
            cli_usage_error("model fit",
                            "%s '%s' (see 'edgebench model "
                            "list')",
                            p ? "unknown --type" : "unknown preset", p ? a.type : a.preset);
            return EXIT_USAGE;
        }
        eb_preset_shape(p, t, &shape);
        has_shape = true;
    } else {
        has_shape = eb_model_shape_read(a.file, &shape, &err) == EB_OK;
    }
    char self[1024];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) {
        fprintf(stderr, "edgebench model fit: io_error: /proc/self/exe: %s\n", strerror(errno));
        return EXIT_FAILURE_RUN;
    }
    self[sl] = '\0';
    char tmpdir[] = "/tmp/edgebench-fit-XXXXXX";
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "edgebench model fit: io_error: %s: %s\n", tmpdir, strerror(errno));
        return EXIT_FAILURE_RUN;
    }
    eb_mem_cage cage = {0};
    if (a.memory_mib > 0) eb_mem_cage_make(root, a.memory_mib, &cage, &err);
    char limit[700];
    double limit_mib = a.memory_mib > 0 ? a.memory_mib : available_mib(root);
    if (a.memory_mib > 0)
        eb_mem_cage_describe(&cage, limit, sizeof limit);
    else
        snprintf(limit, sizeof limit,
                 "none set: the device's available memory (%.0f MiB), a run that swaps counts as "
                 "failed",
                 limit_mib);
    eb_device_info dev;
    eb_device_info_read(root, &dev);
    cli_store cs;
    cli_store_begin(&cs, a.store, NULL, "model fit");
    size_t cap = 64, n = 0;
    fit_probe *probes = calloc(cap, sizeof *probes);
    if (!probes) return EXIT_FAILURE_RUN;
    /* doubling until one fails, then bisection to within 1/32 (256 at least) */
    int ok_ctx = 0, bad_ctx = 0;
    for (int ctx = a.min_ctx;;) {
        if (n == cap) {
            fit_probe *g = realloc(probes, cap * 2 * sizeof *g);
            if (!g) break;
            probes = g, cap *= 2;
        }
        fit_probe *p = &probes[n++];
        cJSON *result = NULL;
        if (!a.quiet) fprintf(stderr, "edgebench model fit: context %d ...", ctx);
        try_ctx(self, &a, &cage, tmpdir, ctx, p, &result);
        if (!a.quiet) fprintf(stderr, " %s\n", p->ok ? "ran" : "failed");
        if (!a.no_store) {
            cJSON *rec = probe_record(&a, p, result, &dev, limit);
            cli_store_put(&cs, rec, true);
            cJSON_Delete(rec);
        } else {
            cJSON_Delete(result);
        }
        if (p->ok)
            ok_ctx = ctx;
        else
            bad_ctx = ctx;
        if (!p->ok && ok_ctx == 0) break; /* not even the smallest */
        int next;
        if (bad_ctx == 0) {
            if (ctx >= a.max_ctx) break;
            next = ctx > a.max_ctx / 2 ? a.max_ctx : ctx * 2;
        } else {
            int step = ok_ctx / 32 > 256 ? ok_ctx / 32 : 256;
            if (bad_ctx - ok_ctx <= step) break;
            next = ok_ctx + (bad_ctx - ok_ctx) / 2;
        }
        ctx = next;
    }
    cli_store_end(&cs);
    eb_mem_cage_remove(&cage);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s/probe.json", tmpdir);
    unlink(cmd);
    snprintf(cmd, sizeof cmd, "%s/probe.err", tmpdir);
    unlink(cmd);
    rmdir(tmpdir);
    int predicted = has_shape ? predicted_largest(&shape, &a, limit_mib) : 0;
    const fit_probe *worst = NULL;
    for (size_t i = 0; i < n; i++)
        if (!probes[i].ok && probes[i].ctx == bad_ctx) worst = &probes[i];
    if (!strcmp(a.format, "json")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "memory_limit", limit);
        cJSON_AddStringToObject(o, "type_k", a.type_k);
        cJSON_AddStringToObject(o, "type_v", a.type_v);
        if (ok_ctx)
            cJSON_AddNumberToObject(o, "largest_ctx_ran", ok_ctx);
        else
            cJSON_AddNullToObject(o, "largest_ctx_ran");
        if (bad_ctx)
            cJSON_AddNumberToObject(o, "smallest_ctx_failed", bad_ctx);
        else
            cJSON_AddNullToObject(o, "smallest_ctx_failed");
        if (worst) cJSON_AddStringToObject(o, "why", worst->reason);
        if (predicted)
            cJSON_AddNumberToObject(o, "predicted_largest_ctx", predicted);
        else
            cJSON_AddNullToObject(o, "predicted_largest_ctx");
        cJSON *arr = cJSON_AddArrayToObject(o, "probes");
        for (size_t i = 0; i < n; i++) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddNumberToObject(x, "ctx", probes[i].ctx);
            cJSON_AddBoolToObject(x, "ran", probes[i].ok);
            if (isfinite(probes[i].peak_rss_mib))
                cJSON_AddNumberToObject(x, "peak_rss_mib", probes[i].peak_rss_mib);
            if (isfinite(probes[i].kv_mib)) cJSON_AddNumberToObject(x, "kv_mib", probes[i].kv_mib);
            if (has_shape)
                cJSON_AddNumberToObject(x, "predicted_mib",
                                        predicted_mib(&shape, &a, probes[i].ctx));
            if (!probes[i].ok) cJSON_AddStringToObject(x, "why", probes[i].reason);
            cJSON_AddItemToArray(arr, x);
        }
        char *text = cJSON_Print(o);
        if (text) puts(text);
        free(text);
        cJSON_Delete(o);
    } else {
        printf("model fit: %s %s, KV cache %s/%s, flash attention %s\n",
               a.preset ? a.preset : a.file, a.type, a.type_k, a.type_v, a.flash_attn);
        printf("limit:     %s\n\n", limit);
        printf("  %9s  %-6s  %12s  %10s  %14s  %s\n", "context", "result", "peak RSS MiB", "KV MiB",
               "predicted MiB", "why");
        for (size_t i = 0; i < n; i++) {
            const fit_probe *p = &probes[i];
            char pk[32] = "n/a", kv[32] = "n/a", pr[32] = "n/a";
            if (isfinite(p->peak_rss_mib)) snprintf(pk, sizeof pk, "%.1f", p->peak_rss_mib);
            if (isfinite(p->kv_mib)) snprintf(kv, sizeof kv, "%.2f", p->kv_mib);
            if (has_shape) snprintf(pr, sizeof pr, "%.1f", predicted_mib(&shape, &a, p->ctx));
            printf("  %9d  %-6s  %12s  %10s  %14s  %.90s\n", p->ctx, p->ok ? "ran" : "FAILED", pk,
                   kv, pr, p->ok ? "" : p->reason);
        }
        printf("\nlargest context that ran: %s", ok_ctx ? "" : "none");
        if (ok_ctx) printf("%d%s", ok_ctx, bad_ctx ? "" : " (the largest tried: --max-ctx)");
        if (bad_ctx) printf("; smallest that failed: %d", bad_ctx);
        printf("\nmodel plan predicts: %s", predicted ? "" : "n/a");
        if (predicted)
            printf("%d (weights, KV cache and compute buffers within %.0f MiB; it leaves out "
                   "the program and allocator overhead)",
                   predicted, limit_mib);
        printf("\n");
    }
    free(probes);
    return ok_ctx ? EXIT_OK : EXIT_FAILURE_RUN;
}
