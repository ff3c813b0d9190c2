/* ggml aborts the process on a failed internal check, and when an RPC node
 * stops answering (its client has no error path). edgebench measures in a
 * child process (src/cli/measure_child.c): the abort ends that child, and
 * its parent keeps the repetitions finished before and stores the run as
 * failed. So nothing here jumps out of llama.cpp's frames (that skipped
 * their destructors and left their mutexes locked); the hook only says,
 * in one line the parent takes as the last message, why. */
#include "engine_abort.h"

#include <stdio.h>
#include <string.h>

#include "ggml.h"

static void abort_cb(const char *msg)
{
    /* "/path/ggml-rpc.cpp:566: Remote RPC ..." or "/path/ggml.c:1644:
     * GGML_ASSERT(...) failed": the text after the source line */
    const char *src = strstr(msg, ".cpp:");
    if (!src) src = strstr(msg, ".c:");
    const char *text = src ? strstr(src + 3, ": ") : NULL;
    if (text) msg = text + 2;
    fprintf(stderr, "edgebench engine: llama.cpp aborted: %.*s%s\n", (int)strcspn(msg, "\n"), msg,
            strstr(msg, "RPC") ? " (an RPC node stopped answering or was unreachable)" : "");
    fflush(stderr);
}

void eb_abort_hook_install(void)
{
    ggml_set_abort_callback(abort_cb);
}
