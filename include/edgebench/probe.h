/* `edgebench device probe`: the device's own ceilings, measured. Memory
 * read bandwidth by streaming a buffer much larger than the last-level
 * cache from several threads; the engine's matrix kernels' throughput per
 * weight type on a prefill-like shape; and the disk's cold and cached read
 * speed, for predicting load times. Best of several passes each. */
#ifndef EDGEBENCH_PROBE_H
#define EDGEBENCH_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgebench/engine.h"
#include "edgebench/error.h"
#include "edgebench/roofline.h"
#include "edgebench/sysinfo.h"

#define EB_PROBE_MAX_THREADS 32
#define EB_PROBE_MAX_TYPES 8
#define EB_PROBE_MAX_PASSES 64

typedef void (*eb_probe_progress_fn)(void *user, const char *what);

typedef struct eb_probe_options {
    const char *root; /* filesystem root for /proc and /sys reads */
    int threads[EB_PROBE_MAX_THREADS];
    int n_threads; /* 0: 1 .. online CPUs */
    const char *types[EB_PROBE_MAX_TYPES];
    int n_types;           /* 0: F16, Q8_0, Q4_0, Q4_K */
    uint64_t buffer_bytes; /* 0: max(256 MiB, 8 x last-level cache) */
    int passes;            /* kernel passes; 0: 5 */
    int mem_passes;        /* memory passes at least; 0: 48 */
    double mem_seconds;    /* and for at least this long; 0: 1 s (short probes are noisy) */
    int mm_m, mm_n, mm_k;  /* 0: 2048 x 256 x 2048 (rows, tokens, inner) */
    const char *disk_dir;  /* NULL: no disk probe */
    uint64_t disk_bytes;   /* 0: 256 MiB */
    eb_probe_progress_fn progress;
    void *progress_user;
} eb_probe_options;

typedef struct eb_probe_mem {
    int threads;
    int n_passes;
    double best_gbs, median_gbs, slowest_gbs;
    uint64_t sink; /* what was read, summed: keeps the reads from being optimised away */
} eb_probe_mem;

typedef struct eb_probe_kernel {
    char type[16];
    int threads;
    double best_gflops, median_gflops;
    char variant[64]; /* the weights' buffer type, e.g. "CPU_REPACK" */
    char reason[256]; /* when the engine could not run it */
} eb_probe_kernel;

typedef struct eb_probe_disk {
    bool measured;
    char dir[512];
    uint64_t bytes;
    double cold_gbs;   /* after the pages were dropped from the cache */
    double cached_gbs; /* the same file again, from the page cache */
    bool cold_dropped; /* the kernel accepted dropping the file's pages */
    char reason[256];
} eb_probe_disk;

typedef struct eb_probe_result {
    eb_device_info device;
    char started_at[32];
    char engine[32], engine_version[128];
    uint64_t llc_bytes; /* 0 when not read */
    uint64_t buffer_bytes;
    int passes, mem_passes;
    double mem_seconds;
    int mm_m, mm_n, mm_k;
    int n_mem;
    eb_probe_mem mem[EB_PROBE_MAX_THREADS];
    int n_kernels;
    eb_probe_kernel kernels[EB_PROBE_MAX_THREADS * EB_PROBE_MAX_TYPES];
    eb_probe_disk disk;
    double duration_s;
    /* CPUs' worth of work by others (and hypervisor steal) in the half
     * second before the probe; NAN when /proc/stat is not readable. Above
     * about 0.25 the ceilings will read low. */
    double busy_cpus_before;
} eb_probe_result;

/* Largest cache size under root's /sys/devices/system/cpu/cpu0/cache (0
 * when absent). */
uint64_t eb_llc_bytes(const char *root);

/* Sustained read bandwidth of threads threads over a buffer of bytes: after
 * one untimed pass, timed passes until there are at least passes of them
 * and min_seconds have gone by (at most EB_PROBE_MAX_MEM_PASSES). */
#define EB_PROBE_MAX_MEM_PASSES 4096
eb_status eb_probe_memory(uint64_t bytes, int threads, int passes, double min_seconds,
                          eb_probe_mem *out, eb_error *err);

/* Cold and cached read speed of a file of bytes written in dir (removed
 * after). */
eb_status eb_probe_disk_read(const char *dir, uint64_t bytes, eb_probe_disk *out, eb_error *err);

/* The whole probe. A kernel the engine cannot run is recorded with its
 * reason; memory and disk failures fail the probe. */
eb_status eb_probe_run(const eb_engine_ops *engine, const eb_probe_options *opt,
                       eb_probe_result *res, eb_error *err);

/* The probe as a store record ("kind": "probe"). */
struct cJSON;
struct cJSON *eb_probe_to_json(const eb_probe_result *res);

/* The ceilings of a probe record (eb_probe_to_json's, or a file of it):
 * memory bandwidth and kernel figures as points, in the record's order. */
eb_status eb_probe_points_from_json(const struct cJSON *rec, eb_probe_point **out, size_t *n,
                                    eb_error *err);
/* Points as a minimal probe record that eb_probe_points_from_json reads. */
struct cJSON *eb_probe_points_to_json(const eb_probe_point *p, size_t n);

#endif
