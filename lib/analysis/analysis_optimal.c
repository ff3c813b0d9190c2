/* optimal: per device, model and workload, the best configuration for each
 * objective against its rivals (the configurations that differ in what the
 * phase depends on), Welch's test with Holm's correction, a bootstrap
 * interval of best minus runner-up. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_out.h"

/* Whether two configurations are the same for a phase's objective: a
 * prefill figure depends neither on the generation threads nor on the
 * generation-only settings (the tokens generated), a generation figure not
 * on the prefill threads. Such configurations are one for that objective:
 * their runs are pooled, never each other's runner-up. */
static bool same_for_phase(const eb_config *a, const eb_config *b, bool prefill)
{
    return eb_config_alike(
        a, b, prefill ? EB_BUT_THREADS_GEN | EB_BUT_GEN_SETTINGS : EB_BUT_THREADS_PREFILL);
}

static bool first_of_model(const eb_config_set *set, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (eb_config_same_model(&set->c[j], &set->c[i])) return false;
    return true;
}

static bool same_workload(const eb_config *a, const eb_config *b, bool prefill)
{
    return a->n_prompt == b->n_prompt && (prefill || a->n_gen == b->n_gen);
}

static bool first_of_workload(const eb_config_set *set, size_t w, bool prefill)
{
    for (size_t j = 0; j < w; j++)
        if (eb_config_same_model(&set->c[j], &set->c[w]) &&
            same_workload(&set->c[j], &set->c[w], prefill))
            return false;
    return true;
}

static bool several_workloads(const eb_config_set *set, const eb_config *g, bool prefill)
{
    const eb_config *first = NULL;
    for (size_t j = 0; j < set->n; j++) {
        const eb_config *x = &set->c[j];
        if (!eb_config_same_model(g, x)) continue;
        if (first && !same_workload(first, x, prefill)) return true;
        if (!first) first = x;
    }
    return false;
}

/* One configuration as a phase's objective sees it: the configurations
 * it pools and their runs together. */
typedef struct phase_class {
    const eb_config *rep;
    double *v;
    size_t n, cap;
    int members;
    double mean, p, p_holm;
    double u95; /* energy objectives: the mean's interval with the sensor's bounds */
} phase_class;

/* An energy objective's rival whose interval overlaps the best's cannot be
 * told from it, whatever the test of the runs says: the sensor's bounds
 * are not in the runs' spread. */
static bool overlaps(const phase_class *a, const phase_class *b)
{
    return isfinite(a->u95) && isfinite(b->u95) && fabs(a->mean - b->mean) <= a->u95 + b->u95;
}

static bool class_add(phase_class *c, const eb_samples *x)
{
    if (c->n + x->n > c->cap) {
        size_t cap = (c->n + x->n) * 2;
        double *g = realloc(c->v, cap * sizeof *g);
        if (!g) return false;
        c->v = g, c->cap = cap;
    }
    memcpy(c->v + c->n, x->v, x->n * sizeof *x->v);
    c->n += x->n;
    c->members++;
    return true;
}

/* "prefill 2 threads, ..., ctx 8192" (what the phase depends on), with
 * what was pooled. */
static void describe_phase(const phase_class *c, bool prefill, char *out, size_t cap)
{
    const eb_config *x = c->rep;
    int t = prefill ? x->threads_prefill : x->threads_gen;
    char rest[256];
    eb_config_label(t, t, x->governor, x->power_mode, x->gpu_layers, x->energy_estimate, rest,
                    sizeof rest);
    const char *settings = prefill ? x->prefill_settings : x->settings;
    int n = snprintf(out, cap, "%s %s%s%s", prefill ? "prefill" : "generation", rest,
                     settings[0] ? ", " : "", settings);
    if (c->members > 1 && n >= 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, " (%d configurations pooled: they differ only in %s)",
                 c->members,
                 prefill ? "generation threads or tokens generated" : "prefill threads");
}

