/* The run as a person reads it first: what was measured, a line a figure
 * (median, mean +- its 95% interval), then in one short section what was
 * not measured here and why, in a few words. `--verbose` has the rest
 * (output_text_full.c). Lines fit 120 columns. */
#include <math.h>
#include <string.h>

#include "edgebench/measure.h"
#include "edgebench/params.h"
#include "edgebench/output.h"
#include "edgebench/util.h"
#include "output_text.h"

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

/* The settings at parity with llama-bench, where they are not llama.cpp's
 * defaults, and what llama.cpp made of them. */
static void settings_line(FILE *f, const eb_run_result *r)
{
    const eb_run_config *c = &r->config;
    const eb_ctx_info *ci = &r->ctx_info;
    char kv[96] = "";
    if (r->has_ctx_info && isfinite(ci->kv_mib))
        snprintf(kv, sizeof kv, "KV cache %s/%s %.2f MiB", ci->type_k, ci->type_v, ci->kv_mib);
    fprintf(f, "         %s%sflash attention %s%s", kv, kv[0] ? ", " : "",
            c->flash_attn ? c->flash_attn : eb_param_find("flash_attn")->def,
            r->has_ctx_info && ci->flash_attn >= 0 ? (ci->flash_attn ? " (ran: on)" : " (ran: off)")
                                                   : "");
    if (c->n_depth > 0) fprintf(f, ", depth %d", c->n_depth);
    if (c->n_parallel > 1) fprintf(f, ", %d sequences in parallel", c->n_parallel);
    if (c->load_mode && strcmp(c->load_mode, eb_param_find("load_mode")->def) != 0)
        fprintf(f, ", load %s", c->load_mode);
    if (c->cold_load) fprintf(f, ", cold load");
    if (c->cpu_strict) fprintf(f, ", strict CPU placement");
    if (c->poll != 50) fprintf(f, ", poll %d", c->poll);
    if (!c->repack) fprintf(f, ", weights not repacked");
    fputc('\n', f);
    if (c->n_parallel > 1)
        fprintf(f, "         tokens/s below: all %d sequences together\n", c->n_parallel);
    if (r->cold_load_note[0]) fprintf(f, "         cold load: %s\n", r->cold_load_note);
}

