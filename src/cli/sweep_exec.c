/* Runs the trials of a plan, one `edgebench run` process each, so that a
 * crash, an out-of-memory kill or a hang costs one trial, not the sweep. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_ceilings.h"
#include "cli_store.h"
#include "edgebench/bench.h"
#include "edgebench/knobs.h"
#include "edgebench/params.h"
#include "edgebench/probe.h"
#include "edgebench/sweep.h"
#include "edgebench/sysinfo.h"
#include "edgebench/util.h"
#include "measure_child.h"
#include "sweep_exec.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

/* Complete: in the journal, or in the store as measured on this device. */
typedef struct done_ctx {
    const eb_keyset *journal;
    cli_store *store; /* NULL without --resume */
    const char *host;
} done_ctx;

static bool trial_done(void *user, const eb_trial *t)
{
    const done_ctx *d = user;
    if (eb_keyset_has(d->journal, t->key_hex)) return true;
    bool done = false;
    eb_error err = {0};
    return d->store && d->store->store &&
           eb_store_trial_done(d->store->store, t->key_hex, d->host, &done, &err) == EB_OK && done;
}

/* ---- one trial ---- */

void sweep_stop(int sig)
{
    stop_signal = sig;
}

bool sweep_stopping(void)
{
    return stop_signal != 0;
}

void sweep_run_trial(const char *self, const eb_trial *t, const char *tmpdir, double timeout_s,
                     const char *pairs, const char *ceilings, trial_outcome *out)
{
    char json_path[1100], err_path[1100];
    snprintf(json_path, sizeof json_path, "%s/trial.json", tmpdir);
    snprintf(err_path, sizeof err_path, "%s/trial.err", tmpdir);
    unlink(json_path);
    int n_run = 0;
    eb_error aerr = {0};
    char **run_args = eb_trial_run_args(t, pairs != NULL, &n_run, &aerr);
    memset(out, 0, sizeof *out);
    if (!run_args) {
        snprintf(out->reason, sizeof out->reason, "%s", aerr.msg);
        return;
    }
    const char *argv[EB_PARAM_MAX + 16];
    int a = 0;
    argv[a++] = self;
    argv[a++] = "run";
    for (int i = 0; i < n_run; i++)
        argv[a++] = run_args[i];
    if (pairs) {
        argv[a++] = "--thread-pairs";
        argv[a++] = pairs;
    }
    if (ceilings) {
        argv[a++] = "--ceilings";
        argv[a++] = ceilings;
    }
    argv[a++] = "--no-store"; /* the sweep stores the record, with its system facts */
    argv[a++] = "--format";
    argv[a++] = "json";
    argv[a++] = "-o";
    argv[a++] = json_path;
    argv[a++] = "-q";
    argv[a] = NULL;

    child_end ce;
    child_spawn_wait(argv, err_path, timeout_s, &stop_signal, NULL, NULL, &ce);
    eb_trial_run_args_free(run_args);
    out->interrupted = ce.interrupted;
    out->seconds = ce.seconds;
    char *log = eb_read_file(err_path, NULL);
    const char *limit = eb_trial_get(t, "memory_limit");
    child_end_reason(&ce, log, NULL, limit ? atoi(limit) : 0, out->reason, sizeof out->reason);
    free(log);
    out->ok = !child_end_failed(&ce);
    /* Whatever the trial wrote is kept, even from a failed one. */
    char *buf = eb_read_file(json_path, NULL);
    if (buf) {
        /* one JSON object per configuration the process ran */
        out->result = cJSON_CreateArray();
        const char *p = buf, *end = NULL;
        cJSON *one;
        while (*p && (one = cJSON_ParseWithOpts(p, &end, 0))) {
            cJSON_AddItemToArray(out->result, one);
            p = end;
            while (*p == '\n' || *p == ' ')
                p++;
        }
        if (cJSON_GetArraySize(out->result) == 0) {
            cJSON_Delete(out->result);
            out->result = NULL;
        }
    }
    free(buf);
    if (out->ok && !out->result) {
        out->ok = false;
        snprintf(out->reason, sizeof out->reason, "no result written");
    }
}

