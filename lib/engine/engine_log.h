/* What only llama.cpp's log says (its C API does not): where each layer
 * went, the KV cache's buffers and types, and what flash attention "auto"
 * resolved to. One parser, a line at a time, tested per line format
 * (tests/unit/test_engine_log.c). */
#ifndef EDGEBENCH_ENGINE_LOG_H
#define EDGEBENCH_ENGINE_LOG_H

#include "edgebench/engine.h"

typedef struct eb_llama_log_facts {
    /* "load_tensors: layer N assigned to device X": layers, and those not on the CPU */
    int layers, layers_away;
    /* "load_tensors: offloaded N/M layers to GPU" (-1: not logged) */
    int offloaded, offload_total;
    /* "llama_kv_cache: size = ... (C cells, ...), K (T): ... MiB, V (T): ... MiB"
     * (summed over a model's caches: sliding-window layers have their own),
     * and "Flash Attention enabled" / "... not supported" / "flash_attn = enabled|disabled" */
    eb_ctx_info ctx;
} eb_llama_log_facts;

/* Before a model load: no layers seen. */
void eb_llama_log_load_reset(eb_llama_log_facts *f);
/* Before a context's creation: no cache seen; flash attention as asked
 * (1 on, 0 off, -1 auto: unknown until the log says). */
void eb_llama_log_ctx_reset(eb_llama_log_facts *f, int flash_attn_asked);
/* Reads one log line; true when it gave a fact. */
bool eb_llama_log_line(eb_llama_log_facts *f, const char *line);

#endif
