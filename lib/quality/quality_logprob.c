/* Encoded log-probabilities, the base file that holds them, UTF-8 checking
 * and cached quantization. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgebench/quality.h"
#include "edgebench/util.h"
#include "quality_impl.h"

/* Codes cover the top 16 nats of a distribution: below that a token's
 * probability (< 1.1e-7 of the top one) does not move KL or perplexity. */
#define LP_RANGE 16.0f

double eb_logprob_encode(const float *logits, int32_t n_vocab, int32_t token, eb_logprob_row *row,
                         uint16_t *codes)
{
    float max = logits[0], min = logits[0];
    int32_t top = 0;
    for (int32_t i = 1; i < n_vocab; i++) {
        if (logits[i] > max) max = logits[i], top = i;
        if (logits[i] < min) min = logits[i];
    }
    if (min < max - LP_RANGE) min = max - LP_RANGE;
    double sum = 0;
    for (int32_t i = 0; i < n_vocab; i++)
        sum += expf(logits[i] - max);
    const float lse = (float)log(sum);
    /* In double from the float difference, as llama-perplexity sums it. */
    const double nll = log(sum) - (double)(logits[token] - max);
    row->top = top;
    row->nll = nll;
    row->min_lp = min - max - lse;
    row->scale = (max - min) / 65535.0f;
    if (!codes) return nll;
    if (row->scale <= 0) {
        memset(codes, 0, (size_t)n_vocab * sizeof *codes);
        return nll;
    }
    const float inv = 1.0f / row->scale;
    for (int32_t i = 0; i < n_vocab; i++)
        codes[i] = logits[i] > min ? (uint16_t)lrintf((logits[i] - min) * inv) : 0;
    return nll;
}

double eb_logprob_kl(const eb_logprob_row *base, const uint16_t *base_codes,
                     const eb_logprob_row *model, const uint16_t *model_codes, int32_t n_vocab)
{
    double kl = 0;
    for (int32_t i = 0; i < n_vocab; i++) {
        const float lb = base->min_lp + base->scale * base_codes[i];
        if (lb <= -LP_RANGE) continue;
        const float lm = model->min_lp + model->scale * model_codes[i];
        kl += (double)expf(lb) * (double)(lb - lm);
    }
    return kl;
}

bool eb_utf8_valid(const char *text, size_t len, size_t *bad)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        uint32_t cp, least;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, cp = c & 0x1F, least = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, cp = c & 0x0F, least = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, cp = c & 0x07, least = 0x10000;
        } else {
            goto invalid;
        }
        if (i + n >= len) goto invalid;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) goto invalid;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* Overlong forms, surrogates and code points past U+10FFFF. */
        if (cp < least || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) goto invalid;
        i += n + 1;
    }
    return true;
invalid:
    if (bad) *bad = i;
    return false;
}

/* ---- the base file ---- */

static const char lp_magic[8] = {'E', 'B', 'L', 'O', 'G', 'P', 'R', 'B'};
enum { LP_VERSION = 1, LP_ENDIAN = 0x01020304 };

typedef struct lp_header {
    char magic[8];
    uint32_t version, endian;
    int32_t n_ctx, n_vocab, n_chunks, n_tokens;
    uint64_t vocab_fingerprint;
    char corpus_sha256[65];
    char model_name[256];
    char model_quant[32];
    char model_sha256[65];
} lp_header;

eb_status eb_lp_create(eb_lp_file *f, const char *path, const eb_lp_info *info,
                       const int32_t *tokens, eb_error *err)
{
    memset(f, 0, sizeof *f);
    f->info = *info;
    snprintf(f->path, sizeof f->path, "%s", path);
    snprintf(f->part, sizeof f->part, "%s.part", path);
    f->fp = fopen(f->part, "wb");
    if (!f->fp) return eb_fail(err, EB_E_IO, "%s: %s", f->part, strerror(errno));
    lp_header h = {.version = LP_VERSION,
                   .endian = LP_ENDIAN,
                   .n_ctx = info->n_ctx,
                   .n_vocab = info->n_vocab,
                   .n_chunks = info->n_chunks,
                   .n_tokens = info->n_ctx * info->n_chunks,
                   .vocab_fingerprint = info->vocab_fingerprint};
    memcpy(h.magic, lp_magic, sizeof h.magic);
    snprintf(h.corpus_sha256, sizeof h.corpus_sha256, "%s", info->corpus_sha256);
    snprintf(h.model_name, sizeof h.model_name, "%s", info->model_name);
    snprintf(h.model_quant, sizeof h.model_quant, "%s", info->model_quant);
    snprintf(h.model_sha256, sizeof h.model_sha256, "%s", info->model_sha256);
    if (fwrite(&h, sizeof h, 1, f->fp) != 1 ||
        fwrite(tokens, sizeof *tokens, (size_t)h.n_tokens, f->fp) != (size_t)h.n_tokens) {
        eb_lp_finish(f, false, NULL);
        return eb_fail(err, EB_E_IO, "%s: cannot write: %s", f->part, strerror(errno));
    }
    return EB_OK;
}

