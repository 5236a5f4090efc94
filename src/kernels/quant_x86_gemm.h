/*
 * quant_x86_gemm.h -- blocked matrix products (prefill) for the quantized
 * types on x86, and the registration shared by quant_avx2.c/quant_avx512.c.
 *
 * For each weight row the kernel unpacks the row once into plain signed
 * bytes plus per-block scales (the costly bit twiddling), then runs four
 * tokens at a time over it: each 32-byte weight vector is loaded and its
 * absolute value taken once and reused for four activation rows. Decode
 * (fewer than 4 tokens) goes straight to the vec_dot kernels, which stream
 * the packed row once per token anyway.
 *
 * Unpacked forms:
 *   legacy (QK = 32): q[n] signed bytes, d[b] and m[b] (m = 0 unless Q4_1/Q5_1)
 *   K-quants (QK_K = 256): per super-block q[256] signed bytes, a 16-bit scale
 *     per 16 weights (as ready-made madd vectors), a 16-bit min per 16 weights
 *     (0 unless Q2_K/Q4_K/Q5_K), d and dmin: w = d*sc*q - dmin*mn.
 * Integer sums equal the vec_dot kernels' (same products, exact adds).
 */
#ifndef MONO_KERNELS_QUANT_X86_GEMM_H
#define MONO_KERNELS_QUANT_X86_GEMM_H

#include "kernels/quant_x86_dot.h"

#define QX_GEMM_MAX_COLS 16384 /* longer rows fall back to vec_dot */

/* One unpacked K-quant super-block: w = d * sc[g] * (q - off) - dmin * mn[g]
 * for weight e in 16-group g = e / 16, q unsigned (0..63) so that maddubs
 * takes it directly; the offset and the mins act through the activation's
 * bsums: sum_g (off*sc[g]) * bsums[g] and sum_g mn[g] * bsums[g]. */
typedef struct qx_ksb {
    uint8_t q[QX_QK_K];
    int16_t sv[8][16]; /* chunk c (32 weights): sc[2c] x8, then sc[2c+1] x8 */
    int16_t cw[16];    /* off * sc[g] */
    int16_t mn[16];
    float d, dmin;
} qx_ksb;

/* ------------------------------------------------------------ unpacking */

static void qx_unpack_legacy(int type, const void *row, int64_t nb, int8_t *q, float *d, float *m) {
    for (int64_t i = 0; i < nb; i++, q += QX_QK) {
        __m256i v;
        m[i] = 0;
        switch (type) {
        case MONO_TYPE_Q4_0: {
            const mono_block_q4_0 *b = (const mono_block_q4_0 *)row + i;
            v = qx_q4_0_bytes(b); d[i] = qx_h2f(b->d);
            break;
        }
        case MONO_TYPE_Q5_0: {
            const mono_block_q5_0 *b = (const mono_block_q5_0 *)row + i;
            v = qx_q5_0_bytes(b); d[i] = qx_h2f(b->d);
            break;
        }
        case MONO_TYPE_Q4_1: {
            const mono_block_q4_1 *b = (const mono_block_q4_1 *)row + i;
            v = qx_nibbles32(b->qs); d[i] = qx_h2f(b->d); m[i] = qx_h2f(b->m);
            break;
        }
        case MONO_TYPE_Q5_1: {
            const mono_block_q5_1 *b = (const mono_block_q5_1 *)row + i;
            v = qx_q5_1_bytes(b); d[i] = qx_h2f(b->d); m[i] = qx_h2f(b->m);
            break;
        }
        default: { /* Q8_0 */
            const mono_block_q8_0 *b = (const mono_block_q8_0 *)row + i;
            v = _mm256_loadu_si256((const __m256i *)b->qs); d[i] = qx_h2f(b->d);
            break;
        }
        }
        _mm256_storeu_si256((__m256i *)q, v);
    }
}

