/*
 * quant_x86_tile.h -- the register-tiled int8 prefill GEMM (n_tok >= 4) on
 * AVX-512 VNNI for the 32-weight block types Q8_0, Q4_0, Q5_0, Q4_1, Q5_1
 * and (further down) the K-quants Q2_K..Q6_K; included by quant_avx512.c
 * after quant_x86_gemm.h, whose qx_gemm_any stays the fallback.
 *
 * qx_gemm_any runs one weight row against 4 tokens, so every activation
 * block is reloaded for every row and each weight byte feeds few MACs. Here
 * a tile is QT_R = 16 weight rows x QT_T = 8 tokens:
 *   - the 16 rows are packed once per block of up to QT_TB tokens: per
 *     32-weight block, eight 64-byte vectors W_g whose 32-bit lane j holds
 *     row j's weights 4g..4g+3 as unsigned bytes (Q8_0 as q+128, Q4_0 q+8,
 *     Q5_0 q+16, Q4_1/Q5_1 q), built by a 16x8 transpose, then the 16 row
 *     scales (and mins) as floats;
 *   - the activations (the Q8_0/Q8_1 rows mono_matmul quantized) are read
 *     in place: one vpdpbusd multiplies W_g by a broadcast of the token's
 *     4 bytes 4g..4g+3 and adds into all 16 rows at once;
 *   - a small table per (token, block), made once per call, holds the
 *     offset correction -off * sum(y) (the seed of the block's integer sum),
 *     the activation scale and, for Q8_1, the block sum d*sum(y).
 * Per block and token: 8 vpdpbusd, one convert, one multiply of the row
 * scales by the broadcast activation scale, one fmadd (one more for the
 * mins) -- 512 MACs for ~11 instructions, against ~4 per 64 for a 1-row
 * kernel. Integer sums are exact, as in the portable kernels; only the float
 * summation order differs.
 *
 * Built without MONO_QX_VNNI (quant_avx2.c) the file instead gives an AVX2
 * version for the 4/5-bit legacy types: 8 rows per 256-bit vector, maddubs
 * in place of vpdpbusd (see qt2_tile for why Q8_0 is left out).
 * Entry points: qt_gemm_legacy (AVX-512, called from quant_avx512.c's
 * QZ_GEMM for n_tok >= 4; its tile loop qt_gemm_tiles also runs the
 * repacked layouts of quant_x86_repack.h), qt_register_k (AVX-512 K-quant gemms),
 * qt_register_avx2 (AVX2 gemms); each falls back to qx_gemm_any.
 * Tested by tests/c/test_quant_tile.c and test_quant.c.
 */
#ifndef MONO_KERNELS_QUANT_X86_TILE_H
#define MONO_KERNELS_QUANT_X86_TILE_H

#include <stdlib.h>

#include "kernels/quant_x86_gemm.h"

#define QT_R 16                     /* weight rows per tile: one per 32-bit lane */
#define QT_T 8                      /* tokens per register tile (4, 6, 12 measured: no better) */
#define QT_TK 8                     /* tokens per register tile, K-quants */
#define QT_TB 256                   /* tokens per block (activations + table stay in L2/L3) */

/* Per (token, block) of the activations: the offset correction
 * -off * sum(y), the scale dx and (Q8_1) the block sum s = d*sum(y). */
typedef struct qt_tab {
    int32_t corr;
    float dx, sx, pad;
} qt_tab;

static void qt_pack_tab(int type, int64_t nb, const uint8_t *x, size_t xrb, int64_t tn, qt_tab *tab) {
    const int has_min = type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1;
    const int off = type == MONO_TYPE_Q8_0 ? 128 : type == MONO_TYPE_Q4_0 ? 8 : type == MONO_TYPE_Q5_0 ? 16 : 0;
    const size_t xb = has_min ? sizeof(mono_block_q8_1) : sizeof(mono_block_q8_0), xq = has_min ? 4 : 2;
    for (int64_t t = 0; t < tn; t++)
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = x + (size_t)t * xrb + (size_t)b * xb;
            qt_tab *e = &tab[t * nb + b];
            uint16_t h;
            __m256i s = qx_dot_u8i8(_mm256_setzero_si256(), _mm256_set1_epi8(1), _mm256_loadu_si256((const __m256i *)(blk + xq)));
            __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
            e->corr = -off * _mm_cvtsi128_si32(s4);
            memcpy(&h, blk, 2);
            e->dx = qx_h2f(h);
            e->sx = 0;
            e->pad = 0;
            if (has_min) { memcpy(&h, blk + 2, 2); e->sx = qx_h2f(h); }
        }
}

