/* Internal to the quality code: the file of a base model's encoded
 * log-probabilities (native byte order; a header, the evaluated tokens,
 * then one row and n_vocab codes per scored token, window by window). */
#ifndef EDGEBENCH_QUALITY_IMPL_H
#define EDGEBENCH_QUALITY_IMPL_H

#include <stdio.h>

#include "edgebench/quality.h"

typedef struct eb_lp_info {
    int32_t n_ctx, n_vocab, n_chunks;
    uint64_t vocab_fingerprint;
    char corpus_sha256[65];
    char model_name[256];
    char model_quant[32];
    char model_sha256[65];
} eb_lp_info;

typedef struct eb_lp_file {
    FILE *fp;
    char path[1024];
    char part[1100]; /* being written */
    eb_lp_info info;
} eb_lp_file;

/* Writes the header and the n_ctx * n_chunks evaluated tokens. */
eb_status eb_lp_create(eb_lp_file *f, const char *path, const eb_lp_info *info,
                       const int32_t *tokens, eb_error *err);
/* Reads and checks the header; *tokens (freed by the caller) the tokens. */
eb_status eb_lp_open(eb_lp_file *f, const char *path, eb_lp_info *info, int32_t **tokens,
                     eb_error *err);
/* The next n rows with their codes (n_vocab each), written or read. */
eb_status eb_lp_rows(eb_lp_file *f, bool write, eb_logprob_row *rows, uint16_t *codes, int n,
                     eb_error *err);
eb_status eb_lp_close(eb_lp_file *f);
/* A file being written goes to PATH.part; keep renames it into place (an
 * earlier file stays until then), else it is removed. */
eb_status eb_lp_finish(eb_lp_file *f, bool keep, eb_error *err);

#endif
