/* The GPU memory and GPU time of the measuring process itself, from the DRM
 * client usage stats its GPU file descriptors show (the kernel's
 * drm-usage-stats: /proc/self/fdinfo/<fd> of a /dev/dri node). Device-wide
 * sysfs files say what the whole GPU holds, and Intel's i915 and xe say
 * nothing of memory or load there: this is the one place an N100's iGPU
 * tells how much memory and time the run took on it.
 *
 * Per read: the process's file descriptors are listed (getdents64 into a
 * buffer on the stack: the sampler allocates nothing), each /dev/dri one's
 * fdinfo read, and each DRM client counted once (a client's fds share its
 * drm-client-id). Memory: a client's drm-resident-<region> summed (else
 * the older drm-memory-<region>, else drm-total-<region>), over clients.
 * Load: the busiest engine's share of the wall time since the last read
 * (drm-engine-<name> ns, divided by drm-engine-capacity-<name> where the
 * driver gives one). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "edgebench/sensors.h"
#include "edgebench/util.h"

#define MAX_CLIENTS 32
#define MAX_ENGINES 16

typedef struct fdinfo_source {
    eb_source base;
    char fd_dir[1024], info_dir[1024];
    /* each engine's busy time at the last read, summed over clients */
    char engine[MAX_ENGINES][32];
    double engine_ns[MAX_ENGINES];
    int n_engines;
    double last_t; /* monotonic seconds of the last read; 0: none yet */
} fdinfo_source;

