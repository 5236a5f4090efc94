/*
 * quant_x86_dot.h -- x86 SIMD dot products of quantized rows (AVX2 and
 * AVX-512 VNNI), included by quant_avx2.c and quant_avx512.c.
 *
 * One source, two builds: quant_avx2.c includes it as is (maddubs + madd),
 * quant_avx512.c defines MONO_QX_VNNI first so every u8 x i8 dot product
 * becomes one vpdpbusd (256-bit, AVX512-VL). The integer sums equal the
 * portable kernels' exactly (no i16 saturation is reachable: |u| <= 128 and
 * |s| <= 127 give pair sums <= 32512); only the float accumulation order
 * differs. All functions are static: each ISA file registers its own copies.
 */
#ifndef MONO_KERNELS_QUANT_X86_DOT_H
#define MONO_KERNELS_QUANT_X86_DOT_H

#include <immintrin.h>
#include <string.h>

#include "kernels/quant.h"

#define QX_QK MONO_QK
#define QX_QK_K MONO_QK_K
/* -O2 does not unroll: short fixed loops over accumulator arrays must be, or
 * the accumulators live on the stack */
#define QX_UNROLL _Pragma("GCC unroll 8")
#define QX_INLINE static inline __attribute__((always_inline))

static inline float qx_h2f(uint16_t h) { return _cvtsh_ss(h); }

/* acc + sum over groups of 4 of u[i]*s[i] (u unsigned bytes, s signed). */
static inline __m256i qx_dot_u8i8(__m256i acc, __m256i u, __m256i s) {
#if defined(MONO_QX_VNNI)
    return _mm256_dpbusd_epi32(acc, u, s);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

/* acc + sum over pairs of 16-bit p[i]*s[i] (vpdpwssd with VNNI). */
static inline __m256i qx_dot_i16(__m256i acc, __m256i p, __m256i s) {
#if defined(MONO_QX_VNNI)
    return _mm256_dpwssd_epi32(acc, p, s);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p, s));
#endif
}

/* pshufb patterns that turn 8 i16 scales (in both 128-bit lanes) into
 * "scale 2k in the low lane, 2k+1 in the high lane", k = 0..3. */
static inline __m256i qx_scale_pattern(int k) {
    const char a = (char)(4 * k), b = (char)(4 * k + 1), c = (char)(4 * k + 2), d = (char)(4 * k + 3);
    return _mm256_setr_epi8(a, b, a, b, a, b, a, b, a, b, a, b, a, b, a, b, c, d, c, d, c, d, c, d, c, d, c, d, c, d, c, d);
}

/* pshufb pattern that repeats i16 word k (0..7) of each lane. */
static inline __m256i qx_word_bcast(int k) {
    const char a = (char)(2 * k), b = (char)(2 * k + 1);
    return _mm256_setr_epi8(a, b, a, b, a, b, a, b, a, b, a, b, a, b, a, b, a, b, a, b, a, b, a, b, a, b, a, b, a, b, a, b);
}

/* acc + sum over groups of 4 of a[i]*b[i], both signed: |a| times b with a's sign. */
static inline __m256i qx_dot_i8i8(__m256i acc, __m256i a, __m256i b) {
    return qx_dot_u8i8(acc, _mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

static inline float qx_hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int qx_hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

/* 16 packed bytes -> 32 nibbles: low nibbles are elements 0..15, high 16..31. */
static inline __m256i qx_nibbles32(const uint8_t *qs) {
    __m128i t = _mm_loadu_si128((const __m128i *)qs);
    __m256i b = _mm256_inserti128_si256(_mm256_castsi128_si256(t), _mm_srli_epi16(t, 4), 1);
    return _mm256_and_si256(b, _mm256_set1_epi8(0x0F));
}

/* 32 bits -> 32 bytes, 0xFF where bit j of qh is set (byte j). */
static inline __m256i qx_bits32(const uint8_t *qh4) {
    uint32_t qh;
    memcpy(&qh, qh4, 4);
    const __m256i spread = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                             0x0101010101010101, 0x0000000000000000);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), spread);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

