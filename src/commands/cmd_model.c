/* edgebench model synth | path | quantize | plan | list */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "edgebench/engine.h"
#include "edgebench/gguf_check.h"
#include "edgebench/synth.h"

static void model_usage(FILE *f)
{
    fprintf(f, "usage: edgebench model synth --preset NAME [--type F16|Q8_0|Q4_0|Q4_K_M] -o FILE\n"
               "                             [--seed N] [--metadata-only]\n"
               "       edgebench model path --preset NAME [--type TYPE]\n"
               "       edgebench model quantize IN.gguf OUT.gguf TYPE [--force] [-t N]\n"
               "       edgebench model plan (--preset NAME [--type TYPE] | -m FILE) [options]\n"
               "       edgebench model fit (--preset NAME [--type TYPE] | -m FILE) [options]\n"
               "       edgebench model list\n\n"
               "fit finds the largest context this device allocates and runs, by trying them\n"
               "in child processes (see 'model fit --help').\n"
               "plan predicts memory, load time and tokens/s on this device from the model's\n"
               "shape and the device's probed ceilings (see 'model plan --help').\n"
               "path prints the cached synthetic model for (preset, type), generating it\n"
               "on first use.\n"
               "synth writes a GGUF with random weights and exactly the architecture of a\n"
               "published model. Speed, memory and energy measured on it are faithful;\n"
               "its generated text and perplexity mean nothing. --metadata-only leaves the\n"
               "tensor data as a sparse hole (for shape checks without writing gigabytes).\n");
}

static int model_list(void)
{
    printf("%-16s %-9s %-10s %-10s %8s %10s %10s %10s %10s\n", "preset", "abbrev", "arch", "vocab",
           "params", "F16", "Q8_0", "Q4_0", "Q4_K_M");
    for (size_t i = 0; i < eb_preset_count(); i++) {
        const eb_preset *p = eb_preset_at(i);
        printf("%-16s %-9s %-10s %-10s %7.2fB", p->name, p->abbrev, p->arch, p->vocab,
               (double)eb_preset_n_params(p) / 1e9);
        for (int t = 0; t < EB_SYNTH_TYPE_COUNT; t++)
            printf(" %9.0fM", (double)eb_preset_weights_bytes(p, (eb_synth_type)t) / 1048576.0);
        printf("%s\n", p->test_only ? "  (test)" : "");
    }
    printf("\nsizes are tensor data in MiB; all presets have random weights (synthetic)\n");
    return EXIT_OK;
}

