/* The node's trial sampling: the device's own sensors (the sampler every
 * run uses) and a thread reading the rpc-server's memory and CPU time and
 * the interface's byte counters; a window's figures from both. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "edgebench/json.h"

#include "edgebench/sensors.h"
#include "edgebench/util.h"
#include "node_impl.h"

static double read_counter(int fd)
{
    uint64_t v;
    return fd >= 0 && eb_sysfs_read_u64(fd, &v) ? (double)v : NAN;
}

static bool read_fd(int fd, char *buf, size_t cap)
{
    ssize_t n = fd >= 0 ? pread(fd, buf, cap - 1, 0) : -1;
    if (n <= 0) return false;
    buf[n] = '\0';
    return true;
}

/* The serving thread is the rpc-server's main thread (it serves one
 * client at a time and computes as thread 0 of its pool): its run time in
 * nanoseconds from schedstat, else its utime + stime ticks. */
static double server_cpu_s(const eb_node_state *st)
{
    double ns = read_counter(st->fd_schedstat);
    if (!isnan(ns)) return ns * 1e-9;
    char buf[512];
    if (!read_fd(st->fd_stat, buf, sizeof buf)) return NAN;
    const char *p = strrchr(buf, ')');
    unsigned long ut, stt;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stt) != 2)
        return NAN;
    return (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
}

/* Resident pages from statm, as the run's own sampler reads its process. */
static double server_rss_mib(const eb_node_state *st)
{
    char buf[128];
    unsigned long long size, resident;
    if (!read_fd(st->fd_statm, buf, sizeof buf) || sscanf(buf, "%llu %llu", &size, &resident) != 2)
        return NAN;
    return (double)resident * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

static void sample_take(eb_node_state *st)
{
    eb_node_sample s = {.t = eb_now(),
                        .rss_mib = server_rss_mib(st),
                        .cpu_s = server_cpu_s(st),
                        .tx = read_counter(st->fd_tx),
                        .rx = read_counter(st->fd_rx)};
    pthread_mutex_lock(&st->lock);
    if (st->n == st->cap) {
        /* grows with the trial: nothing is dropped */
        size_t cap = st->cap ? st->cap * 2 : 1024;
        eb_node_sample *g = realloc(st->samples, cap * sizeof *g);
        if (g) st->samples = g, st->cap = cap;
    }
    if (st->n < st->cap) st->samples[st->n++] = s;
    pthread_mutex_unlock(&st->lock);
}

/* What every tick reads, opened once a trial. */
static void open_readings(eb_node_state *st)
{
    char path[1024];
    int pid = (int)st->server_pid;
    snprintf(path, sizeof path, "/proc/%d/statm", pid);
    st->fd_statm = eb_sysfs_open(path);
    snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", pid, pid);
    st->fd_schedstat = eb_sysfs_open(path);
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    st->fd_stat = eb_sysfs_open(path);
    st->fd_tx = st->fd_rx = -1;
    if (st->facts.iface[0]) {
        char rel[128];
        snprintf(rel, sizeof rel, "/sys/class/net/%s/statistics/tx_bytes", st->facts.iface);
        eb_path_join(path, sizeof path, st->cfg.root, rel);
        st->fd_tx = eb_sysfs_open(path);
        snprintf(rel, sizeof rel, "/sys/class/net/%s/statistics/rx_bytes", st->facts.iface);
        eb_path_join(path, sizeof path, st->cfg.root, rel);
        st->fd_rx = eb_sysfs_open(path);
    }
}

static void close_readings(eb_node_state *st)
{
    int *fds[] = {&st->fd_statm, &st->fd_schedstat, &st->fd_stat, &st->fd_tx, &st->fd_rx};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++) {
        if (*fds[i] >= 0) close(*fds[i]);
        *fds[i] = -1;
    }
}