/* ---- the sweep ---- */

static void fmt_duration(double s, char *out, size_t cap)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, cap, "%ld:%02ld", t / 60, t % 60);
}

static double trial_estimate(const eb_trial *t)
{
    double reps = atof(eb_trial_value(t, "reps")), warm = atof(eb_trial_value(t, "warmup"));
    double pause = atof(eb_trial_value(t, "pause")), idle = atof(eb_trial_value(t, "idle_s"));
    return (reps + warm) * 5.0 + (reps + warm) * pause + idle;
}

/* Where a sweep's records go and what is already complete. */
typedef struct sweep_state {
    const char *results;
    eb_keyset journal;
    cli_store cs;
    char host[256];
    eb_device_info device;
    done_ctx done;
} sweep_state;

static void state_open(sweep_state *ss, eb_plan *plan, const sweep_opts *o)
{
    memset(ss, 0, sizeof *ss);
    const eb_param *rp = eb_param_plan_key("results"), *sp = eb_param_plan_key("store");
    const char *plan_results = plan->global.value[eb_param_index(rp)];
    ss->results = o->results ? o->results : plan_results ? plan_results : rp->def;
    size_t n_lines = 0;
    eb_error jerr = {0};
    if (o->resume && eb_journal_done_keys(ss->results, &ss->journal, &n_lines, &jerr) != EB_OK)
        fprintf(stderr, "edgebench sweep: %s: %s\n", eb_status_name(jerr.status), jerr.msg);
    cli_store_begin(&ss->cs, o->store ? o->store : plan->global.value[eb_param_index(sp)], NULL,
                    "sweep");
    eb_error serr = {0};
    /* a dry run without --resume creates nothing */
    if ((!o->dry_run || o->resume) && eb_store_open(ss->cs.spec, &ss->cs.store, &serr) != EB_OK)
        fprintf(stderr,
                "edgebench sweep: %s: %s\nedgebench sweep: records go on into the journal %s; "
                "'edgebench import %s' stores them later\n",
                eb_status_name(serr.status), serr.msg, ss->results, ss->results);
    gethostname(ss->host, sizeof ss->host - 1);
    eb_device_info_read("/", &ss->device);
    ss->done = (done_ctx){&ss->journal, o->resume ? &ss->cs : NULL, ss->host};
}

static void state_close(sweep_state *ss)
{
    eb_keyset_free(&ss->journal);
    cli_store_end(&ss->cs);
}

static int dry_run(const eb_plan *plan, sweep_state *ss, size_t to_run)
{
    double est = 0;
    for (size_t i = 0; i < plan->n_trials; i++) {
        const eb_trial *t = &plan->trials[i];
        char d[1024];
        eb_trial_describe(t, d, sizeof d);
        bool skip = trial_done(&ss->done, t);
        printf("%4zu [%s] %s%s\n", i + 1, t->section, d, skip ? "  (done: skipped)" : "");
        if (!skip) est += trial_estimate(t);
    }
    char e[32];
    fmt_duration(est, e, sizeof e);
    printf("%zu trials, %zu to run; estimated %s (5 s per run plus pauses and idle "
           "measurement; real runs vary with model and device)\n",
           plan->n_trials, to_run, e);
    return EXIT_OK;
}

/* The trials run without the store: they get this device's newest probed
 * ceilings as a file. */
static bool write_ceilings(cli_store *cs, const eb_device_info *device, const char *path)
{
    if (!cs->store) return false;
    eb_probe_point *pts = NULL;
    size_t npts = 0;
    eb_error cerr = {0};
    bool ok = false;
    if (cli_ceilings_store(cs->store, device, &pts, &npts, &cerr) == EB_OK && npts > 0) {
        cJSON *c = eb_probe_points_to_json(pts, npts);
        char *text = c ? cJSON_PrintUnformatted(c) : NULL;
        FILE *cf = text ? fopen(path, "w") : NULL;
        ok = cf && fputs(text, cf) >= 0;
        if (cf && fclose(cf) != 0) ok = false;
        free(text);
        cJSON_Delete(c);
    }
    free(pts);
    return ok;
}

