/* The results store against SQLite and, when EB_TEST_PG names one, a real
 * PostgreSQL server: every field of a real run's record read back, two
 * writer processes at once, migration from the first schema, refusal of a
 * newer one, bad stores, import of records, and the output formats. */
#include <cjson/cJSON.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "edgebench/bench.h"
#include "edgebench/output.h"
#include "edgebench/store.h"
#include "edgebench/synth.h"
#include "store_impl.h"

static char model_path[1024];
static char sqlite_path[256];
static char *run_record; /* a real run's record, made once */
static const char *spec; /* the store under test */

/* A real run on the Jetson fixture: energy, power and memory are present,
 * counters have their statuses, and the timeline is kept. */
static int make_record(void)
{
    eb_error err = {0};
    bool created;
    eb_synth_options o = {.seed = 42};
    if (eb_synth_cached(eb_preset_find("tiny-llama"), EB_SYNTH_Q4_0, &o, model_path,
                        sizeof model_path, &created, &err) != EB_OK)
        return -1;
    eb_run_config c;
    eb_run_config_defaults(&c);
    c.model_path = model_path;
    c.n_gen = 8;
    c.reps = 2;
    c.warmup = 1;
    c.idle_s = 0.1;
    c.root = FIXTURES "/jetson-orin-nano";
    eb_run_result r;
    if (eb_run(&eb_engine_llama, &c, &r, NULL, NULL, &err) != EB_OK) return -1;
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "trial_key", "0123456789abcdef");
    cJSON_AddStringToObject(rec, "source", "sweep");
    cJSON_AddStringToObject(rec, "status", "ok");
    cJSON_AddStringToObject(rec, "started_at", r.started_at);
    cJSON_AddNumberToObject(rec, "duration_s", 1.25);
    cJSON *cfg = cJSON_AddObjectToObject(rec, "config");
    cJSON_AddStringToObject(cfg, "governor", "performance");
    cJSON_AddStringToObject(cfg, "power_mode", "15W");
    cJSON_AddStringToObject(rec, "model_sha256", "ab12");
    cJSON_AddItemToObject(rec, "result", eb_result_to_json(&r, true));
    run_record = cJSON_PrintUnformatted(rec);
    cJSON_Delete(rec);
    eb_run_result_free(&r);
    return run_record ? 0 : -1;
}

/* An empty store: SQLite removes its file, PostgreSQL its tables. */
static void empty_store(void)
{
    if (strncmp(spec, "sqlite:", 7) == 0) {
        char p[300];
        unlink(spec + 7);
        snprintf(p, sizeof p, "%s-wal", spec + 7);
        unlink(p);
        snprintf(p, sizeof p, "%s-shm", spec + 7);
        unlink(p);
        return;
    }
    /* straight through libpq: the store may hold a schema edgebench refuses */
    PGconn *c = PQconnectdb(spec);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, "SET client_min_messages = warning;"
                            " DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
}

static int group_setup_sqlite(void **state)
{
    (void)state;
    snprintf(sqlite_path, sizeof sqlite_path, "sqlite:%s/eb-store-%d.db", P_tmpdir, (int)getpid());
    spec = sqlite_path;
    return run_record || make_record() == 0 ? 0 : -1;
}

static int group_setup_pg(void **state)
{
    (void)state;
    spec = getenv("EB_TEST_PG");
    return run_record || make_record() == 0 ? 0 : -1;
}

static int each_setup(void **state)
{
    (void)state;
    empty_store();
    return 0;
}

static eb_store *open_store(void)
{
    eb_store *s = NULL;
    eb_error err = {0};
    eb_status st = eb_store_open(spec, &s, &err);
    if (st != EB_OK) print_message("%s\n", err.msg);
    assert_int_equal(st, EB_OK);
    return s;
}

static eb_table query(eb_store *s, const char *sql, const char *param)
{
    eb_table t;
    eb_error err = {0};
    const char *p[] = {param};
    eb_status st = s->be->query(s, sql, param ? 1 : 0, p, NULL, &t, &err);
    if (st != EB_OK) print_message("%s\n", err.msg);
    assert_int_equal(st, EB_OK);
    return t;
}

static long long count(eb_store *s, const char *sql)
{
    eb_table t = query(s, sql, NULL);
    long long n = atoll(t.cell[0]);
    eb_table_free(&t);
    return n;
}

