#include "edgebench/util.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

double eb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double eb_thread_cpu_s(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void eb_utc_iso8601(time_t t, char *out, size_t cap)
{
    struct tm tmv;
    gmtime_r(&t, &tmv);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tmv);
}

void eb_path_join(char *out, size_t cap, const char *root, const char *path)
{
    if (!root || !root[0] || (root[0] == '/' && root[1] == '\0')) {
        snprintf(out, cap, "%s", path);
        return;
    }
    size_t rl = strlen(root);
    while (rl > 1 && root[rl - 1] == '/')
        rl--;
    snprintf(out, cap, "%.*s%s%s", (int)rl, root, path[0] == '/' ? "" : "/", path);
}

eb_status eb_read_text(const char *path, char *buf, size_t cap, eb_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return eb_fail(err, EB_E_IO, "%s: %s", path, strerror(errno));
    size_t used = 0;
    while (used + 1 < cap) {
        ssize_t r = read(fd, buf + used, cap - 1 - used);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            return eb_fail(err, EB_E_IO, "%s: %s", path, strerror(e));
        }
        if (r == 0) break;
        used += (size_t)r;
    }
    buf[used] = '\0';
    close(fd);
    return EB_OK;
}

bool eb_read_line(const char *path, char *out, size_t cap)
{
    if (eb_read_text(path, out, cap, NULL) != EB_OK) return false;
    out[strcspn(out, "\n")] = '\0';
    return true;
}

bool eb_text_field(const char *text, const char *key, const char *seps, char *out, size_t cap)
{
    size_t kl = strlen(key);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, key, kl) == 0 && line[kl] && strchr(seps, line[kl])) {
            const char *v = line + kl;
            while (*v && strchr(seps, *v))
                v++;
            const char *end = strchr(v, '\n');
            size_t n = end ? (size_t)(end - v) : strlen(v);
            while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
                n--;
            if (n >= cap) n = cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return true;
        }
        line = strchr(line, '\n');
        if (line) line++;
    }
    return false;
}

bool eb_parse_long(const char *s, long min, long max, long *out)
{
    if (!s || !*s) return false;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max) return false;
    *out = v;
    return true;
}

eb_status eb_mkdirs(const char *path, eb_error *err)
{
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return eb_fail(err, EB_E_INVALID_ARG, "path too long: %s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return eb_fail(err, EB_E_IO, "cannot create %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return eb_fail(err, EB_E_IO, "cannot create %s: %s", buf, strerror(errno));
    return EB_OK;
}

eb_status eb_cache_dir(char *out, size_t cap, eb_error *err)
{
    const char *c = getenv("EDGEBENCH_CACHE");
    const char *x = getenv("XDG_CACHE_HOME");
    const char *h = getenv("HOME");
    int n;
    if (c && *c)
        n = snprintf(out, cap, "%s", c);
    else if (x && *x)
        n = snprintf(out, cap, "%s/edgebench", x);
    else if (h && *h)
        n = snprintf(out, cap, "%s/.cache/edgebench", h);
    else
        return eb_fail(err, EB_E_INVALID_ARG, "no cache directory: set EDGEBENCH_CACHE or HOME");
    if (n < 0 || (size_t)n >= cap) return eb_fail(err, EB_E_INVALID_ARG, "cache path too long");
    return eb_mkdirs(out, err);
}

void eb_sleep(double s)
{
    if (!(s > 0)) return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

bool eb_find_program(const char *name, char *out, size_t cap)
{
    if (strchr(name, '/')) {
        snprintf(out, cap, "%s", name);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (!path) path = "/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        snprintf(out, cap, "%.*s/%s", (int)len, path, name);
        if (len > 0 && access(out, X_OK) == 0) return true;
        path += len + (path[len] == ':');
    }
    return false;
}

int eb_run_program(const char *const argv[], char *out, size_t cap)
{
    return eb_run_program_log(argv, out, cap, NULL);
}

int eb_run_program_log(const char *const argv[], char *out, size_t cap, const char *err_log)
{
    int pipefd[2];
    if (pipe(pipefd) != 0) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    if (err_log)
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_log, O_WRONLY | O_CREAT | O_APPEND,
                                         0644);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    size_t n = 0;
    char sink[512];
    for (ssize_t r; rc == 0;) {
        bool keep = out && n + 1 < cap;
        r = read(pipefd[0], keep ? out + n : sink, keep ? cap - 1 - n : sizeof sink);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (keep) n += (size_t)r;
    }
    if (out && cap) out[n] = '\0';
    close(pipefd[0]);
    if (rc != 0) return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

uint64_t eb_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t eb_fnv1a(uint64_t h, const char *s)
{
    return eb_fnv1a_bytes(h, s, strlen(s));
}

uint64_t eb_fnv1a_bytes(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

void eb_format_double(char *buf, size_t cap, double v)
{
    /* whole numbers (counts, sizes, most of a store's cells): the same text
     * "%.15g" gives, without the floating-point formatter */
    if (fabs(v) < 1e15 && v == (double)(long long)v && !(v == 0 && signbit(v))) {
        snprintf(buf, cap, "%lld", (long long)v);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

char *eb_read_file(const char *path, eb_error *err)
{
    return eb_read_file_len(path, NULL, err);
}

char *eb_read_file_len(const char *path, size_t *len_out, eb_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        eb_fail(err, EB_E_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *all = NULL;
    size_t len = 0, got;
    FILE *mem = open_memstream(&all, &len);
    char buf[65536];
    while (mem && (got = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, got, mem);
    bool failed = !mem || ferror(f);
    fclose(f);
    if (mem && fclose(mem) != 0) failed = true;
    if (failed || !all) {
        free(all);
        eb_fail(err, EB_E_IO, "%s: cannot read", path);
        return NULL;
    }
    if (len_out) *len_out = len;
    return all;
}

const char *eb_strstr_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return hay;
    return n == 0 ? hay : NULL;
}

void eb_print_wrapped(FILE *f, const char *first, const char *indent, const char *text, int width)
{
    int col = fprintf(f, "%s", first);
    int ind = (int)strlen(indent);
    bool line_start = true;
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t w = strcspn(p, " ");
        if (!w) break;
        if (!line_start && col + 1 + (int)w > width) {
            fprintf(f, "\n%s", indent);
            col = ind;
            line_start = true;
        }
        if (!line_start) fputc(' ', f), col++;
        fwrite(p, 1, w, f);
        col += (int)w;
        line_start = false;
        p += w;
    }
    fputc('\n', f);
}

void eb_few_words(const char *why, size_t whole_max, char *out, size_t cap)
{
    size_t n = strlen(why);
    if (n > whole_max) {
        size_t k = strcspn(why, "(;");
        while (k > 0 && why[k - 1] == ' ')
            k--;
        if (k > 0) n = k;
    }
    if (n <= 90) {
        snprintf(out, cap, "%.*s", (int)n, why);
        return;
    }
    /* still long: cut at a word, said with "..." */
    size_t cut = 90;
    while (cut > 40 && why[cut] != ' ')
        cut--;
    snprintf(out, cap, "%.*s ...", (int)cut, why);
}
