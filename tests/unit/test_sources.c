/* The sources that files cannot fake, through their transports: the Pi 5
 * PMIC (canned firmware answers, the mailbox buffer, the vcgencmd
 * fallback), NVML (a stub library), and the CPU-load x TDP estimate; and
 * the choice of the device total when several sources exist. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "assert_close.h"

#include "edgebench/sampler.h"
#include "edgebench/sensors.h"
#include "edgebench/util.h"
#include "edgebench/vcio.h"

static char pmic_text[4096];

static void load_pmic_fixture(void)
{
    eb_error err;
    assert_int_equal(
        eb_read_text(FIXTURES "/pi5/pmic_read_adc.txt", pmic_text, sizeof pmic_text, &err), EB_OK);
}

/* The board-rail sum of the fixture, by hand: sum of A x V per rail. */
static double fixture_board_w(void)
{
    return 0.10247270 * 3.71559400 + 0.05564820 * 3.30303300 + 0.19280010 * 1.79853600 +
           0.02049454 * 1.10756900 + 0.00000000 * 0.60551330 + 0.19320090 * 1.10549400 +
           0.33967050 * 0.80329360 + 1.42880000 * 0.90659250 + 0.00012210 * 3.30915800 +
           0.00055011 * 3.31220500 + 0.00381612 * 0.80280450 + 0.02089056 * 5.11843900;
}

static void test_pmic_parse(void **state)
{
    (void)state;
    load_pmic_fixture();
    eb_pmic_reading r;
    assert_true(eb_pmic_parse(pmic_text, &r));
    assert_int_equal(r.n_rails, 12); /* EXT5V and BATT have no current */
    assert_close(r.board_w, fixture_board_w(), 1e-12);
    assert_close(r.core_w, 1.42880000 * 0.90659250, 1e-12);
    assert_close(r.ddr_w, 0.02049454 * 1.10756900, 1e-12);
    assert_close(r.ext5v_v, 5.05716, 1e-12);
    assert_close(eb_pmic_wall_estimate(2.0), 1.1451 * 2 + 0.5879, 1e-12);
    assert_false(eb_pmic_parse("error=1 error_msg=\"Command not registered\"", &r));
    assert_false(eb_pmic_parse("", &r));
}

static void test_mailbox_buffer(void **state)
{
    (void)state;
    uint32_t buf[EB_VC_GENCMD_WORDS];
    eb_vc_gencmd_pack(buf, "pmic_read_adc");
    assert_int_equal(buf[0], EB_VC_GENCMD_WORDS * 4);
    assert_int_equal(buf[2], 0x00030080);
    assert_int_equal(buf[3], 1024);
    assert_string_equal((const char *)buf + 24, "pmic_read_adc");
    assert_int_equal(buf[EB_VC_GENCMD_WORDS - 1], 0);
    char resp[256];
    /* not yet answered */
    assert_false(eb_vc_gencmd_unpack(buf, resp, sizeof resp));
    /* the firmware's answer replaces the command text at byte 24 */
    buf[1] = 0x80000000u;
    snprintf((char *)buf + 24, 1024, "throttled=0x50005");
    assert_true(eb_vc_gencmd_unpack(buf, resp, sizeof resp));
    assert_string_equal(resp, "throttled=0x50005");
    buf[5] = 2;
    assert_false(eb_vc_gencmd_unpack(buf, resp, sizeof resp));
}

static void test_throttled_flags(void **state)
{
    (void)state;
    uint32_t f;
    assert_true(eb_throttled_parse("throttled=0x50005", &f));
    assert_int_equal(f, 0x50005);
    assert_true(eb_throttled_parse("50005\n", &f)); /* the sysfs file */
    assert_int_equal(f, 0x50005);
    assert_false(eb_throttled_parse("nonsense", &f));
    char d[256];
    eb_throttled_describe(0x50005, d, sizeof d);
    assert_string_equal(d, "under-voltage now, under-voltage since boot, throttled now, "
                           "throttled since boot");
    eb_throttled_describe(0, d, sizeof d);
    assert_string_equal(d, "none");
}

/* Canned firmware: answers pmic_read_adc from the fixture. */
static int canned_reads;
static void *canned_open(const char *root, char *reason, size_t cap)
{
    (void)root;
    (void)reason;
    (void)cap;
    return &canned_reads;
}
static bool canned_command(void *h, const char *cmd, char *resp, size_t cap)
{
    (void)h;
    if (strcmp(cmd, "pmic_read_adc") != 0) return false;
    canned_reads++;
    snprintf(resp, cap, "%s", pmic_text);
    return true;
}
static void canned_close(void *h)
{
    (void)h;
}
static const eb_vc_transport canned = {"canned", canned_open, canned_command, canned_close};

