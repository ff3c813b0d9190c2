/* edgebench run */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
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

#include "cli.h"
#include "edgebench/calibrate.h"
#include "cli_ceilings.h"
#include "cli_store.h"
#include "edgebench/bench.h"
#include "edgebench/gguf_check.h"
#include "edgebench/memory.h"
#include "edgebench/output.h"
#include "edgebench/params.h"
#include "edgebench/plan.h"
#include "edgebench/sweep.h"
#include "edgebench/preflight.h"
#include "edgebench/synth.h"
#include "edgebench/util.h"
#include "measure_child.h"
#include "run_status.h"
#include "serve_run.h"

static void run_usage(FILE *f)
{
    fprintf(f, "usage: edgebench run [options]\n"
               "Runs the study's protocol: load, prefill and generation, repeated, with a warm-up\n"
               "reported apart from the statistics. Without -m it runs a synthetic preset.\n\n");
    eb_params_run_help(f);
    fprintf(f, "A list or range as a value (-t 1,2,4  -n 32-128:32) runs a sweep of every\n"
               "combination, one process each, results to --results FILE (JSONL); see\n"
               "'edgebench sweep --help'.\n");
}

typedef struct run_cli {
    eb_run_options o;
    eb_format format;
    char *prompt_buf;
    const char *tmp_output; /* the output's name until the run ends; NULL: stdout */
} run_cli;

static bool given(const run_cli *rc, const char *key)
{
    return rc->o.given[eb_param_index(eb_param_find(key))];
}

