/* The analyses' tables as `analyze` and `report` show them: optimal
 * (analysis_optimal.c), pareto, usability, battery, cost, breakeven, quant-effect and roofline,
 * built from the store's configurations. Each says "not available" where
 * a measurement is missing, never 0. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/analysis.h"
#include "edgebench/util.h"

#include "analysis_out.h"

static void pareto(const eb_config_set *set, out_table *ot)
{
    const char *names[] = {
        "device",  "model", "quant", "config", "gen_tps", "gen_j_per_token", "gen_j_per_token_u95",
        "on_front"};
    const unsigned char kinds[] = {0, 0, 0, 0, 1, 1, 1, 0};
    ot->ok = eb_table_init(&ot->t, 8, names, kinds) == EB_OK;
    double *x = calloc(set->n + 1, sizeof *x), *y = calloc(set->n + 1, sizeof *y);
    bool *front = calloc(set->n + 1, sizeof *front);
    if (!x || !y || !front) ot->ok = false;
    for (size_t i = 0; ot->ok && i < set->n; i++) {
        x[i] = eb_samples_mean(&set->c[i].s[EB_AV_GEN_TPS]);
        y[i] = eb_samples_mean(&set->c[i].s[EB_AV_GEN_JPT]);
    }
    /* fronts are per device, model and weight type */
    for (size_t i = 0; ot->ok && i < set->n; i++) {
        if (!eb_config_first_of_group(set, i)) continue;
        size_t n = 0, idx[4096];
        double gx[4096], gy[4096];
        bool gf[4096];
        for (size_t j = 0; j < set->n && n < 4096; j++)
            if (eb_config_same_group(&set->c[j], &set->c[i])) {
                idx[n] = j;
                gx[n] = x[j];
                gy[n++] = y[j];
            }
        eb_pareto(gx, gy, n, gf);
        for (size_t k = 0; k < n; k++)
            front[idx[k]] = gf[k];
    }
    for (size_t i = 0; ot->ok && i < set->n; i++) {
        const eb_config *c = &set->c[i];
        char d[256], v1[32], v2[32], v3[32];
        describe(c, d, sizeof d);
        /* off the front, but a configuration on it cannot be told from this
         * one in either figure */
        const char *on = front[i] ? "yes" : "no";
        for (size_t j = 0; !front[i] && j < set->n; j++)
            if (front[j] && eb_config_same_group(&set->c[j], c) &&
                eb_config_overlap(&set->c[j], c, EB_AV_GEN_JPT) &&
                eb_config_overlap(&set->c[j], c, EB_AV_GEN_TPS))
                on = "not distinguishable from the front (95% intervals overlap)";
        char *cells[] = {(char *)c->device,
                         (char *)c->model,
                         (char *)c->quant,
                         d,
                         fmt(v1, sizeof v1, x[i]),
                         fmt(v2, sizeof v2, y[i]),
                         fmt(v3, sizeof v3, eb_config_energy_u95(c, EB_AV_GEN_JPT, NULL)),
                         isfinite(y[i]) ? (char *)on : (char *)NO_ENERGY};
        add(ot, cells);
    }
    free(x);
    free(y);
    free(front);
}

/* usability, battery and cost: one row per group from its best config */
typedef enum group_kind { GROUP_USABILITY, GROUP_BATTERY, GROUP_COST } group_kind;

