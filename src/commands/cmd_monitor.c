/* edgebench monitor: a live view of every source edgebench knows on this
 * device (power rails and the total, clocks, temperatures, loads, memory,
 * throttling) and what the newest `edgebench run` is doing. ncurses on a
 * terminal; plain text a snapshot an interval when stdout is not one;
 * --once --format json for scripts. */
#include <cjson/cJSON.h>
#include <curses.h>
#include <stddef.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "edgebench/params.h"
#include "edgebench/monitor.h"
#include "edgebench/sysinfo.h"
#include "edgebench/util.h"
#include "edgebench/vcio.h"
#include "run_status.h"

static volatile sig_atomic_t monitor_stop;

static void on_signal(int sig)
{
    (void)sig;
    monitor_stop = 1;
}

typedef struct monitor_opts {
    double interval_s;
    bool once;
} monitor_opts;

/* monitor's own options; the format, root and TDP are the table's */
static const eb_param own_rows[] = {
    {.key = "interval",
     .scope = EB_PS_CLI,
     .type = EB_PT_NUM,
     .flag = "interval",
     .min = 10,
     .max = 60000,
     .def = "1000",
     .field = EB_FK_DOUBLE,
     .offset = offsetof(monitor_opts, interval_s),
     .scale = 0.001,
     .unit = "ms",
     .metavar = "MS",
     .help = "refresh period"},
    {.key = "once",
     .scope = EB_PS_CLI,
     .type = EB_PT_BOOL,
     .flag = "once",
     .field = EB_FK_BOOL,
     .offset = offsetof(monitor_opts, once),
     .help = "one reading, then exit (--format json needs it)"},
};

static void monitor_usage(FILE *f, const eb_cmd_rows *own)
{
    fputs("usage: edgebench monitor [options]\n"
          "A live view of this device: total and per-rail power (Pi 5 PMIC, INA3221, RAPL,\n"
          "NVML, battery), CPU and GPU clocks, temperatures, throttling, memory and swap,\n"
          "GPU memory, and what the newest `edgebench run` is doing. q quits.\n\n",
          f);
    eb_cmd_help(EB_CMD_MONITOR, own, f);
}

/* The view as lines of at most 120 columns. */
typedef struct lines {
    char l[96][160];
    int n;
    int left_out; /* lines past the view's 96: said on its last line */
} lines;

static void add(lines *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(lines *L, const char *fmt, ...)
{
    /* the last line is kept to say what did not fit */
    const int last = (int)(sizeof L->l / sizeof L->l[0]) - 1;
    if (L->n >= last) {
        L->left_out++;
        snprintf(L->l[last], sizeof L->l[0],
                 "(%d more line%s: --once --format json has every value)", L->left_out,
                 L->left_out == 1 ? "" : "s");
        L->n = last + 1;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->l[L->n++], sizeof L->l[0], fmt, ap);
    va_end(ap);
}

/* "GPU " before a GPU's value unless its name says so */
static const char *gpu_tag(const eb_monitor_value *v)
{
    return v->gpu && !eb_strstr_ci(v->name, "gpu") ? "GPU " : "";
}

/* Values of one kind on as few lines as fit: "name value unit" cells. */
static void cells(lines *L, const char *head, const eb_monitor_snapshot *s, eb_channel_kind k,
                  const char *unit, int decimals)
{
    char line[128];
    int used = snprintf(line, sizeof line, "%-9s", head);
    bool any = false;
    for (size_t i = 0; i < s->n; i++) {
        const eb_monitor_value *v = &s->v[i];
        if (v->kind != k) continue;
        char cell[96];
        const char *name = strchr(v->name, ':') ? strchr(v->name, ':') + 1 : v->name;
        if (isfinite(v->value))
            snprintf(cell, sizeof cell, "%s%s %.*f %s", gpu_tag(v), name, decimals, v->value, unit);
        else
            snprintf(cell, sizeof cell, "%s%s n/a", gpu_tag(v), name);
        if (used + (int)strlen(cell) + 3 > 118) {
            add(L, "%s", line);
            used = snprintf(line, sizeof line, "%-9s", "");
        }
        used += snprintf(line + used, sizeof line - (size_t)used, "%s%s", any ? "   " : "", cell);
        any = true;
    }
    if (any) add(L, "%s", line);
}

static void build(lines *L, const eb_monitor_snapshot *s, const char *host, double interval_s)
{
    L->n = 0;
    L->left_out = 0;
    time_t now = (time_t)s->t;
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&now));
    add(L, "edgebench monitor   %s   %s   every %.0f ms   (q quits)", host, when, interval_s * 1e3);
    if (s->total_source[0] && isfinite(s->total_w))
        add(L, "power    total %.3f W%s (%s)", s->total_w, s->total_estimate ? " ESTIMATE" : "",
            s->total_source);
    else if (s->total_source[0])
        add(L, "power    total n/a yet (%s)", s->total_source);
    else
        add(L, "power    not measured: no power sensor (--tdp W allows an estimate)");
    for (size_t i = 0; i < s->n; i++) {
        const eb_monitor_value *v = &s->v[i];
        if (v->kind != EB_CH_POWER) continue;
        const char *role = v->whole_device ? "device total"
                           : v->in_total   ? "part of the total"
                                           : "";
        if (isfinite(v->value))
            add(L, "  %-36s %9.3f W  %s%s", v->name, v->value, role,
                v->estimate ? " ESTIMATE" : "");
        else
            add(L, "  %-36s %9s    %s", v->name, "n/a", role);
    }
    cells(L, "clocks", s, EB_CH_FREQ, "MHz", 0);
    cells(L, "temps", s, EB_CH_TEMP, "C", 1);
    cells(L, "load", s, EB_CH_LOAD, "%", 1);
    cells(L, "GPU mem", s, EB_CH_MEMORY, "MiB", 1);
    if (s->has_mem) {
        char nv[48] = "";
        if (s->has_nvmap) snprintf(nv, sizeof nv, "   NvMap %.1f MiB", s->nvmap_kb / 1024.0);
        add(L, "memory   used %.2f of %.2f GiB (available %.2f)   swap %.2f of %.2f GiB%s",
            (double)(s->mem_total_kb - s->mem_available_kb) / 1048576.0,
            (double)s->mem_total_kb / 1048576.0, (double)s->mem_available_kb / 1048576.0,
            (double)(s->swap_total_kb - s->swap_free_kb) / 1048576.0,
            (double)s->swap_total_kb / 1048576.0, nv);
    }
    if (s->has_throttled) {
        char text[200];
        eb_throttled_describe(s->throttled, text, sizeof text);
        add(L, "throttle 0x%x: %s", s->throttled, text);
    }
    run_status r;
    if (run_status_read(&r)) {
        bool alive = run_status_alive(&r);
        char tps[96] = "no repetition finished yet";
        if (isfinite(r.gen_tps))
            snprintf(tps, sizeof tps, "last repetition: generation %.2f t/s, prefill %.1f t/s",
                     r.gen_tps, r.prefill_tps);
        add(L, "run      %s pid %ld: %.90s", alive ? "running," : "last (ended),", r.pid, r.model);
        if (alive)
            add(L, "         %s, repetition %d of %d%s; %s", r.phase, r.rep, r.total,
                r.rep <= r.warmup ? " (warm-up)" : "", tps);
        else
            add(L, "         %s", tps);
    } else {
        add(L, "run      none seen (edgebench run writes its status to the cache directory)");
    }
    if (s->absent[0]) {
        add(L, "not found here:");
        const char *a = s->absent;
        while (*a) {
            size_t n = strcspn(a, "\n");
            add(L, "  %.*s", (int)n, a);
            a += n;
            if (*a) a++;
        }
    }
}

