/* Memory limits for a child process (lib/limits/mem_cage.c). */
#ifndef EDGEBENCH_LIMITS_H
#define EDGEBENCH_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "edgebench/error.h"

typedef enum eb_cage_kind {
    EB_CAGE_NONE,      /* none could be made: why says; an address-space limit instead */
    EB_CAGE_CGROUP_V2, /* memory.max, memory.swap.max 0 */
    EB_CAGE_CGROUP_V1, /* memory.limit_in_bytes, memsw, swappiness 0 */
} eb_cage_kind;

typedef struct eb_mem_cage {
    eb_cage_kind kind;
    int mib;
    char dir[1024];
    char why[512]; /* why no cgroup could be made */
} eb_mem_cage;

/* A cgroup of mib MiB under this process's own (root: the filesystem root,
 * "/" or a fixture tree). Never fails for want of a cgroup: kind says what
 * was made, why why not. */
eb_status eb_mem_cage_make(const char *root, int mib, eb_mem_cage *c, eb_error *err);
/* In the child, before exec: moves the calling process into the cgroup. */
bool eb_mem_cage_enter(const eb_mem_cage *c);
/* OOM kills inside the cgroup so far (0 without one). */
uint64_t eb_mem_cage_oom_kills(const eb_mem_cage *c);
const char *eb_mem_cage_describe(const eb_mem_cage *c, char *out, size_t cap);
void eb_mem_cage_remove(eb_mem_cage *c);

#endif
