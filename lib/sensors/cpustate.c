/* CPU frequency per cpufreq policy (scaling_cur_freq, kHz) and temperature
 * per thermal zone (temp, millidegrees), sampled beside power so that each
 * phase has its clock and its heat. And the Jetson's integrated GPU, which
 * NVML does not see: its clock from devfreq (cur_freq, Hz), its load
 * (permille) and the unified memory its driver holds (NvMapMemUsed in
 * /proc/meminfo, kB), sampled so that the memory timeline shows when the GPU
 * takes memory and when the process does. And a DRM GPU's (an iGPU's, an
 * APU's) clock, load and memory from its driver's sysfs files. None is part
 * of the energy total. */
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

/* Every entry of dir starting with prefix, in natural order, in a new
 * array of new strings (eb_free_names); returns the count, -1 without dir. */
static int list_prefixed(const char *dir, const char *prefix, char ***names)
{
    *names = NULL;
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **grown = realloc(*names, (size_t)cap * sizeof *grown);
            if (!grown) break;
            *names = grown;
        }
        if (((*names)[n] = strdup(e->d_name))) n++;
    }
    closedir(d);
    if (n) qsort(*names, (size_t)n, sizeof **names, name_cmp);
    return n;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
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

static bool add_fd(fd_source *s, const char *path, eb_channel_kind kind, double scale,
                   const char *name)
{
    int c = s->base.n_channels;
    if (!eb_source_room(&s->base, name)) return false;
    int fd = eb_sysfs_open(path);
    if (fd < 0) return false;
    s->fd[c] = fd;
    s->scale[c] = scale;
    snprintf(s->base.channels[c].name, sizeof s->base.channels[c].name, "%s", name);
    s->base.channels[c].kind = kind;
    s->base.n_channels++;
    return true;
}

static eb_probe cpufreq_probe(const eb_probe_ctx *ctx, eb_source **out, char *reason, size_t cap)
{
    char dir[1024], (*names)[16];
    eb_path_join(dir, sizeof dir, ctx->root, "/sys/devices/system/cpu/cpufreq");
    int n = eb_cpufreq_policies(ctx->root, &names);
    if (n <= 0) {
        snprintf(reason, cap, "no cpufreq policies in %s (common in VMs)", dir);
        return EB_PROBE_ABSENT;
    }
    fd_source *s = calloc(1, sizeof *s);
    if (!s) {
        free(names);
        return EB_PROBE_ABSENT;
    }
    for (int i = 0; i < n; i++) {
        char p[1200];
        char name[64];
        snprintf(p, sizeof p, "%s/%s/scaling_cur_freq", dir, names[i]);
        snprintf(name, sizeof name, "cpufreq:%s", names[i]);
        add_fd(s, p, EB_CH_FREQ, 1e-3, name); /* kHz -> MHz */
    }
    free(names);
    return finish(s, &eb_source_cpufreq, out, reason, cap, dir);
}

static eb_probe thermal_probe(const eb_probe_ctx *ctx, eb_source **out, char *reason, size_t cap)
{
    char dir[1024], **names;
    eb_path_join(dir, sizeof dir, ctx->root, "/sys/class/thermal");
    int n = list_prefixed(dir, "thermal_zone", &names);
    if (n <= 0) {
        free_names(names, 0);
        snprintf(reason, cap, "no thermal zones in %s", dir);
        return EB_PROBE_ABSENT;
    }
    fd_source *s = calloc(1, sizeof *s);
    if (!s) {
        free_names(names, n);
        return EB_PROBE_ABSENT;
    }
    for (int i = 0; i < n; i++) {
        char p[1200], type[40];
        snprintf(p, sizeof p, "%s/%s/type", dir, names[i]);
        if (!eb_read_line(p, type, sizeof type)) snprintf(type, sizeof type, "%s", names[i]);
        char name[64];
        snprintf(p, sizeof p, "%s/%s/temp", dir, names[i]);
        snprintf(name, sizeof name, "thermal:%.50s", type);
        add_fd(s, p, EB_CH_TEMP, 1e-3, name); /* millidegrees -> degrees */
    }
    free_names(names, n);
    return finish(s, &eb_source_thermal, out, reason, cap, dir);
}

/* A devfreq device that is the GPU: named after its node (17000000.gpu)
 * or its Tegra GPU generation. */
static bool is_gpu_devfreq(const char *name)
{
    return strstr(name, "gpu") || strstr(name, "ga10b") || strstr(name, "gv11b") ||
           strstr(name, "gp10b");
}

/* Where JetPack releases put the GPU's load file, after the devfreq
 * device's own link. */
