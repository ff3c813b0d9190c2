/* NVIDIA GPUs through NVML, loaded with dlopen so that edgebench neither
 * links against nor needs the driver. Per GPU: the energy counter (mJ,
 * Volta and later) as the GPU's part of the total, instant power (field
 * 186; GetPowerUsage is a 1 s average on Ampere and later) and memory in
 * use, and its load (utilization) and SM clock. $EDGEBENCH_NVML_LIB names another library (the
 * tests' stand-in). */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/sensors.h"

#define NVML_SUCCESS 0
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NO_PERMISSION 4
#define NVML_FI_DEV_POWER_INSTANT 186
#define NVML_CLOCK_SM 1

typedef void *nvml_device;
typedef struct nvml_memory {
    unsigned long long total, free, used;
} nvml_memory;
typedef struct nvml_utilization {
    unsigned int gpu, memory; /* percent of the last sample period */
} nvml_utilization;
typedef union nvml_value {
    double d;
    unsigned int ui;
    unsigned long ul;
    unsigned long long ull;
    long long sll;
    int si;
    unsigned short us;
} nvml_value;
typedef struct nvml_field_value {
    unsigned int field_id;
    unsigned int scope_id;
    long long timestamp;
    long long latency_usec;
    int value_type;
    int nvml_return;
    nvml_value value;
} nvml_field_value;

typedef struct nvml_api {
    int (*init)(void);
    int (*shutdown)(void);
    const char *(*error_string)(int);
    int (*count)(unsigned int *);
    int (*handle)(unsigned int, nvml_device *);
    int (*name)(nvml_device, char *, unsigned int);
    int (*power)(nvml_device, unsigned int *);
    int (*energy)(nvml_device, unsigned long long *);
    int (*memory)(nvml_device, nvml_memory *);
    int (*fields)(nvml_device, int, nvml_field_value *);
    int (*utilization)(nvml_device, nvml_utilization *);
    int (*clock)(nvml_device, int, unsigned int *);
} nvml_api;

typedef enum gpu_ch {
    GPU_ENERGY,
    GPU_POWER_INSTANT,
    GPU_POWER_AVG,
    GPU_MEMORY,
    GPU_LOAD,
    GPU_CLOCK
} gpu_ch;

typedef struct nvml_state {
    eb_source base;
    void *lib;
    nvml_api api;
    nvml_device dev[EB_MAX_CHANNELS];
    gpu_ch what[EB_MAX_CHANNELS];
} nvml_state;

static double field_as_double(const nvml_field_value *f)
{
    switch (f->value_type) {
    case 0:
        return f->value.d;
    case 1:
        return f->value.ui;
    case 2:
        return (double)f->value.ul;
    case 3:
        return (double)f->value.ull;
    case 4:
        return (double)f->value.sll;
    case 5:
        return f->value.si;
    case 6:
        return f->value.us;
    }
    return -1;
}

static bool instant_power_mw(const nvml_api *api, nvml_device d, double *mw)
{
    if (!api->fields) return false;
    nvml_field_value f;
    memset(&f, 0, sizeof f);
    f.field_id = NVML_FI_DEV_POWER_INSTANT;
    if (api->fields(d, 1, &f) != NVML_SUCCESS || f.nvml_return != NVML_SUCCESS) return false;
    *mw = field_as_double(&f);
    return *mw >= 0;
}

#define SYM(field, name) (*(void **)&s->api.field = dlsym(s->lib, name))

static void add(nvml_state *s, nvml_device d, gpu_ch what, const char *label, unsigned gpu,
                const char *gname, bool in_total)
{
    int c = s->base.n_channels;
    char name[64];
    snprintf(name, sizeof name, "nvml:%u:%s:%.24s", gpu, label, gname);
    if (!eb_source_room(&s->base, name)) return;
    eb_channel *ch = &s->base.channels[c];
    snprintf(ch->name, sizeof ch->name, "%s", name);
    static const eb_channel_kind kinds[] = {
        [GPU_ENERGY] = EB_CH_ENERGY,   [GPU_POWER_INSTANT] = EB_CH_POWER,
        [GPU_POWER_AVG] = EB_CH_POWER, [GPU_MEMORY] = EB_CH_MEMORY,
        [GPU_LOAD] = EB_CH_LOAD,       [GPU_CLOCK] = EB_CH_FREQ};
    ch->kind = kinds[what];
    ch->in_total = in_total;
    ch->gpu = true;
    if (what == GPU_ENERGY || what == GPU_POWER_INSTANT || what == GPU_POWER_AVG)
        eb_channel_accuracy(ch, 0.05, 0, 1e-3,
                            "NVML: power 'accurate to within +/- 5%' (stated for Fermi and "
                            "Kepler; later GPUs state none), mW/mJ steps");
    s->dev[c] = d;
    s->what[c] = what;
    s->base.n_channels++;
}

