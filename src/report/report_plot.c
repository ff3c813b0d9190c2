/* Writing figures with gnuplot (no shell: the program is run directly) and
 * the HTML and Markdown that hold them. */
#include "report_plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/util.h"

void chart_add(chart *c, const char *label, double x, const double *values)
{
    if (c->n >= 512) {
        c->left_out++;
        return;
    }
    c->labels[c->n] = strdup(label);
    c->x[c->n] = x;
    /* line charts pass every series (NaN where a row has none), bars only theirs */
    for (int s = 0; s < REPORT_MAX_SERIES; s++) {
        c->v[c->n][s] = c->lines || s < c->n_series ? values[s] : NAN;
        c->err[c->n][s] = NAN;
        c->runs[c->n][s] = 0;
    }
    c->n++;
}

void chart_add_ci(chart *c, const char *label, double x, const double *values, const double *half,
                  const int *runs)
{
    if (c->n >= 512) {
        c->left_out++;
        return;
    }
    chart_add(c, label, x, values);
    int row = c->n - 1, top = c->lines ? REPORT_MAX_SERIES : c->n_series;
    for (int s = 0; s < top; s++) {
        c->err[row][s] = half[s];
        c->runs[row][s] = runs[s];
        c->has_err |= isfinite(half[s]);
    }
}

int chart_series(chart *c, const char *name)
{
    for (int s = 0; s < c->n_series; s++)
        if (strcmp(c->series[s], name) == 0) return s;
    if (c->n_series == REPORT_MAX_SERIES) {
        c->left_out++;
        return -1;
    }
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
    if (r->n_toc == r->cap_toc) {
        int cap = r->cap_toc ? r->cap_toc * 2 : 16;
        char(*g)[160] = realloc(r->toc, (size_t)cap * sizeof *g);
        if (g) r->toc = g, r->cap_toc = cap;
    }
    if (r->n_toc < r->cap_toc) snprintf(r->toc[r->n_toc++], sizeof r->toc[0], "%s", text);
    fprintf(r->html, "<h2 id=\"s%d\">", r->n_toc);
    html_escaped(r->html, text);
    fputs("</h2>\n", r->html);
    fprintf(r->md, "\n## %s\n\n", text);
}

void report_model(report *r, const char *model)
{
    /* as figures name it: up to its first " (" */
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(model, "("), model);
    size_t n = strlen(name);
    while (n > 0 && name[n - 1] == ' ')
        name[--n] = '\0';
    if (!n) return;
    for (int i = 0; i < r->n_models; i++)
        if (!strcmp(r->models[i], name)) return;
    if (r->n_models == r->cap_models) {
        int cap = r->cap_models ? r->cap_models * 2 : 16;
        char(*g)[128] = realloc(r->models, (size_t)cap * sizeof *g);
        if (!g) return;
        r->models = g, r->cap_models = cap;
    }
    snprintf(r->models[r->n_models++], sizeof r->models[0], "%s", name);
}

/* The colour of a series: its model's (the longest registered model name
 * in it), else one by its place in the chart. */
static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                      "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};
#define N_PALETTE ((int)(sizeof palette / sizeof *palette))

static int model_of(const report *r, const char *series)
{
    int best = -1;
    size_t best_len = 0;
    for (int i = 0; i < r->n_models; i++) {
        size_t n = strlen(r->models[i]);
        if (n > best_len && strstr(series, r->models[i])) best = i, best_len = n;
    }
    return best;
}

bool report_page_begin(report *r)
{
    snprintf(r->gnuplot_log, sizeof r->gnuplot_log, "%s/gnuplot.log", r->dir);
    FILE *log = fopen(r->gnuplot_log, "w"); /* a fresh log each report */
    if (log) fclose(log);
    r->html = open_memstream(&r->body, &r->body_len);
    return r->html != NULL;
}

bool report_page_write(report *r, const char *path, const char *style, const char *checker)
{
    if (fclose(r->html) != 0) return false;
    r->html = NULL;
    FILE *f = fopen(path, "w");
    if (!f) return false;
    fprintf(f,
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            "content=\"width=device-width\"><title>edgebench report</title><style>%s</style>"
            "</head><body>\n<h1>edgebench report</h1>\n",
            style);
    if (r->n_toc > 0) {
        fputs("<nav class=\"toc\"><b>Contents</b><ol>", f);
        for (int i = 0; i < r->n_toc; i++) {
            fprintf(f, "<li><a href=\"#s%d\">", i + 1);
            html_escaped(f, r->toc[i]);
            fputs("</a></li>", f);
        }
        fputs("</ol></nav>\n", f);
    }
    fwrite(r->body, 1, r->body_len, f);
    fputs(checker, f);
    fputs("</body></html>\n", f);
    bool ok = !ferror(f);
    return fclose(f) == 0 && ok;
}

