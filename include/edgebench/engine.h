/* The inference engine interface. An engine is a const table of function
 * pointers; llama.cpp is the one built in (lib/engine_llama.c is the only file
 * that includes llama.h), and another can be added beside it. */
#ifndef EDGEBENCH_ENGINE_H
#define EDGEBENCH_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "edgebench/error.h"

typedef struct eb_model eb_model;     /* engine-owned */
typedef struct eb_context eb_context; /* engine-owned */

/* What a load did with the GPU layers asked for (--ngl). */
typedef struct eb_offload {
    int requested;        /* n_gpu_layers as given; -1: all */
    int layers_offloaded; /* as llama.cpp reported it; 0 on the CPU */
    int layers_total;     /* repeating layers + the output layer */
    int n_devices;        /* GPUs the engine found */
    char devices[256];    /* "CUDA0 (NVIDIA H100 80GB HBM3, 81079 MiB)"; "" without a GPU */
    /* the GPUs' memory in use after the load, as their backends report it
     * (Vulkan: its memory budget extension where the driver has it; CUDA:
     * the driver's free memory): total - free over the devices; NaN: none */
    double device_memory_used_mib;
    /* each GPU's driver and API, "Vulkan0: Vulkan 1.3.230, llvmpipe Mesa
     * 22.3.6 (LLVM 15.0.6)", '; ' between; "" without a GPU or where the
     * backend does not say */
    char drivers[512];
} eb_offload;

/* RPC nodes (llama.cpp's rpc-server) a model can be spread over: at most
 * llama.cpp's own limit (GGML_RPC_MAX_SERVERS). */
#define EB_MAX_NODES 16

/* What one RPC node holds after a load and a context's creation, as
 * llama.cpp logged it. */
typedef struct eb_placement {
    char endpoint[128]; /* "host:port" */
    char device[32];    /* llama.cpp's name for it, "RPC0" */
    int layers;         /* layers assigned to it (the output layer counts as one) */
    double model_mib, kv_mib, compute_mib; /* its buffers; NaN: none logged */
} eb_placement;

typedef struct eb_model_info {
    char path[1024];
    char arch[64];
    char desc[128]; /* engine's one-line description */
    char quant[32]; /* file type, e.g. "Q4_0", "Q4_K_M", "F16" */
    char name[128]; /* general.name */
    uint64_t n_params;
    uint64_t file_size;
    uint64_t weights_size; /* bytes of tensor data */
    int32_t n_vocab;
    int32_t n_ctx_train;
    int32_t n_layer;
    int32_t n_embd;
    int32_t n_head;
    int32_t n_head_kv;
    bool has_encoder;
    bool synthetic;  /* random weights written by `edgebench model synth` */
    char preset[64]; /* synthetic preset name */
    eb_offload offload;
} eb_model_info;

typedef struct eb_load_params {
    int n_gpu_layers;
    bool use_mmap;
    const char *load_mode; /* llama-bench's names ("mmap", "none", "mlock", ...); NULL: use_mmap */
    bool no_alloc;         /* metadata only: shape checks without reading weights */
    /* RPC nodes, "host:port,host:port": their devices take the offloaded
     * layers, split by tensor_split (EB_MAX_NODES shares, one a node; NULL: llama.cpp's
     * split by the memory each node reports) */
    const char *rpc;
    const float *tensor_split;
    bool no_repack; /* weights as stored, not repacked for this CPU's kernels */
    /* Which devices take the offloaded layers (llama-bench's -dev): NULL or
     * "": llama.cpp's choice (every GPU); "none": none, the CPU alone;
     * else device names separated by ',' or '/' ("Vulkan0"). A name the
     * build lacks is EB_E_NOT_AVAILABLE naming the devices it has. */
    const char *devices;
} eb_load_params;