static const char *const load_paths[] = {
    "/sys/devices/platform/bus@0/17000000.gpu/load",
    "/sys/devices/platform/17000000.gpu/load",
    "/sys/devices/platform/17000000.ga10b/load",
    "/sys/devices/17000000.ga10b/load",
    "/sys/devices/platform/gpu.0/load",
    "/sys/devices/gpu.0/load",
};

static eb_probe jetson_gpu_probe(const eb_probe_ctx *ctx, eb_source **out, char *reason, size_t cap)
{
    char dir[1024];
    eb_path_join(dir, sizeof dir, ctx->root, "/sys/class/devfreq");
    fd_source *s = calloc(1, sizeof *s);
    if (!s) return EB_PROBE_ABSENT;
    bool have_load = false;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !is_gpu_devfreq(e->d_name)) continue;
        char p[1400], name[64];
        snprintf(p, sizeof p, "%s/%s/cur_freq", dir, e->d_name);
        snprintf(name, sizeof name, "gpufreq:%.50s", e->d_name);
        add_fd(s, p, EB_CH_FREQ, 1e-6, name); /* Hz -> MHz */
        snprintf(p, sizeof p, "%s/%s/device/load", dir, e->d_name);
        snprintf(name, sizeof name, "gpuload:%.50s", e->d_name);
        if (!have_load) have_load = add_fd(s, p, EB_CH_LOAD, 0.1, name); /* permille -> % */
    }
    if (d) closedir(d);
    for (size_t i = 0; !have_load && i < sizeof load_paths / sizeof load_paths[0]; i++) {
        char p[1024];
        eb_path_join(p, sizeof p, ctx->root, load_paths[i]);
        have_load = add_fd(s, p, EB_CH_LOAD, 0.1, "gpuload:gpu");
    }
    if (s->base.n_channels == 0) {
        free(s);
        snprintf(reason, cap, "no GPU devfreq device in %s and no GPU load file (not a Jetson)",
                 dir);
        return EB_PROBE_ABSENT;
    }
    for (int c = 0; c < s->base.n_channels; c++)
        s->base.channels[c].gpu = true;
    s->base.ops = &eb_source_jetson_gpu;
    *out = &s->base;
    return EB_PROBE_FOUND;
}

/* The driver of a DRM card (DRIVER= of its device's uevent). */
static void drm_driver(const char *card, char *out, size_t cap)
{
    char p[1200], text[2048];
    out[0] = '\0';
    snprintf(p, sizeof p, "%s/device/uevent", card);
    eb_error ignored = {0};
    if (eb_read_text(p, text, sizeof text, &ignored) == EB_OK)
        eb_text_field(text, "DRIVER", "=", out, cap);
}

/* A GPU of the DRM subsystem (an N100's or a mini PC's integrated GPU, an
 * AMD APU or card): its clock, load and memory where its driver exposes
 * them. amdgpu: gpu_busy_percent, mem_info_vram_used and mem_info_gtt_used
 * (bytes; an APU's GPU memory is mostly GTT, system memory it maps) and its
 * hwmon's freq1_input (Hz); i915: gt_act_freq_mhz; xe: the first GT's
 * act_freq (MHz). Intel's GPUs expose no load or memory figure here. */
