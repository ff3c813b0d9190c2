/* The results store as `run` and `sweep` use it. */
#ifndef EDGEBENCH_CLI_STORE_H
#define EDGEBENCH_CLI_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "edgebench/store.h"

struct cJSON;

typedef struct cli_store {
    const char *spec;     /* the store; never printed (may hold a password) */
    const char *fallback; /* JSON lines file when the store fails; NULL: none */
    const char *cmd;      /* "run", "sweep": names messages */
    eb_store *store;      /* open while it works */
    bool verbose;         /* say where each record went */
    const char *what;     /* what a record is called: "trial" (default), "probe" */
    size_t n_stored, n_fallback;
    double store_s; /* wall time spent opening the store and writing the stored records */
} cli_store;

typedef enum cli_stored { CLI_STORED, CLI_FALLBACK, CLI_LOST } cli_stored;

void cli_store_begin(cli_store *cs, const char *spec, const char *fallback, const char *cmd);
/* Stores a record (adding the model's SHA-256); when the store fails, says
 * why and appends the record to the fallback file. */
cli_stored cli_store_put(cli_store *cs, struct cJSON *rec, bool quiet);
void cli_store_end(cli_store *cs);
/* A reader's store that holds nothing yet: says so ("no trials yet: run
 * `edgebench run`") and returns true. */
bool cli_store_says_empty(const char *cmd, eb_store *s);
/* A run's result (its JSON, taken) as a trial record: the options given
 * are the trial's plan keys; failure: why it failed, NULL when it did not. */
struct eb_run_options;
cli_stored cli_store_run_record(const struct eb_run_options *o, struct cJSON *result,
                                const char *failure, bool quiet);

#endif
