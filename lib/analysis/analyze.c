/* The study's section 6 formulas, Welch's test, the Pareto front, and the
 * grouping of stored runs into configurations. */
#include "edgebench/analyze.h"
#include "edgebench/energy.h"
#include "edgebench/params.h"
#include "edgebench/stats.h"
#include "edgebench/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double eb_reading_tokens_per_s(double words_per_s, double words_per_token)
{
    return words_per_token > 0 ? words_per_s / words_per_token : NAN;
}

double eb_battery_runs(double capacity_wh, double run_energy_j)
{
    return run_energy_j > 0 ? capacity_wh * 3600.0 / run_energy_j : NAN;
}

double eb_cost_per_mtok_cents(double j_per_token, double cents_per_kwh)
{
    return j_per_token * 1e6 / 3.6e6 * cents_per_kwh;
}

double eb_breakeven_years(const eb_device_costs *a, const eb_device_costs *b, double in_tokens,
                          double out_tokens, double mu, double price_per_kwh)
{
    if (a->price <= b->price) return 0; /* no extra price to pay back */
    double t_unit = in_tokens / a->prefill_tps + out_tokens / a->gen_tps;
    double e_a = in_tokens * a->prefill_jpt + out_tokens * a->gen_jpt;
    double e_b = in_tokens * b->prefill_jpt + out_tokens * b->gen_jpt;
    if (!(t_unit > 0) || !(mu > 0) || !(e_b > e_a)) return INFINITY;
    double units_per_year = mu * 365.25 * 86400.0 / t_unit;
    double saving_per_year = units_per_year * (e_b - e_a) / 3.6e6 * price_per_kwh;
    return (a->price - b->price) / saving_per_year;
}

/* ---- Welch's t-test ---- */

/* Continued fraction of the incomplete beta function (modified Lentz). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 300; m++) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-15) break;
    }
    return h;
}

/* Regularised incomplete beta I_x(a, b). */
static double beta_inc(double a, double b, double x)
{
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(1 - x));
    if (x < (a + 1) / (a + b + 2)) return front * beta_cf(a, b, x) / a;
    return 1 - front * beta_cf(b, a, 1 - x) / b;
}

static void mean_var(const double *v, size_t n, double *mean, double *var)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    *mean = s / (double)n;
    double q = 0;
    for (size_t i = 0; i < n; i++)
        q += (v[i] - *mean) * (v[i] - *mean);
    *var = n > 1 ? q / (double)(n - 1) : 0;
}

bool eb_bootstrap_diff_ci(const double *a, size_t na, const double *b, size_t nb, int iters,
                          uint64_t seed, double *lo, double *hi)
{
    if (na < 2 || nb < 2 || iters < 20) return false;
    double *d = malloc((size_t)iters * sizeof *d);
    if (!d) return false;
    uint64_t rng = seed;
    for (int it = 0; it < iters; it++) {
        double sa = 0, sb = 0;
        for (size_t i = 0; i < na; i++)
            sa += a[eb_rng_next(&rng) % na];
        for (size_t i = 0; i < nb; i++)
            sb += b[eb_rng_next(&rng) % nb];
        d[it] = sa / (double)na - sb / (double)nb;
    }
    *lo = eb_percentile(d, (size_t)iters, 2.5);
    *hi = eb_percentile(d, (size_t)iters, 97.5);
    free(d);
    return true;
}

double eb_welch_p(const double *a, size_t na, const double *b, size_t nb)
{
    if (na < 2 || nb < 2) return 1;
    double ma, va, mb, vb;
    mean_var(a, na, &ma, &va);
    mean_var(b, nb, &mb, &vb);
    double sa = va / (double)na, sb = vb / (double)nb;
    if (sa + sb <= 0) return ma == mb ? 1 : 0;
    double t = (ma - mb) / sqrt(sa + sb);
    double df = (sa + sb) * (sa + sb) / (sa * sa / (double)(na - 1) + sb * sb / (double)(nb - 1));
    return beta_inc(df / 2, 0.5, df / (df + t * t));
}

void eb_pareto(const double *x_higher, const double *y_lower, size_t n, bool *on_front)
{
    for (size_t i = 0; i < n; i++) {
        on_front[i] = isfinite(x_higher[i]) && isfinite(y_lower[i]);
        for (size_t j = 0; j < n && on_front[i]; j++) {
            if (j == i || !isfinite(x_higher[j]) || !isfinite(y_lower[j])) continue;
            bool no_worse = x_higher[j] >= x_higher[i] && y_lower[j] <= y_lower[i];
            bool better = x_higher[j] > x_higher[i] || y_lower[j] < y_lower[i];
            if (no_worse && better) on_front[i] = false;
        }
    }
}

