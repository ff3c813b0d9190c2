/* Values of the parameter table: the boolean parser, checks, fields set
 * from text, defaults, validation, and `run`'s option parsing. */
#include "edgebench/params.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "edgebench/util.h"

bool eb_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"on", "true", "yes", "1"};
    static const char *const no[] = {"off", "false", "no", "0"};
    if (!s) return false;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
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

static bool parse_number(const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d)) return false;
    *out = d;
    return true;
}

/* What a value of the row must be, for messages: "an integer in [1, 1024]". */
static void expectation(const eb_param *p, char *out, size_t cap)
{
    switch (p->type) {
    case EB_PT_INT:
        snprintf(out, cap, "an integer in [%.0f, %.0f]", p->min, p->max);
        break;
    case EB_PT_NUM:
        snprintf(out, cap, "a number in [%g, %g]", p->min, p->max);
        break;
    case EB_PT_BOOL:
        snprintf(out, cap, "on or off (true/false, yes/no, 1/0)");
        break;
    case EB_PT_CHOICE:
        snprintf(out, cap, "one of %s", p->choices);
        break;
    case EB_PT_STR:
    case EB_PT_PATH:
        snprintf(out, cap, "text");
        break;
    }
}

static bool syntax_ok(const eb_param *p, const char *v)
{
    long l;
    double d;
    bool b;
    switch (p->type) {
    case EB_PT_INT:
        return eb_parse_long(v, LONG_MIN, LONG_MAX, &l);
    case EB_PT_NUM:
        return parse_number(v, &d);
    case EB_PT_BOOL:
        return eb_parse_bool(v, &b);
    case EB_PT_CHOICE:
        return choice_ok(p->choices, v);
    case EB_PT_STR:
    case EB_PT_PATH:
        return true;
    }
    return true;
}

static bool in_range(const eb_param *p, const char *v)
{
    long l;
    double d;
    if (p->type == EB_PT_INT) return eb_parse_long(v, (long)p->min, (long)p->max, &l);
    if (p->type == EB_PT_NUM) return parse_number(v, &d) && d >= p->min && d <= p->max;
    return true;
}

static eb_status check_value(const eb_param *p, const char *v, bool range, eb_error *err)
{
    if (syntax_ok(p, v) && (!range || in_range(p, v))) return EB_OK;
    char want[96];
    expectation(p, want, sizeof want);
    return eb_fail(err, EB_E_INVALID_ARG, "%s must be %s, got '%s'", p->key, want, v);
}

eb_status eb_param_check(const eb_param *p, const char *v, eb_error *err)
{
    return check_value(p, v, true, err);
}

static bool is_config_field(const eb_param *p)
{
    return p->field != EB_FK_NONE && p->offset < sizeof(eb_run_config);
}

/* Writes a checked value into its field; base is an eb_run_options, or an
 * eb_run_config for configuration fields (the options' first member). */
static void store_field(const eb_param *p, const char *text, void *base)
{
    char *field = (char *)base + p->offset;
    long l = 0;
    double d = 0;
    bool b = false;
    switch (p->field) {
    case EB_FK_NONE:
        break;
    case EB_FK_INT:
        eb_parse_long(text, INT_MIN, INT_MAX, &l);
        *(int *)field = (int)l;
        break;
    case EB_FK_U64:
        eb_parse_long(text, 0, LONG_MAX, &l);
        *(uint64_t *)field = (uint64_t)l;
        break;
    case EB_FK_DOUBLE:
        parse_number(text, &d);
        *(double *)field = d * (p->scale ? p->scale : 1.0);
        break;
    case EB_FK_STR:
        *(const char **)field = text;
        break;
    case EB_FK_BOOL:
        eb_parse_bool(text, &b);
        *(bool *)field = b;
        break;
    case EB_FK_APPEND: {
        size_t n = strlen(field), cap = (size_t)p->max;
        snprintf(field + n, cap - n, "%s%s", n ? "," : "", text);
        break;
    }
    }
}