int cmd_monitor(int argc, char **argv)
{
    monitor_opts mo = {0};
    eb_cmd_rows own = {own_rows, sizeof own_rows / sizeof own_rows[0], &mo, NULL, NULL, 0, 0};
    eb_run_options opts;
    int code = cli_parse(EB_CMD_MONITOR, "monitor", &own, argc, argv, &opts, monitor_usage);
    if (code != EXIT_OK) return code < 0 ? EXIT_OK : code;
    double interval_s = mo.interval_s, tdp = opts.cfg.tdp_w;
    bool once = mo.once, json = !strcmp(opts.format_text_json, "json");
    const char *root = opts.cfg.root;
    if (json && !once) {
        fprintf(stderr, "edgebench monitor: --format json is one reading: give --once too\n");
        return EXIT_USAGE;
    }
    eb_error err = {0};
    eb_monitor *m = NULL;
    /* the sampler reads at least twice a second (once: a tenth of one); the
     * view refreshes at its own pace */
    double sample_s = once ? 0.05 : interval_s < 0.5 ? interval_s : 0.5;
    if (eb_monitor_open(root, sample_s, tdp, &m, &err) != EB_OK) return cli_report("monitor", &err);
    eb_device_info d;
    eb_device_info_read(root, &d);
    char host[300];
    snprintf(host, sizeof host, "%s%s%s", d.hostname, d.hostname[0] && d.board_model[0] ? ", " : "",
             d.board_model);
    /* energy counters need two samples for a rate */
    eb_sleep(2 * sample_s);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    eb_monitor_snapshot s;
    lines L;
    code = EXIT_OK;
    bool tty = isatty(STDOUT_FILENO) && !once;
    if (tty) {
        initscr();
        cbreak();
        noecho();
        curs_set(0);
        timeout((int)(interval_s * 1000));
    }
    while (!monitor_stop) {
        if (eb_monitor_read(m, &s, &err) != EB_OK) {
            code = -1;
            break;
        }
        if (json) {
            cJSON *o = eb_monitor_to_json(&s);
            cJSON_AddStringToObject(o, "host", host);
            run_status r;
            if (run_status_read(&r)) {
                cJSON *ro = cJSON_AddObjectToObject(o, "run");
                cJSON_AddNumberToObject(ro, "pid", (double)r.pid);
                cJSON_AddBoolToObject(ro, "running", run_status_alive(&r));
                cJSON_AddStringToObject(ro, "model", r.model);
                cJSON_AddStringToObject(ro, "phase", r.phase);
                cJSON_AddNumberToObject(ro, "rep", r.rep);
                cJSON_AddNumberToObject(ro, "total", r.total);
                if (isfinite(r.gen_tps)) cJSON_AddNumberToObject(ro, "gen_tps", r.gen_tps);
                if (isfinite(r.prefill_tps))
                    cJSON_AddNumberToObject(ro, "prefill_tps", r.prefill_tps);
            } else {
                cJSON_AddNullToObject(o, "run");
            }
            char *text = cJSON_Print(o);
            cJSON_Delete(o);
            if (text) puts(text);
            free(text);
            break;
        }
        build(&L, &s, host, interval_s);
        if (tty) {
            erase();
            for (int i = 0; i < L.n && i < LINES; i++)
                mvaddnstr(i, 0, L.l[i], COLS);
            refresh();
            int ch = getch(); /* waits the interval for a key */
            if (ch == 'q' || ch == 'Q') break;
        } else {
            for (int i = 0; i < L.n; i++)
                puts(L.l[i]);
            fflush(stdout);
            if (once) break;
            putchar('\n');
            eb_sleep(interval_s);
        }
    }
    if (tty) endwin();
    eb_monitor_close(m);
    return code < 0 ? cli_report("monitor", &err) : code;
}
