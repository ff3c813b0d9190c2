#include "edgebench/measure.h"

#include <errno.h>
#include <math.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/knobs.h"
#include "edgebench/memory.h"
#include "edgebench/meter.h"
#include "edgebench/sensors.h"
#include "edgebench/util.h"
#include "edgebench/vcio.h"

void eb_measure_clear(double pm[EB_PM_COUNT])
{
    for (int k = 0; k < EB_PM_COUNT; k++)
        pm[k] = NAN;
}

void eb_measure_span_memory(const char *root, double pm[EB_PM_COUNT])
{
    eb_proc_mem pm_proc;
    if (eb_proc_mem_read(root, &pm_proc, NULL) == EB_OK) {
        pm[EB_PM_PEAK_RSS] = (double)pm_proc.hwm_kb / 1024.0;
        pm[EB_PM_RSS_ANON] = (double)pm_proc.rss_anon_kb / 1024.0;
        pm[EB_PM_RSS_FILE] = (double)pm_proc.rss_file_kb / 1024.0;
    }
    eb_pss pss;
    if (eb_pss_read(root, &pss, NULL) == EB_OK) pm[EB_PM_PSS] = (double)pss.pss_kb / 1024.0;
    char path[1024], line[128];
    eb_path_join(path, sizeof path, root, "/proc/loadavg");
    if (eb_read_line(path, line, sizeof line)) pm[EB_PM_LOADAVG] = atof(line);
    eb_meminfo mi;
    if (eb_meminfo_full(root, &mi, NULL) == EB_OK) {
        pm[EB_PM_MEM_AVAILABLE] = (double)mi.available_kb / 1024.0;
        pm[EB_PM_SWAP_USED] = (double)(mi.swap_total_kb - mi.swap_free_kb) / 1024.0;
        if (mi.has_nvmap) pm[EB_PM_NVMAP] = (double)mi.nvmap_kb / 1024.0;
    }
}

bool eb_measure_max_temp(const char *root, double *celsius)
{
    bool any = false;
    for (int z = 0; z < 64; z++) {
        char rel[96], path[1024], v[32];
        snprintf(rel, sizeof rel, "/sys/class/thermal/thermal_zone%d/temp", z);
        eb_path_join(path, sizeof path, root, rel);
        if (!eb_read_line(path, v, sizeof v)) continue;
        double c = atof(v) / 1000.0;
        if (!any || c > *celsius) *celsius = c;
        any = true;
    }
    return any;
}

double eb_measure_swap_pages(const char *root)
{
    char path[1024], line[256];
    eb_path_join(path, sizeof path, root, "/proc/vmstat");
    FILE *f = fopen(path, "r");
    if (!f) return NAN;
    double pages = 0;
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long v;
        if (sscanf(line, "pswpin %llu", &v) == 1 || sscanf(line, "pswpout %llu", &v) == 1)
            pages += (double)v, found++;
    }
    fclose(f);
    return found ? pages : NAN;
}

double eb_wait_idle(const eb_run_config *cfg)
{
    double t0 = eb_now(), other, steal;
    while (eb_cpu_others(cfg->root, 0.5, &other, &steal) &&
           (other > cfg->disturbed_above_pct || steal > cfg->disturbed_above_pct) &&
           eb_now() - t0 < cfg->wait_idle_s) {
    }
    return eb_now() - t0;
}

double eb_cool_down(const eb_run_config *cfg)
{
    double t0 = eb_now(), c;
    if (cfg->cool_below_c > 0 && eb_measure_max_temp(cfg->root, &c)) {
        while (c >= cfg->cool_below_c && eb_now() - t0 < cfg->cool_max_wait_s) {
            eb_sleep(0.5);
            if (!eb_measure_max_temp(cfg->root, &c)) break;
        }
    } else if (cfg->pause_s > 0) {
        eb_sleep(cfg->pause_s);
    }
    return eb_now() - t0;
}

