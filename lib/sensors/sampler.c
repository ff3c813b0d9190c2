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
#include "edgebench/stats.h"
#include "edgebench/util.h"

/* One source per backend at most: eb_sampler_create refuses a build whose
 * backend lists are longer. Slow sources beyond MAX_SERIES - 1 share the
 * fast series (sampled more often, nothing lost). */
#define MAX_SOURCES 32
#define MAX_SERIES 6

/* One time series: the fast one (RSS and every fast source, on the main
 * sampler thread) or a slow source's own. */
typedef struct series {
    struct eb_sampler *owner;
    eb_source *src[MAX_SOURCES];
    int src_col[MAX_SOURCES]; /* column of each source's first channel */
    int n_src;
    bool has_rss; /* column 0 */
    int n_cols;
    double interval_s;
    size_t cap;
    /* Preallocated with mmap: pages are touched (and count in RSS) only as
     * samples are written, a few kB a second. */
    double *times;
    double *values;
    uint8_t *by_thread; /* 0: taken at a phase boundary */
    void *map;
    size_t map_len;
    _Atomic size_t n;
    _Atomic uint64_t missed;
    _Atomic size_t dropped;
    pthread_mutex_t lock; /* sample_now from another thread */
    pthread_t thread;
    bool running;
} series;

struct eb_sampler {
    eb_sampler_config cfg;
    eb_probe_report probes[MAX_SOURCES];
    size_t n_probes;
    eb_source *sources[MAX_SOURCES];
    size_t n_sources;
    series ser[MAX_SERIES];
    int n_series;
    int n_channels, cap_channels; /* sized from what the sources found */
    eb_channel *channels;
    int *ch_series;
    int *ch_col;
    int statm_fd;
    double page_mib;
    _Atomic int stop;
    /* stop wakes the series threads at once, not at their next tick */
    pthread_mutex_t wake_lock;
    pthread_cond_t wake;
    char total_source[256];
};

static double read_rss_mib(const eb_sampler *s)
{
    char buf[128];
    if (s->statm_fd < 0) return NAN;
    ssize_t r = pread(s->statm_fd, buf, sizeof buf - 1, 0);
    if (r <= 0) return NAN;
    buf[r] = '\0';
    unsigned long long size, resident;
    if (sscanf(buf, "%llu %llu", &size, &resident) != 2) return NAN;
    return (double)resident * s->page_mib;
}

static void take_sample(series *se, bool by_thread)
{
    pthread_mutex_lock(&se->lock);
    size_t i = atomic_load_explicit(&se->n, memory_order_relaxed);
    if (i >= se->cap) {
        atomic_fetch_add(&se->dropped, 1);
        pthread_mutex_unlock(&se->lock);
        return;
    }
    double *v = se->values + i * (size_t)se->n_cols;
    double t0 = eb_now();
    if (se->has_rss) v[0] = read_rss_mib(se->owner);
    for (int k = 0; k < se->n_src; k++) {
        eb_source *src = se->src[k];
        if (!src->ops->read(src, v + se->src_col[k]))
            for (int c = 0; c < src->n_channels; c++)
                v[se->src_col[k] + c] = NAN;
    }
    /* A slow read (the PMIC's ~23 ms) is stamped at its middle. */
    se->times[i] = 0.5 * (t0 + eb_now());
    se->by_thread[i] = by_thread;
    atomic_store_explicit(&se->n, i + 1, memory_order_release);
    pthread_mutex_unlock(&se->lock);
}

static void timespec_add_ns(struct timespec *t, long ns)
{
    t->tv_sec += ns / 1000000000L;
    t->tv_nsec += ns % 1000000000L;
    while (t->tv_nsec >= 1000000000L) {
        t->tv_nsec -= 1000000000L;
        t->tv_sec++;
    }
}

static void *series_main(void *arg)
{
    series *se = arg;
    eb_sampler *s = se->owner;
    const long step_ns = (long)(se->interval_s * 1e9);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!atomic_load(&s->stop)) {
        timespec_add_ns(&next, step_ns);
        pthread_mutex_lock(&s->wake_lock);
        while (!atomic_load(&s->stop) &&
               pthread_cond_timedwait(&s->wake, &s->wake_lock, &next) != ETIMEDOUT) {
        }
        pthread_mutex_unlock(&s->wake_lock);
        if (atomic_load(&s->stop)) break;
        take_sample(se, true);
        /* Late by more than a whole interval: skip the deadlines already
         * past rather than firing a burst to catch up. */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long late = (now.tv_sec - next.tv_sec) * 1000000000L + (now.tv_nsec - next.tv_nsec);
        if (late > step_ns) {
            long skip = late / step_ns;
            atomic_fetch_add(&se->missed, (uint64_t)skip);
            timespec_add_ns(&next, skip * step_ns);
        }
    }
    return NULL;
}

