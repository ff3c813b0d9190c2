/* `run --verbose`: every statistic of every measurement, each source's
 * probe and the sampler's timing. */
#include <math.h>
#include <string.h>

#include "edgebench/output.h"
#include "edgebench/vcio.h"
#include "output_text.h"

static void row(FILE *f, const char *phase, const char *label, const eb_stats *s, double scale,
                int decimals)
{
    if (isnan(s->mean)) { /* a measurement that was not available */
        fprintf(f, "  %-11s %-22s %10s\n", phase, label, "n/a (not measured on this device)");
        return;
    }
    char c[5][32];
    double v[5] = {s->mean, s->stddev, s->median, s->min, s->max};
    for (int i = 0; i < 5; i++)
        snprintf(c[i], sizeof c[i], "%.*f", decimals, v[i] * scale);
    char ci[80];
    snprintf(ci, sizeof ci, "[%.*f, %.*f]", decimals, s->ci95_lo * scale, decimals,
             s->ci95_hi * scale);
    fprintf(f, "  %-11s %-22s %10s %9s %10s %10s %10s  %s\n", phase, label, c[0], c[1], c[2], c[3],
            c[4], s->n > 1 ? ci : "n/a (one run)");
}

/* A per-span measurement, or why it is missing. */
static void pm_row(FILE *f, const eb_run_result *r, eb_span sp, eb_pm m, const char *label,
                   int decimals)
{
    const eb_stats *s = &r->pm_stats[sp][m];
    if (s->n > 0) {
        row(f, eb_span_name(sp), label, s, 1, decimals);
        return;
    }
    fprintf(f, "  %-11s %-22s n/a (%s)\n", eb_span_name(sp), label,
            r->pm_reason[m][0] ? r->pm_reason[m] : "not measured");
}

static void energy_rows(FILE *f, const eb_run_result *r)
{
    bool any = false;
    for (int sp = 0; sp < EB_SPAN_COUNT; sp++)
        any |= r->pm_stats[sp][EB_PM_ENERGY_J].n > 0;
    if (!any) {
        fprintf(f, "  %-11s %-22s n/a (%s)\n", "energy", "all phases",
                r->pm_reason[EB_PM_ENERGY_J][0] ? r->pm_reason[EB_PM_ENERGY_J] : "not measured");
        return;
    }
    for (int sp = EB_SPAN_LOAD; sp <= EB_SPAN_RUN; sp++) {
        pm_row(f, r, (eb_span)sp, EB_PM_ENERGY_J,
               r->energy_estimate ? "energy [J] ESTIMATE" : "energy [J]", 3);
        pm_row(f, r, (eb_span)sp, EB_PM_ENERGY_ABOVE_IDLE_J, "energy above idle [J]", 3);
        pm_row(f, r, (eb_span)sp, EB_PM_MEAN_W, "mean power [W]", 3);
        pm_row(f, r, (eb_span)sp, EB_PM_PEAK_W, "peak power [W]", 3);
        if (sp == EB_SPAN_PREFILL || sp == EB_SPAN_GEN) {
            pm_row(f, r, (eb_span)sp, EB_PM_J_PER_TOKEN, "energy/token [J]", 5);
            pm_row(f, r, (eb_span)sp, EB_PM_ACTION, "action/token [J*s]", 6);
        }
    }
}

