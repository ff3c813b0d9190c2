/* Section 6 of the study as functions: what measurements mean for someone
 * choosing a model, a device and a configuration. Formulas are pure; the
 * grouping works on the store's per-run rows (eb_store_results, runs view). */
#ifndef EDGEBENCH_ANALYZE_H
#define EDGEBENCH_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgebench/error.h"
#include "edgebench/params.h"
#include "edgebench/roofline.h"
#include "edgebench/store.h"

/* ---- formulas ---- */

/* Generation throughput a reader needs: words/s ÷ words/token (4 / 0.75 =
 * 5.33 tokens/s in the study). */
double eb_reading_tokens_per_s(double words_per_s, double words_per_token);
/* Runs a battery allows: capacity (Wh, 18.84 in the study = 67824 J) ÷
 * energy of one run (J). */
double eb_battery_runs(double capacity_wh, double run_energy_j);
/* Energy cost of a million tokens in cents at an electricity price. */
double eb_cost_per_mtok_cents(double j_per_token, double cents_per_kwh);
/* Years until the dearer device (a) pays back its extra price through
 * lower energy cost, for a workload of input:output tokens at utilisation
 * mu of device a (0..1). Energies in J/token, throughputs in tokens/s.
 * Returns INFINITY when a never saves (it uses as much energy or more). */
typedef struct eb_device_costs {
    double price;                /* purchase price, any currency unit */
    double prefill_tps, gen_tps; /* throughput */
    double prefill_jpt, gen_jpt; /* energy per token */
} eb_device_costs;
double eb_breakeven_years(const eb_device_costs *a, const eb_device_costs *b, double in_tokens,
                          double out_tokens, double mu, double price_per_kwh);

/* Welch's two-sample t-test: the two-sided p-value of equal means (1 when
 * either sample has fewer than two values or both have no variance). */
double eb_welch_p(const double *a, size_t na, const double *b, size_t nb);
/* Percentile bootstrap 95% interval of mean(a) - mean(b): iters resamples
 * of each sample with replacement, from a fixed seed (the same data give
 * the same interval). False when either sample has fewer than two values. */
bool eb_bootstrap_diff_ci(const double *a, size_t na, const double *b, size_t nb, int iters,
                          uint64_t seed, double *lo, double *hi);
/* Marks the points not dominated in (higher better x, lower better y). */
void eb_pareto(const double *x_higher, const double *y_lower, size_t n, bool *on_front);

/* ---- configurations from stored runs ---- */

enum {
    EB_AV_PREFILL_TPS,
    EB_AV_GEN_TPS,
    EB_AV_PREFILL_JPT,
    EB_AV_GEN_JPT,
    EB_AV_PREFILL_ACTION,
    EB_AV_GEN_ACTION,
    EB_AV_RUN_ENERGY,
    EB_AV_E2E_S,
    EB_AV_LOAD_S,
    EB_AV_PEAK_RSS,
    EB_AV_GEN_CACHE_MISSES_PT,
    EB_AV_GEN_CTX_SWITCHES_PT,
    EB_AV_PREFILL_S,
    EB_AV_GEN_S,
    EB_AV_PREFILL_CACHE_MISSES_PT,
    EB_AV_PREFILL_CTX_SWITCHES_PT,
    /* the energy's bounds as shares of a span's energy (eb_config_energy_u95) */
    EB_AV_PREFILL_U_SYS,
    EB_AV_PREFILL_U_RAND,
    EB_AV_GEN_U_SYS,
    EB_AV_GEN_U_RAND,
    EB_AV_RUN_U_SYS,
    EB_AV_RUN_U_RAND,
    EB_AV_COUNT
};
const char *eb_av_name(int v);

typedef struct eb_samples {
    double *v;
    size_t n, cap;
} eb_samples;

