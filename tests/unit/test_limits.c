/* The memory cage of `model fit` on fixture trees: a cgroup v2 and a v1
 * hierarchy (plain directories standing in for cgroupfs), the limit written
 * where each kernel reads it, the child's pid into cgroup.procs, OOM kills
 * counted from the cgroup's own file; no cgroup: the reason said. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgebench/limits.h"
#include "edgebench/util.h"

static void put(const char *root, const char *rel, const char *text)
{
    char path[1024], dir[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + strlen(root) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(dir, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void slurp(const char *path, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
}

static void test_cgroup_v2(void **state)
{
    (void)state;
    char root[] = "/tmp/eb-cage-v2-XXXXXX", path[2048], text[256];
    assert_non_null(mkdtemp(root));
    put(root, "proc/self/cgroup", "0::/user.slice/session-1.scope\n");
    put(root, "sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n");
    put(root, "sys/fs/cgroup/user.slice/session-1.scope/cgroup.procs", "1\n");
    eb_mem_cage c;
    eb_error err = {0};
    assert_int_equal(eb_mem_cage_make(root, 300, &c, &err), EB_OK);
    assert_int_equal(c.kind, EB_CAGE_CGROUP_V2);
    assert_non_null(strstr(c.dir, "/sys/fs/cgroup/user.slice/session-1.scope/edgebench-fit-"));
    snprintf(path, sizeof path, "%s/memory.max", c.dir);
    slurp(path, text, sizeof text);
    assert_string_equal(text, "314572800");
    snprintf(path, sizeof path, "%s/memory.swap.max", c.dir);
    slurp(path, text, sizeof text);
    assert_string_equal(text, "0");
    assert_true(eb_mem_cage_enter(&c));
    snprintf(path, sizeof path, "%s/cgroup.procs", c.dir);
    slurp(path, text, sizeof text);
    assert_int_equal(atol(text), (long)getpid());
    snprintf(path, sizeof path, "%s/memory.events", c.dir);
    FILE *f = fopen(path, "w");
    fputs("low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\n", f);
    fclose(f);
    assert_int_equal(eb_mem_cage_oom_kills(&c), 2);
    char d[700];
    assert_non_null(strstr(eb_mem_cage_describe(&c, d, sizeof d), "memory.max 300 MiB"));
}

static void test_cgroup_v1(void **state)
{
    (void)state;
    char root[] = "/tmp/eb-cage-v1-XXXXXX", path[2048], text[256];
    assert_non_null(mkdtemp(root));
    put(root, "proc/self/cgroup", "5:devices:/\n4:memory:/runner/job\n0::/\n");
    put(root, "sys/fs/cgroup/memory/runner/job/cgroup.procs", "1\n");
    eb_mem_cage c;
    eb_error err = {0};
    assert_int_equal(eb_mem_cage_make(root, 64, &c, &err), EB_OK);
    assert_int_equal(c.kind, EB_CAGE_CGROUP_V1);
    assert_non_null(strstr(c.dir, "/sys/fs/cgroup/memory/runner/job/edgebench-fit-"));
    snprintf(path, sizeof path, "%s/memory.limit_in_bytes", c.dir);
    slurp(path, text, sizeof text);
    assert_string_equal(text, "67108864");
    snprintf(path, sizeof path, "%s/memory.oom_control", c.dir);
    FILE *f = fopen(path, "w");
    fputs("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n", f);
    fclose(f);
    assert_int_equal(eb_mem_cage_oom_kills(&c), 1);
}

static void test_no_cgroup(void **state)
{
    (void)state;
    char root[] = "/tmp/eb-cage-none-XXXXXX";
    assert_non_null(mkdtemp(root));
    put(root, "proc/self/cgroup", "0::/\n");
    eb_mem_cage c;
    eb_error err = {0};
    assert_int_equal(eb_mem_cage_make(root, 200, &c, &err), EB_OK);
    assert_int_equal(c.kind, EB_CAGE_NONE);
    assert_non_null(strstr(c.why, "no cgroup memory controller"));
    char d[700];
    assert_non_null(strstr(eb_mem_cage_describe(&c, d, sizeof d), "address-space limit 200 MiB"));
    assert_true(eb_mem_cage_enter(&c)); /* nothing to enter */
    assert_int_equal(eb_mem_cage_oom_kills(&c), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cgroup_v2),
        cmocka_unit_test(test_cgroup_v1),
        cmocka_unit_test(test_no_cgroup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
