/* Results out of the store: trials, runs and llama-bench's rows, filtered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"
#include "store_settings.h"

/* A trial whose energy is the CPU-load x TDP model, not a measurement: its
 * energy source is the estimate's channel (lib/sensors/estimate.c). */
#define EB_ESTIMATE_SQL "(CASE WHEN t.energy_source LIKE 'estimate:%' THEN 1 ELSE 0 END)"

/* Columns a filter compares, per view. */
typedef struct view_columns {
    const char *device[2], *model[2], *quant, *governor, *status, *time, *threads;
} view_columns;

static const view_columns trial_view = {{"d.hostname", "d.board_model"},
                                        {"m.name", "m.path"},
                                        "m.quant",
                                        "t.governor",
                                        "t.status",
                                        "t.started_at",
                                        "t.threads_gen"};
static const view_columns lb_view = {{"l.hostname", "l.board_model"},
                                     {"l.model_filename", "l.model_type"},
                                     "l.quant",
                                     "l.governor",
                                     "'ok'",
                                     "l.test_time",
                                     "l.n_threads"};

/* The stored settings' columns (store_settings.c, from eb_params). */
#define EB_SETTINGS_SQL " " EB_SETTINGS_MARK

static const char trials_sql[] =
    "SELECT t.id AS trial_id, t.started_at, d.hostname AS device, m.name AS model, m.quant,"
    " t.threads_prefill, t.threads_gen, t.n_prompt, t.n_gen, t.governor, t.power_mode,"
    " t.n_gpu_layers, t.gpu_layers_offloaded, t.offload_devices, t.status,"
    " (SELECT count(*) FROM runs r WHERE r.trial_id = t.id AND r.warmup = 0) AS runs,"
    " (SELECT avg(r.load_s) FROM runs r WHERE r.trial_id = t.id AND r.warmup = 0) AS load_s,"
    " (SELECT avg(r.prefill_tps) FROM runs r WHERE r.trial_id = t.id AND r.warmup = 0)"
    " AS prefill_tps,"
    " (SELECT avg(r.gen_tps) FROM runs r WHERE r.trial_id = t.id AND r.warmup = 0) AS gen_tps,"
    " (SELECT max(r.peak_rss_mib) FROM runs r WHERE r.trial_id = t.id) AS peak_rss_mib,"
    " (SELECT avg(x.value) FROM run_measures x JOIN runs r ON r.id = x.run_id WHERE"
    " r.trial_id = t.id AND r.warmup = 0 AND x.span = 'generation' AND"
    " x.measure = 'energy_per_token_j') AS gen_j_per_token,"
    " (SELECT avg(x.value) FROM run_measures x JOIN runs r ON r.id = x.run_id WHERE"
    " r.trial_id = t.id AND r.warmup = 0 AND x.span = 'generation' AND"
    " x.measure = 'action_per_token_js') AS gen_action_js,"
    " (SELECT avg(x.value) FROM run_measures x JOIN runs r ON r.id = x.run_id WHERE"
    " r.trial_id = t.id AND r.warmup = 0 AND x.span = 'run' AND x.measure = 'mean_power_w')"
    " AS mean_power_w,"
    " t.energy_source, " EB_ESTIMATE_SQL " AS energy_estimate,"
    " d.board_model AS board, m.synthetic, t.source, t.reason, m.kv_bytes_per_pos," EB_SETTINGS_SQL
    " FROM trials t LEFT JOIN devices d ON d.id = t.device_id"
    " LEFT JOIN models m ON m.id = t.model_id";

/* One row per run; per-phase measures and counters by name (NULL: not
 * measured). */
