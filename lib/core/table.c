/* The table type: building, reading and freeing one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/table.h"

eb_status eb_table_init(eb_table *t, size_t ncol, const char *const *names,
                        const unsigned char *numeric)
{
    memset(t, 0, sizeof *t);
    t->name = calloc(ncol ? ncol : 1, sizeof *t->name);
    t->numeric = calloc(ncol ? ncol : 1, 1);
    if (!t->name || !t->numeric) {
        eb_table_free(t);
        return EB_E_NO_MEMORY;
    }
    t->ncol = ncol;
    for (size_t c = 0; c < ncol; c++) {
        t->name[c] = strdup(names[c] ? names[c] : "");
        if (numeric) t->numeric[c] = numeric[c];
        if (!t->name[c]) {
            eb_table_free(t);
            return EB_E_NO_MEMORY;
        }
    }
    return EB_OK;
}

int eb_table_column(const eb_table *t, const char *name)
{
    for (size_t c = 0; c < t->ncol; c++)
        if (strcmp(t->name[c], name) == 0) return (int)c;
    return -1;
}

const char *eb_table_cell(const eb_table *t, size_t row, int col)
{
    return col >= 0 && (size_t)col < t->ncol && row < t->nrow ? t->cell[row * t->ncol + (size_t)col]
                                                              : NULL;
}

double eb_table_number(const eb_table *t, size_t row, int col)
{
    const char *v = eb_table_cell(t, row, col);
    return v && *v ? strtod(v, NULL) : NAN;
}

eb_status eb_table_add_row(eb_table *t, char *const *cells)
{
    char **grown = realloc(t->cell, (t->nrow + 1) * (t->ncol ? t->ncol : 1) * sizeof *grown);
    if (!grown) return EB_E_NO_MEMORY;
    t->cell = grown;
    char **row = t->cell + t->nrow * t->ncol;
    for (size_t c = 0; c < t->ncol; c++)
        row[c] = NULL;
    t->nrow++;
    for (size_t c = 0; c < t->ncol; c++)
        if (cells[c] && !(row[c] = strdup(cells[c]))) return EB_E_NO_MEMORY;
    return EB_OK;
}

void eb_table_free(eb_table *t)
{
    if (!t) return;
    for (size_t c = 0; t->name && c < t->ncol; c++)
        free(t->name[c]);
    for (size_t i = 0; t->cell && i < t->nrow * t->ncol; i++)
        free(t->cell[i]);
    free(t->name);
    free(t->numeric);
    free(t->cell);
    memset(t, 0, sizeof *t);
}

char *eb_cell_num(char *buf, size_t cap, double v, int digits)
{
    if (!isfinite(v)) return NULL;
    if (digits > 0)
        snprintf(buf, cap, "%.*g", digits, v);
    else
        snprintf(buf, cap, "%.*f", -digits, v);
    return buf;
}
