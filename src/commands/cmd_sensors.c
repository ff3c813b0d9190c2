/* edgebench sensors: every source found on this device with live readings,
 * and every source not found with the reason. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "edgebench/params.h"
#include "edgebench/counters.h"
#include "edgebench/knobs.h"
#include "edgebench/memory.h"
#include "edgebench/sampler.h"
#include "edgebench/util.h"
#include "edgebench/vcio.h"

/* sensors' own option; the root, sampler period and TDP are the table's */
static const eb_param own_rows[] = {
    {.key = "window_ms",
     .scope = EB_PS_CLI,
     .type = EB_PT_NUM,
     .flag = "window-ms",
     .min = 10,
     .max = 60000,
     .def = "500",
     .field = EB_FK_DOUBLE,
     .offset = 0,
     .scale = 0.001,
     .unit = "ms",
     .metavar = "MS",
     .help = "how long to sample for live readings"},
};

static void sensors_usage(FILE *f, const eb_cmd_rows *own)
{
    fputs("usage: edgebench sensors [options]\n"
          "Lists every power, energy, memory, frequency and temperature source found on\n"
          "this device with live readings, and every source not found with the reason.\n\n",
          f);
    eb_cmd_help(EB_CMD_SENSORS, own, f);
}

static void print_channel(const eb_sampler *s, int c, double a, double b)
{
    const eb_channel *ch = eb_sampler_channel(s, c);
    const char *role = ch->in_total ? "device total" : ch->estimate ? "estimate" : "";
    if (ch->in_total && ch->estimate) role = "device total, ESTIMATE";
    double mean, max, j, peak;
    char reading[96];
    if (ch->kind == EB_CH_ENERGY || ch->kind == EB_CH_POWER) {
        if (eb_sampler_channel_energy(s, c, a, b, &j, &peak))
            snprintf(reading, sizeof reading, "%8.3f W mean, %8.3f W peak", j / (b - a), peak);
        else
            snprintf(reading, sizeof reading, "n/a (read failed or not discharging)");
    } else if (eb_sampler_channel_summary(s, c, a, b, &mean, &max)) {
        snprintf(reading, sizeof reading, "%8.1f %s mean, %8.1f max", mean,
                 eb_channel_unit(ch->kind), max);
    } else {
        snprintf(reading, sizeof reading, "n/a (read failed)");
    }
    fprintf(stdout, "    %-40s %s%s%s\n", ch->name, reading, role[0] ? "  " : "", role);
    /* how far its readings can be trusted, and from where (energy intervals use it) */
    if ((ch->kind == EB_CH_ENERGY || ch->kind == EB_CH_POWER) && !ch->estimate) {
        char acc[256];
        snprintf(acc, sizeof acc, "accuracy: %s",
                 ch->accuracy_basis[0] ? ch->accuracy_basis : "not published");
        eb_print_wrapped(stdout, "      ", "      ", acc, 120);
    }
}

static void print_memory(const char *root)
{
    eb_meminfo mi;
    eb_error err = {0};
    fprintf(stdout, "memory\n");
    if (eb_meminfo_full(root, &mi, &err) == EB_OK) {
        fprintf(stdout,
                "    MemTotal %.1f MiB, MemAvailable %.1f MiB, swap used %.1f of %.1f MiB\n",
                mi.total_kb / 1024.0, mi.available_kb / 1024.0,
                (double)(mi.swap_total_kb - mi.swap_free_kb) / 1024.0, mi.swap_total_kb / 1024.0);
        if (mi.has_nvmap)
            fprintf(stdout, "    NvMapMemUsed %.1f MiB (Jetson unified memory)\n",
                    mi.nvmap_kb / 1024.0);
        else
            fprintf(stdout, "    NvMapMemUsed n/a (not a Jetson)\n");
    } else {
        fprintf(stdout, "    n/a (%s)\n", err.msg);
    }
    eb_proc_mem pm;
    eb_pss pss;
    if (eb_proc_mem_read(root, &pm, &err) == EB_OK)
        fprintf(stdout, "    this process: RSS %.1f MiB (anon %.1f, file %.1f), peak %.1f MiB\n",
                pm.rss_kb / 1024.0, pm.rss_anon_kb / 1024.0, pm.rss_file_kb / 1024.0,
                pm.hwm_kb / 1024.0);
    else
        fprintf(stdout, "    process memory n/a (%s)\n", err.msg);
    if (eb_pss_read(root, &pss, &err) == EB_OK)
        fprintf(stdout, "    this process: PSS %.1f MiB\n", pss.pss_kb / 1024.0);
    else
        fprintf(stdout, "    PSS n/a (%s)\n", err.msg);
}

