/* The llama.cpp engine: the only file that includes llama.h. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <libgen.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "edgebench/engine.h"
#include "edgebench/util.h"
#include "engine_abort.h"
#include "engine_kernels.h"
#include "engine_log.h"
#include "engine_devices.h"
#include "engine_rpc.h"
#include "ggml-cpu.h"
#include "llama.h"

struct eb_model {
    struct llama_model *model;
    char path[1024];
    eb_offload offload; /* what the load did with --ngl */
};

struct eb_context {
    struct llama_context *ctx;
    /* Persistent worker pools, as llama.cpp's own tools attach: one for
     * generation, one for prefill, so each phase keeps its thread count. */
    struct ggml_threadpool *pool_gen;
    struct ggml_threadpool *pool_prefill;
    const struct llama_vocab *vocab;
    int32_t n_vocab;
    int n_batch;
    /* Encoder-decoder (T5): the prompt is encoded; generation starts by
     * decoding dec_start, which the first greedy_next does. */
    bool enc_dec, need_start;
    llama_token dec_start;
    eb_error pending; /* a failure inside greedy_next, given by the next decode */
    eb_ctx_info info; /* KV cache and flash attention as created */
};

/* llama.cpp logs to stderr by default; the library must not print, so the
 * warnings and errors since the last call are kept to explain a failure
 * (EDGEBENCH_ENGINE_LOG=1 shows the whole log). */
static char last_log[1024];
/* What only the log says (engine_log.c): kept from the last load and the
 * last context's creation. */
static eb_llama_log_facts logged;

static void log_cb(enum ggml_log_level level, const char *text, void *user)
{
    (void)user;
    eb_llama_log_line(&logged, text);
    eb_rpc_log_line(text);
    /* a synthetic vocabulary's token warnings explain no failure */
    bool vocab_noise = strstr(text, "control-looking token") || strstr(text, "not marked as EOG");
    if ((level == GGML_LOG_LEVEL_ERROR || level == GGML_LOG_LEVEL_WARN) && !vocab_noise) {
        size_t used = strlen(last_log), n = strlen(text);
        while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
            n--;
        if (n > 0 && used + n + 3 < sizeof last_log) {
            if (used) memcpy(last_log + used, "; ", 2), used += 2;
            memcpy(last_log + used, text, n);
            last_log[used + n] = '\0';
        }
    }
    if (getenv("EDGEBENCH_ENGINE_LOG")) fputs(text, stderr);
}

static const char *llama_version_str(void)
{
    static char v[96];
    snprintf(v, sizeof v, "%s (%.8s)", EB_LLAMA_TAG, EB_LLAMA_COMMIT);
    return v;
}

/* The record (build-info.txt) of the llama.cpp this process loaded, read
 * beside the library's folder: a build variant picked at run time
 * (--build) names itself, not the one edgebench was compiled against. */
static struct {
    int loaded;
    int n;
    char key[24][32];
    char value[24][1100];
    char prefix[1024];
} loaded_build;

static const char *loaded_fact(const char *key)
{
    if (!loaded_build.loaded) {
        loaded_build.loaded = 1;
        Dl_info info;
        if (dladdr((void *)llama_backend_init, &info) && info.dli_fname) {
            char lib[1024];
            snprintf(lib, sizeof lib, "%s", info.dli_fname);
            char *dir = dirname(lib); /* PREFIX/lib */
            char path[1100];
            snprintf(path, sizeof path, "%s/../build-info.txt", dir);
            FILE *f = fopen(path, "r");
            char line[1200];
            while (f && fgets(line, sizeof line, f) && loaded_build.n < 24) {
                char *eq = strchr(line, '=');
                if (!eq) continue;
                *eq = '\0';
                char *v = eq + 1;
                v[strcspn(v, "\n")] = '\0';
                snprintf(loaded_build.key[loaded_build.n], sizeof loaded_build.key[0], "%s", line);
                snprintf(loaded_build.value[loaded_build.n], sizeof loaded_build.value[0], "%s", v);
                loaded_build.n++;
            }
            if (f) {
                fclose(f);
                char *up = dirname(dir);
                snprintf(loaded_build.prefix, sizeof loaded_build.prefix, "%s", up);
            }
        }
    }
    for (int i = 0; i < loaded_build.n; i++)
        if (!strcmp(loaded_build.key[i], key)) return loaded_build.value[i];
    return NULL;
}

