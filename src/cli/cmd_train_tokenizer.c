/*
 * cmd_train_tokenizer.c -- `monologue train-tokenizer`: learns a byte-level
 * BPE vocabulary from text files and writes a Hugging Face tokenizer.json
 * (see "2b. Training" in monologue.h).
 *
 * Exit status: 0 on success, 1 when training or writing fails, 2 on bad
 * usage (unknown flag, bad value, missing --vocab-size/--out/files).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "monologue.h"

#define CMD "train-tokenizer"

static void usage(FILE *f) {
    fprintf(f,
            "usage: monologue " CMD " --vocab-size N --out tokenizer.json [options] FILE...\n"
            "\n"
            "Learns a byte-level BPE vocabulary (Qwen2 style) from text files.\n"
            "\n"
            "  --vocab-size N        total vocabulary: 256 bytes + merges + special tokens\n"
            "  --out PATH            where to write tokenizer.json ('-' for stdout)\n"
            "  --special TOKEN       a special token (repeatable); ids follow the BPE vocabulary\n"
            "  --pretokenizer NAME   qwen2 (default) or gpt2\n"
            "  --no-nfc              do not NFC-normalize (the default normalizes, as Qwen2)\n"
            "  --min-frequency N     stop when the most frequent pair occurs fewer than N times\n"
            "  -q, --quiet           no summary on stderr\n");
}

static int write_output(const char *path, const char *json, size_t len) {
    int to_stdout = !strcmp(path, "-");
    FILE *f = to_stdout ? stdout : fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "monologue " CMD ": cannot open %s for writing\n", path);
        return 0;
    }
    int ok = fwrite(json, 1, len, f) == len;
    ok = (to_stdout ? fflush(f) : fclose(f)) == 0 && ok;
    if (!ok) fprintf(stderr, "monologue " CMD ": writing %s failed\n", path);
    return ok;
}

int cmd_train_tokenizer(int argc, char **argv) {
    mono_train_options opts;
    mono_train_options_init(&opts);
    const char *out = NULL;
    int have_vocab = 0, quiet = 0, rc = 2;
    const char **specials = calloc((size_t)argc, sizeof *specials);
    const char **files = calloc((size_t)argc, sizeof *files);
    size_t n_special = 0, n_files = 0;
    if (!specials || !files) {
        fprintf(stderr, "monologue " CMD ": out of memory\n");
        rc = 1;
        goto done;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        long long n;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            rc = 0;
            goto done;
        } else if (!strcmp(a, "--vocab-size")) {
            if (!(v = cli_flag_value(CMD, argc, argv, &i)) || !cli_parse_int(CMD, a, v, 1, UINT32_MAX, &n)) goto done;
            opts.vocab_size = (uint32_t)n;
            have_vocab = 1;
        } else if (!strcmp(a, "--out") || !strcmp(a, "-o")) {
            if (!(out = cli_flag_value(CMD, argc, argv, &i))) goto done;
        } else if (!strcmp(a, "--special")) {
            if (!(v = cli_flag_value(CMD, argc, argv, &i))) goto done;
            specials[n_special++] = v;
        } else if (!strcmp(a, "--pretokenizer")) {
            if (!(v = cli_flag_value(CMD, argc, argv, &i))) goto done;
            if (!strcmp(v, "qwen2")) opts.pretokenizer = 0;
            else if (!strcmp(v, "gpt2")) opts.pretokenizer = 1;
            else {
                fprintf(stderr, "monologue " CMD ": bad value for --pretokenizer: '%s' (expected qwen2 or gpt2)\n", v);
                goto done;
            }
        } else if (!strcmp(a, "--no-nfc")) {
            opts.nfc = 0;
        } else if (!strcmp(a, "--min-frequency")) {
            if (!(v = cli_flag_value(CMD, argc, argv, &i)) || !cli_parse_int(CMD, a, v, 0, INT64_MAX, &n)) goto done;
            opts.min_frequency = (uint64_t)n;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (!strcmp(a, "--")) {
            while (++i < argc) files[n_files++] = argv[i];
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "monologue " CMD ": unknown option '%s' (see --help)\n", a);
            goto done;
        } else {
            files[n_files++] = a;
        }
    }
    if (!have_vocab || !out || n_files == 0) {
        fprintf(stderr, "monologue " CMD ": %s\n", !have_vocab ? "--vocab-size is required"
                                                   : !out ? "--out is required" : "no input files given");
        usage(stderr);
        goto done;
    }
    opts.special_tokens = specials;
    opts.n_special = n_special;

    rc = 1;
    mono_error err = {0};
    mono_train_stats stats = {0};
    char *json = NULL;
    size_t len = 0;
    double t0 = mono_clock_seconds();
    if (mono_tokenizer_train_files(files, n_files, &opts, &json, &len, &stats, &err) != MONO_OK) {
        fprintf(stderr, "monologue " CMD ": %s\n", err.message);
        goto done;
    }
    double secs = mono_clock_seconds() - t0;
    if (write_output(out, json, len)) {
        rc = 0;
        if (!quiet)
            fprintf(stderr,
                    "monologue " CMD ": vocabulary %u (256 bytes + %u learned + %zu special), %u merges, "
                    "from %.1f MB (%llu pieces, %llu distinct) in %.2f s -> %s\n",
                    stats.vocab_size, stats.vocab_size - 256 - (uint32_t)n_special, n_special, stats.merges,
                    stats.bytes / 1e6, (unsigned long long)stats.pieces, (unsigned long long)stats.unique_pieces,
                    secs, out);
        if (!quiet && stats.vocab_size < opts.vocab_size)
            fprintf(stderr, "monologue " CMD ": note: the corpus ran out of pairs before reaching %u\n",
                    opts.vocab_size);
    }
    mono_free(json);
done:
    free(specials);
    free(files);
    return rc;
}
