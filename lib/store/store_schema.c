/* The schema, one migration per version. A migration never changes what an
 * earlier one stored, only adds; each runs inside the exclusive transaction
 * that also moves the version, so a store is never half migrated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

#ifndef EB_VERSION
#define EB_VERSION "0"
#endif

/* "{ID}" stands for the backend's auto-numbered key. */
static const char schema_v1[] =
    "CREATE TABLE eb_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE devices (id {ID}, fingerprint TEXT NOT NULL UNIQUE, hostname TEXT,"
    " board_model TEXT, cpu_model TEXT, n_cpus INTEGER, cpu_topology TEXT,"
    " ram_total_kib BIGINT, kernel TEXT, os TEXT, arch TEXT, governors_offered TEXT,"
    " power_modes TEXT, gpu TEXT);\n"
    "CREATE TABLE builds (id {ID}, fingerprint TEXT NOT NULL UNIQUE, edgebench_version TEXT,"
    " engine TEXT, engine_version TEXT, engine_commit TEXT, backend TEXT, build_options TEXT,"
    " system_info TEXT);\n"
    "CREATE TABLE models (id {ID}, fingerprint TEXT NOT NULL UNIQUE, path TEXT, sha256 TEXT,"
    " name TEXT, arch TEXT, description TEXT, quant TEXT, n_params BIGINT,"
    " file_size_bytes BIGINT, weights_size_bytes BIGINT, n_layer INTEGER, n_embd INTEGER,"
    " n_ctx_train INTEGER, synthetic INTEGER, preset TEXT);\n"
    "CREATE TABLE trials (id {ID}, trial_key TEXT, source TEXT NOT NULL,"
    " device_id BIGINT REFERENCES devices(id), build_id BIGINT REFERENCES builds(id),"
    " model_id BIGINT REFERENCES models(id), plan TEXT, section TEXT, status TEXT NOT NULL,"
    " reason TEXT, started_at TEXT, stored_at TEXT, duration_s DOUBLE PRECISION,"
    " n_prompt INTEGER, n_gen INTEGER, n_ctx INTEGER, threads_prefill INTEGER,"
    " threads_gen INTEGER, n_batch INTEGER, n_ubatch INTEGER, n_gpu_layers INTEGER,"
    " governor TEXT, power_mode TEXT, energy_source TEXT, config_json TEXT, system_json TEXT,"
    " record_json TEXT NOT NULL);\n"
    "CREATE INDEX trials_key ON trials (trial_key);\n"
    "CREATE INDEX trials_started ON trials (started_at);\n"
    "CREATE TABLE runs (id {ID}, trial_id BIGINT NOT NULL REFERENCES trials(id) ON DELETE"
    " CASCADE, rep INTEGER NOT NULL, warmup INTEGER NOT NULL, n_prompt INTEGER, n_gen INTEGER,"
    " load_s DOUBLE PRECISION, prefill_s DOUBLE PRECISION, gen_s DOUBLE PRECISION,"
    " e2e_s DOUBLE PRECISION, ttft_s DOUBLE PRECISION, prefill_tps DOUBLE PRECISION,"
    " gen_tps DOUBLE PRECISION, itl_p50_s DOUBLE PRECISION, itl_p90_s DOUBLE PRECISION,"
    " itl_p99_s DOUBLE PRECISION, peak_rss_mib DOUBLE PRECISION, UNIQUE (trial_id, rep));\n"
    "CREATE TABLE run_measures (run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " span TEXT NOT NULL, measure TEXT NOT NULL, value DOUBLE PRECISION,"
    " PRIMARY KEY (run_id, span, measure));\n"
    "CREATE TABLE run_counters (run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " span TEXT NOT NULL, counter TEXT NOT NULL, status TEXT NOT NULL, value DOUBLE PRECISION,"
    " PRIMARY KEY (run_id, span, counter));\n";

/* Version 2: sampled timelines, and each trial's runs summarised as
 * llama-bench's tests (filled for the trials already stored). */
