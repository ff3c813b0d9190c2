/* A result table as text, CSV, JSON, JSON lines, Markdown or SQL. Missing
 * values are written as missing (empty, null, NULL, "n/a"), never as 0. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/table.h"
#include "edgebench/util.h"

bool eb_table_format_known(const char *format)
{
    size_t n = format ? strlen(format) : 0;
    for (const char *f = EB_TABLE_FORMATS; n && *f;) {
        size_t len = strcspn(f, "|");
        if (len == n && strncmp(f, format, n) == 0) return true;
        f += len + (f[len] == '|');
    }
    return false;
}

static const char *cell(const eb_table *t, size_t r, size_t c)
{
    return t->cell[r * t->ncol + c];
}

/* Numbers for reading: integers as they are, others to 4 significant
 * digits (the raw figure is in every other format). */
static const char *display(const eb_table *t, size_t r, size_t c, char *buf, size_t cap)
{
    const char *v = cell(t, r, c);
    if (!v) return "n/a";
    if (t->numeric[c] != 1 || !strpbrk(v, ".eE")) return v;
    snprintf(buf, cap, "%.4g", atof(v));
    return buf;
}

/* A cell cut to its column's width says so with "...". */
#define CELL_MAX 60

static void put_cell(FILE *f, const char *v, size_t width, bool pad, bool markdown)
{
    size_t n = strlen(v), len = 0;
    bool cut = n > CELL_MAX;
    size_t keep = cut ? CELL_MAX - 3 : n;
    for (const char *p = v; len < keep; p++, len++) {
        /* one line per row: line breaks and Markdown's bars are escaped */
        if (*p == '\n' || *p == '\r')
            fputc(' ', f);
        else if (markdown && *p == '|')
            fputs("\\|", f);
        else
            fputc(*p, f);
    }
    if (cut) fputs("...", f), len += 3;
    if (pad)
        for (; len < width; len++)
            fputc(' ', f);
}

/* The rows with the columns in cols (n of them). */
static void write_block(FILE *f, const eb_table *t, const size_t *w, const size_t *cols, size_t n,
                        bool markdown)
{
    char buf[64];
    const char *sep = markdown ? " | " : "  ";
    for (size_t k = 0; k < n; k++) {
        fputs(k ? sep : (markdown ? "| " : ""), f);
        put_cell(f, t->name[cols[k]], w[cols[k]], k + 1 < n || markdown, false);
    }
    fputs(markdown ? " |\n" : "\n", f);
    if (markdown) {
        for (size_t k = 0; k < n; k++) {
            fputs(k ? " | " : "| ", f);
            for (size_t i = 0; i < w[cols[k]]; i++)
                fputc(i + 1 == w[cols[k]] && t->numeric[cols[k]] ? ':' : '-', f);
        }
        fputs(" |\n", f);
    }
    for (size_t r = 0; r < t->nrow; r++) {
        for (size_t k = 0; k < n; k++) {
            fputs(k ? sep : (markdown ? "| " : ""), f);
            put_cell(f, display(t, r, cols[k], buf, sizeof buf), w[cols[k]], k + 1 < n || markdown,
                     markdown);
        }
        fputs(markdown ? " |\n" : "\n", f);
    }
}

/* A text table wider than this is wrapped: its leading text columns (what
 * names a row) are repeated beside each group of the other columns. */
#define TABLE_WIDTH 120

static void write_text(FILE *f, const eb_table *t, bool markdown)
{
    size_t nc = t->ncol ? t->ncol : 1;
    size_t *w = calloc(nc, sizeof *w), *cols = calloc(nc, sizeof *cols);
    if (!w || !cols) {
        free(w);
        free(cols);
        return;
    }
    char buf[64];
    size_t total = 0;
    for (size_t c = 0; c < t->ncol; c++) {
        w[c] = strlen(t->name[c]);
        for (size_t r = 0; r < t->nrow; r++) {
            size_t l = strlen(display(t, r, c, buf, sizeof buf));
            if (l > w[c]) w[c] = l;
        }
        if (w[c] > CELL_MAX) w[c] = CELL_MAX;
        total += w[c] + (c ? 2 : 0);
    }
    if (markdown || total <= TABLE_WIDTH || t->ncol < 3) {
        for (size_t c = 0; c < t->ncol; c++)
            cols[c] = c;
        write_block(f, t, w, cols, t->ncol, markdown);
        free(w);
        free(cols);
        return;
    }
    size_t key = 0, key_w = 0;
    while (key < t->ncol - 1 && !t->numeric[key] && key_w + w[key] + 2 <= TABLE_WIDTH / 2)
        key_w += w[key] + 2, key++;
    if (key == 0) key = 1, key_w = w[0] + 2;
    for (size_t c = key; c < t->ncol;) {
        size_t n = 0, width = key_w;
        for (size_t k = 0; k < key; k++)
            cols[n++] = k;
        while (c < t->ncol && (n == key || width + w[c] + 2 <= TABLE_WIDTH))
            width += w[c] + 2, cols[n++] = c++;
        if (cols[key] != key) fputc('\n', f); /* the next group of columns */
        write_block(f, t, w, cols, n, false);
    }
    free(w);
    free(cols);
}

