/* `edgebench run`: the study's protocol of load, prefill and generation,
 * repeated, with a warm-up reported apart from the statistics. */
#ifndef EDGEBENCH_BENCH_H
#define EDGEBENCH_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include "edgebench/counters.h"
#include "edgebench/engine.h"
#include "edgebench/error.h"
#include "edgebench/node.h"
#include "edgebench/roofline.h"
#include "edgebench/sampler.h"
#include "edgebench/stats.h"
#include "edgebench/sysinfo.h"

/* A model kept loaded between runs of one process (isolation=model): trials
 * that differ only in thread counts share one load. */
typedef struct eb_model_keeper {
    const struct eb_engine_ops *engine;
    struct eb_model *model;
    char path[1024];
    int n_gpu_layers;
    char load_mode[16];
    bool repack;
    char rpc[EB_MAX_NODES * 130];
} eb_model_keeper;
void eb_model_keeper_release(eb_model_keeper *k);

/* The study's prompt: a request to summarise a short story. */
extern const char eb_default_prompt[];

struct eb_run_result;

/* What a run records of its engine's build (build-info.txt's keys): which
 * candidate it is, the CPU features it uses, those turned off and why, its
 * self-test. One list: the run fills them, JSON and the store name them. */
typedef enum eb_build_fact {
    EB_BF_VARIANT,
    EB_BF_CPU_FEATURES,
    EB_BF_FEATURES_OFF,
    EB_BF_FEATURES_OFF_REASON,
    EB_BF_SELFTEST,
    EB_BUILD_FACT_COUNT
} eb_build_fact;
extern const char *const eb_build_fact_keys[EB_BUILD_FACT_COUNT];

typedef struct eb_run_config {
    const char *model_path;
    const char *prompt_text; /* used when n_prompt_random == 0 */
    const char *prompt_file; /* for the record only; its text is in prompt_text */
    int n_prompt_random;     /* > 0: that many random token ids, as llama-bench */
    int n_gen;
    int n_ctx;
    int threads_gen;
    int threads_prefill;
    int n_batch;
    int n_ubatch;
    int n_gpu_layers;
    /* llama-bench's settings, by its names */
    const char *type_k, *type_v; /* KV cache types ("f16", "q8_0", ...) */
    const char *flash_attn;      /* "auto", "on", "off" */
    int n_depth;                 /* tokens in the cache before the prompt */
    const char *load_mode;       /* "mmap", "no-mmap", "mlock", ... */
    bool cold_load;              /* the model's pages dropped before each load */
    bool repack;                 /* llama.cpp repacks weights for this CPU's kernels */
    bool cpu_strict;             /* engine threads pinned one per CPU */
    int poll;                    /* engine threads' busy-wait level, 0..100 */
    int n_parallel;              /* sequences decoded together (llama-batched-bench) */
    /* RPC nodes (`edgebench node`) that take the layers: "host:port,..." */
    const char *rpc;
    int rpc_nodes; /* >= 0: only the first this many of rpc (0: none); -1: all */
    const char
        *tensor_split;    /* shares per node, "3/1"; NULL: each node's --mem, else free memory */
    const char *link;     /* the link to the nodes, for the record ("1gbit-0.2ms") */
    double link_mbit;     /* its rate, for the transfer-time estimate; 0: unknown */
    double link_delay_ms; /* its one-way delay added, for the record; < 0: unknown */
    double sustain_s;     /* > 0: measured runs back to back for this long */
    double window_s;      /* a sustained run's figures per window of this length */
    int reps;             /* measured repetitions */
    int warmup;           /* warm-up repetitions before them, reported apart */
    uint64_t seed;
    const char *root; /* filesystem root for /proc and /sys reads */
    /* Measurement */
    double sample_interval_s; /* sampler period, 0.001..1 (default 0.010) */
    bool no_sampler;          /* no sampling thread at all (for comparisons) */
    bool keep_timeline;       /* JSON output and stored records carry the timeline */
    double idle_s;            /* idle power measured this long before the run */
    /* interference: a repetition during which other processes took more
     * than disturbed_above_pct of the CPUs (or the hypervisor stole that
     * much) is marked disturbed; before each, wait up to wait_idle_s for
     * the machine to be that quiet (0: do not wait) */
    double disturbed_above_pct;
    double wait_idle_s;
    double tdp_w;              /* > 0: CPU-load x TDP estimate when nothing measures */
    const char *meter_csv;     /* external meter log: timestamp,watts */
    double meter_offset_s;     /* added to the meter's timestamps */
    const char *meter;         /* --meter: read live, the total (sensors.h has its forms) */
    double meter_accuracy_pct; /* its stated accuracy, % of the reading; NaN: not given */
    /* Between runs: a fixed pause, or until the hottest thermal zone is
     * below cool_below_c (at most cool_max_wait_s). */
    double pause_s;
    double cool_below_c;
    double cool_max_wait_s;
    const char *cpu_affinity; /* for the record: the CLI pins the process */
    /* NULL: every repetition loads the model, as the study did. Else the
     * model stays loaded in the keeper and later repetitions (and later
     * eb_run calls) use it; their load span is the context's creation. */
    eb_model_keeper *keeper;
    /* Called as each span starts (gen_tps, prefill_tps NaN) and after each
     * repetition ("done", with its t/s), outside the timings: for a live
     * view (`edgebench monitor`). NULL: none. */
    void (*on_phase)(void *user, const char *phase, int rep, double gen_tps, double prefill_tps);
    /* Called after each repetition completes, with the result so far
     * (res->n_reps counts it): to stream it out of the process, so that
     * a crash later keeps it. NULL: none. */
    void (*on_rep)(void *user, const struct eb_run_result *res, int index);
    void *phase_user;
    /* Where the work runs: a backend by name ("auto", "cpu", "vulkan",
     * "cuda", "rpc") or a device list as llama-bench's -dev (NULL: the
     * backend's) */
    const char *backend, *devices;
    const char *build; /* the llama.cpp build to run with (eb_build_find); NULL: default */
    /* The engine ("llama.cpp": in process; "server": llama-server under
     * load, serve.h) and the server's load (params_serve_rows.h); the
     * in-process engine records them as its defaults. */
    struct {
        const char *engine, *url, *model, *api, *prompts_file;
        int concurrency, requests, slots;
        double rate, slo_ttft_ms, slo_itl_ms, timeout_s;
        bool cache_prompt;
    } serve;
} eb_run_config;

