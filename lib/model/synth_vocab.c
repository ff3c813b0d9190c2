/* The tokenizer of a synthetic model, from the vocabularies llama.cpp ships. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgebench/util.h"
#include "synth_impl.h"

/* ---- vocabulary ---------------------------------------------------------- */

/* The tokenizer vocabulary the preset names, from llama.cpp's files; path
 * gets its name for messages. NULL (with err) when it cannot be read. */
static struct gguf_context *open_vocab(const eb_preset *p, const char *vocab_dir, char *path,
                                       size_t cap, eb_error *err)
{
    snprintf(path, cap, "%s/ggml-vocab-%s.gguf", vocab_dir ? vocab_dir : EB_DEFAULT_VOCAB_DIR,
             p->vocab);
    struct gguf_init_params gp = {.no_alloc = true, .ctx = NULL};
    struct gguf_context *src = gguf_init_from_file(path, gp);
    if (!src) eb_fail(err, EB_E_IO, "cannot read tokenizer vocabulary %s", path);
    return src;
}

static eb_status copy_vocab(struct gguf_context *dst, const eb_preset *p, const char *vocab_dir,
                            eb_error *err)
{
    char path[1024];
    struct gguf_context *src = open_vocab(p, vocab_dir, path, sizeof path, err);
    if (!src) return EB_E_IO;

    int64_t tok_id = gguf_find_key(src, "tokenizer.ggml.tokens");
    if (tok_id < 0) {
        gguf_free(src);
        return eb_fail(err, EB_E_NOT_GGUF, "%s: no tokenizer.ggml.tokens", path);
    }
    size_t n_real = gguf_get_arr_n(src, tok_id);
    size_t n = (size_t)p->n_vocab;
    if (n_real > n) {
        gguf_free(src);
        return eb_fail(err, EB_E_INVALID_ARG, "%s has %zu tokens, more than preset %s's %d", path,
                       n_real, p->name, p->n_vocab);
    }

    eb_status st = EB_OK;
    for (int64_t k = 0; k < gguf_get_n_kv(src) && st == EB_OK; k++) {
        const char *key = gguf_get_key(src, k);
        if (strncmp(key, "tokenizer.", 10) != 0) continue;
        enum gguf_type kt = gguf_get_kv_type(src, k);
        bool padded = strcmp(key, "tokenizer.ggml.tokens") == 0 ||
                      strcmp(key, "tokenizer.ggml.token_type") == 0 ||
                      strcmp(key, "tokenizer.ggml.scores") == 0;
        switch (kt) {
        case GGUF_TYPE_STRING:
            gguf_set_val_str(dst, key, gguf_get_val_str(src, k));
            break;
        case GGUF_TYPE_UINT32:
            gguf_set_val_u32(dst, key, gguf_get_val_u32(src, k));
            break;
        case GGUF_TYPE_INT32:
            gguf_set_val_i32(dst, key, gguf_get_val_i32(src, k));
            break;
        case GGUF_TYPE_BOOL:
            gguf_set_val_bool(dst, key, gguf_get_val_bool(src, k));
            break;
        case GGUF_TYPE_FLOAT32:
            gguf_set_val_f32(dst, key, gguf_get_val_f32(src, k));
            break;
        case GGUF_TYPE_ARRAY: {
            enum gguf_type at = gguf_get_arr_type(src, k);
            size_t an = gguf_get_arr_n(src, k);
            size_t total = padded ? n : an;
            if (at == GGUF_TYPE_STRING) {
                const char **strs = calloc(total, sizeof *strs);
                char(*pads)[24] = padded && total > an ? calloc(total - an, sizeof *pads) : NULL;
                if (!strs || (padded && total > an && !pads)) {
                    free(strs);
                    free(pads);
                    st = eb_fail(err, EB_E_NO_MEMORY, "vocabulary %s", path);
                    break;
                }
                for (size_t i = 0; i < an; i++)
                    strs[i] = gguf_get_arr_str(src, k, i);
                /* Padding tokens as the converters write them for models whose
                 * embedding table is larger than the tokenizer. */
                for (size_t i = an; i < total; i++) {
                    snprintf(pads[i - an], sizeof pads[0], "[PAD%zu]", i);
                    strs[i] = pads[i - an];
                }
                gguf_set_arr_str(dst, key, strs, total);
                free(strs);
                free(pads);
            } else {
                size_t es =
                    at == GGUF_TYPE_INT32 || at == GGUF_TYPE_UINT32 || at == GGUF_TYPE_FLOAT32 ? 4
                    : at == GGUF_TYPE_UINT8 || at == GGUF_TYPE_INT8 || at == GGUF_TYPE_BOOL    ? 1
                    : at == GGUF_TYPE_UINT16 || at == GGUF_TYPE_INT16                          ? 2
                                                                                               : 8;
                unsigned char *buf = calloc(total ? total : 1, es);
                if (!buf) {
                    st = eb_fail(err, EB_E_NO_MEMORY, "vocabulary %s", path);
                    break;
                }
                memcpy(buf, gguf_get_arr_data(src, k), an * es);
                if (strcmp(key, "tokenizer.ggml.token_type") == 0)
                    for (size_t i = an; i < total; i++)
                        ((int32_t *)buf)[i] = 5; /* UNUSED */
                if (strcmp(key, "tokenizer.ggml.scores") == 0)
                    for (size_t i = an; i < total; i++)
                        ((float *)buf)[i] = -1000.0f;
                gguf_set_arr_data(dst, key, at, buf, total);
                free(buf);
            }
            break;
        }
        default:
            break; /* tokenizers use no other scalar types */
        }
    }
    gguf_free(src);
    return st;
}

