/* libFuzzer: one line of a file given to `edgebench import`, as the
 * importer reads it: parsed, recognised (an edgebench record, a run's JSON,
 * a llama-bench row converted), and checked against the schema. */
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "store_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eb_error err = {0};
    cJSON *rec = eb_store_record_from_line((const char *)data, size, "fuzz:1", &err);
    if (rec) {
        /* what the store would be given must pass its own check again */
        if (eb_store_check_record(rec, &err) != EB_OK) __builtin_trap();
        cJSON_Delete(rec);
    }
    return 0;
}
