/* Sweep plans: an INI file in the spirit of fio job files. A [global]
 * section and one section per experiment; any key may hold a list
 * (quant=Q4_0,Q4_K_M) or, for integers, a range (threads=1-4, n_gen=32-128:32);
 * the cartesian product of each experiment's values is its list of trials.
 * One table of keys drives the plan parser, `edgebench run`'s sweep syntax
 * and the help text. */
#ifndef EDGEBENCH_PLAN_H
#define EDGEBENCH_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "edgebench/error.h"

typedef enum eb_opt_type {
    EB_OT_INT,
    EB_OT_NUM,
    EB_OT_BOOL,   /* on/off, true/false, yes/no, 1/0 */
    EB_OT_CHOICE, /* one of choices */
    EB_OT_STR,
    EB_OT_PATH, /* must exist */
} eb_opt_type;

typedef enum eb_opt_where {
    EB_OW_RUN,    /* passed to each trial's `edgebench run` */
    EB_OW_SYSTEM, /* a device knob set by the sweep before the trial */
    EB_OW_SWEEP,  /* how the sweep runs (global only) */
} eb_opt_where;

typedef struct eb_opt {
    const char *key;
    eb_opt_where where;
    eb_opt_type type;
    const char *run_flag; /* long option of `edgebench run`, for EB_OW_RUN */
    char short_flag;      /* its short form, 0 if none */
    double min, max;      /* EB_OT_INT, EB_OT_NUM */
    const char *choices;  /* EB_OT_CHOICE: "a|b|c" */
    bool single;          /* never a list (text that may hold commas) */
    const char *def;      /* default shown in help; NULL: edgebench run's */
    const char *help;
} eb_opt;

extern const eb_opt eb_opts[];
extern const size_t eb_opt_count;

const eb_opt *eb_opt_find(const char *key);
/* The key closest to an unknown one (edit distance), or NULL. */
const eb_opt *eb_opt_suggest(const char *key);
/* The key a `edgebench run` flag ("-t", "--threads") belongs to. */
const eb_opt *eb_opt_by_flag(const char *flag);

#define EB_PLAN_MAX_SECTIONS 64

typedef struct eb_plan_section {
    char name[64];
    int line;
    char *value[64]; /* raw text per key (index into eb_opts), NULL if unset */
    int value_line[64];
} eb_plan_section;

typedef struct eb_trial {
    size_t index;
    const char *section;
    char *value[64]; /* one value per key after expansion; NULL: default */
    uint64_t key;    /* hash of the whole configuration */
    char key_hex[17];
} eb_trial;

typedef struct eb_plan {
    char path[1024];
    eb_plan_section global;
    eb_plan_section sections[EB_PLAN_MAX_SECTIONS];
    int n_sections;
    eb_trial *trials;
    size_t n_trials;
} eb_plan;

/* Reads a plan file; syntax errors name file:line. */
eb_status eb_plan_load(const char *path, eb_plan *p, eb_error *err);
/* Sets key=value in a section (NULL: [global]); for plans built in code. */
eb_status eb_plan_set(eb_plan *p, const char *section, const char *key, const char *value, int line,
                      eb_error *err);
/* Checks every value and expands lists, ranges and products into trials. */
eb_status eb_plan_expand(eb_plan *p, eb_error *err);
/* Checks the plan against the device under root: model files exist,
 * governors are offered, power modes are known. */
eb_status eb_plan_check_device(const eb_plan *p, const char *root, eb_error *err);
void eb_plan_free(eb_plan *p);

/* A trial's value for key, or NULL when it uses the default. */
const char *eb_trial_get(const eb_trial *t, const char *key);
/* "key=value key=value" of the values that vary or are set. */
void eb_trial_describe(const eb_trial *t, char *out, size_t cap);

/* Parses a value list: items separated by commas, integer ranges a-b[:step].
 * Returns the number of items (<= cap), or -1 with err set. */
int eb_plan_split(const eb_opt *o, const char *text, char **items, int cap, eb_error *err);

#endif
