/* Where each model stopped fitting: from the stored trials, per device,
 * model, weight type and KV cache type, the largest context that ran and
 * the smallest that failed, with the failure's reason. A failed trial is a
 * result: this is the answer a user with an 8 GB board needs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/analysis.h"
#include "edgebench/params.h"

typedef struct fit_row {
    const char *device, *model, *quant, *type_k, *type_v;
    long ran_ctx;    /* largest context of an ok trial, -1: none */
    long failed_ctx; /* smallest context of a failed trial, -1: none */
    const char *reason;
    size_t n_ok, n_failed;
} fit_row;

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static bool same(const fit_row *f, const char *d, const char *m, const char *q, const char *k,
                 const char *v)
{
    return !strcmp(f->device, d) && !strcmp(f->model, m) && !strcmp(f->quant, q) &&
           !strcmp(f->type_k, k) && !strcmp(f->type_v, v);
}

eb_status eb_fit_table(const eb_table *trials, eb_table *out, eb_error *err)
{
    int c_dev = eb_table_column(trials, "device"), c_model = eb_table_column(trials, "model"),
        c_quant = eb_table_column(trials, "quant"), c_ctx = eb_table_column(trials, "n_ctx"),
        c_k = eb_table_column(trials, "type_k"), c_v = eb_table_column(trials, "type_v"),
        c_status = eb_table_column(trials, "status"), c_reason = eb_table_column(trials, "reason");
    if (c_model < 0 || c_ctx < 0 || c_status < 0)
        return eb_fail(err, EB_E_INTERNAL, "fit: the trials table lacks its columns");
    fit_row *rows = NULL;
    size_t n = 0, cap = 0;
    /* a trial's group by a scan of the groups: their number is models x
     * types x devices, small beside the trials */
    for (size_t i = 0; i < trials->nrow; i++) {
        const char *d = or_empty(eb_table_cell(trials, i, c_dev)),
                   *m = or_empty(eb_table_cell(trials, i, c_model)),
                   *q = or_empty(eb_table_cell(trials, i, c_quant)),
                   *k = eb_table_cell(trials, i, c_k), *v = eb_table_cell(trials, i, c_v);
        /* stored before the column: the row's default */
        k = k && k[0] ? k : eb_param_find("type_k")->def;
        v = v && v[0] ? v : eb_param_find("type_v")->def;
        const char *ctx = eb_table_cell(trials, i, c_ctx);
        if (!ctx || !m[0]) continue;
        fit_row *f = NULL;
        for (size_t j = 0; j < n && !f; j++)
            if (same(&rows[j], d, m, q, k, v)) f = &rows[j];
        if (!f) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                fit_row *g = realloc(rows, cap * sizeof *g);
                if (!g) {
                    free(rows);
                    return eb_fail(err, EB_E_NO_MEMORY, "fit: out of memory");
                }
                rows = g;
            }
            f = &rows[n++];
            *f = (fit_row){d, m, q, k, v, -1, -1, NULL, 0, 0};
        }
        long c = atol(ctx);
        bool ok = !strcmp(or_empty(eb_table_cell(trials, i, c_status)), "ok");
        if (ok) {
            f->n_ok++;
            if (c > f->ran_ctx) f->ran_ctx = c;
        } else {
            f->n_failed++;
            if (f->failed_ctx < 0 || c < f->failed_ctx) {
                f->failed_ctx = c;
                f->reason = eb_table_cell(trials, i, c_reason);
            }
        }
    }
    static const char *const names[] = {"device",    "model",           "quant",
                                        "kv_cache",  "largest_ctx_ran", "smallest_ctx_failed",
                                        "trials_ok", "trials_failed",   "why"};
    static const unsigned char numeric[] = {0, 0, 0, 0, 1, 1, 1, 1, 0};
    eb_status st = eb_table_init(out, 9, names, numeric);
    for (size_t j = 0; st == EB_OK && j < n; j++) {
        const fit_row *f = &rows[j];
        char kv[40], ran[24], failed[24], nok[24], nfail[24];
        snprintf(kv, sizeof kv, "%s/%s", f->type_k, f->type_v);
        snprintf(ran, sizeof ran, "%ld", f->ran_ctx);
        snprintf(failed, sizeof failed, "%ld", f->failed_ctx);
        snprintf(nok, sizeof nok, "%zu", f->n_ok);
        snprintf(nfail, sizeof nfail, "%zu", f->n_failed);
        char *cells[] = {(char *)f->device,
                         (char *)f->model,
                         (char *)f->quant,
                         kv,
                         f->ran_ctx >= 0 ? ran : NULL,
                         f->failed_ctx >= 0 ? failed : NULL,
                         nok,
                         nfail,
                         (char *)(f->failed_ctx >= 0 ? f->reason : NULL)};
        st = eb_table_add_row(out, cells);
    }
    free(rows);
    if (st != EB_OK) {
        eb_table_free(out);
        return eb_fail(err, EB_E_NO_MEMORY, "fit: out of memory");
    }
    return EB_OK;
}
