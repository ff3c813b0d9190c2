/* The cached builds of the pinned llama.cpp beside the one edgebench was
 * built against (scripts/llama-setup.sh keeps each variant in its own
 * folder of the same cache): found by name for --build, so one plan can
 * run trials on the CPU build, the Vulkan build and the CUDA build. */
#include <dirent.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgebench/engine.h"
#include "edgebench/util.h"

/* A build's record, the value of key ("" when absent). */
static void fact(const char *info, const char *key, char *out, size_t cap)
{
    if (!eb_text_field(info, key, "=", out, cap)) out[0] = '\0';
}

/* The variants --build names: each by the option its build carries and
 * what makes one. A GPU variant is any build with its backend; kernels of
 * the CPU's own (KleidiAI) only a build without a GPU backend; the CPU
 * variant a build with none of them. */
static const struct build_variant {
    const char *name;
    const char *option; /* in build_options; NULL: none of the others */
    const char *setup;
    bool gpu;
} variants[] = {
    {"cpu", NULL, "scripts/llama-setup.sh", false},
    {"kleidiai", "-DGGML_CPU_KLEIDIAI=ON", "EDGEBENCH_KLEIDIAI=ON scripts/llama-setup.sh", false},
    {"vulkan", "-DGGML_VULKAN=ON", "EDGEBENCH_VULKAN=ON scripts/llama-setup.sh", true},
    {"cuda", "-DGGML_CUDA=ON", "EDGEBENCH_CUDA=ON scripts/llama-setup.sh", true},
};
#define N_VARIANTS (sizeof variants / sizeof variants[0])

static bool is_variant(const char *options, const struct build_variant *v)
{
    bool gpu = false, cpu_kernels = false;
    for (size_t i = 0; i < N_VARIANTS; i++)
        if (variants[i].option && strstr(options, variants[i].option))
            *(variants[i].gpu ? &gpu : &cpu_kernels) = true;
    if (!v->option) return !gpu && !cpu_kernels;
    return strstr(options, v->option) && (v->gpu || !gpu);
}

eb_status eb_build_find(const char *name, char *prefix, size_t cap, eb_error *err)
{
    struct stat st;
    char path[1200];
    snprintf(path, sizeof path, "%s/build-info.txt", name);
    if (strchr(name, '/')) {
        if (stat(path, &st) != 0)
            return eb_fail(err, EB_E_NOT_AVAILABLE, "build %s: no build-info.txt there", name);
        snprintf(prefix, cap, "%s", name);
        return EB_OK;
    }
    if (!strcmp(name, "default")) {
        snprintf(prefix, cap, "%s", EB_LLAMA_PREFIX);
        return EB_OK;
    }
    const struct build_variant *want = NULL;
    char names[128] = "default";
    for (size_t i = 0; i < N_VARIANTS; i++) {
        if (!strcmp(name, variants[i].name)) want = &variants[i];
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, ", %s", variants[i].name);
    }
    if (!want)
        return eb_fail(err, EB_E_INVALID_ARG, "--build wants %s or a build's folder, got '%s'",
                       names, name);
    /* builds for the machine edgebench's own build is for: a cross-built
     * arm64 edgebench takes the cross-built arm64 variants */
    char own_target[64] = "";
    snprintf(path, sizeof path, "%s/build-info.txt", EB_LLAMA_PREFIX);
    eb_error no_record = {0};
    char *own = eb_read_file(path, &no_record);
    if (own) fact(own, "target", own_target, sizeof own_target);
    free(own);
    char cache[1024];
    snprintf(cache, sizeof cache, "%s", EB_LLAMA_PREFIX);
    char *root = dirname(cache); /* the cache's llama.cpp folder */
    DIR *d = opendir(root);
    if (!d) return eb_fail(err, EB_E_NOT_AVAILABLE, "build cache %s: cannot be read", root);
    time_t best = 0;
    prefix[0] = '\0';
    struct dirent *e;
    while ((e = readdir(d))) {
        char dir[1100], done[1200];
        snprintf(dir, sizeof dir, "%s/%s", root, e->d_name);
        snprintf(done, sizeof done, "%s/.complete", dir);
        snprintf(path, sizeof path, "%s/build-info.txt", dir);
        if (e->d_name[0] == '.' || stat(done, &st) != 0) continue;
        eb_error ignored = {0};
        char *info = eb_read_file(path, &ignored);
        if (!info) continue;
        char commit[64], options[1200], target[64];
        fact(info, "llama_cpp_commit", commit, sizeof commit);
        fact(info, "build_options", options, sizeof options);
        fact(info, "target", target, sizeof target);
        free(info);
        /* the same release, for the same machine */
        if (strcmp(commit, EB_LLAMA_COMMIT) != 0 || strcmp(target, own_target) != 0) continue;
        if (!is_variant(options, want)) continue;
        if (st.st_mtime >= best) {
            best = st.st_mtime;
            snprintf(prefix, cap, "%s", dir);
        }
    }
    closedir(d);
    if (!prefix[0])
        return eb_fail(err, EB_E_NOT_AVAILABLE,
                       "no %s build of llama.cpp %.8s in %s (%s makes one)", name, EB_LLAMA_COMMIT,
                       root, want->setup);
    return EB_OK;
}

const char *eb_build_tool(const char *name, const char *fallback)
{
    /* one path per tool, kept for the process's life (its build does not
     * change once it runs); a tool past the table's room takes fallback */
    static struct {
        char name[32];
        char path[1200];
    } known[8];
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    const char *b = getenv("EDGEBENCH_BUILD_PREFIX");
    if (!b || !b[0]) return fallback;
    const char *found = fallback;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (!known[i].name[0]) {
            snprintf(known[i].name, sizeof known[i].name, "%s", name);
            snprintf(known[i].path, sizeof known[i].path, "%s/bin/%s", b, name);
            if (access(known[i].path, X_OK) != 0) known[i].path[0] = '\0';
        }
        if (!strcmp(known[i].name, name)) {
            if (known[i].path[0]) found = known[i].path;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return found;
}
