/* The report's quality section: perplexity per model and type (Fig. 11)
 * and the quantization effect against the 16-bit base (Fig. 12). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_cli.h"
#include "cli.h"
#include "report_plot.h"

/* A model's name without the synthetic note, for an axis. */
static void short_model(const char *model, char *out, size_t cap)
{
    snprintf(out, cap, "%.*s", (int)strcspn(model, "("), model);
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == ' ')
        out[--n] = '\0';
}

/* Fig. 11: the newest perplexity of each model, type and corpus. */
static void perplexity_chart(report *r, const eb_table *q)
{
    chart c = {.id = "fig11_perplexity",
               .title = "Fig. 11: perplexity per model and weight type",
               .ylabel = "perplexity",
               .series = {"perplexity"},
               .n_series = 1};
    int model = eb_table_column(q, "model"), quant = eb_table_column(q, "quant"),
        corpus = eb_table_column(q, "corpus"), ctx = eb_table_column(q, "n_ctx"),
        ppl = eb_table_column(q, "ppl"), dev = eb_table_column(q, "device"),
        synth = eb_table_column(q, "synthetic");
    bool any_synthetic = false;
    for (size_t i = q->nrow; model >= 0 && i-- > 0;) {
        const char *const *row = (const char *const *)q->cell + i * q->ncol;
        bool newer_seen = false;
        for (size_t j = i + 1; j < q->nrow && !newer_seen; j++) {
            const char *const *o = (const char *const *)q->cell + j * q->ncol;
            newer_seen = o[model] && row[model] && !strcmp(o[model], row[model]) && o[quant] &&
                         row[quant] && !strcmp(o[quant], row[quant]) && o[corpus] && row[corpus] &&
                         !strcmp(o[corpus], row[corpus]) && o[ctx] && row[ctx] &&
                         !strcmp(o[ctx], row[ctx]);
        }
        if (newer_seen) continue;
        char name[64], label[300];
        short_model(row[model] ? row[model] : "?", name, sizeof name);
        snprintf(label, sizeof label, "%s %s @%s %s c%s", name, row[quant] ? row[quant] : "?",
                 row[dev] ? row[dev] : "?", row[corpus] ? row[corpus] : "?",
                 row[ctx] ? row[ctx] : "?");
        double v = row[ppl] ? atof(row[ppl]) : NAN;
        chart_add(&c, label, (double)i, &v);
        any_synthetic |= synth >= 0 && row[synth] && !strcmp(row[synth], "1");
    }
    report_chart(r, &c,
                 any_synthetic ? "Newest 'edgebench ppl' of each model, type, corpus and context "
                                 "(c). Some models are synthetic: their perplexity means nothing "
                                 "as quality."
                               : "Newest 'edgebench ppl' of each model, type, corpus and context "
                                 "(c); lower is better.",
                 "no perplexity stored (run 'edgebench ppl')");
    chart_free(&c);
}

/* Fig. 12: change factors of each quantized configuration. */
static void effect_chart(report *r, const eb_config_set *set, const analyze_opts *o)
{
    chart c = {.id = "fig12_quant_effect",
               .title = "Fig. 12: quantized against 16-bit base (factor)",
               .ylabel = "quantized / base",
               .series = {"peak memory", "generation tokens/s", "generation J/token", "perplexity"},
               .n_series = 4};
    eb_quant_effect *qe = NULL;
    size_t n = 0;
    eb_error err = {0};
    if (eb_quant_effects(set, o->quality, &qe, &n, &err) != EB_OK) {
        report_missing(r, c.id, c.title, err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const eb_quant_effect *e = &qe[i];
        char name[64], label[400];
        short_model(e->model, name, sizeof name);
        if (e->has_runs)
            snprintf(label, sizeof label, "%s %s/%s @%s %d/%d", name, e->quant,
                     e->base_quant[0] ? e->base_quant : "?", e->device, e->threads_prefill,
                     e->threads_gen);
        else
            snprintf(label, sizeof label, "%s %s/%s", name, e->quant,
                     e->base_quant[0] ? e->base_quant : "?");
        double v[4] = {e->value[EB_QE_PEAK_RSS] / e->base[EB_QE_PEAK_RSS],
                       e->value[EB_QE_GEN_TPS] / e->base[EB_QE_GEN_TPS],
                       e->value[EB_QE_GEN_JPT] / e->base[EB_QE_GEN_JPT], e->ppl / e->base_ppl};
        chart_add(&c, label, (double)i, v);
    }
    free(qe);
    report_chart(r, &c,
                 "Mean of the quantized configuration divided by its F16 (else BF16, F32) base's "
                 "on the same device and settings; perplexity on the same corpus and context. "
                 "Bars are left out where a measure is missing (no energy sensor, no base).",
                 "no quantized configuration has a 16-bit base stored with the same settings");
    chart_free(&c);
}

void report_quality(report *r, const eb_config_set *set, const analyze_opts *o)
{
    report_heading(r, "Quality and the quantization effect");
    static const eb_table empty = {0};
    perplexity_chart(r, o->quality ? o->quality : &empty);
    effect_chart(r, set, o);
    eb_table t;
    if (analyze_table("quant-effect", set, o, &t) != EXIT_OK) return;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem) {
        analyze_state_inputs(mem, "quant-effect", o, set, false);
        fclose(mem);
    }
    report_table_note(r, "Quantization effect", text, &t);
    free(text);
    eb_table_free(&t);
}
