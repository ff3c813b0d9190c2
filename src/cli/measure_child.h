/* One process model for measuring: the engine runs in a child process, so
 * that a crash, a ggml abort, an out-of-memory kill or any signal is a
 * failed result, not the end of edgebench. Two shapes share one
 * classification of how a child ended:
 * - measure_in_child: a function runs in a forked child that streams each
 *   repetition to the parent as it completes (run);
 * - child_spawn_wait: this program started again with arguments (sweep
 *   trials, model fit's probes), stderr to a file. */
#ifndef EB_MEASURE_CHILD_H
#define EB_MEASURE_CHILD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "edgebench/bench.h"

struct cJSON;

/* How a child ended. */
typedef struct child_end {
    bool started;
    int status; /* from waitpid */
    bool timed_out;
    bool oom;         /* the kernel's OOM killer acted while it ran */
    bool interrupted; /* we passed on SIGINT/SIGTERM */
    double seconds;
    char start_error[160];
} child_end;

bool child_end_failed(const child_end *e);

/* Why it failed, a user can act on: the signal by name, the phase it died
 * in (NULL: unknown), the likely cause and the fix, and the last message
 * of its log (its own error line where it wrote one). memory_limit_mib:
 * the address-space limit it ran under (0: none). */
void child_end_reason(const child_end *e, const char *log, const char *phase, int memory_limit_mib,
                      char *out, size_t cap);

/* Starts argv (argv[0] this program) with stdout to /dev/null and stderr to
 * err_path, waits, kills it after timeout_s (<= 0: never) and passes on a
 * stop (*stop set by a signal handler) as SIGTERM. before_exec, when given,
 * runs in the child first; false ends the child with exit 126. */
void child_spawn_wait(const char *const *argv, const char *err_path, double timeout_s,
                      const volatile sig_atomic_t *stop, bool (*before_exec)(void *), void *user,
                      child_end *out);

/* ---- a measuring child that streams ---- */

/* What the parent saw of the configuration in progress when the child
 * ended: its head and repetitions (NULL: none streamed), the span it was
 * in, and the tail of its stderr (which the parent also passes through). */
typedef struct measure_outcome {
    child_end end;
    int exit_code; /* the child's, when it exited */
    struct cJSON *head, *reps;
    int reps_planned;
    char phase[32];
    int phase_rep; /* 1-based */
    char log_tail[4096];
} measure_outcome;

/* Runs fn(arg) in a child; returns when it ended. The caller frees out's
 * head and reps (measure_outcome_free). */
void measure_in_child(int (*fn)(void *), void *arg, measure_outcome *out);
void measure_outcome_free(measure_outcome *out);

/* In the child: what it streams (no-ops in a process that is not one).
 * measure_stream_rep is an eb_run_config on_rep; measure_stream_phase is
 * called from on_phase; measure_stream_end marks the configuration in
 * progress as written out. */
void measure_stream_phase(const char *phase, int rep);
void measure_stream_rep(void *user, const eb_run_result *res, int index);
void measure_stream_end(void);

#endif
