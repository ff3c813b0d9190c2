/* Runs the trials of a plan, one `edgebench run` process each, so that a
 * crash, an out-of-memory kill or a hang costs one trial, not the sweep. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
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
#include "edgebench/probe.h"
#include "edgebench/sysinfo.h"
#include "edgebench/util.h"
#include "sweep.h"
#include "sweep_knobs.h"

extern char **environ;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static const char *value_or(const eb_trial *t, const char *key, const char *def)
{
    const char *v = eb_trial_get(t, key);
    return v ? v : def;
}

/* ---- results file ---- */

/* Keys of trials already complete (status ok) in the results file. */
static char *done_keys(const char *path, size_t *n_lines)
{
    FILE *f = fopen(path, "r");
    *n_lines = 0;
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *keys = malloc(cap), *line = NULL;
    size_t lcap = 0;
    if (!keys) {
        fclose(f);
        return NULL;
    }
    keys[0] = '\0';
    while (getline(&line, &lcap, f) > 0) {
        cJSON *o = cJSON_Parse(line);
        if (!o) continue; /* a line cut short by a crash: that trial runs again */
        (*n_lines)++;
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "trial_key");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "status");
        if (cJSON_IsString(k) && cJSON_IsString(s) && strcmp(s->valuestring, "ok") == 0) {
            if (len + 20 >= cap) {
                char *nk = realloc(keys, cap *= 2);
                if (!nk) break;
                keys = nk;
            }
            len += (size_t)snprintf(keys + len, cap - len, "%s\n", k->valuestring);
        }
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
    return keys;
}

static bool in_journal(const char *keys, const char *hex)
{
    char needle[20];
    snprintf(needle, sizeof needle, "%s\n", hex);
    return keys && strstr(keys, needle);
}

/* Complete: in the journal, or in the store as measured on this device. */
static bool key_done(const char *keys, cli_store *cs, const char *host, const char *hex)
{
    if (in_journal(keys, hex)) return true;
    bool done = false;
    eb_error err = {0};
    return cs && cs->store && eb_store_trial_done(cs->store, hex, host, &done, &err) == EB_OK &&
           done;
}

/* Appends one line and makes it durable before the next trial starts. */
static bool append_record(int fd, cJSON *rec)
{
    char *text = cJSON_PrintUnformatted(rec);
    if (!text) return false;
    size_t n = strlen(text);
    text[n] = '\n';
    bool ok = write(fd, text, n + 1) == (ssize_t)(n + 1) && fsync(fd) == 0;
    free(text);
    return ok;
}

/* ---- one trial ---- */

typedef struct trial_outcome {
    bool ok, interrupted;
    char reason[512];
    double seconds;
    cJSON *result;
} trial_outcome;