static void *sample_loop(void *arg)
{
    eb_node_state *st = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    long step_ns = (long)(st->cfg.interval_s * 1e9);
    pthread_mutex_lock(&st->wake_lock);
    while (!st->stop) {
        pthread_mutex_unlock(&st->wake_lock);
        sample_take(st);
        pthread_mutex_lock(&st->wake_lock);
        next.tv_nsec += step_ns;
        while (next.tv_nsec >= 1000000000L)
            next.tv_nsec -= 1000000000L, next.tv_sec++;
        /* "end" wakes it at once: the control loop waits for nothing */
        while (!st->stop && pthread_cond_timedwait(&st->wake, &st->wake_lock, &next) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&st->wake_lock);
    return NULL;
}

void eb_node_probe_energy(eb_node_state *st)
{
    eb_sampler_config sc = {.interval_s = st->cfg.interval_s, .root = st->cfg.root};
    eb_sampler *s = NULL;
    eb_error e = {0};
    if (eb_sampler_create(&sc, &s, &e) != EB_OK) {
        snprintf(st->facts.energy_reason, sizeof st->facts.energy_reason, "%s", e.msg);
        return;
    }
    if (eb_sampler_has_total(s)) {
        snprintf(st->facts.energy_source, sizeof st->facts.energy_source, "%s",
                 eb_sampler_total_source(s));
        st->facts.energy_estimate = eb_sampler_total_is_estimate(s);
    } else {
        /* in a few words: which sources were looked for (`edgebench
         * sensors` on the node gives each one's reason) */
        size_t used = (size_t)snprintf(st->facts.energy_reason, sizeof st->facts.energy_reason,
                                       "no power sensor (looked for");
        for (size_t i = 0; i < eb_sampler_probe_count(s); i++) {
            const eb_probe_report *r = eb_sampler_probe(s, i);
            if (used < sizeof st->facts.energy_reason)
                used += (size_t)snprintf(st->facts.energy_reason + used,
                                         sizeof st->facts.energy_reason - used, "%s %s",
                                         i ? "," : "", r->source);
        }
        if (used < sizeof st->facts.energy_reason)
            snprintf(st->facts.energy_reason + used, sizeof st->facts.energy_reason - used, ")");
    }
    eb_sampler_free(s);
}

eb_status eb_node_trial_begin(eb_node_state *st, eb_error *err)
{
    eb_node_trial_end(st);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    st->wall_minus_mono = (double)rt.tv_sec + (double)rt.tv_nsec * 1e-9 - eb_now();
    eb_sampler_config sc = {.interval_s = st->cfg.interval_s, .root = st->cfg.root};
    eb_status s = eb_sampler_create(&sc, &st->sampler, err);
    if (s == EB_OK) s = eb_sampler_start(st->sampler, err);
    if (s != EB_OK) {
        eb_sampler_free(st->sampler);
        st->sampler = NULL;
        return s;
    }
    pthread_mutex_init(&st->lock, NULL);
    pthread_mutex_init(&st->wake_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&st->wake, &ca);
    pthread_condattr_destroy(&ca);
    st->n = 0;
    st->stop = 0;
    open_readings(st);
    if (pthread_create(&st->thread, NULL, sample_loop, st) != 0) {
        close_readings(st);
        eb_sampler_stop(st->sampler);
        eb_sampler_free(st->sampler);
        st->sampler = NULL;
        return eb_fail(err, EB_E_INTERNAL, "node sampling thread");
    }
    st->running = true;
    return EB_OK;
}

void eb_node_trial_end(eb_node_state *st)
{
    if (!st->running) return;
    pthread_mutex_lock(&st->wake_lock);
    st->stop = 1;
    pthread_cond_broadcast(&st->wake);
    pthread_mutex_unlock(&st->wake_lock);
    pthread_join(st->thread, NULL);
    close_readings(st);
    eb_sampler_stop(st->sampler);
    eb_sampler_free(st->sampler);
    st->sampler = NULL;
    free(st->samples);
    st->samples = NULL;
    st->n = st->cap = 0;
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->wake);
    pthread_mutex_destroy(&st->wake_lock);
    st->running = false;
}

