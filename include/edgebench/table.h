/* A table of text cells: what the store's queries give back, the analyses
 * compute and every table-shaped output writes (core). */
#ifndef EDGEBENCH_TABLE_H
#define EDGEBENCH_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "edgebench/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eb_table {
    size_t ncol, nrow;
    char **name;            /* ncol column names */
    unsigned char *numeric; /* ncol kinds: 0 text, 1 number, 2 JSON text (arrays) */
    char **cell;            /* nrow * ncol, NULL = not available */
} eb_table;

void eb_table_free(eb_table *t);
/* Building a table: columns with their kinds, then rows (cells copied,
 * NULL = not available). */
eb_status eb_table_init(eb_table *t, size_t ncol, const char *const *names,
                        const unsigned char *numeric);
eb_status eb_table_add_row(eb_table *t, char *const *cells);
/* Reading a table: a column's index by name (-1 when absent); a cell's text
 * (NULL for SQL NULL or an absent column); a cell as a number (NAN then, and
 * for an empty cell). */
int eb_table_column(const eb_table *t, const char *name);
const char *eb_table_cell(const eb_table *t, size_t row, int col);
double eb_table_number(const eb_table *t, size_t row, int col);

/* Writes a table as "table", "csv", "json", "jsonl", "md" or "sql" (INSERT
 * statements into sql_table). */
eb_status eb_table_write(FILE *out, const eb_table *t, const char *format, const char *sql_table,
                         eb_error *err);
bool eb_table_format_known(const char *format);
/* A table cell of a number: digits > 0 significant digits (a mean), else
 * -digits decimals (a ratio); NULL (an empty cell) when not finite. */
char *eb_cell_num(char *buf, size_t cap, double v, int digits);

#ifdef __cplusplus
}
#endif
#endif
