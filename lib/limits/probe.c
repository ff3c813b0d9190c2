/* The device probe: memory read bandwidth, the engine's matrix kernels and
 * the disk's read speed, each the best of several timed passes. */
#include "edgebench/probe.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "edgebench/json.h"
#include "edgebench/stats.h"
#include "edgebench/util.h"
#include "probe_read.h"

/* Sizes such as "32768K" or "8M". */
static uint64_t parse_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end == 'K') v <<= 10;
    if (*end == 'M') v <<= 20;
    if (*end == 'G') v <<= 30;
    return v;
}

uint64_t eb_llc_bytes(const char *root)
{
    uint64_t best = 0;
    for (int i = 0; i < 16; i++) {
        char rel[128], path[1024], line[64];
        snprintf(rel, sizeof rel, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        eb_path_join(path, sizeof path, root, rel);
        if (!eb_read_line(path, line, sizeof line)) continue;
        uint64_t v = parse_size(line);
        if (v > best) best = v;
    }
    return best;
}

/* ---- memory ---- */

typedef struct mem_shared {
    const uint64_t *buf;
    size_t words;
    int threads;
    bool first_touch;
    atomic_int go; /* 0 wait, 1 read, 2 give up */
} mem_shared;

typedef struct mem_worker {
    mem_shared *sh;
    int index;
    double t0, t1;
    uint64_t sink;
    pthread_t tid;
} mem_worker;

static void *mem_thread(void *arg)
{
    mem_worker *w = arg;
    mem_shared *sh = w->sh;
    size_t per = sh->words / (size_t)sh->threads, from = per * (size_t)w->index;
    size_t n = w->index == sh->threads - 1 ? sh->words - from : per;
    /* First touch from the thread that reads it: pages are local to it. */
    if (sh->first_touch) memset((void *)(sh->buf + from), w->index + 1, n * sizeof(uint64_t));
    int go;
    while ((go = atomic_load(&sh->go)) == 0)
        sched_yield();
    if (go != 1) return NULL;
    w->t0 = eb_now();
    w->sink ^= eb_probe_read_words(sh->buf + from, n);
    w->t1 = eb_now();
    return NULL;
}

/* One pass: every thread reads its slice once, all starting together. */
static eb_status mem_pass(mem_shared *sh, mem_worker *w, double *gbs, eb_error *err)
{
    atomic_store(&sh->go, 0);
    int started = 0;
    for (; started < sh->threads; started++) {
        w[started].sh = sh;
        w[started].index = started;
        if (pthread_create(&w[started].tid, NULL, mem_thread, &w[started]) != 0) break;
    }
    atomic_store(&sh->go, started == sh->threads ? 1 : 2);
    for (int i = 0; i < started; i++)
        pthread_join(w[i].tid, NULL);
    if (started < sh->threads)
        return eb_fail(err, EB_E_INTERNAL, "memory probe: could not start thread %d of %d",
                       started + 1, sh->threads);
    double t0 = INFINITY, t1 = 0;
    for (int i = 0; i < sh->threads; i++) {
        if (w[i].t0 < t0) t0 = w[i].t0;
        if (w[i].t1 > t1) t1 = w[i].t1;
    }
    *gbs = (double)sh->words * 8.0 / (t1 - t0) / 1e9;
    return EB_OK;
}

eb_status eb_probe_memory(uint64_t bytes, int threads, int passes, double min_seconds,
                          eb_probe_mem *out, eb_error *err)
{
    memset(out, 0, sizeof *out);
    out->threads = threads;
    if (threads < 1 || threads > EB_MAX_THREADS || passes < 1 || passes > EB_PROBE_MAX_MEM_PASSES ||
        !(min_seconds >= 0) || min_seconds > 3600)
        return eb_fail(err, EB_E_INVALID_ARG,
                       "memory probe: %d threads, %d passes, %g s out of range", threads, passes,
                       min_seconds);
    mem_shared sh = {.words = (size_t)(bytes / sizeof(uint64_t)), .threads = threads};
    void *buf = NULL;
    if (sh.words < (size_t)threads * 8 || posix_memalign(&buf, 4096, sh.words * 8) != 0)
        return eb_fail(err, EB_E_NO_MEMORY, "memory probe: cannot allocate %llu bytes",
                       (unsigned long long)bytes);
    sh.buf = buf;
    mem_worker *w = calloc((size_t)threads, sizeof *w);
    double *gbs = calloc(EB_PROBE_MAX_MEM_PASSES, sizeof *gbs);
    if (!w || !gbs) {
        free(buf);
        free(w);
        free(gbs);
        return eb_fail(err, EB_E_NO_MEMORY, "memory probe: out of memory");
    }
    double untimed;
    sh.first_touch = true;
    eb_status st = mem_pass(&sh, w, &untimed, err);
    sh.first_touch = false;
    int n = 0;
    for (double t0 = eb_now();
         st == EB_OK && n < EB_PROBE_MAX_MEM_PASSES && (n < passes || eb_now() - t0 < min_seconds);
         n++)
        st = mem_pass(&sh, w, &gbs[n], err);
    uint64_t sink = 0;
    for (int i = 0; i < threads; i++)
        sink ^= w[i].sink;
    free(w);
    free(buf);
    if (st == EB_OK) {
        eb_stats sum;
        eb_stats_compute(gbs, (size_t)n, &sum);
        out->n_passes = n;
        out->best_gbs = sum.max;
        out->median_gbs = sum.median;
        out->slowest_gbs = sum.min;
        /* the sums are used, so the reads cannot be optimised away */
        out->sink = sink;
    }
    free(gbs);
    return st;
}

/* ---- disk ---- */

#define DISK_CHUNK (4u << 20)

static double read_all(int fd, char *chunk, uint64_t bytes, eb_error *err, const char *path,
                       eb_status *st)
{
    if (lseek(fd, 0, SEEK_SET) < 0) {
        *st = eb_fail(err, EB_E_IO, "disk probe %s: %s", path, strerror(errno));
        return NAN;
    }
    double t0 = eb_now();
    for (uint64_t done = 0; done < bytes;) {
        ssize_t r = read(fd, chunk, DISK_CHUNK);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            *st = eb_fail(err, EB_E_IO, "disk probe %s: read: %s", path,
                          r < 0 ? strerror(errno) : "short file");
            return NAN;
        }
        done += (uint64_t)r;
    }
    return (double)bytes / (eb_now() - t0) / 1e9;
}