eb_status eb_param_set(const eb_param *p, const char *text, eb_run_options *o, eb_error *err)
{
    /* Front-end fields are checked whole here; the run's configuration is
     * range-checked by eb_run_config_validate, which names the option. */
    eb_status st = check_value(p, text, !is_config_field(p), err);
    if (st != EB_OK) return st;
    long l;
    if ((p->field == EB_FK_INT && !eb_parse_long(text, INT_MIN, INT_MAX, &l)) ||
        (p->field == EB_FK_U64 && !eb_parse_long(text, 0, LONG_MAX, &l)))
        return check_value(p, text, true, err);
    store_field(p, text, o);
    return EB_OK;
}

void eb_param_rows_defaults(const eb_param *rows, size_t n, void *target)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].def && rows[i].field != EB_FK_NONE) store_field(&rows[i], rows[i].def, target);
}

void eb_params_config_defaults(eb_run_config *cfg)
{
    for (size_t i = 0; i < eb_param_count; i++)
        if (eb_params[i].def && is_config_field(&eb_params[i]))
            store_field(&eb_params[i], eb_params[i].def, cfg);
}

static void flag_name(const eb_param *p, char *out, size_t cap)
{
    if (!p->flag)
        snprintf(out, cap, "%s", p->key);
    else if (p->short_flag)
        snprintf(out, cap, "-%c/--%s", p->short_flag, p->flag);
    else
        snprintf(out, cap, "--%s", p->flag);
}

eb_status eb_params_validate(const eb_run_config *cfg, eb_error *err)
{
    for (size_t i = 0; i < eb_param_count; i++) {
        const eb_param *p = &eb_params[i];
        if (!is_config_field(p) || (p->type != EB_PT_INT && p->type != EB_PT_NUM)) continue;
        const char *field = (const char *)cfg + p->offset;
        double v = p->field == EB_FK_INT      ? *(const int *)field
                   : p->field == EB_FK_U64    ? (double)*(const uint64_t *)field
                   : p->field == EB_FK_DOUBLE ? *(const double *)field / (p->scale ? p->scale : 1)
                                              : 0;
        if (v >= p->min && v <= p->max) continue;
        /* NaN is "not given" (a value given was range-checked when parsed) */
        if (p->field == EB_FK_DOUBLE && isnan(v)) continue;
        char flag[64];
        flag_name(p, flag, sizeof flag);
        const char *label = p->label ? p->label : p->key;
        if (p->type == EB_PT_INT)
            return eb_fail(err, EB_E_INVALID_ARG, "%s (%s) must be between %.0f and %.0f, got %.0f",
                           label, flag, p->min, p->max, v);
        return eb_fail(err, EB_E_INVALID_ARG, "%s must be %g..%g%s%s, got %g (%s)", label, p->min,
                       p->max, p->unit ? " " : "", p->unit ? p->unit : "", v, flag);
    }
    return EB_OK;
}

double eb_kv_type_bytes(const char *t)
{
    static const struct {
        const char *name;
        double bytes;
    } k[] = {{"f32", 4},          {"f16", 2},          {"bf16", 2},
             {"q8_0", 34.0 / 32}, {"q4_0", 18.0 / 32}, {"q4_1", 20.0 / 32},
             {"q5_0", 22.0 / 32}, {"q5_1", 24.0 / 32}, {"iq4_nl", 18.0 / 32}};
    for (size_t i = 0; t && i < sizeof k / sizeof k[0]; i++)
        if (!strcasecmp(k[i].name, t)) return k[i].bytes;
    return 2;
}

static bool kv_type_quantized(const char *t)
{
    return t && strcasecmp(t, "f16") != 0 && strcasecmp(t, "bf16") != 0 &&
           strcasecmp(t, "f32") != 0;
}

