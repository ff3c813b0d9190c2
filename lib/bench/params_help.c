/* `run --help` and `sweep --help` from the parameter table. */
#include <stdio.h>
#include <string.h>

#include "edgebench/params.h"
#include "edgebench/util.h"

static void metavar(const eb_param *p, char *out, size_t cap)
{
    if (p->metavar)
        snprintf(out, cap, "%s", p->metavar);
    else if (p->type == EB_PT_INT)
        snprintf(out, cap, "N");
    else if (p->type == EB_PT_NUM)
        snprintf(out, cap, "X");
    else if (p->type == EB_PT_CHOICE)
        snprintf(out, cap, "%s", p->choices);
    else if (p->type == EB_PT_BOOL)
        snprintf(out, cap, "[=on|off]");
    else
        snprintf(out, cap, "VALUE");
}

static void default_text(const eb_param *p, const char *def, char *out, size_t cap)
{
    const char *d = p->def_doc ? p->def_doc : def;
    out[0] = '\0';
    if (d && !(p->type == EB_PT_BOOL && strcmp(d, "off") == 0))
        snprintf(out, cap, " (default %s%s%s)", d, p->unit && !p->def_doc ? " " : "",
                 p->unit && !p->def_doc ? p->unit : "");
}

static void range_text(const eb_param *p, char *out, size_t cap)
{
    out[0] = '\0';
    if (p->type == EB_PT_INT)
        snprintf(out, cap, " [%.0f..%.0f%s%s]", p->min, p->max, p->unit ? " " : "",
                 p->unit ? p->unit : "");
    else if (p->type == EB_PT_NUM)
        snprintf(out, cap, " [%g..%g%s%s]", p->min, p->max, p->unit ? " " : "",
                 p->unit ? p->unit : "");
}

void eb_params_run_help(FILE *f)
{
    eb_params_cmd_help(EB_CMD_RUN, f);
}

static void row_help(const eb_param *p, FILE *f)
{
    char mv[48], lhs[96], def[128], range[64];
    metavar(p, mv, sizeof mv);
    snprintf(lhs, sizeof lhs, "%s%c%s--%s%s%s", p->short_flag ? "-" : " ",
             p->short_flag ? p->short_flag : ' ', p->short_flag ? ", " : "  ", p->flag,
             p->type == EB_PT_BOOL ? "" : " ", p->type == EB_PT_BOOL ? "" : mv);
    default_text(p, p->def, def, sizeof def);
    range_text(p, range, sizeof range);
    char first[128], text[1024];
    snprintf(first, sizeof first, "  %-28s ", lhs);
    snprintf(text, sizeof text, "%s%s%s", p->help, range, def);
    /* a flag longer than its column starts its help on the next line */
    if (strlen(lhs) > 28) {
        fprintf(f, "  %s\n", lhs);
        snprintf(first, sizeof first, "  %-28s ", "");
    }
    eb_print_wrapped(f, first, "                               ", text, 120);
    if (p->alias) fprintf(f, "      --%-24s the same as --%s\n", p->alias, p->flag);
    if (p->lb_flag) fprintf(f, "      -%-25s the same (llama-bench's flag)\n", p->lb_flag);
}

void eb_params_cmd_help(unsigned cmd, FILE *f)
{
    eb_cmd_help(cmd, NULL, f);
}

void eb_cmd_help(unsigned cmd, const eb_cmd_rows *own, FILE *f)
{
    for (size_t i = 0; i < eb_param_count; i++)
        if (eb_param_takes(&eb_params[i], cmd)) row_help(&eb_params[i], f);
    for (size_t i = 0; own && i < own->n; i++)
        row_help(&own->rows[i], f);
}

void eb_params_plan_help(FILE *f)
{
    static const char *const scope[] = {"run", "knob", "sweep", ""};
    for (size_t i = 0; i < eb_param_count; i++) {
        const eb_param *p = &eb_params[i];
        if (p->scope == EB_PS_CLI) continue;
        char flag[48] = "", def[128], range[64];
        if (p->flag && p->scope == EB_PS_RUN)
            snprintf(flag, sizeof flag, "(run --%s)", p->flag);
        else
            snprintf(flag, sizeof flag, "(%s%s)", scope[p->scope],
                     p->flags & EB_PF_GLOBAL_ONLY ? ", [global] only" : "");
        default_text(p, p->sweep_def ? p->sweep_def : p->def, def, sizeof def);
        range_text(p, range, sizeof range);
        char first[128], text[1024];
        snprintf(first, sizeof first, "  %-16s %-24s ", p->key, flag);
        snprintf(text, sizeof text, "%s%s%s", p->help, range, def);
        eb_print_wrapped(f, first, "                                           ", text, 120);
    }
}