static eb_status read_prompt_file(run_cli *rc, eb_error *err)
{
    FILE *f = fopen(rc->o.cfg.prompt_file, "rb");
    if (!f)
        return eb_fail(err, EB_E_IO, "prompt file %s: %s", rc->o.cfg.prompt_file, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    rc->prompt_buf = malloc(cap);
    while (rc->prompt_buf) {
        n += fread(rc->prompt_buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        char *grown = realloc(rc->prompt_buf, cap *= 2);
        if (!grown) {
            free(rc->prompt_buf);
            rc->prompt_buf = NULL;
        }
        rc->prompt_buf = grown;
    }
    int bad = ferror(f);
    fclose(f);
    if (!rc->prompt_buf)
        return eb_fail(err, EB_E_NO_MEMORY, "prompt file %s", rc->o.cfg.prompt_file);
    if (bad) return eb_fail(err, EB_E_IO, "prompt file %s: read error", rc->o.cfg.prompt_file);
    rc->prompt_buf[n] = '\0';
    if (n == 0)
        return eb_fail(err, EB_E_INVALID_ARG, "prompt file %s is empty", rc->o.cfg.prompt_file);
    rc->o.cfg.prompt_text = rc->prompt_buf;
    return EB_OK;
}

/* The run as `edgebench monitor` shows it (src/cli/run_status.c). */
static run_status live;

static double wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void progress(void *user, const char *what, int rep, int total)
{
    live.rep = rep;
    live.total = total;
    if (*(bool *)user) return;
    fprintf(stderr, "edgebench: %s %d/%d\n", what, rep, total);
}

static void on_phase(void *user, const char *phase, int rep, double gen_tps, double prefill_tps)
{
    (void)user;
    if (strcmp(phase, "done") != 0) measure_stream_phase(phase, rep);
    snprintf(live.phase, sizeof live.phase, "%s", phase);
    live.rep = rep + 1;
    if (!isnan(gen_tps)) live.gen_tps = gen_tps, live.prefill_tps = prefill_tps;
    live.updated = wall_now();
    run_status_write(&live);
}

static void live_begin(const eb_run_config *cfg)
{
    memset(&live, 0, sizeof live);
    live.pid = (long)getpid();
    const char *slash = strrchr(cfg->model_path, '/');
    snprintf(live.model, sizeof live.model, "%s", slash ? slash + 1 : cfg->model_path);
    snprintf(live.phase, sizeof live.phase, "starting");
    live.total = cfg->warmup + cfg->reps;
    live.warmup = cfg->warmup;
    live.gen_tps = live.prefill_tps = NAN;
    live.started = live.updated = wall_now();
    run_status_write(&live);
}

/* A model larger than the memory available will page from storage: say so
 * before loading rather than after minutes of swapping. */
static void warn_memory(const char *path, const char *root)
{
    eb_gguf_summary gs;
    uint64_t total = 0, avail = 0;
    if (eb_gguf_check(path, &gs, NULL) != EB_OK ||
        eb_meminfo_read(root, &total, &avail, NULL) != EB_OK)
        return;
    if (gs.file_size / 1024 > avail)
        fprintf(stderr,
                "edgebench run: warning: the model (%.1f MiB) is larger than the memory available "
                "(%.1f MiB); expect paging and slow loads\n",
                (double)gs.file_size / 1048576.0, (double)avail / 1024.0);
}

/* The run as a trial record in the results store; takes result (the run's
 * JSON, as eb_result_to_json or eb_result_from_stream made it). */
static cli_stored store_result_as(const run_cli *rc, cJSON *result, const char *failure,
                                  bool quiet);
static cli_stored store_result(const run_cli *rc, cJSON *result, const char *failure)
{
    return store_result_as(rc, result, failure, rc->o.quiet);
}

static cli_stored store_result_as(const run_cli *rc, cJSON *result, const char *failure, bool quiet)
{
    return cli_store_run_record(&rc->o, result, failure, quiet);
}

/* The run against the device's probed ceilings. Missing ceilings are said
 * in the result; they never fail the run. */
static void attach_roofline(const run_cli *rc, eb_run_result *res)
{
    eb_probe_point *pts = NULL;
    size_t n = 0;
    eb_error err = {0};
    eb_status st = EB_OK;
    if (rc->o.ceilings) {
        st = cli_ceilings_file(rc->o.ceilings, &pts, &n, &err);
    } else if (rc->o.no_store) {
        snprintf(res->roofline_note, sizeof res->roofline_note,
                 "--no-store: the device's ceilings are read from the store (or give --ceilings "
                 "FILE)");
        return;
    } else {
        eb_store *s = NULL;
        const char *spec = rc->o.store && rc->o.store[0] ? rc->o.store : eb_store_default_spec();
        st = eb_store_open(spec, &s, &err);
        if (st == EB_OK) st = cli_ceilings_store(s, &res->device, &pts, &n, &err);
        eb_store_close(s);
    }
    if (st != EB_OK) {
        snprintf(res->roofline_note, sizeof res->roofline_note, "ceilings not read: %s", err.msg);
        fprintf(stderr, "edgebench run: warning: %s\n", res->roofline_note);
        free(pts);
        return;
    }
    eb_run_roofline(res, pts, n);
    free(pts);
}

/* One eb_run: its result written, its timeline, and its record stored.
 * Whatever was measured is written, even when a later repetition failed. */
/* The device's newest calibration (edgebench calibrate), when the store
 * has one: calibrated energy beside the raw figure. A store that cannot
 * be read leaves the run as measured, with a warning. */
static void attach_calibration(const run_cli *rc, eb_run_result *res)
{
    if (rc->o.no_store || !res->sampler) return;
    eb_store *s = NULL;
    eb_error err = {0};
    eb_calibration cal;
    bool found = false;
    const char *spec = rc->o.store && rc->o.store[0] ? rc->o.store : eb_store_default_spec();
    eb_status st = eb_store_open(spec, &s, &err);
    if (st == EB_OK)
        st = eb_store_calibration_of(s, cli_device_key(&res->device), &cal, &found, &err);
    eb_store_close(s);
    if (st != EB_OK)
        fprintf(stderr, "edgebench run: warning: calibration not read: %s\n", err.msg);
    else if (found)
        eb_result_calibrate(res, &cal);
}

static int run_and_report(run_cli *rc, FILE *out)
{
    eb_run_result res;
    eb_error err = {0};
    /* llama.cpp's RPC sends without MSG_NOSIGNAL: a node gone must end the
     * run with its reason (ggml's abort message), not a silent SIGPIPE */
    if (rc->o.cfg.rpc) signal(SIGPIPE, SIG_IGN);
    live_begin(&rc->o.cfg);
    rc->o.cfg.on_phase = on_phase;
    rc->o.cfg.on_rep = measure_stream_rep;
    eb_status st = eb_run(eb_engine_default(), &rc->o.cfg, &res, progress, &rc->o.quiet, &err);
    snprintf(live.phase, sizeof live.phase, "ended");
    live.updated = wall_now();
    run_status_write(&live);
    int code = EXIT_OK;
    if (res.n_reps > 0) attach_roofline(rc, &res);
    if (res.n_reps > 0) attach_calibration(rc, &res);
    if (res.n_reps > 0) {
        eb_error werr = {0};
        eb_status ws = rc->format == EB_FMT_TEXT && rc->o.verbose
                           ? eb_write_text_verbose(out, &res, &werr)
                           : eb_write_result(out, rc->format, &res, &werr);
        if (ws != EB_OK) code = cli_report("run", &werr);
        /* the result reaches the terminal before any message after it */
        fflush(out);
    }
    /* written out: a crash from here on does not add it again */
    measure_stream_end();
    if (rc->o.timeline && res.n_reps > 0) {
        eb_error terr = {0};
        FILE *tf = fopen(rc->o.timeline, "w");
        eb_status ts =
            tf ? eb_write_timeline(tf, &res, &terr)
               : eb_fail(&terr, EB_E_IO, "timeline %s: %s", rc->o.timeline, strerror(errno));
        if (tf && fclose(tf) != 0 && ts == EB_OK)
            ts = eb_fail(&terr, EB_E_IO, "timeline %s: %s", rc->o.timeline, strerror(errno));
        if (ts != EB_OK) code = cli_report("run", &terr);
    }
    if (res.n_reps > 0 && !rc->o.no_store &&
        store_result(rc, eb_result_to_json(&res, rc->o.cfg.keep_timeline),
                     st == EB_OK ? NULL : err.msg) != CLI_STORED &&
        code == EXIT_OK)
        code = EXIT_FAILURE_RUN;
    if (st != EB_OK) {
        if (res.n_reps > 0)
            fprintf(stderr,
                    "edgebench run: %d repetition(s) finished before the failure are above\n",
                    res.n_reps);
        code = cli_report("run", &err);
    }
    eb_run_result_free(&res);
    return code;
}

/* The configurations of the run (one, or --thread-pairs), measured in
 * the child process: results to rc->tmp_output or stdout, records to the
 * store, each repetition streamed to the parent as it completes. */
static int measure_all(void *arg)
{
    run_cli *rc = arg;
    eb_error err = {0};
    FILE *out = stdout;
    if (rc->tmp_output && !(out = fopen(rc->tmp_output, "w"))) {
        eb_fail(&err, EB_E_IO, "output %s: %s", rc->tmp_output, strerror(errno));
        return cli_report("run", &err);
    }
    int code = EXIT_OK;
    if (!rc->o.pairs) {
        code = run_and_report(rc, out);
    } else {
        /* isolation=model: one configuration after another, one model load */
        eb_model_keeper keeper = {0};
        rc->o.cfg.keeper = &keeper;
        for (const char *p = rc->o.pairs; p && *p && code == EXIT_OK;) {
            int g = 0, pf = 0, used = 0;
            if (sscanf(p, "%d:%d%n", &g, &pf, &used) != 2 || g < 1 || pf < 1) {
                cli_usage_error("run",
                                "--thread-pairs wants GEN:PREFILL,... "
                                "(e.g. 1:1,2:2), got '%s'",
                                rc->o.pairs);
                code = EXIT_USAGE;
                break;
            }
            if (p != rc->o.pairs) eb_cool_down(&rc->o.cfg);
            rc->o.cfg.threads_gen = g;
            rc->o.cfg.threads_prefill = pf;
            code = run_and_report(rc, out);
            fflush(out);
            p += used;
            if (*p == ',') p++;
        }
        eb_model_keeper_release(&keeper);
    }
    if (out != stdout && fclose(out) != 0) {
        eb_fail(&err, EB_E_IO, "output %s: %s", rc->tmp_output, strerror(errno));
        code = cli_report("run", &err);
    }
    return code;
}

/* What a run whose process died had measured, in the run's format. */
static void write_partial(const run_cli *rc, const cJSON *result, FILE *out)
{
    const cJSON *reps = cJSON_GetObjectItemCaseSensitive(result, "reps");
    const char *failure = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "failure"));
    if (rc->format == EB_FMT_JSON) {
        char *text = cJSON_Print(result);
        if (text) fprintf(out, "%s\n", text);
        free(text);
        return;
    }
    if (rc->format == EB_FMT_JSONL) {
        const cJSON *rep;
        cJSON_ArrayForEach(rep, reps)
        {
            cJSON *line = cJSON_Duplicate(rep, 1);
            cJSON_AddStringToObject(line, "status", "failed");
            char *text = cJSON_PrintUnformatted(line);
            if (text) fprintf(out, "%s\n", text);
            free(text);
            cJSON_Delete(line);
        }
        return;
    }
    fprintf(out, "FAILED after %d of %d runs: %s\n", cJSON_GetArraySize(reps),
            (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(result, "reps_planned")),
            failure ? failure : "");
    fprintf(out, "%-5s %-8s %14s %16s\n", "run", "warm-up", "prefill tok/s", "generation tok/s");
    const cJSON *rep;
    cJSON_ArrayForEach(rep, reps)
    {
        fprintf(out, "%-5d %-8s %14.2f %16.2f\n",
                (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rep, "index")) + 1,
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rep, "warmup")) ? "yes" : "no",
                cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rep, "prefill_tps")),
                cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rep, "gen_tps")));
    }
    fprintf(out, "(energy and span summaries are made when a run ends: not available)\n");
}

