/* Perplexity by llama-perplexity's method: the corpus tokenized once (BOS
 * when the vocabulary adds one), cut into windows of the context size, each
 * evaluated from an empty cache with its first token replaced by BOS, and
 * only the second half of each window scored. Windows are evaluated
 * n_batch / n_ctx at a time as parallel sequences, as llama-perplexity does,
 * so the arithmetic (and the result) is the same. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/gguf_check.h"
#include "edgebench/quality.h"
#include "edgebench/util.h"
#include "edgebench/measure.h"
#include "quality_impl.h"

void eb_ppl_config_defaults(eb_ppl_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    /* the table's defaults (eb_params): context 512, batch 2048, ubatch 512,
     * llama-perplexity's own */
    eb_run_config_defaults(&cfg->run);
    cfg->run.reps = 1;
    cfg->run.warmup = 0;
    cfg->run.n_gen = 1; /* unused; keeps the run config valid */
}

/* Sums of one scoring pass, per worker and then merged. */
typedef struct score_sums {
    double nll, nll2, nll_base, nll_base2, nll_cross, kl, kl2, kl_max;
    long n_same_top, count;
} score_sums;

typedef struct score_job {
    const float *const *logits; /* per scored token */
    const int32_t *next;        /* the token that follows each */
    int n, n_vocab;
    eb_logprob_row *rows; /* NULL unless saving or comparing */
    uint16_t *codes;
    const eb_logprob_row *base_rows;
    const uint16_t *base_codes;
    int begin, end; /* this worker's share */
    score_sums sums;
} score_job;

static void *score_worker(void *arg)
{
    score_job *j = arg;
    const size_t nv = (size_t)j->n_vocab;
    for (int i = j->begin; i < j->end; i++) {
        eb_logprob_row row;
        const double v = eb_logprob_encode(j->logits[i], j->n_vocab, j->next[i], &row,
                                           j->codes ? j->codes + (size_t)i * nv : NULL);
        j->sums.nll += v;
        j->sums.nll2 += v * v;
        j->sums.count++;
        if (j->rows) j->rows[i] = row;
        if (j->base_rows) {
            const eb_logprob_row *b = &j->base_rows[i];
            const double kl = eb_logprob_kl(b, j->base_codes + (size_t)i * nv, &row,
                                            j->codes + (size_t)i * nv, j->n_vocab);
            j->sums.nll_base += b->nll;
            j->sums.nll_base2 += (double)b->nll * b->nll;
            j->sums.nll_cross += v * b->nll;
            j->sums.kl += kl;
            j->sums.kl2 += kl * kl;
            if (kl > j->sums.kl_max) j->sums.kl_max = kl;
            j->sums.n_same_top += b->top == row.top;
        }
    }
    return NULL;
}

/* Scores n tokens on up to n_threads threads and adds to *total. */
static void score(const score_job *proto, int n_threads, score_sums *total)
{
    enum { MAX_WORKERS = 64 };
    score_job jobs[MAX_WORKERS];
    pthread_t tid[MAX_WORKERS];
    bool started[MAX_WORKERS] = {false};
    if (n_threads > proto->n) n_threads = proto->n;
    if (n_threads > MAX_WORKERS) n_threads = MAX_WORKERS;
    if (n_threads < 1) n_threads = 1;
    for (int t = 0; t < n_threads; t++) {
        jobs[t] = *proto;
        jobs[t].begin = (int)((long)proto->n * t / n_threads);
        jobs[t].end = (int)((long)proto->n * (t + 1) / n_threads);
        memset(&jobs[t].sums, 0, sizeof jobs[t].sums);
        if (t > 0) started[t] = pthread_create(&tid[t], NULL, score_worker, &jobs[t]) == 0;
    }
    score_worker(&jobs[0]);
    for (int t = 0; t < n_threads; t++) {
        if (t > 0 && started[t])
            pthread_join(tid[t], NULL);
        else if (t > 0)
            score_worker(&jobs[t]); /* no thread to be had: done here */
        const score_sums *s = &jobs[t].sums;
        total->nll += s->nll, total->nll2 += s->nll2;
        total->nll_base += s->nll_base, total->nll_base2 += s->nll_base2;
        total->nll_cross += s->nll_cross;
        total->kl += s->kl, total->kl2 += s->kl2;
        if (s->kl_max > total->kl_max) total->kl_max = s->kl_max;
        total->n_same_top += s->n_same_top;
        total->count += s->count;
    }
}

