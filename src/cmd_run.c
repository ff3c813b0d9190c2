/* edgebench run */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"
#include "cli_ceilings.h"
#include "cli_store.h"
#include "edgebench/bench.h"
#include "edgebench/gguf_check.h"
#include "edgebench/memory.h"
#include "edgebench/output.h"
#include "edgebench/synth.h"
#include "edgebench/util.h"

#define DEFAULT_PRESET "qwen2-0.5b"
#define DEFAULT_TYPE EB_SYNTH_Q4_0

static void run_usage(FILE *f)
{
    fprintf(
        f,
        "usage: edgebench run [options]\n"
        "Runs the study's protocol: load, prefill and generation, repeated, with a warm-up\n"
        "reported apart from the statistics. Without -m it runs the synthetic %s %s preset.\n\n"
        "  -m, --model FILE.gguf     model to benchmark\n"
        "      --preset NAME         a synthetic preset instead of -m (see 'edgebench model "
        "list')\n"
        "      --type TYPE           preset weight type: F16, Q8_0, Q4_0, Q4_K_M (default Q4_0)\n"
        "      --quant TYPE          run the model quantized to TYPE by llama.cpp (cached)\n"
        "  -p, --prompt TEXT         prompt text (default: a short story to summarise)\n"
        "  -f, --file FILE           read the prompt from FILE\n"
        "      --n-prompt N          a prompt of N random token ids (as llama-bench)\n"
        "  -n, --n-gen N             tokens to generate, end-of-sequence ignored (default 100)\n"
        "  -c, --ctx N               context size (default 512)\n"
        "  -t, --threads N           generation threads (default: all online CPUs)\n"
        "  -T, --threads-prefill N   prefill threads (default: all online CPUs)\n"
        "  -b, --batch N             logical batch for prefill (default 2048)\n"
        "      --ubatch N            physical batch (default 512)\n"
        "      --ngl N               layers offloaded to the GPU (default 0, -1 = all)\n"
        "      --reps N              measured repetitions (default 4)\n"
        "      --warmup N            warm-up repetitions before them (default 1)\n"
        "      --seed N              seed of random prompt ids (default 42)\n"
        "      --format FMT          text, json, jsonl or csv (default text)\n"
        "  -o, --output FILE         write the result to FILE instead of stdout\n"
        "      --sample-ms MS        sampler period, 1..1000 ms (default 10)\n"
        "      --no-sampler          no sampling thread (no energy, no timeline)\n"
        "      --idle-s S            idle power measured for S seconds first (default 2)\n"
        "      --tdp W               no power sensor: estimate CPU load x W (labelled)\n"
        "      --meter-csv FILE      external meter log (timestamp,watts) as the energy source\n"
        "      --meter-offset S      seconds added to the meter's timestamps (clock skew)\n"
        "      --timeline FILE       write the sampled timeline (CSV) to FILE\n"
        "      --keep-timeline       the JSON result and the stored record carry the timeline\n"
        "      --store SPEC          results store: sqlite:FILE, FILE or postgresql://...\n"
        "                            (default $EDGEBENCH_STORE, else sqlite:edgebench.db)\n"
        "      --no-store            do not store the result\n"
        "      --ceilings FILE       the device's ceilings from a probe file ('device probe\n"
        "                            --format json'); default: the newest probe in the store\n"
        "      --fallback FILE       where a record goes when the store fails\n"
        "                            (default edgebench-fallback.jsonl; 'edgebench import')\n"
        "      --thread-pairs G:P,.. one result per (generation, prefill) thread pair, the\n"
        "                            model loaded once for all (a sweep's isolation=model)\n"
        "      --pause S             pause between runs (default 0)\n"
        "      --cool-below C        instead: wait until the hottest zone is below C\n"
        "      --cool-max-wait S     longest such wait (default 300)\n"
        "      --cpus LIST           run on these CPUs only (e.g. 0-3 or 4,5)\n"
        "      --memory-limit MIB    address-space limit of this process\n"
        "      --sysfs-root DIR      read /proc and /sys under DIR (default /; also --root)\n"
        "  -q, --quiet               no progress lines\n"
        "  -h, --help                this help\n"
        "A list or range as a value (-t 1,2,4  -n 32-128:32) runs a sweep of every\n"
        "combination, one process each, results to --results FILE (JSONL); see\n"
        "'edgebench sweep --help'.\n",
        DEFAULT_PRESET, eb_synth_type_name(DEFAULT_TYPE));
}

