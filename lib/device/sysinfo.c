#include "edgebench/sysinfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <dirent.h>

#include "edgebench/knobs.h"
#include "edgebench/memory.h"
#include "edgebench/util.h"

static void read_file_at(const char *root, const char *path, char *buf, size_t cap)
{
    char full[1024];
    eb_path_join(full, sizeof full, root, path);
    if (eb_read_text(full, buf, cap, NULL) != EB_OK) buf[0] = '\0';
}

static void read_extra(const char *root, eb_device_info *out);

static int count_cpu_list(const char *list)
{
    /* "0-3,6,8-9" */
    int count = 0;
    const char *p = list;
    while (*p) {
        int a, b, used = 0;
        if (sscanf(p, "%d-%d%n", &a, &b, &used) == 2 && used > 0) {
            count += b - a + 1;
        } else if (sscanf(p, "%d%n", &a, &used) == 1 && used > 0) {
            count += 1;
        } else {
            break;
        }
        p += used;
        if (*p == ',')
            p++;
        else
            break;
    }
    return count;
}

/* Arm's part numbers (CPU implementer 0x41) of the cores edge boards use. */
static const char *arm_part_name(const char *part)
{
    static const struct {
        const char *part, *name;
    } parts[] = {{"0xd03", "Cortex-A53"},  {"0xd04", "Cortex-A35"},   {"0xd05", "Cortex-A55"},
                 {"0xd07", "Cortex-A57"},  {"0xd08", "Cortex-A72"},   {"0xd09", "Cortex-A73"},
                 {"0xd0a", "Cortex-A75"},  {"0xd0b", "Cortex-A76"},   {"0xd0d", "Cortex-A77"},
                 {"0xd41", "Cortex-A78"},  {"0xd42", "Cortex-A78AE"}, {"0xd44", "Cortex-X1"},
                 {"0xd46", "Cortex-A510"}, {"0xd47", "Cortex-A710"},  {"0xd4b", "Cortex-A78C"},
                 {"0xd0c", "Neoverse-N1"}, {"0xd40", "Neoverse-V1"},  {"0xd49", "Neoverse-N2"}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (strcmp(parts[i].part, part) == 0) return parts[i].name;
    return NULL;
}

/* "ARM Cortex-A76", or each kind of core of a big.LITTLE CPU in the order
 * the processors list them ("ARM Cortex-A55 + Cortex-A76"); false when the
 * text has no Arm part numbers. */
static bool arm_cpu_name(const char *cpuinfo, char *out, size_t cap)
{
    size_t len = 0;
    char seen[8][16];
    int n_seen = 0;
    for (const char *p = cpuinfo; (p = strstr(p, "CPU part")); p++) {
        const char *colon = strchr(p, ':');
        if (!colon) break;
        char part[16];
        snprintf(part, sizeof part, "%.*s",
                 (int)strcspn(colon + 1 + strspn(colon + 1, " \t"), "\n"),
                 colon + 1 + strspn(colon + 1, " \t"));
        bool dup = false;
        for (int i = 0; i < n_seen; i++)
            dup |= strcmp(seen[i], part) == 0;
        if (dup || n_seen == 8) continue;
        snprintf(seen[n_seen++], sizeof seen[0], "%s", part);
        const char *name = arm_part_name(part);
        char unknown[40];
        if (!name) snprintf(unknown, sizeof unknown, "part %s", part);
        len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%s", len ? " + " : "ARM ",
                                name ? name : unknown);
    }
    return n_seen > 0;
}

