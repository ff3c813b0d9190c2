/* One streamed completion request through libcurl: each token event's
 * arrival time, the server's own counts and timings, and how it ended. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/sensors.h"
#include "edgebench/stats.h"
#include "edgebench/util.h"
#include "serve_impl.h"

const char *eb_req_status_name(eb_req_status s)
{
    static const char *const names[] = {"ok",      "http_error", "server_error", "malformed",
                                        "timeout", "stalled",    "dropped",      "refused"};
    return s < EB_REQ_STATUS_COUNT ? names[s] : "unknown";
}

typedef struct req_state {
    const eb_serve_spec *spec;
    eb_request_result *r;
    double t0;
    eb_sse sse;
    int cap;
    bool done;   /* [DONE] or a finish_reason seen */
    bool failed; /* status set by an event */
    bool stalled;
    double last_byte;
    long http_code;
    char body[512]; /* an error answer's start */
    size_t body_len;
} req_state;

static double num_or_nan(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A count the server sent: a whole number in range, else "not said" (-1):
 * a hostile or broken server's 1e300 is no count. */
static int count_of(double v)
{
    return isfinite(v) && v >= 0 && v <= 1e9 ? (int)v : -1;
}

static void fail(req_state *s, eb_req_status st, const char *why, const char *what)
{
    if (s->failed) return;
    s->failed = true;
    s->r->status = st;
    snprintf(s->r->error, sizeof s->r->error, "%s%s%s", why, what ? ": " : "", what ? what : "");
}

/* The text a chunk carries, completions or chat; NULL: none. */
static const cJSON *chunk_text(const cJSON *choice)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(choice, "text");
    if (cJSON_IsString(t)) return t;
    const cJSON *delta = cJSON_GetObjectItemCaseSensitive(choice, "delta");
    t = cJSON_GetObjectItemCaseSensitive(delta, "content");
    return cJSON_IsString(t) ? t : NULL;
}

static bool on_event(void *user, const char *data, size_t len)
{
    req_state *s = user;
    double now = eb_now() - s->t0;
    (void)len;
    if (strcmp(data, "[DONE]") == 0) {
        s->done = true;
        return true;
    }
    cJSON *j = cJSON_Parse(data);
    if (!cJSON_IsObject(j)) {
        char few[64];
        eb_few_words(data, 40, few, sizeof few);
        fail(s, EB_REQ_MALFORMED, "an event that is not JSON", few);
        cJSON_Delete(j);
        return false;
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (e) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
        char few[120];
        eb_few_words(cJSON_IsString(m)   ? m->valuestring
                     : cJSON_IsString(e) ? e->valuestring
                                         : "?",
                     100, few, sizeof few);
        fail(s, EB_REQ_SERVER_ERROR, "the server's error event", few);
        cJSON_Delete(j);
        return false;
    }
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(j, "choices");
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(j, "usage");
    const cJSON *timings = cJSON_GetObjectItemCaseSensitive(j, "timings");
    if (!cJSON_IsArray(choices) && !cJSON_IsObject(usage) && !cJSON_IsObject(timings)) {
        fail(s, EB_REQ_MALFORMED, "an event with neither choices nor usage", NULL);
        cJSON_Delete(j);
        return false;
    }
    const cJSON *c0 = cJSON_GetArrayItem(choices, 0);
    if (c0) {
        const cJSON *text = chunk_text(c0);
        const cJSON *fin = cJSON_GetObjectItemCaseSensitive(c0, "finish_reason");
        bool finished = cJSON_IsString(fin);
        /* a token's chunk; the last one of llama-server carries only the
         * finish reason and empty text */
        if (text && (!finished || text->valuestring[0])) {
            if (s->r->n_tokens == s->cap) {
                int nc = s->cap ? s->cap * 2 : 256;
                double *g = realloc(s->r->arrivals, (size_t)nc * sizeof *g);
                if (!g) {
                    fail(s, EB_REQ_MALFORMED, "out of memory for the arrivals", NULL);
                    cJSON_Delete(j);
                    return false;
                }
                s->r->arrivals = g;
                s->cap = nc;
            }
            if (s->r->n_tokens == 0) s->r->t_first = now;
            s->r->arrivals[s->r->n_tokens++] = now;
        }
        if (finished) s->done = true;
    }
    if (cJSON_IsObject(usage)) {
        double p = num_or_nan(usage, "prompt_tokens"), c = num_or_nan(usage, "completion_tokens");
        if (count_of(p) >= 0) s->r->usage_prompt = count_of(p);
        if (count_of(c) >= 0) s->r->usage_completion = count_of(c);
    }
    if (cJSON_IsObject(timings)) {
        double v;
        if ((v = count_of(num_or_nan(timings, "prompt_n"))) >= 0) s->r->server_prompt_n = (int)v;
        if ((v = count_of(num_or_nan(timings, "predicted_n"))) >= 0) s->r->server_gen_n = (int)v;
        s->r->server_prompt_ms = num_or_nan(timings, "prompt_ms");
        s->r->server_gen_ms = num_or_nan(timings, "predicted_ms");
        s->r->server_prompt_tps = num_or_nan(timings, "prompt_per_second");
        s->r->server_gen_tps = num_or_nan(timings, "predicted_per_second");
    }
    cJSON_Delete(j);
    return true;
}

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    req_state *s = user;
    size_t len = size * n;
    s->last_byte = eb_now();
    if (s->http_code >= 400) { /* an error's answer: its start is the reason */
        size_t k = len < sizeof s->body - 1 - s->body_len ? len : sizeof s->body - 1 - s->body_len;
        memcpy(s->body + s->body_len, p, k);
        s->body_len += k;
        s->body[s->body_len] = '\0';
        return len;
    }
    eb_error err = {0};
    if (eb_sse_feed(&s->sse, p, len, on_event, s, &err) != EB_OK) {
        if (!s->failed) fail(s, EB_REQ_MALFORMED, err.msg, NULL);
        return 0; /* ends the transfer */
    }
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *user)
{
    req_state *s = user;
    size_t len = size * n;
    long code;
    /* the status line: "HTTP/1.1 200 OK" */
    if (len > 9 && strncmp(p, "HTTP/", 5) == 0 && sscanf(p, "HTTP/%*s %ld", &code) == 1)
        s->http_code = code;
    s->last_byte = eb_now();
    return len;
}