static const char *llama_build_opts(void)
{
    const char *v = loaded_fact("build_options");
    return v ? v : EB_LLAMA_BUILD_OPTIONS;
}

static const char *llama_build_fact(const char *key)
{
    const char *v = loaded_fact(key);
    if (v) return v;
    if (!strcmp(key, "prefix")) return loaded_build.prefix;
#include "llama_build_info.h"
    for (size_t i = 0; llama_build_info_rows[i][0]; i++)
        if (strcmp(llama_build_info_rows[i][0], key) == 0) return llama_build_info_rows[i][1];
    return "";
}

static const char *llama_sysinfo(void)
{
    return llama_print_system_info();
}

static eb_status llama_init(eb_error *err);

static bool is_accelerator(ggml_backend_dev_t d)
{
    enum ggml_backend_dev_type t = ggml_backend_dev_type(d);
    return t == GGML_BACKEND_DEVICE_TYPE_GPU || t == GGML_BACKEND_DEVICE_TYPE_IGPU;
}

/* The backends that have a device here, e.g. "CUDA,CPU": a CUDA build on a
 * machine without a GPU says "CPU". */
static const char *llama_backend_name(void)
{
    static char names[96];
    llama_init(NULL);
    names[0] = '\0';
    for (size_t i = 0; i < ggml_backend_reg_count(); i++) {
        ggml_backend_reg_t reg = ggml_backend_reg_get(i);
        if (ggml_backend_reg_dev_count(reg) == 0) continue;
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", used ? "," : "",
                 ggml_backend_reg_name(reg));
    }
    return names[0] ? names : "CPU";
}

/* Which devices llama.cpp offloads to (those named, else every GPU) and how
 * many layers went there. */
static void offload_of(const struct llama_model *m, int n_gpu_layers,
                       ggml_backend_dev_t const *named, eb_offload *o)
{
    memset(o, 0, sizeof *o);
    o->device_memory_used_mib = NAN;
    o->requested = n_gpu_layers;
    o->layers_total = llama_model_n_layer(m) + 1; /* the output layer counts as one */
    size_t n_all = named ? 0 : ggml_backend_dev_count();
    for (size_t i = 0; named ? named[i] != NULL : i < n_all; i++) {
        ggml_backend_dev_t d = named ? named[i] : ggml_backend_dev_get(i);
        if (!is_accelerator(d)) continue;
        size_t free_b = 0, total_b = 0, used = strlen(o->devices);
        ggml_backend_dev_memory(d, &free_b, &total_b);
        /* a driver without a memory budget (Mesa's lavapipe) reports its
         * heap as free: no figure rather than 0 */
        if (total_b > free_b)
            o->device_memory_used_mib =
                (isnan(o->device_memory_used_mib) ? 0 : o->device_memory_used_mib) +
                (double)(total_b - free_b) / 1048576.0;
        snprintf(o->devices + used, sizeof o->devices - used, "%s%s (%s, %.0f MiB)",
                 used ? "; " : "", ggml_backend_dev_name(d), ggml_backend_dev_description(d),
                 (double)total_b / 1048576.0);
        char driver[192];
        eb_device_driver(d, driver, sizeof driver);
        size_t dused = strlen(o->drivers);
        if (driver[0])
            snprintf(o->drivers + dused, sizeof o->drivers - dused, "%s%s: %s", dused ? "; " : "",
                     ggml_backend_dev_name(d), driver);
        o->n_devices++;
    }
    /* where each layer went, else llama.cpp's summary line (logged on every
     * load where a GPU or RPC backend could take layers) */
    if (logged.layers > 0) {
        o->layers_offloaded = logged.layers_away;
        o->layers_total = logged.layers;
    } else if (logged.offloaded >= 0) {
        o->layers_offloaded = logged.offloaded;
        o->layers_total = logged.offload_total;
    }
}

