/* `run --rpc`: the run's part that speaks to the nodes (distributed.c). */
#ifndef EDGEBENCH_DISTRIBUTED_H
#define EDGEBENCH_DISTRIBUTED_H

#include "edgebench/bench.h"

/* Connects to each node of cfg->rpc (the first rpc_nodes), reads its
 * facts and clock offset, starts its sampler, and settles the split; a
 * model the nodes' --mem cannot hold is refused here. */
eb_status eb_dist_open(const eb_run_config *cfg, eb_run_result *res, eb_error *err);
/* Where the engine put layers and buffers on each node. */
void eb_dist_after_context(const eb_engine_ops *e, eb_run_result *res);
eb_status eb_dist_rep_start(eb_run_result *res, eb_rep *rep, eb_error *err);
/* At a span's start (end false) or end: the bytes our sockets moved. */
void eb_dist_mark(eb_run_result *res, eb_rep *rep, eb_span s, bool end);
/* After a repetition: each node's figures for each span's window. */
eb_status eb_dist_rep_done(eb_run_result *res, eb_rep *rep, eb_error *err);
/* After eb_measure_finish: means per node and the per-token split. */
void eb_dist_finish(eb_run_result *res);
void eb_dist_close(eb_run_result *res);

#endif
