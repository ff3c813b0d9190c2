/* Writing figures with gnuplot (no shell: the program is run directly) and
 * the HTML and Markdown that hold them. */
#include "report_plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/util.h"

void chart_add(chart *c, const char *label, double x, const double *values)
{
    if (c->n >= 512) return;
    c->labels[c->n] = strdup(label);
    c->x[c->n] = x;
    /* line charts pass every series (NaN where a row has none), bars only theirs */
    for (int s = 0; s < REPORT_MAX_SERIES; s++)
        c->v[c->n][s] = c->lines || s < c->n_series ? values[s] : NAN;
    c->n++;
}

int chart_series(chart *c, const char *name)
{
    for (int s = 0; s < c->n_series; s++)
        if (strcmp(c->series[s], name) == 0) return s;
    if (c->n_series == REPORT_MAX_SERIES) return -1;
    int s = c->n_series++;
    snprintf(c->series_name[s], sizeof c->series_name[s], "%s", name);
    c->series[s] = c->series_name[s];
    return s;
}

void chart_free(chart *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->labels[i]);
    c->n = 0;
}

static void html_escaped(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

/* gnuplot strings in single quotes: a quote is doubled */
static void gp_string(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; s && *s; s++) {
        if (*s == '\'') fputc('\'', f);
        if (*s != '\n') fputc(*s, f);
    }
    fputc('\'', f);
}

void report_heading(report *r, const char *text)
{
    fputs("<h2>", r->html);
    html_escaped(r->html, text);
    fputs("</h2>\n", r->html);
    fprintf(r->md, "\n## %s\n\n", text);
}

void report_text(report *r, const char *text)
{
    fputs("<p>", r->html);
    html_escaped(r->html, text);
    fputs("</p>\n", r->html);
    fprintf(r->md, "%s\n\n", text);
}

void report_missing(report *r, const char *id, const char *title, const char *why)
{
    r->n_missing++;
    fprintf(r->html, "<div class=\"missing\" id=\"%s\"><h3>", id);
    html_escaped(r->html, title);
    fputs("</h3><p>Left out: ", r->html);
    html_escaped(r->html, why);
    fputs("</p></div>\n", r->html);
    fprintf(r->md, "### %s\n\nLeft out: %s\n\n", title, why);
}

