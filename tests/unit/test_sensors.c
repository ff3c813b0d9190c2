/* Power sources on fixture trees of real devices, energy integration against
 * signals known analytically, counter wraparound, missing permission, and the
 * sampler's cadence. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "assert_close.h"

#include "edgebench/energy.h"
#include "edgebench/sampler.h"
#include "edgebench/sensors.h"
#include "edgebench/util.h"

static char tmp_root[256];

/* Fixture trees are copied so tests can change readings without touching
 * the source tree. */
static const char *fixture_copy(const char *name)
{
    snprintf(tmp_root, sizeof tmp_root, "%s/eb-sensors-%d-%s", P_tmpdir, (int)getpid(), name);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s/%s' '%s'", tmp_root, FIXTURES, name,
             tmp_root);
    assert_int_equal(system(cmd), 0);
    return tmp_root;
}

static void fixture_remove(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    assert_int_equal(system(cmd), 0);
}

static void write_file(const char *root, const char *rel, const char *text)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static eb_source *probe(const eb_source_ops *ops, const char *root, eb_probe expect)
{
    eb_source *s = NULL;
    char reason[256] = "";
    eb_probe_ctx ctx = {.root = root};
    eb_probe r = ops->probe(&ctx, &s, reason, sizeof reason);
    if (r != expect) print_message("%s on %s: %d (%s)\n", ops->name, root, r, reason);
    assert_int_equal(r, expect);
    if (r != EB_PROBE_FOUND) assert_true(strlen(reason) > 0);
    return s;
}

static int find_channel(const eb_source *s, const char *name)
{
    for (int c = 0; c < s->n_channels; c++)
        if (strcmp(s->channels[c].name, name) == 0) return c;
    return -1;
}

static void test_vm_has_no_power_sources(void **state)
{
    (void)state;
    for (size_t b = 0; b < eb_power_backend_count; b++)
        probe(eb_power_backends[b], FIXTURES "/vm", EB_PROBE_ABSENT);
    probe(&eb_source_hwmon, FIXTURES "/pi5", EB_PROBE_ABSENT); /* thermal and ADC only */
}

static void test_jetson_ina3221(void **state)
{
    (void)state;
    eb_source *s = probe(&eb_source_hwmon, FIXTURES "/jetson-orin-nano", EB_PROBE_FOUND);
    assert_int_equal(s->n_channels, 3);
    int in = find_channel(s, "ina3221:VDD_IN");
    int cpu = find_channel(s, "ina3221:VDD_CPU_GPU_CV");
    int soc = find_channel(s, "ina3221:VDD_SOC");
    assert_true(in >= 0 && cpu >= 0 && soc >= 0);
    /* VDD_IN is the module total; the rails are parts of it */
    assert_true(s->channels[in].in_total);
    assert_false(s->channels[cpu].in_total);
    assert_false(s->channels[soc].in_total);
    double v[EB_MAX_CHANNELS];
    assert_true(s->ops->read(s, v));
    assert_close(v[in], 4.968 * 2.632, 1e-9); /* mV x mA */
    assert_close(v[cpu], 4.960 * 1.784, 1e-9);
    s->ops->close(s);
}

static void test_intel_rapl_semantics_and_wraparound(void **state)
{
    (void)state;
    const char *root = fixture_copy("intel-laptop");
    eb_source *s = probe(&eb_source_rapl, root, EB_PROBE_FOUND);
    /* the MMIO duplicate of package-0 is dropped */
    assert_int_equal(s->n_channels, 5);
    int pkg = find_channel(s, "rapl:package-0"), psys = find_channel(s, "rapl:psys");
    int core = find_channel(s, "rapl:core"), dram = find_channel(s, "rapl:dram");
    assert_true(pkg >= 0 && psys >= 0 && core >= 0 && dram >= 0);
    /* psys covers the platform, package included: it alone is the total */
    assert_true(s->channels[psys].in_total);
    assert_false(s->channels[pkg].in_total);
    assert_false(s->channels[core].in_total);
    assert_false(s->channels[dram].in_total);
    assert_int_equal(s->channels[pkg].kind, EB_CH_ENERGY);

    double v[EB_MAX_CHANNELS];
    assert_true(s->ops->read(s, v));
    assert_close(v[pkg], 0, 0); /* cumulative from the first read */
    write_file(root, "sys/class/powercap/intel-rapl:0/energy_uj", "3500000\n");
    assert_true(s->ops->read(s, v));
    assert_close(v[pkg], 2.5, 1e-9);
    /* wraps at max_energy_range_uj = 262143328850 */
    write_file(root, "sys/class/powercap/intel-rapl:0/energy_uj", "1000\n");
    assert_true(s->ops->read(s, v));
    assert_close(v[pkg], 2.5 + (1000 + 262143328850.0 - 3500000) * 1e-6, 1e-6);
    s->ops->close(s);
    fixture_remove();
}

