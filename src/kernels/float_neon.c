/*
 * float_neon.c -- f32/f16/bf16 weight kernels for AArch64 NEON.
 *
 * Every AArch64 CPU has NEON, FMA (vfmaq_f32) and the half <-> single
 * conversions (fcvtl), so nothing here needs a feature check.
 *
 * vec_dot: four 4-lane accumulators (16 elements per step); half weights
 * widen with fcvtl/fcvtl2, bfloat16 with a 16-bit left shift (shll). Tails
 * shorter than a step go through zero-padded copies, so nothing reads past
 * either row.
 *
 * gemm: a register tile of 4 weight rows x 6 tokens (24 accumulators + 4
 * widened weight vectors + 1 activation of the 32 vector registers).
 */
#include <arm_neon.h>
#include <string.h>

#include "kernels/kernels.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE size_t elem_bytes(int type) { return type == MONO_TYPE_F32 ? 4 : 2; }

/* 4 weights at p widened to f32 */
static ALWAYS_INLINE float32x4_t load_w4(int type, const char *p) {
    if (type == MONO_TYPE_F32) return vld1q_f32((const float *)p);
    uint16x4_t h = vld1_u16((const uint16_t *)p);
    if (type == MONO_TYPE_F16) return vcvt_f32_f16(vreinterpret_f16_u16(h));
    return vreinterpretq_f32_u32(vshll_n_u16(h, 16));
}

/* 8 weights at p widened to two f32 vectors */
static ALWAYS_INLINE void load_w8(int type, const char *p, float32x4_t *lo, float32x4_t *hi) {
    if (type == MONO_TYPE_F32) {
        *lo = vld1q_f32((const float *)p);
        *hi = vld1q_f32((const float *)p + 4);
        return;
    }
    uint16x8_t h = vld1q_u16((const uint16_t *)p);
    if (type == MONO_TYPE_F16) {
        float16x8_t f = vreinterpretq_f16_u16(h);
        *lo = vcvt_f32_f16(vget_low_f16(f));
        *hi = vcvt_high_f32_f16(f);
    } else {
        *lo = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16));
        *hi = vreinterpretq_f32_u32(vshll_high_n_u16(h, 16));
    }
}

/* the first m < 4 weights / activations at p, zeros after */
static ALWAYS_INLINE float32x4_t load_w_tail(int type, const char *p, int64_t m) {
    char tmp[16] = {0};
    memcpy(tmp, p, (size_t)m * elem_bytes(type));
    return load_w4(type, tmp);
}

static ALWAYS_INLINE float32x4_t load_x_tail(const float *p, int64_t m) {
    float tmp[4] = {0};
    memcpy(tmp, p, (size_t)m * sizeof(float));
    return vld1q_f32(tmp);
}

static ALWAYS_INLINE void vec_dot_any(int type, int64_t n, float *out, const void *w, const void *x) {
    const char *wp = w;
    const float *xp = x;
    const size_t es = elem_bytes(type);
    float32x4_t a0 = vdupq_n_f32(0), a1 = vdupq_n_f32(0), a2 = vdupq_n_f32(0), a3 = vdupq_n_f32(0);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t w0, w1, w2, w3;
        load_w8(type, wp + (size_t)i * es, &w0, &w1);
        load_w8(type, wp + (size_t)(i + 8) * es, &w2, &w3);
        a0 = vfmaq_f32(a0, w0, vld1q_f32(xp + i));
        a1 = vfmaq_f32(a1, w1, vld1q_f32(xp + i + 4));
        a2 = vfmaq_f32(a2, w2, vld1q_f32(xp + i + 8));
        a3 = vfmaq_f32(a3, w3, vld1q_f32(xp + i + 12));
    }
    for (; i + 4 <= n; i += 4) a0 = vfmaq_f32(a0, load_w4(type, wp + (size_t)i * es), vld1q_f32(xp + i));
    if (i < n) a1 = vfmaq_f32(a1, load_w_tail(type, wp + (size_t)i * es, n - i), load_x_tail(xp + i, n - i));
    *out = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
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

/* out[t * os + r] = dot(w row r, x row t) for r < R, t < T (constants at
 * every call site, so the loops unroll into registers). */
static ALWAYS_INLINE void tile(int type, int R, int T, int64_t n, const char *w, size_t wrb, const char *x, size_t xrb,
                               float *out, size_t os) {
    const size_t es = elem_bytes(type);
    float32x4_t acc[TILE_R][TILE_T], wv[TILE_R];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) acc[r][t] = vdupq_n_f32(0);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) wv[r] = load_w4(type, w + (size_t)r * wrb + (size_t)i * es);
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) {
            float32x4_t xv = vld1q_f32((const float *)(x + (size_t)t * xrb) + i);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) acc[r][t] = vfmaq_f32(acc[r][t], wv[r], xv);
        }
    }
    if (i < n) {
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) wv[r] = load_w_tail(type, w + (size_t)r * wrb + (size_t)i * es, n - i);
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) {
            float32x4_t xv = load_x_tail((const float *)(x + (size_t)t * xrb) + i, n - i);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) acc[r][t] = vfmaq_f32(acc[r][t], wv[r], xv);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) out[(size_t)t * os + (size_t)r] = vaddvq_f32(acc[r][t]);
}

/* Activation bytes a token block may occupy so it stays in L2. */
#define X_BLOCK_BYTES (256 * 1024)

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
                    tile(type, TILE_R, TILE_T, n, wr, wrb, xt, xrb, o, os);
                } else {
                    for (int64_t rr = 0; rr < r1 - r; rr++)
                        tile(type, 1, TILE_T, n, wr + (size_t)rr * wrb, wrb, xt, xrb, o + rr, os);
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
    gemm_any(MONO_TYPE_F16, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
}
static void gemm_bf16(int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x, size_t xrb,
                      int64_t n_tok, float *out, size_t os) {
    gemm_any(MONO_TYPE_BF16, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
}

/* Exact for every half (vcvt widens without rounding; NaNs stay NaNs of
 * the same sign), checked against mono_f16_to_f32 in test_kernels_float. */
static void to_float_f16(const void *src, float *dst, int64_t n) {
    const uint16_t *s = src;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(s + i))));
    for (; i < n; i++) dst[i] = mono_f16_to_f32(s[i]);
}

void mono_kernels_register_float_neon(mono_kernels *k) {
    k->vec_dot[MONO_TYPE_F32] = vec_dot_f32;
    k->vec_dot[MONO_TYPE_F16] = vec_dot_f16;
    k->vec_dot[MONO_TYPE_BF16] = vec_dot_bf16;
    k->gemm[MONO_TYPE_F32] = gemm_f32;
    k->gemm[MONO_TYPE_F16] = gemm_f16;
    k->gemm[MONO_TYPE_BF16] = gemm_bf16;
    k->to_float[MONO_TYPE_F16] = to_float_f16; /* the F16 KV cache's value rows */
}
