/*
 * bench_llama.c -- llama.cpp's side of bench/llama/run.sh: decode speed of a
 * GGUF through libllama (v0.5.0 from node-llama-cpp, dlopen'ed, CPU only),
 * measured the way `monologue run` reports its own: a prompt of token ids,
 * then N greedy tokens one at a time; prints "decode: N tokens, X tokens/s".
 *
 *   bench_llama LIBDIR MODEL.gguf THREADS N_PREDICT ID,ID,... [WARMUP]
 *
 * WARMUP 1 (bench/llama/compare.sh, as `monologue bench`): one untimed run
 * of the first 16 prompt tokens and 4 decode steps first, then the cache is
 * cleared. The line ends with the process's peak RSS (VmHWM).
 *
 * Greedy picks use mono_logits_argmax, as `monologue bench` does, so both
 * engines pay the same ~20 us a token for them (a plain scan costs ~0.5 ms
 * of a 10-20 ms token). Links build/libmonologue.a for that alone.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llama_dl.h"
#include "monologue.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: bench_llama LIBDIR MODEL.gguf THREADS N_PREDICT ID,ID,... [WARMUP]\n");
        return 2;
    }
    int n_threads = atoi(argv[3]), n_predict = atoi(argv[4]);
    int32_t prompt[512];
    int n_prompt = 0;
    for (char *s = argv[5]; *s && n_prompt < 512;) {
        prompt[n_prompt++] = (int32_t)strtol(s, &s, 10);
        if (*s == ',') s++;
    }
    llama_dl L;
    char why[512];
    int rc = llama_dl_open(&L, argv[1], argv[2], n_threads, n_prompt + n_predict + 16, why, sizeof why);
    if (rc) { fprintf(stderr, "bench_llama: %s\n", why); return rc; }
    if (argc == 7 && atoi(argv[6])) { /* warm-up: map the weights in, start the threads */
        int32_t wtok = prompt[0];
        if (!llama_dl_eval(&L, prompt, n_prompt < 16 ? n_prompt : 16)) return 1;
        for (int i = 0; i < 4; i++)
            if (!llama_dl_eval(&L, &wtok, 1)) return 1;
        llama_dl_clear(&L);
    }

    double t0 = now_s();
    const float *lg = llama_dl_eval(&L, prompt, n_prompt);
    if (!lg) { fprintf(stderr, "bench_llama: prompt failed\n"); return 1; }
    double t1 = now_s();
    for (int i = 0; i < n_predict; i++) {
        int32_t tok = mono_logits_argmax(lg, L.n_vocab); /* the pick `monologue bench` makes */
        if (tok < 0 || !(lg = llama_dl_eval(&L, &tok, 1))) { fprintf(stderr, "bench_llama: decode failed\n"); return 1; }
    }
    double t2 = now_s();
    double rss_mb = 0;
    char line[256];
    FILE *st = fopen("/proc/self/status", "r");
    while (st && fgets(line, sizeof line, st))
        if (!strncmp(line, "VmHWM:", 6)) rss_mb = atof(line + 6) / 1024.0;
    if (st) fclose(st);
    printf("prefill: %d tokens, %.1f tokens/s | decode: %d tokens, %.1f tokens/s | peak_rss_mb: %.1f\n", n_prompt,
           n_prompt / (t1 - t0), n_predict, n_predict / (t2 - t1), rss_mb);
    llama_dl_close(&L);
    return 0;
}
