/* The quantization effect (the study's Figs. 11 and 12): each quantized
 * configuration beside its 16-bit base measured on the same device with the
 * same settings, and each quantized model's perplexity beside its base's on
 * the same corpus and context. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edgebench/analyze.h"

bool eb_quant_is_base(const char *q)
{
    return !strcasecmp(q, "F16") || !strcasecmp(q, "BF16") || !strcasecmp(q, "F32") ||
           !strcasecmp(q, "all F32");
}

/* F16 first, then BF16, then F32: the study compared against 16-bit. */
static int base_rank(const char *q)
{
    return !strcasecmp(q, "F16") ? 0 : !strcasecmp(q, "BF16") ? 1 : eb_quant_is_base(q) ? 2 : 9;
}

static const int qe_av[EB_QE_COUNT] = {EB_AV_PEAK_RSS, EB_AV_PREFILL_TPS, EB_AV_GEN_TPS,
                                       EB_AV_PREFILL_JPT, EB_AV_GEN_JPT};

static bool same_settings(const eb_config *a, const eb_config *b)
{
    return !strcmp(a->device, b->device) && !strcmp(a->model, b->model) &&
           a->threads_prefill == b->threads_prefill && a->threads_gen == b->threads_gen &&
           !strcmp(a->governor, b->governor) && !strcmp(a->power_mode, b->power_mode) &&
           a->gpu_layers == b->gpu_layers;
}

/* ---- the quality view, by column name ---- */

typedef struct qcols {
    const eb_table *t;
    int device, model, quant, sha, n_ctx, ppl, kl, top1, base_quant, synthetic;
} qcols;

static int col(const eb_table *t, const char *name)
{
    for (size_t c = 0; t && c < t->ncol; c++)
        if (!strcmp(t->name[c], name)) return (int)c;
    return -1;
}

static const char *cell(const qcols *q, size_t row, int c)
{
    return c < 0 ? NULL : q->t->cell[row * q->t->ncol + (size_t)c];
}

static bool cell_is(const qcols *q, size_t row, int c, const char *want)
{
    const char *v = cell(q, row, c);
    return v && want && !strcmp(v, want);
}

static double cell_num(const qcols *q, size_t row, int c)
{
    const char *v = cell(q, row, c);
    return v ? strtod(v, NULL) : NAN;
}

/* The newest row of this model and type (on device when one is there);
 * when like >= 0, also on like's corpus and context. -1 when none. */
static long find_quality(const qcols *q, const char *device, const char *model, const char *quant,
                         long like)
{
    long best = -1;
    bool best_same_device = false;
    for (size_t r = 0; q->t && r < q->t->nrow; r++) {
        if (!cell_is(q, r, q->model, model) || !cell_is(q, r, q->quant, quant)) continue;
        if (like >= 0 && (!cell_is(q, r, q->sha, cell(q, (size_t)like, q->sha)) ||
                          !cell_is(q, r, q->n_ctx, cell(q, (size_t)like, q->n_ctx))))
            continue;
        bool same = cell_is(q, r, q->device, device);
        if (best < 0 || same || !best_same_device) {
            best = (long)r; /* rows come oldest first: a later one is newer */
            best_same_device = same;
        }
    }
    return best;
}

static void fill_quality(const qcols *q, eb_quant_effect *e)
{
    e->ppl = e->base_ppl = e->kl_mean = e->top1 = NAN;
    long r = find_quality(q, e->device, e->model, e->quant, -1);
    if (r < 0) return;
    e->ppl = cell_num(q, (size_t)r, q->ppl);
    if (cell_is(q, (size_t)r, q->synthetic, "1")) e->synthetic = true;
    if (cell_is(q, (size_t)r, q->base_quant, e->base_quant)) {
        e->kl_mean = cell_num(q, (size_t)r, q->kl);
        e->top1 = cell_num(q, (size_t)r, q->top1);
    }
    long b = find_quality(q, e->device, e->model, e->base_quant, r);
    if (b >= 0) e->base_ppl = cell_num(q, (size_t)b, q->ppl);
}

