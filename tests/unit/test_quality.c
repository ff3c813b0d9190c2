/* The quality code without a model: UTF-8 checking, the encoded
 * log-probabilities and their KL divergence, and the base file. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "assert_close.h"
#include "edgebench/quality.h"
#include "quality_impl.h"

static void test_utf8(void **state)
{
    (void)state;
    size_t bad = 99;
    assert_true(eb_utf8_valid("plain ASCII", 11, &bad));
    assert_true(eb_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, &bad));
    assert_false(eb_utf8_valid("ab\xff", 3, &bad));
    assert_int_equal(bad, 2);
    assert_false(eb_utf8_valid("x\xc3", 2, &bad)); /* cut in the middle of a character */
    assert_int_equal(bad, 1);
    assert_false(eb_utf8_valid("\xc0\xaf", 2, &bad)); /* overlong '/' */
    assert_int_equal(bad, 0);
    assert_false(eb_utf8_valid("a\xed\xa0\x80", 4, &bad)); /* a surrogate */
    assert_int_equal(bad, 1);
    assert_false(eb_utf8_valid("\xf4\x90\x80\x80", 4, &bad)); /* past U+10FFFF */
    assert_false(eb_utf8_valid("\xe2\x28\xa1", 3, &bad));     /* a bad continuation */
}

enum { NV = 1000 };

static void fill_logits(float *l, unsigned seed, float spread)
{
    for (int i = 0; i < NV; i++) {
        seed = seed * 1103515245u + 12345u;
        l[i] = spread * (float)((seed >> 8) & 0xffff) / 65536.0f;
    }
}

/* Exact KL(p || q) of two logit vectors, in double. */
static double exact_kl(const float *p, const float *q)
{
    double mp = -INFINITY, mq = -INFINITY, sp = 0, sq = 0, kl = 0;
    for (int i = 0; i < NV; i++)
        mp = fmax(mp, p[i]), mq = fmax(mq, q[i]);
    for (int i = 0; i < NV; i++)
        sp += exp(p[i] - mp), sq += exp(q[i] - mq);
    for (int i = 0; i < NV; i++) {
        double lp = p[i] - mp - log(sp), lq = q[i] - mq - log(sq);
        kl += exp(lp) * (lp - lq);
    }
    return kl;
}

static void test_encode_and_kl(void **state)
{
    (void)state;
    float a[NV], b[NV];
    uint16_t ca[NV], cb[NV];
    eb_logprob_row ra, rb;
    fill_logits(a, 1, 8.0f);
    memcpy(b, a, sizeof a);
    for (int i = 0; i < NV; i += 7)
        b[i] += 0.3f; /* a perturbed copy */

    double nll = eb_logprob_encode(a, NV, 5, &ra, ca);
    double m = -INFINITY, s = 0;
    for (int i = 0; i < NV; i++)
        m = fmax(m, a[i]);
    for (int i = 0; i < NV; i++)
        s += exp(a[i] - m);
    assert_close(nll, log(s) - (a[5] - m), 1e-5);
    assert_close(ra.nll, nll, 0);
    int top = 0;
    for (int i = 1; i < NV; i++)
        if (a[i] > a[top]) top = i;
    assert_int_equal(ra.top, top);
    /* The largest log-probability decodes to the top: code 65535. */
    assert_int_equal(ca[top], 65535);

    assert_true(eb_logprob_kl(&ra, ca, &ra, ca, NV) == 0.0); /* exactly, not nearly */
    eb_logprob_encode(b, NV, 5, &rb, cb);
    double kl = eb_logprob_kl(&ra, ca, &rb, cb, NV), want = exact_kl(a, b);
    assert_true(kl > 0);
    assert_close(kl, want, 2e-4 * 8); /* 16-bit codes over 8 nats */

    /* A flat distribution: scale 0, every code 0, KL 0 against itself. */
    float flat[NV];
    for (int i = 0; i < NV; i++)
        flat[i] = 1.5f;
    eb_logprob_encode(flat, NV, 0, &ra, ca);
    assert_true(ra.scale == 0);
    assert_close(ra.nll, log(NV), 1e-5);
    assert_true(eb_logprob_kl(&ra, ca, &ra, ca, NV) == 0.0);
}

static void test_base_file(void **state)
{
    (void)state;
    char path[] = "/tmp/eb-test-base-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    eb_lp_info in = {.n_ctx = 8, .n_vocab = NV, .n_chunks = 2, .vocab_fingerprint = 0x1234};
    snprintf(in.corpus_sha256, sizeof in.corpus_sha256, "%064d", 7);
    snprintf(in.model_name, sizeof in.model_name, "base model");
    snprintf(in.model_quant, sizeof in.model_quant, "F16");
    int32_t tokens[16];
    for (int i = 0; i < 16; i++)
        tokens[i] = i * 3;
    eb_logprob_row rows[3], back[3];
    static uint16_t codes[3 * NV], codes_back[3 * NV];
    float l[NV];
    for (int r = 0; r < 3; r++) {
        fill_logits(l, (unsigned)r + 10, 5.0f);
        eb_logprob_encode(l, NV, r, &rows[r], codes + r * NV);
    }
    eb_lp_file f;
    eb_error err = {0};
    assert_int_equal(eb_lp_create(&f, path, &in, tokens, &err), EB_OK);
    assert_int_equal(eb_lp_rows(&f, true, rows, codes, 3, &err), EB_OK);
    /* Not in place until finished: an earlier file at path stays whole. */
    FILE *probe = fopen(path, "rb");
    assert_non_null(probe);
    fseek(probe, 0, SEEK_END);
    assert_int_equal(ftell(probe), 0);
    fclose(probe);
    assert_int_equal(eb_lp_finish(&f, true, &err), EB_OK);

    eb_lp_info out;
    int32_t *tb = NULL;
    assert_int_equal(eb_lp_open(&f, path, &out, &tb, &err), EB_OK);
    assert_int_equal(out.n_ctx, 8);
    assert_int_equal(out.n_chunks, 2);
    assert_int_equal(out.vocab_fingerprint, 0x1234);
    assert_string_equal(out.model_name, "base model");
    assert_memory_equal(tb, tokens, sizeof tokens);
    assert_int_equal(eb_lp_rows(&f, false, back, codes_back, 3, &err), EB_OK);
    assert_memory_equal(back, rows, sizeof rows);
    assert_memory_equal(codes_back, codes, sizeof codes);
    /* Past the end: truncated, said so. */
    assert_int_equal(eb_lp_rows(&f, false, back, codes_back, 1, &err), EB_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "truncated"));
    eb_lp_close(&f);
    free(tb);

    /* A cut file is refused with its name. */
    assert_int_equal(truncate(path, 100), 0);
    assert_int_equal(eb_lp_open(&f, path, &out, &tb, &err), EB_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, path));
    assert_null(tb);
    /* A failed write removes its part file and leaves no base. */
    assert_int_equal(eb_lp_create(&f, path, &in, tokens, &err), EB_OK);
    assert_int_equal(eb_lp_finish(&f, false, &err), EB_OK);
    char part[64];
    snprintf(part, sizeof part, "%s.part", path);
    assert_int_equal(access(part, F_OK), -1);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_encode_and_kl),
        cmocka_unit_test(test_base_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