static void probe_all(eb_sampler *s, const eb_source_ops *const *ops, size_t n_ops,
                      bool *have_total)
{
    for (size_t b = 0; b < n_ops && s->n_probes < MAX_SOURCES; b++) {
        eb_probe_report *rep = &s->probes[s->n_probes++];
        rep->source = ops[b]->name;
        rep->description = ops[b]->description;
        eb_probe_ctx ctx = {.root = s->cfg.root,
                            .tdp_w = s->cfg.tdp_w,
                            .have_total = *have_total,
                            .meter = s->cfg.meter,
                            .meter_gain_err = s->cfg.meter_gain_err};
        eb_source *src = NULL;
        rep->result = ops[b]->probe(&ctx, &src, rep->reason, sizeof rep->reason);
        if (rep->result != EB_PROBE_FOUND) continue;
        s->sources[s->n_sources++] = src;
        for (int c = 0; c < src->n_channels; c++)
            if (src->channels[c].in_total) *have_total = true;
        snprintf(rep->reason, sizeof rep->reason, "%d channel%s%s", src->n_channels,
                 src->n_channels == 1 ? "" : "s", src->n_left_out ? ", some left out" : "");
        if (src->n_left_out) {
            size_t named = 0;
            for (const char *p = src->left_out; *p; p++)
                named += *p == ',';
            named += src->left_out[0] != '\0';
            snprintf(rep->left_out, sizeof rep->left_out,
                     "%d channel%s past the %d a source keeps: %s%s", src->n_left_out,
                     src->n_left_out == 1 ? "" : "s", EB_MAX_CHANNELS, src->left_out,
                     (int)named < src->n_left_out ? " (and more)" : "");
        }
    }
}

/* A whole-device source, where one exists, is the total; the rest are parts. */
static void choose_total(eb_sampler *s)
{
    /* the device's own total, as it would be without a meter */
    eb_source *own = NULL;
    for (size_t k = 0; k < s->n_sources && !own; k++)
        for (int c = 0; c < s->sources[k]->n_channels; c++)
            if (s->sources[k]->ops != &eb_source_meter && s->sources[k]->channels[c].in_total &&
                s->sources[k]->channels[c].whole_device)
                own = s->sources[k];
    for (size_t k = 0; k < s->n_sources; k++)
        for (int c = 0; c < s->sources[k]->n_channels; c++) {
            eb_channel *ch = &s->sources[k]->channels[c];
            ch->onboard = s->sources[k]->ops != &eb_source_meter && ch->in_total && !ch->estimate &&
                          (!own || s->sources[k] == own);
        }
    eb_source *whole = NULL;
    for (size_t k = 0; k < s->n_sources && !whole; k++)
        for (int c = 0; c < s->sources[k]->n_channels; c++)
            if (s->sources[k]->channels[c].in_total && s->sources[k]->channels[c].whole_device)
                whole = s->sources[k];
    size_t len = 0;
    int unnamed = 0;
    for (size_t k = 0; k < s->n_sources; k++)
        for (int c = 0; c < s->sources[k]->n_channels; c++) {
            eb_channel *ch = &s->sources[k]->channels[c];
            if (whole && s->sources[k] != whole) ch->in_total = false;
            if (!ch->in_total) continue;
            /* room kept for the count of channels not named */
            if (len + strlen(ch->name) + 4 < sizeof s->total_source - 32)
                len += (size_t)snprintf(s->total_source + len, sizeof s->total_source - len, "%s%s",
                                        len ? " + " : "", ch->name);
            else
                unnamed++;
        }
    if (unnamed)
        snprintf(s->total_source + len, sizeof s->total_source - len, " + %d more channels",
                 unnamed);
}