/* A cumulative series' value at t, interpolated between samples. */
static double at(const eb_node_sample *s, size_t n, size_t field, double t)
{
#define FIELD(i) (*(const double *)((const char *)&s[i] + field))
    if (n == 0) return NAN;
    if (t <= s[0].t) return FIELD(0);
    for (size_t i = 1; i < n; i++)
        if (s[i].t >= t) {
            double f = (t - s[i - 1].t) / (s[i].t - s[i - 1].t);
            return FIELD(i - 1) + f * (FIELD(i) - FIELD(i - 1));
        }
    return FIELD(n - 1);
#undef FIELD
}

eb_status eb_node_trial_window(eb_node_state *st, double t0, double t1, eb_node_window *w,
                               eb_error *err)
{
    if (!st->running) return eb_fail(err, EB_E_INVALID_ARG, "no trial begun on this node");
    double a = t0 - st->wall_minus_mono, b = t1 - st->wall_minus_mono;
    /* a window that ends in our future is answered once due (node_control.c) */
    eb_sampler_sample_now(st->sampler);
    sample_take(st);
    *w = (eb_node_window){.energy_j = NAN,
                          .mean_w = NAN,
                          .peak_w = NAN,
                          .peak_rss_mib = NAN,
                          .compute_s = NAN,
                          .iface_tx_bytes = NAN,
                          .iface_rx_bytes = NAN,
                          .temp_max_c = NAN,
                          .cpu_freq_mhz = NAN};
    double j, peak;
    if (eb_sampler_total_energy(st->sampler, a, b, &j, &peak)) {
        w->energy_j = j;
        w->mean_w = b > a ? j / (b - a) : NAN;
        w->peak_w = peak;
    }
    for (int c = 0; c < eb_sampler_n_channels(st->sampler); c++) {
        const eb_channel *ch = eb_sampler_channel(st->sampler, c);
        double mean, max;
        if (ch->gpu || !eb_sampler_channel_summary(st->sampler, c, a, b, &mean, &max)) continue;
        if (ch->kind == EB_CH_TEMP && (isnan(w->temp_max_c) || max > w->temp_max_c))
            w->temp_max_c = max;
        if (ch->kind == EB_CH_FREQ && isnan(w->cpu_freq_mhz)) w->cpu_freq_mhz = mean;
    }
    pthread_mutex_lock(&st->lock);
    const eb_node_sample *s = st->samples;
    size_t n = st->n;
    /* the samples inside the window and the one on each side of it (a
     * span shorter than the period has none of its own) */
    size_t lo = 0, hi = n ? n - 1 : 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].t >= a && s[i].t <= b) w->n_samples++;
        if (s[i].t <= a) lo = i;
    }
    for (size_t i = n; i-- > 0;)
        if (s[i].t >= b) hi = i;
    for (size_t i = lo; i < n && i <= hi; i++)
        if (!isnan(s[i].rss_mib) && (isnan(w->peak_rss_mib) || s[i].rss_mib > w->peak_rss_mib))
            w->peak_rss_mib = s[i].rss_mib;
    w->compute_s =
        at(s, n, offsetof(eb_node_sample, cpu_s), b) - at(s, n, offsetof(eb_node_sample, cpu_s), a);
    w->iface_tx_bytes =
        at(s, n, offsetof(eb_node_sample, tx), b) - at(s, n, offsetof(eb_node_sample, tx), a);
    w->iface_rx_bytes =
        at(s, n, offsetof(eb_node_sample, rx), b) - at(s, n, offsetof(eb_node_sample, rx), a);
    pthread_mutex_unlock(&st->lock);
    (void)err;
    return EB_OK;
}

