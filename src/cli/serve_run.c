/* `edgebench run --engine server`: llama-server from the same cached build
 * started on loopback with the run's model and settings (or a server at
 * --server-url), one load level measured with the device's sampler across
 * it, the server's process tree's memory, the result written and stored. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_store.h"
#include "edgebench/engine.h"
#include "edgebench/json.h"
#include "edgebench/measure.h"
#include "edgebench/roofline.h"
#include "edgebench/output.h"
#include "edgebench/sampler.h"
#include "edgebench/sensors.h"
#include "edgebench/serve.h"
#include "edgebench/sweep.h"
#include "edgebench/util.h"
#include "serve_run.h"

/* The server's process tree, watched while the load runs. */
typedef struct tree_watch {
    pthread_t th;
    volatile int stop;
    const char *root;
    eb_server *srv;
    double peak_mib;
    bool rss_known;
    char died[600]; /* "" while it lives */
} tree_watch;

static void *watch(void *arg)
{
    tree_watch *w = arg;
    while (!w->stop) {
        double m = eb_proc_tree_rss_mib(w->root, w->srv->pid);
        if (isfinite(m)) {
            w->rss_known = true;
            if (m > w->peak_mib) w->peak_mib = m;
        }
        if (!w->died[0] && !eb_server_alive(w->srv, w->died, sizeof w->died)) break;
        eb_sleep(0.1);
    }
    return NULL;
}

typedef struct serve_ctx {
    const eb_run_options *o;
    bool quiet;
    int done, total;
} serve_ctx;

static void on_request(void *user, const eb_request_result *r)
{
    serve_ctx *c = user;
    c->done++;
    if (!c->quiet)
        fprintf(stderr, "edgebench run: request %d/%d %s%s%s\n", c->done, c->total,
                eb_req_status_name(r->status), r->error[0] ? ": " : "", r->error);
}

/* The prompts: a file's lines, or the run's prompt cut to n tokens by the
 * server's tokenizer. *note says how they were made. */
static char **read_prompts(const eb_run_options *o, const char *url, const char *key, size_t *n,
                           char *note, size_t cap, eb_error *err)
{
    const eb_run_config *c = &o->cfg;
    char **out = NULL;
    *n = 0;
    if (c->serve.prompts_file) {
        char *text = eb_read_file(c->serve.prompts_file, err);
        if (!text) return NULL;
        size_t lines = 1;
        for (char *p = text; *p; p++)
            lines += *p == '\n';
        out = calloc(lines, sizeof *out);
        for (char *line = text, *nl; out && line && *line; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            if (nl) *nl = '\0';
            if (line[0] && line[0] != '\r') out[(*n)++] = strdup(line);
        }
        free(text);
        if (*n == 0) {
            free(out);
            eb_fail(err, EB_E_INVALID_ARG, "prompts file %s has no prompt", c->serve.prompts_file);
            return NULL;
        }
        snprintf(note, cap, "%zu prompts from %s, sent in turn", *n, c->serve.prompts_file);
        return out;
    }
    out = calloc(1, sizeof *out);
    if (!out) return NULL;
    const char *text = c->prompt_text ? c->prompt_text : eb_default_prompt;
    if (c->n_prompt_random > 0) {
        eb_error terr = {0};
        out[0] = eb_serve_prompt_of_tokens(url, key, text, c->n_prompt_random, &terr);
        if (out[0])
            snprintf(note, cap, "%s, repeated or cut to %d tokens by the server's tokenizer",
                     eb_prompt_source(c), c->n_prompt_random);
        else
            snprintf(note, cap, "%s as it is: the server could not cut it to %d tokens (%s)",
                     eb_prompt_source(c), c->n_prompt_random, terr.msg);
    }
    if (!out[0]) {
        out[0] = strdup(text);
        if (!note[0]) snprintf(note, cap, "%s", eb_prompt_source(c));
    }
    *n = 1;
    return out;
}

/* engine, device, model and the configuration, as an in-process run's
 * record has them */
