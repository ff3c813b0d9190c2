/* CPU frequency per cpufreq policy (scaling_cur_freq, kHz) and temperature
 * per thermal zone (temp, millidegrees), sampled beside power so that each
 * phase has its clock and its heat. Neither is part of the energy total. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgebench/knobs.h"
#include "edgebench/sensors.h"
#include "edgebench/util.h"

typedef struct fd_source {
    eb_source base;
    int fd[EB_MAX_CHANNELS];
    double scale[EB_MAX_CHANNELS]; /* raw value -> channel unit */
} fd_source;

static int name_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t lx = strlen(x), ly = strlen(y); /* thermal_zone10 after thermal_zone9 */
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

/* Entries of dir starting with prefix, in natural order; returns the count. */
static int list_prefixed(const char *dir, const char *prefix, char names[][64], int max)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    char *tmp[EB_MAX_CHANNELS * 4];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < (int)(sizeof tmp / sizeof tmp[0]))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) tmp[n++] = strdup(e->d_name);
    closedir(d);
    qsort(tmp, (size_t)n, sizeof tmp[0], name_cmp);
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (tmp[i] && kept < max) snprintf(names[kept++], 64, "%s", tmp[i]);
        free(tmp[i]);
    }
    return kept;
}

static eb_probe finish(fd_source *s, const eb_source_ops *ops, eb_source **out, char *reason,
                       size_t cap, const char *dir)
{
    if (s->base.n_channels == 0) {
        free(s);
        snprintf(reason, cap, "nothing readable in %s", dir);
        return EB_PROBE_ABSENT;
    }
    s->base.ops = ops;
    *out = &s->base;
    return EB_PROBE_FOUND;
}

static eb_probe cpufreq_probe(const eb_probe_ctx *ctx, eb_source **out, char *reason, size_t cap)
{
    char dir[1024], names[EB_MAX_CHANNELS][16];
    eb_path_join(dir, sizeof dir, ctx->root, "/sys/devices/system/cpu/cpufreq");
    int n = eb_cpufreq_policies(ctx->root, names, EB_MAX_CHANNELS);
    if (n <= 0) {
        snprintf(reason, cap, "no cpufreq policies in %s (common in VMs)", dir);
        return EB_PROBE_ABSENT;
    }
    fd_source *s = calloc(1, sizeof *s);
    if (!s) return EB_PROBE_ABSENT;
    for (int i = 0; i < n; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s/%s/scaling_cur_freq", dir, names[i]);
        int fd = eb_sysfs_open(p);
        if (fd < 0) continue;
        int c = s->base.n_channels++;
        s->fd[c] = fd;
        s->scale[c] = 1e-3; /* kHz -> MHz */
        snprintf(s->base.channels[c].name, sizeof s->base.channels[c].name, "cpufreq:%s", names[i]);
        s->base.channels[c].kind = EB_CH_FREQ;
    }
    return finish(s, &eb_source_cpufreq, out, reason, cap, dir);
}

static eb_probe thermal_probe(const eb_probe_ctx *ctx, eb_source **out, char *reason, size_t cap)
{
    char dir[1024], names[EB_MAX_CHANNELS][64];
    eb_path_join(dir, sizeof dir, ctx->root, "/sys/class/thermal");
    int n = list_prefixed(dir, "thermal_zone", names, EB_MAX_CHANNELS);
    if (n <= 0) {
        snprintf(reason, cap, "no thermal zones in %s", dir);
        return EB_PROBE_ABSENT;
    }
    fd_source *s = calloc(1, sizeof *s);
    if (!s) return EB_PROBE_ABSENT;
    for (int i = 0; i < n; i++) {
        char p[1200], type[40];
        snprintf(p, sizeof p, "%s/%s/type", dir, names[i]);
        if (!eb_read_line(p, type, sizeof type)) snprintf(type, sizeof type, "%s", names[i]);
        snprintf(p, sizeof p, "%s/%s/temp", dir, names[i]);
        int fd = eb_sysfs_open(p);
        if (fd < 0) continue;
        int c = s->base.n_channels++;
        s->fd[c] = fd;
        s->scale[c] = 1e-3; /* millidegrees -> degrees */
        snprintf(s->base.channels[c].name, sizeof s->base.channels[c].name, "thermal:%s", type);
        s->base.channels[c].kind = EB_CH_TEMP;
    }
    return finish(s, &eb_source_thermal, out, reason, cap, dir);
}

static bool fd_read(eb_source *src, double *values)
{
    fd_source *s = (fd_source *)src;
    for (int c = 0; c < s->base.n_channels; c++) {
        int64_t v;
        values[c] = eb_sysfs_read_i64(s->fd[c], &v) ? (double)v * s->scale[c] : (double)NAN;
    }
    return true;
}

static void fd_close(eb_source *src)
{
    fd_source *s = (fd_source *)src;
    for (int c = 0; c < s->base.n_channels; c++)
        close(s->fd[c]);
    free(s);
}

const eb_source_ops eb_source_cpufreq = {
    .name = "cpufreq",
    .description = "CPU clock per cpufreq policy (scaling_cur_freq)",
    .probe = cpufreq_probe,
    .read = fd_read,
    .close = fd_close,
};

/* Some thermal zones (ACPI) take milliseconds to read: their own cadence. */
const eb_source_ops eb_source_thermal = {
    .name = "thermal",
    .description = "temperature per thermal zone",
    .min_interval_s = 0.1,
    .probe = thermal_probe,
    .read = fd_read,
    .close = fd_close,
};