static int model_synth(int argc, char **argv)
{
    static const struct option opts[] = {
        {"preset", required_argument, NULL, 'P'},  {"type", required_argument, NULL, 'y'},
        {"output", required_argument, NULL, 'o'},  {"seed", required_argument, NULL, 's'},
        {"metadata-only", no_argument, NULL, 'M'}, {"vocab-dir", required_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *preset = NULL, *type = "Q4_0", *out = NULL;
    eb_synth_options o = {.seed = 42};
    long seed;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'P':
            preset = optarg;
            break;
        case 'y':
            type = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 's':
            if (!cli_int("--seed", optarg, 0, 1L << 62, &seed)) return EXIT_USAGE;
            o.seed = (uint64_t)seed;
            break;
        case 'M':
            o.metadata_only = true;
            break;
        case 'V':
            o.vocab_dir = optarg;
            break;
        case 'h':
            model_usage(stdout);
            return EXIT_OK;
        case ':':
            fprintf(stderr, "edgebench model synth: invalid_argument: option '%s' needs a value\n",
                    argv[optind - 1]);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "edgebench model synth: invalid_argument: unknown option '%s'\n",
                    argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    eb_error err = {0};
    const eb_preset *p = eb_preset_find(preset);
    eb_synth_type t;
    if (!preset || !out) {
        eb_fail(&err, EB_E_INVALID_ARG, "--preset NAME and -o FILE are required");
        return cli_report("model synth", &err);
    }
    if (!p) {
        eb_fail(&err, EB_E_INVALID_ARG, "unknown preset '%s' (see 'edgebench model list')", preset);
        return cli_report("model synth", &err);
    }
    if (!eb_synth_type_parse(type, &t)) {
        eb_fail(&err, EB_E_INVALID_ARG, "--type must be F16, Q8_0, Q4_0 or Q4_K_M, got '%s'", type);
        return cli_report("model synth", &err);
    }
    if (eb_synth_write(p, t, out, &o, &err) != EB_OK) return cli_report("model synth", &err);
    fprintf(stderr, "edgebench: wrote %s (%s %s, %.3f B params, synthetic random weights)\n", out,
            p->name, eb_synth_type_name(t), (double)eb_preset_n_params(p) / 1e9);
    return EXIT_OK;
}

static int model_path(int argc, char **argv)
{
    const char *preset = NULL, *type = "Q4_0";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--preset") == 0 && i + 1 < argc)
            preset = argv[++i];
        else if (strcmp(argv[i], "--type") == 0 && i + 1 < argc)
            type = argv[++i];
        else {
            fprintf(stderr, "edgebench model path: invalid_argument: unexpected '%s'\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    eb_error err = {0};
    const eb_preset *p = eb_preset_find(preset);
    eb_synth_type t;
    if (!p)
        eb_fail(&err, EB_E_INVALID_ARG, "unknown or missing preset '%s'", preset ? preset : "");
    else if (!eb_synth_type_parse(type, &t))
        eb_fail(&err, EB_E_INVALID_ARG, "--type must be F16, Q8_0, Q4_0 or Q4_K_M, got '%s'", type);
    char path[1024];
    if (err.status == EB_OK && cli_synth_cached(p, t, path, sizeof path, false, &err) == EB_OK) {
        printf("%s\n", path);
        return EXIT_OK;
    }
    return cli_report("model path", &err);
}

/* edgebench model quantize IN OUT TYPE [--force] [-t N] */
static int model_quantize(int argc, char **argv)
{
    const char *pos[3] = {NULL, NULL, NULL};
    int n_pos = 0;
    long threads = 0;
    bool force = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0) {
            force = true;
        } else if ((strcmp(argv[i], "-t") == 0 || strcmp(argv[i], "--threads") == 0) &&
                   i + 1 < argc) {
            if (!cli_int("-t/--threads", argv[++i], 1, 1024, &threads)) return EXIT_USAGE;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: edgebench model quantize IN.gguf OUT.gguf TYPE [--force] [-t N]\n"
                   "Writes IN with its weights quantized to TYPE by the pinned llama.cpp's\n"
                   "quantizer (its per-tensor rules). An existing OUT is kept unless --force.\n"
                   "TYPE:");
            for (const char *const *t = eb_engine_default()->quant_types(); *t; t++)
                printf(" %s", *t);
            printf(
                "\n(IQ1_*, IQ2_XXS/XS/S and Q2_K_S need an importance matrix and are refused)\n");
            return EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "edgebench model quantize: invalid_argument: unknown option '%s'\n",
                    argv[i]);
            return EXIT_USAGE;
        } else if (n_pos < 3) {
            pos[n_pos++] = argv[i];
        } else {
            fprintf(stderr, "edgebench model quantize: invalid_argument: unexpected '%s'\n",
                    argv[i]);
            return EXIT_USAGE;
        }
    }
    eb_error err = {0};
    struct stat sb;
    if (n_pos != 3)
        eb_fail(&err, EB_E_INVALID_ARG, "usage: edgebench model quantize IN.gguf OUT.gguf TYPE");
    else if (!force && stat(pos[1], &sb) == 0)
        eb_fail(&err, EB_E_INVALID_ARG, "%s exists; --force replaces it", pos[1]);
    else if (strcmp(pos[0], pos[1]) == 0)
        eb_fail(&err, EB_E_INVALID_ARG, "input and output are the same file %s", pos[0]);
    eb_gguf_summary gs;
    if (err.status == EB_OK) eb_gguf_check(pos[0], &gs, &err);
    if (err.status != EB_OK) return cli_report("model quantize", &err);
    /* Written beside and renamed: a failure leaves no half file and an
     * existing OUT stays until the new one is whole. */
    char part[1100];
    snprintf(part, sizeof part, "%s.part", pos[1]);
    if (eb_engine_default()->quantize(pos[0], part, pos[2], (int)threads, &err) != EB_OK) {
        unlink(part);
        return cli_report("model quantize", &err);
    }
    if (rename(part, pos[1]) != 0) {
        eb_fail(&err, EB_E_IO, "cannot rename %s to %s: %s", part, pos[1], strerror(errno));
        unlink(part);
        return cli_report("model quantize", &err);
    }
    stat(pos[1], &sb);
    fprintf(stderr, "edgebench: wrote %s (%s, %.1f MiB)\n", pos[1], pos[2],
            (double)sb.st_size / 1048576.0);
    return EXIT_OK;
}

int cmd_model(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        model_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "list") == 0) return model_list();
    if (strcmp(argv[1], "synth") == 0) return model_synth(argc - 1, argv + 1);
    if (strcmp(argv[1], "path") == 0) return model_path(argc - 1, argv + 1);
    if (strcmp(argv[1], "quantize") == 0) return model_quantize(argc - 1, argv + 1);
    if (strcmp(argv[1], "plan") == 0) return cmd_model_plan(argc - 1, argv + 1);
    if (strcmp(argv[1], "fit") == 0) return cmd_model_fit(argc - 1, argv + 1);
    fprintf(stderr, "edgebench model: invalid_argument: unknown subcommand '%s'\n", argv[1]);
    return EXIT_USAGE;
}
