/* The memory probe's read loop, alone in its file so that it is built
 * optimised and without sanitizer checks in every build (CMakeLists.txt):
 * it must time the machine's memory, not a Debug or ASan build's
 * per-load bookkeeping, which made it CPU-bound and unrepeatable. */
#include "probe_read.h"

/* Eight independent sums, so the loads are not serialised on one add. */
uint64_t eb_probe_read_words(const uint64_t *p, size_t n)
{
    uint64_t s[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            s[j] += p[i + (size_t)j];
    for (; i < n; i++)
        s[0] += p[i];
    return s[0] ^ s[1] ^ s[2] ^ s[3] ^ s[4] ^ s[5] ^ s[6] ^ s[7];
}
