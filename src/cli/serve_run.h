/* `edgebench run --engine server` (serve_run.c). */
#ifndef EDGEBENCH_SERVE_RUN_H
#define EDGEBENCH_SERVE_RUN_H

#include <stdio.h>

#include "edgebench/output.h"
#include "edgebench/params.h"

/* One load level against llama-server (started here with o->cfg's model)
 * or the server at --server-url: written to out, stored. An exit code. */
int cli_serve_run(const eb_run_options *o, eb_format format, FILE *out);

#endif
