/* The node's control port: one JSON object a line each way, every
 * coordinator served on its own. Sockets are non-blocking and one poll
 * loop serves them all, each with its own input buffer (a bounded line)
 * and output queue, so a client that pipelines without reading, sends a
 * giant line or asks for a window that ends in the future delays only
 * itself. A trial belongs to the connection that began it. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "edgebench/util.h"
#include "node_impl.h"

static double realtime_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

eb_status eb_node_request_parse(const char *line, size_t len, eb_node_request *req, eb_error *err)
{
    memset(req, 0, sizeof *req);
    req->t0 = req->t1 = NAN;
    cJSON *j = cJSON_ParseWithLength(line, len);
    eb_status s = EB_OK;
    const char *cmd = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "cmd"));
    static const struct {
        const char *name;
        eb_node_cmd cmd;
    } cmds[] = {{"hello", EB_NODE_HELLO},
                {"time", EB_NODE_TIME},
                {"begin", EB_NODE_BEGIN},
                {"window", EB_NODE_WINDOW},
                {"end", EB_NODE_END}};
    if (!cJSON_IsObject(j) || !cmd) {
        s = eb_fail(err, EB_E_INVALID_ARG, "a request is one JSON object a line: {\"cmd\": ...}");
        goto out;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        if (strcmp(cmd, cmds[i].name) == 0) req->cmd = cmds[i].cmd;
    if (req->cmd == EB_NODE_NONE) {
        s = eb_fail(err, EB_E_INVALID_ARG, "unknown cmd '%.40s' (hello, time, begin, window, end)",
                    cmd);
        goto out;
    }
    const char *secret = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "secret"));
    if (secret) {
        req->has_secret = true;
        snprintf(req->secret, sizeof req->secret, "%s", secret);
    }
    if (req->cmd == EB_NODE_WINDOW) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "t0");
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "t1");
        if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b) || !isfinite(a->valuedouble) ||
            !isfinite(b->valuedouble) || b->valuedouble < a->valuedouble) {
            s = eb_fail(err, EB_E_INVALID_ARG, "window needs numbers t0 <= t1");
            goto out;
        }
        req->t0 = a->valuedouble;
        req->t1 = b->valuedouble;
    }
out:
    cJSON_Delete(j);
    return s;
}

static char *reply_error(const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    char *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}

/* Compares in time that does not depend on where they differ. */
static bool same_secret(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

char *eb_node_handle(eb_node_state *st, unsigned who, bool *authed, bool *close_after,
                     const char *line, size_t len, double *wait_until)
{
    *wait_until = 0;
    eb_node_request req;
    eb_error e = {0};
    if (eb_node_request_parse(line, len, &req, &e) != EB_OK) return reply_error(e.msg);
    if (st->secret[0] && !*authed) {
        /* a node on a shared network answers only who knows its secret */
        if (req.cmd != EB_NODE_HELLO || !req.has_secret)
            return reply_error("this node needs its secret: send hello with \"secret\" first "
                               "(the coordinator reads it from $EDGEBENCH_NODE_SECRET_FILE)");
        if (!same_secret(req.secret, st->secret)) {
            *close_after = true;
            return reply_error("wrong secret: connection closed");
        }
        *authed = true;
    }
    bool others = st->running && st->owner != who;
    char msg[160];
    if (others && req.cmd != EB_NODE_HELLO && req.cmd != EB_NODE_TIME) {
        snprintf(msg, sizeof msg,
                 "a trial is running for another coordinator (connection %u): %s refused",
                 st->owner,
                 req.cmd == EB_NODE_BEGIN    ? "begin"
                 : req.cmd == EB_NODE_WINDOW ? "window"
                                             : "end");
        return reply_error(msg);
    }
    if (req.cmd == EB_NODE_WINDOW) {
        if (!st->running) return reply_error("no trial begun on this node");
        /* a window that ends in our future (clock offset error): answered
         * when it is due, never by holding up the loop */
        double due = req.t1 - st->wall_minus_mono + 0.002, ahead = due - eb_now();
        if (ahead > EB_NODE_WINDOW_AHEAD_MAX_S) {
            snprintf(msg, sizeof msg,
                     "window ends %.1f s in this node's future (more than %.0f s: clocks apart?)",
                     ahead, EB_NODE_WINDOW_AHEAD_MAX_S);
            return reply_error(msg);
        }
        if (ahead > 0) {
            *wait_until = due;
            return NULL;
        }
    }
    cJSON *rep = cJSON_CreateObject();
    eb_node_window w;
    switch (req.cmd) {
    case EB_NODE_TIME:
        cJSON_AddNumberToObject(rep, "t", realtime_now());
        break;
    case EB_NODE_HELLO:
        eb_node_facts_to_json(&st->facts, rep);
        cJSON_AddNumberToObject(rep, "t", realtime_now());
        break;
    case EB_NODE_BEGIN:
        /* the owner's begin starts its next trial afresh */
        if (eb_node_trial_begin(st, &e) != EB_OK) {
            cJSON_AddStringToObject(rep, "error", e.msg);
        } else {
            st->owner = who;
            cJSON_AddTrueToObject(rep, "ok");
        }
        eb_node_facts_to_json(&st->facts, rep);
        break;
    case EB_NODE_WINDOW:
        if (eb_node_trial_window(st, req.t0, req.t1, &w, &e) != EB_OK)
            cJSON_AddStringToObject(rep, "error", e.msg);
        else
            eb_node_window_to_json(&w, rep);
        break;
    case EB_NODE_END:
        eb_node_trial_end(st);
        st->owner = 0;
        cJSON_AddTrueToObject(rep, "ok");
        break;
    case EB_NODE_NONE:
        break;
    }
    char *out = cJSON_PrintUnformatted(rep);
    cJSON_Delete(rep);
    return out;
}

/* One connection: what arrived and is not yet answered (in[off..used]),
 * and what is to be sent (out[sent..len]). */
typedef struct conn {
    int fd;
    unsigned id;
    char *in;
    size_t in_off, in_used, in_cap;
    char *out;
    size_t out_sent, out_len, out_cap;
    double wait_until; /* > 0: its first line is a window not yet due */
    bool authed;       /* presented the node's secret (or the node has none) */
    bool eof;          /* the client sent all it will: answer, then close */
    bool closing;      /* a refused line: close once the output is sent */
    bool gone;
} conn;

static bool queue(conn *c, const char *s)
{
    size_t n = strlen(s);
    if (c->out_len + n + 1 > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n + 1)
            cap *= 2;
        char *g = realloc(c->out, cap);
        if (!g) return false;
        c->out = g, c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
    c->out[c->out_len++] = '\n';
    return true;
}

static void queue_reply(conn *c, char *reply)
{
    if (!reply || !queue(c, reply)) c->gone = true;
    free(reply);
}

/* Answers the complete lines in c->in, in order, while its output queue
 * has room; a window not yet due stops it there until it is. */
static void serve_lines(eb_node_state *st, conn *c)
{
    if (c->in_used == 0) return;
    while (!c->closing && !c->gone && c->out_len - c->out_sent < EB_NODE_OUT_MAX) {
        char *line = c->in + c->in_off;
        char *nl = memchr(line, '\n', c->in_used - c->in_off);
        if (!nl) break;
        if (c->wait_until > 0 && eb_now() < c->wait_until) break;
        double wait;
        bool close_after = false;
        char *reply =
            eb_node_handle(st, c->id, &c->authed, &close_after, line, (size_t)(nl - line), &wait);
        if (!reply && wait > 0) {
            c->wait_until = wait;
            break;
        }
        c->wait_until = 0;
        queue_reply(c, reply);
        c->in_off = (size_t)(nl + 1 - c->in);
        if (close_after) c->closing = true;
    }
    /* the consumed part goes once a pass, not once a line */
    if (c->in_off > 0) {
        memmove(c->in, c->in + c->in_off, c->in_used - c->in_off);
        c->in_used -= c->in_off;
        c->in_off = 0;
    }
    if (!c->closing && c->in_used >= EB_NODE_LINE_MAX && !memchr(c->in, '\n', c->in_used)) {
        char msg[96];
        snprintf(msg, sizeof msg, "request line longer than %d bytes: connection closed",
                 EB_NODE_LINE_MAX);
        queue_reply(c, reply_error(msg));
        c->closing = true;
        c->in_used = 0;
    }
}

static void conn_read(eb_node_state *st, conn *c)
{
    if (c->closing || c->eof) return;
    if (c->in_cap < EB_NODE_LINE_MAX + 1) {
        char *g = realloc(c->in, EB_NODE_LINE_MAX + 1);
        if (!g) {
            c->gone = true;
            return;
        }
        c->in = g, c->in_cap = EB_NODE_LINE_MAX + 1;
    }
    if (c->in_used == c->in_cap) return; /* full of lines not yet answered */
    ssize_t n = recv(c->fd, c->in + c->in_used, c->in_cap - c->in_used, 0);
    if (n == 0) c->eof = true;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        c->gone = true;
        return;
    }
    if (n > 0) c->in_used += (size_t)n;
    serve_lines(st, c);
}