void eb_text_header(FILE *f, const eb_run_result *r)
{
    const eb_model_info *m = &r->model;
    const eb_run_config *c = &r->config;
    char fsz[32];
    human_bytes(fsz, sizeof fsz, (double)m->file_size);
    fprintf(f, "edgebench %s run: %s %s, %s backend\n", r->edgebench_version, r->engine_name,
            r->engine_version, r->engine_backend);
    const char(*bf)[512] = r->engine_build_fact;
    if (bf[EB_BF_VARIANT][0]) {
        char line[1600];
        bool off = bf[EB_BF_FEATURES_OFF][0] && strcmp(bf[EB_BF_FEATURES_OFF], "none") != 0;
        snprintf(line, sizeof line, "%s build, CPU features %s%s%s%s%s", bf[EB_BF_VARIANT],
                 bf[EB_BF_CPU_FEATURES][0] ? bf[EB_BF_CPU_FEATURES] : "unknown",
                 off ? "; turned off: " : "", off ? bf[EB_BF_FEATURES_OFF] : "",
                 off && bf[EB_BF_FEATURES_OFF_REASON][0] ? ", because " : "",
                 off ? bf[EB_BF_FEATURES_OFF_REASON] : "");
        eb_print_wrapped(f, "build    ", "         ", line, 120);
    }
    const char *slash = strrchr(m->path, '/');
    fprintf(f, "model    %s: %s%s, %s, %.3f B params, %s, %s\n", slash ? slash + 1 : m->path,
            m->synthetic ? "preset " : "", m->synthetic ? m->preset : m->name, m->arch,
            (double)m->n_params / 1e9, m->quant, fsz);
    if (m->synthetic) fprintf(f, "         SYNTHETIC, %s\n", EB_SYNTHETIC_NOTE);
    char ram[32];
    human_bytes(ram, sizeof ram, (double)r->device.ram_total_kb * 1024.0);
    fprintf(f, "device   %s%s%s, %d CPUs online, %s RAM, %s\n",
            r->device.board_model[0] ? r->device.board_model : "",
            r->device.board_model[0] ? ": " : "", r->device.cpu_model, r->device.n_cpus_online, ram,
            r->device.os[0] ? r->device.os : "unknown OS");
    fprintf(f, "config   prompt %d tokens (%s), %d generated, context %d, batch %d\n", r->n_prompt,
            eb_prompt_source(c), c->n_gen, c->n_ctx, c->n_batch);
    const eb_offload *o = &r->model.offload;
    char where[160];
    if (r->n_nodes > 0)
        snprintf(where, sizeof where, "%d of %d layers on %d RPC node%s", o->layers_offloaded,
                 o->layers_total, r->n_nodes, r->n_nodes == 1 ? "" : "s");
    else if (o->layers_offloaded > 0)
        snprintf(where, sizeof where, "%d of %d layers on the GPU", o->layers_offloaded,
                 o->layers_total);
    else
        snprintf(where, sizeof where, "CPU only");
    fprintf(f, "         prefill %d thread%s, generation %d thread%s, %s\n", c->threads_prefill,
            c->threads_prefill == 1 ? "" : "s", c->threads_gen, c->threads_gen == 1 ? "" : "s",
            where);
    settings_line(f, r);
    if (o->layers_offloaded > 0 && r->n_nodes == 0)
        fprintf(f, "offload  %.110s\n", o->devices);
    else if (c->n_gpu_layers != 0 && o->layers_offloaded == 0)
        fprintf(f, "offload  none: %s\n",
                o->n_devices == 0 ? "this build found no GPU; every layer ran on the CPU"
                                  : "llama.cpp offloaded no layer");
    int measured = 0, warm = 0;
    for (int i = 0; i < r->n_reps; i++)
        r->reps[i].warmup ? warm++ : measured++;
    fprintf(f, "runs     %d measured after %d warm-up%s (warm-ups are not in the statistics)\n",
            measured, warm, warm == 1 ? "" : "s");
    if (r->failure[0]) {
        char first[64];
        snprintf(first, sizeof first, "FAILED   after %d of %d runs: ", r->n_reps,
                 r->n_reps_planned);
        eb_print_wrapped(f, first, "         ", r->failure, 120);
    }
}

/* "median   mean +- half of its 95% interval" */
static void figure(FILE *f, const char *phase, const char *label, const eb_stats *s, double scale,
                   int decimals, const char *note)
{
    if (s->n == 0 || isnan(s->mean)) return;
    char med[32], mean[64];
    snprintf(med, sizeof med, "%.*f", decimals, s->median * scale);
    if (s->n > 1 && isfinite(s->ci95_lo))
        snprintf(mean, sizeof mean, "%.*f +- %.*f", decimals, s->mean * scale, decimals,
                 (s->ci95_hi - s->ci95_lo) / 2 * scale);
    else
        snprintf(mean, sizeof mean, "%.*f (one run)", decimals, s->mean * scale);
    if (note && note[0])
        fprintf(f, "%-11s %-22s %11s   %-22s %s\n", phase, label, med, mean, note);
    else
        fprintf(f, "%-11s %-22s %11s   %s\n", phase, label, med, mean);
}

static bool measured(const eb_run_result *r, eb_pm m)
{
    for (int s = 0; s < EB_SPAN_COUNT; s++)
        if (r->pm_stats[s][m].n > 0) return true;
    return false;
}

/* An energy figure with its interval (the runs' spread and the sensor's
 * bounds), and a note where the phase had too few readings. */
