/* Files into the store: llama-bench's JSON or JSON lines, and edgebench's
 * own records (a fallback file, a sweep's JSONL, a run's JSON). A record
 * already stored is not stored twice, so importing a file again is safe. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgebench/util.h"
#include "edgebench/params.h"
#include "edgebench/plan.h"
#include "edgebench/sweep.h"
#include "store_impl.h"
#include "store_settings.h"

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void copy_num(cJSON *to, const char *to_key, const cJSON *from, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, key);
    if (cJSON_IsNumber(v)) cJSON_AddNumberToObject(to, to_key, v->valuedouble);
}

/* llama-bench's settings in edgebench's terms, each by its row in the
 * parameter table (lb_field, lb_values, lb_unset); use_mmap, which
 * llama-bench had before load_mode, as mmap/none. */
static eb_status lb_settings(cJSON *cfg, const cJSON *row, eb_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, "use_mmap");
    if (!cJSON_GetObjectItemCaseSensitive(row, "load_mode") && cJSON_IsBool(v))
        cJSON_AddStringToObject(cfg, "load_mode", cJSON_IsTrue(v) ? "mmap" : "none");
    return eb_store_lb_settings(cfg, row, err);
}

/* A llama-bench row's configuration by plan key: the model, the test's
 * tokens and threads, and the stored settings it gives (cfg, in edgebench's
 * terms already). */
static void trial_values(eb_trial *t, const cJSON *row, const cJSON *cfg)
{
    eb_error err = {0};
    char num[32];
    eb_trial_set(t, "model", str(row, "model_filename"), &err);
    static const char *const tests[][2] = {{"n_prompt", "n_prompt"},
                                           {"n_gen", "n_gen"},
                                           {"threads", "n_threads"},
                                           {"threads_prefill", "n_threads"}};
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, tests[i][1]);
        if (!cJSON_IsNumber(v)) continue;
        eb_format_double(num, sizeof num, v->valuedouble);
        eb_trial_set(t, tests[i][0], num, &err);
    }
    const eb_param *rows[EB_PARAM_MAX];
    size_t n = eb_stored_settings(rows, EB_PARAM_MAX);
    for (size_t i = 0; i < n && i < EB_PARAM_MAX; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, eb_setting_json(rows[i]));
        if (!rows[i]->lb_field || !v || eb_trial_get(t, rows[i]->key)) continue;
        if (cJSON_IsString(v))
            eb_trial_set(t, rows[i]->key, v->valuestring, &err);
        else if (cJSON_IsBool(v))
            eb_trial_set(t, rows[i]->key, cJSON_IsTrue(v) ? "on" : "off", &err);
        else if (cJSON_IsNumber(v)) {
            eb_format_double(num, sizeof num, v->valuedouble);
            eb_trial_set(t, rows[i]->key, num, &err);
        }
    }
}