static void print_cpu(const char *root)
{
    char path[1024], v[256], (*pol)[16];
    fprintf(stdout, "cpu\n");
    eb_path_join(path, sizeof path, root, "/sys/devices/system/cpu/online");
    fprintf(stdout, "    online %s\n", eb_read_line(path, v, sizeof v) ? v : "n/a");
    int n = eb_cpufreq_policies(root, &pol);
    for (int p = 0; p < n; p++) {
        const char *files[] = {"scaling_governor", "scaling_available_governors",
                               "scaling_cur_freq"};
        char val[3][256] = {"?", "?", ""};
        for (int f = 0; f < 3; f++) {
            char rel[160];
            snprintf(rel, sizeof rel, "/sys/devices/system/cpu/cpufreq/%s/%s", pol[p], files[f]);
            eb_path_join(path, sizeof path, root, rel);
            eb_read_line(path, val[f], sizeof val[f]);
        }
        fprintf(stdout, "    %s: governor %s (offered: %s), %.0f MHz\n", pol[p], val[0], val[1],
                val[2][0] ? atof(val[2]) / 1000 : NAN);
    }
    free(pol);
    if (n == 0) fprintf(stdout, "    governors n/a (no cpufreq policies: common in VMs)\n");
    uint32_t flags;
    if (eb_throttled_read(root, &flags)) {
        char d[256];
        eb_throttled_describe(flags, d, sizeof d);
        fprintf(stdout, "    Raspberry Pi throttling 0x%x: %s\n", flags, d);
    } else {
        fprintf(stdout, "    throttling flags n/a (not a Raspberry Pi)\n");
    }
}

static void print_counters(const char *root)
{
    eb_counters c;
    eb_counters_open(&c, root);
    fprintf(stdout, "perf counters (perf_event_paranoid %d)\n", c.paranoid);
    for (int i = 0; i < EB_CTR_COUNT; i++)
        fprintf(stdout, "    %-17s %-14s %s\n", eb_counter_name((eb_counter_id)i),
                eb_counter_status_name(c.open_status[i]), eb_counter_meaning((eb_counter_id)i));
    eb_counters_close(&c);
}

int cmd_sensors(int argc, char **argv)
{
    double window_s = 0.5;
    eb_cmd_rows own = {own_rows, 1, &window_s, NULL, NULL, 0, 0};
    eb_run_options o;
    int code = cli_parse(EB_CMD_SENSORS, "sensors", &own, argc, argv, &o, sensors_usage);
    if (code != EXIT_OK) return code < 0 ? EXIT_OK : code;
    eb_sampler_config cfg = {.interval_s = o.cfg.sample_interval_s,
                             .root = o.cfg.root,
                             .tdp_w = o.cfg.tdp_w,
                             .meter = o.cfg.meter,
                             .meter_gain_err = o.cfg.meter_accuracy_pct / 100.0};
    eb_error err = {0};
    eb_sampler *s;
    if (eb_sampler_create(&cfg, &s, &err) != EB_OK) return cli_report("sensors", &err);
    if (eb_sampler_start(s, &err) != EB_OK) {
        eb_sampler_free(s);
        return cli_report("sensors", &err);
    }
    double a = eb_now();
    eb_sleep(window_s);
    double b = eb_now();
    eb_sampler_stop(s);

    fprintf(stdout, "sources under %s (live readings over %.0f ms)\n", cfg.root, (b - a) * 1000);
    for (size_t i = 0; i < eb_sampler_probe_count(s); i++) {
        const eb_probe_report *p = eb_sampler_probe(s, i);
        char first[64], text[1024];
        snprintf(first, sizeof first, "  %-13s %-13s ", p->source, eb_probe_name(p->result));
        snprintf(text, sizeof text, "%s: %s", p->description, p->reason);
        eb_print_wrapped(stdout, first, "                              ", text, 120);
        if (p->left_out[0]) fprintf(stdout, "  %-13s left out: %s\n", "", p->left_out);
    }
    fprintf(stdout, "channels\n");
    for (int c = 0; c < eb_sampler_n_channels(s); c++)
        print_channel(s, c, a, b);
    double j;
    if (eb_sampler_total_energy(s, a, b, &j, NULL))
        fprintf(stdout, "device total: %.3f W from %s%s\n", j / (b - a), eb_sampler_total_source(s),
                eb_sampler_total_is_estimate(s) ? " (an ESTIMATE)" : "");
    else
        fprintf(stdout, "device total: n/a (no power sensor found%s)\n",
                cfg.tdp_w > 0 ? "" : "; --tdp W allows an estimate");
    eb_sampler_timing t;
    eb_sampler_timing_get(s, &t);
    fprintf(stdout, "sampler: median interval %.2f ms, p99 %.2f ms, %llu missed\n",
            t.median_s * 1000, t.p99_s * 1000, (unsigned long long)t.missed);
    eb_sampler_free(s);
    print_memory(cfg.root);
    print_cpu(cfg.root);
    print_counters(cfg.root);
    return EXIT_OK;
}