static double get_num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void get_str(const cJSON *o, const char *k, char *out, size_t cap)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
    snprintf(out, cap, "%s", v ? v : "");
}

void eb_node_facts_to_json(const eb_node_facts *f, cJSON *o)
{
    cJSON_AddStringToObject(o, "hostname", f->hostname);
    cJSON_AddStringToObject(o, "board", f->board);
    cJSON_AddStringToObject(o, "cpu", f->cpu);
    cJSON_AddStringToObject(o, "arch", f->arch);
    cJSON_AddNumberToObject(o, "n_cpus", f->n_cpus);
    cJSON_AddNumberToObject(o, "ram_mib", f->ram_mib);
    cJSON_AddNumberToObject(o, "mem_limit_mib", f->mem_limit_mib);
    cJSON_AddStringToObject(o, "cage", f->cage);
    cJSON_AddNumberToObject(o, "threads", f->threads);
    cJSON_AddStringToObject(o, "iface", f->iface);
    cJSON_AddStringToObject(o, "energy_source", f->energy_source);
    cJSON_AddBoolToObject(o, "energy_estimate", f->energy_estimate);
    cJSON_AddStringToObject(o, "energy_reason", f->energy_reason);
}

void eb_node_facts_from_json(const cJSON *o, eb_node_facts *f)
{
    memset(f, 0, sizeof *f);
    get_str(o, "hostname", f->hostname, sizeof f->hostname);
    get_str(o, "board", f->board, sizeof f->board);
    get_str(o, "cpu", f->cpu, sizeof f->cpu);
    get_str(o, "arch", f->arch, sizeof f->arch);
    double v;
    f->n_cpus = isnan(v = get_num(o, "n_cpus")) ? 0 : (int)v;
    f->ram_mib = get_num(o, "ram_mib");
    f->mem_limit_mib = isnan(v = get_num(o, "mem_limit_mib")) ? 0 : (int)v;
    get_str(o, "cage", f->cage, sizeof f->cage);
    f->threads = isnan(v = get_num(o, "threads")) ? 0 : (int)v;
    get_str(o, "iface", f->iface, sizeof f->iface);
    get_str(o, "energy_source", f->energy_source, sizeof f->energy_source);
    f->energy_estimate = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "energy_estimate"));
    get_str(o, "energy_reason", f->energy_reason, sizeof f->energy_reason);
}

void eb_node_window_to_json(const eb_node_window *w, cJSON *o)
{
    eb_json_number(o, "energy_j", w->energy_j);
    eb_json_number(o, "mean_w", w->mean_w);
    eb_json_number(o, "peak_w", w->peak_w);
    eb_json_number(o, "peak_rss_mib", w->peak_rss_mib);
    eb_json_number(o, "compute_s", w->compute_s);
    eb_json_number(o, "iface_tx_bytes", w->iface_tx_bytes);
    eb_json_number(o, "iface_rx_bytes", w->iface_rx_bytes);
    eb_json_number(o, "temp_max_c", w->temp_max_c);
    eb_json_number(o, "cpu_freq_mhz", w->cpu_freq_mhz);
    cJSON_AddNumberToObject(o, "n_samples", w->n_samples);
}

void eb_node_window_from_json(const cJSON *o, eb_node_window *w)
{
    w->energy_j = get_num(o, "energy_j");
    w->mean_w = get_num(o, "mean_w");
    w->peak_w = get_num(o, "peak_w");
    w->peak_rss_mib = get_num(o, "peak_rss_mib");
    w->compute_s = get_num(o, "compute_s");
    w->iface_tx_bytes = get_num(o, "iface_tx_bytes");
    w->iface_rx_bytes = get_num(o, "iface_rx_bytes");
    w->temp_max_c = get_num(o, "temp_max_c");
    w->cpu_freq_mhz = get_num(o, "cpu_freq_mhz");
    double n = get_num(o, "n_samples");
    w->n_samples = isnan(n) ? 0 : (int)n;
}