enum {
    OPT_PRESET = 256,
    OPT_TYPE,
    OPT_NPROMPT,
    OPT_UBATCH,
    OPT_NGL,
    OPT_REPS,
    OPT_WARMUP,
    OPT_SEED,
    OPT_FORMAT,
    OPT_ROOT,
    OPT_SAMPLE_MS,
    OPT_NO_SAMPLER,
    OPT_IDLE_S,
    OPT_TDP,
    OPT_METER,
    OPT_METER_OFFSET,
    OPT_TIMELINE,
    OPT_PAUSE,
    OPT_COOL_BELOW,
    OPT_COOL_MAX,
    OPT_CPUS,
    OPT_MEMLIMIT,
    OPT_KEEP_TIMELINE,
    OPT_STORE,
    OPT_NO_STORE,
    OPT_CEILINGS,
    OPT_FALLBACK,
    OPT_PAIRS,
    OPT_QUANT
};

static const struct option long_opts[] = {
    {"model", required_argument, NULL, 'm'},
    {"preset", required_argument, NULL, OPT_PRESET},
    {"type", required_argument, NULL, OPT_TYPE},
    {"prompt", required_argument, NULL, 'p'},
    {"file", required_argument, NULL, 'f'},
    {"n-prompt", required_argument, NULL, OPT_NPROMPT},
    {"n-gen", required_argument, NULL, 'n'},
    {"ctx", required_argument, NULL, 'c'},
    {"threads", required_argument, NULL, 't'},
    {"threads-prefill", required_argument, NULL, 'T'},
    {"batch", required_argument, NULL, 'b'},
    {"ubatch", required_argument, NULL, OPT_UBATCH},
    {"ngl", required_argument, NULL, OPT_NGL},
    {"reps", required_argument, NULL, OPT_REPS},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"seed", required_argument, NULL, OPT_SEED},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"output", required_argument, NULL, 'o'},
    {"root", required_argument, NULL, OPT_ROOT},
    {"sysfs-root", required_argument, NULL, OPT_ROOT},
    {"sample-ms", required_argument, NULL, OPT_SAMPLE_MS},
    {"no-sampler", no_argument, NULL, OPT_NO_SAMPLER},
    {"idle-s", required_argument, NULL, OPT_IDLE_S},
    {"tdp", required_argument, NULL, OPT_TDP},
    {"meter-csv", required_argument, NULL, OPT_METER},
    {"meter-offset", required_argument, NULL, OPT_METER_OFFSET},
    {"timeline", required_argument, NULL, OPT_TIMELINE},
    {"pause", required_argument, NULL, OPT_PAUSE},
    {"cool-below", required_argument, NULL, OPT_COOL_BELOW},
    {"cool-max-wait", required_argument, NULL, OPT_COOL_MAX},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"memory-limit", required_argument, NULL, OPT_MEMLIMIT},
    {"keep-timeline", no_argument, NULL, OPT_KEEP_TIMELINE},
    {"store", required_argument, NULL, OPT_STORE},
    {"no-store", no_argument, NULL, OPT_NO_STORE},
    {"fallback", required_argument, NULL, OPT_FALLBACK},
    {"ceilings", required_argument, NULL, OPT_CEILINGS},
    {"thread-pairs", required_argument, NULL, OPT_PAIRS},
    {"quant", required_argument, NULL, OPT_QUANT},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct run_cli {
    eb_run_config cfg;
    const char *preset;
    const char *type;
    const char *quant; /* --quant: the model quantized to this type first */
    const char *output;
    const char *timeline;
    const char *store;
    const char *fallback;
    const char *ceilings; /* --ceilings FILE */
    const char *pairs;    /* --thread-pairs */
    bool no_store;
    long memory_limit_mib;
    eb_format format;
    bool quiet;
    char *prompt_buf;
} run_cli;

