/* The server engine's parts that need no server: server-sent events fed
 * in every split, and a level's percentiles, goodput and overhead ratio
 * from requests of known timing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgebench/serve.h"

typedef struct got {
    char ev[8][64];
    int n;
} got;

static bool take(void *user, const char *data, size_t len)
{
    got *g = user;
    assert_int_equal(strlen(data), len);
    if (g->n < 8) snprintf(g->ev[g->n], sizeof g->ev[0], "%s", data);
    g->n++;
    return true;
}

static const char stream[] = ": keep-alive\r\n"
                             "data: {\"a\":1}\r\n\r\n"
                             "event: x\nid: 7\ndata:{\"b\":2}\n\n"
                             "data: line1\ndata: line2\n\n"
                             "data: [DONE]\r\r";

/* the same events whatever the split: one byte at a time, and in two
 * pieces at every position (a CRLF cut in the middle among them) */
static void test_sse_any_split(void **state)
{
    (void)state;
    size_t len = strlen(stream);
    for (size_t cut = 0; cut <= len; cut++) {
        eb_sse p;
        eb_sse_init(&p, 1024);
        got g = {0};
        eb_error err = {0};
        assert_int_equal(eb_sse_feed(&p, stream, cut, take, &g, &err), EB_OK);
        assert_int_equal(eb_sse_feed(&p, stream + cut, len - cut, take, &g, &err), EB_OK);
        assert_int_equal(g.n, 4);
        assert_string_equal(g.ev[0], "{\"a\":1}");
        assert_string_equal(g.ev[1], "{\"b\":2}");
        assert_string_equal(g.ev[2], "line1\nline2");
        assert_string_equal(g.ev[3], "[DONE]");
        eb_sse_free(&p);
    }
    eb_sse p;
    eb_sse_init(&p, 1024);
    got g = {0};
    eb_error err = {0};
    for (size_t i = 0; i < len; i++)
        assert_int_equal(eb_sse_feed(&p, stream + i, 1, take, &g, &err), EB_OK);
    assert_int_equal(g.n, 4);
    eb_sse_free(&p);
}

static void test_sse_too_long(void **state)
{
    (void)state;
    eb_sse p;
    eb_sse_init(&p, 32);
    got g = {0};
    eb_error err = {0};
    char big[200];
    memset(big, 'x', sizeof big);
    memcpy(big, "data: ", 6);
    assert_int_equal(eb_sse_feed(&p, big, sizeof big, take, &g, &err), EB_E_NETWORK);
    assert_non_null(strstr(err.msg, "longer than 32 bytes"));
    assert_int_equal(g.n, 0);
    eb_sse_free(&p);
}

/* a request with n tokens a gap apart, its first after ttft */
static void fake(eb_request_result *r, double sent, double ttft, double gap, int n, int server_n,
                 double server_tps)
{
    memset(r, 0, sizeof *r);
    r->status = EB_REQ_OK;
    r->t_sent = sent;
    r->arrivals = malloc((size_t)n * sizeof *r->arrivals);
    for (int i = 0; i < n; i++)
        r->arrivals[i] = sent + ttft + i * gap;
    r->n_tokens = n;
    r->t_first = r->arrivals[0];
    r->t_end = r->arrivals[n - 1] + 0.001;
    r->usage_prompt = 10;
    r->usage_completion = server_n;
    r->server_gen_n = server_n;
    r->server_gen_tps = server_tps;
    r->server_prompt_tps = 100;
    eb_request_derive(r);
}

static void test_summary(void **state)
{
    (void)state;
    eb_serve_level lv = {0};
    lv.n = 4;
    lv.req = calloc(4, sizeof *lv.req);
    fake(&lv.req[0], 0.0, 0.1, 0.05, 11, 11, 20); /* 20 t/s, TTFT 0.1 */
    fake(&lv.req[1], 0.0, 0.3, 0.10, 11, 11, 10); /* 10 t/s, TTFT 0.3 */
    fake(&lv.req[2], 1.0, 0.2, 0.05, 11, 11, 20);
    lv.req[3].status = EB_REQ_TIMEOUT; /* failed: counted, not in the distributions */
    lv.req[3].t_sent = 1.0;
    lv.req[3].t_end = 2.0;
    snprintf(lv.req[3].error, sizeof lv.req[3].error, "past the limit");
    eb_serve_summarise(&lv, 0.25, 0.06);
    const eb_serve_summary *s = &lv.sum;
    assert_int_equal(s->sent, 4);
    assert_int_equal(s->ok, 3);
    assert_int_equal(s->failed, 1);
    assert_int_equal(s->by_status[EB_REQ_TIMEOUT], 1);
    assert_non_null(strstr(s->first_error, "request 3: timeout: past the limit"));
    assert_true(fabs(s->ttft_p50_s - 0.2) < 1e-9);
    assert_true(fabs(s->ttft_max_s - 0.3) < 1e-9);
    assert_true(fabs(s->stream_tps_min - 10) < 1e-6);
    assert_true(fabs(s->itl_p50_s - 0.05) < 1e-9);
    /* good: TTFT <= 0.25 and mean gap <= 0.06: requests 0 and 2 */
    assert_int_equal(s->good, 2);
    assert_true(fabs(s->gen_tokens - 33) < 1e-9);
    double dur = 2.0 - 0.0;
    assert_true(fabs(s->duration_s - dur) < 1e-9);
    assert_true(fabs(s->throughput_tps - 33 / dur) < 1e-9);
    assert_true(fabs(s->goodput_rps - 2 / dur) < 1e-9);
    /* the client's t/s over the server's: (20 + 10 + 20) / (20 + 10 + 20) */
    assert_true(fabs(s->client_over_server - 1.0) < 1e-6);
    /* no objective: every ok request is good */
    eb_serve_summarise(&lv, NAN, NAN);
    assert_int_equal(lv.sum.good, 3);
    eb_serve_level_free(&lv);
}

static void test_spec_refused(void **state)
{
    (void)state;
    const char *prompts[] = {"hi"};
    eb_serve_spec spec = {
        .url = "http://127.0.0.1:1", .prompts = prompts, .n_prompts = 1, .requests = 3};
    eb_serve_level lv;
    eb_error err = {0};
    assert_int_equal(eb_serve_level_run(&spec, &lv, &err), EB_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "concurrency"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sse_any_split),
        cmocka_unit_test(test_sse_too_long),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_spec_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