static cJSON *head(const eb_run_options *o, const char *public_url, bool external,
                   eb_run_result *res)
{
    const eb_engine_ops *e = eb_engine_default();
    eb_run_fill_header(e, &o->cfg, res);
    if (external) {
        snprintf(res->engine_name, sizeof res->engine_name, "server");
        snprintf(res->engine_version, sizeof res->engine_version, "%.100s", public_url);
        res->engine_build_options[0] = res->engine_system_info[0] = '\0';
        snprintf(res->engine_backend, sizeof res->engine_backend, "unknown");
        for (int k = 0; k < EB_BUILD_FACT_COUNT; k++)
            res->engine_build_fact[k][0] = '\0';
        snprintf(res->model.name, sizeof res->model.name, "%s",
                 o->cfg.serve.model ? o->cfg.serve.model : "");
    } else {
        /* the model's metadata, read without its weights */
        eb_load_params lp = {.n_gpu_layers = 0, .use_mmap = true, .no_alloc = true};
        eb_model *m = NULL;
        eb_error merr = {0};
        if (e->init(&merr) == EB_OK && e->model_load(o->cfg.model_path, &lp, &m, &merr) == EB_OK) {
            e->model_info(m, &res->model);
            e->model_free(m);
        } else {
            snprintf(res->model.path, sizeof res->model.path, "%s", o->cfg.model_path);
        }
        eb_error serr = {0};
        res->has_shape = eb_model_shape_read(o->cfg.model_path, &res->shape, &serr) == EB_OK;
    }
    return eb_result_head_json(res);
}

static void request_json(cJSON *arr, const eb_request_result *r)
{
    cJSON *x = cJSON_CreateObject();
    cJSON_AddNumberToObject(x, "index", r->index);
    cJSON_AddBoolToObject(x, "warmup", 0);
    cJSON_AddStringToObject(x, "status", eb_req_status_name(r->status));
    if (r->error[0]) cJSON_AddStringToObject(x, "error", r->error);
    cJSON_AddNumberToObject(x, "client", r->client);
    eb_json_number(x, "t_sent_s", r->t_sent);
    eb_json_number(x, "t_end_s", r->t_end);
    eb_json_number(x, "n_prompt", r->usage_prompt >= 0 ? r->usage_prompt : NAN);
    eb_json_number(x, "n_gen", r->usage_completion >= 0 ? r->usage_completion : NAN);
    cJSON_AddNumberToObject(x, "client_tokens", r->n_tokens);
    eb_json_number(x, "server_gen_n", r->server_gen_n >= 0 ? r->server_gen_n : NAN);
    eb_json_number(x, "ttft_s", r->ttft_s);
    eb_json_number(x, "e2e_s", r->e2e_s);
    eb_json_number(x, "gen_tps", r->gen_tps);
    eb_json_number(x, "itl_mean_s", r->itl_mean_s);
    eb_json_number(x, "itl_p50_s", r->itl_p50_s);
    eb_json_number(x, "itl_p90_s", r->itl_p90_s);
    eb_json_number(x, "itl_p99_s", r->itl_p99_s);
    /* the server's own timings: its prefill is the request's */
    eb_json_number(x, "prefill_tps", r->server_prompt_tps);
    eb_json_number(x, "server_gen_tps", r->server_gen_tps);
    eb_json_number(x, "server_prompt_ms", r->server_prompt_ms);
    eb_json_number(x, "server_gen_ms", r->server_gen_ms);
    cJSON_AddItemToArray(arr, x);
}

typedef struct level_energy {
    bool has;
    double j, u95, mean_w, temp_max_c, freq_mhz;
    char source[256], why[300];
    bool estimate, unpublished;
} level_energy;

static void energy_of(eb_sampler *smp, double a, double b, level_energy *le)
{
    memset(le, 0, sizeof *le);
    le->j = le->u95 = le->mean_w = le->temp_max_c = le->freq_mhz = NAN;
    if (!smp) {
        snprintf(le->why, sizeof le->why, "no sampler (--no-sampler)");
        return;
    }
    /* the CPU's clock and the hottest zone as a run's phases read them */
    eb_window_state ws;
    eb_sampler_window_state(smp, a, b, &ws);
    le->temp_max_c = ws.temp_max_c;
    le->freq_mhz = ws.cpu_freq_mhz;
    if (!eb_sampler_has_total(smp)) {
        snprintf(le->why, sizeof le->why, "no power sensor or meter on this device");
        return;
    }
    snprintf(le->source, sizeof le->source, "%s", eb_sampler_total_source(smp));
    le->estimate = eb_sampler_total_is_estimate(smp);
    eb_energy_est est;
    double u_sys = NAN;
    bool published = true;
    if (!eb_sampler_total_energy_est(smp, a, b, &est, &u_sys, &published)) {
        const char *e = eb_sampler_total_error(smp);
        snprintf(le->why, sizeof le->why, "the total's readings do not cover the load%s%s",
                 e[0] ? ": " : "", e);
        return;
    }
    le->has = true;
    le->j = est.joules;
    le->u95 = eb_energy_u95(0, 1, u_sys, est.u_integration_j);
    le->unpublished = !published;
    le->mean_w = b > a ? est.joules / (b - a) : NAN;
}