/* A cell equals a JSON value: both missing, or the same text or number. */
static void assert_cell(const char *cell, const cJSON *v, const char *what)
{
    if (!v || cJSON_IsNull(v)) {
        if (cell) print_message("%s: stored '%s' for a missing value\n", what, cell);
        assert_null(cell);
    } else if (cJSON_IsNumber(v)) {
        if (!cell || strtod(cell, NULL) != v->valuedouble)
            print_message("%s: stored %s, JSON %.17g\n", what, cell ? cell : "NULL",
                          v->valuedouble);
        assert_non_null(cell);
        assert_true(strtod(cell, NULL) == v->valuedouble);
    } else if (cJSON_IsBool(v)) {
        assert_non_null(cell);
        assert_int_equal(atoi(cell), cJSON_IsTrue(v));
    } else {
        assert_non_null(cell);
        assert_string_equal(cell, v->valuestring);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    eb_store *s = open_store();
    assert_int_equal(eb_store_schema_version(s), eb_store_latest_version());
    long long id = 0;
    eb_error err = {0};
    eb_status put = eb_store_put(s, run_record, &id, &err);
    if (put != EB_OK) print_message("%s\n", err.msg);
    assert_int_equal(put, EB_OK);
    assert_true(id > 0);
    cJSON *rec = cJSON_Parse(run_record);
    cJSON *res = cJSON_GetObjectItem(rec, "result");
    cJSON *timeline = cJSON_DetachItemFromObject(res, "timeline");
    assert_non_null(timeline);

    /* the whole record, exactly (less the timeline, which has its table) */
    eb_table t = query(s, "SELECT record_json FROM trial_records", NULL);
    assert_int_equal(t.nrow, 1);
    cJSON *back = cJSON_Parse(t.cell[0]);
    assert_true(cJSON_Compare(rec, back, true));
    cJSON_Delete(back);
    eb_table_free(&t);

    /* the trial's columns */
    t = query(s,
              "SELECT trial_key, status, governor, power_mode, duration_s, n_gen, threads_gen,"
              " energy_source FROM trials",
              NULL);
    assert_string_equal(t.cell[0], "0123456789abcdef");
    assert_string_equal(t.cell[1], "ok");
    assert_string_equal(t.cell[2], "performance");
    assert_string_equal(t.cell[3], "15W");
    assert_true(strtod(t.cell[4], NULL) == 1.25);
    const cJSON *cfg = cJSON_GetObjectItem(res, "config");
    assert_cell(t.cell[5], cJSON_GetObjectItem(cfg, "n_gen"), "n_gen");
    assert_cell(t.cell[6], cJSON_GetObjectItem(cfg, "threads_gen"), "threads_gen");
    assert_string_equal(t.cell[7], "ina3221:VDD_IN");
    eb_table_free(&t);

    /* device, build and model */
    static const char *const dev_cols[] = {
        "hostname", "board_model",       "cpu_model",   "cpu_topology", "ram_total_kib", "kernel",
        "os",       "governors_offered", "power_modes", "gpu",          "arch"};
    const cJSON *dev = cJSON_GetObjectItem(res, "device");
    for (size_t i = 0; i < sizeof dev_cols / sizeof dev_cols[0]; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT %s FROM devices", dev_cols[i]);
        t = query(s, sql, NULL);
        assert_cell(t.cell[0], cJSON_GetObjectItem(dev, dev_cols[i]), dev_cols[i]);
        eb_table_free(&t);
    }
    static const char *const model_cols[] = {"path",
                                             "name",
                                             "arch",
                                             "description",
                                             "quant",
                                             "n_params",
                                             "file_size_bytes",
                                             "weights_size_bytes",
                                             "n_layer",
                                             "n_embd",
                                             "synthetic"};
    const cJSON *model = cJSON_GetObjectItem(res, "model");
    for (size_t i = 0; i < sizeof model_cols / sizeof model_cols[0]; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT %s FROM models", model_cols[i]);
        t = query(s, sql, NULL);
        assert_cell(t.cell[0], cJSON_GetObjectItem(model, model_cols[i]), model_cols[i]);
        eb_table_free(&t);
    }
    t = query(s, "SELECT sha256 FROM models", NULL);
    assert_string_equal(t.cell[0], "ab12");
    eb_table_free(&t);
    t = query(s, "SELECT engine_version, engine_commit, backend, build_options FROM builds", NULL);
    const cJSON *eng = cJSON_GetObjectItem(res, "engine");
    assert_cell(t.cell[0], cJSON_GetObjectItem(eng, "version"), "engine_version");
    assert_non_null(strstr(cJSON_GetObjectItem(eng, "version")->valuestring, t.cell[1]));
    assert_cell(t.cell[2], cJSON_GetObjectItem(eng, "backend"), "backend");
    assert_cell(t.cell[3], cJSON_GetObjectItem(eng, "build_options"), "build_options");
    eb_table_free(&t);

    /* every run, every per-phase measure, every counter with its status */
    static const char *const run_cols[] = {
        "n_prompt",    "n_gen",   "load_s",    "prefill_s", "gen_s",     "e2e_s",       "ttft_s",
        "prefill_tps", "gen_tps", "itl_p50_s", "itl_p90_s", "itl_p99_s", "peak_rss_mib"};
    const cJSON *rep;
    int n_reps = 0, n_measures = 0, n_counters = 0;
    cJSON_ArrayForEach(rep, cJSON_GetObjectItem(res, "reps"))
    {
        char idx[16];
        snprintf(idx, sizeof idx, "%d", cJSON_GetObjectItem(rep, "index")->valueint);
        for (size_t i = 0; i < sizeof run_cols / sizeof run_cols[0]; i++) {
            char sql[200];
            snprintf(sql, sizeof sql, "SELECT %s FROM runs WHERE rep = CAST($1 AS INTEGER)",
                     run_cols[i]);
            t = query(s, sql, idx);
            assert_int_equal(t.nrow, 1);
            assert_cell(t.cell[0], cJSON_GetObjectItem(rep, run_cols[i]), run_cols[i]);
            eb_table_free(&t);
        }
        t = query(s, "SELECT warmup FROM runs WHERE rep = CAST($1 AS INTEGER)", idx);
        assert_cell(t.cell[0], cJSON_GetObjectItem(rep, "warmup"), "warmup");
        eb_table_free(&t);
        const cJSON *span;
        cJSON_ArrayForEach(span, cJSON_GetObjectItem(rep, "spans"))
        {
            const cJSON *m;
            cJSON_ArrayForEach(m, span)
            {
                if (!cJSON_IsNumber(m) && !cJSON_IsNull(m)) continue;
                if (strncmp(m->string, "t_", 2) == 0) continue;
                char sql[300];
                snprintf(sql, sizeof sql,
                         "SELECT x.value FROM run_measures x JOIN runs r ON r.id = x.run_id"
                         " WHERE r.rep = CAST($1 AS INTEGER) AND x.span = '%s' AND"
                         " x.measure = '%s'",
                         span->string, m->string);
                t = query(s, sql, idx);
                /* a measure not taken is no row: the views read it as NULL */
                assert_int_equal(t.nrow, cJSON_IsNumber(m) ? 1 : 0);
                if (t.nrow) assert_cell(t.cell[0], m, m->string);
                eb_table_free(&t);
                n_measures += cJSON_IsNumber(m);
            }
            /* each power channel's energy in the span, a row of its own */
            const cJSON *ch;
            cJSON_ArrayForEach(ch, cJSON_GetObjectItem(span, "channels"))
            {
                const cJSON *e = cJSON_GetObjectItem(ch, "energy_j");
                if (!cJSON_IsNumber(e)) continue;
                char sql[400];
                snprintf(sql, sizeof sql,
                         "SELECT x.value FROM run_measures x JOIN runs r ON r.id = x.run_id"
                         " WHERE r.rep = CAST($1 AS INTEGER) AND x.span = '%s' AND"
                         " x.measure = 'rail:%s:energy_j'",
                         span->string, ch->string);
                t = query(s, sql, idx);
                assert_int_equal(t.nrow, 1);
                assert_cell(t.cell[0], e, ch->string);
                eb_table_free(&t);
                n_measures++;
            }
        }
        const cJSON *cspan;
        cJSON_ArrayForEach(cspan, cJSON_GetObjectItem(rep, "counters"))
        {
            const cJSON *c;
            cJSON_ArrayForEach(c, cspan)
            {
                char sql[300];
                snprintf(sql, sizeof sql,
                         "SELECT x.status, x.value FROM run_counters x JOIN runs r ON"
                         " r.id = x.run_id WHERE r.rep = CAST($1 AS INTEGER) AND x.span = '%s'"
                         " AND x.counter = '%s'",
                         cspan->string, c->string);
                t = query(s, sql, idx);
                assert_int_equal(t.nrow, 1);
                assert_cell(t.cell[0], cJSON_GetObjectItem(c, "status"), "status");
                assert_cell(t.cell[1], cJSON_GetObjectItem(c, "value"), c->string);
                eb_table_free(&t);
                n_counters++;
            }
        }
        n_reps++;
    }
    assert_int_equal(n_reps, 3);
    assert_int_equal(count(s, "SELECT count(*) FROM run_measures"), n_measures);
    assert_int_equal(count(s, "SELECT count(*) FROM run_counters"), n_counters);
    /* energy is there: the fixture's VDD_IN */
    assert_true(count(s, "SELECT count(*) FROM run_measures WHERE measure = 'energy_j' AND"
                         " value > 0") >= 9);

    /* the timeline: every sampled value, none invented */
    long long cells = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, cJSON_GetObjectItem(timeline, "rows"))
    {
        for (int c = 1; c < cJSON_GetArraySize(row); c++)
            cells += cJSON_IsNumber(cJSON_GetArrayItem(row, c));
    }
    assert_true(cells > 0);
    assert_int_equal(count(s, "SELECT count(*) FROM timelines"), cells);
    eb_table tl;
    assert_int_equal(eb_store_timeline(s, id, &tl, &err), EB_OK);
    assert_int_equal((long long)tl.nrow, cells);
    eb_table_free(&tl);

    /* llama-bench's view: a prompt test and a generation test of the two measured runs */
    eb_table lb;
    assert_int_equal(eb_store_results(s, EB_VIEW_LLAMA_BENCH, NULL, &lb, &err), EB_OK);
    assert_int_equal(lb.nrow, 2);
    size_t c_samples = 0, c_ngen = 0, c_depth = 0;
    for (size_t c = 0; c < lb.ncol; c++) {
        if (strcmp(lb.name[c], "samples_ns") == 0) c_samples = c;
        if (strcmp(lb.name[c], "n_gen") == 0) c_ngen = c;
        if (strcmp(lb.name[c], "n_depth") == 0) c_depth = c;
    }
    cJSON *samples = cJSON_Parse(lb.cell[c_samples]);
    assert_int_equal(cJSON_GetArraySize(samples), 2);
    cJSON_Delete(samples);
    assert_string_equal(lb.cell[lb.ncol + c_ngen], "8");
    assert_true(atoi(lb.cell[lb.ncol + c_depth]) > 0); /* generation follows the prompt */
    eb_table_free(&lb);

    bool done = false;
    const char *host = cJSON_GetObjectItem(dev, "hostname")->valuestring;
    assert_int_equal(eb_store_trial_done(s, "0123456789abcdef", host, &done, &err), EB_OK);
    assert_true(done);
    assert_int_equal(eb_store_trial_done(s, "0123456789abcdef", "elsewhere", &done, &err), EB_OK);
    assert_false(done);
    cJSON_Delete(timeline);
    cJSON_Delete(rec);
    eb_store_close(s);
}