/* "G:P,G:P" of a group's thread pairs (all CPUs where a trial sets none). */
static void group_pairs(const eb_plan *plan, size_t i, size_t n_group, char *pairs, size_t cap)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    pairs[0] = '\0';
    for (size_t k = 0; n_group > 1 && k < n_group; k++) {
        const eb_trial *m = &plan->trials[i + k];
        const char *g = eb_trial_get(m, "threads"), *p = eb_trial_get(m, "threads_prefill");
        size_t len = strlen(pairs);
        snprintf(pairs + len, cap - len, "%s%ld:%ld", k ? "," : "", g ? atol(g) : ncpu,
                 p ? atol(p) : ncpu);
    }
}

typedef struct sweep_run {
    const eb_plan *plan;
    const sweep_opts *o;
    sweep_state *ss;
    eb_knob_session knobs;
    int fd;
    char self[1024];
    char tmpdir[32];
    char ceilings[1100];
    bool have_ceilings, tty, store_warned;
    size_t ran, n_ok, n_failed, skipped, to_run;
    double t_start, spent;
} sweep_run;

static void progress_line(sweep_run *r, const eb_trial *t)
{
    if (r->o->quiet) return;
    char desc[1024], el[32], eta[32];
    eb_trial_describe(t, desc, sizeof desc);
    fmt_duration(eb_now() - r->t_start, el, sizeof el);
    if (r->ran > 0)
        fmt_duration(r->spent / (double)r->ran * (double)(r->to_run - r->ran), eta, sizeof eta);
    else
        snprintf(eta, sizeof eta, "?");
    fprintf(stderr,
            r->tty ? "\r\033[K[%zu/%zu] [%s] %s  elapsed %s, ETA %s"
                   : "[%zu/%zu] [%s] %s  elapsed %s, ETA %s\n",
            r->ran + 1, r->to_run, t->section, desc, el, eta);
}

/* Journals and stores the records of a group's outcome. Returns false when
 * neither journal nor store took a record: the sweep stops rather than
 * lose more. */
static bool record_group(sweep_run *r, size_t i, size_t n_group, time_t started, cJSON *sys,
                         trial_outcome *out)
{
    int n_results = out->result ? cJSON_GetArraySize(out->result) : 0;
    for (size_t k = 0; k < n_group; k++) {
        const eb_trial *m = &r->plan->trials[i + k];
        cJSON *result = k < (size_t)n_results ? cJSON_DetachItemFromArray(out->result, 0) : NULL;
        /* in a group, a configuration that gave its result before the
         * process failed is complete */
        bool ok = result && (out->ok || (int)k < n_results - 1);
        const char *reason = ok               ? NULL
                             : out->reason[0] ? out->reason
                                              : "not run: an earlier trial of its group failed";
        cJSON *rec = eb_trial_record(
            r->plan, m, started, ok, reason, out->seconds / (double)n_group,
            k + 1 < n_group ? cJSON_Duplicate(sys, 1) : sys, &r->ss->device, result);
        bool journaled = eb_journal_append(r->fd, rec);
        if (!journaled)
            fprintf(stderr, "\nedgebench sweep: io_error: results %s: %s\n", r->ss->results,
                    strerror(errno));
        cli_stored stored = cli_store_put(&r->ss->cs, rec, r->o->quiet);
        if (stored != CLI_STORED && journaled && !r->store_warned) {
            r->store_warned = true;
            fprintf(stderr,
                    "edgebench sweep: the journal %s holds every record; 'edgebench import "
                    "%s' stores them when the store works again\n",
                    r->ss->results, r->ss->results);
        }
        cJSON_Delete(rec);
        if (!journaled && stored != CLI_STORED) return false;
        ok ? r->n_ok++ : r->n_failed++;
        if (!ok && !r->o->quiet)
            fprintf(stderr, "%sedgebench sweep: trial %zu failed: %s\n", r->tty ? "\n" : "",
                    m->index + 1, reason);
    }
    return true;
}