/* Runs the measuring child and, when it died, keeps what it measured:
 * written to the output after the configurations it finished, stored as a
 * failed trial, and said on stderr with the cause. */
static int supervise(run_cli *rc)
{
    measure_outcome mo;
    measure_in_child(measure_all, rc, &mo);
    if (!child_end_failed(&mo.end)) return EXIT_OK;
    if (mo.end.started && WIFEXITED(mo.end.status) && !mo.head)
        return mo.exit_code; /* its own error, reported by it */
    char where[96] = "";
    if (mo.phase[0]) snprintf(where, sizeof where, "%s of repetition %d", mo.phase, mo.phase_rep);
    char reason[1400];
    child_end_reason(&mo.end, mo.log_tail, where[0] ? where : NULL, rc->o.memory_limit_mib, reason,
                     sizeof reason);
    int n_done = mo.reps ? cJSON_GetArraySize(mo.reps) : 0;
    /* Ctrl-C (or a TERM, a hang-up): what finished is kept, marked, and
     * said in one line */
    int sig = mo.end.started && WIFSIGNALED(mo.end.status) ? WTERMSIG(mo.end.status) : 0;
    bool interrupted = sig == SIGINT || sig == SIGTERM || sig == SIGHUP;
    if (interrupted && mo.head) {
        int measured = 0;
        const cJSON *rep;
        cJSON_ArrayForEach(rep, mo.reps)
        {
            measured += !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rep, "warmup"));
        }
        snprintf(reason, sizeof reason, "interrupted (%s) after %d of %d measured repetitions",
                 sig == SIGINT    ? "SIGINT"
                 : sig == SIGTERM ? "SIGTERM"
                                  : "SIGHUP",
                 measured, rc->o.cfg.reps);
    }
    if (!mo.head) {
        fprintf(stderr, "edgebench run: no repetition had finished: nothing to keep\n");
        fprintf(stderr, "edgebench run: the measuring process died: %s\n", reason);
        measure_outcome_free(&mo);
        return EXIT_FAILURE_RUN;
    }
    cJSON *result = eb_result_from_stream(mo.head, mo.reps, reason, mo.reps_planned);
    mo.head = mo.reps = NULL;
    FILE *out = rc->tmp_output ? fopen(rc->tmp_output, "a") : stdout;
    if (out) {
        write_partial(rc, result, out);
        if (out != stdout) fclose(out);
    }
    cli_stored how = CLI_LOST;
    if (!rc->o.no_store)
        how = store_result_as(rc, result, reason, interrupted || rc->o.quiet);
    else
        cJSON_Delete(result);
    if (interrupted) {
        fprintf(stderr, "edgebench run: %s: %s%s%s\n", reason,
                rc->o.output ? "written to " : "written above", rc->o.output ? rc->o.output : "",
                rc->o.no_store        ? ""
                : how == CLI_STORED   ? ", stored as a trial marked interrupted"
                : how == CLI_FALLBACK ? ", kept in the fallback file (the store failed)"
                                      : ", NOT stored");
        measure_outcome_free(&mo);
        return 128 + sig;
    }
    fprintf(stderr, "edgebench run: FAILED after %d repetition(s); they are %s%s%s\n", n_done,
            rc->o.output ? "written to " : "written above", rc->o.output ? rc->o.output : "",
            rc->o.no_store ? "" : " and stored as a failed trial");
    /* last, so that a sweep takes it as the trial's reason */
    fprintf(stderr, "edgebench run: the measuring process died: %s\n", reason);
    return EXIT_FAILURE_RUN;
}