/* Defaults of the study: 100 generated tokens, context 512, 4 measured runs
 * after 1 warm-up, all cores for both phases. */
void eb_run_config_defaults(eb_run_config *cfg);

/* Checks ranges; a context too small for prompt + generation is caught later,
 * once the prompt is tokenized. */
eb_status eb_run_config_validate(const eb_run_config *cfg, eb_error *err);

typedef enum eb_phase { EB_PHASE_LOAD, EB_PHASE_PREFILL, EB_PHASE_GEN, EB_PHASE_COUNT } eb_phase;

const char *eb_phase_name(eb_phase p);

/* The phases and the whole repetition, for per-phase measurements. */
typedef enum eb_span {
    EB_SPAN_LOAD,
    EB_SPAN_PREFILL,
    EB_SPAN_GEN,
    EB_SPAN_RUN,
    EB_SPAN_COUNT
} eb_span;

const char *eb_span_name(eb_span s); /* load, prefill, generation, run */

/* Measurements per span. NaN means not available; the result says why. */
typedef enum eb_pm {
    EB_PM_ENERGY_J,
    EB_PM_ENERGY_ABOVE_IDLE_J,
    EB_PM_MEAN_W,
    EB_PM_PEAK_W,
    EB_PM_J_PER_TOKEN,
    EB_PM_ACTION, /* S = E / throughput, J*s/token */
    /* what the energy's readings can tell (lib/sensors/energy.h): */
    EB_PM_ENERGY_U_SYS_J,  /* the same in every run: resolution, gain and offset (if published) */
    EB_PM_ENERGY_U_RAND_J, /* the integration bound (it varies from run to run) */
    EB_PM_ENERGY_READINGS, /* readings of the total within the span */
    EB_PM_ENERGY_INTERVAL_MS, /* the total's effective interval between readings */
    /* with a calibration (calibrate.h): the on-board sensors' energy, raw and
     * through the fitted line, its bound, and per token */
    EB_PM_ONBOARD_J,
    EB_PM_CALIBRATED_J,
    EB_PM_CALIBRATED_U_J,
    EB_PM_CALIBRATED_J_PER_TOKEN,
    EB_PM_PEAK_RSS, /* VmHWM, reset at the start of the span */
    EB_PM_SAMPLED_RSS_MAX,
    EB_PM_RSS_ANON, /* at the end of the span */
    EB_PM_RSS_FILE,
    EB_PM_PSS,
    EB_PM_MEM_AVAILABLE,
    EB_PM_SWAP_USED,
    EB_PM_NVMAP,    /* Jetson unified memory in use */
    EB_PM_GPU_MEM,  /* GPU memory (NVML, or Jetson NvMap sampled), largest sample */
    EB_PM_CPU_FREQ, /* mean over policies of each policy's mean */
    EB_PM_TEMP_MAX, /* hottest zone */
    EB_PM_GPU_LOAD, /* mean GPU load (NVML utilization, Jetson load), percent */
    EB_PM_GPU_FREQ, /* mean GPU clock (NVML SM clock, Jetson devfreq) */
    /* interference: what else the machine did during the span */
    EB_PM_OTHER_CPU, /* other processes' CPU time, % of all CPUs (/proc/stat) */
    EB_PM_STEAL,     /* the hypervisor's steal, % of all CPUs */
    EB_PM_SWAP_IO,   /* pages swapped in and out (/proc/vmstat) */
    EB_PM_LOADAVG,   /* 1-minute load average at the span's end */
    EB_PM_DISTURBED, /* run span: 1 when interference passed the threshold, else 0 */
    EB_PM_COUNT
} eb_pm;