static bool set_int(const char *opt, long min, long max, int *field)
{
    long v;
    if (!cli_int(opt, optarg, min, max, &v)) return false;
    *field = (int)v;
    return true;
}

/* Thread and token counts are checked by the library's validation with
 * their names; here only the syntax is. */
static int parse_args(int argc, char **argv, run_cli *rc)
{
    eb_run_config *c = &rc->cfg;
    const long BIG = 1L << 30;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":m:p:f:n:c:t:T:b:o:qh", long_opts, NULL)) != -1) {
        bool ok = true;
        switch (opt) {
        case 'm':
            c->model_path = optarg;
            break;
        case OPT_PRESET:
            rc->preset = optarg;
            break;
        case OPT_TYPE:
            rc->type = optarg;
            break;
        case OPT_QUANT:
            rc->quant = optarg;
            break;
        case 'p':
            c->prompt_text = optarg;
            break;
        case 'f':
            c->prompt_file = optarg;
            break;
        case OPT_NPROMPT:
            ok = set_int("--n-prompt", -BIG, BIG, &c->n_prompt_random);
            break;
        case 'n':
            ok = set_int("-n/--n-gen", -BIG, BIG, &c->n_gen);
            break;
        case 'c':
            ok = set_int("-c/--ctx", -BIG, BIG, &c->n_ctx);
            break;
        case 't':
            ok = set_int("-t/--threads", -BIG, BIG, &c->threads_gen);
            break;
        case 'T':
            ok = set_int("-T/--threads-prefill", -BIG, BIG, &c->threads_prefill);
            break;
        case 'b':
            ok = set_int("-b/--batch", -BIG, BIG, &c->n_batch);
            break;
        case OPT_UBATCH:
            ok = set_int("--ubatch", -BIG, BIG, &c->n_ubatch);
            break;
        case OPT_NGL:
            ok = set_int("--ngl", -BIG, BIG, &c->n_gpu_layers);
            break;
        case OPT_REPS:
            ok = set_int("--reps", -BIG, BIG, &c->reps);
            break;
        case OPT_WARMUP:
            ok = set_int("--warmup", -BIG, BIG, &c->warmup);
            break;
        case OPT_SEED: {
            long v;
            ok = cli_int("--seed", optarg, 0, BIG, &v);
            c->seed = (uint64_t)v;
            break;
        }
        case OPT_FORMAT:
            ok = eb_format_parse(optarg, &rc->format);
            if (!ok)
                fprintf(stderr,
                        "edgebench run: invalid_argument: --format must be text, json, jsonl or "
                        "csv, got '%s'\n",
                        optarg);
            break;
        case 'o':
            rc->output = optarg;
            break;
        case OPT_ROOT:
            c->root = optarg;
            break;
        case OPT_SAMPLE_MS: {
            double ms;
            ok = cli_double("--sample-ms", optarg, &ms);
            c->sample_interval_s = ms / 1000.0;
            break;
        }
        case OPT_NO_SAMPLER:
            c->no_sampler = true;
            break;
        case OPT_IDLE_S:
            ok = cli_double("--idle-s", optarg, &c->idle_s);
            break;
        case OPT_TDP:
            ok = cli_double("--tdp", optarg, &c->tdp_w);
            break;
        case OPT_METER:
            c->meter_csv = optarg;
            break;
        case OPT_METER_OFFSET:
            ok = cli_double("--meter-offset", optarg, &c->meter_offset_s);
            break;
        case OPT_TIMELINE:
            rc->timeline = optarg;
            break;
        case OPT_PAUSE:
            ok = cli_double("--pause", optarg, &c->pause_s);
            break;
        case OPT_COOL_BELOW:
            ok = cli_double("--cool-below", optarg, &c->cool_below_c);
            break;
        case OPT_COOL_MAX:
            ok = cli_double("--cool-max-wait", optarg, &c->cool_max_wait_s);
            break;
        case OPT_CPUS:
            c->cpu_affinity = optarg;
            break;
        case OPT_MEMLIMIT: {
            long v;
            ok = cli_int("--memory-limit", optarg, 16, 1L << 30, &v);
            rc->memory_limit_mib = v;
            break;
        }
        case OPT_KEEP_TIMELINE:
            c->keep_timeline = true;
            break;
        case OPT_STORE:
            rc->store = optarg;
            break;
        case OPT_CEILINGS:
            rc->ceilings = optarg;
            break;
        case OPT_NO_STORE:
            rc->no_store = true;
            break;
        case OPT_FALLBACK:
            rc->fallback = optarg;
            break;
        case OPT_PAIRS:
            rc->pairs = optarg;
            break;
        case 'q':
            rc->quiet = true;
            break;
        case 'h':
            run_usage(stdout);
            return -1;
        case ':':
            fprintf(stderr, "edgebench run: invalid_argument: option '%s' needs a value\n",
                    argv[optind - 1]);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "edgebench run: invalid_argument: unknown option '%s' (see --help)\n",
                    argv[optind - 1]);
            return EXIT_USAGE;
        }
        if (!ok) return EXIT_USAGE;
    }
    if (optind < argc) {
        fprintf(stderr, "edgebench run: invalid_argument: unexpected argument '%s'\n",
                argv[optind]);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static eb_status read_prompt_file(run_cli *rc, eb_error *err)
{
    FILE *f = fopen(rc->cfg.prompt_file, "rb");
    if (!f)
        return eb_fail(err, EB_E_IO, "prompt file %s: %s", rc->cfg.prompt_file, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    rc->prompt_buf = malloc(cap);
    while (rc->prompt_buf) {
        n += fread(rc->prompt_buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        char *grown = realloc(rc->prompt_buf, cap *= 2);
        if (!grown) {
            free(rc->prompt_buf);
            rc->prompt_buf = NULL;
        }
        rc->prompt_buf = grown;
    }
    int bad = ferror(f);
    fclose(f);
    if (!rc->prompt_buf) return eb_fail(err, EB_E_NO_MEMORY, "prompt file %s", rc->cfg.prompt_file);
    if (bad) return eb_fail(err, EB_E_IO, "prompt file %s: read error", rc->cfg.prompt_file);
    rc->prompt_buf[n] = '\0';
    if (n == 0)
        return eb_fail(err, EB_E_INVALID_ARG, "prompt file %s is empty", rc->cfg.prompt_file);
    rc->cfg.prompt_text = rc->prompt_buf;
    return EB_OK;
}

static void progress(void *user, const char *what, int rep, int total)
{
    if (*(bool *)user) return;
    fprintf(stderr, "edgebench: %s %d/%d\n", what, rep, total);
}

/* A model larger than the memory available will page from storage: say so
 * before loading rather than after minutes of swapping. */
static void warn_memory(const char *path, const char *root)
{
    eb_gguf_summary gs;
    uint64_t total = 0, avail = 0;
    if (eb_gguf_check(path, &gs, NULL) != EB_OK ||
        eb_meminfo_read(root, &total, &avail, NULL) != EB_OK)
        return;
    if (gs.file_size / 1024 > avail)
        fprintf(stderr,
                "edgebench run: warning: the model (%.1f MiB) is larger than the memory available "
                "(%.1f MiB); expect paging and slow loads\n",
                (double)gs.file_size / 1048576.0, (double)avail / 1024.0);
}

/* The run as a trial record in the results store. */
static cli_stored store_result(const run_cli *rc, const eb_run_result *res, const eb_error *failure)
{
    cJSON *result = eb_result_to_json(res, rc->cfg.keep_timeline);
    cJSON *rec = cJSON_CreateObject();
    if (!result || !rec) {
        cJSON_Delete(result);
        cJSON_Delete(rec);
        fprintf(stderr, "edgebench run: no_memory: the result was not stored\n");
        return CLI_LOST;
    }
    /* a run's key: what it ran, so results of one configuration group */
    char *cfg = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(result, "config"));
    uint64_t h = eb_fnv1a(EB_FNV1A_OFFSET, rc->cfg.model_path);
    h = eb_fnv1a(h, cfg ? cfg : "");
    free(cfg);
    char key[24];
    snprintf(key, sizeof key, "%016llx", (unsigned long long)h);
    cJSON_AddStringToObject(rec, "trial_key", key);
    cJSON_AddStringToObject(rec, "source", "run");
    cJSON_AddStringToObject(rec, "status", failure ? "failed" : "ok");
    if (failure) cJSON_AddStringToObject(rec, "reason", failure->msg);
    cJSON_AddStringToObject(rec, "started_at", res->started_at);
    cJSON_AddItemToObject(rec, "device", eb_device_info_to_json(&res->device));
    cJSON_AddItemToObject(rec, "result", result);
    cli_store cs;
    cli_store_begin(&cs, rc->store, rc->fallback ? rc->fallback : "edgebench-fallback.jsonl",
                    "run");
    cs.verbose = !rc->quiet;
    cli_stored how = cli_store_put(&cs, rec, rc->quiet);
    cli_store_end(&cs);
    cJSON_Delete(rec);
    return how;
}

/* The run against the device's probed ceilings. Missing ceilings are said
 * in the result; they never fail the run. */
static void attach_roofline(const run_cli *rc, eb_run_result *res)
{
    eb_probe_point *pts = NULL;
    size_t n = 0;
    eb_error err = {0};
    eb_status st = EB_OK;
    if (rc->ceilings) {
        st = cli_ceilings_file(rc->ceilings, &pts, &n, &err);
    } else if (rc->no_store) {
        snprintf(res->roofline_note, sizeof res->roofline_note,
                 "--no-store: the device's ceilings are read from the store (or give --ceilings "
                 "FILE)");
        return;
    } else {
        eb_store *s = NULL;
        const char *spec = rc->store && rc->store[0] ? rc->store : eb_store_default_spec();
        st = eb_store_open(spec, &s, &err);
        if (st == EB_OK) st = cli_ceilings_store(s, &res->device, &pts, &n, &err);
        eb_store_close(s);
    }
    if (st != EB_OK) {
        snprintf(res->roofline_note, sizeof res->roofline_note, "ceilings not read: %s", err.msg);
        fprintf(stderr, "edgebench run: warning: %s\n", res->roofline_note);
        free(pts);
        return;
    }
    eb_run_roofline(res, pts, n);
    free(pts);
}

/* One eb_run: its result written, its timeline, and its record stored.
 * Whatever was measured is written, even when a later repetition failed. */
static int run_and_report(run_cli *rc, FILE *out)
{
    eb_run_result res;
    eb_error err = {0};
    eb_status st = eb_run(&eb_engine_llama, &rc->cfg, &res, progress, &rc->quiet, &err);
    int code = EXIT_OK;
    if (res.n_reps > 0) attach_roofline(rc, &res);
    if (res.n_reps > 0) {
        eb_error werr = {0};
        if (eb_write_result(out, rc->format, &res, &werr) != EB_OK) code = cli_report("run", &werr);
    }
    if (rc->timeline && res.n_reps > 0) {
        eb_error terr = {0};
        FILE *tf = fopen(rc->timeline, "w");
        eb_status ts =
            tf ? eb_write_timeline(tf, &res, &terr)
               : eb_fail(&terr, EB_E_IO, "timeline %s: %s", rc->timeline, strerror(errno));
        if (tf && fclose(tf) != 0 && ts == EB_OK)
            ts = eb_fail(&terr, EB_E_IO, "timeline %s: %s", rc->timeline, strerror(errno));
        if (ts != EB_OK) code = cli_report("run", &terr);
    }
    if (res.n_reps > 0 && !rc->no_store &&
        store_result(rc, &res, st == EB_OK ? NULL : &err) != CLI_STORED && code == EXIT_OK)
        code = EXIT_FAILURE_RUN;
    if (st != EB_OK) {
        if (res.n_reps > 0)
            fprintf(stderr,
                    "edgebench run: %d repetition(s) finished before the failure are above\n",
                    res.n_reps);
        code = cli_report("run", &err);
    }
    eb_run_result_free(&res);
    return code;
}

int cmd_run(int argc, char **argv)
{
    bool swept;
    int sc = cli_run_sweep(argc, argv, &swept);
    if (swept) return sc;
    run_cli rc = {.format = EB_FMT_TEXT};
    eb_run_config_defaults(&rc.cfg);
    int r = parse_args(argc, argv, &rc);
    if (r != EXIT_OK) return r < 0 ? EXIT_OK : r;

    eb_error err = {0};
    char model_path[1024];
    eb_status st = EB_OK;
    if (rc.cfg.prompt_file) st = read_prompt_file(&rc, &err);
    if (st == EB_OK && rc.cfg.model_path && rc.preset)
        st = eb_fail(&err, EB_E_INVALID_ARG, "give either -m FILE or --preset NAME, not both");
    if (st == EB_OK && !rc.cfg.model_path) {
        const eb_preset *p = eb_preset_find(rc.preset ? rc.preset : DEFAULT_PRESET);
        eb_synth_type t = DEFAULT_TYPE;
        if (!p)
            st = eb_fail(&err, EB_E_INVALID_ARG, "unknown preset '%s' (see 'edgebench model list')",
                         rc.preset);
        else if (rc.type && !eb_synth_type_parse(rc.type, &t))
            st = eb_fail(&err, EB_E_INVALID_ARG,
                         "--type must be F16, Q8_0, Q4_0 or Q4_K_M, got '%s'", rc.type);
        /* Check the rest of the options before spending time on the model. */
        rc.cfg.model_path = p ? p->name : "";
        if (st == EB_OK) st = eb_run_config_validate(&rc.cfg, &err);
        if (st == EB_OK) st = cli_synth_cached(p, t, model_path, sizeof model_path, rc.quiet, &err);
        if (st == EB_OK) rc.cfg.model_path = model_path;
    } else if (st == EB_OK && rc.type) {
        st = eb_fail(&err, EB_E_INVALID_ARG, "--type applies to --preset only");
    }
    char quantized[1024];
    if (st == EB_OK && rc.quant) {
        st = cli_quantized(rc.cfg.model_path, rc.quant, rc.cfg.threads_prefill, quantized,
                           sizeof quantized, rc.quiet, &err);
        if (st == EB_OK) rc.cfg.model_path = quantized;
    }
    if (st != EB_OK) {
        free(rc.prompt_buf);
        return cli_report("run", &err);
    }

    FILE *out = stdout;
    if (rc.output && !(out = fopen(rc.output, "w"))) {
        eb_fail(&err, EB_E_IO, "output %s: %s", rc.output, strerror(errno));
        free(rc.prompt_buf);
        return cli_report("run", &err);
    }
    warn_memory(rc.cfg.model_path, rc.cfg.root);
    if (rc.cfg.cpu_affinity && !cli_set_affinity(rc.cfg.cpu_affinity, &err)) {
        if (out != stdout) fclose(out);
        free(rc.prompt_buf);
        return cli_report("run", &err);
    }
    if (rc.memory_limit_mib > 0) {
        struct rlimit rl = {(rlim_t)rc.memory_limit_mib << 20, (rlim_t)rc.memory_limit_mib << 20};
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            fprintf(stderr, "edgebench run: warning: --memory-limit: %s\n", strerror(errno));
    }

    int code = EXIT_OK;
    if (!rc.pairs) {
        code = run_and_report(&rc, out);
    } else {
        /* isolation=model: one configuration after another, one model load */
        eb_model_keeper keeper = {0};
        rc.cfg.keeper = &keeper;
        for (const char *p = rc.pairs; p && *p && code == EXIT_OK;) {
            int g = 0, pf = 0, used = 0;
            if (sscanf(p, "%d:%d%n", &g, &pf, &used) != 2 || g < 1 || pf < 1) {
                fprintf(stderr,
                        "edgebench run: invalid_argument: --thread-pairs wants GEN:PREFILL,... "
                        "(e.g. 1:1,2:2), got '%s'\n",
                        rc.pairs);
                code = EXIT_USAGE;
                break;
            }
            if (p != rc.pairs) eb_cool_down(&rc.cfg);
            rc.cfg.threads_gen = g;
            rc.cfg.threads_prefill = pf;
            code = run_and_report(&rc, out);
            fflush(out);
            p += used;
            if (*p == ',') p++;
        }
        eb_model_keeper_release(&keeper);
    }
    if (out != stdout && fclose(out) != 0) {
        eb_fail(&err, EB_E_IO, "output %s: %s", rc.output, strerror(errno));
        code = cli_report("run", &err);
    }
    free(rc.prompt_buf);
    return code;
}