static eb_probe drm_gpu_probe(const eb_probe_ctx *ctx, eb_source **out, char *reason, size_t cap)
{
    char dir[1024], **names;
    eb_path_join(dir, sizeof dir, ctx->root, "/sys/class/drm");
    int n = list_prefixed(dir, "card", &names);
    fd_source *s = n > 0 ? calloc(1, sizeof *s) : NULL;
    char seen[256] = "";
    for (int i = 0; s && i < n; i++) {
        if (strchr(names[i], '-')) continue; /* a connector: card0-HDMI-A-1 */
        char card[1200], drv[64], p[1400], name[64];
        snprintf(card, sizeof card, "%s/%s", dir, names[i]);
        drm_driver(card, drv, sizeof drv);
        size_t used = strlen(seen);
        snprintf(seen + used, sizeof seen - used, "%s%s (%s)", used ? ", " : "", names[i],
                 drv[0] ? drv : "driver unknown");
        if (!strcmp(drv, "amdgpu")) {
            snprintf(p, sizeof p, "%s/device/gpu_busy_percent", card);
            snprintf(name, sizeof name, "gpuload:%s", names[i]);
            add_fd(s, p, EB_CH_LOAD, 1, name);
            snprintf(p, sizeof p, "%s/device/mem_info_vram_used", card);
            snprintf(name, sizeof name, "gpumem:%s:vram", names[i]);
            add_fd(s, p, EB_CH_MEMORY, 1.0 / 1048576.0, name);
            snprintf(p, sizeof p, "%s/device/mem_info_gtt_used", card);
            snprintf(name, sizeof name, "gpumem:%s:gtt", names[i]);
            add_fd(s, p, EB_CH_MEMORY, 1.0 / 1048576.0, name);
            char hw[1300], **hws;
            snprintf(hw, sizeof hw, "%s/device/hwmon", card);
            int nh = list_prefixed(hw, "hwmon", &hws);
            if (nh > 0) {
                snprintf(p, sizeof p, "%s/%s/freq1_input", hw, hws[0]);
                snprintf(name, sizeof name, "gpufreq:%s", names[i]);
                add_fd(s, p, EB_CH_FREQ, 1e-6, name); /* Hz -> MHz */
            }
            free_names(hws, nh > 0 ? nh : 0);
        } else if (!strcmp(drv, "i915")) {
            snprintf(p, sizeof p, "%s/gt_act_freq_mhz", card);
            snprintf(name, sizeof name, "gpufreq:%s", names[i]);
            add_fd(s, p, EB_CH_FREQ, 1, name);
        } else if (!strcmp(drv, "xe")) {
            snprintf(p, sizeof p, "%s/device/tile0/gt0/freq0/act_freq", card);
            snprintf(name, sizeof name, "gpufreq:%s", names[i]);
            add_fd(s, p, EB_CH_FREQ, 1, name);
        }
    }
    free_names(names, n > 0 ? n : 0);
    if (!s || s->base.n_channels == 0) {
        free(s);
        snprintf(reason, cap,
                 "no amdgpu, i915 or xe GPU with readable clock, load or memory in %s%s%s%s", dir,
                 seen[0] ? " (cards: " : "", seen, seen[0] ? ")" : "");
        return EB_PROBE_ABSENT;
    }
    for (int c = 0; c < s->base.n_channels; c++)
        s->base.channels[c].gpu = true;
    s->base.ops = &eb_source_drm_gpu;
    *out = &s->base;
    return EB_PROBE_FOUND;
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

const eb_source_ops eb_source_jetson_gpu = {
    .name = "jetson-gpu",
    .description = "Jetson GPU clock (devfreq) and load",
    .probe = jetson_gpu_probe,
    .read = fd_read,
    .close = fd_close,
};

const eb_source_ops eb_source_drm_gpu = {
    .name = "drm-gpu",
    .description = "a DRM GPU's clock, load and memory (amdgpu, i915, xe sysfs)",
    .probe = drm_gpu_probe,
    .read = fd_read,
    .close = fd_close,
};

/* NvMapMemUsed from /proc/meminfo, re-read in place: no allocation. */
static bool nvmap_kb(int fd, double *kb)
{
    char buf[8192], v[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return false;
    buf[n] = '\0';
    if (!eb_text_field(buf, "NvMapMemUsed", ":", v, sizeof v)) return false;
    *kb = strtod(v, NULL);
    return true;
}

static eb_probe nvmap_probe(const eb_probe_ctx *ctx, eb_source **out, char *reason, size_t cap)
{
    char path[1024];
    eb_path_join(path, sizeof path, ctx->root, "/proc/meminfo");
    fd_source *s = calloc(1, sizeof *s);
    if (!s) return EB_PROBE_ABSENT;
    double kb;
    if (!add_fd(s, path, EB_CH_MEMORY, 1.0 / 1024.0, "nvmap:NvMapMemUsed") ||
        !nvmap_kb(s->fd[0], &kb)) {
        if (s->base.n_channels) close(s->fd[0]);
        free(s);
        snprintf(reason, cap, "no NvMapMemUsed in %s (not a Jetson)", path);
        return EB_PROBE_ABSENT;
    }
    s->base.channels[0].gpu = true;
    s->base.ops = &eb_source_nvmap;
    *out = &s->base;
    return EB_PROBE_FOUND;
}

static bool nvmap_read(eb_source *src, double *values)
{
    fd_source *s = (fd_source *)src;
    double kb;
    values[0] = nvmap_kb(s->fd[0], &kb) ? kb * s->scale[0] : (double)NAN;
    return true;
}

/* /proc/meminfo is long; a read takes tens of microseconds. */
const eb_source_ops eb_source_nvmap = {
    .name = "nvmap",
    .description = "Jetson unified memory held by the GPU driver (NvMapMemUsed)",
    .min_interval_s = 0.02,
    .probe = nvmap_probe,
    .read = nvmap_read,
    .close = fd_close,
};
