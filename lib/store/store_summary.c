/* A trial's measured runs summarised in llama-bench's terms (pp and tg
 * rows), on storing and when a migration fills them for older trials. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgebench/util.h"
#include "store_put_impl.h"

static eb_status sp_put_summary(eb_store *s, const char *tid, const char *test, const eb_table *t,
                                int col_s, int col_n, int col_threads, const char *n_prompt,
                                const char *n_gen, const char *n_depth, eb_error *err)
{
    size_t n = 0;
    double sum_ns = 0, sum_ts = 0, sq_ns = 0, sq_ts = 0;
    cJSON *ns = cJSON_CreateArray(), *ts = cJSON_CreateArray();
    for (size_t i = 0; i < t->nrow; i++) {
        const char *sec = t->cell[i * t->ncol + col_s], *tok = t->cell[i * t->ncol + col_n];
        if (!sec || !tok || atof(sec) <= 0) continue;
        /* with --parallel the runs hold a stream's tokens: all of them count */
        const char *par = t->ncol > 7 ? t->cell[i * t->ncol + 7] : NULL;
        double streams = par && atoi(par) > 1 ? atoi(par) : 1;
        double x = atof(sec) * 1e9, y = streams * atof(tok) / atof(sec);
        cJSON_AddItemToArray(ns, cJSON_CreateNumber(llround(x)));
        cJSON_AddItemToArray(ts, cJSON_CreateNumber(y));
        sum_ns += x;
        sum_ts += y;
        sq_ns += x * x;
        sq_ts += y * y;
        n++;
    }
    eb_status st = EB_OK;
    if (n > 0) {
        double m_ns = sum_ns / (double)n, m_ts = sum_ts / (double)n;
        double v_ns = n > 1 ? (sq_ns - (double)n * m_ns * m_ns) / (double)(n - 1) : 0;
        double v_ts = n > 1 ? (sq_ts - (double)n * m_ts * m_ts) / (double)(n - 1) : 0;
        char *sns = cJSON_PrintUnformatted(ns), *sts = cJSON_PrintUnformatted(ts);
        params q = {0};
        sp_p_str(&q, tid);
        sp_p_str(&q, test);
        sp_p_str(&q, n_prompt);
        sp_p_str(&q, n_gen);
        sp_p_str(&q, n_depth);
        sp_p_str(&q, t->cell[col_threads]);
        snprintf(q.buf[q.n], sizeof q.buf[q.n], "%lld", llround(m_ns));
        sp_p_str(&q, q.buf[q.n]);
        snprintf(q.buf[q.n], sizeof q.buf[q.n], "%lld", llround(sqrt(v_ns > 0 ? v_ns : 0)));
        sp_p_str(&q, q.buf[q.n]);
        sp_p_num(&q, m_ts);
        sp_p_num(&q, sqrt(v_ts > 0 ? v_ts : 0));
        sp_p_str(&q, sns);
        sp_p_str(&q, sts);
        st = eb_sq_exec_num(s, sp_insert_lb_test, q.n, q.v, q.num, err);
        free(sns);
        free(sts);
    }
    cJSON_Delete(ns);
    cJSON_Delete(ts);
    return st;
}

eb_status eb_store_summarize_trial(eb_store *s, long long trial_id, eb_error *err)
{
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", trial_id);
    const char *p[] = {tid};
    eb_status st = eb_sq_exec(s, "DELETE FROM lb_tests WHERE trial_id = $1", 1, p, err);
    eb_table t;
    /* the depth column exists from schema 8 (this also runs in the
     * migration to 2, on the tables of then) */
    if (st == EB_OK)
        st = eb_sq_query(
            s,
            s->version >= 8
                ? "SELECT r.prefill_s, r.n_prompt, r.gen_s, r.n_gen, t.threads_prefill,"
                  " t.threads_gen, COALESCE(t.n_depth, 0), t.n_parallel FROM runs r JOIN trials t"
                  " ON t.id = r.trial_id WHERE r.trial_id = $1 AND r.warmup = 0 AND"
                  " t.status = 'ok' ORDER BY r.rep"
                : "SELECT r.prefill_s, r.n_prompt, r.gen_s, r.n_gen, t.threads_prefill,"
                  " t.threads_gen, 0 FROM runs r JOIN trials t ON t.id = r.trial_id"
                  " WHERE r.trial_id = $1 AND r.warmup = 0 AND t.status = 'ok'"
                  " ORDER BY r.rep",
            1, p, NULL, &t, err);
    if (st != EB_OK) return st;
    if (t.nrow > 0) {
        const char *np = t.cell[1], *ng = t.cell[3], *depth = t.cell[6] ? t.cell[6] : "0";
        char tg_depth[24];
        snprintf(tg_depth, sizeof tg_depth, "%lld", atoll(depth) + atoll(np ? np : "0"));
        st = sp_put_summary(s, tid, "pp", &t, 0, 1, 4, np, "0", depth, err);
        /* generation follows the prompt: its depth is the depth + the prompt */
        if (st == EB_OK) st = sp_put_summary(s, tid, "tg", &t, 2, 3, 5, "0", ng, tg_depth, err);
    }
    eb_table_free(&t);
    return st;
}

/* Columns of the quality table filled from the record's "quality" object,
 * in order after the ids and times. */
