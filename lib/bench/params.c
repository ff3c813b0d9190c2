#include "edgebench/params.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "edgebench/util.h"

#define CFG(f) offsetof(eb_run_options, cfg.f)
#define OPT(f) offsetof(eb_run_options, f)

/* The plan keys come first, in the order they always had: a sweep expands
 * with the first key varying slowest (device knobs change as rarely as
 * possible, models are grouped) and the trial key hashes them in this
 * order. Run-only options follow. */
const eb_param eb_params[] = {
    {.key = "governor",
     .scope = EB_PS_KNOB,
     .type = EB_PT_STR,
     .help = "CPU governor for every cpufreq policy (must be offered by the device)"},
    {.key = "power_mode",
     .scope = EB_PS_KNOB,
     .type = EB_PT_STR,
     .help = "Jetson power mode by name, from /etc/nvpmodel.conf (set with nvpmodel)"},
    {.key = "jetson_clocks",
     .scope = EB_PS_KNOB,
     .type = EB_PT_BOOL,
     .help = "Jetson clocks pinned at maximum (jetson_clocks), restored afterwards"},
    {.key = "model",
     .scope = EB_PS_RUN,
     .type = EB_PT_PATH,
     .flag = "model",
     .short_flag = 'm',
     .field = EB_FK_STR,
     .offset = CFG(model_path),
     .metavar = "FILE.gguf",
     .help = "GGUF model file"},
    {.key = "preset",
     .scope = EB_PS_RUN,
     .type = EB_PT_STR,
     .flag = "preset",
     .def = "qwen2-0.5b",
     .field = EB_FK_STR,
     .offset = OPT(preset),
     .metavar = "NAME",
     .help = "synthetic preset instead of a model file (see 'edgebench model list')"},
    {.key = "type",
     .scope = EB_PS_RUN,
     .type = EB_PT_CHOICE,
     .flag = "type",
     .choices = "F16|Q8_0|Q4_0|Q4_K_M",
     .def = "Q4_0",
     .field = EB_FK_STR,
     .offset = OPT(type),
     .help = "weight type of a preset (quantized from the generated F16 shapes, cached)"},
    {.key = "quant",
     .scope = EB_PS_RUN,
     .type = EB_PT_STR,
     .flag = "quant",
     .field = EB_FK_STR,
     .offset = OPT(quant),
     .metavar = "TYPE",
     .help = "quantize the model file (model=) to this type with llama.cpp, cached by (content, "
             "type)"},
    {.key = "ctx",
     .scope = EB_PS_RUN,
     .type = EB_PT_INT,
     .flag = "ctx",
     .short_flag = 'c',
     .min = 8,
     .max = 1 << 24,
     .def = "512",
     .field = EB_FK_INT,
     .offset = CFG(n_ctx),
     .label = "context",
     .help = "context size"},
    {.key = "batch",
     .scope = EB_PS_RUN,
     .type = EB_PT_INT,
     .flag = "batch",
     .short_flag = 'b',
     .min = 1,
     .max = 1 << 20,
     .def = "2048",
     .field = EB_FK_INT,
     .offset = CFG(n_batch),
     .label = "batch",
     .help = "logical batch for prefill"},
    {.key = "ubatch",
     .scope = EB_PS_RUN,
     .type = EB_PT_INT,
     .flag = "ubatch",
     .min = 1,
     .max = 1 << 20,
     .def = "512",
     .field = EB_FK_INT,
     .offset = CFG(n_ubatch),
     .label = "micro-batch",
     .help = "physical batch"},
    {.key = "ngl",
     .scope = EB_PS_RUN,
     .type = EB_PT_INT,
     .flag = "ngl",
     .min = -1,
     .max = 100000,
     .def = "0",
     .field = EB_FK_INT,
     .offset = CFG(n_gpu_layers),
     .label = "GPU layers",
     .help = "layers offloaded to the GPU (-1: all)"},
    {.key = "prompt",
     .scope = EB_PS_RUN,
     .type = EB_PT_STR,
     .flag = "prompt",
     .short_flag = 'p',
     .def_doc = "a short story to summarise",
     .flags = EB_PF_SINGLE,
     .field = EB_FK_STR,
     .offset = CFG(prompt_text),
     .metavar = "TEXT",
     .help = "prompt text (one value in a plan; use prompt_file for several)"},
    {.key = "prompt_file",
     .scope = EB_PS_RUN,
     .type = EB_PT_PATH,
     .flag = "file",
     .short_flag = 'f',
     .field = EB_FK_STR,
     .offset = CFG(prompt_file),
     .metavar = "FILE",
     .help = "file holding the prompt"},
    {.key = "n_prompt",
     .scope = EB_PS_RUN,
     .type = EB_PT_INT,
     .flag = "n-prompt",
     .min = 0,
     .max = 1 << 24,
     .field = EB_FK_INT,
     .offset = CFG(n_prompt_random),
     .label = "random prompt tokens",
     .help = "a prompt of N random token ids (as llama-bench)"},
    {.key = "n_gen",
     .scope = EB_PS_RUN,
     .type = EB_PT_INT,
     .flag = "n-gen",
     .short_flag = 'n',
     .min = 1,
     .max = 1 << 20,
     .def = "100",
     .field = EB_FK_INT,
     .offset = CFG(n_gen),
     .label = "generation tokens",
     .help = "tokens to generate, end-of-sequence ignored"},
    {.key = "threads_prefill",
     .scope = EB_PS_RUN,
     .type = EB_PT_INT,
     .flag = "threads-prefill",
     .short_flag = 'T',
     .min = 1,
     .max = 1024,
     .def_doc = "all online CPUs",
     .field = EB_FK_INT,
     .offset = CFG(threads_prefill),
     .label = "prefill threads",
     .help = "prefill threads"},
    {.key = "threads",
     .scope = EB_PS_RUN,
     .type = EB_PT_INT,
     .flag = "threads",
     .short_flag = 't',
     .min = 1,
     .max = 1024,
     .def_doc = "all online CPUs",
     .field = EB_FK_INT,
     .offset = CFG(threads_gen),
     .label = "generation threads",
     .help = "generation threads"},
    {.key = "cpus",
     .scope = EB_PS_RUN,
     .type = EB_PT_STR,
     .flag = "cpus",
     .flags = EB_PF_SINGLE,
     .field = EB_FK_STR,
     .offset = CFG(cpu_affinity),
     .metavar = "LIST",
     .help = "run on these CPUs only, a list such as 0-3 or 4,5 (one value per experiment)"},
    {.key = "reps",
     .scope = EB_PS_RUN,
     .type = EB_PT_INT,
     .flag = "reps",
     .min = 1,
     .max = 100000,
     .def = "4",
     .field = EB_FK_INT,
     .offset = CFG(reps),
     .label = "repetitions",
     .help = "measured runs"},
    {.key = "warmup",
     .scope = EB_PS_RUN,
     .type = EB_PT_INT,
     .flag = "warmup",
     .min = 0,
     .max = 1000,
     .def = "1",
     .field = EB_FK_INT,
     .offset = CFG(warmup),
     .label = "warm-up runs",
     .help = "warm-up runs before them, reported apart"},
    {.key = "seed",
     .scope = EB_PS_RUN,
     .type = EB_PT_INT,
     .flag = "seed",
     .min = 0,
     .max = 1e9,
     .def = "42",
     .field = EB_FK_U64,
     .offset = CFG(seed),
     .label = "seed",
     .help = "seed of random prompt ids"},
    {.key = "sample_ms",
     .scope = EB_PS_RUN,
     .type = EB_PT_NUM,
     .flag = "sample-ms",
     .min = 1,
     .max = 1000,
     .def = "10",
     .field = EB_FK_DOUBLE,
     .offset = CFG(sample_interval_s),
     .scale = 0.001,
     .label = "sample interval",
     .unit = "ms",
     .metavar = "MS",
     .help = "sampler period"},
    {.key = "idle_s",
     .scope = EB_PS_RUN,
     .type = EB_PT_NUM,
     .flag = "idle-s",
     .min = 0,
     .max = 600,
     .def = "2",
     .field = EB_FK_DOUBLE,
     .offset = CFG(idle_s),
     .label = "idle time",
     .unit = "s",
     .metavar = "S",
     .help = "idle power measured for S seconds before the runs"},
    {.key = "tdp",
     .scope = EB_PS_RUN,
     .type = EB_PT_NUM,
     .flag = "tdp",
     .min = 0,
     .max = 10000,
     .field = EB_FK_DOUBLE,
     .offset = CFG(tdp_w),
     .label = "TDP",
     .unit = "W",
     .metavar = "W",
     .help = "no power sensor: estimate CPU load x W (labelled ESTIMATE)"},
    {.key = "pause",
     .scope = EB_PS_RUN,
     .type = EB_PT_NUM,
     .flag = "pause",
     .min = 0,
     .max = 3600,
     .def = "0",
     .sweep_def = "30",
     .field = EB_FK_DOUBLE,
     .offset = CFG(pause_s),
     .label = "pause",
     .unit = "s",
     .metavar = "S",
     .help = "pause between runs, and in a sweep before each trial (the study's 30 s)"},
    {.key = "cool_below",
     .scope = EB_PS_RUN,
     .type = EB_PT_NUM,
     .flag = "cool-below",
     .min = 0,
     .max = 150,
     .field = EB_FK_DOUBLE,
     .offset = CFG(cool_below_c),
     .label = "cool-below",
     .unit = "C",
     .metavar = "C",
     .help = "instead of a fixed pause: wait until the hottest zone is below this"},
    {.key = "cool_max_wait",
     .scope = EB_PS_RUN,
     .type = EB_PT_NUM,
     .flag = "cool-max-wait",
     .min = 0,
     .max = 3600,
     .def = "300",
     .field = EB_FK_DOUBLE,
     .offset = CFG(cool_max_wait_s),
     .label = "cool-max-wait",
     .unit = "s",
     .metavar = "S",
     .help = "longest wait for cool_below"},
    {.key = "memory_limit",
     .scope = EB_PS_RUN,
     .type = EB_PT_INT,
     .flag = "memory-limit",
     .min = 16,
     .max = 1 << 30,
     .field = EB_FK_INT,
     .offset = OPT(memory_limit_mib),
     .label = "memory limit",
     .unit = "MiB",
     .metavar = "MIB",
     .help = "address-space limit of the trial process"},
    {.key = "drop_caches",
     .scope = EB_PS_KNOB,
     .type = EB_PT_BOOL,
     .def = "on",
     .help = "drop page caches and reset swap before each trial (needs root; else skipped and "
             "said)"},
    {.key = "timeout",
     .scope = EB_PS_SWEEP,
     .type = EB_PT_NUM,
     .min = 1,
     .max = 86400 * 7,
     .def = "3600",
     .help = "a trial running longer is killed and recorded as failed (seconds)"},
    {.key = "isolation",
     .scope = EB_PS_SWEEP,
     .type = EB_PT_CHOICE,
     .choices = "trial|model",
     .def = "trial",
     .help = "trial: a fresh process per trial, as the study did; model: one process and one "
             "model load for consecutive trials that differ only in thread counts"},
    {.key = "results",
     .scope = EB_PS_SWEEP,
     .type = EB_PT_STR,
     .def = "edgebench-sweep.jsonl",
     .flags = EB_PF_SINGLE | EB_PF_GLOBAL_ONLY | EB_PF_NOT_IN_KEY,
     .help = "journal: every record also as a JSON line, fsync'd (what 'import' reads when the "
             "store was down)"},
    {.key = "store",
     .scope = EB_PS_SWEEP,
     .type = EB_PT_STR,
     .flag = "store",
     .def_doc = "$EDGEBENCH_STORE, else sqlite:edgebench.db",
     .flags = EB_PF_SINGLE | EB_PF_GLOBAL_ONLY | EB_PF_NOT_IN_KEY,
     .field = EB_FK_STR,
     .offset = OPT(store),
     .metavar = "SPEC",
     .help = "results store: sqlite:FILE, FILE or postgresql://..."},
    {.key = "keep_timeline",
     .scope = EB_PS_RUN,
     .type = EB_PT_BOOL,
     .flag = "keep-timeline",
     .def = "off",
     .field = EB_FK_BOOL,
     .offset = CFG(keep_timeline),
     .help = "the JSON result and the stored record carry the sampled timeline"},
    /* `edgebench run` only */
    {.key = "format",
     .scope = EB_PS_CLI,
     .type = EB_PT_CHOICE,
     .flag = "format",
     .choices = "text|json|jsonl|csv",
     .def = "text",
     .field = EB_FK_STR,
     .offset = OPT(format),
     .help = "output format"},
    {.key = "output",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "output",
     .short_flag = 'o',
     .field = EB_FK_STR,
     .offset = OPT(output),
     .metavar = "FILE",
     .help = "write the result to FILE instead of stdout"},
    {.key = "no_sampler",
     .scope = EB_PS_CLI,
     .type = EB_PT_BOOL,
     .flag = "no-sampler",
     .field = EB_FK_BOOL,
     .offset = CFG(no_sampler),
     .help = "no sampling thread (no energy, no timeline)"},
    {.key = "meter_csv",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "meter-csv",
     .field = EB_FK_STR,
     .offset = CFG(meter_csv),
     .metavar = "FILE",
     .help = "external meter log (timestamp,watts) as the energy source"},
    {.key = "meter_offset",
     .scope = EB_PS_CLI,
     .type = EB_PT_NUM,
     .flag = "meter-offset",
     .min = -1e9,
     .max = 1e9,
     .field = EB_FK_DOUBLE,
     .offset = CFG(meter_offset_s),
     .metavar = "S",
     .help = "seconds added to the meter's timestamps (clock skew)"},
    {.key = "timeline",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "timeline",
     .field = EB_FK_STR,
     .offset = OPT(timeline),
     .metavar = "FILE",
     .help = "write the sampled timeline (CSV) to FILE"},
    {.key = "no_store",
     .scope = EB_PS_CLI,
     .type = EB_PT_BOOL,
     .flag = "no-store",
     .field = EB_FK_BOOL,
     .offset = OPT(no_store),
     .help = "do not store the result"},
    {.key = "ceilings",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "ceilings",
     .def_doc = "the newest probe in the store",
     .field = EB_FK_STR,
     .offset = OPT(ceilings),
     .metavar = "FILE",
     .help = "the device's ceilings from a probe file ('device probe --format json')"},
    {.key = "fallback",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "fallback",
     .def_doc = "edgebench-fallback.jsonl",
     .field = EB_FK_STR,
     .offset = OPT(fallback),
     .metavar = "FILE",
     .help = "where a record goes when the store fails ('edgebench import')"},
    {.key = "thread_pairs",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "thread-pairs",
     .field = EB_FK_STR,
     .offset = OPT(pairs),
     .metavar = "G:P,..",
     .help = "one result per (generation, prefill) thread pair, the model loaded once for all "
             "(a sweep's isolation=model)"},
    {.key = "sysfs_root",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "sysfs-root",
     .alias = "root",
     .def = "/",
     .field = EB_FK_STR,
     .offset = CFG(root),
     .metavar = "DIR",
     .help = "read /proc and /sys under DIR"},
    {.key = "quiet",
     .scope = EB_PS_CLI,
     .type = EB_PT_BOOL,
     .flag = "quiet",
     .short_flag = 'q',
     .field = EB_FK_BOOL,
     .offset = OPT(quiet),
     .help = "no progress lines"},
    {.key = "help",
     .scope = EB_PS_CLI,
     .type = EB_PT_BOOL,
     .flag = "help",
     .short_flag = 'h',
     .field = EB_FK_BOOL,
     .offset = OPT(help),
     .help = "this help"},
};
const size_t eb_param_count = sizeof eb_params / sizeof eb_params[0];
_Static_assert(sizeof eb_params / sizeof eb_params[0] <= EB_PARAM_MAX,
               "EB_PARAM_MAX must hold every parameter");

