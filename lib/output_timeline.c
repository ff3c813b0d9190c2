/* The sampled timeline as CSV, for plotting memory and power over a run
 * (the study's Fig. 4): one row per sample, time from the start of the run,
 * the repetition and phase it falls in, and every channel. Series on
 * different clocks are merged by time; a channel not sampled in a row is
 * left empty. */
#include <math.h>

#include "edgebench/output.h"

#define MAX_SERIES 8

static const char *phase_at(const eb_run_result *r, double t, int *rep)
{
    *rep = -1;
    if (r->idle_t1 > r->idle_t0 && t >= r->idle_t0 && t <= r->idle_t1) return "idle";
    for (int i = 0; i < r->n_reps; i++)
        for (int s = 0; s < EB_SPAN_RUN; s++)
            if (t >= r->reps[i].t_start[s] && t <= r->reps[i].t_end[s]) {
                *rep = i;
                return eb_span_name((eb_span)s);
            }
    return "between";
}

eb_status eb_write_timeline(FILE *f, const eb_run_result *r, eb_error *err)
{
    const eb_sampler *smp = r->sampler;
    if (!smp) return eb_fail(err, EB_E_NOT_AVAILABLE, "no timeline: the sampler was off");
    int nch = eb_sampler_n_channels(smp);
    /* Distinct series, found by their time arrays. */
    const double *times[MAX_SERIES];
    size_t n[MAX_SERIES], pos[MAX_SERIES] = {0};
    int n_series = 0, ch_series[256];
    fputs("t_s,rep,phase", f);
    for (int c = 0; c < nch && c < 256; c++) {
        const double *t, *v;
        size_t stride, cnt;
        eb_sampler_series(smp, c, &t, &v, &stride, &cnt);
        int k = 0;
        while (k < n_series && times[k] != t)
            k++;
        if (k == n_series && n_series < MAX_SERIES) {
            times[n_series] = t;
            n[n_series++] = cnt;
        }
        ch_series[c] = k;
        const eb_channel *ch = eb_sampler_channel(smp, c);
        fprintf(f, ",%s [%s]%s", ch->name, eb_channel_unit(ch->kind),
                ch->estimate ? " ESTIMATE" : "");
    }
    fputc('\n', f);
    for (;;) {
        int k = -1;
        for (int i = 0; i < n_series; i++)
            if (pos[i] < n[i] && (k < 0 || times[i][pos[i]] < times[k][pos[k]])) k = i;
        if (k < 0) break;
        double t = times[k][pos[k]];
        int rep;
        const char *ph = phase_at(r, t, &rep);
        fprintf(f, "%.6f,", t - r->run_t0);
        if (rep >= 0) fprintf(f, "%d", rep);
        fprintf(f, ",%s", ph);
        for (int c = 0; c < nch && c < 256; c++) {
            fputc(',', f);
            if (ch_series[c] != k) continue;
            const double *tt, *v;
            size_t stride, cnt;
            eb_sampler_series(smp, c, &tt, &v, &stride, &cnt);
            double x = v[pos[k] * stride];
            if (!isnan(x)) fprintf(f, "%.6g", x);
        }
        fputc('\n', f);
        pos[k]++;
    }
    return ferror(f) ? eb_fail(err, EB_E_IO, "cannot write the timeline") : EB_OK;
}
