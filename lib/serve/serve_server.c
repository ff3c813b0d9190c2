/* llama-server from the cached llama.cpp build as a child process: on
 * loopback, on a free port, in its own process group, its output in a log,
 * ready when its health check answers 200; and the resident memory of its
 * process tree. */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "edgebench/engine.h"
#include "edgebench/serve.h"
#include "edgebench/util.h"

const char *eb_llama_server_path(void)
{
    const char *p = getenv("EDGEBENCH_LLAMA_SERVER");
    return p && p[0] ? p : eb_build_tool("llama-server", EB_LLAMA_SERVER);
}

/* A port the kernel gives and takes back: free now, very likely free when
 * the server binds it a moment later. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void log_tail(const char *path, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) return;
    char buf[4096];
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long from = size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0;
    fseek(f, from, SEEK_SET);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* the last lines that say something: llama.cpp ends with its error */
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    const char *start = buf;
    int lines = 0;
    for (size_t i = n; i > 0; i--)
        if (buf[i - 1] == '\n' && ++lines == 3) {
            start = buf + i;
            break;
        }
    char flat[4096];
    size_t k = 0;
    for (const char *p = start; *p && k + 1 < sizeof flat; p++)
        flat[k++] = *p == '\n' || *p == '\r' ? ' ' : *p;
    flat[k] = '\0';
    eb_few_words(flat, cap > 400 ? 400 : cap - 1, out, cap);
}

static long health(const char *url)
{
    char full[128];
    snprintf(full, sizeof full, "%s/health", url);
    CURL *c = curl_easy_init();
    if (!c) return 0;
    FILE *sink = fopen("/dev/null", "w");
    curl_easy_setopt(c, CURLOPT_URL, full);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
    if (sink) curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    if (sink) fclose(sink);
    return code;
}

static void ended_how(int status, char *out, size_t cap)
{
    if (WIFEXITED(status))
        snprintf(out, cap, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, cap, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(out, cap, "ended");
}

eb_status eb_server_start(const eb_server_opts *o, eb_server *out, eb_error *err)
{
    memset(out, 0, sizeof *out);
    out->pid = -1;
    if (!o->binary || access(o->binary, X_OK) != 0)
        return eb_fail(err, EB_E_IO, "llama-server %s: %s", o->binary ? o->binary : "(none)",
                       o->binary ? strerror(errno) : "not built");
    int port = free_port();
    if (port <= 0) return eb_fail(err, EB_E_NETWORK, "no free port on loopback");
    out->port = port;
    snprintf(out->url, sizeof out->url, "http://127.0.0.1:%d", port);
    snprintf(out->log_path, sizeof out->log_path, "%s", o->log_path ? o->log_path : "/dev/null");
    char port_s[16], t[16], tb[16], c[16], b[16], ub[16], np[16], ngl[16];
    snprintf(port_s, sizeof port_s, "%d", port);
    snprintf(t, sizeof t, "%d", o->threads);
    snprintf(tb, sizeof tb, "%d", o->threads_batch > 0 ? o->threads_batch : o->threads);
    snprintf(c, sizeof c, "%d", o->n_ctx);
    snprintf(b, sizeof b, "%d", o->n_batch);
    snprintf(ub, sizeof ub, "%d", o->n_ubatch);
    snprintf(np, sizeof np, "%d", o->slots > 0 ? o->slots : 1);
    /* every layer: llama-server's -1 is "as many as fit" */
    snprintf(ngl, sizeof ngl, "%d", o->n_gpu_layers < 0 ? 999 : o->n_gpu_layers);
    const char *argv[48];
    int n = 0;
    argv[n++] = o->binary;
    argv[n++] = "-m", argv[n++] = o->model_path;
    argv[n++] = "--host", argv[n++] = "127.0.0.1";
    argv[n++] = "--port", argv[n++] = port_s;
    argv[n++] = "-np", argv[n++] = np;
    if (o->threads > 0) argv[n++] = "-t", argv[n++] = t, argv[n++] = "-tb", argv[n++] = tb;
    if (o->n_ctx > 0) argv[n++] = "-c", argv[n++] = c;
    if (o->n_batch > 0) argv[n++] = "-b", argv[n++] = b;
    if (o->n_ubatch > 0) argv[n++] = "-ub", argv[n++] = ub;
    argv[n++] = "-ngl", argv[n++] = ngl;
    if (o->devices && o->devices[0]) argv[n++] = "-dev", argv[n++] = o->devices;
    if (o->type_k) argv[n++] = "-ctk", argv[n++] = o->type_k;
    if (o->type_v) argv[n++] = "-ctv", argv[n++] = o->type_v;
    if (o->flash_attn) argv[n++] = "-fa", argv[n++] = o->flash_attn;
    /* llama-bench's load modes are the server's, but for no-mmap */
    if (o->load_mode && o->load_mode[0])
        argv[n++] = "-lm", argv[n++] = !strcmp(o->load_mode, "no-mmap") ? "none" : o->load_mode;
    /* no web page; llama-server's own warm-up (its default) stays, as the
     * in-process engine's warm-up run does */
    argv[n++] = "--no-webui";
    argv[n] = NULL;
    size_t k = 0;
    for (int i = 0; i < n && k < sizeof out->argv_text; i++)
        k += (size_t)snprintf(out->argv_text + k, sizeof out->argv_text - k, "%s%s", i ? " " : "",
                              argv[i]);
    int logfd = open(out->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0)
        return eb_fail(err, EB_E_IO, "server log %s: %s", out->log_path, strerror(errno));
    double t0 = eb_now();
    pid_t p = fork();
    if (p < 0) {
        close(logfd);
        return eb_fail(err, EB_E_INTERNAL, "fork: %s", strerror(errno));
    }
    if (p == 0) {
        setpgid(0, 0);
        dup2(logfd, STDOUT_FILENO);
        dup2(logfd, STDERR_FILENO);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, STDIN_FILENO);
        /* the server never outlives the process measuring it */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execv(o->binary, (char *const *)argv);
        _exit(127);
    }
    close(logfd);
    setpgid(p, p);
    out->pid = p;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    double limit = o->ready_timeout_s > 0 ? o->ready_timeout_s : 300;
    char why[600];
    while (eb_now() - t0 < limit) {
        if (!eb_server_alive(out, why, sizeof why))
            return eb_fail(err, EB_E_ENGINE, "llama-server was not ready: it %s (started as: %s)",
                           why, out->argv_text);
        if (health(out->url) == 200) {
            out->ready_s = eb_now() - t0;
            return EB_OK;
        }
        eb_sleep(0.1);
    }
    char tail[420];
    log_tail(out->log_path, tail, sizeof tail);
    eb_server_stop(out);
    return eb_fail(err, EB_E_NETWORK, "llama-server was not ready within %g s (its log ends: %s)",
                   limit, tail[0] ? tail : "nothing");
}

