#include "edgebench/sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "edgebench/energy.h"
#include "edgebench/util.h"

#define MAX_SOURCES 8

struct eb_sampler {
    eb_sampler_config cfg;
    eb_probe_report probes[MAX_SOURCES];
    size_t n_probes;
    eb_source *sources[MAX_SOURCES];
    int src_first[MAX_SOURCES]; /* first channel index of each source */
    size_t n_sources;
    int n_channels;
    eb_channel channels[EB_MAX_CHANNELS * MAX_SOURCES];
    int statm_fd;
    long page_kb;

    /* Preallocated with mmap: pages are touched (and count in RSS) only as
     * samples are written, a few kB a second. */
    size_t cap;
    double *times;
    double *values;
    uint64_t *rss_kb;
    void *map;
    size_t map_len;

    _Atomic size_t n;
    _Atomic uint64_t missed;
    _Atomic size_t dropped;
    _Atomic int stop;
    pthread_mutex_t write_lock; /* sample_now from another thread */
    pthread_t thread;
    bool running;
};

static uint64_t read_rss_kb(eb_sampler *s)
{
    char buf[128];
    if (s->statm_fd < 0) return 0;
    ssize_t r = pread(s->statm_fd, buf, sizeof buf - 1, 0);
    if (r <= 0) return 0;
    buf[r] = '\0';
    unsigned long long size, resident;
    if (sscanf(buf, "%llu %llu", &size, &resident) != 2) return 0;
    return (uint64_t)resident * (uint64_t)s->page_kb;
}

static void take_sample(eb_sampler *s)
{
    pthread_mutex_lock(&s->write_lock);
    size_t i = atomic_load_explicit(&s->n, memory_order_relaxed);
    if (i >= s->cap) {
        atomic_fetch_add(&s->dropped, 1);
        pthread_mutex_unlock(&s->write_lock);
        return;
    }
    double *v = s->values + i * (size_t)(s->n_channels ? s->n_channels : 1);
    for (size_t k = 0; k < s->n_sources; k++) {
        eb_source *src = s->sources[k];
        if (!src->ops->read(src, v + s->src_first[k]))
            for (int c = 0; c < src->n_channels; c++)
                v[s->src_first[k] + c] = NAN;
    }
    s->rss_kb[i] = read_rss_kb(s);
    s->times[i] = eb_now();
    atomic_store_explicit(&s->n, i + 1, memory_order_release);
    pthread_mutex_unlock(&s->write_lock);
}

static void *sampler_main(void *arg)
{
    eb_sampler *s = arg;
    const long step_ns = (long)(s->cfg.interval_s * 1e9);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!atomic_load(&s->stop)) {
        next.tv_nsec += step_ns;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
        }
        if (atomic_load(&s->stop)) break;
        take_sample(s);
        /* Late by more than a whole interval: skip the deadlines already
         * past rather than firing a burst to catch up. */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long late = (now.tv_sec - next.tv_sec) * 1000000000L + (now.tv_nsec - next.tv_nsec);
        if (late > step_ns) {
            long skip = late / step_ns;
            atomic_fetch_add(&s->missed, (uint64_t)skip);
            long add = skip * step_ns;
            next.tv_sec += add / 1000000000L;
            next.tv_nsec += add % 1000000000L;
            while (next.tv_nsec >= 1000000000L) {
                next.tv_nsec -= 1000000000L;
                next.tv_sec++;
            }
        }
    }
    return NULL;
}

