/* --parallel: N sequences in one batch per step (lib/bench/bench_parallel.c). */
#ifndef EDGEBENCH_BENCH_PARALLEL_H
#define EDGEBENCH_BENCH_PARALLEL_H

#include "edgebench/bench.h"
#include "edgebench/engine.h"

/* The depth's tokens (positions 0..n-1) into every sequence, untimed. */
eb_status eb_parallel_fill(const eb_engine_ops *e, eb_context *c, const eb_run_config *cfg,
                           const int32_t *tokens, int32_t n, eb_error *err);
/* The prompt into every sequence after the depth; the last batch keeps
 * each sequence's logits (entry s: sequence s). */
eb_status eb_parallel_prefill(const eb_engine_ops *e, eb_context *c, const eb_run_config *cfg,
                              const int32_t *prompt, int32_t n_prompt, eb_error *err);
/* One generation step: each sequence's greedy next token at position pos,
 * all in one batch. */
eb_status eb_parallel_step(const eb_engine_ops *e, eb_context *c, const eb_run_config *cfg,
                           int32_t n_vocab, int32_t pos, eb_error *err);

#endif
