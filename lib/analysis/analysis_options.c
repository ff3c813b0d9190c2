/* The analyses' options, one row each (the parameter table's form): their
 * flags, ranges and defaults for `analyze` and `report`, and the defaults
 * a library caller gets from eb_analysis_defaults. */
#include <stddef.h>
#include <string.h>

#include "edgebench/analysis.h"

#define A(f) offsetof(eb_analysis_opts, f)
#define NUM(k, fl, lo, hi, d, member, u, h)                                                        \
    {                                                                                              \
        .key = k, .scope = EB_PS_CLI, .type = EB_PT_NUM, .flag = fl, .min = lo, .max = hi,         \
        .def = d, .field = EB_FK_DOUBLE, .offset = A(member), .unit = u, .help = h                 \
    }
#define STR(k, fl, d, member, mv, h)                                                               \
    {                                                                                              \
        .key = k, .scope = EB_PS_CLI, .type = EB_PT_STR, .flag = fl, .def = d, .field = EB_FK_STR, \
        .offset = A(member), .metavar = mv, .help = h                                              \
    }

const eb_param eb_analysis_options[] = {
    NUM("words_per_s", "words-per-s", 0.01, 1000, "4", words_per_s, NULL,
        "usability: reading speed, words a second"),
    NUM("words_per_token", "words-per-token", 0.01, 100, "0.75", words_per_token, NULL,
        "usability: words a token"),
    NUM("capacity_wh", "capacity-wh", 0.001, 1e6, "18.84", capacity_wh, "Wh",
        "battery: its capacity"),
    NUM("cents_per_kwh", "cents-per-kwh", 0, 1e5, "20", cents_per_kwh, NULL,
        "cost, breakeven: electricity price, cents a kWh"),
    NUM("cloud_input_cents", "cloud-input-cents", 0, 1e9, "15", cloud_in, NULL,
        "cost: a cloud's price per million input tokens, cents"),
    NUM("cloud_output_cents", "cloud-output-cents", 0, 1e9, "60", cloud_out, NULL,
        "cost: a cloud's price per million output tokens, cents"),
    STR("device_a", "device-a", NULL, device_a, "NAME", "breakeven: the first device"),
    NUM("price_a", "price-a", 0, 1e9, NULL, price_a, NULL, "breakeven: its price"),
    STR("device_b", "device-b", NULL, device_b, "NAME", "breakeven: the second device"),
    NUM("price_b", "price-b", 0, 1e9, NULL, price_b, NULL, "breakeven: its price"),
    STR("ratios", "ratios", "10:1,1:1,1:10", ratios, "IN:OUT,...",
        "breakeven: input:output token ratios"),
    STR("utilisations", "utilisations", "0.25,0.5,0.75,1", utilisations, "U,...",
        "breakeven: shares of the day the dearer device works"),
    {.key = "pick",
     .scope = EB_PS_CLI,
     .type = EB_PT_CHOICE,
     .flag = "pick",
     .choices = "fastest|least-energy",
     .def = "fastest",
     .field = EB_FK_STR,
     .offset = A(pick),
     .help = "breakeven: each device's configuration"},
    NUM("alpha", "alpha", 1e-6, 0.5, "0.05", alpha, NULL,
        "optimal: significance level of Welch's test"),
    {.key = "with_disturbed",
     .scope = EB_PS_CLI,
     .type = EB_PT_BOOL,
     .flag = "with-disturbed",
     .field = EB_FK_BOOL,
     .offset = A(f.with_disturbed),
     .help = "keep the runs marked disturbed (other processes took the CPUs: run "
             "--disturbed-above) instead of leaving them out"},
    {.key = "bootstrap",
     .scope = EB_PS_CLI,
     .type = EB_PT_INT,
     .flag = "bootstrap",
     .min = 0,
     .max = 1000000,
     .def = "2000",
     .field = EB_FK_INT,
     .offset = A(bootstrap),
     .help = "optimal: resamples for the interval of best minus runner-up (0: none; else at "
             "least 20)"},
};
const size_t eb_analysis_option_count = sizeof eb_analysis_options / sizeof eb_analysis_options[0];

void eb_analysis_defaults(eb_analysis_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = "table";
    eb_param_rows_defaults(eb_analysis_options, eb_analysis_option_count, o);
    /* a price not given (breakeven refuses to guess one) */
    o->price_a = o->price_b = -1;
}