/* One trial, or one group sharing a process: knobs, pause, run, records.
 * Returns the trials it covered, 0 to stop the sweep. */
static size_t run_group(sweep_run *r, size_t i, int *code)
{
    const eb_trial *t = &r->plan->trials[i];
    progress_line(r, t);
    cJSON *sys = cJSON_CreateObject();
    char why[512] = "";
    bool knobs_ok = eb_knob_session_apply(&r->knobs, t, sys, why, sizeof why);
    double t_trial = eb_now();
    if (r->ran > 0 && knobs_ok) {
        /* The pause before a trial, as between its runs. */
        eb_run_config pc;
        eb_run_config_defaults(&pc);
        pc.root = r->o->root;
        pc.pause_s = atof(eb_trial_value(t, "pause"));
        pc.cool_below_c =
            eb_trial_value(t, "cool_below") ? atof(eb_trial_value(t, "cool_below")) : 0;
        pc.cool_max_wait_s = atof(eb_trial_value(t, "cool_max_wait"));
        cJSON_AddNumberToObject(sys, "pause_before_s", eb_cool_down(&pc));
    }
    size_t n_group = eb_plan_group_size(r->plan, i, EB_GROUP_MAX_TRIALS, trial_done, &r->ss->done);
    char pairs[1024];
    group_pairs(r->plan, i, n_group, pairs, sizeof pairs);
    trial_outcome out = {0};
    time_t started = time(NULL);
    if (knobs_ok && !stop_signal)
        sweep_run_trial(r->self, t, r->tmpdir, atof(eb_trial_value(t, "timeout")) * (double)n_group,
                        n_group > 1 ? pairs : NULL, r->have_ceilings ? r->ceilings : NULL, &out);
    else if (!knobs_ok)
        snprintf(out.reason, sizeof out.reason, "%s", why);
    if (out.interrupted || (stop_signal && knobs_ok && !out.ok)) {
        cJSON_Delete(sys);
        cJSON_Delete(out.result);
        return 0; /* not recorded: --resume runs it again */
    }
    r->spent += eb_now() - t_trial;
    r->ran += n_group;
    if (n_group > 1) cJSON_AddNumberToObject(sys, "model_loaded_once_for", (double)n_group);
    bool kept = record_group(r, i, n_group, started, sys, &out);
    cJSON_Delete(out.result);
    if (!kept) {
        *code = EXIT_FAILURE_RUN;
        return 0;
    }
    return n_group;
}

