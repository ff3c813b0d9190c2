/* A model's shape for the roofline, read from the GGUF file's metadata and
 * tensor table without reading any weights. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "edgebench/roofline.h"
#include "ggml.h"
#include "gguf.h"

/* An integer key; an array (per-layer values) gives its largest element. */
static int64_t meta_int(const struct gguf_context *g, const char *arch, const char *suffix,
                        int64_t dflt)
{
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int64_t k = gguf_find_key(g, key);
    if (k < 0) return dflt;
    switch (gguf_get_kv_type(g, k)) {
    case GGUF_TYPE_UINT32:
        return gguf_get_val_u32(g, k);
    case GGUF_TYPE_INT32:
        return gguf_get_val_i32(g, k);
    case GGUF_TYPE_UINT64:
        return (int64_t)gguf_get_val_u64(g, k);
    case GGUF_TYPE_INT64:
        return gguf_get_val_i64(g, k);
    case GGUF_TYPE_ARRAY: {
        enum gguf_type at = gguf_get_arr_type(g, k);
        size_t n = gguf_get_arr_n(g, k);
        const void *d = gguf_get_arr_data(g, k);
        int64_t best = dflt;
        for (size_t i = 0; i < n; i++) {
            int64_t v = at == GGUF_TYPE_UINT32  ? ((const uint32_t *)d)[i]
                        : at == GGUF_TYPE_INT32 ? ((const int32_t *)d)[i]
                                                : dflt;
            if (i == 0 || v > best) best = v;
        }
        return best;
    }
    default:
        return dflt;
    }
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

eb_status eb_model_shape_read(const char *path, eb_model_shape *out, eb_error *err)
{
    memset(out, 0, sizeof *out);
    struct stat sb;
    if (stat(path, &sb) != 0) return eb_fail(err, EB_E_IO, "model %s: %s", path, strerror(errno));
    struct ggml_context *meta = NULL;
    struct gguf_init_params gp = {.no_alloc = true, .ctx = &meta};
    struct gguf_context *g = gguf_init_from_file(path, gp);
    if (!g) return eb_fail(err, EB_E_NOT_GGUF, "model %s: not a readable GGUF file", path);
    char arch[64] = "";
    int64_t ak = gguf_find_key(g, "general.architecture");
    if (ak >= 0 && gguf_get_kv_type(g, ak) == GGUF_TYPE_STRING)
        snprintf(arch, sizeof arch, "%s", gguf_get_val_str(g, ak));
    out->n_layer = (int32_t)meta_int(g, arch, "block_count", 0);
    out->n_embd = (int32_t)meta_int(g, arch, "embedding_length", 0);
    out->n_ff = (int32_t)meta_int(g, arch, "feed_forward_length", 0);
    out->n_head = (int32_t)meta_int(g, arch, "attention.head_count", 0);
    out->n_head_kv = (int32_t)meta_int(g, arch, "attention.head_count_kv", out->n_head);
    out->n_ctx_train = (int32_t)meta_int(g, arch, "context_length", 0);
    int64_t hd = out->n_head > 0 ? out->n_embd / out->n_head : 0;
    int64_t k_len = meta_int(g, arch, "attention.key_length", hd);
    int64_t v_len = meta_int(g, arch, "attention.value_length", hd);
    /* An F16 cache: 2 bytes per element of K and V in every layer. */
    out->kv_bytes_per_pos =
        (uint64_t)out->n_layer * (uint64_t)out->n_head_kv * (uint64_t)(k_len + v_len) * 2u;

    uint64_t embd_bytes = 0, embd_row = 0, embd_params = 0, encoder_bytes = 0;
    uint64_t encoder_matmul = 0;
    bool has_output = false;
    uint64_t type_bytes[GGML_TYPE_COUNT] = {0};
    for (struct ggml_tensor *t = ggml_get_first_tensor(meta); t;
         t = ggml_get_next_tensor(meta, t)) {
        uint64_t bytes = ggml_nbytes(t), params = (uint64_t)ggml_nelements(t);
        out->n_params += params;
        out->weights_bytes += bytes;
        if (starts_with(t->name, "blk.")) out->layer_bytes += bytes;
        /* T5's relative position bias is a small table, not a matrix product */
        bool matrix = t->ne[1] > 1 && !strstr(t->name, "attn_rel_b");
        bool encoder = starts_with(t->name, "enc.");
        if (encoder) {
            out->has_encoder = true;
            encoder_bytes += bytes;
            if (matrix) encoder_matmul += params;
        }
        if (strcmp(t->name, "token_embd.weight") == 0) {
            embd_bytes = bytes;
            embd_row = ggml_row_size(t->type, t->ne[0]);
            embd_params = params;
            out->n_vocab = (int32_t)t->ne[1];
            continue;
        }
        if (strcmp(t->name, "output.weight") == 0) {
            has_output = true;
            out->output_params = params;
            out->output_bytes = bytes;
        }
        if (matrix) {
            out->matmul_params += params;
            if ((int)t->type >= 0 && t->type < GGML_TYPE_COUNT && strcmp(t->name, "output.weight"))
                type_bytes[t->type] += bytes;
        }
    }
    /* Tied embeddings: the table is also the output matrix, read whole. */
    if (!has_output) {
        out->matmul_params += embd_params;
        out->output_params = embd_params;
        out->output_bytes = embd_bytes;
    }
    out->streamed_bytes = out->weights_bytes - (has_output ? embd_bytes - embd_row : 0);
    if (out->has_encoder) {
        /* Generation runs only the decoder; the prompt only the encoder. */
        out->streamed_bytes -= encoder_bytes;
        out->matmul_params = encoder_matmul;
        out->output_params = 0;
    }
    int main_t = -1;
    for (int t = 0; t < GGML_TYPE_COUNT; t++)
        if (type_bytes[t] > 0 && (main_t < 0 || type_bytes[t] > type_bytes[main_t])) main_t = t;
    if (main_t >= 0) {
        out->main_type_bytes = type_bytes[main_t];
        eb_kernel_type(ggml_type_name((enum ggml_type)main_t), out->main_type,
                       sizeof out->main_type);
    }
    gguf_free(g);
    ggml_free(meta);
    return EB_OK;
}
