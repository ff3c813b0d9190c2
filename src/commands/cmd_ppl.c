/* edgebench ppl: perplexity of a model on a corpus, and its divergence from
 * a base model, measured and stored like a run. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cli.h"
#include "measure_child.h"
#include "cli_store.h"
#include "edgebench/output.h"
#include "edgebench/quality.h"
#include "edgebench/util.h"

static void ppl_usage(FILE *f)
{
    fprintf(
        f,
        "usage: edgebench ppl (-m FILE.gguf | --preset NAME [--type T]) --corpus FILE [options]\n"
        "Perplexity by llama-perplexity's method: the corpus tokenized once, windows of the\n"
        "context size evaluated from an empty cache with BOS first, the second half of each\n"
        "window scored. Time, energy and memory are measured as in 'run'.\n\n"
        "  -m, --model FILE.gguf     model to evaluate\n"
        "      --preset NAME, --type T   a synthetic preset instead (its perplexity means\n"
        "                            nothing: random weights)\n"
        "      --quant TYPE          evaluate the model quantized to TYPE (cached)\n"
        "      --corpus FILE         UTF-8 text, e.g. WikiText-2's wiki.test.raw\n"
        "      --corpus-name NAME    name in the record (default: the file's name)\n"
        "  -c, --ctx N               window (context) size (default 512)\n"
        "      --chunks N            evaluate the first N windows (default: all)\n"
        "  -b, --batch N             logical batch; N / ctx windows run side by side (2048)\n"
        "      --ubatch N            physical batch (default 512)\n"
        "  -t, --threads N           threads (default: all CPUs)\n"
        "      --ngl N               layers offloaded to the GPU\n"
        "      --save-base FILE      save this model's log-probabilities as a KL base\n"
        "      --kl-base FILE        KL divergence and top-1 agreement against that base\n"
        "      --format text|json    output format (default text)\n"
        "  -o, --output FILE         write the result there\n"
        "      --store SPEC, --no-store, --fallback FILE   as for 'run'\n"
        "      --sysfs-root DIR, --sample-ms MS, --idle-s S, --tdp W, --meter-csv FILE\n"
        "                            measurement, as for 'run'\n"
        "  -q, --quiet               no progress\n");
}

enum {
    OPT_PRESET = 256,
    OPT_TYPE,
    OPT_QUANT,
    OPT_CORPUS,
    OPT_CORPUS_NAME,
    OPT_CHUNKS,
    OPT_UBATCH,
    OPT_NGL,
    OPT_SAVE_BASE,
    OPT_KL_BASE,
    OPT_FORMAT,
    OPT_STORE,
    OPT_NO_STORE,
    OPT_FALLBACK,
    OPT_ROOT,
    OPT_SAMPLE_MS,
    OPT_IDLE_S,
    OPT_TDP,
    OPT_METER
};

static const struct option long_opts[] = {
    {"model", required_argument, NULL, 'm'},
    {"preset", required_argument, NULL, OPT_PRESET},
    {"type", required_argument, NULL, OPT_TYPE},
    {"quant", required_argument, NULL, OPT_QUANT},
    {"corpus", required_argument, NULL, OPT_CORPUS},
    {"corpus-name", required_argument, NULL, OPT_CORPUS_NAME},
    {"ctx", required_argument, NULL, 'c'},
    {"chunks", required_argument, NULL, OPT_CHUNKS},
    {"batch", required_argument, NULL, 'b'},
    {"ubatch", required_argument, NULL, OPT_UBATCH},
    {"threads", required_argument, NULL, 't'},
    {"ngl", required_argument, NULL, OPT_NGL},
    {"save-base", required_argument, NULL, OPT_SAVE_BASE},
    {"kl-base", required_argument, NULL, OPT_KL_BASE},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"output", required_argument, NULL, 'o'},
    {"store", required_argument, NULL, OPT_STORE},
    {"no-store", no_argument, NULL, OPT_NO_STORE},
    {"fallback", required_argument, NULL, OPT_FALLBACK},
    {"sysfs-root", required_argument, NULL, OPT_ROOT},
    {"sample-ms", required_argument, NULL, OPT_SAMPLE_MS},
    {"idle-s", required_argument, NULL, OPT_IDLE_S},
    {"tdp", required_argument, NULL, OPT_TDP},
    {"meter-csv", required_argument, NULL, OPT_METER},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct ppl_cli {
    eb_ppl_config cfg;
    const char *preset, *type, *quant, *output, *store, *fallback;
    bool no_store, quiet, json;
} ppl_cli;

static bool set_int(const char *opt, long min, long max, int *field)
{
    long v;
    if (!cli_int(opt, optarg, min, max, &v)) return false;
    *field = (int)v;
    return true;
}

static int parse_args(int argc, char **argv, ppl_cli *pc)
{
    eb_run_config *r = &pc->cfg.run;
    const long BIG = 1L << 30;
    double d;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":m:c:b:t:o:qh", long_opts, NULL)) != -1) {
        bool ok = true;
        switch (opt) {
        case 'm':
            r->model_path = optarg;
            break;
        case OPT_PRESET:
            pc->preset = optarg;
            break;
        case OPT_TYPE:
            pc->type = optarg;
            break;
        case OPT_QUANT:
            pc->quant = optarg;
            break;
        case OPT_CORPUS:
            pc->cfg.corpus_path = optarg;
            break;
        case OPT_CORPUS_NAME:
            pc->cfg.corpus_name = optarg;
            break;
        case 'c':
            ok = set_int("-c/--ctx", 8, 1 << 24, &r->n_ctx);
            break;
        case OPT_CHUNKS:
            ok = set_int("--chunks", 1, BIG, &pc->cfg.n_chunks);
            break;
        case 'b':
            ok = set_int("-b/--batch", 1, 1 << 24, &r->n_batch);
            break;
        case OPT_UBATCH:
            ok = set_int("--ubatch", 1, 1 << 24, &r->n_ubatch);
            break;
        case 't':
            ok = set_int("-t/--threads", 1, 1024, &r->threads_prefill);
            r->threads_gen = r->threads_prefill;
            break;
        case OPT_NGL:
            ok = set_int("--ngl", -1, 100000, &r->n_gpu_layers);
            break;
        case OPT_SAVE_BASE:
            pc->cfg.save_base = optarg;
            break;
        case OPT_KL_BASE:
            pc->cfg.kl_base = optarg;
            break;
        case OPT_FORMAT:
            ok = strcmp(optarg, "text") == 0 || strcmp(optarg, "json") == 0;
            pc->json = strcmp(optarg, "json") == 0;
            if (!ok)
                fprintf(stderr,
                        "edgebench ppl: invalid_arg: --format must be text or json, got "
                        "'%s'\n",
                        optarg);
            break;
        case 'o':
            pc->output = optarg;
            break;
        case OPT_STORE:
            pc->store = optarg;
            break;
        case OPT_NO_STORE:
            pc->no_store = true;
            break;
        case OPT_FALLBACK:
            pc->fallback = optarg;
            break;
        case OPT_ROOT:
            r->root = optarg;
            break;
        case OPT_SAMPLE_MS:
            ok = cli_double("--sample-ms", optarg, &d) && d >= 1 && d <= 1000;
            if (ok)
                r->sample_interval_s = d / 1000;
            else
                fprintf(stderr, "edgebench ppl: invalid_arg: --sample-ms must be 1..1000\n");
            break;
        case OPT_IDLE_S:
            ok = cli_double("--idle-s", optarg, &r->idle_s) && r->idle_s >= 0;
            break;
        case OPT_TDP:
            ok = cli_double("--tdp", optarg, &r->tdp_w) && r->tdp_w > 0;
            break;
        case OPT_METER:
            r->meter_csv = optarg;
            break;
        case 'q':
            pc->quiet = true;
            break;
        case 'h':
            ppl_usage(stdout);
            return -1;
        case ':':
            fprintf(stderr, "edgebench ppl: invalid_arg: option %s needs a value\n",
                    argv[optind - 1]);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "edgebench ppl: invalid_arg: unknown option '%s'\n", argv[optind - 1]);
            return EXIT_USAGE;
        }
        if (!ok) return EXIT_USAGE;
    }
    if (optind < argc) {
        fprintf(stderr, "edgebench ppl: invalid_arg: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static void progress(void *user, int chunk, int n_chunks, double ppl)
{
    if (*(bool *)user) return;
    fprintf(stderr, "[%d]%.4f,", chunk, ppl);
    if (chunk == n_chunks) fputc('\n', stderr);
    fflush(stderr);
}

static void write_text(FILE *f, const eb_ppl_result *r)
{
    const eb_model_info *m = &r->run.model;
    const eb_rep *w = &r->run.reps[0];
    fprintf(f, "perplexity of %s (%s, %s)\n", m->path, m->name[0] ? m->name : m->arch, m->quant);
    fprintf(f,
            "corpus %s (SHA-256 %.16s..., %d tokens); context %d, %d windows (%d side by side, "
            "batch %d), %d tokens scored\n",
            r->corpus_name, r->corpus_sha256, r->n_corpus_tokens, r->n_ctx, r->n_chunks, r->n_seq,
            r->n_batch, r->n_scored);
    if (m->synthetic)
        fprintf(f, "note: synthetic (random-weight) model: this perplexity says nothing about "
                   "language quality\n");
    fprintf(f, "PPL = %.4f +/- %.5f\n", r->ppl, r->ppl_se);
    if (r->has_kl) {
        fprintf(f, "versus base %s (%s): base PPL %.4f, ln(PPL/PPL base) %.5f +/- %.5f\n",
                r->base_model, r->base_quant, r->base_ppl, r->ln_ppl_ratio, r->ln_ppl_ratio_se);
        fprintf(f,
                "  KL divergence %.6f +/- %.6f nats/token (max %.6f); same top token %.3f "
                "+/- %.3f %%\n",
                r->kl_mean, r->kl_se, r->kl_max, 100 * r->top1, 100 * r->top1_se);
    }
    fprintf(f, "time: load %.3f s, tokenizing %.3f s, evaluation %.3f s (%.2f tokens/s)\n",
            w->load_s, r->tokenize_s, w->prefill_s, w->prefill_tps);
    double e = w->pm[EB_SPAN_PREFILL][EB_PM_ENERGY_J];
    if (isnan(e))
        fprintf(f, "energy: not available: %s\n", r->run.pm_reason[EB_PM_ENERGY_J]);
    else
        fprintf(f, "energy (%s): evaluation %.3f J, %.6f J/token, mean %.3f W\n",
                r->run.energy_source, e, w->pm[EB_SPAN_PREFILL][EB_PM_J_PER_TOKEN],
                w->pm[EB_SPAN_PREFILL][EB_PM_MEAN_W]);
    double peak = w->pm[EB_SPAN_RUN][EB_PM_PEAK_RSS];
    if (isnan(peak))
        fprintf(f, "peak RSS: not available: %s\n", r->run.pm_reason[EB_PM_PEAK_RSS]);
    else
        fprintf(f, "peak RSS: %.1f MiB\n", peak);
}

static int store_result(const ppl_cli *pc, const eb_ppl_result *res)
{
    char *json = eb_ppl_to_json(res);
    cJSON *result = json ? cJSON_Parse(json) : NULL;
    free(json);
    cJSON *rec = cJSON_CreateObject();
    if (!result || !rec) {
        cJSON_Delete(result);
        cJSON_Delete(rec);
        fprintf(stderr, "edgebench ppl: no_memory: the result was not stored\n");
        return EXIT_FAILURE_RUN;
    }
    cJSON_AddStringToObject(rec, "kind", "perplexity");
    cJSON_AddStringToObject(rec, "source", "ppl");
    cJSON_AddStringToObject(rec, "status", "ok");
    cJSON_AddStringToObject(rec, "started_at", res->run.started_at);
    cJSON_AddItemToObject(rec, "device", eb_device_info_to_json(&res->run.device));
    cJSON_AddItemToObject(rec, "result", result);
    cli_store cs;
    cli_store_begin(&cs, pc->store, pc->fallback ? pc->fallback : "edgebench-fallback.jsonl",
                    "ppl");
    cs.verbose = !pc->quiet;
    cli_stored how = cli_store_put(&cs, rec, pc->quiet);
    cli_store_end(&cs);
    cJSON_Delete(rec);
    return how == CLI_STORED ? EXIT_OK : EXIT_FAILURE_RUN;
}

/* -m, or a preset, then --quant. */
static eb_status resolve_model(ppl_cli *pc, char *path, size_t cap, eb_error *err)
{
    eb_run_config *r = &pc->cfg.run;
    if (r->model_path && pc->preset)
        return eb_fail(err, EB_E_INVALID_ARG, "give either -m FILE or --preset NAME, not both");
    if (!r->model_path && !pc->preset)
        return eb_fail(err, EB_E_INVALID_ARG, "no model: give -m FILE or --preset NAME");
    if (pc->type && !pc->preset)
        return eb_fail(err, EB_E_INVALID_ARG, "--type applies to --preset only");
    if (!pc->cfg.corpus_path)
        return eb_fail(err, EB_E_INVALID_ARG, "no corpus: give --corpus FILE");
    eb_status st = EB_OK;
    if (pc->preset) {
        const eb_preset *p = eb_preset_find(pc->preset);
        eb_synth_type t = EB_SYNTH_Q4_0;
        if (!p)
            return eb_fail(err, EB_E_INVALID_ARG,
                           "unknown preset '%s' (see 'edgebench model list')", pc->preset);
        if (pc->type && !eb_synth_type_parse(pc->type, &t))
            return eb_fail(err, EB_E_INVALID_ARG,
                           "--type must be F16, Q8_0, Q4_0 or Q4_K_M, got '%s'", pc->type);
        st = cli_synth_cached(p, t, path, cap, pc->quiet, err);
        r->model_path = path;
    }
    if (st == EB_OK && pc->quant) {
        char src[1024];
        snprintf(src, sizeof src, "%s", r->model_path);
        st = cli_quantized(src, pc->quant, r->threads_prefill, path, cap, pc->quiet, err);
        r->model_path = path;
    }
    return st;
}

