/* The record of a perplexity run: the run record (device, build, model,
 * the one evaluation with its spans and measurements) and its quality. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>

#include "edgebench/measure.h"
#include "edgebench/output.h"
#include "edgebench/quality.h"

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
    eb_json_number(q, "corpus_bytes", (double)r->corpus_bytes);
    eb_json_number(q, "corpus_tokens", r->n_corpus_tokens);
    eb_json_number(q, "n_ctx", r->n_ctx);
    eb_json_number(q, "n_batch", r->n_batch);
    eb_json_number(q, "n_seq", r->n_seq);
    eb_json_number(q, "chunks", r->n_chunks);
    eb_json_number(q, "scored_tokens", r->n_scored);
    eb_json_number(q, "threads", r->run.config.threads_prefill);
    eb_json_number(q, "ppl", r->ppl);
    eb_json_number(q, "ppl_se", r->ppl_se);
    cJSON *chunks = cJSON_AddArrayToObject(q, "running_ppl");
    for (int i = 0; r->chunk_ppl && i < r->n_chunks; i++)
        cJSON_AddItemToArray(chunks, cJSON_CreateNumber(r->chunk_ppl[i]));
    eb_json_number(q, "tokenize_s", r->tokenize_s);
    const eb_rep *w = r->run.n_reps ? &r->run.reps[0] : NULL;
    eb_json_number(q, "load_s", w ? w->load_s : NAN);
    eb_json_number(q, "eval_s", w ? w->prefill_s : NAN);
    eb_json_number(q, "eval_tokens", w ? w->n_prompt : NAN);
    eb_json_number(q, "eval_tps", w ? w->prefill_tps : NAN);
    eb_json_number(q, "load_energy_j", span_pm(r, EB_SPAN_LOAD, EB_PM_ENERGY_J));
    eb_json_number(q, "eval_energy_j", span_pm(r, EB_SPAN_PREFILL, EB_PM_ENERGY_J));
    eb_json_number(q, "eval_j_per_token", span_pm(r, EB_SPAN_PREFILL, EB_PM_J_PER_TOKEN));
    /* one evaluation: the sensor's bounds alone (lib/sensors/energy.h) */
    eb_json_number(q, "eval_j_per_token_u95",
                   eb_result_energy_u95(&r->run, EB_SPAN_PREFILL, EB_PM_J_PER_TOKEN, NULL));
    eb_json_number(q, "eval_mean_w", span_pm(r, EB_SPAN_PREFILL, EB_PM_MEAN_W));
    eb_json_number(q, "peak_rss_mib", span_pm(r, EB_SPAN_RUN, EB_PM_PEAK_RSS));
    if (r->run.pm_reason[EB_PM_ENERGY_J][0])
        cJSON_AddStringToObject(q, "energy_not_available", r->run.pm_reason[EB_PM_ENERGY_J]);
    cJSON_AddBoolToObject(q, "synthetic_model", r->run.model.synthetic);
    if (r->has_kl) {
        cJSON *b = cJSON_AddObjectToObject(q, "versus_base");
        cJSON_AddStringToObject(b, "model", r->base_model);
        cJSON_AddStringToObject(b, "quant", r->base_quant);
        cJSON_AddStringToObject(b, "sha256", r->base_sha256);
        eb_json_number(b, "base_ppl", r->base_ppl);
        eb_json_number(b, "ln_ppl_ratio", r->ln_ppl_ratio);
        eb_json_number(b, "ln_ppl_ratio_se", r->ln_ppl_ratio_se);
        eb_json_number(b, "kl_mean", r->kl_mean);
        eb_json_number(b, "kl_se", r->kl_se);
        eb_json_number(b, "kl_max", r->kl_max);
        eb_json_number(b, "top1_agreement", r->top1);
        eb_json_number(b, "top1_agreement_se", r->top1_se);
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}
