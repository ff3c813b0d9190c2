/* edgebench calibrate: this device's own power sensors against an external
 * meter over a load ladder, a line fitted and stored; later runs on the
 * device show calibrated energy beside the raw on-board figure. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cli_ceilings.h"
#include "cli_store.h"
#include "edgebench/calibrate.h"
#include "edgebench/params.h"
#include "edgebench/store.h"
#include "edgebench/sysinfo.h"
#include "edgebench/util.h"

typedef struct calib_opts {
    double rung_s, settle_s;
    int max_threads;
    const char *inference;
} calib_opts;

static const eb_param own_rows[] = {
    {.key = "rung_s",
     .scope = EB_PS_CLI,
     .type = EB_PT_NUM,
     .flag = "rung-s",
     .min = 0.2,
     .max = 600,
     .def = "5",
     .field = EB_FK_DOUBLE,
     .offset = offsetof(calib_opts, rung_s),
     .unit = "s",
     .metavar = "S",
     .help = "how long each rung of the load ladder is measured"},
    {.key = "settle_s",
     .scope = EB_PS_CLI,
     .type = EB_PT_NUM,
     .flag = "settle-s",
     .min = 0,
     .max = 600,
     .def = "1",
     .field = EB_FK_DOUBLE,
     .offset = offsetof(calib_opts, settle_s),
     .unit = "s",
     .metavar = "S",
     .help = "how long a rung's load runs before it is measured"},
    {.key = "max_threads",
     .scope = EB_PS_CLI,
     .type = EB_PT_INT,
     .flag = "max-threads",
     .min = 0,
     .max = 256,
     .def = "0",
     .field = EB_FK_INT,
     .offset = offsetof(calib_opts, max_threads),
     .metavar = "N",
     .help = "busy rungs 1..N threads (0: every online CPU)"},
    {.key = "inference",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "inference",
     .def = "tiny-llama",
     .field = EB_FK_STR,
     .offset = offsetof(calib_opts, inference),
     .metavar = "PRESET|FILE",
     .help = "the last rung: `edgebench run` of this preset or GGUF file, generating ('none': no "
             "such rung)"},
};

/* The inference rung: this binary's `run`, in a process group of its own
 * so that it and its measuring child stop together. */
typedef struct inference_rung {
    const char *what;
    pid_t pid;
} inference_rung;

