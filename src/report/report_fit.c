/* The report's table of where each model stopped fitting: failed trials
 * are results (the context at which a model no longer ran, and why). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/analysis.h"
#include "report_plot.h"

void report_fit(report *r, eb_store *s)
{
    eb_table trials, fit;
    eb_error err = {0};
    if (eb_store_results(s, EB_VIEW_TRIALS, NULL, &trials, &err) != EB_OK) {
        report_missing(r, "fit", "Where each model stopped fitting", err.msg);
        return;
    }
    eb_status st = eb_fit_table(&trials, &fit, &err);
    if (st != EB_OK) {
        eb_table_free(&trials);
        report_missing(r, "fit", "Where each model stopped fitting", err.msg);
        return;
    }
    size_t failed = 0;
    int c = eb_table_column(&fit, "smallest_ctx_failed");
    for (size_t i = 0; i < fit.nrow; i++)
        failed += eb_table_cell(&fit, i, c) != NULL;
    report_text(r, failed ? "Per device, model, weight type and KV cache type: the largest "
                            "context that ran and the smallest that failed, with the reason "
                            "the failed trial recorded."
                          : "No stored trial failed: every model ran at every context tried "
                            "(the largest is listed).");
    report_table(r, "Where each model stopped fitting", &fit);
    eb_table_free(&fit);
    eb_table_free(&trials);
}
