#include "edgebench/sweep.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgebench/knobs.h"
#include "edgebench/memory.h"
#include "edgebench/plan.h"
#include "edgebench/util.h"

/* Runs a device tool ($env or name on PATH) with fixed arguments, no shell;
 * out gets its standard output. */
static int run_tool(const char *env, const char *name, const char *const *args, char *out,
                    size_t cap)
{
    const char *prog = getenv(env);
    char path[1024];
    if (!eb_find_program(prog && prog[0] ? prog : name, path, sizeof path)) return -1;
    const char *argv[8] = {path};
    for (int a = 0; args[a] && a < 6; a++)
        argv[a + 1] = args[a];
    return eb_run_program(argv, out, cap);
}

static int nvpmodel_query(void)
{
    char out[512];
    const char *args[] = {"-q", NULL};
    if (run_tool("EDGEBENCH_NVPMODEL", "nvpmodel", args, out, sizeof out) != 0) return -1;
    /* "NV Power Mode: 15W\n0\n": the id is the last number */
    int id = -1;
    for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"))
        if (l[0] >= '0' && l[0] <= '9') id = atoi(l);
    return id;
}

static bool nvpmodel_set(int id)
{
    char num[16];
    snprintf(num, sizeof num, "%d", id);
    const char *args[] = {"-m", num, NULL};
    return run_tool("EDGEBENCH_NVPMODEL", "nvpmodel", args, NULL, 0) == 0;
}

eb_status eb_knob_session_begin(eb_knob_session *k, const char *root, const char *state,
                                bool *restored_before, eb_error *err)
{
    memset(k, 0, sizeof *k);
    k->root = root;
    snprintf(k->state, sizeof k->state, "%s", state);
    k->nvp_original = -1;
    snprintf(k->clocks_file, sizeof k->clocks_file, "%s.clocks", state);
    bool restored;
    int nvp;
    eb_status st = eb_knobs_restore(state, root, &restored, &nvp, err);
    if (st != EB_OK) return st;
    if (nvp >= 0) nvpmodel_set(nvp);
    if (access(k->clocks_file, R_OK) == 0) {
        const char *args[] = {"--restore", k->clocks_file, NULL};
        run_tool("EDGEBENCH_JETSON_CLOCKS", "jetson_clocks", args, NULL, 0);
        unlink(k->clocks_file);
        restored = true;
    }
    if (restored_before) *restored_before = restored;
    return EB_OK;
}

static bool save_once(eb_knob_session *k, char *why, size_t cap)
{
    if (k->saved) return true;
    eb_error err = {0};
    int nvp = nvpmodel_query();
    if (eb_knobs_save(k->state, k->root, nvp, &err) != EB_OK) {
        snprintf(why, cap, "%s", err.msg);
        return false;
    }
    k->nvp_original = nvp;
    k->saved = true;
    return true;
}

static void drop_caches(const eb_knob_session *k, const eb_trial *t, cJSON *sys)
{
    if (!eb_trial_bool(t, "drop_caches")) {
        cJSON_AddStringToObject(sys, "drop_caches", "off");
        return;
    }
    if (geteuid() != 0) {
        cJSON_AddStringToObject(sys, "drop_caches", "skipped: needs root");
        return;
    }
    sync();
    char path[1024];
    eb_path_join(path, sizeof path, k->root, "/proc/sys/vm/drop_caches");
    int fd =
        open(path, O_WRONLY | O_CLOEXEC | (strcmp(k->root, "/") ? O_CREAT | O_TRUNC : 0), 0644);
    bool ok = fd >= 0 && write(fd, "3", 1) == 1;
    if (fd >= 0) close(fd);
    cJSON_AddStringToObject(sys, "drop_caches", ok ? "done" : "failed");
    /* Swap is reset only on the real device, and only when there is some. */
    eb_meminfo mi;
    if (strcmp(k->root, "/") == 0 && eb_meminfo_full("/", &mi, NULL) == EB_OK &&
        mi.swap_total_kb > mi.swap_free_kb) {
        const char *off[] = {"-a", NULL};
        bool sw = run_tool("EDGEBENCH_SWAPOFF", "swapoff", off, NULL, 0) == 0 &&
                  run_tool("EDGEBENCH_SWAPON", "swapon", off, NULL, 0) == 0;
        cJSON_AddStringToObject(sys, "swap_reset", sw ? "done" : "failed");
    } else {
        cJSON_AddStringToObject(sys, "swap_reset", "not needed: no swap in use");
    }
}