/* The scale vectors of a super-block from its 16 group scales (i16). */
static inline void qx_ksb_scales(qx_ksb *o, __m256i sc16, int off_shift) {
    __m256i b0 = _mm256_permute2x128_si256(sc16, sc16, 0x00), b1 = _mm256_permute2x128_si256(sc16, sc16, 0x11);
    QX_UNROLL
    for (int c = 0; c < 4; c++) {
        _mm256_storeu_si256((__m256i *)o->sv[c], _mm256_shuffle_epi8(b0, qx_scale_pattern(c)));
        _mm256_storeu_si256((__m256i *)o->sv[c + 4], _mm256_shuffle_epi8(b1, qx_scale_pattern(c)));
    }
    _mm256_storeu_si256((__m256i *)o->cw, off_shift ? _mm256_slli_epi16(sc16, off_shift) : _mm256_setzero_si256());
}

/* Q3_K's 16 six-bit scales (minus 32) from its 12 packed bytes, 4 at a time. */
static inline __m256i qx_q3k_scales16(const uint8_t *p) {
    uint32_t a0, a1, t, v[4];
    memcpy(&a0, p, 4);
    memcpy(&a1, p + 4, 4);
    memcpy(&t, p + 8, 4);
    v[0] = (a0 & 0x0F0F0F0Fu) | ((t & 0x03030303u) << 4);
    v[1] = (a1 & 0x0F0F0F0Fu) | (((t >> 2) & 0x03030303u) << 4);
    v[2] = ((a0 >> 4) & 0x0F0F0F0Fu) | (((t >> 4) & 0x03030303u) << 4);
    v[3] = ((a1 >> 4) & 0x0F0F0F0Fu) | (((t >> 6) & 0x03030303u) << 4);
    /* in registers: a store of four words read back as one vector would stall */
    __m128i b = _mm_sub_epi8(_mm_set_epi32((int)v[3], (int)v[2], (int)v[1], (int)v[0]), _mm_set1_epi8(32));
    return _mm256_cvtepi8_epi16(b);
}

/* Q2_K/Q3_K low bits: for half h and shift s the 32 bytes qs[32h..] >> 2s
 * are weights 128h + 32s + 0..31 in order. */
static inline __m256i qx_2bit(const uint8_t *qs, int h, int s) {
    return _mm256_and_si256(_mm256_srli_epi16(_mm256_loadu_si256((const __m256i *)(qs + 32 * h)), 2 * s),
                            _mm256_set1_epi8(3));
}