static eb_status series_alloc(series *se, size_t cap, eb_error *err)
{
    se->cap = cap;
    size_t per = sizeof(double) * (1 + (size_t)se->n_cols) + 1;
    se->map_len = cap * per + 64;
    se->map = mmap(NULL, se->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (se->map == MAP_FAILED) {
        se->map = NULL;
        return eb_fail(err, EB_E_NO_MEMORY, "sample buffer of %zu bytes", se->map_len);
    }
    se->times = se->map;
    se->values = se->times + cap;
    se->by_thread = (uint8_t *)(se->values + cap * (size_t)se->n_cols);
    pthread_mutex_init(&se->lock, NULL);
    return EB_OK;
}

static int add_channel(eb_sampler *s, const eb_channel *ch, int ser, int col)
{
    if (s->n_channels >= s->cap_channels) return -1; /* sized before: never */
    int c = s->n_channels++;
    s->channels[c] = *ch;
    s->ch_series[c] = ser;
    s->ch_col[c] = col;
    return c;
}

eb_status eb_sampler_create(const eb_sampler_config *cfg, eb_sampler **out, eb_error *err)
{
    if (!(cfg->interval_s >= 0.001 && cfg->interval_s <= 1.0))
        return eb_fail(err, EB_E_INVALID_ARG, "sample interval must be 1..1000 ms, got %.3f ms",
                       cfg->interval_s * 1000);
    eb_sampler *s = calloc(1, sizeof *s);
    if (!s) return eb_fail(err, EB_E_NO_MEMORY, "sampler");
    s->cfg = *cfg;
    if (!s->cfg.root) s->cfg.root = "/";
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->wake_lock, NULL);
    s->page_mib = (double)sysconf(_SC_PAGESIZE) / 1048576.0;
    char path[1024];
    eb_path_join(path, sizeof path, s->cfg.root, "/proc/self/statm");
    s->statm_fd = open(path, O_RDONLY | O_CLOEXEC);

    if (eb_power_backend_count + eb_state_backend_count > MAX_SOURCES) {
        eb_sampler_free(s);
        return eb_fail(err, EB_E_INTERNAL, "sampler: %zu sensor backends, room for %d",
                       eb_power_backend_count + eb_state_backend_count, MAX_SOURCES);
    }
    bool have_total = false;
    if (!cfg->no_power) probe_all(s, eb_power_backends, eb_power_backend_count, &have_total);
    /* a meter asked for and not answering is an error, not a quiet fallback */
    for (size_t i = 0; cfg->meter && i < s->n_probes; i++)
        if (strcmp(s->probes[i].source, eb_source_meter.name) == 0 &&
            s->probes[i].result != EB_PROBE_FOUND) {
            char shown[256];
            eb_meter_spec_public(cfg->meter, shown, sizeof shown);
            eb_status st = eb_fail(err, EB_E_IO, "--meter %s: %s", shown, s->probes[i].reason);
            eb_sampler_free(s);
            return st;
        }
    if (!cfg->no_state) probe_all(s, eb_state_backends, eb_state_backend_count, &have_total);
    choose_total(s);
    s->cap_channels = 1;
    for (size_t k = 0; k < s->n_sources; k++)
        s->cap_channels += s->sources[k]->n_channels;
    s->channels = calloc((size_t)s->cap_channels, sizeof *s->channels);
    s->ch_series = calloc((size_t)s->cap_channels, sizeof *s->ch_series);
    s->ch_col = calloc((size_t)s->cap_channels, sizeof *s->ch_col);
    if (!s->channels || !s->ch_series || !s->ch_col) {
        eb_sampler_free(s);
        return eb_fail(err, EB_E_NO_MEMORY, "sampler: %d channels", s->cap_channels);
    }

    /* Series 0: RSS plus every fast source; one more per slow source. */
    series *fast = &s->ser[s->n_series++];
    fast->owner = s;
    fast->has_rss = true;
    fast->interval_s = cfg->interval_s;
    eb_channel rss = {.name = "process:rss", .kind = EB_CH_MEMORY};
    add_channel(s, &rss, 0, 0);
    fast->n_cols = 1;
    for (size_t k = 0; k < s->n_sources; k++) {
        eb_source *src = s->sources[k];
        double min = src->ops->min_interval_s;
        series *se = fast;
        int si = 0;
        if (min > cfg->interval_s && s->n_series < MAX_SERIES) {
            si = s->n_series++;
            se = &s->ser[si];
            se->owner = s;
            se->interval_s = min;
        }
        se->src_col[se->n_src] = se->n_cols;
        se->src[se->n_src++] = src;
        for (int c = 0; c < src->n_channels; c++)
            add_channel(s, &src->channels[c], si, se->n_cols++);
    }
    for (int i = 0; i < s->n_series; i++) {
        size_t cap =
            cfg->max_samples ? cfg->max_samples : (size_t)(3600.0 / s->ser[i].interval_s) + 16;
        eb_status st = series_alloc(&s->ser[i], cap, err);
        if (st != EB_OK) {
            eb_sampler_free(s);
            return st;
        }
    }
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
    for (int i = 0; i < s->n_series; i++)
        if (s->ser[i].map) {
            munmap(s->ser[i].map, s->ser[i].map_len);
            pthread_mutex_destroy(&s->ser[i].lock);
        }
    free(s->channels);
    free(s->ch_series);
    free(s->ch_col);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->wake_lock);
    free(s);
}

