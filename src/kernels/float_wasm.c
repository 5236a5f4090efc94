/*
 * float_wasm.c -- f32/f16/bf16 weight kernels for WebAssembly SIMD128.
 *
 * Built only for wasm with -msimd128 (the wasm build adds this file; the
 * native Makefile filters *_wasm.c out). SIMD128 has no fused multiply-add
 * (relaxed SIMD is not accepted by V8 from clang 14) and no half-precision
 * conversion, so:
 *   - products are mul + add into four 4-lane accumulators;
 *   - half weights are widened with a shift, a multiply by 2^112 and an
 *     inf/nan fix-up (exact for every input, like float_portable.c);
 *   - bfloat16 weights are an interleave with zeros.
 * V8 tiers up hot code per function, so the kernels stay small functions
 * called once per row (decode) or per row range (gemm).
 *
 * gemm uses a register tile of 4 weight rows x 4 tokens (16 accumulators;
 * V8 on x86-64 has 16 xmm registers, so larger tiles spill); half weights
 * are widened once per chunk into a buffer first (gemm_f16_widened).
 */
#include <string.h>
#include <wasm_simd128.h>

#include "kernels/kernels.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE size_t elem_bytes(int type) { return type == MONO_TYPE_F32 ? 4 : 2; }

/* four halves (in the low 16 bits of each u32 lane) to f32: the exponent
 * and mantissa bits shifted into float position and multiplied by 2^112
 * rebias exactly, subnormal halves included (as float subnormals they
 * scale to the right normal value); an all-ones half exponent then gets
 * the float's all-ones exponent (inf/nan, mantissa kept), and the sign. */
static ALWAYS_INLINE v128_t half4_to_f32(v128_t h) {
    v128_t o = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x7FFF)), 13);
    v128_t f = wasm_f32x4_mul(o, wasm_f32x4_splat(0x1p112f));
    v128_t special = wasm_i32x4_eq(wasm_v128_and(h, wasm_i32x4_splat(0x7C00)), wasm_i32x4_splat(0x7C00));
    f = wasm_v128_or(f, wasm_v128_and(special, wasm_i32x4_splat(0x7F800000)));
    return wasm_v128_or(f, wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16));
}

/* 4 weights at p widened to f32 */
static ALWAYS_INLINE v128_t load_w4(int type, const char *p) {
    if (type == MONO_TYPE_F32) return wasm_v128_load(p);
    if (type == MONO_TYPE_F16) return half4_to_f32(wasm_u32x4_load16x4(p));
    return wasm_i16x8_shuffle(wasm_i16x8_splat(0), wasm_v128_load64_zero(p), 0, 8, 1, 9, 2, 10, 3, 11);
}

/* eight halves to two f32 vectors, as half4_to_f32 but with the sign and
 * inf/nan bits worked out once for all 8 in 16-bit lanes and moved to the
 * top of each 32-bit lane by an interleave with zeros */
static ALWAYS_INLINE void half8_to_f32(v128_t h, v128_t *lo, v128_t *hi) {
    const v128_t zero = wasm_i16x8_splat(0), scale = wasm_f32x4_splat(0x1p112f);
    v128_t special = wasm_i16x8_eq(wasm_v128_and(h, wasm_i16x8_splat(0x7C00)), wasm_i16x8_splat(0x7C00));
    v128_t top = wasm_v128_or(wasm_v128_and(h, wasm_i16x8_splat((int16_t)0x8000)),
                              wasm_v128_and(special, wasm_i16x8_splat(0x7F80)));
    v128_t mag = wasm_v128_and(h, wasm_i16x8_splat(0x7FFF));
    /* mag << 13 per 32-bit lane: interleaved to the top half, then >> 3 */
    v128_t m_lo = wasm_u32x4_shr(wasm_i16x8_shuffle(zero, mag, 0, 8, 1, 9, 2, 10, 3, 11), 3);
    v128_t m_hi = wasm_u32x4_shr(wasm_i16x8_shuffle(zero, mag, 4, 12, 5, 13, 6, 14, 7, 15), 3);
    *lo = wasm_v128_or(wasm_f32x4_mul(m_lo, scale), wasm_i16x8_shuffle(zero, top, 0, 8, 1, 9, 2, 10, 3, 11));
    *hi = wasm_v128_or(wasm_f32x4_mul(m_hi, scale), wasm_i16x8_shuffle(zero, top, 4, 12, 5, 13, 6, 14, 7, 15));
}

