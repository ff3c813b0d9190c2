/* Quality: perplexity on a text corpus by llama-perplexity's method, KL
 * divergence and top-1 agreement against a base model's saved
 * log-probabilities, and quantization through the engine. The perplexity
 * run is measured like `edgebench run`: its load and evaluation are spans
 * with time, energy and memory. */
#ifndef EDGEBENCH_QUALITY_H
#define EDGEBENCH_QUALITY_H

#include <stdbool.h>
#include <stdint.h>

#include "edgebench/bench.h"
#include "edgebench/engine.h"
#include "edgebench/error.h"

typedef void (*eb_ppl_progress_fn)(void *user, int chunk, int n_chunks, double ppl_so_far);

typedef struct eb_ppl_config {
    /* Model, threads (threads_prefill evaluates), context (the window),
     * batch sizes, GPU layers and every measurement setting; reps and
     * warmup are ignored (one evaluation). */
    eb_run_config run;
    const char *corpus_path;
    const char *corpus_name; /* for the record; NULL: the file's base name */
    int n_chunks;            /* <= 0: every whole window of the corpus */
    const char *save_base;   /* write this model's log-probabilities here */
    const char *kl_base;     /* compare with log-probabilities saved earlier */
    eb_ppl_progress_fn progress;
    void *user;
} eb_ppl_config;

/* llama-perplexity's defaults: context 512, batch 2048, ubatch 512. */
void eb_ppl_config_defaults(eb_ppl_config *cfg);

typedef struct eb_ppl_result {
    /* One repetition: the load span, the evaluation of every window as the
     * prefill span (n_prompt = tokens evaluated), no generation. */
    eb_run_result run;
    char corpus_name[256];
    char corpus_sha256[65];
    uint64_t corpus_bytes;
    int n_corpus_tokens;
    int n_ctx, n_batch, n_seq; /* n_seq windows evaluated side by side */
    int n_chunks;              /* windows evaluated */
    int n_scored;              /* tokens whose probability was scored */
    double tokenize_s;
    double ppl, ppl_se;   /* exp(mean negative log-likelihood), its standard error */
    double *chunk_ppl;    /* running perplexity after each window */
    bool has_kl;          /* compared with a base */
    char base_model[256]; /* the base's name, weight type and SHA-256 */
    char base_quant[32];
    char base_sha256[65];
    double base_ppl;     /* the base's perplexity on the same tokens */
    double ln_ppl_ratio; /* ln(PPL / PPL base), and its standard error */
    double ln_ppl_ratio_se;
    double kl_mean, kl_se; /* KL(base || model) per token, nats */
    double kl_max;
    double top1, top1_se; /* share of tokens where both rank the same token first */
} eb_ppl_result;

/* Evaluates the corpus. On failure after loading, res keeps what was
 * measured. */
eb_status eb_ppl_run(const eb_engine_ops *engine, const eb_ppl_config *cfg, eb_ppl_result *res,
                     eb_error *err);
void eb_ppl_result_free(eb_ppl_result *res);

/* The record of a perplexity run (as `edgebench run --format json`, plus
 * "kind": "perplexity" and a "quality" object); the caller frees it. */
char *eb_ppl_to_json(const eb_ppl_result *res);

/* Text that is valid UTF-8; *bad_offset receives the first bad byte. */
bool eb_utf8_valid(const char *s, size_t len, size_t *bad_offset);

/* The model at src quantized to type, cached by (SHA-256 of src, type) under
 * the cache directory; path receives the cached file. */
eb_status eb_quantize_cached(const eb_engine_ops *engine, const char *src, const char *type,
                             int threads, char *path, size_t cap, bool *created, eb_error *err);

/* ---- the base log-probability file (internal format, versioned) ----
 * Per scored token: the distribution's 16-bit codes over its top 16 nats
 * and the exact negative log-likelihood of the actual next token. */
typedef struct eb_logprob_row {
    float scale, min_lp; /* log-prob = min_lp + scale * code */
    double nll;          /* exact -log p(next token) */
    int32_t top;         /* most likely token */
} eb_logprob_row;

/* Log-softmax of logits[n_vocab] into 16-bit codes (the row's top 16 nats;
 * lower values are clamped to its bottom; codes may be NULL). Returns the
 * negative log-likelihood of token. */
double eb_logprob_encode(const float *logits, int32_t n_vocab, int32_t token, eb_logprob_row *row,
                         uint16_t *codes);
/* KL(base || model) of two encoded rows, summed over the tokens the base
 * gives more than e^-16. Both at the same resolution: a row against itself
 * gives exactly 0. */
double eb_logprob_kl(const eb_logprob_row *base, const uint16_t *base_codes,
                     const eb_logprob_row *model, const uint16_t *model_codes, int32_t n_vocab);

#endif
