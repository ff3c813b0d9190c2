/* What a running `edgebench run` is doing, in a small file of the cache
 * directory that `edgebench monitor` reads: the newest run's model, phase,
 * repetition and last t/s. */
#ifndef EDGEBENCH_RUN_STATUS_H
#define EDGEBENCH_RUN_STATUS_H

#include <stdbool.h>

typedef struct run_status {
    long pid;
    char model[256];
    char phase[32];              /* load, prefill, generation, done, ended */
    int rep, total;              /* repetition (1-based) of total, warm-ups included */
    int warmup;                  /* warm-ups among them */
    double gen_tps, prefill_tps; /* the last finished repetition's; NaN: none yet */
    double started, updated;     /* CLOCK_REALTIME */
} run_status;

/* Writes it (a whole new file renamed over the old: never half read). */
void run_status_write(const run_status *s);
/* The newest; false when none was written. */
bool run_status_read(run_status *out);
/* Is its process still running? */
bool run_status_alive(const run_status *s);

#endif