bool eb_knob_session_apply(eb_knob_session *k, const eb_trial *t, cJSON *sys, char *why, size_t cap)
{
    eb_error err = {0};
    const char *gov = eb_trial_get(t, "governor");
    if (gov) {
        if (!save_once(k, why, cap)) return false;
        if (eb_governor_set_all(k->root, gov, &err) != EB_OK) {
            snprintf(why, cap, "governor %s: %s", gov, err.msg);
            return false;
        }
    }
    const char *mode = eb_trial_get(t, "power_mode");
    if (mode) {
        int id = eb_nvpmodel_id(k->root, mode);
        if (!save_once(k, why, cap)) return false;
        if (id < 0 || !nvpmodel_set(id)) {
            snprintf(why, cap, "power mode %s: nvpmodel -m %d failed", mode, id);
            return false;
        }
        cJSON_AddNumberToObject(sys, "power_mode_id", id);
    }
    const char *clocks = eb_trial_get(t, "jetson_clocks");
    if (clocks) {
        bool on = eb_trial_bool(t, "jetson_clocks");
        if (!k->clocks_stored) {
            const char *args[] = {"--store", k->clocks_file, NULL};
            k->clocks_stored =
                run_tool("EDGEBENCH_JETSON_CLOCKS", "jetson_clocks", args, NULL, 0) == 0;
        }
        const char *on_args[] = {NULL}, *off_args[] = {"--restore", k->clocks_file, NULL};
        if (run_tool("EDGEBENCH_JETSON_CLOCKS", "jetson_clocks", on ? on_args : off_args, NULL,
                     0) != 0) {
            snprintf(why, cap, "jetson_clocks %s failed", on ? "on" : "off");
            return false;
        }
    }
    char *govs = eb_governors_describe(k->root);
    cJSON_AddStringToObject(sys, "governors", govs ? govs : "");
    free(govs);
    drop_caches(k, t, sys);
    return true;
}

eb_status eb_knob_session_end(eb_knob_session *k, eb_error *err)
{
    if (k->clocks_stored) {
        const char *args[] = {"--restore", k->clocks_file, NULL};
        run_tool("EDGEBENCH_JETSON_CLOCKS", "jetson_clocks", args, NULL, 0);
        unlink(k->clocks_file);
    }
    if (!k->saved) return EB_OK;
    bool restored;
    int nvp = -1;
    eb_error e2 = {0};
    if (eb_knobs_restore(k->state, k->root, &restored, &nvp, &e2) != EB_OK)
        return eb_fail(err, e2.status, "restoring governors: %s", e2.msg);
    if (nvp >= 0 && !nvpmodel_set(nvp))
        return eb_fail(err, EB_E_IO, "could not set the power mode back to %d (nvpmodel -m %d)",
                       nvp, nvp);
    return EB_OK;
}

uint64_t eb_oom_kills(void)
{
    char cg[512], path[1100], buf[2048], v[32];
    if (!eb_read_line("/proc/self/cgroup", cg, sizeof cg) || strncmp(cg, "0::", 3) != 0) return 0;
    snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.events", cg + 3);
    if (eb_read_text(path, buf, sizeof buf, NULL) != EB_OK) return 0;
    return eb_text_field(buf, "oom_kill", " ", v, sizeof v) ? strtoull(v, NULL, 10) : 0;
}
