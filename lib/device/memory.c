#include "edgebench/memory.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgebench/util.h"

static uint64_t kb_field(const char *text, const char *key)
{
    char v[64];
    if (!eb_text_field(text, key, ":", v, sizeof v)) return 0;
    return strtoull(v, NULL, 10);
}

eb_status eb_proc_mem_read(const char *root, eb_proc_mem *out, eb_error *err)
{
    char path[1024], buf[8192];
    eb_path_join(path, sizeof path, root, "/proc/self/status");
    memset(out, 0, sizeof *out);
    eb_status st = eb_read_text(path, buf, sizeof buf, err);
    if (st != EB_OK) return st;
    out->rss_kb = kb_field(buf, "VmRSS");
    out->hwm_kb = kb_field(buf, "VmHWM");
    out->rss_anon_kb = kb_field(buf, "RssAnon");
    out->rss_file_kb = kb_field(buf, "RssFile");
    out->swap_kb = kb_field(buf, "VmSwap");
    if (out->rss_kb == 0 && out->hwm_kb == 0)
        return eb_fail(err, EB_E_NOT_AVAILABLE, "%s: no VmRSS/VmHWM lines", path);
    return EB_OK;
}

bool eb_proc_mem_reset_peak(const char *root)
{
    char path[1024];
    eb_path_join(path, sizeof path, root, "/proc/self/clear_refs");
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = write(fd, "5", 1) == 1;
    close(fd);
    return ok;
}

eb_status eb_pss_read(const char *root, eb_pss *out, eb_error *err)
{
    char path[1024], buf[4096];
    eb_path_join(path, sizeof path, root, "/proc/self/smaps_rollup");
    memset(out, 0, sizeof *out);
    eb_status st = eb_read_text(path, buf, sizeof buf, err);
    if (st != EB_OK) return st;
    char v[64];
    if (!eb_text_field(buf, "Pss:", " \t", v, sizeof v))
        return eb_fail(err, EB_E_NOT_AVAILABLE, "%s: no Pss line", path);
    out->pss_kb = strtoull(v, NULL, 10);
    out->pss_anon_kb = kb_field(buf, "Pss_Anon");
    out->pss_file_kb = kb_field(buf, "Pss_File");
    return EB_OK;
}

eb_status eb_meminfo_full(const char *root, eb_meminfo *out, eb_error *err)
{
    char path[1024], buf[8192];
    eb_path_join(path, sizeof path, root, "/proc/meminfo");
    memset(out, 0, sizeof *out);
    eb_status st = eb_read_text(path, buf, sizeof buf, err);
    if (st != EB_OK) return st;
    out->total_kb = kb_field(buf, "MemTotal");
    out->available_kb = kb_field(buf, "MemAvailable");
    out->swap_total_kb = kb_field(buf, "SwapTotal");
    out->swap_free_kb = kb_field(buf, "SwapFree");
    char v[64];
    out->has_nvmap = eb_text_field(buf, "NvMapMemUsed", ":", v, sizeof v);
    if (out->has_nvmap) out->nvmap_kb = strtoull(v, NULL, 10);
    if (out->total_kb == 0) return eb_fail(err, EB_E_NOT_AVAILABLE, "%s: no MemTotal line", path);
    return EB_OK;
}

eb_status eb_meminfo_read(const char *root, uint64_t *total_kb, uint64_t *available_kb,
                          eb_error *err)
{
    eb_meminfo mi;
    eb_status st = eb_meminfo_full(root, &mi, err);
    *total_kb = mi.total_kb;
    *available_kb = mi.available_kb;
    return st;
}
