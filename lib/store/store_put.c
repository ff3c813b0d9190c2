/* One trial record in, spread over the tables: device, build and model are
 * shared rows found by fingerprint; the trial, its runs, per-phase measures,
 * counters and timeline are new rows. One transaction per trial. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgebench/util.h"
#include "store_put_impl.h"

/* A record is a transaction of its own, or a savepoint in a batch. */
static eb_status begin_record(eb_store *s, eb_error *err)
{
    return s->in_batch ? s->be->exec(s, "SAVEPOINT eb_record", err)
                       : s->be->exec(s, s->be->begin, err);
}

static eb_status end_record(eb_store *s, eb_status st, eb_error *err)
{
    if (!s->in_batch) return eb_sq_end(s, st, err);
    if (st == EB_OK) return s->be->exec(s, "RELEASE SAVEPOINT eb_record", err);
    eb_error ignored = {0};
    s->be->exec(s, "ROLLBACK TO SAVEPOINT eb_record", &ignored);
    s->be->exec(s, "RELEASE SAVEPOINT eb_record", &ignored);
    return st;
}

eb_status eb_store_put_shared(eb_store *s, const cJSON *rec, long long ids[3], eb_error *err)
{
    ids[0] = ids[1] = ids[2] = 0;
    eb_status st = sp_put_device(s, rec, &ids[0], err);
    if (st == EB_OK) st = sp_put_build(s, rec, &ids[1], err);
    if (st == EB_OK) st = sp_put_model(s, rec, &ids[2], err);
    return st;
}

eb_status eb_store_put_json(eb_store *s, const cJSON *rec, long long *trial_id, eb_error *err)
{
    long long ids[3] = {0}, id = 0;
    eb_error bad = {0};
    if (eb_store_check_record(rec, &bad) != EB_OK)
        return eb_fail(err, bad.status, "store %s: record refused: %s", s->name, bad.msg);
    eb_status st = begin_record(s, err);
    if (st != EB_OK) return st;
    st = sp_put_device(s, rec, &ids[0], err);
    if (st == EB_OK) st = sp_put_build(s, rec, &ids[1], err);
    if (st == EB_OK) st = sp_put_model(s, rec, &ids[2], err);
    if (sp_is_kind(rec, "probe")) {
        if (st == EB_OK) st = sp_put_probe(s, rec, ids, &id, err);
        st = end_record(s, st, err);
        if (st == EB_OK && trial_id) *trial_id = id;
        return st;
    }
    if (sp_is_kind(rec, "perplexity")) {
        if (st == EB_OK) st = sp_put_quality(s, rec, ids, &id, err);
        st = end_record(s, st, err);
        if (st == EB_OK && trial_id) *trial_id = id;
        return st;
    }
    if (st == EB_OK) st = sp_put_trial(s, rec, ids, &id, err);
    const cJSON *result = sp_jobj(rec, "result");
    const cJSON *reps = result ? cJSON_GetObjectItemCaseSensitive(result, "reps") : NULL, *rep;
    cJSON_ArrayForEach(rep, reps)
    {
        if (st != EB_OK) break;
        st = sp_put_run(s, id, rep, err);
    }
    if (s->version >= 2) {
        const cJSON *tl = sp_jobj(result, "timeline");
        if (st == EB_OK && tl) st = sp_put_timeline(s, id, tl, err);
        const cJSON *sus = sp_jobj(result, "sustained");
        if (st == EB_OK && sus && s->version >= 8) st = sp_put_windows(s, id, sus, err);
        if (st == EB_OK && s->version >= 9) st = sp_put_distributed(s, id, rec, err);
        if (st == EB_OK && s->version >= 12) st = sp_put_serving(s, id, rec, err);
        const cJSON *lb = cJSON_GetObjectItemCaseSensitive(rec, "llama_bench_tests");
        if (st == EB_OK && cJSON_IsArray(lb))
            st = sp_put_lb_tests(s, id, lb, err);
        else if (st == EB_OK)
            st = eb_store_summarize_trial(s, id, err);
    }
    st = end_record(s, st, err);
    if (st == EB_OK && trial_id) *trial_id = id;
    return st;
}

eb_status eb_store_put(eb_store *s, const char *record_json, long long *trial_id, eb_error *err)
{
    cJSON *rec = cJSON_Parse(record_json);
    if (!cJSON_IsObject(rec)) {
        cJSON_Delete(rec);
        return eb_fail(err, EB_E_INVALID_ARG, "store %s: the record is not a JSON object", s->name);
    }
    eb_status st = eb_store_put_json(s, rec, trial_id, err);
    cJSON_Delete(rec);
    return st;
}