void eb_measure_cpu_header(const char *root, eb_run_result *res)
{
    char path[1024];
    eb_path_join(path, sizeof path, root, "/sys/devices/system/cpu/online");
    if (!eb_read_line(path, res->cpus_online, sizeof res->cpus_online)) res->cpus_online[0] = '\0';
    free(res->governors);
    res->governors = eb_governors_describe(root);
}

/* Energy of [a, b] from the chosen total. */
typedef struct energy_ctx {
    const eb_run_result *res;
    const eb_meter *meter; /* non-NULL: the meter is the total */
} energy_ctx;

static bool span_energy_est(const energy_ctx *e, double a, double b, eb_energy_est *est,
                            double *u_sys, bool *published)
{
    if (e->meter) {
        double shift = e->res->wall_minus_mono + e->res->config.meter_offset_s;
        *u_sys = 0; /* a logged meter's accuracy is not known here */
        *published = false;
        return e->meter->n >= 2 && eb_energy_between_est(EB_CH_POWER, e->meter->t, e->meter->w, 1,
                                                         e->meter->n, a + shift, b + shift, 0, est);
    }
    return e->res->sampler &&
           eb_sampler_total_energy_est(e->res->sampler, a, b, est, u_sys, published);
}

static bool span_energy(const energy_ctx *e, double a, double b, double *j, double *peak)
{
    eb_energy_est est;
    double u_sys;
    bool pub;
    if (!span_energy_est(e, a, b, &est, &u_sys, &pub)) return false;
    *j = est.joules;
    if (peak) *peak = est.peak_w;
    return true;
}

static void rep_energy(const energy_ctx *e, eb_rep *w, double idle_w)
{
    for (int s = 0; s < EB_SPAN_COUNT; s++) {
        double *pm = w->pm[s];
        double a = w->t_start[s], b = w->t_end[s], u_sys;
        eb_energy_est est;
        bool pub;
        if (!(b > a) || !span_energy_est(e, a, b, &est, &u_sys, &pub)) continue;
        double j = est.joules;
        pm[EB_PM_ENERGY_J] = j;
        pm[EB_PM_MEAN_W] = j / (b - a);
        pm[EB_PM_PEAK_W] = est.peak_w;
        pm[EB_PM_ENERGY_U_SYS_J] = e->res->energy_estimate ? NAN : u_sys;
        pm[EB_PM_ENERGY_U_RAND_J] = e->res->energy_estimate ? NAN : est.u_integration_j;
        pm[EB_PM_ENERGY_READINGS] = (double)est.n_inside;
        pm[EB_PM_ENERGY_INTERVAL_MS] = est.interval_s * 1000.0;
        if (!isnan(idle_w)) pm[EB_PM_ENERGY_ABOVE_IDLE_J] = j - idle_w * (b - a);
        int tokens = s == EB_SPAN_PREFILL ? w->n_prompt : s == EB_SPAN_GEN ? w->n_gen : 0;
        double tps = s == EB_SPAN_PREFILL ? w->prefill_tps : s == EB_SPAN_GEN ? w->gen_tps : 0;
        if (tokens > 0 && tps > 0) {
            pm[EB_PM_J_PER_TOKEN] = j / tokens;
            pm[EB_PM_ACTION] = j / tps; /* the study's S = E / throughput */
        }
    }
}

