/* edgebench agent: a device of a fleet. It registers (its facts and tags),
 * claims the next trial meant for it, runs it exactly as a sweep runs a
 * trial (its own process, knobs set and restored, timeout), heartbeats its
 * lease meanwhile, and stores the result with the claim's completion in one
 * transaction. With the database away, finished records wait in a local
 * file and go in, once, when it is back. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "edgebench/fleet.h"
#include "edgebench/knobs.h"
#include "edgebench/params.h"
#include "edgebench/sweep.h"
#include "edgebench/sysinfo.h"
#include "edgebench/util.h"
#include "sweep_exec.h"

typedef struct agent_opts {
    const char *spec, *root, *name, *journal, *pending;
    char tags[512];
    bool once, quiet;
    int lease_s;
} agent_opts;

#define A(f) offsetof(agent_opts, f)
/* agent's own options; the store, root and quiet are the table's */
static const eb_param own_rows[] = {
    {.key = "tag",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "tag",
     .max = sizeof(((agent_opts *)0)->tags),
     .field = EB_FK_APPEND,
     .offset = A(tags),
     .metavar = "T",
     .help = "a tag of this device (a plan's --devices tag=T picks it); given again, another"},
    {.key = "once",
     .scope = EB_PS_CLI,
     .type = EB_PT_BOOL,
     .flag = "once",
     .field = EB_FK_BOOL,
     .offset = A(once),
     .help = "exit when nothing is left for this device (a trial leased by another agent "
             "counts until it completes or its lease expires)"},
    {.key = "lease",
     .scope = EB_PS_CLI,
     .type = EB_PT_INT,
     .flag = "lease",
     .min = 3,
     .max = 86400,
     .def = "60",
     .field = EB_FK_INT,
     .offset = A(lease_s),
     .unit = "s",
     .metavar = "S",
     .help = "a claim not heartbeated for S seconds goes back to the queue"},
    {.key = "name",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "name",
     .def_doc = "its hostname",
     .field = EB_FK_STR,
     .offset = A(name),
     .metavar = "NAME",
     .help = "the device's name in the fleet"},
    {.key = "journal",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "journal",
     .def = "edgebench-agent.jsonl",
     .field = EB_FK_STR,
     .offset = A(journal),
     .metavar = "FILE",
     .help = "every record, as a sweep's journal; records the store could not take wait in "
             "FILE.pending and go in when it is back"},
};
#undef A

static void usage(FILE *f, const eb_cmd_rows *own)
{
    fputs("usage: edgebench agent --store postgresql://... [options]\n"
          "Registers this device (its facts and tags) and runs the fleet's trials meant for\n"
          "it, one at a time, as 'sweep' runs a trial.\n\n",
          f);
    eb_cmd_help(EB_CMD_AGENT, own, f);
}

/* ---- the heartbeat: its own connection, beside the trial ---- */

typedef struct heartbeat {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, lost;
    const agent_opts *o;
    const eb_fleet_item *item;
} heartbeat;

static void *beat(void *arg)
{
    heartbeat *h = arg;
    eb_store *s = NULL;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += h->o->lease_s / 3 > 0 ? h->o->lease_s / 3 : 1;
        pthread_cond_timedwait(&h->cv, &h->mu, &ts);
        if (h->stop) break;
        pthread_mutex_unlock(&h->mu);
        eb_error err = {0};
        bool held = true;
        if (!s && eb_store_open(h->o->spec, &s, &err) != EB_OK) s = NULL;
        if (s && eb_fleet_heartbeat(s, h->item, h->o->lease_s, &held, &err) != EB_OK) {
            eb_store_close(s); /* the database away: tried again next beat */
            s = NULL;
        }
        pthread_mutex_lock(&h->mu);
        if (!held) h->lost = true;
    }
    pthread_mutex_unlock(&h->mu);
    eb_store_close(s);
    return NULL;
}

static void beat_start(heartbeat *h, const agent_opts *o, const eb_fleet_item *item)
{
    memset(h, 0, sizeof *h);
    h->o = o;
    h->item = item;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    pthread_create(&h->thread, NULL, beat, h);
}

