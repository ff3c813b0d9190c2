/* The table a person reads at a glance. */
#include <math.h>
#include <string.h>

#include "edgebench/output.h"

static const char *synthetic_note =
    "SYNTHETIC model (random weights): speed, memory and energy are faithful; "
    "generated text and perplexity mean nothing";

static void human_bytes(char *out, size_t cap, double b)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4) {
        b /= 1024;
        i++;
    }
    snprintf(out, cap, "%.1f %s", b, u[i]);
}

static void row(FILE *f, const char *phase, const char *label, const eb_stats *s, double scale,
                int decimals)
{
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

eb_status eb_write_text(FILE *f, const eb_run_result *r, eb_error *err)
{
    (void)err;
    const eb_model_info *m = &r->model;
    const eb_run_config *c = &r->config;
    char fsz[32], wsz[32];
    human_bytes(fsz, sizeof fsz, (double)m->file_size);
    human_bytes(wsz, sizeof wsz, (double)m->weights_size);

    fprintf(f, "edgebench %s run: %s %s, backend %s\n", r->edgebench_version, r->engine_name,
            r->engine_version, r->engine_backend);
    fprintf(f, "model   %s\n", m->path);
    fprintf(f, "        %s%s%s, arch %s, %.3f B params, %s quantization, file %s (weights %s)\n",
            m->synthetic ? "preset " : "", m->synthetic ? m->preset : m->name,
            m->synthetic ? "" : "", m->arch, (double)m->n_params / 1e9, m->quant, fsz, wsz);
    if (m->synthetic) fprintf(f, "        %s\n", synthetic_note);
    char ram[32];
    human_bytes(ram, sizeof ram, (double)r->device.ram_total_kb * 1024.0);
    fprintf(f, "device  %s%s%s, %d CPUs online, %s RAM, Linux %s, %s\n",
            r->device.board_model[0] ? r->device.board_model : "",
            r->device.board_model[0] ? ": " : "", r->device.cpu_model, r->device.n_cpus_online, ram,
            r->device.kernel, r->device.os[0] ? r->device.os : "unknown OS");
    fprintf(f,
            "config  prompt %d tokens (%s), generate %d, context %d, threads prefill %d / "
            "generation %d, batch %d, GPU layers %d\n",
            r->n_prompt, eb_prompt_source(c), c->n_gen, c->n_ctx, c->threads_prefill,
            c->threads_gen, c->n_batch, c->n_gpu_layers);
    int measured = 0, warm = 0;
    for (int i = 0; i < r->n_reps; i++)
        r->reps[i].warmup ? warm++ : measured++;
    fprintf(f,
            "        %d measured run%s after %d warm-up%s (warm-ups excluded from statistics)\n\n",
            measured, measured == 1 ? "" : "s", warm, warm == 1 ? "" : "s");

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
    row(f, "memory", "peak RSS [MiB]", &s[EB_M_PEAK_RSS_MB], 1, 1);
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
                i + 1, w->load_s, w->prefill_tps, w->gen_tps, (double)w->peak_rss_kb / 1024.0);
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
