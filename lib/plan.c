#include "edgebench/plan.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edgebench/synth.h"
#include "edgebench/util.h"

#define MAX_ITEMS 1024
#define MAX_TRIALS 100000

/* Expansion order: the first key varies slowest, so device knobs (governor,
 * power mode) change as rarely as possible and models are grouped. */
const eb_opt eb_opts[] = {
    {"governor", EB_OW_SYSTEM, EB_OT_STR, NULL, 0, 0, 0, NULL, false, NULL,
     "CPU governor for every cpufreq policy (must be offered by the device)"},
    {"power_mode", EB_OW_SYSTEM, EB_OT_STR, NULL, 0, 0, 0, NULL, false, NULL,
     "Jetson power mode by name, from /etc/nvpmodel.conf (set with nvpmodel)"},
    {"jetson_clocks", EB_OW_SYSTEM, EB_OT_BOOL, NULL, 0, 0, 0, NULL, false, NULL,
     "Jetson clocks pinned at maximum (jetson_clocks), restored afterwards"},
    {"model", EB_OW_RUN, EB_OT_PATH, "model", 'm', 0, 0, NULL, false, NULL, "GGUF model file"},
    {"preset", EB_OW_RUN, EB_OT_STR, "preset", 0, 0, 0, NULL, false, NULL,
     "synthetic preset instead of a model file (see 'edgebench model list')"},
    {"type", EB_OW_RUN, EB_OT_CHOICE, "type", 0, 0, 0, "F16|Q8_0|Q4_0|Q4_K_M", false, "Q4_0",
     "weight type of a preset (quantized from the generated F16 shapes, cached)"},
    {"quant", EB_OW_RUN, EB_OT_STR, "quant", 0, 0, 0, NULL, false, NULL,
     "quantize the model file (model=) to this type with llama.cpp, cached by (content, type)"},
    {"ctx", EB_OW_RUN, EB_OT_INT, "ctx", 'c', 8, 1 << 24, NULL, false, "512", "context size"},
    {"batch", EB_OW_RUN, EB_OT_INT, "batch", 'b', 1, 1 << 20, NULL, false, "2048",
     "logical batch for prefill"},
    {"ubatch", EB_OW_RUN, EB_OT_INT, "ubatch", 0, 1, 1 << 20, NULL, false, "512", "physical batch"},
    {"ngl", EB_OW_RUN, EB_OT_INT, "ngl", 0, -1, 100000, NULL, false, "0",
     "layers offloaded to the GPU (-1: all)"},
    {"prompt", EB_OW_RUN, EB_OT_STR, "prompt", 'p', 0, 0, NULL, true, NULL,
     "prompt text (one value; use prompt_file for several)"},
    {"prompt_file", EB_OW_RUN, EB_OT_PATH, "file", 'f', 0, 0, NULL, false, NULL,
     "file holding the prompt"},
    {"n_prompt", EB_OW_RUN, EB_OT_INT, "n-prompt", 0, 1, 1 << 24, NULL, false, NULL,
     "a prompt of N random token ids"},
    {"n_gen", EB_OW_RUN, EB_OT_INT, "n-gen", 'n', 1, 1 << 20, NULL, false, "100",
     "tokens to generate"},
    {"threads_prefill", EB_OW_RUN, EB_OT_INT, "threads-prefill", 'T', 1, 1024, NULL, false,
     "all CPUs", "prefill threads"},
    {"threads", EB_OW_RUN, EB_OT_INT, "threads", 't', 1, 1024, NULL, false, "all CPUs",
     "generation threads"},
    {"cpus", EB_OW_RUN, EB_OT_STR, "cpus", 0, 0, 0, NULL, true, NULL,
     "CPU affinity, a list such as 0-3 or 4,5 (one value per experiment)"},
    {"reps", EB_OW_RUN, EB_OT_INT, "reps", 0, 1, 100000, NULL, false, "4", "measured runs"},
    {"warmup", EB_OW_RUN, EB_OT_INT, "warmup", 0, 0, 1000, NULL, false, "1",
     "warm-up runs before them"},
    {"seed", EB_OW_RUN, EB_OT_INT, "seed", 0, 0, 1e9, NULL, false, "42",
     "seed of random prompt ids"},
    {"sample_ms", EB_OW_RUN, EB_OT_NUM, "sample-ms", 0, 1, 1000, NULL, false, "10",
     "sampler period"},
    {"idle_s", EB_OW_RUN, EB_OT_NUM, "idle-s", 0, 0, 600, NULL, false, "2",
     "idle power measured before each trial"},
    {"tdp", EB_OW_RUN, EB_OT_NUM, "tdp", 0, 0, 10000, NULL, false, NULL,
     "CPU-load x TDP estimate when nothing measures power"},
    {"pause", EB_OW_RUN, EB_OT_NUM, "pause", 0, 0, 3600, NULL, false, "30",
     "pause between runs, and before each trial (seconds)"},
    {"cool_below", EB_OW_RUN, EB_OT_NUM, "cool-below", 0, 0, 150, NULL, false, NULL,
     "instead of a fixed pause: wait until the hottest zone is below this (C)"},
    {"cool_max_wait", EB_OW_RUN, EB_OT_NUM, "cool-max-wait", 0, 0, 3600, NULL, false, "300",
     "longest wait for cool_below (seconds)"},
    {"memory_limit", EB_OW_RUN, EB_OT_INT, "memory-limit", 0, 16, 1 << 30, NULL, false, NULL,
     "address-space limit of the trial process (MiB)"},
    {"drop_caches", EB_OW_SYSTEM, EB_OT_BOOL, NULL, 0, 0, 0, NULL, false, "on",
     "drop page caches and reset swap before each trial (needs root; else skipped and said)"},
    {"timeout", EB_OW_SWEEP, EB_OT_NUM, NULL, 0, 1, 86400 * 7, NULL, false, "3600",
     "a trial running longer is killed and recorded as failed (seconds)"},
    {"isolation", EB_OW_SWEEP, EB_OT_CHOICE, NULL, 0, 0, 0, "trial|model", false, "trial",
     "trial: a fresh process per trial, as the study did; model: one process and one model "
     "load for consecutive trials that differ only in thread counts"},
    {"results", EB_OW_SWEEP, EB_OT_STR, NULL, 0, 0, 0, NULL, true, "edgebench-sweep.jsonl",
     "journal: every record also as a JSON line, fsync'd (what 'import' reads when the store "
     "was down); global only"},
    {"store", EB_OW_SWEEP, EB_OT_STR, "store", 0, 0, 0, NULL, true,
     "$EDGEBENCH_STORE or edgebench.db",
     "results store: sqlite:FILE, FILE or postgresql://...; global only"},
    {"keep_timeline", EB_OW_SWEEP, EB_OT_BOOL, NULL, 0, 0, 0, NULL, false, "off",
     "store each trial's sampled timeline too"},
};
const size_t eb_opt_count = sizeof eb_opts / sizeof eb_opts[0];