static const char schema_v2[] =
    "CREATE TABLE timelines (trial_id BIGINT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,"
    " t_s DOUBLE PRECISION NOT NULL, channel TEXT NOT NULL, value DOUBLE PRECISION);\n"
    "CREATE INDEX timelines_trial ON timelines (trial_id);\n"
    "CREATE TABLE lb_tests (trial_id BIGINT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,"
    " test TEXT NOT NULL, n_prompt INTEGER, n_gen INTEGER, n_depth INTEGER, n_threads INTEGER,"
    " avg_ns BIGINT, stddev_ns BIGINT, avg_ts DOUBLE PRECISION, stddev_ts DOUBLE PRECISION,"
    " samples_ns TEXT, samples_ts TEXT, PRIMARY KEY (trial_id, test));\n"
    "CREATE VIEW llama_bench AS SELECT b.engine_commit AS build_commit, 0 AS build_number,"
    " d.cpu_model AS cpu_info, d.gpu AS gpu_info, b.backend AS backends,"
    " m.path AS model_filename, m.description AS model_type,"
    " m.weights_size_bytes AS model_size, m.n_params AS model_n_params, t.n_batch, t.n_ubatch,"
    " l.n_threads, t.n_gpu_layers, l.n_prompt, l.n_gen, l.n_depth, t.started_at AS test_time,"
    " l.avg_ns, l.stddev_ns, l.avg_ts, l.stddev_ts, l.samples_ns, l.samples_ts,"
    " t.id AS trial_id, l.test, d.hostname, d.board_model, m.quant, m.synthetic, t.governor,"
    " t.power_mode, t.source FROM lb_tests l JOIN trials t ON t.id = l.trial_id"
    " LEFT JOIN devices d ON d.id = t.device_id LEFT JOIN builds b ON b.id = t.build_id"
    " LEFT JOIN models m ON m.id = t.model_id;\n";

/* Quality: perplexity runs, and their divergence from a base model. */
static const char schema_v3[] =
    "CREATE TABLE quality (id {ID}, device_id BIGINT REFERENCES devices(id),"
    " build_id BIGINT REFERENCES builds(id), model_id BIGINT REFERENCES models(id),"
    " source TEXT, started_at TEXT, stored_at TEXT, corpus TEXT NOT NULL,"
    " corpus_sha256 TEXT NOT NULL, corpus_tokens INTEGER, n_ctx INTEGER, n_batch INTEGER,"
    " chunks INTEGER, scored_tokens INTEGER, threads INTEGER, ppl DOUBLE PRECISION,"
    " ppl_se DOUBLE PRECISION, load_s DOUBLE PRECISION, eval_s DOUBLE PRECISION,"
    " eval_tps DOUBLE PRECISION, load_energy_j DOUBLE PRECISION,"
    " eval_energy_j DOUBLE PRECISION, eval_j_per_token DOUBLE PRECISION,"
    " eval_mean_w DOUBLE PRECISION, peak_rss_mib DOUBLE PRECISION, base_model TEXT,"
    " base_quant TEXT, base_sha256 TEXT, base_ppl DOUBLE PRECISION,"
    " ln_ppl_ratio DOUBLE PRECISION, ln_ppl_ratio_se DOUBLE PRECISION,"
    " kl_mean DOUBLE PRECISION, kl_se DOUBLE PRECISION, kl_max DOUBLE PRECISION,"
    " top1_agreement DOUBLE PRECISION, top1_agreement_se DOUBLE PRECISION,"
    " energy_source TEXT, record_json TEXT NOT NULL);\n"
    "CREATE INDEX quality_model ON quality (model_id);\n";

/* Physical limits: the shape the roofline needs of each model, and the
 * device probes (one row per measurement of a probe). */
static const char schema_v4[] =
    "ALTER TABLE models ADD COLUMN matmul_params BIGINT;\n"
    "ALTER TABLE models ADD COLUMN output_params BIGINT;\n"
    "ALTER TABLE models ADD COLUMN streamed_bytes BIGINT;\n"
    "ALTER TABLE models ADD COLUMN kv_bytes_per_pos BIGINT;\n"
    "ALTER TABLE models ADD COLUMN main_type TEXT;\n"
    "CREATE TABLE probe_runs (id {ID}, device_id BIGINT REFERENCES devices(id),"
    " build_id BIGINT REFERENCES builds(id), started_at TEXT, stored_at TEXT,"
    " duration_s DOUBLE PRECISION, buffer_bytes BIGINT, llc_bytes BIGINT, passes INTEGER,"
    " record_json TEXT NOT NULL);\n"
    "CREATE TABLE probes (probe_id BIGINT NOT NULL REFERENCES probe_runs(id) ON DELETE CASCADE,"
    " measure TEXT NOT NULL, weight_type TEXT NOT NULL, threads INTEGER NOT NULL,"
    " value DOUBLE PRECISION, median DOUBLE PRECISION, unit TEXT NOT NULL, detail TEXT,"
    " PRIMARY KEY (probe_id, measure, weight_type, threads));\n";