/* A SentencePiece unigram vocabulary of T5's layout and exact size, from
 * llama.cpp's llama-spm pieces: <pad> 0, </s> 1, <unk> 2, then the pieces
 * with their scores, <extra_id_99> .. <extra_id_0>, and padding entries to
 * the embedding's size, as the converter writes Flan-T5's. */
static eb_status t5_vocab(struct gguf_context *dst, const eb_preset *p, const char *vocab_dir,
                          eb_error *err)
{
    char path[1024];
    struct gguf_context *src = open_vocab(p, vocab_dir, path, sizeof path, err);
    if (!src) return EB_E_IO;
    int64_t kt = gguf_find_key(src, "tokenizer.ggml.tokens");
    int64_t ks = gguf_find_key(src, "tokenizer.ggml.scores");
    int64_t ky = gguf_find_key(src, "tokenizer.ggml.token_type");
    const size_t n = (size_t)p->n_vocab, n_extra = 100;
    size_t n_src = kt >= 0 ? gguf_get_arr_n(src, kt) : 0;
    if (kt < 0 || ks < 0 || ky < 0 || n_src < 4 || n_src - 3 + 3 + n_extra > n) {
        gguf_free(src);
        return eb_fail(err, EB_E_NOT_GGUF, "%s: no pieces with scores and types for %s", path,
                       p->name);
    }
    const char **strs = calloc(n, sizeof *strs);
    char(*own)[24] = calloc(n, sizeof *own);
    float *scores = calloc(n, sizeof *scores);
    int32_t *types = calloc(n, sizeof *types);
    if (!strs || !own || !scores || !types) {
        free(strs);
        free(own);
        free(scores);
        free(types);
        gguf_free(src);
        return eb_fail(err, EB_E_NO_MEMORY, "vocabulary for %s", p->name);
    }
    const float *src_scores = gguf_get_arr_data(src, ks);
    const int32_t *src_types = gguf_get_arr_data(src, ky);
    strs[0] = "<pad>";
    strs[1] = "</s>";
    strs[2] = "<unk>";
    types[0] = types[1] = 3; /* CONTROL */
    types[2] = 2;            /* UNKNOWN */
    size_t i = 3;
    for (size_t k = 3; k < n_src; k++, i++) {
        strs[i] = gguf_get_arr_str(src, kt, k);
        scores[i] = src_scores[k];
        types[i] = src_types[k];
    }
    for (size_t e = 0; e < n_extra; e++, i++) {
        snprintf(own[i], sizeof own[i], "<extra_id_%zu>", n_extra - 1 - e);
        strs[i] = own[i];
        types[i] = 4; /* USER_DEFINED */
    }
    for (; i < n; i++) {
        snprintf(own[i], sizeof own[i], "[PAD%zu]", i);
        strs[i] = own[i];
        scores[i] = -1000.0f;
        types[i] = 5; /* UNUSED */
    }
    gguf_set_val_str(dst, "tokenizer.ggml.model", "t5");
    gguf_set_arr_str(dst, "tokenizer.ggml.tokens", strs, n);
    gguf_set_arr_data(dst, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, scores, n);
    gguf_set_arr_data(dst, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, n);
    gguf_set_val_u32(dst, "tokenizer.ggml.eos_token_id", 1);
    gguf_set_val_u32(dst, "tokenizer.ggml.unknown_token_id", 2);
    gguf_set_val_u32(dst, "tokenizer.ggml.padding_token_id", 0);
    gguf_set_val_bool(dst, "tokenizer.ggml.add_bos_token", false);
    gguf_set_val_bool(dst, "tokenizer.ggml.add_eos_token", true);
    free(strs);
    free(own);
    free(scores);
    free(types);
    gguf_free(src);
    return EB_OK;
}

eb_status eb_synth_vocab(struct gguf_context *dst, const eb_preset *p, const char *vocab_dir,
                         eb_error *err)
{
    return p->encoder_decoder ? t5_vocab(dst, p, vocab_dir, err)
                              : copy_vocab(dst, p, vocab_dir, err);
}