static void qx_unpack_k(int type, const void *row, int64_t nsb, qx_ksb *out) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    for (int64_t i = 0; i < nsb; i++) {
        qx_ksb *o = &out[i];
        __m256i sc16, mn16 = _mm256_setzero_si256();
        int off_shift = 0; /* offset 32 (Q6_K) or 4 (Q3_K) as a shift */
        o->dmin = 0;
        if (type == MONO_TYPE_Q4_K || type == MONO_TYPE_Q5_K) {
            const uint8_t *scales, *qs, *qhp = NULL;
            if (type == MONO_TYPE_Q4_K) {
                const mono_block_q4_K *b = (const mono_block_q4_K *)row + i;
                scales = b->scales; qs = b->qs; o->d = qx_h2f(b->d); o->dmin = qx_h2f(b->dmin);
            } else {
                const mono_block_q5_K *b = (const mono_block_q5_K *)row + i;
                scales = b->scales; qs = b->qs; qhp = b->qh; o->d = qx_h2f(b->d); o->dmin = qx_h2f(b->dmin);
            }
            uint32_t su[2], mu[2];
            mono_q4k_scales_u32(scales, su, mu);
            __m128i s8 = _mm_set_epi32(0, 0, (int)su[1], (int)su[0]), m8 = _mm_set_epi32(0, 0, (int)mu[1], (int)mu[0]);
            sc16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(s8, s8)); /* each sub-block scale twice */
            mn16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8));
            __m256i qh = qhp ? _mm256_loadu_si256((const __m256i *)qhp) : _mm256_setzero_si256();
            for (int j = 0; j < 4; j++) {
                __m256i qb = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
                __m256i lo = _mm256_and_si256(qb, m4), hi = _mm256_and_si256(_mm256_srli_epi16(qb, 4), m4);
                lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * j), one), 4));
                hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * j + 1), one), 4));
                _mm256_storeu_si256((__m256i *)(o->q + 64 * j), lo);
                _mm256_storeu_si256((__m256i *)(o->q + 64 * j + 32), hi);
            }
        } else if (type == MONO_TYPE_Q6_K) {
            const mono_block_q6_K *b = (const mono_block_q6_K *)row + i;
            o->d = qx_h2f(b->d);
            off_shift = 5;
            sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b->scales));
            for (int h = 0; h < 2; h++) {
                __m256i q0 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h));
                __m256i q1 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h + 32));
                __m256i qh = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
                __m256i v[4];
                v[0] = _mm256_or_si256(_mm256_and_si256(q0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4));
                v[1] = _mm256_or_si256(_mm256_and_si256(q1, m4),
                                       _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4));
                v[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q0, 4), m4),
                                       _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4));
                v[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q1, 4), m4),
                                       _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4));
                for (int k = 0; k < 4; k++) _mm256_storeu_si256((__m256i *)(o->q + 128 * h + 32 * k), v[k]);
            }
        } else if (type == MONO_TYPE_Q2_K) {
            const mono_block_q2_K *b = (const mono_block_q2_K *)row + i;
            o->d = qx_h2f(b->d); o->dmin = qx_h2f(b->dmin);
            __m256i s16 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)b->scales));
            sc16 = _mm256_and_si256(s16, _mm256_set1_epi16(0xF));
            mn16 = _mm256_srli_epi16(s16, 4);
            for (int h = 0; h < 2; h++)
                for (int sft = 0; sft < 4; sft++)
                    _mm256_storeu_si256((__m256i *)(o->q + 128 * h + 32 * sft), qx_2bit(b->qs, h, sft));
        } else { /* Q3_K: q = low 2 bits + 4 * high bit, offset 4 */
            const mono_block_q3_K *b = (const mono_block_q3_K *)row + i;
            o->d = qx_h2f(b->d);
            off_shift = 2;
            sc16 = qx_q3k_scales16(b->scales);
            __m256i hm = _mm256_loadu_si256((const __m256i *)b->hmask);
            for (int h = 0; h < 2; h++)
                for (int sft = 0; sft < 4; sft++) {
                    __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + sft), one);
                    __m256i v = _mm256_or_si256(qx_2bit(b->qs, h, sft), _mm256_slli_epi16(hb, 2));
                    _mm256_storeu_si256((__m256i *)(o->q + 128 * h + 32 * sft), v);
                }
        }
        _mm256_storeu_si256((__m256i *)o->mn, mn16);
        qx_ksb_scales(o, sc16, off_shift);
    }
}

/* -------------------------------------------------------- the products */

/* Up to 4 tokens against one unpacked legacy row. Activation blocks are
 * Q8_0 (qs at +2, 34 bytes) or Q8_1 (s at +2, qs at +4, 36 bytes). */
