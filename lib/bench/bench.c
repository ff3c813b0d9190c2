#include "edgebench/bench.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "edgebench/gguf_check.h"
#include "edgebench/memory.h"
#include "edgebench/params.h"
#include "edgebench/util.h"
#include "edgebench/vcio.h"
#include "bench_parallel.h"
#include "distributed.h"
#include "edgebench/measure.h"

/* A short story to summarise, in the spirit of the study's prompt (which was
 * 74 to 92 tokens long depending on the tokenizer). */
const char eb_default_prompt[] =
    "Summarize the following story in two sentences. The lighthouse keeper Mara found a "
    "small robot washed up on the rocks after a storm. It could only say the word "
    "'north'. Each night she repaired one more circuit, and each morning it pointed "
    "further out to sea. When the fishing fleet went missing in the fog, Mara followed "
    "the robot's arm and led the boats safely home.";

void eb_run_config_defaults(eb_run_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1) cpus = 1;
    /* The defaults the table cannot hold as text: all online CPUs, and the
     * study's prompt; every other one is its row's. */
    cfg->prompt_text = eb_default_prompt;
    cfg->threads_gen = (int)cpus;
    cfg->threads_prefill = (int)cpus;
    eb_params_config_defaults(cfg);
    cfg->meter_accuracy_pct = NAN; /* not published unless given */
    /* a machine's own threshold (a shared CI box, a noisy VM), as
     * EDGEBENCH_STORE is its store; a value out of range is ignored */
    const char *dist = getenv("EDGEBENCH_DISTURBED_ABOVE");
    char *end = NULL;
    double d = dist ? strtod(dist, &end) : NAN;
    if (dist && end != dist && !*end && d >= 0 && d <= 100) cfg->disturbed_above_pct = d;
}

eb_status eb_run_config_validate(const eb_run_config *cfg, eb_error *err)
{
    if (!cfg->model_path || !cfg->model_path[0])
        return eb_fail(err, EB_E_INVALID_ARG, "no model given (-m FILE.gguf)");
    eb_status st = eb_params_validate(cfg, err);
    if (st != EB_OK) return st;
    if (cfg->meter_csv && cfg->meter)
        return eb_fail(err, EB_E_INVALID_ARG,
                       "--meter and --meter-csv both name the total: give one (--meter %s, "
                       "--meter-csv %s)",
                       "(given)", cfg->meter_csv);
    if (cfg->meter && cfg->no_sampler)
        return eb_fail(err, EB_E_INVALID_ARG, "--meter is read by the sampler: drop --no-sampler");
    if (cfg->meter_csv && access(cfg->meter_csv, R_OK) != 0)
        return eb_fail(err, EB_E_IO, "meter log %s: %s", cfg->meter_csv, strerror(errno));
    if (cfg->n_prompt_random == 0 && (!cfg->prompt_text || !cfg->prompt_text[0]))
        return eb_fail(err, EB_E_INVALID_ARG, "the prompt is empty");
    if (cfg->n_prompt_random > 0 && cfg->n_depth == 0 &&
        cfg->n_prompt_random + cfg->n_gen > cfg->n_ctx)
        return eb_fail(err, EB_E_CONTEXT,
                       "context of %d tokens cannot hold %d prompt + %d generated tokens",
                       cfg->n_ctx, cfg->n_prompt_random, cfg->n_gen);
    return eb_settings_check(cfg->type_v, cfg->flash_attn, cfg->n_depth, cfg->n_prompt_random,
                             cfg->n_gen, cfg->n_ctx, cfg->n_parallel, err);
}

const char *eb_phase_name(eb_phase p)
{
    static const char *const names[EB_PHASE_COUNT] = {"load", "prefill", "generation"};
    return p < EB_PHASE_COUNT ? names[p] : "?";
}

const char *eb_span_name(eb_span s)
{
    static const char *const names[EB_SPAN_COUNT] = {"load", "prefill", "generation", "run"};
    return s < EB_SPAN_COUNT ? names[s] : "?";
}