size_t eb_param_index(const eb_param *p)
{
    return (size_t)(p - eb_params);
}

const eb_param *eb_param_find(const char *key)
{
    for (size_t i = 0; i < eb_param_count; i++)
        if (strcmp(eb_params[i].key, key) == 0) return &eb_params[i];
    return NULL;
}

const eb_param *eb_param_plan_key(const char *key)
{
    const eb_param *p = eb_param_find(key);
    return p && p->scope != EB_PS_CLI ? p : NULL;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    size_t d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = d[i - 1][j - 1] +
                         (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

const eb_param *eb_param_suggest(const char *key)
{
    const eb_param *best = NULL;
    size_t bd = 4; /* further than this is no suggestion */
    for (size_t i = 0; i < eb_param_count; i++) {
        if (eb_params[i].scope == EB_PS_CLI) continue;
        size_t d = edit_distance(key, eb_params[i].key);
        if (d < bd) bd = d, best = &eb_params[i];
    }
    return best;
}

const eb_param *eb_param_by_flag(const char *flag)
{
    size_t n = strcspn(flag, "=");
    for (size_t i = 0; i < eb_param_count; i++) {
        const eb_param *p = &eb_params[i];
        if (!p->flag) continue;
        if (flag[0] == '-' && flag[1] == '-' &&
            ((strlen(p->flag) == n - 2 && strncmp(flag + 2, p->flag, n - 2) == 0) ||
             (p->alias && strlen(p->alias) == n - 2 && strncmp(flag + 2, p->alias, n - 2) == 0)))
            return p;
        if (flag[0] == '-' && p->short_flag && flag[1] == p->short_flag && !flag[2]) return p;
    }
    return NULL;
}

bool eb_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"on", "true", "yes", "1"};
    static const char *const no[] = {"off", "false", "no", "0"};
    if (!s) return false;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0) return *out = true, true;
        if (strcasecmp(s, no[i]) == 0) return *out = false, true;
    }
    return false;
}

