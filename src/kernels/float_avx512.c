/*
 * float_avx512.c -- f32/f16/bf16 weight kernels for AVX-512 (F, BW, VL).
 *
 * Same shapes as float_avx2.c at twice the width, with AVX-512 masks for
 * the tails (masked loads never touch the bytes they skip, so no copies):
 *
 * vec_dot: four 16-lane accumulators (64 elements per step).
 *
 * gemm: a register tile of 4 weight rows x 6 tokens (24 accumulators + 4
 * widened weights + 1 activation of the 32 zmm registers).
 *
 * bfloat16 weights are widened to f32 in registers (zero-extend, shift)
 * rather than multiplied with AVX512_BF16's vdpbf16ps, which wants the
 * activations in bfloat16 too. Measured (2026-11-26, Zen 4):
 *   - activations rounded to bf16: dot products off by up to 1.9e-3 of the
 *     largest output (n = 896 and 4864, normal activations with a few
 *     outlier channels), 19x the golden tolerance of 1e-4 x max|logit|
 *     for a single matrix product;
 *   - activations split into bf16 hi + lo (two vdpbf16ps per step): error
 *     2e-6, but no faster than this file's 4x6 f32 tile (the split doubles
 *     the instruction count back to one per 16 products, and that was
 *     before paying for the split of the activations).
 * Decode is memory bound, where widening costs nothing.
 */
#include <immintrin.h>

#include "kernels/float_panel.h"
#include "kernels/float_short.h"
#include "kernels/kernels.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE size_t elem_bytes(int type) { return type == MONO_TYPE_F32 ? 4 : 2; }