static void memory_cpu_rows(FILE *f, const eb_run_result *r)
{
    pm_row(f, r, EB_SPAN_LOAD, EB_PM_PEAK_RSS, "peak RSS [MiB]", 1);
    pm_row(f, r, EB_SPAN_PREFILL, EB_PM_PEAK_RSS, "peak RSS [MiB]", 1);
    pm_row(f, r, EB_SPAN_GEN, EB_PM_PEAK_RSS, "peak RSS [MiB]", 1);
    pm_row(f, r, EB_SPAN_GEN, EB_PM_RSS_ANON, "RssAnon at end [MiB]", 1);
    pm_row(f, r, EB_SPAN_GEN, EB_PM_RSS_FILE, "RssFile at end [MiB]", 1);
    pm_row(f, r, EB_SPAN_GEN, EB_PM_PSS, "PSS at end [MiB]", 1);
    pm_row(f, r, EB_SPAN_GEN, EB_PM_MEM_AVAILABLE, "MemAvailable [MiB]", 1);
    pm_row(f, r, EB_SPAN_GEN, EB_PM_SWAP_USED, "swap used [MiB]", 1);
    pm_row(f, r, EB_SPAN_GEN, EB_PM_NVMAP, "NvMapMemUsed [MiB]", 1);
    pm_row(f, r, EB_SPAN_GEN, EB_PM_GPU_MEM, "GPU memory [MiB]", 1);
    pm_row(f, r, EB_SPAN_PREFILL, EB_PM_CPU_FREQ, "CPU clock [MHz]", 0);
    pm_row(f, r, EB_SPAN_GEN, EB_PM_CPU_FREQ, "CPU clock [MHz]", 0);
    pm_row(f, r, EB_SPAN_GEN, EB_PM_TEMP_MAX, "max temperature [C]", 1);
    pm_row(f, r, EB_SPAN_PREFILL, EB_PM_GPU_LOAD, "GPU load [%]", 1);
    pm_row(f, r, EB_SPAN_GEN, EB_PM_GPU_LOAD, "GPU load [%]", 1);
    pm_row(f, r, EB_SPAN_GEN, EB_PM_GPU_FREQ, "GPU clock [MHz]", 0);
}

static void sampler_lines(FILE *f, const eb_run_result *r)
{
    if (!r->sampler) {
        fprintf(f, "  sampler: off (--no-sampler)\n");
        return;
    }
    const eb_sampler_timing *t = &r->timing;
    fprintf(f,
            "  sampler: every %.0f ms, %zu samples, interval median %.2f ms, p99 %.2f ms, max "
            "%.2f ms, %llu missed deadline%s\n",
            eb_sampler_interval(r->sampler) * 1000, eb_sampler_n_samples(r->sampler),
            t->median_s * 1000, t->p99_s * 1000, t->max_s * 1000, (unsigned long long)t->missed,
            t->missed == 1 ? "" : "s");
    for (size_t i = 0; i < eb_sampler_probe_count(r->sampler); i++) {
        const eb_probe_report *p = eb_sampler_probe(r->sampler, i);
        fprintf(f, "    %-13s %-13s %s\n", p->source, eb_probe_name(p->result), p->reason);
        if (p->left_out[0]) fprintf(f, "    %-13s left out: %s\n", "", p->left_out);
    }
    if (r->energy_source[0])
        fprintf(f, "  energy from %s%s\n", r->energy_source,
                r->energy_estimate ? " (an ESTIMATE, not a measurement)" : "");
    if (!isnan(r->idle_w) && isfinite(r->idle_w_u95))
        fprintf(f, "  idle power %.3f +- %.3f W over %.1f s before the first run%s\n", r->idle_w,
                r->idle_w_u95, r->idle_t1 - r->idle_t0,
                r->idle_unsteady ? " (UNSTEADY: its halves differ by more than the interval; a "
                                   "longer --idle-s may settle it)"
                                 : " (its halves agree)");
    else if (!isnan(r->idle_w))
        fprintf(f, "  idle power %.3f W over %.1f s before the first run\n", r->idle_w,
                r->idle_t1 - r->idle_t0);
}

/* Mean per token over the measured runs, or why there is none. */
static void counter_row(FILE *f, const eb_run_result *r, eb_phase ph, eb_counter_id id)
{
    double sum = 0;
    int n = 0;
    eb_counter_status why = EB_CTR_OK, used = EB_CTR_OK;
    for (int i = 0; i < r->n_reps; i++) {
        const eb_rep *w = &r->reps[i];
        if (w->warmup) continue;
        eb_counter_status s = w->counters[ph].status[id];
        int tokens = ph == EB_PHASE_PREFILL ? w->n_prompt : w->n_gen;
        if (s <= EB_CTR_RUSAGE && tokens > 0) {
            sum += w->counters[ph].value[id] / tokens;
            n++;
            if (s != EB_CTR_OK) used = s;
        } else {
            why = s;
        }
    }
    char label[64];
    snprintf(label, sizeof label, "%s/token", eb_counter_name(id));
    if (n > 0)
        fprintf(f, "  %-11s %-22s %10.2f%s\n", eb_phase_name(ph), label, sum / n,
                used == EB_CTR_OK       ? ""
                : used == EB_CTR_SCALED ? "  (scaled)"
                                        : "  (getrusage)");
    else if (why == EB_CTR_NO_PERMISSION)
        fprintf(f, "  %-11s %-22s n/a (no permission: perf_event_paranoid=%d)\n", eb_phase_name(ph),
                label, r->perf_event_paranoid);
    else
        fprintf(f, "  %-11s %-22s n/a (%s on this device)\n", eb_phase_name(ph), label,
                eb_counter_status_name(why));
}

