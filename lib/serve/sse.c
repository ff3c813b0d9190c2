/* Server-sent events (the WHATWG event-stream format), parsed as bytes
 * arrive: a network read may end anywhere, mid-line or mid-CRLF. */
#include <stdlib.h>
#include <string.h>

#include "edgebench/serve.h"

void eb_sse_init(eb_sse *p, size_t max_event)
{
    memset(p, 0, sizeof *p);
    p->max_event = max_event ? max_event : 1 << 20;
}

void eb_sse_free(eb_sse *p)
{
    free(p->line);
    free(p->data);
    memset(p, 0, sizeof *p);
}

static bool grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    char *n = realloc(*buf, c);
    if (!n) return false;
    *buf = n;
    *cap = c;
    return true;
}

/* One whole line: a field of the event, or its end. */
static eb_status end_line(eb_sse *p, eb_sse_event_fn fn, void *user, eb_error *err)
{
    const char *l = p->line ? p->line : "";
    size_t n = p->line_len;
    p->line_len = 0;
    if (n == 0) { /* blank line: the event is complete */
        if (!p->has_data) return EB_OK;
        /* the last data line's newline is not part of the data */
        if (p->data_len > 0 && p->data[p->data_len - 1] == '\n') p->data_len--;
        p->data[p->data_len] = '\0';
        size_t len = p->data_len;
        p->data_len = 0;
        p->has_data = false;
        if (!fn(user, p->data, len))
            return eb_fail(err, EB_E_NETWORK, "the event's reader stopped the stream");
        return EB_OK;
    }
    if (l[0] == ':') return EB_OK; /* a comment (a keep-alive) */
    const char *colon = memchr(l, ':', n);
    size_t name_len = colon ? (size_t)(colon - l) : n;
    if (name_len != 4 || memcmp(l, "data", 4) != 0) return EB_OK; /* event, id, retry */
    const char *v = colon ? colon + 1 : l + n;
    if (v < l + n && *v == ' ') v++;
    size_t vlen = (size_t)(l + n - v);
    if (p->data_len + vlen + 2 > p->max_event)
        return eb_fail(err, EB_E_NETWORK, "an event longer than %zu bytes", p->max_event);
    if (!grow(&p->data, &p->data_cap, p->data_len + vlen + 2))
        return eb_fail(err, EB_E_NO_MEMORY, "an event of %zu bytes", p->data_len + vlen);
    memcpy(p->data + p->data_len, v, vlen);
    p->data_len += vlen;
    p->data[p->data_len++] = '\n';
    p->has_data = true;
    return EB_OK;
}

eb_status eb_sse_feed(eb_sse *p, const char *bytes, size_t n, eb_sse_event_fn fn, void *user,
                      eb_error *err)
{
    for (size_t i = 0; i < n; i++) {
        char c = bytes[i];
        if (c == '\n' && p->after_cr) { /* the LF of a CRLF */
            p->after_cr = false;
            continue;
        }
        p->after_cr = c == '\r';
        if (c == '\n' || c == '\r') {
            eb_status st = end_line(p, fn, user, err);
            if (st != EB_OK) return st;
            continue;
        }
        if (p->line_len + 2 > p->max_event)
            return eb_fail(err, EB_E_NETWORK, "a line longer than %zu bytes", p->max_event);
        if (!grow(&p->line, &p->line_cap, p->line_len + 2))
            return eb_fail(err, EB_E_NO_MEMORY, "a line of %zu bytes", p->line_len);
        p->line[p->line_len++] = c;
        p->line[p->line_len] = '\0';
    }
    return EB_OK;
}