/* A small record of the writer test: two runs, one device, one model. */
static char *small_record(int writer, int i)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"trial_key\":\"w%d-%d\",\"source\":\"writer-test\",\"status\":\"ok\","
             "\"device\":{\"hostname\":\"writer-host\",\"cpu_model\":\"test\"},"
             "\"result\":{\"model\":{\"path\":\"m.gguf\",\"quant\":\"Q4_0\"},"
             "\"config\":{\"n_prompt\":4,\"n_gen\":2,\"threads_gen\":%d},"
             "\"reps\":[{\"index\":0,\"warmup\":false,\"prefill_s\":0.5,\"n_prompt\":4,"
             "\"gen_s\":0.25,\"n_gen\":2},{\"index\":1,\"warmup\":false,\"prefill_s\":0.5,"
             "\"n_prompt\":4,\"gen_s\":0.5,\"n_gen\":2}]}}",
             writer, i, writer + 1);
    return strdup(buf);
}

/* Writers at once: two on SQLite (a sweep and an import on one board),
 * four on PostgreSQL (a fleet); no record lost or doubled. */
static void test_two_writers(void **state)
{
    (void)state;
    enum { PER_WRITER = 150 };
    const int writers = strncmp(spec, "sqlite:", 7) == 0 ? 2 : 4;
    pid_t pids[4];
    for (int w = 0; w < writers; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) {
            eb_store *s = NULL;
            eb_error err = {0};
            if (eb_store_open(spec, &s, &err) != EB_OK) {
                fprintf(stderr, "writer %d: %s\n", w, err.msg);
                _exit(1);
            }
            for (int i = 0; i < PER_WRITER; i++) {
                char *r = small_record(w, i);
                eb_status st = eb_store_put(s, r, NULL, &err);
                free(r);
                if (st != EB_OK) {
                    fprintf(stderr, "writer %d, record %d: %s\n", w, i, err.msg);
                    _exit(1);
                }
            }
            eb_store_close(s);
            _exit(0);
        }
    }
    int status[4] = {0};
    for (int w = 0; w < writers; w++)
        waitpid(pids[w], &status[w], 0); /* all, before judging */
    for (int w = 0; w < writers; w++)
        assert_true(WIFEXITED(status[w]) && WEXITSTATUS(status[w]) == 0);
    eb_store *s = open_store();
    assert_int_equal(count(s, "SELECT count(*) FROM trials WHERE source = 'writer-test'"),
                     writers * PER_WRITER);
    assert_int_equal(count(s, "SELECT count(DISTINCT trial_key) FROM trials"),
                     writers * PER_WRITER);
    assert_int_equal(count(s, "SELECT count(*) FROM runs"), 2 * writers * PER_WRITER);
    assert_int_equal(count(s, "SELECT count(*) FROM devices"), 1);
    assert_int_equal(count(s, "SELECT count(*) FROM models"), 1);
    assert_int_equal(count(s, "SELECT count(*) FROM lb_tests"), 2 * writers * PER_WRITER);
    /* llama-bench's statistics: samples 0.25 s and 0.5 s of 2 tokens */
    eb_table t = query(s,
                       "SELECT avg_ns, stddev_ns, avg_ts FROM lb_tests l JOIN trials t ON"
                       " t.id = l.trial_id WHERE t.trial_key = $1 AND l.test = 'tg'",
                       "w1-7");
    assert_string_equal(t.cell[0], "375000000");
    assert_string_equal(t.cell[1], "176776695");
    assert_true(fabs(strtod(t.cell[2], NULL) - 6.0) < 1e-12);
    eb_table_free(&t);
    eb_results_filter f = {.threads = 2};
    eb_error err = {0};
    assert_int_equal(eb_store_results(s, EB_VIEW_TRIALS, &f, &t, &err), EB_OK);
    assert_int_equal(t.nrow, PER_WRITER);
    eb_table_free(&t);
    eb_store_close(s);
}