/* ---- configurations ---- */

static const char *const av_columns[EB_AV_COUNT] = {"prefill_tps",
                                                    "gen_tps",
                                                    "prefill_j_per_token",
                                                    "gen_j_per_token",
                                                    "prefill_action_js",
                                                    "gen_action_js",
                                                    "run_energy_j",
                                                    "e2e_s",
                                                    "load_s",
                                                    "peak_rss_mib",
                                                    "gen_cache_misses_per_token",
                                                    "gen_context_switches_per_token",
                                                    "prefill_s",
                                                    "gen_s",
                                                    "prefill_cache_misses_per_token",
                                                    "prefill_context_switches_per_token",
                                                    "prefill_energy_u_sys_rel",
                                                    "prefill_energy_u_rand_rel",
                                                    "gen_energy_u_sys_rel",
                                                    "gen_energy_u_rand_rel",
                                                    "run_energy_u_sys_rel",
                                                    "run_energy_u_rand_rel"};

double eb_config_energy_u95(const eb_config *c, int av, bool *sys_left_out)
{
    return eb_energy_figure_u95(c->s[av].v, c->s[av].n, c, av, sys_left_out);
}

double eb_energy_figure_u95(const double *v, size_t n, const eb_config *c, int av,
                            bool *sys_left_out)
{
    int sys_av = av == EB_AV_PREFILL_JPT || av == EB_AV_PREFILL_ACTION ? EB_AV_PREFILL_U_SYS
                 : av == EB_AV_GEN_JPT || av == EB_AV_GEN_ACTION       ? EB_AV_GEN_U_SYS
                 : av == EB_AV_RUN_ENERGY                              ? EB_AV_RUN_U_SYS
                                                                       : -1;
    if (sys_left_out) *sys_left_out = false;
    if (sys_av < 0 || c->energy_estimate || n == 0) return NAN;
    const eb_samples *us = &c->s[sys_av], *ur = &c->s[sys_av + 1];
    eb_stats st;
    eb_stats_compute(v, n, &st);
    double ci = st.n > 1 ? 0.5 * (st.ci95_hi - st.ci95_lo) : 0;
    if (sys_left_out) *sys_left_out = us->n == 0;
    double m = fabs(st.mean);
    return eb_energy_u95(ci, st.n, us->n ? eb_samples_mean(us) * m : NAN,
                         ur->n ? eb_samples_mean(ur) * m : NAN);
}

bool eb_config_overlap(const eb_config *a, const eb_config *b, int av)
{
    double ua = eb_config_energy_u95(a, av, NULL), ub = eb_config_energy_u95(b, av, NULL);
    eb_stats sa, sb;
    eb_stats_compute(a->s[av].v, a->s[av].n, &sa);
    eb_stats_compute(b->s[av].v, b->s[av].n, &sb);
    if (sa.n == 0 || sb.n == 0) return false;
    if (isnan(ua)) ua = sa.n > 1 ? 0.5 * (sa.ci95_hi - sa.ci95_lo) : 0;
    if (isnan(ub)) ub = sb.n > 1 ? 0.5 * (sb.ci95_hi - sb.ci95_lo) : 0;
    return fabs(sa.mean - sb.mean) <= ua + ub;
}

const char *eb_av_name(int v)
{
    return v >= 0 && v < EB_AV_COUNT ? av_columns[v] : "?";
}

double eb_samples_mean(const eb_samples *s)
{
    if (s->n == 0) return NAN;
    double t = 0;
    for (size_t i = 0; i < s->n; i++)
        t += s->v[i];
    return t / (double)s->n;
}

static bool push(eb_samples *s, double v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        double *g = realloc(s->v, cap * sizeof *g);
        if (!g) return false;
        s->v = g;
        s->cap = cap;
    }
    s->v[s->n++] = v;
    return true;
}

static const char *cell(const eb_table *t, size_t r, int c)
{
    const char *v = eb_table_cell(t, r, c);
    return v ? v : "";
}

