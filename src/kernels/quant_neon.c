/*
 * quant_neon.c -- dot products of the quantized types for AArch64 NEON.
 *
 * As in quant_wasm.c, every weight value fits a signed byte
 * (the 4/5/6-bit quants are 0..63 before their offset), so 16 products are
 * one signed byte dot: vdotq_s32 where the CPU has the dot-product extension
 * (compiled with +dotprod), else widening multiplies and pairwise adds (two
 * products per int16 lane where the weights are small: all but Q8_0).
 * Integer sums per block are exact, as in quant_portable.c; only the float
 * accumulation order differs. Shift counts that vary with a loop index use
 * vshlq by a (negative) vector, since vshrq_n needs a literal.
 * The prefill gemms, and the Q2_K/Q3_K dot products built from the same
 * unpacking, are in quant_neon_gemm.h (included at the end).
 */
#include <arm_neon.h>
#include <string.h>

#include "kernels/quant.h"

#define QK MONO_QK
#define QK_K MONO_QK_K
#define ALWAYS_INLINE inline __attribute__((always_inline))

/* Half to float without branches: exponent and mantissa moved into float
 * position and scaled by 2^112 (exact, subnormals included); inf/nan kept. */
static ALWAYS_INLINE float h2f(uint16_t h) {
    uint32_t em = (uint32_t)(h & 0x7FFF) << 13, bits;
    float f;
    memcpy(&f, &em, 4);
    f *= 0x1p112f;
    memcpy(&bits, &f, 4);
    if ((h & 0x7C00) == 0x7C00) bits = 0x7F800000u | em;
    bits |= (uint32_t)(h & 0x8000) << 16;
    memcpy(&f, &bits, 4);
    return f;
}

/* acc + sums of a[i]*b[i] over each group of 4 of 16 signed bytes */
static ALWAYS_INLINE int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(acc, a, b);
#else
    int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b)), hi = vmull_high_s8(a, b);
    return vaddq_s32(acc, vaddq_s32(vpaddlq_s16(lo), vpaddlq_s16(hi)));
#endif
}

/* dot16 for weights with |w| <= 64 (every type but Q8_0, whose weights may
 * be -128): without dotprod two products share an int16 lane (2 * 64 * 128
 * fits), so one widening multiply-accumulate pair and one pairwise add. */
static ALWAYS_INLINE int32x4_t dot16_small(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(acc, a, b);
#else
    return vpadalq_s16(acc, vmlal_high_s8(vmull_s8(vget_low_s8(a), vget_low_s8(b)), a, b));
#endif
}

static ALWAYS_INLINE uint8x16_t shr_u8(uint8x16_t v, int n) { return vshlq_u8(v, vdupq_n_s8((int8_t)-n)); }

/* 16 bits -> 16 bytes, 0xFF where bit j is set (byte j). */
static ALWAYS_INLINE uint8x16_t bits16(uint32_t b) {
    const uint8x16_t idx = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
    const uint8x16_t bit = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t v = vqtbl1q_u8(vreinterpretq_u8_u16(vdupq_n_u16((uint16_t)b)), idx);
    return vtstq_u8(v, bit);
}

/* ---------------------------------------------------------------- legacy */

static void vec_dot_q8_0(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q8_0 *a = w, *b = x;
    float32x4_t acc = vdupq_n_f32(0);
    for (int64_t i = 0; i < n / QK; i++) {
        int32x4_t s = dot16(vdupq_n_s32(0), vld1q_s8(a[i].qs), vld1q_s8(b[i].qs));
        s = dot16(s, vld1q_s8(a[i].qs + 16), vld1q_s8(b[i].qs + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), h2f(a[i].d) * h2f(b[i].d));
    }
    *out = vaddvq_f32(acc);
}

/* The 32 weights of a 4/5-bit block as bytes (low nibbles = elements
 * 0..15, high = 16..31), the 5th bit from qh, minus `off`. */
static ALWAYS_INLINE void unpack_45(const uint8_t *qs, const uint8_t *qh4, int off, int8x16_t *lo, int8x16_t *hi) {
    uint8x16_t v = vld1q_u8(qs);
    uint8x16_t l = vandq_u8(v, vdupq_n_u8(0x0F)), h = vshrq_n_u8(v, 4);
    if (qh4) {
        uint32_t qh;
        memcpy(&qh, qh4, 4);
        l = vorrq_u8(l, vandq_u8(bits16(qh & 0xFFFF), vdupq_n_u8(0x10)));
        h = vorrq_u8(h, vandq_u8(bits16(qh >> 16), vdupq_n_u8(0x10)));
    }
    *lo = vsubq_s8(vreinterpretq_s8_u8(l), vdupq_n_s8((int8_t)off));
    *hi = vsubq_s8(vreinterpretq_s8_u8(h), vdupq_n_s8((int8_t)off));
}

