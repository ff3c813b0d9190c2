/* Writes shape-exact GGUF models with random weights, quantized tensor by
 * tensor through ggml's quantization code, streaming row chunks to disk so
 * that no F16 intermediate and no whole tensor is ever held in memory. */
#include "edgebench/synth.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgebench/util.h"
#include "ggml.h"
#include "gguf.h"

/* Bumped whenever the written bytes change, so stale cache entries are not used. */
#define EB_SYNTH_FORMAT 1
#define WEIGHT_STD 0.02f
#define CHUNK_ELEMS (4u << 20)

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

static void emit(spec_fn fn, void *user, const char *name, tensor_role role, int64_t ne0,
                 int64_t ne1, int layer)
{
    tensor_spec t = {.role = role, .ne0 = ne0, .ne1 = ne1, .layer = layer};
    snprintf(t.name, sizeof t.name, "%s", name);
    fn(user, &t);
}

static int head_dim(const eb_preset *p)
{
    return p->head_dim ? p->head_dim : p->n_embd / p->n_head;
}

/* T5 (llama.cpp's "t5"): an encoder stack and a decoder stack with
 * cross-attention, gated feed-forward, the relative position bias in the
 * first layer of each stack. */
static void for_each_t5_tensor(const eb_preset *p, spec_fn fn, void *user)
{
    const int64_t E = p->n_embd, q = (int64_t)head_dim(p) * p->n_head;
    char n[64];
    emit(fn, user, "token_embd.weight", ROLE_TOKEN_EMBD, E, p->n_vocab, -1);
    for (int stack = 0; stack < 2; stack++) {
        const char *st = stack ? "dec" : "enc";
        for (int i = 0; i < p->n_layer; i++) {
#define T(fmt, role, a, b)                                                                         \
    do {                                                                                           \
        snprintf(n, sizeof n, "%s.blk.%d." fmt, st, i);                                            \
        emit(fn, user, n, role, a, b, i);                                                          \
    } while (0)
            T("attn_norm.weight", ROLE_NORM, E, 1);
            if (i == 0) T("attn_rel_b.weight", ROLE_REL_B, p->n_head, p->rel_buckets);
            T("attn_q.weight", ROLE_ATTN_Q, E, q);
            T("attn_k.weight", ROLE_ATTN_K, E, q);
            T("attn_v.weight", ROLE_ATTN_V, E, q);
            T("attn_o.weight", ROLE_ATTN_OUT, q, E);
            if (stack) {
                T("cross_attn_norm.weight", ROLE_NORM, E, 1);
                T("cross_attn_q.weight", ROLE_ATTN_Q, E, q);
                T("cross_attn_k.weight", ROLE_ATTN_K, E, q);
                T("cross_attn_v.weight", ROLE_ATTN_V, E, q);
                T("cross_attn_o.weight", ROLE_ATTN_OUT, q, E);
            }
            T("ffn_norm.weight", ROLE_NORM, E, 1);
            T("ffn_gate.weight", ROLE_FFN_GATE, E, p->n_ff);
            T("ffn_up.weight", ROLE_FFN_UP, E, p->n_ff);
            T("ffn_down.weight", ROLE_FFN_DOWN, p->n_ff, E);
#undef T
        }
        snprintf(n, sizeof n, "%s.output_norm.weight", st);
        emit(fn, user, n, ROLE_NORM, E, 1, -1);
    }
    if (!p->tied_embeddings) emit(fn, user, "output.weight", ROLE_OUTPUT, E, p->n_vocab, -1);
}

/* The tensors llama.cpp's loader expects for the preset's architecture, in
 * the order the converters write them. */
