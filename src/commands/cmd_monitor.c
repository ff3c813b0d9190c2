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
static bool is_cpu_load(const eb_monitor_value *v)
{
    return v->kind == EB_CH_LOAD && !v->gpu && strncmp(v->name, "cpu", 3) == 0;
}

static void cells(lines *L, const char *head, const eb_monitor_snapshot *s, eb_channel_kind k,
                  const char *unit, int decimals, int width)
{
    char line[160];
    int used = snprintf(line, sizeof line, "%-9s", head);
    bool any = false;
    for (size_t i = 0; i < s->n; i++) {
        const eb_monitor_value *v = &s->v[i];
        if (v->kind != k || is_cpu_load(v)) continue;
        char cell[96];
        const char *name = strchr(v->name, ':') ? strchr(v->name, ':') + 1 : v->name;
        if (isfinite(v->value))
            snprintf(cell, sizeof cell, "%s%s %.*f %s", gpu_tag(v), name, decimals, v->value, unit);
        else
            snprintf(cell, sizeof cell, "%s%s n/a", gpu_tag(v), name);
        if (used + (int)strlen(cell) + 3 > width - 2) {
            add(L, "%s", line);
            used = snprintf(line, sizeof line, "%-9s", "");
        }
        used += snprintf(line + used, sizeof line - (size_t)used, "%s%s", any ? "   " : "", cell);
        any = true;
    }
    if (any) add(L, "%s", line);
}

/* What the view remembers between refreshes: a short history of the total
 * power and of the run's generation t/s, and the power's mean and peak. */
#define HISTORY 40
typedef struct history {
    double power[HISTORY], tps[HISTORY];
    int n_power, n_tps;
    double power_sum, power_peak;
    long power_count;
    double last_tps_t; /* the run status's time of the last t/s kept */
} history;

static void push(double *ring, int *n, double v)
{
    if (*n == HISTORY) {
        memmove(ring, ring + 1, (HISTORY - 1) * sizeof *ring);
        (*n)--;
    }
    ring[(*n)++] = v;
}

/* The values as a line of ASCII levels, lowest to highest of their range
 * (8-bit terminals and logs show it as it is). */
static void sparkline(const double *v, int n, char *out, size_t cap)
{
    static const char levels[] = " .:-=+*#%@";
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
    size_t k = 0;
    for (int i = 0; i < n && k + 1 < cap; i++) {
        int level = !isfinite(v[i]) ? 0 : hi > lo ? 1 + (int)((v[i] - lo) / (hi - lo) * 8.999) : 5;
        out[k++] = levels[level];
    }
    out[k] = '\0';
}

/* The CPUs: the machine's busy share, other processes', steal, and each
 * core's, wrapped to the width. */
static void cpu_lines(lines *L, const eb_monitor_snapshot *s, int width)
{
    double busy = NAN, other = NAN, steal = NAN;
    char cores[160] = "";
    int used = 0, n_cores = 0;
    for (size_t i = 0; i < s->n; i++) {
        const eb_monitor_value *v = &s->v[i];
        if (!is_cpu_load(v)) continue;
        if (!strcmp(v->name, "cpu:busy"))
            busy = v->value;
        else if (!strcmp(v->name, "cpu:other"))
            other = v->value;
        else if (!strcmp(v->name, "cpu:steal"))
            steal = v->value;
    }
    if (isnan(busy) && isnan(other)) {
        for (size_t i = 0; i < s->n; i++)
            if (is_cpu_load(&s->v[i])) {
                add(L, "cpu      load n/a yet (two readings make a rate)");
                return;
            }
        return;
    }
    add(L, "cpu      busy %.0f%%   other processes %.0f%%   steal %.0f%%", busy, other, steal);
    used = snprintf(cores, sizeof cores, "%-9s", "cores");
    for (size_t i = 0; i < s->n; i++) {
        const eb_monitor_value *v = &s->v[i];
        if (!is_cpu_load(v) || strchr(v->name, ':') - v->name == 3) continue;
        char cell[24];
        int len = (int)(strchr(v->name, ':') - v->name);
        if (isfinite(v->value))
            snprintf(cell, sizeof cell, "%.*s %3.0f%%", len, v->name, v->value);
        else
            snprintf(cell, sizeof cell, "%.*s n/a", len, v->name);
        if (used + (int)strlen(cell) + 2 > width - 2) {
            add(L, "%s", cores);
            used = snprintf(cores, sizeof cores, "%-9s", "");
        }
        used +=
            snprintf(cores + used, sizeof cores - (size_t)used, "%s%s", used > 9 ? "  " : "", cell);
        n_cores++;
    }
    if (n_cores) add(L, "%s", cores);
}