/* Q4_0/Q5_0 (x Q8_0, offset 8/16) and Q4_1/Q5_1 (x Q8_1, min term m*s). */
static ALWAYS_INLINE void dot_45(int64_t n, float *out, const void *w, const void *x, int type) {
    const int five = type == MONO_TYPE_Q5_0 || type == MONO_TYPE_Q5_1;
    const int has_min = type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1;
    const size_t wb = mono_type_get(type)->block_bytes, xb = has_min ? sizeof(mono_block_q8_1) : sizeof(mono_block_q8_0);
    const int off = type == MONO_TYPE_Q4_0 ? 8 : type == MONO_TYPE_Q5_0 ? 16 : 0;
    const size_t qs_at = (has_min ? 4 : 2) + (five ? 4 : 0), qh_at = has_min ? 4 : 2, xq_at = has_min ? 4 : 2;
    float32x4_t acc = vdupq_n_f32(0);
    float msum = 0;
    for (int64_t i = 0; i < n / QK; i++) {
        const uint8_t *a = (const uint8_t *)w + i * wb, *b = (const uint8_t *)x + i * xb;
        uint16_t da, db;
        memcpy(&da, a, 2);
        memcpy(&db, b, 2);
        int8x16_t lo, hi;
        unpack_45(a + qs_at, five ? a + qh_at : NULL, off, &lo, &hi);
        const int8_t *y = (const int8_t *)(b + xq_at);
        int32x4_t s = dot16_small(vdupq_n_s32(0), lo, vld1q_s8(y));
        s = dot16_small(s, hi, vld1q_s8(y + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), h2f(da) * h2f(db));
        if (has_min) {
            uint16_t ma, sb;
            memcpy(&ma, a + 2, 2);
            memcpy(&sb, b + 2, 2);
            msum += h2f(ma) * h2f(sb);
        }
    }
    *out = vaddvq_f32(acc) + msum;
}

static void vec_dot_q4_0(int64_t n, float *out, const void *w, const void *x) { dot_45(n, out, w, x, MONO_TYPE_Q4_0); }
static void vec_dot_q5_0(int64_t n, float *out, const void *w, const void *x) { dot_45(n, out, w, x, MONO_TYPE_Q5_0); }
static void vec_dot_q4_1(int64_t n, float *out, const void *w, const void *x) { dot_45(n, out, w, x, MONO_TYPE_Q4_1); }
static void vec_dot_q5_1(int64_t n, float *out, const void *w, const void *x) { dot_45(n, out, w, x, MONO_TYPE_Q5_1); }

/* ------------------------------------------------------------- K-quants */

static ALWAYS_INLINE void dot_q4k_q5k(int64_t n, float *out, const void *w, const void *x, int five) {
    const size_t bb = five ? sizeof(mono_block_q5_K) : sizeof(mono_block_q4_K);
    const mono_block_q8_K *b = x;
    const uint8x16_t m4 = vdupq_n_u8(0x0F), one = vdupq_n_u8(1);
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *blk = (const uint8_t *)w + i * bb;
        uint16_t dh, mh;
        memcpy(&dh, blk, 2);
        memcpy(&mh, blk + 2, 2);
        uint8_t sc[8], mn[8];
        mono_q4k_unpack_scales(blk + 4, sc, mn);
        const uint8_t *qs = blk + 16 + (five ? 32 : 0), *qh = blk + 16;
        int32x4_t isum = vdupq_n_s32(0);
        for (int j = 0; j < 4; j++) {
            const int8_t *y = b[i].qs + 64 * j;
            uint8x16_t q0 = vld1q_u8(qs + 32 * j), q1 = vld1q_u8(qs + 32 * j + 16);
            uint8x16_t l0 = vandq_u8(q0, m4), l1 = vandq_u8(q1, m4), h0 = vshrq_n_u8(q0, 4), h1 = vshrq_n_u8(q1, 4);
            if (five) {
                uint8x16_t b0 = vld1q_u8(qh), b1 = vld1q_u8(qh + 16);
                l0 = vorrq_u8(l0, vshlq_n_u8(vandq_u8(shr_u8(b0, 2 * j), one), 4));
                l1 = vorrq_u8(l1, vshlq_n_u8(vandq_u8(shr_u8(b1, 2 * j), one), 4));
                h0 = vorrq_u8(h0, vshlq_n_u8(vandq_u8(shr_u8(b0, 2 * j + 1), one), 4));
                h1 = vorrq_u8(h1, vshlq_n_u8(vandq_u8(shr_u8(b1, 2 * j + 1), one), 4));
            }
            const int32x4_t z = vdupq_n_s32(0);
            int32x4_t slo = dot16_small(dot16_small(z, vreinterpretq_s8_u8(l0), vld1q_s8(y)), vreinterpretq_s8_u8(l1),
                                        vld1q_s8(y + 16));
            int32x4_t shi = dot16_small(dot16_small(z, vreinterpretq_s8_u8(h0), vld1q_s8(y + 32)),
                                        vreinterpretq_s8_u8(h1), vld1q_s8(y + 48));
            isum = vmlaq_n_s32(isum, slo, sc[2 * j]);
            isum = vmlaq_n_s32(isum, shi, sc[2 * j + 1]);
        }
        int msum = 0;
        for (int j = 0; j < 8; j++) msum += mn[j] * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
        sum += b[i].d * (h2f(dh) * (float)vaddvq_s32(isum) - h2f(mh) * (float)msum);
    }
    *out = sum;
}