const eb_opt *eb_opt_find(const char *key)
{
    for (size_t i = 0; i < eb_opt_count; i++)
        if (strcmp(eb_opts[i].key, key) == 0) return &eb_opts[i];
    return NULL;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    size_t d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = d[i - 1][j - 1] +
                         (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

const eb_opt *eb_opt_suggest(const char *key)
{
    const eb_opt *best = NULL;
    size_t bd = 4; /* further than this is no suggestion */
    for (size_t i = 0; i < eb_opt_count; i++) {
        size_t d = edit_distance(key, eb_opts[i].key);
        if (d < bd) bd = d, best = &eb_opts[i];
    }
    return best;
}

const eb_opt *eb_opt_by_flag(const char *flag)
{
    for (size_t i = 0; i < eb_opt_count; i++) {
        const eb_opt *o = &eb_opts[i];
        if (!o->run_flag) continue;
        if (flag[0] == '-' && flag[1] == '-' && strcmp(flag + 2, o->run_flag) == 0) return o;
        if (flag[0] == '-' && flag[1] == o->short_flag && flag[1] && !flag[2]) return o;
    }
    return NULL;
}

static int opt_index(const eb_opt *o)
{
    return (int)(o - eb_opts);
}

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
    const eb_opt *o = eb_opt_find(key);
    if (!o) {
        const eb_opt *near = eb_opt_suggest(key);
        if (near)
            return eb_fail(err, EB_E_INVALID_ARG, "%s:%d: unknown key '%s' (did you mean '%s'?)",
                           where, line, key, near->key);
        return eb_fail(err, EB_E_INVALID_ARG,
                       "%s:%d: unknown key '%s' (see 'edgebench sweep --help')", where, line, key);
    }
    eb_status st = EB_OK;
    eb_plan_section *s = section_for(p, section, line, err, &st);
    if (!s) return st;
    if (o->where == EB_OW_SWEEP && s != &p->global &&
        (strcmp(o->key, "results") == 0 || strcmp(o->key, "store") == 0))
        return eb_fail(err, EB_E_INVALID_ARG, "%s:%d: key '%s' belongs in [global]", where, line,
                       key);
    int k = opt_index(o);
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

/* ---- values ---- */

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"on", "true", "yes", "1"}, *const no[] = {"off", "false",
                                                                                "no", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) return *out = true, true;
        if (strcasecmp(s, no[i]) == 0) return *out = false, true;
    }
    return false;
}

static bool choice_ok(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *c = choices; *c;) {
        size_t len = strcspn(c, "|");
        if (len == n && strncasecmp(c, v, n) == 0) return true;
        c += len + (c[len] == '|');
    }
    return false;
}