QX_INLINE void qx_legacy_tokens(int64_t nb, const int8_t *q, const float *dw, const float *mw, int has_min,
                                const uint8_t *const *y, int nt, size_t yb, float *res) {
    const size_t qoff = has_min ? 4 : 2;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    float macc[4] = {0, 0, 0, 0};
    for (int64_t i = 0; i < nb; i++) {
        __m256i w = _mm256_loadu_si256((const __m256i *)(q + 32 * i));
        __m256i aw = _mm256_sign_epi8(w, w);
        QX_UNROLL
        for (int t = 0; t < nt; t++) {
            const uint8_t *blk = y[t] + (size_t)i * yb;
            uint16_t dh;
            memcpy(&dh, blk, 2);
            __m256i s = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(blk + qoff)), w);
            __m256i p = qx_dot_u8i8(_mm256_setzero_si256(), aw, s);
            acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw[i] * qx_h2f(dh)), _mm256_cvtepi32_ps(p), acc[t]);
            if (has_min) {
                uint16_t sh;
                memcpy(&sh, blk + 2, 2);
                macc[t] += mw[i] * qx_h2f(sh);
            }
        }
    }
    for (int t = 0; t < nt; t++) res[t] = qx_hsum_ps(acc[t]) + macc[t];
}

/* Up to 4 tokens against unpacked K super-blocks: per 32 weights and token
 * one maddubs and one 16-bit scale dot; offsets and mins through bsums. */
QX_INLINE void qx_k_tokens(int64_t nsb, const qx_ksb *w, int has_min, const uint8_t *const *y, int nt, float *res) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t i = 0; i < nsb; i++) {
        __m256i isum[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
        const mono_block_q8_K *yb[4];
        QX_UNROLL
        for (int t = 0; t < nt; t++) yb[t] = (const mono_block_q8_K *)y[t] + i;
        QX_UNROLL
        for (int c = 0; c < 8; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(w[i].q + 32 * c));
            __m256i sv = _mm256_loadu_si256((const __m256i *)w[i].sv[c]);
            QX_UNROLL
            for (int t = 0; t < nt; t++) {
                __m256i p = _mm256_maddubs_epi16(q, _mm256_loadu_si256((const __m256i *)(yb[t]->qs + 32 * c)));
                isum[t] = qx_dot_i16(isum[t], p, sv);
            }
        }
        __m256i cw = _mm256_loadu_si256((const __m256i *)w[i].cw), mn = _mm256_loadu_si256((const __m256i *)w[i].mn);
        QX_UNROLL
        for (int t = 0; t < nt; t++) {
            __m256i bs = _mm256_loadu_si256((const __m256i *)yb[t]->bsums);
            __m256i tot = _mm256_sub_epi32(isum[t], _mm256_madd_epi16(cw, bs));
            acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(yb[t]->d * w[i].d), _mm256_cvtepi32_ps(tot), acc[t]);
            if (has_min)
                acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(-yb[t]->d * w[i].dmin),
                                         _mm256_cvtepi32_ps(_mm256_madd_epi16(mn, bs)), acc[t]);
        }
    }
    QX_UNROLL
    for (int t = 0; t < nt; t++) res[t] = qx_hsum_ps(acc[t]);
}

/* Q2_K/Q3_K decode: each 32 weights are a shift and a mask away from bytes
 * (plus Q3_K's high bit), so the unpacking happens in registers: maddubs,
 * then a 16-bit dot with the two group scales; offset and mins via bsums. */
