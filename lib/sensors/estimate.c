/* The last resort: CPU load x TDP, for devices with no power sensor at all.
 * Busy time from /proc/stat (all CPUs) makes a cumulative counter,
 * E = TDP x busy seconds / CPUs, so the integration is exact for the model;
 * the model itself is crude (idle power is not zero, TDP is not full-load
 * power) and every figure from it is labelled an estimate. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgebench/sensors.h"
#include "edgebench/util.h"

typedef struct estimate_state {
    eb_source base;
    int fd;
    double tdp_w;
    double ticks_per_s;
    int n_cpus;
} estimate_state;

/* Busy and total ticks from the aggregate "cpu" line, and the number of
 * per-CPU lines. */
static bool read_stat(int fd, unsigned long long *busy, int *n_cpus)
{
    char buf[8192];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return false;
    buf[n] = '\0';
    unsigned long long v[8] = {0};
    if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]) < 4)
        return false;
    /* user nice system idle iowait irq softirq steal: idle and iowait are not busy */
    *busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    if (n_cpus) {
        int c = 0;
        for (const char *p = strstr(buf, "\ncpu"); p; p = strstr(p + 1, "\ncpu"))
            c++;
        *n_cpus = c;
    }
    return true;
}

static eb_probe estimate_probe(const eb_probe_ctx *ctx, eb_source **out, char *reason, size_t cap)
{
    if (ctx->have_total) {
        snprintf(reason, cap, "not used: a measured source exists");
        return EB_PROBE_ABSENT;
    }
    if (!(ctx->tdp_w > 0)) {
        snprintf(reason, cap, "no TDP given (--tdp W enables a CPU-load x TDP estimate)");
        return EB_PROBE_ABSENT;
    }
    char path[1024];
    eb_path_join(path, sizeof path, ctx->root, "/proc/stat");
    int fd = eb_sysfs_open(path);
    unsigned long long busy;
    int n_cpus = 0;
    if (fd < 0 || !read_stat(fd, &busy, &n_cpus) || n_cpus < 1) {
        if (fd >= 0) close(fd);
        snprintf(reason, cap, "cannot read CPU times from %s", path);
        return EB_PROBE_ABSENT;
    }
    estimate_state *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return EB_PROBE_ABSENT;
    }
    s->fd = fd;
    s->tdp_w = ctx->tdp_w;
    s->n_cpus = n_cpus;
    long hz = sysconf(_SC_CLK_TCK);
    s->ticks_per_s = hz > 0 ? (double)hz : 100.0;
    eb_channel *ch = &s->base.channels[0];
    snprintf(ch->name, sizeof ch->name, "estimate:cpu-load-x-%.0fW", ctx->tdp_w);
    ch->kind = EB_CH_ENERGY;
    ch->in_total = true;
    ch->estimate = true;
    s->base.n_channels = 1;
    s->base.ops = &eb_source_cpu_estimate;
    *out = &s->base;
    return EB_PROBE_FOUND;
}

static bool estimate_read(eb_source *src, double *values)
{
    estimate_state *s = (estimate_state *)src;
    unsigned long long busy;
    if (!read_stat(s->fd, &busy, NULL)) return false;
    values[0] = s->tdp_w * ((double)busy / s->ticks_per_s) / s->n_cpus;
    return true;
}

static void estimate_close(eb_source *src)
{
    estimate_state *s = (estimate_state *)src;
    close(s->fd);
    free(s);
}

const eb_source_ops eb_source_cpu_estimate = {
    .name = "cpu-estimate",
    .description = "ESTIMATE: CPU load x TDP (no power sensor)",
    .probe = estimate_probe,
    .read = estimate_read,
    .close = estimate_close,
};