/* How close the run came to the device's own limits. */
static void na_or(FILE *f, int decimals, double v)
{
    if (isfinite(v))
        fprintf(f, " %9.*f", decimals, v);
    else
        fprintf(f, " %9s", "n/a");
}

/* --duration: a row per window, then how the throughput held. */
static void sustained_lines(FILE *f, const eb_run_result *r)
{
    if (r->config.sustain_s <= 0) return;
    fprintf(f, "\n  sustained %.0f s, per %.0f s window:\n", r->config.sustain_s,
            r->config.window_s);
    fprintf(f, "  %7s %7s %5s %9s %9s %9s %9s %9s %s\n", "from s", "to s", "runs", "gen t/s",
            "pp t/s", "temp C", "CPU MHz", "gen W", "throttled");
    for (int k = 0; k < r->n_windows; k++) {
        const eb_window *w = &r->windows[k];
        fprintf(f, "  %7.0f %7.0f %5d", w->t0_s, w->t1_s, w->n_reps);
        na_or(f, 2, w->gen_tps);
        na_or(f, 2, w->prefill_tps);
        na_or(f, 1, w->temp_max_c);
        na_or(f, 0, w->cpu_freq_mhz);
        na_or(f, 2, w->gen_mean_w);
        if (w->has_throttled)
            fprintf(f, " 0x%x\n", w->throttled);
        else
            fprintf(f, " n/a\n");
    }
    if (isfinite(r->sustain_ratio))
        fprintf(f, "  last window / first: %.3f of the generation t/s; ", r->sustain_ratio);
    if (isfinite(r->below95_s))
        fprintf(f, "below 95%% of the first window from %.0f s\n", r->below95_s);
    else
        fprintf(f, "never below 95%% of the first window\n");
}

static void roofline_lines(FILE *f, const eb_run_result *r)
{
    if (!r->has_roofline) {
        if (r->roofline_note[0]) fprintf(f, "  physical limits: n/a (%s)\n", r->roofline_note);
        return;
    }
    const eb_roofline *rl = &r->roofline;
    if (isfinite(rl->gen_max_tps))
        fprintf(f,
                "  generation limit: %.2f tok/s = %.2f GB/s (probed, %d threads) / %.1f MiB per "
                "token (weights + KV cache at depth %.0f); measured %.2f tok/s = %.0f%% of it\n",
                rl->gen_max_tps, rl->ceil.bw_gbs, rl->ceil.bw_threads,
                rl->gen_bytes_per_token / 1048576.0, rl->gen_depth, rl->gen_tps,
                100 * rl->gen_efficiency);
    else
        fprintf(f, "  generation limit: n/a (%s)\n", rl->gen_reason);
    if (isfinite(rl->prefill_max_tps))
        fprintf(f,
                "  prefill limit: %.1f tok/s = %.1f GFLOP/s (%s kernel, %d threads) / %.2f GFLOP "
                "per token; measured %.1f tok/s = %.0f%% of it\n",
                rl->prefill_max_tps, rl->ceil.gflops, rl->ceil.gflops_type, rl->ceil.gflops_threads,
                rl->prefill_flops_per_token / 1e9, rl->prefill_tps, 100 * rl->prefill_efficiency);
    else
        fprintf(f, "  prefill limit: n/a (%s)\n", rl->prefill_reason);
}