static void per_group(const eb_config_set *set, const eb_analysis_opts *o, group_kind kind,
                      out_table *ot)
{
    bool usab = kind == GROUP_USABILITY, batt = kind == GROUP_BATTERY;
    const char *un[] = {"device", "model", "quant", "config", "gen_tps", "needed_tps", "meets"};
    const char *bn[] = {"device",           "model",    "quant", "config",
                        "energy_per_run_j", "runs",     "hours", "energy_per_run_u95_j",
                        "runs_low",         "runs_high"};
    const char *cn[] = {"device",
                        "model",
                        "quant",
                        "config_in",
                        "cents_per_m_input",
                        "cloud_over_edge_input",
                        "config_out",
                        "cents_per_m_output",
                        "cloud_over_edge_output",
                        "cents_per_m_input_u95",
                        "cents_per_m_output_u95"};
    const unsigned char uk[] = {0, 0, 0, 0, 1, 1, 0}, bk[] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1},
                        ck[] = {0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1};
    ot->ok = usab   ? eb_table_init(&ot->t, 7, un, uk) == EB_OK
             : batt ? eb_table_init(&ot->t, 10, bn, bk) == EB_OK
                    : eb_table_init(&ot->t, 11, cn, ck) == EB_OK;
    double need = eb_reading_tokens_per_s(o->words_per_s, o->words_per_token);
    for (size_t i = 0; i < set->n; i++) {
        if (!eb_config_first_of_group(set, i)) continue;
        const eb_config *g = &set->c[i], *second;
        char d1[256] = "", d2[256] = "", a[32], b[32], c[32], e[32], f[32], m[160];
        char x1[32], x2[32], x3[32];
        char *cells[11] = {(char *)g->device, (char *)g->model, (char *)g->quant};
        if (usab) {
            const eb_config *best = eb_config_best(set, g, EB_AV_GEN_TPS, true, &second);
            if (!best) continue;
            describe(best, d1, sizeof d1);
            double tps = eb_samples_mean(&best->s[EB_AV_GEN_TPS]);
            snprintf(m, sizeof m, "%s (%+.1f%%)", tps >= need ? "yes" : "no",
                     (tps / need - 1) * 100);
            cells[3] = d1;
            cells[4] = fmt(a, sizeof a, tps);
            cells[5] = fmt(b, sizeof b, need);
            cells[6] = m;
        } else if (batt) {
            const eb_config *best = eb_config_best(set, g, EB_AV_RUN_ENERGY, false, &second);
            if (!best) {
                cells[3] = (char *)NO_ENERGY;
            } else {
                describe(best, d1, sizeof d1);
                double ej = eb_samples_mean(&best->s[EB_AV_RUN_ENERGY]);
                double runs = eb_battery_runs(o->capacity_wh, ej);
                cells[3] = d1;
                cells[4] = fmt(a, sizeof a, ej);
                cells[5] = fmt(b, sizeof b, runs);
                cells[6] = fmt(c, sizeof c, runs * eb_samples_mean(&best->s[EB_AV_E2E_S]) / 3600);
                double u = eb_config_energy_u95(best, EB_AV_RUN_ENERGY, NULL);
                cells[7] = fmt(x1, sizeof x1, u);
                cells[8] = fmt(x2, sizeof x2, eb_battery_runs(o->capacity_wh, ej + u));
                cells[9] = fmt(x3, sizeof x3, eb_battery_runs(o->capacity_wh, ej - u));
            }
        } else {
            const eb_config *bi = eb_config_best(set, g, EB_AV_PREFILL_JPT, false, &second);
            const eb_config *bo = eb_config_best(set, g, EB_AV_GEN_JPT, false, &second);
            cells[3] = cells[6] = (char *)NO_ENERGY;
            if (bi) {
                describe(bi, d1, sizeof d1);
                double ci = eb_cost_per_mtok_cents(eb_samples_mean(&bi->s[EB_AV_PREFILL_JPT]),
                                                   o->cents_per_kwh);
                cells[3] = d1;
                cells[4] = fmt(a, sizeof a, ci);
                cells[5] = fmt(b, sizeof b, o->cloud_in / ci);
                cells[9] =
                    fmt(x1, sizeof x1,
                        eb_cost_per_mtok_cents(eb_config_energy_u95(bi, EB_AV_PREFILL_JPT, NULL),
                                               o->cents_per_kwh));
            }
            if (bo) {
                describe(bo, d2, sizeof d2);
                double co = eb_cost_per_mtok_cents(eb_samples_mean(&bo->s[EB_AV_GEN_JPT]),
                                                   o->cents_per_kwh);
                cells[6] = d2;
                cells[7] = fmt(e, sizeof e, co);
                cells[8] = fmt(f, sizeof f, o->cloud_out / co);
                cells[10] =
                    fmt(x2, sizeof x2,
                        eb_cost_per_mtok_cents(eb_config_energy_u95(bo, EB_AV_GEN_JPT, NULL),
                                               o->cents_per_kwh));
            }
        }
        add(ot, cells);
    }
}

