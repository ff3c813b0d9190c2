/* Fig. 4 of the report: memory over the newest run with a stored timeline,
 * the process's resident memory beside every GPU memory series the sampler
 * had, so that a GPU run shows which side holds memory during load and which
 * during inference. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/store.h"
#include "report_plot.h"

/* The legend of a sampled memory channel; NULL for other channels. */
static const char *memory_series_name(const char *channel)
{
    static char name[96];
    unsigned gpu;
    if (!channel) return NULL;
    char card[32], region[16];
    if (strstr(channel, "process:rss")) return "process RSS [MiB]";
    if (strncmp(channel, "nvmap:", 6) == 0) return "Jetson unified memory (NvMapMemUsed) [MiB]";
    if (sscanf(channel, "nvml:%u:memory-used", &gpu) == 1 && strstr(channel, ":memory-used")) {
        snprintf(name, sizeof name, "GPU %u memory in use (NVML) [MiB]", gpu);
        return name;
    }
    if (!strcmp(channel, "gpumem:process")) return "the process's GPU memory (DRM fdinfo) [MiB]";
    if (sscanf(channel, "gpumem:%31[^:]:%15s", card, region) == 2) {
        snprintf(name, sizeof name, "%s %s in use (amdgpu) [MiB]", card,
                 !strcmp(region, "vram")  ? "VRAM"
                 : !strcmp(region, "gtt") ? "GTT"
                                          : region);
        return name;
    }
    return NULL;
}

void report_memory_timeline(report *r, struct eb_store *s)
{
    long long id = 0;
    eb_error err = {0};
    eb_table t = {0};
    if (eb_store_latest_timeline(s, &id, &err) != EB_OK || id == 0 ||
        eb_store_timeline(s, id, &t, &err) != EB_OK) {
        report_missing(r, "fig4_memory_timeline", "Fig. 4: memory over a run",
                       "no stored timeline (run with --keep-timeline, or keep_timeline = on in a "
                       "plan)");
        return;
    }
    char title[200];
    snprintf(title, sizeof title, "Fig. 4: memory over a run (trial %lld)", id);
    chart c = {.id = "fig4_memory_timeline",
               .title = title,
               .ylabel = "MiB",
               .xlabel = "time since the run started [s]",
               .lines = true};
    /* Every memory series: the process, and a GPU's own memory (NVML, amdgpu,
     * DRM fdinfo) or the Jetson's unified memory, so that a GPU run shows which side holds
     * memory during load and which during inference. */
    size_t count[REPORT_MAX_SERIES] = {0}, seen[REPORT_MAX_SERIES] = {0};
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < t.nrow; i++) {
            const char *ch = t.cell[i * t.ncol + 2], *v = t.cell[i * t.ncol + 3];
            const char *name = memory_series_name(ch);
            if (!name || !v) continue;
            int k = chart_series(&c, name);
            if (k < 0) continue;
            if (pass == 0) {
                count[k]++;
                continue;
            }
            /* each series evenly thinned to its share of the chart */
            size_t step = count[k] * (size_t)c.n_series / 500 + 1;
            if (seen[k]++ % step != 0 || c.n >= 512) continue;
            double x = atof(t.cell[i * t.ncol + 1]), val[REPORT_MAX_SERIES];
            for (int q = 0; q < REPORT_MAX_SERIES; q++)
                val[q] = q == k ? atof(v) : NAN;
            chart_add(&c, "memory", x, val);
        }
    report_chart(r, &c,
                 "Resident memory of the benchmark process, and the GPU's memory where a GPU "
                 "sensor is found (NVML, the Jetson's NvMapMemUsed, amdgpu's VRAM and GTT, or "
                 "the process's own from its DRM fds' fdinfo), sampled by the sampler.",
                 "the stored timeline has no memory channel");
    chart_free(&c);
    eb_table_free(&t);
}
