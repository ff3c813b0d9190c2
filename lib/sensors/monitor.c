/* The live view's readings: the sampler's newest samples of every
 * channel, an energy counter's rate over its last two samples, memory and
 * the Raspberry Pi's throttling flags. The sampler keeps a bounded series:
 * it is started afresh before it fills, so a monitor runs for days. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "edgebench/json.h"

#include "edgebench/memory.h"
#include "edgebench/monitor.h"
#include "edgebench/sampler.h"
#include "edgebench/util.h"
#include "edgebench/vcio.h"

#define MONITOR_SAMPLES 20000

struct eb_monitor {
    eb_sampler *s;
    const char *root;
    double interval_s, tdp_w;
    eb_monitor_value *v;
    size_t cap;
};

static eb_status start(eb_monitor *m, eb_error *err)
{
    eb_sampler_config sc = {.interval_s = m->interval_s,
                            .root = m->root,
                            .max_samples = MONITOR_SAMPLES,
                            .tdp_w = m->tdp_w};
    eb_status st = eb_sampler_create(&sc, &m->s, err);
    if (st == EB_OK) st = eb_sampler_start(m->s, err);
    if (st != EB_OK) {
        eb_sampler_free(m->s);
        m->s = NULL;
    }
    return st;
}

eb_status eb_monitor_open(const char *root, double interval_s, double tdp_w, eb_monitor **out,
                          eb_error *err)
{
    eb_monitor *m = calloc(1, sizeof *m);
    if (!m) return eb_fail(err, EB_E_NO_MEMORY, "monitor");
    m->root = root;
    m->interval_s = interval_s < 0.01 ? 0.01 : interval_s > 1 ? 1 : interval_s;
    m->tdp_w = tdp_w;
    eb_status st = start(m, err);
    if (st != EB_OK) {
        free(m);
        return st;
    }
    *out = m;
    return EB_OK;
}

void eb_monitor_close(eb_monitor *m)
{
    if (!m) return;
    if (m->s) {
        eb_sampler_stop(m->s);
        eb_sampler_free(m->s);
    }
    free(m->v);
    free(m);
}

eb_status eb_monitor_read(eb_monitor *m, eb_monitor_snapshot *out, eb_error *err)
{
    memset(out, 0, sizeof *out);
    if (eb_sampler_n_samples(m->s) > MONITOR_SAMPLES / 2) {
        eb_sampler_stop(m->s);
        eb_sampler_free(m->s);
        m->s = NULL;
        eb_status st = start(m, err);
        if (st != EB_OK) return st;
    }
    eb_sampler_sample_now(m->s);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    out->t = (double)rt.tv_sec + (double)rt.tv_nsec * 1e-9;
    int nc = eb_sampler_n_channels(m->s);
    if ((size_t)nc > m->cap) {
        eb_monitor_value *g = realloc(m->v, (size_t)nc * sizeof *g);
        if (!g) return eb_fail(err, EB_E_NO_MEMORY, "monitor: %d channels", nc);
        m->v = g;
        m->cap = (size_t)nc;
    }
    out->v = m->v;
    out->total_w = NAN;
    double total = 0;
    bool any_total = false, total_missing = false;
    /* channel 0 is this process's RSS: not the device's */
    for (int c = 1; c < nc; c++) {
        const eb_channel *ch = eb_sampler_channel(m->s, c);
        const double *t, *v;
        size_t stride, n;
        eb_sampler_series(m->s, c, &t, &v, &stride, &n);
        eb_monitor_value *x = &m->v[out->n++];
        *x = (eb_monitor_value){.name = ch->name,
                                .kind = ch->kind,
                                .value = NAN,
                                .in_total = ch->in_total,
                                .whole_device = ch->whole_device,
                                .estimate = ch->estimate,
                                .gpu = ch->gpu};
        if (ch->kind == EB_CH_ENERGY) {
            /* an energy counter: its rate over the last two samples */
            if (n >= 2 && t[n - 1] > t[n - 2])
                x->value = (v[(n - 1) * stride] - v[(n - 2) * stride]) / (t[n - 1] - t[n - 2]);
            x->kind = EB_CH_POWER;
        } else if (n >= 1) {
            x->value = v[(n - 1) * stride];
        }
        if (x->in_total) {
            if (isfinite(x->value))
                total += x->value, any_total = true;
            else
                total_missing = true;
        }
    }
    if (eb_sampler_has_total(m->s)) {
        out->total_source = eb_sampler_total_source(m->s);
        out->total_estimate = eb_sampler_total_is_estimate(m->s);
        if (any_total && !total_missing) out->total_w = total;
    } else {
        out->total_source = "";
    }
    eb_meminfo mi;
    if (eb_meminfo_full(m->root, &mi, NULL) == EB_OK) {
        out->has_mem = true;
        out->mem_total_kb = mi.total_kb;
        out->mem_available_kb = mi.available_kb;
        out->swap_total_kb = mi.swap_total_kb;
        out->swap_free_kb = mi.swap_free_kb;
        out->has_nvmap = mi.has_nvmap;
        out->nvmap_kb = mi.nvmap_kb;
    }
    out->has_throttled = eb_throttled_read(m->root, &out->throttled);
    size_t used = 0;
    for (size_t i = 0; i < eb_sampler_probe_count(m->s); i++) {
        const eb_probe_report *r = eb_sampler_probe(m->s, i);
        if (r->result == EB_PROBE_FOUND) continue;
        /* the estimate stands aside when something measures */
        if (!strcmp(r->source, "cpu-estimate") && eb_sampler_has_total(m->s)) continue;
        char why[128];
        eb_few_words(r->reason, 0, why, sizeof why);
        if (used < sizeof out->absent)
            used += (size_t)snprintf(out->absent + used, sizeof out->absent - used, "%s%s: %s",
                                     used ? "\n" : "", r->source, why);
    }
    return EB_OK;
}

