/* Calibrations of the devices' own power sensors (calibrate.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/util.h"
#include "store_impl.h"

eb_status eb_store_put_calibration(eb_store *s, const eb_calibration *c, const char *rungs_json,
                                   eb_error *err)
{
    char g[32], o[32], r[32], r2[32], n[16];
    eb_format_double(g, sizeof g, c->gain);
    eb_format_double(o, sizeof o, c->offset_w);
    eb_format_double(r, sizeof r, c->residual_w);
    eb_format_double(r2, sizeof r2, c->r2);
    snprintf(n, sizeof n, "%d", c->n_points);
    const char *p[] = {c->device, c->created_at,
                       c->meter,  c->onboard,
                       g,         o,
                       r,         r2,
                       n,         rungs_json ? rungs_json : "[]"};
    static const unsigned char num[] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 0};
    return eb_sq_query(s,
                       "INSERT INTO calibrations (device, created_at, meter, onboard, gain, "
                       "offset_w, residual_w, r2, points, rungs_json) VALUES ($1, $2, $3, $4, $5, "
                       "$6, $7, $8, $9, $10)",
                       10, p, num, NULL, err);
}

eb_status eb_store_calibration_of(eb_store *s, const char *device, eb_calibration *out, bool *found,
                                  eb_error *err)
{
    *found = false;
    eb_table t;
    const char *p[] = {device};
    eb_status st = eb_sq_query(s,
                               "SELECT device, created_at, meter, onboard, gain, offset_w, "
                               "residual_w, r2, points FROM calibrations WHERE device = $1 "
                               "ORDER BY created_at DESC, id DESC LIMIT 1",
                               1, p, NULL, &t, err);
    if (st != EB_OK) return st;
    if (t.nrow == 1) {
        const char *const *c = (const char *const *)t.cell;
        memset(out, 0, sizeof *out);
        snprintf(out->device, sizeof out->device, "%s", c[0] ? c[0] : "");
        snprintf(out->created_at, sizeof out->created_at, "%s", c[1] ? c[1] : "");
        snprintf(out->meter, sizeof out->meter, "%s", c[2] ? c[2] : "");
        snprintf(out->onboard, sizeof out->onboard, "%s", c[3] ? c[3] : "");
        out->gain = c[4] ? strtod(c[4], NULL) : 1;
        out->offset_w = c[5] ? strtod(c[5], NULL) : 0;
        out->residual_w = c[6] ? strtod(c[6], NULL) : 0;
        out->r2 = c[7] ? strtod(c[7], NULL) : 0;
        out->n_points = c[8] ? atoi(c[8]) : 0;
        *found = true;
    }
    eb_table_free(&t);
    return EB_OK;
}

eb_status eb_store_calibrations(eb_store *s, eb_table *out, eb_error *err)
{
    return eb_sq_query(s,
                       "SELECT c.device, c.created_at, c.meter, c.onboard, c.gain, c.offset_w, "
                       "c.residual_w, c.r2, c.points FROM calibrations c WHERE c.id = (SELECT "
                       "max(x.id) FROM calibrations x WHERE x.device = c.device) ORDER BY c.device",
                       0, NULL, NULL, out, err);
}