/* Sampled channels per span: mean, max, energy; and the derived figures. */
static void rep_channels(const eb_sampler *smp, eb_rep *w)
{
    int nch = eb_sampler_n_channels(smp);
    w->channel = malloc((size_t)nch * EB_SPAN_COUNT * 3 * sizeof *w->channel);
    /* each channel's mean and max over a span, for the device's state */
    double *means = malloc(2 * (size_t)(nch ? nch : 1) * sizeof *means);
    if (!w->channel || !means) {
        free(means);
        return;
    }
    double *maxes = means + nch;
    for (int s = 0; s < EB_SPAN_COUNT; s++) {
        double a = w->t_start[s], b = w->t_end[s];
        for (int c = 0; c < nch; c++) {
            double *out = w->channel + ((size_t)c * EB_SPAN_COUNT + (size_t)s) * 3;
            double mean = NAN, max = NAN, j = NAN;
            const eb_channel *ch = eb_sampler_channel(smp, c);
            if (!eb_sampler_channel_summary(smp, c, a, b, &mean, &max)) mean = max = NAN;
            means[c] = mean, maxes[c] = max;
            if ((ch->kind == EB_CH_ENERGY || ch->kind == EB_CH_POWER) &&
                !eb_sampler_channel_energy(smp, c, a, b, &j, &max))
                j = max = NAN;
            if (ch->kind == EB_CH_ENERGY) mean = j / (b - a); /* watts, not joules */
            out[0] = mean;
            out[1] = max;
            out[2] = j;
        }
        eb_window_state ws;
        eb_window_state_of(smp, means, maxes, &ws);
        const struct {
            int pm;
            double v;
        } derived[] = {{EB_PM_CPU_FREQ, ws.cpu_freq_mhz},  {EB_PM_TEMP_MAX, ws.temp_max_c},
                       {EB_PM_GPU_MEM, ws.gpu_memory_mib}, {EB_PM_GPU_FREQ, ws.gpu_freq_mhz},
                       {EB_PM_GPU_LOAD, ws.gpu_load_pct},  {EB_PM_OTHER_CPU, ws.other_cpu_pct},
                       {EB_PM_STEAL, ws.steal_pct},        {EB_PM_SAMPLED_RSS_MAX, ws.rss_max_mib}};
        /* a figure no channel has keeps its reason (NaN) */
        for (size_t k = 0; k < sizeof derived / sizeof derived[0]; k++)
            if (!isnan(derived[k].v)) w->pm[s][derived[k].pm] = derived[k].v;
    }
    free(means);
}

/* Why the device total is missing: what each power backend said. */
static void no_total_reason(const eb_sampler *smp, char *out, size_t cap)
{
    size_t len = (size_t)snprintf(out, cap, "no power sensor found (");
    for (size_t i = 0; i < eb_sampler_probe_count(smp) && len < cap; i++) {
        const eb_probe_report *p = eb_sampler_probe(smp, i);
        if (p->result == EB_PROBE_FOUND) continue;
        /* a meter nobody asked for is no reason */
        if (strcmp(p->source, eb_source_meter.name) == 0 && strstr(p->reason, "not asked"))
            continue;
        len += (size_t)snprintf(out + len, cap - len, "%s%s: %s", out[len - 1] == '(' ? "" : "; ",
                                p->source, p->reason);
    }
    if (len < cap) snprintf(out + len, cap - len, ")");
}

/* A repetition during which other processes took more of the CPUs than
 * the threshold, or the hypervisor stole as much, is marked: its figures
 * stay, the analyses leave it out by default. */
static void mark_disturbed(const eb_run_config *cfg, eb_rep *w, int *n_disturbed)
{
    double other = w->pm[EB_SPAN_RUN][EB_PM_OTHER_CPU], steal = w->pm[EB_SPAN_RUN][EB_PM_STEAL];
    double limit = cfg->disturbed_above_pct;
    w->disturbed = (other > limit) || (steal > limit);
    if (isnan(other) && isnan(steal)) {
        w->pm[EB_SPAN_RUN][EB_PM_DISTURBED] = NAN; /* not known */
        return;
    }
    w->pm[EB_SPAN_RUN][EB_PM_DISTURBED] = w->disturbed;
    if (!w->disturbed) return;
    if (!w->warmup) (*n_disturbed)++;
    snprintf(w->disturbed_why, sizeof w->disturbed_why,
             other > limit ? "other processes took %.0f%% of the CPUs (above %.0f%%)"
                           : "the hypervisor stole %.0f%% of the CPUs (above %.0f%%)",
             other > limit ? other : steal, limit);
}

static void set_reason(eb_run_result *res, eb_pm m, const char *why)
{
    snprintf(res->pm_reason[m], sizeof res->pm_reason[m], "%s", why);
}