/* SQLite's own text-to-number conversion is one ulp off for some values
 * (376.218356 reads as 376.21835599999997): numbers must go in as numbers. */
static void test_exact_numbers(void **state)
{
    (void)state;
    eb_store *s = open_store();
    eb_error err = {0};
    const char *rec = "{\"trial_key\":\"exact\",\"status\":\"ok\",\"result\":{\"reps\":["
                      "{\"index\":0,\"gen_tps\":376.218356,\"prefill_tps\":1282.967488,"
                      "\"load_s\":0.1,\"n_gen\":8}]}}";
    assert_int_equal(eb_store_put(s, rec, NULL, &err), EB_OK);
    eb_table t = query(s, "SELECT gen_tps, prefill_tps, load_s, n_gen FROM runs", NULL);
    assert_true(strtod(t.cell[0], NULL) == 376.218356);
    assert_true(strtod(t.cell[1], NULL) == 1282.967488);
    assert_true(strtod(t.cell[2], NULL) == 0.1);
    assert_string_equal(t.cell[3], "8");
    eb_table_free(&t);
    eb_store_close(s);
}

static void test_migration_from_first_schema(void **state)
{
    (void)state;
    eb_store *s = NULL;
    eb_error err = {0};
    assert_int_equal(eb_store_open_version(spec, 1, &s, &err), EB_OK);
    assert_int_equal(eb_store_schema_version(s), 1);
    assert_int_equal(eb_store_put(s, run_record, NULL, &err), EB_OK);
    eb_table t;
    assert_int_not_equal(eb_store_results(s, EB_VIEW_LLAMA_BENCH, NULL, &t, &err), EB_OK);
    assert_non_null(strstr(err.msg, "schema 1"));
    eb_store_close(s);

    s = open_store();
    assert_int_equal(eb_store_schema_version(s), eb_store_latest_version());
    assert_int_equal(count(s, "SELECT count(*) FROM trials"), 1);
    assert_int_equal(count(s, "SELECT count(*) FROM runs"), 3);
    /* the migration summarised the runs stored before it */
    assert_int_equal(count(s, "SELECT count(*) FROM lb_tests"), 2);
    assert_int_equal(count(s, "SELECT count(*) FROM llama_bench"), 2);
    /* and new records go in whole */
    assert_int_equal(eb_store_put(s, run_record, NULL, &err), EB_OK);
    assert_int_equal(count(s, "SELECT count(*) FROM lb_tests"), 4);
    /* version 3: perplexity records go to the quality table, not trials */
    const char *ppl = "{\"kind\":\"perplexity\",\"source\":\"ppl\",\"status\":\"ok\","
                      "\"result\":{\"model\":{\"path\":\"m.gguf\",\"quant\":\"Q4_0\"},"
                      "\"quality\":{\"corpus\":\"wiki\",\"corpus_sha256\":\"ab\","
                      "\"n_ctx\":512,\"ppl\":12.25,\"eval_tps\":376.218356,"
                      "\"versus_base\":{\"quant\":\"F16\",\"kl_mean\":0.0125}}}}";
    long long qid = 0;
    assert_int_equal(eb_store_put(s, ppl, &qid, &err), EB_OK);
    assert_true(qid > 0);
    assert_int_equal(count(s, "SELECT count(*) FROM trials"), 2);
    assert_int_equal(eb_store_results(s, EB_VIEW_QUALITY, NULL, &t, &err), EB_OK);
    assert_int_equal(t.nrow, 1);
    for (size_t c = 0; c < t.ncol; c++) {
        const char *v = t.cell[c];
        if (strcmp(t.name[c], "ppl") == 0) assert_true(strtod(v, NULL) == 12.25);
        if (strcmp(t.name[c], "eval_tps") == 0) assert_true(strtod(v, NULL) == 376.218356);
        if (strcmp(t.name[c], "kl_mean") == 0) assert_true(strtod(v, NULL) == 0.0125);
        if (strcmp(t.name[c], "base_quant") == 0) assert_string_equal(v, "F16");
        if (strcmp(t.name[c], "quant") == 0) assert_string_equal(v, "Q4_0");
        if (strcmp(t.name[c], "corpus") == 0) assert_string_equal(v, "wiki");
        if (strcmp(t.name[c], "top1_agreement") == 0) assert_null(v);
    }
    eb_table_free(&t);
    eb_store_close(s);
}