/* ---------------------------------------------------------------- legacy */

static void qx_vec_dot_q8_0(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q8_0 *a = w, *b = x;
    const int64_t nb = n / QX_QK;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        __m256i p0 = qx_dot_i8i8(_mm256_setzero_si256(), _mm256_loadu_si256((const __m256i *)a[i].qs),
                                 _mm256_loadu_si256((const __m256i *)b[i].qs));
        __m256i p1 = qx_dot_i8i8(_mm256_setzero_si256(), _mm256_loadu_si256((const __m256i *)a[i + 1].qs),
                                 _mm256_loadu_si256((const __m256i *)b[i + 1].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(qx_h2f(a[i].d) * qx_h2f(b[i].d)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(qx_h2f(a[i + 1].d) * qx_h2f(b[i + 1].d)), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; i < nb; i++) {
        __m256i p = qx_dot_i8i8(_mm256_setzero_si256(), _mm256_loadu_si256((const __m256i *)a[i].qs),
                                _mm256_loadu_si256((const __m256i *)b[i].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(qx_h2f(a[i].d) * qx_h2f(b[i].d)), _mm256_cvtepi32_ps(p), acc0);
    }
    *out = qx_hsum_ps(_mm256_add_ps(acc0, acc1));
}

/* Q4_0 weights as signed bytes in [-8, 7]. */
static inline __m256i qx_q4_0_bytes(const mono_block_q4_0 *a) {
    return _mm256_sub_epi8(qx_nibbles32(a->qs), _mm256_set1_epi8(8));
}

static void qx_vec_dot_q4_0(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q4_0 *a = w;
    const mono_block_q8_0 *b = x;
    const int64_t nb = n / QX_QK;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        __m256i p0 = qx_dot_i8i8(_mm256_setzero_si256(), qx_q4_0_bytes(&a[i]), _mm256_loadu_si256((const __m256i *)b[i].qs));
        __m256i p1 = qx_dot_i8i8(_mm256_setzero_si256(), qx_q4_0_bytes(&a[i + 1]),
                                 _mm256_loadu_si256((const __m256i *)b[i + 1].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(qx_h2f(a[i].d) * qx_h2f(b[i].d)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(qx_h2f(a[i + 1].d) * qx_h2f(b[i + 1].d)), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; i < nb; i++) {
        __m256i p = qx_dot_i8i8(_mm256_setzero_si256(), qx_q4_0_bytes(&a[i]), _mm256_loadu_si256((const __m256i *)b[i].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(qx_h2f(a[i].d) * qx_h2f(b[i].d)), _mm256_cvtepi32_ps(p), acc0);
    }
    *out = qx_hsum_ps(_mm256_add_ps(acc0, acc1));
}

/* Q5_0 weights as signed bytes in [-16, 15]: a clear high bit means
 * "minus 16", which is the nibble with 0xF0 or'ed in. */
static inline __m256i qx_q5_0_bytes(const mono_block_q5_0 *a) {
    __m256i hi = _mm256_andnot_si256(qx_bits32(a->qh), _mm256_set1_epi8((char)0xF0));
    return _mm256_or_si256(qx_nibbles32(a->qs), hi);
}

static void qx_vec_dot_q5_0(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q5_0 *a = w;
    const mono_block_q8_0 *b = x;
    const int64_t nb = n / QX_QK;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        __m256i p0 = qx_dot_i8i8(_mm256_setzero_si256(), qx_q5_0_bytes(&a[i]), _mm256_loadu_si256((const __m256i *)b[i].qs));
        __m256i p1 = qx_dot_i8i8(_mm256_setzero_si256(), qx_q5_0_bytes(&a[i + 1]),
                                 _mm256_loadu_si256((const __m256i *)b[i + 1].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(qx_h2f(a[i].d) * qx_h2f(b[i].d)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(qx_h2f(a[i + 1].d) * qx_h2f(b[i + 1].d)), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; i < nb; i++) {
        __m256i p = qx_dot_i8i8(_mm256_setzero_si256(), qx_q5_0_bytes(&a[i]), _mm256_loadu_si256((const __m256i *)b[i].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(qx_h2f(a[i].d) * qx_h2f(b[i].d)), _mm256_cvtepi32_ps(p), acc0);
    }
    *out = qx_hsum_ps(_mm256_add_ps(acc0, acc1));
}

/* Q4_1 x Q8_1: unsigned nibbles times signed activations, plus m * s. */
static void qx_vec_dot_q4_1(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q4_1 *a = w;
    const mono_block_q8_1 *b = x;
    __m256 acc = _mm256_setzero_ps();
    float msum = 0;
    for (int64_t i = 0; i < n / QX_QK; i++) {
        __m256i p = qx_dot_u8i8(_mm256_setzero_si256(), qx_nibbles32(a[i].qs), _mm256_loadu_si256((const __m256i *)b[i].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(qx_h2f(a[i].d) * qx_h2f(b[i].d)), _mm256_cvtepi32_ps(p), acc);
        msum += qx_h2f(a[i].m) * qx_h2f(b[i].s);
    }
    *out = qx_hsum_ps(acc) + msum;
}

static inline __m256i qx_q5_1_bytes(const mono_block_q5_1 *a) {
    __m256i hi = _mm256_and_si256(qx_bits32(a->qh), _mm256_set1_epi8(0x10));
    return _mm256_or_si256(qx_nibbles32(a->qs), hi);
}

static void qx_vec_dot_q5_1(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q5_1 *a = w;
    const mono_block_q8_1 *b = x;
    __m256 acc = _mm256_setzero_ps();
    float msum = 0;
    for (int64_t i = 0; i < n / QX_QK; i++) {
        __m256i p = qx_dot_u8i8(_mm256_setzero_si256(), qx_q5_1_bytes(&a[i]), _mm256_loadu_si256((const __m256i *)b[i].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(qx_h2f(a[i].d) * qx_h2f(b[i].d)), _mm256_cvtepi32_ps(p), acc);
        msum += qx_h2f(a[i].m) * qx_h2f(b[i].s);
    }
    *out = qx_hsum_ps(acc) + msum;
}

/* ------------------------------------------------------------- K-quants */

/* Q4_K/Q5_K: per 32 weights one maddubs (u8 x i8 -> pairs) and one 16-bit
 * dot with the sub-block's scale into the block's int32 sum (llama.cpp's
 * scheme; with VNNI the scale multiply and the accumulate are one vpdpwssd);
 * the min term comes from the activation's bsums. One float fmadd per block. */
QX_INLINE void qx_q4k_q5k(int64_t n, float *out, const void *w, const void *x, int five) {
    const int64_t bb = five ? sizeof(mono_block_q5_K) : sizeof(mono_block_q4_K);
    const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    const mono_block_q8_K *b = x;
    __m256 acc = _mm256_setzero_ps(), macc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QX_QK_K; i++) {
        const uint8_t *blk = (const uint8_t *)w + i * bb;
        uint16_t dh, mh;
        memcpy(&dh, blk, 2);
        memcpy(&mh, blk + 2, 2);
        const uint8_t *qs = blk + 16 + (five ? 32 : 0);
        uint32_t sc[2], mn[2];
        mono_q4k_scales_u32(blk + 4, sc, mn);
        const float dy = b[i].d;
        /* min term: mins (each twice) . bsums as 8 int32, scaled into a float vector */
        __m128i m8 = _mm_set_epi32(0, 0, (int)mn[1], (int)mn[0]);
        __m256i mp = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8)),
                                       _mm256_loadu_si256((const __m256i *)b[i].bsums));
        macc = _mm256_fmadd_ps(_mm256_set1_ps(dy * qx_h2f(mh)), _mm256_cvtepi32_ps(mp), macc);
        __m128i s8 = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)sc[1], (int)sc[0]));
        __m256i sc16 = _mm256_broadcastsi128_si256(s8);
        __m256i qh = five ? _mm256_loadu_si256((const __m256i *)(blk + 16)) : _mm256_setzero_si256();
        __m256i isum0 = _mm256_setzero_si256(), isum1 = _mm256_setzero_si256();
        const int8_t *y = b[i].qs;
        QX_UNROLL
        for (int j = 0; j < 4; j++) {
            __m256i qb = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
            __m256i lo = _mm256_and_si256(qb, m4), hi = _mm256_and_si256(_mm256_srli_epi16(qb, 4), m4);
            if (five) {
                lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * j), one), 4));
                hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * j + 1), one), 4));
            }
            __m256i slo = _mm256_shuffle_epi8(sc16, qx_word_bcast(2 * j));
            __m256i shi = _mm256_shuffle_epi8(sc16, qx_word_bcast(2 * j + 1));
            __m256i plo = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(y + 64 * j)));
            __m256i phi = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(y + 64 * j + 32)));
            isum0 = qx_dot_i16(isum0, plo, slo);
            isum1 = qx_dot_i16(isum1, phi, shi);
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dy * qx_h2f(dh)), _mm256_cvtepi32_ps(_mm256_add_epi32(isum0, isum1)), acc);
    }
    *out = qx_hsum_ps(_mm256_sub_ps(acc, macc));
}

