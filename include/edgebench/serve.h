/* Measuring an OpenAI-compatible server under load: llama.cpp's own
 * llama-server started from the cached build (or any server at a URL: an
 * Ollama, a llama-server elsewhere), streaming requests through libcurl,
 * server-sent events parsed as they arrive, closed-loop clients or
 * open-loop Poisson arrivals, and per level the distributions a deployer
 * asks for. The library starts and stops the server's process and never
 * prints. */
#ifndef EDGEBENCH_SERVE_H
#define EDGEBENCH_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "edgebench/error.h"

/* ---- server-sent events, parsed incrementally ---- */

/* Bytes in, whole events out, however the bytes were split: "data:" lines
 * joined with newlines, comments and other fields ignored, an event ended
 * by a blank line (LF, CRLF or CR line ends). */
typedef struct eb_sse {
    char *line; /* the line being read */
    size_t line_len, line_cap;
    char *data; /* the event's data so far */
    size_t data_len, data_cap;
    bool has_data;
    bool after_cr;    /* the last byte was a CR: an LF next ends nothing more */
    size_t max_event; /* longest event accepted, bytes */
} eb_sse;

/* One event's data (NUL-terminated, len bytes); returns false to stop. */
typedef bool (*eb_sse_event_fn)(void *user, const char *data, size_t len);

void eb_sse_init(eb_sse *p, size_t max_event);
void eb_sse_free(eb_sse *p);
/* Feeds n bytes. EB_OK, or EB_E_NETWORK when an event is longer than
 * max_event, or the callback stopped (err says which). */
eb_status eb_sse_feed(eb_sse *p, const char *bytes, size_t n, eb_sse_event_fn fn, void *user,
                      eb_error *err);

/* ---- one streamed request ---- */

/* How a request ended: every request sent is one of these, none dropped
 * from the counts. */
typedef enum eb_req_status {
    EB_REQ_OK,
    EB_REQ_HTTP_ERROR,   /* the server answered 4xx/5xx */
    EB_REQ_SERVER_ERROR, /* an error event in the stream */
    EB_REQ_MALFORMED,    /* an event that is not the API's JSON, or too long */
    EB_REQ_TIMEOUT,      /* past the request's time limit */
    EB_REQ_STALLED,      /* no byte for the stall limit */
    EB_REQ_DROPPED,      /* the connection ended before the stream did */
    EB_REQ_REFUSED,      /* could not connect */
    EB_REQ_STATUS_COUNT
} eb_req_status;
const char *eb_req_status_name(eb_req_status s); /* "ok", "http_error", ... */

typedef struct eb_request_result {
    int index, client;
    eb_req_status status;
    long http_code;  /* 0: no answer */
    char error[200]; /* why it failed, credentials never in it */
    /* seconds from the level's start */
    double t_sent, t_first, t_end;
    /* arrival time of each token event (seconds from the level's start) */
    double *arrivals;
    int n_tokens; /* token events received: the client's count */
    /* what the server said of it; -1 or NaN where it did not say */
    int usage_prompt, usage_completion;
    int server_prompt_n, server_gen_n;
    double server_prompt_ms, server_gen_ms, server_prompt_tps, server_gen_tps;
    /* derived (eb_request_derive): NaN where not known */
    double ttft_s, e2e_s;
    double gen_tps;    /* the client's: (tokens - 1) / (last - first arrival) */
    double itl_mean_s; /* mean inter-token gap (time per output token) */
    double itl_p50_s, itl_p90_s, itl_p99_s;
} eb_request_result;

void eb_request_derive(eb_request_result *r);

/* ---- a load level ---- */

typedef struct eb_serve_spec {
    const char *url;            /* the server's base URL: http://127.0.0.1:8080 */
    const char *model;          /* the API's "model" ("" or NULL: not sent) */
    const char *api_key;        /* "Authorization: Bearer"; never written anywhere */
    const char *api;            /* "completions" (default) or "chat" */
    const char *const *prompts; /* sent in turn */
    size_t n_prompts;
    int max_tokens;
    bool ignore_eos;   /* llama-server: generate max_tokens whatever the text */
    bool cache_prompt; /* llama-server: reuse a slot's cached prompt */
    int concurrency;   /* closed loop: this many clients, each sends its next request when
                          the last ends; 0 with rate > 0: open loop */
    double rate;       /* open loop: Poisson arrivals at this many requests/s */
    int requests;      /* requests in the level */
    double timeout_s;  /* one request's limit */
    double stall_s;    /* no byte for this long ends a request */
    uint64_t seed;     /* the open loop's arrivals */
    /* called as each request ends (from the request's own thread, serialised) */
    void (*on_request)(void *user, const eb_request_result *r);
    void *user;
} eb_serve_spec;

