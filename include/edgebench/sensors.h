/* Power and energy sources. Each backend is a const table of function
 * pointers; probing says found, absent or no permission, with the reason.
 * Every path is read under a configurable root so tests use fixture trees. */
#ifndef EDGEBENCH_SENSORS_H
#define EDGEBENCH_SENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EB_MAX_CHANNELS 16

typedef enum eb_probe {
    EB_PROBE_FOUND,
    EB_PROBE_ABSENT,
    EB_PROBE_NO_PERMISSION,
} eb_probe;

typedef enum eb_channel_kind {
    EB_CH_ENERGY, /* cumulative counter, joules (unwrapped by the reader) */
    EB_CH_POWER,  /* instantaneous power, watts */
} eb_channel_kind;

typedef struct eb_channel {
    char name[64]; /* e.g. "rapl:package-0", "ina3221:VDD_IN" */
    eb_channel_kind kind;
    /* Part of the device total. Channels that are parts of another (RAPL core
     * inside package, Jetson rails inside VDD_IN) are false, so nothing is
     * counted twice. */
    bool in_total;
    bool estimate; /* a model, not a measurement */
} eb_channel;

struct eb_source;

typedef struct eb_source_ops {
    const char *name;
    const char *description;
    /* Finds the source under root. On EB_PROBE_FOUND, *out holds the state
     * (channels, open files); otherwise reason says why not. */
    eb_probe (*probe)(const char *root, struct eb_source **out, char *reason, size_t cap);
    /* Reads every channel into values (joules or watts); false on failure.
     * Called from the sampler: no allocation, no logging. */
    bool (*read)(struct eb_source *src, double *values);
    void (*close)(struct eb_source *src);
} eb_source_ops;

/* Common head of every backend's state. */
typedef struct eb_source {
    const eb_source_ops *ops;
    int n_channels;
    eb_channel channels[EB_MAX_CHANNELS];
} eb_source;

extern const eb_source_ops eb_source_rapl;
extern const eb_source_ops eb_source_hwmon;
extern const eb_source_ops eb_source_battery;

/* All backends in the order they are tried. */
extern const eb_source_ops *const eb_power_backends[];
extern const size_t eb_power_backend_count;

/* Opens a sysfs file read-only. A variable so that tests, which run as root,
 * can make an open fail with EACCES as it does for an ordinary user. */
extern int (*eb_sysfs_open)(const char *path);

/* Re-reads a sysfs file that was opened once (pread at offset 0). */
bool eb_sysfs_read_u64(int fd, uint64_t *out);
bool eb_sysfs_read_i64(int fd, int64_t *out);

#endif