static void for_each_tensor(const eb_preset *p, spec_fn fn, void *user)
{
    if (p->encoder_decoder) {
        for_each_t5_tensor(p, fn, user);
        return;
    }
    const int64_t E = p->n_embd, hd = head_dim(p);
    const int64_t q = hd * p->n_head, kv = hd * p->n_head_kv;
    char n[64];
    emit(fn, user, "token_embd.weight", ROLE_TOKEN_EMBD, E, p->n_vocab, -1);
    if (p->llama3_rope_factor > 0)
        emit(fn, user, "rope_freqs.weight", ROLE_ROPE_FREQS, hd / 2, 1, -1);
    for (int i = 0; i < p->n_layer; i++) {
#define T(fmt, role, a, b)                                                                         \
    do {                                                                                           \
        snprintf(n, sizeof n, "blk.%d." fmt, i);                                                   \
        emit(fn, user, n, role, a, b, i);                                                          \
    } while (0)
        T("attn_norm.weight", ROLE_NORM, E, 1);
        if (p->fused_qkv) {
            T("attn_qkv.weight", ROLE_ATTN_QKV, E, q + 2 * kv);
        } else {
            T("attn_q.weight", ROLE_ATTN_Q, E, q);
            T("attn_k.weight", ROLE_ATTN_K, E, kv);
            T("attn_v.weight", ROLE_ATTN_V, E, kv);
            if (p->qkv_bias) {
                T("attn_q.bias", ROLE_BIAS, q, 1);
                T("attn_k.bias", ROLE_BIAS, kv, 1);
                T("attn_v.bias", ROLE_BIAS, kv, 1);
            }
        }
        T("attn_output.weight", ROLE_ATTN_OUT, q, E);
        if (p->post_norms) T("post_attention_norm.weight", ROLE_NORM, E, 1);
        T("ffn_norm.weight", ROLE_NORM, E, 1);
        if (p->fused_gate_up) {
            T("ffn_up.weight", ROLE_FFN_UP, E, 2 * (int64_t)p->n_ff);
        } else {
            T("ffn_gate.weight", ROLE_FFN_GATE, E, p->n_ff);
            T("ffn_up.weight", ROLE_FFN_UP, E, p->n_ff);
        }
        T("ffn_down.weight", ROLE_FFN_DOWN, p->n_ff, E);
        if (p->post_norms) T("post_ffw_norm.weight", ROLE_NORM, E, 1);
#undef T
    }
    emit(fn, user, "output_norm.weight", ROLE_NORM, E, 1, -1);
    if (!p->tied_embeddings) emit(fn, user, "output.weight", ROLE_OUTPUT, E, p->n_vocab, -1);
}

static enum ggml_type base_type(eb_synth_type t)
{
    switch (t) {
    case EB_SYNTH_F16:
        return GGML_TYPE_F16;
    case EB_SYNTH_Q8_0:
        return GGML_TYPE_Q8_0;
    case EB_SYNTH_Q4_0:
        return GGML_TYPE_Q4_0;
    case EB_SYNTH_Q4_K_M:
        return GGML_TYPE_Q4_K;
    default:
        return GGML_TYPE_F32;
    }
}

static int llama_ftype(eb_synth_type t)
{
    /* enum llama_ftype values (llama.h) */
    switch (t) {
    case EB_SYNTH_F16:
        return 1;
    case EB_SYNTH_Q8_0:
        return 7;
    case EB_SYNTH_Q4_0:
        return 2;
    case EB_SYNTH_Q4_K_M:
        return 15;
    default:
        return 0;
    }
}