static bool choice_ok(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *c = choices; *c;) {
        size_t len = strcspn(c, "|");
        if (len == n && strncasecmp(c, v, n) == 0) return true;
        c += len + (c[len] == '|');
    }
    return false;
}

static bool parse_number(const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d)) return false;
    *out = d;
    return true;
}

/* What a value of the row must be, for messages: "an integer in [1, 1024]". */
static void expectation(const eb_param *p, char *out, size_t cap)
{
    switch (p->type) {
    case EB_PT_INT:
        snprintf(out, cap, "an integer in [%.0f, %.0f]", p->min, p->max);
        break;
    case EB_PT_NUM:
        snprintf(out, cap, "a number in [%g, %g]", p->min, p->max);
        break;
    case EB_PT_BOOL:
        snprintf(out, cap, "on or off (true/false, yes/no, 1/0)");
        break;
    case EB_PT_CHOICE:
        snprintf(out, cap, "one of %s", p->choices);
        break;
    case EB_PT_STR:
    case EB_PT_PATH:
        snprintf(out, cap, "text");
        break;
    }
}

static bool syntax_ok(const eb_param *p, const char *v)
{
    long l;
    double d;
    bool b;
    switch (p->type) {
    case EB_PT_INT:
        return eb_parse_long(v, LONG_MIN, LONG_MAX, &l);
    case EB_PT_NUM:
        return parse_number(v, &d);
    case EB_PT_BOOL:
        return eb_parse_bool(v, &b);
    case EB_PT_CHOICE:
        return choice_ok(p->choices, v);
    case EB_PT_STR:
    case EB_PT_PATH:
        return true;
    }
    return true;
}

