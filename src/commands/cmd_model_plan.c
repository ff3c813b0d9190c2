/* `edgebench model plan`: before anything is generated or run, what a model
 * will need and do on this device, from its shape and the device's probed
 * ceilings; and, for the trials of it already stored, how far off that
 * was. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "edgebench/params.h"
#include "cli_ceilings.h"
#include "edgebench/analyze.h"
#include "edgebench/roofline.h"
#include "edgebench/stats.h"
#include "edgebench/synth.h"
#include "edgebench/sysinfo.h"
#include "edgebench/util.h"

static void usage(FILE *f, const eb_cmd_rows *own)
{
    (void)own;
    fputs("usage: edgebench model plan (--preset NAME [--type TYPE] | -m FILE) [options]\n"
          "Predicts, from the model's shape and this device's probed ceilings ('edgebench\n"
          "device probe'), the memory it needs, its load time and its prefill and generation\n"
          "tokens/s; nothing is generated or run. Trials of the model already stored on this\n"
          "device are compared with the prediction.\n\n",
          f);
    eb_params_cmd_help(EB_CMD_PLAN, f);
}

typedef struct plan_args {
    const char *preset, *type, *file, *store, *format, *root;
    int n_ctx, n_prompt, n_gen, threads;
} plan_args;

/* The options through the parameter table (the rows model plan takes). */
static int parse(int argc, char **argv, plan_args *a)
{
    eb_run_options o;
    int code = cli_parse(EB_CMD_PLAN, "model plan", NULL, argc, argv, &o, usage);
    if (code != EXIT_OK) return code;
    eb_error err = {0};
    a->preset = eb_run_options_given(&o, "preset") ? o.preset : NULL;
    a->type = o.type;
    a->file = o.cfg.model_path;
    a->store = o.store;
    a->format = o.format_text_json;
    a->root = o.cfg.root;
    a->n_ctx = o.cfg.n_ctx;
    a->n_prompt = o.plan_n_prompt;
    a->n_gen = o.cfg.n_gen;
    a->threads = eb_run_options_given(&o, "threads") ? o.cfg.threads_gen : 0;
    if (!a->preset == !a->file) {
        eb_fail(&err, EB_E_INVALID_ARG, "give --preset NAME or -m FILE (one of them)");
        return cli_report("model plan", &err);
    }
    return EXIT_OK;
}

/* A stored trial of this model on this device, with its prediction. */
static bool same_model(const plan_args *a, const char *path, const eb_roofline_point *p,
                       const char *preset, const char *type)
{
    if (a->preset) return preset && !strcmp(preset, a->preset) && !strcasecmp(p->quant, type);
    return path && !strcmp(path, a->file);
}

/* A column of a stored trial's row by name. */
static const char *row_text(const eb_table *t, size_t r, const char *name)
{
    return eb_table_cell(t, r, eb_table_column(t, name));
}

static double row_num(const eb_table *t, size_t r, const char *name)
{
    return eb_table_number(t, r, eb_table_column(t, name));
}

/* Ends a limit's line: what the device's stored trials make of it. */
static void say_expected(FILE *f, double max_tps, int decimals, const eb_stats *eff)
{
    if (eff->n > 0)
        fprintf(f, "; expected %.*f tok/s at this device's median efficiency %.0f%% (%zu trials)",
                decimals, max_tps * eff->median, 100 * eff->median, eff->n);
    fputc('\n', f);
}

static void say_ratio(FILE *f, const char *what, double measured, double predicted,
                      const char *unit)
{
    if (isfinite(measured) && isfinite(predicted) && predicted > 0)
        fprintf(f, "    %-22s measured %10.4g %-8s predicted %10.4g  (%+.0f%%)\n", what, measured,
                unit, predicted, 100 * (measured / predicted - 1));
    else
        fprintf(f, "    %-22s measured %10.4g %-8s predicted n/a\n", what, measured, unit);
}

