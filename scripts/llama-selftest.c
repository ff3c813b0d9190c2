/* The llama.cpp build's self-test, run by scripts/llama-setup.sh before a
 * build is cached: a tiny llama model with random weights in each weight
 * type the presets and tests use, loaded through the built libraries, a
 * prefill batch and token-by-token generation on one thread and on all,
 * with weight repacking on and off. Every CPU kernel path the default run
 * and the suite take (batched and single-row matrix products, AMX or repack
 * buffers) runs here first.
 *
 *   llama-selftest VOCAB.gguf WORKDIR
 *
 * Prints "features <list>" (the instruction-set features the built ggml-cpu
 * uses, from the library itself) and one line per case, then "ok". A wrong
 * result (non-finite logits, or a batched prefill that disagrees with the
 * same tokens evaluated one by one) exits 3; a crash is seen by the caller
 * as a signal, a hang by its timeout. EDGEBENCH_SELFTEST_FAIL=crash|wrong
 * makes it fail that way, so the fallback can be tested. */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ggml-cpu.h"
#include "ggml.h"
#include "gguf.h"
#include "llama.h"

#define N_EMBD 256
#define N_FF 512
#define N_HEAD 4
#define N_HEAD_KV 2
#define N_LAYER 2
#define N_PROMPT 48
/* Largest relative difference between the batched and the one-by-one
 * evaluation of the same tokens. The two take different kernels (matrix x
 * matrix against matrix x vector) and round differently: on a correct
 * build here they differ by 0 to 1.3e-2 in relative RMS (Q4_K_M with
 * repacking the most); a broken kernel gives differences of order 1. */
#define MAX_REL_DIFF 0.1

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static float rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return ((float)(rng_state >> 40) / 16777216.0f - 0.5f) * 0.2f;
}

