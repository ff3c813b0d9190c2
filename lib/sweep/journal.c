#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgebench/sweep.h"
#include "edgebench/synth.h"
#include "edgebench/util.h"

static bool parse_key(const char *hex, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(hex, &end, 16);
    if (errno || end == hex || *end || strlen(hex) != 16) return false;
    *out = v;
    return true;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

bool eb_keyset_has(const eb_keyset *ks, const char *key_hex)
{
    uint64_t k;
    return ks && ks->n && parse_key(key_hex, &k) &&
           bsearch(&k, ks->keys, ks->n, sizeof k, cmp_u64) != NULL;
}

eb_status eb_keyset_add(eb_keyset *ks, const char *key_hex, eb_error *err)
{
    uint64_t k;
    if (!parse_key(key_hex, &k))
        return eb_fail(err, EB_E_INVALID_ARG, "trial key '%s' is not 16 hex digits", key_hex);
    if (eb_keyset_has(ks, key_hex)) return EB_OK;
    if (ks->n == ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 256;
        uint64_t *nk = realloc(ks->keys, cap * sizeof *nk);
        if (!nk) return eb_fail(err, EB_E_NO_MEMORY, "%zu trial keys", cap);
        ks->keys = nk, ks->cap = cap;
    }
    /* insertion keeps the set sorted; journals are read once per sweep */
    size_t i = ks->n;
    while (i > 0 && ks->keys[i - 1] > k) {
        ks->keys[i] = ks->keys[i - 1];
        i--;
    }
    ks->keys[i] = k;
    ks->n++;
    return EB_OK;
}

void eb_keyset_free(eb_keyset *ks)
{
    free(ks->keys);
    memset(ks, 0, sizeof *ks);
}

eb_status eb_journal_done_keys(const char *path, eb_keyset *ks, size_t *n_lines, eb_error *err)
{
    memset(ks, 0, sizeof *ks);
    *n_lines = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? EB_OK
                               : eb_fail(err, EB_E_IO, "journal %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t lcap = 0;
    eb_status st = EB_OK;
    while (st == EB_OK && getline(&line, &lcap, f) > 0) {
        cJSON *o = cJSON_Parse(line);
        if (!o) continue; /* a line cut short by a crash: that trial runs again */
        (*n_lines)++;
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "trial_key");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "status");
        if (cJSON_IsString(k) && cJSON_IsString(s) && strcmp(s->valuestring, "ok") == 0) {
            eb_error e2 = {0};
            /* a key that is not ours is no completed trial of this plan */
            if (eb_keyset_add(ks, k->valuestring, &e2) == EB_E_NO_MEMORY)
                st = eb_fail(err, EB_E_NO_MEMORY, "journal %s: %s", path, e2.msg);
        }
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
    return st;
}

bool eb_journal_append(int fd, const cJSON *rec)
{
    char *text = cJSON_PrintUnformatted(rec);
    if (!text) return false;
    size_t n = strlen(text);
    text[n] = '\n'; /* over the terminator: written by length */
    bool ok = write(fd, text, n + 1) == (ssize_t)(n + 1) && fsync(fd) == 0;
    free(text);
    return ok;
}

static bool is_thread_key_name(const char *key)
{
    return strcmp(key, "threads") == 0 || strcmp(key, "threads_prefill") == 0;
}

static bool is_thread_key(const eb_param *p)
{
    return is_thread_key_name(p->key);
}

cJSON *eb_trial_config_json(const eb_trial *t)
{
    cJSON *c = cJSON_CreateObject();
    for (size_t k = 0; k < eb_param_count; k++)
        if (t->value[k]) cJSON_AddStringToObject(c, eb_params[k].key, t->value[k]);
    return c;
}

/* A failed trial keeps its whole configuration: every run parameter as the
 * trial ran it (the plan's value, else the default; threads: all online
 * CPUs), and the model it was to run, so that it lists and groups with the
 * trials that worked. */
static cJSON *planned_config(const eb_trial *t, const eb_device_info *device)
{
    cJSON *c = cJSON_CreateObject();
    for (size_t k = 0; k < eb_param_count; k++) {
        const eb_param *p = &eb_params[k];
        if (p->scope != EB_PS_RUN) continue;
        const char *v = eb_trial_value(t, p->key);
        bool b = false;
        char *end = NULL;
        double d = v ? strtod(v, &end) : 0;
        if (v && p->type == EB_PT_BOOL && eb_parse_bool(v, &b)) {
            cJSON_AddBoolToObject(c, p->key, b);
        } else if (v && (p->type == EB_PT_INT || p->type == EB_PT_NUM) && end && end != v &&
                   !*end) {
            cJSON_AddNumberToObject(c, p->key, d);
        } else if (v) {
            cJSON_AddStringToObject(c, p->key, v);
        } else if (is_thread_key_name(p->key) && device && device->n_cpus_online > 0) {
            cJSON_AddNumberToObject(c, p->key, device->n_cpus_online);
        }
    }
    return c;
}

static cJSON *planned_model(const eb_trial *t)
{
    cJSON *m = cJSON_CreateObject();
    const char *path = eb_trial_get(t, "model"), *preset = eb_trial_value(t, "preset");
    const eb_preset *ps = !path && preset ? eb_preset_find(preset) : NULL;
    if (path) {
        const char *base = strrchr(path, '/');
        cJSON_AddStringToObject(m, "path", path);
        cJSON_AddStringToObject(m, "name", base ? base + 1 : path);
        if (eb_trial_get(t, "quant")) cJSON_AddStringToObject(m, "quant", eb_trial_get(t, "quant"));
    } else if (ps) {
        char name[160];
        /* the name the preset's file carries (general.name) */
        snprintf(name, sizeof name, "%s (synthetic, random weights)", ps->display);
        cJSON_AddStringToObject(m, "name", name);
        cJSON_AddStringToObject(m, "quant", eb_trial_value(t, "type"));
        cJSON_AddStringToObject(m, "preset", ps->name);
        cJSON_AddBoolToObject(m, "synthetic", true);
    }
    cJSON_AddBoolToObject(m, "not_loaded", true);
    return m;
}

cJSON *eb_record_build(const eb_record_from *from, const eb_trial *t, const char *started_at,
                       bool ok, const char *reason, double seconds, cJSON *sys,
                       const eb_device_info *device, cJSON *result)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "trial_key", t->key_hex);
    if (from->source) cJSON_AddStringToObject(rec, "source", from->source);
    if (from->indexed) cJSON_AddNumberToObject(rec, "trial_index", (double)t->index);
    if (t->section) cJSON_AddStringToObject(rec, "section", t->section);
    if (from->plan) cJSON_AddStringToObject(rec, "plan", from->plan);
    cJSON_AddItemToObject(rec, "config", eb_trial_config_json(t));
    cJSON_AddStringToObject(rec, "status", ok ? "ok" : "failed");
    if (!ok) cJSON_AddStringToObject(rec, "reason", reason ? reason : "failed");
    cJSON_AddStringToObject(rec, "started_at", started_at ? started_at : "");
    if (isfinite(seconds)) cJSON_AddNumberToObject(rec, "duration_s", seconds);
    if (sys) cJSON_AddItemToObject(rec, "system", sys);
    if (device) cJSON_AddItemToObject(rec, "device", eb_device_info_to_json(device));
    if (!ok) cJSON_AddItemToObject(rec, "planned", planned_config(t, device));
    const cJSON *rm = cJSON_GetObjectItemCaseSensitive(result, "model");
    if (!ok && !cJSON_IsObject(rm)) cJSON_AddItemToObject(rec, "model", planned_model(t));
    if (result)
        cJSON_AddItemToObject(rec, "result", result);
    else
        cJSON_AddNullToObject(rec, "result");
    return rec;
}

