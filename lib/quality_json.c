/* The record of a perplexity run: the run record (device, build, model,
 * the one evaluation with its spans and measurements) and its quality. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>

#include "edgebench/output.h"
#include "edgebench/quality.h"

static void num(cJSON *o, const char *k, double v)
{
    if (isnan(v) || isinf(v))
        cJSON_AddNullToObject(o, k);
    else
        cJSON_AddNumberToObject(o, k, v);
}

static double span_pm(const eb_ppl_result *r, eb_span s, eb_pm m)
{
    return r->run.n_reps ? r->run.reps[0].pm[s][m] : NAN;
}

char *eb_ppl_to_json(const eb_ppl_result *r)
{
    cJSON *root = eb_result_to_json(&r->run, false);
    if (!root) return NULL;
    cJSON_AddStringToObject(root, "kind", "perplexity");
    cJSON *q = cJSON_AddObjectToObject(root, "quality");
    cJSON_AddStringToObject(q, "corpus", r->corpus_name);
    cJSON_AddStringToObject(q, "corpus_sha256", r->corpus_sha256);
    num(q, "corpus_bytes", (double)r->corpus_bytes);
    num(q, "corpus_tokens", r->n_corpus_tokens);
    num(q, "n_ctx", r->n_ctx);
    num(q, "n_batch", r->n_batch);
    num(q, "n_seq", r->n_seq);
    num(q, "chunks", r->n_chunks);
    num(q, "scored_tokens", r->n_scored);
    num(q, "threads", r->run.config.threads_prefill);
    num(q, "ppl", r->ppl);
    num(q, "ppl_se", r->ppl_se);
    cJSON *chunks = cJSON_AddArrayToObject(q, "running_ppl");
    for (int i = 0; r->chunk_ppl && i < r->n_chunks; i++)
        cJSON_AddItemToArray(chunks, cJSON_CreateNumber(r->chunk_ppl[i]));
    num(q, "tokenize_s", r->tokenize_s);
    const eb_rep *w = r->run.n_reps ? &r->run.reps[0] : NULL;
    num(q, "load_s", w ? w->load_s : NAN);
    num(q, "eval_s", w ? w->prefill_s : NAN);
    num(q, "eval_tokens", w ? w->n_prompt : NAN);
    num(q, "eval_tps", w ? w->prefill_tps : NAN);
    num(q, "load_energy_j", span_pm(r, EB_SPAN_LOAD, EB_PM_ENERGY_J));
    num(q, "eval_energy_j", span_pm(r, EB_SPAN_PREFILL, EB_PM_ENERGY_J));
    num(q, "eval_j_per_token", span_pm(r, EB_SPAN_PREFILL, EB_PM_J_PER_TOKEN));
    num(q, "eval_mean_w", span_pm(r, EB_SPAN_PREFILL, EB_PM_MEAN_W));
    num(q, "peak_rss_mib", span_pm(r, EB_SPAN_RUN, EB_PM_PEAK_RSS));
    if (r->run.pm_reason[EB_PM_ENERGY_J][0])
        cJSON_AddStringToObject(q, "energy_not_available", r->run.pm_reason[EB_PM_ENERGY_J]);
    cJSON_AddBoolToObject(q, "synthetic_model", r->run.model.synthetic);
    if (r->has_kl) {
        cJSON *b = cJSON_AddObjectToObject(q, "versus_base");
        cJSON_AddStringToObject(b, "model", r->base_model);
        cJSON_AddStringToObject(b, "quant", r->base_quant);
        cJSON_AddStringToObject(b, "sha256", r->base_sha256);
        num(b, "base_ppl", r->base_ppl);
        num(b, "ln_ppl_ratio", r->ln_ppl_ratio);
        num(b, "ln_ppl_ratio_se", r->ln_ppl_ratio_se);
        num(b, "kl_mean", r->kl_mean);
        num(b, "kl_se", r->kl_se);
        num(b, "kl_max", r->kl_max);
        num(b, "top1_agreement", r->top1);
        num(b, "top1_agreement_se", r->top1_se);
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}