/* The share of the file's pages in the page cache (mincore), -1 unknown. */
static double resident_share(int fd, uint64_t bytes)
{
    void *m = mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) return -1;
    long page = sysconf(_SC_PAGESIZE);
    size_t pages = (size_t)((bytes + (uint64_t)page - 1) / (uint64_t)page);
    unsigned char *vec = malloc(pages);
    double share = -1;
    if (vec && mincore(m, bytes, vec) == 0) {
        size_t in = 0;
        for (size_t i = 0; i < pages; i++)
            in += vec[i] & 1;
        share = (double)in / (double)pages;
    }
    free(vec);
    munmap(m, bytes);
    return share;
}

eb_status eb_probe_disk_read(const char *dir, uint64_t bytes, eb_probe_disk *out, eb_error *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->dir, sizeof out->dir, "%s", dir);
    out->bytes = bytes = (bytes + DISK_CHUNK - 1) / DISK_CHUNK * DISK_CHUNK;
    out->cold_gbs = out->cached_gbs = NAN;
    char path[1024];
    snprintf(path, sizeof path, "%s/edgebench-probe-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0)
        return eb_fail(err, EB_E_IO, "disk probe: cannot create a file in %s: %s", dir,
                       strerror(errno));
    char *chunk = malloc(DISK_CHUNK);
    eb_status st = chunk ? EB_OK : eb_fail(err, EB_E_NO_MEMORY, "disk probe: out of memory");
    /* Random bytes: a compressing or deduplicating file system cannot
     * shortcut them. */
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    for (uint64_t done = 0; st == EB_OK && done < bytes; done += DISK_CHUNK) {
        for (size_t i = 0; i < DISK_CHUNK / 8; i++)
            ((uint64_t *)chunk)[i] = eb_rng_next(&rng);
        for (size_t w = 0; st == EB_OK && w < DISK_CHUNK;) {
            ssize_t r = write(fd, chunk + w, DISK_CHUNK - w);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0)
                st = eb_fail(err, EB_E_IO, "disk probe %s: write: %s", path,
                             r < 0 ? strerror(errno) : "no progress");
            else
                w += (size_t)r;
        }
    }
    if (st == EB_OK && fsync(fd) != 0)
        st = eb_fail(err, EB_E_IO, "disk probe %s: fsync: %s", path, strerror(errno));
    if (st == EB_OK) {
        /* Clean pages can be dropped; whether they were is checked. */
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        double share = resident_share(fd, bytes);
        out->cold_dropped = share >= 0 && share < 0.05;
        double cold = read_all(fd, chunk, bytes, err, path, &st);
        if (st == EB_OK && out->cold_dropped)
            out->cold_gbs = cold;
        else if (st == EB_OK)
            snprintf(out->reason, sizeof out->reason,
                     "the file's pages stayed in memory after being dropped (%s; a RAM-backed file"
                     " system?), so no cold read was timed",
                     share < 0 ? "residency unknown" : "still cached");
        if (st == EB_OK) out->cached_gbs = read_all(fd, chunk, bytes, err, path, &st);
    }
    free(chunk);
    close(fd);
    unlink(path);
    out->measured = st == EB_OK;
    return st;
}

