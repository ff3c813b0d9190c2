/* Shape-exact synthetic models: random weights with exactly the architecture
 * of a published model, written as GGUF. Speed, memory and energy measured on
 * them are faithful; generated text and perplexity are meaningless. */
#ifndef EDGEBENCH_SYNTH_H
#define EDGEBENCH_SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "edgebench/error.h"
#include "edgebench/roofline.h"

typedef struct eb_preset {
    const char *name;    /* e.g. "llama-3.2-1b" */
    const char *display; /* e.g. "Llama 3.2 1B" */
    const char *abbrev;  /* the study's abbreviation, e.g. "L3.2-1B" */
    const char *arch;    /* llama.cpp architecture name */
    const char *vocab;   /* ggml-vocab-<vocab>.gguf */
    int n_vocab;
    int n_embd;
    int n_layer;
    int n_ff;
    int n_head;
    int n_head_kv;
    int head_dim; /* 0: n_embd / n_head */
    int n_ctx_train;
    float rope_freq_base;
    float rms_eps;
    bool tied_embeddings;
    bool qkv_bias;
    bool fused_qkv;           /* one attn_qkv tensor (Phi-3) */
    bool fused_gate_up;       /* ffn_up holds gate and up (Phi-3) */
    float llama3_rope_factor; /* rope_freqs tensor with Llama 3.1 scaling; 0 = none */
    bool post_norms;          /* Gemma 2 post-attention/FFN norms */
    float attn_softcap;       /* Gemma 2; 0 = none */
    float final_softcap;      /* Gemma 2; 0 = none */
    int sliding_window;       /* Gemma 2; 0 = none */
    bool encoder_decoder;     /* T5: an encoder and a decoder stack of n_layer each */
    int rel_buckets;          /* T5 relative position buckets */
    double published_params;  /* the model card's figure; 0 for test presets */
    bool test_only;           /* tiny presets for tests */
} eb_preset;

typedef enum eb_synth_type {
    EB_SYNTH_F16,
    EB_SYNTH_Q8_0,
    EB_SYNTH_Q4_0,
    EB_SYNTH_Q4_K_M,
    EB_SYNTH_TYPE_COUNT
} eb_synth_type;

size_t eb_preset_count(void);
const eb_preset *eb_preset_at(size_t i);
const eb_preset *eb_preset_find(const char *name);
/* "F16", "Q8_0", "Q4_0", "Q4_K_M" (case-insensitive) */
bool eb_synth_type_parse(const char *s, eb_synth_type *out);
const char *eb_synth_type_name(eb_synth_type t);

/* Parameters in the preset's tensor list (what llama_model_n_params counts). */
uint64_t eb_preset_n_params(const eb_preset *p);
/* Bytes of tensor data the preset has at a type. */
uint64_t eb_preset_weights_bytes(const eb_preset *p, eb_synth_type t);
/* The roofline's view of the preset at a type (what eb_model_shape_read
 * gives for the file it writes). */
void eb_preset_shape(const eb_preset *p, eb_synth_type t, eb_model_shape *out);

typedef void (*eb_synth_progress_fn)(void *user, uint64_t done_bytes, uint64_t total_bytes);

typedef struct eb_synth_options {
    const char *vocab_dir; /* NULL: the one llama.cpp was installed with */
    uint64_t seed;
    /* Writes only metadata and leaves the data region as a sparse hole, so
     * shapes can be checked without writing gigabytes. */
    bool metadata_only;
    eb_synth_progress_fn progress;
    void *progress_user;
} eb_synth_options;

/* Writes the model to path (through path.part, renamed when complete). */
eb_status eb_synth_write(const eb_preset *p, eb_synth_type t, const char *path,
                         const eb_synth_options *opt, eb_error *err);

/* Path of the cached model for (preset, type) under the cache directory; it
 * is generated when missing. *created tells whether it was. */
eb_status eb_synth_cached(const eb_preset *p, eb_synth_type t, const eb_synth_options *opt,
                          char *path, size_t cap, bool *created, eb_error *err);

#endif
