/* libFuzzer: a sweep plan file (inih's reader and the plan's keys, lists,
 * ranges and products), loaded and expanded as `edgebench sweep` does. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "edgebench/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("plan.ini", 0);
        if (fd < 0) return 0;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) return 0;
    eb_plan p;
    eb_error err = {0};
    if (eb_plan_load(path, &p, &err) == EB_OK) eb_plan_expand(&p, &err);
    eb_plan_free(&p);
    return 0;
}