static const char runs_sql[] =
    "SELECT t.id AS trial_id, r.rep, r.warmup, t.status, t.started_at,"
    " COALESCE(NULLIF(d.hostname, ''), d.cpu_model) AS device, m.name AS model, m.quant,"
    " t.threads_prefill, t.threads_gen, t.governor, t.power_mode, t.n_gpu_layers,"
    " t.gpu_layers_offloaded," EB_SETTINGS_SQL ", " EB_ESTIMATE_SQL " AS energy_estimate,"
    " r.n_prompt, r.n_gen,"
    " r.load_s,"
    " r.prefill_s, r.gen_s, r.e2e_s, r.ttft_s, r.prefill_tps, r.gen_tps, r.itl_p50_s,"
    " r.itl_p99_s, r.peak_rss_mib,"
    " (SELECT x.value FROM run_measures x WHERE x.run_id = r.id AND x.span = 'run'"
    " AND x.measure = 'energy_j') AS run_energy_j,"
    " (SELECT x.value FROM run_measures x WHERE x.run_id = r.id AND x.span = 'run'"
    " AND x.measure = 'mean_power_w') AS run_mean_power_w,"
    " (SELECT x.value FROM run_measures x WHERE x.run_id = r.id AND x.span = 'prefill'"
    " AND x.measure = 'energy_j') AS prefill_energy_j,"
    " (SELECT x.value FROM run_measures x WHERE x.run_id = r.id AND x.span = 'prefill'"
    " AND x.measure = 'energy_per_token_j') AS prefill_j_per_token,"
    " (SELECT x.value FROM run_measures x WHERE x.run_id = r.id AND x.span = 'prefill'"
    " AND x.measure = 'action_per_token_js') AS prefill_action_js,"
    " (SELECT x.value FROM run_measures x WHERE x.run_id = r.id AND x.span = 'generation'"
    " AND x.measure = 'energy_j') AS gen_energy_j,"
    " (SELECT x.value FROM run_measures x WHERE x.run_id = r.id AND x.span = 'generation'"
    " AND x.measure = 'energy_per_token_j') AS gen_j_per_token,"
    " (SELECT x.value FROM run_measures x WHERE x.run_id = r.id AND x.span = 'generation'"
    " AND x.measure = 'action_per_token_js') AS gen_action_js,"
    " (SELECT c.value FROM run_counters c WHERE c.run_id = r.id"
    " AND c.span = 'generation' AND c.counter = 'cache_misses' AND c.status = 'ok') AS "
    "gen_cache_misses,"
    " (SELECT c.value FROM run_counters c WHERE c.run_id = r.id"
    " AND c.span = 'generation' AND c.counter = 'context_switches' AND c.status = 'ok') AS "
    "gen_context_switches,"
    " (SELECT c.value FROM run_counters c WHERE c.run_id = r.id"
    " AND c.span = 'prefill' AND c.counter = 'cache_misses' AND c.status = 'ok') AS "
    "prefill_cache_misses,"
    " (SELECT c.value FROM run_counters c WHERE c.run_id = r.id"
    " AND c.span = 'prefill' AND c.counter = 'context_switches' AND c.status = 'ok') AS "
    "prefill_context_switches,"
    " (SELECT c.value / NULLIF(r.n_gen, 0) FROM run_counters c WHERE c.run_id = r.id"
    " AND c.span = 'generation' AND c.counter = 'cache_misses' AND c.status = 'ok') AS "
    "gen_cache_misses_per_token,"
    " (SELECT c.value / NULLIF(r.n_gen, 0) FROM run_counters c WHERE c.run_id = r.id"
    " AND c.span = 'generation' AND c.counter = 'context_switches' AND c.status = 'ok') AS "
    "gen_context_switches_per_token,"
    " (SELECT c.value / NULLIF(r.n_prompt, 0) FROM run_counters c WHERE c.run_id = r.id"
    " AND c.span = 'prefill' AND c.counter = 'cache_misses' AND c.status = 'ok') AS "
    "prefill_cache_misses_per_token,"
    " (SELECT c.value / NULLIF(r.n_prompt, 0) FROM run_counters c WHERE c.run_id = r.id"
    " AND c.span = 'prefill' AND c.counter = 'context_switches' AND c.status = 'ok') AS "
    "prefill_context_switches_per_token"
    " FROM runs r JOIN trials t ON t.id = r.trial_id LEFT JOIN devices d ON d.id = t.device_id"
    " LEFT JOIN models m ON m.id = t.model_id";

#define EB_MEASURE_SQL(span, m)                                                                    \
    " (SELECT x.value FROM run_measures x WHERE x.run_id = r.id AND x.span = '" span "'"           \
    " AND x.measure = '" m "')"
/* a span's energy bound as a share of its energy (lib/sensors/energy.h) */
#define EB_U_REL_SQL(span, part)                                                                   \
    " (" EB_MEASURE_SQL(span, "energy_u_" part                                                     \
                              "_j") " / NULLIF(" EB_MEASURE_SQL(span, "energy_j") ", 0))"
#define EB_PER_TOKEN_SQL(span, c, n)                                                               \
    " (SELECT c.value / NULLIF(r." n ", 0) FROM run_counters c WHERE c.run_id = r.id"              \
    " AND c.span = '" span "' AND c.counter = '" c "' AND c.status = 'ok')"

/* What eb_store_configs reads: measured runs of ok trials, the columns the
 * analyses use and no more. */
