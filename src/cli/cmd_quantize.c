/*
 * cmd_quantize.c -- `monologue quantize IN.gguf OUT.gguf TYPE`: writes a copy
 * of a model with its weights in a llama.cpp file type (q8_0, q4_0, q4_k_m,
 * ...), choosing each tensor's type as llama-quantize does (see
 * src/formats/quantize.h). Prints a summary: tensors per type, sizes.
 * Bad arguments exit 2; a file that cannot be read or written exits 1.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "formats/quantize.h"
#include "kernels/types.h"
#include "monologue.h"

static void usage(FILE *f) {
    fprintf(f, "usage: monologue quantize [-t N] [--pure] IN OUT.gguf TYPE\n\n"
               "  IN           a .gguf file or a Hugging Face folder\n"
               "  TYPE         one of: %s\n"
               "               (k-quant mixes as llama.cpp makes them: q4_k_m gives attn_v and ffn_down\n"
               "               Q6_K on some layers, and tensors whose rows are not a multiple of 256 fall\n"
               "               back to Q5_0 / Q5_1 / Q8_0)\n"
               "  -t N         threads (default 2)\n"
               "  --pure       no mixes: every quantizable tensor gets TYPE's base type\n",
            mono_quantize_ftype_list());
}

int cmd_quantize(int argc, char **argv) {
    const char *pos[3];
    int n_pos = 0;
    mono_quantize_opts opts = {2, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            const char *v = cli_flag_value("quantize", argc, argv, &i);
            long long n;
            if (!v || !cli_parse_int("quantize", "-t", v, 1, 256, &n)) return 2;
            opts.n_threads = (int)n;
        } else if (!strcmp(a, "--pure")) {
            opts.pure = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "monologue quantize: unknown flag '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (n_pos < 3) {
            pos[n_pos++] = a;
        } else {
            fprintf(stderr, "monologue quantize: too many arguments ('%s')\n", a);
            return 2;
        }
    }
    if (n_pos != 3) { usage(stderr); return 2; }
    int ftype;
    if (!mono_quantize_ftype_parse(pos[2], &ftype)) {
        fprintf(stderr, "monologue quantize: unknown type '%s' (known: %s)\n", pos[2], mono_quantize_ftype_list());
        return 2;
    }
    if (!strcmp(pos[0], pos[1])) {
        fprintf(stderr, "monologue quantize: input and output are the same file\n");
        return 2;
    }
    mono_error err;
    mono_quantize_stats st;
    if (mono_quantize_model(pos[0], pos[1], ftype, &opts, &st, &err) != MONO_OK) {
        fprintf(stderr, "monologue quantize: %s\n", err.message);
        return 1;
    }
    printf("%s -> %s (%s): %zu tensors, %zu converted, %zu fell back to a smaller block\n", pos[0], pos[1],
           mono_quantize_ftype_name(ftype), st.n_tensors, st.n_converted, st.n_fallback);
    for (int t = 0; t < 40; t++)
        if (st.n_by_type[t]) printf("  %-6s %zu tensors\n", mono_type_get(t) ? mono_type_get(t)->name : "?", st.n_by_type[t]);
    printf("  tensor data %.2f MiB -> %.2f MiB\n", st.bytes_in / 1048576.0, st.bytes_out / 1048576.0);
    return 0;
}