QX_INLINE void qx_q2k_q3k(int64_t n, float *out, const void *w, const void *x, int three) {
    const size_t bb = three ? sizeof(mono_block_q3_K) : sizeof(mono_block_q2_K);
    const mono_block_q8_K *yb = x;
    const __m256i one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QX_QK_K; i++) {
        const uint8_t *blk = (const uint8_t *)w + i * bb;
        __m256i sc16, mn16 = _mm256_setzero_si256(), hm = _mm256_setzero_si256();
        const uint8_t *qs;
        float d, dmin = 0;
        if (three) {
            const mono_block_q3_K *b = (const mono_block_q3_K *)blk;
            sc16 = qx_q3k_scales16(b->scales);
            hm = _mm256_loadu_si256((const __m256i *)b->hmask);
            qs = b->qs;
            d = qx_h2f(b->d);
        } else {
            const mono_block_q2_K *b = (const mono_block_q2_K *)blk;
            __m256i s16 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)b->scales));
            sc16 = _mm256_and_si256(s16, _mm256_set1_epi16(0xF));
            mn16 = _mm256_srli_epi16(s16, 4);
            qs = b->qs;
            d = qx_h2f(b->d);
            dmin = qx_h2f(b->dmin);
        }
        __m256i bh[2] = {_mm256_permute2x128_si256(sc16, sc16, 0x00), _mm256_permute2x128_si256(sc16, sc16, 0x11)};
        __m256i isum0 = _mm256_setzero_si256(), isum1 = _mm256_setzero_si256();
        QX_UNROLL
        for (int c = 0; c < 8; c++) {
            int h = c / 4, sft = c % 4;
            __m256i q = qx_2bit(qs, h, sft);
            if (three) q = _mm256_or_si256(q, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hm, c), one), 2));
            __m256i p = _mm256_maddubs_epi16(q, _mm256_loadu_si256((const __m256i *)(yb[i].qs + 32 * c)));
            __m256i sv = _mm256_shuffle_epi8(bh[h], qx_scale_pattern(sft));
            if (c & 1) isum1 = qx_dot_i16(isum1, p, sv);
            else isum0 = qx_dot_i16(isum0, p, sv);
        }
        __m256i bs = _mm256_loadu_si256((const __m256i *)yb[i].bsums);
        __m256i tot = _mm256_add_epi32(isum0, isum1);
        if (three) tot = _mm256_sub_epi32(tot, _mm256_madd_epi16(_mm256_slli_epi16(sc16, 2), bs)); /* offset 4 */
        acc = _mm256_fmadd_ps(_mm256_set1_ps(yb[i].d * d), _mm256_cvtepi32_ps(tot), acc);
        if (!three)
            acc = _mm256_fmadd_ps(_mm256_set1_ps(-yb[i].d * dmin), _mm256_cvtepi32_ps(_mm256_madd_epi16(mn16, bs)), acc);
    }
    *out = qx_hsum_ps(acc);
}
static void qx_vec_dot_q2_K(int64_t n, float *out, const void *w, const void *x) { qx_q2k_q3k(n, out, w, x, 0); }
static void qx_vec_dot_q3_K(int64_t n, float *out, const void *w, const void *x) { qx_q2k_q3k(n, out, w, x, 1); }

/* The gemm body shared by every type (see mono_gemm_fn in kernels.h). */
static void qx_gemm_any(int type, mono_vec_dot_fn dot, int64_t n, const void *w, size_t w_row_bytes, int64_t r0,
                        int64_t r1, const void *x, size_t x_row_bytes, int64_t n_tok, float *out, size_t out_stride) {
    if (n_tok < 4 || n > QX_GEMM_MAX_COLS) {
        mono_gemm_by_vec_dot(dot, n, w, w_row_bytes, r0, r1, x, x_row_bytes, n_tok, out, out_stride);
        return;
    }
    const int is_k = mono_type_get(type)->block_size == QX_QK_K;
    const int has_min = type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1 || type == MONO_TYPE_Q2_K ||
                        type == MONO_TYPE_Q4_K || type == MONO_TYPE_Q5_K;
    static const size_t ksb_max = QX_GEMM_MAX_COLS / QX_QK_K;
    union {
        struct { int8_t q[QX_GEMM_MAX_COLS]; float d[QX_GEMM_MAX_COLS / QX_QK], m[QX_GEMM_MAX_COLS / QX_QK]; } leg;
        qx_ksb k[QX_GEMM_MAX_COLS / QX_QK_K];
    } buf;
    (void)ksb_max;
    const size_t yb = has_min && !is_k ? sizeof(mono_block_q8_1) : sizeof(mono_block_q8_0);
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)w + (size_t)r * w_row_bytes;
        if (is_k) qx_unpack_k(type, row, n / QX_QK_K, buf.k);
        else qx_unpack_legacy(type, row, n / QX_QK, buf.leg.q, buf.leg.d, buf.leg.m);
        for (int64_t t0 = 0; t0 < n_tok; t0 += 4) {
            int nt = n_tok - t0 < 4 ? (int)(n_tok - t0) : 4;
            const uint8_t *yp[4];
            float res[4];
            for (int t = 0; t < nt; t++) yp[t] = (const uint8_t *)x + (size_t)(t0 + t) * x_row_bytes;
            /* literal token counts let the compiler keep the accumulators in registers */
            if (is_k) {
                if (nt == 4) qx_k_tokens(n / QX_QK_K, buf.k, has_min, yp, 4, res);
                else for (int t = 0; t < nt; t++) qx_k_tokens(n / QX_QK_K, buf.k, has_min, yp + t, 1, res + t);
            } else {
                if (nt == 4) qx_legacy_tokens(n / QX_QK, buf.leg.q, buf.leg.d, buf.leg.m, has_min, yp, 4, yb, res);
                else
                    for (int t = 0; t < nt; t++)
                        qx_legacy_tokens(n / QX_QK, buf.leg.q, buf.leg.d, buf.leg.m, has_min, yp + t, 1, yb, res + t);
            }
            for (int t = 0; t < nt; t++) out[(size_t)(t0 + t) * out_stride + (size_t)r] = res[t];
        }
    }
}

