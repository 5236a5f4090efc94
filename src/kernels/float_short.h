/*
 * float_short.h -- what the x86 float gemms (float_avx2.c, float_avx512.c)
 * do differently for short rows: attention's keys, one KV head's worth of
 * floats each, against the few query heads that share them.
 *
 * A row of at most SHORT_ROW elements is a few cache lines, so a register
 * tile of several rows is one stream anyway, and a vec_dot per row would pay
 * its horizontal sum for every row: leftover tokens (2-5 query heads) take a
 * narrower tile (2-5 heads against 1024 keys in cache: 1.3-2x faster).
 *
 * The rows of one KV head sit kv_dim floats apart, a pattern the hardware
 * prefetchers follow poorly, so the gemms prefetch PF_ROWS rows ahead
 * (bench/pair/pair_decode --prompt on Qwen2.5-0.5B shapes, 2 threads, Zen 4,
 * AVX-512 build: decode 3.5-9% faster at 2048 positions, 1% at 512).
 */
#ifndef MONO_KERNELS_FLOAT_SHORT_H
#define MONO_KERNELS_FLOAT_SHORT_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#define SHORT_ROW 256
#define PF_ROWS 16

/* Prefetches rows r + PF_ROWS .. r + PF_ROWS + R - 1 of w (rows wrb bytes
 * apart, row_bytes used) into L1, when they are below r1. */
static inline void short_rows_prefetch(const char *w, size_t wrb, int64_t r, int64_t r1, int R, size_t row_bytes) {
    if (r + PF_ROWS + R > r1) return;
    for (int rr = 0; rr < R; rr++)
        for (size_t b = 0; b < row_bytes; b += 64)
            _mm_prefetch(w + (size_t)(r + PF_ROWS + rr) * wrb + b, _MM_HINT_T0);
}

#endif