/* GPU offload: how many layers a trial's load put on a GPU, and which GPUs
 * (NULL on the CPU), beside the n_gpu_layers it asked for. */
static const char schema_v5[] = "ALTER TABLE trials ADD COLUMN gpu_layers_offloaded INTEGER;\n"
                                "ALTER TABLE trials ADD COLUMN offload_devices TEXT;\n";

/* Content hashes of the stored records, so that an import finds a record
 * already stored by an index instead of comparing texts with every row. */
static const char schema_v6[] = "ALTER TABLE trials ADD COLUMN record_hash TEXT;\n"
                                "CREATE INDEX trials_record_hash ON trials (record_hash);\n"
                                "ALTER TABLE quality ADD COLUMN record_hash TEXT;\n"
                                "CREATE INDEX quality_record_hash ON quality (record_hash);\n";

/* The whole record (~50 kB a trial, most of a store's bytes) in a table of
 * its own: a trial's row stays small, so listing trials and joining runs
 * to them reads a few MB, not a page per trial. */
static const char schema_v7[] =
    "CREATE TABLE trial_records (trial_id BIGINT PRIMARY KEY REFERENCES trials(id) ON DELETE"
    " CASCADE, record_json TEXT NOT NULL);\n"
    "INSERT INTO trial_records (trial_id, record_json) SELECT id, record_json FROM trials;\n"
    "ALTER TABLE trials DROP COLUMN record_json;\n";

/* llama-bench's settings as columns of their own, and its view with its
 * fields for them (values as llama-bench prints them: flash_attn -1/0/1,
 * cpu_mask 0x0 for none). Trials stored before have NULL: the view reads
 * llama.cpp's defaults of the time (f16 cache, mmap, no depth). */
static const char schema_v8[] =
    "ALTER TABLE trials ADD COLUMN type_k TEXT;\n"
    "ALTER TABLE trials ADD COLUMN type_v TEXT;\n"
    "ALTER TABLE trials ADD COLUMN flash_attn TEXT;\n"
    "ALTER TABLE trials ADD COLUMN flash_attn_used INTEGER;\n"
    "ALTER TABLE trials ADD COLUMN n_depth INTEGER;\n"
    "ALTER TABLE trials ADD COLUMN load_mode TEXT;\n"
    "ALTER TABLE trials ADD COLUMN cold_load INTEGER;\n"
    "ALTER TABLE trials ADD COLUMN cpu_strict INTEGER;\n"
    "ALTER TABLE trials ADD COLUMN poll INTEGER;\n"
    "ALTER TABLE trials ADD COLUMN cpu_mask TEXT;\n"
    "ALTER TABLE trials ADD COLUMN kv_cache_mib DOUBLE PRECISION;\n"
    "ALTER TABLE trials ADD COLUMN n_parallel INTEGER;\n"
    "ALTER TABLE trials ADD COLUMN sustain_s DOUBLE PRECISION;\n"
    "CREATE TABLE sustained_windows (trial_id BIGINT NOT NULL REFERENCES trials(id) ON DELETE"
    " CASCADE, t_start_s DOUBLE PRECISION NOT NULL, t_end_s DOUBLE PRECISION, runs INTEGER,"
    " gen_tps DOUBLE PRECISION, prefill_tps DOUBLE PRECISION, temp_max_c DOUBLE PRECISION,"
    " cpu_freq_mhz DOUBLE PRECISION, gen_mean_power_w DOUBLE PRECISION, throttled BIGINT,"
    " PRIMARY KEY (trial_id, t_start_s));\n"
    "DROP VIEW llama_bench;\n"
    "CREATE VIEW llama_bench AS SELECT b.engine_commit AS build_commit, 0 AS build_number,"
    " d.cpu_model AS cpu_info, d.gpu AS gpu_info, b.backend AS backends,"
    " m.path AS model_filename, m.description AS model_type,"
    " m.weights_size_bytes AS model_size, m.n_params AS model_n_params, t.n_batch, t.n_ubatch,"
    " l.n_threads, COALESCE(t.cpu_mask, '0x0') AS cpu_mask,"
    " COALESCE(t.cpu_strict, 0) AS cpu_strict, COALESCE(t.poll, 50) AS poll,"
    " COALESCE(t.type_k, 'f16') AS type_k, COALESCE(t.type_v, 'f16') AS type_v,"
    " t.n_gpu_layers,"
    " (CASE t.flash_attn WHEN 'on' THEN 1 WHEN 'off' THEN 0 WHEN 'auto' THEN -1 ELSE 0 END)"
    " AS flash_attn, COALESCE(t.load_mode, 'mmap') AS load_mode,"
    " COALESCE(t.n_parallel, 1) AS n_parallel,"
    " l.n_prompt, l.n_gen, l.n_depth, t.started_at AS test_time,"
    " l.avg_ns, l.stddev_ns, l.avg_ts, l.stddev_ts, l.samples_ns, l.samples_ts,"
    " t.id AS trial_id, l.test, d.hostname, d.board_model, m.quant, m.synthetic, t.governor,"
    " t.power_mode, t.flash_attn_used, t.cold_load, t.kv_cache_mib, t.source"
    " FROM lb_tests l JOIN trials t ON t.id = l.trial_id"
    " LEFT JOIN devices d ON d.id = t.device_id LEFT JOIN builds b ON b.id = t.build_id"
    " LEFT JOIN models m ON m.id = t.model_id;\n";