/* --build: the process restarts itself with the build's libraries first on
 * the loader's path (edgebench's own are found by RUNPATH, which the path
 * overrides). Returns -1 to go on (the build is the one loaded), else an
 * exit code. */
static int use_build(const char *name)
{
    eb_error err = {0};
    char prefix[1024];
    if (eb_build_find(name, prefix, sizeof prefix, &err) != EB_OK) return cli_report("run", &err);
    char want[PATH_MAX], have[PATH_MAX];
    if (!realpath(prefix, want)) snprintf(want, sizeof want, "%s", prefix);
    const char *active = getenv("EDGEBENCH_BUILD_PREFIX");
    if (active && !strcmp(active, want)) {
        const eb_engine_ops *e = eb_engine_default();
        const char *loaded = e->build_info ? e->build_info("prefix") : "";
        if (!realpath(loaded, have) || strcmp(have, want) != 0) {
            eb_fail(&err, EB_E_ENGINE, "--build %s: the process loaded %s, not %s", name,
                    loaded[0] ? loaded : "an unknown build", want);
            return cli_report("run", &err);
        }
        return -1;
    }
    char path[PATH_MAX + 1100];
    const char *old = getenv("LD_LIBRARY_PATH");
    snprintf(path, sizeof path, "%s/lib%s%s", want, old && old[0] ? ":" : "", old ? old : "");
    setenv("LD_LIBRARY_PATH", path, 1);
    setenv("EDGEBENCH_BUILD_PREFIX", want, 1);
    /* this process's own command line, as it was started */
    static char cmdline[65536];
    FILE *f = fopen("/proc/self/cmdline", "rb");
    size_t n = f ? fread(cmdline, 1, sizeof cmdline - 1, f) : 0;
    if (f) fclose(f);
    char *args[1024];
    int k = 0;
    for (size_t i = 0; i < n && k < 1023; i += strlen(cmdline + i) + 1)
        args[k++] = cmdline + i;
    args[k] = NULL;
    fflush(NULL);
    if (k > 0) execv("/proc/self/exe", args);
    eb_fail(&err, EB_E_IO, "--build %s: cannot restart on it: %s", name, strerror(errno));
    return cli_report("run", &err);
}