bool eb_pm_is_energy(eb_pm m)
{
    return m == EB_PM_ENERGY_J || m == EB_PM_ENERGY_ABOVE_IDLE_J || m == EB_PM_MEAN_W ||
           m == EB_PM_J_PER_TOKEN || m == EB_PM_ACTION || m == EB_PM_CALIBRATED_J ||
           m == EB_PM_CALIBRATED_J_PER_TOKEN;
}

double eb_result_energy_u95(const eb_run_result *r, eb_span s, eb_pm m, bool *sys_left_out)
{
    const eb_stats *st = &r->pm_stats[s][m], *ej = &r->pm_stats[s][EB_PM_ENERGY_J];
    const eb_stats *us = &r->pm_stats[s][EB_PM_ENERGY_U_SYS_J],
                   *ur = &r->pm_stats[s][EB_PM_ENERGY_U_RAND_J];
    if (sys_left_out) *sys_left_out = r->energy_accuracy_unpublished;
    if (m == EB_PM_CALIBRATED_J || m == EB_PM_CALIBRATED_J_PER_TOKEN) {
        /* the calibration's own bound holds the sensors' and the fit's */
        const eb_stats *cj = &r->pm_stats[s][EB_PM_CALIBRATED_J],
                       *cu = &r->pm_stats[s][EB_PM_CALIBRATED_U_J];
        if (sys_left_out) *sys_left_out = false;
        if (st->n == 0 || cj->n == 0 || cu->n == 0 || cj->mean == 0) return NAN;
        double ci = st->n > 1 ? 0.5 * (st->ci95_hi - st->ci95_lo) : 0;
        return eb_energy_u95(ci, st->n, cu->mean * fabs(st->mean / cj->mean), 0);
    }
    if (!eb_pm_is_energy(m) || st->n == 0 || r->energy_estimate || ej->n == 0 || ur->n == 0 ||
        ej->mean == 0)
        return NAN;
    double ci = st->n > 1 ? 0.5 * (st->ci95_hi - st->ci95_lo) : 0;
    double sys = us->n ? us->mean : NAN, rnd = ur->mean;
    if (m == EB_PM_ENERGY_ABOVE_IDLE_J) {
        /* the energy's own bounds, and idle power's over the span's length */
        double dur =
            r->pm_stats[s][EB_PM_MEAN_W].n ? ej->mean / r->pm_stats[s][EB_PM_MEAN_W].mean : NAN;
        double half = eb_energy_u95(ci, st->n, sys, rnd);
        double idle = r->idle_w_u95 * dur;
        return isfinite(idle) ? sqrt(half * half + idle * idle) : half;
    }
    double scale = fabs(st->mean) / fabs(ej->mean); /* the figure is proportional to the energy */
    return eb_energy_u95(ci, st->n, sys * scale, rnd * scale);
}

/* Idle power's interval: the spread of the window's fifths, and the
 * sensor's bounds over the whole window; unsteady when the two halves
 * differ by more than it. */
static void idle_interval(const energy_ctx *e, eb_run_result *res)
{
    double t0 = res->idle_t0, t1 = res->idle_t1, len = t1 - t0, fifth[5];
    res->idle_w_u95 = NAN;
    for (int k = 0; k < 5; k++) {
        double j;
        if (!span_energy(e, t0 + len * k / 5, t0 + len * (k + 1) / 5, &j, NULL)) return;
        fifth[k] = j / (len / 5);
    }
    eb_stats st;
    eb_stats_compute(fifth, 5, &st);
    eb_energy_est est;
    double u_sys;
    bool pub;
    if (!span_energy_est(e, t0, t1, &est, &u_sys, &pub)) return;
    double inst = eb_energy_u95(0, 1, u_sys / len, est.u_integration_j / len);
    double ci = 0.5 * (st.ci95_hi - st.ci95_lo);
    res->idle_w_u95 = sqrt(ci * ci + inst * inst);
    double first = (fifth[0] + fifth[1] + 0.5 * fifth[2]) / 2.5;
    double second = (0.5 * fifth[2] + fifth[3] + fifth[4]) / 2.5;
    res->idle_unsteady = fabs(first - second) > res->idle_w_u95;
}