static void energy_figure(FILE *f, const eb_run_result *r, eb_span sp, eb_pm m, const char *label,
                          int decimals)
{
    const eb_stats *s = &r->pm_stats[sp][m];
    if (s->n == 0 || isnan(s->mean)) return;
    double u = eb_result_energy_u95(r, sp, m, NULL);
    char med[32], mean[64], note[128] = "";
    snprintf(med, sizeof med, "%.*f", decimals, s->median);
    if (isfinite(u))
        snprintf(mean, sizeof mean, "%.*f +- %.*f", decimals, s->mean, decimals, u);
    else if (s->n > 1)
        snprintf(mean, sizeof mean, "%.*f +- %.*f", decimals, s->mean, decimals,
                 (s->ci95_hi - s->ci95_lo) / 2);
    else
        snprintf(mean, sizeof mean, "%.*f (one run)", decimals, s->mean);
    const eb_stats *rd = &r->pm_stats[sp][EB_PM_ENERGY_READINGS];
    if (rd->n && rd->min < EB_ENERGY_MIN_READINGS)
        snprintf(note, sizeof note, "%.0f reading%s a run: the mean of %zu runs' pooled readings",
                 rd->min, rd->min == 1 ? "" : "s", s->n);
    const char *phase = eb_span_name(sp);
    if (note[0])
        fprintf(f, "%-11s %-22s %11s   %-22s %s\n", phase, label, med, mean, note);
    else
        fprintf(f, "%-11s %-22s %11s   %s\n", phase, label, med, mean);
}

static void energy_lines(FILE *f, const eb_run_result *r)
{
    const char *est = r->energy_estimate ? "ESTIMATE " : "";
    char label[48];
    snprintf(label, sizeof label, "%senergy/token [J]", est);
    energy_figure(f, r, EB_SPAN_PREFILL, EB_PM_J_PER_TOKEN, label, 5);
    energy_figure(f, r, EB_SPAN_GEN, EB_PM_J_PER_TOKEN, label, 5);
    snprintf(label, sizeof label, "%smean power [W]", est);
    energy_figure(f, r, EB_SPAN_GEN, EB_PM_MEAN_W, label, 3);
    snprintf(label, sizeof label, "%sabove idle [J]", est);
    energy_figure(f, r, EB_SPAN_GEN, EB_PM_ENERGY_ABOVE_IDLE_J, label, 4);
    snprintf(label, sizeof label, "%saction/token [J*s]", est);
    energy_figure(f, r, EB_SPAN_GEN, EB_PM_ACTION, label, 6);
    snprintf(label, sizeof label, "%senergy [J]", est);
    energy_figure(f, r, EB_SPAN_RUN, EB_PM_ENERGY_J, label, 3);
    fprintf(f, "%-11s from %s%s\n", "", r->energy_source,
            r->energy_estimate ? ": an ESTIMATE (CPU load x TDP), not a measurement" : "");
    if (r->has_calibration) {
        const eb_calibration *c = &r->calibration;
        energy_figure(f, r, EB_SPAN_GEN, EB_PM_ONBOARD_J, "on-board energy [J]", 4);
        energy_figure(f, r, EB_SPAN_GEN, EB_PM_CALIBRATED_J, "calibrated energy [J]", 4);
        energy_figure(f, r, EB_SPAN_GEN, EB_PM_CALIBRATED_J_PER_TOKEN, "calibrated J/token", 5);
        char line[900];
        snprintf(line, sizeof line,
                 "calibrated: %s x %.4f %+.4f W (fitted to %s on %s, residual %.4f W, R^2 %.4f; "
                 "the residual is inside the interval)",
                 c->onboard, c->gain, c->offset_w, c->meter, c->created_at, c->residual_w, c->r2);
        eb_print_wrapped(f, "            ", "            ", line, 120);
    }
    if (r->energy_estimate) return;
    const eb_stats *rp = &r->pm_stats[EB_SPAN_PREFILL][EB_PM_ENERGY_READINGS],
                   *rg = &r->pm_stats[EB_SPAN_GEN][EB_PM_ENERGY_READINGS],
                   *ip = &r->pm_stats[EB_SPAN_PREFILL][EB_PM_ENERGY_INTERVAL_MS],
                   *ig = &r->pm_stats[EB_SPAN_GEN][EB_PM_ENERGY_INTERVAL_MS];
    if (rp->n && rg->n)
        fprintf(f,
                "%-11s readings a run: prefill %.0f (one every %.1f ms), generation %.0f "
                "(every %.1f ms)\n",
                "", rp->median, ip->median, rg->median, ig->median);
    bool left_out = false;
    eb_result_energy_u95(r, EB_SPAN_GEN, EB_PM_ENERGY_J, &left_out);
    char line[700];
    snprintf(line, sizeof line, "95%% intervals: the runs' spread and the sensor's bounds%s (%s)",
             left_out ? ", its accuracy left out: not published" : "", r->energy_accuracy);
    eb_print_wrapped(f, "            ", "            ", line, 120);
}

