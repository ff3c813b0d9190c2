/* Process and system memory readings through a configurable procfs root. */
#ifndef EDGEBENCH_MEMORY_H
#define EDGEBENCH_MEMORY_H

#include <stdbool.h>
#include <stdint.h>
#include "edgebench/error.h"

typedef struct eb_proc_mem {
    uint64_t rss_kb;
    uint64_t hwm_kb; /* peak RSS since start or since the last reset */
    uint64_t rss_anon_kb;
    uint64_t rss_file_kb;
    uint64_t swap_kb;
} eb_proc_mem;

/* Reads <root>/proc/self/status. */
eb_status eb_proc_mem_read(const char *root, eb_proc_mem *out, eb_error *err);

/* Resets the peak-RSS counter (writes 5 to <root>/proc/self/clear_refs).
 * Returns false when the kernel refuses; the peak then covers the process. */
bool eb_proc_mem_reset_peak(const char *root);

/* Reads MemTotal and MemAvailable from <root>/proc/meminfo. */
eb_status eb_meminfo_read(const char *root, uint64_t *total_kb, uint64_t *available_kb,
                          eb_error *err);

/* Proportional set size from <root>/proc/self/smaps_rollup: walks every
 * mapping, so read it at phase boundaries only. */
typedef struct eb_pss {
    uint64_t pss_kb, pss_anon_kb, pss_file_kb;
} eb_pss;
eb_status eb_pss_read(const char *root, eb_pss *out, eb_error *err);

/* System memory from <root>/proc/meminfo. has_nvmap: a Jetson's unified
 * memory line NvMapMemUsed is present. */
typedef struct eb_meminfo {
    uint64_t total_kb, available_kb, swap_total_kb, swap_free_kb, nvmap_kb;
    bool has_nvmap;
} eb_meminfo;
eb_status eb_meminfo_full(const char *root, eb_meminfo *out, eb_error *err);

#endif
