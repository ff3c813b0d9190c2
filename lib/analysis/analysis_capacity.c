/* How many people one device serves: from the server-under-load levels
 * (the serving view, `run --engine server`), per device, model, weights and
 * configuration, the largest closed-loop concurrency whose every request
 * succeeded, whose slowest stream stayed at or above reading speed and
 * whose slowest first token met the level's TTFT objective; the energy of
 * a user-hour there; and at one client, the server's stream beside the
 * in-process engine's generation t/s (the serving stack's cost). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_out.h"
#include "edgebench/analysis.h"
#include "edgebench/analyze.h"

/* The load's own settings: they make the levels of one configuration. */
static bool load_setting(const char *key)
{
    return !strcmp(key, "concurrency") || !strcmp(key, "request_rate") ||
           !strcmp(key, "server_slots");
}

typedef struct group {
    char key[1024], device[256], model[256], quant[32], settings[384];
    int levels, capacity, cap_row, one_row;
    char tried[256];
    char why_not[160]; /* the fewest clients above the capacity that failed, and why */
    int why_not_n;
} group;

static const char *cell(const eb_table *t, size_t r, const char *name)
{
    const char *v = eb_table_cell(t, r, eb_table_column(t, name));
    return v ? v : "";
}

static double num(const eb_table *t, size_t r, const char *name)
{
    return eb_table_number(t, r, eb_table_column(t, name));
}