static void test_newer_schema_refused(void **state)
{
    (void)state;
    eb_store *s = open_store();
    eb_error err = {0};
    assert_int_equal(eb_store_put(s, run_record, NULL, &err), EB_OK);
    assert_int_equal(eb_sq_exec(s, "UPDATE eb_meta SET value = '99' WHERE key = 'schema_version'",
                                0, NULL, &err),
                     EB_OK);
    eb_store *newer = NULL;
    assert_int_equal(eb_store_open(spec, &newer, &err), EB_E_UNSUPPORTED);
    assert_null(newer);
    assert_non_null(strstr(err.msg, "schema version 99"));
    assert_non_null(strstr(err.msg, "newer edgebench"));
    /* left as it was: the version and the trial */
    eb_table t = query(s, "SELECT value FROM eb_meta WHERE key = 'schema_version'", NULL);
    assert_string_equal(t.cell[0], "99");
    eb_table_free(&t);
    assert_int_equal(count(s, "SELECT count(*) FROM trials"), 1);
    eb_store_close(s);
}

static void test_import_records(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/eb-fallback-%d.jsonl", P_tmpdir, (int)getpid());
    unlink(path);
    eb_error err = {0};
    char *a = small_record(7, 1), *b = small_record(7, 2);
    assert_int_equal(eb_fallback_append(path, a, &err), EB_OK);
    assert_int_equal(eb_fallback_append(path, b, &err), EB_OK);
    eb_store *s = open_store();
    size_t n = 0;
    assert_int_equal(eb_store_import(s, path, &n, &err), EB_OK);
    assert_int_equal(n, 2);
    /* again: nothing twice */
    assert_int_equal(eb_store_import(s, path, &n, &err), EB_OK);
    assert_int_equal(n, 0);
    /* a line cut short by a crash: the records before it stay */
    char *c = small_record(7, 3);
    assert_int_equal(eb_fallback_append(path, c, &err), EB_OK);
    FILE *f = fopen(path, "a");
    fputs("{\"trial_key\":\"cut", f);
    fclose(f);
    assert_int_not_equal(eb_store_import(s, path, &n, &err), EB_OK);
    assert_int_equal(n, 1);
    assert_non_null(strstr(err.msg, ":4: not valid JSON"));
    assert_int_equal(count(s, "SELECT count(*) FROM trials"), 3);
    /* a bad line in the middle: told, left out, the record after it stored;
     * --strict stops there */
    char *d = small_record(7, 4), *e = small_record(7, 5);
    f = fopen(path, "a");
    fputs("\n", f);
    fclose(f);
    assert_int_equal(eb_fallback_append(path, d, &err), EB_OK);
    const eb_import_opts strict = {.strict = true};
    assert_int_not_equal(eb_store_import_with(s, path, &strict, &n, &err), EB_OK);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err.msg, "--strict"));
    assert_int_equal(count(s, "SELECT count(*) FROM trials"), 3);
    assert_int_equal(eb_fallback_append(path, e, &err), EB_OK);
    assert_int_not_equal(eb_store_import(s, path, &n, &err), EB_OK);
    assert_int_equal(n, 2);
    assert_non_null(strstr(err.msg, "1 record left out"));
    assert_non_null(strstr(err.msg, ":4: not valid JSON"));
    assert_int_equal(count(s, "SELECT count(*) FROM trials"), 5);
    free(d);
    free(e);
    /* not a record at all */
    f = fopen(path, "w");
    fputs("{\"hello\": 1}\n", f);
    fclose(f);
    assert_int_not_equal(eb_store_import(s, path, &n, &err), EB_OK);
    assert_non_null(strstr(err.msg, "neither a llama-bench result nor an edgebench record"));
    assert_int_not_equal(eb_store_import(s, "/nonexistent/x.json", &n, &err), EB_OK);
    assert_non_null(strstr(err.msg, "/nonexistent/x.json"));
    eb_store_close(s);
    free(a);
    free(b);
    free(c);
    unlink(path);
}