static void test_pi5_source_on_its_own_cadence(void **state)
{
    (void)state;
    load_pmic_fixture();
    eb_vc_transport_override = &canned;
    eb_sampler_config cfg = {.interval_s = 0.01, .root = FIXTURES "/pi5"};
    eb_sampler *s;
    eb_error err;
    assert_int_equal(eb_sampler_create(&cfg, &s, &err), EB_OK);
    assert_string_equal(eb_sampler_total_source(s), "pmic:board-rails");
    int board = -1, wall = -1;
    for (int c = 0; c < eb_sampler_n_channels(s); c++) {
        if (strcmp(eb_sampler_channel(s, c)->name, "pmic:board-rails") == 0) board = c;
        if (strcmp(eb_sampler_channel(s, c)->name, "pmic:wall-estimate") == 0) wall = c;
    }
    assert_true(board > 0 && wall > 0);
    assert_true(eb_sampler_channel(s, wall)->estimate);
    assert_false(eb_sampler_channel(s, wall)->in_total);
    canned_reads = 0;
    assert_int_equal(eb_sampler_start(s, &err), EB_OK);
    double a = eb_now();
    struct timespec ts = {0, 450 * 1000 * 1000};
    nanosleep(&ts, NULL);
    double b = eb_now();
    eb_sampler_stop(s);
    /* ~0.1 s cadence: 4-5 thread reads plus start and stop, not 45 */
    assert_true(canned_reads >= 5 && canned_reads <= 8);
    double j, peak;
    assert_true(eb_sampler_total_energy(s, a, b, &j, &peak));
    assert_close(j, fixture_board_w() * (b - a), 1e-9);
    assert_close(peak, fixture_board_w(), 1e-9);
    eb_sampler_free(s);
    eb_vc_transport_override = NULL;
}

static void test_vcgencmd_fallback(void **state)
{
    (void)state;
    /* A program that prints the fixture, standing in for vcgencmd. */
    char script[256];
    snprintf(script, sizeof script, "%s/eb-vcgencmd-%d", P_tmpdir, (int)getpid());
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fprintf(f,
            "#!/bin/sh\n[ \"$1\" = pmic_read_adc ] && exec cat '%s/pi5/pmic_read_adc.txt'\n"
            "echo 'error=1 error_msg=\"Command not registered\"'\n",
            FIXTURES);
    fclose(f);
    chmod(script, 0755);
    setenv("EDGEBENCH_VCGENCMD", script, 1);
    char reason[256];
    void *h = eb_vc_vcgencmd.open("/", reason, sizeof reason);
    assert_non_null(h);
    char resp[4096];
    assert_true(eb_vc_vcgencmd.command(h, "pmic_read_adc", resp, sizeof resp));
    eb_pmic_reading r;
    assert_true(eb_pmic_parse(resp, &r));
    assert_close(r.board_w, fixture_board_w(), 1e-12);
    assert_false(eb_vc_vcgencmd.command(h, "get_nothing", resp, sizeof resp));
    eb_vc_vcgencmd.close(h);
    /* the whole probe, through the fallback: no /dev/vcio under the fixture */
    eb_probe_ctx ctx = {.root = FIXTURES "/pi5"};
    eb_source *src = NULL;
    assert_int_equal(eb_source_pi5_pmic.probe(&ctx, &src, reason, sizeof reason), EB_PROBE_FOUND);
    double v[4];
    assert_true(src->ops->read(src, v));
    assert_close(v[0], fixture_board_w(), 1e-12);
    src->ops->close(src);
    setenv("EDGEBENCH_VCGENCMD", "/nonexistent/vcgencmd", 1);
    assert_int_equal(eb_source_pi5_pmic.probe(&ctx, &src, reason, sizeof reason), EB_PROBE_ABSENT);
    assert_non_null(strstr(reason, "/dev/vcio"));
    assert_non_null(strstr(reason, "vcgencmd"));
    unsetenv("EDGEBENCH_VCGENCMD");
    unlink(script);
}

static eb_source *probe_nvml(const char *mode, eb_probe expect, char *reason, size_t cap)
{
    setenv("EDGEBENCH_NVML_LIB", NVML_STUB_PATH, 1);
    setenv("NVML_STUB", mode, 1);
    eb_probe_ctx ctx = {.root = "/"};
    eb_source *src = NULL;
    eb_probe r = eb_source_nvml.probe(&ctx, &src, reason, cap);
    assert_int_equal(r, expect);
    return src;
}