/* ------------------------------------------------- decode, legacy types */

/* Matrix-vector product for the 32-weight types, one token at a time, with
 * the activation prepared once per call: the weights' constant offset (Q4_0
 * stores q+8, Q5_0 q+16, Q8_0 is read as unsigned q+128) becomes a per-lane
 * correction -off*sum(y) that seeds each block's u8 x i8 dot, so a block is
 * unpack, one dot, one convert, one fmadd with its broadcast scale, with
 * the activation in its own order. On AVX2 this is ~1.2x the vec_dot loop
 * (no sign trick); quant_avx512.c replaces it with a 512-bit version that
 * streams two blocks per register (faster again on Zen 4). */
typedef struct qx_gv_act {
    int32_t c[QX_GEMM_MAX_COLS / 4];     /* 8 lanes per block */
    float dx[QX_GEMM_MAX_COLS / QX_QK];  /* activation scale per block */
    float sx[QX_GEMM_MAX_COLS / QX_QK];  /* Q8_1: d * sum(q) per block */
} qx_gv_act;

/* Block b of a row as 32 unsigned bytes (the offset stays in the correction). */
QX_INLINE __m256i qx_gv_unpack(int type, const uint8_t *blk) {
    switch (type) {
    case MONO_TYPE_Q8_0:
        return _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(blk + 2)), _mm256_set1_epi8((char)0x80));
    case MONO_TYPE_Q4_0: return qx_nibbles32(blk + 2);
    case MONO_TYPE_Q4_1: return qx_nibbles32(blk + 4);
    case MONO_TYPE_Q5_0:
        return _mm256_or_si256(qx_nibbles32(blk + 6), _mm256_and_si256(qx_bits32(blk + 2), _mm256_set1_epi8(0x10)));
    default: /* Q5_1 */
        return _mm256_or_si256(qx_nibbles32(blk + 8), _mm256_and_si256(qx_bits32(blk + 4), _mm256_set1_epi8(0x10)));
    }
}

