/* --meter: an external power meter read live by the sampler, on its own
 * thread, as the device's total. An HTTP smart plug (Shelly Gen2, Tasmota)
 * through libcurl, or an INA2xx on I2C through the kernel's hwmon driver.
 * It is contacted only when asked; a meter that does not answer when the
 * run starts is an error, and one that stops answering leaves a labelled
 * gap (its last error), never a zero. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgebench/sensors.h"
#include "edgebench/util.h"

/* A reply larger than this is not a meter's status. */
#define REPLY_MAX 65536
/* A request that takes longer is a gap; the sampler's deadline is missed. */
#define REQUEST_TIMEOUT_MS 1500L

typedef enum { METER_SHELLY, METER_TASMOTA, METER_HTTP, METER_HWMON } meter_kind;

typedef struct meter_state {
    eb_source base;
    meter_kind kind;
    CURL *curl;
    char url[512];
    char reply[REPLY_MAX + 1];
    size_t len;
    bool too_long;
    double step; /* one step of the reading, from the digits of the last reply */
    int fd;      /* hwmon power1_input */
} meter_state;

void eb_meter_spec_public(const char *spec, char *out, size_t cap)
{
    const char *scheme = strstr(spec, "://");
    const char *host = scheme ? scheme + 3 : strchr(spec, ':') ? strchr(spec, ':') + 1 : spec;
    const char *at = strchr(host, '@'), *slash = strchr(host, '/');
    if (at && (!slash || at < slash))
        snprintf(out, cap, "%.*s%s", (int)(host - spec), spec, at + 1);
    else
        snprintf(out, cap, "%s", spec);
}

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
    meter_state *s = user;
    size_t len = size * n;
    if (s->len + len > REPLY_MAX) {
        s->too_long = true;
        return 0; /* stops the transfer */
    }
    memcpy(s->reply + s->len, p, len);
    s->len += len;
    return len;
}

/* The power field's number and the digits it was given with. */
static const cJSON *power_field(const cJSON *root, const char **key)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "apower");
    *key = "\"apower\"";
    if (p) return p;
    const cJSON *sns = cJSON_GetObjectItemCaseSensitive(root, "StatusSNS");
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(sns, "ENERGY");
    *key = "\"Power\"";
    return cJSON_GetObjectItemCaseSensitive(en, "Power");
}

/* One step of the reading, from the digits the meter sent ("8.9": 0.1 W). */
static double step_from_text(const char *reply, const char *key)
{
    const char *k = strstr(reply, key);
    if (!k) return 0;
    const char *p = strchr(k + strlen(key), ':');
    if (!p) return 0;
    for (p++; *p == ' '; p++) {
    }
    while (isdigit((unsigned char)*p) || *p == '-')
        p++;
    int d = 0;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            d++;
    return pow(10, -d);
}

bool eb_meter_parse_reply(const char *reply, size_t len, double *watts, double *step, char *why,
                          size_t cap)
{
    cJSON *root = cJSON_ParseWithLength(reply, len);
    const char *key = NULL;
    const cJSON *p = root ? power_field(root, &key) : NULL;
    bool ok = cJSON_IsNumber(p) && isfinite(p->valuedouble) && p->valuedouble >= 0;
    if (ok) {
        *watts = p->valuedouble;
        /* the digits are read from the text; a NUL inside it hides them */
        *step = memchr(reply, '\0', len) ? 0 : step_from_text(reply, key);
    } else {
        snprintf(why, cap, "no power in the reply (%s)",
                 !root ? "not JSON" : "no apower or StatusSNS.ENERGY.Power, or not a number >= 0");
    }
    cJSON_Delete(root);
    return ok;
}

static bool http_get(meter_state *s, double *watts)
{
    s->len = 0;
    s->too_long = false;
    char shown[256];
    eb_meter_spec_public(s->url, shown, sizeof shown);
    CURLcode rc = curl_easy_perform(s->curl);
    if (s->too_long) {
        snprintf(s->base.last_error, sizeof s->base.last_error,
                 "%.120s: reply longer than %d bytes", shown, REPLY_MAX);
        return false;
    }
    if (rc != CURLE_OK) {
        snprintf(s->base.last_error, sizeof s->base.last_error, "%.120s: %s", shown,
                 curl_easy_strerror(rc));
        return false;
    }
    long code = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) {
        snprintf(s->base.last_error, sizeof s->base.last_error, "%.120s: HTTP %ld", shown, code);
        return false;
    }
    s->reply[s->len] = '\0';
    char why[128];
    if (eb_meter_parse_reply(s->reply, s->len, watts, &s->step, why, sizeof why)) return true;
    snprintf(s->base.last_error, sizeof s->base.last_error, "%.120s: %s", shown, why);
    return false;
}

static bool meter_read(eb_source *src, double *values)
{
    meter_state *s = (meter_state *)src;
    if (s->kind == METER_HWMON) {
        int64_t uw;
        if (!eb_sysfs_read_i64(s->fd, &uw)) {
            snprintf(s->base.last_error, sizeof s->base.last_error, "%s: read failed: %s",
                     s->base.channels[0].name, strerror(errno));
            return false;
        }
        values[0] = (double)uw * 1e-6;
        return true;
    }
    return http_get(s, &values[0]);
}