static bool write_script(report *r, const chart *c, const char *dat, const char *gp)
{
    FILE *d = fopen(dat, "w");
    if (!d) return false;
    /* bars: a row per label; lines: a block per series, sorted by x, so a
     * series never jumps through another's points */
    int order[512];
    for (int i = 0; i < c->n; i++)
        order[i] = i;
    for (int i = 1; c->lines && i < c->n; i++)
        for (int j = i; j > 0 && c->x[order[j]] < c->x[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int s = 0; s < (c->lines ? c->n_series : 1); s++) {
        for (int k = 0; k < c->n; k++) {
            int i = order[k];
            if (c->lines && !isfinite(c->v[i][s])) continue;
            fputc('"', d);
            for (const char *p = c->labels[i]; *p; p++)
                fputc(*p == '"' ? '\'' : *p, d);
            fputc('"', d);
            fprintf(d, "\t%.17g", c->x[i]);
            for (int k2 = c->lines ? s : 0; k2 < (c->lines ? s + 1 : c->n_series); k2++) {
                if (isfinite(c->v[i][k2]))
                    fprintf(d, "\t%.17g", c->v[i][k2]);
                else
                    fputs("\tNaN", d);
            }
            fputc('\n', d);
        }
        if (c->lines) fputs("\n\n", d);
    }
    fclose(d);
    FILE *f = fopen(gp, "w");
    if (!f) return false;
    fputs("set datafile separator '\\t'\nset datafile missing 'NaN'\nset encoding utf8\n", f);
    fputs("set grid ytics\nset key outside right top\nset border 3\nset tics nomirror\n", f);
    fputs("set title ", f);
    gp_string(f, c->title);
    fputs(" font ',13'\nset ylabel ", f);
    gp_string(f, c->ylabel);
    fputs("\n", f);
    if (c->log_y) fputs("set logscale y\n", f);
    if (c->log_x) fputs("set logscale x\n", f);
    if (c->lines) {
        fputs("set key below\n", f);
        fputs("set xlabel ", f);
        gp_string(f, c->xlabel ? c->xlabel : "");
        fputs("\n", f);
    } else {
        fputs("set style data histograms\nset style histogram clustered gap 1\n"
              "set style fill solid 0.85 border -1\nset boxwidth 0.9\n"
              "set xtics rotate by 30 right scale 0 font ',9'\nset yrange [0:*]\n"
              "set bmargin 11\nset key inside top right box opaque\n",
              f);
    }
    for (int t = 0; t < 2; t++) {
        fprintf(f, t ? "set terminal pngcairo size 1100,600 noenhanced font 'sans,10'\n"
                     : "set terminal svg size 1100,600 dynamic noenhanced font 'sans,11'\n");
        fprintf(f, "set output '%s/%s.%s'\nplot ", r->dir, c->id, t ? "png" : "svg");
        for (int s = 0; s < c->n_series; s++) {
            if (s) fputs(", ", f);
            static const char *const styles[] = {"linespoints lw 2 pt 7", "points pt 7 ps 1.3",
                                                 "lines lw 2"};
            if (c->lines)
                fprintf(f, "'%s' index %d using 2:3 with %s title ", dat, s,
                        styles[c->style[s] < 3 ? c->style[s] : 0]);
            else
                fprintf(f, "'%s' using %d:xtic(1) title ", dat, s + 3);
            gp_string(f, c->series[s]);
        }
        fputs("\nunset output\n", f);
    }
    fclose(f);
    return true;
}

void report_chart(report *r, chart *c, const char *caption, const char *why_missing)
{
    int finite = 0;
    for (int i = 0; i < c->n; i++)
        for (int s = 0; s < c->n_series; s++)
            finite += isfinite(c->v[i][s]);
    if (finite == 0) {
        report_missing(r, c->id, c->title, why_missing);
        return;
    }
    char dat[1200], gp[1200], out[4096] = "";
    snprintf(dat, sizeof dat, "%s/%s.dat", r->dir, c->id);
    snprintf(gp, sizeof gp, "%s/%s.gp", r->dir, c->id);
    const char *argv[] = {r->gnuplot, gp, NULL};
    if (!write_script(r, c, dat, gp) || eb_run_program(argv, out, sizeof out) != 0) {
        char why[4200];
        snprintf(why, sizeof why, "gnuplot failed: %s", out[0] ? out : "no message");
        report_missing(r, c->id, c->title, why);
        return;
    }
    r->n_figures++;
    fprintf(r->html,
            "<figure id=\"%s\"><a href=\"%s.png\"><img class=\"fig\" src=\"%s.svg\" alt=\"", c->id,
            c->id, c->id);
    html_escaped(r->html, c->title);
    fputs("\"></a><figcaption>", r->html);
    html_escaped(r->html, caption);
    fputs("</figcaption></figure>\n", r->html);
    fprintf(r->md, "### %s\n\n![%s](%s.png)\n\n%s\n\n", c->title, c->title, c->id, caption);
}

void report_table(report *r, const char *title, const eb_table *t)
{
    fputs("<h3>", r->html);
    html_escaped(r->html, title);
    fputs("</h3>\n<table>\n<tr>", r->html);
    for (size_t c = 0; c < t->ncol; c++) {
        fputs("<th>", r->html);
        html_escaped(r->html, t->name[c]);
        fputs("</th>", r->html);
    }
    fputs("</tr>\n", r->html);
    for (size_t i = 0; i < t->nrow; i++) {
        fputs("<tr>", r->html);
        for (size_t c = 0; c < t->ncol; c++) {
            const char *v = t->cell[i * t->ncol + c];
            char buf[64];
            if (v && t->numeric[c] == 1 && strpbrk(v, ".eE")) {
                snprintf(buf, sizeof buf, "%.4g", atof(v));
                v = buf;
            }
            fputs(t->numeric[c] ? "<td class=\"n\">" : "<td>", r->html);
            html_escaped(r->html, v ? v : "n/a");
            fputs("</td>", r->html);
        }
        fputs("</tr>\n", r->html);
    }
    fputs("</table>\n", r->html);
    fprintf(r->md, "### %s\n\n", title);
    eb_error err = {0};
    eb_table_write(r->md, t, "md", NULL, &err);
    fputc('\n', r->md);
}
