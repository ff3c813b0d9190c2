/* The study's models as shape-exact presets (figures from each model's
 * published configuration), plus tiny presets for tests. */
#include <stddef.h>
#include <strings.h>

#include "edgebench/synth.h"

/* clang-format off */
static const eb_preset presets[] = {
    {.name = "qwen2-0.5b", .display = "Qwen 2 0.5B", .abbrev = "Q2-0.5B", .arch = "qwen2",
     .vocab = "qwen2", .n_vocab = 151936, .n_embd = 896, .n_layer = 24, .n_ff = 4864,
     .n_head = 14, .n_head_kv = 2, .n_ctx_train = 32768, .rope_freq_base = 1000000.0f,
     .rms_eps = 1e-6f, .tied_embeddings = true, .qkv_bias = true, .published_params = 0.494e9},
    /* Flan-T5 Large: d_model 1024, d_ff 2816 (gated GELU), 24 + 24 layers, 16 heads of
     * 64, 32 relative position buckets, untied output; a SentencePiece unigram
     * vocabulary of 32,128 entries (see synth.c). */
    {.name = "flan-t5-large", .display = "Flan-T5 Large", .abbrev = "FT5-L", .arch = "t5",
     .vocab = "llama-spm", .n_vocab = 32128, .n_embd = 1024, .n_layer = 24, .n_ff = 2816,
     .n_head = 16, .n_head_kv = 16, .head_dim = 64, .n_ctx_train = 512, .rms_eps = 1e-6f,
     .encoder_decoder = true, .rel_buckets = 32, .published_params = 0.783e9},
    {.name = "llama-3.2-1b", .display = "Llama 3.2 1B", .abbrev = "L3.2-1B", .arch = "llama",
     .vocab = "llama-bpe", .n_vocab = 128256, .n_embd = 2048, .n_layer = 16, .n_ff = 8192,
     .n_head = 32, .n_head_kv = 8, .n_ctx_train = 131072, .rope_freq_base = 500000.0f,
     .rms_eps = 1e-5f, .tied_embeddings = true, .llama3_rope_factor = 32.0f,
     .published_params = 1.24e9},
    {.name = "qwen2-1.5b", .display = "Qwen 2 1.5B", .abbrev = "Q2-1.5B", .arch = "qwen2",
     .vocab = "qwen2", .n_vocab = 151936, .n_embd = 1536, .n_layer = 28, .n_ff = 8960,
     .n_head = 12, .n_head_kv = 2, .n_ctx_train = 32768, .rope_freq_base = 1000000.0f,
     .rms_eps = 1e-6f, .tied_embeddings = true, .qkv_bias = true, .published_params = 1.54e9},
    {.name = "gemma-2-2b", .display = "Gemma 2 2B", .abbrev = "G2-2B", .arch = "gemma2",
     .vocab = "llama-spm", .n_vocab = 256000, .n_embd = 2304, .n_layer = 26, .n_ff = 9216,
     .n_head = 8, .n_head_kv = 4, .head_dim = 256, .n_ctx_train = 8192,
     .rope_freq_base = 10000.0f, .rms_eps = 1e-6f, .tied_embeddings = true, .post_norms = true,
     .attn_softcap = 50.0f, .final_softcap = 30.0f, .sliding_window = 4096,
     .published_params = 2.61e9},
    {.name = "llama-3.2-3b", .display = "Llama 3.2 3B", .abbrev = "L3.2-3B", .arch = "llama",
     .vocab = "llama-bpe", .n_vocab = 128256, .n_embd = 3072, .n_layer = 28, .n_ff = 8192,
     .n_head = 24, .n_head_kv = 8, .n_ctx_train = 131072, .rope_freq_base = 500000.0f,
     .rms_eps = 1e-5f, .tied_embeddings = true, .llama3_rope_factor = 32.0f,
     .published_params = 3.21e9},
    {.name = "phi-3.5-mini", .display = "Phi 3.5 mini", .abbrev = "P3.5-M", .arch = "phi3",
     .vocab = "phi-3", .n_vocab = 32064, .n_embd = 3072, .n_layer = 32, .n_ff = 8192,
     .n_head = 32, .n_head_kv = 32, .n_ctx_train = 4096, .rope_freq_base = 10000.0f,
     .rms_eps = 1e-5f, .fused_qkv = true, .fused_gate_up = true, .published_params = 3.82e9},
    {.name = "yi-1.5-6b", .display = "Yi 1.5 6B", .abbrev = "Y1.5-6B", .arch = "llama",
     .vocab = "llama-spm", .n_vocab = 64000, .n_embd = 4096, .n_layer = 32, .n_ff = 11008,
     .n_head = 32, .n_head_kv = 4, .n_ctx_train = 4096, .rope_freq_base = 5000000.0f,
     .rms_eps = 1e-6f, .published_params = 6.06e9},
    {.name = "internlm-2.5-7b", .display = "InternLM 2.5 7B", .abbrev = "I2.5-7B",
     .arch = "internlm2", .vocab = "llama-spm", .n_vocab = 92544, .n_embd = 4096, .n_layer = 32,
     .n_ff = 14336, .n_head = 32, .n_head_kv = 8, .n_ctx_train = 32768,
     .rope_freq_base = 50000000.0f, .rms_eps = 1e-5f, .published_params = 7.74e9},
    {.name = "llama-3.1-8b", .display = "Llama 3.1 8B", .abbrev = "L3.1-8B", .arch = "llama",
     .vocab = "llama-bpe", .n_vocab = 128256, .n_embd = 4096, .n_layer = 32, .n_ff = 14336,
     .n_head = 32, .n_head_kv = 8, .n_ctx_train = 131072, .rope_freq_base = 500000.0f,
     .rms_eps = 1e-5f, .llama3_rope_factor = 8.0f, .published_params = 8.03e9},
    {.name = "gemma-2-9b", .display = "Gemma 2 9B", .abbrev = "G2-9B", .arch = "gemma2",
     .vocab = "llama-spm", .n_vocab = 256000, .n_embd = 3584, .n_layer = 42, .n_ff = 14336,
     .n_head = 16, .n_head_kv = 8, .head_dim = 256, .n_ctx_train = 8192,
     .rope_freq_base = 10000.0f, .rms_eps = 1e-6f, .tied_embeddings = true, .post_norms = true,
     .attn_softcap = 50.0f, .final_softcap = 30.0f, .sliding_window = 4096,
     .published_params = 9.24e9},
    /* Tiny presets: real tokenizers, a few million parameters, for tests. */
    {.name = "tiny-llama", .display = "tiny Llama (test)", .abbrev = "tiny-L", .arch = "llama",
     .vocab = "llama-spm", .n_vocab = 32000, .n_embd = 256, .n_layer = 2, .n_ff = 512,
     .n_head = 4, .n_head_kv = 2, .n_ctx_train = 2048, .rope_freq_base = 10000.0f,
     .rms_eps = 1e-5f, .test_only = true},
    {.name = "tiny-t5", .display = "tiny T5 (test)", .abbrev = "tiny-T5", .arch = "t5",
     .vocab = "llama-spm", .n_vocab = 32128, .n_embd = 128, .n_layer = 2, .n_ff = 256,
     .n_head = 4, .n_head_kv = 4, .head_dim = 32, .n_ctx_train = 512, .rms_eps = 1e-6f,
     .encoder_decoder = true, .rel_buckets = 32, .test_only = true},
    {.name = "tiny-qwen2", .display = "tiny Qwen 2 (test)", .abbrev = "tiny-Q2", .arch = "qwen2",
     .vocab = "qwen2", .n_vocab = 151936, .n_embd = 64, .n_layer = 2, .n_ff = 128,
     .n_head = 4, .n_head_kv = 2, .n_ctx_train = 2048, .rope_freq_base = 1000000.0f,
     .rms_eps = 1e-6f, .tied_embeddings = true, .qkv_bias = true, .test_only = true},
};
/* clang-format on */

size_t eb_preset_count(void)
{
    return sizeof presets / sizeof presets[0];
}

const eb_preset *eb_preset_at(size_t i)
{
    return i < eb_preset_count() ? &presets[i] : NULL;
}

const eb_preset *eb_preset_find(const char *name)
{
    for (size_t i = 0; i < eb_preset_count(); i++)
        if (name && strcasecmp(presets[i].name, name) == 0) return &presets[i];
    return NULL;
}
