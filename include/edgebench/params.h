/* Every parameter of `edgebench run` and of sweep plans, in one table.
 * From it come run's option parsing and --help, sweep --help, plan keys and
 * their validation, the trial key, and the argv a sweep hands each trial
 * process. Adding a parameter is one row here (lib/bench/params.c), the
 * field it sets, and its use. */
#ifndef EDGEBENCH_PARAMS_H
#define EDGEBENCH_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "edgebench/bench.h"
#include "edgebench/error.h"

typedef enum eb_param_type {
    EB_PT_INT,
    EB_PT_NUM,
    EB_PT_BOOL,   /* on/off, true/false, yes/no, 1/0, any case (eb_parse_bool) */
    EB_PT_CHOICE, /* one of choices, any case */
    EB_PT_STR,
    EB_PT_PATH, /* a file that must exist */
} eb_param_type;

typedef enum eb_param_scope {
    EB_PS_RUN,   /* a plan key handed to each trial's `edgebench run` */
    EB_PS_KNOB,  /* a plan key: a device knob the sweep sets before the trial */
    EB_PS_SWEEP, /* a plan key: how the sweep runs */
    EB_PS_CLI,   /* an `edgebench run` option only, not a plan key */
} eb_param_scope;

/* Where the parsed value goes: a field of eb_run_options. */
typedef enum eb_field_kind {
    EB_FK_NONE, /* the sweep reads the plan's text itself */
    EB_FK_INT,
    EB_FK_U64,
    EB_FK_DOUBLE,
    EB_FK_STR, /* const char *, pointing into argv or the defaults */
    EB_FK_BOOL,
    /* char[max] that each value given joins, comma-separated (--tag a --tag b);
     * a value that would not fit is refused */
    EB_FK_APPEND,
} eb_field_kind;

enum {
    EB_PF_SINGLE = 1 << 0,      /* never a list (text that may hold commas) */
    EB_PF_GLOBAL_ONLY = 1 << 1, /* plan key allowed in [global] only */
    EB_PF_NOT_IN_KEY = 1 << 2,  /* not part of the trial key (where results go) */
    /* Added after trial keys were first stored: left out of the key while
     * unset, so a new parameter does not change the keys of stored trials. */
    EB_PF_KEY_WHEN_SET = 1 << 3,
    /* A plan's values are separated by ';' (each value may hold commas:
     * a list of nodes). */
    EB_PF_LIST_SEMI = 1 << 4,
    /* A setting the record, the store and the analyses carry (see
     * "A stored setting" below). */
    EB_PF_STORED = 1 << 5,
    /* Stored as llama-bench's CPU mask ("0-3,6" -> 0x4f; a mask as it is). */
    EB_PF_CPU_MASK = 1 << 6,
    /* llama-bench gives it per test: its view reads the test's row. */
    EB_PF_LB_PER_TEST = 1 << 7,
    /* Changes only the generation phase (the tokens generated): a prefill
     * comparison treats runs that differ in it as one configuration. */
    EB_PF_GEN_ONLY = 1 << 8,
    /* Means something only to the server engine (`run --engine server`):
     * refused without it. */
    EB_PF_SERVER_ONLY = 1 << 9,
};

/* The commands whose options come from the table (eb_param.cmds). */
enum {
    EB_CMD_RUN = 1 << 0,  /* edgebench run (a row with a flag and cmds 0 is run's) */
    EB_CMD_PPL = 1 << 1,  /* edgebench ppl */
    EB_CMD_FIT = 1 << 2,  /* edgebench model fit */
    EB_CMD_PLAN = 1 << 3, /* edgebench model plan */
    EB_CMD_RESULTS = 1 << 4,
    EB_CMD_ANALYZE = 1 << 5,
    EB_CMD_NODE = 1 << 6,
    EB_CMD_IMPORT = 1 << 7,
    EB_CMD_SENSORS = 1 << 8,
    EB_CMD_MONITOR = 1 << 9,
    EB_CMD_REPORT = 1 << 10,
    EB_CMD_SWEEP = 1 << 11,
    EB_CMD_FLEET = 1 << 12,
    EB_CMD_AGENT = 1 << 13,
    EB_CMD_DEVICE = 1 << 14, /* device probe */
    EB_CMD_SYNTH = 1 << 15,  /* model synth */
    EB_CMD_PATH = 1 << 16,   /* model path */
    EB_CMD_QUANTIZE = 1 << 17,
    EB_CMD_CALIBRATE = 1 << 18,
};
/* Every command's --help. */
#define EB_CMD_ALL 0x7ffffu