static const struct {
    const char *name, *unit;
} pm_info[EB_PM_COUNT] = {
    [EB_PM_ENERGY_J] = {"energy_j", "J"},
    [EB_PM_ENERGY_ABOVE_IDLE_J] = {"energy_above_idle_j", "J"},
    [EB_PM_MEAN_W] = {"mean_power_w", "W"},
    [EB_PM_PEAK_W] = {"peak_power_w", "W"},
    [EB_PM_J_PER_TOKEN] = {"energy_per_token_j", "J/token"},
    [EB_PM_ACTION] = {"action_per_token_js", "J*s/token"},
    [EB_PM_ENERGY_U_SYS_J] = {"energy_u_sys_j", "J"},
    [EB_PM_ENERGY_U_RAND_J] = {"energy_u_rand_j", "J"},
    [EB_PM_ENERGY_READINGS] = {"energy_readings", "readings"},
    [EB_PM_ENERGY_INTERVAL_MS] = {"energy_interval_ms", "ms"},
    [EB_PM_ONBOARD_J] = {"onboard_energy_j", "J"},
    [EB_PM_CALIBRATED_J] = {"calibrated_energy_j", "J"},
    [EB_PM_CALIBRATED_U_J] = {"calibrated_energy_u_j", "J"},
    [EB_PM_CALIBRATED_J_PER_TOKEN] = {"calibrated_energy_per_token_j", "J/token"},
    [EB_PM_PEAK_RSS] = {"peak_rss_mib", "MiB"},
    [EB_PM_SAMPLED_RSS_MAX] = {"sampled_rss_max_mib", "MiB"},
    [EB_PM_RSS_ANON] = {"rss_anon_mib", "MiB"},
    [EB_PM_RSS_FILE] = {"rss_file_mib", "MiB"},
    [EB_PM_PSS] = {"pss_mib", "MiB"},
    [EB_PM_MEM_AVAILABLE] = {"mem_available_mib", "MiB"},
    [EB_PM_SWAP_USED] = {"swap_used_mib", "MiB"},
    [EB_PM_NVMAP] = {"nvmap_used_mib", "MiB"},
    [EB_PM_GPU_MEM] = {"gpu_memory_mib", "MiB"},
    [EB_PM_CPU_FREQ] = {"cpu_freq_mhz", "MHz"},
    [EB_PM_TEMP_MAX] = {"temp_max_c", "C"},
    [EB_PM_GPU_LOAD] = {"gpu_load_pct", "%"},
    [EB_PM_GPU_FREQ] = {"gpu_freq_mhz", "MHz"},
    [EB_PM_OTHER_CPU] = {"other_cpu_pct", "%"},
    [EB_PM_STEAL] = {"steal_pct", "%"},
    [EB_PM_SWAP_IO] = {"swap_io_pages", "pages"},
    [EB_PM_LOADAVG] = {"load_avg_1m", ""},
    [EB_PM_DISTURBED] = {"disturbed", ""},
};

const char *eb_pm_name(eb_pm m)
{
    return m < EB_PM_COUNT ? pm_info[m].name : "?";
}
const char *eb_pm_unit(eb_pm m)
{
    return m < EB_PM_COUNT ? pm_info[m].unit : "?";
}

const char *eb_prompt_source(const eb_run_config *cfg)
{
    if (cfg->n_prompt_random > 0) return "random token ids";
    if (cfg->prompt_file) return "file";
    if (cfg->prompt_text == eb_default_prompt) return "default story prompt";
    return "text";
}

static const struct {
    const char *name, *unit;
} metric_info[EB_M_COUNT] = {
    [EB_M_LOAD_S] = {"load_s", "s"},
    [EB_M_PREFILL_S] = {"prefill_s", "s"},
    [EB_M_GEN_S] = {"gen_s", "s"},
    [EB_M_E2E_S] = {"e2e_s", "s"},
    [EB_M_TTFT_S] = {"ttft_s", "s"},
    [EB_M_FIRST_TOKEN_S] = {"first_token_s", "s"},
    [EB_M_PREFILL_TPS] = {"prefill_tps", "tokens/s"},
    [EB_M_GEN_TPS] = {"gen_tps", "tokens/s"},
    [EB_M_ITL_P50_S] = {"itl_p50_s", "s"},
    [EB_M_ITL_P90_S] = {"itl_p90_s", "s"},
    [EB_M_ITL_P99_S] = {"itl_p99_s", "s"},
    [EB_M_PEAK_RSS_MB] = {"peak_rss_mib", "MiB"},
};

const char *eb_metric_name(eb_metric m)
{
    return m < EB_M_COUNT ? metric_info[m].name : "?";
}
const char *eb_metric_unit(eb_metric m)
{
    return m < EB_M_COUNT ? metric_info[m].unit : "?";
}

double eb_rep_metric(const eb_rep *r, eb_metric m)
{
    switch (m) {
    case EB_M_LOAD_S:
        return r->load_s;
    case EB_M_PREFILL_S:
        return r->prefill_s;
    case EB_M_GEN_S:
        return r->gen_s;
    case EB_M_E2E_S:
        return r->e2e_s;
    case EB_M_TTFT_S:
        return r->ttft_s;
    case EB_M_FIRST_TOKEN_S:
        return r->first_token_s;
    case EB_M_PREFILL_TPS:
        return r->prefill_tps;
    case EB_M_GEN_TPS:
        return r->gen_tps;
    case EB_M_ITL_P50_S:
        return r->itl_p50_s;
    case EB_M_ITL_P90_S:
        return r->itl_p90_s;
    case EB_M_ITL_P99_S:
        return r->itl_p99_s;
    case EB_M_PEAK_RSS_MB: /* 0: no VmHWM could be read (not measured) */
        return r->peak_rss_kb ? (double)r->peak_rss_kb / 1024.0 : NAN;
    case EB_M_COUNT:
        break;
    }
    return 0;
}