static eb_status llama_init(eb_error *err)
{
    static int done;
    (void)err;
    if (!done) {
        eb_abort_hook_install();
        llama_log_set(log_cb, NULL);
        llama_backend_init();
        done = 1;
    }
    return EB_OK;
}

static int llama_list_devices(eb_device_desc *out, int cap)
{
    llama_init(NULL);
    return eb_devices_list(out, cap);
}

static bool llama_backend_devices(const char *backend, char *out, size_t cap)
{
    llama_init(NULL);
    return eb_devices_of_backend(backend, out, cap);
}

static eb_status llama_load(const char *path, const eb_load_params *p, eb_model **out,
                            eb_error *err)
{
    llama_init(err);
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = p ? p->n_gpu_layers : 0;
    if (p && !p->use_mmap) mp.load_mode = LLAMA_LOAD_MODE_NONE;
    if (p && p->no_repack) mp.use_extra_bufts = false;
    if (p && p->load_mode) {
        const char *lm = strcmp(p->load_mode, "no-mmap") == 0 ? "none" : p->load_mode;
        mp.load_mode =
            strcmp(lm, "auto") == 0 ? LLAMA_LOAD_MODE_AUTO : llama_load_mode_from_str(lm);
    }
    if (p && p->no_alloc) {
        mp.no_alloc = true; /* llama.cpp maps nothing in this mode */
        mp.load_mode = LLAMA_LOAD_MODE_NONE;
    }
    ggml_backend_dev_t devs[4 * EB_MAX_NODES + 1];
    ggml_backend_dev_t named[65];
    float split[128] = {0};
    int n_devs = 0;
    if (p && p->devices && p->devices[0]) {
        if (p->rpc)
            return eb_fail(err, EB_E_INVALID_ARG,
                           "give RPC nodes (--rpc) or devices (--device), not both");
        size_t n_named = 0;
        eb_status ds = eb_devices_resolve(p->devices, named, 65, &n_named, err);
        if (ds != EB_OK) return ds;
        mp.devices = named; /* "none": an empty list, the CPU alone */
    }
    eb_status rs =
        eb_rpc_devices(p && p->rpc ? p->rpc : "", devs, 4 * EB_MAX_NODES + 1, &n_devs, err);
    if (rs != EB_OK) return rs;
    if (p && p->rpc) {
        if (llama_max_devices() > sizeof split / sizeof *split)
            return eb_fail(err, EB_E_INTERNAL, "llama.cpp takes %zu devices, more than %zu",
                           llama_max_devices(), sizeof split / sizeof *split);
        mp.devices = devs; /* the nodes only: none registered by earlier runs */
        if (p->tensor_split) {
            /* one share a device: an rpc-server of one device each */
            for (int i = 0; i < n_devs && i < EB_MAX_NODES; i++)
                split[i] = p->tensor_split[i];
            mp.tensor_split = split;
        }
    }
    last_log[0] = '\0';
    eb_llama_log_load_reset(&logged);
    struct llama_model *m = llama_model_load_from_file(path, mp);
    if (!m) {
        if (strstr(last_log, "unknown model architecture"))
            return eb_fail(err, EB_E_UNSUPPORTED,
                           "%s: architecture not supported by llama.cpp %s: %s", path, EB_LLAMA_TAG,
                           last_log);
        return eb_fail(err, EB_E_ENGINE, "%s: llama.cpp could not load the model: %s", path,
                       last_log[0] ? last_log : "no reason given");
    }
    eb_model *em = calloc(1, sizeof *em);
    if (!em) {
        llama_model_free(m);
        return eb_fail(err, EB_E_NO_MEMORY, "model handle");
    }
    em->model = m;
    snprintf(em->path, sizeof em->path, "%s", path);
    offload_of(m, mp.n_gpu_layers, mp.devices, &em->offload);
    *out = em;
    return EB_OK;
}