void report_page_free(report *r)
{
    if (r->html) fclose(r->html);
    r->html = NULL;
    free(r->body);
    free(r->toc);
    free(r->models);
    r->body = NULL;
    r->toc = NULL;
    r->models = NULL;
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

static bool write_script(const report *r, const chart *c, const char *dat, const char *gp)
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
                /* the interval's half-width beside each value (0: none) */
                if (c->has_err)
                    fprintf(d, "\t%.17g", isfinite(c->err[i][k2]) ? c->err[i][k2] : 0.0);
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
    bool single_x = false;
    if (c->lines) {
        /* the legend under the plot, never over the data */
        fputs("set key below\n", f);
        fputs("set xlabel ", f);
        gp_string(f, c->xlabel ? c->xlabel : "");
        fputs("\n", f);
        if (c->from_zero && !c->log_y) fputs("set yrange [0:*]\n", f);
        double lo = INFINITY, hi = -INFINITY;
        bool integral = true;
        for (int i = 0; i < c->n; i++) {
            if (!isfinite(c->x[i])) continue;
            lo = fmin(lo, c->x[i]), hi = fmax(hi, c->x[i]);
            integral &= c->x[i] == floor(c->x[i]);
        }
        if (isfinite(lo) && lo == hi) {
            /* one x value: drawn as points at it, not on a degenerate range */
            single_x = true;
            if (c->log_x && lo > 0)
                fprintf(f, "set xrange [%.17g:%.17g]\n", lo / 2, hi * 2);
            else
                fprintf(f, "set xrange [%.17g:%.17g]\n", lo - 1, hi + 1);
            fprintf(f, "set xtics (%.17g)\n", lo);
        } else if (isfinite(lo) && integral && !c->log_x) {
            /* integer quantities (threads, sequences, nodes) on integer tics */
            fputs("set format x '%.0f'\n", f);
            if (hi - lo <= 20)
                fprintf(f, "set xtics %.17g,1,%.17g\nset xrange [%.17g:%.17g]\n", lo, hi, lo - 0.25,
                        hi + 0.25);
        }
    } else {
        fputs(c->has_err ? "set style data histograms\nset style histogram errorbars gap 1 lw 1\n"
                         : "set style data histograms\nset style histogram clustered gap 1\n",
              f);
        fputs("set style fill solid 0.85 border -1\nset boxwidth 0.9\n"
              "set xtics rotate by 30 right scale 0 font ',9'\nset yrange [0:*]\n"
              "set key outside top right\n",
              f);
    }
    /* slanted bar labels need room below and to the left of the first bar:
     * margins (in characters) and height from the longest label */
    int longest = 0;
    for (int i = 0; !c->lines && i < c->n; i++)
        longest = (int)strlen(c->labels[i]) > longest ? (int)strlen(c->labels[i]) : longest;
    int height = 600;
    if (!c->lines) {
        int bmargin = 3 + longest / 4, lmargin = longest * 2 / 3;
        fprintf(f, "set bmargin %d\nset lmargin %d\n", bmargin < 11 ? 11 : bmargin,
                lmargin < 10 ? 10 : lmargin);
        if (longest > 40) height += (longest - 40) * 4;
    }
    for (int t = 0; t < 2; t++) {
        fprintf(f,
                t ? "set terminal pngcairo size 1100,%d noenhanced font 'sans,10'\n"
                  : "set terminal svg size 1100,%d dynamic noenhanced font 'sans,11'\n",
                height);
        fprintf(f, "set output '%s/%s.%s'\nplot ", r->dir, c->id, t ? "png" : "svg");
        for (int s = 0; s < c->n_series; s++) {
            if (s) fputs(", ", f);
            static const char *const styles[] = {"linespoints lw 2", "points ps 1.3", "lines lw 2"};
            int m = model_of(r, c->series[s]);
            int colour = m >= 0 ? m % N_PALETTE : (r->n_models + s) % N_PALETTE;
            int dash = 1;
            if (m >= 0) {
                /* a model's second series in a chart: its colour, another dash */
                for (int k = 0; k < s; k++)
                    dash += model_of(r, c->series[k]) == m;
            }
            /* with intervals: error bars on the points (a line-only
             * series keeps its line) */
            static const char *const err_styles[] = {"yerrorlines lw 2", "yerrorbars ps 1.3",
                                                     "lines lw 2"};
            /* a model's series also differ in their marks: a dash does not
             * show on a point (circle, square, triangle, diamond, ...) */
            static const int marks[] = {7, 5, 9, 13, 11, 15, 4, 6};
            int st = c->style[s] < 3 ? c->style[s] : 0, pt = marks[(dash - 1) % 8];
            if (c->lines && c->has_err)
                fprintf(f, "'%s' index %d using 2:3:4 with %s pt %d lc rgb '%s' dt %d title ", dat,
                        s, single_x ? "yerrorbars ps 2" : err_styles[st], pt, palette[colour],
                        dash);
            else if (c->lines)
                fprintf(f, "'%s' index %d using 2:3 with %s pt %d lc rgb '%s' dt %d title ", dat, s,
                        single_x ? "points ps 2" : styles[st], pt, palette[colour], dash);
            else if (c->has_err)
                fprintf(f, "'%s' using %d:%d:xtic(1) lc rgb '%s' title ", dat, 3 + 2 * s, 4 + 2 * s,
                        palette[(r->n_models + s) % N_PALETTE]);
            else
                fprintf(f, "'%s' using %d:xtic(1) lc rgb '%s' title ", dat, s + 3,
                        palette[(r->n_models + s) % N_PALETTE]);
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
    if (!write_script(r, c, dat, gp) ||
        eb_run_program_log(argv, out, sizeof out, r->gnuplot_log[0] ? r->gnuplot_log : NULL) != 0) {
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
    char from[800], bars[200] = "";
    if (c->has_err) {
        int lo = 0, hi = 0;
        for (int i = 0; i < c->n; i++)
            for (int k = 0; k < REPORT_MAX_SERIES; k++)
                if (isfinite(c->v[i][k]) && c->runs[i][k] > 0) {
                    lo = lo && lo < c->runs[i][k] ? lo : c->runs[i][k];
                    hi = hi > c->runs[i][k] ? hi : c->runs[i][k];
                }
        char n_runs[32];
        snprintf(n_runs, sizeof n_runs, lo == hi ? "%d" : "%d-%d", lo, hi);
        snprintf(bars, sizeof bars,
                 " Error bars: the 95 %% interval of the mean (Student's t; for energy, with "
                 "the sensor's bounds); %s measured run%s a point.",
                 n_runs, hi == 1 ? "" : "s");
    }
    snprintf(from, sizeof from, "%s From %s.%s", bars,
             r->source[0] ? r->source : "the store's runs",
             c->left_out ? " Some rows did not fit this figure: see the tables." : "");
    html_escaped(r->html, from);
    fputs("</figcaption></figure>\n", r->html);
    fprintf(r->md, "### %s\n\n![%s](%s.png)\n\n%s%s\n\n", c->title, c->title, c->id, caption, from);
}

/* A column's header in words with its unit: "gen_tps" reads "generation
 * tokens/s"; a name not listed loses its underscores. */
static void header_words(const char *name, char *out, size_t cap)
{
    static const char *const words[][2] = {
        {"gen_tps", "generation tokens/s"},
        {"prefill_tps", "prefill tokens/s"},
        {"gen_j_per_token", "generation J/token"},
        {"prefill_j_per_token", "prefill J/token"},
        {"gen_action_js", "generation action, J*s/token"},
        {"prefill_action_js", "prefill action, J*s/token"},
        {"needed_tps", "needed tokens/s"},
        {"energy_per_run_j", "energy per run, J"},
        {"cents_per_m_input", "cents per million input tokens"},
        {"cents_per_m_output", "cents per million output tokens"},
        {"cloud_over_edge_input", "cloud / edge, input"},
        {"cloud_over_edge_output", "cloud / edge, output"},
        {"config_in", "configuration (input)"},
        {"config_out", "configuration (output)"},
        {"runner_up", "runner-up"},
        {"runner_up_value", "runner-up value"},
        {"p_value", "p (Holm-adjusted)"},
        {"diff_ci95_lo", "best - runner-up, 95 % interval low"},
        {"diff_ci95_hi", "best - runner-up, 95 % interval high"},
        {"within_noise_of_best", "within noise of the best"},
        {"on_front", "on the front"},
        {"quant", "weights"},
        {"config", "configuration"},
        {"peak_rss_mib", "peak RSS, MiB"},
        {"load_s", "load, s"},
        {"hours", "hours"},
    };
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strcmp(name, words[i][0]) == 0) {
            snprintf(out, cap, "%s", words[i][1]);
            return;
        }
    size_t n = 0;
    for (; name[n] && n + 1 < cap; n++)
        out[n] = name[n] == '_' ? ' ' : name[n];
    out[n] = '\0';
}

void report_table(report *r, const char *title, const eb_table *t)
{
    report_table_note(r, title, NULL, t);
}

void report_table_note(report *r, const char *title, const char *note, const eb_table *t)
{
    fputs("<h3>", r->html);
    html_escaped(r->html, title);
    fputs("</h3>\n", r->html);
    if (note) {
        /* what the table is made of, under its heading */
        fputs("<p class=\"inputs\">", r->html);
        html_escaped(r->html, note);
        fputs("</p>\n", r->html);
    }
    fputs("<div class=\"wide\"><table>\n<tr>", r->html);
    for (size_t c = 0; c < t->ncol; c++) {
        char h[160];
        header_words(t->name[c], h, sizeof h);
        fputs("<th>", r->html);
        html_escaped(r->html, h);
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
    fputs("</table></div>\n", r->html);
    fprintf(r->md, "### %s\n\n", title);
    if (note) fprintf(r->md, "%s\n\n", note);
    eb_error err = {0};
    eb_table_write(r->md, t, "md", NULL, &err);
    fputc('\n', r->md);
}