/* hwmon:NAME: the device whose name file says NAME (or the hwmonN given). */
static eb_probe hwmon_meter(const eb_probe_ctx *ctx, meter_state *s, const char *name, char *reason,
                            size_t cap)
{
    char dir[1024], path[1400], got[64];
    eb_path_join(dir, sizeof dir, ctx->root, "/sys/class/hwmon");
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(reason, cap, "no %s", dir);
        return EB_PROBE_ABSENT;
    }
    struct dirent *e;
    bool found = false;
    while (!found && (e = readdir(d))) {
        if (strncmp(e->d_name, "hwmon", 5) != 0) continue;
        snprintf(path, sizeof path, "%s/%s/name", dir, e->d_name);
        found = strcmp(e->d_name, name) == 0 ||
                (eb_read_line(path, got, sizeof got) && strcmp(got, name) == 0);
        if (found) snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (!found) {
        snprintf(reason, cap, "no hwmon device named %s under %s", name, dir);
        return EB_PROBE_ABSENT;
    }
    char file[1500];
    snprintf(file, sizeof file, "%s/power1_input", path);
    s->fd = eb_sysfs_open(file);
    if (s->fd < 0) {
        snprintf(reason, cap, "%s: %s", file, strerror(errno));
        return errno == EACCES || errno == EPERM ? EB_PROBE_NO_PERMISSION : EB_PROBE_ABSENT;
    }
    eb_channel *ch = &s->base.channels[0];
    char dev[64] = "";
    snprintf(file, sizeof file, "%s/name", path);
    eb_read_line(file, dev, sizeof dev);
    snprintf(ch->name, sizeof ch->name, "meter:hwmon:%.40s", dev[0] ? dev : name);
    eb_hwmon_chip_accuracy(ch, path, dev, 1, false);
    return EB_PROBE_FOUND;
}

static eb_probe meter_probe(const eb_probe_ctx *ctx, eb_source **out, char *reason, size_t cap)
{
    if (!ctx->meter || !ctx->meter[0]) {
        snprintf(reason, cap, "not asked for (--meter)");
        return EB_PROBE_ABSENT;
    }
    meter_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(reason, cap, "out of memory");
        return EB_PROBE_ABSENT;
    }
    s->fd = -1;
    s->base.ops = &eb_source_meter;
    s->base.n_channels = 1;
    eb_channel *ch = &s->base.channels[0];
    ch->kind = EB_CH_POWER;
    ch->in_total = ch->whole_device = true;
    const char *m = ctx->meter;
    char shown[256];
    eb_meter_spec_public(m, shown, sizeof shown);
    eb_probe r = EB_PROBE_FOUND;
    if (strncmp(m, "hwmon:", 6) == 0) {
        s->kind = METER_HWMON;
        r = hwmon_meter(ctx, s, m + 6, reason, cap);
        if (r != EB_PROBE_FOUND) {
            free(s);
            return r;
        }
    } else {
        if (strncmp(m, "shelly:", 7) == 0) {
            char host[256];
            snprintf(host, sizeof host, "%s", m + 7);
            char *slash = strchr(host, '/');
            const char *id = slash ? slash + 1 : "0";
            if (slash) *slash = '\0';
            s->kind = METER_SHELLY;
            snprintf(s->url, sizeof s->url, "http://%s/rpc/Switch.GetStatus?id=%s", host, id);
        } else if (strncmp(m, "tasmota:", 8) == 0) {
            s->kind = METER_TASMOTA;
            snprintf(s->url, sizeof s->url, "http://%s/cm?cmnd=Status%%208", m + 8);
        } else if (strncmp(m, "http://", 7) == 0 || strncmp(m, "https://", 8) == 0) {
            s->kind = METER_HTTP;
            snprintf(s->url, sizeof s->url, "%s", m);
        } else {
            snprintf(reason, cap,
                     "not a meter: want shelly:HOST[:PORT][/ID], tasmota:HOST[:PORT], an http(s) "
                     "URL or hwmon:NAME");
            free(s);
            return EB_PROBE_ABSENT;
        }
        s->curl = curl_easy_init();
        if (!s->curl) {
            snprintf(reason, cap, "libcurl could not start");
            free(s);
            return EB_PROBE_ABSENT;
        }
        curl_easy_setopt(s->curl, CURLOPT_URL, s->url);
        curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT_MS);
        curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, REQUEST_TIMEOUT_MS);
        curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(s->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_ANY); /* Shelly: digest */
        curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
        double w;
        if (!http_get(s, &w)) {
            snprintf(reason, cap, "%s", s->base.last_error);
            curl_easy_cleanup(s->curl);
            free(s);
            return EB_PROBE_ABSENT;
        }
        static const char *const kinds[] = {"shelly", "tasmota", "http"};
        char url[512];
        eb_meter_spec_public(s->url, url, sizeof url); /* no user or password */
        char *host = strstr(url, "://") + 3;
        host[strcspn(host, "/?")] = '\0';
        snprintf(ch->name, sizeof ch->name, "meter:%s@%.40s", kinds[s->kind], host);
        eb_channel_accuracy(ch, NAN, 0, s->step,
                            "a smart plug: accuracy not published to edgebench (--meter-accuracy "
                            "gives its datasheet's); step from the reply's digits");
    }
    if (isfinite(ctx->meter_gain_err)) {
        char basis[128];
        snprintf(basis, sizeof basis, "--meter-accuracy %.3g %%, as given for this meter",
                 ctx->meter_gain_err * 100);
        eb_channel_accuracy(ch, ctx->meter_gain_err, 0, ch->step, basis);
    }
    (void)shown;
    *out = &s->base;
    return EB_PROBE_FOUND;
}

static void meter_close(eb_source *src)
{
    meter_state *s = (meter_state *)src;
    if (s->curl) curl_easy_cleanup(s->curl);
    if (s->fd >= 0) close(s->fd);
    free(s);
}

const eb_source_ops eb_source_meter = {
    .name = "meter",
    .description = "an external meter read live (--meter: Shelly, Tasmota, INA2xx hwmon)",
    /* a plug answers in milliseconds but updates about once a second */
    .min_interval_s = 0.2,
    .probe = meter_probe,
    .read = meter_read,
    .close = meter_close,
};
