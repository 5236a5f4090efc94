/*
 * float_portable.c -- plain C11 dot products and matrix products for f32,
 * f16 and bf16 weights against f32 activations.
 *
 * These are the kernels WebAssembly without SIMD runs, and the oracle every
 * SIMD version is tested against, so their arithmetic is pinned down:
 *
 *   - each product w[i] * x[i] is added (no fused multiply-add: the build
 *     uses -std=c11, which turns off contraction) into lane i % 8 of eight
 *     float accumulators, in increasing i;
 *   - the lanes are summed as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), the
 *     same tree a 256-bit horizontal add uses.
 *
 * Half and bfloat16 weights are first widened to f32 (exactly) in chunks, so
 * the matrix product, which widens a row once and reuses it for every
 * token, gives results bit-identical to vec_dot. Eight independent lanes
 * also let compilers vectorize the loop without -ffast-math.
 */
#include <string.h>

#include "kernels/kernels.h"

#define LANES 8
#define CHUNK 2048 /* elements widened at a time (8 KiB of stack); a multiple of LANES */

/* IEEE half -> float without branches (so compilers vectorize it): the
 * exponent and mantissa bits shifted into float position and multiplied by
 * 2^112 rebias exactly, subnormal halves included (as float subnormals
 * they scale to the right normal value); an all-ones half exponent then
 * gets the float's all-ones exponent (inf/nan, payload kept). */
static inline float half_to_float(uint16_t h) {
    union { uint32_t u; float f; } o;
    o.u = (uint32_t)(h & 0x7FFF) << 13;
    o.f *= 0x1p112f;
    o.u |= (0u - (uint32_t)((h & 0x7C00) == 0x7C00)) & 0x7F800000u;
    o.u |= (uint32_t)(h & 0x8000) << 16;
    return o.f;
}

static inline float bf16_to_float(uint16_t h) {
    union { uint32_t u; float f; } o = {(uint32_t)h << 16};
    return o.f;
}

/* Blocks of 8 with a constant inner trip count: what -O2's basic-block
 * vectorizer handles (it will not vectorize loops of unknown length). */
static void widen_f16(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) dst[i + j] = half_to_float(src[i + j]);
    for (; i < n; i++) dst[i] = half_to_float(src[i]);
}

static void widen_bf16(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) dst[i + j] = bf16_to_float(src[i + j]);
    for (; i < n; i++) dst[i] = bf16_to_float(src[i]);
}

/* acc[j] += w[i] * x[i] for i = j mod 8; n % 8 == 0. */
static inline void acc_lanes(float acc[LANES], const float *w, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i += LANES)
#pragma GCC unroll 8
        for (int j = 0; j < LANES; j++) acc[j] += w[i + j] * x[i + j];
}

/* The last n % 8 elements go to lanes 0.. in order, as a full step would. */
static inline void acc_tail(float acc[LANES], const float *w, const float *x, int64_t n) {
    for (int64_t j = 0; j < n; j++) acc[j] += w[j] * x[j];
}

