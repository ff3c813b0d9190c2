/* CPU counters per phase through perf_event_open, with a status for each:
 * hardware events are often absent (VMs) or forbidden (perf_event_paranoid),
 * and getrusage stands in for the software ones when perf is unavailable. */
#ifndef EDGEBENCH_COUNTERS_H
#define EDGEBENCH_COUNTERS_H

#include <stdint.h>

typedef enum eb_counter_id {
    EB_CTR_CYCLES,
    EB_CTR_INSTRUCTIONS,
    EB_CTR_CACHE_REFERENCES,
    EB_CTR_CACHE_MISSES,
    EB_CTR_L1D_READ_MISSES,
    EB_CTR_CONTEXT_SWITCHES,
    EB_CTR_CPU_MIGRATIONS,
    EB_CTR_MINOR_FAULTS,
    EB_CTR_MAJOR_FAULTS,
    EB_CTR_COUNT
} eb_counter_id;

typedef enum eb_counter_status {
    EB_CTR_OK,
    EB_CTR_SCALED,        /* multiplexed: value scaled by enabled/running time */
    EB_CTR_RUSAGE,        /* from getrusage (perf unavailable) */
    EB_CTR_NOT_SUPPORTED, /* no such event here (e.g. a VM without a virtual PMU) */
    EB_CTR_NO_PERMISSION, /* perf_event_paranoid or a seccomp filter forbids it */
    EB_CTR_NOT_SCHEDULED  /* opened but never ran */
} eb_counter_status;

typedef struct eb_counter_values {
    double value[EB_CTR_COUNT];
    eb_counter_status status[EB_CTR_COUNT];
} eb_counter_values;

typedef struct eb_counter_raw {
    uint64_t value[EB_CTR_COUNT], enabled[EB_CTR_COUNT], running[EB_CTR_COUNT];
    uint64_t ru_csw, ru_minflt, ru_majflt;
} eb_counter_raw;

typedef struct eb_counters {
    int fd[EB_CTR_COUNT];
    eb_counter_status open_status[EB_CTR_COUNT];
    int paranoid; /* perf_event_paranoid, -99 if unknown */
} eb_counters;

const char *eb_counter_name(eb_counter_id id);
const char *eb_counter_status_name(eb_counter_status s);
/* What the event counts on this CPU architecture, in words. */
const char *eb_counter_meaning(eb_counter_id id);

/* Opens every counter for this process and the threads it creates later
 * (inherit), so call it before the engine starts its threads. root is the
 * procfs root used to read perf_event_paranoid. */
void eb_counters_open(eb_counters *c, const char *root);
void eb_counters_read(const eb_counters *c, eb_counter_raw *out);
/* The counts between two reads, with statuses. */
void eb_counters_delta(const eb_counters *c, const eb_counter_raw *a, const eb_counter_raw *b,
                       eb_counter_values *out);
void eb_counters_close(eb_counters *c);

#endif
