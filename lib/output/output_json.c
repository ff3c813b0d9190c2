/* JSON (every per-repetition sample) and JSONL (one object per repetition). */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "edgebench/measure.h"
#include "edgebench/output.h"
#include "edgebench/params.h"

static cJSON *engine_json(const eb_run_result *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", r->engine_name);
    cJSON_AddStringToObject(o, "version", r->engine_version);
    cJSON_AddStringToObject(o, "backend", r->engine_backend);
    cJSON_AddStringToObject(o, "build_options", r->engine_build_options);
    cJSON_AddStringToObject(o, "system_info", r->engine_system_info);
    for (int k = 0; k < EB_BUILD_FACT_COUNT; k++)
        cJSON_AddStringToObject(o, eb_build_fact_keys[k], r->engine_build_fact[k]);
    return o;
}

/* Where the layers ran: asked (--ngl), done, and on which GPUs. */
static cJSON *offload_json(const eb_offload *f)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "requested", f->requested);
    cJSON_AddNumberToObject(o, "layers_offloaded", f->layers_offloaded);
    cJSON_AddNumberToObject(o, "layers_total", f->layers_total);
    cJSON_AddStringToObject(o, "devices", f->devices);
    eb_json_number(o, "device_memory_used_mib", f->device_memory_used_mib);
    cJSON_AddStringToObject(o, "drivers", f->drivers);
    return o;
}

static cJSON *model_json(const eb_run_result *r)
{
    const eb_model_info *m = &r->model;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", m->path);
    cJSON_AddStringToObject(o, "name", m->name);
    cJSON_AddStringToObject(o, "arch", m->arch);
    cJSON_AddStringToObject(o, "description", m->desc);
    cJSON_AddStringToObject(o, "quant", m->quant);
    cJSON_AddNumberToObject(o, "n_params", (double)m->n_params);
    cJSON_AddNumberToObject(o, "file_size_bytes", (double)m->file_size);
    cJSON_AddNumberToObject(o, "weights_size_bytes", (double)m->weights_size);
    cJSON_AddNumberToObject(o, "n_vocab", m->n_vocab);
    cJSON_AddNumberToObject(o, "n_ctx_train", m->n_ctx_train);
    cJSON_AddNumberToObject(o, "n_layer", m->n_layer);
    cJSON_AddNumberToObject(o, "n_embd", m->n_embd);
    cJSON_AddNumberToObject(o, "n_head", m->n_head);
    cJSON_AddNumberToObject(o, "n_head_kv", m->n_head_kv);
    if (r->has_shape) {
        cJSON_AddNumberToObject(o, "matmul_params", (double)r->shape.matmul_params);
        cJSON_AddNumberToObject(o, "output_params", (double)r->shape.output_params);
        cJSON_AddNumberToObject(o, "streamed_bytes", (double)r->shape.streamed_bytes);
        cJSON_AddNumberToObject(o, "kv_bytes_per_pos", (double)r->shape.kv_bytes_per_pos);
        cJSON_AddStringToObject(o, "main_type", r->shape.main_type);
    }
    cJSON_AddBoolToObject(o, "synthetic", m->synthetic);
    if (m->synthetic) {
        cJSON_AddStringToObject(o, "preset", m->preset);
        cJSON_AddStringToObject(o, "synthetic_note", EB_SYNTHETIC_NOTE);
    }
    return o;
}

static void add_lower(cJSON *o, const char *key, const char *v)
{
    char buf[32];
    size_t i = 0;
    for (; v && v[i] && i + 1 < sizeof buf; i++)
        buf[i] = (char)tolower((unsigned char)v[i]);
    buf[i] = '\0';
    cJSON_AddStringToObject(o, key, buf);
}

/* The stored settings, each by its row's record key (eb_params), and what
 * llama.cpp made of them (the KV cache it allocated, whether flash
 * attention ran). */
