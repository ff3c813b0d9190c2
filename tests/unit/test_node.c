/* RPC nodes: endpoints, where llama.cpp's log says layers and buffers
 * went, a node's trial window from its own samples (fixture sensors, this
 * process standing in for the rpc-server), and the protocol's JSON. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "assert_close.h"
#include "edgebench/util.h"
#include "engine_rpc.h"
#include "node_impl.h"

static void test_endpoint_parse(void **state)
{
    (void)state;
    char host[64];
    int port;
    assert_true(eb_endpoint_parse("127.0.0.1:50052", host, sizeof host, &port));
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 50052);
    assert_true(eb_endpoint_parse("[::1]:7", host, sizeof host, &port));
    assert_string_equal(host, "::1");
    assert_int_equal(port, 7);
    assert_false(eb_endpoint_parse("board", host, sizeof host, &port));
    assert_false(eb_endpoint_parse("board:0", host, sizeof host, &port));
    assert_false(eb_endpoint_parse("board:70000", host, sizeof host, &port));
    assert_false(eb_endpoint_parse(":5", host, sizeof host, &port));
}

/* Lines as llama.cpp v0.5.0 logs them for two RPC nodes; the buffer type
 * of the second is named "RPC0[...]" too (its index on its own server). */
static void test_placement_from_log(void **state)
{
    (void)state;
    assert_int_equal(eb_rpc_placement_begin("127.0.0.1:50052,127.0.0.1:50053"), 2);
    const char *lines[] = {
        "llama_prepare_model_devices: using device RPC0 (127.0.0.1:50052) (unknown id) - 24105 MiB "
        "free\n",
        "llama_prepare_model_devices: using device RPC1 (127.0.0.1:50053) (unknown id) - 24105 MiB "
        "free\n",
        "load_tensors: layer   0 assigned to device RPC0, is_swa = 0\n",
        "load_tensors: layer   1 assigned to device RPC0, is_swa = 0\n",
        "load_tensors: layer   2 assigned to device RPC1, is_swa = 0\n",
        "load_tensors:   CPU_Mapped model buffer size =     4.39 MiB\n",
        "load_tensors: RPC0[127.0.0.1:50052] model buffer size =     0.64 MiB\n",
        "load_tensors: RPC0[127.0.0.1:50053] model buffer size =     6.41 MiB\n",
        "llama_kv_cache: RPC0[127.0.0.1:50052] KV buffer size =     0.25 MiB\n",
        "sched_reserve: RPC0[127.0.0.1:50052] compute buffer size =     0.22 MiB\n",
        "sched_reserve: RPC0[127.0.0.1:50053] compute buffer size =     2.03 MiB\n",
        "sched_reserve: RPC0[127.0.0.1:50053] compute buffer size =     1.02 MiB\n",
        "~llama_context: RPC0[127.0.0.1:50053] compute buffer size is   2.0312 MiB, matches\n"};
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        eb_rpc_log_line(lines[i]);
    eb_placement p[4];
    assert_int_equal(eb_rpc_placement(p, 4), 2);
    assert_string_equal(p[0].device, "RPC0");
    assert_string_equal(p[1].device, "RPC1");
    assert_int_equal(p[0].layers, 2);
    assert_int_equal(p[1].layers, 1);
    assert_close(p[0].model_mib, 0.64, 1e-9);
    assert_close(p[1].model_mib, 6.41, 1e-9);
    assert_close(p[0].kv_mib, 0.25, 1e-9);
    assert_true(isnan(p[1].kv_mib));
    assert_close(p[0].compute_mib, 0.22, 1e-9);
    assert_close(p[1].compute_mib, 1.02, 1e-9); /* the last reservation */
    /* a new context forgets the buffers, not the layers */
    eb_rpc_placement_reset(true);
    assert_int_equal(eb_rpc_placement(p, 4), 2);
    assert_true(isnan(p[0].kv_mib) && isnan(p[0].compute_mib));
    assert_int_equal(p[0].layers, 2);
    assert_int_equal(eb_rpc_placement_begin(""), 0);
}

