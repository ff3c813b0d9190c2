/* The llama.cpp engine's RPC nodes (engine_rpc.c). */
#ifndef EDGEBENCH_ENGINE_RPC_H
#define EDGEBENCH_ENGINE_RPC_H

#include <stdbool.h>

#include "edgebench/engine.h"
#include "ggml-backend.h"

/* Registers each "host:port" of list once per process and gives their
 * devices, NULL-terminated (cap counts the NULL). Starts a new placement
 * record, one entry a node. */
eb_status eb_rpc_devices(const char *list, ggml_backend_dev_t *devs, int cap, int *n,
                         eb_error *err);
/* A new placement record, one entry a node of list (no connection made;
 * at most EB_MAX_NODES): the log lines fill it. Returns the nodes listed. */
int eb_rpc_placement_begin(const char *list);
/* Forgets the logged placement (a new load), or only a context's buffers. */
void eb_rpc_placement_reset(bool context_only);
/* One line of llama.cpp's log. */
void eb_rpc_log_line(const char *text);
int eb_rpc_placement(eb_placement *out, int cap);

#endif
