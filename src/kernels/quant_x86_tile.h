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
#define QT_AE 192                   /* bytes per packed (pair, token) */
#define QT_ACT_BUDGET (1024 * 1024)  /* packed activations of one token block */

/* One packed pair of token t: y[64] int8, c[16] int32 or s[16] float, dx[16] float. */
static void qt_pack_act(int type, int64_t nb, const uint8_t *x, size_t xrb, int64_t tn, uint8_t *abuf) {
    const int has_min = type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1;
    const int off = type == MONO_TYPE_Q8_0 ? 128 : type == MONO_TYPE_Q4_0 ? 8 : type == MONO_TYPE_Q5_0 ? 16 : 0;
    const size_t xb = has_min ? sizeof(mono_block_q8_1) : sizeof(mono_block_q8_0), xq = has_min ? 4 : 2;
    const int64_t np = (nb + 1) / 2;
    for (int64_t t = 0; t < tn; t++) {
        const uint8_t *xt = x + (size_t)t * xrb;
        for (int64_t p = 0; p < np; p++) {
            uint8_t *e = abuf + ((size_t)p * (size_t)tn + (size_t)t) * QT_AE;
            float dx[2] = {0, 0}, sx[2] = {0, 0};
            for (int j = 0; j < 2; j++) {
                const int64_t b = 2 * p + j;
                if (b < nb) {
                    const uint8_t *blk = xt + (size_t)b * xb;
                    uint16_t h;
                    memcpy(e + 32 * j, blk + xq, 32);
                    memcpy(&h, blk, 2);
                    dx[j] = qx_h2f(h);
                    if (has_min) { memcpy(&h, blk + 2, 2); sx[j] = qx_h2f(h); }
                } else {
                    memset(e + 32 * j, 0, 32);
                }
            }
            if (has_min) {
                _mm512_storeu_ps(e + 64, _mm512_maskz_mov_ps(0x0101, _mm512_insertf32x8(_mm512_castps256_ps512(
                                         _mm256_set1_ps(sx[0])), _mm256_set1_ps(sx[1]), 1)));
            } else {
                __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8((char)off), _mm512_loadu_si512(e));
                _mm512_storeu_si512(e + 64, _mm512_sub_epi32(_mm512_setzero_si512(), s));
            }
            _mm512_storeu_ps(e + 128, _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(dx[0])),
                                                         _mm256_set1_ps(dx[1]), 1));
        }
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

/* out[t][r] for NR rows x NT tokens: wp = the row tile's packed weights,
 * ap = the first token's packed activations, tn = tokens in the block. */
QX_INLINE void qt_tile(const uint8_t *wp, size_t we, const uint8_t *ap, int64_t tn, int64_t np, const int has_min,
                       const int NR, const int NT, float *out, size_t os) {
    __m512 acc[QT_R][QT_T];
    QX_UNROLL
    for (int r = 0; r < NR; r++)
        QX_UNROLL
        for (int t = 0; t < NT; t++) acc[r][t] = _mm512_setzero_ps();
    const size_t wstep = QT_R * we, astep = (size_t)tn * QT_AE;
    for (int64_t p = 0; p < np; p++, wp += wstep, ap += astep) {
        __m512i wv[QT_R];
        __m512 dw[QT_R], mw[QT_R];
        QX_UNROLL
        for (int r = 0; r < NR; r++) {
            wv[r] = _mm512_loadu_si512(wp + r * we);
            dw[r] = _mm512_loadu_ps(wp + r * we + 64);
            if (has_min) mw[r] = _mm512_loadu_ps(wp + r * we + 128);
        }
        QX_UNROLL
        for (int t = 0; t < NT; t++) {
            const uint8_t *a = ap + t * QT_AE;
            const __m512i y = _mm512_loadu_si512(a);
            const __m512 dx = _mm512_loadu_ps(a + 128);
            if (has_min) {
                const __m512 sx = _mm512_loadu_ps(a + 64);
                QX_UNROLL
                for (int r = 0; r < NR; r++) {
                    __m512i i = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wv[r], y);
                    acc[r][t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(i), dx), dw[r], acc[r][t]);
                    acc[r][t] = _mm512_fmadd_ps(mw[r], sx, acc[r][t]);
                }
            } else {
                const __m512i c = _mm512_loadu_si512(a + 64);
                QX_UNROLL
                for (int r = 0; r < NR; r++) {
                    __m512i i = _mm512_dpbusd_epi32(c, wv[r], y);
                    acc[r][t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(i), dx), dw[r], acc[r][t]);
                }
            }
        }
    }
    QX_UNROLL
    for (int r = 0; r < NR; r++)
        QX_UNROLL
        for (int t = 0; t < NT; t++) out[(size_t)t * os + (size_t)r] = _mm512_reduce_add_ps(acc[r][t]);
}

/* Token tiles of one packed row tile: NR rows, all tn tokens of the block. */
QX_INLINE void qt_row_tile(const uint8_t *wbuf, size_t we, const uint8_t *abuf, int64_t tn, int64_t np,
                           const int has_min, const int NR, float *out, size_t os) {
    int64_t t = 0;
    for (; t + QT_T <= tn; t += QT_T)
        qt_tile(wbuf, we, abuf + (size_t)t * QT_AE, tn, np, has_min, NR, QT_T, out + (size_t)t * os, os);
    const uint8_t *ap = abuf + (size_t)t * QT_AE;
    float *o = out + (size_t)t * os;
    switch (tn - t) {
    case 3: qt_tile(wbuf, we, ap, tn, np, has_min, NR, 3, o, os); break;
    case 2: qt_tile(wbuf, we, ap, tn, np, has_min, NR, 2, o, os); break;
    case 1: qt_tile(wbuf, we, ap, tn, np, has_min, NR, 1, o, os); break;
    default: break;
    }
}

/* The gemm (mono_gemm_fn) of a legacy type for n_tok >= 4; falls back to
 * qx_gemm_any when its buffers cannot be allocated. */
QX_INLINE void qt_gemm_legacy(int type, mono_vec_dot_fn dot, int64_t n, const void *w, size_t wrb, int64_t r0,
                              int64_t r1, const void *x, size_t xrb, int64_t n_tok, float *out, size_t os) {
    const int has_min = type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1;
    const int64_t nb = n / QX_QK, np = (nb + 1) / 2;
    const size_t we = has_min ? 192 : 128;
    int64_t tb = QT_ACT_BUDGET / (np * QT_AE);
    tb = tb < QT_T ? QT_T : tb > 128 ? 128 : tb - tb % QT_T;
    if (tb > n_tok) tb = n_tok;
    const size_t abytes = (size_t)tb * (size_t)np * QT_AE, wbytes = QT_R * (size_t)np * we;
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