const char *eb_pm_name(eb_pm m);
const char *eb_pm_unit(eb_pm m);

/* One RPC node in one repetition: what our sockets to it moved in each
 * span (tcp_info) and what its own samples saw (eb_node_window). */
typedef struct eb_rep_node {
    double sent0[EB_SPAN_COUNT], recv0[EB_SPAN_COUNT]; /* at the span's start */
    double sent[EB_SPAN_COUNT], recv[EB_SPAN_COUNT];   /* during it */
    double rtt_s;
    eb_node_window win[EB_SPAN_COUNT];
    bool has_win;
} eb_rep_node;

typedef struct eb_rep {
    int index;
    bool warmup;
    double load_s;        /* model load + context creation */
    double prefill_s;     /* prompt evaluation */
    double gen_s;         /* n_gen tokens: greedy choice + one-token evaluation each */
    double e2e_s;         /* load + prefill + generation */
    double ttft_s;        /* the study's TTFT: load + prefill */
    double first_token_s; /* from the end of loading to the first generated token */
    int n_prompt;
    int n_gen;
    double prefill_tps;
    double gen_tps;
    double itl_p50_s, itl_p90_s, itl_p99_s;
    double *itl_s;            /* n_gen inter-token latencies */
    uint64_t peak_rss_kb;     /* peak RSS during this repetition */
    bool peak_rss_is_process; /* the kernel refused the reset: peak since start */
    eb_engine_perf engine_perf;
    eb_counter_values counters[EB_PHASE_COUNT];          /* per phase */
    double t_start[EB_SPAN_COUNT], t_end[EB_SPAN_COUNT]; /* CLOCK_MONOTONIC */
    double pm[EB_SPAN_COUNT][EB_PM_COUNT];
    /* Per sampled channel and span: mean, max, and energy (J) for power and
     * energy channels; n_channels x EB_SPAN_COUNT x 3, NaN where unknown. */
    double *channel;
    double pause_before_s;       /* cool-down waited before this run */
    double idle_wait_s;          /* --wait-idle: waited for a quiet machine before it */
    double swap0[EB_SPAN_COUNT]; /* pswpin + pswpout at each span's start */
    bool disturbed;
    char disturbed_why[160];
    bool model_reused;   /* the model was already loaded (a keeper) */
    double depth_fill_s; /* untimed prefill of the n_depth tokens before the prompt */
    /* --cold-load: share of the model file in the page cache after dropping
     * it, just before the load (NaN: not asked, or it could not be read) */
    double cold_resident_pct;
    bool has_throttled;
    uint32_t throttled; /* Raspberry Pi flags, OR of the start and end reads */
    /* CPU time of the thread that drives the engine, per span: with RPC
     * nodes, the local share of compute */
    double thread_cpu0[EB_SPAN_COUNT], thread_cpu_s[EB_SPAN_COUNT];
    eb_rep_node *nodes; /* n_nodes of the result, NULL without RPC */
    /* the generated token ids (one sequence; NULL with --parallel): greedy
     * runs of one model and seed give the same ids however it is split */
    int32_t *gen_tokens;
} eb_rep;