/* ---- the whole probe ---- */

static void say(const eb_probe_options *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const eb_probe_options *o, const char *fmt, ...)
{
    if (!o->progress) return;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    o->progress(o->progress_user, buf);
}

/* Busy and total jiffies of all CPUs (busy: all but idle and iowait). */
static bool cpu_jiffies(const char *root, unsigned long long *busy, unsigned long long *total)
{
    char path[1024], buf[4096];
    eb_path_join(path, sizeof path, root, "/proc/stat");
    if (eb_read_text(path, buf, sizeof buf, NULL) != EB_OK) return false;
    unsigned long long v[8] = {0};
    if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]) < 4)
        return false;
    *total = 0;
    for (int i = 0; i < 8; i++)
        *total += v[i];
    *busy = *total - v[3] - v[4];
    return true;
}

static double busy_cpus(const char *root, int n_cpus)
{
    unsigned long long b0, t0, b1, t1;
    if (!cpu_jiffies(root, &b0, &t0)) return NAN;
    eb_sleep(0.5);
    if (!cpu_jiffies(root, &b1, &t1) || t1 <= t0) return NAN;
    return (double)(b1 - b0) / (double)(t1 - t0) * (n_cpus > 0 ? n_cpus : 1);
}

static const char *const default_types[] = {"F16", "Q8_0", "Q4_0", "Q4_K"};

