/* perf_event counters read for real in a fresh process: software events
 * work on this kind of machine, hardware events report why they are absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgebench/counters.h"

static void test_counters_real_process(void **state)
{
    (void)state;
    eb_counters c;
    eb_counters_open(&c, "/");
    eb_counter_raw a, b;
    eb_counters_read(&c, &a);
    /* 16 MiB of fresh small pages touched one by one: 4096 minor faults.
     * (malloc could hand back memory already touched, or huge pages.) */
    size_t n = 16u << 20;
    char *mem = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(mem != MAP_FAILED);
    madvise(mem, n, MADV_NOHUGEPAGE);
    for (size_t i = 0; i < n; i += 4096)
        ((volatile char *)mem)[i] = (char)i;
    usleep(2000); /* at least one voluntary context switch */
    eb_counters_read(&c, &b);
    munmap(mem, n);
    eb_counter_values v;
    eb_counters_delta(&c, &a, &b, &v);
    for (int i = 0; i < EB_CTR_COUNT; i++)
        print_message("%-18s %-14s %.0f\n", eb_counter_name((eb_counter_id)i),
                      eb_counter_status_name(v.status[i]), v.value[i]);
    assert_true(v.status[EB_CTR_MINOR_FAULTS] == EB_CTR_OK ||
                v.status[EB_CTR_MINOR_FAULTS] == EB_CTR_RUSAGE);
    assert_true(v.value[EB_CTR_MINOR_FAULTS] >= 2000);
    assert_true(v.value[EB_CTR_CONTEXT_SWITCHES] >= 1);
    /* Hardware events: counted, or absent with a reason, never a silent zero. */
    eb_counter_status s = v.status[EB_CTR_CYCLES];
    if (s == EB_CTR_OK)
        assert_true(v.value[EB_CTR_CYCLES] > 0);
    else
        assert_true(s == EB_CTR_SCALED || s == EB_CTR_NOT_SUPPORTED || s == EB_CTR_NO_PERMISSION ||
                    s == EB_CTR_NOT_SCHEDULED);
    eb_counters_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_real_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
