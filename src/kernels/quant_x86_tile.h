/*
 * quant_x86_tile.h -- the register-tiled int8 prefill GEMM (n_tok >= 4) of
 * the 32-weight block types Q8_0, Q4_0, Q5_0, Q4_1 and Q5_1 on AVX-512 VNNI
 * (included by quant_avx512.c after quant_x86_gemm.h).
 *
 * qx_gemm_any runs one weight row against 4 tokens, so every activation
 * block is reloaded for every row. Here a tile of QT_R = 4 rows x QT_T = 4
 * tokens keeps 16 accumulators in registers, and each loaded weight vector
 * feeds 4 tokens while each activation vector feeds 4 rows.
 *
 * Both operands are first packed, two 32-element blocks ("a pair") per
 * 64-byte vector:
 *   - activations, once per block of TB tokens (the whole block stays in
 *     L2): per (pair, token) the 64 signed quants y, then either the
 *     per-lane offset correction c = -off * (sum of 4 y) (Q4_0 stores q+8,
 *     Q5_0 q+16, Q8_0 is read as unsigned q+128) or, for Q4_1/Q5_1, the
 *     Q8_1 block sums s = d*sum(q) in lanes 0 and 8, then the two block
 *     scales, each in 8 lanes;
 *   - weights, once per tile of 4 rows (reused by every token tile):
 *     per (pair, row) the 64 unsigned quants, the two scales in 8 lanes
 *     each and, for Q4_1/Q5_1, the two mins in 8 lanes each.
 * A pair then costs per (row, token) one vpdpbusd seeded with c, one
 * convert, one multiply by the activation scales and one fmadd with the
 * weight scales (plus one fmadd m*s for the types with a min). Odd block
 * counts are padded with a zero block (zero quants, scales and sums).
 * The integer sum of every block is exact, as in the portable kernels; only
 * the float summation order differs.
 */
#ifndef MONO_KERNELS_QUANT_X86_TILE_H
#define MONO_KERNELS_QUANT_X86_TILE_H

#include <stdlib.h>

#include "kernels/quant_x86_gemm.h"

#define QT_R 4                      /* weight rows per register tile */
#define QT_T 4                      /* tokens per register tile */
#define QT_AE 448                   /* bytes per packed (pair, token tile) */
#define QT_ACT_BUDGET (1024 * 1024)  /* packed activations of one token block */

/* The packed activations of tokens [0, tn) (tn rounded up to a whole tile
 * of QT_T, missing tokens zero): per (pair p, token tile j) QT_AE bytes at
 * (p * ntt + j) * QT_AE: the four tokens' 64 quants, then per result lane
 * (k, m) = 4k + m (128-bit lane k of a pair's dot, token m): the offset
 * correction -off * (sum of the 16 y of lane k), the scale dx of block k/2
 * and, for Q4_1/Q5_1, the block sum s of block k/2 in lanes k = 0 and 2. */
static void qt_pack_act(int type, int64_t nb, const uint8_t *x, size_t xrb, int64_t tn, uint8_t *abuf) {
    const int has_min = type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1;
    const int off = type == MONO_TYPE_Q8_0 ? 128 : type == MONO_TYPE_Q4_0 ? 8 : type == MONO_TYPE_Q5_0 ? 16 : 0;
    const size_t xb = has_min ? sizeof(mono_block_q8_1) : sizeof(mono_block_q8_0), xq = has_min ? 4 : 2;
    const int64_t np = (nb + 1) / 2, ntt = (tn + QT_T - 1) / QT_T;
    for (int64_t j = 0; j < ntt; j++)
        for (int64_t p = 0; p < np; p++) {
            uint8_t *e = abuf + ((size_t)p * (size_t)ntt + (size_t)j) * QT_AE;
            int32_t corr[16];
            float dxt[16], sxt[16];
            for (int m = 0; m < QT_T; m++) {
                const int64_t t = QT_T * j + m;
                int8_t *y = (int8_t *)(e + 64 * m);
                for (int h = 0; h < 2; h++) {
                    const int64_t b = 2 * p + h;
                    float dx = 0, sx = 0;
                    if (t < tn && b < nb) {
                        const uint8_t *blk = x + (size_t)t * xrb + (size_t)b * xb;
                        uint16_t hv;
                        memcpy(y + 32 * h, blk + xq, 32);
                        memcpy(&hv, blk, 2);
                        dx = qx_h2f(hv);
                        if (has_min) { memcpy(&hv, blk + 2, 2); sx = qx_h2f(hv); }
                    } else {
                        memset(y + 32 * h, 0, 32);
                    }
                    for (int k = 2 * h; k < 2 * h + 2; k++) {
                        int32_t sum = 0;
                        for (int i = 0; i < 16; i++) sum += y[16 * k + i];
                        corr[4 * k + m] = -off * sum;
                        dxt[4 * k + m] = dx;
                        sxt[4 * k + m] = k == 2 * h ? sx : 0;
                    }
                }
            }
            memcpy(e + 256, corr, 64);
            memcpy(e + 320, dxt, 64);
            if (has_min) memcpy(e + 384, sxt, 64);
        }
}

