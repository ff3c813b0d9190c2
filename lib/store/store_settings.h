/* The stored settings in the store (store_settings.c): all made from the
 * parameter table's EB_PF_STORED rows. */
#ifndef EDGEBENCH_STORE_SETTINGS_H
#define EDGEBENCH_STORE_SETTINGS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "store_put_impl.h"

/* Where a query selects the stored settings' columns. */
#define EB_SETTINGS_MARK "{SETTINGS}"

/* The trials table's columns, read when the store opens (s->trial_columns). */
eb_status eb_store_read_trial_columns(eb_store *s, eb_error *err);
bool eb_store_has_trial_column(const eb_store *s, const char *column);
/* On a store at the latest schema: adds the column of a stored setting it
 * lacks and remakes the llama_bench view when the settings changed. */
eb_status eb_store_sync_settings(eb_store *s, eb_error *err);
/* sql with EB_SETTINGS_MARK replaced by the settings' columns it does not
 * select already (malloc'd; NULL: out of memory). */
char *eb_store_expand_settings(const eb_store *s, const char *sql);
/* A trial's stored settings as parameters from its config (by the rows'
 * record keys, or by their plan keys for a failed trial's plan), their
 * columns appended to columns (", a, b"). Returns how many. */
size_t eb_store_put_settings(const eb_store *s, params *p, const cJSON *cfg, bool by_plan_key,
                             char *columns, size_t cap, char *mask, size_t mask_cap);
/* llama-bench's settings of a row into cfg, in edgebench's terms. */
eb_status eb_store_lb_settings(cJSON *cfg, const cJSON *row, eb_error *err);

#endif