eb_status eb_lp_open(eb_lp_file *f, const char *path, eb_lp_info *info, int32_t **tokens,
                     eb_error *err)
{
    memset(f, 0, sizeof *f);
    *tokens = NULL;
    snprintf(f->path, sizeof f->path, "%s", path);
    f->fp = fopen(path, "rb");
    if (!f->fp) return eb_fail(err, EB_E_IO, "%s: %s", path, strerror(errno));
    lp_header h;
    eb_status st = EB_OK;
    if (fread(&h, sizeof h, 1, f->fp) != 1 || memcmp(h.magic, lp_magic, sizeof lp_magic) != 0)
        st = eb_fail(err, EB_E_INVALID_ARG,
                     "%s: not a file of base log-probabilities (write one with 'edgebench ppl "
                     "--save-base')",
                     path);
    else if (h.version != LP_VERSION || h.endian != LP_ENDIAN)
        st = eb_fail(err, EB_E_INVALID_ARG,
                     "%s: written by another version or byte order (version %u); save it again",
                     path, h.version);
    else if (h.n_ctx < 4 || h.n_vocab < 2 || h.n_chunks < 1 || h.n_tokens != h.n_ctx * h.n_chunks)
        st = eb_fail(err, EB_E_INVALID_ARG, "%s: header out of range", path);
    if (st == EB_OK) {
        *tokens = malloc((size_t)h.n_tokens * sizeof **tokens);
        if (!*tokens)
            st = eb_fail(err, EB_E_NO_MEMORY, "%d base tokens", h.n_tokens);
        else if (fread(*tokens, sizeof **tokens, (size_t)h.n_tokens, f->fp) != (size_t)h.n_tokens)
            st = eb_fail(err, EB_E_INVALID_ARG, "%s: truncated in its tokens", path);
    }
    if (st != EB_OK) {
        free(*tokens);
        *tokens = NULL;
        eb_lp_close(f);
        return st;
    }
    h.corpus_sha256[64] = h.model_sha256[64] = '\0';
    h.model_name[255] = h.model_quant[31] = '\0';
    *info = (eb_lp_info){.n_ctx = h.n_ctx,
                         .n_vocab = h.n_vocab,
                         .n_chunks = h.n_chunks,
                         .vocab_fingerprint = h.vocab_fingerprint};
    snprintf(info->corpus_sha256, sizeof info->corpus_sha256, "%s", h.corpus_sha256);
    snprintf(info->model_name, sizeof info->model_name, "%s", h.model_name);
    snprintf(info->model_quant, sizeof info->model_quant, "%s", h.model_quant);
    snprintf(info->model_sha256, sizeof info->model_sha256, "%s", h.model_sha256);
    f->info = *info;
    return EB_OK;
}

eb_status eb_lp_rows(eb_lp_file *f, bool write, eb_logprob_row *rows, uint16_t *codes, int n,
                     eb_error *err)
{
    const size_t nv = (size_t)f->info.n_vocab;
    for (int i = 0; i < n; i++) {
        bool ok = write ? fwrite(&rows[i], sizeof rows[i], 1, f->fp) == 1 &&
                              fwrite(codes + i * nv, sizeof *codes, nv, f->fp) == nv
                        : fread(&rows[i], sizeof rows[i], 1, f->fp) == 1 &&
                              fread(codes + i * nv, sizeof *codes, nv, f->fp) == nv;
        if (!ok)
            return write ? eb_fail(err, EB_E_IO, "%s: cannot write: %s", f->part, strerror(errno))
                         : eb_fail(err, EB_E_INVALID_ARG, "%s: truncated in its log-probabilities",
                                   f->path);
    }
    return EB_OK;
}

eb_status eb_lp_close(eb_lp_file *f)
{
    int rc = 0;
    if (f->fp) rc = fclose(f->fp);
    f->fp = NULL;
    return rc == 0 ? EB_OK : EB_E_IO;
}

eb_status eb_lp_finish(eb_lp_file *f, bool keep, eb_error *err)
{
    bool flushed = f->fp && fflush(f->fp) == 0 && fsync(fileno(f->fp)) == 0;
    bool closed = eb_lp_close(f) == EB_OK;
    if (!f->part[0]) return EB_OK;
    bool renamed = keep && flushed && closed && rename(f->part, f->path) == 0;
    int why = errno;
    if (!renamed) unlink(f->part);
    f->part[0] = '\0';
    if (renamed || !keep) return EB_OK;
    return err ? eb_fail(err, EB_E_IO, "%s: cannot write: %s", f->path, strerror(why)) : EB_E_IO;
}

/* ---- cached quantization ---- */

eb_status eb_quantize_cached(const eb_engine_ops *e, const char *src, const char *type, int threads,
                             char *path, size_t cap, bool *created, eb_error *err)
{
    char sha[65], dir[900];
    *created = false;
    eb_status st = eb_file_sha256(src, sha, err);
    if (st == EB_OK) st = eb_cache_dir(dir, sizeof dir, err);
    if (st != EB_OK) return st;
    strncat(dir, "/quantized", sizeof dir - strlen(dir) - 1);
    if ((st = eb_mkdirs(dir, err)) != EB_OK) return st;
    char upper[32];
    size_t i = 0;
    for (; type[i] && i + 1 < sizeof upper; i++)
        upper[i] = (char)(type[i] >= 'a' && type[i] <= 'z' ? type[i] - 32 : type[i]);
    upper[i] = '\0';
    int n = snprintf(path, cap, "%s/%.16s-%s.gguf", dir, sha, upper);
    if (n < 0 || (size_t)n >= cap) return eb_fail(err, EB_E_INVALID_ARG, "cache path too long");
    struct stat sb;
    if (stat(path, &sb) == 0) return EB_OK;
    /* Written beside and renamed, so a concurrent user never sees half. */
    char part[1100];
    snprintf(part, sizeof part, "%s.part%ld", path, (long)getpid());
    st = e->quantize(src, part, upper, threads, err);
    if (st == EB_OK && rename(part, path) != 0)
        st = eb_fail(err, EB_E_IO, "cannot rename %s to %s: %s", part, path, strerror(errno));
    if (st != EB_OK)
        unlink(part);
    else
        *created = true;
    return st;
}
