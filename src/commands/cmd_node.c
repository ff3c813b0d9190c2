/* edgebench node: this device as an RPC node of a distributed run. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edgebench/node.h"

static volatile int node_stop;

static void on_signal(int sig)
{
    (void)sig;
    node_stop = 1;
}

static void node_usage(FILE *f)
{
    fprintf(f,
            "usage: edgebench node [options]\n"
            "Runs llama.cpp's rpc-server (the pinned release's) on this device so that a\n"
            "coordinator's `edgebench run --rpc HOST:PORT` places layers here, and beside it\n"
            "a control port (PORT + %d) where the coordinator reads this device's facts, its\n"
            "clock, and what its own sensors saw (power, memory, clocks, temperature, bytes\n"
            "of the interface) over each span of a run.\n\n"
            "llama.cpp's RPC has no authentication: anyone who reaches the port can use the\n"
            "device. Bind to a trusted network only.\n\n"
            "      --host ADDR        address to bind (default 127.0.0.1)\n"
            "      --port P           rpc-server's port (default 50052)\n"
            "      --control-port P   the control port (default PORT + %d)\n"
            "      --mem MIB          cage the rpc-server to this much memory (cgroup, else\n"
            "                         an address-space limit); coordinators split layers by it\n"
            "      --threads N        rpc-server's CPU threads (default: its own, half the CPUs)\n"
            "      --iface NAME       network interface whose bytes are counted (default: the\n"
            "                         one holding --host)\n"
            "      --sample-ms MS     sampling period (default 50)\n"
            "      --sysfs-root DIR   read /proc and /sys sensors under DIR (a fixture tree)\n"
            "      --server PATH      the rpc-server binary (default: the pinned build's)\n"
            "  -h, --help             this help\n",
            EB_NODE_CONTROL_OFFSET, EB_NODE_CONTROL_OFFSET);
}

static void node_log(void *user, const char *line)
{
    (void)user;
    fprintf(stderr, "edgebench node: %s\n", line);
}

int cmd_node(int argc, char **argv)
{
    enum { O_HOST = 1000, O_PORT, O_CPORT, O_MEM, O_THREADS, O_IFACE, O_SAMPLE, O_ROOT, O_SERVER };
    static const struct option opts[] = {{"host", required_argument, NULL, O_HOST},
                                         {"port", required_argument, NULL, O_PORT},
                                         {"control-port", required_argument, NULL, O_CPORT},
                                         {"mem", required_argument, NULL, O_MEM},
                                         {"threads", required_argument, NULL, O_THREADS},
                                         {"iface", required_argument, NULL, O_IFACE},
                                         {"sample-ms", required_argument, NULL, O_SAMPLE},
                                         {"sysfs-root", required_argument, NULL, O_ROOT},
                                         {"server", required_argument, NULL, O_SERVER},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    eb_node_config cfg = {.host = "127.0.0.1", .port = 50052, .interval_s = 0.05};
    const char *server = getenv("EDGEBENCH_RPC_SERVER");
    long v;
    double d;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_HOST:
            cfg.host = optarg;
            break;
        case O_PORT:
            if (!cli_int("--port", optarg, 1, 64535, &v)) return 2;
            cfg.port = (int)v;
            break;
        case O_CPORT:
            if (!cli_int("--control-port", optarg, 1, 65535, &v)) return 2;
            cfg.control_port = (int)v;
            break;
        case O_MEM:
            if (!cli_int("--mem", optarg, 16, 1 << 24, &v)) return 2;
            cfg.mem_mib = (int)v;
            break;
        case O_THREADS:
            if (!cli_int("--threads", optarg, 1, 1024, &v)) return 2;
            cfg.threads = (int)v;
            break;
        case O_IFACE:
            cfg.iface = optarg;
            break;
        case O_SAMPLE:
            if (!cli_double("--sample-ms", optarg, &d) || d < 1 || d > 1000) {
                fprintf(stderr, "edgebench node: --sample-ms must be in [1, 1000], got '%s'\n",
                        optarg);
                return 2;
            }
            cfg.interval_s = d / 1000.0;
            break;
        case O_ROOT:
            cfg.root = optarg;
            break;
        case O_SERVER:
            server = optarg;
            break;
        case 'h':
            node_usage(stdout);
            return 0;
        default:
            node_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "edgebench node: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    cfg.server_path = server && *server ? server : eb_node_default_server();
    if (strcmp(cfg.host, "127.0.0.1") != 0 && strcmp(cfg.host, "::1") != 0 &&
        strcmp(cfg.host, "localhost") != 0)
        fprintf(stderr,
                "edgebench node: WARNING: bound to %s: llama.cpp's RPC has no authentication; "
                "anyone who can reach ports %d and %d can use this device. Trusted networks "
                "only.\n",
                cfg.host, cfg.port,
                cfg.control_port ? cfg.control_port : cfg.port + EB_NODE_CONTROL_OFFSET);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    eb_error err = {0};
    eb_status st = eb_node_serve(&cfg, &node_stop, node_log, NULL, &err);
    if (st != EB_OK) return cli_report("node", &err);
    fprintf(stderr, "edgebench node: stopped\n");
    return 0;
}