static void last_line(const char *path, char *out, size_t cap)
{
    char buf[8192];
    out[0] = '\0';
    if (eb_read_text(path, buf, sizeof buf, NULL) != EB_OK) return;
    size_t n = strlen(buf);
    while (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    char *l = strrchr(buf, '\n');
    snprintf(out, cap, "%s", l ? l + 1 : buf);
}

static void run_trial(const char *self, const eb_trial *t, const char *tmpdir, double timeout_s,
                      bool keep_timeline, const char *pairs, const char *ceilings,
                      trial_outcome *out)
{
    char json_path[1100], err_path[1100];
    snprintf(json_path, sizeof json_path, "%s/trial.json", tmpdir);
    snprintf(err_path, sizeof err_path, "%s/trial.err", tmpdir);
    unlink(json_path);
    const char *argv[160];
    char flags[64][40];
    int a = 0;
    argv[a++] = self;
    argv[a++] = "run";
    for (size_t k = 0; k < eb_opt_count && a < 150; k++) {
        const eb_opt *o = &eb_opts[k];
        const char *v = t->value[k];
        if (o->where != EB_OW_RUN) continue;
        if (!v && strcmp(o->key, "pause") == 0) v = o->def; /* the study's 30 s */
        if (!v) continue;
        if (pairs && (strcmp(o->key, "threads") == 0 || strcmp(o->key, "threads_prefill") == 0))
            continue;
        snprintf(flags[k], sizeof flags[k], "--%s", o->run_flag);
        argv[a++] = flags[k];
        argv[a++] = v;
    }
    if (keep_timeline) argv[a++] = "--keep-timeline";
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

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_path, O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    uint64_t oom0 = sweep_oom_kills();
    double t0 = eb_now();
    pid_t pid;
    int rc = posix_spawn(&pid, self, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    memset(out, 0, sizeof *out);
    if (rc != 0) {
        snprintf(out->reason, sizeof out->reason, "cannot start %s: %s", self, strerror(rc));
        return;
    }
    int status = 0;
    bool timed_out = false;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) break;
        if (stop_signal && !out->interrupted) {
            out->interrupted = true;
            kill(pid, SIGTERM);
        }
        if (!timed_out && eb_now() - t0 > timeout_s) {
            timed_out = true;
            kill(pid, SIGKILL);
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    out->seconds = eb_now() - t0;
    char last[400];
    last_line(err_path, last, sizeof last);
    if (timed_out) {
        snprintf(out->reason, sizeof out->reason, "timeout: killed after %.0f s", timeout_s);
    } else if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        bool oom = sig == SIGKILL && sweep_oom_kills() > oom0;
        snprintf(out->reason, sizeof out->reason, "%s (signal %d: %s)%s%s",
                 oom ? "out of memory: killed by the kernel" : "killed", sig, strsignal(sig),
                 last[0] ? "; last message: " : "", last);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        snprintf(out->reason, sizeof out->reason, "exit %d: %s", WEXITSTATUS(status),
                 last[0] ? last : "no message");
    } else {
        out->ok = true;
    }
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
    double reps = atof(value_or(t, "reps", "4")), warm = atof(value_or(t, "warmup", "1"));
    double pause = atof(value_or(t, "pause", "30")), idle = atof(value_or(t, "idle_s", "2"));
    return (reps + warm) * 5.0 + (reps + warm) * pause + idle;
}

static cJSON *config_json(const eb_trial *t)
{
    cJSON *c = cJSON_CreateObject();
    for (size_t k = 0; k < eb_opt_count; k++)
        if (t->value[k]) cJSON_AddStringToObject(c, eb_opts[k].key, t->value[k]);
    return c;
}

/* isolation=model: how many trials from i on run in one process, sharing
 * one model load: consecutive, not done, differing only in thread counts. */
static size_t group_size(const eb_plan *plan, size_t i, const char *done, cli_store *rs,
                         const char *host)
{
    const eb_trial *t = &plan->trials[i];
    if (strcmp(value_or(t, "isolation", "trial"), "model") != 0) return 1;
    size_t n = 1;
    for (size_t j = i + 1; j < plan->n_trials && n < 64; j++, n++) {
        const eb_trial *u = &plan->trials[j];
        if (strcmp(t->section, u->section) != 0 || key_done(done, rs, host, u->key_hex)) break;
        bool same = true;
        for (size_t k = 0; k < eb_opt_count && same; k++) {
            const char *key = eb_opts[k].key;
            if (strcmp(key, "threads") == 0 || strcmp(key, "threads_prefill") == 0) continue;
            const char *a = t->value[k], *b = u->value[k];
            same = (!a && !b) || (a && b && strcmp(a, b) == 0);
        }
        if (!same) break;
    }
    return n;
}

static cJSON *trial_record(const eb_plan *plan, const eb_trial *t, time_t started, bool ok,
                           const char *reason, double seconds, cJSON *sys,
                           const eb_device_info *device, cJSON *result)
{
    cJSON *rec = cJSON_CreateObject();
    char ts[32];
    eb_utc_iso8601(started, ts, sizeof ts);
    cJSON_AddStringToObject(rec, "trial_key", t->key_hex);
    cJSON_AddNumberToObject(rec, "trial_index", (double)t->index);
    cJSON_AddStringToObject(rec, "section", t->section);
    cJSON_AddStringToObject(rec, "plan", plan->path[0] ? plan->path : "command line");
    cJSON_AddItemToObject(rec, "config", config_json(t));
    cJSON_AddStringToObject(rec, "status", ok ? "ok" : "failed");
    if (!ok) cJSON_AddStringToObject(rec, "reason", reason);
    cJSON_AddStringToObject(rec, "started_at", ts);
    cJSON_AddNumberToObject(rec, "duration_s", seconds);
    cJSON_AddItemToObject(rec, "system", sys);
    cJSON_AddItemToObject(rec, "device", eb_device_info_to_json(device));
    if (result)
        cJSON_AddItemToObject(rec, "result", result);
    else
        cJSON_AddNullToObject(rec, "result");
    return rec;
}

int sweep_execute(eb_plan *plan, const sweep_opts *o)
{
    const eb_opt *ro = eb_opt_find("results");
    const char *results = o->results                         ? o->results
                          : plan->global.value[ro - eb_opts] ? plan->global.value[ro - eb_opts]
                                                             : ro->def;
    size_t n_lines = 0;
    char *done = o->resume ? done_keys(results, &n_lines) : NULL;
    const eb_opt *so = eb_opt_find("store");
    cli_store cs;
    cli_store_begin(&cs, o->store ? o->store : plan->global.value[so - eb_opts], NULL, "sweep");
    eb_error serr = {0};
    /* a dry run without --resume creates nothing */
    if ((!o->dry_run || o->resume) && eb_store_open(cs.spec, &cs.store, &serr) != EB_OK)
        fprintf(stderr,
                "edgebench sweep: %s: %s\nedgebench sweep: records go on into the journal %s; "
                "'edgebench import %s' stores them later\n",
                eb_status_name(serr.status), serr.msg, results, results);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    eb_device_info device;
    eb_device_info_read("/", &device);
    cli_store *rs = o->resume ? &cs : NULL;
    size_t to_run = 0;
    for (size_t i = 0; i < plan->n_trials; i++)
        if (!key_done(done, rs, host, plan->trials[i].key_hex)) to_run++;

    if (o->dry_run) {
        double est = 0;
        for (size_t i = 0; i < plan->n_trials; i++) {
            const eb_trial *t = &plan->trials[i];
            char d[1024];
            eb_trial_describe(t, d, sizeof d);
            bool skip = key_done(done, rs, host, t->key_hex);
            printf("%4zu [%s] %s%s\n", i + 1, t->section, d, skip ? "  (done: skipped)" : "");
            if (!skip) est += trial_estimate(t);
        }
        char e[32];
        fmt_duration(est, e, sizeof e);
        printf("%zu trials, %zu to run; estimated %s (5 s per run plus pauses and idle "
               "measurement; real runs vary with model and device)\n",
               plan->n_trials, to_run, e);
        free(done);
        cli_store_end(&cs);
        return EXIT_OK;
    }

    char state[1100];
    if (o->state) {
        snprintf(state, sizeof state, "%s", o->state);
    } else {
        char cache[1024];
        eb_error e2 = {0};
        if (eb_cache_dir(cache, sizeof cache, &e2) != EB_OK) {
            free(done);
            cli_store_end(&cs);
            return cli_report("sweep", &e2);
        }
        snprintf(state, sizeof state, "%s/sweep-state", cache);
    }
    sweep_knobs knobs;
    eb_error err = {0};
    if (sweep_knobs_begin(&knobs, o->root, state, &err) != EB_OK) {
        free(done);
        cli_store_end(&cs);
        return cli_report("sweep", &err);
    }
    int fd = open(results, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        eb_fail(&err, EB_E_IO, "results %s: %s", results, strerror(errno));
        sweep_knobs_end(&knobs);
        free(done);
        cli_store_end(&cs);
        return cli_report("sweep", &err);
    }
    char self[1024];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    self[sl > 0 ? sl : 0] = '\0';
    char tmpdir[] = "/tmp/edgebench-sweep-XXXXXX";
    if (!mkdtemp(tmpdir)) snprintf(tmpdir, sizeof tmpdir, "/tmp");
    /* The trials run without the store: they get this device's newest
     * probed ceilings as a file. */
    char ceilings[1100];
    snprintf(ceilings, sizeof ceilings, "%s/ceilings.json", tmpdir);
    bool have_ceilings = false;
    if (cs.store) {
        eb_probe_point *pts = NULL;
        size_t npts = 0;
        eb_error cerr = {0};
        if (cli_ceilings_store(cs.store, &device, &pts, &npts, &cerr) == EB_OK && npts > 0) {
            cJSON *c = eb_probe_points_to_json(pts, npts);
            char *text = c ? cJSON_PrintUnformatted(c) : NULL;
            FILE *cf = text ? fopen(ceilings, "w") : NULL;
            have_ceilings = cf && fputs(text, cf) >= 0;
            if (cf && fclose(cf) != 0) have_ceilings = false;
            free(text);
            cJSON_Delete(c);
        }
        free(pts);
    }

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    struct sigaction old_int, old_term;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    bool tty = isatty(STDERR_FILENO), store_warned = false;
    double t_start = eb_now(), spent = 0;
    size_t ran = 0, n_ok = 0, n_failed = 0, skipped = 0;
    int code = EXIT_OK;
    for (size_t i = 0; i < plan->n_trials && !stop_signal; i++) {
        const eb_trial *t = &plan->trials[i];
        if (key_done(done, rs, host, t->key_hex)) {
            skipped++;
            continue;
        }
        char desc[1024], el[32], eta[32];
        eb_trial_describe(t, desc, sizeof desc);
        fmt_duration(eb_now() - t_start, el, sizeof el);
        if (ran > 0)
            fmt_duration(spent / (double)ran * (double)(to_run - ran), eta, sizeof eta);
        else
            snprintf(eta, sizeof eta, "?");
        if (!o->quiet)
            fprintf(stderr,
                    tty ? "\r\033[K[%zu/%zu] [%s] %s  elapsed %s, ETA %s"
                        : "[%zu/%zu] [%s] %s  elapsed %s, ETA %s\n",
                    ran + 1, to_run, t->section, desc, el, eta);

        cJSON *sys = cJSON_CreateObject();
        char why[512] = "";
        bool knobs_ok = sweep_knobs_apply(&knobs, t, sys, why, sizeof why);
        double t_trial = eb_now();
        if (ran > 0 && knobs_ok) {
            /* The pause before a trial, as between its runs. */
            eb_run_config pc;
            eb_run_config_defaults(&pc);
            pc.root = o->root;
            pc.pause_s = atof(value_or(t, "pause", "30"));
            pc.cool_below_c = atof(value_or(t, "cool_below", "0"));
            pc.cool_max_wait_s = atof(value_or(t, "cool_max_wait", "300"));
            cJSON_AddNumberToObject(sys, "pause_before_s", eb_cool_down(&pc));
        }
        size_t n_group = group_size(plan, i, done, rs, host);
        char pairs[1024] = "";
        for (size_t k = 0; n_group > 1 && k < n_group; k++) {
            const eb_trial *m = &plan->trials[i + k];
            long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
            size_t len = strlen(pairs);
            snprintf(pairs + len, sizeof pairs - len, "%s%ld:%ld", k ? "," : "",
                     eb_trial_get(m, "threads") ? atol(eb_trial_get(m, "threads")) : ncpu,
                     eb_trial_get(m, "threads_prefill") ? atol(eb_trial_get(m, "threads_prefill"))
                                                        : ncpu);
        }
        trial_outcome out = {0};
        time_t started = time(NULL);
        if (knobs_ok && !stop_signal)
            run_trial(self, t, tmpdir, atof(value_or(t, "timeout", "3600")) * (double)n_group,
                      strcmp(value_or(t, "keep_timeline", "off"), "on") == 0,
                      n_group > 1 ? pairs : NULL, have_ceilings ? ceilings : NULL, &out);
        else if (!knobs_ok)
            snprintf(out.reason, sizeof out.reason, "%s", why);
        if (out.interrupted || (stop_signal && knobs_ok && !out.ok)) {
            cJSON_Delete(sys);
            cJSON_Delete(out.result);
            break; /* not recorded: --resume runs it again */
        }
        spent += eb_now() - t_trial;
        ran += n_group;
        int n_results = out.result ? cJSON_GetArraySize(out.result) : 0;
        if (n_group > 1) cJSON_AddNumberToObject(sys, "model_loaded_once_for", (double)n_group);
        for (size_t k = 0; k < n_group; k++) {
            const eb_trial *m = &plan->trials[i + k];
            cJSON *result = k < (size_t)n_results ? cJSON_DetachItemFromArray(out.result, 0) : NULL;
            /* in a group, a configuration that gave its result before the
             * process failed is complete */
            bool ok = result && (out.ok || (int)k < n_results - 1);
            const char *reason = ok              ? NULL
                                 : out.reason[0] ? out.reason
                                                 : "not run: an earlier trial of its group failed";
            cJSON *rec =
                trial_record(plan, m, started, ok, reason, out.seconds / (double)n_group,
                             k + 1 < n_group ? cJSON_Duplicate(sys, 1) : sys, &device, result);
            bool journaled = append_record(fd, rec);
            if (!journaled)
                fprintf(stderr, "\nedgebench sweep: io_error: results %s: %s\n", results,
                        strerror(errno));
            cli_stored stored = cli_store_put(&cs, rec, o->quiet);
            if (stored != CLI_STORED && journaled && !store_warned) {
                store_warned = true;
                fprintf(stderr,
                        "edgebench sweep: the journal %s holds every record; 'edgebench import "
                        "%s' stores them when the store works again\n",
                        results, results);
            }
            cJSON_Delete(rec);
            if (!journaled && stored != CLI_STORED) {
                /* neither journal nor store takes records: stop rather than lose them */
                code = EXIT_FAILURE_RUN;
                break;
            }
            ok ? n_ok++ : n_failed++;
            if (!ok && !o->quiet)
                fprintf(stderr, "%sedgebench sweep: trial %zu failed: %s\n", tty ? "\n" : "",
                        m->index + 1, reason);
        }
        cJSON_Delete(out.result);
        if (code != EXIT_OK) break;
        i += n_group - 1;
    }
    if (tty && !o->quiet) fputc('\n', stderr);
    sweep_knobs_end(&knobs);
    close(fd);
    size_t n_stored = cs.n_stored;
    char store_name[1024];
    eb_store_redact(cs.spec, store_name, sizeof store_name);
    cli_store_end(&cs);
    char rm[1100];
    snprintf(rm, sizeof rm, "%s/trial.json", tmpdir);
    unlink(rm);
    snprintf(rm, sizeof rm, "%s/trial.err", tmpdir);
    unlink(rm);
    unlink(ceilings);
    rmdir(tmpdir);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    char total[32];
    fmt_duration(eb_now() - t_start, total, sizeof total);
    fprintf(stderr,
            "edgebench sweep: %zu ok, %zu failed, %zu already done, %zu not run; %s; %zu stored "
            "in %s, journal %s\n",
            n_ok, n_failed, skipped, plan->n_trials - n_ok - n_failed - skipped, total, n_stored,
            store_name, results);
    free(done);
    if (stop_signal) {
        fprintf(stderr, "edgebench sweep: interrupted; '--resume' runs the rest\n");
        return 128 + (int)stop_signal;
    }
    return code != EXIT_OK ? code : n_failed ? EXIT_FAILURE_RUN : EXIT_OK;
}
