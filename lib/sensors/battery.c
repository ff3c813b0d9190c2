/* Laptop/phone batteries (power_supply class): power_now (uW), or
 * voltage_now (uV) x current_now (uA). Only meaningful while discharging;
 * while on AC a reading is NaN, which the integration treats as a gap. Signs
 * differ between drivers, so magnitudes are used. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgebench/sensors.h"
#include "edgebench/util.h"

typedef struct battery_state {
    eb_source base;
    int fd_status[EB_MAX_CHANNELS];
    int fd_power[EB_MAX_CHANNELS];
    int fd_volt[EB_MAX_CHANNELS];
    int fd_curr[EB_MAX_CHANNELS];
} battery_state;

static eb_probe battery_probe(const eb_probe_ctx *ctx, eb_source **out, char *reason, size_t cap)
{
    char dir[1024];
    eb_path_join(dir, sizeof dir, ctx->root, "/sys/class/power_supply");
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(reason, cap, "no %s", dir);
        return EB_PROBE_ABSENT;
    }
    battery_state *s = calloc(1, sizeof *s);
    if (!s) {
        closedir(d);
        return EB_PROBE_ABSENT;
    }
    struct dirent *e;
    while ((e = readdir(d)) && s->base.n_channels < EB_MAX_CHANNELS) {
        if (e->d_name[0] == '.') continue;
        char p[1400], type[32];
        snprintf(p, sizeof p, "%s/%s/type", dir, e->d_name);
        if (!eb_read_line(p, type, sizeof type) || strcmp(type, "Battery") != 0) continue;
        int c = s->base.n_channels;
        snprintf(p, sizeof p, "%s/%s/status", dir, e->d_name);
        s->fd_status[c] = eb_sysfs_open(p);
        snprintf(p, sizeof p, "%s/%s/power_now", dir, e->d_name);
        s->fd_power[c] = eb_sysfs_open(p);
        snprintf(p, sizeof p, "%s/%s/voltage_now", dir, e->d_name);
        s->fd_volt[c] = eb_sysfs_open(p);
        snprintf(p, sizeof p, "%s/%s/current_now", dir, e->d_name);
        s->fd_curr[c] = eb_sysfs_open(p);
        bool usable = s->fd_status[c] >= 0 &&
                      (s->fd_power[c] >= 0 || (s->fd_volt[c] >= 0 && s->fd_curr[c] >= 0));
        if (!usable) {
            int fds[] = {s->fd_status[c], s->fd_power[c], s->fd_volt[c], s->fd_curr[c]};
            for (int k = 0; k < 4; k++)
                if (fds[k] >= 0) close(fds[k]);
            continue;
        }
        eb_channel *ch = &s->base.channels[c];
        snprintf(ch->name, sizeof ch->name, "battery:%s", e->d_name);
        ch->kind = EB_CH_POWER;
        eb_channel_accuracy(ch, NAN, NAN, 1e-6,
                            "battery fuel gauge: power_now in uW, accuracy not published");
        /* While discharging the battery feeds the whole device; on AC power
         * it says nothing about the device and stays out of the total. */
        char status[32] = "";
        snprintf(p, sizeof p, "%s/%s/status", dir, e->d_name);
        eb_read_line(p, status, sizeof status);
        ch->in_total = ch->whole_device = strcmp(status, "Discharging") == 0;
        s->base.n_channels++;
    }
    closedir(d);
    if (s->base.n_channels == 0) {
        free(s);
        snprintf(reason, cap, "no battery with power_now or voltage_now x current_now in %s", dir);
        return EB_PROBE_ABSENT;
    }
    s->base.ops = &eb_source_battery;
    *out = &s->base;
    return EB_PROBE_FOUND;
}

static bool battery_read(eb_source *src, double *values)
{
    battery_state *s = (battery_state *)src;
    for (int c = 0; c < s->base.n_channels; c++) {
        char st[16];
        ssize_t n = pread(s->fd_status[c], st, sizeof st - 1, 0);
        if (n <= 0) return false;
        st[n] = '\0';
        if (strncmp(st, "Discharging", 11) != 0) {
            values[c] = NAN;
            continue;
        }
        int64_t p, v, i;
        if (s->fd_power[c] >= 0 && eb_sysfs_read_i64(s->fd_power[c], &p)) {
            values[c] = fabs((double)p) * 1e-6;
        } else if (eb_sysfs_read_i64(s->fd_volt[c], &v) && eb_sysfs_read_i64(s->fd_curr[c], &i)) {
            values[c] = fabs((double)v * 1e-6 * (double)i * 1e-6);
        } else {
            return false;
        }
    }
    return true;
}

static void battery_close(eb_source *src)
{
    battery_state *s = (battery_state *)src;
    for (int c = 0; c < s->base.n_channels; c++) {
        int fds[] = {s->fd_status[c], s->fd_power[c], s->fd_volt[c], s->fd_curr[c]};
        for (int k = 0; k < 4; k++)
            if (fds[k] >= 0) close(fds[k]);
    }
    free(s);
}

const eb_source_ops eb_source_battery = {
    .name = "battery",
    .description = "battery discharge power (power_supply)",
    .probe = battery_probe,
    .read = battery_read,
    .close = battery_close,
};