static void conn_write(conn *c)
{
    while (c->out_sent < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            c->out_sent += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        c->gone = true;
        return;
    }
    c->out_sent = c->out_len = 0;
    if (c->closing) c->gone = true;
}

/* A connection over the limit is told so, best effort, and closed. */
static void refuse(int fd, const char *why)
{
    char *r = reply_error(why);
    if (r) {
        size_t n = strlen(r);
        r[n] = '\n';
        ssize_t w = send(fd, r, n + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;
        free(r);
    }
    close(fd);
}

eb_status eb_node_control_serve(eb_node_state *st, int lfd, volatile int *stop, eb_node_log_fn log,
                                void *user, eb_error *err)
{
    conn clients[EB_NODE_MAX_CLIENTS];
    struct pollfd pfd[EB_NODE_MAX_CLIENTS + 1];
    size_t n = 0;
    unsigned next_id = 1;
    double accept_after = 0; /* out of descriptors: accept again after this */
    eb_status s = EB_OK;
    while (!*stop) {
        int status;
        if (st->server_pid > 0 && waitpid(st->server_pid, &status, WNOHANG) == st->server_pid) {
            s = eb_fail(err, EB_E_ENGINE, "rpc-server (pid %d) ended: %s %d", (int)st->server_pid,
                        WIFSIGNALED(status) ? "signal" : "exit status",
                        WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            st->server_pid = 0;
            break;
        }
        double now = eb_now(), timeout_s = 0.2;
        pfd[0] = (struct pollfd){.fd = now >= accept_after ? lfd : -1, .events = POLLIN};
        if (now < accept_after && accept_after - now < timeout_s) timeout_s = accept_after - now;
        for (size_t i = 0; i < n; i++) {
            conn *c = &clients[i];
            short ev = 0;
            /* a client whose replies pile up unread is not read further */
            if (!c->closing && !c->eof && c->in_used < EB_NODE_LINE_MAX + 1 &&
                c->out_len - c->out_sent < EB_NODE_OUT_MAX)
                ev |= POLLIN;
            if (c->out_len > c->out_sent) ev |= POLLOUT;
            pfd[i + 1] = (struct pollfd){.fd = c->fd, .events = ev};
            if (c->wait_until > 0) {
                double left = c->wait_until - now;
                if (left < timeout_s) timeout_s = left > 0 ? left : 0;
            }
        }
        int r = poll(pfd, n + 1, (int)ceil(timeout_s * 1000));
        if (r < 0 && errno != EINTR) {
            s = eb_fail(err, EB_E_INTERNAL, "poll: %s", strerror(errno));
            break;
        }
        for (size_t i = 0; i < n; i++) {
            conn *c = &clients[i];
            short re = r > 0 ? pfd[i + 1].revents : 0;
            if (re & (POLLERR | POLLNVAL)) c->gone = true;
            if (!c->gone && (re & (POLLIN | POLLHUP))) conn_read(st, c);
            /* due windows, and lines held back by a full queue */
            if (!c->gone) serve_lines(st, c);
            if (!c->gone && c->out_len > c->out_sent) conn_write(c);
            /* after its last answer, a client that hung up goes */
            if (c->eof && c->out_len == c->out_sent && c->wait_until == 0 &&
                (c->in_used == 0 || !memchr(c->in, '\n', c->in_used)))
                c->gone = true;
        }
        for (size_t i = n; i-- > 0;) {
            if (!clients[i].gone) continue;
            /* a coordinator gone without "end": its trial goes too */
            if (st->running && st->owner == clients[i].id) {
                eb_node_trial_end(st);
                st->owner = 0;
            }
            close(clients[i].fd);
            free(clients[i].in);
            free(clients[i].out);
            clients[i] = clients[--n];
        }
        if (r <= 0 || !(pfd[0].revents & POLLIN)) continue;
        /* every waiting connection this pass, not one */
        for (;;) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                    if (accept_after == 0 || eb_now() - accept_after > 5)
                        eb_node_say(log, user, "control port: accept: %s; trying again in 0.1 s",
                                    strerror(errno));
                    accept_after = eb_now() + 0.1;
                }
                break;
            }
            if (n == EB_NODE_MAX_CLIENTS) {
                char why[96];
                snprintf(why, sizeof why, "this node serves at most %d connections at once",
                         EB_NODE_MAX_CLIENTS);
                refuse(fd, why);
                continue;
            }
            clients[n++] = (conn){.fd = fd, .id = next_id++};
            if (next_id == 0) next_id = 1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        close(clients[i].fd);
        free(clients[i].in);
        free(clients[i].out);
    }
    return s;
}