static bool in_range(const eb_param *p, const char *v)
{
    long l;
    double d;
    if (p->type == EB_PT_INT) return eb_parse_long(v, (long)p->min, (long)p->max, &l);
    if (p->type == EB_PT_NUM) return parse_number(v, &d) && d >= p->min && d <= p->max;
    return true;
}

static eb_status check_value(const eb_param *p, const char *v, bool range, eb_error *err)
{
    if (syntax_ok(p, v) && (!range || in_range(p, v))) return EB_OK;
    char want[96];
    expectation(p, want, sizeof want);
    return eb_fail(err, EB_E_INVALID_ARG, "%s must be %s, got '%s'", p->key, want, v);
}

eb_status eb_param_check(const eb_param *p, const char *v, eb_error *err)
{
    return check_value(p, v, true, err);
}

static bool is_config_field(const eb_param *p)
{
    return p->field != EB_FK_NONE && p->offset < sizeof(eb_run_config);
}

/* Writes a checked value into its field; base is an eb_run_options, or an
 * eb_run_config for configuration fields (the options' first member). */
static void store_field(const eb_param *p, const char *text, void *base)
{
    char *field = (char *)base + p->offset;
    long l = 0;
    double d = 0;
    bool b = false;
    switch (p->field) {
    case EB_FK_NONE:
        break;
    case EB_FK_INT:
        eb_parse_long(text, INT_MIN, INT_MAX, &l);
        *(int *)field = (int)l;
        break;
    case EB_FK_U64:
        eb_parse_long(text, 0, LONG_MAX, &l);
        *(uint64_t *)field = (uint64_t)l;
        break;
    case EB_FK_DOUBLE:
        parse_number(text, &d);
        *(double *)field = d * (p->scale ? p->scale : 1.0);
        break;
    case EB_FK_STR:
        *(const char **)field = text;
        break;
    case EB_FK_BOOL:
        eb_parse_bool(text, &b);
        *(bool *)field = b;
        break;
    }
}