/* "context_switches" as words */
static const char *spaced(const char *name)
{
    static char buf[64];
    snprintf(buf, sizeof buf, "%s", name);
    for (char *c = buf; *c; c++)
        if (*c == '_') *c = ' ';
    return buf;
}

/* Per generated token, the counters that were read. */
static void counter_line(FILE *f, const eb_run_result *r)
{
    static const eb_counter_id ids[] = {EB_CTR_INSTRUCTIONS, EB_CTR_CACHE_MISSES,
                                        EB_CTR_L1D_READ_MISSES, EB_CTR_CONTEXT_SWITCHES,
                                        EB_CTR_MINOR_FAULTS};
    char line[256] = "";
    size_t used = 0;
    for (size_t k = 0; k < sizeof ids / sizeof *ids; k++) {
        double sum = 0;
        int n = 0;
        for (int i = 0; i < r->n_reps; i++) {
            const eb_rep *w = &r->reps[i];
            if (w->warmup || w->n_gen <= 0) continue;
            if (w->counters[EB_PHASE_GEN].status[ids[k]] <= EB_CTR_RUSAGE)
                sum += w->counters[EB_PHASE_GEN].value[ids[k]] / w->n_gen, n++;
        }
        if (n > 0 && used < sizeof line)
            used += (size_t)snprintf(line + used, sizeof line - used, "%s%.4g %s", used ? ", " : "",
                                     sum / n, spaced(eb_counter_name(ids[k])));
    }
    if (used) fprintf(f, "%-11s per generated token: %s\n", "counters", line);
}

/* One line per kind of figure that is missing, and why. */
static void missing(FILE *f, const eb_run_result *r)
{
    char why[128], lines[8][200];
    int n = 0;
    if (!measured(r, EB_PM_ENERGY_J)) {
        eb_few_words(r->pm_reason[EB_PM_ENERGY_J][0] ? r->pm_reason[EB_PM_ENERGY_J]
                                                     : "not measured",
                     70, why, sizeof why);
        snprintf(lines[n++], sizeof lines[0], "%-18s %s%s", "energy, power", why,
                 r->config.tdp_w > 0 ? "" : "; --tdp W estimates it");
    }
    if (!measured(r, EB_PM_CPU_FREQ)) {
        eb_few_words(r->pm_reason[EB_PM_CPU_FREQ], 70, why, sizeof why);
        snprintf(lines[n++], sizeof lines[0], "%-18s %s", "CPU clock", why);
    }
    if (!measured(r, EB_PM_TEMP_MAX)) {
        eb_few_words(r->pm_reason[EB_PM_TEMP_MAX], 70, why, sizeof why);
        snprintf(lines[n++], sizeof lines[0], "%-18s %s", "temperature", why);
    }
    if (!measured(r, EB_PM_GPU_LOAD) && !measured(r, EB_PM_GPU_FREQ) &&
        !measured(r, EB_PM_GPU_MEM)) {
        eb_few_words(r->pm_reason[EB_PM_GPU_LOAD], 70, why, sizeof why);
        snprintf(lines[n++], sizeof lines[0], "%-18s %s", "GPU load, clock", why);
    }
    /* the hardware counters a VM or a locked-down kernel does not give */
    static const eb_counter_id hw[] = {EB_CTR_INSTRUCTIONS, EB_CTR_CACHE_MISSES,
                                       EB_CTR_L1D_READ_MISSES};
    char names[128] = "";
    eb_counter_status st = EB_CTR_OK;
    size_t used = 0;
    for (size_t k = 0; k < sizeof hw / sizeof *hw; k++) {
        eb_counter_status s = EB_CTR_OK;
        for (int i = 0; i < r->n_reps; i++)
            if (!r->reps[i].warmup) s = r->reps[i].counters[EB_PHASE_GEN].status[hw[k]];
        if (s > EB_CTR_RUSAGE) {
            st = s;
            if (used < sizeof names)
                used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                         used ? ", " : "", spaced(eb_counter_name(hw[k])));
        }
    }
    if (used) {
        if (st == EB_CTR_NO_PERMISSION)
            snprintf(lines[n++], sizeof lines[0],
                     "%-18s %s: no permission (perf_event_paranoid=%d)", "CPU counters", names,
                     r->perf_event_paranoid);
        else
            snprintf(lines[n++], sizeof lines[0], "%-18s %s: %s here", "CPU counters", names,
                     spaced(eb_counter_status_name(st)));
    }
    if (!r->has_roofline && r->roofline_note[0]) {
        eb_few_words(r->roofline_note, 70, why, sizeof why);
        snprintf(lines[n++], sizeof lines[0], "%-18s %s", "physical limits", why);
    }
    if (n == 0) return;
    fprintf(f, "\nnot measured here (--verbose gives each source's reason)\n");
    for (int i = 0; i < n; i++)
        fprintf(f, "  %s\n", lines[i]);
}

