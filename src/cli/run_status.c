/* The live run status file (see run_status.h). */
#include "run_status.h"

#include <cjson/cJSON.h>

#include "edgebench/output.h"
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgebench/util.h"

static bool status_path(char *out, size_t cap)
{
    char dir[1024];
    if (eb_cache_dir(dir, sizeof dir, NULL) != EB_OK) return false;
    snprintf(out, cap, "%s/run-status.json", dir);
    return true;
}

void run_status_write(const run_status *s)
{
    char path[1100], tmp[1200];
    if (!status_path(path, sizeof path)) return;
    snprintf(tmp, sizeof tmp, "%s.%ld", path, s->pid);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "pid", (double)s->pid);
    cJSON_AddStringToObject(o, "model", s->model);
    cJSON_AddStringToObject(o, "phase", s->phase);
    cJSON_AddNumberToObject(o, "rep", s->rep);
    cJSON_AddNumberToObject(o, "total", s->total);
    cJSON_AddNumberToObject(o, "warmup", s->warmup);
    eb_json_number(o, "gen_tps", s->gen_tps);
    eb_json_number(o, "prefill_tps", s->prefill_tps);
    cJSON_AddNumberToObject(o, "started", s->started);
    cJSON_AddNumberToObject(o, "updated", s->updated);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    FILE *f = text ? fopen(tmp, "w") : NULL;
    if (f) {
        bool ok = fputs(text, f) >= 0;
        ok = fclose(f) == 0 && ok;
        if (!ok || rename(tmp, path) != 0) unlink(tmp);
    }
    free(text);
}

bool run_status_read(run_status *out)
{
    char path[1100];
    memset(out, 0, sizeof *out);
    out->gen_tps = out->prefill_tps = NAN;
    if (!status_path(path, sizeof path)) return false;
    char *text = eb_read_file(path, NULL);
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!o) return false;
    const cJSON *v;
#define NUM(k)                                                                                     \
    ((v = cJSON_GetObjectItemCaseSensitive(o, k)) && cJSON_IsNumber(v) ? v->valuedouble : NAN)
    out->pid = (long)NUM("pid");
    const char *model = cJSON_GetStringValue(cJSON_GetObjectItem(o, "model"));
    const char *phase = cJSON_GetStringValue(cJSON_GetObjectItem(o, "phase"));
    snprintf(out->model, sizeof out->model, "%s", model ? model : "");
    snprintf(out->phase, sizeof out->phase, "%s", phase ? phase : "");
    out->rep = (int)NUM("rep");
    out->total = (int)NUM("total");
    out->warmup = (int)NUM("warmup");
    out->gen_tps = NUM("gen_tps");
    out->prefill_tps = NUM("prefill_tps");
    out->started = NUM("started");
    out->updated = NUM("updated");
#undef NUM
    cJSON_Delete(o);
    return out->pid > 0;
}

bool run_status_alive(const run_status *s)
{
    if (s->pid <= 0 || !strcmp(s->phase, "ended")) return false;
    return kill((pid_t)s->pid, 0) == 0 || errno == EPERM;
}
