/* Power and energy sources. Each backend is a const table of function
 * pointers; probing says found, absent or no permission, with the reason.
 * Every path is read under a configurable root so tests use fixture trees. */
#ifndef EDGEBENCH_SENSORS_H
#define EDGEBENCH_SENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Channels one source keeps: a few hundred, more than a 128-CPU server has
 * clocks or a board has rails. A source that finds more keeps the first
 * ones and says which it left out (eb_source.left_out). */
#define EB_MAX_CHANNELS 256

typedef enum eb_probe {
    EB_PROBE_FOUND,
    EB_PROBE_ABSENT,
    EB_PROBE_NO_PERMISSION,
} eb_probe;

typedef enum eb_channel_kind {
    EB_CH_ENERGY, /* cumulative counter, joules (unwrapped by the reader) */
    EB_CH_POWER,  /* instantaneous power, watts */
    EB_CH_MEMORY, /* memory in use, MiB (e.g. GPU memory) */
    EB_CH_FREQ,   /* clock frequency, MHz */
    EB_CH_TEMP,   /* temperature, degrees Celsius */
    EB_CH_LOAD,   /* utilisation, percent (a GPU's load) */
} eb_channel_kind;

/* "J", "W", "MiB", "MHz", "C" or "%". */
const char *eb_channel_unit(eb_channel_kind k);

typedef struct eb_channel {
    char name[64]; /* e.g. "rapl:package-0", "ina3221:VDD_IN" */
    eb_channel_kind kind;
    /* Part of the device total. Channels that are parts of another (RAPL core
     * inside package, Jetson rails inside VDD_IN) are false, so nothing is
     * counted twice. */
    bool in_total;
    /* Measures the whole device (RAPL psys, Jetson VDD_IN, a discharging
     * battery, the Pi 5 rail sum). When one exists it alone is the total and
     * every other source is a part. */
    bool whole_device;
    bool estimate; /* a model, not a measurement */
    bool gpu;      /* describes a GPU (its clock, load, memory), not the CPU or process */
    /* How far a reading can be trusted, from the part's datasheet or the
     * interface's documentation (accuracy_basis names it; empty: the
     * accuracy is not published, and intervals say they leave it out).
     * gain_err: fraction of the reading; offset_w: watts at any reading
     * (NaN: not known, e.g. a shunt of unknown value); step: one step of
     * the reading as the interface gives it (W for power, J for energy). */
    /* Part of the device's own total (its sensors'), kept when an external
     * meter is the total: what `calibrate` fits and calibrated energy uses. */
    bool onboard;
    double gain_err;
    double offset_w;
    double step;
    char accuracy_basis[128];
} eb_channel;

/* Sets a channel's accuracy (basis NULL or "": not published). */
void eb_channel_accuracy(eb_channel *ch, double gain_err, double offset_w, double step,
                         const char *basis);

struct eb_source;

/* What a probe is told. */
typedef struct eb_probe_ctx {
    const char *root;      /* sysfs/procfs root: "/" or a fixture tree */
    double tdp_w;          /* for the CPU-load x TDP estimate; 0: none given */
    bool have_total;       /* a measured device total was already found */
    const char *meter;     /* --meter: an external meter to read live; NULL: none asked */
    double meter_gain_err; /* --meter-accuracy as a fraction; NaN: not published */
} eb_probe_ctx;

typedef struct eb_source_ops {
    const char *name;
    const char *description;
    /* A source slower than this to read (the Pi 5 PMIC, ~23 ms) is polled on
     * its own thread at this interval; 0: every sampler tick. */
    double min_interval_s;
    /* Finds the source. On EB_PROBE_FOUND, *out holds the state (channels,
     * open files); otherwise reason says why not. */
    eb_probe (*probe)(const eb_probe_ctx *ctx, struct eb_source **out, char *reason, size_t cap);
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
    char last_error[192]; /* why the last read failed ("" when it did not) */
    int n_left_out;       /* channels found but not kept */
    char left_out[512];   /* their names, "(and N more)" past this text */
} eb_source;

/* Room for one more channel; when there is none, name is recorded as left
 * out and false returned. */
bool eb_source_room(eb_source *s, const char *name);

extern const eb_source_ops eb_source_meter; /* --meter: a smart plug or an INA2xx, live */
extern const eb_source_ops eb_source_rapl;
extern const eb_source_ops eb_source_hwmon;
extern const eb_source_ops eb_source_battery;
extern const eb_source_ops eb_source_pi5_pmic;
extern const eb_source_ops eb_source_nvml;
extern const eb_source_ops eb_source_cpu_estimate; /* only when nothing measures */
extern const eb_source_ops eb_source_cpufreq;
extern const eb_source_ops eb_source_thermal;
extern const eb_source_ops eb_source_jetson_gpu; /* devfreq clock and load */
extern const eb_source_ops eb_source_nvmap;      /* Jetson unified memory */
extern const eb_source_ops eb_source_drm_gpu;    /* amdgpu, i915, xe: clock, load, memory */
extern const eb_source_ops eb_source_drm_fdinfo; /* this process's GPU memory and time */
extern const eb_source_ops eb_source_cpuload;    /* /proc/stat: busy, others', steal */
/* The NVIDIA driver's version and the CUDA version it supports, through
 * NVML ("NVIDIA driver 550.54.15, CUDA 12.4"); false with "driver not
 * available: why" in out. */
bool eb_nvml_driver(char *out, size_t cap);
/* Other processes' share of all CPUs, and steal, percent, over window_s
 * from now (/proc/stat less this process); false when unreadable. */
bool eb_cpu_others(const char *root, double window_s, double *other_pct, double *steal_pct);

/* Power backends in the order they are tried; the estimate comes last. */
extern const eb_source_ops *const eb_power_backends[];
extern const size_t eb_power_backend_count;
/* Frequency, temperature, GPU load and unified memory, sampled beside power. */
extern const eb_source_ops *const eb_state_backends[];
extern const size_t eb_state_backend_count;

const char *eb_probe_name(eb_probe p); /* "found", "absent", "no permission" */

/* --meter's forms: shelly:HOST[:PORT][/ID] (Shelly Gen2 RPC Switch.GetStatus,
 * "apower"), tasmota:HOST[:PORT] (Status 8, StatusSNS.ENERGY.Power), an
 * http:// or https:// URL answering either, or hwmon:NAME (an INA219,
 * INA226, INA228... through the kernel's ina2xx driver: its power1_input).
 * The spec as it may be shown: a URL's user and password left out. */
void eb_meter_spec_public(const char *spec, char *out, size_t cap);
/* A meter's HTTP reply (len bytes, then a NUL): its watts
 * (Shelly's "apower", Tasmota's StatusSNS.ENERGY.Power) and one step of the
 * reading from the digits it was sent with (0: unknown); false with why. */
bool eb_meter_parse_reply(const char *reply, size_t len, double *watts, double *step, char *why,
                          size_t cap);

/* An INA-family chip's accuracy from its datasheet, for the hwmon device at
 * path (sensor index n; vi: a current x voltage channel) named dev. */
void eb_hwmon_chip_accuracy(eb_channel *ch, const char *path, const char *dev, int n, bool vi);

/* Opens a sysfs file read-only. A variable so that tests, which run as root,
 * can make an open fail with EACCES as it does for an ordinary user. */
extern int (*eb_sysfs_open)(const char *path);

/* Re-reads a sysfs file that was opened once (pread at offset 0). */
bool eb_sysfs_read_u64(int fd, uint64_t *out);
bool eb_sysfs_read_i64(int fd, int64_t *out);

#endif