void eb_run_result_free(eb_run_result *res)
{
    if (!res) return;
    for (int i = 0; i < res->n_reps; i++) {
        free(res->reps[i].itl_s);
        free(res->reps[i].channel);
        free(res->reps[i].nodes);
        free(res->reps[i].gen_tokens);
    }
    eb_dist_close(res);
    free(res->nodes);
    res->nodes = NULL;
    res->n_nodes = 0;
    free(res->reps);
    free(res->governors);
    free(res->windows);
    res->windows = NULL;
    res->n_windows = 0;
    res->governors = NULL;
    eb_sampler_free(res->sampler);
    res->sampler = NULL;
    res->reps = NULL;
    res->n_reps = 0;
}

const char *const eb_build_fact_keys[EB_BUILD_FACT_COUNT] = {
    "variant", "cpu_features", "features_off", "features_off_reason", "selftest"};

eb_sampler_config eb_run_sampler_config(const eb_run_config *cfg)
{
    return (eb_sampler_config){.interval_s = cfg->sample_interval_s,
                               .root = cfg->root,
                               .tdp_w = cfg->tdp_w,
                               .meter = cfg->meter,
                               .meter_gain_err = cfg->meter_accuracy_pct / 100.0};
}

void eb_run_fill_header(const eb_engine_ops *e, const eb_run_config *cfg, eb_run_result *res)
{
    res->config = *cfg;
    eb_device_info_read(cfg->root, &res->device);
    snprintf(res->engine_name, sizeof res->engine_name, "%s", e->name);
    snprintf(res->engine_version, sizeof res->engine_version, "%s", e->version());
    snprintf(res->engine_build_options, sizeof res->engine_build_options, "%s", e->build_options());
    snprintf(res->engine_backend, sizeof res->engine_backend, "%s", e->backend());
    snprintf(res->engine_system_info, sizeof res->engine_system_info, "%s", e->system_info());
    for (int k = 0; e->build_info && k < EB_BUILD_FACT_COUNT; k++)
        snprintf(res->engine_build_fact[k], sizeof res->engine_build_fact[k], "%s",
                 e->build_info(eb_build_fact_keys[k]));
    snprintf(res->edgebench_version, sizeof res->edgebench_version, "%s", EB_VERSION);
    eb_utc_iso8601(time(NULL), res->started_at, sizeof res->started_at);
}

/* Tokens of the prompt: the text through the model's tokenizer, or random
 * ids (as llama-bench does) when a count is asked for. */
static eb_status prompt_tokens(const eb_engine_ops *e, const eb_model *m, const eb_run_config *cfg,
                               const eb_model_info *info, int32_t **out, int32_t *n, eb_error *err)
{
    if (cfg->n_prompt_random > 0) {
        int32_t *t = malloc((size_t)cfg->n_prompt_random * sizeof *t);
        if (!t) return eb_fail(err, EB_E_NO_MEMORY, "prompt of %d tokens", cfg->n_prompt_random);
        uint64_t rng = cfg->seed;
        for (int i = 0; i < cfg->n_prompt_random; i++)
            t[i] = (int32_t)(eb_rng_next(&rng) % (uint64_t)info->n_vocab);
        *out = t;
        *n = cfg->n_prompt_random;
        return EB_OK;
    }
    int32_t cap = (int32_t)strlen(cfg->prompt_text) + 16;
    int32_t *t = malloc((size_t)cap * sizeof *t);
    if (!t) return eb_fail(err, EB_E_NO_MEMORY, "prompt tokens");
    eb_status st = e->tokenize(m, cfg->prompt_text, strlen(cfg->prompt_text), true, t, cap, n, err);
    if (st != EB_OK) {
        free(t);
        return st;
    }
    if (*n == 0) {
        free(t);
        return eb_fail(err, EB_E_INVALID_ARG, "the prompt has no tokens");
    }
    *out = t;
    return EB_OK;
}

static void rep_latency_percentiles(eb_rep *r)
{
    r->itl_p50_s = eb_percentile(r->itl_s, (size_t)r->n_gen, 50);
    r->itl_p90_s = eb_percentile(r->itl_s, (size_t)r->n_gen, 90);
    r->itl_p99_s = eb_percentile(r->itl_s, (size_t)r->n_gen, 99);
}

/* Start of a span: peak RSS reset (so VmHWM is this span's) and a sample
 * at the boundary, so energy counters are read right there. */