/* The devices the build's backends find here, as llama-bench lists them. */
static int list_devices(void)
{
    const eb_engine_ops *e = eb_engine_default();
    eb_device_desc d[64];
    int n = e->list_devices ? e->list_devices(d, 64) : 0;
    printf("%-12s %-8s %-6s %10s %10s  %s\n", "device", "backend", "type", "MiB", "free MiB",
           "description");
    for (int i = 0; i < n && i < 64; i++) {
        printf("%-12s %-8s %-6s %10.0f %10.0f  %s\n", d[i].name, d[i].backend, d[i].type,
               d[i].memory_mib, d[i].free_mib, d[i].description);
        if (d[i].driver[0]) printf("%-12s driver: %s\n", "", d[i].driver);
    }
    printf("(build: %s in %s, patches: %s; backends with a device: %s)\n",
           e->build_info ? e->build_info("variant") : "?",
           e->build_info ? e->build_info("prefix") : "?",
           e->build_info ? e->build_info("patches") : "?", e->backend());
    /* llama.cpp hides a software Vulkan device (Mesa's lavapipe) unless asked for */
    if (!getenv("GGML_VK_VISIBLE_DEVICES") && strstr(e->backend(), "Vulkan") == NULL &&
        e->build_info && strstr(e->build_options(), "GGML_VULKAN=ON"))
        printf("(no Vulkan device listed: llama.cpp leaves out CPU-type Vulkan devices such as "
               "Mesa's lavapipe unless GGML_VK_VISIBLE_DEVICES names them, e.g. =0)\n");
    return EXIT_OK;
}