/* clang-format off */
static const char analysis_sql[] =
    "SELECT t.id AS trial_id, r.rep, r.warmup, t.status,"
    " COALESCE(NULLIF(d.hostname, ''), d.cpu_model) AS device, d.board_model AS board,"
    " m.name AS model, m.quant,"
    " t.threads_prefill, t.threads_gen, t.governor, t.power_mode, t.gpu_layers_offloaded,"
    EB_SETTINGS_SQL ","
    " t.n_prompt AS trial_n_prompt, t.model_id, t.build_id,"
    " (SELECT b.engine_version || CASE WHEN b.backend IS NULL OR b.backend = '' THEN ''"
    " ELSE ' ' || b.backend END FROM builds b WHERE b.id = t.build_id) AS build,"
    " " EB_ESTIMATE_SQL " AS energy_estimate, r.prefill_tps, r.gen_tps, r.e2e_s, r.load_s,"
    " r.peak_rss_mib, r.prefill_s, r.gen_s,"
    EB_MEASURE_SQL("prefill", "energy_per_token_j") " AS prefill_j_per_token,"
    EB_MEASURE_SQL("generation", "energy_per_token_j") " AS gen_j_per_token,"
    EB_MEASURE_SQL("prefill", "action_per_token_js") " AS prefill_action_js,"
    EB_MEASURE_SQL("generation", "action_per_token_js") " AS gen_action_js,"
    EB_MEASURE_SQL("run", "energy_j") " AS run_energy_j,"
    EB_U_REL_SQL("prefill", "sys") " AS prefill_energy_u_sys_rel,"
    EB_U_REL_SQL("prefill", "rand") " AS prefill_energy_u_rand_rel,"
    EB_U_REL_SQL("generation", "sys") " AS gen_energy_u_sys_rel,"
    EB_U_REL_SQL("generation", "rand") " AS gen_energy_u_rand_rel,"
    EB_U_REL_SQL("run", "sys") " AS run_energy_u_sys_rel,"
    EB_U_REL_SQL("run", "rand") " AS run_energy_u_rand_rel,"
    EB_MEASURE_SQL("run", "disturbed") " AS disturbed,"
    EB_MEASURE_SQL("run", "other_cpu_pct") " AS other_cpu_pct,"
    EB_PER_TOKEN_SQL("generation", "cache_misses", "n_gen") " AS gen_cache_misses_per_token,"
    EB_PER_TOKEN_SQL("generation", "context_switches", "n_gen")
    " AS gen_context_switches_per_token,"
    EB_PER_TOKEN_SQL("prefill", "cache_misses", "n_prompt") " AS prefill_cache_misses_per_token,"
    EB_PER_TOKEN_SQL("prefill", "context_switches", "n_prompt")
    " AS prefill_context_switches_per_token"
    " FROM runs r JOIN trials t ON t.id = r.trial_id LEFT JOIN devices d ON d.id = t.device_id"
    " LEFT JOIN models m ON m.id = t.model_id";
/* clang-format on */

static const char lb_sql[] = "SELECT l.* FROM llama_bench l";

/* clang-format off */
#define METHODS_RUNS(cond)                                                                         \
    " sum((SELECT count(*) FROM runs r WHERE r.trial_id = t.id AND " cond "))"
static const char methods_sql[] =
    "SELECT COALESCE(NULLIF(d.hostname, ''), d.cpu_model) AS \"device\", d.board_model AS"
    " \"board\", d.cpu_model AS \"CPU\", d.kernel AS \"kernel\", b.engine_version AS"
    " \"engine\", b.engine_commit AS \"build commit\", b.backend AS \"backend\","
    " b.variant AS \"build variant\", b.cpu_features AS \"CPU features\","
    " m.name AS \"model\", m.quant AS \"weights\", m.sha256 AS \"model SHA-256\","
    " count(*) AS \"trials\", min(t.n_prompt) AS \"prompt tokens, least\","
    " max(t.n_prompt) AS \"prompt tokens, most\", min(t.n_gen) AS \"generated tokens, least\","
    " max(t.n_gen) AS \"generated tokens, most\","
    METHODS_RUNS("r.warmup = 0") " AS \"measured runs\","
    METHODS_RUNS("r.warmup <> 0") " AS \"warm-ups\","
    " sum((SELECT count(*) FROM runs r JOIN run_measures x ON x.run_id = r.id WHERE"
    " r.trial_id = t.id AND r.warmup = 0 AND x.span = 'run' AND x.measure = 'disturbed'"
    " AND x.value = 1)) AS \"disturbed runs\","
    " max(COALESCE(t.energy_source, 'none')) AS \"energy source\","
    " min(t.started_at) AS \"first run\", max(t.started_at) AS \"last run\","
    " max(t.id) AS \"newest trial\""
    " FROM trials t LEFT JOIN devices d ON d.id = t.device_id LEFT JOIN builds b"
    " ON b.id = t.build_id LEFT JOIN models m ON m.id = t.model_id";
