#include "edgebench/sysinfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "edgebench/memory.h"
#include "edgebench/util.h"

static void read_file_at(const char *root, const char *path, char *buf, size_t cap)
{
    char full[1024];
    eb_path_join(full, sizeof full, root, path);
    if (eb_read_text(full, buf, cap, NULL) != EB_OK) buf[0] = '\0';
}

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

void eb_device_info_read(const char *root, eb_device_info *out)
{
    memset(out, 0, sizeof *out);
    char *buf = malloc(65536); /* /proc/cpuinfo of a many-core machine is large */
    if (!buf) return;
    bool real_root = !root || !root[0] || strcmp(root, "/") == 0;

    read_file_at(root, "/proc/sys/kernel/hostname", out->hostname, sizeof out->hostname);
    out->hostname[strcspn(out->hostname, "\n")] = '\0';

    read_file_at(root, "/proc/cpuinfo", buf, 65536);
    if (!eb_text_field(buf, "model name", " \t:", out->cpu_model, sizeof out->cpu_model) &&
        !eb_text_field(buf, "Model", " \t:", out->cpu_model, sizeof out->cpu_model) &&
        !eb_text_field(buf, "Hardware", " \t:", out->cpu_model, sizeof out->cpu_model)) {
        char part[32] = "", impl[32] = "";
        /* Arm cores name themselves only by implementer and part number. */
        if (eb_text_field(buf, "CPU part", " \t:", part, sizeof part)) {
            eb_text_field(buf, "CPU implementer", " \t:", impl, sizeof impl);
            const char *name = strcmp(part, "0xd0b") == 0   ? "Cortex-A76"
                               : strcmp(part, "0xd42") == 0 ? "Cortex-A78AE"
                               : strcmp(part, "0xd08") == 0 ? "Cortex-A72"
                               : strcmp(part, "0xd03") == 0 ? "Cortex-A53"
                                                            : NULL;
            if (name)
                snprintf(out->cpu_model, sizeof out->cpu_model, "ARM %s", name);
            else
                snprintf(out->cpu_model, sizeof out->cpu_model, "implementer %s part %s", impl,
                         part);
        }
    }

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
}