static void test_nvml_through_stub(void **state)
{
    (void)state;
    char reason[256];
    eb_source *s = probe_nvml("ok", EB_PROBE_FOUND, reason, sizeof reason);
    assert_int_equal(s->n_channels, 5);
    assert_int_equal(s->channels[0].kind, EB_CH_ENERGY);
    assert_true(s->channels[0].in_total);
    assert_int_equal(s->channels[1].kind, EB_CH_POWER);
    assert_false(s->channels[1].in_total); /* the counter already covers it */
    assert_int_equal(s->channels[2].kind, EB_CH_MEMORY);
    assert_int_equal(s->channels[3].kind, EB_CH_LOAD);
    assert_int_equal(s->channels[4].kind, EB_CH_FREQ);
    assert_false(s->channels[3].in_total || s->channels[4].in_total);
    assert_non_null(strstr(s->channels[0].name, "Stub GPU"));
    assert_non_null(strstr(s->channels[4].name, "sm-clock"));
    double v0[5], v1[5];
    assert_true(s->ops->read(s, v0));
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    assert_true(s->ops->read(s, v1));
    assert_close(v1[1], 75.0, 1e-9);   /* field 186, mW -> W */
    assert_close(v1[2], 1024.0, 1e-9); /* bytes -> MiB */
    assert_close(v1[3], 87.0, 1e-9);   /* utilization.gpu, % */
    assert_close(v1[4], 1755.0, 1e-9); /* SM clock, MHz */
    double w = (v1[0] - v0[0]) / 0.1;  /* mJ counter -> J */
    assert_true(w > 60 && w < 100);
    s->ops->close(s);

    /* the driver's version, for the record of a run on a CUDA device */
    char drv[128];
    assert_true(eb_nvml_driver(drv, sizeof drv));
    assert_string_equal(drv, "NVIDIA driver 550.54.15, CUDA 12.4");

    s = probe_nvml("no_energy", EB_PROBE_FOUND, reason, sizeof reason);
    assert_int_equal(s->n_channels, 4);
    assert_int_equal(s->channels[0].kind, EB_CH_POWER);
    assert_true(s->channels[0].in_total); /* power is the GPU's part now */
    s->ops->close(s);

    probe_nvml("no_permission", EB_PROBE_NO_PERMISSION, reason, sizeof reason);
    assert_non_null(strstr(reason, "Insufficient Permissions"));
    probe_nvml("no_gpu", EB_PROBE_ABSENT, reason, sizeof reason);
    assert_non_null(strstr(reason, "no GPU"));
    setenv("EDGEBENCH_NVML_LIB", "/nonexistent/libnvidia-ml.so.1", 1);
    eb_probe_ctx ctx = {.root = "/"};
    eb_source *src;
    assert_int_equal(eb_source_nvml.probe(&ctx, &src, reason, sizeof reason), EB_PROBE_ABSENT);
    assert_non_null(strstr(reason, "cannot load"));
    unsetenv("EDGEBENCH_NVML_LIB");
    unsetenv("NVML_STUB");
}

