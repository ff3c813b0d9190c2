/* `edgebench monitor`: what the device's sensors say now, every source
 * edgebench knows (power rails and totals, clocks, temperatures, loads,
 * memory, throttling), read through the sampler every run uses. */
#ifndef EDGEBENCH_MONITOR_H
#define EDGEBENCH_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "edgebench/error.h"
#include "edgebench/sensors.h"

struct cJSON;

typedef struct eb_monitor eb_monitor;

/* One channel's current value: power in W (an energy counter's rate over
 * the last interval), else the channel's unit. NaN: not read yet. */
typedef struct eb_monitor_value {
    const char *name; /* "ina3221:VDD_IN" (the monitor's) */
    eb_channel_kind kind;
    double value;
    bool in_total, whole_device, estimate, gpu;
} eb_monitor_value;

typedef struct eb_monitor_snapshot {
    double t;            /* CLOCK_REALTIME */
    eb_monitor_value *v; /* every channel (the monitor's; valid until the next read) */
    size_t n;
    double total_w;           /* the device total now; NaN when nothing measures it */
    const char *total_source; /* "" when none */
    bool total_estimate;
    bool has_mem;
    uint64_t mem_total_kb, mem_available_kb, swap_total_kb, swap_free_kb, nvmap_kb;
    bool has_nvmap;
    bool has_throttled;
    uint32_t throttled;
    /* what was looked for and is absent, a line each ("power: no power
     * sensor (VM)") */
    char absent[1024];
} eb_monitor_snapshot;

/* Starts the sampler on root at interval_s. */
eb_status eb_monitor_open(const char *root, double interval_s, double tdp_w, eb_monitor **out,
                          eb_error *err);
/* The values now (the newest samples). */
eb_status eb_monitor_read(eb_monitor *m, eb_monitor_snapshot *out, eb_error *err);
void eb_monitor_close(eb_monitor *m);

/* The snapshot as one JSON object. */
struct cJSON *eb_monitor_to_json(const eb_monitor_snapshot *s);

#endif