static const char methods_group[] =
    " GROUP BY d.hostname, d.cpu_model, d.board_model, d.kernel, b.engine_version,"
    " b.engine_commit, b.backend, b.variant, b.cpu_features, m.name, m.quant, m.sha256";
/* clang-format on */

static const view_columns quality_view = {{"d.hostname", "d.board_model"},
                                          {"m.name", "m.path"},
                                          "m.quant",
                                          "'-'",
                                          "'ok'",
                                          "q.started_at",
                                          "q.threads"};
static const char quality_sql[] =
    "SELECT q.id AS quality_id, q.started_at,"
    " COALESCE(NULLIF(d.hostname, ''), d.cpu_model) AS device, m.name AS model, m.quant,"
    " m.preset, m.synthetic, m.sha256 AS model_sha256, q.corpus, q.corpus_sha256,"
    " q.corpus_tokens, q.n_ctx, q.n_batch, q.chunks, q.scored_tokens, q.threads, q.ppl,"
    " q.ppl_se, q.base_model, q.base_quant, q.base_sha256, q.base_ppl, q.ln_ppl_ratio,"
    " q.ln_ppl_ratio_se, q.kl_mean, q.kl_se, q.kl_max, q.top1_agreement,"
    " q.top1_agreement_se, q.load_s, q.eval_s, q.eval_tps, q.load_energy_j,"
    " q.eval_energy_j, q.eval_j_per_token, q.eval_j_per_token_u95, q.eval_mean_w, q.peak_rss_mib, "
    "q.energy_source"
    " FROM quality q LEFT JOIN devices d ON d.id = q.device_id"
    " LEFT JOIN models m ON m.id = q.model_id";

static const view_columns probes_view = {{"d.hostname", "d.board_model"},
                                         {"''", "''"},
                                         "p.weight_type",
                                         "'-'",
                                         "'ok'",
                                         "pr.started_at",
                                         "p.threads"};
/* Newest probe first: the figures a configuration is compared with. */
static const char probes_sql[] =
    "SELECT pr.id AS probe_id, pr.started_at,"
    " COALESCE(NULLIF(d.hostname, ''), d.cpu_model) AS device, d.board_model AS board,"
    " d.cpu_model, d.ram_total_kib, p.measure, p.weight_type, p.threads, p.value, p.median,"
    " p.unit, p.detail FROM probes p JOIN probe_runs pr ON pr.id = p.probe_id"
    " LEFT JOIN devices d ON d.id = pr.device_id";

/* One row per stored trial: its model's shape and its measured means. */
static const char roofline_sql[] =
    "SELECT t.id AS trial_id, t.started_at,"
    " COALESCE(NULLIF(d.hostname, ''), d.cpu_model) AS device, d.board_model AS board,"
    " m.name AS model, m.quant, m.main_type, m.n_params, m.matmul_params, m.output_params,"
    " m.streamed_bytes,"
    " m.kv_bytes_per_pos, m.synthetic, m.preset, m.path, m.file_size_bytes, t.n_ctx,"
    " t.threads_prefill, t.threads_gen, t.governor,"
    " t.power_mode, t.gpu_layers_offloaded, t.status,"
    " (SELECT avg(r.n_prompt) FROM runs r WHERE r.trial_id = t.id AND r.warmup = 0) AS n_prompt,"
    " (SELECT avg(r.n_gen) FROM runs r WHERE r.trial_id = t.id AND r.warmup = 0) AS n_gen,"
    " (SELECT avg(r.prefill_tps) FROM runs r WHERE r.trial_id = t.id AND r.warmup = 0)"
    " AS prefill_tps,"
    " (SELECT avg(r.gen_tps) FROM runs r WHERE r.trial_id = t.id AND r.warmup = 0) AS gen_tps,"
    " (SELECT avg(r.load_s) FROM runs r WHERE r.trial_id = t.id AND r.warmup = 0) AS load_s,"
    " (SELECT max(r.peak_rss_mib) FROM runs r WHERE r.trial_id = t.id) AS peak_rss_mib"
    " FROM trials t LEFT JOIN devices d ON d.id = t.device_id"
    " LEFT JOIN models m ON m.id = t.model_id";

