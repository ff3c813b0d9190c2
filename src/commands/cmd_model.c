/* edgebench model synth | path | quantize | plan | list */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "edgebench/engine.h"
#include "edgebench/gguf_check.h"
#include "edgebench/params.h"
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

/* synth's own options; the preset, type, output and seed are the table's */
static const eb_param synth_rows[] = {
    {.key = "metadata_only",
     .scope = EB_PS_CLI,
     .type = EB_PT_BOOL,
     .flag = "metadata-only",
     .field = EB_FK_BOOL,
     .offset = offsetof(eb_synth_options, metadata_only),
     .help = "leave the tensor data as a sparse hole (shape checks without writing gigabytes)"},
    {.key = "vocab_dir",
     .scope = EB_PS_CLI,
     .type = EB_PT_STR,
     .flag = "vocab-dir",
     .def_doc = "the pinned llama.cpp's",
     .field = EB_FK_STR,
     .offset = offsetof(eb_synth_options, vocab_dir),
     .metavar = "DIR",
     .help = "where the vocabularies (ggml-vocab-*.gguf) are"},
};

static void synth_usage(FILE *f, const eb_cmd_rows *own)
{
    fputs("usage: edgebench model synth --preset NAME [--type T] -o FILE [options]\n"
          "Writes a GGUF with random weights and exactly the architecture of a published\n"
          "model. Speed, memory and energy measured on it are faithful; its generated text\n"
          "and perplexity mean nothing.\n\n",
          f);
    eb_cmd_help(EB_CMD_SYNTH, own, f);
}

/* A preset and its type, given (--preset is required here). */
static const eb_preset *preset_of(const eb_run_options *ro, eb_synth_type *t, eb_error *err)
{
    const eb_preset *p = eb_run_options_given(ro, "preset") ? eb_preset_find(ro->preset) : NULL;
    if (!eb_run_options_given(ro, "preset"))
        eb_fail(err, EB_E_INVALID_ARG, "--preset NAME is required");
    else if (!p)
        eb_fail(err, EB_E_INVALID_ARG, "unknown preset '%s' (see 'edgebench model list')",
                ro->preset);
    else
        eb_synth_type_parse(ro->type, t); /* the row's choices are the types */
    return err->status == EB_OK ? p : NULL;
}

static int model_synth(int argc, char **argv)
{
    eb_synth_options o = {0};
    eb_cmd_rows own = {synth_rows, sizeof synth_rows / sizeof synth_rows[0], &o, NULL, NULL, 0, 0};
    eb_run_options ro;
    int code = cli_parse(EB_CMD_SYNTH, "model synth", &own, argc, argv, &ro, synth_usage);
    if (code != EXIT_OK) return code < 0 ? EXIT_OK : code;
    o.seed = ro.cfg.seed;
    eb_error err = {0};
    eb_synth_type t = EB_SYNTH_Q4_0;
    const eb_preset *p = preset_of(&ro, &t, &err);
    if (p && !ro.output) eb_fail(&err, EB_E_INVALID_ARG, "-o FILE is required");
    if (err.status != EB_OK) return cli_report("model synth", &err);
    const char *out = ro.output;
    if (eb_synth_write(p, t, out, &o, &err) != EB_OK) return cli_report("model synth", &err);
    fprintf(stderr, "edgebench: wrote %s (%s %s, %.3f B params, synthetic random weights)\n", out,
            p->name, eb_synth_type_name(t), (double)eb_preset_n_params(p) / 1e9);
    return EXIT_OK;
}

static void path_usage(FILE *f, const eb_cmd_rows *own)
{
    fputs("usage: edgebench model path --preset NAME [--type T]\n"
          "Prints the cached synthetic model for (preset, type), generating it on first use.\n\n",
          f);
    eb_cmd_help(EB_CMD_PATH, own, f);
}

static int model_path(int argc, char **argv)
{
    eb_run_options ro;
    int code = cli_parse(EB_CMD_PATH, "model path", NULL, argc, argv, &ro, path_usage);
    if (code != EXIT_OK) return code < 0 ? EXIT_OK : code;
    eb_error err = {0};
    eb_synth_type t = EB_SYNTH_Q4_0;
    const eb_preset *p = preset_of(&ro, &t, &err);
    char path[1024];
    if (p && cli_synth_cached(p, t, path, sizeof path, false, &err) == EB_OK) {
        printf("%s\n", path);
        return EXIT_OK;
    }
    return cli_report("model path", &err);
}

static const eb_param quantize_rows[] = {
    {.key = "force",
     .scope = EB_PS_CLI,
     .type = EB_PT_BOOL,
     .flag = "force",
     .field = EB_FK_BOOL,
     .offset = 0,
     .help = "replace an existing OUT"},
};

static void quantize_usage(FILE *f, const eb_cmd_rows *own)
{
    fputs("usage: edgebench model quantize IN.gguf OUT.gguf TYPE [options]\n"
          "Writes IN with its weights quantized to TYPE by the pinned llama.cpp's\n"
          "quantizer (its per-tensor rules). An existing OUT is kept unless --force.\n"
          "TYPE:",
          f);
    for (const char *const *t = eb_engine_default()->quant_types(); *t; t++)
        fprintf(f, " %s", *t);
    fputs("\n(IQ1_*, IQ2_XXS/XS/S and Q2_K_S need an importance matrix and are refused)\n\n", f);
    eb_cmd_help(EB_CMD_QUANTIZE, own, f);
}

/* edgebench model quantize IN OUT TYPE [--force] [-t N] */
static int model_quantize(int argc, char **argv)
{
    const char *pos[3] = {NULL, NULL, NULL};
    bool force = false;
    eb_cmd_rows own = {quantize_rows, 1, &force, NULL, pos, 3, 0};
    eb_run_options ro;
    int code = cli_parse(EB_CMD_QUANTIZE, "model quantize", &own, argc, argv, &ro, quantize_usage);
    if (code != EXIT_OK) return code < 0 ? EXIT_OK : code;
    int threads = eb_run_options_given(&ro, "threads") ? ro.cfg.threads_gen : 0;
    eb_error err = {0};
    struct stat sb;
    if (own.n_positional != 3)
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
    if (eb_engine_default()->quantize(pos[0], part, pos[2], threads, &err) != EB_OK) {
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
    cli_usage_error("model", "unknown subcommand '%s'", argv[1]);
    return EXIT_USAGE;
}
