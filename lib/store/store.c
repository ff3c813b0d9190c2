/* Opening a store (its backend, its schema brought up to date, its stored
 * settings' columns) and closing it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/util.h"
#include "store_impl.h"
#include "store_settings.h"

const char *eb_store_default_spec(void)
{
    const char *env = getenv("EDGEBENCH_STORE");
    return env && env[0] ? env : "sqlite:edgebench.db";
}

const eb_store_backend *const eb_store_backends[] = {&eb_store_postgresql, &eb_store_sqlite};
const size_t eb_store_backend_count = sizeof eb_store_backends / sizeof eb_store_backends[0];

const eb_store_backend *eb_store_backend_for(const char *spec, const char **target)
{
    for (size_t i = 0; i < eb_store_backend_count; i++) {
        const eb_store_backend *be = eb_store_backends[i];
        for (const char *const *p = be->prefixes; *p; p++)
            if (strncmp(spec, *p, strlen(*p)) == 0) {
                if (target) *target = be->strip_prefix ? spec + strlen(*p) : spec;
                return be;
            }
    }
    if (target) *target = spec;
    return eb_store_backends[eb_store_backend_count - 1]; /* a plain file name */
}

/* Replaces out[from, to) with "***". */
static void mask(char *out, size_t cap, size_t from, size_t to)
{
    char *rest = strdup(out + to);
    if (!rest) {
        out[from] = '\0';
        return;
    }
    snprintf(out + from, cap - from, "***%s", rest);
    free(rest);
}

void eb_store_redact(const char *spec, char *out, size_t cap)
{
    snprintf(out, cap, "%s", spec ? spec : "");
    if (!eb_store_backend_for(out, NULL)->spec_has_secrets) return;
    /* URI form: scheme://user:PASSWORD@host */
    char *scheme = strstr(out, "://");
    if (scheme) {
        char *auth = scheme + 3, *at = strchr(auth, '@'), *slash = strchr(auth, '/');
        char *colon = strchr(auth, ':');
        if (at && (!slash || at < slash) && colon && colon < at)
            mask(out, cap, (size_t)(colon + 1 - out), (size_t)(at - out));
    }
    /* query parameters and key=value forms: password=... */
    size_t pos = 0;
    char *p;
    while ((p = strstr(out + pos, "password=")) != NULL) {
        size_t v = (size_t)(p + 9 - out), end = v + strcspn(out + v, "& ");
        mask(out, cap, v, end);
        pos = v + 3;
        if (pos >= strlen(out)) break;
    }
}

const char *eb_store_name(const eb_store *s)
{
    return s->name;
}

int eb_store_schema_version(const eb_store *s)
{
    return s->version;
}

eb_status eb_store_open_version(const char *spec, int max_version, eb_store **out, eb_error *err)
{
    *out = NULL;
    if (!spec || !spec[0]) spec = eb_store_default_spec();
    eb_store *s = calloc(1, sizeof *s);
    if (!s) return eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    eb_store_redact(spec, s->name, sizeof s->name);
    const char *target = spec;
    s->be = eb_store_backend_for(spec, &target);
    if (!target[0]) {
        eb_fail(err, EB_E_INVALID_ARG, "store '%s': no %s target after its prefix", spec,
                s->be->name);
        free(s);
        return EB_E_INVALID_ARG;
    }
    eb_status st = s->be->open(s, target, err);
    if (st == EB_OK) st = eb_store_migrate(s, max_version, err);
    /* A store that cannot be written (read-only, a reader's role) still
     * reads: its queries select only the columns it has, and a write fails
     * later with the store's own reason. */
    if (st == EB_OK) {
        eb_error sync_err = {0};
        if (eb_store_sync_settings(s, &sync_err) != EB_OK) st = eb_store_read_trial_columns(s, err);
    }
    if (st != EB_OK) {
        eb_store_close(s);
        return st;
    }
    *out = s;
    return EB_OK;
}

eb_status eb_store_open_existing(const char *spec, eb_store **out, eb_error *err)
{
    *out = NULL;
    if (!spec || !spec[0]) spec = eb_store_default_spec();
    const char *target = spec;
    const eb_store_backend *be = eb_store_backend_for(spec, &target);
    if (be->exists && target[0] && !be->exists(target)) {
        char name[1024];
        eb_store_redact(spec, name, sizeof name);
        return eb_fail(err, EB_E_IO,
                       "store %s does not exist: nothing to read (a reader does not create one; "
                       "check --store or $EDGEBENCH_STORE)",
                       name);
    }
    return eb_store_open(spec, out, err);
}

eb_status eb_store_open(const char *spec, eb_store **out, eb_error *err)
{
    return eb_store_open_version(spec, eb_store_latest_version(), out, err);
}

void eb_store_close(eb_store *s)
{
    if (!s) return;
    s->be->close(s);
    free(s);
}

eb_status eb_store_batch_begin(eb_store *s, eb_error *err)
{
    if (s->in_batch) return EB_OK;
    eb_status st = s->be->exec(s, s->be->begin, err);
    s->in_batch = st == EB_OK;
    return st;
}

eb_status eb_store_batch_end(eb_store *s, eb_error *err)
{
    if (!s->in_batch) return EB_OK;
    s->in_batch = false;
    return s->be->exec(s, "COMMIT", err);
}