bool eb_config_alike(const eb_config *a, const eb_config *b, unsigned but)
{
    return eb_config_same_model(a, b) && !strcmp(a->governor, b->governor) &&
           !strcmp(a->power_mode, b->power_mode) && a->gpu_layers == b->gpu_layers &&
           ((but & EB_BUT_THREADS_PREFILL) || a->threads_prefill == b->threads_prefill) &&
           ((but & EB_BUT_THREADS_GEN) || a->threads_gen == b->threads_gen) &&
           !strcmp(but & EB_BUT_GEN_SETTINGS ? a->prefill_settings : a->settings,
                   but & EB_BUT_GEN_SETTINGS ? b->prefill_settings : b->settings) &&
           ((but & EB_BUT_PROMPT) || a->n_prompt == b->n_prompt) &&
           ((but & EB_BUT_MODEL_FILE) || a->model_id == b->model_id) &&
           ((but & EB_BUT_BUILD) || a->build_id == b->build_id);
}

void eb_settings_columns_find(const eb_table *t, eb_settings_columns *sc)
{
    const eb_param *rows[EB_PARAM_MAX];
    size_t n = eb_stored_settings(rows, EB_PARAM_MAX);
    sc->n = 0;
    for (size_t i = 0; i < n && i < EB_PARAM_MAX; i++) {
        if (!rows[i]->words) continue;
        sc->row[sc->n] = rows[i];
        sc->col[sc->n++] = eb_table_column(t, eb_setting_column(rows[i]));
    }
}

void eb_settings_label_phase(const eb_table *t, const eb_settings_columns *sc, size_t r,
                             bool prefill, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < sc->n; i++)
        if (!prefill || !(sc->row[i]->flags & EB_PF_GEN_ONLY))
            eb_setting_label_add(
                sc->row[i], sc->col[i] >= 0 ? eb_table_cell(t, r, sc->col[i]) : NULL, out, cap);
}

void eb_settings_label(const eb_table *t, const eb_settings_columns *sc, size_t r, char *out,
                       size_t cap)
{
    eb_settings_label_phase(t, sc, r, false, out, cap);
}

static uint64_t config_hash(const eb_config *k)
{
    uint64_t h = EB_FNV1A_OFFSET;
    h = eb_fnv1a(h, k->device);
    h = eb_fnv1a(h, k->model);
    h = eb_fnv1a(h, k->quant);
    h = eb_fnv1a(h, k->governor);
    h = eb_fnv1a(h, k->power_mode);
    h = eb_fnv1a(h, k->settings);
    long long nums[] = {k->threads_prefill, k->threads_gen, k->gpu_layers, k->energy_estimate,
                        k->n_prompt,        k->model_id,    k->build_id};
    return eb_fnv1a_bytes(h, nums, sizeof nums);
}

/* Slots hold a configuration's index + 1 (0: empty); the table is kept at
 * most half full, rebuilt twice as large when it fills. */
static bool grow_slots(size_t **slots, size_t *n_slots, const eb_config_set *set)
{
    size_t n = *n_slots ? *n_slots * 2 : 1024;
    size_t *s = calloc(n, sizeof *s);
    if (!s) return false;
    for (size_t i = 0; i < set->n; i++) {
        size_t k = config_hash(&set->c[i]) & (n - 1);
        while (s[k])
            k = (k + 1) & (n - 1);
        s[k] = i + 1;
    }
    free(*slots);
    *slots = s;
    *n_slots = n;
    return true;
}

/* The settings' words gain what tells apart configurations that are
 * otherwise alike: "prompt 64 tokens", "model file 2", "build b6123 CPU".
 * Said only where it matters, so a store of one build and prompt reads as
 * before. O(n^2) in the configurations, not in the runs. */
static void name_differences(eb_config_set *set)
{
    bool *np = calloc(set->n + 1, 3 * sizeof *np);
    if (!np) return;
    for (size_t i = 0; i < set->n; i++)
        for (size_t j = i + 1; j < set->n; j++)
            for (int but = 0; but < 3; but++) {
                const eb_config *a = &set->c[i], *b = &set->c[j];
                bool differ = but == 0   ? a->n_prompt != b->n_prompt
                              : but == 1 ? a->model_id != b->model_id
                                         : a->build_id != b->build_id;
                static const unsigned except[] = {EB_BUT_PROMPT, EB_BUT_MODEL_FILE, EB_BUT_BUILD};
                if (differ && eb_config_alike(a, b, except[but]))
                    np[3 * i + but] = np[3 * j + but] = true;
            }
    for (size_t i = 0; i < set->n; i++) {
        eb_config *c = &set->c[i];
        char add[256] = "";
        size_t n = 0;
        if (np[3 * i])
            n += (size_t)snprintf(add + n, sizeof add - n, ", prompt %d tokens", c->n_prompt);
        if (np[3 * i + 1] && n < sizeof add)
            n += (size_t)snprintf(add + n, sizeof add - n, ", model file %lld", c->model_id);
        if (np[3 * i + 2] && n < sizeof add)
            snprintf(add + n, sizeof add - n, ", build %s", c->build[0] ? c->build : "unknown");
        if (!add[0]) continue;
        char *labels[] = {c->settings, c->prefill_settings};
        for (int k = 0; k < 2; k++) {
            size_t len = strlen(labels[k]);
            /* no leading ", " on an empty label */
            snprintf(labels[k] + len, sizeof c->settings - len, "%s", len ? add : add + 2);
        }
    }
    free(np);
}