/* The evaluation, its output (opened once there is a result, so that an
 * existing file is never truncated by a run that fails) and its record. */
static int measure_ppl(void *arg)
{
    ppl_cli *pc = arg;
    eb_error err = {0};
    eb_ppl_result res;
    eb_status st = eb_ppl_run(eb_engine_default(), &pc->cfg, &res, &err);
    if (st != EB_OK) {
        eb_ppl_result_free(&res);
        return cli_report("ppl", &err);
    }
    FILE *out = stdout;
    if (pc->output && !(out = fopen(pc->output, "w"))) {
        eb_fail(&err, EB_E_IO, "output %s: %s", pc->output, strerror(errno));
        eb_ppl_result_free(&res);
        return cli_report("ppl", &err);
    }
    int code = EXIT_OK;
    if (pc->json) {
        char *json = eb_ppl_to_json(&res);
        if (json) fprintf(out, "%s\n", json);
        free(json);
    } else {
        write_text(out, &res);
    }
    if (!pc->no_store) code = store_result(pc, &res);
    if (out != stdout && fclose(out) != 0 && code == EXIT_OK) {
        eb_fail(&err, EB_E_IO, "output %s: %s", pc->output, strerror(errno));
        code = cli_report("ppl", &err);
    }
    eb_ppl_result_free(&res);
    return code;
}

int cmd_ppl(int argc, char **argv)
{
    ppl_cli pc = {0};
    eb_ppl_config_defaults(&pc.cfg);
    int rc = parse_args(argc, argv, &pc);
    if (rc != EXIT_OK) return rc < 0 ? EXIT_OK : rc;
    pc.cfg.progress = progress;
    pc.cfg.user = &pc.quiet;
    eb_error err = {0};
    char model[1024];
    if (resolve_model(&pc, model, sizeof model, &err) != EB_OK) return cli_report("ppl", &err);
    /* measured in a child process: a crash of the engine is a reason */
    measure_outcome mo;
    measure_in_child(measure_ppl, &pc, &mo);
    measure_outcome_free(&mo);
    if (!child_end_failed(&mo.end) || (mo.end.started && WIFEXITED(mo.end.status)))
        return mo.exit_code;
    char reason[1024];
    child_end_reason(&mo.end, mo.log_tail, NULL, 0, reason, sizeof reason);
    fprintf(stderr, "edgebench ppl: the measuring process died: %s\n", reason);
    return EXIT_FAILURE_RUN;
}