static void settings_json(cJSON *o, const eb_run_result *r)
{
    const eb_run_config *c = &r->config;
    const eb_param *rows[EB_PARAM_MAX];
    size_t n = eb_stored_settings(rows, EB_PARAM_MAX);
    for (size_t i = 0; i < n && i < EB_PARAM_MAX; i++) {
        const eb_param *p = rows[i];
        const void *f = eb_param_config_field(p, c);
        const char *key = eb_setting_json(p);
        if (!f) continue;
        switch (p->field) {
        case EB_FK_INT:
            cJSON_AddNumberToObject(o, key, *(const int *)f);
            break;
        case EB_FK_U64:
            cJSON_AddNumberToObject(o, key, (double)*(const uint64_t *)f);
            break;
        case EB_FK_DOUBLE:
            eb_json_number(o, key, *(const double *)f / (p->scale > 0 ? p->scale : 1));
            break;
        case EB_FK_BOOL:
            cJSON_AddBoolToObject(o, key, *(const bool *)f);
            break;
        case EB_FK_STR: {
            const char *v = *(const char *const *)f;
            if (!v) v = p->def;
            if (!v) break;
            if (p->type == EB_PT_CHOICE)
                add_lower(o, key, v);
            else
                cJSON_AddStringToObject(o, key, v);
            break;
        }
        default:
            break;
        }
    }
    const eb_ctx_info *ci = &r->ctx_info;
    if (r->has_ctx_info && ci->flash_attn >= 0)
        cJSON_AddBoolToObject(o, "flash_attn_used", ci->flash_attn == 1);
    else
        cJSON_AddNullToObject(o, "flash_attn_used");
    if (r->cold_load_note[0]) cJSON_AddStringToObject(o, "cold_load_note", r->cold_load_note);
    if (!r->has_ctx_info) return;
    cJSON *kv = cJSON_AddObjectToObject(o, "kv_cache");
    if (ci->type_k[0]) cJSON_AddStringToObject(kv, "type_k", ci->type_k);
    if (ci->type_v[0]) cJSON_AddStringToObject(kv, "type_v", ci->type_v);
    eb_json_number(kv, "size_mib", ci->kv_mib);
    eb_json_number(kv, "k_mib", ci->k_mib);
    eb_json_number(kv, "v_mib", ci->v_mib);
    if (ci->kv_cells) cJSON_AddNumberToObject(kv, "cells", ci->kv_cells);
    if (ci->n_ctx == 0) return;
    /* the context as llama.cpp made it, beside what was asked (n_ctx, ...) */
    cJSON *cc = cJSON_AddObjectToObject(o, "context_created");
    cJSON_AddNumberToObject(cc, "n_ctx", ci->n_ctx);
    cJSON_AddNumberToObject(cc, "n_ctx_seq", ci->n_ctx_seq);
    cJSON_AddNumberToObject(cc, "n_batch", ci->n_batch);
    cJSON_AddNumberToObject(cc, "n_ubatch", ci->n_ubatch);
    cJSON_AddNumberToObject(cc, "n_seq_max", ci->n_seq_max);
}

static cJSON *config_json(const eb_run_result *r)
{
    const eb_run_config *c = &r->config;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "prompt_source", eb_prompt_source(c));
    if (c->prompt_file) cJSON_AddStringToObject(o, "prompt_file", c->prompt_file);
    if (c->n_prompt_random == 0 && c->prompt_text)
        cJSON_AddStringToObject(o, "prompt", c->prompt_text);
    cJSON_AddNumberToObject(o, "n_prompt", r->n_prompt);
    cJSON_AddItemToObject(o, "offload", offload_json(&r->model.offload));
    settings_json(o, r);
    cJSON_AddNumberToObject(o, "reps", c->reps);
    cJSON_AddNumberToObject(o, "warmup", c->warmup);
    cJSON_AddNumberToObject(o, "seed", (double)c->seed);
    cJSON_AddNumberToObject(o, "pause_s", c->pause_s);
    if (c->cool_below_c > 0) cJSON_AddNumberToObject(o, "cool_below_c", c->cool_below_c);
    return o;
}