/* The server engine's level, to --output (written beside and renamed) or
 * stdout. */
static int serve_to_output(run_cli *rc)
{
    if (!rc->o.output) return cli_serve_run(&rc->o, rc->format, stdout);
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.partial-%ld", rc->o.output, (long)getpid());
    FILE *f = fopen(tmp, "w");
    eb_error err = {0};
    if (!f) {
        eb_fail(&err, EB_E_IO, "output %s: %s", tmp, strerror(errno));
        return cli_report("run", &err);
    }
    int code = cli_serve_run(&rc->o, rc->format, f);
    if (fclose(f) != 0 || rename(tmp, rc->o.output) != 0) {
        eb_fail(&err, EB_E_IO, "output %s: %s", rc->o.output, strerror(errno));
        unlink(tmp);
        return cli_report("run", &err);
    }
    return code;
}

int cmd_run(int argc, char **argv)
{
    bool swept;
    int sc = cli_run_sweep(argc, argv, &swept);
    if (swept) return sc;
    run_cli rc = {.format = EB_FMT_TEXT};
    eb_run_options_defaults(&rc.o);
    eb_error err = {0};
    if (eb_run_options_parse(argc, argv, &rc.o, &err) != EB_OK) return cli_report("run", &err);
    if (rc.o.help) {
        run_usage(stdout);
        return EXIT_OK;
    }
    eb_format_parse(rc.o.format, &rc.format); /* checked as a choice of the table */
    if (rc.o.cfg.build && strcmp(rc.o.cfg.build, "default") != 0) {
        int c = use_build(rc.o.cfg.build);
        if (c >= 0) return c;
    }
    if (rc.o.list_devices) return list_devices();
    bool server = rc.o.cfg.serve.engine && !strcmp(rc.o.cfg.serve.engine, "server");
    if (!server) {
        for (size_t k = 0; k < eb_param_count; k++) {
            if ((eb_params[k].flags & EB_PF_SERVER_ONLY) && rc.o.given[k]) {
                eb_fail(&err, EB_E_INVALID_ARG, "--%s applies to --engine server only",
                        eb_params[k].flag);
                return cli_report("run", &err);
            }
        }
    } else if (rc.format == EB_FMT_CSV) {
        eb_fail(&err, EB_E_INVALID_ARG, "--engine server writes text, json or jsonl, not csv");
        return cli_report("run", &err);
    }
    if (server && rc.o.cfg.serve.url && rc.o.cfg.serve.url[0]) {
        if (rc.o.cfg.model_path || given(&rc, "preset")) {
            eb_fail(&err, EB_E_INVALID_ARG,
                    "--server-url measures the server's own model (--server-model NAME), not "
                    "-m or --preset");
            return cli_report("run", &err);
        }
        return serve_to_output(&rc);
    }

    char model_path[1024];
    eb_status st = EB_OK;
    if (rc.o.cfg.prompt_file) st = read_prompt_file(&rc, &err);
    if (st == EB_OK && rc.o.cfg.model_path && given(&rc, "preset"))
        st = eb_fail(&err, EB_E_INVALID_ARG, "give either -m FILE or --preset NAME, not both");
    if (st == EB_OK && !rc.o.cfg.model_path) {
        const eb_preset *p = eb_preset_find(rc.o.preset);
        eb_synth_type t = EB_SYNTH_TYPE_COUNT; /* from --type below */
        if (!p)
            st = eb_fail(&err, EB_E_INVALID_ARG, "unknown preset '%s' (see 'edgebench model list')",
                         rc.o.preset);
        else if (!eb_synth_type_parse(rc.o.type, &t))
            st = eb_fail(&err, EB_E_INVALID_ARG,
                         "--type must be F16, Q8_0, Q4_0 or Q4_K_M, got '%s'", rc.o.type);
        /* Check the rest of the options before spending time on the model. */
        rc.o.cfg.model_path = p ? p->name : "";
        if (st == EB_OK) st = eb_run_config_validate(&rc.o.cfg, &err);
        if (st == EB_OK)
            st = cli_synth_cached(p, t, model_path, sizeof model_path, rc.o.quiet, &err);
        if (st == EB_OK) rc.o.cfg.model_path = model_path;
    } else if (st == EB_OK && given(&rc, "type")) {
        st = eb_fail(&err, EB_E_INVALID_ARG, "--type applies to --preset only");
    }
    char quantized[1024];
    if (st == EB_OK && rc.o.quant) {
        st = cli_quantized(rc.o.cfg.model_path, rc.o.quant, rc.o.cfg.threads_prefill, quantized,
                           sizeof quantized, rc.o.quiet, &err);
        if (st == EB_OK) rc.o.cfg.model_path = quantized;
    }
    if (st != EB_OK) {
        free(rc.prompt_buf);
        return cli_report("run", &err);
    }

    if (server) {
        int code = serve_to_output(&rc);
        free(rc.prompt_buf);
        return code;
    }
    /* the engine's build against this machine (not a fixture root): a
     * feature it lacks is an error now, not an illegal instruction later */
    const eb_engine_ops *engine = eb_engine_default();
    if (engine->build_info) {
        eb_cpu_grant grant;
        eb_cpu_grant_read(&grant);
        if (eb_cpu_preflight(engine->build_info("cpu_features"), "/", &grant, &err) != EB_OK) {
            free(rc.prompt_buf);
            return cli_report("run", &err);
        }
    }
    warn_memory(rc.o.cfg.model_path, rc.o.cfg.root);
    if (rc.o.cfg.cpu_affinity && !cli_set_affinity(rc.o.cfg.cpu_affinity, &err)) {
        free(rc.prompt_buf);
        return cli_report("run", &err);
    }
    if (rc.o.memory_limit_mib > 0) {
        struct rlimit rl = {(rlim_t)rc.o.memory_limit_mib << 20,
                            (rlim_t)rc.o.memory_limit_mib << 20};
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            fprintf(stderr, "edgebench run: warning: --memory-limit: %s\n", strerror(errno));
    }
    /* The output is written beside its final name and renamed once the
     * run has ended, so an existing file is never truncated up front. A
     * device or pipe (/dev/null, a FIFO) is written as it is: renaming onto
     * it would replace it with a file. */
    char tmp_out[1200] = "";
    struct stat target;
    bool special = rc.o.output && stat(rc.o.output, &target) == 0 && !S_ISREG(target.st_mode);
    if (special) rc.tmp_output = rc.o.output;
    if (rc.o.output && !special) {
        snprintf(tmp_out, sizeof tmp_out, "%s.partial-%ld", rc.o.output, (long)getpid());
        FILE *probe = fopen(tmp_out, "w");
        if (!probe) {
            eb_fail(&err, EB_E_IO, "output %s: %s", tmp_out, strerror(errno));
            free(rc.prompt_buf);
            return cli_report("run", &err);
        }
        fclose(probe);
        rc.tmp_output = tmp_out;
    }
    int code = supervise(&rc);
    struct stat written;
    if (special) {
        /* written in place */
    } else if (rc.o.output && stat(tmp_out, &written) == 0 && written.st_size == 0) {
        unlink(tmp_out); /* nothing measured: an existing file stays as it was */
    } else if (rc.o.output && rename(tmp_out, rc.o.output) != 0) {
        eb_fail(&err, EB_E_IO, "output %s: %s", rc.o.output, strerror(errno));
        code = cli_report("run", &err);
    }
    free(rc.prompt_buf);
    return code;
}
