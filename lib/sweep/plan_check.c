/* A plan checked against the device before anything runs: files exist,
 * presets are known, governors and power modes are offered. Errors name
 * the plan's file:line and key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "edgebench/engine.h"
#include "edgebench/knobs.h"
#include "edgebench/plan.h"
#include "edgebench/synth.h"
#include "edgebench/util.h"

static eb_status check_value(const char *where, int line, const eb_param *o, const char *v,
                             const char *root, eb_error *err)
{
    char offered[512];
    if (o->type == EB_PT_PATH && access(v, R_OK) != 0)
        return eb_fail(err, EB_E_IO, "%s:%d: %s=%s: %s", where, line, o->key, v, strerror(errno));
    if (strcmp(o->key, "preset") == 0 && !eb_preset_find(v))
        return eb_fail(err, EB_E_INVALID_ARG,
                       "%s:%d: preset=%s is not a preset (see 'edgebench model list')", where, line,
                       v);
    if (strcmp(o->key, "quant") == 0) {
        const char *const *t = eb_engine_default()->quant_types();
        while (*t && strcasecmp(*t, v) != 0)
            t++;
        if (!*t)
            return eb_fail(err, EB_E_INVALID_ARG,
                           "%s:%d: quant=%s is not a type llama.cpp quantizes to (see 'edgebench "
                           "model quantize --help')",
                           where, line, v);
    }
    if (strcmp(o->key, "governor") == 0 && !eb_governor_offered(root, v, offered, sizeof offered))
        return eb_fail(err, EB_E_INVALID_ARG, "%s:%d: governor=%s is not offered here (%s)", where,
                       line, v, offered[0] ? offered : "no cpufreq policies");
    if (strcmp(o->key, "power_mode") == 0 && eb_nvpmodel_id(root, v) < 0)
        return eb_fail(err, EB_E_INVALID_ARG,
                       "%s:%d: power_mode=%s is not a mode in /etc/nvpmodel.conf (not a Jetson?)",
                       where, line, v);
    char prog[1024];
    if (strcmp(o->key, "jetson_clocks") == 0 &&
        !eb_find_program("jetson_clocks", prog, sizeof prog) && !getenv("EDGEBENCH_JETSON_CLOCKS"))
        return eb_fail(err, EB_E_INVALID_ARG,
                       "%s:%d: jetson_clocks is set but there is no jetson_clocks program", where,
                       line);
    return EB_OK;
}

eb_status eb_plan_check_device(const eb_plan *p, const char *root, eb_error *err)
{
    const char *where = p->path[0] ? p->path : "command line";
    for (int s = -1; s < p->n_sections; s++) {
        const eb_plan_section *sec = s < 0 ? &p->global : &p->sections[s];
        for (size_t k = 0; k < eb_param_count; k++) {
            if (!sec->value[k]) continue;
            char *items[EB_PLAN_MAX_VALUES];
            int n = eb_plan_split(&eb_params[k], sec->value[k], items, EB_PLAN_MAX_VALUES, err);
            if (n < 0) return EB_E_INVALID_ARG;
            eb_status st = EB_OK;
            for (int i = 0; i < n; i++) {
                if (st == EB_OK)
                    st = check_value(where, sec->value_line[k], &eb_params[k], items[i], root, err);
                free(items[i]);
            }
            if (st != EB_OK) return st;
        }
    }
    /* Every trial needs a model, and settings that go together. */
    for (size_t i = 0; i < p->n_trials; i++) {
        const eb_trial *t = &p->trials[i];
        if (!eb_trial_get(t, "model") && !eb_trial_get(t, "preset"))
            return eb_fail(err, EB_E_INVALID_ARG, "%s: [%s] has neither model nor preset", where,
                           t->section);
        eb_error e2 = {0};
        if (eb_settings_check(eb_trial_value(t, "type_v"), eb_trial_value(t, "flash_attn"),
                              atoi(eb_trial_value(t, "n_depth")),
                              eb_trial_get(t, "n_prompt") ? atoi(eb_trial_get(t, "n_prompt")) : 0,
                              atoi(eb_trial_value(t, "n_gen")), atoi(eb_trial_value(t, "ctx")),
                              atoi(eb_trial_value(t, "n_parallel")), &e2) != EB_OK)
            return eb_fail(err, e2.status, "%s: [%s] trial %zu: %s", where, t->section, i + 1,
                           e2.msg);
    }
    return EB_OK;
}
