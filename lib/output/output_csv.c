/* CSV: one row per repetition, RFC 4180 quoting, plus the write dispatcher. */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "edgebench/output.h"

static void csv_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

eb_status eb_write_csv(FILE *f, const eb_run_result *r, eb_error *err)
{
    fputs("started_at,hostname,cpu_model,engine_version,model_path,model_arch,model_quant,"
          "model_n_params,synthetic,preset,n_prompt,n_gen,n_ctx,threads_prefill,threads_gen,"
          "n_batch,n_gpu_layers,gpu_layers_offloaded,rep,warmup",
          f);
    for (int m = 0; m < EB_M_COUNT; m++)
        fprintf(f, ",%s", eb_metric_name((eb_metric)m));
    for (int sp = 0; sp < EB_SPAN_COUNT; sp++)
        for (int m = 0; m < EB_PM_COUNT; m++)
            fprintf(f, ",%s_%s", eb_span_name((eb_span)sp), eb_pm_name((eb_pm)m));
    fputs(",energy_source,energy_is_estimate,idle_power_w\n", f);
    const eb_run_config *c = &r->config;
    for (int i = 0; i < r->n_reps; i++) {
        const eb_rep *w = &r->reps[i];
        csv_str(f, r->started_at);
        fputc(',', f);
        csv_str(f, r->device.hostname);
        fputc(',', f);
        csv_str(f, r->device.cpu_model);
        fputc(',', f);
        csv_str(f, r->engine_version);
        fputc(',', f);
        csv_str(f, r->model.path);
        fputc(',', f);
        csv_str(f, r->model.arch);
        fputc(',', f);
        csv_str(f, r->model.quant);
        fprintf(f, ",%llu,%s,", (unsigned long long)r->model.n_params,
                r->model.synthetic ? "true" : "false");
        csv_str(f, r->model.preset);
        fprintf(f, ",%d,%d,%d,%d,%d,%d,%d,%d,%d,%s", w->n_prompt, w->n_gen, c->n_ctx,
                c->threads_prefill, c->threads_gen, c->n_batch, c->n_gpu_layers,
                r->model.offload.layers_offloaded, w->index, w->warmup ? "true" : "false");
        for (int m = 0; m < EB_M_COUNT; m++) {
            double v = eb_rep_metric(w, (eb_metric)m);
            if (isnan(v))
                fputc(',', f); /* not available */
            else
                fprintf(f, ",%.9g", v);
        }
        /* An empty field is "not available"; the JSON output says why. */
        for (int sp = 0; sp < EB_SPAN_COUNT; sp++)
            for (int m = 0; m < EB_PM_COUNT; m++)
                isnan(w->pm[sp][m]) ? (void)fputc(',', f) : (void)fprintf(f, ",%.9g", w->pm[sp][m]);
        fputc(',', f);
        csv_str(f, r->energy_source);
        fprintf(f, ",%s,", r->energy_estimate ? "true" : "false");
        if (!isnan(r->idle_w)) fprintf(f, "%.9g", r->idle_w);
        fputc('\n', f);
    }
    return ferror(f) ? eb_fail(err, EB_E_IO, "cannot write CSV output") : EB_OK;
}

bool eb_format_parse(const char *s, eb_format *out)
{
    static const struct {
        const char *name;
        eb_format fmt;
    } names[] = {
        {"text", EB_FMT_TEXT}, {"json", EB_FMT_JSON}, {"jsonl", EB_FMT_JSONL}, {"csv", EB_FMT_CSV}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (s && strcasecmp(s, names[i].name) == 0) {
            *out = names[i].fmt;
            return true;
        }
    return false;
}

eb_status eb_write_result(FILE *f, eb_format fmt, const eb_run_result *r, eb_error *err)
{
    switch (fmt) {
    case EB_FMT_TEXT:
        return eb_write_text(f, r, err);
    case EB_FMT_JSON:
        return eb_write_json(f, r, err);
    case EB_FMT_JSONL:
        return eb_write_jsonl(f, r, err);
    case EB_FMT_CSV:
        return eb_write_csv(f, r, err);
    }
    return eb_fail(err, EB_E_INVALID_ARG, "unknown output format");
}