cJSON *eb_monitor_to_json(const eb_monitor_snapshot *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "time", s->t);
    cJSON *p = cJSON_AddObjectToObject(o, "power");
    eb_json_number(p, "total_w", s->total_w);
    cJSON_AddStringToObject(p, "total_source", s->total_source);
    if (s->total_estimate) cJSON_AddBoolToObject(p, "total_estimate", true);
    cJSON *rails = cJSON_AddArrayToObject(p, "rails");
    cJSON *clocks = cJSON_AddArrayToObject(o, "clocks");
    cJSON *temps = cJSON_AddArrayToObject(o, "temperatures");
    cJSON *loads = cJSON_AddArrayToObject(o, "loads");
    cJSON *gmem = cJSON_AddArrayToObject(o, "gpu_memory");
    for (size_t i = 0; i < s->n; i++) {
        const eb_monitor_value *v = &s->v[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", v->name);
        const char *key = v->kind == EB_CH_POWER  ? "w"
                          : v->kind == EB_CH_FREQ ? "mhz"
                          : v->kind == EB_CH_TEMP ? "c"
                          : v->kind == EB_CH_LOAD ? "percent"
                                                  : "mib";
        eb_json_number(x, key, v->value);
        if (v->kind == EB_CH_POWER) {
            cJSON_AddBoolToObject(x, "in_total", v->in_total);
            if (v->estimate) cJSON_AddBoolToObject(x, "estimate", true);
        }
        if (v->kind == EB_CH_FREQ) cJSON_AddBoolToObject(x, "gpu", v->gpu);
        cJSON *to = v->kind == EB_CH_POWER  ? rails
                    : v->kind == EB_CH_FREQ ? clocks
                    : v->kind == EB_CH_TEMP ? temps
                    : v->kind == EB_CH_LOAD ? loads
                                            : gmem;
        cJSON_AddItemToArray(to, x);
    }
    cJSON *m = cJSON_AddObjectToObject(o, "memory");
    if (s->has_mem) {
        cJSON_AddNumberToObject(m, "total_mib", (double)s->mem_total_kb / 1024.0);
        cJSON_AddNumberToObject(m, "available_mib", (double)s->mem_available_kb / 1024.0);
        cJSON_AddNumberToObject(m, "swap_total_mib", (double)s->swap_total_kb / 1024.0);
        cJSON_AddNumberToObject(m, "swap_used_mib",
                                (double)(s->swap_total_kb - s->swap_free_kb) / 1024.0);
        if (s->has_nvmap) cJSON_AddNumberToObject(m, "nvmap_mib", (double)s->nvmap_kb / 1024.0);
    }
    if (s->has_throttled) {
        cJSON *t = cJSON_AddObjectToObject(o, "throttled");
        char flags[16], text[256];
        snprintf(flags, sizeof flags, "0x%x", s->throttled);
        eb_throttled_describe(s->throttled, text, sizeof text);
        cJSON_AddStringToObject(t, "flags", flags);
        cJSON_AddStringToObject(t, "meaning", text);
    } else {
        cJSON_AddNullToObject(o, "throttled");
    }
    cJSON *na = cJSON_AddArrayToObject(o, "not_available");
    const char *a = s->absent;
    while (*a) {
        size_t n = strcspn(a, "\n");
        char line[256];
        snprintf(line, sizeof line, "%.*s", (int)n, a);
        cJSON_AddItemToArray(na, cJSON_CreateString(line));
        a += n;
        if (*a) a++;
    }
    return o;
}