static void vec_dot_q4_K(int64_t n, float *out, const void *w, const void *x) { dot_q4k_q5k(n, out, w, x, 0); }
static void vec_dot_q5_K(int64_t n, float *out, const void *w, const void *x) { dot_q4k_q5k(n, out, w, x, 1); }

/* Q6_K: 16 weights = low (k < 2) or high nibbles of ql plus 2 bits of qh, minus 32. */
static ALWAYS_INLINE int8x16_t q6_16(uint8x16_t lq, uint8x16_t hq, int high_nibble, int shift) {
    uint8x16_t lo = high_nibble ? vshrq_n_u8(lq, 4) : vandq_u8(lq, vdupq_n_u8(0x0F));
    uint8x16_t hb = vshlq_n_u8(vandq_u8(shr_u8(hq, shift), vdupq_n_u8(3)), 4);
    return vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, hb)), vdupq_n_s8(32));
}

static void vec_dot_q6_K(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q6_K *a = w;
    const mono_block_q8_K *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32x4_t isum = vdupq_n_s32(0);
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = a[i].ql + 64 * half, *qh = a[i].qh + 32 * half;
            const int8_t *sc = a[i].scales + 8 * half, *y = b[i].qs + 128 * half;
            uint8x16_t l[4] = {vld1q_u8(ql), vld1q_u8(ql + 16), vld1q_u8(ql + 32), vld1q_u8(ql + 48)};
            uint8x16_t h[2] = {vld1q_u8(qh), vld1q_u8(qh + 16)};
            for (int k = 0; k < 4; k++)       /* 32 weights l + 32k: qh bits 2k..2k+1 */
                for (int s = 0; s < 2; s++) { /* 16 of them: scale sc[2k + s] */
                    int8x16_t q = q6_16(l[2 * (k & 1) + s], h[s], k >= 2, 2 * k);
                    int32x4_t d = dot16_small(vdupq_n_s32(0), q, vld1q_s8(y + 32 * k + 16 * s));
                    isum = vmlaq_n_s32(isum, d, sc[2 * k + s]);
                }
        }
        sum += b[i].d * h2f(a[i].d) * (float)vaddvq_s32(isum);
    }
    *out = sum;
}

#include "kernels/quant_neon_gemm.h"

void mono_kernels_register_quant_neon(mono_kernels *k) {
    k->vec_dot[MONO_TYPE_Q8_0] = vec_dot_q8_0;
    k->vec_dot[MONO_TYPE_Q4_0] = vec_dot_q4_0;
    k->vec_dot[MONO_TYPE_Q5_0] = vec_dot_q5_0;
    k->vec_dot[MONO_TYPE_Q4_1] = vec_dot_q4_1;
    k->vec_dot[MONO_TYPE_Q5_1] = vec_dot_q5_1;
    k->vec_dot[MONO_TYPE_Q4_K] = vec_dot_q4_K;
    k->vec_dot[MONO_TYPE_Q5_K] = vec_dot_q5_K;
    k->vec_dot[MONO_TYPE_Q6_K] = vec_dot_q6_K;
    k->vec_dot[MONO_TYPE_Q2_K] = vec_dot_q2_K; /* quant_neon_gemm.h */
    k->vec_dot[MONO_TYPE_Q3_K] = vec_dot_q3_K;
    k->gemm[MONO_TYPE_Q8_0] = gemm_q8_0;
    k->gemm[MONO_TYPE_Q4_0] = gemm_q4_0;
    k->gemm[MONO_TYPE_Q5_0] = gemm_q5_0;
    k->gemm[MONO_TYPE_Q4_1] = gemm_q4_1;
    k->gemm[MONO_TYPE_Q5_1] = gemm_q5_1;
    k->gemm[MONO_TYPE_Q4_K] = gemm_q4_K;
    k->gemm[MONO_TYPE_Q5_K] = gemm_q5_K;
    k->gemm[MONO_TYPE_Q6_K] = gemm_q6_K;
    k->gemm[MONO_TYPE_Q2_K] = gemm_q2_K;
    k->gemm[MONO_TYPE_Q3_K] = gemm_q3_K;
}
