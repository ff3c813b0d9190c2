/* A sustained run (--duration S) told per window of --window seconds: the
 * measured repetitions whose generation ended in the window give its
 * generation and prefill t/s, hottest temperature, mean CPU clock, mean
 * generation power and throttling flags; then the last window's t/s over
 * the first's, and when a window first fell below 95% of the first. */
#include <math.h>
#include <stdlib.h>

#include "edgebench/measure.h"

static double nan_max(double a, double b)
{
    return isnan(a) ? b : isnan(b) ? a : fmax(a, b);
}

eb_status eb_sustained_windows(eb_run_result *res)
{
    const eb_run_config *cfg = &res->config;
    double w = cfg->window_s > 0 ? cfg->window_s : 60;
    double t0 = NAN, t_end = 0;
    for (int i = 0; i < res->n_reps; i++) {
        const eb_rep *r = &res->reps[i];
        if (r->warmup) continue;
        if (isnan(t0)) t0 = r->t_start[EB_SPAN_RUN];
        t_end = r->t_end[EB_SPAN_GEN];
    }
    res->sustain_ratio = res->below95_s = NAN;
    if (isnan(t0)) return EB_OK;
    int n = (int)ceil((t_end - t0) / w);
    if (n < 1) n = 1;
    free(res->windows);
    res->windows = calloc((size_t)n, sizeof *res->windows);
    if (!res->windows) return EB_E_NO_MEMORY;
    res->n_windows = n;
    double *gen_tok = calloc((size_t)n * 6, sizeof *gen_tok);
    if (!gen_tok) return EB_E_NO_MEMORY;
    double *gen_s = gen_tok + n, *pp_tok = gen_s + n, *pp_s = pp_tok + n, *freq = pp_s + n,
           *watts = freq + n;
    int *n_freq = calloc((size_t)n * 2, sizeof *n_freq), *n_watts = n_freq ? n_freq + n : NULL;
    if (!n_freq) {
        free(gen_tok);
        return EB_E_NO_MEMORY;
    }
    for (int k = 0; k < n; k++) {
        eb_window *x = &res->windows[k];
        x->t0_s = k * w;
        x->t1_s = fmin((k + 1) * w, t_end - t0);
        x->temp_max_c = NAN;
    }
    int streams = cfg->n_parallel > 1 ? cfg->n_parallel : 1;
    for (int i = 0; i < res->n_reps; i++) {
        const eb_rep *r = &res->reps[i];
        if (r->warmup) continue;
        int k = (int)((r->t_end[EB_SPAN_GEN] - t0) / w);
        if (k >= n) k = n - 1;
        eb_window *x = &res->windows[k];
        x->n_reps++;
        gen_tok[k] += (double)streams * r->n_gen;
        gen_s[k] += r->gen_s;
        pp_tok[k] += (double)streams * r->n_prompt;
        pp_s[k] += r->prefill_s;
        x->temp_max_c = nan_max(x->temp_max_c, r->pm[EB_SPAN_GEN][EB_PM_TEMP_MAX]);
        if (isfinite(r->pm[EB_SPAN_GEN][EB_PM_CPU_FREQ]))
            freq[k] += r->pm[EB_SPAN_GEN][EB_PM_CPU_FREQ], n_freq[k]++;
        if (isfinite(r->pm[EB_SPAN_GEN][EB_PM_MEAN_W]))
            watts[k] += r->pm[EB_SPAN_GEN][EB_PM_MEAN_W], n_watts[k]++;
        if (r->has_throttled) x->has_throttled = true, x->throttled |= r->throttled;
    }
    for (int k = 0; k < n; k++) {
        eb_window *x = &res->windows[k];
        x->gen_tps = gen_s[k] > 0 ? gen_tok[k] / gen_s[k] : NAN;
        x->prefill_tps = pp_s[k] > 0 ? pp_tok[k] / pp_s[k] : NAN;
        x->cpu_freq_mhz = n_freq[k] ? freq[k] / n_freq[k] : NAN;
        x->gen_mean_w = n_watts[k] ? watts[k] / n_watts[k] : NAN;
    }
    free(gen_tok);
    free(n_freq);
    double first = res->windows[0].gen_tps;
    for (int k = n - 1; k >= 0 && isnan(res->sustain_ratio); k--)
        if (isfinite(res->windows[k].gen_tps) && first > 0)
            res->sustain_ratio = res->windows[k].gen_tps / first;
    for (int k = 1; k < n && isnan(res->below95_s); k++)
        if (res->windows[k].gen_tps < 0.95 * first) res->below95_s = res->windows[k].t0_s;
    return EB_OK;
}
