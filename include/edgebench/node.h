/* Distributed inference: `edgebench node` runs llama.cpp's rpc-server on a
 * device and, beside it, a control port where the coordinator (`run
 * --rpc`) asks for the device's facts, its clock, and what its own sensors
 * saw over a time window. The control protocol is one JSON object a line
 * each way over TCP (lib/distributed/), every connection served on its
 * own (node_control.c); a trial belongs to the connection that began it.
 * Like llama.cpp's RPC it has no authentication: trusted networks only. */
#ifndef EDGEBENCH_NODE_H
#define EDGEBENCH_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "edgebench/error.h"

/* The control port is the RPC port + this, unless told otherwise. */
#define EB_NODE_CONTROL_OFFSET 1000

typedef struct eb_node_config {
    const char *host;        /* bind address; "127.0.0.1" by default */
    int port;                /* rpc-server's port */
    int control_port;        /* 0: port + EB_NODE_CONTROL_OFFSET */
    int mem_mib;             /* > 0: the rpc-server caged to this much memory */
    int threads;             /* rpc-server's CPU threads; 0: its default */
    const char *server_path; /* the pinned rpc-server binary */
    const char *root;        /* sysfs/procfs root for the sampler */
    double interval_s;       /* sampling period */
    const char *iface;       /* network interface to count; NULL: the one of host */
    /* a file holding the secret a coordinator must present (hello with
     * "secret") before the control port answers it; NULL: none */
    const char *secret_file;
} eb_node_config;

/* A secret's length, bytes (read from a file, trailing white space off). */
#define EB_NODE_SECRET_MIN 8
#define EB_NODE_SECRET_MAX 256
/* Reads a secret file: its text without trailing white space, of
 * EB_NODE_SECRET_MIN..MAX bytes; the error names the file. */
eb_status eb_node_secret_read(const char *path, char *out, size_t cap, eb_error *err);

/* What the node says about itself. */
typedef struct eb_node_facts {
    char hostname[64];
    char board[128];
    char cpu[128];
    char arch[16];
    int n_cpus;
    double ram_mib;
    int mem_limit_mib; /* --mem; 0: none */
    char cage[320];    /* how the limit is held ("cgroup v2", "RLIMIT_AS") */
    int threads;
    char iface[32];          /* the interface whose bytes it counts; "" none */
    char energy_source[128]; /* "" when nothing measures power */
    bool energy_estimate;
    char energy_reason[256]; /* why energy is not measured */
} eb_node_facts;

/* A window's figures from the node's own samples; NaN: not measured. */
typedef struct eb_node_window {
    double energy_j, mean_w, peak_w;
    double peak_rss_mib; /* the rpc-server's */
    double compute_s;    /* CPU time of the rpc-server's serving thread */
    double iface_tx_bytes, iface_rx_bytes;
    double temp_max_c, cpu_freq_mhz;
    int n_samples;
} eb_node_window;

/* The node: starts the rpc-server child and serves the control port until
 * *stop is set or the child ends. log (may be NULL) gets one line per
 * event; the library prints nothing itself. */
typedef void (*eb_node_log_fn)(void *user, const char *line);
eb_status eb_node_serve(const eb_node_config *cfg, volatile int *stop, eb_node_log_fn log,
                        void *user, eb_error *err);

/* The pinned build's rpc-server binary. */
const char *eb_node_default_server(void);

/* The coordinator's side of one node. */
typedef struct eb_node_link eb_node_link;
/* Connects to the control port of the node whose RPC endpoint is
 * "host:port" (control at port + EB_NODE_CONTROL_OFFSET), reads its facts
 * and measures the clock offset (node clock - ours, CLOCK_REALTIME) by the
 * exchange with the smallest round trip. */
eb_status eb_node_open(const char *endpoint, eb_node_link **out, eb_node_facts *facts,
                       double *offset_s, double *uncertainty_s, eb_error *err);
/* Starts the node's sampler for a trial. */
eb_status eb_node_begin(eb_node_link *n, eb_error *err);
/* Figures over [t0, t1], times on OUR realtime clock (the link adds the
 * offset). */
eb_status eb_node_window_get(eb_node_link *n, double t0, double t1, eb_node_window *out,
                             eb_error *err);
void eb_node_close(eb_node_link *n); /* ends the trial's sampler too */

/* Bytes our process has sent to and received from one TCP peer, given as
 * a numeric "address:port" (eb_endpoint_numeric), summed over its sockets
 * to it (tcp_info of each), and the smoothed round trip of the busiest.
 * False when no socket to it is open. */
typedef struct eb_peer_bytes {
    double sent, received, segs_in, segs_out;
    double rtt_s;
    int sockets;
} eb_peer_bytes;
bool eb_peer_bytes_read(const char *endpoint, eb_peer_bytes *out);

/* "host:port" with host resolved to its (first) numeric address, as a
 * socket's peer reads; false when it does not resolve. */
bool eb_endpoint_numeric(const char *endpoint, char *out, size_t cap);

/* "host:port" split; false when malformed. */
bool eb_endpoint_parse(const char *endpoint, char *host, size_t cap, int *port);

#endif