#if defined(MONO_QX_VNNI)

/* A 16 x 8 transpose of 32-bit groups: register k starts as rows k and
 * k+8 (lane = 8*(j/8) + g, register = j mod 8); round c swaps register bit c
 * with lane bit c, which leaves register g holding row j's group g in lane j. */
static void qt_transpose_init(__m512i lo_idx[3], __m512i hi_idx[3]) {
    for (int c = 0; c < 3; c++) {
        int32_t a[16], bidx[16];
        const int m = 1 << c;
        for (int l = 0; l < 16; l++) {
            a[l] = (l & m) ? 16 + (l ^ m) : l;
            bidx[l] = (l & m) ? 16 + l : (l ^ m);
        }
        lo_idx[c] = _mm512_loadu_si512(a);
        hi_idx[c] = _mm512_loadu_si512(bidx);
    }
}

QX_INLINE void qt_transpose(__m512i z[8], const __m512i lo_idx[3], const __m512i hi_idx[3]) {
    QX_UNROLL
    for (int c = 0; c < 3; c++)
        QX_UNROLL
        for (int k = 0; k < 8; k++)
            if (!(k & (1 << c))) {
                __m512i a = z[k], bb = z[k | (1 << c)];
                z[k] = _mm512_permutex2var_epi32(a, lo_idx[c], bb);
                z[k | (1 << c)] = _mm512_permutex2var_epi32(a, hi_idx[c], bb);
            }
}

/* Rows [r, r+nr) (nr <= 16, the rest zero) packed per block b at b * we:
 * eight 64-byte vectors W_g whose 32-bit lane j holds row j's unsigned
 * weights 4g..4g+3, then the 16 scales, then (Q4_1/Q5_1) the 16 mins. */
static void qt_pack_w(int type, int64_t nb, const uint8_t *w, size_t wrb, int64_t r, int nr, size_t we,
                      uint8_t *wbuf) {
    const int has_min = type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1;
    const size_t wb = mono_type_get(type)->block_bytes;
    __m512i lo_idx[3], hi_idx[3];
    qt_transpose_init(lo_idx, hi_idx);
    const uint8_t *rows[QT_R];
    for (int j = 0; j < QT_R; j++) rows[j] = j < nr ? w + (size_t)(r + j) * wrb : NULL;
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *e = wbuf + (size_t)b * we;
        float *d = (float *)(e + 512), *m = (float *)(e + 576);
        __m512i z[8];
        for (int k = 0; k < 8; k++) {
            __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
            if (rows[k]) {
                _mm_prefetch((const char *)rows[k] + (size_t)b * wb + QT_R * wrb, _MM_HINT_T1); /* next row tile, to L2 */
                _mm_prefetch((const char *)rows[k] + (size_t)(b + 8) * wb, _MM_HINT_T0); /* this tile, 8 blocks on */
                lo = qx_gv_unpack(type, rows[k] + (size_t)b * wb);
            }
            if (rows[k + 8]) {
                _mm_prefetch((const char *)rows[k + 8] + (size_t)b * wb + QT_R * wrb, _MM_HINT_T1);
                _mm_prefetch((const char *)rows[k + 8] + (size_t)(b + 8) * wb, _MM_HINT_T0);
                hi = qx_gv_unpack(type, rows[k + 8] + (size_t)b * wb);
            }
            z[k] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
        }
        qt_transpose(z, lo_idx, hi_idx);
        for (int g = 0; g < 8; g++) _mm512_storeu_si512(e + 64 * g, z[g]);
        for (int j = 0; j < QT_R; j++) {
            uint16_t h = 0;
            if (rows[j]) memcpy(&h, rows[j] + (size_t)b * wb, 2);
            d[j] = qx_h2f(h);
            if (has_min) {
                h = 0;
                if (rows[j]) memcpy(&h, rows[j] + (size_t)b * wb + 2, 2);
                m[j] = qx_h2f(h);
            }
        }
    }
}

/* out[t][r .. r+nr) for NT tokens against a packed row tile: per block and
 * token eight vpdpbusd (weights x a broadcast of 4 activation bytes) seeded
 * with the correction, one convert, one multiply, one fmadd. */