static void test_amd_desktop(void **state)
{
    (void)state;
    eb_source *r = probe(&eb_source_rapl, FIXTURES "/amd-desktop", EB_PROBE_FOUND);
    assert_int_equal(r->n_channels, 2);
    assert_true(r->channels[find_channel(r, "rapl:package-0")].in_total);
    assert_false(r->channels[find_channel(r, "rapl:core")].in_total);
    r->ops->close(r);
    eb_source *h = probe(&eb_source_hwmon, FIXTURES "/amd-desktop", EB_PROBE_FOUND);
    int gpu = find_channel(h, "amdgpu:PPT");
    assert_true(gpu >= 0);
    double v[EB_MAX_CHANNELS];
    assert_true(h->ops->read(h, v));
    assert_close(v[gpu], 15.0, 1e-9); /* power1_average in uW */
    h->ops->close(h);
    probe(&eb_source_battery, FIXTURES "/amd-desktop", EB_PROBE_ABSENT);
}

static void test_battery_only_while_discharging(void **state)
{
    (void)state;
    const char *root = fixture_copy("intel-laptop");
    eb_source *s = probe(&eb_source_battery, root, EB_PROBE_FOUND);
    assert_int_equal(s->n_channels, 1);
    assert_true(s->channels[0].in_total);
    double v[1];
    assert_true(s->ops->read(s, v));
    assert_close(v[0], 12.5, 1e-9);
    write_file(root, "sys/class/power_supply/BAT0/status", "Charging\n");
    assert_true(s->ops->read(s, v));
    assert_true(isnan(v[0]));
    s->ops->close(s);
    fixture_remove();
}

static int deny_energy(const char *path)
{
    if (strstr(path, "energy_uj")) {
        errno = EACCES;
        return -1;
    }
    return open(path, 0);
}

static void test_rapl_without_permission(void **state)
{
    (void)state;
    int (*saved)(const char *) = eb_sysfs_open;
    eb_sysfs_open = deny_energy;
    eb_source *s = NULL;
    char reason[256];
    eb_probe_ctx ctx = {.root = FIXTURES "/intel-laptop"};
    eb_probe r = eb_source_rapl.probe(&ctx, &s, reason, sizeof reason);
    eb_sysfs_open = saved;
    assert_int_equal(r, EB_PROBE_NO_PERMISSION);
    assert_non_null(strstr(reason, "root"));
}

static void test_energy_ramp_and_step(void **state)
{
    (void)state;
    /* P(t) = 2 + 3t, sampled at irregular times: the trapezoid rule is exact. */
    double t[200], p[200], e[200];
    size_t n = 0;
    for (double x = 0; x <= 2.0 + 1e-12; x += 0.01 + 0.004 * (double)(n % 3)) {
        t[n] = x;
        p[n] = 2 + 3 * x;
        e[n] = 2 * x + 1.5 * x * x; /* its integral, as a cumulative counter */
        n++;
    }
    double j, peak;
    double a = 0.123, b = 1.777;
    double exact = (2 * b + 1.5 * b * b) - (2 * a + 1.5 * a * a);
    assert_true(eb_energy_between(EB_CH_POWER, t, p, 1, n, a, b, &j, &peak));
    assert_close(j, exact, 1e-9);
    assert_close(peak, 2 + 3 * b, 1e-9);
    /* a cumulative counter of the same signal: differences at interpolated
     * boundaries (exact up to the quadratic's curvature within one step) */
    assert_true(eb_energy_between(EB_CH_ENERGY, t, e, 1, n, a, b, &j, NULL));
    assert_close(j, exact, 2e-4);

    /* A step from 2 W to 5 W at t = 1, sampled on both sides of it. */
    double ts[] = {0, 0.5, 1.0, 1.0, 1.5, 2.0}, ps[] = {2, 2, 2, 5, 5, 5};
    assert_true(eb_energy_between(EB_CH_POWER, ts, ps, 1, 6, 0.25, 1.75, &j, &peak));
    assert_close(j, 2 * 0.75 + 5 * 0.75, 1e-12);
    assert_close(peak, 5, 0);
    /* the same step as a counter: E(t) piecewise linear, exact */
    double es[] = {0, 1, 2, 2, 4.5, 7};
    assert_true(eb_energy_between(EB_CH_ENERGY, ts, es, 1, 6, 0.25, 1.75, &j, &peak));
    assert_close(j, 2 * 0.75 + 5 * 0.75, 1e-12);
    assert_close(peak, 5, 1e-12);

    /* outside the samples, or across a gap: no answer rather than a guess */
    assert_false(eb_energy_between(EB_CH_POWER, ts, ps, 1, 6, -0.1, 1.0, &j, NULL));
    assert_false(eb_energy_between(EB_CH_POWER, ts, ps, 1, 6, 1.5, 2.5, &j, NULL));
    double pg[] = {2, 2, NAN, 5, 5, 5};
    assert_false(eb_energy_between(EB_CH_POWER, ts, pg, 1, 6, 0.25, 1.75, &j, NULL));
    /* stride: the second of two interleaved channels */
    double two[] = {0, 2, 0, 2, 0, 2, 0, 5, 0, 5, 0, 5};
    assert_true(eb_energy_between(EB_CH_POWER, ts, two + 1, 2, 6, 0.25, 1.75, &j, NULL));
    assert_close(j, 5.25, 1e-12);
}