static bool beat_stop(heartbeat *h)
{
    pthread_mutex_lock(&h->mu);
    h->stop = true;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    return !h->lost;
}

/* ---- records that wait for the store ---- */

static void pending_add(const agent_opts *o, const eb_fleet_item *item, bool ok, const char *reason,
                        cJSON *rec)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "item", (double)item->id);
    cJSON_AddStringToObject(p, "token", item->token);
    cJSON_AddNumberToObject(p, "attempts", item->attempts);
    cJSON_AddNumberToObject(p, "retry_limit", item->retry_limit);
    cJSON_AddBoolToObject(p, "ok", ok);
    if (reason) cJSON_AddStringToObject(p, "reason", reason);
    cJSON_AddItemReferenceToObject(p, "record", rec);
    int fd = open(o->pending, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || !eb_journal_append(fd, p))
        fprintf(stderr, "edgebench agent: io_error: %s: %s\n", o->pending, strerror(errno));
    if (fd >= 0) close(fd);
    cJSON_Delete(p);
}

/* Sends what waits; false when the store is still away (all kept). */
static bool pending_flush(const agent_opts *o, eb_store *s)
{
    char *text = eb_read_file(o->pending, NULL);
    if (!text) return true;
    bool all = true;
    char keep[1100];
    snprintf(keep, sizeof keep, "%s.tmp", o->pending);
    FILE *rest = fopen(keep, "w");
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        cJSON *p = cJSON_Parse(l);
        if (!p) continue;
        eb_fleet_item item = {0};
        const cJSON *v;
        item.id = (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "item"));
        if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(p, "token")))
            snprintf(item.token, sizeof item.token, "%s", v->valuestring);
        item.attempts = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "attempts"));
        item.retry_limit =
            (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "retry_limit"));
        bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "ok")), accepted = false;
        const char *reason = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "reason"));
        eb_error err = {0};
        if (all && eb_fleet_complete(s, &item, cJSON_GetObjectItemCaseSensitive(p, "record"), ok,
                                     reason, &accepted, &err) == EB_OK) {
            if (!o->quiet)
                fprintf(stderr, "edgebench agent: a waiting record of trial item %lld %s\n",
                        item.id,
                        accepted ? "is stored"
                                 : "was not taken: another agent has the trial since (it stays "
                                   "in the journal)");
        } else {
            all = false;
            if (rest) fprintf(rest, "%s\n", l);
        }
        cJSON_Delete(p);
    }
    free(text);
    if (rest) fclose(rest);
    if (rename(keep, o->pending) != 0) unlink(keep);
    if (all) unlink(o->pending);
    return all;
}

/* ---- one claimed trial ---- */

static void trial_of(const eb_fleet_item *item, eb_trial *t)
{
    memset(t, 0, sizeof *t);
    t->index = (size_t)item->idx;
    t->section = item->section;
    snprintf(t->key_hex, sizeof t->key_hex, "%s", item->trial_key);
    const cJSON *v;
    cJSON_ArrayForEach(v, item->config)
    {
        const eb_param *p = eb_param_find(v->string);
        if (p && cJSON_IsString(v)) t->value[eb_param_index(p)] = v->valuestring;
    }
}

static volatile sig_atomic_t agent_stop;
static void on_signal(int sig)
{
    agent_stop = sig;
    sweep_stop(sig);
}

/* The fleet's own cost: time in claiming and completing, per trial. */
static double fleet_s;
static size_t fleet_trials_run;