typedef struct eb_param {
    const char *key; /* plan key; also the name in messages */
    eb_param_scope scope;
    eb_param_type type;
    const char *flag;      /* long option of `edgebench run`, NULL if none */
    char short_flag;       /* its short form, 0 if none */
    const char *alias;     /* another long option for the same row, or NULL */
    const char *lb_flag;   /* llama-bench's single-dash form ("ctk" for -ctk), or NULL */
    double min, max;       /* EB_PT_INT, EB_PT_NUM: the accepted range */
    const char *choices;   /* EB_PT_CHOICE: "a|b|c" */
    const char *def;       /* default applied by `run`; NULL: none (or computed) */
    const char *sweep_def; /* default a sweep applies instead, NULL: def */
    const char *def_doc;   /* how a computed default reads in help, NULL: def */
    unsigned flags;        /* EB_PF_* */
    eb_field_kind field;
    size_t offset;       /* of the field in eb_run_options */
    double scale;        /* EB_FK_DOUBLE: field = value x scale (0: 1) */
    const char *label;   /* what it is, in range messages ("generation tokens") */
    const char *unit;    /* shown after ranges ("ms"), or NULL */
    const char *metavar; /* in help ("N", "FILE"), NULL: from the type */
    const char *help;
    /* A stored setting (EB_PF_STORED): from the run's configuration to the
     * record's result.config[json], the store's trials.column, llama-bench's
     * field when imported or exported, and the analyses, which tell apart
     * configurations that differ in it and name it in their labels by
     * words whenever it is not the row's def. */
    const char *json;      /* key in the record's config; NULL: key */
    const char *column;    /* column of trials; NULL: json */
    const char *lb_field;  /* llama-bench's JSON field; NULL: it has none */
    const char *lb_values; /* "on=1|off=0|auto=-1": how llama-bench writes our values
                              (the first is ours); NULL: as ours */
    const char *lb_unset;  /* llama-bench's value for "not set" ("0x0"), or NULL */
    const char *words;     /* label words, "%s" for the value ("ctx %s"); a boolean's
                              words stand alone when it is away from its default;
                              NULL: not in labels */
    unsigned cmds;         /* EB_CMD_* that take the flag; 0: run only */
} eb_param;

/* Whether a command takes the row's flag. */
bool eb_param_takes(const eb_param *p, unsigned cmd);

/* The most prompt and generated tokens a run (or a probe) takes. */
#define EB_N_PROMPT_MAX (1 << 24)
#define EB_N_GEN_MAX (1 << 20)
/* The sampler's period, ms (a run's, a node's). */
#define EB_SAMPLE_MS_MIN 1
#define EB_SAMPLE_MS_MAX 1000

/* KV cache types llama-bench offers (-ctk/-ctv), by ggml's names. */
#define EB_KV_TYPES "f16|bf16|f32|q8_0|q4_0|q4_1|q5_0|q5_1|iq4_nl"
/* Bytes of one cache element of such a type (ggml's block sizes: q8_0 is
 * 34 bytes per 32); unknown: 2, as f16. */
double eb_kv_type_bytes(const char *type);

/* Capacity of per-parameter arrays (plan sections, trials, options). */
#define EB_PARAM_MAX 128

extern const eb_param eb_params[];
extern const size_t eb_param_count;

/* The row of a key (plan keys and run-only options), or NULL. */
const eb_param *eb_param_find(const char *key);
/* The row of a plan key only (not run-only options), or NULL. */
const eb_param *eb_param_plan_key(const char *key);
/* The plan key closest to an unknown one (edit distance), or NULL. */
const eb_param *eb_param_suggest(const char *key);
/* The row a `run` flag ("-t", "--threads", "--threads=4") belongs to (run's
 * rows only). */
const eb_param *eb_param_by_flag(const char *flag);
/* What separates a list of the parameter's values: ',', ';' (values that
 * hold commas, EB_PF_LIST_SEMI), or 0 (never a list, EB_PF_SINGLE). */
char eb_param_list_sep(const eb_param *p);
/* Index of a row in eb_params. */
size_t eb_param_index(const eb_param *p);

/* The stored settings' rows, in table order (eb_params filtered by
 * EB_PF_STORED): what the record's settings, the store's columns, the
 * llama_bench view, the settings query and the analyses' labels are made
 * from. */
size_t eb_stored_settings(const eb_param **out, size_t cap);
/* A stored setting's record key, its column, and the SQL type of the column. */
const char *eb_setting_json(const eb_param *p);
const char *eb_setting_column(const eb_param *p);
const char *eb_setting_sql_type(const eb_param *p);
/* Where the row's field lives in a run's configuration (NULL: not there). */
const void *eb_param_config_field(const eb_param *p, const eb_run_config *cfg);
/* A setting's value as the analyses compare it: text (NULL or "": a record
 * stored before the setting, which ran at the default) normalised ("1" ->
 * "on", "0.50" -> "0.5", any case -> lower). */
void eb_setting_normalize(const eb_param *p, const char *text, char *out, size_t cap);
/* Appends the setting's label words to out when text is not its default
 * ("ctx 4096", "cold load"); returns whether it did. */
bool eb_setting_label_add(const eb_param *p, const char *text, char *out, size_t cap);
/* llama-bench's value (as JSON text: 1, "q8_0", true) in edgebench's terms
 * and back: lb_values maps, lb_unset is no value (false). */
bool eb_setting_from_lb(const eb_param *p, const char *lb_text, char *out, size_t cap);
/* The pairs of a row's lb_values ("on=1|off=0|auto=-1") one at a time from
 * *cursor (start: p->lb_values): ours and llama-bench's, as pointer and
 * length; false past the last. */
