/* The analyses as `analyze` and `report` share them on the command line:
 * option parsing, the inputs line, and the library's tables with their
 * errors reported. */
#ifndef EDGEBENCH_ANALYZE_CLI_H
#define EDGEBENCH_ANALYZE_CLI_H

#include <stdio.h>

#include "edgebench/analysis.h"

typedef eb_analysis_opts analyze_opts;

/* Sets the option of a long name (without "--"): 1 done, -1 a bad value
 * (said on stderr), 0 not an analysis option. */
int analyze_option(analyze_opts *o, const char *name, const char *value, const char *cmd);
/* eb_analysis_table with its error said on stderr; an exit code. */
int analyze_table(const char *kind, const eb_config_set *set, const analyze_opts *o, eb_table *out);
void analyze_state_inputs(FILE *f, const char *kind, const analyze_opts *o,
                          const eb_config_set *set, bool as_comment);

#endif
