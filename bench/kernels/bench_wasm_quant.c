/*
 * bench_wasm_quant.c -- single-threaded prefill timing of the quantized
 * kernels compiled to WebAssembly (wasm32-wasi, SIMD128) and run by Node's
 * V8: for each weight type, a [rows x cols] matrix times n_tok tokens three
 * ways -- the portable vec_dot per (row, token), quant_wasm.c's vec_dot per
 * (row, token) (what prefill did before quant_wasm_gemm.h), and its gemm --
 * in GOP/s (2 ops per weight and token), with the gemm's speed-up over the
 * SIMD vec_dot loop. Every gemm output is checked against the vec_dot loop.
 * Built and run by bench/kernels/run_wasm_quant.sh.
 *
 * Usage: bench_wasm_quant [rows cols n_tok]   (default 896 1024 64; K-quants
 * need cols a multiple of 256, others of 32)
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/quant.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef void (*run_fn)(const mono_kernels *k, int type, int64_t n, const void *w, size_t wrb, int64_t rows,
                       const void *x, size_t xrb, int64_t n_tok, float *out);

static void run_loop(const mono_kernels *k, int type, int64_t n, const void *w, size_t wrb, int64_t rows, const void *x,
                     size_t xrb, int64_t n_tok, float *out) {
    mono_gemm_by_vec_dot(k->vec_dot[type], n, w, wrb, 0, rows, x, xrb, n_tok, out, (size_t)rows);
}

static void run_gemm(const mono_kernels *k, int type, int64_t n, const void *w, size_t wrb, int64_t rows, const void *x,
                     size_t xrb, int64_t n_tok, float *out) {
    k->gemm[type](n, w, wrb, 0, rows, x, xrb, n_tok, out, (size_t)rows);
}

/* Best of a few repetitions, each at least ~0.2 s; GOP/s. */
static double time_it(run_fn fn, const mono_kernels *k, int type, int64_t n, const void *w, size_t wrb, int64_t rows,
                      const void *x, size_t xrb, int64_t n_tok, float *out) {
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        int iters = 0;
        double t0 = now_s(), dt;
        do {
            fn(k, type, n, w, wrb, rows, x, xrb, n_tok, out);
            iters++;
            dt = now_s() - t0;
        } while (dt < 0.2);
        if (dt / iters < best) best = dt / iters;
    }
    return 2.0 * (double)rows * (double)n * (double)n_tok / best * 1e-9;
}

int main(int argc, char **argv) {
    int64_t rows = 896, cols = 1024, n_tok = 64;
    if (argc == 4) {
        rows = atoll(argv[1]);
        cols = atoll(argv[2]);
        n_tok = atoll(argv[3]);
    }
    if (rows <= 0 || cols <= 0 || cols % 32 != 0 || n_tok <= 0) {
        fprintf(stderr, "bench_wasm_quant: rows, cols (a multiple of 32) and n_tok must be positive\n");
        return 2;
    }
    mono_kernels p, k;
    memset(&p, 0, sizeof p);
    mono_kernels_register_quant_portable(&p);
    k = p;
#if defined(__wasm_simd128__)
    mono_kernels_register_quant_wasm(&k);
#endif
    static const int types[] = {MONO_TYPE_Q8_0, MONO_TYPE_Q4_0, MONO_TYPE_Q5_0, MONO_TYPE_Q4_1, MONO_TYPE_Q5_1,
                                MONO_TYPE_Q2_K, MONO_TYPE_Q3_K, MONO_TYPE_Q4_K, MONO_TYPE_Q5_K, MONO_TYPE_Q6_K};
    float *f = malloc((size_t)cols * 4), *out = malloc((size_t)(rows * n_tok) * 4),
          *ref = malloc((size_t)(rows * n_tok) * 4);
    printf("prefill [%lld x %lld] x %lld tokens, one thread, GOP/s\n", (long long)rows, (long long)cols,
           (long long)n_tok);
    printf("%-6s %12s %14s %10s %9s\n", "type", "portable", "simd vec_dot", "simd gemm", "speed-up");
    int bad_total = 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        const int type = types[i];
        const mono_type_traits *tr = mono_type_get(type), *vt = mono_type_get(tr->vec_dot_type);
        if (cols % tr->block_size != 0) continue;
        size_t wrb = mono_type_row_bytes(type, cols), xrb = mono_type_row_bytes(tr->vec_dot_type, cols);
        uint8_t *w = malloc(wrb * (size_t)rows), *x = malloc(xrb * (size_t)n_tok);
        uint64_t s = 12345 + i;
        for (int64_t r = 0; r < rows + n_tok; r++) {
            for (int64_t j = 0; j < cols; j++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                f[j] = (float)((double)(s >> 40) / 16777216.0 - 0.5) * (r < rows ? 0.05f : 2.0f);
            }
            if (r < rows) tr->from_float(f, w + (size_t)r * wrb, cols);
            else vt->from_float(f, x + (size_t)(r - rows) * xrb, cols);
        }
        double gp = time_it(run_loop, &p, type, cols, w, wrb, rows, x, xrb, n_tok, ref);
        double gv = time_it(run_loop, &k, type, cols, w, wrb, rows, x, xrb, n_tok, ref);
        double gg = k.gemm[type] ? time_it(run_gemm, &k, type, cols, w, wrb, rows, x, xrb, n_tok, out) : 0;
        int bad = 0;
        if (k.gemm[type]) {
            double big = 1e-3;
            for (int64_t j = 0; j < rows * n_tok; j++) big = fmax(big, fabs(ref[j]));
            for (int64_t j = 0; j < rows * n_tok; j++) bad += !(fabs(out[j] - ref[j]) <= 2e-5 * big + 1e-6);
        }
        bad_total += bad;
        printf("%-6s %12.2f %14.2f %10.2f %8.2fx%s\n", tr->name, gp, gv, gg, gv > 0 ? gg / gv : 0,
               bad ? "  MISMATCH" : "");
        free(w);
        free(x);
    }
    free(f);
    free(out);
    free(ref);
    printf("bench_wasm_quant: done\n");
    return bad_total ? 1 : 0;
}