eb_status eb_sampler_start(eb_sampler *s, eb_error *err)
{
    atomic_store(&s->stop, 0);
    for (int i = 0; i < s->n_series; i++) {
        series *se = &s->ser[i];
        if (se->running) continue;
        take_sample(se, false);
        if (pthread_create(&se->thread, NULL, series_main, se) != 0) {
            eb_sampler_stop(s);
            return eb_fail(err, EB_E_INTERNAL, "cannot start a sampler thread");
        }
        se->running = true;
    }
    return EB_OK;
}

void eb_sampler_stop(eb_sampler *s)
{
    pthread_mutex_lock(&s->wake_lock);
    atomic_store(&s->stop, 1);
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->wake_lock);
    for (int i = 0; i < s->n_series; i++) {
        series *se = &s->ser[i];
        if (!se->running) continue;
        pthread_join(se->thread, NULL);
        se->running = false;
        take_sample(se, false);
    }
}

void eb_sampler_sample_now(eb_sampler *s)
{
    take_sample(&s->ser[0], false);
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

bool eb_sampler_total_is_estimate(const eb_sampler *s)
{
    for (int c = 0; c < s->n_channels; c++)
        if (s->channels[c].in_total && s->channels[c].estimate) return true;
    return false;
}

const char *eb_sampler_total_source(const eb_sampler *s)
{
    return s->total_source;
}

void eb_sampler_series(const eb_sampler *s, int c, const double **times, const double **values,
                       size_t *stride, size_t *n)
{
    const series *se = &s->ser[s->ch_series[c]];
    *times = se->times;
    *values = se->values + s->ch_col[c];
    *stride = (size_t)se->n_cols;
    *n = atomic_load_explicit(&se->n, memory_order_acquire);
}

size_t eb_sampler_n_samples(const eb_sampler *s)
{
    return atomic_load_explicit(&s->ser[0].n, memory_order_acquire);
}

uint64_t eb_sampler_missed(const eb_sampler *s)
{
    uint64_t m = 0;
    for (int i = 0; i < s->n_series; i++)
        m += atomic_load(&s->ser[i].missed);
    return m;
}

size_t eb_sampler_dropped(const eb_sampler *s)
{
    size_t d = 0;
    for (int i = 0; i < s->n_series; i++)
        d += atomic_load(&s->ser[i].dropped);
    return d;
}

double eb_sampler_interval(const eb_sampler *s)
{
    return s->cfg.interval_s;
}

void eb_sampler_timing_get(const eb_sampler *s, eb_sampler_timing *out)
{
    memset(out, 0, sizeof *out);
    out->missed = atomic_load(&s->ser[0].missed);
    const series *se = &s->ser[0];
    size_t n = eb_sampler_n_samples(s);
    double *iv = n > 1 ? malloc((n - 1) * sizeof *iv) : NULL;
    if (!iv) return;
    size_t k = 0;
    double prev = -1;
    for (size_t i = 0; i < n; i++) {
        if (!se->by_thread[i]) continue;
        if (prev >= 0) iv[k++] = se->times[i] - prev;
        prev = se->times[i];
    }
    out->n_intervals = k;
    if (k > 0) {
        out->median_s = eb_percentile(iv, k, 50);
        out->p99_s = eb_percentile(iv, k, 99);
        out->max_s = eb_percentile(iv, k, 100);
    }
    free(iv);
}

bool eb_sampler_channel_energy(const eb_sampler *s, int c, double a, double b, double *joules,
                               double *peak_w)
{
    if (c < 0 || c >= s->n_channels) return false;
    eb_channel_kind k = s->channels[c].kind;
    if (k != EB_CH_ENERGY && k != EB_CH_POWER) return false;
    const double *t, *v;
    size_t stride, n;
    eb_sampler_series(s, c, &t, &v, &stride, &n);
    return eb_energy_between(k, t, v, stride, n, a, b, joules, peak_w);
}

static double total_peak(const eb_sampler *s, double a, double b);

static bool energy_est_of(const eb_sampler *s, bool onboard, double a, double b, eb_energy_est *est,
                          double *u_sys, bool *published)
{
    bool pub = true;
    eb_energy_est sum = {.n_inside = (size_t)-1};
    double sys = 0;
    bool any = false;
    for (int c = 0; c < s->n_channels; c++) {
        const eb_channel *ch = &s->channels[c];
        if (!(onboard ? ch->onboard : ch->in_total) ||
            (ch->kind != EB_CH_ENERGY && ch->kind != EB_CH_POWER))
            continue;
        const double *t, *v;
        size_t stride, n;
        eb_sampler_series(s, c, &t, &v, &stride, &n);
        eb_energy_est e;
        if (!eb_energy_between_est(ch->kind, t, v, stride, n, a, b, ch->step, &e)) return false;
        sum.joules += e.joules;
        sum.u_integration_j += e.u_integration_j;
        sum.u_resolution_j += e.u_resolution_j;
        if (e.n_inside < sum.n_inside) sum.n_inside = e.n_inside;
        if (e.interval_s > sum.interval_s) sum.interval_s = e.interval_s;
        /* the same error in every reading of a channel: it adds up */
        sys += e.u_resolution_j;
        if (isnan(ch->gain_err) || isnan(ch->offset_w))
            pub = false;
        else
            sys += ch->gain_err * fabs(e.joules) + ch->offset_w * (b - a);
        any = true;
    }
    if (!any) return false;
    /* the energy is summed above; only the total's peak is left to find */
    sum.peak_w = onboard ? 0 : total_peak(s, a, b);
    *est = sum;
    *u_sys = sys;
    *published = pub;
    return true;
}

bool eb_sampler_total_energy_est(const eb_sampler *s, double a, double b, eb_energy_est *est,
                                 double *u_sys, bool *published)
{
    return energy_est_of(s, false, a, b, est, u_sys, published);
}

bool eb_sampler_onboard_energy_est(const eb_sampler *s, double a, double b, eb_energy_est *est,
                                   double *u_sys, bool *published)
{
    return energy_est_of(s, true, a, b, est, u_sys, published);
}

const char *eb_sampler_total_error(const eb_sampler *s)
{
    for (size_t k = 0; k < s->n_sources; k++)
        for (int c = 0; c < s->sources[k]->n_channels; c++)
            if (s->sources[k]->channels[c].in_total && s->sources[k]->last_error[0])
                return s->sources[k]->last_error;
    return "";
}

void eb_sampler_total_accuracy(const eb_sampler *s, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int c = 0; c < s->n_channels && len < cap; c++) {
        const eb_channel *ch = &s->channels[c];
        if (!ch->in_total) continue;
        len +=
            (size_t)snprintf(out + len, cap - len, "%s%s: %s", len ? "; " : "", ch->name,
                             ch->accuracy_basis[0] ? ch->accuracy_basis : "accuracy not published");
    }
}