static cJSON *spans_json(const eb_run_result *r, const eb_rep *w)
{
    cJSON *o = cJSON_CreateObject();
    int nch = r->sampler ? eb_sampler_n_channels(r->sampler) : 0;
    for (int sp = 0; sp < EB_SPAN_COUNT; sp++) {
        cJSON *s = cJSON_AddObjectToObject(o, eb_span_name((eb_span)sp));
        eb_json_number(s, "t_start_s", w->t_start[sp] - r->run_t0);
        eb_json_number(s, "t_end_s", w->t_end[sp] - r->run_t0);
        for (int m = 0; m < EB_PM_COUNT; m++)
            eb_json_number(s, eb_pm_name((eb_pm)m), w->pm[sp][m]);
        if (!w->channel || nch == 0) continue;
        cJSON *chs = cJSON_AddObjectToObject(s, "channels");
        for (int c = 0; c < nch; c++) {
            const eb_channel *ch = eb_sampler_channel(r->sampler, c);
            const double *v = w->channel + ((size_t)c * EB_SPAN_COUNT + (size_t)sp) * 3;
            cJSON *one = cJSON_AddObjectToObject(chs, ch->name);
            bool energy = ch->kind == EB_CH_ENERGY || ch->kind == EB_CH_POWER;
            eb_json_number(one, energy ? "mean_w" : "mean", v[0]);
            eb_json_number(one, energy ? "peak_w" : "max", v[1]);
            if (energy) eb_json_number(one, "energy_j", v[2]);
        }
    }
    return o;
}