static eb_status push(eb_quant_effect **out, size_t *n, size_t *cap, eb_error *err)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        eb_quant_effect *p = realloc(*out, nc * sizeof *p);
        if (!p) return eb_fail(err, EB_E_NO_MEMORY, "quantization effect rows");
        *out = p;
        *cap = nc;
    }
    memset(&(*out)[*n], 0, sizeof **out);
    (*n)++;
    return EB_OK;
}

eb_status eb_quant_effects(const eb_config_set *set, const eb_table *quality, eb_quant_effect **out,
                           size_t *n_out, eb_error *err)
{
    *out = NULL;
    *n_out = 0;
    size_t cap = 0;
    qcols q = {.t = quality,
               .device = col(quality, "device"),
               .model = col(quality, "model"),
               .quant = col(quality, "quant"),
               .sha = col(quality, "corpus_sha256"),
               .n_ctx = col(quality, "n_ctx"),
               .ppl = col(quality, "ppl"),
               .kl = col(quality, "kl_mean"),
               .top1 = col(quality, "top1_agreement"),
               .base_quant = col(quality, "base_quant"),
               .synthetic = col(quality, "synthetic")};
    for (size_t i = 0; set && i < set->n; i++) {
        const eb_config *c = &set->c[i];
        if (eb_quant_is_base(c->quant)) continue;
        const eb_config *base = NULL;
        for (size_t j = 0; j < set->n; j++)
            if (same_settings(c, &set->c[j]) && base_rank(set->c[j].quant) < 9 &&
                (!base || base_rank(set->c[j].quant) < base_rank(base->quant)))
                base = &set->c[j];
        if (push(out, n_out, &cap, err) != EB_OK) return err->status;
        eb_quant_effect *e = &(*out)[*n_out - 1];
        snprintf(e->device, sizeof e->device, "%s", c->device);
        snprintf(e->model, sizeof e->model, "%s", c->model);
        snprintf(e->quant, sizeof e->quant, "%s", c->quant);
        snprintf(e->base_quant, sizeof e->base_quant, "%s", base ? base->quant : "");
        snprintf(e->governor, sizeof e->governor, "%s", c->governor);
        snprintf(e->power_mode, sizeof e->power_mode, "%s", c->power_mode);
        e->threads_prefill = c->threads_prefill;
        e->threads_gen = c->threads_gen;
        e->gpu_layers = c->gpu_layers;
        e->has_runs = true;
        e->synthetic = strstr(c->model, "synthetic") != NULL;
        for (int k = 0; k < EB_QE_COUNT; k++) {
            e->value[k] = eb_samples_mean(&c->s[qe_av[k]]);
            e->base[k] = base ? eb_samples_mean(&base->s[qe_av[k]]) : NAN;
        }
        fill_quality(&q, e);
    }
    /* Perplexity of a quantized model that has no runs stored. */
    for (size_t r = 0; quality && r < quality->nrow; r++) {
        const char *model = cell(&q, r, q.model), *quant = cell(&q, r, q.quant);
        if (!model || !quant || eb_quant_is_base(quant)) continue;
        bool seen = false;
        for (size_t k = 0; k < *n_out && !seen; k++)
            seen = !strcmp((*out)[k].model, model) && !strcmp((*out)[k].quant, quant);
        if (seen) continue;
        if (push(out, n_out, &cap, err) != EB_OK) return err->status;
        eb_quant_effect *e = &(*out)[*n_out - 1];
        const char *dev = cell(&q, r, q.device);
        snprintf(e->device, sizeof e->device, "%s", dev ? dev : "");
        snprintf(e->model, sizeof e->model, "%s", model);
        snprintf(e->quant, sizeof e->quant, "%s", quant);
        /* the base: what its KL was measured against, else the best 16-bit run */
        const char *bq = cell(&q, r, q.base_quant);
        int rank = 9;
        for (size_t k = 0; !bq && k < quality->nrow; k++) {
            const char *qk = cell(&q, k, q.quant);
            if (cell_is(&q, k, q.model, model) && qk && base_rank(qk) < rank) {
                rank = base_rank(qk);
                bq = qk;
            }
        }
        snprintf(e->base_quant, sizeof e->base_quant, "%s", bq ? bq : "");
        for (int k = 0; k < EB_QE_COUNT; k++)
            e->value[k] = e->base[k] = NAN;
        e->synthetic = strstr(model, "synthetic") != NULL;
        fill_quality(&q, e);
    }
    return EB_OK;
}
