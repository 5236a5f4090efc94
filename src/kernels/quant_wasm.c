/*
 * quant_wasm.c -- dot products of the quantized types for WebAssembly SIMD128.
 *
 * Built only for wasm with -msimd128 (wasm/Makefile takes every *_wasm.c;
 * the native Makefile filters them out). SIMD128 has no 8-bit dot product
 * V8 accepts (relaxed SIMD from clang 14 is rejected), so the weights are
 * widened to i16 (the activations by their loads) and 8 products are one
 * i32x4.dot_i16x8_s. Every weight value here fits a signed byte (the
 * 4/5/6-bit quants are 0..63 before their offset), so one signed multiply
 * serves all types. Integer sums per block are exact, as in quant_portable.c;
 * only the float accumulation differs.
 *
 * V8 tiers up hot code per function, so each kernel is one function called
 * per row. The prefill gemms, and the Q2_K/Q3_K dot products built from the
 * same unpacking, are in quant_wasm_gemm.h (included at the end).
 * Registration: mono_kernels_register_quant_wasm (kernels.c).
 */
#include <string.h>
#include <wasm_simd128.h>

#include "kernels/quant.h"

#define QK MONO_QK
#define QK_K MONO_QK_K
#define ALWAYS_INLINE inline __attribute__((always_inline))

/* Half to float without branches (mono_f16_to_f32 loops on subnormals):
 * the half's exponent and mantissa moved into float position and scaled by
 * 2^112 rebias exactly, subnormals included; all-ones exponents stay
 * inf/nan. */
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

/* Sums of a[i]*y[i] for 16 signed bytes a and activations y[0..16), in
 * i32 lanes: both widened to i16 (the activation by its load,
 * i16x8.load8x8_s) and multiplied by i32x4.dot_i16x8_s, which is x86's
 * pmaddwd. In V8 this is fewer instructions than the int8 route
 * (extmul_high and extadd_pairwise are several each): ~13% faster. */
static ALWAYS_INLINE v128_t dot16(v128_t a, const int8_t *y) {
    return wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(a), wasm_i16x8_load8x8(y)),
                          wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(a), wasm_i16x8_load8x8(y + 8)));
}

/* The same for 32 weights: lo = elements 0..15, hi = 16..31. */
static ALWAYS_INLINE v128_t dot32(v128_t lo, v128_t hi, const int8_t *y) {
    return wasm_i32x4_add(dot16(lo, y), dot16(hi, y + 16));
}

static ALWAYS_INLINE int hsum_i32(v128_t v) {
    return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) + wasm_i32x4_extract_lane(v, 2) +
           wasm_i32x4_extract_lane(v, 3);
}

static ALWAYS_INLINE float hsum_f32(v128_t v) {
    return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
           (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

/* 16 bits -> 16 bytes, 0xFF where bit j is set (byte j). */
static ALWAYS_INLINE v128_t bits16(uint32_t b) {
    v128_t v = wasm_i16x8_splat((int16_t)b);
    v = wasm_i8x16_shuffle(v, v, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const v128_t bit = wasm_u8x16_make(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
    return wasm_i8x16_eq(wasm_v128_and(v, bit), bit);
}

/* ---------------------------------------------------------------- legacy */

static void vec_dot_q8_0(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q8_0 *a = w, *b = x;
    v128_t acc = wasm_f32x4_splat(0);
    for (int64_t i = 0; i < n / QK; i++) {
        v128_t s = dot32(wasm_v128_load(a[i].qs), wasm_v128_load(a[i].qs + 16), b[i].qs);
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s), wasm_f32x4_splat(h2f(a[i].d) * h2f(b[i].d))));
    }
    *out = hsum_f32(acc);
}

/* The 32 weights of a 4/5-bit block as bytes: low nibbles (elements 0..15)
 * and high nibbles (16..31), minus `off` (8 for Q4_0), with bit j of qh as
 * 16 (hb = 1), or as "not -16" for Q5_0 (off = 16). */
static ALWAYS_INLINE void unpack_45(const uint8_t *qs, const uint8_t *qh4, int off, v128_t *lo, v128_t *hi) {
    v128_t v = wasm_v128_load(qs);
    *lo = wasm_v128_and(v, wasm_i8x16_splat(0x0F));
    *hi = wasm_u8x16_shr(v, 4);
    if (qh4) {
        uint32_t qh;
        memcpy(&qh, qh4, 4);
        *lo = wasm_v128_or(*lo, wasm_v128_and(bits16(qh & 0xFFFF), wasm_i8x16_splat(0x10)));
        *hi = wasm_v128_or(*hi, wasm_v128_and(bits16(qh >> 16), wasm_i8x16_splat(0x10)));
    }
    if (off) {
        *lo = wasm_i8x16_sub(*lo, wasm_i8x16_splat((int8_t)off));
        *hi = wasm_i8x16_sub(*hi, wasm_i8x16_splat((int8_t)off));
    }
}

static void vec_dot_q4_0(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q4_0 *a = w;
    const mono_block_q8_0 *b = x;
    v128_t acc = wasm_f32x4_splat(0);
    for (int64_t i = 0; i < n / QK; i++) {
        v128_t lo, hi;
        unpack_45(a[i].qs, NULL, 8, &lo, &hi);
        v128_t s = dot32(lo, hi, b[i].qs);
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s), wasm_f32x4_splat(h2f(a[i].d) * h2f(b[i].d))));
    }
    *out = hsum_f32(acc);
}

