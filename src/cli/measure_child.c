/* Measuring in a child process: spawn, stream, classify (measure_child.h). */
#define _GNU_SOURCE /* pipe2, sigabbrev_np */
#include "measure_child.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "edgebench/knobs.h"
#include "edgebench/output.h"
#include "edgebench/sweep.h"
#include "edgebench/sysinfo.h"
#include "edgebench/util.h"

bool child_end_failed(const child_end *e)
{
    return !e->started || e->timed_out || WIFSIGNALED(e->status) ||
           (WIFEXITED(e->status) && WEXITSTATUS(e->status) != 0);
}

/* What a signal most likely means in a process running llama.cpp, and
 * what to do about it. */
static const char *likely_cause(int sig, bool oom)
{
    switch (sig) {
    case SIGILL:
        return "illegal instruction in the engine: the llama.cpp build uses an instruction this "
               "CPU or kernel does not grant; rebuild it for this machine (make, which "
               "self-tests the build and falls back), or with EDGEBENCH_CPU_OFF=FEATURE or "
               "EDGEBENCH_NATIVE=OFF";
    case SIGSEGV:
    case SIGBUS:
        return "a crash in the engine: if it happens with every model, the llama.cpp build may "
               "use a CPU path that fails here (a native build on an AMX CPU did); rebuild with "
               "EDGEBENCH_CPU_OFF=amx or EDGEBENCH_NATIVE=OFF, and see the last message";
    case SIGABRT:
        return "llama.cpp aborted (a failed check, or an RPC node that stopped answering): "
               "see the last message";
    case SIGKILL:
        return oom ? "out of memory: killed by the kernel's OOM killer"
                   : "killed from outside (SIGKILL)";
    case SIGINT:
    case SIGTERM:
        return "stopped by request";
    default:
        return "ended by a signal";
    }
}

void child_end_reason(const child_end *e, const char *log, const char *phase, int memory_limit_mib,
                      char *out, size_t cap)
{
    char last[480];
    eb_failure_reason(log, memory_limit_mib, last, sizeof last);
    bool said = strcmp(last, "no message") != 0;
    if (!e->started) {
        snprintf(out, cap, "cannot start: %s", e->start_error);
    } else if (e->timed_out) {
        snprintf(out, cap, "timeout: killed after %.0f s%s%s%s%s", e->seconds, phase ? " in " : "",
                 phase ? phase : "", said ? "; last message: " : "", said ? last : "");
    } else if (WIFSIGNALED(e->status)) {
        int sig = WTERMSIG(e->status);
        char lim[96] = "";
        if (memory_limit_mib > 0 && !strstr(last, "address-space limit"))
            snprintf(lim, sizeof lim, " under the address-space limit of %d MiB (memory_limit)",
                     memory_limit_mib);
        if (strncmp(last, "out of memory", 13) == 0) {
            snprintf(out, cap, "%s (killed by signal %d: SIG%s%s%s)", last, sig,
                     sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", phase ? " in " : "",
                     phase ? phase : "");
            return;
        }
        snprintf(out, cap, "killed (signal %d: SIG%s)%s%s%s: %s; last message: %s", sig,
                 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", phase ? " in " : "",
                 phase ? phase : "", lim, likely_cause(sig, e->oom && sig == SIGKILL),
                 said ? last : "no message");
    } else if (WIFEXITED(e->status) && WEXITSTATUS(e->status) != 0) {
        snprintf(out, cap, "exit %d: %s", WEXITSTATUS(e->status), last);
    } else {
        out[0] = '\0';
        return;
    }
    /* the OOM killer may have taken a process below this one (a run's
     * measuring child): the counter rose, whatever the exit said */
    if (e->oom && !strstr(out, "out of memory")) {
        char was[1024];
        snprintf(was, sizeof was, "%s", out);
        snprintf(out, cap, "out of memory: the OOM killer acted while it ran; %s", was);
    }
}

