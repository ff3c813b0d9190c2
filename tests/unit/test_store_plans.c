/* The query plans of every statement on the store's hot paths (storing a
 * trial, importing a file, resuming a sweep, results with filters), on
 * SQLite and, when EB_TEST_PG names one, PostgreSQL: a per-trial lookup
 * uses an index, never a scan whose cost grows with the store. The
 * statements are the ones the store really ran, seen through its trace
 * hook, each explained with its own parameters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgebench/store.h"
#include "store_impl.h"

typedef struct seen_sql {
    char *sql;
    int n;
    char *params[64];
    const char *path; /* which hot path ran it */
} seen_sql;

static seen_sql seen[512];
static int n_seen;
static const char *current_path;

static void trace(void *user, const char *sql, int n, const char *const *params)
{
    (void)user;
    for (int i = 0; i < n_seen; i++)
        if (strcmp(seen[i].sql, sql) == 0) return;
    assert_true(n_seen < (int)(sizeof seen / sizeof seen[0]));
    seen_sql *q = &seen[n_seen++];
    q->sql = strdup(sql);
    q->n = n < 64 ? n : 64;
    for (int i = 0; i < q->n; i++)
        q->params[i] = params[i] ? strdup(params[i]) : NULL;
    q->path = current_path;
}

static void forget(void)
{
    for (int i = 0; i < n_seen; i++) {
        free(seen[i].sql);
        for (int k = 0; k < seen[i].n; k++)
            free(seen[i].params[k]);
    }
    n_seen = 0;
}

static char *record(int i)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"trial_key\":\"%016x\",\"source\":\"plan-test\",\"status\":\"ok\","
             "\"device\":{\"hostname\":\"host-%d\",\"cpu_model\":\"test\"},"
             "\"config\":{\"governor\":\"ondemand\"},"
             "\"result\":{\"model\":{\"path\":\"m%d.gguf\",\"name\":\"m%d\",\"quant\":\"Q4_0\"},"
             "\"config\":{\"n_prompt\":4,\"n_gen\":2,\"threads_gen\":%d,\"threads_prefill\":1},"
             "\"measurement\":{\"energy_source\":\"rapl:package-0\"},"
             "\"reps\":[{\"index\":0,\"warmup\":false,\"prefill_s\":0.5,\"n_prompt\":4,"
             "\"gen_s\":0.25,\"n_gen\":2,\"gen_tps\":8,\"spans\":{\"generation\":{\"energy_j\":1,"
             "\"energy_per_token_j\":0.5}},\"counters\":{\"generation\":{\"cache_misses\":"
             "{\"status\":\"ok\",\"value\":100}}}},{\"index\":1,\"warmup\":false,\"prefill_s\":0.5,"
             "\"n_prompt\":4,\"gen_s\":0.5,\"n_gen\":2,\"gen_tps\":4}]}}",
             0x1000 + i, i % 3, i % 2, i % 2, 1 + i % 4);
    return strdup(buf);
}

/* Tables whose size grows with the store: a statement run once per trial
 * must not scan them. */
static const char *const big_tables[] = {"trials",     "runs",     "run_measures", "run_counters",
                                         "timelines",  "lb_tests", "quality",      "probes",
                                         "probe_runs", NULL};

/* A results query lists the store: it may scan its driving table once. */
static bool is_listing(const char *sql)
{
    return strstr(sql, "FROM trials t LEFT JOIN devices d") || strstr(sql, "FROM runs r JOIN") ||
           strstr(sql, "FROM llama_bench l") || strstr(sql, "FROM quality q LEFT JOIN");
}

static bool pg(const eb_store *s)
{
    return strcmp(s->be->name, "postgresql") == 0;
}

/* The plan's lines that read a big table whole; the first one at the top of
 * a listing is allowed. */
static int scans(eb_store *s, const seen_sql *q, char *why, size_t cap)
{
    char *sql = malloc(strlen(q->sql) + 32);
    sprintf(sql, "%s%s", pg(s) ? "EXPLAIN " : "EXPLAIN QUERY PLAN ", q->sql);
    eb_table t;
    eb_error err = {0};
    eb_status st = s->be->query(s, sql, q->n, (const char *const *)q->params, NULL, &t, &err);
    free(sql);
    if (st != EB_OK) {
        snprintf(why, cap, "EXPLAIN failed: %s", err.msg);
        return 1;
    }
    int bad = 0, allowed = is_listing(q->sql) ? 1 : 0;
    why[0] = '\0';
    /* SQLite: (id, parent, notused, detail); PostgreSQL: one text column */
    size_t dc = t.ncol - 1;
    for (size_t r = 0; r < t.nrow; r++) {
        const char *line = t.cell[r * t.ncol + dc] ? t.cell[r * t.ncol + dc] : "";
        bool scan = pg(s) ? strstr(line, "Seq Scan on ") != NULL
                          : strncmp(line, "SCAN ", 5) == 0 && !strstr(line, "CONSTANT ROW");
        if (!scan) continue;
        /* which table: SQLite names the alias, so resolve aliases by the SQL */
        bool big = false;
        for (const char *const *b = big_tables; *b; b++) {
            char a[80], c[80];
            snprintf(a, sizeof a, "%s %s", pg(s) ? "Seq Scan on" : "SCAN", *b);
            snprintf(c, sizeof c, "FROM %s ", *b);
            if (strncmp(line + strspn(line, " ->"), a, strlen(a)) == 0) big = true;
            /* an alias: "SCAN t" for "FROM trials t" */
            const char *al = pg(s) ? NULL : line + 5;
            if (al) {
                char alias[32];
                snprintf(alias, sizeof alias, "%.*s", (int)strcspn(al, " "), al);
                char needle[96];
                snprintf(needle, sizeof needle, "%s %s", *b, alias);
                if (strstr(q->sql, needle) || strcmp(alias, *b) == 0) big = true;
            }
            (void)c;
        }
        if (!big) continue;
        if (allowed > 0) {
            allowed--;
            continue;
        }
        bad++;
        size_t len = strlen(why);
        snprintf(why + len, cap - len, "%s%s", len ? "; " : "", line);
    }
    eb_table_free(&t);
    return bad;
}

