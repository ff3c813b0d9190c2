#include "edgebench/meter.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgebench/energy.h"

/* Unix seconds, or ISO 8601 with optional fraction and zone. */
static bool parse_time(const char *s, double *out)
{
    char *end;
    errno = 0;
    if (strchr(s, '-') == NULL || (strchr(s, 'T') == NULL && strchr(s, ' ') == NULL)) {
        double v = strtod(s, &end);
        while (*end == ' ')
            end++;
        if (errno || end == s || *end) return false;
        *out = v;
        return true;
    }
    struct tm tmv;
    memset(&tmv, 0, sizeof tmv);
    int used = 0;
    if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &tmv.tm_year, &tmv.tm_mon, &tmv.tm_mday,
               &tmv.tm_hour, &tmv.tm_min, &tmv.tm_sec, &used) != 6)
        return false;
    tmv.tm_year -= 1900;
    tmv.tm_mon -= 1;
    const char *p = s + used;
    double frac = 0;
    if (*p == '.' || *p == ',') {
        double scale = 0.1;
        for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
            frac += (*p - '0') * scale;
    }
    time_t base;
    if (*p == 'Z' || *p == '+' || *p == '-') {
        long off = 0;
        if (*p != 'Z') {
            int hh, mm = 0;
            if (sscanf(p + 1, "%2d:%2d", &hh, &mm) < 1) return false;
            off = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
        }
        p += *p == 'Z' ? 1 : strcspn(p, " \t");
        base = timegm(&tmv) - off;
    } else {
        tmv.tm_isdst = -1;
        base = mktime(&tmv);
    }
    while (*p == ' ')
        p++;
    if (*p) return false;
    *out = (double)base + frac;
    return true;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

eb_status eb_meter_load(const char *path, eb_meter *m, eb_error *err)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "r");
    if (!f) return eb_fail(err, EB_E_IO, "meter log %s: %s", path, strerror(errno));
    size_t cap = 0;
    char line[512];
    int lineno = 0;
    eb_status st = EB_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#') continue;
        char *sep = strpbrk(s, ",;\t");
        if (!sep) {
            st = eb_fail(err, EB_E_INVALID_ARG,
                         "meter log %s:%d: expected 'timestamp,watts', got '%s'", path, lineno, s);
            break;
        }
        *sep = '\0';
        char *ts = trim(s), *ws = trim(sep + 1);
        char *extra = strpbrk(ws, ",;\t");
        if (extra) *extra = '\0';
        double t, w;
        char *end;
        if (!parse_time(ts, &t)) {
            if (m->n == 0 && !isdigit((unsigned char)ts[0])) continue; /* a header */
            st = eb_fail(err, EB_E_INVALID_ARG, "meter log %s:%d: bad timestamp '%s'", path, lineno,
                         ts);
            break;
        }
        errno = 0;
        w = strtod(ws, &end);
        if (errno || end == ws || *trim(end) || w < 0) {
            st =
                eb_fail(err, EB_E_INVALID_ARG, "meter log %s:%d: bad watts '%s'", path, lineno, ws);
            break;
        }
        if (m->n > 0 && t < m->t[m->n - 1]) {
            st = eb_fail(err, EB_E_INVALID_ARG, "meter log %s:%d: timestamps go backwards", path,
                         lineno);
            break;
        }
        if (m->n == cap) {
            cap = cap ? cap * 2 : 1024;
            double *nt = realloc(m->t, cap * sizeof *nt);
            if (nt) m->t = nt;
            double *nw = nt ? realloc(m->w, cap * sizeof *nw) : NULL;
            if (nw) m->w = nw;
            if (!nt || !nw) {
                st = eb_fail(err, EB_E_NO_MEMORY, "meter log %s", path);
                break;
            }
        }
        m->t[m->n] = t;
        m->w[m->n] = w;
        m->n++;
    }
    fclose(f);
    if (st == EB_OK && m->n < 2)
        st = eb_fail(err, EB_E_INVALID_ARG, "meter log %s: fewer than two readings", path);
    if (st != EB_OK) eb_meter_free(m);
    return st;
}

void eb_meter_free(eb_meter *m)
{
    free(m->t);
    free(m->w);
    memset(m, 0, sizeof *m);
}

bool eb_meter_energy(const eb_meter *m, double a, double b, double *joules, double *peak_w)
{
    return m->n >= 2 && eb_energy_between(EB_CH_POWER, m->t, m->w, 1, m->n, a, b, joules, peak_w);
}
