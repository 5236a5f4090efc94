/*
 * cmd_convert.c -- `monologue convert -m MODEL -o OUT.gguf`: writes a model
 * (a Hugging Face folder or a GGUF file) as a GGUF file llama.cpp loads,
 * optionally with every matrix converted (--type f32|f16|bf16, or any type
 * this build can quantize to). Errors print a message and exit 1; bad flags
 * exit 2.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "formats/gguf_convert.h"
#include "formats/model_file.h"
#include "kernels/types.h"
#include "monologue.h"

static void usage(FILE *f) {
    fprintf(f, "usage: monologue convert -m MODEL -o OUT.gguf [--type TYPE] [--tokenizer tokenizer.json] [--name NAME]\n\n"
               "  -m, --model PATH   a Hugging Face folder (config.json + safetensors) or a .gguf file\n"
               "  -o, --output PATH  the GGUF file to write\n"
               "  --type TYPE        matrices as f32, f16, bf16 (or a quantized type this build knows);\n"
               "                     default: as stored. Norms and biases are always f32.\n"
               "  --tokenizer PATH   the vocabulary to embed (default: the model's own; a model without one\n"
               "                     gets the 256 byte tokens padded with [PAD<i>])\n"
               "  --name NAME        general.name\n");
}

static int parse_type(const char *s) {
    for (int t = 0; t < MONO_TYPE_COUNT; t++) {
        const mono_type_traits *tr = mono_type_get(t);
        if (tr && tr->from_float && !strcmp(tr->name, s)) return t;
    }
    return -1;
}

int cmd_convert(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    mono_convert_options opt;
    mono_convert_options_init(&opt);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(in = cli_flag_value("convert", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (!(out = cli_flag_value("convert", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--tokenizer")) {
            if (!(opt.tokenizer_json = cli_flag_value("convert", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--name")) {
            if (!(opt.name = cli_flag_value("convert", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--type")) {
            const char *v = cli_flag_value("convert", argc, argv, &i);
            if (!v) return 2;
            if ((opt.type = parse_type(v)) < 0) {
                fprintf(stderr, "monologue convert: bad value for --type: '%s' (f32, f16, bf16 or a quantized type such as q8_0)\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "monologue convert: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "monologue convert: need -m MODEL and -o OUT.gguf\n");
        usage(stderr);
        return 2;
    }
    mono_model_file *mf = NULL;
    mono_error err = {0};
    if (mono_model_file_open(in, &mf, &err) != MONO_OK) {
        fprintf(stderr, "monologue convert: %s\n", err.message);
        return 1;
    }
    mono_status st = mono_model_file_write_gguf(mf, &opt, out, &err);
    mono_model_file_close(mf);
    if (st != MONO_OK) {
        fprintf(stderr, "monologue convert: %s\n", err.message);
        return 1;
    }
    return 0;
}
