/* ggml aborts the process when an RPC node stops answering (its client has
 * no error path) or on an internal error. While an engine call is in
 * progress (EB_GUARDED) the abort becomes that call's error instead, so
 * the repetitions already measured are written and stored:
 * - on the calling thread, the abort callback jumps back to the call;
 * - on another thread (this llama.cpp's RPC client talks to the nodes from
 *   its own dispatcher thread), that thread is parked for good, since
 *   returning from the callback aborts, and the calling thread, waiting on
 *   it, is sent SIGUSR2, whose handler jumps back to the call.
 * After that llama.cpp is never called again by this process: its state is
 * unknown, and what it holds is left until the process ends. An abort on
 * another thread between calls, while a model or context is open, parks
 * that thread the same way and fails the next call. Otherwise (no engine
 * object open, or the calling thread outside a call) the abort goes ahead,
 * after one line a sweep keeps as the reason. */
#define _GNU_SOURCE
#include "engine_abort.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "edgebench/util.h"
#include "ggml.h"

sigjmp_buf *_Atomic eb_guard_jump;
static pthread_t guard_thread; /* the guarded call's thread, set before eb_guard_jump */
static atomic_int engine_lost;
static atomic_int engine_open;
static atomic_flag abort_taken = ATOMIC_FLAG_INIT;
static char abort_text[512]; /* written before engine_lost is set */

static void guard_kick(int sig)
{
    (void)sig;
    sigjmp_buf *j = atomic_load(&eb_guard_jump);
    if (j && atomic_load(&engine_lost) && pthread_equal(pthread_self(), guard_thread))
        siglongjmp(*j, 1);
}

static void abort_cb(const char *msg)
{
    if (atomic_flag_test_and_set(&abort_taken)) {
        /* a second abort while the first is being turned into an error */
        for (;;)
            pause();
    }
    /* "/path/ggml-rpc.cpp:566: Remote RPC server crashed ...": the text */
    const char *src = strstr(msg, ".cpp:");
    const char *text = src ? strstr(src + 5, ": ") : NULL;
    if (text) msg = text + 2;
    snprintf(abort_text, sizeof abort_text, "llama.cpp aborted: %.*s%s", (int)strcspn(msg, "\n"),
             msg, strstr(msg, "RPC") ? " (an RPC node stopped answering or was unreachable)" : "");
    sigjmp_buf *j = atomic_load(&eb_guard_jump);
    bool on_caller = pthread_equal(pthread_self(), guard_thread);
    if (j && on_caller) {
        atomic_store(&engine_lost, 1);
        siglongjmp(*j, 1);
    }
    if (on_caller || (!j && atomic_load(&engine_open) == 0)) {
        fprintf(stderr, "edgebench: %s\n", abort_text);
        return;
    }
    atomic_store(&engine_lost, 1);
    /* Kick the calling thread until it has left the guarded call; a call
     * started later sees engine_lost first. */
    for (;;) {
        if (atomic_load(&eb_guard_jump)) pthread_kill(guard_thread, SIGUSR2);
        nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
    }
}

void eb_abort_guard_install(void)
{
    ggml_set_abort_callback(abort_cb);
    struct sigaction sa = {.sa_handler = guard_kick, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);
}

bool eb_guard_enter(sigjmp_buf *jump, sigjmp_buf *outer)
{
    guard_thread = pthread_self();
    atomic_store(&eb_guard_jump, jump);
    if (!atomic_load(&engine_lost)) return true;
    atomic_store(&eb_guard_jump, outer);
    return false;
}

eb_status eb_engine_lost_error(eb_error *err)
{
    return eb_fail(err, strstr(abort_text, "RPC") ? EB_E_NETWORK : EB_E_ENGINE,
                   "%s; the engine was not used again", abort_text);
}

void eb_engine_opened(int delta)
{
    atomic_fetch_add(&engine_open, delta);
}
