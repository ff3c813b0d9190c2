/* A fleet: one plan, many devices, one PostgreSQL store (lib/store/store_fleet.c).
 * Devices pull their trials; the server holds every state. */
#ifndef EDGEBENCH_FLEET_H
#define EDGEBENCH_FLEET_H

#include <stdbool.h>
#include "edgebench/plan.h"
#include "edgebench/store.h"
#include "edgebench/sweep.h"

struct cJSON;

/* A claimed trial: what to run, and the lease that makes it ours. */
typedef struct eb_fleet_item {
    long long id, plan_id;
    int idx, attempts, retry_limit;
    char token[33]; /* the lease: only its holder completes the trial */
    char trial_key[32], section[128], plan_name[256];
    struct cJSON *config; /* the trial's plan values (owned; cJSON_Delete) */
} eb_fleet_item;

/* Opens a PostgreSQL store and makes the fleet's tables when missing;
 * another kind of store is refused. */
eb_status eb_fleet_open(const char *spec, eb_store **out, eb_error *err);
/* Queues a plan: split, each trial once on any matching device; else every
 * matching device runs every trial. */
eb_status eb_fleet_submit(eb_store *s, const eb_plan *plan, const char *name, bool split,
                          const char *selector, int retry_limit, long long *plan_id, eb_error *err);
/* A device by name, with its facts (JSON of the device record) and tags. */
eb_status eb_fleet_register(eb_store *s, const char *name, const char *facts_json, const char *tags,
                            long long *device_id, eb_error *err);
/* Selectors: comma-separated key=value terms, all of which must match:
 * board, cpu, gpu (substring, any case), hostname, arch (exact), tag (one
 * of the device's), ram_gib (=N or >=N). */
bool eb_fleet_selector_valid(const char *selector, char *why, size_t cap);
bool eb_fleet_selector_matches(const char *selector, const struct cJSON *facts, const char *tags);
/* The next trial for this device (item->id 0: none now; pending: trials
 * leased by others, or queued, are still to finish). */
eb_status eb_fleet_claim(eb_store *s, long long device_id, const struct cJSON *facts,
                         const char *tags, int lease_s, eb_fleet_item *item, bool *pending,
                         eb_error *err);
/* Extends the lease; held false when it is no longer ours. */
eb_status eb_fleet_heartbeat(eb_store *s, const eb_fleet_item *item, int lease_s, bool *held,
                             eb_error *err);
/* Stores the record and closes the claim in one transaction, when the lease
 * is still ours (accepted); a failure with retries left goes back to the
 * queue unstored. */
eb_status eb_fleet_complete(eb_store *s, const eb_fleet_item *item, const struct cJSON *record,
                            bool ok, const char *reason, bool *accepted, eb_error *err);
eb_status eb_fleet_cancel(eb_store *s, const char *plan, long long *n_items, eb_error *err);
/* Devices (last seen, running, done) and plans (queue, done, failed, ETA). */
eb_status eb_fleet_status(eb_store *s, eb_table *devices, eb_table *plans, eb_error *err);

#endif