eb_status eb_configs_from_runs(const eb_table *runs, eb_config_set *out, eb_error *err)
{
    return eb_configs_from_runs_with(runs, false, out, err);
}

eb_status eb_configs_from_runs_with(const eb_table *runs, bool with_disturbed, eb_config_set *out,
                                    eb_error *err)
{
    size_t *slots = NULL, n_slots = 0;
    memset(out, 0, sizeof *out);
    int c_board = eb_table_column(runs, "board");
    int c_dev = eb_table_column(runs, "device"), c_model = eb_table_column(runs, "model"),
        c_quant = eb_table_column(runs, "quant"), c_gov = eb_table_column(runs, "governor"),
        c_pm = eb_table_column(runs, "power_mode"), c_tp = eb_table_column(runs, "threads_prefill"),
        c_tg = eb_table_column(runs, "threads_gen"), c_warm = eb_table_column(runs, "warmup"),
        c_status = eb_table_column(runs, "status"),
        c_gpu = eb_table_column(runs, "gpu_layers_offloaded"),
        c_est = eb_table_column(runs, "energy_estimate");
    int c_par = eb_table_column(runs, "n_parallel");
    int c_np = eb_table_column(runs, "trial_n_prompt"), c_mid = eb_table_column(runs, "model_id"),
        c_bid = eb_table_column(runs, "build_id"), c_build = eb_table_column(runs, "build"),
        c_ng = eb_table_column(runs, "n_gen"), c_dist = eb_table_column(runs, "disturbed");
    eb_settings_columns set_cols;
    eb_settings_columns_find(runs, &set_cols);
    if (c_dev < 0 || c_model < 0 || c_tg < 0 || c_warm < 0)
        return eb_fail(err, EB_E_INTERNAL, "analysis: the runs table lacks its key columns");
    int c_av[EB_AV_COUNT];
    for (int v = 0; v < EB_AV_COUNT; v++)
        c_av[v] = eb_table_column(runs, av_columns[v]);
    size_t cap = 0;
    for (size_t r = 0; r < runs->nrow; r++) {
        if (atoi(cell(runs, r, c_warm)) != 0) continue;
        if (c_status >= 0 && strcmp(cell(runs, r, c_status), "ok") != 0) continue;
        if (c_dist >= 0 && atoi(cell(runs, r, c_dist)) == 1) {
            out->n_disturbed++;
            if (!with_disturbed) continue;
        }
        eb_config key = {0};
        snprintf(key.device, sizeof key.device, "%s", cell(runs, r, c_dev));
        snprintf(key.board, sizeof key.board, "%s", cell(runs, r, c_board));
        snprintf(key.model, sizeof key.model, "%s", cell(runs, r, c_model));
        snprintf(key.quant, sizeof key.quant, "%s", cell(runs, r, c_quant));
        snprintf(key.governor, sizeof key.governor, "%s", cell(runs, r, c_gov));
        snprintf(key.power_mode, sizeof key.power_mode, "%s", cell(runs, r, c_pm));
        key.threads_prefill = atoi(cell(runs, r, c_tp));
        key.threads_gen = atoi(cell(runs, r, c_tg));
        key.gpu_layers = atoi(cell(runs, r, c_gpu));
        key.energy_estimate = atoi(cell(runs, r, c_est)) != 0;
        eb_settings_label(runs, &set_cols, r, key.settings, sizeof key.settings);
        eb_settings_label_phase(runs, &set_cols, r, true, key.prefill_settings,
                                sizeof key.prefill_settings);
        key.n_parallel = atoi(cell(runs, r, c_par)) > 1 ? atoi(cell(runs, r, c_par)) : 1;
        key.n_prompt = atoi(cell(runs, r, c_np));
        key.n_gen = atoi(cell(runs, r, c_ng));
        key.model_id = atoll(cell(runs, r, c_mid));
        key.build_id = atoll(cell(runs, r, c_bid));
        snprintf(key.build, sizeof key.build, "%s", cell(runs, r, c_build));
        /* found by a hash of the key: one step per run however many
         * configurations the store holds */
        uint64_t h = config_hash(&key);
        size_t slot = 0;
        eb_config *c = NULL;
        if (out->n * 2 >= n_slots && !grow_slots(&slots, &n_slots, out)) goto nomem;
        for (slot = h & (n_slots - 1); slots[slot]; slot = (slot + 1) & (n_slots - 1))
            if (eb_config_alike(&out->c[slots[slot] - 1], &key, 0)) {
                c = &out->c[slots[slot] - 1];
                break;
            }
        if (!c) {
            if (out->n == cap) {
                cap = cap ? cap * 2 : 16;
                eb_config *g = realloc(out->c, cap * sizeof *g);
                if (!g) goto nomem;
                out->c = g;
            }
            c = &out->c[out->n++];
            *c = key;
            slots[slot] = out->n;
        }
        for (int v = 0; v < EB_AV_COUNT; v++) {
            const char *x = c_av[v] >= 0 ? runs->cell[r * runs->ncol + (size_t)c_av[v]] : NULL;
            if (x && !push(&c->s[v], strtod(x, NULL))) goto nomem;
        }
    }
    free(slots);
    name_differences(out);
    return EB_OK;
nomem:
    free(slots);
    eb_config_set_free(out);
    return eb_fail(err, EB_E_NO_MEMORY, "analysis: out of memory");
}

