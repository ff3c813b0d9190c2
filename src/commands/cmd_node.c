/* edgebench node: this device as an RPC node of a distributed run. */
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edgebench/node.h"
#include "edgebench/params.h"

static volatile int node_stop;

static void on_signal(int sig)
{
    (void)sig;
    node_stop = 1;
}

#define N(f) offsetof(eb_node_config, f)
/* node's own options; threads and the sysfs root are the parameter table's */
static const eb_param own_rows[] = {
    {.key = "host",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "host",
     .def = "127.0.0.1",
     .field = EB_FK_STR,
     .offset = N(host),
     .metavar = "ADDR",
     .help = "address to bind"},
    {.key = "port",
     .scope = EB_PS_CLI,
     .type = EB_PT_INT,
     .flag = "port",
     .min = 1,
     .max = 65535 - EB_NODE_CONTROL_OFFSET,
     .def = "50052",
     .field = EB_FK_INT,
     .offset = N(port),
     .metavar = "P",
     .help = "rpc-server's port"},
    {.key = "control_port",
     .scope = EB_PS_CLI,
     .type = EB_PT_INT,
     .flag = "control-port",
     .min = 1,
     .max = 65535,
     .def_doc = "PORT + 1000",
     .field = EB_FK_INT,
     .offset = N(control_port),
     .metavar = "P",
     .help = "the control port"},
    {.key = "mem",
     .scope = EB_PS_CLI,
     .type = EB_PT_INT,
     .flag = "mem",
     .min = 16,
     .max = 1 << 24,
     .field = EB_FK_INT,
     .offset = N(mem_mib),
     .unit = "MiB",
     .metavar = "MIB",
     .help = "cage the rpc-server to this much memory (cgroup, else an address-space limit); "
             "coordinators split layers by it"},
    {.key = "iface",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "iface",
     .def_doc = "the one holding --host",
     .field = EB_FK_STR,
     .offset = N(iface),
     .metavar = "NAME",
     .help = "network interface whose bytes are counted"},
    {.key = "sample_ms",
     .scope = EB_PS_CLI,
     .type = EB_PT_NUM,
     .flag = "sample-ms",
     .min = EB_SAMPLE_MS_MIN,
     .max = EB_SAMPLE_MS_MAX,
     .def = "50", /* a node samples for its coordinator's windows: coarser */
     .field = EB_FK_DOUBLE,
     .offset = N(interval_s),
     .scale = 0.001,
     .unit = "ms",
     .metavar = "MS",
     .help = "sampling period"},
    {.key = "secret_file",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "secret-file",
     .field = EB_FK_STR,
     .offset = N(secret_file),
     .metavar = "FILE",
     .help = "the control port answers only a coordinator that presents the secret in FILE "
             "(8-256 bytes; coordinators: $EDGEBENCH_NODE_SECRET_FILE). It is sent in clear: "
             "it keeps other coordinators on a shared network off this node's trials, not an "
             "eavesdropper; llama.cpp's RPC port stays unauthenticated"},
    {.key = "server",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "server",
     .def_doc = "$EDGEBENCH_RPC_SERVER, else the pinned build's",
     .field = EB_FK_STR,
     .offset = N(server_path),
     .metavar = "PATH",
     .help = "the rpc-server binary"},
};
#undef N

static void node_usage(FILE *f, const eb_cmd_rows *own)
{
    fprintf(f,
            "usage: edgebench node [options]\n"
            "Runs llama.cpp's rpc-server (the pinned release's) on this device so that a\n"
            "coordinator's `edgebench run --rpc HOST:PORT` places layers here, and beside it\n"
            "a control port (PORT + %d) where the coordinator reads this device's facts, its\n"
            "clock, and what its own sensors saw (power, memory, clocks, temperature, bytes\n"
            "of the interface) over each span of a run. --threads: rpc-server's CPU threads\n"
            "(default: its own, half the CPUs).\n\n"
            "llama.cpp's RPC has no authentication: anyone who reaches the port can use the\n"
            "device. Bind to a trusted network only.\n\n",
            EB_NODE_CONTROL_OFFSET);
    eb_cmd_help(EB_CMD_NODE, own, f);
}

static void node_log(void *user, const char *line)
{
    (void)user;
    fprintf(stderr, "edgebench node: %s\n", line);
}

int cmd_node(int argc, char **argv)
{
    eb_node_config cfg = {0};
    eb_cmd_rows own = {own_rows, sizeof own_rows / sizeof own_rows[0], &cfg, NULL, NULL, 0, 0};
    eb_run_options o;
    int code = cli_parse(EB_CMD_NODE, "node", &own, argc, argv, &o, node_usage);
    if (code != EXIT_OK) return code < 0 ? EXIT_OK : code;
    if (eb_run_options_given(&o, "threads")) cfg.threads = o.cfg.threads_gen;
    cfg.root = o.cfg.root;
    const char *server = cfg.server_path ? cfg.server_path : getenv("EDGEBENCH_RPC_SERVER");
    cfg.server_path = server && *server ? server : eb_node_default_server();
    if (strcmp(cfg.host, "127.0.0.1") != 0 && strcmp(cfg.host, "::1") != 0 &&
        strcmp(cfg.host, "localhost") != 0) {
        int cport = cfg.control_port ? cfg.control_port : cfg.port + EB_NODE_CONTROL_OFFSET;
        if (cfg.secret_file)
            fprintf(stderr,
                    "edgebench node: WARNING: bound to %s: the control port %d asks for the "
                    "secret, but llama.cpp's RPC port %d has no authentication: anyone who can "
                    "reach it can use this device. Trusted networks only.\n",
                    cfg.host, cport, cfg.port);
        else
            fprintf(stderr,
                    "edgebench node: WARNING: bound to %s: llama.cpp's RPC has no "
                    "authentication; anyone who can reach ports %d and %d can use this device "
                    "(--secret-file guards the control port). Trusted networks only.\n",
                    cfg.host, cfg.port, cport);
    }
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