static void llama_free_model_(eb_model *m)
{
    if (!m) return;
    llama_model_free(m->model);
    free(m);
}

static void meta_str(const struct llama_model *m, const char *key, char *out, size_t cap)
{
    if (llama_model_meta_val_str(m, key, out, cap) < 0) out[0] = '\0';
}

static void llama_info(const eb_model *em, eb_model_info *out)
{
    const struct llama_model *m = em->model;
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", em->path);
    meta_str(m, "general.architecture", out->arch, sizeof out->arch);
    meta_str(m, "general.name", out->name, sizeof out->name);
    llama_model_desc(m, out->desc, sizeof out->desc);
    const char *ft = llama_ftype_name(llama_model_ftype(m));
    if (strncmp(ft, "MOSTLY_", 7) == 0) ft += 7;
    snprintf(out->quant, sizeof out->quant, "%s", ft);
    out->n_params = llama_model_n_params(m);
    out->weights_size = llama_model_size(m);
    struct stat sb;
    if (stat(em->path, &sb) == 0) out->file_size = (uint64_t)sb.st_size;
    const struct llama_vocab *v = llama_model_get_vocab(m);
    out->n_vocab = llama_vocab_n_tokens(v);
    out->n_ctx_train = llama_model_n_ctx_train(m);
    out->n_layer = llama_model_n_layer(m);
    out->n_embd = llama_model_n_embd(m);
    out->n_head = llama_model_n_head(m);
    out->n_head_kv = llama_model_n_head_kv(m);
    out->has_encoder = llama_model_has_encoder(m);
    char buf[64];
    meta_str(m, "edgebench.synthetic", buf, sizeof buf);
    out->synthetic = strcmp(buf, "true") == 0 || strcmp(buf, "1") == 0;
    meta_str(m, "edgebench.preset", out->preset, sizeof out->preset);
    out->offload = em->offload;
}

static void llama_vocab_info_(const eb_model *em, eb_vocab_info *out)
{
    const struct llama_vocab *v = llama_model_get_vocab(em->model);
    out->n_vocab = llama_vocab_n_tokens(v);
    out->bos = llama_vocab_bos(v);
    out->add_bos = llama_vocab_get_add_bos(v);
    out->add_eos = llama_vocab_get_add_eos(v);
    uint64_t h = eb_fnv1a_bytes(EB_FNV1A_OFFSET, &out->n_vocab, sizeof out->n_vocab);
    for (int32_t i = 0; i < out->n_vocab; i++) {
        const char *t = llama_vocab_get_text(v, i);
        h = eb_fnv1a_bytes(h, t ? t : "", t ? strlen(t) + 1 : 1);
    }
    out->fingerprint = h;
}

static eb_status llama_tokenize_(const eb_model *em, const char *text, size_t len,
                                 bool parse_special, int32_t *tokens, int32_t cap, int32_t *n,
                                 eb_error *err)
{
    const struct llama_vocab *v = llama_model_get_vocab(em->model);
    if (len > INT32_MAX) return eb_fail(err, EB_E_INVALID_ARG, "text of %zu bytes too long", len);
    int32_t r = llama_tokenize(v, text, (int32_t)len, tokens, cap, llama_vocab_get_add_bos(v),
                               parse_special);
    if (r == INT32_MIN) return eb_fail(err, EB_E_INVALID_ARG, "text too long to tokenize");
    *n = r < 0 ? -r : r;
    return EB_OK;
}

static void llama_ctx_free(eb_context *c)
{
    if (!c) return;
    llama_free(c->ctx);
    if (c->pool_gen) ggml_threadpool_free(c->pool_gen);
    if (c->pool_prefill) ggml_threadpool_free(c->pool_prefill);
    free(c);
}