static cJSON *serving_json(const eb_serve_level *lv, const level_energy *le, const tree_watch *w,
                           int slots, bool open, const char *prompt_note)
{
    const eb_serve_summary *s = &lv->sum;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "loop", open ? "open" : "closed");
    cJSON_AddNumberToObject(o, "slots", slots);
    cJSON_AddStringToObject(o, "prompts", prompt_note);
    cJSON_AddNumberToObject(o, "requests", s->sent);
    cJSON_AddNumberToObject(o, "ok", s->ok);
    cJSON_AddNumberToObject(o, "failed", s->failed);
    cJSON *by = cJSON_AddObjectToObject(o, "by_status");
    for (int k = 0; k < EB_REQ_STATUS_COUNT; k++)
        cJSON_AddNumberToObject(by, eb_req_status_name((eb_req_status)k), s->by_status[k]);
    if (s->first_error[0])
        cJSON_AddStringToObject(o, "first_error", s->first_error);
    else
        cJSON_AddNullToObject(o, "first_error");
    eb_json_number(o, "duration_s", s->duration_s);
    eb_json_number(o, "ttft_p50_s", s->ttft_p50_s);
    eb_json_number(o, "ttft_p90_s", s->ttft_p90_s);
    eb_json_number(o, "ttft_p99_s", s->ttft_p99_s);
    eb_json_number(o, "ttft_max_s", s->ttft_max_s);
    eb_json_number(o, "itl_p50_s", s->itl_p50_s);
    eb_json_number(o, "itl_p90_s", s->itl_p90_s);
    eb_json_number(o, "itl_p99_s", s->itl_p99_s);
    eb_json_number(o, "stream_tps_min", s->stream_tps_min);
    eb_json_number(o, "stream_tps_p10", s->stream_tps_p10);
    eb_json_number(o, "stream_tps_p50", s->stream_tps_p50);
    eb_json_number(o, "gen_tokens", s->gen_tokens);
    eb_json_number(o, "prompt_tokens", s->prompt_tokens);
    eb_json_number(o, "client_tokens", s->client_tokens);
    eb_json_number(o, "throughput_tps", s->throughput_tps);
    eb_json_number(o, "requests_per_s", s->requests_per_s);
    eb_json_number(o, "slo_ttft_s", s->slo_ttft_s);
    eb_json_number(o, "slo_itl_s", s->slo_itl_s);
    cJSON_AddNumberToObject(o, "good", s->good);
    eb_json_number(o, "goodput_rps", s->goodput_rps);
    eb_json_number(o, "client_gen_tps_mean", s->client_gen_tps_mean);
    eb_json_number(o, "server_gen_tps_mean", s->server_gen_tps_mean);
    eb_json_number(o, "client_over_server", s->client_over_server);
    eb_json_number(o, "server_prompt_tps_mean", s->server_prompt_tps_mean);
    eb_json_number(o, "energy_j", le->j);
    eb_json_number(o, "energy_u95_j", le->u95);
    if (le->has)
        cJSON_AddStringToObject(o, "energy_u95_covers",
                                eb_energy_u95_covers(false, le->unpublished));
    else
        cJSON_AddNullToObject(o, "energy_u95_covers");
    cJSON_AddBoolToObject(o, "energy_estimate", le->estimate);
    double per_req = le->has && s->ok ? le->j / s->ok : NAN;
    double per_tok = le->has && s->gen_tokens > 0 ? le->j / s->gen_tokens : NAN;
    eb_json_number(o, "j_per_request", per_req);
    eb_json_number(o, "j_per_request_u95", le->has && s->ok ? le->u95 / s->ok : NAN);
    eb_json_number(o, "j_per_token", per_tok);
    eb_json_number(o, "j_per_token_u95",
                   le->has && s->gen_tokens > 0 ? le->u95 / s->gen_tokens : NAN);
    eb_json_number(o, "mean_power_w", le->mean_w);
    if (!le->has)
        cJSON_AddStringToObject(o, "energy_not_available", le->why);
    else
        cJSON_AddNullToObject(o, "energy_not_available");
    eb_json_number(o, "server_rss_peak_mib", w->rss_known ? w->peak_mib : NAN);
    eb_json_number(o, "temp_max_c", le->temp_max_c);
    eb_json_number(o, "cpu_freq_mhz", le->freq_mhz);
    if (w->died[0])
        cJSON_AddStringToObject(o, "server_died", w->died);
    else
        cJSON_AddNullToObject(o, "server_died");
    return o;
}