static bool inference_start(void *user, char *why, size_t cap)
{
    inference_rung *ir = user;
    bool file = strchr(ir->what, '/') || strstr(ir->what, ".gguf");
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, cap, "fork: %s", strerror(errno));
        return false;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) dup2(devnull, 1), dup2(devnull, 2);
        execl("/proc/self/exe", "edgebench", "run", file ? "-m" : "--preset", ir->what,
              "--no-store", "--no-sampler", "-q", "--idle-s", "0", "--duration", "86400",
              "--format", "json", (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    ir->pid = pid;
    /* a run that cannot start ends at once: say so rather than fit idle */
    eb_sleep(0.3);
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
        snprintf(why, cap, "edgebench run %s %s ended at once (exit %d)", file ? "-m" : "--preset",
                 ir->what, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        ir->pid = 0;
        return false;
    }
    return true;
}

static void inference_stop(void *user)
{
    inference_rung *ir = user;
    if (ir->pid <= 0) return;
    kill(-ir->pid, SIGKILL);
    waitpid(ir->pid, NULL, 0);
    ir->pid = 0;
}

static void calibrate_usage(FILE *f, const eb_cmd_rows *own)
{
    fputs("usage: edgebench calibrate --meter SPEC [options]\n"
          "Fits this device's own power sensors to an external meter over a load ladder\n"
          "(idle, 1..N threads busy, a memory-bound load): meter watts = gain x on-board +\n"
          "offset, with its residual and R^2, stored with its date and meter. Later runs on\n"
          "this device show raw on-board energy and calibrated energy side by side.\n\n",
          f);
    eb_cmd_help(EB_CMD_CALIBRATE, own, f);
}

static void progress(void *user, const char *what, int rung, int total)
{
    if (!*(bool *)user) fprintf(stderr, "calibrate: rung %d/%d: %s\n", rung, total, what);
}

int cmd_calibrate(int argc, char **argv)
{
    calib_opts co = {5, 1, 0, "tiny-llama"};
    eb_cmd_rows own = {own_rows, sizeof own_rows / sizeof own_rows[0], &co, NULL, NULL, 0, 0};
    eb_run_options o;
    int code = cli_parse(EB_CMD_CALIBRATE, "calibrate", &own, argc, argv, &o, calibrate_usage);
    if (code != EXIT_OK) return code < 0 ? EXIT_OK : code;
    if (!o.cfg.meter) return cli_usage_error("calibrate", "--meter SPEC is required");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    eb_calibrate_config cfg = {.root = o.cfg.root,
                               .meter = o.cfg.meter,
                               .meter_gain_err = o.cfg.meter_accuracy_pct / 100.0,
                               .rung_s = co.rung_s,
                               .settle_s = co.settle_s,
                               .max_threads =
                                   co.max_threads > 0 ? co.max_threads : (int)(cpus > 0 ? cpus : 1),
                               .interval_s = o.cfg.sample_interval_s};
    inference_rung ir = {.what = co.inference};
    if (co.inference && strcmp(co.inference, "none") != 0) {
        static char label[64];
        snprintf(label, sizeof label, "inference %.40s", co.inference);
        cfg.extra_rung = label;
        cfg.extra_start = inference_start;
        cfg.extra_stop = inference_stop;
        cfg.extra_user = &ir;
    }
    eb_device_info dev;
    eb_device_info_read(o.cfg.root, &dev);
    eb_calibration cal = {0};
    snprintf(cal.device, sizeof cal.device, "%s", cli_device_key(&dev));
    eb_calib_point *p = NULL;
    int n = 0;
    eb_error err = {0};
    bool quiet = o.quiet;
    eb_status st = eb_calibrate_run(&cfg, &p, &n, &cal, progress, &quiet, &err);
    if (n > 0) {
        printf("%-26s %8s %12s %10s %10s\n", "rung", "seconds", "on-board W", "meter W", "fit W");
        for (int i = 0; i < n; i++)
            printf("%-26s %8.2f %12.3f %10.3f %10.3f\n", p[i].rung, p[i].seconds, p[i].onboard_w,
                   p[i].meter_w, st == EB_OK ? cal.gain * p[i].onboard_w + cal.offset_w : NAN);
    }
    if (st != EB_OK) {
        free(p);
        return cli_report("calibrate", &err);
    }
    printf("device     %s\non-board   %s\nmeter      %s\n", cal.device, cal.onboard, cal.meter);
    printf("fit        meter W = %.4f x on-board W %+.4f W (residual %.4f W, R^2 %.4f, %d rungs)\n",
           cal.gain, cal.offset_w, cal.residual_w, cal.r2, cal.n_points);
    cJSON *rungs = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "rung", p[i].rung);
        cJSON_AddNumberToObject(r, "seconds", p[i].seconds);
        cJSON_AddNumberToObject(r, "onboard_w", p[i].onboard_w);
        cJSON_AddNumberToObject(r, "meter_w", p[i].meter_w);
        cJSON_AddItemToArray(rungs, r);
    }
    char *json = cJSON_PrintUnformatted(rungs);
    cJSON_Delete(rungs);
    free(p);
    eb_store *s = NULL;
    const char *spec = o.store && o.store[0] ? o.store : eb_store_default_spec();
    st = eb_store_open(spec, &s, &err);
    if (st == EB_OK) st = eb_store_put_calibration(s, &cal, json, &err);
    eb_store_close(s);
    free(json);
    if (st != EB_OK) return cli_report("calibrate", &err);
    printf("stored     later runs on %s show calibrated energy\n", cal.device);
    return EXIT_OK;
}