eb_status eb_write_text_verbose(FILE *f, const eb_run_result *r, eb_error *err)
{
    (void)err;
    const eb_run_config *c = &r->config;
    eb_text_header(f, r);
    int measured = 0, warm = 0;
    for (int i = 0; i < r->n_reps; i++)
        r->reps[i].warmup ? warm++ : measured++;
    (void)warm;
    fputc('\n', f);

    if (measured == 0) {
        fprintf(f, "no measured runs completed\n");
        return EB_OK;
    }
    fprintf(f, "  %-11s %-22s %10s %9s %10s %10s %10s  %s\n", "phase", "metric", "mean", "sd",
            "median", "min", "max", "95% CI of mean");
    const eb_stats *s = r->stats;
    row(f, "load", "latency [s]", &s[EB_M_LOAD_S], 1, 3);
    row(f, "prefill", "latency [s]", &s[EB_M_PREFILL_S], 1, 3);
    row(f, "prefill", "throughput [tok/s]", &s[EB_M_PREFILL_TPS], 1, 2);
    row(f, "generation", "latency [s]", &s[EB_M_GEN_S], 1, 3);
    row(f, "generation", "throughput [tok/s]", &s[EB_M_GEN_TPS], 1, 2);
    row(f, "generation", "inter-token p50 [ms]", &s[EB_M_ITL_P50_S], 1000, 2);
    row(f, "generation", "inter-token p90 [ms]", &s[EB_M_ITL_P90_S], 1000, 2);
    row(f, "generation", "inter-token p99 [ms]", &s[EB_M_ITL_P99_S], 1000, 2);
    row(f, "request", "TTFT load+prefill [s]", &s[EB_M_TTFT_S], 1, 3);
    row(f, "request", "first token [s]", &s[EB_M_FIRST_TOKEN_S], 1, 3);
    row(f, "request", "end-to-end [s]", &s[EB_M_E2E_S], 1, 3);
    row(f, "run", "peak RSS [MiB]", &s[EB_M_PEAK_RSS_MB], 1, 1);
    energy_rows(f, r);
    memory_cpu_rows(f, r);
    static const eb_counter_id shown[] = {EB_CTR_INSTRUCTIONS, EB_CTR_CACHE_MISSES,
                                          EB_CTR_L1D_READ_MISSES, EB_CTR_CONTEXT_SWITCHES,
                                          EB_CTR_MINOR_FAULTS};
    for (int ph = EB_PHASE_PREFILL; ph <= EB_PHASE_GEN; ph++)
        for (size_t k = 0; k < sizeof shown / sizeof shown[0]; k++)
            counter_row(f, r, (eb_phase)ph, shown[k]);
    fprintf(f,
            "\n  tokens: prefill %d, generation %d per run; first token = prefill + choice of "
            "the first token, after loading\n",
            r->n_prompt, c->n_gen);
    for (int i = 0; i < r->n_reps; i++) {
        const eb_rep *w = &r->reps[i];
        if (!w->warmup) continue;
        fprintf(f,
                "  warm-up %d: load %.3f s, prefill %.2f tok/s, generation %.2f tok/s, peak RSS "
                "%.1f MiB\n",
                i + 1, w->load_s, w->prefill_tps, w->gen_tps, eb_rep_metric(w, EB_M_PEAK_RSS_MB));
    }
    roofline_lines(f, r);
    sustained_lines(f, r);
    eb_dist_write_text(f, r);
    sampler_lines(f, r);
    if ((r->governors && r->governors[0]) || r->cpus_online[0])
        fprintf(f, "  CPUs online %s; governors %s\n", r->cpus_online[0] ? r->cpus_online : "?",
                r->governors && r->governors[0] ? r->governors : "n/a (no cpufreq)");
    if (r->n_reps > 0 && r->reps[r->n_reps - 1].has_throttled) {
        char d[256];
        eb_throttled_describe(r->reps[r->n_reps - 1].throttled, d, sizeof d);
        fprintf(f, "  Raspberry Pi throttling (last run): 0x%x: %s\n",
                r->reps[r->n_reps - 1].throttled, d);
    }
    if (r->n_reps > 0 && r->reps[0].peak_rss_is_process)
        fprintf(f, "  peak RSS covers the whole process: the kernel refused to reset it per run\n");
    const eb_rep *last = &r->reps[r->n_reps - 1];
    fprintf(f,
            "  llama.cpp's own timers (last run): prompt %.1f ms for %d tokens, eval %.1f ms for "
            "%d tokens\n",
            last->engine_perf.prompt_eval_ms, last->engine_perf.n_prompt_eval,
            last->engine_perf.eval_ms, last->engine_perf.n_eval);
    return EB_OK;
}