/* 8 weights at p widened to two f32 vectors */
static ALWAYS_INLINE void load_w8(int type, const char *p, v128_t *lo, v128_t *hi) {
    if (type == MONO_TYPE_F32) {
        *lo = wasm_v128_load(p);
        *hi = wasm_v128_load(p + 16);
        return;
    }
    v128_t h = wasm_v128_load(p);
    if (type == MONO_TYPE_F16) {
        half8_to_f32(h, lo, hi);
        return;
    }
    /* bfloat16: interleaving with zeros puts each value in the top half of
     * a 32-bit lane (one punpcklwd/punpckhwd in V8) */
    const v128_t zero = wasm_i16x8_splat(0);
    *lo = wasm_i16x8_shuffle(zero, h, 0, 8, 1, 9, 2, 10, 3, 11);
    *hi = wasm_i16x8_shuffle(zero, h, 4, 12, 5, 13, 6, 14, 7, 15);
}

/* the first m < 4 weights / activations at p, zeros after */
static ALWAYS_INLINE v128_t load_w_tail(int type, const char *p, int64_t m) {
    char tmp[16] = {0};
    memcpy(tmp, p, (size_t)m * elem_bytes(type));
    return load_w4(type, tmp);
}

static ALWAYS_INLINE v128_t load_x_tail(const float *p, int64_t m) {
    float tmp[4] = {0};
    memcpy(tmp, p, (size_t)m * sizeof(float));
    return wasm_v128_load(tmp);
}

static ALWAYS_INLINE float hsum(v128_t v) {
    return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 2)) +
           (wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 3));
}

#define MADD(acc, a, b) wasm_f32x4_add((acc), wasm_f32x4_mul((a), (b)))

static ALWAYS_INLINE void vec_dot_any(int type, int64_t n, float *out, const void *w, const void *x) {
    const char *wp = w;
    const float *xp = x;
    const size_t es = elem_bytes(type);
    v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v128_t w0, w1, w2, w3;
        load_w8(type, wp + (size_t)i * es, &w0, &w1);
        load_w8(type, wp + (size_t)(i + 8) * es, &w2, &w3);
        a0 = MADD(a0, w0, wasm_v128_load(xp + i));
        a1 = MADD(a1, w1, wasm_v128_load(xp + i + 4));
        a2 = MADD(a2, w2, wasm_v128_load(xp + i + 8));
        a3 = MADD(a3, w3, wasm_v128_load(xp + i + 12));
    }
    for (; i + 4 <= n; i += 4) a0 = MADD(a0, load_w4(type, wp + (size_t)i * es), wasm_v128_load(xp + i));
    if (i < n) a1 = MADD(a1, load_w_tail(type, wp + (size_t)i * es, n - i), load_x_tail(xp + i, n - i));
    *out = hsum(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)));
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
#define TILE_T 4
/* Activation bytes a token block may occupy so it stays in L2. */
#define X_BLOCK_BYTES (256 * 1024)

/* out[t * os + r] (+)= dot(w row r, x row t) for r < R, t < T; with add
 * the sums are added to what out holds (partial sums of row chunks). */
static ALWAYS_INLINE void tile(int type, int R, int T, int64_t n, const char *w, size_t wrb, const char *x, size_t xrb,
                               float *out, size_t os, int add) {
    const size_t es = elem_bytes(type);
    v128_t acc[TILE_R][TILE_T], wv[TILE_R];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) acc[r][t] = wasm_f32x4_splat(0);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) wv[r] = load_w4(type, w + (size_t)r * wrb + (size_t)i * es);
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) {
            v128_t xv = wasm_v128_load((const float *)(x + (size_t)t * xrb) + i);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) acc[r][t] = MADD(acc[r][t], wv[r], xv);
        }
    }
    if (i < n) {
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) wv[r] = load_w_tail(type, w + (size_t)r * wrb + (size_t)i * es, n - i);
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) {
            v128_t xv = load_x_tail((const float *)(x + (size_t)t * xrb) + i, n - i);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) acc[r][t] = MADD(acc[r][t], wv[r], xv);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) {
            float *o = &out[(size_t)t * os + (size_t)r];
            *o = add ? *o + hsum(acc[r][t]) : hsum(acc[r][t]);
        }
}

/* Half weights: widening costs SIMD128 about as much as the products of a
 * whole 4x4 tile step, so gemm widens each chunk of a row tile once into a
 * buffer and runs the f32 tile over it for every token of the block; the
 * chunks' partial sums add up in out. */