static void quiet_log(enum ggml_log_level level, const char *text, void *user)
{
    (void)user;
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

typedef struct wtype {
    const char *name;
    enum ggml_type main, out; /* most matrices; output and ffn_down */
    uint32_t ftype;           /* llama_ftype */
} wtype;

static const wtype types[] = {
    {"F16", GGML_TYPE_F16, GGML_TYPE_F16, 1},
    {"Q8_0", GGML_TYPE_Q8_0, GGML_TYPE_Q8_0, 7},
    {"Q4_0", GGML_TYPE_Q4_0, GGML_TYPE_Q4_0, 2},
    {"Q4_K_M", GGML_TYPE_Q4_K, GGML_TYPE_Q6_K, 15},
};

static struct ggml_tensor *add_weight(struct ggml_context *g, struct gguf_context *gg,
                                      const char *name, enum ggml_type t, int64_t ne0, int64_t ne1)
{
    struct ggml_tensor *w =
        ne1 ? ggml_new_tensor_2d(g, t, ne0, ne1) : ggml_new_tensor_1d(g, GGML_TYPE_F32, ne0);
    ggml_set_name(w, name);
    int64_t n = ne0 * (ne1 ? ne1 : 1);
    float *src = malloc((size_t)n * sizeof *src);
    if (!src) return NULL;
    for (int64_t i = 0; i < n; i++)
        src[i] = ne1 ? rnd() : 1.0f;
    if (!ne1)
        memcpy(w->data, src, (size_t)n * sizeof *src);
    else
        ggml_quantize_chunk(t, src, w->data, 0, ne1, ne0, NULL);
    free(src);
    gguf_add_tensor(gg, w);
    return w;
}

static int write_model(const char *vocab_path, const wtype *wt, const char *path)
{
    struct ggml_context *vctx = NULL;
    struct gguf_init_params vp = {.no_alloc = true, .ctx = &vctx};
    struct gguf_context *vocab = gguf_init_from_file(vocab_path, vp);
    if (!vocab) {
        fprintf(stderr, "selftest: cannot read %s\n", vocab_path);
        return 1;
    }
    int64_t tk = gguf_find_key(vocab, "tokenizer.ggml.tokens");
    int64_t n_vocab = tk >= 0 ? (int64_t)gguf_get_arr_n(vocab, tk) : 0;
    struct gguf_context *gg = gguf_init_empty();
    gguf_set_kv(gg, vocab);
    gguf_free(vocab);
    ggml_free(vctx);
    gguf_set_val_str(gg, "general.architecture", "llama");
    gguf_set_val_str(gg, "general.name", "edgebench build self-test (random weights)");
    gguf_set_val_u32(gg, "general.file_type", wt->ftype);
    gguf_set_val_u32(gg, "general.quantization_version", GGML_QNT_VERSION);
    gguf_set_val_u32(gg, "llama.context_length", 512);
    gguf_set_val_u32(gg, "llama.embedding_length", N_EMBD);
    gguf_set_val_u32(gg, "llama.block_count", N_LAYER);
    gguf_set_val_u32(gg, "llama.feed_forward_length", N_FF);
    gguf_set_val_u32(gg, "llama.attention.head_count", N_HEAD);
    gguf_set_val_u32(gg, "llama.attention.head_count_kv", N_HEAD_KV);
    gguf_set_val_u32(gg, "llama.rope.dimension_count", N_EMBD / N_HEAD);
    gguf_set_val_f32(gg, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    gguf_set_val_u32(gg, "llama.vocab_size", (uint32_t)n_vocab);

    const int64_t kv = (int64_t)N_EMBD / N_HEAD * N_HEAD_KV;
    size_t bytes = 0;
    const enum ggml_type all[] = {wt->main, wt->out, GGML_TYPE_F32};
    for (size_t i = 0; i < 3; i++)
        bytes += ggml_row_size(all[i], N_EMBD) * (size_t)n_vocab * 2 +
                 ggml_row_size(all[i], N_FF) * N_EMBD * 4 * N_LAYER;
    struct ggml_init_params ip = {.mem_size = bytes + (1u << 20), .mem_buffer = NULL};
    struct ggml_context *g = ggml_init(ip);
    if (!g || n_vocab <= 0) {
        fprintf(stderr, "selftest: no memory or no vocabulary\n");
        return 1;
    }
    int ok = add_weight(g, gg, "token_embd.weight", wt->main, N_EMBD, n_vocab) &&
             add_weight(g, gg, "output_norm.weight", GGML_TYPE_F32, N_EMBD, 0) &&
             add_weight(g, gg, "output.weight", wt->out, N_EMBD, n_vocab);
    for (int l = 0; ok && l < N_LAYER; l++) {
        char n[64];
#define W(suffix, t, a, b)                                                                         \
    (snprintf(n, sizeof n, "blk.%d.%s", l, suffix), add_weight(g, gg, n, t, a, b) != NULL)
        ok = W("attn_norm.weight", GGML_TYPE_F32, N_EMBD, 0) &&
             W("attn_q.weight", wt->main, N_EMBD, N_EMBD) &&
             W("attn_k.weight", wt->main, N_EMBD, kv) && W("attn_v.weight", wt->main, N_EMBD, kv) &&
             W("attn_output.weight", wt->main, N_EMBD, N_EMBD) &&
             W("ffn_norm.weight", GGML_TYPE_F32, N_EMBD, 0) &&
             W("ffn_gate.weight", wt->main, N_EMBD, N_FF) &&
             W("ffn_up.weight", wt->main, N_EMBD, N_FF) &&
             W("ffn_down.weight", wt->out, N_FF, N_EMBD);
#undef W
    }
    ok = ok && gguf_write_to_file(gg, path, false);
    gguf_free(gg);
    ggml_free(g);
    if (!ok) fprintf(stderr, "selftest: cannot write %s\n", path);
    return ok ? 0 : 1;
}

static float *logits_copy(struct llama_context *c, int idx, int n_vocab)
{
    const float *l = llama_get_logits_ith(c, idx);
    float *out = l ? malloc((size_t)n_vocab * sizeof *out) : NULL;
    if (out) memcpy(out, l, (size_t)n_vocab * sizeof *out);
    return out;
}

/* Relative RMS difference, or INFINITY where either has a non-finite value. */
static double rel_diff(const float *a, const float *b, int n)
{
    double d = 0, s = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i])) return INFINITY;
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        s += (double)a[i] * a[i];
    }
    return s > 0 ? sqrt(d / s) : (d > 0 ? INFINITY : 0);
}

/* One case: the prompt as one batch, then the same tokens one by one (the
 * generation path). Returns 0, or 3 for a wrong result. */