/* One configuration on one device: its measured runs. */
typedef struct eb_config {
    char device[256], model[256], quant[32], governor[128], power_mode[64];
    char board[128]; /* the device's board (or "" when not known): the fleet's unit-to-unit view */
    int threads_prefill, threads_gen;
    int gpu_layers; /* layers offloaded to a GPU; 0: CPU only */
    int n_parallel; /* sequences decoded together (its t/s: all of them) */
    /* its energy is the CPU-load x TDP estimate: labelled so everywhere,
     * and ranked apart from measured configurations */
    bool energy_estimate;
    /* the stored settings (eb_params' EB_PF_STORED rows with label words)
     * where they differ from their defaults, as a label ("ctx 8192,
     * K cache q8_0, flash attention on, depth 512"): a configuration of
     * its own, "" for the defaults */
    char settings[384];
    /* the same without the settings that change only generation
     * (EB_PF_GEN_ONLY): what a prefill figure depends on */
    char prefill_settings[384];
    /* what else changes the measurement: the prompt's length, the model
     * file (its row: found by its hash) and the build; named in settings
     * only where configurations otherwise alike differ in it */
    int n_prompt, n_gen; /* the workload: tokens prefilled and generated */
    long long model_id, build_id;
    char build[160];
    eb_samples s[EB_AV_COUNT];
} eb_config;

/* Where a table holds the stored settings with label words: their rows and
 * column indexes (-1: the table lacks it, the setting is at its default),
 * found once per table. */
typedef struct eb_settings_columns {
    const eb_param *row[EB_PARAM_MAX];
    int col[EB_PARAM_MAX];
    size_t n;
} eb_settings_columns;
void eb_settings_columns_find(const eb_table *t, eb_settings_columns *sc);
/* The settings label of row r of that table (see eb_config). */
/* The label of the settings a phase depends on (prefill: without the
 * generation-only ones). */
void eb_settings_label_phase(const eb_table *t, const eb_settings_columns *sc, size_t r,
                             bool prefill, char *out, size_t cap);
void eb_settings_label(const eb_table *t, const eb_settings_columns *sc, size_t r, char *out,
                       size_t cap);

typedef struct eb_config_set {
    eb_config *c;
    size_t n;
    size_t n_disturbed; /* measured runs marked disturbed, left out */
} eb_config_set;

/* Groups measured (not warm-up) runs of ok trials by their whole
 * configuration (eb_config), leaving out runs marked disturbed. */
eb_status eb_configs_from_runs(const eb_table *runs, eb_config_set *out, eb_error *err);
/* The same, keeping runs marked disturbed when with_disturbed (they are
 * counted in n_disturbed either way). */
eb_status eb_configs_from_runs_with(const eb_table *runs, bool with_disturbed, eb_config_set *out,
                                    eb_error *err);
void eb_config_set_free(eb_config_set *set);
/* The configurations of the store's runs that pass the filter. */
eb_status eb_store_configs(eb_store *s, const eb_results_filter *f, eb_config_set *out,
                           eb_error *err);
double eb_samples_mean(const eb_samples *s); /* NAN when empty */
/* The 95 % interval (half-width) of c's mean energy figure av (energy per
 * token, action per token, the run's energy): the runs' spread with the
 * sensor's bounds, as eb_energy_u95 combines them. NaN for other figures,
 * estimates, or without runs. *sys_left_out: the sensor's accuracy is not
 * published and the interval leaves it out. */
double eb_config_energy_u95(const eb_config *c, int av, bool *sys_left_out);
/* The same for n values of figure av pooled from configurations like c
 * (whose bounds they share). */
double eb_energy_figure_u95(const double *v, size_t n, const eb_config *c, int av,
                            bool *sys_left_out);
/* Whether the 95 % intervals of a's and b's figure av overlap (energy
 * figures: with the sensor's bounds; others: the runs' spread). */
bool eb_config_overlap(const eb_config *a, const eb_config *b, int av);

/* A group is one device, model and weight type and one workload (prompt
 * and generated tokens: another workload is another question), measured or
 * estimated energy apart. */
bool eb_config_same_group(const eb_config *a, const eb_config *b);
/* The same device, model and weight type, whatever the workload. */
bool eb_config_same_model(const eb_config *a, const eb_config *b);
/* What eb_config_alike may let differ. */
enum {
    EB_BUT_THREADS_PREFILL = 1 << 0,
    EB_BUT_THREADS_GEN = 1 << 1,
    EB_BUT_GEN_SETTINGS = 1 << 2, /* settings that change only generation (tokens generated) */
    EB_BUT_PROMPT = 1 << 3,
    EB_BUT_MODEL_FILE = 1 << 4,
    EB_BUT_BUILD = 1 << 5,
};
/* One configuration but for what `but` names (0: the same configuration):
 * the one comparison grouping, labels, phase rivals and figures use. */