QX_INLINE void qt_tile(const uint8_t *wbuf, size_t we, int64_t nb, const uint8_t *const *xt, size_t xb, size_t xq,
                       const qt_tab *tab, const int has_min, const int NT, int nr, float *out, size_t os) {
    __m512 acc[QT_T];
    QX_UNROLL
    for (int t = 0; t < NT; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *e = wbuf + (size_t)b * we;
        __m512i W[8];
        QX_UNROLL
        for (int g = 0; g < 8; g++) W[g] = _mm512_loadu_si512(e + 64 * g);
        const __m512 dw = _mm512_loadu_ps(e + 512);
        QX_UNROLL
        for (int t = 0; t < NT; t++) {
            const uint8_t *y = xt[t] + (size_t)b * xb + xq;
            const qt_tab *tb = &tab[(int64_t)t * nb + b];
            __m512i i = _mm512_set1_epi32(tb->corr);
            QX_UNROLL
            for (int g = 0; g < 8; g++) {
                int32_t v;
                memcpy(&v, y + 4 * g, 4);
                i = _mm512_dpbusd_epi32(i, W[g], _mm512_set1_epi32(v));
            }
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), _mm512_mul_ps(dw, _mm512_set1_ps(tb->dx)), acc[t]);
            if (has_min) acc[t] = _mm512_fmadd_ps(_mm512_loadu_ps(e + 576), _mm512_set1_ps(tb->sx), acc[t]);
        }
    }
    const __mmask16 mask = (__mmask16)((1u << nr) - 1);
    QX_UNROLL
    for (int t = 0; t < NT; t++) _mm512_mask_storeu_ps(out + (size_t)t * os, mask, acc[t]);
}

/* The pack step of qt_gemm_tiles: the row tile whose first row is a (rows
 * a + nr on are not stored, so they may hold anything), packed per block b
 * at wbuf + b * we as qt_pack_w lays it out. src is the caller's matrix. */
typedef void (*qt_pack_fn)(const void *src, int64_t nb, size_t we, int64_t a, int nr, uint8_t *wbuf);

/* The token-block / row-tile loop of the legacy prefill GEMM, over any
 * weight form that `pack` can turn into tiles: row tiles start at
 * multiples of `align` (1: at r0, the file's rows; QT_R: at the repacked
 * groups); a tile that starts before r0 goes through a scratch tile. Always
 * inlined with a constant `pack`, so each caller gets its own copy with the
 * pack step called directly. Returns 0, having written nothing, when its
 * buffers cannot be allocated. */
QX_INLINE int qt_gemm_tiles(int type, int64_t nb, int64_t align, qt_pack_fn pack, const void *src, int64_t r0,
                            int64_t r1, const void *x, size_t xrb, int64_t n_tok, float *out, size_t os) {
    const int has_min = type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1;
    const size_t xb = has_min ? sizeof(mono_block_q8_1) : sizeof(mono_block_q8_0), xq = has_min ? 4 : 2;
    const size_t we = has_min ? 640 : 576;
    int64_t tb = n_tok;
    if (tb > QT_TB) { /* equal blocks: a short last block would cost a whole weight pass */
        const int64_t nblk = (n_tok + QT_TB - 1) / QT_TB;
        tb = (n_tok + nblk - 1) / nblk;
    }
    const size_t tbytes = ((size_t)tb * (size_t)nb * sizeof(qt_tab) + 63) / 64 * 64, wbytes = (size_t)nb * we;
    uint8_t *buf = aligned_alloc(64, tbytes + wbytes);
    if (!buf) return 0;
    qt_tab *tab = (qt_tab *)buf;
    uint8_t *wbuf = buf + tbytes;
    float part[QT_T * QT_R];
    for (int64_t t0 = 0; t0 < n_tok; t0 += tb) {
        const int64_t tn = n_tok - t0 < tb ? n_tok - t0 : tb;
        const uint8_t *xb0 = (const uint8_t *)x + (size_t)t0 * xrb;
        qt_pack_tab(type, nb, xb0, xrb, tn, tab);
        for (int64_t a = r0 - r0 % align; a < r1; a += QT_R) {
            const int64_t lo = a > r0 ? a : r0, hi = a + QT_R < r1 ? a + QT_R : r1;
            const int whole = lo == a, nr = (int)(hi - a);
            pack(src, nb, we, a, nr, wbuf);
            for (int64_t t = 0; t < tn; t += QT_T) {
                const uint8_t *xt[QT_T];
                const int nt = tn - t < QT_T ? (int)(tn - t) : QT_T;
                for (int i = 0; i < nt; i++) xt[i] = xb0 + (size_t)(t + i) * xrb;
                float *o = whole ? out + (size_t)(t0 + t) * os + (size_t)a : part;
                const size_t oos = whole ? os : QT_R;
                if (nt == QT_T) qt_tile(wbuf, we, nb, xt, xb, xq, tab + t * nb, has_min, QT_T, nr, o, oos);
                else
                    for (int i = 0; i < nt; i++)
                        qt_tile(wbuf, we, nb, xt + i, xb, xq, tab + (t + i) * nb, has_min, 1, nr, o + (size_t)i * oos,
                                oos);
                if (!whole)
                    for (int i = 0; i < nt; i++)
                        for (int64_t r = lo; r < hi; r++)
                            out[(size_t)(t0 + t + i) * os + (size_t)r] = part[(size_t)i * QT_R + (size_t)(r - a)];
            }
        }
    }
    free(buf);
    return 1;
}

