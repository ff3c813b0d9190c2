/* The sampled timeline as CSV, for plotting memory and power over a run
 * (the study's Fig. 4): one row per sample, time from the start of the run,
 * the repetition and phase it falls in, and every channel. Series on
 * different clocks are merged by time; a channel not sampled in a row is
 * left empty. */
#include <cjson/cJSON.h>
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

/* Calls row() for every sample time of the merged series, with each
 * channel's value at that time (NAN where the channel has none). */
static void walk(const eb_run_result *r, int nch, double *vals,
                 void (*row)(void *ctx, double t, const double *vals), void *ctx)
{
    const eb_sampler *smp = r->sampler;
    /* Distinct series, found by their time arrays. */
    const double *times[MAX_SERIES];
    size_t n[MAX_SERIES], pos[MAX_SERIES] = {0};
    int n_series = 0, ch_series[256];
    for (int c = 0; c < nch; c++) {
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
    }
    for (;;) {
        int k = -1;
        for (int i = 0; i < n_series; i++)
            if (pos[i] < n[i] && (k < 0 || times[i][pos[i]] < times[k][pos[k]])) k = i;
        if (k < 0) break;
        for (int c = 0; c < nch; c++) {
            vals[c] = NAN;
            if (ch_series[c] != k) continue;
            const double *tt, *v;
            size_t stride, cnt;
            eb_sampler_series(smp, c, &tt, &v, &stride, &cnt);
            vals[c] = v[pos[k] * stride];
        }
        row(ctx, times[k][pos[k]], vals);
        pos[k]++;
    }
}

typedef struct csv_ctx {
    FILE *f;
    const eb_run_result *r;
    int nch;
} csv_ctx;

static void csv_row(void *ctx, double t, const double *vals)
{
    csv_ctx *c = ctx;
    int rep;
    const char *ph = phase_at(c->r, t, &rep);
    fprintf(c->f, "%.6f,", t - c->r->run_t0);
    if (rep >= 0) fprintf(c->f, "%d", rep);
    fprintf(c->f, ",%s", ph);
    for (int i = 0; i < c->nch; i++) {
        fputc(',', c->f);
        if (!isnan(vals[i])) fprintf(c->f, "%.6g", vals[i]);
    }
    fputc('\n', c->f);
}

static void channel_label(const eb_channel *ch, char *out, size_t cap)
{
    snprintf(out, cap, "%s [%s]%s", ch->name, eb_channel_unit(ch->kind),
             ch->estimate ? " ESTIMATE" : "");
}

eb_status eb_write_timeline(FILE *f, const eb_run_result *r, eb_error *err)
{
    const eb_sampler *smp = r->sampler;
    if (!smp) return eb_fail(err, EB_E_NOT_AVAILABLE, "no timeline: the sampler was off");
    int nch = eb_sampler_n_channels(smp);
    if (nch > 256) nch = 256;
    double vals[256];
    fputs("t_s,rep,phase", f);
    for (int c = 0; c < nch; c++) {
        char label[200];
        channel_label(eb_sampler_channel(smp, c), label, sizeof label);
        fprintf(f, ",%s", label);
    }
    fputc('\n', f);
    csv_ctx ctx = {f, r, nch};
    walk(r, nch, vals, csv_row, &ctx);
    return ferror(f) ? eb_fail(err, EB_E_IO, "cannot write the timeline") : EB_OK;
}

typedef struct json_ctx {
    cJSON *rows;
    const eb_run_result *r;
    int nch;
} json_ctx;

static void json_row(void *ctx, double t, const double *vals)
{
    json_ctx *c = ctx;
    cJSON *row = cJSON_CreateArray();
    cJSON_AddItemToArray(row, cJSON_CreateNumber(t - c->r->run_t0));
    for (int i = 0; i < c->nch; i++)
        cJSON_AddItemToArray(row,
                             isnan(vals[i]) ? cJSON_CreateNull() : cJSON_CreateNumber(vals[i]));
    cJSON_AddItemToArray(c->rows, row);
}

cJSON *eb_timeline_to_json(const eb_run_result *r)
{
    const eb_sampler *smp = r->sampler;
    if (!smp) return NULL;
    int nch = eb_sampler_n_channels(smp);
    if (nch > 256) nch = 256;
    double vals[256];
    cJSON *o = cJSON_CreateObject();
    cJSON *cols = cJSON_AddArrayToObject(o, "columns");
    cJSON_AddItemToArray(cols, cJSON_CreateString("t_s"));
    for (int c = 0; c < nch; c++) {
        char label[200];
        channel_label(eb_sampler_channel(smp, c), label, sizeof label);
        cJSON_AddItemToArray(cols, cJSON_CreateString(label));
    }
    json_ctx ctx = {cJSON_AddArrayToObject(o, "rows"), r, nch};
    walk(r, nch, vals, json_row, &ctx);
    return o;
}
