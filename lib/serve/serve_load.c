/* A load level: closed-loop clients or open-loop Poisson arrivals, every
 * request on its own libcurl handle, and the level's distributions. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/stats.h"
#include "edgebench/util.h"
#include "serve_impl.h"

typedef struct level_run {
    const eb_serve_spec *spec;
    eb_serve_level *lv;
    pthread_mutex_t mu;
    int next; /* closed loop: the next request's index */
} level_run;

typedef struct worker {
    level_run *run;
    int client;
    int index; /* open loop: its one request */
    double at; /* open loop: when it is sent (seconds from t0) */
} worker;

static void one(level_run *run, int i, int client)
{
    const eb_serve_spec *sp = run->spec;
    eb_request_result *r = &run->lv->req[i];
    r->index = i;
    r->client = client;
    serve_request(sp, sp->prompts[(size_t)i % sp->n_prompts], run->lv->t0, r);
    if (sp->on_request) {
        pthread_mutex_lock(&run->mu);
        sp->on_request(sp->user, r);
        pthread_mutex_unlock(&run->mu);
    }
}

static void *closed_client(void *arg)
{
    worker *w = arg;
    level_run *run = w->run;
    for (;;) {
        pthread_mutex_lock(&run->mu);
        int i = run->next < run->lv->n ? run->next++ : -1;
        pthread_mutex_unlock(&run->mu);
        if (i < 0) break;
        one(run, i, w->client);
    }
    return NULL;
}

static void *open_request(void *arg)
{
    worker *w = arg;
    double wait = w->at - (eb_now() - w->run->lv->t0);
    if (wait > 0) eb_sleep(wait);
    one(w->run, w->index, w->index);
    return NULL;
}

static void reset(eb_request_result *r)
{
    memset(r, 0, sizeof *r);
    r->usage_prompt = r->usage_completion = -1;
    r->server_prompt_n = r->server_gen_n = -1;
    r->server_prompt_ms = r->server_gen_ms = r->server_prompt_tps = r->server_gen_tps = NAN;
    r->t_first = NAN;
    eb_request_derive(r);
}