eb_status eb_settings_check(const char *type_v, const char *flash_attn, int n_depth, int n_prompt,
                            int n_gen, int n_ctx, int n_parallel, eb_error *err)
{
    /* llama.cpp gives each of n_parallel sequences ctx / n_parallel */
    if (n_parallel > 1 && (long long)(n_depth + n_prompt + n_gen) * n_parallel > n_ctx)
        return eb_fail(err, EB_E_CONTEXT,
                       "n_parallel=%d sequences of n_depth=%d + n_prompt=%d%s + n_gen=%d tokens "
                       "do not fit ctx=%d (each sequence gets ctx/%d = %d)",
                       n_parallel, n_depth, n_prompt, n_prompt ? "" : " (and the prompt)", n_gen,
                       n_ctx, n_parallel, n_ctx / n_parallel);
    /* llama.cpp's own rule (llama_init_from_model): a quantized V cache
     * needs flash attention; auto turns it on, off is refused there. */
    if (kv_type_quantized(type_v) && flash_attn && strcasecmp(flash_attn, "off") == 0)
        return eb_fail(err, EB_E_INVALID_ARG,
                       "type_v=%s needs flash attention: flash_attn=off is refused by llama.cpp "
                       "(use flash_attn=on or auto, or type_v=f16)",
                       type_v);
    if ((n_depth > 0 || n_prompt > 0) && (long long)n_depth + n_prompt + n_gen > n_ctx)
        return eb_fail(err, EB_E_CONTEXT,
                       "context of %d tokens (ctx) cannot hold n_depth=%d + n_prompt=%d%s + "
                       "n_gen=%d tokens",
                       n_ctx, n_depth, n_prompt, n_prompt ? "" : " (and the prompt)", n_gen);
    return EB_OK;
}

bool eb_run_options_given(const eb_run_options *o, const char *key)
{
    const eb_param *p = eb_param_find(key);
    return p && o->given[eb_param_index(p)];
}

void eb_run_options_defaults(eb_run_options *o)
{
    memset(o, 0, sizeof *o);
    eb_run_config_defaults(&o->cfg);
    for (size_t i = 0; i < eb_param_count; i++) {
        const eb_param *p = &eb_params[i];
        if (p->def && p->field != EB_FK_NONE && !is_config_field(p)) store_field(p, p->def, o);
    }
}

bool eb_param_takes(const eb_param *p, unsigned cmd)
{
    return p->flag && ((p->cmds ? p->cmds : (unsigned)EB_CMD_RUN) & cmd);
}

/* getopt's long options and short-option string of a command, made from
 * the table's rows it takes (value 256 + row) and its own (256 +
 * EB_PARAM_MAX + row). */
static void add_getopt(const eb_param *p, int value, struct option *longs, size_t *k, char *shorts,
                       size_t *s)
{
    /* a boolean is a switch: --no-store, --keep-timeline=off */
    int has_arg = p->type == EB_PT_BOOL ? optional_argument : required_argument;
    longs[(*k)++] = (struct option){p->flag, has_arg, NULL, value};
    if (p->alias) longs[(*k)++] = (struct option){p->alias, has_arg, NULL, value};
    if (p->short_flag) {
        shorts[(*s)++] = p->short_flag;
        if (p->type != EB_PT_BOOL) shorts[(*s)++] = ':';
    }
}

static eb_status build_getopt(unsigned cmd, const eb_cmd_rows *own, struct option **longs,
                              char **shorts, eb_error *err)
{
    size_t n_own = own ? own->n : 0;
    *longs = calloc(2 * (eb_param_count + n_own) + 1, sizeof **longs);
    *shorts = calloc(3 * (eb_param_count + n_own) + 2, 1);
    if (!*longs || !*shorts) return eb_fail(err, EB_E_NO_MEMORY, "options");
    size_t k = 0, s = 0;
    (*shorts)[s++] = ':';
    for (size_t i = 0; i < eb_param_count; i++)
        if (eb_param_takes(&eb_params[i], cmd))
            add_getopt(&eb_params[i], 256 + (int)i, *longs, &k, *shorts, &s);
    for (size_t i = 0; i < n_own; i++)
        add_getopt(&own->rows[i], 256 + EB_PARAM_MAX + (int)i, *longs, &k, *shorts, &s);
    return EB_OK;
}

static const eb_param *by_short(unsigned cmd, const eb_cmd_rows *own, int c)
{
    for (size_t i = 0; i < eb_param_count; i++)
        if (eb_param_takes(&eb_params[i], cmd) && eb_params[i].short_flag == c)
            return &eb_params[i];
    for (size_t i = 0; own && i < own->n; i++)
        if (own->rows[i].short_flag == c) return &own->rows[i];
    return NULL;
}

/* llama-bench's single-dash long flags (-ctk q8_0, -fa on) read as their
 * rows' long options; the rest of argv is left as it is. */
