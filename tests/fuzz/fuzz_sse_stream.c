/* libFuzzer: what an OpenAI-compatible server streams back (run --engine
 * server): server-sent events split anywhere, each event's JSON, its
 * tokens, usage and timings. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    /* the first byte says how the network split the rest */
    size_t chunk = (size_t)data[0] % 17 + 1;
    eb_request_result r;
    memset(&r, 0, sizeof r);
    r.usage_prompt = r.usage_completion = r.server_prompt_n = r.server_gen_n = -1;
    serve_parse_stream((const char *)data + 1, size - 1, chunk, &r);
    if (r.status >= EB_REQ_STATUS_COUNT || r.n_tokens < 0) abort();
    if (r.status == EB_REQ_OK && r.n_tokens == 0) abort(); /* ok means a token came */
    for (int i = 1; i < r.n_tokens; i++)
        if (r.arrivals[i] < r.arrivals[i - 1]) abort(); /* arrivals in order */
    if (isfinite(r.gen_tps) && !(r.gen_tps > 0)) abort();
    if (memchr(r.error, '\0', sizeof r.error) == NULL) abort();
    free(r.arrivals);
    return 0;
}