/* The configuration of a device (and the model/quant filters) that the
 * break-even uses: the fastest in generation, or the least energy. */
static const eb_config *pick(const eb_config_set *set, const char *device, bool fastest)
{
    const eb_config *best = NULL;
    for (size_t i = 0; i < set->n; i++) {
        const eb_config *c = &set->c[i];
        if (strcmp(c->device, device) != 0 || c->s[EB_AV_GEN_JPT].n == 0 ||
            c->s[EB_AV_PREFILL_JPT].n == 0)
            continue;
        int av = fastest ? EB_AV_GEN_TPS : EB_AV_GEN_JPT;
        double m = eb_samples_mean(&c->s[av]);
        if (!best ||
            (fastest ? m > eb_samples_mean(&best->s[av]) : m < eb_samples_mean(&best->s[av])))
            best = c;
    }
    return best;
}

static eb_status breakeven(const eb_config_set *set, const eb_analysis_opts *o, out_table *ot,
                           eb_error *err)
{
    if (!o->device_a || !o->device_b || !(o->price_a >= 0) || !(o->price_b >= 0)) {
        return eb_fail(err, EB_E_INVALID_ARG,
                       "breakeven needs --device-a, "
                       "--price-a, --device-b and --price-b");
    }
    bool fastest = !o->pick || strcmp(o->pick, "least-energy") != 0;
    const eb_config *a = pick(set, o->device_a, fastest), *b = pick(set, o->device_b, fastest);
    for (int k = 0; k < 2; k++)
        if (!(k ? b : a)) {
            return eb_fail(err, EB_E_NOT_AVAILABLE,
                           "no runs with prefill and generation "
                           "energy for device '%s' (check --device-%c and the filters)",
                           k ? o->device_b : o->device_a, k ? 'b' : 'a');
        }
    eb_device_costs ca = {o->price_a, eb_samples_mean(&a->s[EB_AV_PREFILL_TPS]),
                          eb_samples_mean(&a->s[EB_AV_GEN_TPS]),
                          eb_samples_mean(&a->s[EB_AV_PREFILL_JPT]),
                          eb_samples_mean(&a->s[EB_AV_GEN_JPT])};
    eb_device_costs cb = {o->price_b, eb_samples_mean(&b->s[EB_AV_PREFILL_TPS]),
                          eb_samples_mean(&b->s[EB_AV_GEN_TPS]),
                          eb_samples_mean(&b->s[EB_AV_PREFILL_JPT]),
                          eb_samples_mean(&b->s[EB_AV_GEN_JPT])};
    /* a is the dearer device */
    if (ca.price < cb.price) {
        eb_device_costs t = ca;
        ca = cb;
        cb = t;
        const eb_config *tc = a;
        a = b;
        b = tc;
    }
    const char *names[] = {"dearer",      "cheaper", "input_tokens", "output_tokens",
                           "utilisation", "years",   "years_low",    "years_high"};
    const unsigned char kinds[] = {0, 0, 1, 1, 1, 1, 1, 1};
    ot->ok = eb_table_init(&ot->t, 8, names, kinds) == EB_OK;
    /* the energies at the ends of their intervals: the dearer device's low
     * and the cheaper's high give the longest break-even, and back */
    double ua[2] = {eb_config_energy_u95(a, EB_AV_PREFILL_JPT, NULL),
                    eb_config_energy_u95(a, EB_AV_GEN_JPT, NULL)},
           ub[2] = {eb_config_energy_u95(b, EB_AV_PREFILL_JPT, NULL),
                    eb_config_energy_u95(b, EB_AV_GEN_JPT, NULL)};
    eb_device_costs a_lo = ca, a_hi = ca, b_lo = cb, b_hi = cb;
    a_lo.prefill_jpt -= ua[0], a_lo.gen_jpt -= ua[1], a_hi.prefill_jpt += ua[0],
        a_hi.gen_jpt += ua[1];
    b_lo.prefill_jpt -= ub[0], b_lo.gen_jpt -= ub[1], b_hi.prefill_jpt += ub[0],
        b_hi.gen_jpt += ub[1];
    char da[300], db[300];
    describe(a, da, sizeof da);
    describe(b, db, sizeof db);
    char la[600], lb[600];
    snprintf(la, sizeof la, "%s (%s, %s)", a->device, a->model, da);
    snprintf(lb, sizeof lb, "%s (%s, %s)", b->device, b->model, db);
    for (const char *r = o->ratios; r && *r;) {
        double in, out;
        int used = 0;
        if (sscanf(r, "%lf:%lf%n", &in, &out, &used) != 2 || in < 0 || out < 0) {
            return eb_fail(err, EB_E_INVALID_ARG,
                           "--ratios wants IN:OUT,... got "
                           "'%s'",
                           o->ratios);
        }
        for (const char *u = o->utilisations; *u;) {
            char *end;
            double mu = strtod(u, &end);
            if (end == u || mu <= 0 || mu > 1) {
                return eb_fail(err, EB_E_INVALID_ARG,
                               "--utilisations wants "
                               "values in (0, 1], got '%s'",
                               o->utilisations);
            }
            char bi[32], bo[32], bm[32], by[32], yl[32], yh[32];
            double years = eb_breakeven_years(&ca, &cb, in, out, mu, o->cents_per_kwh / 100);
            double y1 = eb_breakeven_years(&a_lo, &b_hi, in, out, mu, o->cents_per_kwh / 100);
            double y2 = eb_breakeven_years(&a_hi, &b_lo, in, out, mu, o->cents_per_kwh / 100);
            double ylo = fmin(y1, y2), yhi = fmax(y1, y2);
            char *cells[] = {la,
                             lb,
                             fmt(bi, sizeof bi, in),
                             fmt(bo, sizeof bo, out),
                             fmt(bm, sizeof bm, mu),
                             isinf(years) ? "never" : fmt(by, sizeof by, years),
                             isinf(ylo) ? "never" : fmt(yl, sizeof yl, ylo),
                             isinf(yhi) ? "never" : fmt(yh, sizeof yh, yhi)};
            add(ot, cells);
            u = *end == ',' ? end + 1 : end;
            if (!*end) break;
        }
        r += used;
        if (*r == ',')
            r++;
        else
            break;
    }
    return EB_OK;
}