static cJSON *rep_json(const eb_run_result *r, const eb_rep *w, bool with_samples)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", w->index);
    cJSON_AddBoolToObject(o, "warmup", w->warmup);
    if (w->model_reused) cJSON_AddBoolToObject(o, "model_reused", true);
    if (r->config.n_depth > 0) cJSON_AddNumberToObject(o, "depth_fill_s", w->depth_fill_s);
    if (r->config.n_parallel > 1) {
        /* one batch per step: every stream's first token comes at once, and
         * each step is every stream's inter-token latency */
        cJSON *ps = cJSON_AddObjectToObject(o, "per_stream");
        cJSON_AddNumberToObject(ps, "streams", r->config.n_parallel);
        cJSON_AddNumberToObject(ps, "prefill_tps", w->prefill_tps / r->config.n_parallel);
        cJSON_AddNumberToObject(ps, "gen_tps", w->gen_tps / r->config.n_parallel);
        cJSON_AddNumberToObject(ps, "ttft_s", w->ttft_s);
        cJSON_AddNumberToObject(ps, "first_token_s", w->first_token_s);
        cJSON_AddNumberToObject(ps, "itl_p50_s", w->itl_p50_s);
        cJSON_AddNumberToObject(ps, "itl_p99_s", w->itl_p99_s);
    }
    if (r->config.cold_load) eb_json_number(o, "cold_resident_pct", w->cold_resident_pct);
    cJSON_AddNumberToObject(o, "n_prompt", w->n_prompt);
    cJSON_AddNumberToObject(o, "n_gen", w->n_gen);
    for (int m = 0; m < EB_M_COUNT; m++)
        cJSON_AddNumberToObject(o, eb_metric_name((eb_metric)m), eb_rep_metric(w, (eb_metric)m));
    cJSON_AddBoolToObject(o, "peak_rss_is_process", w->peak_rss_is_process);
    if (!isnan(w->pm[EB_SPAN_RUN][EB_PM_DISTURBED])) {
        cJSON_AddBoolToObject(o, "disturbed", w->disturbed);
        if (w->disturbed) cJSON_AddStringToObject(o, "disturbed_reason", w->disturbed_why);
    }
    if (w->idle_wait_s > 0) eb_json_number(o, "idle_wait_s", w->idle_wait_s);
    cJSON *ep = cJSON_AddObjectToObject(o, "engine_perf");
    cJSON_AddNumberToObject(ep, "load_ms", w->engine_perf.load_ms);
    cJSON_AddNumberToObject(ep, "prompt_eval_ms", w->engine_perf.prompt_eval_ms);
    cJSON_AddNumberToObject(ep, "eval_ms", w->engine_perf.eval_ms);
    cJSON_AddNumberToObject(ep, "n_prompt_eval", w->engine_perf.n_prompt_eval);
    cJSON_AddNumberToObject(ep, "n_eval", w->engine_perf.n_eval);
    cJSON *ctrs = cJSON_AddObjectToObject(o, "counters");
    for (int p = 0; p < EB_PHASE_COUNT; p++) {
        cJSON *ph = cJSON_AddObjectToObject(ctrs, eb_phase_name((eb_phase)p));
        int tokens = p == EB_PHASE_PREFILL ? w->n_prompt : p == EB_PHASE_GEN ? w->n_gen : 0;
        for (int k = 0; k < EB_CTR_COUNT; k++) {
            const eb_counter_values *cv = &w->counters[p];
            cJSON *one = cJSON_AddObjectToObject(ph, eb_counter_name((eb_counter_id)k));
            bool usable = cv->status[k] <= EB_CTR_RUSAGE;
            cJSON_AddStringToObject(one, "status", eb_counter_status_name(cv->status[k]));
            if (usable) {
                cJSON_AddNumberToObject(one, "value", cv->value[k]);
                if (tokens > 0) cJSON_AddNumberToObject(one, "per_token", cv->value[k] / tokens);
            } else {
                cJSON_AddNullToObject(one, "value");
                if (tokens > 0) cJSON_AddNullToObject(one, "per_token"); /* same keys always */
            }
        }
    }
    cJSON_AddItemToObject(o, "spans", spans_json(r, w));
    if (w->has_throttled) cJSON_AddNumberToObject(o, "throttled_flags", w->throttled);
    if (with_samples && w->itl_s)
        cJSON_AddItemToObject(o, "itl_s", cJSON_CreateDoubleArray(w->itl_s, w->n_gen));
    if (with_samples && w->gen_tokens)
        cJSON_AddItemToObject(o, "gen_tokens", cJSON_CreateIntArray(w->gen_tokens, w->n_gen));
    return o;
}