static enum ggml_type ggml_type_by_name(const char *name)
{
    for (int t = 0; t < GGML_TYPE_COUNT; t++) {
        const char *n = ggml_type_name((enum ggml_type)t);
        if (n && strcasecmp(n, name) == 0) return (enum ggml_type)t;
    }
    return GGML_TYPE_COUNT;
}

/* Strict placement pins the pool's threads one per CPU of the process's
 * affinity (what --cpus set), as llama-bench's -C mask with --cpu-strict. */
static void thread_placement(const eb_ctx_params *p, struct ggml_threadpool_params *tp)
{
    if (p->poll_set) tp->poll = (uint32_t)p->poll;
    tp->strict_cpu = p->cpu_strict;
    if (!p->cpu_strict) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return;
    for (int c = 0; c < GGML_MAX_N_THREADS && c < CPU_SETSIZE; c++)
        tp->cpumask[c] = CPU_ISSET(c, &set);
}

static void llama_ctx_info(const eb_context *c, eb_ctx_info *out)
{
    *out = c->info;
}

static eb_status llama_ctx_new(eb_model *em, const eb_ctx_params *p, eb_context **out,
                               eb_error *err)
{
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)p->n_ctx;
    cp.n_batch = (uint32_t)p->n_batch;
    cp.n_ubatch = (uint32_t)p->n_ubatch;
    cp.n_threads = p->threads_gen;
    cp.n_threads_batch = p->threads_prefill;
    cp.n_seq_max = (uint32_t)(p->n_seq_max > 0 ? p->n_seq_max : 1);
    if (p->type_k && (cp.type_k = ggml_type_by_name(p->type_k)) == GGML_TYPE_COUNT)
        return eb_fail(err, EB_E_INVALID_ARG, "type_k=%s is not a ggml type", p->type_k);
    if (p->type_v && (cp.type_v = ggml_type_by_name(p->type_v)) == GGML_TYPE_COUNT)
        return eb_fail(err, EB_E_INVALID_ARG, "type_v=%s is not a ggml type", p->type_v);
    if (p->flash_attn)
        cp.flash_attn_type = strcasecmp(p->flash_attn, "on") == 0 ? LLAMA_FLASH_ATTN_TYPE_ENABLED
                             : strcasecmp(p->flash_attn, "off") == 0
                                 ? LLAMA_FLASH_ATTN_TYPE_DISABLED
                                 : LLAMA_FLASH_ATTN_TYPE_AUTO;
    eb_rpc_placement_reset(true);
    eb_llama_log_ctx_reset(&logged, cp.flash_attn_type == LLAMA_FLASH_ATTN_TYPE_AUTO
                                        ? -1
                                        : cp.flash_attn_type == LLAMA_FLASH_ATTN_TYPE_ENABLED);
    bool enc_dec = llama_model_has_encoder(em->model);
    /* the encoder takes the whole prompt in one micro-batch */
    if (enc_dec && cp.n_ubatch < cp.n_ctx) cp.n_ubatch = cp.n_batch = cp.n_ctx;
    cp.no_perf = false;
    last_log[0] = '\0';
    struct llama_context *c = llama_init_from_model(em->model, cp);
    if (!c)
        return eb_fail(err, EB_E_ENGINE, "llama.cpp could not create a context of %d tokens: %s",
                       p->n_ctx, last_log[0] ? last_log : "no reason given");
    llama_set_n_threads(c, p->threads_gen, p->threads_prefill);
    eb_context *ec = calloc(1, sizeof *ec);
    if (!ec) {
        llama_free(c);
        return eb_fail(err, EB_E_NO_MEMORY, "context handle");
    }
    ec->ctx = c;
    ec->info = logged.ctx;
    /* and what the C API tells: the context as llama.cpp made it */
    ec->info.n_ctx = llama_n_ctx(c);
    ec->info.n_ctx_seq = llama_n_ctx_seq(c);
    ec->info.n_batch = llama_n_batch(c);
    ec->info.n_ubatch = llama_n_ubatch(c);
    ec->info.n_seq_max = llama_n_seq_max(c);
    struct ggml_threadpool_params tg = ggml_threadpool_params_default(p->threads_gen);
    struct ggml_threadpool_params tb = ggml_threadpool_params_default(p->threads_prefill);
    thread_placement(p, &tg);
    thread_placement(p, &tb);
    ec->pool_gen = ggml_threadpool_new(&tg);
    ec->pool_prefill = ggml_threadpool_new(&tb);
    if (!ec->pool_gen || !ec->pool_prefill) {
        llama_ctx_free(ec);
        return eb_fail(err, EB_E_ENGINE, "cannot create thread pools of %d and %d threads",
                       p->threads_gen, p->threads_prefill);
    }
    llama_attach_threadpool(c, ec->pool_gen, ec->pool_prefill);
    ec->vocab = llama_model_get_vocab(em->model);
    ec->n_vocab = llama_vocab_n_tokens(ec->vocab);
    ec->n_batch = (int)cp.n_batch;
    ec->enc_dec = enc_dec;
    if (enc_dec) {
        ec->dec_start = llama_model_decoder_start_token(em->model);
        if (ec->dec_start == LLAMA_TOKEN_NULL) ec->dec_start = llama_vocab_bos(ec->vocab);
        if (ec->dec_start == LLAMA_TOKEN_NULL) ec->dec_start = 0;
    }
    *out = ec;
    return EB_OK;
}