eb_status eb_measure_finish(eb_run_result *res, eb_error *err)
{
    const eb_run_config *cfg = &res->config;
    eb_status st = EB_OK;
    eb_meter meter = {0};
    energy_ctx e = {.res = res};
    char energy_why[640] = "";
    if (cfg->meter_csv) {
        st = eb_meter_load(cfg->meter_csv, &meter, err);
        if (st == EB_OK) {
            e.meter = &meter;
            snprintf(res->energy_source, sizeof res->energy_source, "external meter %s",
                     cfg->meter_csv);
        } else {
            snprintf(energy_why, sizeof energy_why, "meter log unusable: %s", err->msg);
        }
    } else if (!res->sampler) {
        snprintf(energy_why, sizeof energy_why, "sampler off (--no-sampler)");
    } else if (!eb_sampler_has_total(res->sampler)) {
        no_total_reason(res->sampler, energy_why, sizeof energy_why);
    } else {
        snprintf(res->energy_source, sizeof res->energy_source, "%s",
                 eb_sampler_total_source(res->sampler));
        res->energy_estimate = eb_sampler_total_is_estimate(res->sampler);
    }

    res->idle_w = NAN;
    double j;
    res->idle_w_u95 = NAN;
    if (res->idle_t1 > res->idle_t0 && span_energy(&e, res->idle_t0, res->idle_t1, &j, NULL)) {
        res->idle_w = j / (res->idle_t1 - res->idle_t0);
        if (!res->energy_estimate) idle_interval(&e, res);
    }
    if (e.meter)
        snprintf(res->energy_accuracy, sizeof res->energy_accuracy,
                 "meter log: accuracy not known to edgebench");
    else if (res->sampler && eb_sampler_has_total(res->sampler))
        eb_sampler_total_accuracy(res->sampler, res->energy_accuracy, sizeof res->energy_accuracy);
    for (int i = 0; i < res->n_reps; i++) {
        if (e.meter || (res->sampler && eb_sampler_has_total(res->sampler)))
            rep_energy(&e, &res->reps[i], res->idle_w);
        if (res->sampler) rep_channels(res->sampler, &res->reps[i]);
    }
    for (int i = 0; i < res->n_reps; i++)
        mark_disturbed(cfg, &res->reps[i], &res->n_disturbed);
    /* whether the intervals can hold the sensor's accuracy */
    eb_energy_est est;
    double u_sys;
    bool pub = false;
    res->energy_accuracy_unpublished =
        !(res->n_reps > 0 &&
          span_energy_est(&e, res->reps[0].t_start[EB_SPAN_RUN], res->reps[0].t_end[EB_SPAN_RUN],
                          &est, &u_sys, &pub) &&
          pub);
    if (e.meter && res->n_reps > 0 && isnan(res->reps[0].pm[EB_SPAN_RUN][EB_PM_ENERGY_J]))
        snprintf(energy_why, sizeof energy_why,
                 "the meter log (%.3f..%.3f) does not cover the run (starts %.3f, Unix seconds)",
                 meter.t[0], meter.t[meter.n - 1], res->reps[0].t_start[0] + res->wall_minus_mono);
    if (!energy_why[0] && res->n_reps > 0 && isnan(res->reps[0].pm[EB_SPAN_RUN][EB_PM_ENERGY_J]))
        snprintf(energy_why, sizeof energy_why, "a power sensor read failed during the run%s%s",
                 res->sampler && eb_sampler_total_error(res->sampler)[0] ? ": " : "",
                 res->sampler ? eb_sampler_total_error(res->sampler) : "");
    eb_meter_free(&meter);

    /* Reasons, for whatever is missing in every measured run. */
    for (int m = 0; m < EB_PM_COUNT; m++) {
        if (m <= EB_PM_ENERGY_INTERVAL_MS) set_reason(res, (eb_pm)m, energy_why);
        if (m >= EB_PM_ONBOARD_J && m <= EB_PM_CALIBRATED_J_PER_TOKEN)
            set_reason(res, (eb_pm)m, "no calibration of this device (edgebench calibrate)");
        if (m == EB_PM_ENERGY_ABOVE_IDLE_J && isnan(res->idle_w) && !energy_why[0])
            set_reason(res, (eb_pm)m,
                       cfg->idle_s > 0 ? "idle power not measured"
                                       : "idle power not measured "
                                         "(--idle-s 0)");
    }
    if (!energy_why[0]) {
        char why[640];
        snprintf(why, sizeof why, "%s",
                 res->energy_estimate ? "the energy is an estimate: no interval"
                                      : res->energy_accuracy);
        if (res->energy_estimate) {
            set_reason(res, EB_PM_ENERGY_U_SYS_J, why);
            set_reason(res, EB_PM_ENERGY_U_RAND_J, why);
        }
    }
    set_reason(res, EB_PM_PEAK_RSS, "no VmHWM in /proc/self/status");
    set_reason(res, EB_PM_SAMPLED_RSS_MAX, res->sampler ? "no /proc/self/statm" : "sampler off");
    set_reason(res, EB_PM_RSS_ANON, "no RssAnon in /proc/self/status");
    set_reason(res, EB_PM_RSS_FILE, "no RssFile in /proc/self/status");
    set_reason(res, EB_PM_PSS, "no /proc/self/smaps_rollup (kernel < 4.14?)");
    set_reason(res, EB_PM_MEM_AVAILABLE, "no MemAvailable in /proc/meminfo");
    set_reason(res, EB_PM_SWAP_USED, "no SwapTotal in /proc/meminfo");
    set_reason(res, EB_PM_NVMAP, "not a Jetson (no NvMapMemUsed in /proc/meminfo)");
    set_reason(res, EB_PM_GPU_MEM,
               "no GPU memory sensor (no NVML GPU, no Jetson NvMapMemUsed, no amdgpu memory file, "
               "no DRM client stats)");
    set_reason(res, EB_PM_GPU_LOAD,
               "no GPU load sensor (no NVML GPU, no Jetson GPU load file, no amdgpu busy file, no "
               "DRM client stats)");
    set_reason(
        res, EB_PM_GPU_FREQ,
        "no GPU clock (no NVML GPU, no Jetson GPU devfreq, no amdgpu, i915 or xe clock file)");
    set_reason(res, EB_PM_CPU_FREQ, "no cpufreq (common in VMs)");
    set_reason(res, EB_PM_TEMP_MAX, "no thermal zones");
    const char *no_load = res->sampler ? "no /proc/stat" : "sampler off";
    set_reason(res, EB_PM_OTHER_CPU, no_load);
    set_reason(res, EB_PM_STEAL, no_load);
    set_reason(res, EB_PM_DISTURBED, no_load);
    set_reason(res, EB_PM_SWAP_IO, "no pswpin/pswpout in /proc/vmstat");
    set_reason(res, EB_PM_LOADAVG, "no /proc/loadavg");

    double *vals = calloc((size_t)res->n_reps + 1, sizeof *vals);
    if (!vals) return st != EB_OK ? st : eb_fail(err, EB_E_NO_MEMORY, "statistics");
    for (int s = 0; s < EB_SPAN_COUNT; s++)
        for (int m = 0; m < EB_PM_COUNT; m++) {
            size_t n = 0;
            for (int i = 0; i < res->n_reps; i++)
                if (!res->reps[i].warmup && !isnan(res->reps[i].pm[s][m]))
                    vals[n++] = res->reps[i].pm[s][m];
            eb_stats_compute(vals, n, &res->pm_stats[s][m]);
            if (n > 0 && (s == EB_SPAN_PREFILL || s == EB_SPAN_GEN))
                res->pm_reason[m][0] = '\0'; /* available */
        }
    free(vals);
    if (res->sampler) eb_sampler_timing_get(res->sampler, &res->timing);
    return st;
}