/* A device a build's backends found on this machine (--list-devices). */
typedef struct eb_device_desc {
    char name[64];         /* llama.cpp's: "CPU", "Vulkan0", "CUDA0" */
    char backend[32];      /* its backend: "CPU", "Vulkan", "CUDA", "RPC" */
    char type[8];          /* "CPU", "GPU", "iGPU", "accel" */
    char description[160]; /* "llvmpipe (LLVM 15.0.6, 256 bits)" */
    double memory_mib, free_mib;
    char driver[192]; /* "Vulkan 1.3.230, llvmpipe Mesa 22.3.6 (LLVM 15.0.6)"; "" if not told */
} eb_device_desc;

typedef struct eb_ctx_params {
    int n_ctx;
    int n_batch;
    int n_ubatch;
    int threads_gen;
    int threads_prefill;
    int n_seq_max;               /* parallel sequences (perplexity evaluates several); 0 = 1 */
    const char *type_k, *type_v; /* KV cache types by ggml's names; NULL: f16 */
    const char *flash_attn;      /* "auto", "on", "off"; NULL: auto */
    bool cpu_strict;             /* threads pinned one per CPU of the affinity mask */
    bool poll_set;               /* poll applies; else ggml's default */
    int poll;                    /* threads' busy-wait level 0..100 */
} eb_ctx_params;

/* What the engine made of a context's settings, as it reported them. */
typedef struct eb_ctx_info {
    char type_k[16], type_v[16]; /* "" when the engine did not say */
    double kv_mib, k_mib, v_mib; /* KV cache buffers; NaN when not reported */
    uint32_t kv_cells;           /* cache positions */
    int flash_attn;              /* as used: 1 on, 0 off, -1 not reported */
    /* the context as llama.cpp made it (its C API): it may round or cap what
     * was asked (0: not created) */
    uint32_t n_ctx, n_ctx_seq, n_batch, n_ubatch, n_seq_max;
} eb_ctx_info;

/* What the tokenizer adds and a fingerprint of its vocabulary (every token's
 * text), to tell whether two models share one. */
typedef struct eb_vocab_info {
    int32_t n_vocab;
    int32_t bos;
    bool add_bos;
    bool add_eos;
    uint64_t fingerprint;
} eb_vocab_info;

/* One token of a batch: its position and sequence, and whether the
 * evaluation keeps its logits. */
typedef struct eb_batch_token {
    int32_t token;
    int32_t pos;
    int32_t seq;
    bool logits;
} eb_batch_token;

/* The engine's own timers, kept as a cross-check of ours. */
typedef struct eb_engine_perf {
    double load_ms;
    double prompt_eval_ms;
    double eval_ms;
    int32_t n_prompt_eval;
    int32_t n_eval;
} eb_engine_perf;