/* Each quantized configuration against its 16-bit base: factors > 1 mean
 * more (memory, throughput, energy, perplexity) than the base. */
static eb_status quant_effect(const eb_config_set *set, const eb_analysis_opts *o, out_table *ot,
                              eb_error *err)
{
    const char *names[] = {"device",
                           "model",
                           "quant",
                           "base",
                           "config",
                           "peak_rss_factor",
                           "prefill_tps_factor",
                           "gen_tps_factor",
                           "prefill_j_per_token_factor",
                           "gen_j_per_token_factor",
                           "ppl",
                           "base_ppl",
                           "ppl_factor",
                           "kl_mean",
                           "top1_agreement",
                           "note"};
    static const unsigned char kinds[] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
    ot->ok = eb_table_init(&ot->t, 16, names, kinds) == EB_OK;
    eb_quant_effect *qe = NULL;
    size_t n = 0;
    if (eb_quant_effects(set, o->quality, &qe, &n, err) != EB_OK) {
        free(qe);
        return err->status;
    }
    for (size_t i = 0; i < n && ot->ok; i++) {
        const eb_quant_effect *e = &qe[i];
        char b[13][40], cfg[300] = "", note[400] = "";
        eb_config c = {.threads_prefill = e->threads_prefill,
                       .threads_gen = e->threads_gen,
                       .gpu_layers = e->gpu_layers};
        snprintf(c.governor, sizeof c.governor, "%s", e->governor);
        snprintf(c.power_mode, sizeof c.power_mode, "%s", e->power_mode);
        if (e->has_runs) describe(&c, cfg, sizeof cfg);
        char *cells[16] = {(char *)e->device, (char *)e->model, (char *)e->quant,
                           e->base_quant[0] ? (char *)e->base_quant : NULL, cfg[0] ? cfg : NULL};
        for (int k = 0; k < EB_QE_COUNT; k++)
            cells[5 + k] = fmt(b[k], sizeof b[k], e->value[k] / e->base[k]);
        cells[10] = fmt(b[5], sizeof b[5], e->ppl);
        cells[11] = fmt(b[6], sizeof b[6], e->base_ppl);
        cells[12] = fmt(b[7], sizeof b[7], e->ppl / e->base_ppl);
        cells[13] = fmt(b[8], sizeof b[8], e->kl_mean);
        cells[14] = fmt(b[9], sizeof b[9], e->top1);
        size_t len = 0;
#define NOTE(...)                                                                                  \
    len += (size_t)snprintf(note + len, len < sizeof note ? sizeof note - len : 0, __VA_ARGS__)
        if (!e->base_quant[0])
            NOTE("no F16/BF16/F32 base stored; ");
        else if (e->has_runs && isnan(e->base[EB_QE_GEN_TPS]))
            NOTE("no %s runs with these settings; ", e->base_quant);
        if (!e->has_runs)
            NOTE("no runs stored, perplexity only; ");
        else if (isnan(e->value[EB_QE_GEN_JPT]) || isnan(e->base[EB_QE_GEN_JPT]))
            NOTE("energy not available: no energy sensor; ");
        if (isnan(e->ppl))
            NOTE("no perplexity stored ('edgebench ppl'); ");
        else if (isnan(e->base_ppl))
            NOTE("no base perplexity on the same corpus and context; ");
        if (e->synthetic) NOTE("synthetic weights: perplexity and KL mean nothing; ");
#undef NOTE
        if (len >= 2 && len < sizeof note) note[len - 2] = '\0';
        cells[15] = note[0] ? note : NULL;
        add(ot, cells);
    }
    free(qe);
    return EB_OK;
}

