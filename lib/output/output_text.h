/* What the run's two text forms share (output_text.c). */
#ifndef EDGEBENCH_OUTPUT_TEXT_H
#define EDGEBENCH_OUTPUT_TEXT_H

#include <stdio.h>

#include "edgebench/bench.h"

/* The lines above the figures: engine, model, device, configuration,
 * offload, runs. */
void eb_text_header(FILE *f, const eb_run_result *r);

#endif