/* What else the machine did: other processes' CPU share and steal over the
 * measured runs, and the runs marked disturbed (left out of analyses). */
static void interference_line(FILE *f, const eb_run_result *r, int n_measured)
{
    const eb_stats *o = &r->pm_stats[EB_SPAN_RUN][EB_PM_OTHER_CPU];
    const eb_stats *st = &r->pm_stats[EB_SPAN_RUN][EB_PM_STEAL];
    if (o->n == 0) return;
    fprintf(f, "%-11s other processes %.1f%% of the CPUs (max %.1f%%), steal %.1f%%", "machine",
            o->mean, o->max, st->n ? st->mean : 0.0);
    const eb_stats *la = &r->pm_stats[EB_SPAN_RUN][EB_PM_LOADAVG];
    if (la->n) fprintf(f, ", load %.2f", la->mean);
    const eb_stats *sw = &r->pm_stats[EB_SPAN_RUN][EB_PM_SWAP_IO];
    if (sw->n && sw->max > 0) fprintf(f, ", %.0f pages swapped", sw->max);
    fputc('\n', f);
    if (r->n_disturbed == 0) return;
    const char *why = "";
    for (int i = 0; i < r->n_reps && !why[0]; i++)
        if (!r->reps[i].warmup && r->reps[i].disturbed) why = r->reps[i].disturbed_why;
    fprintf(f,
            "%-11s DISTURBED: %d of %d measured runs (%s); the analyses leave them out "
            "(--disturbed-above, --wait-idle)\n",
            "", r->n_disturbed, n_measured, why);
}

