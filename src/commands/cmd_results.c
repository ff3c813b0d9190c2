/* `edgebench results`: what the store holds, filtered, in the format asked. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edgebench/store.h"

static void usage(FILE *f)
{
    fputs("usage: edgebench results [options]\n"
          "Lists the trials in the results store.\n\n"
          "      --store SPEC       sqlite:FILE, FILE or postgresql://... (default\n"
          "                         $EDGEBENCH_STORE, else sqlite:edgebench.db)\n"
          "      --view VIEW        trials (one row each, means of the measured runs),\n"
          "                         runs (one row per run) or llama-bench (llama-bench's\n"
          "                         field names: one row per prompt or generation test)\n"
          "                         or quality (perplexity runs and KL divergence) or\n"
          "                         probes (device probes, newest first) or roofline\n"
          "                         (trials with their model's shape)\n"
          "      --format FMT       table, csv, json, jsonl, md or sql (default table)\n"
          "  -o, --output FILE      write to FILE instead of stdout\n"
          "      --device TEXT      hostname or board containing TEXT\n"
          "      --model TEXT       model name or path containing TEXT\n"
          "      --quant TYPE       weight type (Q4_0, Q4_K_M, ...)\n"
          "      --threads N        generation threads\n"
          "      --governor NAME    CPU governor\n"
          "      --status STATUS    ok or failed\n"
          "      --since DATE       started on or after (ISO 8601: 2026-11-23 or ...T10:00:00Z)\n"
          "      --until DATE       started before\n"
          "      --limit N          at most N rows\n"
          "      --timeline ID      the sampled timeline of trial ID instead\n"
          "  -h, --help             this help\n"
          "Missing measurements are empty (csv), null (json), NULL (sql) or n/a, never 0.\n",
          f);
}

int cmd_results(int argc, char **argv)
{
    enum {
        O_STORE = 256,
        O_VIEW,
        O_FORMAT,
        O_DEVICE,
        O_MODEL,
        O_QUANT,
        O_THREADS,
        O_GOV,
        O_STATUS,
        O_SINCE,
        O_UNTIL,
        O_LIMIT,
        O_TIMELINE
    };
    static const struct option opts[] = {{"store", required_argument, NULL, O_STORE},
                                         {"view", required_argument, NULL, O_VIEW},
                                         {"format", required_argument, NULL, O_FORMAT},
                                         {"output", required_argument, NULL, 'o'},
                                         {"device", required_argument, NULL, O_DEVICE},
                                         {"model", required_argument, NULL, O_MODEL},
                                         {"quant", required_argument, NULL, O_QUANT},
                                         {"threads", required_argument, NULL, O_THREADS},
                                         {"governor", required_argument, NULL, O_GOV},
                                         {"status", required_argument, NULL, O_STATUS},
                                         {"since", required_argument, NULL, O_SINCE},
                                         {"until", required_argument, NULL, O_UNTIL},
                                         {"limit", required_argument, NULL, O_LIMIT},
                                         {"timeline", required_argument, NULL, O_TIMELINE},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *spec = NULL, *format = "table", *output = NULL;
    eb_results_view view = EB_VIEW_TRIALS;
    eb_results_filter f = {0};
    long timeline = 0;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        long v;
        switch (opt) {
        case O_STORE:
            spec = optarg;
            break;
        case O_VIEW:
            if (strcmp(optarg, "trials") == 0)
                view = EB_VIEW_TRIALS;
            else if (strcmp(optarg, "runs") == 0)
                view = EB_VIEW_RUNS;
            else if (strcmp(optarg, "llama-bench") == 0)
                view = EB_VIEW_LLAMA_BENCH;
            else if (strcmp(optarg, "quality") == 0)
                view = EB_VIEW_QUALITY;
            else if (strcmp(optarg, "probes") == 0)
                view = EB_VIEW_PROBES;
            else if (strcmp(optarg, "roofline") == 0)
                view = EB_VIEW_ROOFLINE;
            else {
                fprintf(stderr,
                        "edgebench results: invalid_argument: --view must be trials, runs, "
                        "llama-bench, quality, probes or roofline, got '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case O_FORMAT:
            if (!eb_table_format_known(optarg)) {
                fprintf(stderr,
                        "edgebench results: invalid_argument: --format must be table, "
                        "csv, json, jsonl, md or sql, got '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            format = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case O_DEVICE:
            f.device = optarg;
            break;
        case O_MODEL:
            f.model = optarg;
            break;
        case O_QUANT:
            f.quant = optarg;
            break;
        case O_THREADS:
            if (!cli_int("--threads", optarg, 1, 1024, &v)) return EXIT_USAGE;
            f.threads = (int)v;
            break;
        case O_GOV:
            f.governor = optarg;
            break;
        case O_STATUS:
            if (strcmp(optarg, "ok") != 0 && strcmp(optarg, "failed") != 0) {
                fprintf(stderr,
                        "edgebench results: invalid_argument: --status must be ok or "
                        "failed, got '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            f.status = optarg;
            break;
        case O_SINCE:
            f.since = optarg;
            break;
        case O_UNTIL:
            f.until = optarg;
            break;
        case O_LIMIT:
            if (!cli_int("--limit", optarg, 1, 1L << 40, &v)) return EXIT_USAGE;
            f.limit = v;
            break;
        case O_TIMELINE:
            if (!cli_int("--timeline", optarg, 1, 1L << 60, &timeline)) return EXIT_USAGE;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case ':':
            fprintf(stderr, "edgebench results: invalid_argument: option '%s' needs a value\n",
                    argv[optind - 1]);
            return EXIT_USAGE;
        default:
            fprintf(stderr,
                    "edgebench results: invalid_argument: unknown option '%s' (see --help)\n",
                    argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "edgebench results: invalid_argument: unexpected argument '%s'\n",
                argv[optind]);
        return EXIT_USAGE;
    }
    eb_error err = {0};
    eb_store *s = NULL;
    if (eb_store_open(spec, &s, &err) != EB_OK) return cli_report("results", &err);
    eb_table t;
    eb_status st = timeline ? eb_store_timeline(s, timeline, &t, &err)
                            : eb_store_results(s, view, &f, &t, &err);
    eb_store_close(s);
    if (st != EB_OK) return cli_report("results", &err);
    FILE *out = stdout;
    if (output && !(out = fopen(output, "w"))) {
        eb_fail(&err, EB_E_IO, "output %s: %s", output, strerror(errno));
        eb_table_free(&t);
        return cli_report("results", &err);
    }
    const char *table = timeline                      ? "timelines"
                        : view == EB_VIEW_LLAMA_BENCH ? "llama_bench"
                                                      : "results";
    st = eb_table_write(out, &t, format, table, &err);
    if (out != stdout && fclose(out) != 0 && st == EB_OK)
        st = eb_fail(&err, EB_E_IO, "output %s: %s", output, strerror(errno));
    eb_table_free(&t);
    return st == EB_OK ? EXIT_OK : cli_report("results", &err);
}
