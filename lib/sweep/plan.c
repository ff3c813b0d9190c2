#include "edgebench/plan.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edgebench/params.h"
#include "edgebench/synth.h"
#include "edgebench/util.h"

#define MAX_TRIALS 100000

/* ---- reading the file ---- */

typedef struct load_ctx {
    eb_plan *plan;
    FILE *f;
    int line;
    int long_line;
    eb_error *err;
    eb_status st;
} load_ctx;

/* inih reads through this so that line numbers are known and a line too
 * long for it is an error rather than silently cut. */
static char *reader(char *str, int num, void *stream)
{
    load_ctx *c = stream;
    if (!fgets(str, num, c->f)) return NULL;
    c->line++;
    size_t n = strlen(str);
    if (n == (size_t)num - 1 && str[n - 1] != '\n' && !feof(c->f)) {
        if (!c->long_line) c->long_line = c->line;
        int ch;
        while ((ch = fgetc(c->f)) != EOF && ch != '\n') {
        }
    }
    return str;
}

static eb_plan_section *section_for(eb_plan *p, const char *name, int line, eb_error *err,
                                    eb_status *st)
{
    if (!name || !name[0] || strcmp(name, "global") == 0) return &p->global;
    for (int i = 0; i < p->n_sections; i++)
        if (strcmp(p->sections[i].name, name) == 0) return &p->sections[i];
    if (p->n_sections >= EB_PLAN_MAX_SECTIONS) {
        *st = eb_fail(err, EB_E_INVALID_ARG, "%s:%d: more than %d sections", p->path, line,
                      EB_PLAN_MAX_SECTIONS);
        return NULL;
    }
    eb_plan_section *s = &p->sections[p->n_sections++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->line = line;
    return s;
}

eb_status eb_plan_set(eb_plan *p, const char *section, const char *key, const char *value, int line,
                      eb_error *err)
{
    const char *where = p->path[0] ? p->path : "command line";
    const eb_param *o = eb_param_plan_key(key);
    if (!o) {
        const eb_param *near = eb_param_suggest(key);
        if (near)
            return eb_fail(err, EB_E_INVALID_ARG, "%s:%d: unknown key '%s' (did you mean '%s'?)",
                           where, line, key, near->key);
        return eb_fail(err, EB_E_INVALID_ARG,
                       "%s:%d: unknown key '%s' (see 'edgebench sweep --help')", where, line, key);
    }
    eb_status st = EB_OK;
    eb_plan_section *s = section_for(p, section, line, err, &st);
    if (!s) return st;
    if ((o->flags & EB_PF_GLOBAL_ONLY) && s != &p->global)
        return eb_fail(err, EB_E_INVALID_ARG, "%s:%d: key '%s' belongs in [global]", where, line,
                       key);
    size_t k = eb_param_index(o);
    if (s->value[k])
        return eb_fail(err, EB_E_INVALID_ARG,
                       "%s:%d: key '%s' given twice in [%s] (first at line %d)", where, line, key,
                       s == &p->global ? "global" : s->name, s->value_line[k]);
    if (!value || !value[0])
        return eb_fail(err, EB_E_INVALID_ARG, "%s:%d: key '%s' has no value", where, line, key);
    s->value[k] = strdup(value);
    s->value_line[k] = line;
    return s->value[k] ? EB_OK : eb_fail(err, EB_E_NO_MEMORY, "plan value");
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    load_ctx *c = user;
    if (c->st != EB_OK) return 0;
    c->st = eb_plan_set(c->plan, section, name, value, c->line, c->err);
    return c->st == EB_OK;
}

eb_status eb_plan_load(const char *path, eb_plan *p, eb_error *err)
{
    memset(p, 0, sizeof *p);
    snprintf(p->path, sizeof p->path, "%s", path);
    load_ctx c = {.plan = p, .err = err};
    c.f = fopen(path, "r");
    if (!c.f) return eb_fail(err, EB_E_IO, "plan %s: %s", path, strerror(errno));
    int r = ini_parse_stream(reader, &c, handler, &c);
    fclose(c.f);
    if (c.st != EB_OK) return c.st;
    if (c.long_line)
        return eb_fail(err, EB_E_INVALID_ARG, "%s:%d: line too long (at most %d characters)", path,
                       c.long_line, INI_MAX_LINE - 2);
    if (r > 0)
        return eb_fail(err, EB_E_INVALID_ARG,
                       "%s:%d: syntax error (expected [section], key = value or a comment)", path,
                       r);
    if (r < 0) return eb_fail(err, EB_E_IO, "plan %s: cannot be read", path);
    return EB_OK;
}

int eb_plan_split(const eb_param *o, const char *text, char **items, int cap, eb_error *err)
{
    int n = 0;
    const char *p = text;
    char *item = NULL;
    const char sep[2] = {eb_param_list_sep(o), '\0'};
    for (;;) {
        size_t len = sep[0] ? strcspn(p, sep) : strlen(p);
        free(item);
        if (!(item = strndup(p, len))) {
            eb_fail(err, EB_E_NO_MEMORY, "%s: value", o->key);
            goto fail;
        }
        char *s = item;
        while (isspace((unsigned char)*s))
            s++;
        char *e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
            *--e = '\0';
        if (!*s) {
            eb_fail(err, EB_E_INVALID_ARG, "%s: empty item in '%s'", o->key, text);
            goto fail;
        }
        long lo, hi, step = 1;
        char a[32], b[32], c[32];
        int got = o->type == EB_PT_INT ? sscanf(s, "%31[0-9]-%31[0-9]:%31[0-9]", a, b, c) : 0;
        if (got >= 2) {
            if (!eb_parse_long(a, (long)o->min, (long)o->max, &lo) ||
                !eb_parse_long(b, (long)o->min, (long)o->max, &hi) ||
                (got == 3 && !eb_parse_long(c, 1, 1L << 30, &step)) || hi < lo) {
                eb_fail(err, EB_E_INVALID_ARG,
                        "%s: range '%s' must be lo-hi[:step] with %.0f <= lo <= hi <= %.0f", o->key,
                        s, o->min, o->max);
                goto fail;
            }
            for (long v = lo; v <= hi; v += step) {
                if (n >= cap) goto too_many;
                char num[32];
                snprintf(num, sizeof num, "%ld", v);
                items[n++] = strdup(num);
            }
        } else {
            if (eb_param_check(o, s, err) != EB_OK) goto fail;
            if (n >= cap) goto too_many;
            items[n++] = strdup(s);
        }
        p += len;
        if (!*p) break;
        p++;
    }
    free(item);
    return n;
too_many:
    eb_fail(err, EB_E_INVALID_ARG, "%s: more than %d values", o->key, cap);
fail:
    free(item);
    for (int i = 0; i < n; i++)
        free(items[i]);
    return -1;
}

/* ---- expansion ---- */

void eb_trial_rekey(eb_trial *t)
{
    uint64_t h = EB_FNV1A_OFFSET;
    for (size_t k = 0; k < eb_param_count; k++) {
        if (eb_params[k].scope == EB_PS_CLI || (eb_params[k].flags & EB_PF_NOT_IN_KEY)) continue;
        if ((eb_params[k].flags & EB_PF_KEY_WHEN_SET) && !t->value[k]) continue;
        h = eb_fnv1a(h, eb_params[k].key);
        h = eb_fnv1a(h, "=");
        h = eb_fnv1a(h, t->value[k] ? t->value[k] : "(default)");
        h = eb_fnv1a(h, "\n");
    }
    t->key = h;
    snprintf(t->key_hex, sizeof t->key_hex, "%016llx", (unsigned long long)h);
}

void eb_trial_init(eb_trial *t, const char *section)
{
    memset(t, 0, sizeof *t);
    t->section = section;
    eb_trial_rekey(t);
}

eb_status eb_trial_set(eb_trial *t, const char *key, const char *value, eb_error *err)
{
    const eb_param *p = eb_param_find(key);
    if (!p) return eb_fail(err, EB_E_INTERNAL, "trial: no parameter '%s'", key);
    size_t k = eb_param_index(p);
    free(t->value[k]);
    t->value[k] = value ? strdup(value) : NULL;
    if (value && !t->value[k]) return eb_fail(err, EB_E_NO_MEMORY, "trial value");
    eb_trial_rekey(t);
    return EB_OK;
}

void eb_trial_clear(eb_trial *t)
{
    for (size_t k = 0; k < eb_param_count; k++) {
        free(t->value[k]);
        t->value[k] = NULL;
    }
}

static eb_status expand_section(eb_plan *p, const eb_plan_section *s, size_t *cap, eb_error *err)
{
    char **items[EB_PARAM_MAX] = {0};
    int n_items[EB_PARAM_MAX] = {0};
    eb_status st = EB_OK;
    size_t product = 1;
    for (size_t k = 0; k < eb_param_count && st == EB_OK; k++) {
        const char *text = s->value[k] ? s->value[k] : p->global.value[k];
        int line = s->value[k] ? s->value_line[k] : p->global.value_line[k];
        if (!text) continue;
        items[k] = calloc(EB_PLAN_MAX_VALUES, sizeof(char *));
        if (!items[k]) {
            st = eb_fail(err, EB_E_NO_MEMORY, "plan values");
            break;
        }
        eb_error e2 = {0};
        n_items[k] = eb_plan_split(&eb_params[k], text, items[k], EB_PLAN_MAX_VALUES, &e2);
        if (n_items[k] < 0) {
            st = eb_fail(err, EB_E_INVALID_ARG, "%s:%d: %s", p->path[0] ? p->path : "command line",
                         line, e2.msg);
            break;
        }
        product *= (size_t)n_items[k];
        if (product > MAX_TRIALS)
            st = eb_fail(err, EB_E_INVALID_ARG, "%s: [%s] expands to more than %d trials",
                         p->path[0] ? p->path : "command line", s->name[0] ? s->name : "global",
                         MAX_TRIALS);
    }
    if (st == EB_OK && p->n_trials + product > MAX_TRIALS)
        st = eb_fail(err, EB_E_INVALID_ARG, "the plan expands to more than %d trials", MAX_TRIALS);
    if (st == EB_OK && p->n_trials + product > *cap) {
        size_t ncap = (p->n_trials + product) * 2;
        eb_trial *nt = realloc(p->trials, ncap * sizeof *nt);
        if (!nt)
            st = eb_fail(err, EB_E_NO_MEMORY, "%zu trials", ncap);
        else
            p->trials = nt, *cap = ncap;
    }
    for (size_t i = 0; st == EB_OK && i < product; i++) {
        eb_trial *t = &p->trials[p->n_trials];
        memset(t, 0, sizeof *t);
        t->index = p->n_trials++;
        t->section = s->name[0] ? s->name : "global";
        size_t rest = i;
        /* the last key varies fastest */
        for (size_t k = eb_param_count; k-- > 0;) {
            if (!n_items[k]) continue;
            size_t pick = rest % (size_t)n_items[k];
            rest /= (size_t)n_items[k];
            t->value[k] = strdup(items[k][pick]);
        }
        eb_trial_rekey(t);
    }
    for (size_t k = 0; k < eb_param_count; k++) {
        for (int i = 0; i < n_items[k]; i++)
            free(items[k][i]);
        free(items[k]);
    }
    return st;
}

eb_status eb_plan_expand(eb_plan *p, eb_error *err)
{
    size_t cap = 0;
    if (p->n_sections == 0) return expand_section(p, &p->global, &cap, err);
    for (int i = 0; i < p->n_sections; i++) {
        eb_status st = expand_section(p, &p->sections[i], &cap, err);
        if (st != EB_OK) return st;
    }
    return EB_OK;
}

const char *eb_trial_get(const eb_trial *t, const char *key)
{
    const eb_param *o = eb_param_plan_key(key);
    return o ? t->value[eb_param_index(o)] : NULL;
}

const char *eb_trial_value(const eb_trial *t, const char *key)
{
    const eb_param *o = eb_param_plan_key(key);
    if (!o) return NULL;
    const char *v = t->value[eb_param_index(o)];
    return v ? v : o->sweep_def ? o->sweep_def : o->def;
}

bool eb_trial_bool(const eb_trial *t, const char *key)
{
    bool b = false;
    const char *v = eb_trial_value(t, key);
    return v && eb_parse_bool(v, &b) && b;
}

void eb_trial_describe(const eb_trial *t, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t k = 0; k < eb_param_count && len < cap; k++) {
        if (!t->value[k] || eb_params[k].scope == EB_PS_SWEEP) continue;
        len += (size_t)snprintf(out + len, cap - len, "%s%s=%s", len ? " " : "", eb_params[k].key,
                                t->value[k]);
    }
}

void eb_plan_free(eb_plan *p)
{
    for (size_t i = 0; i < p->n_trials; i++)
        for (size_t k = 0; k < eb_param_count; k++)
            free(p->trials[i].value[k]);
    free(p->trials);
    for (int s = -1; s < p->n_sections; s++) {
        eb_plan_section *sec = s < 0 ? &p->global : &p->sections[s];
        for (size_t k = 0; k < eb_param_count; k++)
            free(sec->value[k]);
    }
    memset(p, 0, sizeof *p);
}