double eb_span_begin(const eb_run_config *cfg, eb_sampler *smp, eb_rep *rep, eb_span s)
{
    if (!eb_proc_mem_reset_peak(cfg->root)) rep->peak_rss_is_process = true;
    /* The span starts before its first sample, so that even a span shorter
     * than the sampling period has a sample of its own (a few microseconds
     * of reading the fast sources are inside its timing). */
    if (cfg->on_phase) cfg->on_phase(cfg->phase_user, eb_span_name(s), rep->index, NAN, NAN);
    rep->thread_cpu0[s] = eb_thread_cpu_s();
    rep->swap0[s] = eb_measure_swap_pages(cfg->root);
    rep->t_start[s] = eb_now();
    if (smp) eb_sampler_sample_now(smp);
    return rep->t_start[s];
}

void eb_span_end(const eb_run_config *cfg, eb_sampler *smp, eb_rep *rep, eb_span s, double t)
{
    rep->t_end[s] = t;
    rep->thread_cpu_s[s] = eb_thread_cpu_s() - rep->thread_cpu0[s];
    if (smp) eb_sampler_sample_now(smp);
    eb_measure_span_memory(cfg->root, rep->pm[s]);
    rep->pm[s][EB_PM_SWAP_IO] = eb_measure_swap_pages(cfg->root) - rep->swap0[s];
}

/* The cache filled with n_depth tokens before the prompt, as llama-bench's
 * -d does (random ids): untimed, between the load and prefill spans; the
 * memory it takes stays resident and counts in the spans after it. */
static eb_status fill_depth(const eb_engine_ops *e, eb_context *c, const eb_run_config *cfg,
                            const eb_model_info *info, eb_rep *rep, eb_error *err)
{
    if (info->has_encoder)
        return eb_fail(err, EB_E_INVALID_ARG,
                       "n_depth=%d: an encoder-decoder model has no cache to fill before its "
                       "prompt",
                       cfg->n_depth);
    int32_t *t = malloc((size_t)cfg->n_depth * sizeof *t);
    if (!t) return eb_fail(err, EB_E_NO_MEMORY, "depth of %d tokens", cfg->n_depth);
    uint64_t rng = cfg->seed ^ 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < cfg->n_depth; i++)
        t[i] = (int32_t)(eb_rng_next(&rng) % (uint64_t)(info->n_vocab > 0 ? info->n_vocab : 1));
    double t0 = eb_now();
    eb_status st = cfg->n_parallel > 1 ? eb_parallel_fill(e, c, cfg, t, cfg->n_depth, err)
                                       : e->prefill(c, t, cfg->n_depth, err);
    rep->depth_fill_s = eb_now() - t0;
    free(t);
    return st;
}

/* Where the layers go: --backend by name (its devices, every layer unless
 * --ngl says), or --device as given. A backend the build or the machine
 * lacks is EB_E_NOT_AVAILABLE with the devices there are. */
eb_status eb_run_devices(const eb_engine_ops *e, const eb_run_config *cfg, char *devices,
                         size_t cap, int *ngl, eb_error *err)
{
    const char *b = cfg->backend ? cfg->backend : "auto";
    devices[0] = '\0';
    *ngl = cfg->n_gpu_layers;
    bool named = cfg->devices && cfg->devices[0];
    if (strcmp(b, "auto") != 0 && named)
        return eb_fail(err, EB_E_INVALID_ARG, "give --backend or --device, not both");
    if (named) {
        snprintf(devices, cap, "%s", cfg->devices);
        return EB_OK;
    }
    if (!strcmp(b, "auto")) return EB_OK;
    if (!strcmp(b, "cpu")) {
        if (cfg->rpc) return eb_fail(err, EB_E_INVALID_ARG, "--backend cpu with --rpc nodes");
        snprintf(devices, cap, "none");
        *ngl = 0;
        return EB_OK;
    }
    if (!strcmp(b, "rpc")) {
        if (!cfg->rpc) return eb_fail(err, EB_E_INVALID_ARG, "--backend rpc needs --rpc nodes");
        return EB_OK;
    }
    if (!e->backend_devices || !e->backend_devices(b, devices, cap)) {
        char here[512] = "";
        eb_device_desc d[16];
        int n = e->list_devices ? e->list_devices(d, 16) : 0;
        size_t used = 0;
        for (int i = 0; i < n && i < 16 && used < sizeof here; i++)
            used += (size_t)snprintf(here + used, sizeof here - used, "%s%s (%s)", i ? ", " : "",
                                     d[i].name, d[i].description);
        return eb_fail(err, EB_E_NOT_AVAILABLE,
                       "backend %s: no %s device in this build on this machine (devices here: %s)",
                       b, b, here[0] ? here : "none");
    }
    if (*ngl == 0) *ngl = -1; /* a GPU backend takes every layer unless --ngl says */
    return EB_OK;
}

/* One repetition: load, prefill, generate, each timed on CLOCK_MONOTONIC
 * after the engine has synchronised. Memory is read between the spans,
 * outside their timings. */