eb_status eb_serve_level_run(const eb_serve_spec *spec, eb_serve_level *out, eb_error *err)
{
    memset(out, 0, sizeof *out);
    if (!spec->url || !spec->url[0]) return eb_fail(err, EB_E_INVALID_ARG, "no server URL");
    if (!spec->prompts || spec->n_prompts == 0)
        return eb_fail(err, EB_E_INVALID_ARG, "no prompt to send");
    if (spec->requests < 1)
        return eb_fail(err, EB_E_INVALID_ARG, "requests must be 1 or more, got %d", spec->requests);
    bool open = spec->concurrency <= 0;
    if (open && !(spec->rate > 0))
        return eb_fail(err, EB_E_INVALID_ARG,
                       "a level needs a concurrency (closed loop) or a request rate (open loop)");
    out->req = calloc((size_t)spec->requests, sizeof *out->req);
    int n_workers = open
                        ? spec->requests
                        : (spec->concurrency < spec->requests ? spec->concurrency : spec->requests);
    worker *ws = calloc((size_t)n_workers, sizeof *ws);
    pthread_t *th = calloc((size_t)n_workers, sizeof *th);
    if (!out->req || !ws || !th) {
        free(ws);
        free(th);
        eb_serve_level_free(out);
        return eb_fail(err, EB_E_NO_MEMORY, "a level of %d requests", spec->requests);
    }
    out->n = spec->requests;
    for (int i = 0; i < out->n; i++)
        reset(&out->req[i]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    level_run run = {.spec = spec, .lv = out};
    pthread_mutex_init(&run.mu, NULL);
    out->t0 = eb_now();
    /* Poisson arrivals: exponential gaps from a fixed seed, so a rate's
     * schedule is the same in every trial */
    uint64_t rng = spec->seed ? spec->seed : 0x5eedu;
    double at = 0;
    int started = 0;
    for (int k = 0; k < n_workers; k++) {
        ws[k].run = &run;
        ws[k].client = k;
        ws[k].index = k;
        if (open) {
            double u = ((double)(eb_rng_next(&rng) >> 11) + 0.5) / 9007199254740992.0;
            at += k == 0 ? 0 : -log(u) / spec->rate;
            ws[k].at = at;
        }
        if (pthread_create(&th[k], NULL, open ? open_request : closed_client, &ws[k]) != 0) break;
        started++;
    }
    for (int k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    pthread_mutex_destroy(&run.mu);
    free(ws);
    free(th);
    if (started < n_workers) {
        /* requests no thread could send are counted as refused, not lost */
        for (int i = 0; i < out->n; i++)
            if (out->req[i].t_end == 0 && out->req[i].status == EB_REQ_OK &&
                out->req[i].n_tokens == 0) {
                out->req[i].status = EB_REQ_REFUSED;
                snprintf(out->req[i].error, sizeof out->req[i].error,
                         "not sent: no thread could be started for it");
            }
    }
    return EB_OK;
}

void eb_serve_level_free(eb_serve_level *lv)
{
    for (int i = 0; lv->req && i < lv->n; i++)
        free(lv->req[i].arrivals);
    free(lv->req);
    memset(lv, 0, sizeof *lv);
}

static double pct(double *v, size_t n, double p)
{
    return n ? eb_percentile(v, n, p) : NAN;
}

void eb_serve_summarise(eb_serve_level *lv, double slo_ttft_s, double slo_itl_s)
{
    eb_serve_summary *s = &lv->sum;
    memset(s, 0, sizeof *s);
    s->slo_ttft_s = slo_ttft_s;
    s->slo_itl_s = slo_itl_s;
    size_t n_gaps = 0;
    for (int i = 0; i < lv->n; i++)
        if (lv->req[i].status == EB_REQ_OK && lv->req[i].n_tokens > 1)
            n_gaps += (size_t)lv->req[i].n_tokens - 1;
    double *ttft = malloc(((size_t)lv->n + 1) * sizeof *ttft);
    double *tps = malloc(((size_t)lv->n + 1) * sizeof *tps);
    double *gaps = malloc((n_gaps + 1) * sizeof *gaps);
    size_t nt = 0, np = 0, ng = 0;
    double first = INFINITY, last = -INFINITY;
    double c_sum = 0, s_sum = 0, sp_sum = 0;
    int n_both = 0, n_sp = 0;
    double gen_tok = 0, prompt_tok = 0;
    bool prompt_known = true;
    for (int i = 0; i < lv->n; i++) {
        eb_request_result *r = &lv->req[i];
        s->sent++;
        s->by_status[r->status]++;
        if (r->t_sent < first) first = r->t_sent;
        if (r->t_end > last) last = r->t_end;
        s->client_tokens += r->n_tokens;
        if (r->status != EB_REQ_OK) {
            s->failed++;
            if (!s->first_error[0])
                snprintf(s->first_error, sizeof s->first_error, "request %d: %s: %s", i,
                         eb_req_status_name(r->status), r->error);
            continue;
        }
        s->ok++;
        if (r->usage_completion >= 0)
            gen_tok += r->usage_completion;
        else if (r->server_gen_n >= 0)
            gen_tok += r->server_gen_n;
        else
            gen_tok += r->n_tokens; /* the server did not count them: the client's count */
        if (r->usage_prompt >= 0)
            prompt_tok += r->usage_prompt;
        else
            prompt_known = false;
        if (ttft && isfinite(r->ttft_s)) ttft[nt++] = r->ttft_s;
        if (tps && isfinite(r->gen_tps)) tps[np++] = r->gen_tps;
        for (int k = 1; gaps && k < r->n_tokens; k++)
            gaps[ng++] = r->arrivals[k] - r->arrivals[k - 1];
        if (isfinite(r->gen_tps) && isfinite(r->server_gen_tps) && r->server_gen_tps > 0) {
            c_sum += r->gen_tps;
            s_sum += r->server_gen_tps;
            n_both++;
        }
        if (isfinite(r->server_prompt_tps)) {
            sp_sum += r->server_prompt_tps;
            n_sp++;
        }
        bool good =
            isfinite(r->ttft_s) && (!isfinite(slo_ttft_s) || r->ttft_s <= slo_ttft_s) &&
            (!isfinite(slo_itl_s) || (isfinite(r->itl_mean_s) && r->itl_mean_s <= slo_itl_s));
        s->good += good;
    }
    s->duration_s = lv->n && last > first ? last - first : NAN;
    s->ttft_p50_s = pct(ttft, nt, 50);
    s->ttft_p90_s = pct(ttft, nt, 90);
    s->ttft_p99_s = pct(ttft, nt, 99);
    s->ttft_max_s = pct(ttft, nt, 100);
    s->itl_p50_s = pct(gaps, ng, 50);
    s->itl_p90_s = pct(gaps, ng, 90);
    s->itl_p99_s = pct(gaps, ng, 99);
    s->stream_tps_min = pct(tps, np, 0);
    s->stream_tps_p10 = pct(tps, np, 10);
    s->stream_tps_p50 = pct(tps, np, 50);
    s->gen_tokens = s->ok ? gen_tok : NAN;
    s->prompt_tokens = s->ok && prompt_known ? prompt_tok : NAN;
    s->throughput_tps = isfinite(s->duration_s) && s->ok ? gen_tok / s->duration_s : NAN;
    s->requests_per_s = isfinite(s->duration_s) ? s->ok / s->duration_s : NAN;
    s->goodput_rps = isfinite(s->duration_s) ? s->good / s->duration_s : NAN;
    s->client_gen_tps_mean = n_both ? c_sum / n_both : NAN;
    s->server_gen_tps_mean = n_both ? s_sum / n_both : NAN;
    s->client_over_server = n_both && s_sum > 0 ? c_sum / s_sum : NAN;
    s->server_prompt_tps_mean = n_sp ? sp_sum / n_sp : NAN;
    free(ttft);
    free(tps);
    free(gaps);
}

/* ---- a prompt of n tokens, as the server counts them ---- */

typedef struct grow_buf {
    char *p;
    size_t n;
} grow_buf;

static size_t collect(char *p, size_t size, size_t n, void *user)
{
    grow_buf *b = user;
    size_t len = size * n;
    if (b->n + len > (8u << 20)) return 0;
    char *g = realloc(b->p, b->n + len + 1);
    if (!g) return 0;
    memcpy(g + b->n, p, len);
    b->n += len;
    g[b->n] = '\0';
    b->p = g;
    return len;
}

static cJSON *post_json(const char *url, const char *path, const char *api_key, cJSON *body,
                        eb_error *err)
{
    char full[1200];
    snprintf(full, sizeof full, "%s%s", url, path);
    char *text = cJSON_PrintUnformatted(body);
    grow_buf b = {0};
    CURL *c = curl_easy_init();
    struct curl_slist *h = serve_headers(api_key);
    cJSON *out = NULL;
    if (c && text && h) {
        curl_easy_setopt(c, CURLOPT_URL, full);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
        CURLcode rc = curl_easy_perform(c);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (rc != CURLE_OK)
            eb_fail(err, EB_E_IO, "%s: %s", path, curl_easy_strerror(rc));
        else if (code != 200)
            eb_fail(err, EB_E_UNSUPPORTED, "%s: HTTP %ld", path, code);
        else if (!(out = cJSON_Parse(b.p ? b.p : "")))
            eb_fail(err, EB_E_NETWORK, "%s: the answer is not JSON", path);
    } else {
        eb_fail(err, EB_E_NO_MEMORY, "%s", path);
    }
    curl_slist_free_all(h);
    if (c) curl_easy_cleanup(c);
    free(text);
    free(b.p);
    return out;
}

char *eb_serve_prompt_of_tokens(const char *url, const char *api_key, const char *text, int n,
                                eb_error *err)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "content", text);
    cJSON_AddBoolToObject(req, "add_special", 0);
    cJSON *tok = post_json(url, "/tokenize", api_key, req, err);
    cJSON_Delete(req);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(tok, "tokens");
    if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) == 0) {
        if (tok) eb_fail(err, EB_E_NETWORK, "/tokenize: no tokens in the answer");
        cJSON_Delete(tok);
        return NULL;
    }
    /* the text repeated until it has n tokens (the study's prompt is
     * shorter than most prompt lengths asked for) */
    cJSON *cut = cJSON_CreateArray();
    int have = cJSON_GetArraySize(ids);
    for (int i = 0; i < n; i++) {
        const cJSON *id = cJSON_GetArrayItem(ids, i % have);
        cJSON_AddItemToArray(cut, cJSON_CreateNumber(id->valuedouble));
    }
    cJSON_Delete(tok);
    cJSON *dreq = cJSON_CreateObject();
    cJSON_AddItemToObject(dreq, "tokens", cut);
    cJSON *det = post_json(url, "/detokenize", api_key, dreq, err);
    cJSON_Delete(dreq);
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(det, "content");
    char *out = cJSON_IsString(content) ? strdup(content->valuestring) : NULL;
    if (det && !out) eb_fail(err, EB_E_NETWORK, "/detokenize: no content in the answer");
    cJSON_Delete(det);
    return out;
}
