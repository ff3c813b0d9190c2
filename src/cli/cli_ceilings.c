/* Finding the device's probed ceilings for a run. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_ceilings.h"
#include "edgebench/analyze.h"
#include "edgebench/probe.h"
#include "edgebench/util.h"

const char *cli_device_key(const eb_device_info *d)
{
    return d->hostname[0] ? d->hostname : d->cpu_model;
}

eb_status cli_ceilings_file(const char *path, eb_probe_point **out, size_t *n, eb_error *err)
{
    char *text = eb_read_file(path, err);
    if (!text) return err->status;
    cJSON *rec = cJSON_Parse(text);
    free(text);
    eb_status st = rec ? eb_probe_points_from_json(rec, out, n, err)
                       : eb_fail(err, EB_E_INVALID_ARG, "ceilings %s: not JSON", path);
    if (st != EB_OK && rec) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        st = eb_fail(err, st, "ceilings %s: %s", path, why);
    }
    cJSON_Delete(rec);
    return st;
}

eb_status cli_ceilings_store(eb_store *s, const eb_device_info *d, eb_probe_point **out, size_t *n,
                             eb_error *err)
{
    eb_table t;
    eb_results_filter f = {.device = cli_device_key(d)};
    eb_status st = eb_store_results(s, EB_VIEW_PROBES, &f, &t, err);
    if (st != EB_OK) return st;
    st = eb_probe_points_from_table(&t, cli_device_key(d), out, n, err);
    eb_table_free(&t);
    return st;
}
