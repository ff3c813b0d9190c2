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

/* Records per committed batch, and the most line bytes a batch holds in
 * memory. */
#define IMPORT_BATCH_RECORDS 200
#define IMPORT_BATCH_BYTES ((size_t)2 << 20)

/* A record read and checked, waiting for its batch. */
typedef struct pending {
    cJSON *rec;
    bool quality;
    long long device_id;
    char where[1100];
} pending;

/* Any object as a checked record; NULL with err (naming where) when it is
 * none or a field does not fit the schema: refused before a store sees it. */
static cJSON *record_of(const cJSON *o, const char *where, eb_error *err)
{
    eb_error bad = {0};
    cJSON *rec = as_record(o, &bad);
    if (!rec && bad.status != EB_OK) {
        eb_fail(err, bad.status, "%s: %s", where, bad.msg);
        return NULL;
    }
    if (!rec) {
        eb_fail(err, EB_E_INVALID_ARG, "%s: neither a llama-bench result nor an edgebench record",
                where);
        return NULL;
    }
    if (eb_store_check_record(rec, &bad) != EB_OK) {
        eb_fail(err, bad.status, "%s: %s", where, bad.msg);
        cJSON_Delete(rec);
        return NULL;
    }
    return rec;
}

/* The record's canonical text: without its timeline, which has a table of
 * its own (as the trial's record_json is stored). */
static char *canonical(cJSON *rec)
{
    cJSON *result = cJSON_GetObjectItemCaseSensitive(rec, "result");
    cJSON *tl = cJSON_IsObject(result) ? cJSON_DetachItemFromObject(result, "timeline") : NULL;
    char *canon = cJSON_PrintUnformatted(rec);
    if (tl) cJSON_AddItemToObject(result, "timeline", tl);
    return canon;
}

/* A stored trial of the same measurement (trial key, start and device)
 * whose content differs: *other its id, 0 when there is none. */
static eb_status collision(eb_store *s, const pending *p, const char *canon, long long *other,
                           eb_error *err)
{
    *other = 0;
    const char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p->rec, "trial_key"));
    const char *at = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p->rec, "started_at"));
    if (p->quality || s->version < 6 || !key || !key[0] || !at || !at[0]) return EB_OK;
    char hex[65], dev[24];
    eb_sha256_text(canon, strlen(canon), hex);
    snprintf(dev, sizeof dev, "%lld", p->device_id);
    const char *q[] = {key, at, p->device_id ? dev : NULL, hex};
    return eb_sq_id(s,
                    "SELECT min(id) FROM trials WHERE trial_key = $1 AND started_at = $2"
                    " AND device_id IS NOT DISTINCT FROM $3 AND record_hash <> $4",
                    4, q, other, err);
}

typedef struct import_state {
    eb_store *s;
    const eb_import_opts *opts;
    eb_import_progress pr;
    eb_error first_bad;
    double t0;
    pending batch[IMPORT_BATCH_RECORDS];
    size_t n_batch, batch_bytes;
} import_state;

/* A record left out: told, counted; the import goes on (unless strict). */
static void refuse(import_state *im, const eb_error *why, const char *where)
{
    im->pr.refused++;
    if (im->opts->bad_line) {
        size_t wl = strlen(where);
        const char *msg =
            strncmp(why->msg, where, wl) == 0 && why->msg[wl] == ':' ? why->msg + wl + 2 : why->msg;
        im->opts->bad_line(im->opts->user, where, msg);
    }
    if (im->first_bad.status == EB_OK) im->first_bad = *why;
}

/* Stores the waiting records. Their devices, builds and models first, each
 * a statement (a transaction) of its own, so that the batch's transaction
 * then only reads those shared rows and holds no lock another writer can
 * wait for while it waits for ours (two imports adding the same devices
 * in opposite orders deadlocked on PostgreSQL). A failure of the store
 * ends the import, naming the record's line. */