/* The NVML library: the driver's, or $EDGEBENCH_NVML_LIB's (set: the tests'). */
static const char *nvml_lib(bool *from_env)
{
    const char *env = getenv("EDGEBENCH_NVML_LIB");
    *from_env = env && env[0];
    return *from_env ? env : "libnvidia-ml.so.1";
}

static eb_probe nvml_probe(const eb_probe_ctx *ctx, eb_source **out, char *reason, size_t cap)
{
    bool from_env;
    const char *libname = nvml_lib(&from_env);
    /* A fixture tree describes another device: this one's driver is not it. */
    if (ctx->root && strcmp(ctx->root, "/") != 0 && !from_env) {
        snprintf(reason, cap, "not probed for a --sysfs-root tree");
        return EB_PROBE_ABSENT;
    }
    nvml_state *s = calloc(1, sizeof *s);
    if (!s) return EB_PROBE_ABSENT;
    s->lib = dlopen(libname, RTLD_NOW | RTLD_LOCAL);
    if (!s->lib) {
        snprintf(reason, cap, "cannot load %s (no NVIDIA driver)", libname);
        free(s);
        return EB_PROBE_ABSENT;
    }
    SYM(init, "nvmlInit_v2");
    SYM(shutdown, "nvmlShutdown");
    SYM(error_string, "nvmlErrorString");
    SYM(count, "nvmlDeviceGetCount_v2");
    SYM(handle, "nvmlDeviceGetHandleByIndex_v2");
    SYM(name, "nvmlDeviceGetName");
    SYM(power, "nvmlDeviceGetPowerUsage");
    SYM(energy, "nvmlDeviceGetTotalEnergyConsumption");
    SYM(memory, "nvmlDeviceGetMemoryInfo");
    SYM(fields, "nvmlDeviceGetFieldValues");
    SYM(utilization, "nvmlDeviceGetUtilizationRates");
    SYM(clock, "nvmlDeviceGetClockInfo");
    eb_probe result = EB_PROBE_ABSENT;
    if (!s->api.init || !s->api.shutdown || !s->api.count || !s->api.handle) {
        snprintf(reason, cap, "%s lacks nvmlInit_v2/nvmlDeviceGetCount_v2", libname);
        goto fail;
    }
    int rc = s->api.init();
    if (rc != NVML_SUCCESS) {
        snprintf(reason, cap, "nvmlInit_v2: %s",
                 s->api.error_string ? s->api.error_string(rc) : "error");
        if (rc == NVML_ERROR_NO_PERMISSION) result = EB_PROBE_NO_PERMISSION;
        goto fail;
    }
    unsigned int n = 0;
    if (s->api.count(&n) != NVML_SUCCESS || n == 0) {
        snprintf(reason, cap, "NVML sees no GPU");
        s->api.shutdown();
        goto fail;
    }
    for (unsigned int g = 0; g < n; g++) {
        nvml_device d;
        if (s->api.handle(g, &d) != NVML_SUCCESS) continue;
        char gname[96] = "GPU";
        if (s->api.name) s->api.name(d, gname, sizeof gname);
        unsigned long long mj;
        unsigned int mw;
        double imw;
        /* The energy counter is the GPU's part of the total; without one,
         * its power is. */
        bool has_energy = s->api.energy && s->api.energy(d, &mj) == NVML_SUCCESS;
        if (has_energy) add(s, d, GPU_ENERGY, "energy", g, gname, true);
        if (instant_power_mw(&s->api, d, &imw))
            add(s, d, GPU_POWER_INSTANT, "power", g, gname, !has_energy);
        else if (s->api.power && s->api.power(d, &mw) == NVML_SUCCESS)
            add(s, d, GPU_POWER_AVG, "power-avg", g, gname, !has_energy);
        nvml_memory m;
        if (s->api.memory && s->api.memory(d, &m) == NVML_SUCCESS)
            add(s, d, GPU_MEMORY, "memory-used", g, gname, false);
        nvml_utilization u;
        if (s->api.utilization && s->api.utilization(d, &u) == NVML_SUCCESS)
            add(s, d, GPU_LOAD, "load", g, gname, false);
        unsigned int mhz;
        if (s->api.clock && s->api.clock(d, NVML_CLOCK_SM, &mhz) == NVML_SUCCESS)
            add(s, d, GPU_CLOCK, "sm-clock", g, gname, false);
    }
    if (s->base.n_channels == 0) {
        snprintf(reason, cap, "NVML reports neither energy, power nor memory (not supported)");
        s->api.shutdown();
        goto fail;
    }
    s->base.ops = &eb_source_nvml;
    *out = &s->base;
    return EB_PROBE_FOUND;
fail:
    dlclose(s->lib);
    free(s);
    return result;
}