void eb_config_set_free(eb_config_set *set)
{
    for (size_t i = 0; set->c && i < set->n; i++)
        for (int v = 0; v < EB_AV_COUNT; v++)
            free(set->c[i].s[v].v);
    free(set->c);
    memset(set, 0, sizeof *set);
}

bool eb_config_same_model(const eb_config *a, const eb_config *b)
{
    return !strcmp(a->device, b->device) && !strcmp(a->model, b->model) &&
           !strcmp(a->quant, b->quant) && a->energy_estimate == b->energy_estimate;
}

bool eb_config_same_group(const eb_config *a, const eb_config *b)
{
    return eb_config_same_model(a, b) && a->n_prompt == b->n_prompt && a->n_gen == b->n_gen;
}

bool eb_config_first_of_group(const eb_config_set *set, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (eb_config_same_group(&set->c[j], &set->c[i])) return false;
    return true;
}

const eb_config *eb_config_best(const eb_config_set *set, const eb_config *group, int av,
                                bool higher, const eb_config **second)
{
    const eb_config *best = NULL, *next = NULL;
    double m_best = 0, m_next = 0;
    for (size_t i = 0; i < set->n; i++) {
        const eb_config *c = &set->c[i];
        if (!eb_config_same_group(c, group) || c->s[av].n == 0) continue;
        double m = eb_samples_mean(&c->s[av]);
        if (!best || (higher ? m > m_best : m < m_best)) {
            next = best;
            m_next = m_best;
            best = c;
            m_best = m;
        } else if (!next || (higher ? m > m_next : m < m_next)) {
            next = c;
            m_next = m;
        }
    }
    if (second) *second = next;
    return best;
}

eb_status eb_store_configs(eb_store *s, const eb_results_filter *f, eb_config_set *out,
                           eb_error *err)
{
    memset(out, 0, sizeof *out);
    eb_table runs;
    eb_status st = eb_store_results(s, EB_VIEW_ANALYSIS, f, &runs, err);
    if (st != EB_OK) return st;
    st = eb_configs_from_runs_with(&runs, f && f->with_disturbed, out, err);
    eb_table_free(&runs);
    return st;
}

void eb_config_label(int threads_prefill, int threads_gen, const char *governor,
                     const char *power_mode, int gpu_layers, bool energy_estimate, char *out,
                     size_t cap)
{
    /* which count is which phase's, in words; one count when they agree */
    int n = threads_prefill == threads_gen
                ? snprintf(out, cap, "%d thread%s", threads_gen, threads_gen == 1 ? "" : "s")
                : snprintf(out, cap, "prefill %d thread%s, generation %d", threads_prefill,
                           threads_prefill == 1 ? "" : "s", threads_gen);
    if (governor[0] && n >= 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, ", governor %s", governor);
    if (power_mode[0] && n >= 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, ", %s%s", power_mode,
                      eb_strstr_ci(power_mode, "mode") ? "" : " mode");
    if (gpu_layers > 0 && n >= 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, ", %d layers on the GPU", gpu_layers);
    if (energy_estimate && n >= 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, ", energy ESTIMATE");
}

size_t eb_configs_estimated(const eb_config_set *set)
{
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++)
        n += set->c[i].energy_estimate;
    return n;
}