eb_status eb_param_set(const eb_param *p, const char *text, eb_run_options *o, eb_error *err)
{
    /* Front-end fields are checked whole here; the run's configuration is
     * range-checked by eb_run_config_validate, which names the option. */
    eb_status st = check_value(p, text, !is_config_field(p), err);
    if (st != EB_OK) return st;
    long l;
    if ((p->field == EB_FK_INT && !eb_parse_long(text, INT_MIN, INT_MAX, &l)) ||
        (p->field == EB_FK_U64 && !eb_parse_long(text, 0, LONG_MAX, &l)))
        return check_value(p, text, true, err);
    store_field(p, text, o);
    return EB_OK;
}

void eb_params_config_defaults(eb_run_config *cfg)
{
    for (size_t i = 0; i < eb_param_count; i++)
        if (eb_params[i].def && is_config_field(&eb_params[i]))
            store_field(&eb_params[i], eb_params[i].def, cfg);
}

static void flag_name(const eb_param *p, char *out, size_t cap)
{
    if (!p->flag)
        snprintf(out, cap, "%s", p->key);
    else if (p->short_flag)
        snprintf(out, cap, "-%c/--%s", p->short_flag, p->flag);
    else
        snprintf(out, cap, "--%s", p->flag);
}

eb_status eb_params_validate(const eb_run_config *cfg, eb_error *err)
{
    for (size_t i = 0; i < eb_param_count; i++) {
        const eb_param *p = &eb_params[i];
        if (!is_config_field(p) || (p->type != EB_PT_INT && p->type != EB_PT_NUM)) continue;
        const char *field = (const char *)cfg + p->offset;
        double v = p->field == EB_FK_INT      ? *(const int *)field
                   : p->field == EB_FK_U64    ? (double)*(const uint64_t *)field
                   : p->field == EB_FK_DOUBLE ? *(const double *)field / (p->scale ? p->scale : 1)
                                              : 0;
        if (v >= p->min && v <= p->max) continue;
        char flag[64];
        flag_name(p, flag, sizeof flag);
        const char *label = p->label ? p->label : p->key;
        if (p->type == EB_PT_INT)
            return eb_fail(err, EB_E_INVALID_ARG, "%s (%s) must be between %.0f and %.0f, got %.0f",
                           label, flag, p->min, p->max, v);
        return eb_fail(err, EB_E_INVALID_ARG, "%s must be %g..%g%s%s, got %g (%s)", label, p->min,
                       p->max, p->unit ? " " : "", p->unit ? p->unit : "", v, flag);
    }
    return EB_OK;
}