void child_spawn_wait(const char *const *argv, const char *err_path, double timeout_s,
                      const volatile sig_atomic_t *stop, bool (*before_exec)(void *), void *user,
                      child_end *out)
{
    memset(out, 0, sizeof *out);
    uint64_t oom0 = eb_oom_kills();
    double t0 = eb_now();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) dup2(fd, STDERR_FILENO);
        if (nul >= 0) dup2(nul, STDOUT_FILENO);
        if (before_exec && !before_exec(user)) _exit(126);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "edgebench: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    if (pid < 0) {
        snprintf(out->start_error, sizeof out->start_error, "fork: %s", strerror(errno));
        return;
    }
    out->started = true;
    for (;;) {
        pid_t w = waitpid(pid, &out->status, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) break;
        if (stop && *stop && !out->interrupted) {
            out->interrupted = true;
            kill(pid, SIGTERM);
        }
        if (!out->timed_out && timeout_s > 0 && eb_now() - t0 > timeout_s) {
            out->timed_out = true;
            kill(pid, SIGKILL);
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    out->seconds = eb_now() - t0;
    out->oom = eb_oom_kills() > oom0;
}

/* ---- the streaming child ---- */

static int stream_fd = -1;
static const eb_run_result *streamed_res; /* whose head was sent */

static void stream_send(cJSON *msg)
{
    char *text = msg ? cJSON_PrintUnformatted(msg) : NULL;
    cJSON_Delete(msg);
    if (!text) return;
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the terminator: the line is written whole */
    const char *p = text;
    size_t left = n + 1;
    while (left > 0) {
        ssize_t w = write(stream_fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        p += w;
        left -= (size_t)w;
    }
    free(text);
}

void measure_stream_phase(const char *phase, int rep)
{
    if (stream_fd < 0) return;
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "t", "phase");
    cJSON_AddStringToObject(m, "phase", phase);
    cJSON_AddNumberToObject(m, "rep", rep + 1);
    stream_send(m);
}

void measure_stream_rep(void *user, const eb_run_result *res, int index)
{
    (void)user;
    if (stream_fd < 0) return;
    if (streamed_res != res || index == 0) {
        cJSON *h = cJSON_CreateObject();
        cJSON_AddStringToObject(h, "t", "head");
        cJSON_AddNumberToObject(h, "planned", res->config.warmup + res->config.reps);
        cJSON_AddItemToObject(h, "head", eb_result_head_json(res));
        stream_send(h);
        streamed_res = res;
    }
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "t", "rep");
    cJSON_AddItemToObject(m, "rep", eb_rep_to_json(res, index));
    stream_send(m);
}

void measure_stream_end(void)
{
    if (stream_fd < 0) return;
    streamed_res = NULL;
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "t", "end");
    stream_send(m);
}

void measure_outcome_free(measure_outcome *out)
{
    cJSON_Delete(out->head);
    cJSON_Delete(out->reps);
    out->head = out->reps = NULL;
}

static void take_message(measure_outcome *out, const char *line)
{
    cJSON *m = cJSON_Parse(line);
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "t"));
    if (!t) {
        cJSON_Delete(m);
        return;
    }
    if (strcmp(t, "phase") == 0) {
        const char *ph = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "phase"));
        snprintf(out->phase, sizeof out->phase, "%s", ph ? ph : "");
        out->phase_rep = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "rep"));
    } else if (strcmp(t, "head") == 0) {
        measure_outcome_free(out);
        out->head = cJSON_DetachItemFromObjectCaseSensitive(m, "head");
        out->reps = cJSON_CreateArray();
        out->reps_planned =
            (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "planned"));
    } else if (strcmp(t, "rep") == 0 && out->reps) {
        cJSON_AddItemToArray(out->reps, cJSON_DetachItemFromObjectCaseSensitive(m, "rep"));
    } else if (strcmp(t, "end") == 0) {
        measure_outcome_free(out);
        out->phase[0] = '\0';
    }
    cJSON_Delete(m);
}

static pid_t running_child;

static void pass_on(int sig)
{
    if (running_child > 0) kill(running_child, sig);
}

static void keep_tail(measure_outcome *out, const char *buf, size_t n)
{
    size_t cap = sizeof out->log_tail - 1, have = strlen(out->log_tail);
    if (n >= cap) {
        memcpy(out->log_tail, buf + n - cap, cap);
        out->log_tail[cap] = '\0';
        return;
    }
    if (have + n > cap) {
        size_t drop = have + n - cap;
        memmove(out->log_tail, out->log_tail + drop, have - drop);
        have -= drop;
    }
    memcpy(out->log_tail + have, buf, n);
    out->log_tail[have + n] = '\0';
}