eb_status eb_capacity_table(const eb_table *t, double reading_tps, eb_table *out, eb_error *err)
{
    static const char *const names[] = {"device",
                                        "model",
                                        "quant",
                                        "settings",
                                        "levels",
                                        "capacity_users",
                                        "stream_tps_min",
                                        "ttft_max_s",
                                        "slo_ttft_s",
                                        "throughput_tps",
                                        "wh_per_user_hour",
                                        "wh_per_user_hour_u95",
                                        "j_per_token",
                                        "server_rss_mib",
                                        "server_tps_at_1",
                                        "in_process_tps",
                                        "server_over_in_process",
                                        "why_not_more"};
    static const unsigned char numeric[] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
    eb_status st = eb_table_init(out, sizeof names / sizeof *names, names, numeric);
    if (st != EB_OK) return st;
    eb_settings_columns sc;
    eb_settings_columns_find(t, &sc);
    /* the load's settings make the levels, not the configuration */
    size_t k = 0;
    for (size_t i = 0; i < sc.n; i++)
        if (!load_setting(sc.row[i]->key)) {
            sc.row[k] = sc.row[i];
            sc.col[k++] = sc.col[i];
        }
    sc.n = k;
    group *g = calloc(t->nrow + 1, sizeof *g);
    char(*whys)[160] = calloc(t->nrow + 1, sizeof *whys);
    int *grp = malloc((t->nrow + 1) * sizeof *grp);
    if (!g || !whys || !grp) {
        free(g);
        free(whys);
        free(grp);
        return eb_fail(err, EB_E_NO_MEMORY, "capacity: %zu levels", t->nrow);
    }
    for (size_t r = 0; r < t->nrow; r++)
        grp[r] = -1;
    size_t ng = 0;
    for (size_t r = 0; r < t->nrow; r++) {
        if (strcmp(cell(t, r, "loop"), "closed") != 0) continue;
        char settings[384];
        eb_settings_label(t, &sc, r, settings, sizeof settings);
        char key[1024];
        snprintf(key, sizeof key, "%s|%s|%s|%s|%s|%s", cell(t, r, "device"), cell(t, r, "model"),
                 cell(t, r, "quant"), settings, cell(t, r, "threads_gen"), cell(t, r, "n_gen"));
        size_t i = 0;
        while (i < ng && strcmp(g[i].key, key) != 0)
            i++;
        if (i == ng) {
            snprintf(g[i].key, sizeof g[i].key, "%s", key);
            snprintf(g[i].device, sizeof g[i].device, "%s", cell(t, r, "device"));
            snprintf(g[i].model, sizeof g[i].model, "%s", cell(t, r, "model"));
            snprintf(g[i].quant, sizeof g[i].quant, "%s", cell(t, r, "quant"));
            snprintf(g[i].settings, sizeof g[i].settings, "%s", settings);
            g[i].cap_row = g[i].one_row = -1;
            ng++;
        }
        group *x = &g[i];
        int n = (int)num(t, r, "concurrency");
        x->levels++;
        char mark[16];
        snprintf(mark, sizeof mark, ",%d,", n);
        char seen[300];
        snprintf(seen, sizeof seen, ",%s,", x->tried);
        size_t tl = strlen(x->tried);
        if (!strstr(seen, mark))
            snprintf(x->tried + tl, sizeof x->tried - tl, "%s%d", tl ? "," : "", n);
        if (n == 1 && (x->one_row < 0 || (size_t)x->one_row < r)) x->one_row = (int)r;
        double failed = num(t, r, "failed"), smin = num(t, r, "stream_tps_min");
        double ttft = num(t, r, "ttft_max_s"), slo = num(t, r, "slo_ttft_s");
        char why[160] = "";
        if (!(failed == 0))
            snprintf(why, sizeof why, "%d clients: %.0f requests failed (%s)", n, failed,
                     cell(t, r, "first_error"));
        else if (!(smin >= reading_tps))
            snprintf(why, sizeof why, "%d clients: the slowest stream %.2f t/s < reading %.2f", n,
                     smin, reading_tps);
        else if (isfinite(slo) && !(ttft <= slo))
            snprintf(why, sizeof why, "%d clients: the slowest first token %.3f s > %.3f s", n,
                     ttft, slo);
        if (!why[0] && n > x->capacity) {
            x->capacity = n;
            x->cap_row = (int)r;
        }
        snprintf(whys[r], sizeof whys[r], "%s", why);
        grp[r] = (int)i;
    }
    /* why not more: the fewest clients above the capacity that failed */
    for (size_t r = 0; r < t->nrow; r++) {
        if (grp[r] < 0 || !whys[r][0]) continue;
        group *x = &g[grp[r]];
        int n = (int)num(t, r, "concurrency");
        if (n > x->capacity && (!x->why_not[0] || n < x->why_not_n)) {
            snprintf(x->why_not, sizeof x->why_not, "%s", whys[r]);
            x->why_not_n = n;
        }
    }
    for (size_t i = 0; i < ng && st == EB_OK; i++) {
        group *x = &g[i];
        char b[12][48], cap[16], lv[300];
        snprintf(cap, sizeof cap, "%d", x->capacity);
        snprintf(lv, sizeof lv, "%s clients", x->tried);
        char *cells[18] = {x->device, x->model, x->quant, x->settings, lv, cap};
        int r = x->cap_row;
        if (r >= 0) {
            double n = num(t, r, "concurrency"), dur = num(t, r, "duration_s");
            cells[6] = fmt(b[0], 48, num(t, r, "stream_tps_min"));
            cells[7] = fmt(b[1], 48, num(t, r, "ttft_max_s"));
            cells[8] = fmt(b[2], 48, num(t, r, "slo_ttft_s"));
            cells[9] = fmt(b[3], 48, num(t, r, "throughput_tps"));
            /* a user-hour: the level's mean power for an hour, shared by its users */
            cells[10] = fmt(b[4], 48, num(t, r, "mean_power_w") / n);
            cells[11] = fmt(b[5], 48, num(t, r, "energy_u95_j") / dur / n);
            cells[12] = fmt(b[6], 48, num(t, r, "j_per_token"));
            cells[13] = fmt(b[7], 48, num(t, r, "server_rss_peak_mib"));
        }
        if (x->one_row >= 0) {
            size_t o1 = (size_t)x->one_row;
            double s1 = num(t, o1, "stream_tps_p50"), ip = num(t, o1, "in_process_gen_tps");
            cells[14] = fmt(b[8], 48, s1);
            cells[15] = fmt(b[9], 48, ip);
            cells[16] = fmt(b[10], 48, ip > 0 ? s1 / ip : NAN);
        }
        cells[17] = x->why_not[0] ? x->why_not : NULL;
        st = eb_table_add_row(out, cells);
    }
    free(g);
    free(whys);
    free(grp);
    return st;
}
