/* Why a trial process failed, from what it wrote on stderr: its own error
 * line, led by the real cause where memory ran out (the allocation that
 * failed, and the address-space limit when the plan set one), never a
 * warning that happened to be printed last. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edgebench/sweep.h"
#include "edgebench/util.h"

/* The memory failure a log shows, as "allocation of 101.8 MiB failed". */
static bool memory_cause(const char *log, char *out, size_t cap)
{
    const char *p;
    double mb;
    unsigned long long bytes;
    if ((p = eb_strstr_ci(log, "attempted to allocate")) &&
        sscanf(p, "attempted to allocate %lf MB", &mb) == 1) {
        snprintf(out, cap, "allocation of %.1f MiB failed", mb);
        return true;
    }
    if ((p = eb_strstr_ci(log, "failed to allocate")) && (p = eb_strstr_ci(p, "of size ")) &&
        sscanf(p, "of size %llu", &bytes) == 1) {
        snprintf(out, cap, "allocation of %.1f MiB failed", (double)bytes / 1048576.0);
        return true;
    }
    if (eb_strstr_ci(log, "bad_alloc")) {
        snprintf(out, cap, "allocation failed (std::bad_alloc)");
        return true;
    }
    if (eb_strstr_ci(log, "cannot allocate memory") || eb_strstr_ci(log, "failed to allocate")) {
        snprintf(out, cap, "allocation failed");
        return true;
    }
    return false;
}

void eb_failure_reason(const char *log, int memory_limit_mib, char *out, size_t cap)
{
    out[0] = '\0';
    if (!log) log = "";
    /* the trial's own error line, else the last line that says why a
     * library stopped the process (a failed check in ggml, a shader that a
     * Vulkan driver's compiler could not build), else its last line (an
     * emulator's or the C library's word on the signal says less) */
    static const char *const fatal[] = {"GGML_ASSERT", "LLVM ERROR", "terminate called",
                                        "ggml_vulkan: Error", "CUDA error"};
    const char *line = NULL, *last = NULL, *stopped = NULL;
    for (const char *p = log; *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        /* "edgebench: warm-up 1/5" is progress, not a message */
        if (n > 0 && strncmp(p, "edgebench: ", 11) != 0) {
            last = p;
            if (strncmp(p, "edgebench ", 10) == 0) line = p;
            for (size_t k = 0; k < sizeof fatal / sizeof fatal[0]; k++) {
                const char *hit = strstr(p, fatal[k]);
                if (hit && hit < p + n) stopped = p;
            }
        }
        p += n + (end ? 1 : 0);
    }
    if (!line) line = stopped ? stopped : last;
    size_t line_len = line ? strcspn(line, "\n") : 0;
    char cause[128];
    size_t n = 0;
    if (memory_cause(log, cause, sizeof cause)) {
        n = (size_t)snprintf(out, cap, "out of memory: %s", cause);
        if (memory_limit_mib > 0 && n < cap)
            n += (size_t)snprintf(out + n, cap - n,
                                  " under the address-space limit of %d MiB (memory_limit)",
                                  memory_limit_mib);
        if (line_len && n < cap) n += (size_t)snprintf(out + n, cap - n, "; ");
    }
    if (line_len && n < cap) snprintf(out + n, cap - n, "%.*s", (int)line_len, line);
    if (!out[0]) snprintf(out, cap, "no message");
}
