/* libFuzzer: what a power meter on the network answers (--meter shelly:,
 * tasmota:, an http URL): the reply's JSON, its power field and the digits
 * its resolution is read from. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/sensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* as the reader holds it: the bytes, then a NUL */
    char *reply = malloc(size + 1);
    if (!reply) return 0;
    memcpy(reply, data, size);
    reply[size] = '\0';
    double watts, step;
    char why[128];
    if (eb_meter_parse_reply(reply, size, &watts, &step, why, sizeof why) &&
        (!(watts >= 0) || !(step >= 0) || step > 1))
        abort(); /* a reading is a finite power >= 0, a step at most 1 W */
    free(reply);
    return 0;
}