eb_status eb_sampler_create(const eb_sampler_config *cfg, eb_sampler **out, eb_error *err)
{
    if (cfg->interval_s < 0.001 || cfg->interval_s > 1.0)
        return eb_fail(err, EB_E_INVALID_ARG, "sample interval must be 1..1000 ms, got %.3f ms",
                       cfg->interval_s * 1000);
    eb_sampler *s = calloc(1, sizeof *s);
    if (!s) return eb_fail(err, EB_E_NO_MEMORY, "sampler");
    s->cfg = *cfg;
    pthread_mutex_init(&s->write_lock, NULL);
    s->page_kb = sysconf(_SC_PAGESIZE) / 1024;
    char path[1024];
    eb_path_join(path, sizeof path, cfg->root, "/proc/self/statm");
    s->statm_fd = open(path, O_RDONLY | O_CLOEXEC);

    for (size_t b = 0; b < eb_power_backend_count && !cfg->no_power; b++) {
        const eb_source_ops *ops = eb_power_backends[b];
        eb_probe_report *rep = &s->probes[s->n_probes++];
        rep->source = ops->name;
        eb_source *src = NULL;
        rep->result = ops->probe(cfg->root, &src, rep->reason, sizeof rep->reason);
        if (rep->result != EB_PROBE_FOUND) continue;
        if (s->n_sources >= MAX_SOURCES) {
            ops->close(src);
            continue;
        }
        s->src_first[s->n_sources] = s->n_channels;
        s->sources[s->n_sources++] = src;
        for (int c = 0; c < src->n_channels; c++)
            s->channels[s->n_channels++] = src->channels[c];
        snprintf(rep->reason, sizeof rep->reason, "%d channel%s", src->n_channels,
                 src->n_channels == 1 ? "" : "s");
    }

    s->cap = cfg->max_samples ? cfg->max_samples : (size_t)(3600.0 / cfg->interval_s) + 16;
    size_t nch = (size_t)(s->n_channels ? s->n_channels : 1);
    s->map_len = s->cap * (sizeof(double) * (1 + nch) + sizeof(uint64_t));
    s->map = mmap(NULL, s->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (s->map == MAP_FAILED) {
        s->map = NULL;
        eb_sampler_free(s);
        return eb_fail(err, EB_E_NO_MEMORY, "sample buffer of %zu bytes", s->map_len);
    }
    s->times = s->map;
    s->values = s->times + s->cap;
    s->rss_kb = (uint64_t *)(s->values + s->cap * nch);
    *out = s;
    return EB_OK;
}

void eb_sampler_free(eb_sampler *s)
{
    if (!s) return;
    eb_sampler_stop(s);
    for (size_t k = 0; k < s->n_sources; k++)
        s->sources[k]->ops->close(s->sources[k]);
    if (s->statm_fd >= 0) close(s->statm_fd);
    if (s->map) munmap(s->map, s->map_len);
    pthread_mutex_destroy(&s->write_lock);
    free(s);
}

eb_status eb_sampler_start(eb_sampler *s, eb_error *err)
{
    if (s->running) return EB_OK;
    atomic_store(&s->stop, 0);
    take_sample(s);
    if (pthread_create(&s->thread, NULL, sampler_main, s) != 0)
        return eb_fail(err, EB_E_INTERNAL, "cannot start the sampler thread");
    s->running = true;
    return EB_OK;
}

void eb_sampler_stop(eb_sampler *s)
{
    if (!s->running) return;
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    s->running = false;
    take_sample(s);
}

void eb_sampler_sample_now(eb_sampler *s)
{
    take_sample(s);
}

size_t eb_sampler_probe_count(const eb_sampler *s)
{
    return s->n_probes;
}
const eb_probe_report *eb_sampler_probe(const eb_sampler *s, size_t i)
{
    return i < s->n_probes ? &s->probes[i] : NULL;
}
int eb_sampler_n_channels(const eb_sampler *s)
{
    return s->n_channels;
}
const eb_channel *eb_sampler_channel(const eb_sampler *s, int i)
{
    return i >= 0 && i < s->n_channels ? &s->channels[i] : NULL;
}

bool eb_sampler_has_total(const eb_sampler *s)
{
    for (int c = 0; c < s->n_channels; c++)
        if (s->channels[c].in_total) return true;
    return false;
}

size_t eb_sampler_n_samples(const eb_sampler *s)
{
    return atomic_load_explicit(&s->n, memory_order_acquire);
}
const double *eb_sampler_times(const eb_sampler *s)
{
    return s->times;
}
const double *eb_sampler_values(const eb_sampler *s)
{
    return s->values;
}
const uint64_t *eb_sampler_rss_kb(const eb_sampler *s)
{
    return s->rss_kb;
}
uint64_t eb_sampler_missed(const eb_sampler *s)
{
    return atomic_load(&s->missed);
}
size_t eb_sampler_dropped(const eb_sampler *s)
{
    return atomic_load(&s->dropped);
}
double eb_sampler_interval(const eb_sampler *s)
{
    return s->cfg.interval_s;
}

/* Power of the device total over segment i (samples i, i+1): energy
 * counters by their difference, power channels by the larger endpoint. */
static double total_segment_power(const eb_sampler *s, size_t i)
{
    const double dt = s->times[i + 1] - s->times[i];
    const double *v0 = s->values + i * (size_t)s->n_channels, *v1 = v0 + s->n_channels;
    double p = 0;
    for (int c = 0; c < s->n_channels; c++) {
        if (!s->channels[c].in_total) continue;
        if (s->channels[c].kind == EB_CH_ENERGY)
            p += dt > 0 ? (v1[c] - v0[c]) / dt : 0;
        else
            p += v0[c] > v1[c] ? v0[c] : v1[c];
    }
    return p;
}

bool eb_sampler_total_energy(const eb_sampler *s, double a, double b, double *joules,
                             double *peak_w)
{
    size_t n = eb_sampler_n_samples(s);
    double e = 0;
    bool any = false;
    for (int c = 0; c < s->n_channels; c++) {
        if (!s->channels[c].in_total) continue;
        double ej;
        if (!eb_energy_between(s->channels[c].kind, s->times, s->values + c, (size_t)s->n_channels,
                               n, a, b, &ej, NULL))
            return false;
        e += ej;
        any = true;
    }
    if (!any) return false;
    *joules = e;
    if (peak_w) {
        /* The peak of the summed power, not the sum of each channel's peak. */
        double peak = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            if (s->times[i + 1] < a || s->times[i] > b) continue;
            double p = total_segment_power(s, i);
            if (p > peak) peak = p;
        }
        *peak_w = peak;
    }
    return true;
}