/* Rows [r, r+nr) packed per (pair, row): w[64] unsigned, d[16] float, m[16] float (Q4_1/Q5_1). */
static void qt_pack_w(int type, int64_t nb, const uint8_t *w, size_t wrb, int64_t r, int nr, size_t we,
                      uint8_t *wbuf) {
    const int has_min = type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1;
    const size_t wb = mono_type_get(type)->block_bytes;
    const int64_t np = (nb + 1) / 2;
    for (int i = 0; i < nr; i++) {
        const uint8_t *row = w + (size_t)(r + i) * wrb;
        for (int64_t p = 0; p < np; p++) {
            uint8_t *e = wbuf + ((size_t)p * QT_R + (size_t)i) * we;
            float d[2] = {0, 0}, m[2] = {0, 0};
            for (int j = 0; j < 2; j++) {
                const int64_t b = 2 * p + j;
                __m256i v = _mm256_setzero_si256();
                if (b < nb) {
                    const uint8_t *blk = row + (size_t)b * wb;
                    uint16_t h;
                    _mm_prefetch((const char *)blk + QT_R * wrb, _MM_HINT_T0); /* the next row tile (never faults) */
                    v = qx_gv_unpack(type, blk);
                    memcpy(&h, blk, 2);
                    d[j] = qx_h2f(h);
                    if (has_min) { memcpy(&h, blk + 2, 2); m[j] = qx_h2f(h); }
                }
                _mm256_storeu_si256((__m256i *)(e + 32 * j), v);
            }
            _mm512_storeu_ps(e + 64, _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(d[0])),
                                                        _mm256_set1_ps(d[1]), 1));
            if (has_min)
                _mm512_storeu_ps(e + 128, _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(m[0])),
                                                             _mm256_set1_ps(m[1]), 1));
        }
    }
}

/* Sums per lane (k, m) of the four tokens' dots A..D (128-bit lane k):
 * two rounds of interleave-and-add. */
static inline __m512i qt_reduce4(__m512i a, __m512i b, __m512i c, __m512i d) {
    __m512i ab = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
    __m512i cd = _mm512_add_epi32(_mm512_unpacklo_epi32(c, d), _mm512_unpackhi_epi32(c, d));
    return _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd), _mm512_unpackhi_epi64(ab, cd));
}

/* out[t][r] for NR rows x NJ token tiles (of 4 tokens, nt valid in all):
 * wp = the row tile's packed weights, ap = the first token tile's packed
 * activations, ntt = token tiles in the block. */
QX_INLINE void qt_tile(const uint8_t *wp, size_t we, const uint8_t *ap, int64_t ntt, int64_t np, const int has_min,
                       const int NR, const int NJ, int64_t nt, float *out, size_t os) {
    __m512 acc[QT_R][2];
    QX_UNROLL
    for (int r = 0; r < NR; r++)
        QX_UNROLL
        for (int j = 0; j < NJ; j++) acc[r][j] = _mm512_setzero_ps();
    const size_t wstep = QT_R * we, astep = (size_t)ntt * QT_AE;
    for (int64_t p = 0; p < np; p++, wp += wstep, ap += astep) {
        __m512i wv[QT_R];
        QX_UNROLL
        for (int r = 0; r < NR; r++) wv[r] = _mm512_loadu_si512(wp + r * we);
        QX_UNROLL
        for (int j = 0; j < NJ; j++) {
            const uint8_t *a = ap + j * QT_AE;
            const __m512i y0 = _mm512_loadu_si512(a), y1 = _mm512_loadu_si512(a + 64);
            const __m512i y2 = _mm512_loadu_si512(a + 128), y3 = _mm512_loadu_si512(a + 192);
            const __m512i corr = _mm512_loadu_si512(a + 256);
            const __m512 dx = _mm512_loadu_ps(a + 320);
            QX_UNROLL
            for (int r = 0; r < NR; r++) {
                const __m512i z = _mm512_setzero_si512();
                __m512i i = qt_reduce4(_mm512_dpbusd_epi32(z, wv[r], y0), _mm512_dpbusd_epi32(z, wv[r], y1),
                                       _mm512_dpbusd_epi32(z, wv[r], y2), _mm512_dpbusd_epi32(z, wv[r], y3));
                if (!has_min) i = _mm512_add_epi32(i, corr);
                __m512 sc = _mm512_mul_ps(_mm512_loadu_ps(wp + r * we + 64), dx);
                acc[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), sc, acc[r][j]);
                if (has_min)
                    acc[r][j] = _mm512_fmadd_ps(_mm512_loadu_ps(wp + r * we + 128), _mm512_loadu_ps(a + 384), acc[r][j]);
            }
        }
    }
    QX_UNROLL
    for (int r = 0; r < NR; r++)
        QX_UNROLL
        for (int j = 0; j < NJ; j++) {
            __m256 h = _mm256_add_ps(_mm512_castps512_ps256(acc[r][j]), _mm512_extractf32x8_ps(acc[r][j], 1));
            __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
            float v[4];
            _mm_storeu_ps(v, q);
            const int64_t valid = nt - 4 * (int64_t)j < 4 ? nt - 4 * (int64_t)j : 4;
            for (int m = 0; m < valid; m++) out[(size_t)(4 * j + m) * os + (size_t)r] = v[m];
        }
}