/* Waits for the backends. An RPC node that stops answering ends in
 * ggml's abort: the measuring process dies and its parent keeps the
 * repetitions finished before (src/cli/measure_child.c). */
static eb_status sync_or_fail(struct llama_context *c, eb_error *err)
{
    (void)err;
    llama_synchronize(c);
    return EB_OK;
}

static eb_status decode_or_fail(eb_context *c, llama_token *toks, int32_t n, eb_error *err)
{
    last_log[0] = '\0';
    int32_t r = llama_decode(c->ctx, llama_batch_get_one(toks, n));
    if (r != 0)
        return eb_fail(err, EB_E_ENGINE, "llama_decode of %d tokens failed (%d): %s", n, r,
                       last_log[0] ? last_log : "no reason given");
    return EB_OK;
}

static eb_status llama_prefill(eb_context *c, const int32_t *tokens, int32_t n, eb_error *err)
{
    if (c->enc_dec) {
        if (n > c->n_batch)
            return eb_fail(err, EB_E_CONTEXT,
                           "the encoder takes at most %d prompt tokens (the context), got %d",
                           c->n_batch, n);
        last_log[0] = '\0';
        int32_t r = llama_encode(c->ctx, llama_batch_get_one((llama_token *)tokens, n));
        if (r != 0)
            return eb_fail(err, EB_E_ENGINE, "llama_encode of %d tokens failed (%d): %s", n, r,
                           last_log[0] ? last_log : "no reason given");
        c->need_start = true;
        return sync_or_fail(c->ctx, err);
    }
    for (int32_t i = 0; i < n; i += c->n_batch) {
        int32_t k = n - i < c->n_batch ? n - i : c->n_batch;
        eb_status st = decode_or_fail(c, (llama_token *)(tokens + i), k, err);
        if (st != EB_OK) return st;
    }
    return sync_or_fail(c->ctx, err);
}

static int32_t llama_greedy(eb_context *c)
{
    if (c->need_start) {
        /* the decoder's first step: its start token, part of generation */
        c->need_start = false;
        llama_token t = c->dec_start;
        if (decode_or_fail(c, &t, 1, &c->pending) != EB_OK) return c->dec_start;
        if (sync_or_fail(c->ctx, &c->pending) != EB_OK) return c->dec_start;
    }
    const float *logits = llama_get_logits_ith(c->ctx, -1);
    if (!logits) return 0;
    int32_t best = 0;
    float best_v = logits[0];
    for (int32_t i = 1; i < c->n_vocab; i++) {
        if (logits[i] > best_v) {
            best_v = logits[i];
            best = i;
        }
    }
    return best;
}

