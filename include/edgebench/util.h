/* Small helpers shared by the library and the CLI. */
#ifndef EDGEBENCH_UTIL_H
#define EDGEBENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "edgebench/error.h"

/* Seconds on CLOCK_MONOTONIC. */
double eb_now(void);
/* CPU time of the calling thread, seconds. */
double eb_thread_cpu_s(void);

/* t as ISO 8601 UTC ("2026-11-24T03:36:26Z"): how records date things. */
void eb_utc_iso8601(time_t t, char *out, size_t cap);

/* Joins root and an absolute path ("/" or NULL root means the path itself). */
void eb_path_join(char *out, size_t cap, const char *root, const char *path);

/* Reads a whole small text file into buf (NUL-terminated). */
eb_status eb_read_text(const char *path, char *buf, size_t cap, eb_error *err);

/* Reads a whole file of any size into a new NUL-terminated buffer (the
 * caller frees it); NULL with err on failure. */
char *eb_read_file(const char *path, eb_error *err);
/* The same, with its length (the file may hold NUL bytes). */
char *eb_read_file_len(const char *path, size_t *len, eb_error *err);

/* Reads the first line of a small text file (sysfs attributes), without
 * its newline. */
bool eb_read_line(const char *path, char *out, size_t cap);

/* Finds "key" at the start of a line of text and copies the rest of the line
 * after the separator characters in seps, trimmed. */
bool eb_text_field(const char *text, const char *key, const char *seps, char *out, size_t cap);
/* The first place needle stands in hay, any case (ASCII); NULL if none. */
const char *eb_strstr_ci(const char *hay, const char *needle);

/* Prints first, then text wrapped at word boundaries to width columns,
 * continuation lines starting with indent; ends the line. */
void eb_print_wrapped(FILE *f, const char *first, const char *indent, const char *text, int width);

/* A reason in a few words: whole when at most whole_max characters, else
 * up to its first parenthesis or semicolon, and never past 90 characters
 * (cut at a word, with "..."). */
void eb_few_words(const char *why, size_t whole_max, char *out, size_t cap);

/* Strict integer parse: the whole string, within [min, max]. */
bool eb_parse_long(const char *s, long min, long max, long *out);

/* The cache directory: $EDGEBENCH_CACHE, else $XDG_CACHE_HOME/edgebench,
 * else $HOME/.cache/edgebench. Created if missing. */
eb_status eb_cache_dir(char *out, size_t cap, eb_error *err);

/* mkdir -p */
eb_status eb_mkdirs(const char *path, eb_error *err);

/* Sleeps for s seconds, resuming after signal handlers. */
void eb_sleep(double s);

/* Finds an executable: a name with a '/' as it is, else on $PATH. */
bool eb_find_program(const char *name, char *out, size_t cap);

/* Runs argv[0] (a path) with argv, without a shell. out (NULL allowed) gets
 * the start of its standard output; the rest is read and dropped so the
 * program never blocks on a full pipe. Returns its exit status, or -1 when
 * it could not start or was killed. */
int eb_run_program(const char *const argv[], char *out, size_t cap);
/* The same with its standard error appended to err_log (NULL: inherited). */
int eb_run_program_log(const char *const argv[], char *out, size_t cap, const char *err_log);

/* splitmix64 step, for reproducible random token ids and weights. */
uint64_t eb_rng_next(uint64_t *state);

/* FNV-1a over a string, continuing from h (start with EB_FNV1A_OFFSET):
 * stable keys for trials and fingerprints, not a cryptographic hash. */
#define EB_FNV1A_OFFSET 14695981039346656037ull
uint64_t eb_fnv1a(uint64_t h, const char *s);
uint64_t eb_fnv1a_bytes(uint64_t h, const void *data, size_t len);

/* The shortest "%g" text of v that reads back as the same double (at most
 * 17 digits): what the store, imports and exact outputs write. */
void eb_format_double(char *buf, size_t cap, double v);

/* SHA-256 of a file as 64 hex digits, remembered in the cache directory by
 * the file's identity and modification time. */
eb_status eb_file_sha256(const char *path, char hex[65], eb_error *err);
/* Asks the kernel to drop a file's pages from the page cache
 * (POSIX_FADV_DONTNEED: clean pages no process maps go), then measures the
 * share still resident (mincore), in percent. */
eb_status eb_file_drop_cache(const char *path, double *resident_pct, eb_error *err);
/* SHA-256 of a text as 64 hex digits: content keys of stored records. */
void eb_sha256_text(const char *text, size_t len, char hex[65]);

/* The most threads any option takes (run's -t and -T, a probe's list). */
#define EB_MAX_THREADS 1024

/* The formats a table is written in (eb_table_write), as a choice list. */
#define EB_TABLE_FORMATS "table|csv|json|jsonl|md|sql"

#endif
