/* hwmon power sensors: power*_input/_average (uW), energy*_input (uJ,
 * cumulative), and curr*_input (mA) x in*_input (mV) pairs such as the
 * Jetson's INA3221, where VDD_IN is the module total and the other rails are
 * parts of it. Devices are found by their name file, not their number. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgebench/sensors.h"
#include "edgebench/util.h"

typedef enum { HW_POWER_UW, HW_ENERGY_UJ, HW_VI } hw_kind;

typedef struct hwmon_state {
    eb_source base;
    hw_kind kind[EB_MAX_CHANNELS];
    int fd_a[EB_MAX_CHANNELS]; /* power, energy or current */
    int fd_b[EB_MAX_CHANNELS]; /* voltage for HW_VI */
} hwmon_state;

static int add_channel(hwmon_state *s, const char *dev, const char *label, hw_kind k, int fa,
                       int fb, bool total)
{
    char name[64];
    snprintf(name, sizeof name, "%s:%s", dev, label);
    if (!eb_source_room(&s->base, name)) {
        close(fa);
        if (fb >= 0) close(fb);
        return -1;
    }
    int c = s->base.n_channels++;
    s->kind[c] = k;
    s->fd_a[c] = fa;
    s->fd_b[c] = fb;
    eb_channel *ch = &s->base.channels[c];
    snprintf(ch->name, sizeof ch->name, "%s:%s", dev, label);
    ch->kind = k == HW_ENERGY_UJ ? EB_CH_ENERGY : EB_CH_POWER;
    ch->in_total = ch->whole_device = total;
    return c;
}

/* The current and power monitors whose datasheets give their accuracy
 * (maximum errors over temperature). A power reading is bus voltage times
 * shunt current: the gain errors add, the bus offset is a share of the
 * voltage, the shunt offset a current (offset / shunt) times the voltage. */
static const struct chip_accuracy {
    const char *name;
    double shunt_gain, bus_gain, shunt_offset_v, bus_offset_v, shunt_lsb_v;
    const char *basis;
} chips[] = {
    {"ina3221", 0.0025, 0.0025, 80e-6, 16e-3, 40e-6,
     "INA3221 (TI SBOS576): gain 0.25 % shunt and bus, offset 80 uV shunt, 16 mV bus, max"},
    {"ina226", 0.001, 0.001, 10e-6, 7.5e-3, 2.5e-6,
     "INA226 (TI SBOS547): gain 0.1 % shunt and bus, offset 10 uV shunt, 7.5 mV bus, max"},
    {"ina238", 0.001, 0.001, 5e-6, 5e-3, 5e-6,
     "INA238 (TI): gain 0.1 % shunt and bus, offset 5 uV shunt, 5 mV bus, max"},
    /* the INA219's errors are stated with the offset included */
    {"ina219", 0.01, 0.01, 0, 0, 10e-6,
     "INA219 (TI SBOS448): current and bus voltage errors 1 % each over temperature, A grade, "
     "max"},
};

static void set_accuracy(hwmon_state *s, int c, const char *path, const char *dev, int n)
{
    eb_hwmon_chip_accuracy(&s->base.channels[c], path, dev, n, s->kind[c] == HW_VI);
}