static eb_status llama_decode_one(eb_context *c, int32_t token, eb_error *err)
{
    if (c->pending.status != EB_OK) {
        *err = c->pending;
        return err->status;
    }
    llama_token t = token;
    eb_status st = decode_or_fail(c, &t, 1, err);
    return st == EB_OK ? sync_or_fail(c->ctx, err) : st;
}

static void llama_perf_(const eb_context *c, eb_engine_perf *out)
{
    struct llama_perf_context_data d = llama_perf_context(c->ctx);
    out->load_ms = d.t_load_ms;
    out->prompt_eval_ms = d.t_p_eval_ms;
    out->eval_ms = d.t_eval_ms;
    out->n_prompt_eval = d.n_p_eval;
    out->n_eval = d.n_eval;
}

static eb_status llama_eval_batch(eb_context *c, const eb_batch_token *in, int32_t n, eb_error *err)
{
    struct llama_batch b = llama_batch_init(n, 0, 1);
    for (int32_t i = 0; i < n; i++) {
        b.token[i] = in[i].token;
        b.pos[i] = in[i].pos;
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = in[i].seq;
        b.logits[i] = in[i].logits;
    }
    b.n_tokens = n;
    last_log[0] = '\0';
    int32_t r = llama_decode(c->ctx, b);
    llama_batch_free(b);
    if (r != 0)
        return eb_fail(err, EB_E_ENGINE, "llama_decode of a %d-token batch failed (%d): %s", n, r,
                       last_log[0] ? last_log : "no reason given");
    return sync_or_fail(c->ctx, err);
}

static const float *llama_logits_(eb_context *c, int32_t i)
{
    return llama_get_logits_ith(c->ctx, i);
}

static void llama_memory_clear_(eb_context *c)
{
    llama_memory_clear(llama_get_memory(c->ctx), true);
}

/* The weight types of the pinned llama-quantize, by its names. */
static const struct {
    const char *name;
    enum llama_ftype ftype;
    bool needs_imatrix; /* llama-quantize refuses these without one */
} quant_table[] = {
    {"F32", LLAMA_FTYPE_ALL_F32, false},
    {"F16", LLAMA_FTYPE_MOSTLY_F16, false},
    {"BF16", LLAMA_FTYPE_MOSTLY_BF16, false},
    {"Q8_0", LLAMA_FTYPE_MOSTLY_Q8_0, false},
    {"Q6_K", LLAMA_FTYPE_MOSTLY_Q6_K, false},
    {"Q5_K_M", LLAMA_FTYPE_MOSTLY_Q5_K_M, false},
    {"Q5_K_S", LLAMA_FTYPE_MOSTLY_Q5_K_S, false},
    {"Q5_1", LLAMA_FTYPE_MOSTLY_Q5_1, false},
    {"Q5_0", LLAMA_FTYPE_MOSTLY_Q5_0, false},
    {"Q4_K_M", LLAMA_FTYPE_MOSTLY_Q4_K_M, false},
    {"Q4_K_S", LLAMA_FTYPE_MOSTLY_Q4_K_S, false},
    {"Q4_1", LLAMA_FTYPE_MOSTLY_Q4_1, false},
    {"Q4_0", LLAMA_FTYPE_MOSTLY_Q4_0, false},
    {"IQ4_NL", LLAMA_FTYPE_MOSTLY_IQ4_NL, false},
    {"IQ4_XS", LLAMA_FTYPE_MOSTLY_IQ4_XS, false},
    {"Q3_K_L", LLAMA_FTYPE_MOSTLY_Q3_K_L, false},
    {"Q3_K_M", LLAMA_FTYPE_MOSTLY_Q3_K_M, false},
    {"Q3_K_S", LLAMA_FTYPE_MOSTLY_Q3_K_S, false},
    {"IQ3_M", LLAMA_FTYPE_MOSTLY_IQ3_M, false},
    {"IQ3_S", LLAMA_FTYPE_MOSTLY_IQ3_S, false},
    {"IQ3_XS", LLAMA_FTYPE_MOSTLY_IQ3_XS, false},
    {"IQ3_XXS", LLAMA_FTYPE_MOSTLY_IQ3_XXS, false},
    {"Q2_K", LLAMA_FTYPE_MOSTLY_Q2_K, false},
    {"Q2_K_S", LLAMA_FTYPE_MOSTLY_Q2_K_S, true},
    {"IQ2_M", LLAMA_FTYPE_MOSTLY_IQ2_M, false},
    {"IQ2_S", LLAMA_FTYPE_MOSTLY_IQ2_S, true},
    {"IQ2_XS", LLAMA_FTYPE_MOSTLY_IQ2_XS, true},
    {"IQ2_XXS", LLAMA_FTYPE_MOSTLY_IQ2_XXS, true},
    {"IQ1_M", LLAMA_FTYPE_MOSTLY_IQ1_M, true},
    {"IQ1_S", LLAMA_FTYPE_MOSTLY_IQ1_S, true},
    {"TQ2_0", LLAMA_FTYPE_MOSTLY_TQ2_0, false},
    {"TQ1_0", LLAMA_FTYPE_MOSTLY_TQ1_0, false},
    {"Q2_0", LLAMA_FTYPE_MOSTLY_Q2_0, false},
    {"Q1_0", LLAMA_FTYPE_MOSTLY_Q1_0, false},
    {"MXFP4_MOE", LLAMA_FTYPE_MOSTLY_MXFP4_MOE, false},
};
#define N_QUANT (sizeof quant_table / sizeof quant_table[0])