static int run_claimed(const agent_opts *o, eb_store **sp, eb_knob_session *knobs, const char *self,
                       const char *tmpdir, const eb_device_info *dev, int journal_fd,
                       eb_fleet_item *item)
{
    eb_trial t;
    trial_of(item, &t);
    if (!o->quiet)
        fprintf(stderr, "edgebench agent: plan %s trial %d (attempt %d of %d)\n", item->plan_name,
                item->idx + 1, item->attempts, item->retry_limit);
    cJSON *sys = cJSON_CreateObject();
    char why[512] = "";
    heartbeat hb;
    beat_start(&hb, o, item);
    bool knobs_ok = eb_knob_session_apply(knobs, &t, sys, why, sizeof why);
    if (knobs_ok && fleet_trials_run > 0) {
        /* the pause before a trial, as a sweep has it (the study's 30 s) */
        eb_run_config pc;
        eb_run_config_defaults(&pc);
        pc.root = o->root;
        pc.pause_s = atof(eb_trial_value(&t, "pause"));
        pc.cool_below_c =
            eb_trial_value(&t, "cool_below") ? atof(eb_trial_value(&t, "cool_below")) : 0;
        pc.cool_max_wait_s = atof(eb_trial_value(&t, "cool_max_wait"));
        cJSON_AddNumberToObject(sys, "pause_before_s", eb_cool_down(&pc));
    }
    fleet_trials_run++;
    trial_outcome out = {0};
    time_t started = time(NULL);
    if (knobs_ok)
        sweep_run_trial(self, &t, tmpdir, atof(eb_trial_value(&t, "timeout")), NULL, NULL, &out);
    else
        snprintf(out.reason, sizeof out.reason, "%s", why);
    bool held = beat_stop(&hb);
    if (out.interrupted) {
        cJSON_Delete(sys);
        cJSON_Delete(out.result);
        return 0; /* not recorded: its lease expires and it runs again */
    }
    char plan_name[300], ts[32];
    snprintf(plan_name, sizeof plan_name, "fleet:%s", item->plan_name);
    eb_utc_iso8601(started, ts, sizeof ts);
    cJSON *result = out.result ? cJSON_DetachItemFromArray(out.result, 0) : NULL;
    cJSON_Delete(out.result);
    bool ok = out.ok && result;
    const eb_record_from from = {.source = "fleet", .plan = plan_name, .indexed = true};
    cJSON *rec = eb_record_build(&from, &t, ts, ok, ok ? NULL : out.reason, out.seconds,
                                 sys ? sys : cJSON_CreateObject(), dev, result);
    cJSON *fl = cJSON_AddObjectToObject(rec, "fleet");
    cJSON_AddStringToObject(fl, "plan", item->plan_name);
    cJSON_AddNumberToObject(fl, "item", (double)item->id);
    cJSON_AddNumberToObject(fl, "attempt", item->attempts);
    cJSON_AddStringToObject(fl, "device", o->name);
    if (journal_fd >= 0) eb_journal_append(journal_fd, rec);
    bool accepted = false;
    eb_error err = {0};
    double t_complete = eb_now();
    eb_status st =
        *sp ? eb_fleet_complete(*sp, item, rec, ok, ok ? NULL : out.reason, &accepted, &err)
            : EB_E_IO;
    fleet_s += eb_now() - t_complete;
    if (st != EB_OK) {
        /* the database away: the record waits, the agent reconnects */
        if (!o->quiet)
            fprintf(stderr, "edgebench agent: %s; the record waits in %s\n",
                    *sp ? err.msg : "the store is away", o->pending);
        pending_add(o, item, ok, ok ? NULL : out.reason, rec);
        eb_store_close(*sp);
        *sp = NULL;
    } else if (!accepted && !o->quiet) {
        fprintf(stderr,
                "edgebench agent: trial item %lld: the lease went to another agent%s; this "
                "record stays in the journal only\n",
                item->id, held ? "" : " while it ran (no heartbeat reached the store)");
    } else if (!o->quiet) {
        fprintf(stderr, "edgebench agent: trial item %lld %s\n", item->id,
                ok                                    ? "done"
                : item->attempts >= item->retry_limit ? "failed (no retries left)"
                                                      : "failed; queued again");
    }
    cJSON_Delete(rec);
    return 1;
}