static bool use_more_bits(int i, int n)
{
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

/* The per-tensor type that llama.cpp's quantizer (llama-quant.cpp) picks for
 * these file types, including its fallbacks for rows that do not divide into
 * the type's blocks, so a synthetic file has the tensor types a real one has. */
static enum ggml_type tensor_type(const eb_preset *p, eb_synth_type t, const tensor_spec *s)
{
    if (s->ne1 == 1 || s->role == ROLE_REL_B) return GGML_TYPE_F32;
    enum ggml_type ty = base_type(t);
    if (t == EB_SYNTH_F16) return ty;
    if (s->role == ROLE_OUTPUT || (p->tied_embeddings && s->role == ROLE_TOKEN_EMBD)) {
        if (s->ne0 % ggml_blck_size(ty) != 0)
            ty = GGML_TYPE_Q8_0;
        else if (ty != GGML_TYPE_Q8_0)
            ty = GGML_TYPE_Q6_K;
    } else if (t == EB_SYNTH_Q4_K_M) {
        if (s->role == ROLE_ATTN_V && use_more_bits(s->layer, p->n_layer))
            ty = GGML_TYPE_Q6_K;
        else if (s->role == ROLE_FFN_DOWN && use_more_bits(s->layer, p->n_layer))
            ty = GGML_TYPE_Q6_K;
        else if (s->role == ROLE_ATTN_QKV)
            ty = GGML_TYPE_Q5_K;
    }
    if (s->ne0 % ggml_blck_size(ty) != 0) {
        switch (ty) {
        case GGML_TYPE_Q4_K:
            ty = GGML_TYPE_Q5_0;
            break;
        case GGML_TYPE_Q5_K:
            ty = GGML_TYPE_Q5_1;
            break;
        case GGML_TYPE_Q6_K:
            ty = GGML_TYPE_Q8_0;
            break;
        default:
            break;
        }
        if (s->ne0 % ggml_blck_size(ty) != 0) ty = GGML_TYPE_F16;
    }
    return ty;
}

typedef struct count_acc {
    const eb_preset *p;
    eb_synth_type t;
    uint64_t params, bytes;
} count_acc;

static void count_cb(void *user, const tensor_spec *s)
{
    count_acc *a = user;
    a->params += (uint64_t)(s->ne0 * s->ne1);
    enum ggml_type ty = tensor_type(a->p, a->t, s);
    a->bytes += ggml_row_size(ty, s->ne0) * (uint64_t)s->ne1;
}

uint64_t eb_preset_n_params(const eb_preset *p)
{
    count_acc a = {.p = p, .t = EB_SYNTH_F16};
    for_each_tensor(p, count_cb, &a);
    return a.params;
}

uint64_t eb_preset_weights_bytes(const eb_preset *p, eb_synth_type t)
{
    count_acc a = {.p = p, .t = t};
    for_each_tensor(p, count_cb, &a);
    return a.bytes;
}

typedef struct shape_acc {
    const eb_preset *p;
    eb_synth_type t;
    eb_model_shape *s;
    uint64_t embd_bytes, embd_row, embd_params, output_params, encoder_bytes, encoder_matmul;
    uint64_t type_bytes[GGML_TYPE_COUNT];
} shape_acc;

static void shape_cb(void *user, const tensor_spec *s)
{
    shape_acc *a = user;
    enum ggml_type ty = tensor_type(a->p, a->t, s);
    uint64_t params = (uint64_t)(s->ne0 * s->ne1),
             bytes = ggml_row_size(ty, s->ne0) * (uint64_t)s->ne1;
    a->s->n_params += params;
    a->s->weights_bytes += bytes;
    if (s->role == ROLE_TOKEN_EMBD) {
        a->embd_bytes = bytes;
        a->embd_row = ggml_row_size(ty, s->ne0);
        a->embd_params = params;
        return;
    }
    if (s->role == ROLE_OUTPUT) a->output_params = params;
    bool encoder = strncmp(s->name, "enc.", 4) == 0;
    if (encoder) a->encoder_bytes += bytes;
    if (encoder && s->ne1 > 1 && s->role != ROLE_REL_B) a->encoder_matmul += params;
    if (s->ne1 > 1 && s->role != ROLE_REL_B) {
        a->s->matmul_params += params;
        if (s->role != ROLE_OUTPUT) a->type_bytes[ty] += bytes;
    }
}

void eb_preset_shape(const eb_preset *p, eb_synth_type t, eb_model_shape *out)
{
    memset(out, 0, sizeof *out);
    shape_acc a = {.p = p, .t = t, .s = out};
    for_each_tensor(p, shape_cb, &a);
    if (p->tied_embeddings) out->matmul_params += a.embd_params;
    out->output_params = a.output_params ? a.output_params : a.embd_params;
    out->streamed_bytes = out->weights_bytes - (p->tied_embeddings ? 0 : a.embd_bytes - a.embd_row);
    if (p->encoder_decoder) {
        /* as eb_model_shape_read: the prompt runs the encoder, a token the
         * decoder and the output matrix */
        out->has_encoder = true;
        out->streamed_bytes -= a.encoder_bytes;
        out->matmul_params = a.encoder_matmul;
        out->output_params = 0;
    }
    out->kv_bytes_per_pos =
        (uint64_t)p->n_layer * (uint64_t)p->n_head_kv * 2u * (uint64_t)head_dim(p) * 2u;
    out->n_layer = p->n_layer;
    out->n_embd = p->n_embd;
    out->n_ff = p->n_ff;
    out->n_vocab = p->n_vocab;
    out->n_head = p->n_head;
    out->n_head_kv = p->n_head_kv;
    out->n_ctx_train = p->n_ctx_train;
    int main_t = 0;
    for (int i = 0; i < GGML_TYPE_COUNT; i++)
        if (a.type_bytes[i] > a.type_bytes[main_t]) main_t = i;
    out->main_type_bytes = a.type_bytes[main_t];
    eb_kernel_type(ggml_type_name((enum ggml_type)main_t), out->main_type, sizeof out->main_type);
}

static const char *const type_names[EB_SYNTH_TYPE_COUNT] = {"F16", "Q8_0", "Q4_0", "Q4_K_M"};

const char *eb_synth_type_name(eb_synth_type t)
{
    return t < EB_SYNTH_TYPE_COUNT ? type_names[t] : "?";
}

bool eb_synth_type_parse(const char *s, eb_synth_type *out)
{
    for (int i = 0; i < EB_SYNTH_TYPE_COUNT; i++)
        if (s && strcasecmp(s, type_names[i]) == 0) {
            *out = (eb_synth_type)i;
            return true;
        }
    return false;
}

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

/* ---- metadata -------------------------------------------------------------- */

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

static void set_u32(struct gguf_context *g, const eb_preset *p, const char *suffix, uint32_t v)
{
    char k[128];
    snprintf(k, sizeof k, "%s.%s", p->arch, suffix);
    gguf_set_val_u32(g, k, v);
}

static void set_f32(struct gguf_context *g, const eb_preset *p, const char *suffix, float v)
{
    char k[128];
    snprintf(k, sizeof k, "%s.%s", p->arch, suffix);
    gguf_set_val_f32(g, k, v);
}

static void set_metadata(struct gguf_context *g, const eb_preset *p, eb_synth_type t, uint64_t seed)
{
    char name[160];
    snprintf(name, sizeof name, "%s (synthetic, random weights)", p->display);
    gguf_set_val_str(g, "general.architecture", p->arch);
    gguf_set_val_str(g, "general.type", "model");
    gguf_set_val_str(g, "general.name", name);
    gguf_set_val_u32(g, "general.file_type", (uint32_t)llama_ftype(t));
    gguf_set_val_u32(g, "general.quantization_version", GGML_QNT_VERSION);
    gguf_set_val_bool(g, "edgebench.synthetic", true);
    gguf_set_val_str(g, "edgebench.preset", p->name);
    gguf_set_val_u64(g, "edgebench.seed", seed);
    gguf_set_val_u32(g, "edgebench.synth_format", EB_SYNTH_FORMAT);

    const int hd = head_dim(p);
    set_u32(g, p, "context_length", (uint32_t)p->n_ctx_train);
    set_u32(g, p, "embedding_length", (uint32_t)p->n_embd);
    set_u32(g, p, "block_count", (uint32_t)p->n_layer);
    set_u32(g, p, "feed_forward_length", (uint32_t)p->n_ff);
    set_u32(g, p, "attention.head_count", (uint32_t)p->n_head);
    set_u32(g, p, "attention.head_count_kv", (uint32_t)p->n_head_kv);
    set_u32(g, p, "vocab_size", (uint32_t)p->n_vocab);
    set_f32(g, p, "attention.layer_norm_rms_epsilon", p->rms_eps);
    if (p->encoder_decoder) {
        /* T5: relative positions instead of RoPE; decoding starts at <pad> */
        set_u32(g, p, "attention.relative_buckets_count", (uint32_t)p->rel_buckets);
        set_u32(g, p, "decoder_start_token_id", 0);
    } else {
        set_u32(g, p, "rope.dimension_count", (uint32_t)hd);
        set_f32(g, p, "rope.freq_base", p->rope_freq_base);
    }
    if (p->head_dim) {
        set_u32(g, p, "attention.key_length", (uint32_t)hd);
        set_u32(g, p, "attention.value_length", (uint32_t)hd);
    }
    if (p->attn_softcap > 0) set_f32(g, p, "attn_logit_softcapping", p->attn_softcap);
    if (p->final_softcap > 0) set_f32(g, p, "final_logit_softcapping", p->final_softcap);
    if (p->sliding_window > 0)
        set_u32(g, p, "attention.sliding_window", (uint32_t)p->sliding_window);
}

/* ---- tensor data ----------------------------------------------------------- */

/* Llama 3.1 frequency scaling, as the converters compute rope_freqs. */
static void llama3_rope_freqs(const eb_preset *p, float *out, int64_t n)
{
    const double factor = p->llama3_rope_factor, low = 1.0, high = 4.0, old_ctx = 8192.0;
    const double low_wl = old_ctx / low, high_wl = old_ctx / high;
    const int dim = head_dim(p);
    for (int64_t i = 0; i < n; i++) {
        double freq = 1.0 / pow(p->rope_freq_base, (double)(2 * i) / dim);
        double wl = 2.0 * M_PI / freq;
        if (wl < high_wl)
            out[i] = 1.0f;
        else if (wl > low_wl)
            out[i] = (float)factor;
        else {
            double smooth = (old_ctx / wl - low) / (high - low);
            out[i] = (float)(1.0 / ((1.0 - smooth) / factor + smooth));
        }
    }
}

static void fill_random(float *dst, size_t n, uint64_t *rng)
{
    /* Uniform with the variance of N(0, WEIGHT_STD^2): cheap and bounded. */
    const float a = WEIGHT_STD * 1.7320508f;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = eb_rng_next(rng);
        dst[i] = ((float)(r >> 40) * (1.0f / 16777216.0f) * 2.0f - 1.0f) * a;
    }
}

