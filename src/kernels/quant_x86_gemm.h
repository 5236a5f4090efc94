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

typedef struct qx_ksb {
    int8_t q[QX_QK_K];
    int16_t sv[8][16]; /* chunk c (32 weights): scale of 16-group 2c x8, then 2c+1 x8 */
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

static void qx_ksb_scales(qx_ksb *o, const int16_t sc[16]) {
    for (int c = 0; c < 8; c++)
        for (int l = 0; l < 16; l++) o->sv[c][l] = sc[2 * c + l / 8];
}

static void qx_unpack_k(int type, const void *row, int64_t nsb, qx_ksb *out) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int64_t i = 0; i < nsb; i++) {
        qx_ksb *o = &out[i];
        int16_t sc[16];
        memset(o->mn, 0, sizeof o->mn);
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
            uint8_t s8[8], m8[8];
            mono_q4k_unpack_scales(scales, s8, m8);
            for (int j = 0; j < 16; j++) { sc[j] = s8[j / 2]; o->mn[j] = m8[j / 2]; }
            __m256i qh = qhp ? _mm256_loadu_si256((const __m256i *)qhp) : _mm256_setzero_si256();
            for (int j = 0; j < 4; j++) {
                __m256i qb = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
                __m256i lo = _mm256_and_si256(qb, m4), hi = _mm256_and_si256(_mm256_srli_epi16(qb, 4), m4);
                const __m256i one = _mm256_set1_epi8(1);
                lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * j), one), 4));
                hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * j + 1), one), 4));
                _mm256_storeu_si256((__m256i *)(o->q + 64 * j), lo);
                _mm256_storeu_si256((__m256i *)(o->q + 64 * j + 32), hi);
            }
        } else if (type == MONO_TYPE_Q6_K) {
            const mono_block_q6_K *b = (const mono_block_q6_K *)row + i;
            o->d = qx_h2f(b->d);
            for (int j = 0; j < 16; j++) sc[j] = b->scales[j];
            const __m256i m3 = _mm256_set1_epi8(3), m32 = _mm256_set1_epi8(32);
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
                for (int k = 0; k < 4; k++)
                    _mm256_storeu_si256((__m256i *)(o->q + 128 * h + 32 * k), _mm256_sub_epi8(v[k], m32));
            }
        } else if (type == MONO_TYPE_Q2_K) {
            const mono_block_q2_K *b = (const mono_block_q2_K *)row + i;
            o->d = qx_h2f(b->d); o->dmin = qx_h2f(b->dmin);
            for (int j = 0; j < 16; j++) { sc[j] = b->scales[j] & 0xF; o->mn[j] = b->scales[j] >> 4; }
            for (int e = 0; e < QX_QK_K; e++) {
                int h = e / 128, s = (e % 128) / 32, k = (e % 32) / 16, l = e % 16;
                o->q[e] = (int8_t)((b->qs[32 * h + 16 * k + l] >> (2 * s)) & 3);
            }
        } else { /* Q3_K */
            const mono_block_q3_K *b = (const mono_block_q3_K *)row + i;
            int8_t s8[16];
            mono_q3k_unpack_scales(b->scales, s8);
            o->d = qx_h2f(b->d);
            for (int j = 0; j < 16; j++) sc[j] = s8[j];
            for (int e = 0; e < QX_QK_K; e++) {
                int h = e / 128, s = (e % 128) / 32, k = (e % 32) / 16, l = e % 16;
                int lo = (b->qs[32 * h + 16 * k + l] >> (2 * s)) & 3;
                int hb = (b->hmask[16 * k + l] >> (4 * h + s)) & 1;
                o->q[e] = (int8_t)(lo - (hb ? 0 : 4));
            }
        }
        qx_ksb_scales(o, sc);
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

QX_INLINE void qx_k_tokens(int64_t nsb, const qx_ksb *w, int has_min, const uint8_t *const *y, int nt, float *res) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    float macc[4] = {0, 0, 0, 0};
    for (int64_t i = 0; i < nsb; i++) {
        __m256i isum[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
        const mono_block_q8_K *yb[4];
        QX_UNROLL
        for (int t = 0; t < nt; t++) yb[t] = (const mono_block_q8_K *)y[t] + i;
        QX_UNROLL
        for (int c = 0; c < 8; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(w[i].q + 32 * c));
            __m256i aq = _mm256_sign_epi8(q, q);
            __m256i sv = _mm256_loadu_si256((const __m256i *)w[i].sv[c]);
            QX_UNROLL
            for (int t = 0; t < nt; t++) {
                __m256i s = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(yb[t]->qs + 32 * c)), q);
                isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(_mm256_maddubs_epi16(aq, s), sv));
            }
        }
        __m256i mn = _mm256_loadu_si256((const __m256i *)w[i].mn);
        QX_UNROLL
        for (int t = 0; t < nt; t++) {
            acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(yb[t]->d * w[i].d), _mm256_cvtepi32_ps(isum[t]), acc[t]);
            if (has_min) {
                int ms = qx_hsum_epi32(_mm256_madd_epi16(mn, _mm256_loadu_si256((const __m256i *)yb[t]->bsums)));
                macc[t] += yb[t]->d * w[i].dmin * (float)ms;
            }
        }
    }
    for (int t = 0; t < nt; t++) res[t] = qx_hsum_ps(acc[t]) - macc[t];
}

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

#define QX_GEMM(T, tname)                                                                                    \
    static void qx_gemm_##tname(int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x, \
                                size_t xrb, int64_t n_tok, float *out, size_t os) {                          \
        qx_gemm_any(MONO_TYPE_##T, qx_vec_dot_##tname, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);          \
    }
QX_GEMM(Q4_0, q4_0)
QX_GEMM(Q4_1, q4_1)
QX_GEMM(Q5_0, q5_0)
QX_GEMM(Q5_1, q5_1)
QX_GEMM(Q8_0, q8_0)
QX_GEMM(Q4_K, q4_K)
QX_GEMM(Q5_K, q5_K)
QX_GEMM(Q6_K, q6_K)
#undef QX_GEMM

/* Q2_K/Q3_K keep the portable vec_dot for decode but get the blocked gemm. */
static void qx_gemm_q2_K(int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x, size_t xrb,
                         int64_t n_tok, float *out, size_t os) {
    qx_gemm_any(MONO_TYPE_Q2_K, mono_vec_dot_q2_K_q8_K, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
}
static void qx_gemm_q3_K(int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x, size_t xrb,
                         int64_t n_tok, float *out, size_t os) {
    qx_gemm_any(MONO_TYPE_Q3_K, mono_vec_dot_q3_K_q8_K, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
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
    k->quantize_row[MONO_TYPE_Q8_K] = qx_quantize_row_q8_K;
}

#endif