static int run_case(struct llama_model *m, const char *type, int threads, bool repack)
{
    printf("case %s threads=%d repack=%s\n", type, threads, repack ? "on" : "off");
    fflush(stdout);
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 256;
    cp.n_batch = cp.n_ubatch = N_PROMPT;
    cp.n_threads = cp.n_threads_batch = threads;
    struct llama_context *c = llama_init_from_model(m, cp);
    if (!c) {
        printf("wrong %s threads=%d: no context\n", type, threads);
        return 3;
    }
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(m));
    llama_token tok[N_PROMPT];
    for (int i = 0; i < N_PROMPT; i++)
        tok[i] = 3 + (llama_token)((uint32_t)(i * 2654435761u) % (uint32_t)(n_vocab - 3));
    int rc = 0;
    float *batched = NULL, *single = NULL;
    if (llama_decode(c, llama_batch_get_one(tok, N_PROMPT)) != 0 ||
        !(batched = logits_copy(c, -1, n_vocab))) {
        printf("wrong %s threads=%d: prefill failed\n", type, threads);
        rc = 3;
    }
    llama_memory_clear(llama_get_memory(c), true);
    for (int i = 0; rc == 0 && i < N_PROMPT; i++)
        if (llama_decode(c, llama_batch_get_one(&tok[i], 1)) != 0) {
            printf("wrong %s threads=%d: generation failed\n", type, threads);
            rc = 3;
        }
    if (rc == 0 && !(single = logits_copy(c, -1, n_vocab))) rc = 3;
    if (rc == 0) {
        double d = rel_diff(batched, single, n_vocab);
        const char *fail = getenv("EDGEBENCH_SELFTEST_FAIL");
        if (fail && strcmp(fail, "wrong") == 0) d = INFINITY;
        if (fail && strcmp(fail, "crash") == 0) raise(SIGSEGV);
        printf("%s %s threads=%d repack=%s: prefill against one by one %.2e (limit %.0e)\n",
               d <= MAX_REL_DIFF ? "pass" : "wrong", type, threads, repack ? "on" : "off", d,
               MAX_REL_DIFF);
        if (!(d <= MAX_REL_DIFF)) rc = 3;
    }
    free(batched);
    free(single);
    llama_free(c);
    return rc;
}

static void features(void)
{
    static const struct {
        const char *name;
        int (*has)(void);
    } f[] = {
        {"sse3", ggml_cpu_has_sse3},
        {"ssse3", ggml_cpu_has_ssse3},
        {"avx", ggml_cpu_has_avx},
        {"avx_vnni", ggml_cpu_has_avx_vnni},
        {"avx2", ggml_cpu_has_avx2},
        {"bmi2", ggml_cpu_has_bmi2},
        {"f16c", ggml_cpu_has_f16c},
        {"fma", ggml_cpu_has_fma},
        {"avx512", ggml_cpu_has_avx512},
        {"avx512_vbmi", ggml_cpu_has_avx512_vbmi},
        {"avx512_vnni", ggml_cpu_has_avx512_vnni},
        {"avx512_bf16", ggml_cpu_has_avx512_bf16},
        {"amx_int8", ggml_cpu_has_amx_int8},
        {"neon", ggml_cpu_has_neon},
        {"arm_fma", ggml_cpu_has_arm_fma},
        {"fp16_va", ggml_cpu_has_fp16_va},
        {"dotprod", ggml_cpu_has_dotprod},
        {"matmul_int8", ggml_cpu_has_matmul_int8},
        {"sve", ggml_cpu_has_sve},
        {"sme", ggml_cpu_has_sme},
    };
    printf("features");
    const char *sep = " ";
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].has()) {
            printf("%s%s", sep, f[i].name);
            sep = ",";
        }
    printf("\n");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: llama-selftest VOCAB.gguf WORKDIR\n");
        return 2;
    }
    features();
    llama_log_set(quiet_log, NULL);
    llama_backend_init();
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int thread_counts[2] = {1, ncpu > 1 ? (int)ncpu : 1};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/selftest-%s.gguf", argv[2], types[t].name);
        if (write_model(argv[1], &types[t], path) != 0) return 1;
        for (int repack = 1; repack >= 0; repack--) {
            struct llama_model_params mp = llama_model_default_params();
            mp.use_extra_bufts = repack;
            struct llama_model *m = llama_model_load_from_file(path, mp);
            if (!m) {
                printf("wrong %s: the model did not load\n", types[t].name);
                return 3;
            }
            for (int k = 0; k < 2; k++) {
                if (k == 1 && thread_counts[1] == 1) break;
                int rc = run_case(m, types[t].name, thread_counts[k], repack);
                if (rc != 0) return rc;
            }
            llama_model_free(m);
        }
        unlink(path);
    }
    printf("ok\n");
    return 0;
}