/* What the prediction says, for a person. */
static void print_prediction(FILE *o, const plan_args *a, const char *name,
                             const eb_model_shape *sp, const eb_device_info *dev, int threads,
                             const eb_prediction *p, const eb_ceilings *cl,
                             const eb_probe_point *cold, const eb_probe_point *cached,
                             const eb_stats *ps, const eb_stats *gs)
{
    const eb_model_shape shape = *sp;
    const eb_prediction pr = *p;
    const eb_ceilings ceil = *cl;
    fprintf(o, "model   %s\n", name);
    fprintf(o,
            "        %.3f B parameters (%.3f B in matrix products), %d layers\n"
            "        context %d, %d-token prompt, %d generated, %d threads\n",
            (double)shape.n_params / 1e9, (double)shape.matmul_params / 1e9, shape.n_layer,
            a->n_ctx, a->n_prompt, a->n_gen, threads);
    fprintf(o, "device  %s, %.0f MiB RAM (%.0f MiB available)\n\n", cli_device_key(dev),
            (double)dev->ram_total_kb / 1024.0, (double)dev->ram_available_kb / 1024.0);
    fprintf(o,
            "memory  %.1f MiB = weights %.1f + repacked copy %.1f + KV cache %.1f + "
            "activations %.1f (runtime overhead not included)%s\n",
            pr.memory_bytes / 1048576.0, pr.weights_bytes / 1048576.0,
            pr.repacked_bytes / 1048576.0, pr.kv_bytes / 1048576.0, pr.compute_bytes / 1048576.0,
            pr.memory_bytes > dev->ram_available_kb * 1024.0
                ? ": MORE than is available now; expect paging"
                : "");
    if (isfinite(pr.load_cold_s))
        fprintf(o,
                "load    %.2f s from disk (cold, %.3f GB/s), %.2f s from the page cache "
                "(%.2f GB/s); reading the file only (no repacking, no context)\n",
                pr.load_cold_s, cold->value, pr.load_cached_s, cached->value);
    else if (isfinite(pr.load_cached_s))
        fprintf(o, "load    n/a from disk (no cold read probed), %.2f s from the page cache\n",
                pr.load_cached_s);
    else
        fprintf(o, "load    n/a (no disk probe stored: edgebench device probe)\n");
    if (isfinite(pr.rl.prefill_max_tps)) {
        fprintf(o,
                "prefill at most %.1f tok/s (%s kernel %.1f GFLOP/s at %d threads / %.2f "
                "GFLOP per token)",
                pr.rl.prefill_max_tps, ceil.gflops_type, ceil.gflops, ceil.gflops_threads,
                pr.rl.prefill_flops_per_token / 1e9);
        say_expected(o, pr.rl.prefill_max_tps, 1, ps);
    } else {
        fprintf(o, "prefill n/a (%s)\n", pr.rl.prefill_reason);
    }
    if (isfinite(pr.rl.gen_max_tps)) {
        fprintf(o,
                "generation at most %.2f tok/s (%.2f GB/s at %d threads / %.1f MiB per "
                "token at depth %.0f)",
                pr.rl.gen_max_tps, ceil.bw_gbs, ceil.bw_threads,
                pr.rl.gen_bytes_per_token / 1048576.0, pr.rl.gen_depth);
        say_expected(o, pr.rl.gen_max_tps, 2, gs);
    } else {
        fprintf(o, "generation n/a (%s)\n", pr.rl.gen_reason);
    }
}

/* The same as JSON. */
static void prediction_json(cJSON *root, const char *name, const eb_device_info *dev, int threads,
                            const eb_prediction *p, const eb_stats *ps, const eb_stats *gs)
{
    const eb_prediction pr = *p;
    cJSON_AddStringToObject(root, "model", name);
    cJSON_AddStringToObject(root, "device", cli_device_key(dev));
    cJSON_AddNumberToObject(root, "threads", threads);
    cJSON *m = cJSON_AddObjectToObject(root, "memory_bytes");
    cJSON_AddNumberToObject(m, "total", pr.memory_bytes);
    cJSON_AddNumberToObject(m, "weights", pr.weights_bytes);
    cJSON_AddNumberToObject(m, "repacked_copy", pr.repacked_bytes);
    cJSON_AddNumberToObject(m, "kv_cache", pr.kv_bytes);
    cJSON_AddNumberToObject(m, "activations", pr.compute_bytes);
    cJSON *l = cJSON_AddObjectToObject(root, "load_s");
    if (isfinite(pr.load_cold_s)) cJSON_AddNumberToObject(l, "cold", pr.load_cold_s);
    if (isfinite(pr.load_cached_s)) cJSON_AddNumberToObject(l, "cached", pr.load_cached_s);
    if (isfinite(pr.rl.prefill_max_tps))
        cJSON_AddNumberToObject(root, "prefill_max_tps", pr.rl.prefill_max_tps);
    else
        cJSON_AddStringToObject(root, "prefill_not_available", pr.rl.prefill_reason);
    if (isfinite(pr.rl.gen_max_tps))
        cJSON_AddNumberToObject(root, "gen_max_tps", pr.rl.gen_max_tps);
    else
        cJSON_AddStringToObject(root, "gen_not_available", pr.rl.gen_reason);
    if (ps->n > 0 && isfinite(pr.rl.prefill_max_tps))
        cJSON_AddNumberToObject(root, "prefill_expected_tps", pr.rl.prefill_max_tps * ps->median);
    if (gs->n > 0 && isfinite(pr.rl.gen_max_tps))
        cJSON_AddNumberToObject(root, "gen_expected_tps", pr.rl.gen_max_tps * gs->median);
}

