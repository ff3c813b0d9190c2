/* The coordinator's side of a node's control port, and the bytes our own
 * sockets moved to each RPC peer (tcp_info: exact, per socket, no root). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/tcp.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "edgebench/util.h"
#include "node_impl.h"

struct eb_node_link {
    int fd;
    char endpoint[128];
    double offset_s; /* node realtime - ours */
    char *buf;
    size_t used, cap;
};

bool eb_endpoint_parse(const char *endpoint, char *host, size_t cap, int *port)
{
    const char *colon = strrchr(endpoint, ':');
    if (!colon || colon == endpoint || (size_t)(colon - endpoint) >= cap) return false;
    long p;
    if (!eb_parse_long(colon + 1, 1, 65535, &p)) return false;
    const char *h = endpoint;
    size_t len = (size_t)(colon - endpoint);
    if (h[0] == '[' && len > 2 && h[len - 1] == ']') h++, len -= 2; /* [::1]:50052 */
    memcpy(host, h, len);
    host[len] = '\0';
    *port = (int)p;
    return true;
}

static double realtime_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

struct addrinfo *eb_node_resolve(const char *host, int port, bool passive, eb_error *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)};
    struct addrinfo *ai = NULL;
    char port_s[16];
    snprintf(port_s, sizeof port_s, "%d", port);
    int rc = getaddrinfo(host, port_s, &hints, &ai);
    if (rc != 0) {
        eb_fail(err, EB_E_INVALID_ARG, "host '%s': %s", host, gai_strerror(rc));
        return NULL;
    }
    return ai;
}

/* A socket address as numeric text and its port; false: not IP. */
static bool addr_text(const struct sockaddr *sa, char *buf, size_t cap, int *port)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a->sin_addr, buf, (socklen_t)cap);
        *port = ntohs(a->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, buf, (socklen_t)cap);
        *port = ntohs(a->sin6_port);
    } else {
        return false;
    }
    return true;
}

bool eb_endpoint_numeric(const char *endpoint, char *out, size_t cap)
{
    char host[96], addr[INET6_ADDRSTRLEN];
    int port;
    if (!eb_endpoint_parse(endpoint, host, sizeof host, &port)) return false;
    struct addrinfo *ai = eb_node_resolve(host, port, false, NULL);
    bool ok = ai && addr_text(ai->ai_addr, addr, sizeof addr, &port);
    if (ai) freeaddrinfo(ai);
    if (ok) snprintf(out, cap, "%s:%d", addr, port);
    return ok;
}

static int connect_to(const char *host, int port, double timeout_s, eb_error *err)
{
    struct addrinfo *ai = eb_node_resolve(host, port, false, err);
    if (!ai) return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int e = 0;
        socklen_t el = sizeof e;
        if (poll(&p, 1, (int)(timeout_s * 1000)) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e != 0) {
            errno = e ? e : ETIMEDOUT;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        eb_fail(err, EB_E_NETWORK,
                "node control port %s:%d: %s (is `edgebench node --port %d` running there?)", host,
                port, strerror(errno), port - EB_NODE_CONTROL_OFFSET);
        return -1;
    }
    return fd;
}