typedef struct eb_serve_summary {
    int sent, ok, failed;
    int by_status[EB_REQ_STATUS_COUNT];
    char first_error[200]; /* the first failure's reason */
    double duration_s;     /* first request sent to last ended */
    double ttft_p50_s, ttft_p90_s, ttft_p99_s, ttft_max_s;
    double itl_p50_s, itl_p90_s, itl_p99_s;                /* every gap of every ok request */
    double stream_tps_min, stream_tps_p10, stream_tps_p50; /* per-request client t/s */
    double gen_tokens, prompt_tokens; /* the server's counts where it gave them */
    double client_tokens;             /* token events received */
    double throughput_tps;            /* generated tokens of ok requests / duration */
    double requests_per_s;            /* ok requests / duration */
    /* goodput: ok requests with TTFT <= slo_ttft and mean ITL <= slo_itl
     * (a NaN objective is not applied) */
    double slo_ttft_s, slo_itl_s;
    int good;
    double goodput_rps;
    /* the HTTP and scheduling overhead: the mean of the client's t/s over
     * the server's own (its timings), requests that have both */
    double client_gen_tps_mean, server_gen_tps_mean, client_over_server;
    double server_prompt_tps_mean;
} eb_serve_summary;

typedef struct eb_serve_level {
    eb_request_result *req; /* spec.requests of them, in the order sent */
    int n;
    double t0; /* eb_now() at the level's start */
    eb_serve_summary sum;
} eb_serve_level;

/* Runs a level: every request ends (bounded by timeout_s each) before it
 * returns; what each did is in out->req. EB_E_INVALID_ARG for a spec that
 * cannot run. */
eb_status eb_serve_level_run(const eb_serve_spec *spec, eb_serve_level *out, eb_error *err);
/* The level's distributions and goodput against the objectives. */
void eb_serve_summarise(eb_serve_level *lv, double slo_ttft_s, double slo_itl_s);
void eb_serve_level_free(eb_serve_level *lv);

/* A prompt of about n tokens as the server's tokenizer counts them, cut
 * from text (llama-server's /tokenize and /detokenize). Returns a malloc'd
 * text, or NULL with err when the server has no such endpoints (an
 * Ollama): the caller sends the text as it is. */
char *eb_serve_prompt_of_tokens(const char *url, const char *api_key, const char *text, int n,
                                eb_error *err);

/* ---- llama-server as a child process ---- */

typedef struct eb_server_opts {
    const char *binary;     /* llama-server */
    const char *model_path; /* GGUF */
    int threads, threads_batch, n_ctx, n_batch, n_ubatch, slots, n_gpu_layers;
    const char *type_k, *type_v, *flash_attn; /* NULL: its defaults */
    const char *load_mode;                    /* "mmap", "no-mmap", "mlock", ...; NULL: mmap */
    const char *devices;    /* llama-server's -dev ("none", "Vulkan0"); NULL or "": its choice */
    const char *log_path;   /* its stdout and stderr */
    double ready_timeout_s; /* from start to /health answering 200 */
} eb_server_opts;

typedef struct eb_server {
    pid_t pid; /* its own process group */
    int port;
    char url[64];
    char log_path[512];
    double ready_s;       /* start to ready */
    char argv_text[1024]; /* how it was started */
} eb_server;

/* The llama-server of the build edgebench was built against
 * ($EDGEBENCH_LLAMA_SERVER overrides it: a test's stand-in). */
const char *eb_llama_server_path(void);
/* Starts llama-server on loopback, on a free port, and waits for its
 * health check. A server that exits, or is not ready in time, is stopped
 * and reported with the end of its log. */
eb_status eb_server_start(const eb_server_opts *o, eb_server *out, eb_error *err);
/* False when it has exited; why says how (its exit status or signal and
 * the end of its log). */
bool eb_server_alive(eb_server *s, char *why, size_t cap);
/* TERM to its process group, KILL after a few seconds; idempotent. */
void eb_server_stop(eb_server *s);
/* Resident memory of a process and all its descendants, MiB, read under
 * the procfs root ("/" or a fixture tree); NaN when pid is gone. */
double eb_proc_tree_rss_mib(const char *root, pid_t pid);

#endif