typedef struct eb_engine_ops {
    const char *name;
    const char *(*version)(void);       /* engine build, e.g. commit */
    const char *(*build_options)(void); /* compile options of the engine */
    const char *(*system_info)(void);   /* CPU features the engine uses */
    /* A fact of the engine's build by key ("cpu_features", "variant",
     * "features_off", "features_off_reason", "selftest", ...); "" when
     * the build does not say. */
    const char *(*build_info)(const char *key);
    const char *(*backend)(void); /* backends with a device: "CPU", "CUDA,CPU" */
    eb_status (*init)(eb_error *err);
    eb_status (*model_load)(const char *path, const eb_load_params *params, eb_model **out,
                            eb_error *err);
    void (*model_free)(eb_model *model);
    void (*model_info)(const eb_model *model, eb_model_info *out);
    void (*vocab_info)(const eb_model *model, eb_vocab_info *out);
    /* Tokenizes len bytes of text, adding BOS when the vocabulary asks for
     * it; parse_special reads "<|...|>" markers as special tokens. Writes at
     * most cap tokens; *n receives the count needed. */
    eb_status (*tokenize)(const eb_model *model, const char *text, size_t len, bool parse_special,
                          int32_t *tokens, int32_t cap, int32_t *n, eb_error *err);
    eb_status (*context_new)(eb_model *model, const eb_ctx_params *params, eb_context **out,
                             eb_error *err);
    void (*context_free)(eb_context *ctx);
    /* Evaluates the prompt in batches and waits for the result. */
    eb_status (*prefill)(eb_context *ctx, const int32_t *tokens, int32_t n, eb_error *err);
    /* The most likely next token from the last evaluated logits. */
    int32_t (*greedy_next)(eb_context *ctx);
    /* Evaluates one token at the next position and waits for the result. */
    eb_status (*decode_one)(eb_context *ctx, int32_t token, eb_error *err);
    void (*perf)(const eb_context *ctx, eb_engine_perf *out);
    /* Evaluates one batch (at most the context's n_batch tokens) of any
     * positions and sequences, and waits for the result. */
    eb_status (*eval_batch)(eb_context *ctx, const eb_batch_token *batch, int32_t n, eb_error *err);
    /* The logits of batch entry i of the last evaluation (NULL when it kept
     * none): n_vocab floats. */
    const float *(*logits)(eb_context *ctx, int32_t i);
    /* The context's KV cache and flash attention as the engine set them up. */
    void (*context_info)(const eb_context *ctx, eb_ctx_info *out);
    /* Forgets every sequence in the context's cache. */
    void (*memory_clear)(eb_context *ctx);
    /* Writes a copy of the model file in with weights of the given type
     * (a name from quant_types) using threads threads. */
    eb_status (*quantize)(const char *in, const char *out, const char *type, int threads,
                          eb_error *err);
    /* The names quantize accepts, NULL-terminated. */
    const char *const *(*quant_types)(void);
    /* Times the engine's matrix product of an m x k matrix of weight type
     * type (e.g. "Q4_K") with k x n activations on threads threads: one
     * untimed pass, then passes timed ones into pass_s (seconds). variant
     * gets where the weights lived (e.g. "CPU_REPACK": a repacked layout). */
    /* Where the last load and context put things on each RPC node; returns
     * the count (at most cap). NULL: the engine has no RPC. */
    int (*placement)(eb_placement *out, int cap);
    /* The devices of the build's backends here; returns the count (at most
     * cap written). NULL: the engine cannot say. */
    int (*list_devices)(eb_device_desc *out, int cap);
    /* The devices a backend's name ("vulkan", "cuda", any case) has here, as
     * an eb_load_params.devices list; false when it has none. */
    bool (*backend_devices)(const char *backend, char *out, size_t cap);
    eb_status (*matmul_probe)(const char *type, int m, int n, int k, int threads, int passes,
                              double *pass_s, char *variant, size_t variant_cap, eb_error *err);
} eb_engine_ops;

extern const eb_engine_ops eb_engine_llama;

/* Every engine edgebench can drive, the first being the default: the
 * front end asks the registry, never a backend by name. */
extern const eb_engine_ops *const eb_engines[];
extern const size_t eb_engine_count;
const eb_engine_ops *eb_engine_default(void);
/* The folder of a cached build of the same llama.cpp release by name
 * ("default": the one edgebench was built against; "cpu", "vulkan",
 * "cuda": the newest such variant in the same cache; a folder as it is).
 * EB_E_NOT_AVAILABLE when there is none, saying how to make it. */
eb_status eb_build_find(const char *name, char *prefix, size_t cap, eb_error *err);
/* A tool of the build this process runs on ("llama-server",
 * "ggml-rpc-server"): from the build --build restarted it on
 * ($EDGEBENCH_BUILD_PREFIX/bin) where that build has it, else fallback
 * (the build edgebench was built against), so a server or an RPC node
 * runs on the same build as the in-process engine. */
const char *eb_build_tool(const char *name, const char *fallback);
/* The engine of a name ("llama.cpp"), or NULL. */
const eb_engine_ops *eb_engine_find(const char *name);

#endif