/* Stores that cannot be used say why, and touch nothing. */
static void test_bad_stores(void **state)
{
    (void)state;
    char path[300], sp[320];
    eb_error err = {0};
    eb_store *s = NULL;
    snprintf(path, sizeof path, "%s/eb-garbage-%d.db", P_tmpdir, (int)getpid());
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 200; i++)
        fputs("this is not a database ", f);
    fclose(f);
    snprintf(sp, sizeof sp, "sqlite:%s", path);
    assert_int_equal(eb_store_open(sp, &s, &err), EB_E_IO);
    assert_non_null(strstr(err.msg, "not an SQLite database"));
    assert_non_null(strstr(err.msg, path));
    unlink(path);

    /* someone else's SQLite database */
    snprintf(sp, sizeof sp, "sqlite:%s/eb-foreign-%d.db", P_tmpdir, (int)getpid());
    assert_int_equal(eb_store_open_version(sp, 0, &s, &err), EB_OK);
    assert_int_equal(s->be->exec(s, "CREATE TABLE recipes (name TEXT)", &err), EB_OK);
    eb_store_close(s);
    assert_int_not_equal(eb_store_open(sp, &s, &err), EB_OK);
    assert_non_null(strstr(err.msg, "holds other tables"));
    unlink(sp + 7);

    assert_int_equal(eb_store_open("sqlite:", &s, &err), EB_E_INVALID_ARG);
    snprintf(sp, sizeof sp, "sqlite:%s/no/such/dir/x.db", P_tmpdir);
    assert_int_equal(eb_store_open(sp, &s, &err), EB_E_IO);

    /* a server that is not there; its password is never shown */
    assert_int_equal(eb_store_open("postgresql://bob:s3cret@/db?host=/nonexistent&port=1"
                                   "&connect_timeout=2",
                                   &s, &err),
                     EB_E_IO);
    assert_non_null(strstr(err.msg, "cannot connect"));
    assert_null(strstr(err.msg, "s3cret"));
    assert_non_null(strstr(err.msg, "bob:***@"));
}