void eb_device_info_read(const char *root, eb_device_info *out)
{
    memset(out, 0, sizeof *out);
    char *buf = malloc(65536); /* /proc/cpuinfo of a many-core machine is large */
    if (!buf) return;
    bool real_root = !root || !root[0] || strcmp(root, "/") == 0;

    read_file_at(root, "/proc/sys/kernel/hostname", out->hostname, sizeof out->hostname);
    out->hostname[strcspn(out->hostname, "\n")] = '\0';

    read_file_at(root, "/proc/cpuinfo", buf, 65536);
    /* Arm cores name themselves only by implementer and part number (a
     * Jetson's "model name" is a generic "ARMv8 Processor", a Pi's "Model"
     * the board): the part numbers are the CPU's name. */
    if (!arm_cpu_name(buf, out->cpu_model, sizeof out->cpu_model) &&
        !eb_text_field(buf, "model name", " \t:", out->cpu_model, sizeof out->cpu_model) &&
        !eb_text_field(buf, "Model", " \t:", out->cpu_model, sizeof out->cpu_model))
        eb_text_field(buf, "Hardware", " \t:", out->cpu_model, sizeof out->cpu_model);

    free(buf);

    read_file_at(root, "/proc/device-tree/model", out->board_model, sizeof out->board_model);
    out->board_model[strcspn(out->board_model, "\n")] = '\0';

    char list[256];
    read_file_at(root, "/sys/devices/system/cpu/online", list, sizeof list);
    out->n_cpus_online = count_cpu_list(list);
    read_file_at(root, "/sys/devices/system/cpu/possible", list, sizeof list);
    out->n_cpus_configured = count_cpu_list(list);
    if (out->n_cpus_online == 0 && real_root)
        out->n_cpus_online = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (out->n_cpus_configured == 0) out->n_cpus_configured = out->n_cpus_online;

    eb_meminfo_read(root, &out->ram_total_kb, &out->ram_available_kb, NULL);

    char osrel[4096];
    read_file_at(root, "/etc/os-release", osrel, sizeof osrel);
    char pretty[256];
    if (eb_text_field(osrel, "PRETTY_NAME", "=", pretty, sizeof pretty)) {
        size_t n = strlen(pretty);
        if (n >= 2 && pretty[0] == '"' && pretty[n - 1] == '"') {
            pretty[n - 1] = '\0';
            memmove(pretty, pretty + 1, n - 1);
        }
        snprintf(out->os, sizeof out->os, "%s", pretty);
    }

    read_file_at(root, "/proc/sys/kernel/osrelease", out->kernel, sizeof out->kernel);
    out->kernel[strcspn(out->kernel, "\n")] = '\0';
    struct utsname u;
    if (uname(&u) == 0) {
        if (real_root && !out->kernel[0])
            snprintf(out->kernel, sizeof out->kernel, "%s", u.release);
        if (real_root) snprintf(out->arch, sizeof out->arch, "%s", u.machine);
        if (real_root && !out->hostname[0])
            snprintf(out->hostname, sizeof out->hostname, "%s", u.nodename);
    }
    read_extra(root, out);
}

/* "policy0: cpus 0-3 max 2400 MHz; policy4: cpus 4-7 max 1800 MHz" */
static void read_topology(const char *root, eb_device_info *out)
{
    char(*names)[16];
    int n = eb_cpufreq_policies(root, &names);
    size_t len = 0;
    int shown = 0;
    for (int i = 0; i < n; i++, shown++) {
        /* room for this policy and for saying how many are left out */
        if (len + 96 >= sizeof out->cpu_topology) break;
        char rel[128], cpus[128] = "", maxf[32] = "";
        snprintf(rel, sizeof rel, "/sys/devices/system/cpu/cpufreq/%s/related_cpus", names[i]);
        read_file_at(root, rel, cpus, sizeof cpus);
        if (!cpus[0]) {
            snprintf(rel, sizeof rel, "/sys/devices/system/cpu/cpufreq/%s/affected_cpus", names[i]);
            read_file_at(root, rel, cpus, sizeof cpus);
        }
        cpus[strcspn(cpus, "\n")] = '\0';
        snprintf(rel, sizeof rel, "/sys/devices/system/cpu/cpufreq/%s/cpuinfo_max_freq", names[i]);
        read_file_at(root, rel, maxf, sizeof maxf);
        long khz = atol(maxf);
        len += (size_t)snprintf(out->cpu_topology + len, sizeof out->cpu_topology - len,
                                "%s%s: cpus %s", i ? "; " : "", names[i], cpus);
        if (khz > 0 && len < sizeof out->cpu_topology)
            len += (size_t)snprintf(out->cpu_topology + len, sizeof out->cpu_topology - len,
                                    " max %ld MHz", khz / 1000);
    }
    if (n > 0) {
        char rel[128];
        snprintf(rel, sizeof rel, "/sys/devices/system/cpu/cpufreq/%s/scaling_available_governors",
                 names[0]);
        read_file_at(root, rel, out->governors_offered, sizeof out->governors_offered);
        out->governors_offered[strcspn(out->governors_offered, "\n")] = '\0';
    }
    if (shown < n)
        snprintf(out->cpu_topology + len, sizeof out->cpu_topology - len,
                 "; and %d more policies (policy list left out here: %d in all)", n - shown, n);
    free(names);
}

