/* Physical limits: how fast a model could run on a device, from the model's
 * shape and the device's measured ceilings (memory read bandwidth for
 * generation, matrix-kernel throughput for prefill), and how close a run
 * came. Generation streams the weights once per token, so it cannot beat
 * bandwidth ÷ bytes per token; prefill does about 2 × parameters operations
 * per token, so it cannot beat the kernels' throughput ÷ that. */
#ifndef EDGEBENCH_ROOFLINE_H
#define EDGEBENCH_ROOFLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgebench/error.h"

/* What the limits need to know of a model. */
typedef struct eb_model_shape {
    uint64_t n_params;
    /* Parameters in matrix products: all matrices but the token-embedding
     * table, which is a row lookup unless it also serves as the output
     * matrix (tied embeddings). */
    uint64_t matmul_params;
    uint64_t output_params;    /* the output matrix's (the embeddings' when tied) */
    uint64_t weights_bytes;    /* all tensor data */
    uint64_t streamed_bytes;   /* read per generated token: all but the unused embedding rows */
    uint64_t kv_bytes_per_pos; /* K and V of one position over all layers (F16 cache) */
    uint64_t layer_bytes;      /* the repeating layers' tensors (blk.N.*), all of them */
    uint64_t output_bytes;     /* the output matrix's (the embeddings' when tied) */
    int32_t n_layer, n_embd, n_ff, n_vocab, n_head, n_head_kv, n_ctx_train;
    char main_type[16];       /* the weight type holding most bytes, e.g. "Q4_K" */
    uint64_t main_type_bytes; /* bytes of the layer matrices of that type */
    bool has_encoder;
} eb_model_shape;

/* Reads the shape from a GGUF file's metadata and tensor table. */
eb_status eb_model_shape_read(const char *path, eb_model_shape *out, eb_error *err);

/* Bytes a generated token reads when depth positions are in the cache. */
double eb_gen_bytes_per_token(const eb_model_shape *s, double depth);
/* Operations of one prompt token in the matrix products: 2 per weight, less
 * the output matrix, which a prompt runs for its last token only. */
double eb_prefill_flops_per_token(const eb_model_shape *s);

/* A device's ceilings for one configuration. NAN where not measured. */
typedef struct eb_ceilings {
    double bw_gbs;  /* sustained read bandwidth, 1e9 bytes/s */
    int bw_threads; /* the probe's thread count that gave it */
    double gflops;  /* matrix-kernel throughput, 1e9 operations/s */
    int gflops_threads;
    char gflops_type[16]; /* the kernel's weight type */
    /* the engine copies weights of that type into a repacked layout at load,
     * holding them twice (the file's pages and the copy) */
    bool weights_repacked;
} eb_ceilings;

typedef struct eb_roofline {
    /* generation */
    double gen_depth;           /* mean cache depth while generating */
    double gen_bytes_per_token; /* weights + KV cache at that depth */
    double gen_max_tps;         /* bandwidth ÷ bytes per token */
    double gen_tps;             /* measured */
    double gen_efficiency;      /* measured × bytes per token ÷ bandwidth */
    /* prefill */
    double prefill_flops_per_token;
    double prefill_max_tps;
    double prefill_tps;
    double prefill_efficiency;
    eb_ceilings ceil;
    char gen_reason[256], prefill_reason[256]; /* why a side is NAN */
} eb_roofline;

/* The limits of a run of n_prompt prompt tokens and n_gen generated ones;
 * measured throughputs may be NAN (then only the maxima are filled). */
void eb_roofline_compute(const eb_model_shape *s, const eb_ceilings *c, int n_prompt, int n_gen,
                         double prefill_tps, double gen_tps, eb_roofline *out);

/* ---- predictions before a run ---- */

typedef struct eb_prediction {
    /* memory: weights (all read, so all resident) and the repacked copy of
     * those the engine repacks, the KV cache of the
     * whole context (allocated and cleared at once), and the activations
     * of one prompt batch plus one row of logits; runtime overhead (the
     * program, libraries, allocator slack) is not included */
    double weights_bytes, kv_bytes, compute_bytes, memory_bytes;
    double repacked_bytes; /* the copy of repacked weights (0 when none) */
    double load_cold_s;    /* file ÷ probed cold disk read speed; NAN unprobed */
    double load_cached_s;  /* file ÷ probed page-cache read speed */
    eb_roofline rl;        /* the maxima (measured fields NAN) */
} eb_prediction;

void eb_predict(const eb_model_shape *s, const eb_ceilings *c, double disk_cold_gbs,
                double disk_cached_gbs, uint64_t file_bytes, int n_ctx, int n_prompt, int n_gen,
                eb_prediction *out);

/* ---- choosing a probe's figure for a configuration ---- */

/* One stored probe measurement. */
typedef struct eb_probe_point {
    char measure[16]; /* "mem_read" (GB/s) or "matmul" (GFLOP/s) */
    char type[16];    /* weight type of a matmul, "" for memory */
    int threads;
    double value;
    bool repacked; /* a matmul whose weights the engine repacked */
} eb_probe_point;

/* The point of measure (and type, case-insensitive, when given) at threads,
 * else at the nearest thread count (the smaller on a tie); points earlier in
 * the array win among equals (pass the newest first). NULL when none. */
const eb_probe_point *eb_probe_pick(const eb_probe_point *p, size_t n, const char *measure,
                                    const char *type, int threads);

/* The matrix kernel a weight type runs on: "Q4_K" for "Q4_K_M" or "q4_K",
 * the type itself otherwise (upper case). */
void eb_kernel_type(const char *weight_type, char *out, size_t cap);

/* Ceilings for a configuration of generation threads tg and prefill
 * threads tp of a model whose main weight type is main_type. */
void eb_ceilings_pick(const eb_probe_point *p, size_t n, int tg, int tp, const char *main_type,
                      eb_ceilings *out);

/* ---- nominal figures of known boards ---- */

typedef struct eb_nominal {
    const char *board;  /* what it is */
    const char *memory; /* e.g. "LPDDR4X-4267, 32-bit bus" */
    double mem_gbs;     /* memory bus peak */
    const char *cpu;    /* e.g. "4 x Cortex-A76 at 2.4 GHz" */
    double cpu_gflops;  /* FP32 FMA peak: cores x clock x FLOP per cycle */
} eb_nominal;

/* The nominal figures of a board by its device-tree model string and total
 * RAM; NULL when the board is not known. */
const eb_nominal *eb_nominal_find(const char *board_model, uint64_t ram_total_kb);

#endif