static void test_sampler_on_jetson_fixture(void **state)
{
    (void)state;
    eb_sampler_config cfg = {.interval_s = 0.01, .root = FIXTURES "/jetson-orin-nano"};
    eb_sampler *s;
    eb_error err;
    assert_int_equal(eb_sampler_create(&cfg, &s, &err), EB_OK);
    /* RSS, 3 INA3221 rails, 2 cpufreq policies, 4 thermal zones, the GPU's
     * clock and load, unified memory */
    assert_int_equal(eb_sampler_n_channels(s), 1 + 3 + 2 + 4 + 2 + 1);
    assert_string_equal(eb_sampler_channel(s, 0)->name, "process:rss");
    assert_true(eb_sampler_has_total(s));
    assert_false(eb_sampler_total_is_estimate(s));
    assert_string_equal(eb_sampler_total_source(s), "ina3221:VDD_IN");
    assert_int_equal(eb_sampler_probe_count(s), eb_power_backend_count + eb_state_backend_count);
    assert_int_equal(eb_sampler_start(s, &err), EB_OK);
    double a = eb_now();
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    double b = eb_now();
    eb_sampler_stop(s);
    size_t n = eb_sampler_n_samples(s);
    assert_true(n >= 20 && n <= 35);
    double j, peak;
    assert_true(eb_sampler_total_energy(s, a, b, &j, &peak));
    assert_close(j, 4.968 * 2.632 * (b - a), 1e-9); /* VDD_IN only */
    assert_close(peak, 4.968 * 2.632, 1e-9);
    const double *t, *v;
    size_t stride;
    eb_sampler_series(s, 0, &t, &v, &stride, &n);
    for (size_t i = 1; i < n; i++)
        assert_true(t[i] >= t[i - 1]);
    /* frequency (kHz -> MHz) and temperature (m C -> C), thermal on its own
     * slower series */
    int freq = -1, temp = -1;
    for (int c = 0; c < eb_sampler_n_channels(s); c++) {
        if (strcmp(eb_sampler_channel(s, c)->name, "cpufreq:policy0") == 0) freq = c;
        if (strcmp(eb_sampler_channel(s, c)->name, "thermal:cpu-thermal") == 0) temp = c;
    }
    assert_true(freq > 0 && temp > 0);
    double mean, max;
    assert_true(eb_sampler_channel_summary(s, freq, a, b, &mean, &max));
    assert_close(mean, 1510.4, 1e-9);
    assert_true(eb_sampler_channel_summary(s, temp, a, b, &mean, &max));
    assert_true(mean > 20 && mean < 100);
    size_t n_slow;
    eb_sampler_series(s, temp, &t, &v, &stride, &n_slow);
    assert_true(n_slow >= 3 && n_slow < n / 3);
    eb_sampler_timing tm;
    eb_sampler_timing_get(s, &tm);
    assert_true(tm.n_intervals >= 20);
    assert_true(tm.median_s > 0.005 && tm.median_s < 0.02);
    eb_sampler_free(s);

    /* this process, for real: RSS in every sample */
    eb_sampler_config real = {.interval_s = 0.005, .root = "/"};
    assert_int_equal(eb_sampler_create(&real, &s, &err), EB_OK);
    assert_int_equal(eb_sampler_start(s, &err), EB_OK);
    nanosleep(&ts, NULL);
    eb_sampler_stop(s);
    eb_sampler_series(s, 0, &t, &v, &stride, &n);
    assert_true(n >= 20);
    for (size_t i = 0; i < n; i++)
        assert_true(v[i * stride] > 1.0); /* MiB */
    eb_sampler_free(s);

    cfg.interval_s = 0.0001;
    assert_int_equal(eb_sampler_create(&cfg, &s, &err), EB_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "1..1000 ms"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vm_has_no_power_sources),
        cmocka_unit_test(test_jetson_ina3221),
        cmocka_unit_test(test_intel_rapl_semantics_and_wraparound),
        cmocka_unit_test(test_amd_desktop),
        cmocka_unit_test(test_battery_only_while_discharging),
        cmocka_unit_test(test_rapl_without_permission),
        cmocka_unit_test(test_energy_ramp_and_step),
        cmocka_unit_test(test_sampler_on_jetson_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