/* Distributed runs over RPC nodes: the trial's nodes and link, a row a
 * node and span, and where a token's time and energy went a span. */
static const char schema_v9[] =
    "ALTER TABLE trials ADD COLUMN rpc TEXT;\n"
    "ALTER TABLE trials ADD COLUMN n_nodes INTEGER;\n"
    "ALTER TABLE trials ADD COLUMN link TEXT;\n"
    "ALTER TABLE trials ADD COLUMN link_mbit DOUBLE PRECISION;\n"
    "ALTER TABLE trials ADD COLUMN link_delay_ms DOUBLE PRECISION;\n"
    "CREATE TABLE trial_nodes (trial_id BIGINT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,"
    " node INTEGER NOT NULL, span TEXT NOT NULL, address TEXT, hostname TEXT, board TEXT, cpu TEXT,"
    " arch TEXT, mem_limit_mib INTEGER, layers INTEGER, model_mib DOUBLE PRECISION,"
    " share DOUBLE PRECISION, clock_offset_ms DOUBLE PRECISION,"
    " clock_uncertainty_ms DOUBLE PRECISION, rtt_ms DOUBLE PRECISION, energy_source TEXT,"
    " energy_j DOUBLE PRECISION, mean_w DOUBLE PRECISION, peak_rss_mib DOUBLE PRECISION,"
    " compute_s DOUBLE PRECISION, sent_bytes DOUBLE PRECISION, received_bytes DOUBLE PRECISION,"
    " PRIMARY KEY (trial_id, node, span));\n"
    "CREATE TABLE trial_distributed (trial_id BIGINT NOT NULL REFERENCES trials(id) ON DELETE"
    " CASCADE, span TEXT NOT NULL, wall_s DOUBLE PRECISION, local_compute_s DOUBLE PRECISION,"
    " nodes_compute_s DOUBLE PRECISION, network_wait_s_estimate DOUBLE PRECISION,"
    " bytes DOUBLE PRECISION, predicted_transfer_s DOUBLE PRECISION,"
    " energy_j_all_devices DOUBLE PRECISION, j_per_token_all_devices DOUBLE PRECISION,"
    " PRIMARY KEY (trial_id, span));\n";

/* The hashes of records stored before schema 6, a chunk at a time so that
 * memory stays bounded however large the store. */
static eb_status hash_table(eb_store *s, const char *table, eb_error *err)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT id, record_json FROM %s WHERE record_hash IS NULL ORDER BY id LIMIT 500",
             table);
    for (;;) {
        eb_table t;
        eb_status st = s->be->query(s, sql, 0, NULL, NULL, &t, err);
        if (st != EB_OK) return st;
        size_t n = t.nrow;
        for (size_t i = 0; st == EB_OK && i < n; i++) {
            const char *text = t.cell[i * 2 + 1] ? t.cell[i * 2 + 1] : "";
            st = eb_store_set_record_hash(s, table, atoll(t.cell[i * 2]), text, err);
        }
        eb_table_free(&t);
        if (st != EB_OK || n < 500) return st;
    }
}

