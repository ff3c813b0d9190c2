/* The tensors of a synthetic preset: names, shapes and types as llama.cpp
 * loads them, and what they add up to (parameters, bytes, the shape). */
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
#include "synth_impl.h"

static void emit(spec_fn fn, void *user, const char *name, tensor_role role, int64_t ne0,
                 int64_t ne1, int layer)
{
    tensor_spec t = {.role = role, .ne0 = ne0, .ne1 = ne1, .layer = layer};
    snprintf(t.name, sizeof t.name, "%s", name);
    fn(user, &t);
}

int eb_synth_head_dim(const eb_preset *p)
{
    return p->head_dim ? p->head_dim : p->n_embd / p->n_head;
}

/* T5 (llama.cpp's "t5"): an encoder stack and a decoder stack with
 * cross-attention, gated feed-forward, the relative position bias in the
 * first layer of each stack. */
static void for_each_t5_tensor(const eb_preset *p, spec_fn fn, void *user)
{
    const int64_t E = p->n_embd, q = (int64_t)eb_synth_head_dim(p) * p->n_head;
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
void eb_synth_for_each_tensor(const eb_preset *p, spec_fn fn, void *user)
{
    if (p->encoder_decoder) {
        for_each_t5_tensor(p, fn, user);
        return;
    }
    const int64_t E = p->n_embd, hd = eb_synth_head_dim(p);
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

int eb_synth_llama_ftype(eb_synth_type t)
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
enum ggml_type eb_synth_tensor_type(const eb_preset *p, eb_synth_type t, const tensor_spec *s)
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
    enum ggml_type ty = eb_synth_tensor_type(a->p, a->t, s);
    a->bytes += ggml_row_size(ty, s->ne0) * (uint64_t)s->ne1;
}

uint64_t eb_preset_n_params(const eb_preset *p)
{
    count_acc a = {.p = p, .t = EB_SYNTH_F16};
    eb_synth_for_each_tensor(p, count_cb, &a);
    return a.params;
}

uint64_t eb_preset_weights_bytes(const eb_preset *p, eb_synth_type t)
{
    count_acc a = {.p = p, .t = t};
    eb_synth_for_each_tensor(p, count_cb, &a);
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
    enum ggml_type ty = eb_synth_tensor_type(a->p, a->t, s);
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
    eb_synth_for_each_tensor(p, shape_cb, &a);
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
        (uint64_t)p->n_layer * (uint64_t)p->n_head_kv * 2u * (uint64_t)eb_synth_head_dim(p) * 2u;
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
