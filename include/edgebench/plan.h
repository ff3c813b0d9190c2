/* Sweep plans: an INI file in the spirit of fio job files. A [global]
 * section and one section per experiment; any key may hold a list
 * (quant=Q4_0,Q4_K_M) or, for integers, a range (threads=1-4, n_gen=32-128:32);
 * the cartesian product of each experiment's values is its list of trials.
 * The keys are the plan rows of the parameter table (params.h). */
#ifndef EDGEBENCH_PLAN_H
#define EDGEBENCH_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "edgebench/error.h"
#include "edgebench/params.h"

#define EB_PLAN_MAX_SECTIONS 64
/* Values one key may expand to (a list or range); more is an error. */
#define EB_PLAN_MAX_VALUES 1024

typedef struct eb_plan_section {
    char name[64];
    int line;
    char *value[EB_PARAM_MAX]; /* raw text per key (index into eb_params), NULL if unset */
    int value_line[EB_PARAM_MAX];
} eb_plan_section;

typedef struct eb_trial {
    size_t index;
    const char *section;
    char *value[EB_PARAM_MAX]; /* one value per key after expansion; NULL: default */
    uint64_t key;              /* hash of the whole configuration */
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

/* The one trial key of every record (sweep, run, model fit, agent,
 * import): a hash of each keyed row's value ("(default)" when unset; rows
 * added later only when set), so one configuration has one key however it
 * was run. Sets t->key and t->key_hex. */
void eb_trial_rekey(eb_trial *t);
/* A trial made in code (a run, a probe, an imported row): no values; set
 * them by key with eb_trial_set (copied), free with eb_trial_clear. */
void eb_trial_init(eb_trial *t, const char *section);
eb_status eb_trial_set(eb_trial *t, const char *key, const char *value, eb_error *err);
void eb_trial_clear(eb_trial *t);

/* A trial's value for key, or NULL when it uses the default. */
const char *eb_trial_get(const eb_trial *t, const char *key);
/* Its value, else the default a sweep applies (the row's sweep_def or def). */
const char *eb_trial_value(const eb_trial *t, const char *key);
/* A boolean key's value (eb_parse_bool), false when unset without default. */
bool eb_trial_bool(const eb_trial *t, const char *key);
/* "key=value key=value" of the values that vary or are set. */
void eb_trial_describe(const eb_trial *t, char *out, size_t cap);

/* Parses a value list: items separated by commas, integer ranges a-b[:step].
 * Returns the number of items (<= cap), or -1 with err set. */
int eb_plan_split(const eb_param *o, const char *text, char **items, int cap, eb_error *err);

#endif