eb_status eb_analysis_load_quality(eb_store *s, const eb_analysis_opts *o, eb_table *out,
                                   eb_error *err)
{
    memset(out, 0, sizeof *out);
    if (eb_store_schema_version(s) < 3) return EB_OK;
    return eb_store_results(s, EB_VIEW_QUALITY, &o->f, out, err);
}

/* ---- the registry: each analysis once, with what it answers and needs ---- */

static eb_status finish(out_table *ot, eb_status st, eb_table *out, eb_error *err)
{
    if (st == EB_OK && !ot->ok) st = eb_fail(err, EB_E_NO_MEMORY, "analysis: out of memory");
    if (st != EB_OK) {
        eb_table_free(&ot->t);
        return st;
    }
    *out = ot->t;
    return EB_OK;
}

static eb_status run_optimal(const eb_analysis_data *d, const eb_analysis_opts *o, eb_table *out,
                             eb_error *err)
{
    out_table ot = {0};
    eb_optimal_rows(d->set, o, &ot);
    return finish(&ot, EB_OK, out, err);
}

static eb_status run_pareto(const eb_analysis_data *d, const eb_analysis_opts *o, eb_table *out,
                            eb_error *err)
{
    (void)o;
    out_table ot = {0};
    pareto(d->set, &ot);
    return finish(&ot, EB_OK, out, err);
}