/* One llama-bench row (one test) as an edgebench record. */
static cJSON *from_llama_bench(const cJSON *row, eb_error *err)
{
    /* what llama-bench tells beyond the trial: device, build, model, tests */
    cJSON *rec = cJSON_CreateObject();

    cJSON *dev = cJSON_AddObjectToObject(rec, "device");
    cJSON_AddStringToObject(dev, "hostname", "");
    cJSON_AddStringToObject(dev, "cpu_model", str(row, "cpu_info"));
    cJSON_AddStringToObject(dev, "gpu", str(row, "gpu_info"));

    cJSON *b = cJSON_AddObjectToObject(rec, "build");
    cJSON_AddStringToObject(b, "edgebench_version", "");
    cJSON_AddStringToObject(b, "engine", "llama.cpp (llama-bench)");
    char ver[128];
    snprintf(ver, sizeof ver, "%s (build %.0f)", str(row, "build_commit"),
             num(row, "build_number"));
    cJSON_AddStringToObject(b, "engine_version", ver);
    cJSON_AddStringToObject(b, "engine_commit", str(row, "build_commit"));
    cJSON_AddStringToObject(b, "backend", str(row, "backends"));

    cJSON *m = cJSON_AddObjectToObject(rec, "model");
    const char *path = str(row, "model_filename"), *type = str(row, "model_type");
    const char *base = strrchr(path, '/');
    cJSON_AddStringToObject(m, "path", path);
    cJSON_AddStringToObject(m, "name", base ? base + 1 : path);
    cJSON_AddStringToObject(m, "description", type);
    /* "llama 8B Q4_0": the last word is the weight type */
    const char *sp = strrchr(type, ' ');
    cJSON_AddStringToObject(m, "quant", sp ? sp + 1 : "");
    copy_num(m, "weights_size_bytes", row, "model_size");
    copy_num(m, "n_params", row, "model_n_params");

    double np = num(row, "n_prompt"), ng = num(row, "n_gen");
    cJSON *res = cJSON_CreateObject();
    cJSON *cfg = cJSON_AddObjectToObject(res, "config");
    cJSON_AddNumberToObject(cfg, "n_prompt", np);
    cJSON_AddNumberToObject(cfg, "n_gen", ng);
    copy_num(cfg, "threads_prefill", row, "n_threads");
    copy_num(cfg, "threads_gen", row, "n_threads");
    if (lb_settings(cfg, row, err) != EB_OK) {
        cJSON_Delete(rec);
        cJSON_Delete(res);
        return NULL;
    }
    cJSON *reps = cJSON_AddArrayToObject(res, "reps");
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(row, "samples_ns");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(row, "samples_ts");
    int n = cJSON_GetArraySize(ns);
    for (int i = 0; i < n; i++) {
        double s = cJSON_GetArrayItem(ns, i)->valuedouble / 1e9;
        const cJSON *t = cJSON_GetArrayItem(ts, i);
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "index", i);
        cJSON_AddBoolToObject(r, "warmup", 0);
        cJSON_AddNumberToObject(r, "n_prompt", np);
        cJSON_AddNumberToObject(r, "n_gen", ng);
        bool pp = ng == 0, tg = np == 0;
        cJSON_AddNumberToObject(r, pp ? "prefill_s" : tg ? "gen_s" : "e2e_s", s);
        if ((pp || tg) && cJSON_IsNumber(t))
            cJSON_AddNumberToObject(r, pp ? "prefill_tps" : "gen_tps", t->valuedouble);
        cJSON_AddItemToArray(reps, r);
    }
    cJSON *tests = cJSON_AddArrayToObject(rec, "llama_bench_tests");
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "test", ng == 0 ? "pp" : np == 0 ? "tg" : "pg");
    static const char *const keys[] = {"n_prompt", "n_gen",     "n_depth", "n_threads",
                                       "avg_ns",   "stddev_ns", "avg_ts",  "stddev_ts"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        copy_num(t, keys[i], row, keys[i]);
    if (ns) cJSON_AddItemToObject(t, "samples_ns", cJSON_Duplicate(ns, 1));
    if (ts) cJSON_AddItemToObject(t, "samples_ts", cJSON_Duplicate(ts, 1));
    cJSON_AddItemToArray(tests, t);
    cJSON_AddItemToObject(rec, "llama_bench", cJSON_Duplicate(row, 1));
    /* the row as a trial, keyed as a sweep's trial of the same configuration */
    eb_trial trial;
    eb_trial_init(&trial, NULL);
    trial_values(&trial, row, cfg);
    const eb_record_from from = {.source = "llama-bench"};
    cJSON *out =
        eb_record_build(&from, &trial, str(row, "test_time"), true, NULL, NAN, NULL, NULL, res);
    eb_trial_clear(&trial);
    cJSON *part;
    while ((part = rec->child) != NULL) {
        char *name = strdup(part->string);
        cJSON_AddItemToObject(out, name, cJSON_DetachItemViaPointer(rec, part));
        free(name);
    }
    cJSON_Delete(rec);
    return out;
}

/* Any object the importer knows, as a record; NULL when it is none (or
 * with err set, when it is one with a bad value). */
static cJSON *as_record(const cJSON *o, eb_error *err)
{
    if (!cJSON_IsObject(o)) return NULL;
    if (cJSON_GetObjectItemCaseSensitive(o, "avg_ns") &&
        cJSON_GetObjectItemCaseSensitive(o, "model_filename"))
        return from_llama_bench(o, err);
    if (cJSON_GetObjectItemCaseSensitive(o, "status") &&
        cJSON_GetObjectItemCaseSensitive(o, "result"))
        return cJSON_Duplicate(o, 1);
    if (cJSON_GetObjectItemCaseSensitive(o, "reps") &&
        cJSON_GetObjectItemCaseSensitive(o, "engine")) {
        /* a run's (or a perplexity run's) own --format json */
        cJSON *rec = cJSON_CreateObject();
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
        bool ppl = cJSON_IsString(kind) && strcmp(kind->valuestring, "perplexity") == 0;
        if (ppl) cJSON_AddStringToObject(rec, "kind", "perplexity");
        cJSON_AddStringToObject(rec, "source", ppl ? "ppl" : "run");
        /* a run that stopped early says so in its own output */
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(o, "status");
        const cJSON *failure = cJSON_GetObjectItemCaseSensitive(o, "failure");
        bool failed = cJSON_IsString(status) && strcmp(status->valuestring, "failed") == 0;
        cJSON_AddStringToObject(rec, "status", failed ? "failed" : "ok");
        if (failed)
            cJSON_AddStringToObject(rec, "reason",
                                    cJSON_IsString(failure) ? failure->valuestring : "not given");
        cJSON_AddItemToObject(rec, "result", cJSON_Duplicate(o, 1));
        return rec;
    }
    return NULL;
}

