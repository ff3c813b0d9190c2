/* libFuzzer: request lines to a node's control port, as its poll loop hands
 * them to the handler, from two connections (the first byte picks which):
 * parsing, ownership of the trial, windows. The node's sensors are a
 * fixture tree; this process stands in for the rpc-server. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static eb_node_state st;
    static int ready;
    if (!ready) {
        st.cfg.root = FUZZ_FIXTURE_ROOT;
        st.cfg.interval_s = 0.01;
        st.server_pid = getpid();
        /* a secret, so that the hello path with and without it is fuzzed */
        if (data && size > 0 && (data[0] & 2)) snprintf(st.secret, sizeof st.secret, "fuzz-secret");
        eb_node_probe_energy(&st);
        ready = 1;
    }
    if (size == 0) return 0;
    unsigned who = 1 + (data[0] & 1);
    /* each line of the input is one request */
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        double wait = 0;
        bool authed = false, closing = false;
        char *reply = eb_node_handle(&st, who, &authed, &closing, p, len, &wait);
        if (!reply && !(wait > 0)) __builtin_trap(); /* every line has an answer or a due time */
        free(reply);
        p += len + 1;
    }
    return 0;
}