static eb_status hash_all(eb_store *s, eb_error *err)
{
    eb_status st = hash_table(s, "trials", err);
    return st == EB_OK ? hash_table(s, "quality", err) : st;
}

static eb_status summarize_all(eb_store *s, eb_error *err)
{
    eb_table t;
    eb_status st = s->be->query(s, "SELECT id FROM trials WHERE status = 'ok' ORDER BY id", 0, NULL,
                                NULL, &t, err);
    if (st != EB_OK) return st;
    for (size_t i = 0; st == EB_OK && i < t.nrow; i++)
        st = eb_store_summarize_trial(s, atoll(t.cell[i]), err);
    eb_table_free(&t);
    return st;
}

/* The llama.cpp build's record: the CPU features it uses, those turned
 * off and why (scripts/llama-setup.sh's self-test). */
static const char schema_v10[] = "ALTER TABLE builds ADD COLUMN variant TEXT;\n"
                                 "ALTER TABLE builds ADD COLUMN cpu_features TEXT;\n"
                                 "ALTER TABLE builds ADD COLUMN features_off TEXT;\n"
                                 "ALTER TABLE builds ADD COLUMN features_off_reason TEXT;\n";

/* Calibrations of a device's own power sensors against a meter
 * (calibrate.h): the newest per device applies to its later runs. */
static const char schema_v11[] =
    "CREATE TABLE calibrations (id {ID}, device TEXT NOT NULL, created_at TEXT NOT NULL,"
    " meter TEXT NOT NULL, onboard TEXT, gain DOUBLE PRECISION NOT NULL,"
    " offset_w DOUBLE PRECISION NOT NULL, residual_w DOUBLE PRECISION, r2 DOUBLE PRECISION,"
    " points INTEGER, rungs_json TEXT);\n"
    "CREATE INDEX calibrations_device ON calibrations (device, created_at);\n"
    "ALTER TABLE quality ADD COLUMN eval_j_per_token_u95 DOUBLE PRECISION;\n";

/* A server under load (`run --engine server`, serve.h): one row per
 * trial, its level's distributions, goodput, errors by kind and energy;
 * its ok requests are the trial's runs. */
static const char schema_v12[] =
    "CREATE TABLE trial_serving (trial_id BIGINT PRIMARY KEY REFERENCES trials(id) ON DELETE"
    " CASCADE, loop TEXT, concurrency INTEGER, request_rate DOUBLE PRECISION, slots INTEGER"
    ", requests INTEGER, ok INTEGER, failed INTEGER, timeout INTEGER, stalled INTEGER"
    ", dropped INTEGER, http_error INTEGER, server_error INTEGER, malformed INTEGER"
    ", refused INTEGER, duration_s DOUBLE PRECISION, ttft_p50_s DOUBLE PRECISION"
    ", ttft_p90_s DOUBLE PRECISION, ttft_p99_s DOUBLE PRECISION"
    ", ttft_max_s DOUBLE PRECISION, itl_p50_s DOUBLE PRECISION"
    ", itl_p90_s DOUBLE PRECISION, itl_p99_s DOUBLE PRECISION"
    ", stream_tps_min DOUBLE PRECISION, stream_tps_p10 DOUBLE PRECISION"
    ", stream_tps_p50 DOUBLE PRECISION, throughput_tps DOUBLE PRECISION"
    ", requests_per_s DOUBLE PRECISION, slo_ttft_s DOUBLE PRECISION"
    ", slo_itl_s DOUBLE PRECISION, good INTEGER, goodput_rps DOUBLE PRECISION"
    ", client_gen_tps_mean DOUBLE PRECISION, server_gen_tps_mean DOUBLE PRECISION"
    ", client_over_server DOUBLE PRECISION, gen_tokens DOUBLE PRECISION"
    ", energy_j DOUBLE PRECISION, energy_u95_j DOUBLE PRECISION"
    ", j_per_request DOUBLE PRECISION, j_per_token DOUBLE PRECISION"
    ", j_per_token_u95 DOUBLE PRECISION, mean_power_w DOUBLE PRECISION"
    ", energy_estimate INTEGER, server_rss_peak_mib DOUBLE PRECISION"
    ", temp_max_c DOUBLE PRECISION, cpu_freq_mhz DOUBLE PRECISION, server_died TEXT"
    ", first_error TEXT);\n";

