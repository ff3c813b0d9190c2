/* The analyses as `analyze` and `report` share them on the command line:
 * option parsing, the inputs line, and the library's tables with their
 * errors reported. */
#ifndef EDGEBENCH_ANALYZE_CLI_H
#define EDGEBENCH_ANALYZE_CLI_H

#include <stdio.h>

#include "edgebench/analysis.h"
#include "edgebench/params.h"

typedef eb_analysis_opts analyze_opts;

/* The options of analyze or report (cmd: EB_CMD_ANALYZE, EB_CMD_REPORT)
 * through the parameter table and the analyses' rows: o and ro at their
 * defaults, then as given; kind (may be NULL) gets the one positional
 * argument. An exit code, the error said on stderr. */
int analyze_parse(unsigned cmd, int argc, char **argv, analyze_opts *o, eb_run_options *ro,
                  const char **kind);
/* eb_analysis_table with its error said on stderr; an exit code. */
int analyze_table(const char *kind, const eb_config_set *set, const analyze_opts *o, eb_table *out);
void analyze_state_inputs(FILE *f, const char *kind, const analyze_opts *o,
                          const eb_config_set *set, bool as_comment);

#endif