static int parse(int argc, char **argv, agent_opts *o)
{
    eb_cmd_rows own = {own_rows, sizeof own_rows / sizeof own_rows[0], o, NULL, NULL, 0, 0};
    eb_run_options ro;
    int code = cli_parse(EB_CMD_AGENT, "agent", &own, argc, argv, &ro, usage);
    if (code != EXIT_OK) return code;
    o->spec = ro.store;
    o->root = ro.cfg.root;
    o->quiet = ro.quiet;
    if (!o->spec) o->spec = getenv("EDGEBENCH_STORE");
    if (!o->spec || !o->spec[0]) {
        cli_usage_error("agent", "--store postgresql://... is needed");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cmd_agent(int argc, char **argv)
{
    agent_opts o = {0};
    int code = parse(argc, argv, &o);
    if (code != EXIT_OK) return code < 0 ? EXIT_OK : code;
    char pending[1100], self[1024], tmpdir[] = "/tmp/edgebench-agent-XXXXXX";
    snprintf(pending, sizeof pending, "%s.pending", o.journal);
    o.pending = pending;
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0 || !mkdtemp(tmpdir)) {
        fprintf(stderr, "edgebench agent: io_error: %s\n", strerror(errno));
        return EXIT_FAILURE_RUN;
    }
    self[sl] = '\0';
    eb_device_info dev;
    eb_device_info_read(o.root, &dev);
    if (!o.name) o.name = dev.hostname[0] ? dev.hostname : "device";
    cJSON *facts = eb_device_info_to_json(&dev);
    char *facts_text = cJSON_PrintUnformatted(facts);
    eb_error err = {0};
    eb_knob_session knobs;
    char state[1200];
    snprintf(state, sizeof state, "%s.state", o.journal);
    bool restored = false;
    if (eb_knob_session_begin(&knobs, o.root, state, &restored, &err) != EB_OK) {
        free(facts_text);
        cJSON_Delete(facts);
        return cli_report("agent", &err);
    }
    int journal_fd = open(o.journal, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    eb_store *s = NULL;
    long long device_id = 0;
    double backoff = 1;
    size_t ran = 0;
    code = EXIT_OK;
    while (!agent_stop) {
        if (!s) {
            /* (re)connect, register, send what waits; else back off */
            if (eb_fleet_open(o.spec, &s, &err) != EB_OK ||
                eb_fleet_register(s, o.name, facts_text, o.tags, &device_id, &err) != EB_OK ||
                !pending_flush(&o, s)) {
                if (s) eb_store_close(s);
                s = NULL;
                if (!o.quiet)
                    fprintf(stderr, "edgebench agent: store away (%s); again in %.0f s\n",
                            err.msg[0] ? err.msg : "waiting records not taken", backoff);
                eb_sleep(backoff);
                backoff = backoff * 2 > 60 ? 60 : backoff * 2;
                continue;
            }
            backoff = 1;
        }
        eb_fleet_item item;
        bool pending_work = false;
        double t_claim = eb_now();
        eb_status cst =
            eb_fleet_claim(s, device_id, facts, o.tags, o.lease_s, &item, &pending_work, &err);
        if (item.id) fleet_s += eb_now() - t_claim;
        if (cst != EB_OK) {
            eb_store_close(s);
            s = NULL;
            continue;
        }
        if (!item.id) {
            if (o.once && !pending_work) break;
            eb_sleep(1);
            continue;
        }
        int r = run_claimed(&o, &s, &knobs, self, tmpdir, &dev, journal_fd, &item);
        cJSON_Delete(item.config);
        if (r < 0) {
            code = EXIT_FAILURE_RUN;
            break;
        }
        ran += (size_t)r;
    }
    /* a last try for what waits, then the device's settings back */
    if (s && access(o.pending, F_OK) == 0) pending_flush(&o, s);
    eb_store_close(s);
    eb_knob_session_end(&knobs, &err);
    if (journal_fd >= 0) close(journal_fd);
    rmdir(tmpdir);
    free(facts_text);
    cJSON_Delete(facts);
    if (!o.quiet || ran) {
        fprintf(stderr, "edgebench agent: %zu trial(s) run; stopping\n", ran);
        if (ran)
            fprintf(stderr, "edgebench agent: claim and complete %.1f ms a trial\n",
                    fleet_s * 1000.0 / (double)ran);
    }
    if (access(o.pending, F_OK) == 0) {
        fprintf(stderr, "edgebench agent: records still wait in %s: the next start sends them\n",
                o.pending);
        if (code == EXIT_OK) code = EXIT_FAILURE_RUN;
    }
    return agent_stop ? 128 + (int)agent_stop : code;
}
