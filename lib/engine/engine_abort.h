/* llama.cpp's aborts turned into the failing engine call's error
 * (engine_abort.c explains how). */
#ifndef EB_ENGINE_ABORT_H
#define EB_ENGINE_ABORT_H

#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "edgebench/error.h"

/* The guarded call in progress, or NULL. */
extern sigjmp_buf *_Atomic eb_guard_jump;

/* ggml's abort callback and the SIGUSR2 handler; once, before any call. */
void eb_abort_guard_install(void);
/* Publishes jump as this thread's call in progress; false, with outer put
 * back, when the engine is already lost. */
bool eb_guard_enter(sigjmp_buf *jump, sigjmp_buf *outer);
/* The error of a call that the abort ended, or that came after it. */
eb_status eb_engine_lost_error(eb_error *err);
/* Models and contexts open (+1 each, -1 when freed): an abort on another
 * thread while one is open fails the next call instead of the process. */
void eb_engine_opened(int delta);

/* Runs call (a statement) guarded: st is EB_OK, or lost_error's status
 * when llama.cpp aborted inside it or had before. The jump point is
 * published before the lost flag is read, so an abort on another thread
 * either is seen by eb_guard_enter or interrupts the call. */
#define EB_GUARDED(st, err, call)                                                                  \
    do {                                                                                           \
        sigjmp_buf guard_jump_;                                                                    \
        sigjmp_buf *const guard_outer_ = atomic_load(&eb_guard_jump);                              \
        if (sigsetjmp(guard_jump_, 1)) {                                                           \
            atomic_store(&eb_guard_jump, guard_outer_);                                            \
            (st) = eb_engine_lost_error(err);                                                      \
        } else if (!eb_guard_enter(&guard_jump_, guard_outer_)) {                                  \
            (st) = eb_engine_lost_error(err);                                                      \
        } else {                                                                                   \
            call;                                                                                  \
            atomic_store(&eb_guard_jump, guard_outer_);                                            \
            (st) = EB_OK;                                                                          \
        }                                                                                          \
    } while (0)

#endif