/* The file's rows as qt_gemm_tiles' source. */
typedef struct qt_rows {
    int type;
    const uint8_t *w;
    size_t wrb;
} qt_rows;

static void qt_pack_rows(const void *src, int64_t nb, size_t we, int64_t a, int nr, uint8_t *wbuf) {
    const qt_rows *s = src;
    qt_pack_w(s->type, nb, s->w, s->wrb, a, nr, we, wbuf);
}

/* The gemm (mono_gemm_fn) of a legacy type for n_tok >= 4; falls back to
 * qx_gemm_any when its buffers cannot be allocated. */
QX_INLINE void qt_gemm_legacy(int type, mono_vec_dot_fn dot, int64_t n, const void *w, size_t wrb, int64_t r0,
                              int64_t r1, const void *x, size_t xrb, int64_t n_tok, float *out, size_t os) {
    const int64_t nb = n / QX_QK;
    const qt_rows src = {type, (const uint8_t *)w, wrb};
    if (n_tok < 4 || r0 >= r1 || nb <= 0 ||
        !qt_gemm_tiles(type, nb, 1, qt_pack_rows, &src, r0, r1, x, xrb, n_tok, out, os))
        qx_gemm_any(type, dot, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
}

/* ------------------------------------------------------------ K-quants
 *
 * The same tiling for Q2_K..Q6_K against Q8_K activations: a row tile's
 * super-blocks are unpacked by qx_unpack_k (w = d*sc[g]*(q - off) -
 * dmin*mn[g] per 16-group g, q unsigned) and packed per super-block as
 * 64 vectors of 4-byte groups (16 rows, one per lane), the group scales as
 * 16 int32 vectors, the offset terms off*sc and the mins as 8 vectors of
 * int16 pairs each (one vpdpwssd against a pair of bsums adds two groups),
 * then d and dmin. Per token and 32 weights: eight vpdpbusd and two 32-bit
 * multiplies by the group scales; per super-block 16 vpdpwssd for offset
 * and mins, then two converts and two fmadds. Integer sums are exact. */
#define QT_K_W 0
#define QT_K_SC 4096
#define QT_K_CW 5120
#define QT_K_MN 5632
#define QT_K_D 6144
#define QT_K_DMIN 6208
#define QT_K_BYTES 6272

static void qt_pack_k(int type, int64_t nsb, const uint8_t *w, size_t wrb, int64_t r, int nr, qx_ksb *tmp,
                      uint8_t *kbuf) {
    __m512i lo_idx[3], hi_idx[3];
    qt_transpose_init(lo_idx, hi_idx);
    for (int j = 0; j < nr; j++) qx_unpack_k(type, w + (size_t)(r + j) * wrb, nsb, tmp + (size_t)j * nsb);
    for (int64_t s = 0; s < nsb; s++) {
        uint8_t *e = kbuf + (size_t)s * QT_K_BYTES;
        int32_t *sc = (int32_t *)(e + QT_K_SC), *cw = (int32_t *)(e + QT_K_CW), *mn = (int32_t *)(e + QT_K_MN);
        float *d = (float *)(e + QT_K_D), *dmin = (float *)(e + QT_K_DMIN);
        for (int c = 0; c < 8; c++) {
            __m512i z[8];
            for (int k = 0; k < 8; k++) {
                const qx_ksb *a = k < nr ? &tmp[(size_t)k * nsb + s] : NULL, *b = k + 8 < nr ? &tmp[(size_t)(k + 8) * nsb + s] : NULL;
                __m256i lo = a ? _mm256_loadu_si256((const __m256i *)(a->q + 32 * c)) : _mm256_setzero_si256();
                __m256i hi = b ? _mm256_loadu_si256((const __m256i *)(b->q + 32 * c)) : _mm256_setzero_si256();
                z[k] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
            }
            qt_transpose(z, lo_idx, hi_idx);
            for (int g = 0; g < 8; g++) _mm512_storeu_si512(e + QT_K_W + 64 * (8 * c + g), z[g]);
        }
        for (int j = 0; j < QT_R; j++) {
            const qx_ksb *a = j < nr ? &tmp[(size_t)j * nsb + s] : NULL;
            for (int g = 0; g < 16; g++) sc[16 * g + j] = a ? a->sv[g / 2][(g % 2) * 8] : 0;
            for (int h = 0; h < 8; h++) {
                cw[16 * h + j] = a ? (int32_t)((uint32_t)(uint16_t)a->cw[2 * h] | (uint32_t)(uint16_t)a->cw[2 * h + 1] << 16) : 0;
                mn[16 * h + j] = a ? (int32_t)((uint32_t)(uint16_t)a->mn[2 * h] | (uint32_t)(uint16_t)a->mn[2 * h + 1] << 16) : 0;
            }
            d[j] = a ? a->d : 0;
            dmin[j] = a ? a->dmin : 0;
        }
    }
}

QX_INLINE void qt_tile_k(const uint8_t *kbuf, int64_t nsb, const mono_block_q8_K *const *xt, const int has_min,
                         const int NT, int nr, float *out, size_t os) {
    __m512 acc[QT_TK];
    QX_UNROLL
    for (int t = 0; t < NT; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t s = 0; s < nsb; s++) {
        const uint8_t *e = kbuf + (size_t)s * QT_K_BYTES;
        __m512i isum[QT_TK];
        QX_UNROLL
        for (int t = 0; t < NT; t++) isum[t] = _mm512_setzero_si512();
        for (int c = 0; c < 8; c++) {
            __m512i W[8];
            QX_UNROLL
            for (int g = 0; g < 8; g++) W[g] = _mm512_loadu_si512(e + QT_K_W + 64 * (8 * c + g));
            const __m512i s0 = _mm512_loadu_si512(e + QT_K_SC + 64 * (2 * c)), s1 = _mm512_loadu_si512(e + QT_K_SC + 64 * (2 * c + 1));
            QX_UNROLL
            for (int t = 0; t < NT; t++) {
                const int8_t *y = xt[t][s].qs + 32 * c;
                __m512i i0 = _mm512_setzero_si512(), i1 = _mm512_setzero_si512();
                QX_UNROLL
                for (int g = 0; g < 4; g++) {
                    int32_t v0, v1;
                    memcpy(&v0, y + 4 * g, 4);
                    memcpy(&v1, y + 16 + 4 * g, 4);
                    i0 = _mm512_dpbusd_epi32(i0, W[g], _mm512_set1_epi32(v0));
                    i1 = _mm512_dpbusd_epi32(i1, W[4 + g], _mm512_set1_epi32(v1));
                }
                isum[t] = _mm512_add_epi32(isum[t], _mm512_add_epi32(_mm512_mullo_epi32(i0, s0), _mm512_mullo_epi32(i1, s1)));
            }
        }
        const __m512 d = _mm512_loadu_ps(e + QT_K_D), dmin = _mm512_loadu_ps(e + QT_K_DMIN);
        QX_UNROLL
        for (int t = 0; t < NT; t++) {
            const mono_block_q8_K *yb = &xt[t][s];
            __m512i cs = _mm512_setzero_si512(), ms = _mm512_setzero_si512();
            QX_UNROLL
            for (int h = 0; h < 8; h++) {
                int32_t bp;
                memcpy(&bp, &yb->bsums[2 * h], 4);
                cs = _mm512_dpwssd_epi32(cs, _mm512_loadu_si512(e + QT_K_CW + 64 * h), _mm512_set1_epi32(bp));
                if (has_min) ms = _mm512_dpwssd_epi32(ms, _mm512_loadu_si512(e + QT_K_MN + 64 * h), _mm512_set1_epi32(bp));
            }
            const __m512 yd = _mm512_set1_ps(yb->d);
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(isum[t], cs)), _mm512_mul_ps(d, yd), acc[t]);
            if (has_min) acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(ms), _mm512_mul_ps(dmin, yd), acc[t]);
        }
    }
    const __mmask16 mask = (__mmask16)((1u << nr) - 1);
    QX_UNROLL
    for (int t = 0; t < NT; t++) _mm512_mask_storeu_ps(out + (size_t)t * os, mask, acc[t]);
}

