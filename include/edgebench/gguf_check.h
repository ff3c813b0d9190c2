/* Checks a model file before the engine sees it, so that a file that is not
 * GGUF or is truncated gets a precise message rather than an engine abort. */
#ifndef EDGEBENCH_GGUF_CHECK_H
#define EDGEBENCH_GGUF_CHECK_H

#include <stdint.h>
#include "edgebench/error.h"

typedef struct eb_gguf_summary {
    char arch[64];
    uint64_t file_size;
    uint64_t data_end; /* offset one past the last tensor's data */
    int64_t n_tensors;
} eb_gguf_summary;

eb_status eb_gguf_check(const char *path, eb_gguf_summary *out, eb_error *err);

#endif
