/* The llama.cpp engine's kernel probe, kept apart from engine_llama.c:
 * it speaks to ggml directly and never touches llama.h. */
#ifndef EDGEBENCH_ENGINE_KERNELS_H
#define EDGEBENCH_ENGINE_KERNELS_H

#include <stddef.h>

#include "edgebench/error.h"

eb_status eb_ggml_matmul_probe(const char *type, int m, int n, int k, int threads, int passes,
                               double *pass_s, char *variant, size_t variant_cap, eb_error *err);

#endif