bool eb_setting_lb_pair(const char **cursor, const char **ours, size_t *ours_len, const char **lb,
                        size_t *lb_len);

/* The one boolean parser: on/off, true/false, yes/no, 1/0 in any case. */
bool eb_parse_bool(const char *s, bool *out);

/* Checks one value of a parameter: its type and range or choices.
 * Messages name the key: "threads must be an integer in [1, 1024], got 'x'". */
eb_status eb_param_check(const eb_param *p, const char *value, eb_error *err);

/* What `edgebench run` takes: the run's configuration and the front end's
 * own options, every field set from the table. */
typedef struct eb_run_options {
    eb_run_config cfg;
    const char *preset;
    const char *type;
    const char *quant; /* the model quantized to this type first */
    const char *format;
    const char *output;
    const char *timeline;
    const char *store;
    const char *fallback;
    const char *ceilings; /* a probe file instead of the store's newest probe */
    const char *pairs;    /* --thread-pairs G:P,... */
    /* ppl's and model fit's own */
    const char *corpus, *corpus_name, *save_base, *kl_base, *format_text_json;
    int chunks, min_ctx, max_ctx, probe_n_prompt, probe_n_gen, plan_n_prompt;
    /* the store's readers: a table's format and the filters of its rows */
    const char *report_dir, *table_format, *filter_device, *filter_model, *filter_quant,
        *filter_governor, *filter_since, *filter_until;
    bool no_store;
    bool list_devices;
    bool quiet;
    bool verbose;
    bool help;
    int memory_limit_mib;
    bool given[EB_PARAM_MAX];       /* which rows were given (not defaults) */
    const char *text[EB_PARAM_MAX]; /* and as what text (the trial's values) */
} eb_run_options;

/* Whether the option of a row (by key) was given, not defaulted. */
bool eb_run_options_given(const eb_run_options *o, const char *key);

/* Every field at its row's default (and the computed ones: all CPUs, the
 * study's prompt). */
void eb_run_options_defaults(eb_run_options *o);

/* Sets a row's field from text (the type's syntax is checked; ranges of
 * run-configuration fields are checked by eb_run_config_validate, those of
 * front-end fields here). Text stays referenced, not copied. */
eb_status eb_param_set(const eb_param *p, const char *text, eb_run_options *o, eb_error *err);

/* Rows' defaults (those with one) into their fields at target. */
void eb_param_rows_defaults(const eb_param *rows, size_t n, void *target);

/* The table's defaults for the run's configuration (eb_run_config_defaults
 * calls it), and its ranges checked on a configuration, each message naming
 * the option: "generation tokens (-n/--n-gen) must be between 1 and ...". */
void eb_params_config_defaults(eb_run_config *cfg);
/* The settings that only make sense together: a quantized V cache with
 * flash attention off (llama.cpp refuses it), depth + prompt + generation
 * beyond the context (each of n_parallel sequences gets ctx / n_parallel).
 * n_prompt 0: not known yet (a text prompt). */
eb_status eb_settings_check(const char *type_v, const char *flash_attn, int n_depth, int n_prompt,
                            int n_gen, int n_ctx, int n_parallel, eb_error *err);
eb_status eb_params_validate(const eb_run_config *cfg, eb_error *err);

/* A command's own options: rows as eb_params' (scope EB_PS_CLI, cmds 0),
 * their offsets into the command's own struct (target); their defaults are
 * set and their values checked whole (type, range or choices) as they are
 * parsed. given (n entries, may be NULL) says which were given. Positional
 * arguments go to positional (at most max_positional; NULL: none taken). */
typedef struct eb_cmd_rows {
    const eb_param *rows;
    size_t n;
    void *target;
    bool *given;
    const char **positional;
    int max_positional, n_positional;
} eb_cmd_rows;

/* Parses `edgebench run` options (argv[0] is the command's name) into o,
 * which eb_run_options_defaults has filled. Never prints. */
eb_status eb_run_options_parse(int argc, char **argv, eb_run_options *o, eb_error *err);
/* The same for any command of the table (EB_CMD_*): the rows it takes, each
 * with its one range, default and message; for a command other than run
 * (which checks as it starts) the configuration's ranges are checked too
 * (eb_params_validate). */
eb_status eb_cmd_options_parse(unsigned cmd, int argc, char **argv, eb_run_options *o,
                               eb_error *err);
/* The same with the command's own rows beside the table's (own may be NULL). */
eb_status eb_cmd_parse(unsigned cmd, eb_cmd_rows *own, int argc, char **argv, eb_run_options *o,
                       eb_error *err);

/* `edgebench run --help`'s option lines and `sweep --help`'s key lines. */
void eb_params_run_help(FILE *f);
/* The option lines of a command (EB_CMD_*), and of its own rows (NULL:
 * none) after them. */
void eb_params_cmd_help(unsigned cmd, FILE *f);
void eb_cmd_help(unsigned cmd, const eb_cmd_rows *own, FILE *f);
void eb_params_plan_help(FILE *f);

#endif