typedef enum eb_metric {
    EB_M_LOAD_S,
    EB_M_PREFILL_S,
    EB_M_GEN_S,
    EB_M_E2E_S,
    EB_M_TTFT_S,
    EB_M_FIRST_TOKEN_S,
    EB_M_PREFILL_TPS,
    EB_M_GEN_TPS,
    EB_M_ITL_P50_S,
    EB_M_ITL_P90_S,
    EB_M_ITL_P99_S,
    EB_M_PEAK_RSS_MB,
    EB_M_COUNT
} eb_metric;

/* "random token ids", "file", "default story prompt" or "text". */
const char *eb_prompt_source(const eb_run_config *cfg);

const char *eb_metric_name(eb_metric m);
const char *eb_metric_unit(eb_metric m);
double eb_rep_metric(const eb_rep *rep, eb_metric m);

/* One window of a sustained run (--duration): the measured repetitions
 * whose generation ended in it. NaN: not measured. */
typedef struct eb_window {
    double t0_s, t1_s; /* from the start of the first measured run */
    int n_reps;
    double gen_tps, prefill_tps;
    double temp_max_c, cpu_freq_mhz, gen_mean_w;
    bool has_throttled;
    uint32_t throttled; /* Raspberry Pi flags, OR over the window */
} eb_window;

/* One RPC node of a run: its facts, what it held, and per span the mean
 * over the measured repetitions (NaN: not measured; note says why). */
typedef struct eb_node_result {
    char endpoint[128];
    char peer[136]; /* the endpoint as a numeric address:port, resolved once */
    eb_node_facts facts;
    double clock_offset_s, clock_uncertainty_s; /* its clock - ours, at connection */
    double share;                               /* of the layers asked of it (tensor split) */
    eb_placement placed;
    double energy_j[EB_SPAN_COUNT], mean_w[EB_SPAN_COUNT], peak_w[EB_SPAN_COUNT];
    double peak_rss_mib[EB_SPAN_COUNT];
    double compute_s[EB_SPAN_COUNT];                             /* its serving thread's CPU time */
    double sent_bytes[EB_SPAN_COUNT], recv_bytes[EB_SPAN_COUNT]; /* ours to it, from it */
    double iface_tx_bytes[EB_SPAN_COUNT],
        iface_rx_bytes[EB_SPAN_COUNT]; /* its interface, all traffic */
    double temp_max_c[EB_SPAN_COUNT], cpu_freq_mhz[EB_SPAN_COUNT];
    double rtt_s;       /* our socket's smoothed round trip */
    eb_node_link *link; /* open during the run */
} eb_node_result;

/* A span of a distributed run per token (prefill: per prompt token): where
 * the time went, as estimated from CPU times (the engine thread's here,
 * each node's serving thread) and the bytes moved. */
typedef struct eb_dist_span {
    double wall_s, local_compute_s, nodes_compute_s;
    double network_wait_s;       /* wall - the computes: an estimate */
    double bytes;                /* sent + received, every node */
    double predicted_transfer_s; /* bytes x 8 / link rate; NaN without one */
    double energy_j;             /* this device + every node, the span */
    double j_per_token;
    char energy_note[256]; /* why the total is missing */
} eb_dist_span;

/* A device's on-board total fitted to an external meter (calibrate.h). */
typedef struct eb_calibration {
    char device[256];    /* the device key runs are stored under */
    char meter[256];     /* the meter, as it may be shown */
    char onboard[256];   /* the on-board total it maps */
    char created_at[32]; /* ISO 8601 UTC */
    double gain, offset_w;
    double residual_w; /* standard deviation of the rungs about the line */
    double r2;
    int n_points;
} eb_calibration;