QX_INLINE float qx_gv_row(int type, const uint8_t *row, int64_t nb, const uint8_t *x, const qx_gv_act *a) {
    const int has_min = type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1;
    const size_t wb = mono_type_get(type)->block_bytes, xb = has_min ? 36 : 34, xq = has_min ? 4 : 2;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    float msum = 0;
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4) {
        QX_UNROLL
        for (int j = 0; j < 4; j++) {
            const uint8_t *blk = row + (size_t)(b + j) * wb;
            uint16_t dh;
            memcpy(&dh, blk, 2);
            __m256i i = qx_dot_u8i8(_mm256_loadu_si256((const __m256i *)(a->c + 8 * (b + j))), qx_gv_unpack(type, blk),
                                    _mm256_loadu_si256((const __m256i *)(x + (size_t)(b + j) * xb + xq)));
            acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), _mm256_set1_ps(qx_h2f(dh) * a->dx[b + j]), acc[j]);
            if (has_min) {
                uint16_t mh;
                memcpy(&mh, blk + 2, 2);
                msum += qx_h2f(mh) * a->sx[b + j];
            }
        }
    }
    for (; b < nb; b++) {
        const uint8_t *blk = row + (size_t)b * wb;
        uint16_t dh;
        memcpy(&dh, blk, 2);
        __m256i i = qx_dot_u8i8(_mm256_loadu_si256((const __m256i *)(a->c + 8 * b)), qx_gv_unpack(type, blk),
                                _mm256_loadu_si256((const __m256i *)(x + (size_t)b * xb + xq)));
        acc[0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), _mm256_set1_ps(qx_h2f(dh) * a->dx[b]), acc[0]);
        if (has_min) {
            uint16_t mh;
            memcpy(&mh, blk + 2, 2);
            msum += qx_h2f(mh) * a->sx[b];
        }
    }
    return qx_hsum_ps(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]))) + msum;
}

QX_INLINE void qx_gemv_legacy(int type, int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x,
                              size_t xrb, int64_t n_tok, float *out, size_t os) {
    const int has_min = type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1;
    const int off = type == MONO_TYPE_Q8_0 ? 128 : type == MONO_TYPE_Q4_0 ? 8 : type == MONO_TYPE_Q5_0 ? 16 : 0;
    const size_t xb = has_min ? 36 : 34, xq = has_min ? 4 : 2;
    const int64_t nb = n / QX_QK;
    qx_gv_act a;
    for (int64_t t = 0; t < n_tok; t++) {
        const uint8_t *xt = (const uint8_t *)x + (size_t)t * xrb;
        for (int64_t b = 0; b < nb; b++) {
            uint16_t h;
            memcpy(&h, xt + (size_t)b * xb, 2);
            a.dx[b] = qx_h2f(h);
            if (has_min) { memcpy(&h, xt + (size_t)b * xb + 2, 2); a.sx[b] = qx_h2f(h); }
            __m256i s = qx_dot_u8i8(_mm256_setzero_si256(), _mm256_set1_epi8((char)off),
                                    _mm256_loadu_si256((const __m256i *)(xt + (size_t)b * xb + xq)));
            _mm256_storeu_si256((__m256i *)(a.c + 8 * b), _mm256_sub_epi32(_mm256_setzero_si256(), s));
        }
        for (int64_t r = r0; r < r1; r++) out[(size_t)t * os + (size_t)r] = qx_gv_row(type, (const uint8_t *)w + (size_t)r * wrb, nb, xt, &a);
    }
}