/* The gemm of a K type for n_tok >= 4 (fewer, or no memory: qx_gemm_any). */
QX_INLINE void qt_gemm_k(int type, mono_vec_dot_fn dot, int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1,
                         const void *x, size_t xrb, int64_t n_tok, float *out, size_t os) {
    const int has_min = type == MONO_TYPE_Q2_K || type == MONO_TYPE_Q4_K || type == MONO_TYPE_Q5_K;
    const int64_t nsb = n / QX_QK_K;
    const size_t kbytes = (size_t)nsb * QT_K_BYTES, tbytes = ((size_t)QT_R * (size_t)nsb * sizeof(qx_ksb) + 63) / 64 * 64;
    uint8_t *buf = n_tok >= 4 && r0 < r1 && nsb > 0 ? aligned_alloc(64, kbytes + tbytes) : NULL;
    if (!buf) {
        qx_gemm_any(type, dot, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
        return;
    }
    uint8_t *kbuf = buf;
    qx_ksb *tmp = (qx_ksb *)(buf + kbytes);
    for (int64_t r = r0; r < r1; r += QT_R) {
        const int nr = r1 - r < QT_R ? (int)(r1 - r) : QT_R;
        if (nr < QT_R) memset(kbuf, 0, kbytes);
        qt_pack_k(type, nsb, (const uint8_t *)w, wrb, r, nr, tmp, kbuf);
        for (int64_t t = 0; t < n_tok; t += QT_TK) {
            const mono_block_q8_K *xt[QT_TK];
            const int nt = n_tok - t < QT_TK ? (int)(n_tok - t) : QT_TK;
            for (int i = 0; i < nt; i++) xt[i] = (const mono_block_q8_K *)((const uint8_t *)x + (size_t)(t + i) * xrb);
            float *o = out + (size_t)t * os + (size_t)r;
            if (nt == QT_TK) qt_tile_k(kbuf, nsb, xt, has_min, QT_TK, nr, o, os);
            else
                for (int i = 0; i < nt; i++) qt_tile_k(kbuf, nsb, xt + i, has_min, 1, nr, o + (size_t)i * os, os);
        }
    }
    free(buf);
}

#define QT_GEMM_K(T, tname)                                                                                  \
    static void qt_gemm_##tname(int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x, \
                                size_t xrb, int64_t n_tok, float *out, size_t os) {                          \
        if (n_tok >= 4)                                                                                      \
            qt_gemm_k(MONO_TYPE_##T, qx_vec_dot_##tname, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);         \
        else                                                                                                 \
            qx_gemm_##tname(n, w, wrb, r0, r1, x, xrb, n_tok, out, os);                                      \
    }
QT_GEMM_K(Q2_K, q2_K)
QT_GEMM_K(Q3_K, q3_K)
QT_GEMM_K(Q4_K, q4_K)
QT_GEMM_K(Q5_K, q5_K)
QT_GEMM_K(Q6_K, q6_K)
#undef QT_GEMM_K

/* Installs the K-quant prefill gemms (call after qx_register). */
static void qt_register_k(mono_kernels *k) {
    k->gemm[MONO_TYPE_Q2_K] = qt_gemm_q2_K;
    k->gemm[MONO_TYPE_Q3_K] = qt_gemm_q3_K;
    k->gemm[MONO_TYPE_Q4_K] = qt_gemm_q4_K;
    k->gemm[MONO_TYPE_Q5_K] = qt_gemm_q5_K;
    k->gemm[MONO_TYPE_Q6_K] = qt_gemm_q6_K;
}

#else /* AVX2 without VNNI: 8 rows per 256-bit vector, Q4_0/Q5_0/Q4_1/Q5_1 */

/* vpmaddubsw adds two u8 x i8 products into 16 bits with saturation: for
 * weights below 32 (the 4- and 5-bit types) four of its results still fit
 * (4 * 2 * 31 * 128 < 32768), so per block the eight groups make two 16-bit
 * sums and two vpmaddwd. Q8_0 (q+128 up to 255) would overflow: it keeps
 * qx_gemm_any's sign trick. */
#define QT2_R 8
#define QT2_T 4
#define QT2_WE 320 /* per block: 8 x 32 bytes W_g, 8 scales, 8 mins */

/* Rows [r, r+nr) (nr <= 8, the rest zero): an 8 x 8 transpose of 32-bit groups per block. */
static void qt2_pack_w(int type, int64_t nb, const uint8_t *w, size_t wrb, int64_t r, int nr, uint8_t *wbuf) {
    const int has_min = type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1;
    const size_t wb = mono_type_get(type)->block_bytes;
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *e = wbuf + (size_t)b * QT2_WE;
        float *d = (float *)(e + 256), *m = (float *)(e + 288);
        __m256i v[8];
        for (int j = 0; j < QT2_R; j++) {
            const uint8_t *blk = j < nr ? w + (size_t)(r + j) * wrb + (size_t)b * wb : NULL;
            uint16_t h = 0, hm = 0;
            v[j] = _mm256_setzero_si256();
            if (blk) {
                _mm_prefetch((const char *)blk + 8 * wb, _MM_HINT_T0);
                v[j] = qx_gv_unpack(type, blk);
                memcpy(&h, blk, 2);
                if (has_min) memcpy(&hm, blk + 2, 2);
            }
            d[j] = qx_h2f(h);
            m[j] = qx_h2f(hm);
        }
        __m256i t0 = _mm256_unpacklo_epi32(v[0], v[1]), t1 = _mm256_unpackhi_epi32(v[0], v[1]);
        __m256i t2 = _mm256_unpacklo_epi32(v[2], v[3]), t3 = _mm256_unpackhi_epi32(v[2], v[3]);
        __m256i t4 = _mm256_unpacklo_epi32(v[4], v[5]), t5 = _mm256_unpackhi_epi32(v[4], v[5]);
        __m256i t6 = _mm256_unpacklo_epi32(v[6], v[7]), t7 = _mm256_unpackhi_epi32(v[6], v[7]);
        __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
        __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
        __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
        __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
        /* u0: groups 0 (low half) and 4 (high half) of rows 0-3; u4 the same of rows 4-7 */
        __m256i W[8];
        W[0] = _mm256_permute2x128_si256(u0, u4, 0x20); W[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
        W[1] = _mm256_permute2x128_si256(u1, u5, 0x20); W[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
        W[2] = _mm256_permute2x128_si256(u2, u6, 0x20); W[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
        W[3] = _mm256_permute2x128_si256(u3, u7, 0x20); W[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
        for (int g = 0; g < 8; g++) _mm256_storeu_si256((__m256i *)(e + 32 * g), W[g]);
    }
}

QX_INLINE void qt2_tile(const uint8_t *wbuf, int64_t nb, const uint8_t *const *xt, size_t xb, size_t xq,
                        const qt_tab *tab, const int has_min, const int NT, int nr, float *out, size_t os) {
    __m256 acc[QT2_T];
    const __m256i ones = _mm256_set1_epi16(1);
    QX_UNROLL
    for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *e = wbuf + (size_t)b * QT2_WE;
        const __m256 dw = _mm256_loadu_ps((const float *)(e + 256));
        QX_UNROLL
        for (int t = 0; t < NT; t++) {
            const uint8_t *y = xt[t] + (size_t)b * xb + xq;
            const qt_tab *tb = &tab[(int64_t)t * nb + b];
            __m256i h[2];
            QX_UNROLL
            for (int k = 0; k < 2; k++) {
                __m256i s16 = _mm256_setzero_si256();
                QX_UNROLL
                for (int g = 4 * k; g < 4 * k + 4; g++) {
                    int32_t v;
                    memcpy(&v, y + 4 * g, 4);
                    s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(_mm256_loadu_si256((const __m256i *)(e + 32 * g)),
                                                                     _mm256_set1_epi32(v)));
                }
                h[k] = _mm256_madd_epi16(s16, ones);
            }
            __m256i i = _mm256_add_epi32(_mm256_add_epi32(h[0], h[1]), _mm256_set1_epi32(tb->corr));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), _mm256_mul_ps(dw, _mm256_set1_ps(tb->dx)), acc[t]);
            if (has_min)
                acc[t] = _mm256_fmadd_ps(_mm256_loadu_ps((const float *)(e + 288)), _mm256_set1_ps(tb->sx), acc[t]);
        }
    }
    QX_UNROLL
    for (int t = 0; t < NT; t++) {
        if (nr == QT2_R) {
            _mm256_storeu_ps(out + (size_t)t * os, acc[t]);
        } else {
            float v[8];
            _mm256_storeu_ps(v, acc[t]);
            memcpy(out + (size_t)t * os, v, (size_t)nr * sizeof(float));
        }
    }
}