static eb_status flush(import_state *im, eb_error *err)
{
    eb_store *s = im->s;
    eb_status st = EB_OK;
    size_t i = 0, stored = 0;
    for (; st == EB_OK && i < im->n_batch; i++) {
        long long ids[3];
        eb_error e = {0};
        st = eb_store_put_shared(s, im->batch[i].rec, ids, &e);
        im->batch[i].device_id = ids[0];
        if (st != EB_OK) eb_fail(err, st, "%s: %s", im->batch[i].where, e.msg);
    }
    if (st == EB_OK) st = eb_store_batch_begin(s, err);
    for (i = 0; st == EB_OK && i < im->n_batch; i++) {
        pending *p = &im->batch[i];
        if (p->quality && s->version < 3) {
            eb_error e = {0};
            eb_fail(&e, EB_E_UNSUPPORTED, "%s: store %s (schema %d) has no quality table", p->where,
                    s->name, s->version);
            refuse(im, &e, p->where);
            continue;
        }
        char *canon = canonical(p->rec);
        bool seen = false;
        long long other = 0;
        eb_error e = {0};
        st = canon ? already_stored(s, p->quality, canon, &seen, &e)
                   : eb_fail(&e, EB_E_NO_MEMORY, "out of memory");
        if (st == EB_OK && !seen) st = collision(s, p, canon, &other, &e);
        free(canon);
        if (st == EB_OK && seen) {
            im->pr.skipped++;
        } else if (st == EB_OK && other) {
            eb_fail(&e, EB_E_INVALID_ARG,
                    "%s: the same trial (key, start and device) is stored as trial %lld with "
                    "different content: refused",
                    p->where, other);
            refuse(im, &e, p->where);
        } else if (st == EB_OK) {
            st = eb_store_put_json(s, p->rec, NULL, &e);
            if (st == EB_OK) stored++;
        }
        if (st != EB_OK) eb_fail(err, st, "%s: %s", p->where, e.msg);
    }
    if (s->in_batch) {
        /* what was stored before a failing record is kept */
        eb_error e2 = {0};
        eb_status end = eb_store_batch_end(s, st == EB_OK ? err : &e2);
        if (end != EB_OK) {
            stored = 0;
            if (st == EB_OK) st = end;
        }
    }
    im->pr.stored += stored;
    for (i = 0; i < im->n_batch; i++)
        cJSON_Delete(im->batch[i].rec);
    im->n_batch = im->batch_bytes = 0;
    im->pr.elapsed_s = eb_now() - im->t0;
    if (im->opts->progress) im->opts->progress(im->opts->user, &im->pr);
    return st;
}

/* One object of the file, at where: checked, then queued for its batch. */
static eb_status take(import_state *im, const cJSON *o, const char *where, size_t bytes,
                      bool *refused, eb_error *err)
{
    eb_error e = {0};
    im->pr.records++;
    cJSON *rec = record_of(o, where, &e);
    *refused = rec == NULL;
    if (!rec) {
        refuse(im, &e, where);
        return EB_OK;
    }
    pending *p = &im->batch[im->n_batch++];
    p->rec = rec;
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(rec, "kind");
    p->quality = cJSON_IsString(kind) && strcmp(kind->valuestring, "perplexity") == 0;
    snprintf(p->where, sizeof p->where, "%s", where);
    im->batch_bytes += bytes;
    if (im->n_batch == IMPORT_BATCH_RECORDS || im->batch_bytes >= IMPORT_BATCH_BYTES)
        return flush(im, err);
    return EB_OK;
}

/* One line into buf, NUL bytes and all; a line longer than max is read to
 * its end but not kept (*too_long). 0 at the end of the file. */
static size_t read_line(FILE *f, char **buf, size_t *cap, size_t max, size_t *len, bool *too_long)
{
    size_t total = 0;
    *len = 0;
    *too_long = false;
    int c;
    while ((c = getc_unlocked(f)) != EOF) {
        total++;
        if (c == '\n') break;
        if (*len >= max) {
            *too_long = true;
            continue;
        }
        if (*len + 2 > *cap) {
            size_t want = *cap ? *cap * 2 : 65536;
            char *g = realloc(*buf, want);
            if (!g) {
                *too_long = true;
                continue;
            }
            *buf = g, *cap = want;
        }
        (*buf)[(*len)++] = (char)c;
    }
    if (*buf) (*buf)[*len] = '\0';
    return total;
}

/* A whole value in text[0..len): an object or array with only white space
 * after it (a NUL or anything else after the value makes it no JSON). */
static cJSON *parse_whole(const char *text, size_t len)
{
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!o) return NULL;
    while (end && end < text + len && strchr(" \t\r\n", *end) && *end)
        end++;
    if (end != text + len) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *eb_store_record_from_line(const char *text, size_t len, const char *where, eb_error *err)
{
    cJSON *o = parse_whole(text, len);
    if (!o) {
        eb_fail(err, EB_E_INVALID_ARG, "%s: not valid JSON", where);
        return NULL;
    }
    cJSON *rec = record_of(o, where, err);
    cJSON_Delete(o);
    return rec;
}

/* A file that is one JSON value (llama-bench's array, a run's pretty JSON):
 * read whole, as its records come whole. */
