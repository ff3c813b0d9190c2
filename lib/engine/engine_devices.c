/* The devices llama.cpp's backends found on this machine, as llama-bench
 * lists them (--list-devices) and takes them (-dev): by name, "none" for
 * the CPU alone. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "edgebench/gpuinfo.h"
#include "edgebench/sensors.h"
#include "engine_devices.h"

static const char *type_name(enum ggml_backend_dev_type t)
{
    switch (t) {
    case GGML_BACKEND_DEVICE_TYPE_CPU:
        return "CPU";
    case GGML_BACKEND_DEVICE_TYPE_GPU:
        return "GPU";
    case GGML_BACKEND_DEVICE_TYPE_IGPU:
        return "iGPU";
    default:
        return "accel";
    }
}

/* The Vulkan loader's devices, listed once a process (an instance costs
 * tens of milliseconds; the devices do not change under a run). */
#define EB_VULKAN_DEVICES_KEPT 16
static const eb_vulkan_device *vulkan_devices(int *n, int *listed, const char **why)
{
    static eb_vulkan_device devs[EB_VULKAN_DEVICES_KEPT];
    static int count = -2;
    static eb_error err;
    if (count == -2) count = eb_vulkan_devices(devs, EB_VULKAN_DEVICES_KEPT, &err);
    *listed = count;
    *n = count < EB_VULKAN_DEVICES_KEPT ? count : EB_VULKAN_DEVICES_KEPT;
    *why = err.msg;
    return devs;
}

void eb_device_driver(ggml_backend_dev_t d, char *out, size_t cap)
{
    out[0] = '\0';
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(d);
    if (reg && !strcmp(ggml_backend_reg_name(reg), "CUDA")) {
        /* one driver for every NVIDIA GPU: asked once */
        static char nvidia[160];
        if (!nvidia[0]) eb_nvml_driver(nvidia, sizeof nvidia);
        snprintf(out, cap, "%s", nvidia);
        return;
    }
    if (!reg || strcmp(ggml_backend_reg_name(reg), "Vulkan") != 0) return;
    int n = 0, listed = 0;
    const char *why = "";
    const eb_vulkan_device *v = vulkan_devices(&n, &listed, &why);
    if (n < 0) {
        snprintf(out, cap, "driver not available: %s", why);
        return;
    }
    /* llama.cpp describes a Vulkan device by its deviceName; two devices of
     * one name are told apart by their order, which both lists keep */
    const char *desc = ggml_backend_dev_description(d);
    int same_before = 0;
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t o = ggml_backend_dev_get(i);
        if (o == d) break;
        if (ggml_backend_dev_backend_reg(o) == reg &&
            !strcmp(ggml_backend_dev_description(o), desc))
            same_before++;
    }
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i].name, desc) && same_before-- == 0) {
            eb_vulkan_device_driver_line(&v[i], out, cap);
            return;
        }
    if (listed > n)
        snprintf(out, cap,
                 "driver not available: '%s' is not among the first %d of the %d devices the "
                 "Vulkan loader lists",
                 desc, n, listed);
    else
        snprintf(out, cap, "driver not available: the Vulkan loader lists no device '%s'", desc);
}

int eb_devices_list(eb_device_desc *out, int cap)
{
    int n = 0;
    for (size_t i = 0; i < ggml_backend_dev_count(); i++, n++) {
        if (n >= cap) continue;
        ggml_backend_dev_t d = ggml_backend_dev_get(i);
        eb_device_desc *x = &out[n];
        memset(x, 0, sizeof *x);
        snprintf(x->name, sizeof x->name, "%s", ggml_backend_dev_name(d));
        ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(d);
        snprintf(x->backend, sizeof x->backend, "%s", reg ? ggml_backend_reg_name(reg) : "?");
        snprintf(x->type, sizeof x->type, "%s", type_name(ggml_backend_dev_type(d)));
        snprintf(x->description, sizeof x->description, "%s", ggml_backend_dev_description(d));
        size_t free_b = 0, total_b = 0;
        ggml_backend_dev_memory(d, &free_b, &total_b);
        x->memory_mib = (double)total_b / 1048576.0;
        x->free_mib = (double)free_b / 1048576.0;
        eb_device_driver(d, x->driver, sizeof x->driver);
    }
    return n;
}

bool eb_devices_of_backend(const char *backend, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t d = ggml_backend_dev_get(i);
        ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(d);
        if (!reg || strcasecmp(ggml_backend_reg_name(reg), backend) != 0) continue;
        if (ggml_backend_dev_type(d) == GGML_BACKEND_DEVICE_TYPE_CPU) continue;
        used += (size_t)snprintf(out + used, used < cap ? cap - used : 0, "%s%s", used ? "," : "",
                                 ggml_backend_dev_name(d));
    }
    return used > 0 && used < cap;
}

static void names_here(char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < ggml_backend_dev_count() && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "",
                                 ggml_backend_dev_name(ggml_backend_dev_get(i)));
}

eb_status eb_devices_resolve(const char *list, ggml_backend_dev_t *devs, size_t cap, size_t *n,
                             eb_error *err)
{
    *n = 0;
    if (cap == 0) return eb_fail(err, EB_E_INTERNAL, "no room for a device list");
    devs[0] = NULL;
    if (!list || !list[0] || !strcasecmp(list, "none")) return EB_OK;
    char name[128];
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",/");
        snprintf(name, sizeof name, "%.*s", (int)len, p);
        p += len;
        if (*p) p++;
        if (!name[0]) continue;
        ggml_backend_dev_t d = ggml_backend_dev_by_name(name);
        if (!d) {
            char here[512];
            names_here(here, sizeof here);
            return eb_fail(err, EB_E_NOT_AVAILABLE,
                           "device '%s' is not in this build or not on this machine (devices "
                           "here: %s)",
                           name, here);
        }
        if (*n + 1 >= cap) return eb_fail(err, EB_E_INVALID_ARG, "more than %zu devices", cap - 1);
        devs[(*n)++] = d;
        devs[*n] = NULL;
    }
    return EB_OK;
}