static eb_status run_one(const eb_engine_ops *e, const eb_run_config *cfg, eb_run_result *res,
                         const eb_counters *ctr, eb_rep *rep, int32_t **prompt, int32_t *n_prompt,
                         eb_error *err)
{
    char devices[512];
    int dev_ngl = 0;
    eb_status ds = eb_run_devices(e, cfg, devices, sizeof devices, &dev_ngl, err);
    if (ds != EB_OK) return ds;
    /* with RPC nodes every layer goes to them unless --ngl keeps some here */
    const int ngl = res->n_nodes > 0 && cfg->n_gpu_layers == 0 ? -1 : dev_ngl;
    const eb_load_params lp = {.n_gpu_layers = ngl,
                               .devices = devices,
                               .use_mmap = true,
                               .load_mode = cfg->load_mode,
                               .rpc = res->n_nodes > 0 ? res->rpc_list : NULL,
                               .tensor_split = res->has_split ? res->tensor_split : NULL,
                               .no_repack = !cfg->repack};
    const eb_ctx_params cp = {.n_ctx = cfg->n_ctx,
                              .n_batch = cfg->n_batch,
                              .n_ubatch =
                                  cfg->n_ubatch < cfg->n_batch ? cfg->n_ubatch : cfg->n_batch,
                              .threads_gen = cfg->threads_gen,
                              .threads_prefill = cfg->threads_prefill,
                              .type_k = cfg->type_k,
                              .type_v = cfg->type_v,
                              .flash_attn = cfg->flash_attn,
                              .cpu_strict = cfg->cpu_strict,
                              .poll_set = true,
                              .poll = cfg->poll,
                              .n_seq_max = cfg->n_parallel};
    const int n_par = cfg->n_parallel > 1 ? cfg->n_parallel : 1;
    eb_model *m = NULL;
    eb_context *c = NULL;
    eb_sampler *smp = res->sampler;
    for (int s = 0; s < EB_SPAN_COUNT; s++)
        eb_measure_clear(rep->pm[s]);
    uint32_t thr0 = 0, thr1 = 0;
    rep->has_throttled = eb_throttled_read(cfg->root, &thr0);

    eb_model_keeper *k = cfg->keeper;
    const char *load_mode = cfg->load_mode ? cfg->load_mode : eb_param_find("load_mode")->def;
    rep->model_reused = k && k->model && k->engine == e && k->n_gpu_layers == ngl &&
                        strcmp(k->path, cfg->model_path) == 0 &&
                        strcmp(k->load_mode, load_mode) == 0 && !cfg->cold_load &&
                        k->repack == cfg->repack && strcmp(k->rpc, res->rpc_list) == 0;
    rep->cold_resident_pct = NAN;
    if (cfg->cold_load) {
        /* a mapped model keeps its pages: it goes first */
        if (k) eb_model_keeper_release(k);
        eb_error cerr = {0};
        if (eb_file_drop_cache(cfg->model_path, &rep->cold_resident_pct, &cerr) != EB_OK)
            snprintf(res->cold_load_note, sizeof res->cold_load_note, "%s", cerr.msg);
        else if (rep->cold_resident_pct > 1.0)
            snprintf(res->cold_load_note, sizeof res->cold_load_note,
                     "%.0f%% of the model file stayed in the page cache (mapped or dirty "
                     "elsewhere): that load was not cold",
                     rep->cold_resident_pct);
    }

    eb_counter_raw c0, c1, c2, c2b, c3;
    eb_status st = eb_dist_rep_start(res, rep, err);
    if (st != EB_OK) return st;
    eb_counters_read(ctr, &c0);
    /* the nodes' byte counts before each span starts: outside its timing */
    eb_dist_mark(res, rep, EB_SPAN_LOAD, false);
    double t0 = eb_span_begin(cfg, smp, rep, EB_SPAN_LOAD);
    if (rep->model_reused) {
        m = k->model;
    } else {
        st = e->model_load(cfg->model_path, &lp, &m, err);
        if (st == EB_OK && k) {
            eb_model_keeper_release(k);
            k->engine = e;
            k->model = m;
            k->n_gpu_layers = ngl;
            snprintf(k->path, sizeof k->path, "%s", cfg->model_path);
            snprintf(k->load_mode, sizeof k->load_mode, "%s", load_mode);
            k->repack = cfg->repack;
            snprintf(k->rpc, sizeof k->rpc, "%s", res->rpc_list);
        }
    }
    if (st == EB_OK) st = e->context_new(m, &cp, &c, err);
    double t1 = eb_now();
    if (st != EB_OK) goto done;
    if (e->context_info) {
        e->context_info(c, &res->ctx_info);
        res->has_ctx_info = true;
    }
    eb_dist_after_context(e, res);

    if (!*prompt) {
        e->model_info(m, &res->model);
        eb_error shape_err = {0};
        res->has_shape = eb_model_shape_read(cfg->model_path, &res->shape, &shape_err) == EB_OK;
        st = prompt_tokens(e, m, cfg, &res->model, prompt, n_prompt, err);
        if (st != EB_OK) goto done;
        res->n_prompt = *n_prompt;
        eb_error cerr = {0};
        if (cfg->n_parallel > 1 &&
            eb_settings_check(cfg->type_v, cfg->flash_attn, cfg->n_depth, *n_prompt, cfg->n_gen,
                              cfg->n_ctx, cfg->n_parallel, &cerr) != EB_OK) {
            *err = cerr;
            st = cerr.status;
            goto done;
        }
        if (cfg->n_depth + *n_prompt + cfg->n_gen > cfg->n_ctx) {
            st = eb_fail(err, EB_E_CONTEXT,
                         "context of %d tokens cannot hold %s%d-token prompt + %d generated "
                         "tokens",
                         cfg->n_ctx, cfg->n_depth ? "the depth + the " : "the ",
                         cfg->n_depth + *n_prompt, cfg->n_gen);
            goto done;
        }
        t1 = eb_now(); /* tokenizing is not part of loading */
    }
    eb_span_end(cfg, smp, rep, EB_SPAN_LOAD, t1);
    eb_dist_mark(res, rep, EB_SPAN_LOAD, true);
    if (cfg->n_depth > 0 && (st = fill_depth(e, c, cfg, &res->model, rep, err)) != EB_OK) goto done;

    eb_dist_mark(res, rep, EB_SPAN_PREFILL, false);
    double t1b = eb_span_begin(cfg, smp, rep, EB_SPAN_PREFILL);
    eb_counters_read(ctr, &c1);
    st = n_par > 1 ? eb_parallel_prefill(e, c, cfg, *prompt, *n_prompt, err)
                   : e->prefill(c, *prompt, *n_prompt, err);
    double t2 = eb_now();
    eb_counters_read(ctr, &c2);
    if (st != EB_OK) goto done;
    eb_span_end(cfg, smp, rep, EB_SPAN_PREFILL, t2);
    eb_dist_mark(res, rep, EB_SPAN_PREFILL, true);

    rep->itl_s = calloc((size_t)cfg->n_gen, sizeof *rep->itl_s);
    if (n_par == 1) rep->gen_tokens = calloc((size_t)cfg->n_gen, sizeof *rep->gen_tokens);
    if (!rep->itl_s || (n_par == 1 && !rep->gen_tokens)) {
        st = eb_fail(err, EB_E_NO_MEMORY, "latency samples");
        goto done;
    }
    eb_dist_mark(res, rep, EB_SPAN_GEN, false);
    double t2b = eb_span_begin(cfg, smp, rep, EB_SPAN_GEN);
    eb_counters_read(ctr, &c2b);
    double first = 0, prev = t2b;
    for (int i = 0; i < cfg->n_gen; i++) {
        if (n_par > 1) {
            /* every sequence's token in one batch: the first is known
             * once its logits are read, inside the step */
            if (i == 0) first = eb_now();
            st = eb_parallel_step(e, c, cfg, res->model.n_vocab, cfg->n_depth + *n_prompt + i, err);
        } else {
            int32_t tok = e->greedy_next(c); /* end-of-sequence is ignored, as in the study */
            if (i == 0) first = eb_now();
            if (rep->gen_tokens) rep->gen_tokens[i] = tok;
            st = e->decode_one(c, tok, err);
        }
        if (st != EB_OK) goto done;
        double now = eb_now();
        rep->itl_s[i] = now - prev;
        prev = now;
    }
    double t3 = prev;
    eb_counters_read(ctr, &c3);
    eb_span_end(cfg, smp, rep, EB_SPAN_GEN, t3);
    eb_dist_mark(res, rep, EB_SPAN_GEN, true);
    rep->t_start[EB_SPAN_RUN] = t0;
    rep->t_end[EB_SPAN_RUN] = t3;
    e->perf(c, &rep->engine_perf);
    eb_counters_delta(ctr, &c0, &c1, &rep->counters[EB_PHASE_LOAD]);
    eb_counters_delta(ctr, &c1, &c2, &rep->counters[EB_PHASE_PREFILL]);
    eb_counters_delta(ctr, &c2b, &c3, &rep->counters[EB_PHASE_GEN]);

    rep->n_prompt = *n_prompt;
    rep->n_gen = cfg->n_gen;
    rep->load_s = t1 - t0;
    rep->prefill_s = t2 - t1b;
    rep->gen_s = t3 - t2b;
    rep->e2e_s = t3 - t0;
    rep->ttft_s = rep->load_s + rep->prefill_s;
    rep->first_token_s = (first - t2b) + rep->prefill_s;
    /* with --parallel, the aggregate of every sequence (llama-batched-bench's
     * S_PP and S_TG); a stream's share is that / n_parallel */
    rep->prefill_tps = rep->prefill_s > 0 ? (double)n_par * rep->n_prompt / rep->prefill_s : 0;
    rep->gen_tps = rep->gen_s > 0 ? (double)n_par * rep->n_gen / rep->gen_s : 0;
    rep_latency_percentiles(rep);
    /* The repetition's peak is the largest of its spans'; its memory
     * readings are those at its end. */
    double peak = 0;
    for (int s = 0; s < EB_SPAN_RUN; s++)
        if (rep->pm[s][EB_PM_PEAK_RSS] > peak) peak = rep->pm[s][EB_PM_PEAK_RSS];
    memcpy(rep->pm[EB_SPAN_RUN], rep->pm[EB_SPAN_GEN], sizeof rep->pm[EB_SPAN_RUN]);
    rep->pm[EB_SPAN_RUN][EB_PM_PEAK_RSS] = peak > 0 ? peak : NAN;
    rep->pm[EB_SPAN_RUN][EB_PM_SWAP_IO] = rep->pm[EB_SPAN_LOAD][EB_PM_SWAP_IO] +
                                          rep->pm[EB_SPAN_PREFILL][EB_PM_SWAP_IO] +
                                          rep->pm[EB_SPAN_GEN][EB_PM_SWAP_IO];
    rep->peak_rss_kb = (uint64_t)(peak * 1024.0);
    if (rep->has_throttled && eb_throttled_read(cfg->root, &thr1)) rep->throttled = thr0 | thr1;

done:
    e->context_free(c);
    if (!k || k->model != m) e->model_free(m);
    return st;
}