bool eb_server_alive(eb_server *s, char *why, size_t cap)
{
    if (s->pid <= 0) {
        snprintf(why, cap, "is not running");
        return false;
    }
    int status;
    pid_t r = waitpid(s->pid, &status, WNOHANG);
    if (r == 0) return true;
    char how[120], tail[420];
    if (r == s->pid)
        ended_how(status, how, sizeof how);
    else
        snprintf(how, sizeof how, "is gone");
    log_tail(s->log_path, tail, sizeof tail);
    snprintf(why, cap, "%s%s%s", how, tail[0] ? "; its log ends: " : "", tail);
    s->pid = -1;
    return false;
}

void eb_server_stop(eb_server *s)
{
    if (s->pid <= 0) return;
    kill(-s->pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = -1;
            return;
        }
        eb_sleep(0.05);
    }
    kill(-s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = -1;
}

/* ---- the process tree's resident memory ---- */

static bool stat_of(const char *root, const char *pid, int *ppid)
{
    char rel[64], path[600], buf[1024];
    snprintf(rel, sizeof rel, "/proc/%s/stat", pid);
    eb_path_join(path, sizeof path, root, rel);
    if (!eb_read_line(path, buf, sizeof buf)) return false;
    /* the command may hold spaces and parentheses: fields follow the last ')' */
    const char *close = strrchr(buf, ')');
    return close && sscanf(close + 1, " %*c %d", ppid) == 1;
}

static double rss_kib(const char *root, int pid)
{
    char rel[64], path[600], buf[4096], val[64];
    snprintf(rel, sizeof rel, "/proc/%d/status", pid);
    eb_path_join(path, sizeof path, root, rel);
    eb_error e = {0};
    if (eb_read_text(path, buf, sizeof buf, &e) != EB_OK) return NAN;
    if (!eb_text_field(buf, "VmRSS", ":", val, sizeof val)) return 0; /* a zombie */
    return strtod(val, NULL);
}

double eb_proc_tree_rss_mib(const char *root, pid_t pid)
{
    if (!root || !root[0]) root = "/";
    double top = rss_kib(root, pid);
    if (!isfinite(top)) return NAN;
    /* descendants: a few passes over /proc, each adding the children of
     * the processes found so far (llama-server has none today; a wrapper
     * such as Ollama's runner has) */
    enum { MAX_TREE = 64 };
    int tree[MAX_TREE] = {pid};
    int nt = 1;
    char dir[600];
    eb_path_join(dir, sizeof dir, root, "/proc");
    for (int pass = 0; pass < 4; pass++) {
        DIR *d = opendir(dir);
        if (!d) break;
        int before = nt;
        struct dirent *e;
        while ((e = readdir(d)) && nt < MAX_TREE) {
            if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
            int ppid, child = atoi(e->d_name);
            if (!stat_of(root, e->d_name, &ppid)) continue;
            bool in = false, known = false;
            for (int i = 0; i < nt; i++) {
                in |= tree[i] == ppid;
                known |= tree[i] == child;
            }
            if (in && !known) tree[nt++] = child;
        }
        closedir(d);
        if (nt == before) break;
    }
    double kib = top;
    for (int i = 1; i < nt; i++) {
        double r = rss_kib(root, tree[i]);
        if (isfinite(r)) kib += r;
    }
    return kib / 1024.0;
}