typedef struct eb_run_result {
    eb_run_config config;
    eb_model_info model;
    eb_device_info device;
    char engine_name[32];
    char engine_version[128];
    char engine_build_options[1024]; /* an explicit feature list is long */
    char engine_backend[32];
    char engine_system_info[512];
    /* the build's record (build-info.txt), by eb_build_fact_keys */
    char engine_build_fact[EB_BUILD_FACT_COUNT][512];
    char edgebench_version[32];
    char started_at[32]; /* ISO 8601 UTC */
    int n_prompt;
    int n_reps;         /* filled so far: warm-ups then measured */
    int n_disturbed;    /* measured repetitions marked disturbed (interference) */
    int n_reps_planned; /* warm-ups and measured the protocol asked for */
    char failure[768];  /* why the run stopped early: its error's message, or "" */
    eb_rep *reps;
    eb_stats stats[EB_M_COUNT]; /* over the measured repetitions only */
    /* --duration: per window, the last window's generation t/s over the
     * first's, and when a window first fell below 95% of the first (NaN:
     * never) */
    eb_window *windows;
    int n_windows;
    double sustain_ratio, below95_s;
    uint64_t process_peak_rss_kb;
    int perf_event_paranoid; /* -99 if unknown */

    eb_stats pm_stats[EB_SPAN_COUNT][EB_PM_COUNT]; /* measured runs, NaN skipped */
    char pm_reason[EB_PM_COUNT][640];              /* why a measurement is missing */
    /* The sampler, kept for the timeline; NULL with --no-sampler. */
    eb_sampler *sampler;
    eb_sampler_timing timing;
    double run_t0;           /* CLOCK_MONOTONIC at the start, timeline origin */
    double wall_minus_mono;  /* CLOCK_REALTIME - CLOCK_MONOTONIC at the start */
    char energy_source[256]; /* "rapl:psys", "external meter FILE", ... */
    bool energy_estimate;
    double idle_w; /* NaN when not measured */
    /* its 95 % interval (the idle window's fifths' spread and the sensor's
     * bounds), and whether its halves agree within it */
    double idle_w_u95;
    bool idle_unsteady;
    /* the total's accuracy and where it comes from, per channel */
    char energy_accuracy[512];
    bool energy_accuracy_unpublished; /* the intervals leave the sensor's accuracy out */
    bool has_calibration; /* the device's newest calibration was applied (eb_result_calibrate) */
    eb_calibration calibration;
    double idle_t0, idle_t1;
    char *governors; /* every policy at the start, e.g. "policy0=ondemand" (owned) */
    char cpus_online[1024];
    /* The model's shape (read from the file) and, when the caller had the
     * device's probed ceilings, the run against them (eb_run_roofline). */
    bool has_shape;
    eb_model_shape shape;
    bool has_roofline;
    eb_roofline roofline;
    char roofline_note[256]; /* why there is no roofline */
    /* The context as the engine made it (KV types and size, flash
     * attention used), and why a cold load was not cold */
    bool has_ctx_info;
    eb_ctx_info ctx_info;
    char cold_load_note[256];
    /* RPC nodes (config.rpc) and the spans' split of time and energy */
    int n_nodes;
    eb_node_result *nodes;
    char rpc_list[EB_MAX_NODES * 130]; /* the nodes used, "host:port,..." */
    float tensor_split[EB_MAX_NODES];
    bool has_split;
    eb_dist_span dist[EB_SPAN_COUNT];
} eb_run_result;

typedef void (*eb_run_progress_fn)(void *user, const char *what, int rep, int total);

/* Runs the protocol. On failure after some repetitions finished, res still
 * holds them (n_reps) so nothing measured is lost. */
eb_status eb_run(const eb_engine_ops *engine, const eb_run_config *cfg, eb_run_result *res,
                 eb_run_progress_fn progress, void *user, eb_error *err);

void eb_run_result_free(eb_run_result *res);

/* The run against the device's probed ceilings (points from the newest
 * probe first): generation and prefill efficiency and the predicted maxima,
 * from the means of the measured repetitions. */
void eb_run_roofline(eb_run_result *res, const eb_probe_point *points, size_t n);

/* The pause between runs: pause_s, or until the hottest thermal zone under
 * root is below cool_below_c (at most cool_max_wait_s). Returns the seconds
 * waited. */
double eb_cool_down(const eb_run_config *cfg);

#endif