static void check_plans(const char *spec)
{
    char path[300];
    snprintf(path, sizeof path, "%s/eb-plans-%d.jsonl", P_tmpdir, (int)getpid());
    eb_store *s = NULL;
    eb_error err = {0};
    assert_int_equal(eb_store_open(spec, &s, &err), EB_OK);
    /* some trials first, so that the planner sees tables with rows */
    for (int i = 0; i < 40; i++) {
        char *r = record(i);
        assert_int_equal(eb_store_put(s, r, NULL, &err), EB_OK);
        free(r);
    }
    if (pg(s))
        assert_int_equal(s->be->exec(s, "ANALYZE; SET enable_seqscan = off", &err), EB_OK);
    else
        assert_int_equal(s->be->exec(s, "ANALYZE", &err), EB_OK);
    s->trace = trace;
    current_path = "store a trial";
    char *r = record(100);
    assert_int_equal(eb_store_put(s, r, NULL, &err), EB_OK);
    free(r);
    current_path = "import";
    FILE *f = fopen(path, "w");
    for (int i = 200; i < 204; i++) {
        r = record(i);
        fprintf(f, "%s\n", r);
        free(r);
    }
    r = record(3); /* already stored */
    fprintf(f, "%s\n", r);
    free(r);
    fclose(f);
    size_t n = 0;
    assert_int_equal(eb_store_import(s, path, &n, &err), EB_OK);
    assert_int_equal(n, 4);
    current_path = "resume";
    bool done = false;
    assert_int_equal(eb_store_trial_done(s, "0000000000001003", "host-0", &done, &err), EB_OK);
    assert_true(done);
    assert_int_equal(eb_store_trial_done(s, "0000000000001003", "", &done, &err), EB_OK);
    current_path = "results with filters";
    eb_results_filter flt = {.device = "host-1", .model = "m1", .status = "ok"};
    for (int v = 0; v < 2; v++) {
        eb_table t;
        assert_int_equal(eb_store_results(s, v ? EB_VIEW_RUNS : EB_VIEW_TRIALS, &flt, &t, &err),
                         EB_OK);
        assert_true(t.nrow > 0);
        eb_table_free(&t);
    }
    s->trace = NULL;
    assert_true(n_seen > 8);
    int bad = 0, checked = 0;
    for (int i = 0; i < n_seen; i++) {
        const char *q = seen[i].sql + strspn(seen[i].sql, " ");
        if (strncmp(q, "SELECT", 6) && strncmp(q, "UPDATE", 6) && strncmp(q, "DELETE", 6) &&
            strncmp(q, "INSERT", 6))
            continue;
        char why[2048];
        int b = scans(s, &seen[i], why, sizeof why);
        checked++;
        if (b) {
            print_message("%s: %s: scans a table that grows: %s\n  %s\n", s->be->name, seen[i].path,
                          why, seen[i].sql);
            bad += b;
        }
    }
    print_message("%s: %d statements of the hot paths explained\n", s->be->name, checked);
    assert_int_equal(bad, 0);
    forget();
    eb_store_close(s);
    unlink(path);
}

static void test_sqlite_plans(void **state)
{
    (void)state;
    char spec[300], p[320];
    snprintf(spec, sizeof spec, "sqlite:%s/eb-plans-%d.db", P_tmpdir, (int)getpid());
    check_plans(spec);
    unlink(spec + 7);
    snprintf(p, sizeof p, "%s-wal", spec + 7);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", spec + 7);
    unlink(p);
}

static void test_postgresql_plans(void **state)
{
    (void)state;
    const char *spec = getenv("EB_TEST_PG");
    if (!spec || !spec[0]) {
        print_message("postgresql: EB_TEST_PG not set, not tested\n");
        skip();
    }
    /* a database of its own: drop what an earlier run left */
    eb_store *s = NULL;
    eb_error err = {0};
    if (eb_store_open(spec, &s, &err) == EB_OK) {
        s->be->exec(s,
                    "DROP SCHEMA public CASCADE; CREATE SCHEMA public; GRANT ALL ON SCHEMA public "
                    "TO public",
                    &err);
        eb_store_close(s);
    }
    check_plans(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlite_plans),
        cmocka_unit_test(test_postgresql_plans),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    /* the PostgreSQL case skipped (no EB_TEST_PG): the exit says so (77) */
    return failed ? failed : getenv("EB_TEST_PG") && getenv("EB_TEST_PG")[0] ? 0 : 77;
}