/* 16 weights at p widened to f32; lanes off in m read nothing and are 0 */
static ALWAYS_INLINE __m512 load_w16(int type, const char *p, __mmask16 m) {
    if (type == MONO_TYPE_F32) return _mm512_maskz_loadu_ps(m, p);
    __m256i h = _mm256_maskz_loadu_epi16(m, p);
    if (type == MONO_TYPE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

static ALWAYS_INLINE __m512 load_w16_full(int type, const char *p) {
    if (type == MONO_TYPE_F32) return _mm512_loadu_ps(p);
    __m256i h = _mm256_loadu_si256((const __m256i *)p);
    if (type == MONO_TYPE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

static ALWAYS_INLINE __mmask16 tail_mask(int64_t m) { return (__mmask16)((1u << m) - 1); }

static ALWAYS_INLINE void vec_dot_any(int type, int64_t n, float *out, const void *w, const void *x) {
    const char *wp = w;
    const float *xp = x;
    const size_t es = elem_bytes(type);
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_fmadd_ps(load_w16_full(type, wp + (size_t)i * es), _mm512_loadu_ps(xp + i), a0);
        a1 = _mm512_fmadd_ps(load_w16_full(type, wp + (size_t)(i + 16) * es), _mm512_loadu_ps(xp + i + 16), a1);
        a2 = _mm512_fmadd_ps(load_w16_full(type, wp + (size_t)(i + 32) * es), _mm512_loadu_ps(xp + i + 32), a2);
        a3 = _mm512_fmadd_ps(load_w16_full(type, wp + (size_t)(i + 48) * es), _mm512_loadu_ps(xp + i + 48), a3);
    }
    for (; i + 16 <= n; i += 16)
        a0 = _mm512_fmadd_ps(load_w16_full(type, wp + (size_t)i * es), _mm512_loadu_ps(xp + i), a0);
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        a1 = _mm512_fmadd_ps(load_w16(type, wp + (size_t)i * es, m), _mm512_maskz_loadu_ps(m, xp + i), a1);
    }
    *out = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

/* gemm calls these for one token (decode) and for leftover tokens: one
 * row at a time is a single sequential stream, which the hardware
 * prefetchers follow; a tile of several rows x 1 token interleaves short
 * row streams and measured 2.5x slower from DRAM on Zen 4. noinline keeps
 * one copy of the loop. */
#define NOINLINE __attribute__((noinline))
static NOINLINE void vec_dot_f32(int64_t n, float *out, const void *w, const void *x) { vec_dot_any(MONO_TYPE_F32, n, out, w, x); }
static NOINLINE void vec_dot_f16(int64_t n, float *out, const void *w, const void *x) { vec_dot_any(MONO_TYPE_F16, n, out, w, x); }
static NOINLINE void vec_dot_bf16(int64_t n, float *out, const void *w, const void *x) { vec_dot_any(MONO_TYPE_BF16, n, out, w, x); }

static ALWAYS_INLINE mono_vec_dot_fn vec_dot_of(int type) {
    return type == MONO_TYPE_F32 ? vec_dot_f32 : type == MONO_TYPE_F16 ? vec_dot_f16 : vec_dot_bf16;
}

#include "kernels/float_matvec.h"

#define TILE_R 4
#define TILE_T 6

/* Sums 4 vectors' lanes at once: out = {sum a, sum b, sum c, sum d}. */
static ALWAYS_INLINE __m128 hsum4(__m512 a, __m512 b, __m512 c, __m512 d) {
    __m256 a8 = _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
    __m256 b8 = _mm256_add_ps(_mm512_castps512_ps256(b), _mm512_extractf32x8_ps(b, 1));
    __m256 c8 = _mm256_add_ps(_mm512_castps512_ps256(c), _mm512_extractf32x8_ps(c, 1));
    __m256 d8 = _mm256_add_ps(_mm512_castps512_ps256(d), _mm512_extractf32x8_ps(d, 1));
    __m256 ab = _mm256_hadd_ps(a8, b8), cd = _mm256_hadd_ps(c8, d8); /* a01 a23 b01 b23 | a45 a67 b45 b67 */
    __m256 abcd = _mm256_hadd_ps(ab, cd);                            /* a0-3 b0-3 c0-3 d0-3 | a4-7 ... */
    return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

/* out[t * os + r] = dot(w row r, x row t) for r < R, t < T (R, T constant
 * at every call site, so everything below unrolls into registers). */
static ALWAYS_INLINE void tile(int type, int R, int T, int64_t n, const char *w, size_t wrb, const char *x, size_t xrb,
                               float *out, size_t os) {
    const size_t es = elem_bytes(type);
    __m512 acc[TILE_R][TILE_T], wv[TILE_R];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) wv[r] = load_w16_full(type, w + (size_t)r * wrb + (size_t)i * es);
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) {
            __m512 xv = _mm512_loadu_ps((const float *)(x + (size_t)t * xrb) + i);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) wv[r] = load_w16(type, w + (size_t)r * wrb + (size_t)i * es, m);
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) {
            __m512 xv = _mm512_maskz_loadu_ps(m, (const float *)(x + (size_t)t * xrb) + i);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
    if (R == 4) {
#pragma GCC unroll 6
        for (int t = 0; t < T; t++)
            _mm_storeu_ps(out + (size_t)t * os, hsum4(acc[0][t], acc[1][t], acc[2][t], acc[3][t]));
    } else { /* hsum4's order for each row alone: a row's sum never depends on the tile it fell in */
        const __m512 z = _mm512_setzero_ps();
#pragma GCC unroll 4
        for (int r = 0; r < R; r++)
#pragma GCC unroll 6
            for (int t = 0; t < T; t++) out[(size_t)t * os + (size_t)r] = _mm_cvtss_f32(hsum4(acc[r][t], z, z, z));
    }
}

/* Short rows (attention): see float_short.h. */
/* A tile of R rows and rem < TILE_T tokens (rem a run-time value). */
static ALWAYS_INLINE void tile_rest(int type, int R, int64_t rem, int64_t n, const char *w, size_t wrb, const char *x,
                                    size_t xrb, float *out, size_t os) {
    switch (rem) {
    case 1: tile(type, R, 1, n, w, wrb, x, xrb, out, os); break;
    case 2: tile(type, R, 2, n, w, wrb, x, xrb, out, os); break;
    case 3: tile(type, R, 3, n, w, wrb, x, xrb, out, os); break;
    case 4: tile(type, R, 4, n, w, wrb, x, xrb, out, os); break;
    case 5: tile(type, R, 5, n, w, wrb, x, xrb, out, os); break;
    default: break;
    }
}

/* Activation bytes a token block may occupy so it stays in L2. */
#define X_BLOCK_BYTES (256 * 1024)

static ALWAYS_INLINE void gemm_any(int type, int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x,
                                   size_t xrb, int64_t n_tok, float *out, size_t os) {
    const char *wp = w, *xp = x;
    if (n_tok == 1) { /* decode: row after row (see vec_dot_of, float_matvec.h) */
        /* Half weights take AVX2's loop: on Zen 4, from DRAM, the 512-bit
         * loop read F16 at 87-94% and BF16 at 79-86% of a plain read loop
         * against 95-101% for AVX2's (bench/kernels/run.sh, 1 thread), and
         * F16 decode ran 1.04x (1 thread) and 1.12x (2 threads) faster with
         * it. From L3 both are as fast. F32: the same either way. */
        if (type != MONO_TYPE_F32) mono_float_avx2_matvec(type, n, wp, wrb, r0, r1, x, out);
        else matvec_of(type)(n, wp, wrb, r0, r1, x, out);
        return;
    }
    int64_t tb = (int64_t)(X_BLOCK_BYTES / ((size_t)n * 4 + 1));
    tb = tb < TILE_T ? TILE_T : tb - tb % TILE_T;
    for (int64_t t0 = 0; t0 < n_tok; t0 += tb) {
        int64_t t_end = n_tok - t0 < tb ? n_tok : t0 + tb;
        for (int64_t r = r0; r < r1; r += TILE_R) {
            int full_r = r1 - r >= TILE_R;
            const char *wr = wp + (size_t)r * wrb;
            int64_t t = t0;
            for (; t + TILE_T <= t_end; t += TILE_T) {
                const char *xt = xp + (size_t)t * xrb;
                float *o = out + (size_t)t * os + (size_t)r;
                if (full_r) {
                    tile(type, TILE_R, TILE_T, n, wr, wrb, xt, xrb, o, os);
                } else {
                    for (int64_t rr = 0; rr < r1 - r; rr++)
                        tile(type, 1, TILE_T, n, wr + (size_t)rr * wrb, wrb, xt, xrb, o + rr, os);
                }
            }
            /* leftover tokens: two or more against short rows take a narrower
             * tile, else one row at a time (see vec_dot_of; for a single
             * token the vec_dots measured 1% faster in decode at 2048
             * positions, and as fast in cache) */
            int64_t nr = r1 - r < TILE_R ? r1 - r : TILE_R;
            if (t_end - t >= 2 && n <= SHORT_ROW) {
                const char *xt = xp + (size_t)t * xrb;
                float *o = out + (size_t)t * os + (size_t)r;
                if (full_r) tile_rest(type, TILE_R, t_end - t, n, wr, wrb, xt, xrb, o, os);
                else
                    for (int64_t rr = 0; rr < nr; rr++)
                        tile_rest(type, 1, t_end - t, n, wr + (size_t)rr * wrb, wrb, xt, xrb, o + rr, os);
                t = t_end;
            }
            for (; t < t_end; t++)
                for (int64_t rr = 0; rr < nr; rr++)
                    vec_dot_of(type)(n, out + (size_t)t * os + (size_t)(r + rr), wr + (size_t)rr * wrb,
                                     xp + (size_t)t * xrb);
        }
    }
}

static void gemm_f32(int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x, size_t xrb,
                     int64_t n_tok, float *out, size_t os) {
    gemm_any(MONO_TYPE_F32, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
}
static void gemm_f16(int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x, size_t xrb,
                     int64_t n_tok, float *out, size_t os) {
    gemm_any(MONO_TYPE_F16, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
}
static void gemm_bf16(int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x, size_t xrb,
                      int64_t n_tok, float *out, size_t os) {
    gemm_any(MONO_TYPE_BF16, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
}

/* rows longer than PANEL_W decode from the panel form (float_panel.h) */
static void panel_gemm_f16(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1, const void *x, size_t xrb,
                           int64_t n_tok, float *out, size_t os) {
    panel_gemm(vec_dot_f16, gemm_f16, 2, n, wr, rows, r0, r1, x, xrb, n_tok, out, os);
}
static void panel_gemm_bf16(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1, const void *x, size_t xrb,
                            int64_t n_tok, float *out, size_t os) {
    panel_gemm(vec_dot_bf16, gemm_bf16, 2, n, wr, rows, r0, r1, x, xrb, n_tok, out, os);
}

void mono_kernels_register_float_avx512(mono_kernels *k) {
    k->vec_dot[MONO_TYPE_F32] = vec_dot_f32;
    k->vec_dot[MONO_TYPE_F16] = vec_dot_f16;
    k->vec_dot[MONO_TYPE_BF16] = vec_dot_bf16;
    k->gemm[MONO_TYPE_F32] = gemm_f32;
    k->gemm[MONO_TYPE_F16] = gemm_f16;
    k->gemm[MONO_TYPE_BF16] = gemm_bf16;
    panel_register(k, panel_gemm_f16, panel_gemm_bf16);
}