eb_status eb_write_text(FILE *f, const eb_run_result *r, eb_error *err)
{
    (void)err;
    eb_text_header(f, r);
    int n = 0;
    for (int i = 0; i < r->n_reps; i++)
        n += !r->reps[i].warmup;
    if (n == 0) {
        fprintf(f, "\nno measured runs completed\n");
        return EB_OK;
    }
    const eb_stats *s = r->stats;
    char note[96];
    fprintf(f, "\n%-11s %-22s %11s   %s\n", "", "", "median", "mean +- 95% interval");
    figure(f, "load", "latency [s]", &s[EB_M_LOAD_S], 1, 3, NULL);
    snprintf(note, sizeof note, "%d tokens in %.3f s", r->n_prompt, s[EB_M_PREFILL_S].median);
    figure(f, "prefill", "throughput [tok/s]", &s[EB_M_PREFILL_TPS], 1, 2, note);
    snprintf(note, sizeof note, "%d tokens in %.3f s", r->config.n_gen, s[EB_M_GEN_S].median);
    figure(f, "generation", "throughput [tok/s]", &s[EB_M_GEN_TPS], 1, 2, note);
    snprintf(note, sizeof note, "p99 %.2f ms", s[EB_M_ITL_P99_S].median * 1000);
    figure(f, "", "inter-token p50 [ms]", &s[EB_M_ITL_P50_S], 1000, 2, note);
    snprintf(note, sizeof note, "load + prefill; first token after %.3f s",
             s[EB_M_FIRST_TOKEN_S].median);
    figure(f, "request", "TTFT [s]", &s[EB_M_TTFT_S], 1, 3, note);
    figure(f, "", "end to end [s]", &s[EB_M_E2E_S], 1, 3, NULL);
    const eb_stats(*p)[EB_PM_COUNT] = r->pm_stats;
    note[0] = '\0';
    if (p[EB_SPAN_GEN][EB_PM_RSS_ANON].n > 0)
        snprintf(note, sizeof note, "at the end: anonymous %.1f, file-backed %.1f",
                 p[EB_SPAN_GEN][EB_PM_RSS_ANON].mean, p[EB_SPAN_GEN][EB_PM_RSS_FILE].mean);
    figure(f, "memory", "peak RSS [MiB]", &s[EB_M_PEAK_RSS_MB], 1, 1, note);
    figure(f, "", "GPU memory [MiB]", &p[EB_SPAN_GEN][EB_PM_GPU_MEM], 1, 1, NULL);
    figure(f, "", "swap used [MiB]", &p[EB_SPAN_GEN][EB_PM_SWAP_USED], 1, 1, NULL);
    if (measured(r, EB_PM_ENERGY_J)) energy_lines(f, r);
    figure(f, "clocks", "CPU, generation [MHz]", &p[EB_SPAN_GEN][EB_PM_CPU_FREQ], 1, 0, NULL);
    figure(f, "", "GPU, generation [MHz]", &p[EB_SPAN_GEN][EB_PM_GPU_FREQ], 1, 0, NULL);
    figure(f, "", "GPU load [%]", &p[EB_SPAN_GEN][EB_PM_GPU_LOAD], 1, 1, NULL);
    figure(f, "", "max temperature [C]", &p[EB_SPAN_GEN][EB_PM_TEMP_MAX], 1, 1, NULL);
    counter_line(f, r);
    interference_line(f, r, n);
    if (r->has_roofline) {
        const eb_roofline *rl = &r->roofline;
        if (isfinite(rl->gen_max_tps))
            fprintf(f, "%-11s generation %.0f%% of %.2f tok/s (memory bandwidth)", "limits",
                    100 * rl->gen_efficiency, rl->gen_max_tps);
        if (isfinite(rl->prefill_max_tps))
            fprintf(f, "%s prefill %.0f%% of %.1f tok/s (kernels)",
                    isfinite(rl->gen_max_tps) ? ";" : "limits     ", 100 * rl->prefill_efficiency,
                    rl->prefill_max_tps);
        if (isfinite(rl->gen_max_tps) || isfinite(rl->prefill_max_tps)) fputc('\n', f);
    }
    if (r->config.sustain_s > 0 && isfinite(r->sustain_ratio))
        fprintf(f, "%-11s %d windows of %.0f s; last / first generation t/s %.3f\n", "sustained",
                r->n_windows, r->config.window_s, r->sustain_ratio);
    if (r->n_reps > 0 && r->reps[r->n_reps - 1].has_throttled && r->reps[r->n_reps - 1].throttled)
        fprintf(f, "%-11s Raspberry Pi flags 0x%x during the last run\n", "throttled",
                r->reps[r->n_reps - 1].throttled);
    eb_dist_write_text(f, r);
    missing(f, r);
    return EB_OK;
}
