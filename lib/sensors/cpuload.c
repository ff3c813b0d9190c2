/* CPU load from /proc/stat: the machine's busy share, the share of it that
 * other processes took (this process's own CPU time from /proc/self/stat
 * taken out), the hypervisor's steal, and each core's busy share; each a
 * percentage over the interval since the last read. What a run needs to
 * know whether something else ran beside it, and what the monitor shows
 * per core. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgebench/sensors.h"
#include "edgebench/util.h"

#define MAX_CORES (EB_MAX_CHANNELS - 3)

typedef struct cpu_times {
    double busy, total, steal;
} cpu_times;

typedef struct load_source {
    eb_source base;
    int fd_stat, fd_self;
    int n_cores;
    bool have_prev;
    cpu_times prev_all, prev_core[MAX_CORES];
    double prev_self;             /* ticks */
    double last[EB_MAX_CHANNELS]; /* the figures of the last interval */
    char buf[64 * 1024];
} load_source;

/* "cpu  user nice system idle iowait irq softirq steal guest guest_nice":
 * busy leaves out idle, iowait and steal (guest time is inside user). */
static bool parse_line(const char *p, cpu_times *t)
{
    unsigned long long v[8] = {0};
    int n = sscanf(p, "%*s %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
    if (n < 4) return false;
    t->busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6]);
    t->steal = (double)v[7];
    t->total = t->busy + (double)(v[3] + v[4]) + t->steal;
    return true;
}

/* The whole machine and each core ("cpuN" in order); false when unreadable. */
static bool read_stat(load_source *s, cpu_times *all, cpu_times *core, int *n_core)
{
    ssize_t n = pread(s->fd_stat, s->buf, sizeof s->buf - 1, 0);
    if (n <= 0) return false;
    s->buf[n] = '\0';
    bool ok = false;
    *n_core = 0;
    char *line = s->buf;
    /* the cpu lines come first */
    while (line && strncmp(line, "cpu", 3) == 0) {
        if (line[3] == ' ')
            ok = parse_line(line, all);
        else if (*n_core < MAX_CORES && parse_line(line, &core[*n_core]))
            (*n_core)++;
        line = strchr(line, '\n');
        if (line) line++;
    }
    return ok;
}

/* This process's utime + stime, ticks (all its threads). */
static double self_ticks(load_source *s)
{
    char b[1024];
    ssize_t n = s->fd_self >= 0 ? pread(s->fd_self, b, sizeof b - 1, 0) : -1;
    if (n <= 0) return NAN;
    b[n] = '\0';
    const char *p = strrchr(b, ')');
    unsigned long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return NAN;
    return (double)(ut + st);
}

static eb_probe load_probe(const eb_probe_ctx *ctx, eb_source **out, char *reason, size_t cap)
{
    char path[1024];
    eb_path_join(path, sizeof path, ctx->root, "/proc/stat");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(reason, cap, "no %s", path);
        return EB_PROBE_ABSENT;
    }
    load_source *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        snprintf(reason, cap, "out of memory");
        return EB_PROBE_ABSENT;
    }
    s->base.ops = &eb_source_cpuload;
    s->fd_stat = fd;
    eb_path_join(path, sizeof path, ctx->root, "/proc/self/stat");
    s->fd_self = open(path, O_RDONLY | O_CLOEXEC);
    cpu_times all, core[MAX_CORES];
    if (!read_stat(s, &all, core, &s->n_cores)) {
        close(fd);
        if (s->fd_self >= 0) close(s->fd_self);
        free(s);
        snprintf(reason, cap, "%s has no cpu line", path);
        return EB_PROBE_ABSENT;
    }
    static const char *const names[] = {"cpu:busy", "cpu:other", "cpu:steal"};
    for (int c = 0; c < 3; c++) {
        snprintf(s->base.channels[c].name, sizeof s->base.channels[c].name, "%s", names[c]);
        s->base.channels[c].kind = EB_CH_LOAD;
    }
    s->base.n_channels = 3;
    for (int c = 0; c < s->n_cores; c++) {
        eb_channel *ch = &s->base.channels[s->base.n_channels++];
        snprintf(ch->name, sizeof ch->name, "cpu%d:busy", c);
        ch->kind = EB_CH_LOAD;
    }
    *out = &s->base;
    return EB_PROBE_FOUND;
}

static double pct(double part, double whole)
{
    return whole > 0 ? 100.0 * part / whole : NAN;
}

static bool load_read(eb_source *src, double *values)
{
    load_source *s = (load_source *)src;
    cpu_times all, core[MAX_CORES];
    int n_core = 0;
    double self = self_ticks(s);
    for (int c = 0; c < s->base.n_channels; c++)
        values[c] = NAN;
    if (!read_stat(s, &all, core, &n_core)) return true;
    /* at least two ticks of every CPU: shorter, the shares are mostly 0
     * or 100 % of one tick */
    if (s->have_prev && all.total - s->prev_all.total < 2.0 * (s->n_cores > 0 ? s->n_cores : 1)) {
        /* read again within a tick: nothing counted yet, the last figures
         * stand (and the interval goes on from the last read) */
        memcpy(values, s->last, (size_t)s->base.n_channels * sizeof *values);
        return true;
    }
    if (s->have_prev) {
        double total = all.total - s->prev_all.total, busy = all.busy - s->prev_all.busy;
        values[0] = pct(busy, total);
        /* ticks of all CPUs together: this process's ticks are of the same clock */
        double own = self - s->prev_self;
        values[1] = isnan(own) ? NAN : pct(fmax(0.0, busy - own), total);
        values[2] = pct(all.steal - s->prev_all.steal, total);
        for (int c = 0; c < n_core && c < s->n_cores; c++) {
            double ct = core[c].total - s->prev_core[c].total;
            /* a core with no tick of its own yet keeps its last figure */
            values[3 + c] = ct > 0 ? pct(core[c].busy - s->prev_core[c].busy, ct) : s->last[3 + c];
        }
    }
    memcpy(s->last, values, (size_t)s->base.n_channels * sizeof *values);
    s->prev_all = all;
    memcpy(s->prev_core, core, (size_t)n_core * sizeof *core);
    s->prev_self = self;
    s->have_prev = true;
    return true;
}

static void load_close(eb_source *src)
{
    load_source *s = (load_source *)src;
    close(s->fd_stat);
    if (s->fd_self >= 0) close(s->fd_self);
    free(s);
}

bool eb_cpu_others(const char *root, double window_s, double *other_pct, double *steal_pct)
{
    eb_probe_ctx ctx = {.root = root ? root : "/"};
    eb_source *src = NULL;
    char why[256];
    if (load_probe(&ctx, &src, why, sizeof why) != EB_PROBE_FOUND) return false;
    double v[EB_MAX_CHANNELS];
    load_read(src, v);
    eb_sleep(window_s);
    load_read(src, v);
    load_close(src);
    *other_pct = v[1];
    *steal_pct = v[2];
    return !isnan(v[1]);
}

const eb_source_ops eb_source_cpuload = {
    .name = "cpuload",
    .description = "CPU load from /proc/stat: busy, other processes' share, steal, per core",
    /* the kernel counts in ticks (10 ms at 100 Hz): a shorter interval
     * would read mostly zeros and ones */
    .min_interval_s = 0.1,
    .probe = load_probe,
    .read = load_read,
    .close = load_close,
};