/* What a non-blocking pipe has now: > 0 bytes, 0 when nothing is there
 * yet, -1 once it is closed (and then p->fd is -1, which poll skips). */
static ssize_t read_now(struct pollfd *p, char *buf, size_t cap)
{
    while (p->fd >= 0) {
        ssize_t n = read(p->fd, buf, cap);
        if (n > 0) return n;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 0;
        p->fd = -1;
    }
    return -1;
}

void measure_in_child(int (*fn)(void *), void *arg, measure_outcome *out)
{
    memset(out, 0, sizeof *out);
    int msg[2], err[2];
    if (pipe2(msg, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
        snprintf(out->end.start_error, sizeof out->end.start_error, "pipe: %s", strerror(errno));
        return;
    }
    uint64_t oom0 = eb_oom_kills();
    double t0 = eb_now();
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* the child dies with its parent, and a crash of a large model
         * writes no core file of its size */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(EXIT_FAILURE);
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        /* ggml's backtrace on a crash attaches gdb to this process: under
         * a memory limit gdb fails half-way, and its output (NUL bytes
         * among it) is no message; the parent says how the child ended */
        setenv("GGML_NO_BACKTRACE", "1", 0);
        /* a shell starts background jobs with SIGINT ignored: the parent's
         * passing it on (and a terminal's Ctrl-C) must stop the child */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        close(msg[0]);
        close(err[0]);
        dup2(err[1], STDERR_FILENO);
        close(err[1]);
        stream_fd = msg[1];
        int code = fn(arg);
        fflush(NULL);
        _exit(code);
    }
    close(msg[1]);
    close(err[1]);
    if (pid < 0) {
        snprintf(out->end.start_error, sizeof out->end.start_error, "fork: %s", strerror(errno));
        close(msg[0]);
        close(err[0]);
        return;
    }
    out->end.started = true;
    running_child = pid;
    struct sigaction sa = {.sa_handler = pass_on}, old_int, old_term, old_hup;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);

    size_t cap = 1 << 16, len = 0;
    char *line = malloc(cap);
    struct pollfd fds[2] = {{.fd = msg[0], .events = POLLIN}, {.fd = err[0], .events = POLLIN}};
    fcntl(msg[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    char buf[8192];
    bool exited = false;
    /* Until the child has ended and both pipes are drained; a process it
     * started that still holds its stderr does not keep us waiting. */
    for (;;) {
        if (!exited && poll(fds, 2, 100) < 0 && errno != EINTR) break;
        bool got = false;
        ssize_t n;
        while ((n = read_now(&fds[1], buf, sizeof buf)) > 0) {
            got = true;
            /* a NUL would end the log as a string (the reason read from it) */
            for (ssize_t i = 0; i < n; i++)
                if (buf[i] == '\0') buf[i] = ' ';
            fwrite(buf, 1, (size_t)n, stderr);
            keep_tail(out, buf, (size_t)n);
        }
        while ((n = read_now(&fds[0], buf, sizeof buf)) > 0) {
            got = true;
            for (ssize_t i = 0; i < n && line; i++) {
                if (buf[i] == '\n') {
                    line[len] = '\0';
                    take_message(out, line);
                    len = 0;
                    continue;
                }
                if (len + 2 > cap) {
                    char *g = realloc(line, cap * 2);
                    if (!g) free(line);
                    line = g;
                    cap *= 2;
                    if (!line) break;
                }
                line[len++] = buf[i];
            }
        }
        if (fds[0].fd < 0 && fds[1].fd < 0 && !exited) {
            while (waitpid(pid, &out->end.status, 0) < 0 && errno == EINTR) {
            }
            exited = true;
            break;
        }
        if (exited && !got) break;
        if (!exited && waitpid(pid, &out->end.status, WNOHANG) == pid) exited = true;
    }
    free(line);
    close(msg[0]);
    close(err[0]);
    if (!exited)
        while (waitpid(pid, &out->end.status, 0) < 0 && errno == EINTR) {
        }
    running_child = 0;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    out->end.seconds = eb_now() - t0;
    out->end.oom = eb_oom_kills() > oom0;
    out->exit_code = WIFEXITED(out->end.status) ? WEXITSTATUS(out->end.status) : -1;
}