static int by_p(const void *x, const void *y)
{
    const phase_class *a = x, *b = y;
    return (a->p > b->p) - (a->p < b->p);
}

/* Holm's step-down adjustment of m p-values (sorted ascending in place):
 * the family's error rate stays at alpha however many rivals the best has. */
static void holm(phase_class *r, size_t m)
{
    qsort(r, m, sizeof *r, by_p);
    double run = 0;
    for (size_t i = 0; i < m; i++) {
        double adj = fmin(1.0, (double)(m - i) * r[i].p);
        run = fmax(run, adj);
        r[i].p_holm = run;
    }
}

void eb_optimal_rows(const eb_config_set *set, const eb_analysis_opts *o, out_table *ot)
{
    static const struct {
        int av;
        bool higher, prefill;
        const char *objective, *unit;
    } goals[] = {
        {EB_AV_PREFILL_TPS, true, true, "prefill throughput", "tokens/s"},
        {EB_AV_GEN_TPS, true, false, "generation throughput", "tokens/s"},
        {EB_AV_PREFILL_JPT, false, true, "prefill energy per token", "J/token"},
        {EB_AV_GEN_JPT, false, false, "generation energy per token", "J/token"},
        {EB_AV_PREFILL_ACTION, false, true, "prefill action per token", "J*s/token"},
        {EB_AV_GEN_ACTION, false, false, "generation action per token", "J*s/token"},
    };
    const char *names[] = {
        "device",  "model",       "quant",        "objective",    "best",
        "value",   "unit",        "runs",         "runner_up",    "runner_up_value",
        "p_value", "significant", "diff_ci95_lo", "diff_ci95_hi", "within_noise_of_best",
        "value_u95"};
    const unsigned char kinds[] = {0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1};
    ot->ok = eb_table_init(&ot->t, 16, names, kinds) == EB_OK;
    phase_class *cls = calloc(set->n + 1, sizeof *cls);
    if (!cls) ot->ok = false;
    for (size_t i = 0; ot->ok && i < set->n; i++) {
        if (!first_of_model(set, i)) continue;
        const eb_config *g = &set->c[i];
        for (size_t k = 0; ot->ok && k < sizeof goals / sizeof goals[0]; k++)
            for (size_t w = 0; ot->ok && w < set->n; w++) {
                int av = goals[k].av;
                bool prefill = goals[k].prefill;
                /* one row per workload (tokens prefilled; and generated, for a
                 * generation objective): another workload is another question */
                const eb_config *wl = &set->c[w];
                if (!eb_config_same_model(g, wl) || !first_of_workload(set, w, prefill)) continue;
                char objective[160];
                bool several = several_workloads(set, g, prefill);
                if (several && prefill)
                    snprintf(objective, sizeof objective, "%s, prompt %d tokens",
                             goals[k].objective, wl->n_prompt);
                else if (several)
                    snprintf(objective, sizeof objective, "%s at %d prompt tokens, %d generated",
                             goals[k].objective, wl->n_prompt, wl->n_gen);
                else
                    snprintf(objective, sizeof objective, "%s", goals[k].objective);
                char d1[600] = "", d2[600] = "", v1[32], v2[32], pv[32], nr[16], sig[128];
                char lo[32], hi[32], near[1024] = "", u95[32];
                char *cells[16] = {(char *)g->device, (char *)g->model, (char *)g->quant,
                                   objective};
                /* the group's configurations as this phase sees them */
                size_t m = 0;
                for (size_t j = 0; ot->ok && j < set->n; j++) {
                    const eb_config *x = &set->c[j];
                    if (!eb_config_same_model(g, x) || x->s[av].n == 0 ||
                        !same_workload(x, wl, prefill))
                        continue;
                    size_t c = 0;
                    while (c < m && !same_for_phase(cls[c].rep, x, prefill))
                        c++;
                    if (c == m) cls[m++] = (phase_class){.rep = x};
                    ot->ok = class_add(&cls[c], &x->s[av]);
                }
                size_t best = 0;
                for (size_t c = 0; c < m; c++) {
                    eb_samples pooled = {.v = cls[c].v, .n = cls[c].n};
                    cls[c].mean = eb_samples_mean(&pooled);
                    cls[c].u95 = eb_energy_figure_u95(cls[c].v, cls[c].n, cls[c].rep, av, NULL);
                    if (goals[k].higher ? cls[c].mean > cls[best].mean
                                        : cls[c].mean < cls[best].mean)
                        best = c;
                }
                if (m == 0) {
                    cells[4] =
                        (char *)(av >= EB_AV_PREFILL_JPT ? NO_ENERGY : "not available: no runs");
                    add(ot, cells);
                    continue;
                }
                /* the best first, then its rivals with their corrected p */
                phase_class t = cls[0];
                cls[0] = cls[best];
                cls[best] = t;
                phase_class *b = &cls[0], *r = cls + 1;
                size_t nr_r = m - 1;
                for (size_t c = 0; c < nr_r; c++)
                    r[c].p = eb_welch_p(b->v, b->n, r[c].v, r[c].n);
                holm(r, nr_r);
                const phase_class *second = NULL;
                for (size_t c = 0; c < nr_r; c++)
                    if (!second ||
                        (goals[k].higher ? r[c].mean > second->mean : r[c].mean < second->mean))
                        second = &r[c];
                describe_phase(b, prefill, d1, sizeof d1);
                cells[4] = d1;
                cells[5] = fmt(v1, sizeof v1, b->mean);
                cells[15] = fmt(u95, sizeof u95, b->u95);
                cells[6] = (char *)goals[k].unit;
                snprintf(nr, sizeof nr, "%zu", b->n);
                cells[7] = nr;
                if (second) {
                    describe_phase(second, prefill, d2, sizeof d2);
                    cells[8] = d2;
                    cells[9] = fmt(v2, sizeof v2, second->mean);
                    cells[10] = fmt(pv, sizeof pv, second->p_holm);
                    if (second->p_holm < o->alpha && overlaps(b, second))
                        snprintf(sig, sizeof sig,
                                 "not distinguishable: the 95%% intervals with the sensor's "
                                 "bounds overlap");
                    else if (second->p_holm < o->alpha)
                        snprintf(sig, sizeof sig, "yes (Holm-adjusted over %zu rival%s)", nr_r,
                                 nr_r == 1 ? "" : "s");
                    else
                        snprintf(sig, sizeof sig,
                                 "not distinguishable: within run-to-run noise (Holm-adjusted over "
                                 "%zu rival%s)",
                                 nr_r, nr_r == 1 ? "" : "s");
                    cells[11] = sig;
                    double l, h;
                    if (o->bootstrap > 0 && eb_bootstrap_diff_ci(b->v, b->n, second->v, second->n,
                                                                 o->bootstrap, 42, &l, &h)) {
                        cells[12] = fmt(lo, sizeof lo, l);
                        cells[13] = fmt(hi, sizeof hi, h);
                    }
                } else {
                    cells[11] = prefill ? "only one prefill configuration"
                                        : "only one generation configuration";
                }
                /* every rival the corrected test cannot tell from the best */
                size_t len = 0;
                int n_near = 0;
                for (size_t c = 0; c < nr_r; c++) {
                    if (r[c].p_holm < o->alpha && !overlaps(b, &r[c])) continue;
                    char d[600];
                    describe_phase(&r[c], prefill, d, sizeof d);
                    if (len < sizeof near)
                        len += (size_t)snprintf(near + len, sizeof near - len, "%s%s",
                                                n_near ? "; " : "", d);
                    n_near++;
                }
                cells[14] = n_near ? near : "none";
                add(ot, cells);
                for (size_t c = 0; c < m; c++)
                    free(cls[c].v);
            }
    }
    free(cls);
}