/* "0=15W 1=7W" from /etc/nvpmodel.conf's POWER_MODEL lines */
static void read_power_modes(const char *root, eb_device_info *out)
{
    char *buf = malloc(65536);
    if (!buf) return;
    read_file_at(root, "/etc/nvpmodel.conf", buf, 65536);
    size_t len = 0;
    for (const char *p = buf; (p = strstr(p, "POWER_MODEL")); p++) {
        int id;
        char nm[64];
        if (sscanf(p, "POWER_MODEL ID=%d NAME=%63[^ >]", &id, nm) == 2 &&
            len < sizeof out->power_modes)
            len += (size_t)snprintf(out->power_modes + len, sizeof out->power_modes - len,
                                    "%s%d=%s", len ? " " : "", id, nm);
    }
    free(buf);
}

/* The NVIDIA driver names its GPUs in /proc/driver/nvidia/gpus/<bus>/information */
static void read_gpu(const char *root, eb_device_info *out)
{
    char dir[1024];
    eb_path_join(dir, sizeof dir, root, "/proc/driver/nvidia/gpus");
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    size_t len = 0;
    while ((e = readdir(d)) && len < sizeof out->gpu) {
        if (e->d_name[0] == '.') continue;
        char rel[512], info[4096], model[200];
        snprintf(rel, sizeof rel, "/proc/driver/nvidia/gpus/%s/information", e->d_name);
        read_file_at(root, rel, info, sizeof info);
        if (eb_text_field(info, "Model", " \t:", model, sizeof model))
            len += (size_t)snprintf(out->gpu + len, sizeof out->gpu - len, "%s%s", len ? "; " : "",
                                    model);
    }
    closedir(d);
}

static void read_extra(const char *root, eb_device_info *out)
{
    read_topology(root, out);
    read_power_modes(root, out);
    read_gpu(root, out);
}

cJSON *eb_device_info_to_json(const eb_device_info *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "hostname", d->hostname);
    cJSON_AddStringToObject(o, "cpu_model", d->cpu_model);
    cJSON_AddStringToObject(o, "board_model", d->board_model);
    cJSON_AddNumberToObject(o, "n_cpus_online", d->n_cpus_online);
    cJSON_AddNumberToObject(o, "n_cpus_configured", d->n_cpus_configured);
    cJSON_AddStringToObject(o, "cpu_topology", d->cpu_topology);
    cJSON_AddNumberToObject(o, "ram_total_kib", (double)d->ram_total_kb);
    cJSON_AddNumberToObject(o, "ram_available_kib", (double)d->ram_available_kb);
    cJSON_AddStringToObject(o, "kernel", d->kernel);
    cJSON_AddStringToObject(o, "os", d->os);
    cJSON_AddStringToObject(o, "arch", d->arch);
    cJSON_AddStringToObject(o, "governors_offered", d->governors_offered);
    cJSON_AddStringToObject(o, "power_modes", d->power_modes);
    cJSON_AddStringToObject(o, "gpu", d->gpu);
    return o;
}