/* Sends one request and reads the one-line reply, within timeout_s. */
static cJSON *call(eb_node_link *n, const char *request, double timeout_s, eb_error *err)
{
    size_t len = strlen(request);
    /* how it was lost, said plainly (errno is stale after a closed
     * connection or a poll that timed out) */
    const char *how = "no answer in time";
    for (size_t off = 0; off < len;) {
        struct pollfd p = {.fd = n->fd, .events = POLLOUT};
        if (poll(&p, 1, (int)(timeout_s * 1000)) != 1) goto lost;
        ssize_t w = send(n->fd, request + off, len - off, MSG_NOSIGNAL);
        if (w <= 0) {
            how = w < 0 ? strerror(errno) : "connection closed";
            goto lost;
        }
        off += (size_t)w;
    }
    for (;;) {
        char *nl = n->buf ? memchr(n->buf, '\n', n->used) : NULL;
        if (nl) {
            *nl = '\0';
            cJSON *r = cJSON_Parse(n->buf);
            size_t rest = n->used - (size_t)(nl + 1 - n->buf);
            memmove(n->buf, nl + 1, rest);
            n->used = rest;
            if (!r) {
                eb_fail(err, EB_E_NETWORK, "node %s: a reply that is not JSON", n->endpoint);
                return NULL;
            }
            const char *e = cJSON_GetStringValue(cJSON_GetObjectItem(r, "error"));
            if (e) {
                eb_fail(err, EB_E_NETWORK, "node %s: %s", n->endpoint, e);
                cJSON_Delete(r);
                return NULL;
            }
            return r;
        }
        if (n->cap - n->used < 4096) {
            size_t cap = n->cap ? n->cap * 2 : 8192;
            char *g = realloc(n->buf, cap);
            if (!g) {
                eb_fail(err, EB_E_NO_MEMORY, "node reply");
                return NULL;
            }
            n->buf = g, n->cap = cap;
        }
        struct pollfd p = {.fd = n->fd, .events = POLLIN};
        if (poll(&p, 1, (int)(timeout_s * 1000)) != 1) goto lost;
        ssize_t r = recv(n->fd, n->buf + n->used, n->cap - n->used, 0);
        if (r <= 0) {
            how = r < 0 ? strerror(errno) : "connection closed by the node";
            goto lost;
        }
        n->used += (size_t)r;
    }
lost:
    /* the node is gone or hung: the run fails as when llama.cpp's RPC
     * connection to it breaks, by the same name */
    eb_fail(err, EB_E_NETWORK, "RPC node %s: its control port stopped answering (%s)", n->endpoint,
            how);
    return NULL;
}

eb_status eb_node_open(const char *endpoint, eb_node_link **out, eb_node_facts *facts,
                       double *offset_s, double *uncertainty_s, eb_error *err)
{
    char host[96];
    int port;
    if (!eb_endpoint_parse(endpoint, host, sizeof host, &port))
        return eb_fail(err, EB_E_INVALID_ARG, "rpc: '%s' is not HOST:PORT", endpoint);
    eb_node_link *n = calloc(1, sizeof *n);
    if (!n) return eb_fail(err, EB_E_NO_MEMORY, "node link");
    snprintf(n->endpoint, sizeof n->endpoint, "%s", endpoint);
    n->fd = connect_to(host, port + EB_NODE_CONTROL_OFFSET, 5.0, err);
    if (n->fd < 0) {
        free(n);
        return err ? err->status : EB_E_NETWORK;
    }
    /* the node's secret, when the coordinator was given one */
    const char *secret_file = getenv("EDGEBENCH_NODE_SECRET_FILE");
    char secret[EB_NODE_SECRET_MAX + 1] = "", hello[EB_NODE_SECRET_MAX * 6 + 64];
    if (secret_file && secret_file[0] &&
        eb_node_secret_read(secret_file, secret, sizeof secret, err) != EB_OK) {
        eb_node_close(n);
        return err ? err->status : EB_E_INVALID_ARG;
    }
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "cmd", "hello");
    if (secret[0]) cJSON_AddStringToObject(h, "secret", secret);
    char *ht = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    snprintf(hello, sizeof hello, "%s\n", ht ? ht : "{\"cmd\":\"hello\"}");
    free(ht);
    cJSON *r = call(n, hello, 10.0, err);
    if (!r) {
        eb_node_close(n);
        return err ? err->status : EB_E_NETWORK;
    }
    eb_node_facts_from_json(r, facts);
    cJSON_Delete(r);
    /* the clock offset: the exchange with the shortest round trip bounds
     * it best (the node's time lies within half that trip of the middle) */
    double best_rtt = INFINITY, best = 0;
    for (int i = 0; i < 16; i++) {
        double t0 = realtime_now();
        r = call(n, "{\"cmd\":\"time\"}\n", 5.0, err);
        double t1 = realtime_now();
        if (!r) {
            eb_node_close(n);
            return err ? err->status : EB_E_NETWORK;
        }
        double tn = cJSON_GetNumberValue(cJSON_GetObjectItem(r, "t"));
        cJSON_Delete(r);
        if (t1 - t0 < best_rtt) best_rtt = t1 - t0, best = tn - (t0 + t1) / 2;
    }
    n->offset_s = best;
    *offset_s = best;
    *uncertainty_s = best_rtt / 2;
    *out = n;
    return EB_OK;
}