void eb_hwmon_chip_accuracy(eb_channel *ch, const char *path, const char *dev, int n, bool vi)
{
    const struct chip_accuracy *k = NULL;
    for (size_t i = 0; i < sizeof chips / sizeof chips[0]; i++)
        if (strcmp(dev, chips[i].name) == 0) k = &chips[i];
    double step = vi ? 1e-3 * 5 : 1e-6; /* mA x ~5 V, or uW / uJ */
    if (!k) {
        char why[128];
        snprintf(why, sizeof why, "hwmon %s: accuracy not published (not a chip edgebench knows)",
                 dev);
        eb_channel_accuracy(ch, NAN, NAN, step, why);
        return;
    }
    /* the bus voltage and the shunt (uOhm) as the driver has them now */
    char p[1500], buf[32];
    bool one = strcmp(dev, "ina3221") != 0; /* ina2xx: one channel, bus voltage in1 */
    snprintf(p, sizeof p, "%s/in%d_input", path, one ? 1 : n);
    double volts = eb_read_line(p, buf, sizeof buf) ? atof(buf) / 1000.0 : NAN;
    if (one)
        snprintf(p, sizeof p, "%s/shunt_resistor", path);
    else
        snprintf(p, sizeof p, "%s/shunt%d_resistor", path, n);
    double ohms = eb_read_line(p, buf, sizeof buf) ? atof(buf) * 1e-6 : NAN;
    double gain = volts > 0 ? k->shunt_gain + k->bus_gain + k->bus_offset_v / volts : NAN;
    double offset = ohms > 0 && volts > 0 ? k->shunt_offset_v / ohms * volts : NAN;
    if (k->shunt_offset_v == 0) offset = 0;
    if (vi && ohms > 0 && volts > 0) step = volts * fmax(1e-3, k->shunt_lsb_v / ohms);
    char basis[128];
    snprintf(basis, sizeof basis, "%s%s", k->basis,
             isnan(gain)     ? "; no bus voltage to apply it to"
             : isnan(offset) ? "; shunt unknown, its offset left out"
                             : "");
    eb_channel_accuracy(ch, gain, offset, step, basis);
}

/* The highest sensor index among the chip's files (power12_input: 12). */
static int max_index(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return -1;
    int max = -1;
    struct dirent *e;
    static const char *const prefixes[] = {"power", "energy", "curr", "in"};
    while ((e = readdir(d)))
        for (size_t k = 0; k < sizeof prefixes / sizeof *prefixes; k++) {
            size_t len = strlen(prefixes[k]);
            if (strncmp(e->d_name, prefixes[k], len) != 0) continue;
            char *end;
            long n = strtol(e->d_name + len, &end, 10);
            if (end != e->d_name + len && *end == '_' && n > max && n < 100000) max = (int)n;
        }
    closedir(d);
    return max;
}