/* One row per trial: its nodes and link (none: one process) and where a
 * generated token's time and energy went. */
static const char distributed_sql[] =
    "SELECT t.id AS trial_id, t.started_at,"
    " COALESCE(NULLIF(d.hostname, ''), d.cpu_model) AS device, m.name AS model, m.quant,"
    " m.synthetic, t.rpc, COALESCE(t.n_nodes, 0) AS n_nodes, t.link, t.link_mbit,"
    " t.link_delay_ms, t.threads_gen, t.status,"
    " (SELECT avg(r.gen_tps) FROM runs r WHERE r.trial_id = t.id AND r.warmup = 0) AS gen_tps,"
    " (SELECT avg(r.prefill_tps) FROM runs r WHERE r.trial_id = t.id AND r.warmup = 0)"
    " AS prefill_tps,"
    " (SELECT avg(r.ttft_s) FROM runs r WHERE r.trial_id = t.id AND r.warmup = 0) AS ttft_s,"
    " (SELECT avg(x.value) FROM run_measures x JOIN runs r ON r.id = x.run_id WHERE"
    " r.trial_id = t.id AND r.warmup = 0 AND x.span = 'generation' AND"
    " x.measure = 'energy_per_token_j') AS gen_j_per_token_here,"
    " g.j_per_token_all_devices AS gen_j_per_token_all, g.wall_s AS gen_wall_s,"
    " g.network_wait_s_estimate AS gen_network_wait_s, g.bytes AS gen_bytes_per_token,"
    " g.predicted_transfer_s AS gen_predicted_transfer_s,"
    " p.network_wait_s_estimate AS prefill_network_wait_s, t.energy_source"
    " FROM trials t LEFT JOIN devices d ON d.id = t.device_id"
    " LEFT JOIN models m ON m.id = t.model_id"
    " LEFT JOIN trial_distributed g ON g.trial_id = t.id AND g.span = 'generation'"
    " LEFT JOIN trial_distributed p ON p.trial_id = t.id AND p.span = 'prefill'";

/* What ran where: trials by device, model, backend, devices and outcome,
 * with a failure's reason (the report's table; a backend that failed is a
 * row, not a gap). */
static const char backends_sql[] =
    "SELECT COALESCE(NULLIF(d.hostname, ''), d.cpu_model) AS \"device\", m.name AS \"model\","
    " m.quant AS \"weights\", COALESCE(t.backend, 'auto') AS \"backend\","
    " COALESCE(t.devices, '') AS \"devices asked\", b.backend AS \"backends found\","
    " COALESCE(t.offload_devices, '') AS \"devices used\","
    " COALESCE(t.device_drivers, '') AS \"drivers\", t.status AS \"status\","
    " count(*) AS \"trials\", max(t.reason) AS \"reason\""
    " FROM trials t LEFT JOIN devices d ON d.id = t.device_id LEFT JOIN builds b"
    " ON b.id = t.build_id LEFT JOIN models m ON m.id = t.model_id";
static const char backends_group[] =
    " GROUP BY d.hostname, d.cpu_model, m.name, m.quant, t.backend, t.devices, b.backend,"
    " t.offload_devices, t.device_drivers, t.status";

/* One row per server-under-load trial (`run --engine server`): its level
 * and, for the serving stack's cost, the same device's and model's
 * in-process generation t/s at the same generation threads. */