static eb_status check_item(const eb_opt *o, const char *v, eb_error *err)
{
    long l;
    double d;
    char *end;
    bool b;
    switch (o->type) {
    case EB_OT_INT:
        if (!eb_parse_long(v, (long)o->min, (long)o->max, &l))
            return eb_fail(err, EB_E_INVALID_ARG, "%s must be an integer in [%.0f, %.0f], got '%s'",
                           o->key, o->min, o->max, v);
        return EB_OK;
    case EB_OT_NUM:
        errno = 0;
        d = strtod(v, &end);
        if (errno || end == v || *end || !(d >= o->min && d <= o->max))
            return eb_fail(err, EB_E_INVALID_ARG, "%s must be a number in [%g, %g], got '%s'",
                           o->key, o->min, o->max, v);
        return EB_OK;
    case EB_OT_BOOL:
        if (!parse_bool(v, &b))
            return eb_fail(err, EB_E_INVALID_ARG, "%s must be on or off, got '%s'", o->key, v);
        return EB_OK;
    case EB_OT_CHOICE:
        if (!choice_ok(o->choices, v))
            return eb_fail(err, EB_E_INVALID_ARG, "%s must be one of %s, got '%s'", o->key,
                           o->choices, v);
        return EB_OK;
    case EB_OT_STR:
    case EB_OT_PATH:
        return EB_OK;
    }
    return EB_OK;
}

int eb_plan_split(const eb_opt *o, const char *text, char **items, int cap, eb_error *err)
{
    int n = 0;
    const char *p = text;
    for (;;) {
        size_t len = o->single ? strlen(p) : strcspn(p, ",");
        char item[1024];
        if (len >= sizeof item) len = sizeof item - 1;
        memcpy(item, p, len);
        item[len] = '\0';
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
        int got = o->type == EB_OT_INT ? sscanf(s, "%31[0-9]-%31[0-9]:%31[0-9]", a, b, c) : 0;
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
            if (check_item(o, s, err) != EB_OK) goto fail;
            if (n >= cap) goto too_many;
            items[n++] = strdup(s);
        }
        p += len;
        if (!*p) break;
        p++;
    }
    return n;
too_many:
    eb_fail(err, EB_E_INVALID_ARG, "%s: more than %d values", o->key, cap);
fail:
    for (int i = 0; i < n; i++)
        free(items[i]);
    return -1;
}

/* ---- expansion ---- */

/* The trial key: every configuration value (defaults included as such),
 * not the results file. */
static void trial_key(eb_trial *t)
{
    uint64_t h = EB_FNV1A_OFFSET;
    for (size_t k = 0; k < eb_opt_count; k++) {
        if (strcmp(eb_opts[k].key, "results") == 0 || strcmp(eb_opts[k].key, "store") == 0)
            continue;
        h = eb_fnv1a(h, eb_opts[k].key);
        h = eb_fnv1a(h, "=");
        h = eb_fnv1a(h, t->value[k] ? t->value[k] : "(default)");
        h = eb_fnv1a(h, "\n");
    }
    t->key = h;
    snprintf(t->key_hex, sizeof t->key_hex, "%016llx", (unsigned long long)h);
}

static eb_status expand_section(eb_plan *p, const eb_plan_section *s, size_t *cap, eb_error *err)
{
    char **items[64] = {0};
    int n_items[64] = {0};
    eb_status st = EB_OK;
    size_t product = 1;
    for (size_t k = 0; k < eb_opt_count && st == EB_OK; k++) {
        const char *text = s->value[k] ? s->value[k] : p->global.value[k];
        int line = s->value[k] ? s->value_line[k] : p->global.value_line[k];
        if (!text) continue;
        items[k] = calloc(MAX_ITEMS, sizeof(char *));
        if (!items[k]) {
            st = eb_fail(err, EB_E_NO_MEMORY, "plan values");
            break;
        }
        eb_error e2 = {0};
        n_items[k] = eb_plan_split(&eb_opts[k], text, items[k], MAX_ITEMS, &e2);
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
        for (size_t k = eb_opt_count; k-- > 0;) {
            if (!n_items[k]) continue;
            size_t pick = rest % (size_t)n_items[k];
            rest /= (size_t)n_items[k];
            t->value[k] = strdup(items[k][pick]);
        }
        trial_key(t);
    }
    for (size_t k = 0; k < eb_opt_count; k++) {
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
    const eb_opt *o = eb_opt_find(key);
    return o ? t->value[opt_index(o)] : NULL;
}

void eb_trial_describe(const eb_trial *t, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t k = 0; k < eb_opt_count && len < cap; k++) {
        if (!t->value[k] || eb_opts[k].where == EB_OW_SWEEP) continue;
        len += (size_t)snprintf(out + len, cap - len, "%s%s=%s", len ? " " : "", eb_opts[k].key,
                                t->value[k]);
    }
}

void eb_plan_free(eb_plan *p)
{
    for (size_t i = 0; i < p->n_trials; i++)
        for (size_t k = 0; k < eb_opt_count; k++)
            free(p->trials[i].value[k]);
    free(p->trials);
    for (int s = -1; s < p->n_sections; s++) {
        eb_plan_section *sec = s < 0 ? &p->global : &p->sections[s];
        for (size_t k = 0; k < eb_opt_count; k++)
            free(sec->value[k]);
    }
    memset(p, 0, sizeof *p);
}
