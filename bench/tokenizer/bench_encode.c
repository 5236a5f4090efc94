/*
 * bench_encode.c -- times Monologue's tokenizer on one file: loads the
 * tokenizer (not timed), then encodes the file's documents (separated by
 * form feeds, '\f') one call each, with a fresh encoder per run (its piece
 * cache starts empty each run and carries over between documents, as Hugging
 * Face's model-level cache does). Best of N runs.
 * Prints one JSON line: {"bytes", "ids", "best_s", "mb_per_s", "load_s"}.
 *
 *   bench_encode TOKENIZER TEXT_FILE [RUNS]
 *
 * Built and run by bench_tokenizer.js; single-threaded by construction.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monologue.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_encode TOKENIZER TEXT_FILE [RUNS]\n");
        return 2;
    }
    int runs = argc > 3 ? atoi(argv[3]) : 3;
    if (runs < 1) runs = 1;
    FILE *f = fopen(argv[2], "rb");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc(size > 0 ? (size_t)size : 1);
    if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "cannot read %s\n", argv[2]);
        return 1;
    }
    fclose(f);
    mono_error err;
    mono_tokenizer *tok;
    double t0 = now();
    if (mono_tokenizer_load(argv[1], &tok, &err) != MONO_OK) {
        fprintf(stderr, "loading %s: %s\n", argv[1], err.message);
        return 1;
    }
    double load_s = now() - t0, best = 1e30;
    size_t n_ids = 0;
    for (int r = 0; r < runs; r++) {
        mono_encoder *enc;
        int32_t *ids;
        if (mono_encoder_init(tok, &enc, &err) != MONO_OK) return 1;
        double a = now();
        n_ids = 0;
        for (long off = 0; off < size;) {
            const char *ff = memchr(text + off, '\f', (size_t)(size - off));
            long end = ff ? (long)(ff - text) : size;
            size_t n;
            if (mono_encoder_encode(enc, text + off, (size_t)(end - off), 0, &ids, &n, &err) != MONO_OK) {
                fprintf(stderr, "encoding: %s\n", err.message);
                return 1;
            }
            n_ids += n;
            mono_free(ids);
            off = end + 1;
        }
        double dt = now() - a;
        if (dt < best) best = dt;
        mono_encoder_free(enc);
    }
    printf("{\"bytes\": %ld, \"ids\": %zu, \"best_s\": %.6f, \"mb_per_s\": %.3f, \"load_s\": %.4f}\n", size, n_ids, best,
           (double)size / 1e6 / best, load_s);
    mono_tokenizer_free(tok);
    free(text);
    return 0;
}
