/* The engine build's CPU features against this CPU and kernel (preflight.h). */
#define _GNU_SOURCE /* syscall */
#include "edgebench/preflight.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "edgebench/util.h"

/* ggml's name of a feature, the /proc/cpuinfo flags it needs (all of
 * them), and the XCR0 state bits the OS must have enabled for it. */
static const struct feature {
    bool arm; /* a feature of the Features line (Arm), else of flags (x86) */
    const char *name;
    const char *flags;
    uint64_t xcr0;
    const char *off; /* EDGEBENCH_CPU_OFF's name for it */
} feature_table[] = {
    {false, "sse3", "pni", 0, NULL},
    {false, "ssse3", "ssse3", 0, NULL},
    {false, "avx", "avx", 0x6, "avx"},
    {false, "avx_vnni", "avx_vnni", 0x6, "avx_vnni"},
    {false, "avx2", "avx2", 0x6, "avx2"},
    {false, "bmi2", "bmi2", 0, "bmi2"},
    {false, "f16c", "f16c", 0, "f16c"},
    {false, "fma", "fma", 0x6, "fma"},
    {false, "avx512", "avx512f avx512cd avx512vl avx512dq avx512bw", 0xe6, "avx512"},
    {false, "avx512_vbmi", "avx512vbmi", 0xe6, "avx512_vbmi"},
    {false, "avx512_vnni", "avx512_vnni", 0xe6, "avx512_vnni"},
    {false, "avx512_bf16", "avx512_bf16", 0xe6, "avx512_bf16"},
    {false, "amx_int8", "amx_tile amx_int8", 0x60000, "amx"},
    /* Arm (Features line) */
    {true, "neon", "asimd", 0, NULL},
    {true, "arm_fma", "asimd", 0, NULL},
    {true, "fp16_va", "asimdhp", 0, NULL},
    {true, "dotprod", "asimddp", 0, NULL},
    {true, "matmul_int8", "i8mm", 0, NULL},
    {true, "sve", "sve", 0, NULL},
    {true, "sme", "sme", 0, NULL},
};

#if defined(__x86_64__)
#define ARCH_GET_XCOMP_PERM 0x1022
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static bool cpuid_osxsave(void)
{
    unsigned a = 1, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return (c >> 27) & 1;
}
#endif

void eb_cpu_grant_read(eb_cpu_grant *g)
{
    memset(g, 0, sizeof *g);
    g->amx_permitted = -1;
#if defined(__x86_64__)
    if (cpuid_osxsave()) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        g->has_xcr0 = true;
        g->xcr0 = ((uint64_t)hi << 32) | lo;
    }
    if (g->has_xcr0 && (g->xcr0 & 0x60000) == 0x60000) {
        /* ggml asks for the tile data permission itself; asking here first
         * tells whether the kernel grants it at all */
        unsigned long perm = 0;
        if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0 &&
            syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &perm) == 0 &&
            (perm >> XFEATURE_XTILEDATA) & 1) {
            g->amx_permitted = 1;
        } else {
            g->amx_permitted = 0;
            snprintf(g->amx_why, sizeof g->amx_why, "arch_prctl(ARCH_REQ_XCOMP_PERM): %s",
                     errno ? strerror(errno) : "not granted");
        }
    }
#endif
}

/* The flags line of a cpuinfo ("flags" on x86, "Features" on Arm), with a
 * space at each end so that " flag " finds whole words; *arm says which. */
static char *cpu_flags(const char *root, bool *arm, eb_error *err)
{
    char path[1100];
    eb_path_join(path, sizeof path, root, "/proc/cpuinfo");
    char *text = eb_read_file(path, err);
    if (!text) return NULL;
    size_t cap = strlen(text) + 3;
    char *out = malloc(cap);
    *arm = false;
    bool found = out && eb_text_field(text, "flags", " \t:", out + 1, cap - 2);
    if (out && !found) found = *arm = eb_text_field(text, "Features", " \t:", out + 1, cap - 2);
    free(text);
    if (!found) {
        eb_fail(err, out ? EB_E_IO : EB_E_NO_MEMORY, "%s: no flags or Features line", path);
        free(out);
        return NULL;
    }
    out[0] = ' ';
    strcat(out, " ");
    return out;
}

static bool has_all(const char *line, const char *flags, char *missing, size_t cap)
{
    for (const char *p = flags; *p;) {
        size_t n = strcspn(p, " ");
        char word[70];
        snprintf(word, sizeof word, " %.*s ", (int)n, p);
        if (!strstr(line, word)) {
            snprintf(missing, cap, "%.*s", (int)n, p);
            return false;
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    return true;
}

eb_status eb_cpu_preflight(const char *features, const char *root, const eb_cpu_grant *grant,
                           eb_error *err)
{
    if (!features || !features[0] || strncmp(features, "unknown", 7) == 0) return EB_OK;
    bool arm_cpu = false;
    char *line = cpu_flags(root, &arm_cpu, err);
    if (!line) return err ? err->status : EB_E_IO;
    eb_status st = EB_OK;
    for (const char *p = features; *p && st == EB_OK;) {
        size_t n = strcspn(p, ",");
        for (size_t i = 0; i < sizeof feature_table / sizeof feature_table[0]; i++) {
            const struct feature *f = &feature_table[i];
            if (strlen(f->name) != n || strncmp(f->name, p, n) != 0) continue;
            /* an Arm build under qemu-user reads the host's x86 cpuinfo:
             * nothing to check it against */
            if (f->arm != arm_cpu) break;
            char missing[64], why[160] = "";
            if (!has_all(line, f->flags, missing, sizeof missing))
                snprintf(why, sizeof why, "this CPU lacks it (no '%s' in /proc/cpuinfo)", missing);
            else if (grant && grant->has_xcr0 && (grant->xcr0 & f->xcr0) != f->xcr0)
                snprintf(why, sizeof why,
                         "the kernel has not enabled its register state (XCR0 0x%llx lacks "
                         "0x%llx)",
                         (unsigned long long)grant->xcr0,
                         (unsigned long long)(f->xcr0 & ~grant->xcr0));
            else if (grant && f->xcr0 == 0x60000 && grant->amx_permitted == 0)
                snprintf(why, sizeof why, "the kernel does not grant AMX tile data (%s)",
                         grant->amx_why);
            if (why[0])
                st =
                    eb_fail(err, EB_E_UNSUPPORTED,
                            "the llama.cpp build uses %s, but %s; rebuild it on this machine "
                            "(make: the build is cached per CPU and self-tested)%s%s%s",
                            f->name, why, f->off ? ", or force it off with EDGEBENCH_CPU_OFF=" : "",
                            f->off ? f->off : "", f->off ? " make" : "");
            break;
        }
        p += n;
        if (*p == ',') p++;
    }
    free(line);
    return st;
}
