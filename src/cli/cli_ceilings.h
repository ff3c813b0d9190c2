/* The device's probed ceilings as `run` and `sweep` find them: a probe
 * file given with --ceilings, else the newest probes in the store. */
#ifndef EDGEBENCH_CLI_CEILINGS_H
#define EDGEBENCH_CLI_CEILINGS_H

#include <stddef.h>

#include "edgebench/roofline.h"
#include "edgebench/store.h"
#include "edgebench/sysinfo.h"

/* How the store names a device: its hostname, else its CPU model. */
const char *cli_device_key(const eb_device_info *d);

/* Points of a probe record file (device probe --format json). */
eb_status cli_ceilings_file(const char *path, eb_probe_point **out, size_t *n, eb_error *err);

/* This device's points in an open store, newest probe first. */
eb_status cli_ceilings_store(eb_store *s, const eb_device_info *d, eb_probe_point **out, size_t *n,
                             eb_error *err);

#endif
