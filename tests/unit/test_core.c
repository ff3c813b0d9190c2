/* Statistics, configuration checks, parsing, device facts and memory
 * readings on fixture trees, and GGUF checks of bad files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "assert_close.h"

#include "edgebench/bench.h"
#include "edgebench/counters.h"
#include "edgebench/engine.h"
#include "edgebench/gguf_check.h"
#include "edgebench/memory.h"
#include "edgebench/output.h"
#include "edgebench/stats.h"
#include "edgebench/synth.h"
#include "edgebench/sysinfo.h"
#include "gguf.h"

#ifndef FIXTURES
#error FIXTURES must name tests/fixtures
#endif

static void test_stats_known_values(void **state)
{
    (void)state;
    const double v[] = {2, 4, 4, 4, 5, 5, 7, 9};
    eb_stats s;
    eb_stats_compute(v, 8, &s);
    assert_int_equal(s.n, 8);
    assert_close(s.mean, 5.0, 1e-12);
    /* sum of squares 32, sample variance 32/7 */
    assert_close(s.stddev, 2.138089935299395, 1e-12);
    assert_close(s.median, 4.5, 1e-12);
    assert_close(s.min, 2, 0);
    assert_close(s.max, 9, 0);
    double half = 2.365 * 2.138089935299395 / sqrt(8.0);
    assert_close(s.ci95_lo, 5.0 - half, 1e-9);
    assert_close(s.ci95_hi, 5.0 + half, 1e-9);
}

static void test_stats_edge_cases(void **state)
{
    (void)state;
    eb_stats s;
    eb_stats_compute(NULL, 0, &s);
    assert_int_equal(s.n, 0);
    const double one[] = {3.5};
    eb_stats_compute(one, 1, &s);
    assert_close(s.mean, 3.5, 0);
    assert_close(s.stddev, 0, 0);
    assert_close(s.ci95_lo, 3.5, 0);
    const double p[] = {5, 1, 4, 2, 3};
    assert_close(eb_percentile(p, 5, 50), 3, 1e-12);
    assert_close(eb_percentile(p, 5, 90), 4.6, 1e-12);
    assert_close(eb_percentile(p, 5, 0), 1, 0);
    assert_close(eb_percentile(p, 5, 100), 5, 0);
    assert_close(eb_student_t975(4), 2.776, 1e-9);
    assert_close(eb_student_t975(1000), 1.960, 1e-9);
}

static eb_run_config valid_config(void)
{
    eb_run_config c;
    eb_run_config_defaults(&c);
    c.model_path = "model.gguf";
    return c;
}

static void test_config_defaults_follow_the_study(void **state)
{
    (void)state;
    eb_run_config c = valid_config();
    assert_int_equal(c.n_gen, 100);
    assert_int_equal(c.n_ctx, 512);
    assert_int_equal(c.reps + c.warmup, 5);
    assert_int_equal(c.warmup, 1);
    assert_int_equal(c.threads_gen, (int)sysconf(_SC_NPROCESSORS_ONLN));
    assert_int_equal(c.threads_prefill, c.threads_gen);
    assert_int_equal(eb_run_config_validate(&c, NULL), EB_OK);
}

static void test_config_rejects_bad_values(void **state)
{
    (void)state;
    eb_error err;
    static const struct {
        size_t offset;
        int value;
        const char *needle;
    } cases[] = {
        {offsetof(eb_run_config, threads_gen), 0, "generation threads"},
        {offsetof(eb_run_config, threads_prefill), -2, "prefill threads"},
        {offsetof(eb_run_config, threads_gen), 100000, "generation threads"},
        {offsetof(eb_run_config, n_gen), 0, "generation tokens"},
        {offsetof(eb_run_config, n_ctx), -1, "context"},
        {offsetof(eb_run_config, reps), 0, "repetitions"},
        {offsetof(eb_run_config, n_batch), 0, "batch"},
        {offsetof(eb_run_config, warmup), -1, "warm-up"},
    };
    eb_run_config c;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        c = valid_config();
        *(int *)((char *)&c + cases[i].offset) = cases[i].value;
        assert_int_equal(eb_run_config_validate(&c, &err), EB_E_INVALID_ARG);
        assert_non_null(strstr(err.msg, cases[i].needle));
    }
    c = valid_config();
    c.n_prompt_random = 500;
    assert_int_equal(eb_run_config_validate(&c, &err), EB_E_CONTEXT);
    assert_non_null(strstr(err.msg, "512"));
    c = valid_config();
    c.model_path = NULL;
    assert_int_equal(eb_run_config_validate(&c, &err), EB_E_INVALID_ARG);
}

static void test_parsers(void **state)
{
    (void)state;
    eb_format f;
    assert_true(eb_format_parse("JSON", &f) && f == EB_FMT_JSON);
    assert_true(eb_format_parse("csv", &f) && f == EB_FMT_CSV);
    assert_false(eb_format_parse("xml", &f));
    eb_synth_type t;
    assert_true(eb_synth_type_parse("q4_k_m", &t) && t == EB_SYNTH_Q4_K_M);
    assert_false(eb_synth_type_parse("Q3_K", &t));
}