static char **llama_bench_flags(unsigned cmd, int argc, char **argv)
{
    char **out = calloc((size_t)argc + 1, sizeof *out);
    if (!out) return NULL;
    for (int i = 0; i < argc; i++) {
        out[i] = argv[i];
        if (i == 0 || argv[i][0] != '-' || argv[i][1] == '-') continue;
        for (size_t k = 0; k < eb_param_count; k++) {
            const eb_param *p = &eb_params[k];
            if (p->lb_flag && eb_param_takes(p, cmd) && strcmp(argv[i] + 1, p->lb_flag) == 0) {
                static char flags[EB_PARAM_MAX][48];
                snprintf(flags[k], sizeof flags[k], "--%s", p->flag);
                out[i] = flags[k];
                break;
            }
        }
    }
    return out;
}

eb_status eb_run_options_parse(int argc, char **argv, eb_run_options *o, eb_error *err)
{
    return eb_cmd_options_parse(EB_CMD_RUN, argc, argv, o, err);
}

eb_status eb_cmd_options_parse(unsigned cmd, int argc, char **argv, eb_run_options *o,
                               eb_error *err)
{
    return eb_cmd_parse(cmd, NULL, argc, argv, o, err);
}

static eb_status set_own(const eb_param *p, const char *v, void *target, eb_error *err)
{
    if (p->field == EB_FK_APPEND) {
        const char *have = (const char *)target + p->offset;
        if (strlen(have) + 1 + strlen(v) >= (size_t)p->max)
            return eb_fail(err, EB_E_INVALID_ARG, "%s: more than %.0f characters in all", p->key,
                           p->max - 1);
    }
    eb_status st = check_value(p, v, true, err);
    if (st == EB_OK) store_field(p, v, target);
    return st;
}

eb_status eb_cmd_parse(unsigned cmd, eb_cmd_rows *own, int argc, char **argv_in, eb_run_options *o,
                       eb_error *err)
{
    if (own) eb_param_rows_defaults(own->rows, own->n, own->target);
    for (size_t i = 0; own && own->given && i < own->n; i++)
        own->given[i] = false;
    if (own) own->n_positional = 0;
    struct option *longs = NULL;
    char *shorts = NULL;
    char **argv = llama_bench_flags(cmd, argc, argv_in);
    if (!argv) return eb_fail(err, EB_E_NO_MEMORY, "options");
    eb_status st = build_getopt(cmd, own, &longs, &shorts, err);
    optind = 1;
    opterr = 0;
    int c;
    while (st == EB_OK && (c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        bool is_own = c >= 256 + EB_PARAM_MAX;
        const eb_param *p = is_own     ? &own->rows[c - 256 - EB_PARAM_MAX]
                            : c >= 256 ? &eb_params[c - 256]
                                       : by_short(cmd, own, c);
        if (c == ':') {
            st = eb_fail(err, EB_E_INVALID_ARG, "option '%s' needs a value", argv[optind - 1]);
        } else if (c == '?' || !p) {
            st = eb_fail(err, EB_E_INVALID_ARG, "unknown option '%s' (see --help)",
                         argv[optind - 1]);
        } else {
            const char *v = optarg ? optarg : p->type == EB_PT_BOOL ? "on" : "";
            bool mine = own && p >= own->rows && p < own->rows + own->n;
            eb_error e2 = {0};
            st = mine ? set_own(p, v, own->target, &e2) : eb_param_set(p, v, o, &e2);
            if (st != EB_OK) {
                char flag[64], want[96];
                flag_name(p, flag, sizeof flag);
                expectation(p, want, sizeof want);
                eb_fail(err, st, "%s expects %s, got '%s'", flag, want, v);
            }
            if (mine && own->given)
                own->given[p - own->rows] = true;
            else if (!mine) {
                o->given[eb_param_index(p)] = true;
                o->text[eb_param_index(p)] = v;
            }
        }
    }
    for (int i = optind; st == EB_OK && i < argc; i++) {
        if (!own || !own->positional || own->n_positional >= own->max_positional)
            st = eb_fail(err, EB_E_INVALID_ARG, "unexpected argument '%s'", argv[i]);
        else
            own->positional[own->n_positional++] = argv[i];
    }
    /* run checks its configuration as it starts (eb_run_config_validate) */
    if (st == EB_OK && cmd != EB_CMD_RUN && !o->help) st = eb_params_validate(&o->cfg, err);
    free(longs);
    free(shorts);
    free(argv);
    return st;
}