static void vec_dot_q5_0(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q5_0 *a = w;
    const mono_block_q8_0 *b = x;
    v128_t acc = wasm_f32x4_splat(0);
    for (int64_t i = 0; i < n / QK; i++) {
        v128_t lo, hi;
        unpack_45(a[i].qs, a[i].qh, 16, &lo, &hi);
        v128_t s = dot32(lo, hi, b[i].qs);
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s), wasm_f32x4_splat(h2f(a[i].d) * h2f(b[i].d))));
    }
    *out = hsum_f32(acc);
}

static void vec_dot_q4_1(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q4_1 *a = w;
    const mono_block_q8_1 *b = x;
    v128_t acc = wasm_f32x4_splat(0);
    float msum = 0;
    for (int64_t i = 0; i < n / QK; i++) {
        v128_t lo, hi;
        unpack_45(a[i].qs, NULL, 0, &lo, &hi);
        v128_t s = dot32(lo, hi, b[i].qs);
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s), wasm_f32x4_splat(h2f(a[i].d) * h2f(b[i].d))));
        msum += h2f(a[i].m) * h2f(b[i].s);
    }
    *out = hsum_f32(acc) + msum;
}

static void vec_dot_q5_1(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q5_1 *a = w;
    const mono_block_q8_1 *b = x;
    v128_t acc = wasm_f32x4_splat(0);
    float msum = 0;
    for (int64_t i = 0; i < n / QK; i++) {
        v128_t lo, hi;
        unpack_45(a[i].qs, a[i].qh, 0, &lo, &hi);
        v128_t s = dot32(lo, hi, b[i].qs);
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s), wasm_f32x4_splat(h2f(a[i].d) * h2f(b[i].d))));
        msum += h2f(a[i].m) * h2f(b[i].s);
    }
    *out = hsum_f32(acc) + msum;
}

/* ------------------------------------------------------------- K-quants */

/* Q4_K and Q5_K: sub-block j of 32 weights is 16 low (or high) nibbles of
 * two 16-byte loads; its i32x4 sum is multiplied by the 6-bit scale. */
static ALWAYS_INLINE void dot_q4k_q5k(int64_t n, float *out, const void *w, const void *x, int five) {
    const size_t bb = five ? sizeof(mono_block_q5_K) : sizeof(mono_block_q4_K);
    const mono_block_q8_K *b = x;
    const v128_t m4 = wasm_i8x16_splat(0x0F), b16 = wasm_i8x16_splat(0x10);
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *blk = (const uint8_t *)w + i * bb;
        uint16_t dh, mh;
        memcpy(&dh, blk, 2);
        memcpy(&mh, blk + 2, 2);
        uint8_t sc[8], mn[8];
        mono_q4k_unpack_scales(blk + 4, sc, mn);
        const uint8_t *qs = blk + 16 + (five ? 32 : 0), *qh = blk + 16;
        v128_t isum = wasm_i32x4_splat(0);
        for (int j = 0; j < 4; j++) {
            const int8_t *y = b[i].qs + 64 * j;
            v128_t q0 = wasm_v128_load(qs + 32 * j), q1 = wasm_v128_load(qs + 32 * j + 16);
            v128_t l0 = wasm_v128_and(q0, m4), l1 = wasm_v128_and(q1, m4);
            v128_t h0 = wasm_u8x16_shr(q0, 4), h1 = wasm_u8x16_shr(q1, 4);
            if (five) {
                /* bit tests, not shifts: x86 has no 8-bit shifts and V8 emulates a
                 * variable one with several instructions */
                v128_t b0 = wasm_v128_load(qh), b1 = wasm_v128_load(qh + 16);
                v128_t bl = wasm_i8x16_splat((int8_t)(1 << (2 * j))), bh = wasm_i8x16_splat((int8_t)(2 << (2 * j)));
                l0 = wasm_v128_or(l0, wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(b0, bl), bl), b16));
                l1 = wasm_v128_or(l1, wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(b1, bl), bl), b16));
                h0 = wasm_v128_or(h0, wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(b0, bh), bh), b16));
                h1 = wasm_v128_or(h1, wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(b1, bh), bh), b16));
            }
            v128_t slo = dot32(l0, l1, y), shi = dot32(h0, h1, y + 32);
            isum = wasm_i32x4_add(isum, wasm_i32x4_mul(slo, wasm_i32x4_splat(sc[2 * j])));
            isum = wasm_i32x4_add(isum, wasm_i32x4_mul(shi, wasm_i32x4_splat(sc[2 * j + 1])));
        }
        int msum = 0;
        for (int j = 0; j < 8; j++) msum += mn[j] * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
        sum += b[i].d * (h2f(dh) * (float)hsum_i32(isum) - h2f(mh) * (float)msum);
    }
    *out = sum;
}