/* The GPUs' driver and API versions a trial ran on (the record's
 * offload.drivers), beside the devices it used. */
static const char schema_v13[] = "ALTER TABLE trials ADD COLUMN device_drivers TEXT;\n";

static const struct migration {
    const char *sql;
    eb_status (*after)(eb_store *s, eb_error *err);
} migrations[] = {
    {schema_v1, NULL},  {schema_v2, summarize_all}, {schema_v3, NULL},  {schema_v4, NULL},
    {schema_v5, NULL},  {schema_v6, hash_all},      {schema_v7, NULL},  {schema_v8, NULL},
    {schema_v9, NULL},  {schema_v10, NULL},         {schema_v11, NULL}, {schema_v12, NULL},
    {schema_v13, NULL},
};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int eb_store_latest_version(void)
{
    return N_MIGRATIONS;
}

static eb_status exec_schema(eb_store *s, const char *sql, eb_error *err)
{
    /* replace every {ID} */
    size_t cap = strlen(sql) * 2 + 1;
    char *out = malloc(cap);
    if (!out) return eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    size_t n = 0;
    for (const char *p = sql; *p;) {
        if (strncmp(p, "{ID}", 4) == 0) {
            n += (size_t)snprintf(out + n, cap - n, "%s", s->be->id_column);
            p += 4;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    eb_status st = s->be->exec(s, out, err);
    free(out);
    return st;
}

/* The version a store has: 0 when empty; -1 (with err) when it holds
 * tables but is not an edgebench store. */
static eb_status read_version(eb_store *s, int *version, eb_error *err)
{
    eb_table t;
    eb_status st = s->be->query(s, s->be->tables_sql, 0, NULL, NULL, &t, err);
    if (st != EB_OK) return st;
    long long has_meta = atoll(t.cell[0]), n_tables = atoll(t.cell[1]);
    eb_table_free(&t);
    if (!has_meta) {
        *version = 0;
        if (n_tables > 0)
            return eb_fail(err, EB_E_INVALID_ARG,
                           "store %s holds other tables and no edgebench schema; it is left as "
                           "it is (name a new file or database)",
                           s->name);
        return EB_OK;
    }
    long long v = 0;
    st = eb_sq_id(s, "SELECT value FROM eb_meta WHERE key = 'schema_version'", 0, NULL, &v, err);
    *version = (int)v;
    return st;
}

eb_status eb_store_migrate(eb_store *s, int max_version, eb_error *err)
{
    if (max_version > N_MIGRATIONS) max_version = N_MIGRATIONS;
    int v = 0;
    eb_status st = read_version(s, &v, err);
    if (st != EB_OK) return st;
    if (v > N_MIGRATIONS)
        return eb_fail(err, EB_E_UNSUPPORTED,
                       "store %s has schema version %d, made by a newer edgebench (this one "
                       "knows up to %d); it is left as it is: use a newer edgebench",
                       s->name, v, N_MIGRATIONS);
    s->version = v;
    if (v >= max_version) return EB_OK;
    /* Someone else may be migrating: take the lock, then look again. */
    st = s->be->exec(s, s->be->begin_exclusive, err);
    if (st != EB_OK) return st;
    st = read_version(s, &v, err);
    for (int next = v + 1; st == EB_OK && next <= max_version; next++) {
        st = exec_schema(s, migrations[next - 1].sql, err);
        if (st == EB_OK && migrations[next - 1].after) st = migrations[next - 1].after(s, err);
        char vs[16];
        snprintf(vs, sizeof vs, "%d", next);
        const char *p[] = {vs};
        if (st == EB_OK && next == 1)
            st = eb_sq_exec(s,
                            "INSERT INTO eb_meta (key, value) VALUES ('schema_version', $1),"
                            " ('created_by', 'edgebench " EB_VERSION "')",
                            1, p, err);
        else if (st == EB_OK)
            st = eb_sq_exec(s, "UPDATE eb_meta SET value = $1 WHERE key = 'schema_version'", 1, p,
                            err);
        if (st == EB_OK) v = next;
    }
    st = eb_sq_end(s, st, err);
    if (st == EB_OK) s->version = v;
    return st;
}