static const char *const *llama_quant_types(void)
{
    static const char *names[N_QUANT + 1];
    for (size_t i = 0; i < N_QUANT; i++)
        names[i] = quant_table[i].name;
    return names;
}

static eb_status llama_quantize_(const char *in, const char *out, const char *type, int threads,
                                 eb_error *err)
{
    size_t i = 0;
    while (i < N_QUANT && strcasecmp(quant_table[i].name, type) != 0)
        i++;
    if (i == N_QUANT)
        return eb_fail(err, EB_E_INVALID_ARG,
                       "unknown weight type '%s' (see 'edgebench model quantize --help')", type);
    if (quant_table[i].needs_imatrix)
        return eb_fail(err, EB_E_UNSUPPORTED,
                       "%s needs an importance matrix, which edgebench does not compute; "
                       "choose another type",
                       quant_table[i].name);
    llama_init(err);
    struct llama_model_quantize_params qp = llama_model_quantize_default_params();
    qp.nthread = threads;
    qp.ftype = quant_table[i].ftype;
    last_log[0] = '\0';
    if (llama_model_quantize(in, out, &qp) != 0)
        return eb_fail(err, EB_E_ENGINE, "llama.cpp could not quantize %s to %s: %s", in,
                       quant_table[i].name, last_log[0] ? last_log : "no reason given");
    return EB_OK;
}

const eb_engine_ops eb_engine_llama = {
    .name = "llama.cpp",
    .version = llama_version_str,
    .build_options = llama_build_opts,
    .system_info = llama_sysinfo,
    .build_info = llama_build_fact,
    .backend = llama_backend_name,
    .init = llama_init,
    .model_load = llama_load,
    .model_free = llama_free_model_,
    .model_info = llama_info,
    .vocab_info = llama_vocab_info_,
    .tokenize = llama_tokenize_,
    .context_new = llama_ctx_new,
    .context_free = llama_ctx_free,
    .prefill = llama_prefill,
    .greedy_next = llama_greedy,
    .decode_one = llama_decode_one,
    .perf = llama_perf_,
    .eval_batch = llama_eval_batch,
    .logits = llama_logits_,
    .context_info = llama_ctx_info,
    .memory_clear = llama_memory_clear_,
    .quantize = llama_quantize_,
    .quant_types = llama_quant_types,
    .placement = eb_rpc_placement,
    .list_devices = llama_list_devices,
    .backend_devices = llama_backend_devices,
    .matmul_probe = eb_ggml_matmul_probe,
};
