/* A result table as text, CSV, JSON, JSON lines, Markdown or SQL. Missing
 * values are written as missing (empty, null, NULL, "n/a"), never as 0. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/store.h"

static const char *const formats[] = {"table", "csv", "json", "jsonl", "md", "sql", NULL};

bool eb_table_format_known(const char *format)
{
    for (const char *const *f = formats; *f; f++)
        if (strcmp(*f, format) == 0) return true;
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

static void write_text(FILE *f, const eb_table *t, bool markdown)
{
    size_t *w = calloc(t->ncol ? t->ncol : 1, sizeof *w);
    if (!w) return;
    char buf[64];
    for (size_t c = 0; c < t->ncol; c++) {
        w[c] = strlen(t->name[c]);
        for (size_t r = 0; r < t->nrow; r++) {
            size_t l = strlen(display(t, r, c, buf, sizeof buf));
            if (l > w[c]) w[c] = l;
        }
        if (w[c] > 60) w[c] = 60;
    }
    const char *sep = markdown ? " | " : "  ";
    for (size_t c = 0; c < t->ncol; c++)
        fprintf(f, "%s%-*s", c ? sep : (markdown ? "| " : ""), (int)w[c], t->name[c]);
    fputs(markdown ? " |\n" : "\n", f);
    if (markdown) {
        for (size_t c = 0; c < t->ncol; c++) {
            fputs(c ? " | " : "| ", f);
            for (size_t i = 0; i < w[c]; i++)
                fputc(i + 1 == w[c] && t->numeric[c] ? ':' : '-', f);
        }
        fputs(" |\n", f);
    }
    for (size_t r = 0; r < t->nrow; r++) {
        for (size_t c = 0; c < t->ncol; c++) {
            const char *v = display(t, r, c, buf, sizeof buf);
            fputs(c ? sep : (markdown ? "| " : ""), f);
            /* one line per row: line breaks and Markdown's bars are escaped */
            size_t len = 0;
            for (const char *p = v; *p && len < 60; p++, len++) {
                if (*p == '\n' || *p == '\r')
                    fputc(' ', f);
                else if (markdown && *p == '|')
                    fputs("\\|", f);
                else
                    fputc(*p, f);
            }
            if (c + 1 < t->ncol || markdown)
                for (; len < w[c]; len++)
                    fputc(' ', f);
        }
        fputs(markdown ? " |\n" : "\n", f);
    }
    free(w);
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
