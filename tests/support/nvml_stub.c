/* A stand-in for libnvidia-ml.so.1 with the same entry points, so the NVML
 * backend is tested without a GPU. $NVML_STUB selects a behaviour: "ok"
 * (default: one GPU drawing a constant 75 W, 1 GiB in use, 87% busy at 1755 MHz),
 * "no_permission",
 * "no_energy" (a pre-Volta GPU: power only) or "no_gpu". $NVML_STUB_GPUS sets
 * how many GPUs it has (default 1), each the same. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STUB_POWER_MW 75000u

typedef struct {
    unsigned long long total, free, used;
} stub_memory;
typedef struct {
    unsigned int field_id, scope_id;
    long long timestamp, latency_usec;
    int value_type, nvml_return;
    union {
        double d;
        unsigned int ui;
        unsigned long long ull;
    } value;
} stub_field;

static double t_init;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int mode(const char *m)
{
    const char *e = getenv("NVML_STUB");
    return strcmp(e && e[0] ? e : "ok", m) == 0;
}

int nvmlInit_v2(void)
{
    if (mode("no_permission")) return 4;
    t_init = now();
    return 0;
}
int nvmlShutdown(void)
{
    return 0;
}
const char *nvmlErrorString(int rc)
{
    return rc == 4 ? "Insufficient Permissions" : rc == 3 ? "Not Supported" : "Unknown Error";
}
int nvmlSystemGetDriverVersion(char *v, unsigned int len)
{
    strncpy(v, "550.54.15", len);
    return 0;
}
int nvmlSystemGetCudaDriverVersion_v2(int *v)
{
    *v = 12040;
    return 0;
}
int nvmlDeviceGetCount_v2(unsigned int *n)
{
    const char *g = getenv("NVML_STUB_GPUS");
    *n = mode("no_gpu") ? 0 : g && atoi(g) > 0 ? (unsigned int)atoi(g) : 1;
    return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **dev)
{
    *dev = (void *)(size_t)(i + 1);
    return 0;
}
int nvmlDeviceGetName(void *dev, char *name, unsigned int len)
{
    (void)dev;
    strncpy(name, "Stub GPU", len);
    return 0;
}
int nvmlDeviceGetPowerUsage(void *dev, unsigned int *mw)
{
    (void)dev;
    *mw = STUB_POWER_MW;
    return 0;
}
int nvmlDeviceGetTotalEnergyConsumption(void *dev, unsigned long long *mj)
{
    (void)dev;
    if (mode("no_energy")) return 3;
    /* 75 W since nvmlInit, in mJ, plus an arbitrary start */
    *mj = 123456789ull + (unsigned long long)((now() - t_init) * STUB_POWER_MW);
    return 0;
}
int nvmlDeviceGetMemoryInfo(void *dev, stub_memory *m)
{
    (void)dev;
    m->total = 80ull << 30;
    m->used = 1ull << 30;
    m->free = m->total - m->used;
    return 0;
}
int nvmlDeviceGetFieldValues(void *dev, int count, stub_field *v)
{
    (void)dev;
    for (int i = 0; i < count; i++) {
        if (v[i].field_id != 186) {
            v[i].nvml_return = 3;
            continue;
        }
        v[i].nvml_return = 0;
        v[i].value_type = 1; /* unsigned int */
        v[i].value.ui = STUB_POWER_MW;
    }
    return 0;
}
typedef struct {
    unsigned int gpu, memory;
} stub_utilization;
int nvmlDeviceGetUtilizationRates(void *dev, stub_utilization *u)
{
    (void)dev;
    u->gpu = 87;
    u->memory = 41;
    return 0;
}
int nvmlDeviceGetClockInfo(void *dev, int type, unsigned int *mhz)
{
    (void)dev;
    if (type != 1) return 3; /* only the SM clock */
    *mhz = 1755;
    return 0;
}