static void build(lines *L, const eb_monitor_snapshot *s, const char *host, double interval_s,
                  int width, history *h)
{
    L->n = 0;
    L->left_out = 0;
    time_t now = (time_t)s->t;
    char when[32];
    strftime(when, sizeof when, "%H:%M:%S", localtime(&now));
    /* what matters first: a narrow terminal cuts the host, never "q quits" */
    add(L, "edgebench monitor (q quits)  %s  every %.0f ms  %s", when, interval_s * 1e3, host);
    if (s->total_source[0] && isfinite(s->total_w)) {
        h->power_sum += s->total_w;
        h->power_count++;
        h->power_peak = h->power_count == 1 ? s->total_w : fmax(h->power_peak, s->total_w);
        push(h->power, &h->n_power, s->total_w);
    }
    if (s->total_source[0] && isfinite(s->total_w)) {
        add(L, "power    total %.3f W%s (%s)", s->total_w, s->total_estimate ? " ESTIMATE" : "",
            s->total_source);
        char spark[HISTORY + 1];
        sparkline(h->power, h->n_power, spark, sizeof spark);
        add(L, "         mean %.3f W, peak %.3f W since start  [%s]",
            h->power_sum / (double)h->power_count, h->power_peak, spark);
    } else if (s->total_source[0])
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
    cpu_lines(L, s, width);
    cells(L, "clocks", s, EB_CH_FREQ, "MHz", 0, width);
    cells(L, "temps", s, EB_CH_TEMP, "C", 1, width);
    cells(L, "load", s, EB_CH_LOAD, "%", 1, width);
    cells(L, "GPU mem", s, EB_CH_MEMORY, "MiB", 1, width);
    if (s->has_mem) {
        char nv[48] = "";
        if (s->has_nvmap) snprintf(nv, sizeof nv, "   NvMap %.1f MiB", s->nvmap_kb / 1024.0);
        add(L, "memory   used %.2f of %.2f GiB (free %.2f)  swap %.2f of %.2f GiB%s",
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
            snprintf(tps, sizeof tps, "last: generation %.2f t/s, prefill %.1f t/s", r.gen_tps,
                     r.prefill_tps);
        if (isfinite(r.gen_tps) && r.rep != (int)h->last_tps_t) {
            push(h->tps, &h->n_tps, r.gen_tps);
            h->last_tps_t = r.rep;
        }
        add(L, "run      %s pid %ld: %.90s", alive ? "running," : "last (ended),", r.pid, r.model);
        /* warm-ups apart: "repetition 2 of 3" is the second measured of --reps 3 */
        if (alive && r.rep <= r.warmup)
            add(L, "         %s, warm-up %d of %d; %s", r.phase, r.rep, r.warmup, tps);
        else if (alive)
            add(L, "         %s, repetition %d of %d; %s", r.phase, r.rep - r.warmup,
                r.total - r.warmup, tps);
        else
            add(L, "         %s", tps);
        if (h->n_tps > 1) {
            char spark[HISTORY + 1];
            sparkline(h->tps, h->n_tps, spark, sizeof spark);
            add(L, "         generation t/s of the last %d repetitions  [%s]", h->n_tps, spark);
        }
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
    history hist = {.last_tps_t = -1};
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
        build(&L, &s, host, interval_s, tty ? COLS : 120, &hist);
        if (tty) {
            erase();
            /* a line wider than the terminal goes on under itself, indented,
             * broken after a comma or a space: nothing is cut at 80 columns */
            int row = 0;
            for (int i = 0; i < L.n && row < LINES; i++) {
                const char *p = L.l[i];
                int indent = 0;
                while (*p && row < LINES) {
                    int room = COLS - indent, len = (int)strlen(p), take = len;
                    if (len > room) {
                        take = room;
                        for (int k = room; k > room / 2; k--)
                            if (p[k] == ' ') {
                                take = k;
                                break;
                            }
                    }
                    mvaddnstr(row++, indent, p, take);
                    p += take;
                    while (*p == ' ')
                        p++;
                    indent = 9;
                }
            }
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
