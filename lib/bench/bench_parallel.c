/* --parallel N: N sequences decoded together, one batch per step, as
 * llama-batched-bench does: every sequence gets the same prompt (its own
 * copy in the cache), prefill evaluates all of them, and each generation
 * step evaluates one token of every sequence in one batch. */
#include <math.h>
#include <stdlib.h>

#include "bench_parallel.h"
#include "edgebench/util.h"

static int32_t argmax(const float *logits, int32_t n_vocab)
{
    int32_t best = 0;
    for (int32_t i = 1; i < n_vocab; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

/* Tokens of every sequence at positions pos0 .. pos0 + n - 1 in batches of
 * at most n_batch; logits kept for each sequence's last token when asked,
 * which then come last, all in the final batch (entry s: sequence s). */
static eb_status eval_all(const eb_engine_ops *e, eb_context *c, int n_seq, int n_batch,
                          const int32_t *tokens, int32_t n, int32_t pos0, bool last_logits,
                          eb_error *err)
{
    int32_t body = last_logits ? n - 1 : n;
    int cap = n_batch > n_seq ? n_batch : n_seq;
    eb_batch_token *b = malloc((size_t)cap * sizeof *b);
    if (!b) return eb_fail(err, EB_E_NO_MEMORY, "a batch of %d tokens", cap);
    eb_status st = EB_OK;
    int k = 0;
    for (int s = 0; s < n_seq && st == EB_OK; s++)
        for (int32_t i = 0; i < body && st == EB_OK; i++) {
            b[k++] = (eb_batch_token){tokens[i], pos0 + i, s, false};
            if (k == n_batch) {
                st = e->eval_batch(c, b, k, err);
                k = 0;
            }
        }
    if (st == EB_OK && k > 0) st = e->eval_batch(c, b, k, err);
    if (st == EB_OK && last_logits && n > 0) {
        for (int s = 0; s < n_seq; s++)
            b[s] = (eb_batch_token){tokens[n - 1], pos0 + n - 1, s, true};
        st = e->eval_batch(c, b, n_seq, err);
    }
    free(b);
    return st;
}

eb_status eb_parallel_fill(const eb_engine_ops *e, eb_context *c, const eb_run_config *cfg,
                           const int32_t *tokens, int32_t n, eb_error *err)
{
    return eval_all(e, c, cfg->n_parallel, cfg->n_batch, tokens, n, 0, false, err);
}

eb_status eb_parallel_prefill(const eb_engine_ops *e, eb_context *c, const eb_run_config *cfg,
                              const int32_t *prompt, int32_t n_prompt, eb_error *err)
{
    return eval_all(e, c, cfg->n_parallel, cfg->n_batch, prompt, n_prompt, cfg->n_depth, true, err);
}

eb_status eb_parallel_step(const eb_engine_ops *e, eb_context *c, const eb_run_config *cfg,
                           int32_t n_vocab, int32_t pos, eb_error *err)
{
    int n = cfg->n_parallel;
    eb_batch_token *b = malloc((size_t)n * sizeof *b);
    if (!b) return eb_fail(err, EB_E_NO_MEMORY, "a batch of %d tokens", n);
    eb_status st = EB_OK;
    for (int s = 0; s < n && st == EB_OK; s++) {
        /* the next token of each sequence from its entry of the last batch */
        const float *l = e->logits(c, s);
        if (!l) st = eb_fail(err, EB_E_ENGINE, "no logits for sequence %d", s);
        b[s] = (eb_batch_token){l ? argmax(l, n_vocab) : 0, pos, s, true};
    }
    if (st == EB_OK) st = e->eval_batch(c, b, n, err);
    free(b);
    return st;
}
