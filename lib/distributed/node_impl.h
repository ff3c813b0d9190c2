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
    /* the current trial's sampling: the device's sensors and our own
     * thread for the rpc-server and the interface */
    eb_sampler *sampler;
    double wall_minus_mono;
    pthread_t thread;
    bool running;
    volatile int stop;
    pthread_mutex_t lock;
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

void eb_node_facts_to_json(const eb_node_facts *f, struct cJSON *o);
void eb_node_facts_from_json(const struct cJSON *o, eb_node_facts *f);
void eb_node_window_to_json(const eb_node_window *w, struct cJSON *o);
void eb_node_window_from_json(const struct cJSON *o, eb_node_window *w);

#endif
