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
#include "synth_impl.h"

/* Bumped whenever the written bytes change, so stale cache entries are not used. */
#define EB_SYNTH_FORMAT 1
#define WEIGHT_STD 0.02f
#define CHUNK_ELEMS (4u << 20)

/* ---- metadata -------------------------------------------------------------- */

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
    gguf_set_val_u32(g, "general.file_type", (uint32_t)eb_synth_llama_ftype(t));
    gguf_set_val_u32(g, "general.quantization_version", GGML_QNT_VERSION);
    gguf_set_val_bool(g, "edgebench.synthetic", true);
    gguf_set_val_str(g, "edgebench.preset", p->name);
    gguf_set_val_u64(g, "edgebench.seed", seed);
    gguf_set_val_u32(g, "edgebench.synth_format", EB_SYNTH_FORMAT);

    const int hd = eb_synth_head_dim(p);
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
    const int dim = eb_synth_head_dim(p);
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
    enum ggml_type ty = eb_synth_tensor_type(w->p, w->t, s);
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
    enum ggml_type ty = eb_synth_tensor_type(w->p, w->t, s);
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
    eb_synth_for_each_tensor(p, count_tensor_cb, &n_tensors);
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
    eb_status st = eb_synth_vocab(w.g, p, opt->vocab_dir, err);
    if (st == EB_OK) eb_synth_for_each_tensor(p, add_tensor_cb, &w);

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
            eb_synth_for_each_tensor(p, write_tensor_cb, &w);
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
