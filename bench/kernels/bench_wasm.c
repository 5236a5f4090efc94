/*
 * bench_wasm.c -- single-threaded timing of the float kernels compiled to
 * WebAssembly (wasm32-wasi, SIMD128) and run by Node's V8: the portable C
 * kernels against float_wasm.c, decode (matrix-vector over > 128 MiB of
 * weights, GB/s) and prefill (gemm, GFLOP/s), plus a plain read loop of the
 * same bytes in wasm for scale. Built and run by bench/kernels/run_wasm.sh.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The fastest plain read wasm can do: 64 bytes of i64x2 adds per step. */
static uint64_t read_all(const uint64_t *p, size_t n) {
#if defined(__wasm_simd128__)
    v128_t a0 = wasm_i64x2_splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        a0 = wasm_i64x2_add(a0, wasm_v128_load(p + i));
        a1 = wasm_i64x2_add(a1, wasm_v128_load(p + i + 2));
        a2 = wasm_i64x2_add(a2, wasm_v128_load(p + i + 4));
        a3 = wasm_i64x2_add(a3, wasm_v128_load(p + i + 6));
    }
    v128_t a = wasm_v128_xor(wasm_v128_xor(a0, a1), wasm_v128_xor(a2, a3));
    return (uint64_t)wasm_i64x2_extract_lane(a, 0) ^ (uint64_t)wasm_i64x2_extract_lane(a, 1);
#else
    uint64_t a[8] = {0};
    for (size_t i = 0; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) a[k] += p[i + k];
    return a[0] ^ a[1] ^ a[2] ^ a[3] ^ a[4] ^ a[5] ^ a[6] ^ a[7];
#endif
}

int main(void) {
    const long long rows = 4864, cols = 896, n_tok = 64;
    mono_kernels tabs[2];
    const char *names[2] = {"portable", "wasm_simd128"};
    memset(tabs, 0, sizeof tabs);
    mono_kernels_register_float_portable(&tabs[0]);
    mono_kernels_register_float_portable(&tabs[1]);
#if defined(__wasm_simd128__)
    mono_kernels_register_float_wasm(&tabs[1]);
#endif
    static const mono_type types[] = {MONO_TYPE_F16, MONO_TYPE_BF16, MONO_TYPE_F32};
    float *x = malloc((size_t)(n_tok * cols) * 4), *out = malloc((size_t)(n_tok * rows) * 4);
    for (long long i = 0; i < n_tok * cols; i++) x[i] = (float)((i * 7919) % 2001 - 1000) / 1000.0f;
    volatile uint64_t sink = 0;
    for (size_t ti = 0; ti < 3; ti++) {
        mono_type type = types[ti];
        const mono_type_traits *tr = mono_type_get(type);
        size_t rb = mono_type_row_bytes(type, cols), mb = rb * (size_t)rows;
        int nc = (int)(((size_t)128 << 20) / mb) + 1; /* > 128 MiB: past any cache */
        char *w = malloc(mb * (size_t)nc);
        if (!w) { fprintf(stderr, "bench_wasm: out of memory\n"); return 1; }
        float *tmp = malloc((size_t)cols * 4);
        for (long long c = 0; c < cols; c++) tmp[c] = (float)((c * 31) % 17 - 8) / 64.0f;
        for (size_t off = 0; off + rb <= mb * (size_t)nc; off += rb) tr->from_float(tmp, w + off, cols);
        free(tmp);
        double t_read = 1e30;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = now_s();
            sink ^= read_all((const uint64_t *)w, mb * (size_t)nc / 8);
            double dt = (now_s() - t0) / nc;
            if (dt < t_read) t_read = dt;
        }
        for (int k = 0; k < 2; k++) {
            /* V8 runs a function in its baseline tier until it has spent a
             * budget, and switches on the next call: warm up on small calls */
            for (int wu = 0; wu < 200; wu++)
                tabs[k].gemm[type](cols, w, rb, 0, 16, x, (size_t)cols * 4, wu % 2 ? 1 : 12, out, (size_t)rows);
            double t_dec = 1e30, t_gemm = 1e30;
            for (int rep = 0; rep < 3; rep++) {
                double t0 = now_s();
                for (int c = 0; c < nc; c++)
                    tabs[k].gemm[type](cols, w + (size_t)c * mb, rb, 0, rows, x, (size_t)cols * 4, 1, out, 1);
                double dt = (now_s() - t0) / nc;
                if (dt < t_dec) t_dec = dt;
                t0 = now_s();
                tabs[k].gemm[type](cols, w, rb, 0, rows, x, (size_t)cols * 4, n_tok, out, (size_t)rows);
                dt = now_s() - t0;
                if (dt < t_gemm) t_gemm = dt;
            }
            printf("%-13s %-5s decode %6.1f GB/s (%3.0f%% of a wasm read loop, %.1f GB/s)   gemm x%lld %6.1f GFLOP/s\n",
                   names[k], tr->name, mb / t_dec / 1e9, 100 * t_read / t_dec, mb / t_read / 1e9, n_tok,
                   2.0 * rows * cols * n_tok / t_gemm / 1e9);
        }
        free(w);
    }
    free(x);
    free(out);
    printf("bench_wasm: done (%d)\n", (int)(sink & 1));
    return 0;
}