static cJSON *measurement_json(const eb_run_result *r)
{
    cJSON *o = cJSON_CreateObject();
    if (r->energy_source[0])
        cJSON_AddStringToObject(o, "energy_source", r->energy_source);
    else
        cJSON_AddNullToObject(o, "energy_source");
    cJSON_AddBoolToObject(o, "energy_is_estimate", r->energy_estimate);
    if (r->pm_reason[EB_PM_ENERGY_J][0])
        cJSON_AddStringToObject(o, "energy_not_available", r->pm_reason[EB_PM_ENERGY_J]);
    eb_json_number(o, "idle_power_w", r->idle_w);
    eb_json_number(o, "idle_power_u95_w", r->idle_w_u95);
    if (isfinite(r->idle_w_u95))
        cJSON_AddBoolToObject(o, "idle_unsteady", r->idle_unsteady);
    else
        cJSON_AddNullToObject(o, "idle_unsteady");
    if (r->energy_accuracy[0]) cJSON_AddStringToObject(o, "energy_accuracy", r->energy_accuracy);
    if (r->has_calibration) {
        const eb_calibration *c = &r->calibration;
        cJSON *cal = cJSON_AddObjectToObject(o, "calibration");
        cJSON_AddStringToObject(cal, "meter", c->meter);
        cJSON_AddStringToObject(cal, "onboard", c->onboard);
        cJSON_AddStringToObject(cal, "created_at", c->created_at);
        eb_json_number(cal, "gain", c->gain);
        eb_json_number(cal, "offset_w", c->offset_w);
        eb_json_number(cal, "residual_w", c->residual_w);
        eb_json_number(cal, "r2", c->r2);
        cJSON_AddNumberToObject(cal, "rungs", c->n_points);
    }
    eb_json_number(o, "energy_interval_ms",
                   r->pm_stats[EB_SPAN_RUN][EB_PM_ENERGY_INTERVAL_MS].n
                       ? r->pm_stats[EB_SPAN_RUN][EB_PM_ENERGY_INTERVAL_MS].median
                       : NAN);
    cJSON_AddNumberToObject(o, "idle_s", r->idle_t1 - r->idle_t0);
    cJSON_AddStringToObject(o, "governors", r->governors ? r->governors : "");
    cJSON_AddStringToObject(o, "cpus_online", r->cpus_online);
    if (!r->sampler) {
        cJSON_AddNullToObject(o, "sampler");
        return o;
    }
    cJSON *s = cJSON_AddObjectToObject(o, "sampler");
    cJSON_AddNumberToObject(s, "interval_ms", eb_sampler_interval(r->sampler) * 1000);
    cJSON_AddNumberToObject(s, "samples", (double)eb_sampler_n_samples(r->sampler));
    cJSON_AddNumberToObject(s, "interval_median_ms", r->timing.median_s * 1000);
    cJSON_AddNumberToObject(s, "interval_p99_ms", r->timing.p99_s * 1000);
    cJSON_AddNumberToObject(s, "interval_max_ms", r->timing.max_s * 1000);
    cJSON_AddNumberToObject(s, "missed_deadlines", (double)eb_sampler_missed(r->sampler));
    cJSON_AddNumberToObject(s, "dropped_samples", (double)eb_sampler_dropped(r->sampler));
    cJSON *probes = cJSON_AddArrayToObject(s, "sources");
    for (size_t i = 0; i < eb_sampler_probe_count(r->sampler); i++) {
        const eb_probe_report *p = eb_sampler_probe(r->sampler, i);
        cJSON *one = cJSON_CreateObject();
        cJSON_AddStringToObject(one, "source", p->source);
        cJSON_AddStringToObject(one, "result", eb_probe_name(p->result));
        cJSON_AddStringToObject(one, "detail", p->reason);
        if (p->left_out[0]) cJSON_AddStringToObject(one, "left_out", p->left_out);
        cJSON_AddItemToArray(probes, one);
    }
    cJSON *chs = cJSON_AddArrayToObject(s, "channels");
    for (int c = 0; c < eb_sampler_n_channels(r->sampler); c++) {
        const eb_channel *ch = eb_sampler_channel(r->sampler, c);
        cJSON *one = cJSON_CreateObject();
        cJSON_AddStringToObject(one, "name", ch->name);
        cJSON_AddStringToObject(one, "unit", eb_channel_unit(ch->kind));
        cJSON_AddBoolToObject(one, "in_total", ch->in_total);
        cJSON_AddBoolToObject(one, "estimate", ch->estimate);
        cJSON_AddItemToArray(chs, one);
    }
    return o;
}

static cJSON *stats_json(const eb_stats *s, const char *unit)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "unit", unit);
    cJSON_AddNumberToObject(o, "n", (double)s->n);
    cJSON_AddNumberToObject(o, "mean", s->mean);
    cJSON_AddNumberToObject(o, "stddev", s->stddev);
    cJSON_AddNumberToObject(o, "median", s->median);
    cJSON_AddNumberToObject(o, "min", s->min);
    cJSON_AddNumberToObject(o, "max", s->max);
    cJSON_AddNumberToObject(o, "ci95_lo", s->ci95_lo);
    cJSON_AddNumberToObject(o, "ci95_hi", s->ci95_hi);
    return o;
}