/* Whether a record with this canonical text is already stored: by its
 * content hash (an index) from schema 6 on. */
static eb_status already_stored(eb_store *s, bool quality, const char *canon, bool *seen,
                                eb_error *err)
{
    long long n = 0;
    eb_status st;
    if (s->version >= 6) {
        char hex[65];
        eb_sha256_text(canon, strlen(canon), hex);
        const char *p[] = {hex};
        st = eb_sq_id(s,
                      quality ? "SELECT count(*) FROM quality WHERE record_hash = $1"
                              : "SELECT count(*) FROM trials WHERE record_hash = $1",
                      1, p, &n, err);
    } else {
        const char *p[] = {canon};
        st = eb_sq_id(s,
                      quality ? "SELECT count(*) FROM quality WHERE record_json = $1"
                              : "SELECT count(*) FROM trials WHERE record_json = $1",
                      1, p, &n, err);
    }
    *seen = n > 0;
    return st;
}

/* *refused: the record was refused before the store saw it (the import
 * may go on past it). */
static eb_status import_one(eb_store *s, const cJSON *o, const char *where, size_t *n,
                            bool *refused, eb_error *err)
{
    eb_error bad = {0};
    cJSON *rec = as_record(o, &bad);
    *refused = rec == NULL;
    if (!rec && bad.status != EB_OK) return eb_fail(err, bad.status, "%s: %s", where, bad.msg);
    if (!rec)
        return eb_fail(err, EB_E_INVALID_ARG,
                       "%s: neither a llama-bench result nor an edgebench record", where);
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(rec, "kind");
    bool quality = cJSON_IsString(kind) && strcmp(kind->valuestring, "perplexity") == 0;
    if (quality && s->version < 3) {
        cJSON_Delete(rec);
        return eb_fail(err, EB_E_UNSUPPORTED, "%s: store %s (schema %d) has no quality table",
                       where, s->name, s->version);
    }
    /* the same record imported again is skipped; it is stored without its
     * timeline, which has a table of its own */
    cJSON *result = cJSON_GetObjectItemCaseSensitive(rec, "result");
    cJSON *tl = cJSON_IsObject(result) ? cJSON_DetachItemFromObject(result, "timeline") : NULL;
    char *canon = cJSON_PrintUnformatted(rec);
    if (tl) cJSON_AddItemToObject(result, "timeline", tl);
    bool seen = false;
    eb_status st = canon ? already_stored(s, quality, canon, &seen, err)
                         : eb_fail(err, EB_E_NO_MEMORY, "import: out of memory");
    free(canon);
    if (st == EB_OK && !seen) {
        st = eb_store_put_json(s, rec, NULL, err);
        if (st == EB_OK) (*n)++;
    }
    cJSON_Delete(rec);
    return st;
}

/* A file that is one JSON value (llama-bench's array, a run's pretty JSON):
 * read whole, as its records come whole. */
static eb_status import_whole(eb_store *s, const char *path, size_t *n, eb_error *err)
{
    eb_error rerr = {0};
    char *all = eb_read_file(path, &rerr);
    if (!all) return eb_fail(err, EB_E_IO, "import %s", rerr.msg);
    cJSON *whole = cJSON_ParseWithOpts(all, NULL, 1);
    free(all);
    char where[1100];
    eb_status st = EB_OK;
    if (cJSON_IsArray(whole)) {
        const cJSON *o;
        int i = 0;
        cJSON_ArrayForEach(o, whole)
        {
            snprintf(where, sizeof where, "%s: element %d", path, ++i);
            bool refused;
            if ((st = import_one(s, o, where, n, &refused, err)) != EB_OK) break;
        }
    } else if (cJSON_IsObject(whole)) {
        snprintf(where, sizeof where, "%s", path);
        bool refused;
        st = import_one(s, whole, where, n, &refused, err);
    } else {
        st = eb_fail(err, EB_E_INVALID_ARG, "%s: not JSON, JSON lines or a llama-bench result",
                     path);
    }
    cJSON_Delete(whole);
    return st;
}

/* Records per committed batch, and the longest a batch stays open: short
 * enough that a sweep writing the same SQLite store waits little. */
#define IMPORT_BATCH_RECORDS 200
#define IMPORT_BATCH_SECONDS 0.5

