/* Finding rows of the parameter table: by key, plan key, flag, the closest
 * to a mistyped key; a row's index and list separator. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/params.h"

char eb_param_list_sep(const eb_param *p)
{
    return (p->flags & EB_PF_SINGLE) ? 0 : (p->flags & EB_PF_LIST_SEMI) ? ';' : ',';
}

size_t eb_param_index(const eb_param *p)
{
    return (size_t)(p - eb_params);
}

const eb_param *eb_param_find(const char *key)
{
    for (size_t i = 0; i < eb_param_count; i++)
        if (strcmp(eb_params[i].key, key) == 0) return &eb_params[i];
    return NULL;
}

const eb_param *eb_param_plan_key(const char *key)
{
    const eb_param *p = eb_param_find(key);
    return p && p->scope != EB_PS_CLI ? p : NULL;
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

const eb_param *eb_param_suggest(const char *key)
{
    const eb_param *best = NULL;
    size_t bd = 4; /* further than this is no suggestion */
    for (size_t i = 0; i < eb_param_count; i++) {
        if (eb_params[i].scope == EB_PS_CLI) continue;
        size_t d = edit_distance(key, eb_params[i].key);
        if (d < bd) bd = d, best = &eb_params[i];
    }
    return best;
}

const eb_param *eb_param_by_flag(const char *flag)
{
    size_t n = strcspn(flag, "=");
    for (size_t i = 0; i < eb_param_count; i++) {
        const eb_param *p = &eb_params[i];
        if (!eb_param_takes(p, EB_CMD_RUN)) continue;
        if (flag[0] == '-' && flag[1] == '-' &&
            ((strlen(p->flag) == n - 2 && strncmp(flag + 2, p->flag, n - 2) == 0) ||
             (p->alias && strlen(p->alias) == n - 2 && strncmp(flag + 2, p->alias, n - 2) == 0)))
            return p;
        if (flag[0] == '-' && p->short_flag && flag[1] == p->short_flag && !flag[2]) return p;
    }
    return NULL;
}