static void csv_field(FILE *f, const char *v)
{
    if (!v) return;
    if (!strpbrk(v, ",\"\n\r")) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (const char *p = v; *p; p++) {
        if (*p == '"') fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

/* A cell of a numeric column that is a word ("never") stays a word. */
static bool is_number(const char *v)
{
    char *end;
    strtod(v, &end);
    return end != v && *end == '\0' && !strpbrk(v, "nNiI");
}

static cJSON *row_json(const eb_table *t, size_t r)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t c = 0; c < t->ncol; c++) {
        const char *v = cell(t, r, c);
        cJSON *item = !v                                   ? cJSON_CreateNull()
                      : t->numeric[c] == 1 && is_number(v) ? cJSON_CreateRaw(v)
                      : t->numeric[c] == 2                 ? cJSON_Parse(v)
                                                           : cJSON_CreateString(v);
        if (!item) item = cJSON_CreateString(v);
        cJSON_AddItemToObject(o, t->name[c], item);
    }
    return o;
}

static void sql_value(FILE *f, const eb_table *t, size_t r, size_t c)
{
    const char *v = cell(t, r, c);
    if (!v) {
        fputs("NULL", f);
    } else if (t->numeric[c] == 1 && is_number(v)) {
        fputs(v, f);
    } else {
        fputc('\'', f);
        for (const char *p = v; *p; p++) {
            if (*p == '\'') fputc('\'', f);
            fputc(*p, f);
        }
        fputc('\'', f);
    }
}

eb_status eb_table_write(FILE *f, const eb_table *t, const char *format, const char *sql_table,
                         eb_error *err)
{
    if (!eb_table_format_known(format))
        return eb_fail(err, EB_E_INVALID_ARG,
                       "unknown format '%s' (table, csv, json, jsonl, md or sql)", format);
    if (strcmp(format, "table") == 0 || strcmp(format, "md") == 0) {
        write_text(f, t, format[0] == 'm');
    } else if (strcmp(format, "csv") == 0) {
        for (size_t c = 0; c < t->ncol; c++) {
            if (c) fputc(',', f);
            csv_field(f, t->name[c]);
        }
        fputc('\n', f);
        for (size_t r = 0; r < t->nrow; r++) {
            for (size_t c = 0; c < t->ncol; c++) {
                if (c) fputc(',', f);
                csv_field(f, cell(t, r, c));
            }
            fputc('\n', f);
        }
    } else if (strcmp(format, "sql") == 0) {
        for (size_t r = 0; r < t->nrow; r++) {
            fprintf(f, "INSERT INTO %s (", sql_table ? sql_table : "results");
            for (size_t c = 0; c < t->ncol; c++)
                fprintf(f, "%s%s", c ? ", " : "", t->name[c]);
            fputs(") VALUES (", f);
            for (size_t c = 0; c < t->ncol; c++) {
                if (c) fputs(", ", f);
                sql_value(f, t, r, c);
            }
            fputs(");\n", f);
        }
    } else {
        bool lines = strcmp(format, "jsonl") == 0;
        if (!lines) fputs("[\n", f);
        for (size_t r = 0; r < t->nrow; r++) {
            cJSON *o = row_json(t, r);
            char *text = o ? cJSON_PrintUnformatted(o) : NULL;
            cJSON_Delete(o);
            if (!text) return eb_fail(err, EB_E_NO_MEMORY, "results: out of memory");
            fprintf(f, "%s%s%s\n", lines ? "" : "  ", text, !lines && r + 1 < t->nrow ? "," : "");
            free(text);
        }
        if (!lines) fputs("]\n", f);
    }
    if (fflush(f) != 0 || ferror(f)) return eb_fail(err, EB_E_IO, "cannot write the results");
    return EB_OK;
}