eb_status eb_probe_run(const eb_engine_ops *engine, const eb_probe_options *opt,
                       eb_probe_result *res, eb_error *err)
{
    memset(res, 0, sizeof *res);
    res->disk.cold_gbs = res->disk.cached_gbs = NAN;
    double t_start = eb_now();
    eb_status ist = engine->init(err); /* the engine's logging, quiet */
    if (ist != EB_OK) return ist;
    eb_device_info_read(opt->root, &res->device);
    eb_utc_iso8601(time(NULL), res->started_at, sizeof res->started_at);
    snprintf(res->engine, sizeof res->engine, "%s", engine->name);
    snprintf(res->engine_version, sizeof res->engine_version, "%s", engine->version());
    res->passes = opt->passes > 0 ? opt->passes : 5;
    res->mem_passes = opt->mem_passes > 0 ? opt->mem_passes : 48;
    res->mem_seconds = opt->mem_seconds > 0 ? opt->mem_seconds : 1.0;
    if (res->passes > EB_PROBE_MAX_PASSES || res->mem_passes > EB_PROBE_MAX_MEM_PASSES)
        return eb_fail(err, EB_E_INVALID_ARG, "probe: at most %d kernel and %d memory passes",
                       EB_PROBE_MAX_PASSES, EB_PROBE_MAX_MEM_PASSES);
    res->mm_m = opt->mm_m > 0 ? opt->mm_m : 2048;
    res->mm_n = opt->mm_n > 0 ? opt->mm_n : 256;
    res->mm_k = opt->mm_k > 0 ? opt->mm_k : 2048;
    res->llc_bytes = eb_llc_bytes(opt->root);
    res->busy_cpus_before = busy_cpus(opt->root, res->device.n_cpus_online);
    res->buffer_bytes = opt->buffer_bytes;
    if (!res->buffer_bytes) {
        res->buffer_bytes = 256ull << 20;
        if (res->llc_bytes * 8 > res->buffer_bytes) res->buffer_bytes = res->llc_bytes * 8;
        /* never more than a quarter of what is free */
        uint64_t avail = res->device.ram_available_kb * 1024 / 4;
        if (avail > (64ull << 20) && res->buffer_bytes > avail) res->buffer_bytes = avail;
    }
    int threads[EB_PROBE_MAX_THREADS], n_threads = opt->n_threads;
    if (n_threads > 0) {
        memcpy(threads, opt->threads, (size_t)n_threads * sizeof *threads);
    } else {
        int cpus = res->device.n_cpus_online > 0 ? res->device.n_cpus_online : 1;
        for (int t = 1; t <= cpus && n_threads < EB_PROBE_MAX_THREADS - 1;
             t = t < 8 ? t + 1 : t * 2)
            threads[n_threads++] = t;
        if (threads[n_threads - 1] != cpus) threads[n_threads++] = cpus;
    }
    const char *const *types = opt->n_types > 0 ? opt->types : default_types;
    int n_types = opt->n_types > 0 ? opt->n_types : 4;
    eb_status st = EB_OK;
    for (int i = 0; i < n_threads && st == EB_OK; i++) {
        say(opt, "memory read, %d thread(s), %.0f MiB x at least %d passes and %g s", threads[i],
            (double)res->buffer_bytes / 1048576.0, res->mem_passes, res->mem_seconds);
        st = eb_probe_memory(res->buffer_bytes, threads[i], res->mem_passes, res->mem_seconds,
                             &res->mem[res->n_mem], err);
        if (st == EB_OK) res->n_mem++;
    }
    double pass_s[EB_PROBE_MAX_PASSES];
    for (int ty = 0; ty < n_types && st == EB_OK; ty++) {
        for (int i = 0; i < n_threads; i++) {
            eb_probe_kernel *k = &res->kernels[res->n_kernels++];
            snprintf(k->type, sizeof k->type, "%s", types[ty]);
            k->threads = threads[i];
            k->best_gflops = k->median_gflops = NAN;
            say(opt, "%s matrix kernel, %d thread(s), %d x %d x %d", types[ty], threads[i],
                res->mm_m, res->mm_n, res->mm_k);
            eb_error kerr = {0};
            if (!engine->matmul_probe) {
                snprintf(k->reason, sizeof k->reason, "the %s engine has no kernel probe",
                         engine->name);
                continue;
            }
            if (engine->matmul_probe(types[ty], res->mm_m, res->mm_n, res->mm_k, threads[i],
                                     res->passes, pass_s, k->variant, sizeof k->variant,
                                     &kerr) != EB_OK) {
                snprintf(k->reason, sizeof k->reason, "%s", kerr.msg);
                if (kerr.status == EB_E_INVALID_ARG) st = eb_fail(err, kerr.status, "%s", kerr.msg);
                break;
            }
            double flop = 2.0 * res->mm_m * (double)res->mm_n * res->mm_k, g[EB_PROBE_MAX_PASSES];
            for (int p = 0; p < res->passes; p++)
                g[p] = flop / pass_s[p] / 1e9;
            eb_stats sum;
            eb_stats_compute(g, (size_t)res->passes, &sum);
            k->best_gflops = sum.max;
            k->median_gflops = sum.median;
        }
    }
    if (st == EB_OK && opt->disk_dir) {
        say(opt, "disk read in %s", opt->disk_dir);
        eb_error derr = {0};
        if (eb_probe_disk_read(opt->disk_dir, opt->disk_bytes ? opt->disk_bytes : 256ull << 20,
                               &res->disk, &derr) != EB_OK)
            snprintf(res->disk.reason, sizeof res->disk.reason, "%s", derr.msg);
    } else if (st == EB_OK) {
        snprintf(res->disk.reason, sizeof res->disk.reason, "not probed (--no-disk)");
    }
    res->duration_s = eb_now() - t_start;
    return st;
}

