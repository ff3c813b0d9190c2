/* The stored settings: the rows of the parameter table that travel from
 * the run's configuration to the record, the store, llama-bench's files
 * and the analyses. Everything those do with a setting is read from its
 * row here, so a new stored setting is a row. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edgebench/params.h"
#include "edgebench/util.h"

size_t eb_stored_settings(const eb_param **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < eb_param_count; i++)
        if (eb_params[i].flags & EB_PF_STORED) {
            if (n < cap) out[n] = &eb_params[i];
            n++;
        }
    return n;
}

const char *eb_setting_json(const eb_param *p)
{
    return p->json ? p->json : p->key;
}

const char *eb_setting_column(const eb_param *p)
{
    return p->column ? p->column : eb_setting_json(p);
}

const char *eb_setting_sql_type(const eb_param *p)
{
    switch (p->field) {
    case EB_FK_INT:
    case EB_FK_BOOL:
        return "INTEGER";
    case EB_FK_U64:
        return "BIGINT";
    case EB_FK_DOUBLE:
        return "DOUBLE PRECISION";
    default:
        return "TEXT";
    }
}

const void *eb_param_config_field(const eb_param *p, const eb_run_config *cfg)
{
    const size_t base = offsetof(eb_run_options, cfg);
    if (p->field == EB_FK_NONE || p->offset < base || p->offset >= base + sizeof *cfg) return NULL;
    return (const char *)cfg + (p->offset - base);
}

void eb_setting_normalize(const eb_param *p, const char *text, char *out, size_t cap)
{
    if (!text || !text[0]) text = p->def ? p->def : "";
    bool b;
    switch (p->field) {
    case EB_FK_BOOL:
        /* stored as 1/0, written as on/off */
        snprintf(out, cap, "%s", eb_parse_bool(text, &b) ? (b ? "on" : "off") : text);
        return;
    case EB_FK_INT:
    case EB_FK_U64:
    case EB_FK_DOUBLE: {
        char *end;
        double v = strtod(text, &end);
        if (end != text && !*end && isfinite(v)) {
            eb_format_double(out, cap, v);
            return;
        }
        break;
    }
    default:
        break;
    }
    size_t i = 0;
    for (; text[i] && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)text[i]);
    out[i] = '\0';
}

bool eb_setting_label_add(const eb_param *p, const char *text, char *out, size_t cap)
{
    if (!p->words) return false;
    char v[128], d[128];
    eb_setting_normalize(p, text, v, sizeof v);
    eb_setting_normalize(p, NULL, d, sizeof d);
    if (strcmp(v, d) == 0 || !v[0]) return false;
    /* a boolean's words name its value away from the default: "cold load"
     * (default off) when on, "weights not repacked" (default on) when off */
    if (p->field == EB_FK_BOOL && !p->def && strcmp(v, "on") != 0) return false;
    size_t n = strlen(out);
    if (n && n + 2 < cap) n += (size_t)snprintf(out + n, cap - n, ", ");
    if (n < cap) {
        /* the words hold at most one %s, the value (the row's own text) */
        const char *s = strstr(p->words, "%s");
        if (s)
            snprintf(out + n, cap - n, "%.*s%s%s", (int)(s - p->words), p->words, v, s + 2);
        else
            snprintf(out + n, cap - n, "%s", p->words);
    }
    return true;
}

bool eb_setting_lb_pair(const char **cursor, const char **ours, size_t *ours_len, const char **lb,
                        size_t *lb_len)
{
    const char *c = *cursor, *eq = c ? strchr(c, '=') : NULL;
    if (!eq) return false;
    const char *bar = strchr(eq, '|');
    *ours = c;
    *ours_len = (size_t)(eq - c);
    *lb = eq + 1;
    *lb_len = bar ? (size_t)(bar - eq - 1) : strlen(eq + 1);
    *cursor = bar ? bar + 1 : NULL;
    return true;
}

bool eb_setting_from_lb(const eb_param *p, const char *lb_text, char *out, size_t cap)
{
    if (!lb_text) return false;
    char t[128];
    size_t n = strlen(lb_text);
    /* a JSON string's quotes off */
    if (n >= 2 && lb_text[0] == '"' && lb_text[n - 1] == '"')
        snprintf(t, sizeof t, "%.*s", (int)(n - 2), lb_text + 1);
    else
        snprintf(t, sizeof t, "%s", lb_text);
    if (p->lb_unset && strcasecmp(t, p->lb_unset) == 0) return false;
    if (p->lb_values) {
        /* "on=1|off=0|auto=-1"; a JSON boolean (llama-bench before auto) as 1/0 */
        if (strcmp(t, "true") == 0) snprintf(t, sizeof t, "1");
        if (strcmp(t, "false") == 0) snprintf(t, sizeof t, "0");
        const char *c = p->lb_values, *ours, *lb;
        size_t ol, ll;
        while (eb_setting_lb_pair(&c, &ours, &ol, &lb, &ll))
            if (strlen(t) == ll && strncmp(lb, t, ll) == 0) {
                snprintf(out, cap, "%.*s", (int)ol, ours);
                return true;
            }
        return false;
    }
    snprintf(out, cap, "%s", t);
    return true;
}
