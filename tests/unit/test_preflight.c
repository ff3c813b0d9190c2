/* The engine build's CPU features against fixture CPUs: a Sapphire Rapids
 * VM (AMX), a Zen 4 desktop (AVX-512, no AMX, no AVX-VNNI), a Raspberry
 * Pi 5 (Cortex-A76: dotprod, no i8mm) and a Jetson Orin Nano (A78AE). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "edgebench/preflight.h"

/* What the self-test of a native build on the Sapphire Rapids VM wrote,
 * and of the same build with AMX turned off. */
#define SPR_NATIVE                                                                                 \
    "sse3,ssse3,avx,avx_vnni,avx2,bmi2,f16c,fma,avx512,avx512_vbmi,avx512_vnni,avx512_bf16,"       \
    "amx_int8"
#define SPR_NO_AMX                                                                                 \
    "sse3,ssse3,avx,avx_vnni,avx2,bmi2,f16c,fma,avx512,avx512_vbmi,avx512_vnni,avx512_bf16"
#define ZEN4_NATIVE "sse3,ssse3,avx,avx2,bmi2,f16c,fma,avx512,avx512_vbmi,avx512_vnni,avx512_bf16"
#define A76 "neon,arm_fma,fp16_va,dotprod"
#define A76_I8MM "neon,arm_fma,fp16_va,dotprod,matmul_int8"

static const eb_cpu_grant spr_granted = {.has_xcr0 = true, .xcr0 = 0x602e7, .amx_permitted = 1};

static eb_status check(const char *features, const char *fixture, const eb_cpu_grant *g,
                       eb_error *err)
{
    memset(err, 0, sizeof *err);
    return eb_cpu_preflight(features, fixture, g, err);
}

static void spr_runs_its_own_builds(void **state)
{
    (void)state;
    eb_error err;
    assert_int_equal(check(SPR_NATIVE, FIXTURES "/cpus/spr-vm", &spr_granted, &err), EB_OK);
    assert_int_equal(check(SPR_NO_AMX, FIXTURES "/cpus/spr-vm", &spr_granted, &err), EB_OK);
}

static void spr_kernel_refusing_amx(void **state)
{
    (void)state;
    eb_error err;
    eb_cpu_grant g = spr_granted;
    g.amx_permitted = 0;
    strcpy(g.amx_why, "arch_prctl(ARCH_REQ_XCOMP_PERM): Invalid argument");
    assert_int_equal(check(SPR_NATIVE, FIXTURES "/cpus/spr-vm", &g, &err), EB_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "uses amx_int8"));
    assert_non_null(strstr(err.msg, "does not grant AMX tile data"));
    assert_non_null(strstr(err.msg, "EDGEBENCH_CPU_OFF=amx"));
    /* the build without AMX does not need the grant */
    assert_int_equal(check(SPR_NO_AMX, FIXTURES "/cpus/spr-vm", &g, &err), EB_OK);
}

static void state_not_enabled_by_the_os(void **state)
{
    (void)state;
    eb_error err;
    eb_cpu_grant g = {.has_xcr0 = true, .xcr0 = 0x7, .amx_permitted = -1}; /* no AVX-512 state */
    assert_int_equal(check(SPR_NO_AMX, FIXTURES "/cpus/spr-vm", &g, &err), EB_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "uses avx512"));
    assert_non_null(strstr(err.msg, "XCR0 0x7 lacks 0xe0"));
}

static void spr_build_taken_to_zen4(void **state)
{
    (void)state;
    eb_error err;
    assert_int_equal(check(SPR_NATIVE, FIXTURES "/cpus/zen4", NULL, &err), EB_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "uses avx_vnni"));
    assert_non_null(strstr(err.msg, "no 'avx_vnni' in /proc/cpuinfo"));
    assert_non_null(strstr(err.msg, "rebuild it on this machine"));
    assert_int_equal(check(ZEN4_NATIVE, FIXTURES "/cpus/zen4", NULL, &err), EB_OK);
    /* and a Zen 4 build on the VM of the CI */
    assert_int_equal(check(ZEN4_NATIVE, FIXTURES "/cpus/spr-vm", &spr_granted, &err), EB_OK);
}

static void arm_boards(void **state)
{
    (void)state;
    eb_error err;
    assert_int_equal(check(A76, FIXTURES "/pi5", NULL, &err), EB_OK);
    assert_int_equal(check(A76, FIXTURES "/jetson-orin-nano", NULL, &err), EB_OK);
    assert_int_equal(check(A76_I8MM, FIXTURES "/pi5", NULL, &err), EB_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "uses matmul_int8"));
    assert_non_null(strstr(err.msg, "no 'i8mm'"));
    assert_int_equal(check(A76_I8MM, FIXTURES "/jetson-orin-nano", NULL, &err), EB_E_UNSUPPORTED);
    /* an x86 build on a board: avx2 is not an Arm flag, so nothing is
     * claimed about it (qemu-user shows the host's cpuinfo the same way) */
    assert_int_equal(check("avx2,fma", FIXTURES "/pi5", NULL, &err), EB_OK);
}

static void unknown_features_are_not_checked(void **state)
{
    (void)state;
    eb_error err;
    assert_int_equal(check("", FIXTURES "/cpus/zen4", NULL, &err), EB_OK);
    assert_int_equal(check("unknown: the self-test did not run", FIXTURES "/cpus/zen4", NULL, &err),
                     EB_OK);
    assert_int_equal(check(SPR_NATIVE, FIXTURES "/no-such-fixture", NULL, &err), EB_E_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spr_runs_its_own_builds),
        cmocka_unit_test(spr_kernel_refusing_amx),
        cmocka_unit_test(state_not_enabled_by_the_os),
        cmocka_unit_test(spr_build_taken_to_zen4),
        cmocka_unit_test(arm_boards),
        cmocka_unit_test(unknown_features_are_not_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
