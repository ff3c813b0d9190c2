/* Before an engine is loaded: the instruction-set features its build uses
 * against what this CPU and kernel grant, so a cached build taken to a
 * machine that lacks one is a clear error naming the feature and the fix,
 * not an illegal instruction in the middle of a run. */
#ifndef EDGEBENCH_PREFLIGHT_H
#define EDGEBENCH_PREFLIGHT_H

#include <stdbool.h>
#include <stdint.h>

#include "edgebench/error.h"

/* What only the live CPU and kernel can say (x86-64): the state components
 * the OS enabled (XCR0) and whether it grants AMX tile data to this
 * process. Read on this machine by eb_cpu_grant_read; made by hand for
 * tests. */
typedef struct eb_cpu_grant {
    bool has_xcr0;
    uint64_t xcr0;
    int amx_permitted; /* 1 yes, 0 refused, -1 not asked (not x86, or no AMX) */
    char amx_why[96];  /* the refusal */
} eb_cpu_grant;

void eb_cpu_grant_read(eb_cpu_grant *g);

/* features: ggml's names, comma-separated, as the build's self-test wrote
 * them ("avx2,fma,avx512,amx_int8" or "neon,dotprod,fp16_va"). The CPU's
 * flags come from root/proc/cpuinfo; grant may be NULL (nothing live).
 * EB_E_UNSUPPORTED names the first missing feature and the fix; an
 * unknown features list ("" or "unknown...") is not checked. */
eb_status eb_cpu_preflight(const char *features, const char *root, const eb_cpu_grant *grant,
                           eb_error *err);

#endif