/* Q8_0 as unsigned q+128 overflows maddubs' 16-bit pairs: VNNI only */
#if defined(MONO_QX_VNNI)
#define QX_HAS_VNNI 1
#else
#define QX_HAS_VNNI 0
#endif
#define QX_GEMM_LEGACY(T, tname)                                                                             \
    static void qx_gemm_##tname(int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x, \
                                size_t xrb, int64_t n_tok, float *out, size_t os) {                          \
        if (n_tok < 4 && n <= QX_GEMM_MAX_COLS && (QX_HAS_VNNI || MONO_TYPE_##T != MONO_TYPE_Q8_0)) \
            qx_gemv_legacy(MONO_TYPE_##T, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);                        \
        else                                                                                                 \
            qx_gemm_any(MONO_TYPE_##T, qx_vec_dot_##tname, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);      \
    }
QX_GEMM_LEGACY(Q4_0, q4_0)
QX_GEMM_LEGACY(Q4_1, q4_1)
QX_GEMM_LEGACY(Q5_0, q5_0)
QX_GEMM_LEGACY(Q5_1, q5_1)
QX_GEMM_LEGACY(Q8_0, q8_0)
#undef QX_GEMM_LEGACY

#define QX_GEMM(T, tname)                                                                                    \
    static void qx_gemm_##tname(int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x, \
                                size_t xrb, int64_t n_tok, float *out, size_t os) {                          \
        qx_gemm_any(MONO_TYPE_##T, qx_vec_dot_##tname, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);          \
    }
QX_GEMM(Q4_K, q4_K)
QX_GEMM(Q5_K, q5_K)
QX_GEMM(Q6_K, q6_K)

QX_GEMM(Q2_K, q2_K)
QX_GEMM(Q3_K, q3_K)
#undef QX_GEMM

/* The activations of Q4_1/Q5_1 weights: same bytes as mono_quantize_row_q8_1
 * (qx_quantize_row_q8_0's quants and d, plus s = f16(sum(q) * d) with the
 * unrounded float d). The portable loop took ~10% of a q5_k_m prefill. */
static void qx_quantize_row_q8_1(const float *src, void *dst, int64_t n) {
    mono_block_q8_1 *y = dst;
    for (int64_t i = 0; i < n / QX_QK; i++, src += QX_QK) {
        float d;
        const __m256i q = qx_quantize_block32(src, &d);
        _mm256_storeu_si256((__m256i *)y[i].qs, q);
        const __m256i pairs = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);
        const int sum = qx_hsum_epi32(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
        y[i].d = qx_f32_to_f16(d);
        y[i].s = qx_f32_to_f16((float)sum * d);
    }
}

static void qx_register(mono_kernels *k) {
    k->vec_dot[MONO_TYPE_Q4_0] = qx_vec_dot_q4_0;
    k->vec_dot[MONO_TYPE_Q4_1] = qx_vec_dot_q4_1;
    k->vec_dot[MONO_TYPE_Q5_0] = qx_vec_dot_q5_0;
    k->vec_dot[MONO_TYPE_Q5_1] = qx_vec_dot_q5_1;
    k->vec_dot[MONO_TYPE_Q8_0] = qx_vec_dot_q8_0;
    k->vec_dot[MONO_TYPE_Q4_K] = qx_vec_dot_q4_K;
    k->vec_dot[MONO_TYPE_Q5_K] = qx_vec_dot_q5_K;
    k->vec_dot[MONO_TYPE_Q6_K] = qx_vec_dot_q6_K;
    k->vec_dot[MONO_TYPE_Q2_K] = qx_vec_dot_q2_K;
    k->vec_dot[MONO_TYPE_Q3_K] = qx_vec_dot_q3_K;
    k->gemm[MONO_TYPE_Q4_0] = qx_gemm_q4_0;
    k->gemm[MONO_TYPE_Q4_1] = qx_gemm_q4_1;
    k->gemm[MONO_TYPE_Q5_0] = qx_gemm_q5_0;
    k->gemm[MONO_TYPE_Q5_1] = qx_gemm_q5_1;
    k->gemm[MONO_TYPE_Q8_0] = qx_gemm_q8_0;
    k->gemm[MONO_TYPE_Q2_K] = qx_gemm_q2_K;
    k->gemm[MONO_TYPE_Q3_K] = qx_gemm_q3_K;
    k->gemm[MONO_TYPE_Q4_K] = qx_gemm_q4_K;
    k->gemm[MONO_TYPE_Q5_K] = qx_gemm_q5_K;
    k->gemm[MONO_TYPE_Q6_K] = qx_gemm_q6_K;
    k->quantize_row[MONO_TYPE_Q8_0] = qx_quantize_row_q8_0;
    k->quantize_row[MONO_TYPE_Q8_1] = qx_quantize_row_q8_1;
    k->quantize_row[MONO_TYPE_Q8_K] = qx_quantize_row_q8_K;
}

#endif