typedef struct fdinfo_sums {
    double memory_b;
    char engine[MAX_ENGINES][32];
    double engine_ns[MAX_ENGINES];
    int n_engines;
    char client[MAX_CLIENTS][48]; /* "pdev/client-id" already counted */
    int n_clients;
    /* more clients or engines than the tables hold, or an fdinfo longer
     * than the buffer: the figures would be wrong, so they are none (NaN)
     * rather than a silent undercount */
    bool incomplete;
} fdinfo_sums;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* "123 KiB" -> bytes; a bare number is bytes */
static double bytes_of(const char *v)
{
    char *end;
    double x = strtod(v, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    if (!strncmp(end, "KiB", 3)) return x * 1024.0;
    if (!strncmp(end, "MiB", 3)) return x * 1048576.0;
    if (!strncmp(end, "GiB", 3)) return x * 1073741824.0;
    return x;
}

static int engine_slot(char (*names)[32], int *n, const char *name, size_t len)
{
    for (int i = 0; i < *n; i++)
        if (strlen(names[i]) == len && !strncmp(names[i], name, len)) return i;
    if (*n >= MAX_ENGINES) return -1;
    snprintf(names[*n], 32, "%.*s", (int)(len < 31 ? len : 31), name);
    return (*n)++;
}

/* One fdinfo file's text: added to sums unless its client was counted. */
static void add_client(fdinfo_sums *s, const char *text)
{
    char pdev[32] = "", id[24] = "";
    if (!strstr(text, "drm-driver:")) return; /* not a DRM client (an old kernel) */
    eb_text_field(text, "drm-pdev", ":\t ", pdev, sizeof pdev);
    eb_text_field(text, "drm-client-id", ":\t ", id, sizeof id);
    char key[48];
    snprintf(key, sizeof key, "%s/%s", pdev, id);
    for (int i = 0; i < s->n_clients; i++)
        if (id[0] && !strcmp(s->client[i], key)) return;
    if (s->n_clients < MAX_CLIENTS)
        snprintf(s->client[s->n_clients++], sizeof s->client[0], "%s", key);
    else
        s->incomplete = true;
    double capacity[MAX_ENGINES];
    for (int i = 0; i < MAX_ENGINES; i++)
        capacity[i] = 1;
    double busy[MAX_ENGINES] = {0};
    double resident_b = 0, memory_b = 0, total_b = 0; /* by the key family the driver uses */
    char names[MAX_ENGINES][32];
    int n_names = 0;
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        const char *colon = memchr(line, ':', len);
        if (colon && !strncmp(line, "drm-", 4)) {
            const char *k = line + 4, *v = colon + 1;
            size_t klen = (size_t)(colon - k);
            while (*v == ' ' || *v == '\t')
                v++;
            if (!strncmp(k, "resident-", 9))
                resident_b += bytes_of(v);
            else if (!strncmp(k, "memory-", 7))
                memory_b += bytes_of(v);
            else if (!strncmp(k, "total-", 6) && strncmp(k, "total-cycles-", 13))
                total_b += bytes_of(v);
            else if (!strncmp(k, "engine-capacity-", 16)) {
                int e = engine_slot(names, &n_names, k + 16, klen - 16);
                if (e >= 0 && atof(v) > 0) capacity[e] = atof(v);
            } else if (!strncmp(k, "engine-", 7)) {
                int e = engine_slot(names, &n_names, k + 7, klen - 7);
                if (e >= 0)
                    busy[e] = strtod(v, NULL);
                else
                    s->incomplete = true;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    s->memory_b += resident_b > 0 ? resident_b : memory_b > 0 ? memory_b : total_b;
    for (int i = 0; i < n_names; i++) {
        int e = engine_slot(s->engine, &s->n_engines, names[i], strlen(names[i]));
        if (e >= 0)
            s->engine_ns[e] += busy[i] / capacity[i];
        else
            s->incomplete = true;
    }
}

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Every DRM client of the process, summed; false when its fd list is
 * unreadable. */
static bool scan(const fdinfo_source *s, fdinfo_sums *sums)
{
    memset(sums, 0, sizeof *sums);
    int dfd = open(s->fd_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return false;
    char buf[4096] __attribute__((aligned(8)));
    long n;
    while ((n = syscall(SYS_getdents64, dfd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            off += d->d_reclen;
            if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
            char target[64];
            ssize_t tl = readlinkat(dfd, d->d_name, target, sizeof target - 1);
            if (tl <= 0) continue;
            target[tl] = '\0';
            if (strncmp(target, "/dev/dri/", 9) != 0) continue;
            char path[1100], text[16384];
            snprintf(path, sizeof path, "%s/%s", s->info_dir, d->d_name);
            int f = open(path, O_RDONLY | O_CLOEXEC);
            if (f < 0) continue;
            ssize_t got = read(f, text, sizeof text - 1);
            close(f);
            if (got <= 0) continue;
            if ((size_t)got == sizeof text - 1) sums->incomplete = true;
            text[got] = '\0';
            add_client(sums, text);
        }
    }
    close(dfd);
    return true;
}

static bool fdinfo_read(eb_source *src, double *values)
{
    fdinfo_source *s = (fdinfo_source *)src;
    fdinfo_sums sums;
    double now = mono_s();
    if (!scan(s, &sums)) {
        values[0] = values[1] = NAN;
        return true;
    }
    values[0] = sums.incomplete ? NAN : sums.memory_b / 1048576.0;
    /* the busiest engine since the last read; an engine that is new, or
     * whose time went back (a client closed), counts from now */
    double best = NAN;
    for (int i = 0; i < sums.n_engines; i++) {
        int known = s->n_engines;
        int e = engine_slot(s->engine, &s->n_engines, sums.engine[i], strlen(sums.engine[i]));
        if (e < 0) {
            sums.incomplete = true;
            continue;
        }
        if (s->last_t > 0 && e < known && sums.engine_ns[i] >= s->engine_ns[e] && now > s->last_t) {
            double pct = (sums.engine_ns[i] - s->engine_ns[e]) / ((now - s->last_t) * 1e9) * 100.0;
            if (pct > 100) pct = 100; /* the two clocks are read apart */
            if (isnan(best) || pct > best) best = pct;
        }
        s->engine_ns[e] = sums.engine_ns[i];
    }
    /* no GPU engine used yet: the process has not touched the GPU */
    values[1] = sums.n_clients == 0 ? 0 : sums.incomplete ? NAN : best;
    s->last_t = now;
    return true;
}

static void fdinfo_close(eb_source *src)
{
    free(src);
}

static void add_channel(fdinfo_source *s, const char *name, eb_channel_kind kind)
{
    if (!eb_source_room(&s->base, name)) return;
    eb_channel *ch = &s->base.channels[s->base.n_channels++];
    snprintf(ch->name, sizeof ch->name, "%s", name);
    ch->kind = kind;
    ch->gpu = true;
    ch->in_total = false;
}

/* Found where the machine has a DRM render node and the process's fdinfo
 * can be read: the channels read 0 until the process opens the GPU. */
static eb_probe fdinfo_probe(const eb_probe_ctx *ctx, eb_source **out, char *reason, size_t cap)
{
    char dir[1024];
    eb_path_join(dir, sizeof dir, ctx->root, "/sys/class/drm");
    DIR *d = opendir(dir);
    bool render = false;
    for (struct dirent *e; d && (e = readdir(d)) != NULL && !render;)
        render = !strncmp(e->d_name, "renderD", 7);
    if (d) closedir(d);
    if (!render) {
        snprintf(reason, cap,
                 "no DRM render node in %s: no GPU whose driver keeps per-process figures", dir);
        return EB_PROBE_ABSENT;
    }
    fdinfo_source *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(reason, cap, "out of memory");
        return EB_PROBE_ABSENT;
    }
    eb_path_join(s->fd_dir, sizeof s->fd_dir, ctx->root, "/proc/self/fd");
    eb_path_join(s->info_dir, sizeof s->info_dir, ctx->root, "/proc/self/fdinfo");
    if (access(s->info_dir, R_OK | X_OK) != 0) {
        snprintf(reason, cap, "%s is not readable", s->info_dir);
        free(s);
        return EB_PROBE_NO_PERMISSION;
    }
    add_channel(s, "gpumem:process", EB_CH_MEMORY);
    add_channel(s, "gpuload:process", EB_CH_LOAD);
    s->base.ops = &eb_source_drm_fdinfo;
    /* a first read as the baseline of the engines' time, so that the
     * sampler's first read is already a share of time */
    double first[2];
    fdinfo_read(&s->base, first);
    *out = &s->base;
    return EB_PROBE_FOUND;
}

const eb_source_ops eb_source_drm_fdinfo = {
    .name = "drm-fdinfo",
    .description =
        "this process's GPU memory and busiest engine (DRM client usage stats in fdinfo)",
    .min_interval_s = 0.1,
    .probe = fdinfo_probe,
    .read = fdinfo_read,
    .close = fdinfo_close,
};
