/* `edgebench node`: llama.cpp's rpc-server as a child, and a control port
 * where the coordinator asks for this device's facts, its clock and what
 * its sensors saw over a window of a trial (node_window.c). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "edgebench/engine.h"
#include "edgebench/limits.h"
#include "edgebench/node.h"
#include "edgebench/sysinfo.h"
#include "edgebench/util.h"
#include "node_impl.h"

const char *eb_node_default_server(void)
{
    return eb_build_tool("ggml-rpc-server", EB_RPC_SERVER);
}

void eb_node_say(eb_node_log_fn log, void *user, const char *fmt, ...)
{
    if (!log) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log(user, line);
}

/* Does process pid have a TCP socket listening on port (IPv4 or IPv6)?
 * From /proc/net/tcp and the process's descriptors, so the check sends
 * nothing to the rpc-server and another program on the port does not
 * count. */
static bool has_socket_inode(pid_t pid, unsigned long inode)
{
    char dir[64], link[96], want[48];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
    snprintf(want, sizeof want, "socket:[%lu]", inode);
    DIR *d = opendir(dir);
    if (!d) return false;
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(d))) {
        char path[128];
        snprintf(path, sizeof path, "%s/%.40s", dir, de->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n > 0) {
            link[n] = '\0';
            found = strcmp(link, want) == 0;
        }
    }
    closedir(d);
    return found;
}

static bool port_listening(pid_t pid, int port)
{
    const char *files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    for (int f = 0; f < 2; f++) {
        FILE *fp = fopen(files[f], "r");
        if (!fp) continue;
        char line[512];
        bool found = false;
        while (!found && fgets(line, sizeof line, fp)) {
            char local[128];
            unsigned st;
            unsigned long inode;
            if (sscanf(line, " %*d: %127s %*s %x %*s %*s %*s %*s %*s %lu", local, &st, &inode) != 3)
                continue;
            const char *colon = strrchr(local, ':');
            if (colon && st == 0x0A && strtol(colon + 1, NULL, 16) == port)
                found = has_socket_inode(pid, inode);
        }
        fclose(fp);
        if (found) return true;
    }
    return false;
}

/* The interface that carries host: "lo" for a loopback address, else the
 * device of the most specific route covering it (a wildcard address: the
 * default route's). */
static void iface_of(const char *host, char *out, size_t cap)
{
    out[0] = '\0';
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) != 1) return;
    if ((ntohl(a.s_addr) >> 24) == 127) {
        snprintf(out, cap, "lo");
        return;
    }
    FILE *fp = fopen("/proc/net/route", "r");
    if (!fp) return;
    char line[256], dev[32];
    unsigned dst, mask;
    bool any = false;
    uint32_t best_mask = 0;
    while (fgets(line, sizeof line, fp)) {
        if (sscanf(line, "%31s %x %*x %*x %*d %*d %*d %x", dev, &dst, &mask) != 3) continue;
        if ((a.s_addr & mask) == dst && (!any || ntohl(mask) > best_mask)) {
            snprintf(out, cap, "%s", dev);
            best_mask = ntohl(mask);
            any = true;
        }
    }
    fclose(fp);
}

static eb_status start_server(const eb_node_config *cfg, eb_mem_cage *cage, pid_t *pid,
                              eb_error *err)
{
    char port_s[16], thr_s[16];
    snprintf(port_s, sizeof port_s, "%d", cfg->port);
    snprintf(thr_s, sizeof thr_s, "%d", cfg->threads);
    const char *argv[10];
    int n = 0;
    argv[n++] = cfg->server_path;
    argv[n++] = "-H", argv[n++] = cfg->host;
    argv[n++] = "-p", argv[n++] = port_s;
    if (cfg->threads > 0) argv[n++] = "-t", argv[n++] = thr_s;
    argv[n] = NULL;
    if (access(cfg->server_path, X_OK) != 0)
        return eb_fail(err, EB_E_IO, "rpc-server %s: %s", cfg->server_path, strerror(errno));
    pid_t p = fork();
    if (p < 0) return eb_fail(err, EB_E_INTERNAL, "fork: %s", strerror(errno));
    if (p == 0) {
        /* its informational output goes where ours does not: stderr */
        dup2(STDERR_FILENO, STDOUT_FILENO);
        /* a node killed outright takes its rpc-server with it */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (!eb_mem_cage_enter(cage)) _exit(126);
        if (cfg->mem_mib > 0 && cage->kind == EB_CAGE_NONE) {
            struct rlimit rl = {(rlim_t)cfg->mem_mib << 20, (rlim_t)cfg->mem_mib << 20};
            setrlimit(RLIMIT_AS, &rl);
        }
        execv(cfg->server_path, (char *const *)argv);
        _exit(127);
    }
    *pid = p;
    for (int i = 0; i < 200; i++) {
        if (port_listening(p, cfg->port)) return EB_OK;
        int status;
        if (waitpid(p, &status, WNOHANG) == p)
            return eb_fail(err, EB_E_ENGINE,
                           "rpc-server %s exited (status %d) before listening on %s:%d",
                           cfg->server_path, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                           cfg->host, cfg->port);
        eb_sleep(0.05);
    }
    kill(p, SIGTERM);
    waitpid(p, NULL, 0);
    return eb_fail(err, EB_E_NETWORK, "rpc-server did not listen on %s:%d within 10 s", cfg->host,
                   cfg->port);
}