typedef struct write_ctx {
    const eb_preset *p;
    eb_synth_type t;
    struct ggml_context *gctx;
    struct gguf_context *g;
    FILE *f;
    const eb_synth_options *opt;
    uint64_t rng;
    uint64_t total_bytes, done_bytes;
    float *fbuf;
    void *qbuf;
    size_t qcap;
    eb_status st;
    eb_error *err;
    const char *path;
} write_ctx;

static void add_tensor_cb(void *user, const tensor_spec *s)
{
    write_ctx *w = user;
    enum ggml_type ty = tensor_type(w->p, w->t, s);
    struct ggml_tensor *t = s->ne1 == 1 ? ggml_new_tensor_1d(w->gctx, ty, s->ne0)
                                        : ggml_new_tensor_2d(w->gctx, ty, s->ne0, s->ne1);
    ggml_set_name(t, s->name);
    gguf_add_tensor(w->g, t);
    w->total_bytes += ggml_nbytes(t);
}

static void write_tensor_cb(void *user, const tensor_spec *s)
{
    write_ctx *w = user;
    if (w->st != EB_OK) return;
    enum ggml_type ty = tensor_type(w->p, w->t, s);
    const int64_t rows_per_chunk =
        s->ne0 >= (int64_t)CHUNK_ELEMS ? 1 : (int64_t)CHUNK_ELEMS / s->ne0;
    size_t written = 0;
    for (int64_t r0 = 0; r0 < s->ne1; r0 += rows_per_chunk) {
        int64_t nr = s->ne1 - r0 < rows_per_chunk ? s->ne1 - r0 : rows_per_chunk;
        size_t ne = (size_t)(nr * s->ne0);
        if (s->role == ROLE_NORM) {
            for (size_t i = 0; i < ne; i++)
                w->fbuf[i] = 1.0f;
        } else if (s->role == ROLE_BIAS) {
            memset(w->fbuf, 0, ne * sizeof(float));
        } else if (s->role == ROLE_ROPE_FREQS) {
            llama3_rope_freqs(w->p, w->fbuf, (int64_t)ne);
        } else {
            fill_random(w->fbuf, ne, &w->rng);
        }
        size_t bytes;
        const void *out;
        if (ty == GGML_TYPE_F32) {
            bytes = ne * sizeof(float);
            out = w->fbuf;
        } else {
            bytes = ggml_quantize_chunk(ty, w->fbuf, w->qbuf, 0, nr, s->ne0, NULL);
            out = w->qbuf;
        }
        if (fwrite(out, 1, bytes, w->f) != bytes) {
            w->st = eb_fail(w->err, EB_E_IO, "%s: write failed: %s", w->path, strerror(errno));
            return;
        }
        written += bytes;
        w->done_bytes += bytes;
        if (w->opt && w->opt->progress)
            w->opt->progress(w->opt->progress_user, w->done_bytes, w->total_bytes);
    }
    size_t align = gguf_get_alignment(w->g);
    static const char zeros[64];
    size_t pad = (align - written % align) % align;
    if (pad && fwrite(zeros, 1, pad, w->f) != pad)
        w->st = eb_fail(w->err, EB_E_IO, "%s: write failed: %s", w->path, strerror(errno));
}

