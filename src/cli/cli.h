/* Shared pieces of the command-line front end. */
#ifndef EDGEBENCH_CLI_H
#define EDGEBENCH_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include "edgebench/error.h"
#include "edgebench/synth.h"

/* Exit codes: 0 ok, 1 a failure while measuring, 2 bad usage or input. */
enum { EXIT_OK = 0, EXIT_FAILURE_RUN = 1, EXIT_USAGE = 2 };

int cmd_run(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_sensors(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_fleet(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_node(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_results(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_ppl(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_model_plan(int argc, char **argv); /* `model plan` */
int cmd_model_fit(int argc, char **argv);  /* `model fit` */
/* `edgebench run` with a list or range as a value runs a sweep; *handled
 * says whether it did. */
int cli_run_sweep(int argc, char **argv, bool *handled);

/* Prints "edgebench: <status>: <message>" to stderr; returns the exit code
 * that fits the status. */
int cli_report(const char *cmd, const eb_error *err);

/* A command's options through the parameter table (eb_cmd_parse), o at its
 * defaults first: EXIT_OK to go on, -1 when --help was printed (usage gets
 * own), else the exit code of the error said on stderr. */
struct eb_run_options;
struct eb_cmd_rows;
int cli_parse(unsigned cmd, const char *name, struct eb_cmd_rows *own, int argc, char **argv,
              struct eb_run_options *o, void (*usage)(FILE *f, const struct eb_cmd_rows *own));

/* A bad command line, said as every error is (cli_report, invalid_argument);
 * returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Pins this process (and threads it creates) to a CPU list such as
 * "0-3,6". */
bool cli_set_affinity(const char *list, eb_error *err);

/* Resolves a synthetic preset to its cached file, generating it with a
 * progress line on first use. */
eb_status cli_synth_cached(const eb_preset *p, eb_synth_type t, char *path, size_t cap, bool quiet,
                           eb_error *err);

/* The model file src quantized to type by llama.cpp, cached by (content,
 * type), with a line saying so. */
eb_status cli_quantized(const char *src, const char *type, int threads, char *path, size_t cap,
                        bool quiet, eb_error *err);

#endif
