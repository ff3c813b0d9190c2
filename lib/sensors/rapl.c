/* RAPL through powercap: cumulative energy counters per zone. package and
 * dram make up the total; core/uncore are inside package; psys, where
 * present, is the whole platform and replaces them; MMIO zones duplicate the
 * MSR ones and are dropped. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgebench/sensors.h"
#include "edgebench/util.h"

typedef struct rapl_state {
    eb_source base;
    int fd[EB_MAX_CHANNELS];
    uint64_t last_uj[EB_MAX_CHANNELS];
    uint64_t range_uj[EB_MAX_CHANNELS];
    double acc_j[EB_MAX_CHANNELS];
    bool primed[EB_MAX_CHANNELS];
} rapl_state;

/* MSR zones before MMIO ones, so that the MMIO duplicates are the ones dropped. */
static int zone_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    bool mx = strncmp(x, "intel-rapl-mmio", 15) == 0, my = strncmp(y, "intel-rapl-mmio", 15) == 0;
    if (mx != my) return mx ? 1 : -1;
    return strcmp(x, y);
}

static eb_probe rapl_probe(const eb_probe_ctx *ctx, eb_source **out, char *reason, size_t cap)
{
    char dir[1024];
    eb_path_join(dir, sizeof dir, ctx->root, "/sys/class/powercap");
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(reason, cap, "no %s (no RAPL: not Intel/AMD, or a VM)", dir);
        return EB_PROBE_ABSENT;
    }
    char **zones = NULL;
    int nz = 0, zcap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "intel-rapl", 10) != 0) continue;
        if (nz == zcap) {
            zcap = zcap ? zcap * 2 : 16;
            char **grown = realloc(zones, (size_t)zcap * sizeof *grown);
            if (!grown) break;
            zones = grown;
        }
        if ((zones[nz] = strdup(e->d_name))) nz++;
    }
    closedir(d);
    if (nz) qsort(zones, (size_t)nz, sizeof zones[0], zone_cmp);

    rapl_state *s = calloc(1, sizeof *s);
    if (!s) {
        for (int i = 0; i < nz; i++)
            free(zones[i]);
        free(zones);
        snprintf(reason, cap, "out of memory");
        return EB_PROBE_ABSENT;
    }
    int denied = 0;
    bool has_psys = false;
    char names[EB_MAX_CHANNELS][32];
    for (int i = 0; i < nz; i++) {
        char p[1400], name[32];
        snprintf(p, sizeof p, "%s/%s/name", dir, zones[i]);
        if (!eb_read_line(p, name, sizeof name)) continue;
        bool mmio = strncmp(zones[i], "intel-rapl-mmio", 15) == 0;
        bool dup = false;
        for (int k = 0; k < s->base.n_channels; k++)
            if (strcmp(names[k], name) == 0) dup = true;
        if (mmio && dup) continue;
        /* the dram and core zones of each package share a name */
        char label[64];
        snprintf(label, sizeof label, dup ? "%s@%s" : "%s", name, zones[i]);
        char chname[72];
        snprintf(chname, sizeof chname, "rapl:%s", label);
        if (!eb_source_room(&s->base, chname)) continue;
        snprintf(p, sizeof p, "%s/%s/energy_uj", dir, zones[i]);
        int fd = eb_sysfs_open(p);
        if (fd < 0) {
            if (errno == EACCES || errno == EPERM) denied++;
            continue;
        }
        int c = s->base.n_channels++;
        s->fd[c] = fd;
        snprintf(names[c], sizeof names[c], "%s", name);
        snprintf(p, sizeof p, "%s/%s/max_energy_range_uj", dir, zones[i]);
        char rbuf[32];
        s->range_uj[c] = eb_read_line(p, rbuf, sizeof rbuf) ? strtoull(rbuf, NULL, 10) : 0;
        eb_channel *ch = &s->base.channels[c];
        snprintf(ch->name, sizeof ch->name, "%s", chname);
        ch->kind = EB_CH_ENERGY;
        /* powercap counts in uJ; the MSR's own unit (1/2^ESU J) is coarser */
        eb_channel_accuracy(ch, NAN, NAN, 61.0e-6,
                            "RAPL: Intel's SDM documents the energy unit (2^-14 J = 61 uJ on "
                            "most parts), not the accuracy");
        ch->in_total = strncmp(name, "package", 7) == 0 || strcmp(name, "dram") == 0;
        if (strcmp(name, "psys") == 0) has_psys = true;
    }
    for (int i = 0; i < nz; i++)
        free(zones[i]);
    free(zones);
    if (has_psys)
        for (int c = 0; c < s->base.n_channels; c++)
            s->base.channels[c].in_total = s->base.channels[c].whole_device =
                strcmp(names[c], "psys") == 0;
    if (s->base.n_channels == 0) {
        free(s);
        if (denied) {
            snprintf(reason, cap,
                     "%s: energy_uj is readable by root only (since the fix for CVE-2020-8694); "
                     "run as root or make it readable",
                     dir);
            return EB_PROBE_NO_PERMISSION;
        }
        snprintf(reason, cap, "%s has no RAPL zones", dir);
        return EB_PROBE_ABSENT;
    }
    s->base.ops = &eb_source_rapl;
    *out = &s->base;
    return EB_PROBE_FOUND;
}

static bool rapl_read(eb_source *src, double *values)
{
    rapl_state *s = (rapl_state *)src;
    for (int c = 0; c < s->base.n_channels; c++) {
        uint64_t uj;
        if (!eb_sysfs_read_u64(s->fd[c], &uj)) return false;
        if (s->primed[c]) {
            /* The counter wraps at max_energy_range_uj. */
            uint64_t d =
                uj >= s->last_uj[c] ? uj - s->last_uj[c] : uj + s->range_uj[c] - s->last_uj[c];
            s->acc_j[c] += (double)d * 1e-6;
        }
        s->primed[c] = true;
        s->last_uj[c] = uj;
        values[c] = s->acc_j[c];
    }
    return true;
}

static void rapl_close(eb_source *src)
{
    rapl_state *s = (rapl_state *)src;
    for (int c = 0; c < s->base.n_channels; c++)
        close(s->fd[c]);
    free(s);
}

const eb_source_ops eb_source_rapl = {
    .name = "rapl",
    .description = "Intel/AMD RAPL energy counters (powercap)",
    .probe = rapl_probe,
    .read = rapl_read,
    .close = rapl_close,
};
