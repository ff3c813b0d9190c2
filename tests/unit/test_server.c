/* A 128-CPU server (tests/support/make_server_fixture.sh): every cpufreq
 * policy, thermal zone, hwmon rail and RAPL package is kept, a governor is
 * set on all 128 policies, nothing in a record is cut, and a source that
 * finds more than it keeps says which channels it left out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "assert_close.h"
#include "edgebench/knobs.h"
#include "edgebench/sampler.h"
#include "edgebench/sensors.h"
#include "edgebench/sysinfo.h"
#include "edgebench/util.h"

static char root[256];

static void make_fixture(int n_cpus)
{
    snprintf(root, sizeof root, "%s/eb-server-%d-%d", P_tmpdir, n_cpus, (int)getpid());
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "bash '%s/../support/make_server_fixture.sh' '%s' %d", FIXTURES, root,
             n_cpus);
    assert_int_equal(system(cmd), 0);
}

static void remove_fixture(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static eb_source *probe(const eb_source_ops *ops)
{
    eb_probe_ctx ctx = {.root = root};
    eb_source *src = NULL;
    char reason[256];
    eb_probe r = ops->probe(&ctx, &src, reason, sizeof reason);
    if (r != EB_PROBE_FOUND) print_message("%s: %s\n", ops->name, reason);
    assert_int_equal(r, EB_PROBE_FOUND);
    return src;
}

static void test_every_channel_kept(void **state)
{
    (void)state;
    make_fixture(128);
    eb_source *s = probe(&eb_source_cpufreq);
    assert_int_equal(s->n_channels, 128);
    assert_int_equal(s->n_left_out, 0);
    /* policy order, not directory order */
    assert_string_equal(s->channels[0].name, "cpufreq:policy0");
    assert_string_equal(s->channels[2].name, "cpufreq:policy2");
    assert_string_equal(s->channels[127].name, "cpufreq:policy127");
    double v[EB_MAX_CHANNELS];
    assert_true(s->ops->read(s, v));
    assert_close(v[127], 2127.0, 1e-9);
    s->ops->close(s);

    s = probe(&eb_source_thermal);
    assert_int_equal(s->n_channels, 64);
    s->ops->close(s);

    /* power and current x voltage files of one rail: one channel, the power */
    s = probe(&eb_source_hwmon);
    assert_int_equal(s->n_channels, 64);
    assert_string_equal(s->channels[0].name, "ina226_0:rail_0_1");
    assert_string_equal(s->channels[63].name, "ina226_7:rail_7_8");
    assert_true(s->ops->read(s, v));
    assert_close(v[0], 1.0, 1e-9); /* power1_input, not 12 V x 0.5 A */
    assert_close(v[63], 64.0, 1e-9);
    s->ops->close(s);

    s = probe(&eb_source_rapl);
    assert_int_equal(s->n_channels, 8);
    for (int c = 0; c < 8; c++)
        for (int d = c + 1; d < 8; d++)
            assert_string_not_equal(s->channels[c].name, s->channels[d].name);
    s->ops->close(s);
    remove_fixture();
}

/* The sampler takes every channel of every source, several GPUs included. */
static void test_sampler_holds_them_all(void **state)
{
    (void)state;
    make_fixture(128);
    setenv("EDGEBENCH_NVML_LIB", NVML_STUB_PATH, 1);
    setenv("NVML_STUB_GPUS", "6", 1);
    eb_sampler_config cfg = {.interval_s = 0.01, .root = root, .max_samples = 64};
    eb_sampler *smp = NULL;
    eb_error err = {0};
    assert_int_equal(eb_sampler_create(&cfg, &smp, &err), EB_OK);
    /* RSS + 8 RAPL + 64 hwmon + 6 x 5 NVML + 128 clocks + 64 zones */
    assert_int_equal(eb_sampler_n_channels(smp), 1 + 8 + 64 + 30 + 128 + 64);
    assert_int_equal(eb_sampler_start(smp, &err), EB_OK);
    eb_sleep(0.05);
    eb_sampler_stop(smp);
    assert_true(eb_sampler_n_samples(smp) > 0);
    for (size_t i = 0; i < eb_sampler_probe_count(smp); i++)
        assert_string_equal(eb_sampler_probe(smp, i)->left_out, "");
    eb_sampler_free(smp);
    unsetenv("EDGEBENCH_NVML_LIB");
    unsetenv("NVML_STUB_GPUS");
    remove_fixture();
}

static void test_governor_on_every_policy(void **state)
{
    (void)state;
    make_fixture(128);
    eb_error err = {0};
    assert_int_equal(eb_governor_set_all(root, "powersave", &err), EB_OK);
    for (int i = 0; i < 128; i++) {
        char p[512], g[64];
        snprintf(p, sizeof p, "%s/sys/devices/system/cpu/cpufreq/policy%d/scaling_governor", root,
                 i);
        assert_true(eb_read_line(p, g, sizeof g));
        assert_string_equal(g, "powersave");
    }
    char *d = eb_governors_describe(root);
    assert_non_null(d);
    assert_non_null(strstr(d, "policy0=powersave policy1=powersave"));
    size_t n = strlen(d);
    assert_true(n > 18 && strcmp(d + n - 19, "policy127=powersave") == 0);
    free(d);
    /* the device facts say what they left out instead of cutting a name */
    eb_device_info dev;
    eb_device_info_read(root, &dev);
    assert_non_null(strstr(dev.cpu_topology, "policy0: cpus 0"));
    assert_non_null(strstr(dev.cpu_topology, "more policies"));
    remove_fixture();
}

/* Past the cap of a source: the channels left out are named, in the
 * sampler's report of the source. */
static void test_left_out_is_said(void **state)
{
    (void)state;
    make_fixture(300);
    eb_source *s = probe(&eb_source_cpufreq);
    assert_int_equal(s->n_channels, EB_MAX_CHANNELS);
    assert_int_equal(s->n_left_out, 300 - EB_MAX_CHANNELS);
    assert_true(strncmp(s->left_out, "cpufreq:policy256, cpufreq:policy257", 36) == 0);
    s->ops->close(s);
    eb_sampler_config cfg = {.interval_s = 0.01, .root = root, .max_samples = 16};
    eb_sampler *smp = NULL;
    eb_error err = {0};
    assert_int_equal(eb_sampler_create(&cfg, &smp, &err), EB_OK);
    bool said = false;
    for (size_t i = 0; i < eb_sampler_probe_count(smp); i++) {
        const eb_probe_report *r = eb_sampler_probe(smp, i);
        if (strcmp(r->source, "cpufreq") != 0) continue;
        assert_non_null(strstr(r->reason, "some left out"));
        assert_non_null(strstr(r->left_out, "44 channels past the 256 a source keeps"));
        assert_non_null(strstr(r->left_out, "cpufreq:policy256"));
        said = true;
    }
    assert_true(said);
    eb_sampler_free(smp);
    remove_fixture();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_channel_kept),
        cmocka_unit_test(test_sampler_holds_them_all),
        cmocka_unit_test(test_governor_on_every_policy),
        cmocka_unit_test(test_left_out_is_said),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