static bool nvml_read(eb_source *src, double *values)
{
    nvml_state *s = (nvml_state *)src;
    for (int c = 0; c < s->base.n_channels; c++) {
        unsigned long long mj;
        unsigned int mw;
        double imw;
        nvml_memory m;
        nvml_utilization u;
        double v = -1;
        switch (s->what[c]) {
        case GPU_ENERGY:
            if (s->api.energy(s->dev[c], &mj) == NVML_SUCCESS) v = (double)mj * 1e-3;
            break;
        case GPU_POWER_INSTANT:
            if (instant_power_mw(&s->api, s->dev[c], &imw)) v = imw * 1e-3;
            break;
        case GPU_POWER_AVG:
            if (s->api.power(s->dev[c], &mw) == NVML_SUCCESS) v = mw * 1e-3;
            break;
        case GPU_MEMORY:
            if (s->api.memory(s->dev[c], &m) == NVML_SUCCESS) v = (double)m.used / 1048576.0;
            break;
        case GPU_LOAD:
            if (s->api.utilization(s->dev[c], &u) == NVML_SUCCESS) v = u.gpu;
            break;
        case GPU_CLOCK:
            if (s->api.clock(s->dev[c], NVML_CLOCK_SM, &mw) == NVML_SUCCESS) v = mw;
            break;
        }
        values[c] = v >= 0 ? v : NAN;
    }
    return true;
}

static void nvml_close(eb_source *src)
{
    nvml_state *s = (nvml_state *)src;
    s->api.shutdown();
    dlclose(s->lib);
    free(s);
}

bool eb_nvml_driver(char *out, size_t cap)
{
    bool from_env;
    const char *libname = nvml_lib(&from_env);
    void *lib = dlopen(libname, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(out, cap, "driver not available: cannot load %s", libname);
        return false;
    }
    int (*init)(void), (*shutdown)(void), (*version)(char *, unsigned int), (*cuda)(int *);
    *(void **)&init = dlsym(lib, "nvmlInit_v2");
    *(void **)&shutdown = dlsym(lib, "nvmlShutdown");
    *(void **)&version = dlsym(lib, "nvmlSystemGetDriverVersion");
    *(void **)&cuda = dlsym(lib, "nvmlSystemGetCudaDriverVersion_v2");
    char v[96] = "";
    int c = 0;
    bool ok = init && shutdown && version && init() == NVML_SUCCESS;
    if (ok) {
        ok = version(v, sizeof v) == NVML_SUCCESS;
        if (!cuda || cuda(&c) != NVML_SUCCESS) c = 0;
        shutdown();
    }
    dlclose(lib);
    if (!ok) {
        snprintf(out, cap, "driver not available: NVML did not give its version");
        return false;
    }
    /* CUDA's version as the driver numbers it: 1000 x major + 10 x minor */
    if (c > 0)
        snprintf(out, cap, "NVIDIA driver %s, CUDA %d.%d", v, c / 1000, (c % 1000) / 10);
    else
        snprintf(out, cap, "NVIDIA driver %s", v);
    return true;
}

const eb_source_ops eb_source_nvml = {
    .name = "nvml",
    .description = "NVIDIA GPU energy, power, memory, load and clock (NVML)",
    .probe = nvml_probe,
    .read = nvml_read,
    .close = nvml_close,
};