static int on_progress(void *user, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    req_state *s = user;
    if (s->spec->stall_s > 0 && eb_now() - s->last_byte > s->spec->stall_s) {
        s->stalled = true;
        return 1;
    }
    return 0;
}

void serve_parse_stream(const char *bytes, size_t n, size_t chunk, eb_request_result *r)
{
    static const eb_serve_spec none = {0};
    req_state s = {.spec = &none, .r = r, .t0 = eb_now(), .http_code = 200};
    eb_sse_init(&s.sse, 1 << 16);
    r->status = EB_REQ_OK;
    if (chunk == 0) chunk = 1;
    for (size_t at = 0; at < n; at += chunk) {
        size_t k = n - at < chunk ? n - at : chunk;
        if (on_body((char *)bytes + at, 1, k, &s) != k) break;
    }
    if (!s.failed && !s.done) {
        r->status = EB_REQ_DROPPED;
        snprintf(r->error, sizeof r->error, "the stream ended without finishing, after %d tokens",
                 r->n_tokens);
    } else if (!s.failed && r->n_tokens == 0) {
        r->status = EB_REQ_MALFORMED;
        snprintf(r->error, sizeof r->error, "a stream without a token");
    }
    r->t_end = eb_now() - s.t0;
    eb_sse_free(&s.sse);
    eb_request_derive(r);
}

struct curl_slist *serve_headers(const char *api_key)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    if (api_key && api_key[0]) {
        char auth[600];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", api_key);
        h = curl_slist_append(h, auth); /* curl copies it */
    }
    return h;
}

char *serve_request_body(const eb_serve_spec *spec, const char *prompt)
{
    cJSON *b = cJSON_CreateObject();
    if (spec->model && spec->model[0]) cJSON_AddStringToObject(b, "model", spec->model);
    bool chat = spec->api && strcmp(spec->api, "chat") == 0;
    if (chat) {
        cJSON *msgs = cJSON_AddArrayToObject(b, "messages");
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", "user");
        cJSON_AddStringToObject(m, "content", prompt);
        cJSON_AddItemToArray(msgs, m);
    } else {
        cJSON_AddStringToObject(b, "prompt", prompt);
    }
    cJSON_AddNumberToObject(b, "max_tokens", spec->max_tokens);
    cJSON_AddBoolToObject(b, "stream", 1);
    cJSON *so = cJSON_AddObjectToObject(b, "stream_options");
    cJSON_AddBoolToObject(so, "include_usage", 1);
    cJSON_AddNumberToObject(b, "temperature", 0);
    cJSON_AddBoolToObject(b, "ignore_eos", spec->ignore_eos);
    cJSON_AddBoolToObject(b, "cache_prompt", spec->cache_prompt);
    char *text = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    return text;
}