bool eb_config_alike(const eb_config *a, const eb_config *b, unsigned but);
/* Whether set->c[i] is the first configuration of its group. */
bool eb_config_first_of_group(const eb_config_set *set, size_t i);
/* The configuration of group's group with the highest (or lowest) mean of
 * measure av, NULL when none has it; *second (may be NULL) the runner-up. */
const eb_config *eb_config_best(const eb_config_set *set, const eb_config *group, int av,
                                bool higher, const eb_config **second);

/* ---- the quantization effect (the study's Figs. 11 and 12) ---- */

/* A 16- or 32-bit base type: F16, BF16, F32 ("all F32"). */
bool eb_quant_is_base(const char *quant);

enum {
    EB_QE_PEAK_RSS,
    EB_QE_PREFILL_TPS,
    EB_QE_GEN_TPS,
    EB_QE_PREFILL_JPT,
    EB_QE_GEN_JPT,
    EB_QE_COUNT
};

/* A quantized configuration beside its base: means of its runs and of the
 * base's (same device, model, threads, governor, power mode), NAN where not
 * measured; perplexity of each on the same corpus and context, and the KL
 * divergence and top-1 agreement measured against that base. */
typedef struct eb_quant_effect {
    char device[256], model[256], quant[32], base_quant[32]; /* base_quant "" when none */
    char governor[128], power_mode[64];
    int threads_prefill, threads_gen, gpu_layers;
    bool has_runs; /* false: only perplexity is stored for this model and type */
    bool synthetic;
    double value[EB_QE_COUNT], base[EB_QE_COUNT];
    double ppl, base_ppl, kl_mean, top1;
} eb_quant_effect;

/* One row per quantized configuration of set, and per quantized model in
 * quality (the store's quality view; may be NULL) that has no runs. */
eb_status eb_quant_effects(const eb_config_set *set, const eb_table *quality, eb_quant_effect **out,
                           size_t *n, eb_error *err);

/* ---- physical limits (roofline) ---- */

/* The probe points of one device (a row's "device" equal to device; NULL:
 * every device) from the store's probes view, newest first. */
eb_status eb_probe_points_from_table(const eb_table *probes, const char *device,
                                     eb_probe_point **out, size_t *n, eb_error *err);

/* A stored trial against its device's ceilings. */
typedef struct eb_roofline_point {
    long long trial_id;
    size_t row; /* its row in the trials table, for its other columns */
    char device[256], model[256], quant[32], governor[128], power_mode[64];
    char board[128]; /* the device's board (or "" when not known): the fleet's unit-to-unit view */
    int threads_prefill, threads_gen;
    bool synthetic;
    bool has_shape; /* false: stored before shapes were recorded */
    double n_prompt, n_gen;
    eb_model_shape shape;
    eb_roofline rl;
    /* On a roofline chart: operations per byte read and operations/s. */
    double gen_intensity, gen_gflops, prefill_intensity, prefill_gflops;
} eb_roofline_point;

/* One point per ok trial of the roofline view (eb_store_results,
 * EB_VIEW_ROOFLINE), with ceilings from the probes view. */
eb_status eb_roofline_points(const eb_table *trials, const eb_table *probes,
                             eb_roofline_point **out, size_t *n, eb_error *err);

/* A configuration as the tables name it: "prefill 2 threads, generation 1,
 * governor powersave, 15W mode, 29 layers on the GPU" ("4 threads" when
 * both phases have 4), ending "energy ESTIMATE" when its energy is the
 * CPU-load x TDP model. */
void eb_config_label(int threads_prefill, int threads_gen, const char *governor,
                     const char *power_mode, int gpu_layers, bool energy_estimate, char *out,
                     size_t cap);
/* How many configurations of a set have estimated energy. */
size_t eb_configs_estimated(const eb_config_set *set);

#endif