static eb_status emit(FILE *f, cJSON *root, bool pretty, eb_error *err)
{
    char *text = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) return eb_fail(err, EB_E_NO_MEMORY, "JSON output");
    int ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    free(text);
    return ok ? EB_OK : eb_fail(err, EB_E_IO, "cannot write JSON output");
}

/* The run against the device's ceilings; a side without one says why. */
static cJSON *roofline_json(const eb_run_result *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!r->has_roofline) {
        cJSON_AddStringToObject(o, "not_available", r->roofline_note);
        return o;
    }
    const eb_roofline *rl = &r->roofline;
    cJSON *g = cJSON_AddObjectToObject(o, "generation");
    eb_json_number(g, "mean_depth", rl->gen_depth);
    eb_json_number(g, "bytes_per_token", rl->gen_bytes_per_token);
    eb_json_number(g, "bandwidth_gbs", rl->ceil.bw_gbs);
    if (rl->ceil.bw_threads) cJSON_AddNumberToObject(g, "bandwidth_threads", rl->ceil.bw_threads);
    eb_json_number(g, "max_tps", rl->gen_max_tps);
    eb_json_number(g, "measured_tps", rl->gen_tps);
    eb_json_number(g, "efficiency", rl->gen_efficiency);
    if (rl->gen_reason[0]) cJSON_AddStringToObject(g, "not_available", rl->gen_reason);
    cJSON *p = cJSON_AddObjectToObject(o, "prefill");
    eb_json_number(p, "flops_per_token", rl->prefill_flops_per_token);
    cJSON_AddStringToObject(p, "kernel_type", rl->ceil.gflops_type);
    eb_json_number(p, "kernel_gflops", rl->ceil.gflops);
    if (rl->ceil.gflops_threads)
        cJSON_AddNumberToObject(p, "kernel_threads", rl->ceil.gflops_threads);
    eb_json_number(p, "max_tps", rl->prefill_max_tps);
    eb_json_number(p, "measured_tps", rl->prefill_tps);
    eb_json_number(p, "efficiency", rl->prefill_efficiency);
    if (rl->prefill_reason[0]) cJSON_AddStringToObject(p, "not_available", rl->prefill_reason);
    return o;
}

/* --duration: the windows, the last-to-first ratio and the drop below 95%. */
static cJSON *sustained_json(const eb_run_result *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "duration_s", r->config.sustain_s);
    cJSON_AddNumberToObject(o, "window_s", r->config.window_s);
    eb_json_number(o, "last_to_first_gen_tps", r->sustain_ratio);
    /* null: no window fell below 95% of the first */
    eb_json_number(o, "below_95pct_after_s", r->below95_s);
    cJSON *ws = cJSON_AddArrayToObject(o, "windows");
    for (int k = 0; k < r->n_windows; k++) {
        const eb_window *w = &r->windows[k];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "t_start_s", w->t0_s);
        cJSON_AddNumberToObject(x, "t_end_s", w->t1_s);
        cJSON_AddNumberToObject(x, "runs", w->n_reps);
        eb_json_number(x, "gen_tps", w->gen_tps);
        eb_json_number(x, "prefill_tps", w->prefill_tps);
        eb_json_number(x, "temp_max_c", w->temp_max_c);
        eb_json_number(x, "cpu_freq_mhz", w->cpu_freq_mhz);
        eb_json_number(x, "gen_mean_power_w", w->gen_mean_w);
        if (w->has_throttled)
            cJSON_AddNumberToObject(x, "throttled", w->throttled);
        else
            cJSON_AddNullToObject(x, "throttled");
        cJSON_AddItemToArray(ws, x);
    }
    return o;
}

/* A span measurement that is missing: a null mean and why. */
static void not_available(cJSON *span, eb_pm m, const char *why)
{
    cJSON *na = cJSON_AddObjectToObject(span, eb_pm_name(m));
    cJSON_AddNullToObject(na, "mean");
    cJSON_AddStringToObject(na, "not_available", why);
}