eb_status eb_measure_begin(const eb_run_config *cfg, eb_run_result *res,
                           eb_run_progress_fn progress, void *user, eb_error *err)
{
    /* The sampler's threads start before the counters are opened, so the
     * counters (inherited by threads created later) leave them out. */
    struct timespec rt;
    eb_status st;
    res->run_t0 = eb_now();
    clock_gettime(CLOCK_REALTIME, &rt);
    res->wall_minus_mono = (double)rt.tv_sec + (double)rt.tv_nsec * 1e-9 - res->run_t0;
    if (!cfg->no_sampler) {
        eb_sampler_config sc = eb_run_sampler_config(cfg);
        if ((st = eb_sampler_create(&sc, &res->sampler, err)) != EB_OK) return st;
        if ((st = eb_sampler_start(res->sampler, err)) != EB_OK) return st;
    }
    /* Idle power, with nothing loaded, when something can measure it. */
    if (cfg->idle_s > 0 &&
        (cfg->meter_csv || (res->sampler && eb_sampler_has_total(res->sampler)))) {
        if (progress) progress(user, "idle power", 1, 1);
        res->idle_t0 = eb_now();
        eb_sleep(cfg->idle_s);
        res->idle_t1 = eb_now();
    }
    return EB_OK;
}

void eb_model_keeper_release(eb_model_keeper *k)
{
    if (k && k->model) k->engine->model_free(k->model);
    if (k) k->model = NULL;
}

