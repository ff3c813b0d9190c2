#include "edgebench/gguf_check.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ggml.h"
#include "gguf.h"

/* ggml reports parse failures on stderr; the message returned here says it
 * better, and the library must not print. */
/* ggml's messages while reading are not printed; one that says an
 * allocation failed is kept, so that a reader out of memory is not told
 * "truncated" */
static char alloc_msg[256];
static void discard_log(enum ggml_log_level level, const char *text, void *user)
{
    (void)level;
    (void)user;
    if (text && (strstr(text, "alloc") || strstr(text, "memory")) && !alloc_msg[0]) {
        snprintf(alloc_msg, sizeof alloc_msg, "%s", text);
        alloc_msg[strcspn(alloc_msg, "\n")] = '\0';
    }
}

eb_status eb_gguf_check(const char *path, eb_gguf_summary *out, eb_error *err)
{
    memset(out, 0, sizeof *out);
    struct stat sb;
    if (stat(path, &sb) != 0) return eb_fail(err, EB_E_IO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return eb_fail(err, EB_E_IO, "%s: not a regular file", path);
    out->file_size = (uint64_t)sb.st_size;

    FILE *f = fopen(path, "rb");
    if (!f) return eb_fail(err, EB_E_IO, "%s: %s", path, strerror(errno));
    char magic[4] = {0};
    size_t got = fread(magic, 1, 4, f);
    fclose(f);
    if (got < 4 || memcmp(magic, "GGUF", 4) != 0)
        return eb_fail(err, EB_E_NOT_GGUF, "%s: not a GGUF file (no GGUF magic at offset 0)", path);

    struct gguf_init_params gp = {.no_alloc = true, .ctx = NULL};
    ggml_log_callback prev_cb;
    void *prev_user;
    ggml_log_get(&prev_cb, &prev_user);
    alloc_msg[0] = '\0';
    ggml_log_set(discard_log, NULL);
    struct gguf_context *g = gguf_init_from_file(path, gp);
    ggml_log_set(prev_cb, prev_user);
    if (!g && alloc_msg[0])
        return eb_fail(err, EB_E_NO_MEMORY,
                       "%s: out of memory reading its GGUF metadata: allocation failed (%s)", path,
                       alloc_msg);
    if (!g)
        return eb_fail(err, EB_E_TRUNCATED,
                       "%s: GGUF header or metadata is truncated or corrupt (%llu bytes)", path,
                       (unsigned long long)out->file_size);

    int64_t ak = gguf_find_key(g, "general.architecture");
    if (ak >= 0 && gguf_get_kv_type(g, ak) == GGUF_TYPE_STRING)
        snprintf(out->arch, sizeof out->arch, "%s", gguf_get_val_str(g, ak));
    out->n_tensors = gguf_get_n_tensors(g);
    uint64_t end = gguf_get_data_offset(g);
    for (int64_t i = 0; i < out->n_tensors; i++) {
        uint64_t e =
            gguf_get_data_offset(g) + gguf_get_tensor_offset(g, i) + gguf_get_tensor_size(g, i);
        if (e > end) end = e;
    }
    out->data_end = end;
    gguf_free(g);

    if (ak < 0)
        return eb_fail(err, EB_E_NOT_GGUF, "%s: GGUF without general.architecture key", path);
    if (end > out->file_size)
        return eb_fail(
            err, EB_E_TRUNCATED,
            "%s: truncated GGUF: tensor data ends at byte %llu but the file has %llu bytes", path,
            (unsigned long long)end, (unsigned long long)out->file_size);
    return EB_OK;
}