#define PER_GROUP(fn, kind)                                                                        \
    static eb_status fn(const eb_analysis_data *d, const eb_analysis_opts *o, eb_table *out,       \
                        eb_error *err)                                                             \
    {                                                                                              \
        out_table ot = {0};                                                                        \
        per_group(d->set, o, kind, &ot);                                                           \
        return finish(&ot, EB_OK, out, err);                                                       \
    }
PER_GROUP(run_usability, GROUP_USABILITY)
PER_GROUP(run_battery, GROUP_BATTERY)
PER_GROUP(run_cost, GROUP_COST)
#undef PER_GROUP

static eb_status run_breakeven(const eb_analysis_data *d, const eb_analysis_opts *o, eb_table *out,
                               eb_error *err)
{
    out_table ot = {0};
    return finish(&ot, breakeven(d->set, o, &ot, err), out, err);
}

static eb_status run_quant_effect(const eb_analysis_data *d, const eb_analysis_opts *o,
                                  eb_table *out, eb_error *err)
{
    out_table ot = {0};
    return finish(&ot, quant_effect(d->set, o, &ot, err), out, err);
}

static eb_status run_roofline(const eb_analysis_data *d, const eb_analysis_opts *o, eb_table *out,
                              eb_error *err)
{
    (void)d;
    return eb_analysis_roofline(o, out, err);
}

static eb_status run_fleet(const eb_analysis_data *d, const eb_analysis_opts *o, eb_table *out,
                           eb_error *err)
{
    (void)o;
    return eb_fleet_spread_table(d->set, out, err);
}

static eb_status run_fit(const eb_analysis_data *d, const eb_analysis_opts *o, eb_table *out,
                         eb_error *err)
{
    (void)o;
    return eb_fit_table(d->trials, out, err);
}

static eb_status run_distributed(const eb_analysis_data *d, const eb_analysis_opts *o,
                                 eb_table *out, eb_error *err)
{
    (void)o;
    return eb_distributed_table(d->trials, out, err);
}

static eb_status run_capacity(const eb_analysis_data *d, const eb_analysis_opts *o, eb_table *out,
                              eb_error *err)
{
    return eb_capacity_table(d->trials, eb_reading_tokens_per_s(o->words_per_s, o->words_per_token),
                             out, err);
}

static void in_capacity(FILE *f, const char *p, const eb_analysis_opts *o)
{
    fprintf(f,
            "%sinputs: each closed-loop level of 'run --engine server'; a level serves its "
            "clients when every request succeeded, the slowest stream's mean rate was at least "
            "%.2f tokens/s (%g words/s at %g words/token) and, where the level had --slo-ttft, "
            "the slowest first token met it; a user-hour's energy is the level's mean power "
            "for an hour over its clients; server_over_in_process: the server's median stream "
            "at one client over the in-process engine's generation t/s on the same device, "
            "model and threads\n",
            p, eb_reading_tokens_per_s(o->words_per_s, o->words_per_token), o->words_per_s,
            o->words_per_token);
}

static void in_optimal(FILE *f, const char *p, const eb_analysis_opts *o)
{
    fprintf(f,
            "%sinputs: mean of the runs per configuration (a configuration is everything "
            "stored that changes the measurement); the best is compared with its rivals, the "
            "configurations that differ in what the phase depends on (a prefill objective "
            "ignores the generation threads and the other way round), by Welch's t-test with "
            "Holm's correction for the number of rivals, significant below p = %g; a "
            "%d-resample bootstrap 95%% interval of best minus runner-up; every rival the "
            "corrected test cannot tell from the best\n",
            p, o->alpha, o->bootstrap);
}

static void in_pareto(FILE *f, const char *p, const eb_analysis_opts *o)
{
    (void)o;
    fprintf(f,
            "%sinputs: mean generation tokens/s (higher is better) and generation J/token "
            "(lower is better) per configuration\n",
            p);
}

