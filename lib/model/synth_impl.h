/* What the synthetic model's layout, vocabulary and writer share: the
 * tensors a preset has, in llama.cpp's names and shapes, and their types. */
#ifndef EDGEBENCH_SYNTH_IMPL_H
#define EDGEBENCH_SYNTH_IMPL_H

#include <stdint.h>

#include "edgebench/error.h"
#include "edgebench/synth.h"
#include "ggml.h"
#include "gguf.h"

typedef enum tensor_role {
    ROLE_TOKEN_EMBD,
    ROLE_OUTPUT,
    ROLE_ATTN_Q,
    ROLE_ATTN_K,
    ROLE_ATTN_V,
    ROLE_ATTN_QKV,
    ROLE_ATTN_OUT,
    ROLE_FFN_GATE,
    ROLE_FFN_UP,
    ROLE_FFN_DOWN,
    ROLE_NORM,
    ROLE_BIAS,
    ROLE_ROPE_FREQS,
    ROLE_REL_B, /* T5 relative position bias: kept in F32, as llama.cpp does */
} tensor_role;

typedef struct tensor_spec {
    char name[64];
    tensor_role role;
    int64_t ne0, ne1; /* ne1 == 1 for vectors */
    int layer;
} tensor_spec;

typedef void (*spec_fn)(void *user, const tensor_spec *t);

int eb_synth_head_dim(const eb_preset *p);
/* Every tensor of the preset, in file order. */
void eb_synth_for_each_tensor(const eb_preset *p, spec_fn fn, void *user);
/* The llama.cpp file type of a weight type, and each tensor's own type. */
int eb_synth_llama_ftype(eb_synth_type t);
enum ggml_type eb_synth_tensor_type(const eb_preset *p, eb_synth_type t, const tensor_spec *s);
/* The tokenizer the preset names, from llama.cpp's vocabularies: copied,
 * or for T5 built in its layout. */
eb_status eb_synth_vocab(struct gguf_context *dst, const eb_preset *p, const char *vocab_dir,
                         eb_error *err);

#endif
