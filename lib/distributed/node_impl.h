/* Shared by the node's server, its trial sampler and the coordinator's
 * client: the node's state and the protocol's JSON forms. */
#ifndef EDGEBENCH_NODE_IMPL_H
#define EDGEBENCH_NODE_IMPL_H

#include <pthread.h>
#include <sys/types.h>

#include "edgebench/node.h"
#include "edgebench/sampler.h"

struct cJSON;

/* One sample of the rpc-server process and the interface. */
typedef struct eb_node_sample {
    double t; /* CLOCK_MONOTONIC */
    double rss_mib;
    double cpu_s;  /* serving thread's CPU time, cumulative */
    double tx, rx; /* interface bytes, cumulative; NaN: unknown */
} eb_node_sample;

typedef struct eb_node_state {
    eb_node_config cfg;
    eb_node_facts facts;
    pid_t server_pid;
    unsigned owner;                      /* the control connection whose trial is running */
    char secret[EB_NODE_SECRET_MAX + 1]; /* "": none asked */
    /* the current trial's sampling: the device's sensors and our own
     * thread for the rpc-server and the interface */
    eb_sampler *sampler;
    double wall_minus_mono;
    pthread_t thread;
    bool running;
    volatile int stop;
    pthread_mutex_t lock;
    pthread_mutex_t wake_lock; /* with wake: "end" stops the thread at once */
    pthread_cond_t wake;
    eb_node_sample *samples;
    size_t n, cap;
    /* opened once a trial, read every tick (-1: not there) */
    int fd_statm, fd_schedstat, fd_stat, fd_tx, fd_rx;
} eb_node_state;

struct addrinfo;
/* host and port resolved (getaddrinfo; passive: to bind); NULL with err. */
struct addrinfo *eb_node_resolve(const char *host, int port, bool passive, eb_error *err);

void eb_node_probe_energy(eb_node_state *st);
eb_status eb_node_trial_begin(eb_node_state *st, eb_error *err);
/* t0, t1 on the node's realtime clock. */
eb_status eb_node_trial_window(eb_node_state *st, double t0, double t1, eb_node_window *out,
                               eb_error *err);
void eb_node_trial_end(eb_node_state *st);

/* One line to the node's log (log may be NULL). */
void eb_node_say(eb_node_log_fn log, void *user, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The control port (node_control.c). */
#define EB_NODE_LINE_MAX 65536       /* a request line's bytes */
#define EB_NODE_MAX_CLIENTS 32       /* connections served at once */
#define EB_NODE_OUT_MAX (256 * 1024) /* replies queued unread before reading stops */
#define EB_NODE_WINDOW_AHEAD_MAX_S 10.0

typedef enum eb_node_cmd {
    EB_NODE_NONE,
    EB_NODE_HELLO,
    EB_NODE_TIME,
    EB_NODE_BEGIN,
    EB_NODE_WINDOW,
    EB_NODE_END
} eb_node_cmd;

typedef struct eb_node_request {
    eb_node_cmd cmd;
    double t0, t1; /* window: the node's realtime clock */
    bool has_secret;
    char secret[EB_NODE_SECRET_MAX + 1];
} eb_node_request;

/* One request line (len bytes, no newline; NULs are bytes like others). */
eb_status eb_node_request_parse(const char *line, size_t len, eb_node_request *req, eb_error *err);
/* The reply line (malloc'd, no newline) to connection who's request; NULL
 * with *wait_until (CLOCK_MONOTONIC) when it is a window not yet due.
 * *authed: whether the connection presented the node's secret (kept
 * true when the node has none); *close: a wrong secret ends it. */
char *eb_node_handle(eb_node_state *st, unsigned who, bool *authed, bool *close_after,
                     const char *line, size_t len, double *wait_until);
/* Serves the listening socket lfd until *stop or the rpc-server ends. */
eb_status eb_node_control_serve(eb_node_state *st, int lfd, volatile int *stop, eb_node_log_fn log,
                                void *user, eb_error *err);

void eb_node_facts_to_json(const eb_node_facts *f, struct cJSON *o);
void eb_node_facts_from_json(const struct cJSON *o, eb_node_facts *f);
void eb_node_window_to_json(const eb_node_window *w, struct cJSON *o);
void eb_node_window_from_json(const struct cJSON *o, eb_node_window *w);

#endif