cJSON *eb_probe_to_json(const eb_probe_result *res)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "kind", "probe");
    cJSON_AddStringToObject(rec, "source", "probe");
    cJSON_AddStringToObject(rec, "started_at", res->started_at);
    cJSON_AddItemToObject(rec, "device", eb_device_info_to_json(&res->device));
    cJSON *b = cJSON_AddObjectToObject(rec, "build");
    cJSON_AddStringToObject(b, "engine", res->engine);
    cJSON_AddStringToObject(b, "engine_version", res->engine_version);
    cJSON *p = cJSON_AddObjectToObject(rec, "probe");
    cJSON_AddNumberToObject(p, "duration_s", res->duration_s);
    eb_json_number(p, "busy_cpus_before", res->busy_cpus_before);
    cJSON_AddNumberToObject(p, "llc_bytes", (double)res->llc_bytes);
    cJSON_AddNumberToObject(p, "buffer_bytes", (double)res->buffer_bytes);
    cJSON_AddNumberToObject(p, "passes", res->passes);
    cJSON_AddNumberToObject(p, "mem_passes", res->mem_passes);
    cJSON_AddNumberToObject(p, "mem_seconds", res->mem_seconds);
    cJSON *mem = cJSON_AddArrayToObject(p, "memory");
    for (int i = 0; i < res->n_mem; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddNumberToObject(m, "threads", res->mem[i].threads);
        eb_json_number(m, "best_gbs", res->mem[i].best_gbs);
        eb_json_number(m, "median_gbs", res->mem[i].median_gbs);
        eb_json_number(m, "slowest_gbs", res->mem[i].slowest_gbs);
        cJSON_AddNumberToObject(m, "passes", res->mem[i].n_passes);
        cJSON_AddItemToArray(mem, m);
    }
    cJSON *ker = cJSON_AddArrayToObject(p, "kernels");
    for (int i = 0; i < res->n_kernels; i++) {
        const eb_probe_kernel *k = &res->kernels[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", k->type);
        cJSON_AddNumberToObject(o, "threads", k->threads);
        cJSON_AddNumberToObject(o, "m", res->mm_m);
        cJSON_AddNumberToObject(o, "n", res->mm_n);
        cJSON_AddNumberToObject(o, "k", res->mm_k);
        eb_json_number(o, "best_gflops", k->best_gflops);
        eb_json_number(o, "median_gflops", k->median_gflops);
        if (k->variant[0]) cJSON_AddStringToObject(o, "weights_buffer", k->variant);
        if (k->reason[0]) cJSON_AddStringToObject(o, "reason", k->reason);
        cJSON_AddItemToArray(ker, o);
    }
    cJSON *d = cJSON_AddObjectToObject(p, "disk");
    cJSON_AddBoolToObject(d, "measured", res->disk.measured);
    if (res->disk.dir[0]) cJSON_AddStringToObject(d, "dir", res->disk.dir);
    cJSON_AddNumberToObject(d, "bytes", (double)res->disk.bytes);
    eb_json_number(d, "cold_gbs", res->disk.cold_gbs);
    eb_json_number(d, "cached_gbs", res->disk.cached_gbs);
    if (res->disk.reason[0]) cJSON_AddStringToObject(d, "reason", res->disk.reason);
    return rec;
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

eb_status eb_probe_points_from_json(const cJSON *rec, eb_probe_point **out, size_t *n,
                                    eb_error *err)
{
    *out = NULL;
    *n = 0;
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(rec, "probe");
    if (!cJSON_IsObject(pr))
        return eb_fail(err, EB_E_INVALID_ARG,
                       "not a probe record: no \"probe\" object (write one with 'edgebench "
                       "device probe --format json')");
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(pr, "memory");
    const cJSON *ker = cJSON_GetObjectItemCaseSensitive(pr, "kernels");
    size_t cap = (size_t)cJSON_GetArraySize(mem) + (size_t)cJSON_GetArraySize(ker);
    eb_probe_point *p = cap ? calloc(cap, sizeof *p) : NULL;
    if (cap && !p) return eb_fail(err, EB_E_NO_MEMORY, "probe: out of memory");
    const cJSON *e;
    cJSON_ArrayForEach(e, mem)
    {
        eb_probe_point *q = &p[*n];
        snprintf(q->measure, sizeof q->measure, "mem_read");
        q->threads = (int)jnum(e, "threads");
        q->value = jnum(e, "best_gbs");
        if (q->threads > 0 && q->value > 0) (*n)++;
    }
    cJSON_ArrayForEach(e, ker)
    {
        eb_probe_point *q = &p[*n];
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
        snprintf(q->measure, sizeof q->measure, "matmul");
        snprintf(q->type, sizeof q->type, "%s", cJSON_IsString(t) ? t->valuestring : "");
        q->threads = (int)jnum(e, "threads");
        q->value = jnum(e, "best_gflops");
        const cJSON *wb = cJSON_GetObjectItemCaseSensitive(e, "weights_buffer");
        q->repacked = cJSON_IsString(wb) && strstr(wb->valuestring, "REPACK") != NULL;
        if (q->threads > 0 && q->value > 0 && q->type[0]) (*n)++;
    }
    *out = p;
    return EB_OK;
}

cJSON *eb_probe_points_to_json(const eb_probe_point *p, size_t n)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "kind", "probe");
    cJSON *pr = cJSON_AddObjectToObject(rec, "probe");
    cJSON *mem = cJSON_AddArrayToObject(pr, "memory"), *ker = cJSON_AddArrayToObject(pr, "kernels");
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "threads", p[i].threads);
        if (strcmp(p[i].measure, "mem_read") == 0) {
            cJSON_AddNumberToObject(o, "best_gbs", p[i].value);
            cJSON_AddItemToArray(mem, o);
        } else if (strcmp(p[i].measure, "matmul") == 0) {
            cJSON_AddStringToObject(o, "type", p[i].type);
            cJSON_AddNumberToObject(o, "best_gflops", p[i].value);
            if (p[i].repacked) cJSON_AddStringToObject(o, "weights_buffer", "CPU_REPACK");
            cJSON_AddItemToArray(ker, o);
        } else {
            cJSON_Delete(o);
        }
    }
    return rec;
}