static const char serving_sql[] =
    "SELECT t.id AS trial_id, t.started_at,"
    " COALESCE(NULLIF(d.hostname, ''), d.cpu_model) AS device, m.name AS model, m.quant,"
    " m.synthetic, t.threads_gen, t.n_prompt, t.status, t.energy_source,"
    " " EB_ESTIMATE_SQL " AS energy_estimate_source," EB_SETTINGS_SQL ","
    " v.loop, v.concurrency, v.request_rate, v.slots, v.requests, v.ok, v.failed, v.timeout,"
    " v.stalled, v.dropped, v.http_error, v.server_error, v.malformed, v.refused,"
    " v.duration_s, v.ttft_p50_s, v.ttft_p90_s, v.ttft_p99_s, v.ttft_max_s, v.itl_p50_s,"
    " v.itl_p90_s, v.itl_p99_s, v.stream_tps_min, v.stream_tps_p10, v.stream_tps_p50,"
    " v.throughput_tps, v.requests_per_s, v.slo_ttft_s, v.slo_itl_s, v.good, v.goodput_rps,"
    " v.client_gen_tps_mean, v.server_gen_tps_mean, v.client_over_server, v.gen_tokens,"
    " v.energy_j, v.energy_u95_j, v.j_per_request, v.j_per_token, v.j_per_token_u95,"
    " v.mean_power_w, v.energy_estimate, v.server_rss_peak_mib, v.temp_max_c, v.cpu_freq_mhz, "
    "v.server_died,"
    " v.first_error,"
    " (SELECT avg(r.gen_tps) FROM runs r JOIN trials t2 ON t2.id = r.trial_id"
    " WHERE t2.device_id = t.device_id AND t2.model_id = t.model_id AND r.warmup = 0"
    " AND t2.status = 'ok' AND COALESCE(t2.run_engine, 'llama.cpp') = 'llama.cpp'"
    " AND COALESCE(t2.n_parallel, 1) = 1 AND t2.threads_gen = t.threads_gen)"
    " AS in_process_gen_tps"
    " FROM trial_serving v JOIN trials t ON t.id = v.trial_id"
    " LEFT JOIN devices d ON d.id = t.device_id LEFT JOIN models m ON m.id = t.model_id";