static void vec_dot_q4_K(int64_t n, float *out, const void *w, const void *x) { dot_q4k_q5k(n, out, w, x, 0); }
static void vec_dot_q5_K(int64_t n, float *out, const void *w, const void *x) { dot_q4k_q5k(n, out, w, x, 1); }

/* Q6_K: per 128-weight half, group k (32 weights) takes the low (k < 2) or
 * high nibbles of ql[32*(k&1)..] and bits 2k..2k+1 of qh; 16 weights share
 * a scale. Written out for constant shifts (V8 keeps them immediate). */
static ALWAYS_INLINE v128_t q6_16(v128_t lq, v128_t hq, int high_nibble, int shift) {
    v128_t lo = high_nibble ? wasm_u8x16_shr(lq, 4) : wasm_v128_and(lq, wasm_i8x16_splat(0x0F));
    v128_t hb = wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(hq, shift), wasm_i8x16_splat(3)), 4);
    return wasm_i8x16_sub(wasm_v128_or(lo, hb), wasm_i8x16_splat(32));
}

static void vec_dot_q6_K(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q6_K *a = w;
    const mono_block_q8_K *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        v128_t isum = wasm_i32x4_splat(0);
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = a[i].ql + 64 * half, *qh = a[i].qh + 32 * half;
            const int8_t *sc = a[i].scales + 8 * half, *y = b[i].qs + 128 * half;
            v128_t l0 = wasm_v128_load(ql), l1 = wasm_v128_load(ql + 16);
            v128_t l2 = wasm_v128_load(ql + 32), l3 = wasm_v128_load(ql + 48);
            v128_t h0 = wasm_v128_load(qh), h1 = wasm_v128_load(qh + 16);
#define Q6_TERM(LQ, HQ, HI, SH, YOFF, SC) \
    isum = wasm_i32x4_add(isum, wasm_i32x4_mul(dot16(q6_16(LQ, HQ, HI, SH), y + (YOFF)), \
                                               wasm_i32x4_splat(sc[SC])))
            Q6_TERM(l0, h0, 0, 0, 0, 0);
            Q6_TERM(l1, h1, 0, 0, 16, 1);
            Q6_TERM(l2, h0, 0, 2, 32, 2);
            Q6_TERM(l3, h1, 0, 2, 48, 3);
            Q6_TERM(l0, h0, 1, 4, 64, 4);
            Q6_TERM(l1, h1, 1, 4, 80, 5);
            Q6_TERM(l2, h0, 1, 6, 96, 6);
            Q6_TERM(l3, h1, 1, 6, 112, 7);
#undef Q6_TERM
        }
        sum += b[i].d * h2f(a[i].d) * (float)hsum_i32(isum);
    }
    *out = sum;
}

#include "kernels/quant_wasm_gemm.h"

void mono_kernels_register_quant_wasm(mono_kernels *k) {
    k->vec_dot[MONO_TYPE_Q8_0] = vec_dot_q8_0;
    k->vec_dot[MONO_TYPE_Q4_0] = vec_dot_q4_0;
    k->vec_dot[MONO_TYPE_Q5_0] = vec_dot_q5_0;
    k->vec_dot[MONO_TYPE_Q4_1] = vec_dot_q4_1;
    k->vec_dot[MONO_TYPE_Q5_1] = vec_dot_q5_1;
    k->vec_dot[MONO_TYPE_Q4_K] = vec_dot_q4_K;
    k->vec_dot[MONO_TYPE_Q5_K] = vec_dot_q5_K;
    k->vec_dot[MONO_TYPE_Q6_K] = vec_dot_q6_K;
    k->vec_dot[MONO_TYPE_Q2_K] = vec_dot_q2_K; /* quant_wasm_gemm.h */
    k->vec_dot[MONO_TYPE_Q3_K] = vec_dot_q3_K;
#if !defined(MONO_WASM_NO_GEMM) /* build switch for A/B timing of prefill */
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
#endif
}
