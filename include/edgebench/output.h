/* Writers for run results: a human table, JSON (every sample), JSONL (one
 * line per repetition) and CSV (one row per repetition). They write to the
 * FILE the caller gives; the library itself never prints to stdout. */
#ifndef EDGEBENCH_OUTPUT_H
#define EDGEBENCH_OUTPUT_H

#include <stdio.h>
#include "edgebench/bench.h"
#include "edgebench/json.h"
#include "edgebench/error.h"

/* What a synthetic model's figures mean, in every output that shows one. */
#define EB_SYNTHETIC_NOTE                                                                          \
    "random weights: speed, memory and energy are faithful; generated text and perplexity mean "   \
    "nothing"

typedef enum eb_format { EB_FMT_TEXT, EB_FMT_JSON, EB_FMT_JSONL, EB_FMT_CSV } eb_format;

bool eb_format_parse(const char *s, eb_format *out);

/* What was measured, a line a figure, and what was not and why. */
eb_status eb_write_text(FILE *f, const eb_run_result *res, eb_error *err);
/* The same with every statistic, reading and source (run --verbose). */
eb_status eb_write_text_verbose(FILE *f, const eb_run_result *res, eb_error *err);
eb_status eb_write_json(FILE *f, const eb_run_result *res, eb_error *err);
eb_status eb_write_jsonl(FILE *f, const eb_run_result *res, eb_error *err);
eb_status eb_write_csv(FILE *f, const eb_run_result *res, eb_error *err);
/* The sampled timeline (CSV); fails when the sampler was off. */
eb_status eb_write_timeline(FILE *f, const eb_run_result *res, eb_error *err);
/* The run as the JSON object --format json prints; with_timeline adds the
 * sampled timeline ("timeline": {"columns": [...], "rows": [[t, ...]]}). */
struct cJSON;
struct cJSON *eb_result_to_json(const eb_run_result *res, bool with_timeline);
struct cJSON *eb_timeline_to_json(const eb_run_result *res);
/* A distributed run's "nodes" (one entry each) and "distributed" (the
 * per-token split and the totals) into root (lib/output/output_dist.c). */
void eb_dist_to_json(const eb_run_result *res, struct cJSON *root);
/* Its text block. */
void eb_dist_write_text(FILE *f, const eb_run_result *res);

eb_status eb_write_result(FILE *f, eb_format fmt, const eb_run_result *res, eb_error *err);

/* A run streamed as it goes, so that a process that dies keeps what it
 * measured (src/cli/measure_child.c): the head (everything but the
 * repetitions and what is made from them), each repetition as it
 * completes, and the result rebuilt from those by whoever outlives the
 * process. The rebuilt result has the repetitions and their statistics;
 * what is made when the run ends (energy integrated from the sampler,
 * span summaries, sustained windows) is marked not available. */
struct cJSON *eb_result_head_json(const eb_run_result *res);
struct cJSON *eb_rep_to_json(const eb_run_result *res, int index);
/* Takes head and reps (a JSON array of eb_rep_to_json objects); returns
 * the result, status "failed" with failure and reps_planned. */
struct cJSON *eb_result_from_stream(struct cJSON *head, struct cJSON *reps, const char *failure,
                                    int reps_planned);

#endif