eb_status eb_store_results(eb_store *s, eb_results_view view, const eb_results_filter *f,
                           eb_table *out, eb_error *err)
{
    /* The schema version each view needs and what an older store lacks. */
    int need = view == EB_VIEW_LLAMA_BENCH   ? 8
               : view == EB_VIEW_QUALITY     ? 3
               : view == EB_VIEW_PROBES      ? 4
               : view == EB_VIEW_ROOFLINE    ? 5
               : view == EB_VIEW_DISTRIBUTED ? 9
               : view == EB_VIEW_METHODS     ? 10
               : view == EB_VIEW_SERVING     ? 12
               : view == EB_VIEW_BACKENDS    ? 13
                                             : 8;
    const char *lacks = need == 3    ? "no quality table"
                        : need == 4  ? "no probes"
                        : need == 5  ? "no GPU offload columns"
                        : need == 9  ? "no RPC node tables"
                        : need == 10 ? "no build variants"
                        : need == 12 ? "no serving table"
                        : need == 13 ? "no drivers column"
                                     : "no columns for llama-bench's settings";
    if (s->version < need)
        return eb_fail(err, EB_E_UNSUPPORTED,
                       "store %s (schema %d) has %s: open it with write access once to "
                       "migrate it",
                       s->name, s->version, lacks);
    const view_columns *vc = view == EB_VIEW_LLAMA_BENCH ? &lb_view
                             : view == EB_VIEW_QUALITY   ? &quality_view
                             : view == EB_VIEW_PROBES    ? &probes_view
                                                         : &trial_view;
    const char *base_sql = view == EB_VIEW_TRIALS        ? trials_sql
                           : view == EB_VIEW_RUNS        ? runs_sql
                           : view == EB_VIEW_QUALITY     ? quality_sql
                           : view == EB_VIEW_PROBES      ? probes_sql
                           : view == EB_VIEW_ROOFLINE    ? roofline_sql
                           : view == EB_VIEW_ANALYSIS    ? analysis_sql
                           : view == EB_VIEW_DISTRIBUTED ? distributed_sql
                           : view == EB_VIEW_METHODS     ? methods_sql
                           : view == EB_VIEW_SERVING     ? serving_sql
                           : view == EB_VIEW_BACKENDS    ? backends_sql
                                                         : lb_sql;
    char *base = eb_store_expand_settings(s, base_sql);
    size_t cap = base ? strlen(base) + 2048 : 0;
    char *sql = base ? malloc(cap) : NULL;
    if (!sql) {
        free(base);
        return eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    }
    size_t n = (size_t)snprintf(sql, cap, "%s WHERE %s", base,
                                view == EB_VIEW_ANALYSIS ? "r.warmup = 0 AND t.status = 'ok'"
                                : view == EB_VIEW_DISTRIBUTED || view == EB_VIEW_METHODS
                                    ? "t.status = 'ok'"
                                    : "1 = 1");
    const char *p[8];
    char like[2][300], threads[24];
    int np = 0;
    static const eb_results_filter none = {0};
    if (!f) f = &none;
    if (f->device && f->device[0]) {
        snprintf(like[0], sizeof like[0], "%%%s%%", f->device);
        p[np++] = like[0];
        n += (size_t)snprintf(sql + n, cap - n,
                              " AND (lower(%s) LIKE lower($%d) OR lower(%s) LIKE lower($%d))",
                              vc->device[0], np, vc->device[1], np);
    }
    if (f->model && f->model[0]) {
        snprintf(like[1], sizeof like[1], "%%%s%%", f->model);
        p[np++] = like[1];
        n += (size_t)snprintf(sql + n, cap - n,
                              " AND (lower(%s) LIKE lower($%d) OR lower(%s) LIKE lower($%d))",
                              vc->model[0], np, vc->model[1], np);
    }
    if (f->quant && f->quant[0]) {
        p[np++] = f->quant;
        n += (size_t)snprintf(sql + n, cap - n, " AND upper(%s) = upper($%d)", vc->quant, np);
    }
    if (f->governor && f->governor[0]) {
        p[np++] = f->governor;
        n += (size_t)snprintf(sql + n, cap - n, " AND %s = $%d", vc->governor, np);
    }
    if (f->status && f->status[0]) {
        p[np++] = f->status;
        n += (size_t)snprintf(sql + n, cap - n, " AND %s = $%d", vc->status, np);
    }
    if (f->since && f->since[0]) {
        p[np++] = f->since;
        n += (size_t)snprintf(sql + n, cap - n, " AND %s >= $%d", vc->time, np);
    }
    if (f->until && f->until[0]) {
        p[np++] = f->until;
        n += (size_t)snprintf(sql + n, cap - n, " AND %s < $%d", vc->time, np);
    }
    if (f->threads > 0) {
        snprintf(threads, sizeof threads, "%d", f->threads);
        p[np++] = threads;
        n += (size_t)snprintf(sql + n, cap - n, " AND %s = CAST($%d AS INTEGER)", vc->threads, np);
    }
    if (view == EB_VIEW_METHODS) n += (size_t)snprintf(sql + n, cap - n, "%s", methods_group);
    if (view == EB_VIEW_BACKENDS) n += (size_t)snprintf(sql + n, cap - n, "%s", backends_group);
    n += (size_t)snprintf(
        sql + n, cap - n, "%s",
        view == EB_VIEW_METHODS    ? " ORDER BY 1, 5, 10"
        : view == EB_VIEW_BACKENDS ? " ORDER BY 1, 2, 3, 4, 5"
        : view == EB_VIEW_TRIALS || view == EB_VIEW_ROOFLINE || view == EB_VIEW_DISTRIBUTED ||
                view == EB_VIEW_SERVING
            ? " ORDER BY t.id"
        : view == EB_VIEW_RUNS || view == EB_VIEW_ANALYSIS ? " ORDER BY t.id, r.rep"
        : view == EB_VIEW_QUALITY                          ? " ORDER BY q.id"
        : view == EB_VIEW_PROBES ? " ORDER BY pr.id DESC, p.measure, p.weight_type, p.threads"
                                 : " ORDER BY l.trial_id, l.test");
    if (f->limit > 0) snprintf(sql + n, cap - n, " LIMIT %lld", f->limit);
    eb_status st = eb_sq_query(s, sql, np, p, NULL, out, err);
    free(sql);
    free(base);
    if (st != EB_OK) return st;
    /* SQLite types cells, not columns: a column is numeric when its name
     * says so even if every cell is NULL. */
    for (size_t c = 0; c < out->ncol; c++) {
        const char *nm = out->name[c];
        if (strncmp(nm, "samples_", 8) == 0)
            out->numeric[c] = 2;
        else if (strcmp(nm, "test_time") == 0 || strcmp(nm, "started_at") == 0)
            out->numeric[c] = 0;
    }
    return EB_OK;
}

eb_status eb_store_timeline(eb_store *s, long long trial_id, eb_table *out, eb_error *err)
{
    if (s->version < 2)
        return eb_fail(err, EB_E_UNSUPPORTED, "store %s (schema %d) holds no timelines", s->name,
                       s->version);
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", trial_id);
    const char *p[] = {tid};
    return eb_sq_query(s,
                       "SELECT trial_id, t_s, channel, value FROM timelines WHERE trial_id ="
                       " CAST($1 AS BIGINT) ORDER BY t_s, channel",
                       1, p, NULL, out, err);
}