/* Token tiles of one packed row tile: NR rows, all tn tokens of the block. */
QX_INLINE void qt_row_tile(const uint8_t *wbuf, size_t we, const uint8_t *abuf, int64_t tn, int64_t np,
                           const int has_min, const int NR, float *out, size_t os) {
    const int64_t ntt = (tn + QT_T - 1) / QT_T;
    int64_t j = 0;
    for (; j + 2 <= ntt; j += 2)
        qt_tile(wbuf, we, abuf + (size_t)j * QT_AE, ntt, np, has_min, NR, 2, tn - QT_T * j, out + (size_t)(QT_T * j) * os, os);
    if (j < ntt)
        qt_tile(wbuf, we, abuf + (size_t)j * QT_AE, ntt, np, has_min, NR, 1, tn - QT_T * j, out + (size_t)(QT_T * j) * os, os);
}

/* The gemm (mono_gemm_fn) of a legacy type for n_tok >= 4; falls back to
 * qx_gemm_any when its buffers cannot be allocated. */
QX_INLINE void qt_gemm_legacy(int type, mono_vec_dot_fn dot, int64_t n, const void *w, size_t wrb, int64_t r0,
                              int64_t r1, const void *x, size_t xrb, int64_t n_tok, float *out, size_t os) {
    const int has_min = type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1;
    const int64_t nb = n / QX_QK, np = (nb + 1) / 2;
    const size_t we = has_min ? 192 : 128;
    int64_t tb = QT_ACT_BUDGET / (np * QT_AE) * QT_T;
    tb = tb < QT_T ? QT_T : tb > 128 ? 128 : tb - tb % QT_T;
    if (tb >= n_tok) {
        tb = n_tok;
    } else { /* equal blocks: a short last block would cost a whole weight pass */
        const int64_t nblk = (n_tok + tb - 1) / tb;
        tb = (n_tok + nblk - 1) / nblk;
        tb += (QT_T - tb % QT_T) % QT_T;
    }
    const size_t abytes = (size_t)((tb + QT_T - 1) / QT_T) * (size_t)np * QT_AE, wbytes = QT_R * (size_t)np * we;
    uint8_t *buf = aligned_alloc(64, abytes + wbytes);
    if (n_tok < 4 || r0 >= r1 || !buf) {
        free(buf);
        qx_gemm_any(type, dot, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
        return;
    }
    uint8_t *abuf = buf, *wbuf = buf + abytes;
    for (int64_t t0 = 0; t0 < n_tok; t0 += tb) {
        const int64_t tn = n_tok - t0 < tb ? n_tok - t0 : tb;
        float *ot = out + (size_t)t0 * os;
        qt_pack_act(type, nb, (const uint8_t *)x + (size_t)t0 * xrb, xrb, tn, abuf);
        int64_t r = r0;
        for (; r + QT_R <= r1; r += QT_R) {
            qt_pack_w(type, nb, (const uint8_t *)w, wrb, r, QT_R, we, wbuf);
            qt_row_tile(wbuf, we, abuf, tn, np, has_min, QT_R, ot + r, os);
        }
        for (; r < r1; r++) {
            qt_pack_w(type, nb, (const uint8_t *)w, wrb, r, 1, we, wbuf);
            qt_row_tile(wbuf, we, abuf, tn, np, has_min, 1, ot + r, os);
        }
    }
    free(buf);
}

#endif