void eb_run_options_defaults(eb_run_options *o)
{
    memset(o, 0, sizeof *o);
    eb_run_config_defaults(&o->cfg);
    for (size_t i = 0; i < eb_param_count; i++) {
        const eb_param *p = &eb_params[i];
        if (p->def && p->field != EB_FK_NONE && !is_config_field(p)) store_field(p, p->def, o);
    }
}

/* getopt's long options and short-option string, made from the table. */
static eb_status build_getopt(struct option **longs, char **shorts, eb_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < eb_param_count; i++)
        n += eb_params[i].flag ? 1 + (eb_params[i].alias != NULL) : 0;
    *longs = calloc(n + 1, sizeof **longs);
    *shorts = calloc(3 * eb_param_count + 2, 1);
    if (!*longs || !*shorts) return eb_fail(err, EB_E_NO_MEMORY, "run options");
    size_t k = 0, s = 0;
    (*shorts)[s++] = ':';
    for (size_t i = 0; i < eb_param_count; i++) {
        const eb_param *p = &eb_params[i];
        if (!p->flag) continue;
        /* a boolean is a switch: --no-store, --keep-timeline=off */
        int has_arg = p->type == EB_PT_BOOL ? optional_argument : required_argument;
        (*longs)[k++] = (struct option){p->flag, has_arg, NULL, 256 + (int)i};
        if (p->alias) (*longs)[k++] = (struct option){p->alias, has_arg, NULL, 256 + (int)i};
        if (p->short_flag) {
            (*shorts)[s++] = p->short_flag;
            if (p->type != EB_PT_BOOL) (*shorts)[s++] = ':';
        }
    }
    return EB_OK;
}