eb_status eb_store_windows(eb_store *s, eb_table *out, eb_error *err)
{
    if (s->version < 8)
        return eb_fail(err, EB_E_UNSUPPORTED, "store %s (schema %d) holds no sustained runs",
                       s->name, s->version);
    return eb_sq_query(s,
                       "SELECT w.trial_id, COALESCE(NULLIF(d.hostname, ''), d.cpu_model) AS"
                       " device, m.name AS model, m.quant, t.threads_gen, t.n_parallel,"
                       " t.sustain_s, w.t_start_s, w.t_end_s, w.runs, w.gen_tps, w.prefill_tps,"
                       " w.temp_max_c, w.cpu_freq_mhz, w.gen_mean_power_w, w.throttled"
                       " FROM sustained_windows w JOIN trials t ON t.id = w.trial_id"
                       " LEFT JOIN devices d ON d.id = t.device_id"
                       " LEFT JOIN models m ON m.id = t.model_id ORDER BY w.trial_id, w.t_start_s",
                       0, NULL, NULL, out, err);
}

eb_status eb_store_builds(eb_store *s, eb_table *out, eb_error *err)
{
    if (s->version < 10)
        return eb_fail(err, EB_E_UNSUPPORTED,
                       "store %s (schema %d) holds no build features (schema 10 does)", s->name,
                       s->version);
    /* one row a build and device: the builds are few, whatever the trials */
    return eb_sq_query(s,
                       "SELECT COALESCE(NULLIF(d.hostname, ''), d.cpu_model) AS device,"
                       " b.engine_version, b.backend, b.variant, b.cpu_features, b.features_off,"
                       " b.features_off_reason, COUNT(t.id) AS trials"
                       " FROM builds b JOIN trials t ON t.build_id = b.id"
                       " LEFT JOIN devices d ON d.id = t.device_id"
                       " GROUP BY d.hostname, d.cpu_model, b.id, b.engine_version, b.backend,"
                       " b.variant, b.cpu_features, b.features_off, b.features_off_reason"
                       " ORDER BY device, b.id",
                       0, NULL, NULL, out, err);
}

eb_status eb_store_latest_timeline(eb_store *s, long long *trial_id, eb_error *err)
{
    *trial_id = 0;
    if (s->version < 2) return EB_OK;
    return eb_sq_id(s, "SELECT max(trial_id) FROM timelines", 0, NULL, trial_id, err);
}

eb_status eb_store_trial_done(eb_store *s, const char *trial_key, const char *hostname, bool *done,
                              eb_error *err)
{
    const char *p[] = {trial_key, hostname ? hostname : ""};
    long long n = 0;
    eb_status st = eb_sq_id(s,
                            "SELECT count(*) FROM trials t LEFT JOIN devices d ON d.id ="
                            " t.device_id WHERE t.trial_key = $1 AND t.status = 'ok' AND ($2 ="
                            " '' OR d.hostname = $2)",
                            2, p, &n, err);
    *done = n > 0;
    return st;
}

eb_status eb_store_is_empty(eb_store *s, bool *empty, eb_error *err)
{
    static const struct {
        const char *sql;
        int since; /* schema version */
    } tables[] = {{"SELECT count(*) FROM (SELECT 1 FROM trials LIMIT 1) x", 1},
                  {"SELECT count(*) FROM (SELECT 1 FROM quality LIMIT 1) x", 3},
                  {"SELECT count(*) FROM (SELECT 1 FROM probe_runs LIMIT 1) x", 4}};
    *empty = true;
    for (size_t i = 0; i < sizeof tables / sizeof *tables && *empty; i++) {
        if (s->version < tables[i].since) continue;
        long long n = 0;
        eb_status st = eb_sq_id(s, tables[i].sql, 0, NULL, &n, err);
        if (st != EB_OK) return st;
        *empty = n == 0;
    }
    return EB_OK;
}

eb_status eb_store_trial_record(eb_store *s, long long trial_id, char **json, eb_error *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", trial_id);
    const char *p[] = {id};
    eb_table t;
    *json = NULL;
    eb_status st =
        eb_sq_query(s,
                    s->version >= 7 ? "SELECT record_json FROM trial_records WHERE trial_id = $1"
                                    : "SELECT record_json FROM trials WHERE id = $1",
                    1, p, NULL, &t, err);
    if (st != EB_OK) return st;
    const char *text = t.nrow ? eb_table_cell(&t, 0, 0) : NULL;
    if (text && !(*json = strdup(text))) st = eb_fail(err, EB_E_NO_MEMORY, "store: out of memory");
    eb_table_free(&t);
    if (st == EB_OK && !*json)
        st = eb_fail(err, EB_E_INVALID_ARG, "store %s: no trial %lld", s->name, trial_id);
    return st;
}