/* Summed power of the total's channels in series se over segment i. */
static double total_segment_power(const eb_sampler *s, int se_idx, size_t i)
{
    const series *se = &s->ser[se_idx];
    const double dt = se->times[i + 1] - se->times[i];
    double p = 0;
    for (int c = 0; c < s->n_channels; c++) {
        if (!s->channels[c].in_total || s->ch_series[c] != se_idx) continue;
        const double *v0 = se->values + i * (size_t)se->n_cols + s->ch_col[c];
        const double *v1 = v0 + se->n_cols;
        if (s->channels[c].kind == EB_CH_ENERGY)
            p += dt > 0 ? (*v1 - *v0) / dt : 0;
        else
            p += *v0 > *v1 ? *v0 : *v1;
    }
    return p;
}

bool eb_sampler_total_energy(const eb_sampler *s, double a, double b, double *joules,
                             double *peak_w)
{
    double e = 0;
    bool any = false;
    for (int c = 0; c < s->n_channels; c++) {
        if (!s->channels[c].in_total) continue;
        double ej;
        if (!eb_sampler_channel_energy(s, c, a, b, &ej, NULL)) return false;
        e += ej;
        any = true;
    }
    if (!any) return false;
    *joules = e;
    if (peak_w) *peak_w = total_peak(s, a, b);
    return true;
}

/* Within a series, the peak of the total's summed power (not the sum of
 * each channel's peak); series on different clocks add their peaks. */