static void qx_vec_dot_q4_K(int64_t n, float *out, const void *w, const void *x) { qx_q4k_q5k(n, out, w, x, 0); }
static void qx_vec_dot_q5_K(int64_t n, float *out, const void *w, const void *x) { qx_q4k_q5k(n, out, w, x, 1); }

static void qx_vec_dot_q6_K(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q6_K *a = w;
    const mono_block_q8_K *b = x;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QX_QK_K; i++) {
        __m128i sc8 = _mm_loadu_si128((const __m128i *)a[i].scales);
        /* the -32 offset: 32 * sum_j sc[j] * bsums[j] */
        __m256i off = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8), _mm256_loadu_si256((const __m256i *)b[i].bsums));
        __m256i isum0 = _mm256_setzero_si256(), isum1 = _mm256_setzero_si256();
        QX_UNROLL
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = a[i].ql + 64 * half, *qhp = a[i].qh + 32 * half;
            const int8_t *y = b[i].qs + 128 * half;
            /* this half's 8 scales as i16 in both lanes */
            __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(half ? _mm_srli_si128(sc8, 8) : sc8));
            __m256i q0 = _mm256_loadu_si256((const __m256i *)ql);
            __m256i q1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)qhp);
            __m256i v[4];
            v[0] = _mm256_or_si256(_mm256_and_si256(q0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4));
            v[1] = _mm256_or_si256(_mm256_and_si256(q1, m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4));
            v[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q0, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4));
            v[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q1, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4));
            QX_UNROLL
            for (int k = 0; k < 4; k++) {
                __m256i p = _mm256_maddubs_epi16(v[k], _mm256_loadu_si256((const __m256i *)(y + 32 * k)));
                __m256i s = _mm256_shuffle_epi8(sc16, qx_scale_pattern(k)); /* scale 2k | 2k+1 */
                if (k & 1) isum1 = qx_dot_i16(isum1, p, s);
                else isum0 = qx_dot_i16(isum0, p, s);
            }
        }
        __m256i tot = _mm256_sub_epi32(_mm256_add_epi32(isum0, isum1), _mm256_slli_epi32(off, 5));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(b[i].d * qx_h2f(a[i].d)), _mm256_cvtepi32_ps(tot), acc);
    }
    *out = qx_hsum_ps(acc);
}