static void test_device_info_fixtures(void **state)
{
    (void)state;
    eb_device_info d;
    eb_device_info_read(FIXTURES "/vm", &d);
    assert_string_equal(d.cpu_model, "Intel(R) Xeon(R) Test CPU @ 2.00GHz");
    assert_string_equal(d.hostname, "fixture-vm");
    assert_string_equal(d.kernel, "6.1.0-test");
    assert_string_equal(d.os, "Debian GNU/Linux 12 (bookworm)");
    assert_int_equal(d.n_cpus_online, 2);
    assert_int_equal(d.n_cpus_configured, 4);
    assert_int_equal(d.ram_total_kb, 8000000);
    assert_string_equal(d.board_model, "");

    eb_device_info_read(FIXTURES "/pi5", &d);
    assert_string_equal(d.board_model, "Raspberry Pi 5 Model B Rev 1.0");
    assert_string_equal(d.cpu_model, "ARM Cortex-A76"); /* the CPU, not the board again */
    assert_int_equal(d.n_cpus_online, 4);
    assert_non_null(strstr(d.cpu_topology, "policy0: cpus 0-3"));

    /* JetPack's cpuinfo calls every core "ARMv8 Processor": the part says A78AE */
    eb_device_info_read(FIXTURES "/jetson-orin-nano", &d);
    assert_string_equal(d.board_model, "NVIDIA Jetson Orin Nano Developer Kit");
    assert_string_equal(d.cpu_model, "ARM Cortex-A78AE");
    assert_int_equal(d.n_cpus_online, 6);
    /* one cpufreq policy per cluster */
    assert_non_null(strstr(d.cpu_topology, "policy0: cpus 0-3"));
    assert_non_null(strstr(d.cpu_topology, "policy4: cpus 4-5"));
}

static void test_memory_fixtures(void **state)
{
    (void)state;
    eb_proc_mem m;
    eb_error err;
    assert_int_equal(eb_proc_mem_read(FIXTURES "/vm", &m, &err), EB_OK);
    assert_int_equal(m.rss_kb, 100000);
    assert_int_equal(m.hwm_kb, 123456);
    assert_int_equal(m.rss_anon_kb, 60000);
    assert_int_equal(m.rss_file_kb, 40000);
    uint64_t total, avail;
    assert_int_equal(eb_meminfo_read(FIXTURES "/vm", &total, &avail, &err), EB_OK);
    assert_int_equal(avail, 6000000);
    assert_int_equal(eb_proc_mem_read(FIXTURES "/no-such-tree", &m, &err), EB_E_IO);
    assert_non_null(strstr(err.msg, "no-such-tree/proc/self/status"));
    /* The real /proc of this process. */
    assert_int_equal(eb_proc_mem_read("/", &m, &err), EB_OK);
    assert_true(m.rss_kb > 0 && m.hwm_kb >= m.rss_kb);
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void test_gguf_check_bad_files(void **state)
{
    (void)state;
    char path[256];
    eb_gguf_summary s;
    eb_error err;
    snprintf(path, sizeof path, "%s/eb-core-%d.bin", P_tmpdir, (int)getpid());

    assert_int_equal(eb_gguf_check("/nonexistent/model.gguf", &s, &err), EB_E_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/model.gguf"));

    write_bytes(path, "hello, not a model\n", 19);
    assert_int_equal(eb_gguf_check(path, &s, &err), EB_E_NOT_GGUF);

    write_bytes(path, "GGUF\x03\x00", 6);
    assert_int_equal(eb_gguf_check(path, &s, &err), EB_E_TRUNCATED);

    /* A real tiny model cut short in its tensor data. */
    eb_synth_options o = {.seed = 3};
    assert_int_equal(eb_synth_write(eb_preset_find("tiny-qwen2"), EB_SYNTH_Q8_0, path, &o, &err),
                     EB_OK);
    assert_int_equal(eb_gguf_check(path, &s, &err), EB_OK);
    assert_string_equal(s.arch, "qwen2");
    assert_int_equal(s.data_end, s.file_size);
    assert_int_equal(truncate(path, (off_t)(s.file_size - 4096)), 0);
    assert_int_equal(eb_gguf_check(path, &s, &err), EB_E_TRUNCATED);
    assert_non_null(strstr(err.msg, "truncated"));
    unlink(path);
}

static void test_unsupported_architecture(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/eb-arch-%d.gguf", P_tmpdir, (int)getpid());
    struct gguf_context *g = gguf_init_empty();
    gguf_set_val_str(g, "general.architecture", "no-such-arch");
    assert_true(gguf_write_to_file(g, path, false));
    gguf_free(g);
    eb_gguf_summary s;
    eb_error err;
    assert_int_equal(eb_gguf_check(path, &s, &err), EB_OK);
    eb_model *m = NULL;
    eb_load_params lp = {.use_mmap = true};
    assert_int_equal(eb_engine_llama.model_load(path, &lp, &m, &err), EB_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "no-such-arch"));
    assert_null(m);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_known_values),
        cmocka_unit_test(test_stats_edge_cases),
        cmocka_unit_test(test_config_defaults_follow_the_study),
        cmocka_unit_test(test_config_rejects_bad_values),
        cmocka_unit_test(test_parsers),
        cmocka_unit_test(test_device_info_fixtures),
        cmocka_unit_test(test_memory_fixtures),
        cmocka_unit_test(test_gguf_check_bad_files),
        cmocka_unit_test(test_unsupported_architecture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