static void count_tensor_cb(void *user, const tensor_spec *s)
{
    (void)s;
    (*(size_t *)user)++;
}

eb_status eb_synth_write(const eb_preset *p, eb_synth_type t, const char *path,
                         const eb_synth_options *opt, eb_error *err)
{
    if (!p || t >= EB_SYNTH_TYPE_COUNT || !path)
        return eb_fail(err, EB_E_INVALID_ARG, "synth: preset, type and output path are required");
    eb_synth_options defaults = {.seed = 42};
    if (!opt) opt = &defaults;

    write_ctx w = {.p = p, .t = t, .opt = opt, .rng = opt->seed, .err = err, .path = path};
    size_t n_tensors = 0;
    for_each_tensor(p, count_tensor_cb, &n_tensors);
    struct ggml_init_params ip = {
        .mem_size = n_tensors * ggml_tensor_overhead(), .mem_buffer = NULL, .no_alloc = true};
    w.gctx = ggml_init(ip);
    w.g = gguf_init_empty();
    if (!w.gctx || !w.g) {
        if (w.gctx) ggml_free(w.gctx);
        if (w.g) gguf_free(w.g);
        return eb_fail(err, EB_E_NO_MEMORY, "synth: cannot allocate metadata");
    }
    set_metadata(w.g, p, t, opt->seed);
    eb_status st = p->encoder_decoder ? t5_vocab(w.g, p, opt->vocab_dir, err)
                                      : copy_vocab(w.g, p, opt->vocab_dir, err);
    if (st == EB_OK) for_each_tensor(p, add_tensor_cb, &w);

    char part[1100];
    snprintf(part, sizeof part, "%s.part", path);
    size_t meta_size = st == EB_OK ? gguf_get_meta_size(w.g) : 0;
    void *meta = st == EB_OK ? malloc(meta_size) : NULL;
    if (st == EB_OK && !meta)
        st = eb_fail(err, EB_E_NO_MEMORY, "synth: metadata of %zu bytes", meta_size);
    if (st == EB_OK) {
        gguf_get_meta_data(w.g, meta);
        w.f = fopen(part, "wb");
        if (!w.f) st = eb_fail(err, EB_E_IO, "%s: %s", part, strerror(errno));
    }
    if (st == EB_OK && fwrite(meta, 1, meta_size, w.f) != meta_size)
        st = eb_fail(err, EB_E_IO, "%s: write failed: %s", part, strerror(errno));
    free(meta);

    if (st == EB_OK && opt->metadata_only) {
        /* Sparse data region: the tensor bytes exist as a hole of zeros. */
        int64_t last = gguf_get_n_tensors(w.g) - 1;
        uint64_t end =
            meta_size + gguf_get_tensor_offset(w.g, last) + gguf_get_tensor_size(w.g, last);
        if (fflush(w.f) != 0 || ftruncate(fileno(w.f), (off_t)end) != 0)
            st = eb_fail(err, EB_E_IO, "%s: %s", part, strerror(errno));
    } else if (st == EB_OK) {
        w.fbuf = malloc(CHUNK_ELEMS * sizeof(float));
        w.qbuf = malloc(CHUNK_ELEMS * sizeof(float));
        if (!w.fbuf || !w.qbuf)
            st = eb_fail(err, EB_E_NO_MEMORY, "synth: chunk buffers");
        else {
            w.st = EB_OK;
            for_each_tensor(p, write_tensor_cb, &w);
            st = w.st;
        }
        free(w.fbuf);
        free(w.qbuf);
    }
    if (w.f) {
        if (fflush(w.f) != 0 || fsync(fileno(w.f)) != 0) {
            if (st == EB_OK) st = eb_fail(err, EB_E_IO, "%s: %s", part, strerror(errno));
        }
        fclose(w.f);
    }
    gguf_free(w.g);
    ggml_free(w.gctx);
    if (st == EB_OK && rename(part, path) != 0)
        st = eb_fail(err, EB_E_IO, "cannot rename %s to %s: %s", part, path, strerror(errno));
    if (st != EB_OK) unlink(part);
    return st;
}

eb_status eb_synth_cached(const eb_preset *p, eb_synth_type t, const eb_synth_options *opt,
                          char *path, size_t cap, bool *created, eb_error *err)
{
    char dir[900];
    *created = false;
    eb_status st = eb_cache_dir(dir, sizeof dir, err);
    if (st != EB_OK) return st;
    strncat(dir, "/models", sizeof dir - strlen(dir) - 1);
    if ((st = eb_mkdirs(dir, err)) != EB_OK) return st;
    uint64_t seed = opt ? opt->seed : 42;
    int n = snprintf(path, cap, "%s/%s-%s-s%llu-v%d.gguf", dir, p->name, eb_synth_type_name(t),
                     (unsigned long long)seed, EB_SYNTH_FORMAT);
    if (n < 0 || (size_t)n >= cap) return eb_fail(err, EB_E_INVALID_ARG, "cache path too long");
    struct stat sb;
    if (stat(path, &sb) == 0) return EB_OK;
    eb_synth_options o = opt ? *opt : (eb_synth_options){.seed = 42};
    o.metadata_only = false;
    st = eb_synth_write(p, t, path, &o, err);
    if (st == EB_OK) *created = true;
    return st;
}
