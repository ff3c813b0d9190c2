/* Writing records to the results store from `run` and `sweep`: a store that
 * cannot be written costs no result, the record goes to a local file that
 * `edgebench import` reads later. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_store.h"
#include "edgebench/params.h"
#include "edgebench/sweep.h"
#include "edgebench/util.h"

void cli_store_begin(cli_store *cs, const char *spec, const char *fallback, const char *cmd)
{
    memset(cs, 0, sizeof *cs);
    cs->spec = spec && spec[0] ? spec : eb_store_default_spec();
    cs->fallback = fallback;
    cs->cmd = cmd;
}

void cli_store_end(cli_store *cs)
{
    eb_store_close(cs->store);
    cs->store = NULL;
}

/* The model's content hash goes with the record (cached by file identity). */
static void add_model_hash(cJSON *rec)
{
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(rec, "result");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(res, "model");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(m, "path");
    if (!cJSON_IsString(path) || cJSON_GetObjectItemCaseSensitive(rec, "model_sha256")) return;
    char hex[65];
    eb_error err = {0};
    if (eb_file_sha256(path->valuestring, hex, &err) == EB_OK)
        cJSON_AddStringToObject(rec, "model_sha256", hex);
}

cli_stored cli_store_put(cli_store *cs, cJSON *rec, bool quiet)
{
    add_model_hash(rec);
    char *text = cJSON_PrintUnformatted(rec);
    if (!text) {
        fprintf(stderr, "edgebench %s: no_memory: cannot serialise the record\n", cs->cmd);
        return CLI_LOST;
    }
    eb_error err = {0};
    eb_status st = EB_OK;
    double t0 = eb_now();
    /* A store that failed is tried again for the next record: a server
     * back up, or space freed, takes the records again. */
    if (!cs->store) st = eb_store_open(cs->spec, &cs->store, &err);
    long long id = 0;
    if (st == EB_OK) st = eb_store_put(cs->store, text, &id, &err);
    if (st == EB_OK) {
        cs->n_stored++;
        cs->store_s += eb_now() - t0;
        if (!quiet && cs->verbose)
            fprintf(stderr, "edgebench %s: stored as %s %lld in %s\n", cs->cmd,
                    cs->what ? cs->what : "trial", id, eb_store_name(cs->store));
        free(text);
        return CLI_STORED;
    }
    if (cs->store) {
        eb_store_close(cs->store);
        cs->store = NULL;
    }
    fprintf(stderr, "edgebench %s: %s: %s\n", cs->cmd, eb_status_name(err.status), err.msg);
    bool saved = false;
    if (cs->fallback) {
        eb_error ferr = {0};
        if (eb_fallback_append(cs->fallback, text, &ferr) == EB_OK) {
            saved = true;
            cs->n_fallback++;
            fprintf(stderr,
                    "edgebench %s: the record is kept in %s; 'edgebench import %s' stores it "
                    "later\n",
                    cs->cmd, cs->fallback, cs->fallback);
        } else {
            fprintf(stderr, "edgebench %s: %s: %s\n", cs->cmd, eb_status_name(ferr.status),
                    ferr.msg);
        }
    }
    free(text);
    return saved ? CLI_FALLBACK : CLI_LOST;
}

bool cli_store_says_empty(const char *cmd, eb_store *s)
{
    bool empty = false;
    eb_error err = {0};
    if (eb_store_is_empty(s, &empty, &err) != EB_OK || !empty) return false;
    fprintf(stderr,
            "edgebench %s: no trials yet in %s: run `edgebench run` (or `edgebench import "
            "FILE`)\n",
            cmd, eb_store_name(s));
    return true;
}

/* A run as a trial record in the store: the options given (plan keys),
 * keyed as a sweep's trial of the same configuration is. Takes result. */
cli_stored cli_store_run_record(const eb_run_options *o, cJSON *result, const char *failure,
                                bool quiet)
{
    if (!result) {
        fprintf(stderr, "edgebench run: no_memory: the result was not stored\n");
        return CLI_LOST;
    }
    /* the trial: the options given (plan keys), keyed as a sweep's trial of
     * the same configuration is; a thread pair's own counts */
    eb_trial t;
    eb_trial_init(&t, NULL);
    eb_error terr = {0};
    for (size_t k = 0; k < eb_param_count; k++)
        if (o->given[k] && o->text[k] && eb_params[k].scope != EB_PS_CLI)
            eb_trial_set(&t, eb_params[k].key, o->text[k], &terr);
    if (o->pairs) {
        char tg[16], tp[16];
        snprintf(tg, sizeof tg, "%d", o->cfg.threads_gen);
        snprintf(tp, sizeof tp, "%d", o->cfg.threads_prefill);
        eb_trial_set(&t, "threads", tg, &terr);
        eb_trial_set(&t, "threads_prefill", tp, &terr);
    }
    const char *started =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "started_at"));
    /* the device as the measuring process read it */
    cJSON *device = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(result, "device"), 1);
    const eb_record_from from = {.source = "run", .plan = "command line"};
    cJSON *rec =
        eb_record_build(&from, &t, started, failure == NULL, failure, NAN, NULL, NULL, result);
    eb_trial_clear(&t);
    if (device) cJSON_AddItemToObject(rec, "device", device);
    cli_store cs;
    cli_store_begin(&cs, o->store, o->fallback ? o->fallback : "edgebench-fallback.jsonl", "run");
    cs.verbose = !quiet;
    cli_stored how = cli_store_put(&cs, rec, quiet);
    cli_store_end(&cs);
    cJSON_Delete(rec);
    return how;
}