cJSON *eb_trial_record(const eb_plan *plan, const eb_trial *t, time_t started, bool ok,
                       const char *reason, double seconds, cJSON *sys, const eb_device_info *device,
                       cJSON *result)
{
    char ts[32];
    eb_utc_iso8601(started, ts, sizeof ts);
    const eb_record_from from = {.plan = plan->path[0] ? plan->path : "command line",
                                 .indexed = true};
    return eb_record_build(&from, t, ts, ok, reason, seconds, sys ? sys : cJSON_CreateObject(),
                           device, result);
}

size_t eb_plan_group_size(const eb_plan *plan, size_t i, size_t max, eb_trial_done_fn done,
                          void *user)
{
    const eb_trial *t = &plan->trials[i];
    if (strcmp(eb_trial_value(t, "isolation"), "model") != 0) return 1;
    size_t n = 1;
    for (size_t j = i + 1; j < plan->n_trials && n < max; j++, n++) {
        const eb_trial *u = &plan->trials[j];
        if (strcmp(t->section, u->section) != 0 || (done && done(user, u))) break;
        bool same = true;
        for (size_t k = 0; k < eb_param_count && same; k++) {
            if (is_thread_key(&eb_params[k])) continue;
            const char *a = t->value[k], *b = u->value[k];
            same = (!a && !b) || (a && b && strcmp(a, b) == 0);
        }
        if (!same) break;
    }
    return n;
}

char **eb_trial_run_args(const eb_trial *t, bool skip_threads, int *argc, eb_error *err)
{
    char **args = calloc(eb_param_count + 1, sizeof *args);
    int n = 0;
    if (!args) goto nomem;
    for (size_t k = 0; k < eb_param_count; k++) {
        const eb_param *p = &eb_params[k];
        if (p->scope != EB_PS_RUN || !p->flag || (skip_threads && is_thread_key(p))) continue;
        /* unset: the sweep's own default where it differs from run's */
        const char *v = t->value[k] ? t->value[k] : p->sweep_def;
        if (!v) continue;
        size_t len = strlen(p->flag) + strlen(v) + 4;
        if (!(args[n] = malloc(len))) goto nomem;
        snprintf(args[n++], len, "--%s=%s", p->flag, v);
    }
    *argc = n;
    return args;
nomem:
    eb_trial_run_args_free(args);
    eb_fail(err, EB_E_NO_MEMORY, "trial arguments");
    return NULL;
}

void eb_trial_run_args_free(char **args)
{
    for (size_t i = 0; args && args[i]; i++)
        free(args[i]);
    free(args);
}
