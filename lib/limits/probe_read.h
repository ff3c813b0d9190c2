/* The memory probe's read loop (probe_read.c). */
#ifndef EB_PROBE_READ_H
#define EB_PROBE_READ_H

#include <stddef.h>
#include <stdint.h>

/* Reads n words once; the result only keeps the loads from being dropped. */
uint64_t eb_probe_read_words(const uint64_t *p, size_t n);

#endif