static int listen_on(const char *host, int port, eb_error *err)
{
    struct addrinfo *ai = eb_node_resolve(host, port, true, err);
    if (!ai) return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        eb_fail(err, EB_E_NETWORK, "control port %s:%d: %s", host, port, strerror(errno));
        if (fd >= 0) close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static void facts_fill(const eb_node_config *cfg, const eb_mem_cage *cage, eb_node_facts *f)
{
    memset(f, 0, sizeof *f);
    eb_device_info d;
    eb_device_info_read(cfg->root, &d);
    snprintf(f->hostname, sizeof f->hostname, "%s", d.hostname);
    snprintf(f->board, sizeof f->board, "%s", d.board_model);
    snprintf(f->cpu, sizeof f->cpu, "%s", d.cpu_model);
    snprintf(f->arch, sizeof f->arch, "%s", d.arch);
    f->n_cpus = d.n_cpus_online;
    f->ram_mib = (double)d.ram_total_kb / 1024.0;
    f->mem_limit_mib = cfg->mem_mib;
    if (cfg->mem_mib > 0) eb_mem_cage_describe(cage, f->cage, sizeof f->cage);
    f->threads = cfg->threads;
    if (cfg->iface)
        snprintf(f->iface, sizeof f->iface, "%s", cfg->iface);
    else
        iface_of(cfg->host, f->iface, sizeof f->iface);
}

eb_status eb_node_secret_read(const char *path, char *out, size_t cap, eb_error *err)
{
    eb_error rerr = {0};
    char *text = eb_read_file(path, &rerr);
    if (!text) return eb_fail(err, EB_E_IO, "secret file %s", rerr.msg);
    size_t n = strlen(text);
    while (n > 0 && strchr(" \t\r\n", text[n - 1]))
        n--;
    text[n] = '\0';
    eb_status st = EB_OK;
    if (n < EB_NODE_SECRET_MIN || n > EB_NODE_SECRET_MAX || n + 1 > cap)
        st = eb_fail(err, EB_E_INVALID_ARG,
                     "secret file %s: the secret must be %d-%d bytes, not %zu", path,
                     EB_NODE_SECRET_MIN, EB_NODE_SECRET_MAX, n);
    else
        memcpy(out, text, n + 1);
    free(text);
    return st;
}

eb_status eb_node_serve(const eb_node_config *cfg, volatile int *stop, eb_node_log_fn log,
                        void *user, eb_error *err)
{
    eb_node_state st;
    memset(&st, 0, sizeof st);
    st.cfg = *cfg;
    st.cfg.host = cfg->host ? cfg->host : "127.0.0.1";
    if (st.cfg.interval_s <= 0) st.cfg.interval_s = 0.05;
    eb_status sec = cfg->secret_file
                        ? eb_node_secret_read(cfg->secret_file, st.secret, sizeof st.secret, err)
                        : EB_OK;
    if (sec != EB_OK) return sec;
    int cport = cfg->control_port > 0 ? cfg->control_port : cfg->port + EB_NODE_CONTROL_OFFSET;
    eb_mem_cage cage = {0};
    eb_status s = EB_OK;
    if (cfg->mem_mib > 0 && (s = eb_mem_cage_make(cfg->root, cfg->mem_mib, &cage, err)) != EB_OK)
        return s;
    int lfd = listen_on(st.cfg.host, cport, err);
    if (lfd < 0) {
        eb_mem_cage_remove(&cage);
        return err ? err->status : EB_E_NETWORK;
    }
    if ((s = start_server(&st.cfg, &cage, &st.server_pid, err)) != EB_OK) {
        close(lfd);
        eb_mem_cage_remove(&cage);
        return s;
    }
    facts_fill(&st.cfg, &cage, &st.facts);
    eb_node_probe_energy(&st);
    char cage_s[160] = "";
    if (cfg->mem_mib > 0)
        snprintf(cage_s, sizeof cage_s, "; memory %d MiB (%s)", cfg->mem_mib, st.facts.cage);
    eb_node_say(log, user, "rpc-server pid %d on %s:%d, control on %s:%d, interface %s%s",
                (int)st.server_pid, st.cfg.host, cfg->port, st.cfg.host, cport,
                st.facts.iface[0] ? st.facts.iface : "(none found)", cage_s);

    s = eb_node_control_serve(&st, lfd, stop, log, user, err);
    close(lfd);
    eb_node_trial_end(&st);
    if (st.server_pid > 0) {
        kill(st.server_pid, SIGTERM);
        waitpid(st.server_pid, NULL, 0);
    }
    eb_mem_cage_remove(&cage);
    return s;
}