/* ------------------------------------------------ activation quantizers */

/* Same bytes as mono_quantize_row_q8_0: x*id rounded half away from zero
 * (roundf), computed exactly as trunc + a correction. */
static inline __m256i qx_round_away_epi32(__m256 v) {
    __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m256 frac = _mm256_sub_ps(v, t); /* exact */
    __m256 absf = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), frac);
    __m256 step = _mm256_and_ps(_mm256_cmp_ps(absf, _mm256_set1_ps(0.5f), _CMP_GE_OQ),
                                _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(v, _mm256_set1_ps(-0.0f))));
    return _mm256_cvttps_epi32(_mm256_add_ps(t, step));
}

static inline __m256i qx_pack_i32x4_to_i8(__m256i a, __m256i b, __m256i c, __m256i d) {
    __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
    __m256i r = _mm256_packs_epi16(ab, cd);
    return _mm256_permutevar8x32_epi32(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* One block of 32 floats as Q8_0/Q8_1 quantize it: the int8 quants
 * (round half away from zero of x / d) and the unrounded float d =
 * max|x| / 127. */
static inline __m256i qx_quantize_block32(const float *src, float *d_out) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 v0 = _mm256_loadu_ps(src), v1 = _mm256_loadu_ps(src + 8);
    __m256 v2 = _mm256_loadu_ps(src + 16), v3 = _mm256_loadu_ps(src + 24);
    __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                             _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    const float d = amax / 127;
    const float id = d ? 1.0f / d : 0.0f;
    const __m256 vid = _mm256_set1_ps(id);
    *d_out = d;
    return qx_pack_i32x4_to_i8(qx_round_away_epi32(_mm256_mul_ps(v0, vid)), qx_round_away_epi32(_mm256_mul_ps(v1, vid)),
                               qx_round_away_epi32(_mm256_mul_ps(v2, vid)), qx_round_away_epi32(_mm256_mul_ps(v3, vid)));
}

/* float -> half with F16C, the bytes mono_f32_to_f16 gives (both round to
 * nearest even; a NaN takes the portable path, which drops the payload).
 * The scalar conversion was ~0.6 us of every 1000 activations quantized. */
static inline uint16_t qx_f32_to_f16(float f) {
    if (f != f) return mono_f32_to_f16(f);
    return (uint16_t)_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), 0);
}