static eb_status import_whole(import_state *im, const char *path, eb_error *err)
{
    eb_error rerr = {0};
    char *all = eb_read_file(path, &rerr);
    if (!all) return eb_fail(err, EB_E_IO, "import %s", rerr.msg);
    size_t len = strlen(all);
    cJSON *whole = parse_whole(all, len);
    free(all);
    char where[1100];
    eb_status st = EB_OK;
    bool refused = false;
    if (cJSON_IsArray(whole)) {
        const cJSON *o;
        int i = 0;
        cJSON_ArrayForEach(o, whole)
        {
            snprintf(where, sizeof where, "%s: element %d", path, ++i);
            st = take(im, o, where, 0, &refused, err);
            if (st != EB_OK || (refused && im->opts->strict)) break;
        }
    } else if (cJSON_IsObject(whole)) {
        snprintf(where, sizeof where, "%s", path);
        st = take(im, whole, where, len, &refused, err);
    } else {
        eb_error e = {0};
        eb_fail(&e, EB_E_INVALID_ARG,
                "%s: not JSON, JSON lines or a llama-bench result (its first line is no JSON "
                "object, and the whole file is no JSON value)",
                path);
        refuse(im, &e, path);
    }
    cJSON_Delete(whole);
    if (st == EB_OK && im->n_batch) st = flush(im, err);
    return st;
}

eb_status eb_store_import_with(eb_store *s, const char *path, const eb_import_opts *opts,
                               size_t *n_trials, eb_error *err)
{
    const eb_import_opts none = {0};
    if (!opts) opts = &none;
    size_t max_line = opts->max_line_bytes ? opts->max_line_bytes : EB_IMPORT_LINE_MAX;
    if (n_trials) *n_trials = 0;
    FILE *f = fopen(path, "r");
    if (!f) return eb_fail(err, EB_E_IO, "import %s: %s", path, strerror(errno));
    import_state *im = calloc(1, sizeof *im);
    if (!im) {
        fclose(f);
        return eb_fail(err, EB_E_NO_MEMORY, "import: out of memory");
    }
    im->s = s;
    im->opts = opts;
    im->t0 = eb_now();
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0) im->pr.bytes_total = (uint64_t)sb.st_size;
    char *line = NULL, where[1100];
    size_t cap = 0, len, got;
    bool too_long;
    int line_no = 0;
    /* JSON lines when the first line that is not blank is a whole object */
    while ((got = read_line(f, &line, &cap, max_line, &len, &too_long)) > 0 && !too_long &&
           strspn(line, " \t\r") == len)
        line_no++;
    cJSON *first =
        got > 0 && !too_long && line[strspn(line, " \t")] == '{' ? parse_whole(line, len) : NULL;
    eb_status st = EB_OK;
    if (got == 0) {
        /* an empty file (or blank lines only): nothing to import */
        fclose(f);
        f = NULL;
    } else if (!first && !too_long) {
        fclose(f);
        f = NULL;
        st = import_whole(im, path, err);
    }
    for (cJSON *o = first; f && st == EB_OK && got > 0;
         got = read_line(f, &line, &cap, max_line, &len, &too_long)) {
        line_no++;
        im->pr.bytes_done += got;
        snprintf(where, sizeof where, "%s:%d", path, line_no);
        bool refused = false;
        if (too_long) {
            eb_error e = {0};
            eb_fail(&e, EB_E_INVALID_ARG,
                    "%s: a line of more than %zu bytes (the limit; --max-line-mib raises it)",
                    where, max_line);
            im->pr.records++;
            refuse(im, &e, where);
            refused = true;
        } else if (!o && strspn(line, " \t\r") == len) {
            continue;
        } else {
            if (!o) o = parse_whole(line, len);
            if (!o) {
                eb_error e = {0};
                eb_fail(&e, EB_E_INVALID_ARG, "%s: not valid JSON", where);
                im->pr.records++;
                refuse(im, &e, where);
                refused = true;
            } else {
                st = take(im, o, where, len, &refused, err);
            }
        }
        cJSON_Delete(o);
        o = NULL;
        if (refused && opts->strict) break;
    }
    if (st == EB_OK && im->n_batch) st = flush(im, err);
    for (size_t i = 0; i < im->n_batch; i++)
        cJSON_Delete(im->batch[i].rec);
    free(line);
    if (f) fclose(f);
    im->pr.elapsed_s = eb_now() - im->t0;
    if (opts->progress) opts->progress(opts->user, &im->pr);
    size_t n = im->pr.stored;
    if (n_trials) *n_trials = n;
    if (st == EB_OK && im->first_bad.status != EB_OK)
        st = eb_fail(err, EB_E_INVALID_ARG,
                     "%s: %zu record%s left out (%s)%s; %zu record%s stored, %zu already there",
                     path, im->pr.refused, im->pr.refused == 1 ? "" : "s", im->first_bad.msg,
                     opts->strict ? ", the import stopped there (--strict)" : ", the rest imported",
                     n, n == 1 ? "" : "s", im->pr.skipped);
    free(im);
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