static void in_usability(FILE *f, const char *p, const eb_analysis_opts *o)
{
    fprintf(f,
            "%sinputs: reading speed %g words/s, %g words/token -> %.4g tokens/s needed; "
            "the fastest generation configuration of each model\n",
            p, o->words_per_s, o->words_per_token,
            eb_reading_tokens_per_s(o->words_per_s, o->words_per_token));
}

static void in_battery(FILE *f, const char *p, const eb_analysis_opts *o)
{
    fprintf(f,
            "%sinputs: battery %g Wh = %g J at 100%% utilisation (no idle time); the "
            "configuration with the least energy per run\n"
            "%scaveats: one prompt only; on-board sensors leave out peripherals and "
            "power-supply losses; the least-energy configuration may be too slow in use: "
            "read these as upper bounds\n",
            p, o->capacity_wh, o->capacity_wh * 3600, p);
}

static void in_cost(FILE *f, const char *p, const eb_analysis_opts *o)
{
    fprintf(f,
            "%sinputs: electricity %g cents/kWh; cloud %g / %g cents per million input / "
            "output tokens; the least-energy configuration per phase; loading left out\n",
            p, o->cents_per_kwh, o->cloud_in, o->cloud_out);
}

static void in_breakeven(FILE *f, const char *p, const eb_analysis_opts *o)
{
    fprintf(f,
            "%sinputs: electricity %g cents/kWh; prices %g (%s) and %g (%s); "
            "configuration: the %s of each device; utilisation is the dearer device's; "
            "loading left out\n",
            p, o->cents_per_kwh, o->price_a, o->device_a ? o->device_a : "?", o->price_b,
            o->device_b ? o->device_b : "?",
            o->pick && !strcmp(o->pick, "least-energy") ? "least generation energy per token"
                                                        : "fastest in generation");
}

static void in_quant_effect(FILE *f, const char *p, const eb_analysis_opts *o)
{
    (void)o;
    fprintf(f,
            "%sinputs: each quantized configuration's mean over its runs divided by its "
            "F16 (else BF16, F32) base's on the same device, threads, governor and power "
            "mode; perplexity: the newest 'edgebench ppl' of each on the same corpus and "
            "context; factors above 1 mean more than the base\n",
            p);
}

static void in_roofline(FILE *f, const char *p, const eb_analysis_opts *o)
{
    (void)o;
    fprintf(f,
            "%sinputs: each trial's mean prefill and generation tokens/s; its model's "
            "shape; its device's newest probe ('edgebench device probe') at the trial's "
            "thread counts (else the nearest probed). Generation limit = bandwidth / (weights "
            "streamed + KV cache at the mean depth) per token; prefill limit = the main "
            "weight type's kernel GFLOP/s / (2 x matrix parameters, output matrix left out) "
            "per token\n",
            p);
}

static void in_fleet(FILE *f, const char *p, const eb_analysis_opts *o)
{
    (void)o;
    fprintf(f,
            "%sinputs: each device's mean generation tokens/s and J/token per configuration "
            "(same board, model, type, threads, governor or power mode, and settings); the "
            "coefficient of variation is the sample standard deviation over those means / "
            "their mean; a configuration on one device only is left out\n",
            p);
}