static void scan_device(hwmon_state *s, const char *path, const char *dev, int *denied)
{
    char p[1400], label[48];
    bool ina = strcmp(dev, "ina3221") == 0;
    int last = max_index(path);
    for (int n = 0; n <= last; n++) {
        bool have_power = false;
        static const char *const kinds[] = {"power", "power", "energy"};
        static const char *const suffix[] = {"input", "average", "input"};
        for (int k = 0; k < 3; k++) {
            char file[32];
            snprintf(file, sizeof file, "%s%d_%s", kinds[k], n, suffix[k]);
            snprintf(p, sizeof p, "%s/%s", path, file);
            int fd = eb_sysfs_open(p);
            if (fd < 0) {
                if (errno == EACCES || errno == EPERM) (*denied)++;
                continue;
            }
            snprintf(p, sizeof p, "%s/power%d_label", path, n);
            if (k == 2) snprintf(p, sizeof p, "%s/energy%d_label", path, n);
            bool labelled = eb_read_line(p, label, sizeof label);
            /* drivers such as the INA3221's label the rail on in%d */
            snprintf(p, sizeof p, "%s/in%d_label", path, n);
            if (!labelled && !eb_read_line(p, label, sizeof label))
                snprintf(label, sizeof label, "%s", file);
            int c = add_channel(s, dev, label, k == 2 ? HW_ENERGY_UJ : HW_POWER_UW, fd, -1,
                                ina && strcmp(label, "VDD_IN") == 0);
            if (c >= 0) set_accuracy(s, c, path, dev, n);
            have_power = true;
            break; /* one of input/average per index */
        }
        /* a rail with its own power file is one channel, not a second V x I one */
        if (have_power) continue;
        char pc[1400], pv[1400];
        snprintf(pc, sizeof pc, "%s/curr%d_input", path, n);
        snprintf(pv, sizeof pv, "%s/in%d_input", path, n);
        int fc = eb_sysfs_open(pc);
        if (fc < 0) {
            if (errno == EACCES || errno == EPERM) (*denied)++;
            continue;
        }
        int fv = eb_sysfs_open(pv);
        if (fv < 0) {
            close(fc);
            continue;
        }
        snprintf(p, sizeof p, "%s/in%d_label", path, n);
        if (!eb_read_line(p, label, sizeof label)) {
            snprintf(p, sizeof p, "%s/curr%d_label", path, n);
            if (!eb_read_line(p, label, sizeof label)) snprintf(label, sizeof label, "rail%d", n);
        }
        /* INA3221 on Jetson: VDD_IN is the module's input, the rest are inside it. */
        int c = add_channel(s, dev, label, HW_VI, fc, fv, ina && strcmp(label, "VDD_IN") == 0);
        if (c >= 0) set_accuracy(s, c, path, dev, n);
    }
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static eb_probe hwmon_probe(const eb_probe_ctx *ctx, eb_source **out, char *reason, size_t cap)
{
    char dir[1024];
    eb_path_join(dir, sizeof dir, ctx->root, "/sys/class/hwmon");
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(reason, cap, "no %s", dir);
        return EB_PROBE_ABSENT;
    }
    hwmon_state *s = calloc(1, sizeof *s);
    if (!s) {
        closedir(d);
        snprintf(reason, cap, "out of memory");
        return EB_PROBE_ABSENT;
    }
    int denied = 0;
    struct dirent *e;
    char names[256] = "";
    /* in number order (hwmon2 before hwmon10), whatever the directory's */
    int *nums = NULL, n_nums = 0, cap_nums = 0;
    while ((e = readdir(d))) {
        char *end;
        long v = strncmp(e->d_name, "hwmon", 5) == 0 ? strtol(e->d_name + 5, &end, 10) : -1;
        if (v < 0 || *end) continue;
        if (n_nums == cap_nums) {
            cap_nums = cap_nums ? cap_nums * 2 : 16;
            int *grown = realloc(nums, (size_t)cap_nums * sizeof *grown);
            if (!grown) break;
            nums = grown;
        }
        nums[n_nums++] = (int)v;
    }
    if (n_nums) qsort(nums, (size_t)n_nums, sizeof *nums, cmp_int);
    for (int i = 0; i < n_nums; i++) {
        char path[1400], name[32];
        snprintf(path, sizeof path, "%s/hwmon%d", dir, nums[i]);
        char np[1500];
        snprintf(np, sizeof np, "%s/name", path);
        if (!eb_read_line(np, name, sizeof name)) continue;
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", name);
        scan_device(s, path, name, &denied);
    }
    free(nums);
    closedir(d);
    if (s->base.n_channels == 0) {
        free(s);
        if (denied) {
            snprintf(reason, cap, "%s: power files exist but cannot be read (permission)", dir);
            return EB_PROBE_NO_PERMISSION;
        }
        snprintf(reason, cap, "no power, energy or current sensors among hwmon devices (%s)",
                 names[0] ? names : "none");
        return EB_PROBE_ABSENT;
    }
    s->base.ops = &eb_source_hwmon;
    *out = &s->base;
    return EB_PROBE_FOUND;
}

static bool hwmon_read(eb_source *src, double *values)
{
    hwmon_state *s = (hwmon_state *)src;
    for (int c = 0; c < s->base.n_channels; c++) {
        int64_t a, b;
        if (!eb_sysfs_read_i64(s->fd_a[c], &a)) return false;
        switch (s->kind[c]) {
        case HW_POWER_UW:
            values[c] = (double)a * 1e-6;
            break;
        case HW_ENERGY_UJ:
            values[c] = (double)a * 1e-6;
            break;
        case HW_VI:
            if (!eb_sysfs_read_i64(s->fd_b[c], &b)) return false;
            values[c] = (double)a * (double)b * 1e-6; /* mA x mV = uW */
            break;
        }
    }
    return true;
}

static void hwmon_close(eb_source *src)
{
    hwmon_state *s = (hwmon_state *)src;
    for (int c = 0; c < s->base.n_channels; c++) {
        close(s->fd_a[c]);
        if (s->fd_b[c] >= 0) close(s->fd_b[c]);
    }
    free(s);
}

const eb_source_ops eb_source_hwmon = {
    .name = "hwmon",
    .description = "hwmon power/energy sensors (incl. Jetson INA3221)",
    .probe = hwmon_probe,
    .read = hwmon_read,
    .close = hwmon_close,
};
