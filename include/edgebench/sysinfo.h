/* Facts about the device a result was measured on. */
#ifndef EDGEBENCH_SYSINFO_H
#define EDGEBENCH_SYSINFO_H

#include <stdint.h>

typedef struct eb_device_info {
    char hostname[128];
    char cpu_model[256];
    char board_model[256]; /* device-tree model where present, else "" */
    int n_cpus_online;
    int n_cpus_configured;
    uint64_t ram_total_kb;
    uint64_t ram_available_kb;
    char kernel[256];
    char os[256];
    char arch[64];
    char cpu_topology[2048];     /* "policy0: cpus 0-3 max 2400 MHz; ..." (says what it left out) */
    char governors_offered[256]; /* of the first cpufreq policy */
    char power_modes[256];       /* Jetson nvpmodel modes "0=15W 1=7W" */
    char gpu[256];               /* NVIDIA driver's model line, else "" */
} eb_device_info;

/* Reads device facts through root (the filesystem root, "/" normally; a
 * fixture tree in tests). Missing facts are left as "" or 0. */
void eb_device_info_read(const char *root, eb_device_info *out);

/* The device as a JSON object (the "device" of every result and record). */
struct cJSON;
struct cJSON *eb_device_info_to_json(const eb_device_info *d);

#endif