eb_status eb_store_import_with(eb_store *s, const char *path, const eb_import_opts *opts,
                               size_t *n_trials, eb_error *err)
{
    const eb_import_opts none = {0};
    if (!opts) opts = &none;
    eb_import_progress_fn fn = opts->progress;
    void *user = opts->user;
    eb_error first_bad = {0};
    size_t n = 0;
    if (n_trials) *n_trials = 0;
    FILE *f = fopen(path, "r");
    if (!f) return eb_fail(err, EB_E_IO, "import %s: %s", path, strerror(errno));
    eb_import_progress pr = {0};
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0) pr.bytes_total = (uint64_t)sb.st_size;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int line_no = 0;
    /* JSON lines when the first line that is not blank is a whole object */
    while ((len = getline(&line, &cap, f)) > 0 && strspn(line, " \t\r\n") == (size_t)len)
        line_no++;
    cJSON *first = len > 0 && line[strspn(line, " \t")] == '{' ? cJSON_Parse(line) : NULL;
    if (!first) {
        free(line);
        fclose(f);
        eb_status st = import_whole(s, path, &n, err);
        if (n_trials) *n_trials = n;
        return st;
    }
    double t0 = eb_now(), t_batch = t0;
    size_t in_batch = 0;
    eb_status st = eb_store_batch_begin(s, err);
    char where[1100];
    for (cJSON *o = first; st == EB_OK && len > 0; len = getline(&line, &cap, f)) {
        line_no++;
        pr.bytes_done += (uint64_t)len;
        if (!o && strspn(line, " \t\r\n") == (size_t)len) continue;
        if (!o) o = cJSON_Parse(line);
        snprintf(where, sizeof where, "%s:%d", path, line_no);
        eb_error line_err = {0};
        bool refused = o == NULL;
        size_t before = n;
        if (!o)
            eb_fail(&line_err, EB_E_INVALID_ARG, "%s: not valid JSON", where);
        else
            st = import_one(s, o, where, &n, &refused, &line_err);
        cJSON_Delete(o);
        o = NULL;
        pr.records++;
        if (refused) {
            /* no record, and the store never saw it: told, left out */
            st = EB_OK;
            pr.refused++;
            if (opts->bad_line) opts->bad_line(user, where, line_err.msg + strlen(where) + 2);
            if (first_bad.status == EB_OK) first_bad = line_err;
            if (opts->strict) break;
            continue;
        }
        if (st != EB_OK) *err = line_err;
        in_batch += n - before;
        if (st == EB_OK &&
            (in_batch >= IMPORT_BATCH_RECORDS || eb_now() - t_batch >= IMPORT_BATCH_SECONDS)) {
            st = eb_store_batch_end(s, err);
            if (st == EB_OK) {
                in_batch = 0;
                t_batch = eb_now();
                pr.stored = n;
                pr.elapsed_s = t_batch - t0;
                if (fn) fn(user, &pr);
                st = eb_store_batch_begin(s, err);
            }
        }
    }
    if (s->in_batch) {
        /* what was stored before a failing record is kept */
        eb_error e2 = {0};
        eb_status end = eb_store_batch_end(s, st == EB_OK ? err : &e2);
        if (end != EB_OK) {
            n -= in_batch;
            if (st == EB_OK) st = end;
        }
    }
    pr.stored = n;
    pr.elapsed_s = eb_now() - t0;
    if (fn && st == EB_OK) fn(user, &pr);
    free(line);
    fclose(f);
    if (n_trials) *n_trials = n;
    if (st == EB_OK && first_bad.status != EB_OK)
        st = eb_fail(err, EB_E_INVALID_ARG, "%s: %zu line%s left out (%s)%s; %zu record%s stored",
                     path, pr.refused, pr.refused == 1 ? "" : "s", first_bad.msg,
                     opts->strict ? ", the import stopped there (--strict)" : ", the rest imported",
                     n, n == 1 ? "" : "s");
    return st;
}

eb_status eb_store_import_progress(eb_store *s, const char *path, eb_import_progress_fn fn,
                                   void *user, size_t *n_trials, eb_error *err)
{
    const eb_import_opts o = {.progress = fn, .user = user};
    return eb_store_import_with(s, path, &o, n_trials, err);
}

eb_status eb_store_import(eb_store *s, const char *path, size_t *n_trials, eb_error *err)
{
    return eb_store_import_progress(s, path, NULL, NULL, n_trials, err);
}

eb_status eb_fallback_append(const char *path, const char *record_json, eb_error *err)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return eb_fail(err, EB_E_IO, "fallback %s: %s", path, strerror(errno));
    size_t len = strlen(record_json);
    char *line = malloc(len + 2);
    if (!line) {
        close(fd);
        return eb_fail(err, EB_E_NO_MEMORY, "fallback: out of memory");
    }
    memcpy(line, record_json, len);
    line[len] = '\n';
    line[len + 1] = '\0';
    /* one write: a line is whole or, after a crash, detectably cut */
    ssize_t w = write(fd, line, len + 1);
    free(line);
    int ok = w == (ssize_t)(len + 1) && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    return ok ? EB_OK : eb_fail(err, EB_E_IO, "fallback %s: %s", path, strerror(saved));
}