static void fmt_ms(char *b, size_t cap, double s)
{
    if (isfinite(s))
        snprintf(b, cap, "%.1f", s * 1000);
    else
        snprintf(b, cap, "n/a");
}

static void fmt_num(char *b, size_t cap, double v)
{
    if (isfinite(v))
        snprintf(b, cap, "%.2f", v);
    else
        snprintf(b, cap, "n/a");
}

static void write_text(FILE *f, const cJSON *result, const eb_serve_level *lv,
                       const level_energy *le, const tree_watch *w)
{
    const eb_serve_summary *s = &lv->sum;
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(result, "serving");
    const cJSON *srv = cJSON_GetObjectItemCaseSensitive(result, "server");
    fprintf(f, "edgebench run --engine server: %s\n",
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(srv, "url")));
    fprintf(f, "load: %s loop, %s; %d requests, %d slots; prompts: %s\n",
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sv, "loop")),
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "load")), s->sent,
            (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(sv, "slots")),
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sv, "prompts")));
    const cJSON *wj = cJSON_GetObjectItemCaseSensitive(result, "warmup");
    int wn = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(wj, "requests"));
    if (wn > 0) {
        char wt[24];
        fmt_ms(wt, sizeof wt,
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(wj, "ttft_max_s")));
        fprintf(f, "warm-up (apart): %d requests, %d ok, the slowest first token %s ms\n", wn,
                (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(wj, "ok")), wt);
    }
    fprintf(f, "requests: %d ok, %d failed", s->ok, s->failed);
    for (int k = 1; k < EB_REQ_STATUS_COUNT; k++)
        if (s->by_status[k])
            fprintf(f, ", %s %d", eb_req_status_name((eb_req_status)k), s->by_status[k]);
    fprintf(f, "%s%s\n", s->first_error[0] ? "; first: " : "", s->first_error);
    char a[24], b[24], c[24], d[24];
    fmt_ms(a, sizeof a, s->ttft_p50_s), fmt_ms(b, sizeof b, s->ttft_p90_s);
    fmt_ms(c, sizeof c, s->ttft_p99_s), fmt_ms(d, sizeof d, s->ttft_max_s);
    fprintf(f, "TTFT ms: p50 %s  p90 %s  p99 %s  max %s\n", a, b, c, d);
    fmt_ms(a, sizeof a, s->itl_p50_s), fmt_ms(b, sizeof b, s->itl_p90_s);
    fmt_ms(c, sizeof c, s->itl_p99_s);
    fprintf(f, "inter-token ms: p50 %s  p90 %s  p99 %s\n", a, b, c);
    fmt_num(a, sizeof a, s->stream_tps_min), fmt_num(b, sizeof b, s->stream_tps_p10);
    fmt_num(c, sizeof c, s->stream_tps_p50);
    fprintf(f, "a stream's t/s: min %s  p10 %s  p50 %s\n", a, b, c);
    if (s->ok)
        fprintf(f, "throughput: %.2f generated t/s, %.3f requests/s over %.2f s\n",
                s->throughput_tps, s->requests_per_s, s->duration_s);
    else
        fprintf(f, "throughput: none: no request succeeded\n");
    if (isfinite(s->slo_ttft_s) || isfinite(s->slo_itl_s))
        fprintf(f, "goodput: %d of %d requests met the objectives (%.3f requests/s)\n", s->good,
                s->sent, s->goodput_rps);
    if (isfinite(s->client_over_server))
        fprintf(f,
                "client t/s over the server's own: %.3f (client %.2f, server %.2f; the HTTP and "
                "streaming overhead)\n",
                s->client_over_server, s->client_gen_tps_mean, s->server_gen_tps_mean);
    else
        fprintf(f, "client t/s over the server's own: not available: no request had both "
                   "figures (none succeeded, or the server sent no timings)\n");
    if (le->has)
        fprintf(f,
                "energy%s: %.3f +- %.3f J over the load (%s), %.4f J a request, %.5f J a "
                "token, %.2f W\n",
                le->estimate ? " (estimate)" : "", le->j, le->u95, le->source,
                s->ok ? le->j / s->ok : NAN, s->gen_tokens > 0 ? le->j / s->gen_tokens : NAN,
                le->mean_w);
    else
        fprintf(f, "energy: not available: %s\n", le->why);
    if (w->rss_known)
        fprintf(f, "server memory: %.1f MiB peak RSS of its process tree\n", w->peak_mib);
    else if (w->srv->pid <= 0 && !w->died[0])
        fprintf(f, "server memory: not available: a server at a URL is not a process edgebench "
                   "started\n");
    else
        fprintf(f, "server memory: not available: its process is not under the procfs root\n");
    if (w->died[0]) fprintf(f, "the server died during the load: %s\n", w->died);
}