/* An energy figure's 95 % interval, what it leaves out, and how the
 * figure was obtained when its phase had too few readings. */
static void energy_interval_json(const eb_run_result *r, eb_span sp, eb_pm m, cJSON *st)
{
    bool left_out = false;
    double u = eb_result_energy_u95(r, sp, m, &left_out);
    eb_json_number(st, "u95", u);
    /* the same keys in every record, whatever the machine: null when none */
    if (isfinite(u))
        cJSON_AddStringToObject(st, "u95_covers", eb_energy_u95_covers(true, left_out));
    else
        cJSON_AddNullToObject(st, "u95_covers");
    const eb_stats *rd = &r->pm_stats[sp][EB_PM_ENERGY_READINGS];
    if (rd->n && rd->min < EB_ENERGY_MIN_READINGS) {
        char how[160];
        snprintf(how, sizeof how,
                 "too few readings (%.0f in a run, fewer than %d): the mean of %zu runs, their "
                 "readings pooled",
                 rd->min, EB_ENERGY_MIN_READINGS, r->pm_stats[sp][m].n);
        cJSON_AddStringToObject(st, "obtained", how);
    } else {
        cJSON_AddNullToObject(st, "obtained");
    }
}

cJSON *eb_result_head_json(const eb_run_result *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "edgebench_version", r->edgebench_version);
    cJSON_AddStringToObject(root, "started_at", r->started_at);
    cJSON_AddItemToObject(root, "engine", engine_json(r));
    cJSON_AddItemToObject(root, "device", eb_device_info_to_json(&r->device));
    cJSON_AddItemToObject(root, "model", model_json(r));
    cJSON_AddItemToObject(root, "config", config_json(r));
    return root;
}

cJSON *eb_result_to_json(const eb_run_result *r, bool with_timeline)
{
    cJSON *root = eb_result_head_json(r);
    /* a run that stopped early keeps what it measured, and says so */
    cJSON_AddStringToObject(root, "status", r->failure[0] ? "failed" : "ok");
    if (r->failure[0]) {
        cJSON_AddStringToObject(root, "failure", r->failure);
        cJSON_AddNumberToObject(root, "reps_planned", r->n_reps_planned);
    }
    cJSON *reps = cJSON_AddArrayToObject(root, "reps");
    for (int i = 0; i < r->n_reps; i++)
        cJSON_AddItemToArray(reps, rep_json(r, &r->reps[i], true));
    cJSON *summary = cJSON_AddObjectToObject(root, "summary");
    for (int m = 0; m < EB_M_COUNT; m++)
        cJSON_AddItemToObject(summary, eb_metric_name((eb_metric)m),
                              stats_json(&r->stats[m], eb_metric_unit((eb_metric)m)));
    cJSON *meaning = cJSON_AddObjectToObject(root, "counter_meaning");
    for (int k = 0; k < EB_CTR_COUNT; k++)
        cJSON_AddStringToObject(meaning, eb_counter_name((eb_counter_id)k),
                                eb_counter_meaning((eb_counter_id)k));
    cJSON *spans = cJSON_AddObjectToObject(root, "span_summary");
    for (int sp = 0; sp < EB_SPAN_COUNT; sp++) {
        cJSON *s = cJSON_AddObjectToObject(spans, eb_span_name((eb_span)sp));
        for (int m = 0; m < EB_PM_COUNT; m++) {
            if (r->pm_stats[sp][m].n > 0) {
                cJSON *st = stats_json(&r->pm_stats[sp][m], eb_pm_unit((eb_pm)m));
                cJSON_AddItemToObject(s, eb_pm_name((eb_pm)m), st);
                if (eb_pm_is_energy((eb_pm)m)) energy_interval_json(r, (eb_span)sp, (eb_pm)m, st);
            } else {
                not_available(s, (eb_pm)m, r->pm_reason[m][0] ? r->pm_reason[m] : "not measured");
            }
        }
    }
    cJSON_AddItemToObject(root, "measurement", measurement_json(r));
    cJSON_AddItemToObject(root, "roofline", roofline_json(r));
    if (r->config.sustain_s > 0) cJSON_AddItemToObject(root, "sustained", sustained_json(r));
    if (r->n_nodes > 0) eb_dist_to_json(r, root);
    cJSON_AddNumberToObject(root, "perf_event_paranoid", r->perf_event_paranoid);
    cJSON_AddNumberToObject(root, "process_peak_rss_mib", (double)r->process_peak_rss_kb / 1024.0);
    cJSON *tl = with_timeline ? eb_timeline_to_json(r) : NULL;
    if (tl) cJSON_AddItemToObject(root, "timeline", tl);
    return root;
}