void serve_request(const eb_serve_spec *spec, const char *prompt, double t0, eb_request_result *r)
{
    req_state s = {.spec = spec, .r = r, .t0 = t0};
    eb_sse_init(&s.sse, 1 << 20);
    r->status = EB_REQ_OK;
    r->t_sent = eb_now() - t0;
    s.last_byte = eb_now();
    char url[1200], shown[1200];
    snprintf(url, sizeof url, "%s/v1/%s", spec->url,
             spec->api && !strcmp(spec->api, "chat") ? "chat/completions" : "completions");
    eb_meter_spec_public(url, shown, sizeof shown);
    char *body = serve_request_body(spec, prompt);
    CURL *c = curl_easy_init();
    struct curl_slist *h = serve_headers(spec->api_key);
    h = curl_slist_append(h, "Accept: text/event-stream");
    if (!c || !body || !h) {
        r->status = EB_REQ_REFUSED;
        snprintf(r->error, sizeof r->error, "out of memory before sending");
    } else {
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, &s);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                         (long)((spec->timeout_s > 0 ? spec->timeout_s : 600) * 1000));
        CURLcode rc = curl_easy_perform(c);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        r->http_code = code ? code : s.http_code;
        if (s.failed) {
            /* an event's verdict stands */
        } else if (r->http_code >= 400) {
            char few[120];
            eb_few_words(s.body, 100, few, sizeof few);
            r->status = EB_REQ_HTTP_ERROR;
            snprintf(r->error, sizeof r->error, "HTTP %ld: %s", r->http_code, few);
        } else if (s.stalled) {
            r->status = EB_REQ_STALLED;
            snprintf(r->error, sizeof r->error, "no byte for %g s after %d tokens", spec->stall_s,
                     r->n_tokens);
        } else if (rc == CURLE_OPERATION_TIMEDOUT) {
            r->status = EB_REQ_TIMEOUT;
            snprintf(r->error, sizeof r->error, "past the %g s limit after %d tokens",
                     spec->timeout_s, r->n_tokens);
        } else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) {
            r->status = EB_REQ_REFUSED;
            snprintf(r->error, sizeof r->error, "%.100s: %s", shown, curl_easy_strerror(rc));
        } else if (rc != CURLE_OK) {
            r->status = EB_REQ_DROPPED;
            snprintf(r->error, sizeof r->error, "%s after %d tokens", curl_easy_strerror(rc),
                     r->n_tokens);
        } else if (!s.done) {
            r->status = EB_REQ_DROPPED;
            snprintf(r->error, sizeof r->error,
                     "the stream ended without finishing, after %d "
                     "tokens",
                     r->n_tokens);
        } else if (r->n_tokens == 0) {
            r->status = EB_REQ_MALFORMED;
            snprintf(r->error, sizeof r->error, "a stream without a token");
        }
    }
    r->t_end = eb_now() - t0;
    curl_slist_free_all(h);
    if (c) curl_easy_cleanup(c);
    free(body);
    eb_sse_free(&s.sse);
    eb_request_derive(r);
}

void eb_request_derive(eb_request_result *r)
{
    r->ttft_s = r->e2e_s = r->gen_tps = r->itl_mean_s = NAN;
    r->itl_p50_s = r->itl_p90_s = r->itl_p99_s = NAN;
    if (r->n_tokens > 0) r->ttft_s = r->t_first - r->t_sent;
    if (r->status == EB_REQ_OK) r->e2e_s = r->t_end - r->t_sent;
    int n = r->n_tokens;
    if (n < 2) return;
    double span = r->arrivals[n - 1] - r->arrivals[0];
    r->itl_mean_s = span / (n - 1);
    if (span > 0) r->gen_tps = (n - 1) / span;
    double *gaps = malloc((size_t)(n - 1) * sizeof *gaps);
    if (!gaps) return;
    for (int i = 1; i < n; i++)
        gaps[i - 1] = r->arrivals[i] - r->arrivals[i - 1];
    r->itl_p50_s = eb_percentile(gaps, (size_t)n - 1, 50);
    r->itl_p90_s = eb_percentile(gaps, (size_t)n - 1, 90);
    r->itl_p99_s = eb_percentile(gaps, (size_t)n - 1, 99);
    free(gaps);
}