static inline float lanes_sum(const float a[LANES]) {
    return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

/* Accumulates elements [k0, k0 + len) of an f32 row: full steps, then a
 * tail only when this piece ends the row. */
static inline void acc_piece(float acc[LANES], const float *w, const float *x, int64_t len) {
    int64_t body = len - len % LANES;
    acc_lanes(acc, w, x, body);
    acc_tail(acc, w + body, x + body, len - body);
}

static void vec_dot_f32(int64_t n, float *out, const void *w, const void *x) {
    float acc[LANES] = {0};
    acc_piece(acc, w, x, n);
    *out = lanes_sum(acc);
}

static void vec_dot_f16(int64_t n, float *out, const void *w, const void *x) {
    float acc[LANES] = {0}, buf[CHUNK];
    const uint16_t *wh = w;
    const float *xf = x;
    for (int64_t k = 0; k < n; k += CHUNK) {
        int64_t len = n - k < CHUNK ? n - k : CHUNK;
        widen_f16(wh + k, buf, len);
        acc_piece(acc, buf, xf + k, len);
    }
    *out = lanes_sum(acc);
}

static void vec_dot_bf16(int64_t n, float *out, const void *w, const void *x) {
    float acc[LANES] = {0}, buf[CHUNK];
    const uint16_t *wh = w;
    const float *xf = x;
    for (int64_t k = 0; k < n; k += CHUNK) {
        int64_t len = n - k < CHUNK ? n - k : CHUNK;
        widen_bf16(wh + k, buf, len);
        acc_piece(acc, buf, xf + k, len);
    }
    *out = lanes_sum(acc);
}

/* Tokens whose accumulators are kept while a weight chunk is reused. */
#define TOK_TILE 8

/* One weight row against all tokens. Rows no longer than CHUNK are widened
 * once; longer rows are widened chunk by chunk for each tile of TOK_TILE
 * tokens (the accumulators of a tile live across chunks), so every (row,
 * token) pair sees exactly vec_dot's sequence of operations. */
static void gemm_row(int64_t n, int type, const void *wrow, const void *x, size_t x_row_bytes, int64_t n_tok,
                     float *out, size_t out_stride) {
    float buf[CHUNK];
    for (int64_t t0 = 0; t0 < n_tok; t0 += TOK_TILE) {
        int64_t nt = n_tok - t0 < TOK_TILE ? n_tok - t0 : TOK_TILE;
        float acc[TOK_TILE][LANES];
        memset(acc, 0, sizeof acc);
        for (int64_t k = 0; k < n; k += CHUNK) {
            int64_t len = n - k < CHUNK ? n - k : CHUNK;
            const float *wf;
            if (type == MONO_TYPE_F32) {
                wf = (const float *)wrow + k;
            } else {
                if (t0 == 0 || n > CHUNK) { /* a short row stays widened in buf */
                    if (type == MONO_TYPE_F16) widen_f16((const uint16_t *)wrow + k, buf, len);
                    else widen_bf16((const uint16_t *)wrow + k, buf, len);
                }
                wf = buf;
            }
            for (int64_t t = 0; t < nt; t++) {
                const float *xt = (const float *)((const char *)x + (size_t)(t0 + t) * x_row_bytes) + k;
                acc_piece(acc[t], wf, xt, len);
            }
        }
        for (int64_t t = 0; t < nt; t++) out[(size_t)(t0 + t) * out_stride] = lanes_sum(acc[t]);
    }
}

static void gemm_any(int type, int64_t n, const void *w, size_t w_row_bytes, int64_t r0, int64_t r1,
                     const void *x, size_t x_row_bytes, int64_t n_tok, float *out, size_t out_stride) {
    for (int64_t r = r0; r < r1; r++)
        gemm_row(n, type, (const char *)w + (size_t)r * w_row_bytes, x, x_row_bytes, n_tok, out + r, out_stride);
}

static void gemm_f32(int64_t n, const void *w, size_t w_row_bytes, int64_t r0, int64_t r1, const void *x,
                     size_t x_row_bytes, int64_t n_tok, float *out, size_t out_stride) {
    gemm_any(MONO_TYPE_F32, n, w, w_row_bytes, r0, r1, x, x_row_bytes, n_tok, out, out_stride);
}

static void gemm_f16(int64_t n, const void *w, size_t w_row_bytes, int64_t r0, int64_t r1, const void *x,
                     size_t x_row_bytes, int64_t n_tok, float *out, size_t out_stride) {
    gemm_any(MONO_TYPE_F16, n, w, w_row_bytes, r0, r1, x, x_row_bytes, n_tok, out, out_stride);
}

static void gemm_bf16(int64_t n, const void *w, size_t w_row_bytes, int64_t r0, int64_t r1, const void *x,
                      size_t x_row_bytes, int64_t n_tok, float *out, size_t out_stride) {
    gemm_any(MONO_TYPE_BF16, n, w, w_row_bytes, r0, r1, x, x_row_bytes, n_tok, out, out_stride);
}

/* Activations for float weights stay f32: the conversion is a copy. */
static void quantize_row_f32(const float *src, void *dst, int64_t n) { memcpy(dst, src, (size_t)n * sizeof(float)); }

void mono_kernels_register_float_portable(mono_kernels *k) {
    k->vec_dot[MONO_TYPE_F32] = vec_dot_f32;
    k->vec_dot[MONO_TYPE_F16] = vec_dot_f16;
    k->vec_dot[MONO_TYPE_BF16] = vec_dot_bf16;
    k->gemm[MONO_TYPE_F32] = gemm_f32;
    k->gemm[MONO_TYPE_F16] = gemm_f16;
    k->gemm[MONO_TYPE_BF16] = gemm_bf16;
    k->quantize_row[MONO_TYPE_F32] = quantize_row_f32;
}
