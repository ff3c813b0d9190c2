/* A memory limit for a child process that counts what it really holds: a
 * cgroup of its own (v2 memory.max with memory.swap.max 0, or v1
 * memory.limit_in_bytes with memsw and swappiness 0), made under the
 * caller's own cgroup. Where none can be made (no permission, no memory
 * controller), the caller falls back to an address-space limit and says so. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgebench/limits.h"
#include "edgebench/util.h"

static bool write_text(const char *dir, const char *file, const char *text)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (!f) return false;
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

/* The caller's cgroup path in a hierarchy: "0::" (v2) or "N:memory:" (v1). */
static bool own_cgroup(const char *root, bool v2, char *out, size_t cap)
{
    char path[1100], buf[4096];
    snprintf(path, sizeof path, "%s/proc/self/cgroup", root);
    if (eb_read_text(path, buf, sizeof buf, NULL) != EB_OK) return false;
    for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
        const char *rest = NULL;
        if (v2 && strncmp(l, "0::", 3) == 0) rest = l + 3;
        char *c = strchr(l, ':');
        if (!v2 && c && strncmp(c + 1, "memory:", 7) == 0) rest = c + 8;
        if (rest) {
            snprintf(out, cap, "%s", strcmp(rest, "/") == 0 ? "" : rest);
            return true;
        }
    }
    return false;
}

eb_status eb_mem_cage_make(const char *root, int mib, eb_mem_cage *c, eb_error *err)
{
    memset(c, 0, sizeof *c);
    c->mib = mib;
    if (!root || !root[0]) root = "/";
    char base[1100], own[512], probe[1200];
    snprintf(probe, sizeof probe, "%s/sys/fs/cgroup/cgroup.controllers", root);
    bool v2 = access(probe, R_OK) == 0;
    snprintf(base, sizeof base, "%s/sys/fs/cgroup%s", root, v2 ? "" : "/memory");
    if (!v2 && access(base, R_OK) != 0) {
        snprintf(c->why, sizeof c->why, "no cgroup memory controller (no %s)", base);
        return EB_OK;
    }
    if (!own_cgroup(root, v2, own, sizeof own)) {
        snprintf(c->why, sizeof c->why, "this process's %s cgroup is not in /proc/self/cgroup",
                 v2 ? "v2" : "v1 memory");
        return EB_OK;
    }
    snprintf(c->dir, sizeof c->dir, "%s%s/edgebench-fit-%ld", base, own, (long)getpid());
    if (mkdir(c->dir, 0755) != 0 && errno != EEXIST) {
        snprintf(c->why, sizeof c->why, "cannot make %s: %s", c->dir, strerror(errno));
        c->dir[0] = '\0';
        return EB_OK;
    }
    char bytes[32];
    snprintf(bytes, sizeof bytes, "%lld", (long long)mib << 20);
    bool ok = v2 ? write_text(c->dir, "memory.max", bytes)
                 : write_text(c->dir, "memory.limit_in_bytes", bytes);
    if (!ok) {
        snprintf(c->why, sizeof c->why, "cannot set the limit in %s: %s", c->dir, strerror(errno));
        rmdir(c->dir);
        c->dir[0] = '\0';
        return EB_OK;
    }
    /* no swapping instead of failing: what fits, fits in memory */
    if (v2)
        write_text(c->dir, "memory.swap.max", "0");
    else
        write_text(c->dir, "memory.memsw.limit_in_bytes", bytes),
            write_text(c->dir, "memory.swappiness", "0");
    c->kind = v2 ? EB_CAGE_CGROUP_V2 : EB_CAGE_CGROUP_V1;
    (void)err;
    return EB_OK;
}

bool eb_mem_cage_enter(const eb_mem_cage *c)
{
    if (c->kind == EB_CAGE_NONE) return true;
    char pid[24];
    snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    return write_text(c->dir, "cgroup.procs", pid);
}

uint64_t eb_mem_cage_oom_kills(const eb_mem_cage *c)
{
    if (c->kind == EB_CAGE_NONE) return 0;
    char path[1200], buf[2048], v[32];
    snprintf(path, sizeof path, "%s/%s", c->dir,
             c->kind == EB_CAGE_CGROUP_V2 ? "memory.events" : "memory.oom_control");
    if (eb_read_text(path, buf, sizeof buf, NULL) != EB_OK) return 0;
    return eb_text_field(buf, "oom_kill", " ", v, sizeof v) ? strtoull(v, NULL, 10) : 0;
}

const char *eb_mem_cage_describe(const eb_mem_cage *c, char *out, size_t cap)
{
    if (c->kind == EB_CAGE_CGROUP_V2)
        snprintf(out, cap, "cgroup v2 memory.max %d MiB, no swap", c->mib);
    else if (c->kind == EB_CAGE_CGROUP_V1)
        snprintf(out, cap, "cgroup v1 memory.limit_in_bytes %d MiB, no swap", c->mib);
    else
        snprintf(out, cap,
                 "address-space limit %d MiB (setrlimit RLIMIT_AS: counts mappings, not "
                 "resident memory), as no cgroup could be made: %s",
                 c->mib, c->why);
    return out;
}

void eb_mem_cage_remove(eb_mem_cage *c)
{
    if (c->kind != EB_CAGE_NONE && c->dir[0]) rmdir(c->dir);
    c->kind = EB_CAGE_NONE;
}