const eb_analysis eb_analyses[] = {
    {"optimal",
     "best configuration per device and model for each objective (prefill and generation "
     "throughput, energy per token, action per token), with Welch's t-test against the "
     "runner-up",
     EB_AI_CONFIGS, 0, "Optimal configurations", run_optimal, in_optimal},
    {"pareto", "configurations on the front of generation throughput vs energy/token",
     EB_AI_CONFIGS, 0, NULL, run_pareto, in_pareto},
    {"usability",
     "does generation beat reading speed (--words-per-s 4, --words-per-token 0.75: 5.33 "
     "tokens/s)",
     EB_AI_CONFIGS, 0, "Usability (reading speed)", run_usability, in_usability},
    {"battery",
     "runs and hours on a battery (--capacity-wh 18.84) with the least-energy configuration",
     EB_AI_CONFIGS, 0, "Battery", run_battery, in_battery},
    {"cost",
     "energy cost per million input/output tokens (--cents-per-kwh 20) beside cloud prices "
     "(--cloud-input-cents 15 --cloud-output-cents 60)",
     EB_AI_CONFIGS, 0, "Energy cost per million tokens", run_cost, in_cost},
    {"breakeven",
     "years until the dearer device pays back: --device-a NAME --price-a P --device-b NAME "
     "--price-b P [--ratios 10:1,1:1,1:10] [--utilisations 0.25,0.5,0.75,1] "
     "[--pick fastest|least-energy]",
     EB_AI_CONFIGS, 0, NULL, run_breakeven, in_breakeven},
    {"quant-effect",
     "each quantized type against its 16-bit base: change factors of peak memory, throughput, "
     "energy per token and perplexity, and the KL divergence ('edgebench ppl --kl-base') (the "
     "study's Figs. 11-12)",
     EB_AI_CONFIGS, EB_AN_QUALITY, NULL, run_quant_effect, in_quant_effect},
    {"roofline",
     "each trial against its device's probed ceilings ('edgebench device probe'): generation "
     "vs memory bandwidth, prefill vs the kernels",
     EB_AI_CONFIGS, EB_AN_ROOFLINE, NULL, run_roofline, in_roofline},
    {"fleet",
     "configurations measured on two or more devices of one board, side by side: mean, min and "
     "max generation t/s, and the unit-to-unit coefficient of variation of t/s and J/token over "
     "the devices' own means",
     EB_AI_CONFIGS, 0,
     "Fleet: the same configuration on devices of one board (unit-to-unit spread)", run_fleet,
     in_fleet},
    {"fit",
     "where each model stopped fitting: per device, model, type and KV cache type, the largest "
     "context that ran and the smallest that failed, and why",
     EB_AI_TRIALS, 0, NULL, run_fit, NULL},
    {"distributed",
     "a model over RPC nodes ('run --rpc'): generation t/s, J/token of every device, TTFT and "
     "the network's share of a token per number of nodes and link, beside the same model in "
     "one process",
     EB_AI_DISTRIBUTED, 0, NULL, run_distributed, NULL},
    {"capacity",
     "how many people one device serves ('run --engine server'): the most concurrent users "
     "whose streams each stay at reading speed with TTFT within the objective, the energy of "
     "a user-hour there, and the serving stack's cost against the in-process engine",
     EB_AI_SERVING, 0, NULL, run_capacity, in_capacity},
};
const size_t eb_analysis_count = sizeof eb_analyses / sizeof eb_analyses[0];

const eb_analysis *eb_analysis_find(const char *name)
{
    for (size_t i = 0; name && i < eb_analysis_count; i++)
        if (!strcmp(eb_analyses[i].name, name)) return &eb_analyses[i];
    return NULL;
}

void eb_analysis_names(char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < eb_analysis_count && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? ", " : "", eb_analyses[i].name);
}

eb_status eb_analysis_unknown(const char *name, eb_error *err)
{
    char names[512];
    eb_analysis_names(names, sizeof names);
    return eb_fail(err, EB_E_INVALID_ARG, "unknown analysis '%s' (known: %s)", name ? name : "",
                   names);
}

eb_status eb_analysis_table(const char *kind, const eb_config_set *set, const eb_analysis_opts *o,
                            eb_table *out, eb_error *err)
{
    const eb_analysis *a = eb_analysis_find(kind);
    if (!a) return eb_analysis_unknown(kind, err);
    if (a->input != EB_AI_CONFIGS)
        return eb_fail(err, EB_E_INVALID_ARG,
                       "analysis '%s' reads the trials, not the configurations", kind);
    const eb_analysis_data d = {.set = set};
    return a->table(&d, o, out, err);
}