static int sweep_begin(sweep_run *r, eb_error *err)
{
    char state[1100];
    if (r->o->state) {
        snprintf(state, sizeof state, "%s", r->o->state);
    } else {
        char cache[1024];
        if (eb_cache_dir(cache, sizeof cache, err) != EB_OK) return cli_report("sweep", err);
        snprintf(state, sizeof state, "%s/sweep-state", cache);
    }
    bool restored = false;
    if (eb_knob_session_begin(&r->knobs, r->o->root, state, &restored, err) != EB_OK)
        return cli_report("sweep", err);
    if (restored)
        fprintf(stderr,
                "edgebench sweep: restored device settings left by an earlier sweep that did not "
                "finish (%s)\n",
                state);
    r->fd = open(r->ss->results, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (r->fd < 0) {
        eb_fail(err, EB_E_IO, "results %s: %s", r->ss->results, strerror(errno));
        eb_knob_session_end(&r->knobs, err);
        return cli_report("sweep", err);
    }
    ssize_t sl = readlink("/proc/self/exe", r->self, sizeof r->self - 1);
    r->self[sl > 0 ? sl : 0] = '\0';
    snprintf(r->tmpdir, sizeof r->tmpdir, "/tmp/edgebench-sweep-XXXXXX");
    if (!mkdtemp(r->tmpdir)) snprintf(r->tmpdir, sizeof r->tmpdir, "/tmp");
    snprintf(r->ceilings, sizeof r->ceilings, "%s/ceilings.json", r->tmpdir);
    r->have_ceilings = write_ceilings(&r->ss->cs, &r->ss->device, r->ceilings);
    return EXIT_OK;
}

static void sweep_finish(sweep_run *r)
{
    if (r->tty && !r->o->quiet) fputc('\n', stderr);
    eb_error kerr = {0};
    if (eb_knob_session_end(&r->knobs, &kerr) != EB_OK)
        fprintf(stderr, "edgebench sweep: %s: %s\n", eb_status_name(kerr.status), kerr.msg);
    close(r->fd);
    char rm[1100];
    snprintf(rm, sizeof rm, "%s/trial.json", r->tmpdir);
    unlink(rm);
    snprintf(rm, sizeof rm, "%s/trial.err", r->tmpdir);
    unlink(rm);
    unlink(r->ceilings);
    rmdir(r->tmpdir);
}

int sweep_execute(eb_plan *plan, const sweep_opts *o)
{
    sweep_state ss;
    state_open(&ss, plan, o);
    sweep_run r = {.plan = plan, .o = o, .ss = &ss, .fd = -1};
    for (size_t i = 0; i < plan->n_trials; i++)
        if (!trial_done(&ss.done, &plan->trials[i])) r.to_run++;
    if (o->dry_run) {
        int c = dry_run(plan, &ss, r.to_run);
        state_close(&ss);
        return c;
    }
    eb_error err = {0};
    int code = sweep_begin(&r, &err);
    if (code != EXIT_OK) {
        state_close(&ss);
        return code;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    struct sigaction old_int, old_term;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    r.tty = isatty(STDERR_FILENO);
    r.t_start = eb_now();
    for (size_t i = 0; i < plan->n_trials && !stop_signal;) {
        if (trial_done(&ss.done, &plan->trials[i])) {
            r.skipped++;
            i++;
            continue;
        }
        size_t covered = run_group(&r, i, &code);
        if (!covered) break;
        i += covered;
    }
    sweep_finish(&r);
    size_t n_stored = ss.cs.n_stored;
    char store_name[1024];
    eb_store_redact(ss.cs.spec, store_name, sizeof store_name);
    const char *results = ss.results;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    char total[32];
    fmt_duration(eb_now() - r.t_start, total, sizeof total);
    fprintf(stderr,
            "edgebench sweep: %zu ok, %zu failed, %zu already done, %zu not run; %s; %zu stored "
            "in %s, journal %s\n",
            r.n_ok, r.n_failed, r.skipped, plan->n_trials - r.n_ok - r.n_failed - r.skipped, total,
            n_stored, store_name, results);
    /* what the store cost the sweep, so writers sharing one store can be
     * compared with a sweep alone (bench/store-writers) */
    if (n_stored)
        fprintf(stderr, "edgebench sweep: store writes %.1f ms a trial (%zu trials, %.2f s)\n",
                ss.cs.store_s * 1000.0 / (double)n_stored, n_stored, ss.cs.store_s);
    state_close(&ss);
    if (stop_signal) {
        fprintf(stderr, "edgebench sweep: interrupted; '--resume' runs the rest\n");
        return 128 + (int)stop_signal;
    }
    /* a record that only the journal holds is not lost, but the sweep did
     * not do what was asked: said, and the exit says so */
    size_t ran = r.n_ok + r.n_failed;
    if (n_stored < ran) {
        fprintf(stderr,
                "edgebench sweep: %zu of %zu record(s) are only in the journal %s: 'edgebench "
                "import %s' stores them\n",
                ran - n_stored, ran, results, results);
        if (code == EXIT_OK) code = EXIT_FAILURE_RUN;
    }
    return code != EXIT_OK ? code : r.n_failed ? EXIT_FAILURE_RUN : EXIT_OK;
}