static const eb_param *by_short(int c)
{
    for (size_t i = 0; i < eb_param_count; i++)
        if (eb_params[i].flag && eb_params[i].short_flag == c) return &eb_params[i];
    return NULL;
}

eb_status eb_run_options_parse(int argc, char **argv, eb_run_options *o, eb_error *err)
{
    struct option *longs = NULL;
    char *shorts = NULL;
    eb_status st = build_getopt(&longs, &shorts, err);
    optind = 1;
    opterr = 0;
    int c;
    while (st == EB_OK && (c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        const eb_param *p = c >= 256 ? &eb_params[c - 256] : by_short(c);
        if (c == ':') {
            st = eb_fail(err, EB_E_INVALID_ARG, "option '%s' needs a value", argv[optind - 1]);
        } else if (c == '?' || !p) {
            st = eb_fail(err, EB_E_INVALID_ARG, "unknown option '%s' (see --help)",
                         argv[optind - 1]);
        } else {
            const char *v = optarg ? optarg : p->type == EB_PT_BOOL ? "on" : "";
            eb_error e2 = {0};
            st = eb_param_set(p, v, o, &e2);
            if (st != EB_OK) {
                char flag[64], want[96];
                flag_name(p, flag, sizeof flag);
                expectation(p, want, sizeof want);
                eb_fail(err, st, "%s expects %s, got '%s'", flag, want, v);
            }
            o->given[eb_param_index(p)] = true;
        }
    }
    if (st == EB_OK && optind < argc)
        st = eb_fail(err, EB_E_INVALID_ARG, "unexpected argument '%s'", argv[optind]);
    free(longs);
    free(shorts);
    return st;
}

static void metavar(const eb_param *p, char *out, size_t cap)
{
    if (p->metavar)
        snprintf(out, cap, "%s", p->metavar);
    else if (p->type == EB_PT_INT)
        snprintf(out, cap, "N");
    else if (p->type == EB_PT_NUM)
        snprintf(out, cap, "X");
    else if (p->type == EB_PT_CHOICE)
        snprintf(out, cap, "%s", p->choices);
    else if (p->type == EB_PT_BOOL)
        snprintf(out, cap, "[=on|off]");
    else
        snprintf(out, cap, "VALUE");
}

static void default_text(const eb_param *p, const char *def, char *out, size_t cap)
{
    const char *d = p->def_doc ? p->def_doc : def;
    out[0] = '\0';
    if (d && !(p->type == EB_PT_BOOL && strcmp(d, "off") == 0))
        snprintf(out, cap, " (default %s%s%s)", d, p->unit && !p->def_doc ? " " : "",
                 p->unit && !p->def_doc ? p->unit : "");
}

static void range_text(const eb_param *p, char *out, size_t cap)
{
    out[0] = '\0';
    if (p->type == EB_PT_INT)
        snprintf(out, cap, " [%.0f..%.0f%s%s]", p->min, p->max, p->unit ? " " : "",
                 p->unit ? p->unit : "");
    else if (p->type == EB_PT_NUM)
        snprintf(out, cap, " [%g..%g%s%s]", p->min, p->max, p->unit ? " " : "",
                 p->unit ? p->unit : "");
}

void eb_params_run_help(FILE *f)
{
    for (size_t i = 0; i < eb_param_count; i++) {
        const eb_param *p = &eb_params[i];
        if (!p->flag) continue;
        char mv[48], lhs[96], def[128], range[64];
        metavar(p, mv, sizeof mv);
        snprintf(lhs, sizeof lhs, "%s%c%s--%s%s%s", p->short_flag ? "-" : " ",
                 p->short_flag ? p->short_flag : ' ', p->short_flag ? ", " : "  ", p->flag,
                 p->type == EB_PT_BOOL ? "" : " ", p->type == EB_PT_BOOL ? "" : mv);
        default_text(p, p->def, def, sizeof def);
        range_text(p, range, sizeof range);
        fprintf(f, "  %-28s %s%s%s\n", lhs, p->help, range, def);
        if (p->alias) fprintf(f, "      --%-24s the same as --%s\n", p->alias, p->flag);
    }
}

void eb_params_plan_help(FILE *f)
{
    static const char *const scope[] = {"run", "knob", "sweep", ""};
    for (size_t i = 0; i < eb_param_count; i++) {
        const eb_param *p = &eb_params[i];
        if (p->scope == EB_PS_CLI) continue;
        char flag[48] = "", def[128], range[64];
        if (p->flag && p->scope == EB_PS_RUN)
            snprintf(flag, sizeof flag, "(run --%s)", p->flag);
        else
            snprintf(flag, sizeof flag, "(%s%s)", scope[p->scope],
                     p->flags & EB_PF_GLOBAL_ONLY ? ", [global] only" : "");
        default_text(p, p->sweep_def ? p->sweep_def : p->def, def, sizeof def);
        range_text(p, range, sizeof range);
        fprintf(f, "  %-16s %-24s %s%s%s\n", p->key, flag, p->help, range, def);
    }
}