int cmd_model_plan(int argc, char **argv)
{
    plan_args a = {0};
    int code = parse(argc, argv, &a);
    if (code != EXIT_OK) return code < 0 ? EXIT_OK : code;
    eb_error err = {0};
    eb_model_shape shape;
    char name[300];
    uint64_t file_bytes = 0;
    const char *type = a.type ? a.type : eb_param_find("type")->def;
    if (a.preset) {
        const eb_preset *p = eb_preset_find(a.preset);
        eb_synth_type t;
        if (!p) {
            cli_usage_error("model plan",
                            "unknown preset '%s' (see "
                            "'edgebench model list')",
                            a.preset);
            return EXIT_USAGE;
        }
        if (!eb_synth_type_parse(type, &t)) {
            cli_usage_error("model plan",
                            "--type must be F16, Q8_0, Q4_0 or "
                            "Q4_K_M, got '%s'",
                            type);
            return EXIT_USAGE;
        }
        type = eb_synth_type_name(t);
        eb_preset_shape(p, t, &shape);
        /* the file is its tensor data plus metadata: the vocabulary, a few MiB */
        file_bytes = shape.weights_bytes;
        snprintf(name, sizeof name, "%s %s (preset; file size is the tensor data)", p->display,
                 type);
    } else {
        if (eb_model_shape_read(a.file, &shape, &err) != EB_OK)
            return cli_report("model plan", &err);
        struct stat sb;
        if (stat(a.file, &sb) == 0) file_bytes = (uint64_t)sb.st_size;
        snprintf(name, sizeof name, "%s (%s weights)", a.file, shape.main_type);
    }
    eb_device_info dev;
    eb_device_info_read(a.root, &dev);
    int threads = a.threads > 0 ? a.threads : (dev.n_cpus_online > 0 ? dev.n_cpus_online : 1);

    eb_store *s = NULL;
    eb_table rl_trials = {0}, probes = {0};
    eb_probe_point *pts = NULL;
    size_t n_pts = 0;
    const char *spec = a.store && a.store[0] ? a.store : eb_store_default_spec();
    eb_status st = eb_store_open(spec, &s, &err);
    eb_results_filter f = {.device = cli_device_key(&dev)};
    if (st == EB_OK) st = eb_store_results(s, EB_VIEW_PROBES, &f, &probes, &err);
    if (st == EB_OK) st = eb_store_results(s, EB_VIEW_ROOFLINE, &f, &rl_trials, &err);
    if (st == EB_OK)
        st = eb_probe_points_from_table(&probes, cli_device_key(&dev), &pts, &n_pts, &err);
    eb_store_close(s);
    if (st != EB_OK) {
        eb_table_free(&rl_trials);
        eb_table_free(&probes);
        return cli_report("model plan", &err);
    }
    eb_ceilings ceil;
    eb_ceilings_pick(pts, n_pts, threads, threads, shape.main_type, &ceil);
    const eb_probe_point *cold = eb_probe_pick(pts, n_pts, "disk_cold", NULL, 1);
    const eb_probe_point *cached = eb_probe_pick(pts, n_pts, "disk_cached", NULL, 1);
    eb_prediction pr;
    eb_predict(&shape, &ceil, cold ? cold->value : NAN, cached ? cached->value : NAN, file_bytes,
               a.n_ctx, a.n_prompt, a.n_gen, &pr);

    /* how efficient this device has been, over every stored trial */
    eb_roofline_point *rp = NULL;
    size_t n_rp = 0;
    eb_roofline_points(&rl_trials, &probes, &rp, &n_rp, &err);
    /* sized from the trials found: every stored trial counts */
    double *ge = calloc(n_rp + 1, sizeof *ge), *pe = calloc(n_rp + 1, sizeof *pe);
    size_t n_ge = 0, n_pe = 0;
    for (size_t i = 0; ge && pe && i < n_rp; i++) {
        if (isfinite(rp[i].rl.gen_efficiency)) ge[n_ge++] = rp[i].rl.gen_efficiency;
        if (isfinite(rp[i].rl.prefill_efficiency)) pe[n_pe++] = rp[i].rl.prefill_efficiency;
    }
    eb_stats gs, ps;
    eb_stats_compute(ge, n_ge, &gs);
    eb_stats_compute(pe, n_pe, &ps);
    free(ge);
    free(pe);

    FILE *o = stdout;
    bool json = !strcmp(a.format, "json");
    cJSON *root = json ? cJSON_CreateObject() : NULL;
    if (!json)
        print_prediction(o, &a, name, &shape, &dev, threads, &pr, &ceil, cold, cached, &ps, &gs);
    else
        prediction_json(root, name, &dev, threads, &pr, &ps, &gs);

    /* the model's stored trials against the same prediction at their settings */
    cJSON *cmp = json ? cJSON_AddArrayToObject(root, "stored_trials") : NULL;
    size_t shown = 0;
    for (size_t i = 0; i < n_rp; i++) {
        const eb_roofline_point *p = &rp[i];
        size_t row = p->row;
        if (!same_model(&a, row_text(&rl_trials, row, "path"), p,
                        row_text(&rl_trials, row, "preset"), type))
            continue;
        eb_ceilings tc;
        eb_ceilings_pick(pts, n_pts, p->threads_gen, p->threads_prefill, shape.main_type, &tc);
        double n_ctx = row_num(&rl_trials, row, "n_ctx");
        eb_prediction tp;
        eb_predict(&shape, &tc, cold ? cold->value : NAN, cached ? cached->value : NAN, file_bytes,
                   isfinite(n_ctx) ? (int)n_ctx : a.n_ctx,
                   isfinite(p->n_prompt) ? (int)lround(p->n_prompt) : a.n_prompt,
                   isfinite(p->n_gen) ? (int)lround(p->n_gen) : a.n_gen, &tp);
        double rss = row_num(&rl_trials, row, "peak_rss_mib") * 1048576.0;
        double load = row_num(&rl_trials, row, "load_s");
        if (json) {
            cJSON *t = cJSON_CreateObject();
            cJSON_AddNumberToObject(t, "trial_id", (double)p->trial_id);
            cJSON_AddNumberToObject(t, "threads_gen", p->threads_gen);
            cJSON_AddNumberToObject(t, "threads_prefill", p->threads_prefill);
#define PAIR(k, m, pv)                                                                             \
    do {                                                                                           \
        if (isfinite(m)) cJSON_AddNumberToObject(t, k "_measured", m);                             \
        if (isfinite(pv)) cJSON_AddNumberToObject(t, k "_predicted", pv);                          \
    } while (0)
            PAIR("gen_tps", p->rl.gen_tps, tp.rl.gen_max_tps);
            PAIR("prefill_tps", p->rl.prefill_tps, tp.rl.prefill_max_tps);
            PAIR("peak_rss_bytes", rss, tp.memory_bytes);
            PAIR("load_s", load, tp.load_cached_s);
#undef PAIR
            cJSON_AddItemToArray(cmp, t);
        } else {
            if (shown++ == 0)
                fprintf(o, "\nstored trials of this model on this device, against the "
                           "prediction at their settings (maxima; load from the page cache):\n");
            fprintf(o, "  trial %lld, threads %d/%d, %.0f-token prompt, %.0f generated:\n",
                    p->trial_id, p->threads_prefill, p->threads_gen, p->n_prompt, p->n_gen);
            say_ratio(o, "generation tok/s", p->rl.gen_tps, tp.rl.gen_max_tps, "tok/s");
            say_ratio(o, "prefill tok/s", p->rl.prefill_tps, tp.rl.prefill_max_tps, "tok/s");
            say_ratio(o, "peak RSS MiB", rss / 1048576.0, tp.memory_bytes / 1048576.0, "MiB");
            say_ratio(o, "load s", load, tp.load_cached_s, "s");
        }
    }
    if (!json && shown == 0)
        fprintf(o, "\nno stored trials of this model on this device yet: after 'edgebench run' "
                   "this command compares them with the prediction\n");
    if (json) {
        char *text = cJSON_Print(root);
        if (text) fprintf(o, "%s\n", text);
        free(text);
        cJSON_Delete(root);
    }
    free(rp);
    free(pts);
    eb_table_free(&rl_trials);
    eb_table_free(&probes);
    return EXIT_OK;
}