static double total_peak(const eb_sampler *s, double a, double b)
{
    bool in_series[MAX_SERIES] = {false};
    for (int c = 0; c < s->n_channels; c++)
        if (s->channels[c].in_total) in_series[s->ch_series[c]] = true;
    double peak = 0;
    for (int si = 0; si < s->n_series; si++) {
        if (!in_series[si]) continue;
        const series *se = &s->ser[si];
        size_t n = atomic_load_explicit(&se->n, memory_order_acquire);
        double sp = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            if (se->times[i + 1] < a || se->times[i] > b) continue;
            double p = total_segment_power(s, si, i);
            if (p > sp) sp = p;
        }
        peak += sp;
    }
    return peak;
}

bool eb_sampler_channel_summary(const eb_sampler *s, int c, double a, double b, double *mean,
                                double *max)
{
    if (c < 0 || c >= s->n_channels) return false;
    const double *t, *v;
    size_t stride, n;
    eb_sampler_series(s, c, &t, &v, &stride, &n);
    double sum = 0, mx = -INFINITY;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double x = v[i * stride];
        if (t[i] < a || t[i] > b || isnan(x)) continue;
        sum += x;
        if (x > mx) mx = x;
        k++;
    }
    if (k == 0) {
        /* A window shorter than the interval: interpolate at its middle. */
        double m = 0.5 * (a + b);
        for (size_t i = 0; i + 1 < n; i++) {
            if (t[i] <= m && t[i + 1] >= m) {
                double x0 = v[i * stride], x1 = v[(i + 1) * stride];
                if (isnan(x0) || isnan(x1)) return false;
                double f = t[i + 1] > t[i] ? (m - t[i]) / (t[i + 1] - t[i]) : 0;
                *mean = *max = x0 + f * (x1 - x0);
                return true;
            }
        }
        return false;
    }
    *mean = sum / (double)k;
    *max = mx;
    return true;
}

void eb_window_state_of(const eb_sampler *s, const double *mean, const double *max,
                        eb_window_state *out)
{
    double freq_sum = 0, gfreq_sum = 0, load_sum = 0;
    int n_freq = 0, n_gfreq = 0, n_load = 0;
    *out = (eb_window_state){NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    for (int c = 0; c < s->n_channels; c++) {
        const eb_channel *ch = &s->channels[c];
        double mn = mean[c], mx = max[c];
        if (ch->kind == EB_CH_FREQ && !isnan(mn) && !ch->gpu) freq_sum += mn, n_freq++;
        if (ch->kind == EB_CH_FREQ && !isnan(mn) && ch->gpu) gfreq_sum += mn, n_gfreq++;
        if (ch->kind == EB_CH_LOAD && !isnan(mn) && ch->gpu) load_sum += mn, n_load++;
        if (ch->kind == EB_CH_LOAD && !ch->gpu && strcmp(ch->name, "cpu:other") == 0)
            out->other_cpu_pct = mn;
        if (ch->kind == EB_CH_LOAD && !ch->gpu && strcmp(ch->name, "cpu:steal") == 0)
            out->steal_pct = mn;
        if (ch->kind == EB_CH_TEMP && !isnan(mx) && !(mx <= out->temp_max_c)) out->temp_max_c = mx;
        if (ch->kind == EB_CH_MEMORY && ch->gpu && !isnan(mx) && !(mx <= out->gpu_memory_mib))
            out->gpu_memory_mib = mx;
        if (c == 0) out->rss_max_mib = mx; /* the process's RSS is the first channel */
    }
    if (n_freq) out->cpu_freq_mhz = freq_sum / n_freq;
    if (n_gfreq) out->gpu_freq_mhz = gfreq_sum / n_gfreq;
    if (n_load) out->gpu_load_pct = load_sum / n_load;
}

void eb_sampler_window_state(const eb_sampler *s, double a, double b, eb_window_state *out)
{
    /* every source's channels: more than one source holds, so from the heap */
    double *mean = malloc(2 * (size_t)(s->n_channels ? s->n_channels : 1) * sizeof *mean);
    if (!mean) {
        *out = (eb_window_state){NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
        return;
    }
    double *max = mean + s->n_channels;
    for (int c = 0; c < s->n_channels; c++)
        if (!eb_sampler_channel_summary(s, c, a, b, &mean[c], &max[c])) mean[c] = max[c] = NAN;
    eb_window_state_of(s, mean, max, out);
    free(mean);
}