eb_status eb_run(const eb_engine_ops *e, const eb_run_config *cfg, eb_run_result *res,
                 eb_run_progress_fn progress, void *user, eb_error *err)
{
    memset(res, 0, sizeof *res);
    eb_status st = eb_run_config_validate(cfg, err);
    if (st != EB_OK) return st;
    eb_gguf_summary gs;
    if ((st = eb_gguf_check(cfg->model_path, &gs, err)) != EB_OK) return st;
    if ((st = e->init(err)) != EB_OK) return st;
    {
        /* a backend that is not here fails now, before any waiting */
        char devices[512];
        int ngl;
        if ((st = eb_run_devices(e, cfg, devices, sizeof devices, &ngl, err)) != EB_OK) return st;
    }
    eb_run_fill_header(e, cfg, res);
    if ((st = eb_dist_open(cfg, res, err)) != EB_OK) return st;

    eb_measure_cpu_header(cfg->root, res);

    const bool sustained = cfg->sustain_s > 0;
    int total = cfg->warmup + cfg->reps, cap = total;
    res->reps = calloc((size_t)cap, sizeof *res->reps);
    if (!res->reps) return eb_fail(err, EB_E_NO_MEMORY, "%d repetitions", total);

    if ((st = eb_measure_begin(cfg, res, progress, user, err)) != EB_OK) return st;

    /* Opened before the engine creates its threads, so they are counted. */
    eb_counters ctr;
    eb_counters_open(&ctr, cfg->root);
    res->perf_event_paranoid = ctr.paranoid;
    int32_t *prompt = NULL, n_prompt = 0;
    double t_measured = 0;
    for (int i = 0; i < total; i++) {
        /* sustained: measured runs back to back until the duration is over */
        if (sustained && i == cfg->warmup) t_measured = eb_now();
        if (sustained && i + 1 == total && eb_now() - t_measured < cfg->sustain_s) {
            if (total == cap) {
                eb_rep *g = realloc(res->reps, (size_t)cap * 2 * sizeof *g);
                if (!g) {
                    st = eb_fail(err, EB_E_NO_MEMORY, "%d repetitions", cap * 2);
                    break;
                }
                memset(g + cap, 0, (size_t)cap * sizeof *g);
                res->reps = g;
                cap *= 2;
            }
            total++;
        }
        eb_rep *rep = &res->reps[i];
        rep->index = i;
        rep->warmup = i < cfg->warmup;
        if (i > 0) rep->pause_before_s = eb_cool_down(cfg);
        if (cfg->wait_idle_s > 0) {
            if (progress) progress(user, "waiting for a quiet machine", i + 1, total);
            rep->idle_wait_s = eb_wait_idle(cfg);
        }
        if (progress) progress(user, rep->warmup ? "warm-up" : "run", i + 1, total);
        st = run_one(e, cfg, res, &ctr, rep, &prompt, &n_prompt, err);
        if (st != EB_OK) {
            free(rep->itl_s);
            free(rep->nodes);
            free(rep->gen_tokens);
            memset(rep, 0, sizeof *rep);
            break;
        }
        if (cfg->on_phase)
            cfg->on_phase(cfg->phase_user, "done", i, rep->gen_tps, rep->prefill_tps);
        /* the nodes' own figures: the repetition stays if they are lost */
        st = eb_dist_rep_done(res, rep, err);
        res->n_reps = i + 1;
        if (cfg->on_rep) cfg->on_rep(cfg->phase_user, res, i);
        if (st != EB_OK) break;
    }
    free(prompt);
    eb_counters_close(&ctr);
    if (res->sampler) eb_sampler_stop(res->sampler);
    /* Energy and channel summaries; a bad meter log is reported after the
     * runs, which stay in res. */
    eb_error merr = {0};
    eb_status mst = eb_measure_finish(res, &merr);
    eb_dist_finish(res);
    eb_dist_close(res);
    if (st == EB_OK && mst != EB_OK) {
        st = mst;
        *err = merr;
    }

    /* The peak is reset before each repetition, so the process peak is the
     * largest of theirs. */
    for (int i = 0; i < res->n_reps; i++)
        if (res->reps[i].peak_rss_kb > res->process_peak_rss_kb)
            res->process_peak_rss_kb = res->reps[i].peak_rss_kb;

    double *vals = calloc((size_t)total, sizeof *vals);
    if (!vals) return st != EB_OK ? st : eb_fail(err, EB_E_NO_MEMORY, "statistics");
    for (int m = 0; m < EB_M_COUNT; m++) {
        size_t n = 0;
        for (int i = 0; i < res->n_reps; i++)
            if (!res->reps[i].warmup) vals[n++] = eb_rep_metric(&res->reps[i], (eb_metric)m);
        eb_stats_compute(vals, n, &res->stats[m]);
    }
    free(vals);
    if (sustained && eb_sustained_windows(res) != EB_OK && st == EB_OK)
        st = eb_fail(err, EB_E_NO_MEMORY, "sustained windows");
    res->n_reps_planned = total;
    if (st != EB_OK) snprintf(res->failure, sizeof res->failure, "%s", err->msg);
    return st;
}

void eb_run_roofline(eb_run_result *res, const eb_probe_point *points, size_t n)
{
    res->has_roofline = false;
    if (!res->has_shape) {
        snprintf(res->roofline_note, sizeof res->roofline_note,
                 "the model's shape could not be read from its file");
        return;
    }
    if (res->model.offload.layers_offloaded > 0) {
        snprintf(res->roofline_note, sizeof res->roofline_note,
                 "%d of %d layers ran on a GPU; the device probe measures the CPU",
                 res->model.offload.layers_offloaded, res->model.offload.layers_total);
        return;
    }
    eb_ceilings c;
    eb_ceilings_pick(points, n, res->config.threads_gen, res->config.threads_prefill,
                     res->shape.main_type, &c);
    double n_gen = res->stats[EB_M_GEN_TPS].n > 0 ? res->config.n_gen : 0;
    eb_roofline_compute(
        &res->shape, &c, res->n_prompt, (int)n_gen,
        res->stats[EB_M_PREFILL_TPS].n > 0 ? res->stats[EB_M_PREFILL_TPS].mean : NAN,
        res->stats[EB_M_GEN_TPS].n > 0 ? res->stats[EB_M_GEN_TPS].mean : NAN, &res->roofline);
    res->has_roofline = true;
}
