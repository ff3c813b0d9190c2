#include "edgebench/counters.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "edgebench/util.h"

static const struct {
    const char *name;
    uint32_t type;
    uint64_t config;
} events[EB_CTR_COUNT] = {
    [EB_CTR_CYCLES] = {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    [EB_CTR_INSTRUCTIONS] = {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    [EB_CTR_CACHE_REFERENCES] = {"cache_references", PERF_TYPE_HARDWARE,
                                 PERF_COUNT_HW_CACHE_REFERENCES},
    [EB_CTR_CACHE_MISSES] = {"cache_misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
    [EB_CTR_L1D_READ_MISSES] = {"l1d_read_misses", PERF_TYPE_HW_CACHE,
                                PERF_COUNT_HW_CACHE_L1D | (PERF_COUNT_HW_CACHE_OP_READ << 8) |
                                    (PERF_COUNT_HW_CACHE_RESULT_MISS << 16)},
    [EB_CTR_CONTEXT_SWITCHES] = {"context_switches", PERF_TYPE_SOFTWARE,
                                 PERF_COUNT_SW_CONTEXT_SWITCHES},
    [EB_CTR_CPU_MIGRATIONS] = {"cpu_migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
    [EB_CTR_MINOR_FAULTS] = {"minor_faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN},
    [EB_CTR_MAJOR_FAULTS] = {"major_faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ},
};

const char *eb_counter_name(eb_counter_id id)
{
    return id < EB_CTR_COUNT ? events[id].name : "?";
}

const char *eb_counter_status_name(eb_counter_status s)
{
    switch (s) {
    case EB_CTR_OK:
        return "ok";
    case EB_CTR_SCALED:
        return "scaled";
    case EB_CTR_RUSAGE:
        return "rusage";
    case EB_CTR_NOT_SUPPORTED:
        return "not_supported";
    case EB_CTR_NO_PERMISSION:
        return "no_permission";
    case EB_CTR_NOT_SCHEDULED:
        return "not_scheduled";
    }
    return "?";
}

const char *eb_counter_meaning(eb_counter_id id)
{
    if (id == EB_CTR_CACHE_MISSES) {
#if defined(__aarch64__) || defined(__arm__)
        /* Arm PMUv3 maps the generic cache-misses event to L1D refills. */
        return "L1 data cache refills (Arm PMUv3 generic event)";
#else
        return "last-level cache misses";
#endif
    }
    if (id == EB_CTR_CACHE_REFERENCES) {
#if defined(__aarch64__) || defined(__arm__)
        return "L1 data cache accesses (Arm PMUv3 generic event)";
#else
        return "last-level cache references";
#endif
    }
    return events[id < EB_CTR_COUNT ? id : 0].name;
}

static int read_paranoid(const char *root)
{
    char path[1024], buf[32];
    eb_path_join(path, sizeof path, root, "/proc/sys/kernel/perf_event_paranoid");
    if (eb_read_text(path, buf, sizeof buf, NULL) != EB_OK) return -99;
    return atoi(buf);
}

void eb_counters_open(eb_counters *c, const char *root)
{
    c->paranoid = read_paranoid(root);
    for (int i = 0; i < EB_CTR_COUNT; i++) {
        struct perf_event_attr a;
        memset(&a, 0, sizeof a);
        a.size = sizeof a;
        a.type = events[i].type;
        a.config = events[i].config;
        a.inherit = 1;
        a.exclude_kernel = 1;
        a.exclude_hv = 1;
        a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
        /* Software events count in the kernel on the process's behalf. */
        if (a.type == PERF_TYPE_SOFTWARE) a.exclude_kernel = 0;
        long fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
        if (fd < 0 && a.type == PERF_TYPE_SOFTWARE && (errno == EACCES || errno == EPERM)) {
            a.exclude_kernel = 1;
            fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
        }
        c->fd[i] = (int)fd;
        c->open_status[i] = fd >= 0                               ? EB_CTR_OK
                            : (errno == EACCES || errno == EPERM) ? EB_CTR_NO_PERMISSION
                                                                  : EB_CTR_NOT_SUPPORTED;
    }
}

void eb_counters_read(const eb_counters *c, eb_counter_raw *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < EB_CTR_COUNT; i++) {
        uint64_t v[3];
        if (c->fd[i] >= 0 && read(c->fd[i], v, sizeof v) == (ssize_t)sizeof v) {
            out->value[i] = v[0];
            out->enabled[i] = v[1];
            out->running[i] = v[2];
        }
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        out->ru_csw = (uint64_t)(ru.ru_nvcsw + ru.ru_nivcsw);
        out->ru_minflt = (uint64_t)ru.ru_minflt;
        out->ru_majflt = (uint64_t)ru.ru_majflt;
    }
}

void eb_counters_delta(const eb_counters *c, const eb_counter_raw *a, const eb_counter_raw *b,
                       eb_counter_values *out)
{
    for (int i = 0; i < EB_CTR_COUNT; i++) {
        out->value[i] = 0;
        out->status[i] = c->open_status[i];
        if (c->fd[i] < 0) continue;
        uint64_t en = b->enabled[i] - a->enabled[i], run = b->running[i] - a->running[i];
        double v = (double)(b->value[i] - a->value[i]);
        if (run == 0 && en > 0) {
            out->status[i] = EB_CTR_NOT_SCHEDULED;
        } else if (run < en) {
            out->value[i] = v * (double)en / (double)run;
            out->status[i] = EB_CTR_SCALED;
        } else {
            out->value[i] = v;
        }
    }
    /* getrusage covers the whole process, all threads included. */
    const struct {
        eb_counter_id id;
        uint64_t va, vb;
    } fb[] = {{EB_CTR_CONTEXT_SWITCHES, a->ru_csw, b->ru_csw},
              {EB_CTR_MINOR_FAULTS, a->ru_minflt, b->ru_minflt},
              {EB_CTR_MAJOR_FAULTS, a->ru_majflt, b->ru_majflt}};
    for (size_t k = 0; k < sizeof fb / sizeof fb[0]; k++) {
        if (c->fd[fb[k].id] >= 0) continue;
        out->value[fb[k].id] = (double)(fb[k].vb - fb[k].va);
        out->status[fb[k].id] = EB_CTR_RUSAGE;
    }
}

void eb_counters_close(eb_counters *c)
{
    for (int i = 0; i < EB_CTR_COUNT; i++) {
        if (c->fd[i] >= 0) close(c->fd[i]);
        c->fd[i] = -1;
    }
}