/* Mean of a sum and the standard error of that mean. */
static void mean_se(double sum, double sum2, long n, double *mean, double *se)
{
    *mean = n > 0 ? sum / n : NAN;
    double var = n > 0 ? sum2 / n - *mean * *mean : NAN;
    *se = n > 1 && var > 0 ? sqrt(var / (n - 1)) : 0;
}

static void finish_sums(const score_sums *s, eb_ppl_result *res)
{
    double m, se;
    mean_se(s->nll, s->nll2, s->count, &m, &se);
    res->ppl = exp(m);
    res->ppl_se = res->ppl * se;
    res->n_scored = (int)s->count;
    if (!res->has_kl) return;
    double mb, seb;
    mean_se(s->nll_base, s->nll_base2, s->count, &mb, &seb);
    res->base_ppl = exp(mb);
    res->ln_ppl_ratio = m - mb;
    double cov = s->count > 1 ? (s->nll_cross / s->count - m * mb) / (s->count - 1) : 0;
    double var = se * se + seb * seb - 2 * cov;
    res->ln_ppl_ratio_se = var > 0 ? sqrt(var) : 0;
    mean_se(s->kl, s->kl2, s->count, &res->kl_mean, &res->kl_se);
    res->kl_max = s->kl_max;
    res->top1 = s->count > 0 ? (double)s->n_same_top / s->count : NAN;
    res->top1_se = s->count > 1 ? sqrt(res->top1 * (1 - res->top1) / (double)(s->count - 1)) : 0;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The corpus: read whole, checked, one trailing newline dropped (as
 * llama-perplexity's -f does). */
static eb_status read_corpus(const eb_ppl_config *cfg, eb_ppl_result *res, char **text, size_t *len,
                             eb_error *err)
{
    *text = eb_read_file_len(cfg->corpus_path, len, err);
    if (!*text) return err->status;
    res->corpus_bytes = *len;
    size_t bad;
    eb_status st = EB_OK;
    if (*len == 0)
        st = eb_fail(err, EB_E_INVALID_ARG, "corpus %s is empty", cfg->corpus_path);
    else if (!eb_utf8_valid(*text, *len, &bad))
        st = eb_fail(err, EB_E_INVALID_ARG,
                     "corpus %s is not UTF-8 text: byte 0x%02x at offset %zu is not valid",
                     cfg->corpus_path, (unsigned char)(*text)[bad], bad);
    else if (memchr(*text, '\0', *len))
        st = eb_fail(err, EB_E_INVALID_ARG, "corpus %s holds a NUL byte: not a text file",
                     cfg->corpus_path);
    if (st == EB_OK) st = eb_file_sha256(cfg->corpus_path, res->corpus_sha256, err);
    if (st != EB_OK) {
        free(*text);
        *text = NULL;
        return st;
    }
    if ((*text)[*len - 1] == '\n') (*text)[--*len] = '\0';
    snprintf(res->corpus_name, sizeof res->corpus_name, "%s",
             cfg->corpus_name ? cfg->corpus_name : base_name(cfg->corpus_path));
    return EB_OK;
}

static eb_status check_base(const eb_ppl_config *cfg, const eb_lp_info *bi, const eb_vocab_info *vi,
                            const eb_ppl_result *res, const int32_t *base_tokens,
                            const int32_t *tokens, eb_error *err)
{
    if (bi->vocab_fingerprint != vi->fingerprint || bi->n_vocab != vi->n_vocab)
        return eb_fail(err, EB_E_INVALID_ARG,
                       "%s and the base in %s have different vocabularies (%d tokens, "
                       "fingerprint %016llx, against the base's %d, %016llx): KL divergence "
                       "needs the same tokenizer",
                       cfg->run.model_path, cfg->kl_base, vi->n_vocab,
                       (unsigned long long)vi->fingerprint, bi->n_vocab,
                       (unsigned long long)bi->vocab_fingerprint);
    if (strcmp(bi->corpus_sha256, res->corpus_sha256) != 0)
        return eb_fail(err, EB_E_INVALID_ARG,
                       "the base in %s was computed on another corpus (SHA-256 %.16s..., this "
                       "one %.16s...)",
                       cfg->kl_base, bi->corpus_sha256, res->corpus_sha256);
    if (bi->n_ctx != res->n_ctx)
        return eb_fail(err, EB_E_INVALID_ARG,
                       "the base in %s was computed with a context of %d; use -c %d", cfg->kl_base,
                       bi->n_ctx, bi->n_ctx);
    if (memcmp(base_tokens, tokens, (size_t)bi->n_ctx * (size_t)res->n_chunks * sizeof *tokens))
        return eb_fail(err, EB_E_INVALID_ARG, "the base in %s tokenized the corpus differently",
                       cfg->kl_base);
    return EB_OK;
}

/* Everything one evaluation pass needs. */
typedef struct ppl_state {
    const eb_engine_ops *e;
    eb_context *c;
    const eb_ppl_config *cfg;
    eb_ppl_result *res;
    eb_vocab_info vi;
    int32_t *tokens;
    eb_batch_token *batch;
    float *gathered;       /* scored logits when a window takes several batches */
    const float **row_ptr; /* per scored token of a window */
    eb_logprob_row *rows, *base_rows;
    uint16_t *codes, *base_codes;
    eb_lp_file save, base;
    score_sums sums;
} ppl_state;

/* Evaluates windows [i, i + n_seq_batch) and scores them. */
static eb_status eval_windows(ppl_state *p, int i, int n_seq_batch, eb_error *err)
{
    const eb_engine_ops *e = p->e;
    eb_ppl_result *res = p->res;
    const int n_ctx = res->n_ctx, first = n_ctx / 2, n_batch = res->n_batch;
    const int num_batches = (n_ctx + n_batch - 1) / n_batch;
    const int n_score = n_ctx - first - 1;
    const size_t nv = (size_t)p->vi.n_vocab;
    e->memory_clear(p->c);
    for (int j = 0; j < num_batches; j++) {
        const int batch_start = i * n_ctx + j * n_batch;
        const int batch_size = n_ctx - j * n_batch < n_batch ? n_ctx - j * n_batch : n_batch;
        int n = 0;
        for (int s = 0; s < n_seq_batch; s++) {
            const int seq_start = batch_start + s * n_ctx;
            for (int k = 0; k < batch_size; k++, n++) {
                p->batch[n].token =
                    p->vi.add_bos && j == 0 && k == 0 ? p->vi.bos : p->tokens[seq_start + k];
                p->batch[n].pos = j * n_batch + k;
                p->batch[n].seq = s;
                p->batch[n].logits = j * n_batch + k >= first;
            }
        }
        eb_status st = e->eval_batch(p->c, p->batch, n, err);
        if (st != EB_OK) return st;
        if (num_batches > 1) /* one window (n_seq 1): keep its scored rows */
            for (int k = 0; k < batch_size; k++) {
                int pos = j * n_batch + k;
                const float *l = pos >= first && pos - first < n_score ? e->logits(p->c, k) : NULL;
                if (l) memcpy(p->gathered + (size_t)(pos - first) * nv, l, nv * sizeof *l);
            }
    }
    for (int s = 0; s < n_seq_batch; s++) {
        for (int k = 0; k < n_score; k++) {
            p->row_ptr[k] = num_batches > 1 ? p->gathered + (size_t)k * nv
                                            : e->logits(p->c, s * n_ctx + first + k);
            if (!p->row_ptr[k])
                return eb_fail(err, EB_E_ENGINE, "the engine kept no logits for position %d",
                               first + k);
        }
        eb_status st;
        if (p->base.fp &&
            (st = eb_lp_rows(&p->base, false, p->base_rows, p->base_codes, n_score, err)) != EB_OK)
            return st;
        score_job job = {.logits = p->row_ptr,
                         .next = p->tokens + (size_t)(i + s) * n_ctx + first + 1,
                         .n = n_score,
                         .n_vocab = p->vi.n_vocab,
                         .rows = p->rows,
                         .codes = p->codes,
                         .base_rows = p->base.fp ? p->base_rows : NULL,
                         .base_codes = p->base_codes};
        score(&job, p->cfg->run.threads_prefill, &p->sums);
        if (p->save.fp &&
            (st = eb_lp_rows(&p->save, true, p->rows, p->codes, n_score, err)) != EB_OK)
            return st;
        res->chunk_ppl[i + s] = exp(p->sums.nll / (double)p->sums.count);
        if (p->cfg->progress)
            p->cfg->progress(p->cfg->user, i + s + 1, res->n_chunks, res->chunk_ppl[i + s]);
    }
    return EB_OK;
}

static eb_status alloc_buffers(ppl_state *p, eb_error *err)
{
    const eb_ppl_result *res = p->res;
    const size_t nv = (size_t)p->vi.n_vocab, n_score = (size_t)(res->n_ctx - res->n_ctx / 2 - 1);
    const bool keep = p->cfg->save_base || p->cfg->kl_base;
    p->batch = calloc((size_t)res->n_batch, sizeof *p->batch);
    p->row_ptr = calloc(n_score, sizeof *p->row_ptr);
    res = p->res;
    p->res->chunk_ppl = calloc((size_t)res->n_chunks, sizeof *res->chunk_ppl);
    if (res->n_batch < res->n_ctx) p->gathered = malloc(n_score * nv * sizeof *p->gathered);
    if (keep) {
        p->rows = calloc(n_score, sizeof *p->rows);
        p->codes = malloc(n_score * nv * sizeof *p->codes);
    }
    if (p->cfg->kl_base) {
        p->base_rows = calloc(n_score, sizeof *p->base_rows);
        p->base_codes = malloc(n_score * nv * sizeof *p->base_codes);
    }
    if (!p->batch || !p->row_ptr || !res->chunk_ppl ||
        (res->n_batch < res->n_ctx && !p->gathered) || (keep && (!p->rows || !p->codes)) ||
        (p->cfg->kl_base && (!p->base_rows || !p->base_codes)))
        return eb_fail(err, EB_E_NO_MEMORY, "buffers for %zu scored tokens of %zu logits", n_score,
                       nv);
    return EB_OK;
}

static void free_state(ppl_state *p)
{
    free(p->tokens);
    free(p->batch);
    free(p->gathered);
    free(p->row_ptr);
    free(p->rows);
    free(p->codes);
    free(p->base_rows);
    free(p->base_codes);
    eb_lp_finish(&p->save, false, NULL); /* a half-written base is removed */
    eb_lp_close(&p->base);
}

/* Tokenizes the corpus and fixes the windows; opens the base files. */
static eb_status prepare(ppl_state *p, eb_model *m, const char *text, size_t len, eb_error *err)
{
    const eb_ppl_config *cfg = p->cfg;
    eb_ppl_result *res = p->res;
    const eb_engine_ops *e = p->e;
    e->vocab_info(m, &p->vi);
    if (p->vi.add_eos)
        return eb_fail(err, EB_E_UNSUPPORTED,
                       "%s: its tokenizer appends an end-of-sequence token, which perplexity "
                       "windows cannot have",
                       cfg->run.model_path);
    double t0 = eb_now();
    int32_t cap = len + 16 < INT32_MAX ? (int32_t)len + 16 : INT32_MAX, n = 0;
    p->tokens = malloc((size_t)cap * sizeof *p->tokens);
    if (!p->tokens) return eb_fail(err, EB_E_NO_MEMORY, "%d corpus tokens", cap);
    eb_status st = e->tokenize(m, text, len, false, p->tokens, cap, &n, err);
    if (st != EB_OK) return st;
    res->tokenize_s = eb_now() - t0;
    res->n_corpus_tokens = n;
    if (n < 2 * res->n_ctx)
        return eb_fail(err, EB_E_INVALID_ARG,
                       "corpus %s has %d tokens; perplexity with a context of %d needs at least "
                       "%d (two windows)",
                       cfg->corpus_path, n, res->n_ctx, 2 * res->n_ctx);
    int n_max = n / res->n_ctx;
    res->n_chunks = cfg->n_chunks > 0 && cfg->n_chunks < n_max ? cfg->n_chunks : n_max;
    if (cfg->kl_base) {
        int32_t *base_tokens = NULL;
        eb_lp_info bi;
        if ((st = eb_lp_open(&p->base, cfg->kl_base, &bi, &base_tokens, err)) != EB_OK) return st;
        if (res->n_chunks > bi.n_chunks) res->n_chunks = bi.n_chunks;
        st = check_base(cfg, &bi, &p->vi, res, base_tokens, p->tokens, err);
        free(base_tokens);
        if (st != EB_OK) return st;
        res->has_kl = true;
        snprintf(res->base_model, sizeof res->base_model, "%s", bi.model_name);
        snprintf(res->base_quant, sizeof res->base_quant, "%s", bi.model_quant);
        snprintf(res->base_sha256, sizeof res->base_sha256, "%s", bi.model_sha256);
    }
    if (cfg->save_base) {
        eb_lp_info si = {.n_ctx = res->n_ctx,
                         .n_vocab = p->vi.n_vocab,
                         .n_chunks = res->n_chunks,
                         .vocab_fingerprint = p->vi.fingerprint};
        snprintf(si.corpus_sha256, sizeof si.corpus_sha256, "%s", res->corpus_sha256);
        snprintf(si.model_name, sizeof si.model_name, "%s", res->run.model.name);
        snprintf(si.model_quant, sizeof si.model_quant, "%s", res->run.model.quant);
        if ((st = eb_file_sha256(cfg->run.model_path, si.model_sha256, err)) != EB_OK) return st;
        if ((st = eb_lp_create(&p->save, cfg->save_base, &si, p->tokens, err)) != EB_OK) return st;
    }
    return alloc_buffers(p, err);
}

static eb_status validate(const eb_ppl_config *cfg, eb_error *err)
{
    if (!cfg->run.model_path) return eb_fail(err, EB_E_INVALID_ARG, "no model given");
    if (!cfg->corpus_path) return eb_fail(err, EB_E_INVALID_ARG, "no corpus given (--corpus)");
    if (cfg->run.n_ctx < 8)
        return eb_fail(err, EB_E_INVALID_ARG, "context %d is too small for perplexity (at least 8)",
                       cfg->run.n_ctx);
    if (cfg->run.n_batch < 1 || cfg->run.n_ubatch < 1 || cfg->run.threads_prefill < 1)
        return eb_fail(err, EB_E_INVALID_ARG, "batch, ubatch and threads must be positive");
    if (cfg->save_base && cfg->kl_base && strcmp(cfg->save_base, cfg->kl_base) == 0)
        return eb_fail(err, EB_E_INVALID_ARG, "%s cannot be both the base read and the one written",
                       cfg->kl_base);
    return EB_OK;
}

eb_status eb_ppl_run(const eb_engine_ops *e, const eb_ppl_config *cfg, eb_ppl_result *res,
                     eb_error *err)
{
    memset(res, 0, sizeof *res);
    res->ppl = res->ppl_se = NAN;
    eb_status st = validate(cfg, err);
    eb_gguf_summary gs;
    if (st == EB_OK) st = eb_gguf_check(cfg->run.model_path, &gs, err);
    if (st == EB_OK) st = e->init(err);
    if (st != EB_OK) return st;
    eb_run_config rc = cfg->run;
    rc.reps = 1;
    rc.warmup = 0;
    eb_run_fill_header(e, &rc, &res->run);
    eb_measure_cpu_header(rc.root, &res->run);
    char *text = NULL;
    size_t len = 0;
    if ((st = read_corpus(cfg, res, &text, &len, err)) != EB_OK) return st;
    res->run.reps = calloc(1, sizeof *res->run.reps);
    if (!res->run.reps) {
        free(text);
        return eb_fail(err, EB_E_NO_MEMORY, "one repetition");
    }
    if ((st = eb_measure_begin(&rc, &res->run, NULL, NULL, err)) != EB_OK) {
        free(text);
        return st;
    }
    res->n_ctx = rc.n_ctx;
    res->n_seq = rc.n_batch / rc.n_ctx > 1 ? rc.n_batch / rc.n_ctx : 1;
    res->n_batch = rc.n_batch < rc.n_ctx * res->n_seq ? rc.n_batch : rc.n_ctx * res->n_seq;

    ppl_state p = {.e = e, .cfg = cfg, .res = res};
    eb_rep *rep = &res->run.reps[0];
    for (int s = 0; s < EB_SPAN_COUNT; s++)
        eb_measure_clear(rep->pm[s]);
    eb_counters ctr;
    eb_counters_open(&ctr, rc.root);
    res->run.perf_event_paranoid = ctr.paranoid;
    eb_counter_raw c0, c1, c2, c3;
    eb_sampler *smp = res->run.sampler;
    const eb_load_params lp = {.n_gpu_layers = rc.n_gpu_layers, .use_mmap = true};
    const eb_ctx_params cp = {.n_ctx = res->n_ctx * res->n_seq,
                              .n_batch = res->n_batch,
                              .n_ubatch = rc.n_ubatch < res->n_batch ? rc.n_ubatch : res->n_batch,
                              .threads_gen = rc.threads_gen,
                              .threads_prefill = rc.threads_prefill,
                              .n_seq_max = res->n_seq};
    eb_model *m = NULL;
    eb_counters_read(&ctr, &c0);
    double t0 = eb_span_begin(&rc, smp, rep, EB_SPAN_LOAD);
    st = e->model_load(rc.model_path, &lp, &m, err);
    if (st == EB_OK) {
        e->model_info(m, &res->run.model);
        if (res->run.model.has_encoder)
            st = eb_fail(err, EB_E_UNSUPPORTED,
                         "%s is an encoder-decoder model (%s): perplexity here scores a "
                         "decoder-only model's next-token predictions over the corpus",
                         rc.model_path, res->run.model.arch);
        else if (res->n_ctx > res->run.model.n_ctx_train && res->run.model.n_ctx_train > 0)
            st = eb_fail(err, EB_E_CONTEXT,
                         "%s supports a context of %d tokens; -c %d is more than that",
                         rc.model_path, res->run.model.n_ctx_train, res->n_ctx);
    }
    if (st == EB_OK) st = e->context_new(m, &cp, &p.c, err);
    double t1 = eb_now();
    eb_counters_read(&ctr, &c1);
    if (st == EB_OK) {
        eb_span_end(&rc, smp, rep, EB_SPAN_LOAD, t1);
        st = prepare(&p, m, text, len, err);
    }
    free(text);
    double t1b = t1, t2 = t1;
    if (st == EB_OK) {
        t1b = eb_span_begin(&rc, smp, rep, EB_SPAN_PREFILL);
        eb_counters_read(&ctr, &c2);
        for (int i = 0; i < res->n_chunks && st == EB_OK; i += res->n_seq) {
            int n_seq_batch = res->n_chunks - i < res->n_seq ? res->n_chunks - i : res->n_seq;
            st = eval_windows(&p, i, n_seq_batch, err);
        }
        t2 = eb_now();
        eb_counters_read(&ctr, &c3);
    }
    if (st == EB_OK) {
        eb_span_end(&rc, smp, rep, EB_SPAN_PREFILL, t2);
        /* No generation: an empty span at the end keeps the spans in order. */
        rep->t_start[EB_SPAN_GEN] = rep->t_end[EB_SPAN_GEN] = t2;
        rep->t_start[EB_SPAN_RUN] = t0;
        rep->t_end[EB_SPAN_RUN] = t2;
        eb_counters_delta(&ctr, &c0, &c1, &rep->counters[EB_PHASE_LOAD]);
        eb_counters_delta(&ctr, &c2, &c3, &rep->counters[EB_PHASE_PREFILL]);
        e->perf(p.c, &rep->engine_perf);
        rep->n_prompt = res->n_chunks * res->n_ctx;
        rep->load_s = t1 - t0;
        rep->prefill_s = t2 - t1b;
        rep->e2e_s = rep->load_s + rep->prefill_s;
        rep->ttft_s = rep->e2e_s;
        rep->first_token_s = rep->itl_p50_s = rep->itl_p90_s = rep->itl_p99_s = NAN;
        rep->prefill_tps = rep->prefill_s > 0 ? rep->n_prompt / rep->prefill_s : 0;
        double peak =
            fmax(rep->pm[EB_SPAN_LOAD][EB_PM_PEAK_RSS], rep->pm[EB_SPAN_PREFILL][EB_PM_PEAK_RSS]);
        memcpy(rep->pm[EB_SPAN_RUN], rep->pm[EB_SPAN_PREFILL], sizeof rep->pm[EB_SPAN_RUN]);
        rep->pm[EB_SPAN_RUN][EB_PM_PEAK_RSS] = peak;
        rep->peak_rss_kb = isnan(peak) ? 0 : (uint64_t)(peak * 1024.0);
        res->run.process_peak_rss_kb = rep->peak_rss_kb;
        res->run.n_prompt = rep->n_prompt;
        res->run.n_reps = 1;
        finish_sums(&p.sums, res);
    }
    if (p.save.fp && eb_lp_finish(&p.save, st == EB_OK, err) != EB_OK && st == EB_OK)
        st = err->status;
    free_state(&p);
    e->context_free(p.c);
    e->model_free(m);
    eb_counters_close(&ctr);
    if (res->run.sampler) eb_sampler_stop(res->run.sampler);
    eb_error merr = {0};
    eb_status mst = eb_measure_finish(&res->run, &merr);
    if (st == EB_OK && mst != EB_OK) {
        st = mst;
        *err = merr;
    }
    for (int mtr = 0; mtr < EB_M_COUNT; mtr++) {
        double v = res->run.n_reps ? eb_rep_metric(rep, (eb_metric)mtr) : NAN;
        eb_stats_compute(&v, res->run.n_reps ? 1 : 0, &res->run.stats[mtr]);
    }
    return st;
}

void eb_ppl_result_free(eb_ppl_result *res)
{
    free(res->chunk_ppl);
    res->chunk_ppl = NULL;
    eb_run_result_free(&res->run);
}