eb_status eb_node_begin(eb_node_link *n, eb_error *err)
{
    cJSON *r = call(n, "{\"cmd\":\"begin\"}\n", 10.0, err);
    if (!r) return err ? err->status : EB_E_NETWORK;
    cJSON_Delete(r);
    return EB_OK;
}

eb_status eb_node_window_get(eb_node_link *n, double t0, double t1, eb_node_window *out,
                             eb_error *err)
{
    char req[160];
    snprintf(req, sizeof req, "{\"cmd\":\"window\",\"t0\":%.6f,\"t1\":%.6f}\n", t0 + n->offset_s,
             t1 + n->offset_s);
    cJSON *r = call(n, req, 10.0, err);
    if (!r) return err ? err->status : EB_E_NETWORK;
    eb_node_window_from_json(r, out);
    cJSON_Delete(r);
    return EB_OK;
}

void eb_node_close(eb_node_link *n)
{
    if (!n) return;
    if (n->fd >= 0) {
        eb_error e = {0};
        cJSON *r = call(n, "{\"cmd\":\"end\"}\n", 2.0, &e);
        cJSON_Delete(r);
        close(n->fd);
    }
    free(n->buf);
    free(n);
}

/* Is a socket's peer host:port (numeric)? */
static bool same_peer(const struct sockaddr_storage *ss, const char *host, int port)
{
    char buf[INET6_ADDRSTRLEN];
    int p;
    return addr_text((const struct sockaddr *)ss, buf, sizeof buf, &p) && p == port &&
           strcmp(buf, host) == 0;
}

bool eb_peer_bytes_read(const char *endpoint, eb_peer_bytes *out)
{
    memset(out, 0, sizeof *out);
    out->rtt_s = NAN;
    char host[96];
    int port;
    if (!eb_endpoint_parse(endpoint, host, sizeof host, &port)) return false;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return false;
    struct dirent *de;
    double busiest = -1;
    while ((de = readdir(d))) {
        long fd;
        if (!eb_parse_long(de->d_name, 0, 1 << 30, &fd) || fd == dirfd(d)) continue;
        struct stat sb;
        if (fstat((int)fd, &sb) != 0 || !S_ISSOCK(sb.st_mode)) continue;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (getpeername((int)fd, (struct sockaddr *)&ss, &sl) != 0 || !same_peer(&ss, host, port))
            continue;
        struct tcp_info ti;
        socklen_t tl = sizeof ti;
        memset(&ti, 0, sizeof ti);
        if (getsockopt((int)fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) != 0) continue;
        /* bytes_sent (kernel 4.19+) counts retransmissions too; acked is
         * what arrived: older kernels have only that */
        double sent = (double)ti.tcpi_bytes_acked;
        out->sent += sent;
        out->received += (double)ti.tcpi_bytes_received;
        out->segs_in += ti.tcpi_data_segs_in;
        out->segs_out += ti.tcpi_data_segs_out;
        if (sent > busiest) busiest = sent, out->rtt_s = ti.tcpi_rtt * 1e-6;
        out->sockets++;
    }
    closedir(d);
    return out->sockets > 0;
}