static void qx_quantize_row_q8_0(const float *src, void *dst, int64_t n) {
    mono_block_q8_0 *y = dst;
    for (int64_t i = 0; i < n / QX_QK; i++, src += QX_QK) {
        float d;
        const __m256i q = qx_quantize_block32(src, &d);
        y[i].d = qx_f32_to_f16(d);
        _mm256_storeu_si256((__m256i *)y[i].qs, q);
    }
}

/* Same bytes as mono_quantize_row_q8_K: nearest_int is round-half-even,
 * which cvtps does in the default rounding mode for these small values. */
static void qx_quantize_row_q8_K(const float *x, void *dst, int64_t n) {
    mono_block_q8_K *y = dst;
    for (int64_t i = 0; i < n / QX_QK_K; i++, x += QX_QK_K) {
        float max = 0, amax = 0; /* the first element of largest magnitude keeps its sign */
        for (int j = 0; j < QX_QK_K; j++)
            if (__builtin_fabsf(x[j]) > amax) { amax = __builtin_fabsf(x[j]); max = x[j]; }
        if (!amax) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        const float iscale = -127.f / max;
        const __m256 vs = _mm256_set1_ps(iscale);
        for (int j = 0; j < QX_QK_K; j += 32) {
            __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(x + j)));
            __m256i q1 = _mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(x + j + 8)));
            __m256i q2 = _mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(x + j + 16)));
            __m256i q3 = _mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(x + j + 24)));
            __m256i q = qx_pack_i32x4_to_i8(q0, q1, q2, q3);
            q = _mm256_min_epi8(q, _mm256_set1_epi8(127));
            _mm256_storeu_si256((__m256i *)(y[i].qs + j), q);
            /* sums of each 16: widen and add pairs */
            __m256i w = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q); /* 16 pair sums */
            __m256i s4 = _mm256_madd_epi16(w, _mm256_set1_epi16(1)); /* 8 sums of 4 */
            __m256i s8 = _mm256_hadd_epi32(s4, s4);                   /* per lane: s8 pairs */
            __m256i s16 = _mm256_hadd_epi32(s8, s8);
            y[i].bsums[j / 16] = (int16_t)_mm256_extract_epi32(s16, 0);
            y[i].bsums[j / 16 + 1] = (int16_t)_mm256_extract_epi32(s16, 4);
        }
        y[i].d = 1 / iscale;
    }
}

#endif