static void test_redact(void **state)
{
    (void)state;
    char out[256];
    eb_store_redact("postgresql://u:pw@host:5432/db", out, sizeof out);
    assert_string_equal(out, "postgresql://u:***@host:5432/db");
    eb_store_redact("postgres://u@host/db?password=pw&sslmode=require", out, sizeof out);
    assert_string_equal(out, "postgres://u@host/db?password=***&sslmode=require");
    eb_store_redact("postgresql://u:a@b@host/db", out, sizeof out);
    assert_null(strstr(out, "a@b@"));
    eb_store_redact("sqlite:/tmp/x.db", out, sizeof out);
    assert_string_equal(out, "sqlite:/tmp/x.db");
    eb_store_redact("postgresql:", out, sizeof out);
    assert_string_equal(out, "postgresql:");
}

static char *write_table(const eb_table *t, const char *format)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    eb_error err = {0};
    assert_int_equal(eb_table_write(f, t, format, "x", &err), EB_OK);
    fclose(f);
    return buf;
}

static void test_table_formats(void **state)
{
    (void)state;
    const char *names[] = {"name", "value", "samples"};
    const unsigned char kinds[] = {0, 1, 2};
    eb_table t;
    assert_int_equal(eb_table_init(&t, 3, names, kinds), EB_OK);
    char *r1[] = {"a, \"quoted\" | it's", "1.5", "[1,2]"};
    char *r2[] = {"b", NULL, NULL};
    assert_int_equal(eb_table_add_row(&t, r1), EB_OK);
    assert_int_equal(eb_table_add_row(&t, r2), EB_OK);
    char *s = write_table(&t, "csv");
    assert_string_equal(s, "name,value,samples\n\"a, \"\"quoted\"\" | it's\",1.5,\"[1,2]\"\nb,,\n");
    free(s);
    s = write_table(&t, "jsonl");
    assert_string_equal(s,
                        "{\"name\":\"a, \\\"quoted\\\" | it's\",\"value\":1.5,\"samples\":[1,2]}\n"
                        "{\"name\":\"b\",\"value\":null,\"samples\":null}\n");
    free(s);
    s = write_table(&t, "json");
    cJSON *j = cJSON_Parse(s);
    assert_int_equal(cJSON_GetArraySize(j), 2);
    cJSON_Delete(j);
    free(s);
    s = write_table(&t, "sql");
    assert_non_null(strstr(s,
                           "INSERT INTO x (name, value, samples) VALUES ('a, \"quoted\" | it''s',"
                           " 1.5, '[1,2]');"));
    assert_non_null(strstr(s, "VALUES ('b', NULL, NULL);"));
    free(s);
    s = write_table(&t, "md");
    assert_non_null(strstr(s, "it's"));
    assert_non_null(strstr(s, "\\|"));
    assert_non_null(strstr(s, "n/a"));
    free(s);
    s = write_table(&t, "table");
    assert_non_null(strstr(s, "n/a"));
    free(s);
    eb_error err = {0};
    assert_int_equal(eb_table_write(stdout, &t, "xml", NULL, &err), EB_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "'xml'"));
    eb_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest store_tests[] = {
        cmocka_unit_test_setup(test_round_trip, each_setup),
        cmocka_unit_test_setup(test_two_writers, each_setup),
        cmocka_unit_test_setup(test_exact_numbers, each_setup),
        cmocka_unit_test_setup(test_migration_from_first_schema, each_setup),
        cmocka_unit_test_setup(test_newer_schema_refused, each_setup),
        cmocka_unit_test_setup(test_import_records, each_setup),
    };
    const struct CMUnitTest other_tests[] = {
        cmocka_unit_test(test_bad_stores),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_table_formats),
    };
    int failed = cmocka_run_group_tests_name("sqlite", store_tests, group_setup_sqlite, NULL);
    failed += cmocka_run_group_tests_name("other", other_tests, NULL, NULL);
    /* ctest gives the suite's server (EB_TEST_PG); run by hand without
     * one, the group is skipped and the exit says so (77) */
    bool pg = getenv("EB_TEST_PG") && getenv("EB_TEST_PG")[0];
    if (pg)
        failed += cmocka_run_group_tests_name("postgresql", store_tests, group_setup_pg, NULL);
    else
        print_message("skip - postgresql group: EB_TEST_PG not set\n");
    if (strncmp(sqlite_path, "sqlite:", 7) == 0) unlink(sqlite_path + 7);
    free(run_record);
    return failed ? failed : pg ? 0 : 77;
}