static double realtime(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double thread_cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A Jetson fixture's INA3221 gives a constant power: a window's energy is
 * that power times its length; this process's main thread, busy for the
 * window, is the serving thread whose CPU time is the node's compute. */
static void test_node_window(void **state)
{
    (void)state;
    eb_node_state st;
    memset(&st, 0, sizeof st);
    st.cfg.root = FIXTURES "/jetson-orin-nano";
    st.cfg.interval_s = 0.01;
    st.server_pid = getpid();
    eb_node_probe_energy(&st);
    assert_true(st.facts.energy_source[0] != '\0');
    eb_error err = {0};
    assert_int_equal(eb_node_trial_begin(&st, &err), EB_OK);
    eb_sleep(0.05);
    double t0 = realtime(), start = eb_now(), cpu0 = thread_cpu_s();
    volatile double x = 0;
    while (eb_now() - start < 0.3)
        x += 1;
    double t1 = realtime(), cpu1 = thread_cpu_s();
    eb_node_window w;
    assert_int_equal(eb_node_trial_window(&st, t0, t1, &w, &err), EB_OK);
    assert_true(w.n_samples >= 10);
    assert_true(w.mean_w > 0);
    assert_close(w.energy_j, w.mean_w * (t1 - t0), 1e-6 * w.energy_j);
    /* the thread's own CPU clock over the window, whatever else shares the
     * CPUs; the samples, 10 ms apart, are interpolated at both ends */
    assert_true(cpu1 - cpu0 > 0.05);
    assert_close(w.compute_s, cpu1 - cpu0, 0.03);
    assert_true(w.peak_rss_mib > 0);
    assert_true(isnan(w.iface_tx_bytes)); /* no interface named */
    /* a window outside the samples: no compute measured in it */
    eb_node_window w2;
    assert_int_equal(eb_node_trial_window(&st, t0 - 100, t0 - 99, &w2, &err), EB_OK);
    assert_int_equal(w2.n_samples, 0);
    eb_node_trial_end(&st);
    assert_int_equal(eb_node_trial_window(&st, t0, t1, &w2, &err), EB_E_INVALID_ARG);
}

static void test_protocol_json(void **state)
{
    (void)state;
    eb_node_facts f = {.n_cpus = 4, .ram_mib = 8064, .mem_limit_mib = 6000, .threads = 4};
    snprintf(f.hostname, sizeof f.hostname, "pi-1");
    snprintf(f.board, sizeof f.board, "Raspberry Pi 5 Model B Rev 1.0");
    snprintf(f.iface, sizeof f.iface, "eth0");
    snprintf(f.energy_source, sizeof f.energy_source, "pi5-pmic");
    cJSON *o = cJSON_CreateObject();
    eb_node_facts_to_json(&f, o);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    cJSON *back = cJSON_Parse(text);
    eb_node_facts g;
    eb_node_facts_from_json(back, &g);
    cJSON_Delete(back);
    free(text);
    assert_string_equal(g.board, f.board);
    assert_string_equal(g.iface, "eth0");
    assert_int_equal(g.mem_limit_mib, 6000);
    assert_int_equal(g.n_cpus, 4);
    /* NaN travels as null and comes back NaN */
    eb_node_window w = {.energy_j = NAN,
                        .mean_w = 3.5,
                        .peak_w = NAN,
                        .peak_rss_mib = 120,
                        .compute_s = 0.25,
                        .iface_tx_bytes = 1e6,
                        .iface_rx_bytes = NAN,
                        .temp_max_c = NAN,
                        .cpu_freq_mhz = 2400,
                        .n_samples = 7};
    o = cJSON_CreateObject();
    eb_node_window_to_json(&w, o);
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    assert_non_null(strstr(text, "\"energy_j\":null"));
    back = cJSON_Parse(text);
    eb_node_window v;
    eb_node_window_from_json(back, &v);
    cJSON_Delete(back);
    free(text);
    assert_true(isnan(v.energy_j) && isnan(v.iface_rx_bytes));
    assert_close(v.mean_w, 3.5, 0);
    assert_close(v.iface_tx_bytes, 1e6, 0);
    assert_int_equal(v.n_samples, 7);
}

/* Requests as the control port reads them: bad lines refused with a
 * reason, a trial owned by the connection that began it, a window in the
 * future deferred rather than waited for. */
static void test_request_handling(void **state)
{
    (void)state;
    eb_node_request r;
    eb_error err = {0};
    assert_int_equal(eb_node_request_parse("{\"cmd\":\"time\"}", 14, &r, &err), EB_OK);
    assert_int_equal(r.cmd, EB_NODE_TIME);
    const char nul[] = "{\"cmd\":\"ti\0me\"}";
    assert_int_not_equal(eb_node_request_parse(nul, sizeof nul - 1, &r, &err), EB_OK);
    assert_int_not_equal(eb_node_request_parse("[1,2]", 5, &r, &err), EB_OK);
    assert_int_equal(eb_node_request_parse("{\"cmd\":\"nope\"}", 14, &r, &err), EB_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "nope"));
    const char *bad_window = "{\"cmd\":\"window\",\"t0\":2,\"t1\":1}";
    assert_int_equal(eb_node_request_parse(bad_window, strlen(bad_window), &r, &err),
                     EB_E_INVALID_ARG);

    eb_node_state st;
    memset(&st, 0, sizeof st);
    st.cfg.root = FIXTURES "/jetson-orin-nano";
    st.cfg.interval_s = 0.01;
    st.server_pid = getpid();
    double wait;
    bool authed = false, closing = false;
#define ASK(who, text) eb_node_handle(&st, who, &authed, &closing, text, strlen(text), &wait)
    char *a = ASK(1, "{\"cmd\":\"begin\"}");
    assert_non_null(strstr(a, "\"ok\":true"));
    free(a);
    char *b = ASK(2, "{\"cmd\":\"end\"}");
    assert_non_null(strstr(b, "another coordinator"));
    free(b);
    b = ASK(2, "{\"cmd\":\"begin\"}");
    assert_non_null(strstr(b, "another coordinator"));
    free(b);
    b = ASK(2, "{\"cmd\":\"time\"}");
    assert_non_null(strstr(b, "\"t\":"));
    free(b);
    char line[128];
    double now = realtime();
    snprintf(line, sizeof line, "{\"cmd\":\"window\",\"t0\":%.6f,\"t1\":%.6f}", now, now + 0.5);
    assert_null(ASK(1, line));
    assert_true(wait > eb_now() + 0.3 && wait < eb_now() + 0.7);
    snprintf(line, sizeof line, "{\"cmd\":\"window\",\"t0\":%.6f,\"t1\":%.6f}", now - 0.2,
             now - 0.05);
    a = ASK(1, line);
    assert_non_null(a);
    assert_null(strstr(a, "error"));
    free(a);
    a = ASK(1, "{\"cmd\":\"end\"}");
    free(a);
    b = ASK(2, "{\"cmd\":\"begin\"}");
    assert_non_null(strstr(b, "\"ok\":true"));
    free(b);
    /* a node with a secret: nothing before hello with it; a wrong one
     * closes the connection */
    eb_node_trial_end(&st);
    snprintf(st.secret, sizeof st.secret, "s3cret-for-test");
    authed = false;
    b = ASK(3, "{\"cmd\":\"time\"}");
    assert_non_null(strstr(b, "needs its secret"));
    free(b);
    b = ASK(3, "{\"cmd\":\"hello\",\"secret\":\"nope-nope\"}");
    assert_non_null(strstr(b, "wrong secret"));
    assert_true(closing && !authed);
    free(b);
    closing = false;
    b = ASK(4, "{\"cmd\":\"hello\",\"secret\":\"s3cret-for-test\"}");
    assert_null(strstr(b, "error"));
    assert_true(authed && !closing);
    free(b);
    b = ASK(4, "{\"cmd\":\"time\"}");
    assert_non_null(strstr(b, "\"t\":"));
    free(b);
#undef ASK
    eb_node_trial_end(&st);
}

/* No node at the address: a refusal that names it, no abort. */
static void test_open_refused(void **state)
{
    (void)state;
    eb_node_link *n = NULL;
    eb_node_facts f;
    double off, unc;
    eb_error err = {0};
    assert_int_equal(eb_node_open("127.0.0.1:1", &n, &f, &off, &unc, &err), EB_E_NETWORK);
    assert_non_null(strstr(err.msg, "127.0.0.1:1001"));
    assert_int_equal(eb_node_open("nonsense", &n, &f, &off, &unc, &err), EB_E_INVALID_ARG);
    eb_peer_bytes b;
    assert_false(eb_peer_bytes_read("127.0.0.1:1", &b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_parse), cmocka_unit_test(test_placement_from_log),
        cmocka_unit_test(test_node_window),    cmocka_unit_test(test_protocol_json),
        cmocka_unit_test(test_open_refused),   cmocka_unit_test(test_request_handling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