QX_INLINE void qt2_gemm_legacy(int type, mono_vec_dot_fn dot, int64_t n, const void *w, size_t wrb, int64_t r0,
                               int64_t r1, const void *x, size_t xrb, int64_t n_tok, float *out, size_t os) {
    const int has_min = type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1;
    const size_t xb = has_min ? sizeof(mono_block_q8_1) : sizeof(mono_block_q8_0), xq = has_min ? 4 : 2;
    const int64_t nb = n / QX_QK;
    int64_t tb = n_tok;
    if (tb > QT_TB) {
        const int64_t nblk = (n_tok + QT_TB - 1) / QT_TB;
        tb = (n_tok + nblk - 1) / nblk;
    }
    const size_t tbytes = ((size_t)tb * (size_t)nb * sizeof(qt_tab) + 63) / 64 * 64, wbytes = (size_t)nb * QT2_WE;
    uint8_t *buf = n_tok >= 4 && r0 < r1 && nb > 0 ? aligned_alloc(64, tbytes + wbytes) : NULL;
    if (!buf) {
        qx_gemm_any(type, dot, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
        return;
    }
    qt_tab *tab = (qt_tab *)buf;
    uint8_t *wbuf = buf + tbytes;
    for (int64_t t0 = 0; t0 < n_tok; t0 += tb) {
        const int64_t tn = n_tok - t0 < tb ? n_tok - t0 : tb;
        const uint8_t *xb0 = (const uint8_t *)x + (size_t)t0 * xrb;
        qt_pack_tab(type, nb, xb0, xrb, tn, tab);
        for (int64_t r = r0; r < r1; r += QT2_R) {
            const int nr = r1 - r < QT2_R ? (int)(r1 - r) : QT2_R;
            qt2_pack_w(type, nb, (const uint8_t *)w, wrb, r, nr, wbuf);
            for (int64_t t = 0; t < tn; t += QT2_T) {
                const uint8_t *xt[QT2_T];
                const int nt = tn - t < QT2_T ? (int)(tn - t) : QT2_T;
                for (int i = 0; i < nt; i++) xt[i] = xb0 + (size_t)(t + i) * xrb;
                float *o = out + (size_t)(t0 + t) * os + (size_t)r;
                if (nt == QT2_T) qt2_tile(wbuf, nb, xt, xb, xq, tab + t * nb, has_min, QT2_T, nr, o, os);
                else
                    for (int i = 0; i < nt; i++)
                        qt2_tile(wbuf, nb, xt + i, xb, xq, tab + (t + i) * nb, has_min, 1, nr, o + (size_t)i * os, os);
            }
        }
    }
    free(buf);
}

#define QT2_GEMM(T, tname)                                                                                   \
    static void qt2_gemm_##tname(int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x,\
                                 size_t xrb, int64_t n_tok, float *out, size_t os) {                         \
        if (n_tok >= 4)                                                                                      \
            qt2_gemm_legacy(MONO_TYPE_##T, qx_vec_dot_##tname, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);   \
        else                                                                                                 \
            qx_gemm_##tname(n, w, wrb, r0, r1, x, xrb, n_tok, out, os);                                      \
    }
QT2_GEMM(Q4_0, q4_0)
QT2_GEMM(Q5_0, q5_0)
QT2_GEMM(Q4_1, q4_1)
QT2_GEMM(Q5_1, q5_1)
#undef QT2_GEMM

/* Installs the AVX2 prefill gemms of the 4/5-bit legacy types (call after qx_register). */
static void qt_register_avx2(mono_kernels *k) {
    k->gemm[MONO_TYPE_Q4_0] = qt2_gemm_q4_0;
    k->gemm[MONO_TYPE_Q5_0] = qt2_gemm_q5_0;
    k->gemm[MONO_TYPE_Q4_1] = qt2_gemm_q4_1;
    k->gemm[MONO_TYPE_Q5_1] = qt2_gemm_q5_1;
}

#endif /* MONO_QX_VNNI */

#endif
