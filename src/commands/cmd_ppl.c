/* edgebench ppl: perplexity of a model on a corpus, and its divergence from
 * a base model, measured and stored like a run. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cli.h"
#include "measure_child.h"
#include "cli_store.h"
#include "edgebench/output.h"
#include "edgebench/params.h"
#include "edgebench/quality.h"
#include "edgebench/util.h"

static void ppl_usage(FILE *f, const eb_cmd_rows *own)
{
    (void)own;
    fputs("usage: edgebench ppl (-m FILE.gguf | --preset NAME [--type T]) --corpus FILE "
          "[options]\n"
          "Perplexity by llama-perplexity's method: the corpus tokenized once, windows of the\n"
          "context size evaluated from an empty cache with BOS first, the second half of each\n"
          "window scored. Time, energy and memory are measured as in 'run'. The context is the\n"
          "window; the batch holds batch / ctx windows side by side; -t's threads evaluate. A\n"
          "preset's perplexity means nothing: random weights.\n\n",
          f);
    eb_params_cmd_help(EB_CMD_PPL, f);
}

typedef struct ppl_cli {
    eb_ppl_config cfg;
    const char *preset, *type, *quant, *output, *store, *fallback;
    bool no_store, quiet, json;
} ppl_cli;

/* The options through the parameter table (the rows ppl takes), then
 * llama-perplexity's own: one evaluation, threads for the evaluation. */
static int parse_args(int argc, char **argv, ppl_cli *pc)
{
    eb_run_options o;
    int code = cli_parse(EB_CMD_PPL, "ppl", NULL, argc, argv, &o, ppl_usage);
    if (code != EXIT_OK) return code;
    eb_run_config *r = &pc->cfg.run;
    *r = o.cfg;
    r->reps = 1;
    r->warmup = 0;
    r->n_gen = 1; /* unused; keeps the run configuration valid */
    if (eb_run_options_given(&o, "threads")) r->threads_prefill = r->threads_gen;
    pc->cfg.corpus_path = o.corpus;
    pc->cfg.corpus_name = o.corpus_name;
    pc->cfg.n_chunks = o.chunks;
    pc->cfg.save_base = o.save_base;
    pc->cfg.kl_base = o.kl_base;
    pc->preset = eb_run_options_given(&o, "preset") ? o.preset : NULL;
    pc->type = eb_run_options_given(&o, "type") ? o.type : NULL;
    pc->quant = o.quant;
    pc->output = o.output;
    pc->store = o.store;
    pc->fallback = o.fallback;
    pc->no_store = o.no_store;
    pc->quiet = o.quiet;
    pc->json = o.format_text_json && strcmp(o.format_text_json, "json") == 0;
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