#define KC 512

static void widen_f16_chunk(const char *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) wasm_v128_store(dst + i, load_w4(MONO_TYPE_F16, src + (size_t)i * 2));
    if (i < n) {
        float tmp[4];
        wasm_v128_store(tmp, load_w_tail(MONO_TYPE_F16, src + (size_t)i * 2, n - i));
        memcpy(dst + i, tmp, (size_t)(n - i) * sizeof(float));
    }
}

static void gemm_f16_widened(int64_t n, const char *w, size_t wrb, int64_t r0, int64_t r1, const char *x, size_t xrb,
                             int64_t n_tok, float *out, size_t os) {
    float buf[TILE_R * KC];
    const size_t brb = KC * sizeof(float);
    int64_t tb = (int64_t)(X_BLOCK_BYTES / brb); /* tokens whose chunks stay in L2 */
    tb -= tb % TILE_T;
    for (int64_t t0 = 0; t0 < n_tok; t0 += tb) {
        int64_t t_end = n_tok - t0 < tb ? n_tok : t0 + tb;
        for (int64_t r = r0; r < r1; r += TILE_R) {
            int64_t nr = r1 - r < TILE_R ? r1 - r : TILE_R;
            for (int64_t k0 = 0; k0 < n; k0 += KC) {
                int64_t kc = n - k0 < KC ? n - k0 : KC;
                for (int64_t rr = 0; rr < nr; rr++)
                    widen_f16_chunk(w + (size_t)(r + rr) * wrb + (size_t)k0 * 2, buf + rr * KC, kc);
                const char *b = (const char *)buf, *xk = x + (size_t)k0 * sizeof(float);
                int add = k0 > 0;
                int64_t t = t0;
                for (; t + TILE_T <= t_end; t += TILE_T) {
                    float *o = out + (size_t)t * os + (size_t)r;
                    if (nr == TILE_R) {
                        tile(MONO_TYPE_F32, TILE_R, TILE_T, kc, b, brb, xk + (size_t)t * xrb, xrb, o, os, add);
                    } else {
                        for (int64_t rr = 0; rr < nr; rr++)
                            tile(MONO_TYPE_F32, 1, TILE_T, kc, b + (size_t)rr * brb, brb, xk + (size_t)t * xrb, xrb,
                                 o + rr, os, add);
                    }
                }
                for (; t < t_end; t++)
                    for (int64_t rr = 0; rr < nr; rr++)
                        tile(MONO_TYPE_F32, 1, 1, kc, b + (size_t)rr * brb, brb, xk + (size_t)t * xrb, xrb,
                             out + (size_t)t * os + (size_t)(r + rr), os, add);
            }
        }
    }
}

static ALWAYS_INLINE void gemm_any(int type, int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x,
                                   size_t xrb, int64_t n_tok, float *out, size_t os) {
    const char *wp = w, *xp = x;
    if (n_tok == 1) { /* decode: row after row (see vec_dot_of, float_matvec.h) */
        matvec_of(type)(n, wp, wrb, r0, r1, x, out);
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
                    tile(type, TILE_R, TILE_T, n, wr, wrb, xt, xrb, o, os, 0);
                } else {
                    for (int64_t rr = 0; rr < r1 - r; rr++)
                        tile(type, 1, TILE_T, n, wr + (size_t)rr * wrb, wrb, xt, xrb, o + rr, os, 0);
                }
            }
            /* leftover tokens: one row at a time (see vec_dot_of) */
            int64_t nr = r1 - r < TILE_R ? r1 - r : TILE_R;
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
    if (n_tok == 1) gemm_any(MONO_TYPE_F16, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
    else gemm_f16_widened(n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
}
static void gemm_bf16(int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x, size_t xrb,
                      int64_t n_tok, float *out, size_t os) {
    gemm_any(MONO_TYPE_BF16, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
}

void mono_kernels_register_float_wasm(mono_kernels *k) {
    k->vec_dot[MONO_TYPE_F32] = vec_dot_f32;
    k->vec_dot[MONO_TYPE_F16] = vec_dot_f16;
    k->vec_dot[MONO_TYPE_BF16] = vec_dot_bf16;
    k->gemm[MONO_TYPE_F32] = gemm_f32;
    k->gemm[MONO_TYPE_F16] = gemm_f16;
    k->gemm[MONO_TYPE_BF16] = gemm_bf16;
}