int cli_serve_run(const eb_run_options *o, eb_format format, FILE *out)
{
    const eb_run_config *c = &o->cfg;
    eb_error err = {0};
    bool open = c->serve.rate > 0;
    if (open && eb_run_options_given(o, "concurrency")) {
        eb_fail(&err, EB_E_INVALID_ARG,
                "give --concurrency (closed loop) or --request-rate (open loop), not both");
        return cli_report("run", &err);
    }
    bool external = c->serve.url && c->serve.url[0];
    if (!external && !eb_run_options_given(o, "server_model") && c->serve.model) {
        /* nothing: the model of a started server is the run's */
    }
    int conc = open ? 0 : c->serve.concurrency;
    int requests = c->serve.requests > 0 ? c->serve.requests
                   : open                ? 16
                   : 4 * conc > 8        ? 4 * conc
                                         : 8;
    int slots = c->serve.slots > 0 ? c->serve.slots : open ? 4 : conc;
    double slo_ttft = eb_run_options_given(o, "slo_ttft") ? c->serve.slo_ttft_ms / 1000 : NAN;
    double slo_itl = eb_run_options_given(o, "slo_itl") ? c->serve.slo_itl_ms / 1000 : NAN;
    const char *key = getenv("EDGEBENCH_SERVER_KEY");
    double timeout = c->serve.timeout_s > 0 ? c->serve.timeout_s : 300;
    double stall = timeout / 4 < 30 ? timeout / 4 : 30;

    /* the sampler first: an unreachable meter fails before a server starts */
    eb_sampler *smp = NULL;
    if (!c->no_sampler) {
        eb_sampler_config sc = eb_run_sampler_config(c);
        if (eb_sampler_create(&sc, &smp, &err) != EB_OK) return cli_report("run", &err);
    }
    eb_server srv = {.pid = -1};
    char log_path[600] = "";
    char devices[512] = "";
    int ngl = c->n_gpu_layers;
    eb_status st = EB_OK;
    if (!external) {
        const eb_engine_ops *e = eb_engine_default();
        if (e->init(&err) != EB_OK ||
            eb_run_devices(e, c, devices, sizeof devices, &ngl, &err) != EB_OK) {
            eb_sampler_free(smp);
            return cli_report("run", &err);
        }
        char dir[512];
        if (eb_cache_dir(dir, sizeof dir, &err) == EB_OK) {
            snprintf(log_path, sizeof log_path, "%s/llama-server-%ld.log", dir, (long)getpid());
        } else {
            snprintf(log_path, sizeof log_path, "/tmp/edgebench-llama-server-%ld.log",
                     (long)getpid());
        }
        eb_server_opts so = {.binary = eb_llama_server_path(),
                             .model_path = c->model_path,
                             .threads = c->threads_gen,
                             .threads_batch = c->threads_prefill,
                             .n_ctx = c->n_ctx * slots,
                             .n_batch = c->n_batch,
                             .n_ubatch = c->n_ubatch,
                             .slots = slots,
                             .n_gpu_layers = ngl,
                             .devices = devices,
                             .type_k = c->type_k,
                             .type_v = c->type_v,
                             .flash_attn = c->flash_attn,
                             .load_mode = c->load_mode,
                             .log_path = log_path,
                             .ready_timeout_s = timeout};
        if (!o->quiet) fprintf(stderr, "edgebench run: starting llama-server (%d slots)\n", slots);
        st = eb_server_start(&so, &srv, &err);
    }
    const char *url = external ? c->serve.url : srv.url;
    char shown[600];
    eb_meter_spec_public(url, shown, sizeof shown);
    char note[400] = "";
    size_t n_prompts = 0;
    char **prompts = NULL;
    if (st == EB_OK) {
        prompts = read_prompts(o, url, key, &n_prompts, note, sizeof note, &err);
        if (!prompts) st = EB_E_INVALID_ARG;
    }
    eb_serve_level lv = {0}, warm = {0};
    tree_watch w = {.root = c->root, .srv = &srv};
    bool watching = false;
    if (st == EB_OK && smp) st = eb_sampler_start(smp, &err);
    if (st == EB_OK) {
        if (!external) watching = pthread_create(&w.th, NULL, watch, &w) == 0;
        serve_ctx sc = {.o = o, .quiet = o->quiet, .total = requests};
        eb_serve_spec spec = {.url = url,
                              .model = c->serve.model,
                              .api_key = key,
                              .api = c->serve.api,
                              .prompts = (const char *const *)prompts,
                              .n_prompts = n_prompts,
                              .max_tokens = c->n_gen,
                              .ignore_eos = true,
                              .cache_prompt = c->serve.cache_prompt,
                              .concurrency = conc,
                              .rate = c->serve.rate,
                              .requests = requests,
                              .timeout_s = timeout,
                              .stall_s = stall,
                              .seed = c->seed ? c->seed : 1,
                              .on_request = on_request,
                              .user = &sc};
        /* warm-up, reported apart: every client's (every slot's) first
         * request, as the in-process engine's warm-up run */
        if (c->warmup > 0) {
            eb_serve_spec wspec = spec;
            wspec.concurrency = open ? slots : conc;
            wspec.rate = 0;
            wspec.requests = wspec.concurrency * c->warmup;
            wspec.on_request = NULL;
            if (!o->quiet)
                fprintf(stderr, "edgebench run: warm-up: %d request(s)\n", wspec.requests);
            st = eb_serve_level_run(&wspec, &warm, &err);
            if (st == EB_OK) eb_serve_summarise(&warm, NAN, NAN);
        }
        if (st == EB_OK) st = eb_serve_level_run(&spec, &lv, &err);
        if (smp) eb_sampler_stop(smp);
        w.stop = 1;
        if (watching) pthread_join(w.th, NULL);
        /* a death just before the level ended (its requests then fail at
         * once) is after the watcher's last look */
        if (watching && !w.died[0]) eb_server_alive(&srv, w.died, sizeof w.died);
    }
    if (st != EB_OK) {
        eb_server_stop(&srv);
        eb_sampler_free(smp);
        for (size_t i = 0; i < n_prompts; i++)
            free(prompts[i]);
        free(prompts);
        eb_serve_level_free(&lv);
        eb_serve_level_free(&warm);
        if (log_path[0] && st == EB_E_ENGINE)
            fprintf(stderr, "edgebench run: the server's log: %s\n", log_path);
        return cli_report("run", &err);
    }
    eb_serve_summarise(&lv, slo_ttft, slo_itl);
    double first = INFINITY, last = -INFINITY;
    for (int i = 0; i < lv.n; i++) {
        if (lv.req[i].t_sent < first) first = lv.req[i].t_sent;
        if (lv.req[i].t_end > last) last = lv.req[i].t_end;
    }
    level_energy le;
    energy_of(smp, lv.t0 + first, lv.t0 + last, &le);
    eb_run_result *res = calloc(1, sizeof *res);
    cJSON *result = res ? head(o, shown, external, res) : NULL;
    if (!result) {
        eb_server_stop(&srv);
        eb_sampler_free(smp);
        eb_serve_level_free(&lv);
        eb_serve_level_free(&warm);
        free(res);
        eb_fail(&err, EB_E_NO_MEMORY, "the result");
        return cli_report("run", &err);
    }
    /* the prompt as the server counted it */
    cJSON *cfg = cJSON_GetObjectItemCaseSensitive(result, "config");
    if (lv.sum.ok && isfinite(lv.sum.prompt_tokens))
        cJSON_ReplaceItemInObjectCaseSensitive(
            cfg, "n_prompt", cJSON_CreateNumber(lv.sum.prompt_tokens / lv.sum.ok));
    cJSON_ReplaceItemInObjectCaseSensitive(cfg, "server_slots", cJSON_CreateNumber(slots));
    cJSON_ReplaceItemInObjectCaseSensitive(cfg, "concurrency", cJSON_CreateNumber(conc));
    char load[96];
    if (open)
        snprintf(load, sizeof load, "Poisson arrivals at %g requests/s", c->serve.rate);
    else
        snprintf(load, sizeof load, "%d client%s", conc, conc == 1 ? "" : "s");
    cJSON_AddStringToObject(result, "load", load);
    cJSON *server = cJSON_AddObjectToObject(result, "server");
    cJSON_AddStringToObject(server, "url", shown);
    cJSON_AddBoolToObject(server, "started_here", !external);
    cJSON_AddStringToObject(server, "api", c->serve.api ? c->serve.api : "completions");
    if (!external) {
        cJSON_AddStringToObject(server, "command", srv.argv_text);
        cJSON_AddNumberToObject(server, "ready_s", srv.ready_s);
    }
    cJSON_AddStringToObject(result, "status", lv.sum.ok ? "ok" : "failed");
    cJSON *reps = cJSON_AddArrayToObject(result, "reps");
    cJSON *failed = cJSON_AddArrayToObject(result, "requests_failed");
    for (int i = 0; i < lv.n; i++)
        request_json(lv.req[i].status == EB_REQ_OK ? reps : failed, &lv.req[i]);
    cJSON_AddItemToObject(result, "serving", serving_json(&lv, &le, &w, slots, open, note));
    cJSON *wj = cJSON_AddObjectToObject(result, "warmup");
    cJSON_AddNumberToObject(wj, "requests", warm.sum.sent);
    cJSON_AddNumberToObject(wj, "ok", warm.sum.ok);
    eb_json_number(wj, "ttft_max_s", warm.n ? warm.sum.ttft_max_s : NAN);
    eb_json_number(wj, "stream_tps_min", warm.n ? warm.sum.stream_tps_min : NAN);
    if (warm.sum.first_error[0]) cJSON_AddStringToObject(wj, "first_error", warm.sum.first_error);
    cJSON *meas = cJSON_AddObjectToObject(result, "measurement");
    if (le.source[0])
        cJSON_AddStringToObject(meas, "energy_source", le.source);
    else
        cJSON_AddNullToObject(meas, "energy_source");
    eb_server_stop(&srv);
    eb_sampler_free(smp);
    for (size_t i = 0; i < n_prompts; i++)
        free(prompts[i]);
    free(prompts);

    int code = EXIT_OK;
    if (format == EB_FMT_JSON || format == EB_FMT_JSONL) {
        char *text = format == EB_FMT_JSON ? cJSON_Print(result) : cJSON_PrintUnformatted(result);
        if (text) fprintf(out, "%s\n", text);
        free(text);
    } else {
        write_text(out, result, &lv, &le, &w);
    }
    fflush(out);
    const char *failure = lv.sum.ok ? NULL : lv.sum.first_error;
    if (!o->no_store) {
        cli_stored how = cli_store_run_record(o, result, failure, o->quiet);
        result = NULL; /* taken */
        if (how != CLI_STORED) code = EXIT_FAILURE_RUN;
    }
    cJSON_Delete(result);
    free(res);
    if (!lv.sum.ok) {
        fprintf(stderr, "edgebench run: no request succeeded: %s\n", lv.sum.first_error);
        code = EXIT_FAILURE_RUN;
    }
    eb_serve_level_free(&lv);
    eb_serve_level_free(&warm);
    return code;
}
