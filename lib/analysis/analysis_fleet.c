/* The fleet view: the same model and configuration on several devices side
 * by side, and the unit-to-unit spread among devices of one board: the
 * coefficient of variation (sample standard deviation / mean, over the
 * devices' own means) of generation t/s and of J/token per configuration. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/analysis.h"

static bool same_but_device(const eb_config *a, const eb_config *b)
{
    return !strcmp(a->board, b->board) && !strcmp(a->model, b->model) &&
           !strcmp(a->quant, b->quant) && !strcmp(a->governor, b->governor) &&
           !strcmp(a->power_mode, b->power_mode) && a->threads_prefill == b->threads_prefill &&
           a->threads_gen == b->threads_gen && a->gpu_layers == b->gpu_layers &&
           a->energy_estimate == b->energy_estimate && !strcmp(a->settings, b->settings);
}

/* mean and coefficient of variation of n values (NaN skipped) */
static void spread(const double *v, size_t n, double *mean, double *cv, double *lo, double *hi,
                   size_t *used)
{
    double s = 0, ss = 0;
    size_t k = 0;
    *lo = INFINITY, *hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            s += v[i], ss += v[i] * v[i], k++;
            *lo = fmin(*lo, v[i]), *hi = fmax(*hi, v[i]);
        }
    *used = k;
    *mean = k ? s / (double)k : NAN;
    double var = k > 1 ? (ss - (double)k * *mean * *mean) / (double)(k - 1) : NAN;
    *cv = k > 1 && *mean > 0 ? sqrt(var > 0 ? var : 0) / *mean : NAN;
    if (!k) *lo = *hi = NAN;
}

eb_status eb_fleet_spread_table(const eb_config_set *set, eb_table *out, eb_error *err)
{
    static const char *const names[] = {"board",
                                        "model",
                                        "quant",
                                        "configuration",
                                        "devices",
                                        "device_names",
                                        "gen_tps_mean",
                                        "gen_tps_min",
                                        "gen_tps_max",
                                        "gen_tps_cv",
                                        "gen_j_per_token_mean",
                                        "gen_j_per_token_cv",
                                        "energy"};
    static const unsigned char numeric[] = {0, 0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0};
    if (eb_table_init(out, 13, names, numeric) != EB_OK)
        return eb_fail(err, EB_E_NO_MEMORY, "fleet: out of memory");
    bool *seen = calloc(set->n ? set->n : 1, sizeof *seen);
    double *tps = calloc(set->n ? set->n : 1, sizeof *tps),
           *jpt = calloc(set->n ? set->n : 1, sizeof *jpt);
    char *devs = NULL;
    size_t devs_cap = 0;
    eb_status st =
        seen && tps && jpt ? EB_OK : eb_fail(err, EB_E_NO_MEMORY, "fleet: out of memory");
    for (size_t i = 0; st == EB_OK && i < set->n; i++) {
        if (seen[i]) continue;
        size_t n = 0, len = 0;
        for (size_t j = i; j < set->n; j++) {
            if (seen[j] || !same_but_device(&set->c[i], &set->c[j])) continue;
            seen[j] = true;
            tps[n] = eb_samples_mean(&set->c[j].s[EB_AV_GEN_TPS]);
            jpt[n] = eb_samples_mean(&set->c[j].s[EB_AV_GEN_JPT]);
            n++;
            size_t need = len + strlen(set->c[j].device) + 3;
            if (need > devs_cap) {
                devs_cap = need * 2;
                char *g = realloc(devs, devs_cap);
                if (!g) {
                    st = eb_fail(err, EB_E_NO_MEMORY, "fleet: out of memory");
                    break;
                }
                devs = g;
            }
            len += (size_t)snprintf(devs + len, devs_cap - len, "%s%s", len ? ", " : "",
                                    set->c[j].device);
        }
        if (st != EB_OK || n < 2) continue; /* one device: no spread to tell */
        double tm, tcv, tlo, thi, jm, jcv, jlo, jhi;
        size_t tu, ju;
        spread(tps, n, &tm, &tcv, &tlo, &thi, &tu);
        spread(jpt, n, &jm, &jcv, &jlo, &jhi, &ju);
        char label[600], nd[16], b[6][32];
        eb_config_label(set->c[i].threads_prefill, set->c[i].threads_gen, set->c[i].governor,
                        set->c[i].power_mode, set->c[i].gpu_layers, set->c[i].energy_estimate,
                        label, sizeof label);
        size_t ll = strlen(label);
        if (set->c[i].settings[0] && ll < sizeof label)
            snprintf(label + ll, sizeof label - ll, ", %s", set->c[i].settings);
        snprintf(nd, sizeof nd, "%zu", n);
        char *cells[] = {set->c[i].board[0] ? set->c[i].board : "(board not known)",
                         set->c[i].model,
                         set->c[i].quant,
                         label,
                         nd,
                         devs,
                         eb_cell_num(b[0], 32, tm, 4),
                         eb_cell_num(b[1], 32, tlo, 4),
                         eb_cell_num(b[2], 32, thi, 4),
                         eb_cell_num(b[3], 32, tcv, -4),
                         eb_cell_num(b[4], 32, jm, 4),
                         eb_cell_num(b[5], 32, jcv, -4),
                         ju == 0                     ? "not available: no energy sensor"
                         : set->c[i].energy_estimate ? "ESTIMATE (CPU load x TDP)"
                                                     : "measured"};
        if (eb_table_add_row(out, cells) != EB_OK)
            st = eb_fail(err, EB_E_NO_MEMORY, "fleet: out of memory");
    }
    free(seen);
    free(tps);
    free(jpt);
    free(devs);
    if (st != EB_OK) eb_table_free(out);
    return st;
}