static void test_cpu_estimate_only_when_nothing_measures(void **state)
{
    (void)state;
    char root[256], cmd[700], reason[256];
    snprintf(root, sizeof root, "%s/eb-estimate-%d", P_tmpdir, (int)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s/vm' '%s'", root, FIXTURES, root);
    assert_int_equal(system(cmd), 0);
    eb_source *s = NULL;
    eb_probe_ctx ctx = {.root = root};
    assert_int_equal(eb_source_cpu_estimate.probe(&ctx, &s, reason, sizeof reason),
                     EB_PROBE_ABSENT);
    assert_non_null(strstr(reason, "--tdp"));
    ctx.tdp_w = 10;
    ctx.have_total = true;
    assert_int_equal(eb_source_cpu_estimate.probe(&ctx, &s, reason, sizeof reason),
                     EB_PROBE_ABSENT);
    ctx.have_total = false;
    assert_int_equal(eb_source_cpu_estimate.probe(&ctx, &s, reason, sizeof reason), EB_PROBE_FOUND);
    assert_true(s->channels[0].estimate);
    assert_true(s->channels[0].in_total);
    double v0, v1;
    assert_true(s->ops->read(s, &v0));
    /* 2 CPUs, +300 busy ticks (user 200, system 100), +100 idle */
    char p[400];
    snprintf(p, sizeof p, "%s/proc/stat", root);
    FILE *f = fopen(p, "w");
    fputs("cpu  1200 0 600 8100 100 0 0 0 0 0\ncpu0 600 0 300 4050 50 0 0 0 0 0\n"
          "cpu1 600 0 300 4050 50 0 0 0 0 0\n",
          f);
    fclose(f);
    assert_true(s->ops->read(s, &v1));
    double hz = (double)sysconf(_SC_CLK_TCK);
    assert_close(v1 - v0, 10.0 * (300 / hz) / 2, 1e-9);
    s->ops->close(s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

/* An Intel laptop on battery has RAPL psys and a discharging battery, both
 * whole-device: the first found is the total, the other is not added. */
static void test_one_whole_device_total(void **state)
{
    (void)state;
    eb_sampler_config cfg = {.interval_s = 0.01, .root = FIXTURES "/intel-laptop"};
    eb_sampler *s;
    eb_error err;
    assert_int_equal(eb_sampler_create(&cfg, &s, &err), EB_OK);
    assert_string_equal(eb_sampler_total_source(s), "rapl:psys");
    int n_total = 0;
    for (int c = 0; c < eb_sampler_n_channels(s); c++)
        n_total += eb_sampler_channel(s, c)->in_total;
    assert_int_equal(n_total, 1);
    eb_sampler_free(s);
    /* VM: nothing, and with a TDP the estimate stands in, labelled */
    cfg.root = FIXTURES "/vm";
    assert_int_equal(eb_sampler_create(&cfg, &s, &err), EB_OK);
    assert_false(eb_sampler_has_total(s));
    eb_sampler_free(s);
    cfg.tdp_w = 15;
    assert_int_equal(eb_sampler_create(&cfg, &s, &err), EB_OK);
    assert_true(eb_sampler_has_total(s));
    assert_true(eb_sampler_total_is_estimate(s));
    eb_sampler_free(s);
}

static eb_source *probe_in(const eb_source_ops *ops, const char *root, eb_probe expect)
{
    eb_probe_ctx ctx = {.root = root};
    eb_source *src = NULL;
    char reason[512] = "";
    assert_int_equal(ops->probe(&ctx, &src, reason, sizeof reason), expect);
    if (expect != EB_PROBE_FOUND) assert_non_null(strstr(reason, "not a Jetson"));
    return src;
}

/* The Jetson's GPU clock and load, and its unified memory, from the fixture's
 * files: 306000000 Hz, 125 permille, NvMapMemUsed 123456 kB. */
static void test_jetson_gpu_sources(void **state)
{
    (void)state;
    eb_source *g = probe_in(&eb_source_jetson_gpu, FIXTURES "/jetson-orin-nano", EB_PROBE_FOUND);
    assert_int_equal(g->n_channels, 2);
    assert_string_equal(g->channels[0].name, "gpufreq:17000000.gpu");
    assert_int_equal(g->channels[0].kind, EB_CH_FREQ);
    assert_string_equal(g->channels[1].name, "gpuload:gpu");
    assert_int_equal(g->channels[1].kind, EB_CH_LOAD);
    assert_false(g->channels[0].in_total || g->channels[1].in_total);
    double v[2];
    assert_true(g->ops->read(g, v));
    assert_close(v[0], 306.0, 1e-9);
    assert_close(v[1], 12.5, 1e-9);
    g->ops->close(g);

    eb_source *m = probe_in(&eb_source_nvmap, FIXTURES "/jetson-orin-nano", EB_PROBE_FOUND);
    assert_int_equal(m->n_channels, 1);
    assert_int_equal(m->channels[0].kind, EB_CH_MEMORY);
    assert_true(m->ops->read(m, v));
    assert_close(v[0], 123456.0 / 1024.0, 1e-9);
    m->ops->close(m);

    /* A later JetPack: the load file through the devfreq device's link. */
    char root[] = "/tmp/eb-jetson-XXXXXX", cmd[1024];
    assert_non_null(mkdtemp(root));
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/sys/class/devfreq/17000000.ga10b/device && "
             "echo 918000000 > %s/sys/class/devfreq/17000000.ga10b/cur_freq && "
             "echo 999 > %s/sys/class/devfreq/17000000.ga10b/device/load && "
             "mkdir -p %s/sys/class/devfreq/3d00000.cpu-emc && "
             "echo 1 > %s/sys/class/devfreq/3d00000.cpu-emc/cur_freq",
             root, root, root, root, root);
    assert_int_equal(system(cmd), 0);
    g = probe_in(&eb_source_jetson_gpu, root, EB_PROBE_FOUND);
    assert_int_equal(g->n_channels, 2); /* the memory controller's devfreq is not the GPU */
    assert_string_equal(g->channels[1].name, "gpuload:17000000.ga10b");
    assert_true(g->ops->read(g, v));
    assert_close(v[0], 918.0, 1e-9);
    assert_close(v[1], 99.9, 1e-9);
    g->ops->close(g);
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    assert_int_equal(system(cmd), 0);

    probe_in(&eb_source_jetson_gpu, FIXTURES "/vm", EB_PROBE_ABSENT);
    probe_in(&eb_source_nvmap, FIXTURES "/vm", EB_PROBE_ABSENT);
}

/* A DRM GPU from its driver's files: an AMD APU (amdgpu: load, VRAM and
 * GTT in bytes, its hwmon's clock in Hz) and an N100's Intel GPU (i915: the
 * clock in MHz); a connector and a card of another driver are passed over. */
static void test_drm_gpu_source(void **state)
{
    (void)state;
    char root[] = "/tmp/eb-drm-XXXXXX", cmd[4096];
    assert_non_null(mkdtemp(root));
    snprintf(
        cmd, sizeof cmd,
        "d=%s/sys/class/drm && mkdir -p $d/card0/device/hwmon/hwmon3 $d/card0-HDMI-A-1 "
        "$d/card1/device $d/card2/device && "
        "printf 'DRIVER=amdgpu\nPCI_ID=1002:15BF\n' > $d/card0/device/uevent && "
        "echo 37 > $d/card0/device/gpu_busy_percent && "
        "echo 536870912 > $d/card0/device/mem_info_vram_used && "
        "echo 1073741824 > $d/card0/device/mem_info_gtt_used && "
        "echo 2700000000 > $d/card0/device/hwmon/hwmon3/freq1_input && "
        "printf 'DRIVER=i915\n' > $d/card1/device/uevent && echo 750 > $d/card1/gt_act_freq_mhz && "
        "printf 'DRIVER=v3d\n' > $d/card2/device/uevent",
        root);
    assert_int_equal(system(cmd), 0);
    eb_probe_ctx ctx = {.root = root};
    eb_source *g = NULL;
    char reason[512] = "";
    assert_int_equal(eb_source_drm_gpu.probe(&ctx, &g, reason, sizeof reason), EB_PROBE_FOUND);
    assert_int_equal(g->n_channels, 5);
    const char *names[] = {"gpuload:card0", "gpumem:card0:vram", "gpumem:card0:gtt",
                           "gpufreq:card0", "gpufreq:card1"};
    const eb_channel_kind kinds[] = {EB_CH_LOAD, EB_CH_MEMORY, EB_CH_MEMORY, EB_CH_FREQ,
                                     EB_CH_FREQ};
    for (int c = 0; c < 5; c++) {
        assert_string_equal(g->channels[c].name, names[c]);
        assert_int_equal(g->channels[c].kind, kinds[c]);
        assert_true(g->channels[c].gpu);
        assert_false(g->channels[c].in_total);
    }
    double v[5];
    assert_true(g->ops->read(g, v));
    assert_close(v[0], 37.0, 1e-9);
    assert_close(v[1], 512.0, 1e-9);
    assert_close(v[2], 1024.0, 1e-9);
    assert_close(v[3], 2700.0, 1e-9);
    assert_close(v[4], 750.0, 1e-9);
    g->ops->close(g);
    /* a Pi 5's V3D alone: nothing this source reads, and it says which cards it saw */
    snprintf(cmd, sizeof cmd, "rm -rf %s/sys/class/drm/card0 %s/sys/class/drm/card1", root, root);
    assert_int_equal(system(cmd), 0);
    g = NULL;
    assert_int_equal(eb_source_drm_gpu.probe(&ctx, &g, reason, sizeof reason), EB_PROBE_ABSENT);
    assert_non_null(strstr(reason, "card2 (v3d)"));
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    assert_int_equal(system(cmd), 0);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The process's own GPU memory and busiest engine from its DRM fds'
 * fdinfo: an i915 client (two fds, one client, counted once; drm-resident
 * keys; an engine of capacity 2) and an amdgpu one (the older drm-memory
 * keys), a non-DRM fd ignored. */
static void test_drm_fdinfo_source(void **state)
{
    (void)state;
    char root[] = "/tmp/eb-fdinfo-XXXXXX", cmd[4096];
    assert_non_null(mkdtemp(root));
    snprintf(
        cmd, sizeof cmd,
        "r=%s && mkdir -p $r/sys/class/drm/renderD128 $r/proc/self/fd $r/proc/self/fdinfo && "
        "ln -s /dev/null $r/proc/self/fd/3 && ln -s /dev/dri/renderD128 $r/proc/self/fd/5 && "
        "ln -s /dev/dri/renderD128 $r/proc/self/fd/7 && ln -s /dev/dri/card1 $r/proc/self/fd/9 && "
        "printf 'pos:\t0\nflags:\t02100002\n' > $r/proc/self/fdinfo/3 && "
        "printf 'pos:\t0\ndrm-driver:\ti915\ndrm-client-id:\t12\ndrm-pdev:\t0000:00:02.0\n"
        "drm-total-system0:\t100 MiB\ndrm-resident-system0:\t80 MiB\n"
        "drm-engine-render:\t1000000000 ns\ndrm-engine-capacity-video:\t2\n"
        "drm-engine-video:\t400000000 ns\n' > $r/proc/self/fdinfo/5 && "
        "cp $r/proc/self/fdinfo/5 $r/proc/self/fdinfo/7 && "
        "printf 'drm-driver:\tamdgpu\ndrm-pdev:\t0000:03:00.0\ndrm-client-id:\t4\n"
        "drm-memory-vram:\t262144 KiB\ndrm-memory-gtt:\t2048 KiB\n"
        "drm-engine-gfx:\t500000000 ns\n' > $r/proc/self/fdinfo/9",
        root);
    assert_int_equal(system(cmd), 0);
    eb_probe_ctx ctx = {.root = root};
    eb_source *g = NULL;
    char reason[512] = "";
    double t0 = now_s(); /* the probe reads the engines' time as the baseline */
    assert_int_equal(eb_source_drm_fdinfo.probe(&ctx, &g, reason, sizeof reason), EB_PROBE_FOUND);
    assert_int_equal(g->n_channels, 2);
    assert_string_equal(g->channels[0].name, "gpumem:process");
    assert_int_equal(g->channels[0].kind, EB_CH_MEMORY);
    assert_int_equal(g->channels[1].kind, EB_CH_LOAD);
    assert_true(g->channels[0].gpu && g->channels[1].gpu);
    double v[2];
    assert_true(g->ops->read(g, v));
    assert_close(v[0], 80.0 + 258.0, 1e-9); /* resident, once for client 12; vram + gtt */
    assert_close(v[1], 0.0, 1e-9);          /* no engine time since the probe's read */
    usleep(500000);
    /* render +100 ms, video +300 ms over 2 engines (150 ms each): the busiest */
    snprintf(cmd, sizeof cmd,
             "r=%s/proc/self/fdinfo && sed -i "
             "'s/^drm-engine-render:.*/drm-engine-render:\t1100000000 ns/;"
             "s/^drm-engine-video:.*/drm-engine-video:\t700000000 ns/' $r/5 && cp $r/5 $r/7",
             root);
    assert_int_equal(system(cmd), 0);
    assert_true(g->ops->read(g, v));
    double t1 = now_s();
    assert_true(v[1] <= 150.0 / 500.0 * 100.0 + 0.5);
    assert_true(v[1] >= 0.150 / (t1 - t0) * 100.0 - 0.5);
    g->ops->close(g);
    /* no render node: absent, saying so */
    snprintf(cmd, sizeof cmd, "rm -rf %s/sys/class/drm/renderD128", root);
    assert_int_equal(system(cmd), 0);
    g = NULL;
    assert_int_equal(eb_source_drm_fdinfo.probe(&ctx, &g, reason, sizeof reason), EB_PROBE_ABSENT);
    assert_non_null(strstr(reason, "no DRM render node"));
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pmic_parse),
        cmocka_unit_test(test_mailbox_buffer),
        cmocka_unit_test(test_throttled_flags),
        cmocka_unit_test(test_pi5_source_on_its_own_cadence),
        cmocka_unit_test(test_vcgencmd_fallback),
        cmocka_unit_test(test_nvml_through_stub),
        cmocka_unit_test(test_jetson_gpu_sources),
        cmocka_unit_test(test_drm_gpu_source),
        cmocka_unit_test(test_drm_fdinfo_source),
        cmocka_unit_test(test_cpu_estimate_only_when_nothing_measures),
        cmocka_unit_test(test_one_whole_device_total),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