cJSON *eb_rep_to_json(const eb_run_result *r, int index)
{
    return index >= 0 && index < r->n_reps ? rep_json(r, &r->reps[index], true) : NULL;
}

cJSON *eb_result_from_stream(cJSON *head, cJSON *reps, const char *failure, int reps_planned)
{
    cJSON *root = head ? head : cJSON_CreateObject();
    cJSON_AddStringToObject(root, "status", "failed");
    cJSON_AddStringToObject(root, "failure", failure);
    cJSON_AddNumberToObject(root, "reps_planned", reps_planned);
    if (!reps) reps = cJSON_CreateArray();
    cJSON_AddItemToObject(root, "reps", reps);
    /* the statistics of the measured repetitions, as eb_run makes them */
    int n = cJSON_GetArraySize(reps);
    double *vals = calloc((size_t)(n > 0 ? n : 1), sizeof *vals);
    cJSON *summary = cJSON_AddObjectToObject(root, "summary");
    for (int m = 0; vals && m < EB_M_COUNT; m++) {
        size_t k = 0;
        const cJSON *rep;
        cJSON_ArrayForEach(rep, reps)
        {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(rep, eb_metric_name((eb_metric)m));
            if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rep, "warmup")) && cJSON_IsNumber(v))
                vals[k++] = v->valuedouble;
        }
        eb_stats st;
        eb_stats_compute(vals, k, &st);
        cJSON_AddItemToObject(summary, eb_metric_name((eb_metric)m),
                              stats_json(&st, eb_metric_unit((eb_metric)m)));
    }
    free(vals);
    cJSON *spans = cJSON_AddObjectToObject(root, "span_summary");
    for (int sp = 0; sp < EB_SPAN_COUNT; sp++) {
        cJSON *s = cJSON_AddObjectToObject(spans, eb_span_name((eb_span)sp));
        for (int m = 0; m < EB_PM_COUNT; m++)
            not_available(s, (eb_pm)m, "the run's process ended before its summaries were made");
    }
    return root;
}

eb_status eb_write_json(FILE *f, const eb_run_result *r, eb_error *err)
{
    return emit(f, eb_result_to_json(r, r->config.keep_timeline), true, err);
}

eb_status eb_write_jsonl(FILE *f, const eb_run_result *r, eb_error *err)
{
    for (int i = 0; i < r->n_reps; i++) {
        cJSON *o = rep_json(r, &r->reps[i], true);
        cJSON_AddStringToObject(o, "started_at", r->started_at);
        cJSON_AddStringToObject(o, "engine_version", r->engine_version);
        cJSON_AddItemToObject(o, "model", model_json(r));
        cJSON_AddItemToObject(o, "config", config_json(r));
        cJSON_AddStringToObject(o, "hostname", r->device.hostname);
        cJSON_AddStringToObject(o, "cpu_model", r->device.cpu_model);
        eb_status st = emit(f, o, false, err);
        if (st != EB_OK) return st;
    }
    return EB_OK;
}
