/*
 * quant_x86_repack.h -- decode kernels over weights repacked at load, 16
 * rows interleaved (kernels.h: repack_rows / repack_size / repack /
 * unrepack / gemm_repacked), AVX-512 VNNI; included once, by
 * quant_avx512.c, after quant_x86_tile.h.
 *
 * A row-at-a-time dot product spends most of its instructions on per-block
 * scale work and horizontal sums; with 16 rows side by side, one 512-bit
 * vpdpbusd serves all 16 rows (one row per 32-bit lane), the scales of a
 * block column are one vector, and nothing is summed across lanes. The
 * layouts are the same size as the file's rows (Q4_K/Q5_K: 64 bytes more
 * per 16 rows and super-block, their 6-bit scales unpacked) and lose
 * nothing: unrepack gives back the file's bytes.
 *
 * Types: Q4_0, Q5_0, Q8_0, Q4_1, Q5_1 (one parameterized layout; prefill
 * packs the tiled GEMM's register tiles straight from it, through the tile
 * loop of quant_x86_tile.h) and Q4_K, Q5_K, Q6_K (prefill unrepacks 64-row
 * slices into the file layout for that file's tiled GEMM). Either way
 * prefill runs the file layout's register tiles on the same row groups, so
 * its outputs are the same bits with and without repacking. Tested by
 * tests/c/test_quant_repack.c.
 */
#ifndef MONO_KERNELS_QUANT_X86_REPACK_H
#define MONO_KERNELS_QUANT_X86_REPACK_H

#include <stddef.h>

/* ------------------------ the 32-weight types repacked 16 rows wide */

/* Layout: groups of QR_ROWS rows; in a group, per block column b, one chunk:
 * the 16 rows' scales (16 halves), for Q4_1/Q5_1 their 16 mins (halves),
 * then four 64-byte vectors R_m (m = 0..3) whose bytes 4j..4j+3 are row j's
 * qs[4m..4m+3]. The low nibbles of R_m are weights 4m..4m+3 of each row,
 * the high ones 16+4m..16+4m+3, so one vpdpbusd against a broadcast of
 * those 4 activation bytes adds the products of all 16 rows, one row per
 * lane. Q5_0/Q5_1 add 64 bytes of high bits as byte masks of those
 * vectors: for each m a 64-bit mask for the low nibbles (bit 4j+k = qh bit
 * 4m+k of row j) and one for the high nibbles (qh bit 16+4m+k). Q8_0 has
 * eight vectors R_m of row j's qs[4m..4m+3] + 128 (unsigned for vpdpbusd;
 * the offset goes into the block's correction). Same size as the rows (18,
 * 22, 34, 20 or 24 bytes a row and block); rows past `rows` are zero. The
 * kind (QR_Q4_0 ...) is a compile-time constant wherever it is passed. */
#define QR_ROWS 16
/* Decode kernels come in two builds, pf = 0 and 1: with pf each chunk is
 * prefetched QR_PF_DIST bytes ahead. On an Intel Xeon VM (the GPU machine's
 * host) that took the repacked streams from 9-10 to 14-16 GB/s on one core
 * and from 17-20 to 25-31 on two, for every type (2048-8192 bytes ahead all
 * alike); on Zen 4, whose hardware prefetchers keep up alone, it cost 5-10%
 * (legacy types) to 20-30% (K types). quant_avx512.c picks the build by CPU
 * vendor. */
#define QR_PF_DIST 4096
QX_INLINE void qr_prefetch(const uint8_t *chunk, size_t bytes, int pf) {
    if (pf)
        for (size_t o = 0; o < bytes; o += 64) _mm_prefetch((const char *)chunk + QR_PF_DIST + o, _MM_HINT_T0);
}
enum { QR_Q4_0, QR_Q5_0, QR_Q8_0, QR_Q4_1, QR_Q5_1 };
#define QR_MIN(kind) ((kind) == QR_Q4_1 || (kind) == QR_Q5_1)  /* Q8_1 activations; mins in the chunk */
#define QR_FIVE(kind) ((kind) == QR_Q5_0 || (kind) == QR_Q5_1) /* high-bit masks in the chunk */
#define QR_HDR(kind) (2 * QR_ROWS * (QR_MIN(kind) ? 2 : 1))     /* scales (and mins) */
#define QR_CHUNK(kind) (QR_HDR(kind) + ((kind) == QR_Q8_0 ? 8 * 64 : 4 * 64 + (QR_FIVE(kind) ? 64 : 0)))

/* The file's block of a kind: its type, size, offsets of quants and high bits. */
QX_INLINE int qr_type(int kind) {
    static const int t[] = {MONO_TYPE_Q4_0, MONO_TYPE_Q5_0, MONO_TYPE_Q8_0, MONO_TYPE_Q4_1, MONO_TYPE_Q5_1};
    return t[kind];
}
QX_INLINE size_t qr_block_bytes(int kind) {
    static const size_t b[] = {sizeof(mono_block_q4_0), sizeof(mono_block_q5_0), sizeof(mono_block_q8_0),
                               sizeof(mono_block_q4_1), sizeof(mono_block_q5_1)};
    return b[kind];
}
QX_INLINE size_t qr_qs_off(int kind) {
    static const size_t o[] = {offsetof(mono_block_q4_0, qs), offsetof(mono_block_q5_0, qs),
                               offsetof(mono_block_q8_0, qs), offsetof(mono_block_q4_1, qs),
                               offsetof(mono_block_q5_1, qs)};
    return o[kind];
}
QX_INLINE size_t qr_qh_off(int kind) {
    return kind == QR_Q5_0 ? offsetof(mono_block_q5_0, qh) : offsetof(mono_block_q5_1, qh);
}
/* The weights' stored offset (q + off unsigned), corrected through sum(y). */
QX_INLINE int qr_off(int kind) { return kind == QR_Q8_0 ? 128 : kind == QR_Q5_0 ? 16 : kind == QR_Q4_0 ? 8 : 0; }

QX_INLINE size_t qr_size(int64_t rows, int64_t n, int kind) {
    if (rows <= 0 || n <= 0 || n % QX_QK) return 0;
    return (size_t)((rows + QR_ROWS - 1) / QR_ROWS) * (size_t)(n / QX_QK) * QR_CHUNK(kind);
}

/* One chunk (group g, block column b) from whole rows: the quants of 16
 * rows as a 16 x 8 transpose of 32-bit words (qt_transpose; rows k and k + 8
 * share register k), the scales and mins copied, the high bits regrouped as
 * byte masks. nr < 16 leaves the missing rows zero. */
QX_INLINE void qr_pack_chunk(const uint8_t *const *rows, int nr, size_t boff, uint8_t *c, int kind,
                             const __m512i lo_idx[3], const __m512i hi_idx[3]) {
    const int five = QR_FIVE(kind), nv = kind == QR_Q8_0 ? 8 : 4;
    const size_t qs = qr_qs_off(kind), hdr = QR_HDR(kind);
    const __mmask8 words = kind == QR_Q8_0 ? 0xFF : 0x0F;
    __m512i z[8];
    for (int k = 0; k < 8; k++) {
        __m256i lo = k < nr ? _mm256_maskz_loadu_epi32(words, rows[k] + boff + qs) : _mm256_setzero_si256();
        __m256i hi = k + 8 < nr ? _mm256_maskz_loadu_epi32(words, rows[k + 8] + boff + qs) : _mm256_setzero_si256();
        z[k] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    }
    qt_transpose(z, lo_idx, hi_idx);
    for (int m = 0; m < nv; m++) {
        __m512i v = kind == QR_Q8_0 ? _mm512_xor_si512(z[m], _mm512_set1_epi8((char)0x80)) : z[m]; /* q + 128 */
        if (kind == QR_Q8_0 && nr < QR_ROWS) v = _mm512_maskz_mov_epi32((__mmask16)((1u << nr) - 1), v);
        _mm512_storeu_si512(c + hdr + 64 * m, v);
    }
    uint64_t mk[8] = {0};
    for (int j = 0; j < QR_ROWS; j++) {
        uint16_t h = 0, mh = 0;
        if (j < nr) memcpy(&h, rows[j] + boff, 2);
        if (QR_MIN(kind) && j < nr) memcpy(&mh, rows[j] + boff + 2, 2);
        memcpy(c + 2 * j, &h, 2);
        if (QR_MIN(kind)) memcpy(c + 2 * QR_ROWS + 2 * j, &mh, 2);
        if (five && j < nr) {
            uint32_t qh;
            memcpy(&qh, rows[j] + boff + qr_qh_off(kind), 4);
            for (int m = 0; m < 4; m++) {
                mk[2 * m] |= (uint64_t)((qh >> (4 * m)) & 0xF) << (4 * j);
                mk[2 * m + 1] |= (uint64_t)((qh >> (16 + 4 * m)) & 0xF) << (4 * j);
            }
        }
    }
    if (five) memcpy(c + hdr + 4 * 64, mk, sizeof mk);
}

QX_INLINE void qr_pack(const void *w, size_t wrb, int64_t rows, int64_t n, void *dst, int kind) {
    const int64_t nb = n / QX_QK, ng = (rows + QR_ROWS - 1) / QR_ROWS;
    const size_t bb = qr_block_bytes(kind);
    __m512i lo_idx[3], hi_idx[3];
    qt_transpose_init(lo_idx, hi_idx);
    for (int64_t g = 0; g < ng; g++) {
        const uint8_t *r[QR_ROWS];
        const int nr = rows - g * QR_ROWS < QR_ROWS ? (int)(rows - g * QR_ROWS) : QR_ROWS;
        for (int j = 0; j < nr; j++) r[j] = (const uint8_t *)w + (size_t)(g * QR_ROWS + j) * wrb;
        for (int64_t b = 0; b < nb; b++)
            qr_pack_chunk(r, nr, (size_t)b * bb, (uint8_t *)dst + (size_t)(g * nb + b) * QR_CHUNK(kind), kind, lo_idx,
                          hi_idx);
    }
}

/* The inverse of qr_pack for rows [r0, r1), r0 % QR_ROWS == 0. */
QX_INLINE void qr_unpack(const void *wr, int64_t rows, int64_t n, int64_t r0, int64_t r1, void *dst, size_t drb,
                         int kind) {
    const int64_t nb = n / QX_QK;
    const int five = QR_FIVE(kind), nv = kind == QR_Q8_0 ? 8 : 4;
    const size_t bb = qr_block_bytes(kind), qs = qr_qs_off(kind), hdr = QR_HDR(kind);
    if (r1 > rows) r1 = rows;
    for (int64_t g = r0 / QR_ROWS; g * QR_ROWS < r1; g++)
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *c = (const uint8_t *)wr + (size_t)(g * nb + b) * QR_CHUNK(kind);
            uint64_t mk[8];
            if (five) memcpy(mk, c + hdr + 4 * 64, sizeof mk);
            for (int j = 0; j < QR_ROWS && g * QR_ROWS + j < r1; j++) {
                uint8_t *blk = (uint8_t *)dst + (size_t)(g * QR_ROWS + j - r0) * drb + (size_t)b * bb;
                memcpy(blk, c + 2 * j, 2);
                if (QR_MIN(kind)) memcpy(blk + 2, c + 2 * QR_ROWS + 2 * j, 2);
                for (int m = 0; m < nv; m++) {
                    uint32_t v;
                    memcpy(&v, c + hdr + 64 * m + 4 * j, 4);
                    v ^= kind == QR_Q8_0 ? 0x80808080u : 0;
                    memcpy(blk + qs + 4 * m, &v, 4);
                }
                if (five) {
                    uint32_t qh = 0;
                    for (int m = 0; m < 4; m++) {
                        qh |= (uint32_t)((mk[2 * m] >> (4 * j)) & 0xF) << (4 * m);
                        qh |= (uint32_t)((mk[2 * m + 1] >> (4 * j)) & 0xF) << (16 + 4 * m);
                    }
                    memcpy(blk + qr_qh_off(kind), &qh, 4);
                }
            }
        }
}

/* Sums of 16 rows of group g over blocks [b0, b1) against one Q8_0/Q8_1 row
 * x, with c[b] = -off * sum(y of block b), dx[b] its scale and (Q8_1)
 * sx[b] its block sum d*sum(y) (arrays indexed b - b0). */
QX_INLINE __m512 qr_group(const uint8_t *wr, int64_t nb, int64_t g, int64_t b0, int64_t b1, const uint8_t *x,
                          const int32_t *c, const float *dx, const float *sx, int kind, int pf) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), h = _mm512_set1_epi8(0x10);
    const size_t hdr = QR_HDR(kind), xb = QR_MIN(kind) ? sizeof(mono_block_q8_1) : sizeof(mono_block_q8_0);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    const uint8_t *chunk = wr + (size_t)(g * nb + b0) * QR_CHUNK(kind);
    for (int64_t b = b0; b < b1; b++, chunk += QR_CHUNK(kind)) {
        qr_prefetch(chunk, QR_CHUNK(kind), pf);
        const uint8_t *y = x + (size_t)b * xb + (QR_MIN(kind) ? 4 : 2);
        __m512i i0 = qr_off(kind) ? _mm512_set1_epi32(c[b - b0]) : _mm512_setzero_si512(), i1 = _mm512_setzero_si512();
        if (kind == QR_Q8_0) {
            QX_UNROLL
            for (int m = 0; m < 8; m++) {
                int32_t y4;
                memcpy(&y4, y + 4 * m, 4);
                __m512i r = _mm512_loadu_si512(chunk + hdr + 64 * m);
                if (m & 1) i1 = _mm512_dpbusd_epi32(i1, r, _mm512_set1_epi32(y4));
                else i0 = _mm512_dpbusd_epi32(i0, r, _mm512_set1_epi32(y4));
            }
        } else {
            QX_UNROLL
            for (int m = 0; m < 4; m++) {
                int32_t ylo, yhi;
                memcpy(&ylo, y + 4 * m, 4);
                memcpy(&yhi, y + 16 + 4 * m, 4);
                __m512i r = _mm512_loadu_si512(chunk + hdr + 64 * m), lo, hi;
                if (QR_FIVE(kind)) {
                    uint64_t kl, kh;
                    memcpy(&kl, chunk + hdr + 256 + 16 * m, 8);
                    memcpy(&kh, chunk + hdr + 256 + 16 * m + 8, 8);
                    lo = _mm512_ternarylogic_epi32(r, m4, _mm512_maskz_mov_epi8((__mmask64)kl, h), 0xEA);
                    hi = _mm512_ternarylogic_epi32(_mm512_srli_epi16(r, 4), m4, _mm512_maskz_mov_epi8((__mmask64)kh, h),
                                                   0xEA); /* (a & b) | c */
                } else {
                    lo = _mm512_and_si512(r, m4);
                    hi = _mm512_and_si512(_mm512_srli_epi16(r, 4), m4);
                }
                i0 = _mm512_dpbusd_epi32(i0, lo, _mm512_set1_epi32(ylo));
                i1 = _mm512_dpbusd_epi32(i1, hi, _mm512_set1_epi32(yhi));
            }
        }
        __m512 sc = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)chunk)),
                                  _mm512_set1_ps(dx[b - b0]));
        __m512 f = _mm512_cvtepi32_ps(_mm512_add_epi32(i0, i1));
        __m512 *acc = (b - b0) & 1 ? &acc1 : &acc0;
        *acc = _mm512_fmadd_ps(f, sc, *acc);
        if (QR_MIN(kind)) /* + m * s: the mins against the activation block sums */
            *acc = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(chunk + 2 * QR_ROWS))),
                                   _mm512_set1_ps(sx[b - b0]), *acc);
    }
    return _mm512_add_ps(acc0, acc1);
}

QX_INLINE void qr_gemm(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1, const void *x, size_t xrb,
                       int64_t n_tok, float *out, size_t os, int kind, int pf) {
    enum { CH = 256 }; /* blocks per activation chunk (the prepared sums live on the stack) */
    const int64_t nb = n / QX_QK;
    const size_t xb = QR_MIN(kind) ? sizeof(mono_block_q8_1) : sizeof(mono_block_q8_0);
    int32_t c[CH];
    float dx[CH], sx[CH];
    if (r1 > rows) r1 = rows;
    for (int64_t t = 0; t < n_tok; t++) {
        const uint8_t *xt = (const uint8_t *)x + (size_t)t * xrb;
        float *o = out + (size_t)t * os;
        for (int64_t b0 = 0; b0 < nb; b0 += CH) {
            const int64_t b1 = b0 + CH < nb ? b0 + CH : nb;
            for (int64_t b = b0; b < b1; b++) {
                const uint8_t *xblk = xt + (size_t)b * xb;
                uint16_t h;
                memcpy(&h, xblk, 2);
                dx[b - b0] = qx_h2f(h);
                if (QR_MIN(kind)) {
                    memcpy(&h, xblk + 2, 2);
                    sx[b - b0] = qx_h2f(h);
                } else {
                    __m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8((char)qr_off(kind)),
                                                    _mm256_loadu_si256((const __m256i *)(xblk + 2)));
                    c[b - b0] = -qx_hsum_epi32(s);
                }
            }
            for (int64_t g = r0 / QR_ROWS; g * QR_ROWS < r1; g++) {
                float v[QR_ROWS];
                _mm512_storeu_ps(v, qr_group(wr, nb, g, b0, b1, xt, c, dx, sx, kind, pf));
                for (int j = 0; j < QR_ROWS; j++) {
                    int64_t r = g * QR_ROWS + j;
                    if (r < r0 || r >= r1) continue;
                    o[r] = b0 ? o[r] + v[j] : v[j];
                }
            }
        }
    }
}

/* ---- prefill from the repacked layout
 *
 * The tiled prefill GEMM (quant_x86_tile.h) packs 16 rows per block as
 * eight vectors W_g whose lane j holds row j's unsigned weights 4g..4g+3,
 * then 16 float scales (and 16 float mins). The repacked chunks are nearly
 * that already: Q8_0's R_m are W_m; the 4-bit kinds' low nibbles of R_m are
 * W_m and the high ones W_{4+m}; Q5_0/Q5_1 add their fifth bit from the
 * masks. So a group packs with a few vector ops and no transpose, as the
 * pack step of qt_gemm_tiles (src: the repacked matrix; a: the group's
 * first row). */
QX_INLINE void qr_pack_tile(const uint8_t *wr, int64_t nb, size_t we, int64_t a, uint8_t *wbuf, int kind) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), h = _mm512_set1_epi8(0x10);
    const size_t hdr = QR_HDR(kind);
    const uint8_t *chunk = wr + (size_t)(a / QR_ROWS * nb) * QR_CHUNK(kind);
    for (int64_t b = 0; b < nb; b++, chunk += QR_CHUNK(kind)) {
        uint8_t *e = wbuf + (size_t)b * we;
        if (kind == QR_Q8_0) {
            for (int m = 0; m < 8; m++) _mm512_storeu_si512(e + 64 * m, _mm512_loadu_si512(chunk + hdr + 64 * m));
        } else {
            for (int m = 0; m < 4; m++) {
                __m512i r = _mm512_loadu_si512(chunk + hdr + 64 * m);
                __m512i lo = _mm512_and_si512(r, m4), hi = _mm512_and_si512(_mm512_srli_epi16(r, 4), m4);
                if (QR_FIVE(kind)) {
                    uint64_t kl, kh;
                    memcpy(&kl, chunk + hdr + 256 + 16 * m, 8);
                    memcpy(&kh, chunk + hdr + 256 + 16 * m + 8, 8);
                    lo = _mm512_or_si512(lo, _mm512_maskz_mov_epi8((__mmask64)kl, h));
                    hi = _mm512_or_si512(hi, _mm512_maskz_mov_epi8((__mmask64)kh, h));
                }
                _mm512_storeu_si512(e + 64 * m, lo);
                _mm512_storeu_si512(e + 64 * (4 + m), hi);
            }
        }
        _mm512_storeu_ps(e + 512, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)chunk)));
        if (QR_MIN(kind))
            _mm512_storeu_ps(e + 576, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(chunk + 2 * QR_ROWS))));
    }
}

/* gemm_repacked for n_tok >= 4: qt_gemm_tiles over the repacked groups; no
 * memory for its buffers: the matrix-vector kernel, token by token. */
QX_INLINE void qr_gemm_tiled(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1, const void *x,
                             size_t xrb, int64_t n_tok, float *out, size_t os, int kind, qt_pack_fn pack) {
    if (r1 > rows) r1 = rows;
    if (r0 >= r1) return;
    if (!qt_gemm_tiles(qr_type(kind), n / QX_QK, QR_ROWS, pack, wr, r0, r1, x, xrb, n_tok, out, os))
        for (int64_t t = 0; t < n_tok; t++)
            qr_gemm(n, wr, rows, r0, r1, (const uint8_t *)x + (size_t)t * xrb, xrb, 1, out + (size_t)t * os, os, kind,
                    0);
}

/* gemm_repacked for n_tok >= 4 of the K types: rows given back by unrepack,
 * 64 at a time, through the row-layout tiled gemm (each slice serves every
 * token, so the unpacking is a small share of the work). */
static void qr_gemm_via_rows(int type, mono_unrepack_fn unrepack, mono_gemm_fn gemm, mono_gemm_repacked_fn matvec,
                             int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1, const void *x, size_t xrb,
                             int64_t n_tok, float *out, size_t os) {
    enum { SLICE = 64 };
    const size_t wrb = mono_type_row_bytes(type, n);
    uint8_t *buf = malloc(wrb * SLICE);
    if (r1 > rows) r1 = rows;
    if (!buf) { /* no memory: the matrix-vector kernel, token by token */
        for (int64_t t = 0; t < n_tok; t++)
            matvec(n, wr, rows, r0, r1, (const uint8_t *)x + (size_t)t * xrb, xrb, 1, out + (size_t)t * os, os);
        return;
    }
    for (int64_t a = r0 - r0 % QR_ROWS; a < r1; a += SLICE) {
        const int64_t b = a + SLICE < rows ? a + SLICE : rows;
        const int64_t lo = a > r0 ? a : r0, hi = b < r1 ? b : r1;
        unrepack(wr, rows, n, a, b, buf, wrb);
        gemm(n, buf + (size_t)(lo - a) * wrb, wrb, 0, hi - lo, x, xrb, n_tok, out + lo, os);
    }
    free(buf);
}

#define QR_TYPE(tname, kind)                                                                                     \
    static size_t qr_repack_size_##tname(int64_t rows, int64_t n) { return qr_size(rows, n, kind); }            \
    static void qr_repack_##tname(const void *w, size_t wrb, int64_t rows, int64_t n, void *dst) {               \
        qr_pack(w, wrb, rows, n, dst, kind);                                                                     \
    }                                                                                                            \
    static void qr_unrepack_##tname(const void *wr, int64_t rows, int64_t n, int64_t r0, int64_t r1, void *dst, \
                                    size_t drb) {                                                                \
        qr_unpack(wr, rows, n, r0, r1, dst, drb, kind);                                                          \
    }                                                                                                            \
    static void qr_pack_tile_##tname(const void *wr, int64_t nb, size_t we, int64_t a, int nr, uint8_t *wbuf) {  \
        qr_pack_tile(wr, nb, we, a, wbuf, kind);                                                                 \
    }                                                                                                            \
    static void qr_gemm_##tname(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1, const void *x,  \
                                size_t xrb, int64_t n_tok, float *out, size_t os) {                              \
        if (n_tok >= 4) qr_gemm_tiled(n, wr, rows, r0, r1, x, xrb, n_tok, out, os, kind, qr_pack_tile_##tname); \
        else qr_gemm(n, wr, rows, r0, r1, x, xrb, n_tok, out, os, kind, 0);                                      \
    }                                                                                                            \
    static void qr_gemm_##tname##_pf(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1,            \
                                     const void *x, size_t xrb, int64_t n_tok, float *out, size_t os) {          \
        if (n_tok >= 4) qr_gemm_tiled(n, wr, rows, r0, r1, x, xrb, n_tok, out, os, kind, qr_pack_tile_##tname); \
        else qr_gemm(n, wr, rows, r0, r1, x, xrb, n_tok, out, os, kind, 1);                                      \
    }
QR_TYPE(q4_0, QR_Q4_0)
QR_TYPE(q5_0, QR_Q5_0)
QR_TYPE(q8_0, QR_Q8_0)
QR_TYPE(q4_1, QR_Q4_1)
QR_TYPE(q5_1, QR_Q5_1)
#undef QR_TYPE

/* ------------------------------------------ the K types: layouts as row moves
 *
 * A K-type chunk holds one super-block column of a group of 16 rows. Each
 * layout is written once, as a function that moves row j's super-block
 * between the file (blk) and the chunk (c) in the direction to_file (1:
 * unrepack), so that repack and unrepack cannot disagree; qk_walk runs it
 * over the rows, then (Q5_K's high bits, which mix all 16 rows in every
 * byte) an optional step over the whole chunk. Both are always inlined:
 * one copy per direction. */
typedef void (*qk_row_fn)(uint8_t *c, uint8_t *blk, int j, int to_file);
typedef void (*qk_chunk_fn)(uint8_t *c, uint8_t *const *blk, int nr, int to_file);

QX_INLINE void qk_mv(uint8_t *file, uint8_t *chunk, size_t bytes, int to_file) {
    if (to_file) memcpy(file, chunk, bytes);
    else memcpy(chunk, file, bytes);
}

/* Rows [r0, r1) (r0 % QR_ROWS == 0) of a matrix of nb super-blocks a row,
 * file row r at file + (r - r0) * frb. Only the side that to_file names is
 * written (callers cast their read-only side). chunk may be NULL. */
QX_INLINE void qk_walk(qk_row_fn row, qk_chunk_fn chunk, size_t chunk_bytes, size_t block_bytes, int64_t nb,
                       uint8_t *wr, int64_t r0, int64_t r1, uint8_t *file, size_t frb, int to_file) {
    for (int64_t g = r0 / QR_ROWS; g * QR_ROWS < r1; g++)
        for (int64_t b = 0; b < nb; b++) {
            uint8_t *c = wr + (size_t)(g * nb + b) * chunk_bytes, *blk[QR_ROWS];
            int nr = 0;
            for (; nr < QR_ROWS && g * QR_ROWS + nr < r1; nr++) {
                blk[nr] = file + (size_t)(g * QR_ROWS + nr - r0) * frb + (size_t)b * block_bytes;
                row(c, blk[nr], nr, to_file);
            }
            if (chunk) chunk(c, blk, nr, to_file);
        }
}

QX_INLINE size_t qk_size(int64_t rows, int64_t n, size_t chunk_bytes) {
    if (rows <= 0 || n <= 0 || n % QX_QK_K) return 0;
    return (size_t)((rows + QR_ROWS - 1) / QR_ROWS) * (size_t)(n / QX_QK_K) * chunk_bytes;
}

QX_INLINE void qk_repack(qk_row_fn row, qk_chunk_fn chunk, size_t chunk_bytes, size_t block_bytes, const void *w,
                         size_t wrb, int64_t rows, int64_t n, void *dst) {
    memset(dst, 0, qk_size(rows, n, chunk_bytes)); /* the padding rows */
    qk_walk(row, chunk, chunk_bytes, block_bytes, n / QX_QK_K, dst, 0, rows, (uint8_t *)w, wrb, 0);
}

QX_INLINE void qk_unrepack(qk_row_fn row, qk_chunk_fn chunk, size_t chunk_bytes, size_t block_bytes, const void *wr,
                           int64_t rows, int64_t n, int64_t r0, int64_t r1, void *dst, size_t drb) {
    qk_walk(row, chunk, chunk_bytes, block_bytes, n / QX_QK_K, (uint8_t *)wr, r0, r1 < rows ? r1 : rows, dst, drb, 1);
}

/* ------------------------------------------ Q4_K and Q5_K repacked 16 rows wide */

/* Per group of 16 rows and super-block, one chunk: d[16], dmin[16] (halves),
 * the 8 sub-block scales of the 16 rows (16 bytes per sub-block), the mins
 * as byte pairs (sub-blocks 2p, 2p+1) per row (32 bytes per p), then for each
 * 64-weight chunk q eight vectors (m = 0..7) whose lane j holds row j's
 * qs[32q+4m..+3]: low nibbles are sub-block 2q, high ones 2q+1. Q5_K adds
 * its high bits as byte masks of those vectors, after each q's eight, 16
 * bytes per vector m: 64 bits for the low nibbles (bit 4j+k = bit 2q of row
 * j's qh[4m+k]), 64 for the high ones (bit 2q+1). (All masks after all the
 * vectors, a second stream 2 KiB ahead in each chunk, made decode from L3
 * and DRAM 2-3x slower on Zen 4.) Sub-block sums are exact int32, scaled with
 * vpmulld; mins go through vpdpwssd against the activation's bsums summed
 * per sub-block (|sum| <= 32*127 fits int16). 64 bytes per group and
 * super-block more than the rows (the scales unpacked). */
#define QK_D 0
#define QK_DMIN (2 * QR_ROWS)
#define QK_SC (4 * QR_ROWS)
#define QK_MN (12 * QR_ROWS)
#define QK_QS (12 * QR_ROWS + 4 * 32)
#define QK_QSTEP(five) (8 * 64 + ((five) ? 8 * 16 : 0)) /* bytes per 64 weights (and their masks) */
#define QK_VEC(five, q, m) (QK_QS + QK_QSTEP(five) * (q) + 64 * (m))
#define QK_MASK(q, m) (QK_QS + QK_QSTEP(1) * (q) + 8 * 64 + 16 * (m))
#define QK_CHUNK(five) (QK_QS + 4 * QK_QSTEP(five))
_Static_assert(offsetof(mono_block_q4_K, scales) == offsetof(mono_block_q5_K, scales) &&
                   offsetof(mono_block_q4_K, dmin) == offsetof(mono_block_q5_K, dmin),
               "Q4_K and Q5_K share their header");

/* Q5_K's high bits of one chunk, the nr rows at once: for each m the vector
 * whose lane j holds row j's qh[4m..4m+3] (padding rows zero) gives the
 * masks of vectors 8q + m as its bits 2q and 2q + 1 (vptestmb), and back
 * (a masked byte move per bit). */
QX_INLINE void qk_chunk_qh(uint8_t *c, uint8_t *const *blk, int nr, int to_file) {
    for (int m = 0; m < 8; m++) {
        uint32_t v[QR_ROWS] = {0};
        __m512i bits = _mm512_setzero_si512();
        if (!to_file) {
            for (int j = 0; j < nr; j++) memcpy(&v[j], blk[j] + offsetof(mono_block_q5_K, qh) + 4 * m, 4);
            bits = _mm512_loadu_si512(v);
        }
        for (int bit = 0; bit < 8; bit++) { /* bit 2q: the low nibbles' mask, 2q + 1: the high ones' */
            uint8_t *mk = c + QK_MASK(bit / 2, m) + 8 * (bit % 2);
            const __m512i one = _mm512_set1_epi8((char)(1 << bit));
            if (to_file) {
                uint64_t k;
                memcpy(&k, mk, 8);
                bits = _mm512_or_si512(bits, _mm512_maskz_mov_epi8((__mmask64)k, one));
            } else {
                uint64_t k = _mm512_test_epi8_mask(bits, one);
                memcpy(mk, &k, 8);
            }
        }
        if (to_file) {
            _mm512_storeu_si512(v, bits);
            for (int j = 0; j < nr; j++) memcpy(blk[j] + offsetof(mono_block_q5_K, qh) + 4 * m, &v[j], 4);
        }
    }
}

QX_INLINE void qk_row(uint8_t *c, uint8_t *blk, int j, int to_file, int five) {
    const size_t qs = five ? offsetof(mono_block_q5_K, qs) : offsetof(mono_block_q4_K, qs);
    uint8_t sc[8], mn[8];
    /* byte offsets, not struct members: unrepack's rows need not be 2-byte aligned */
    qk_mv(blk + offsetof(mono_block_q4_K, d), c + QK_D + 2 * j, 2, to_file);
    qk_mv(blk + offsetof(mono_block_q4_K, dmin), c + QK_DMIN + 2 * j, 2, to_file);
    if (!to_file) mono_q4k_unpack_scales(blk + offsetof(mono_block_q4_K, scales), sc, mn);
    for (int s = 0; s < 8; s++) qk_mv(sc + s, c + QK_SC + 16 * s + j, 1, to_file);
    for (int p = 0; p < 4; p++) qk_mv(mn + 2 * p, c + QK_MN + 32 * p + 2 * j, 2, to_file);
    if (to_file) mono_q4k_pack_scales(sc, mn, blk + offsetof(mono_block_q4_K, scales));
    for (int q = 0; q < 4; q++)
        for (int m = 0; m < 8; m++)
            qk_mv(blk + qs + 32 * q + 4 * m, c + QK_VEC(five, q, m) + 4 * j, 4, to_file);
}

/* 16 rows of group g against super-blocks [b0, b1) of one Q8_K row; s2[i]
 * holds the 4 int16 pairs of sub-block bsums of super-block b0 + i. */
QX_INLINE __m512 qk_group(const uint8_t *wr, int64_t nb, int64_t g, int64_t b0, int64_t b1, const uint8_t *x,
                          const int32_t (*s2)[4], int five, int pf) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), h10 = _mm512_set1_epi8(0x10);
    __m512 acc = _mm512_setzero_ps();
    const uint8_t *chunk = wr + (size_t)(g * nb + b0) * QK_CHUNK(five);
    for (int64_t b = b0; b < b1; b++, chunk += QK_CHUNK(five)) {
        qr_prefetch(chunk, QK_CHUNK(five), pf);
        const mono_block_q8_K *yb = (const mono_block_q8_K *)x + b;
        __m512i isum = _mm512_setzero_si512(), msum = _mm512_setzero_si512();
        QX_UNROLL
        for (int p2 = 0; p2 < 4; p2++) {
            __m512i mn = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(chunk + QK_MN + 32 * p2)));
            msum = _mm512_dpwssd_epi32(msum, mn, _mm512_set1_epi32(s2[b - b0][p2]));
        }
        for (int q = 0; q < 4; q++) {
            __m512i lo0 = _mm512_setzero_si512(), lo1 = _mm512_setzero_si512();
            __m512i hi0 = _mm512_setzero_si512(), hi1 = _mm512_setzero_si512();
            QX_UNROLL
            for (int m = 0; m < 8; m++) {
                int32_t ylo, yhi;
                memcpy(&ylo, yb->qs + 64 * q + 4 * m, 4);
                memcpy(&yhi, yb->qs + 64 * q + 32 + 4 * m, 4);
                __m512i r = _mm512_loadu_si512(chunk + QK_VEC(five, q, m)), l, h;
                if (five) { /* (a & b) | c: the nibble and the fifth bit from the mask */
                    uint64_t kl, kh;
                    memcpy(&kl, chunk + QK_MASK(q, m), 8);
                    memcpy(&kh, chunk + QK_MASK(q, m) + 8, 8);
                    const __m512i bl = _mm512_maskz_mov_epi8((__mmask64)kl, h10);
                    const __m512i bh = _mm512_maskz_mov_epi8((__mmask64)kh, h10);
                    l = _mm512_ternarylogic_epi32(r, m4, bl, 0xEA);
                    h = _mm512_ternarylogic_epi32(_mm512_srli_epi16(r, 4), m4, bh, 0xEA);
                } else {
                    l = _mm512_and_si512(r, m4);
                    h = _mm512_and_si512(_mm512_srli_epi16(r, 4), m4);
                }
                if (m & 1) {
                    lo1 = _mm512_dpbusd_epi32(lo1, l, _mm512_set1_epi32(ylo));
                    hi1 = _mm512_dpbusd_epi32(hi1, h, _mm512_set1_epi32(yhi));
                } else {
                    lo0 = _mm512_dpbusd_epi32(lo0, l, _mm512_set1_epi32(ylo));
                    hi0 = _mm512_dpbusd_epi32(hi0, h, _mm512_set1_epi32(yhi));
                }
            }
            __m512i sl = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(chunk + QK_SC + 16 * (2 * q))));
            __m512i sh = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(chunk + QK_SC + 16 * (2 * q + 1))));
            isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(_mm512_add_epi32(lo0, lo1), sl));
            isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(_mm512_add_epi32(hi0, hi1), sh));
        }
        __m512 dv = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(chunk + QK_D))),
                                  _mm512_set1_ps(yb->d));
        __m512 mv = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(chunk + QK_DMIN))),
                                  _mm512_set1_ps(yb->d));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), dv, acc);
        acc = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(msum), mv, acc);
    }
    return acc;
}

/* gemm_repacked of Q4_K/Q5_K for n_tok < 4 (the matrix-vector kernel). */
QX_INLINE void qk_gemv(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1, const void *x, size_t xrb,
                       int64_t n_tok, float *out, size_t os, int five, int pf) {
    enum { CH = 64 }; /* super-blocks per activation chunk */
    const int64_t nb = n / QX_QK_K;
    int32_t s2[CH][4];
    if (r1 > rows) r1 = rows;
    for (int64_t t = 0; t < n_tok; t++) {
        const uint8_t *xt = (const uint8_t *)x + (size_t)t * xrb;
        float *o = out + (size_t)t * os;
        for (int64_t b0 = 0; b0 < nb; b0 += CH) {
            const int64_t b1 = b0 + CH < nb ? b0 + CH : nb;
            for (int64_t b = b0; b < b1; b++) {
                const mono_block_q8_K *yb = (const mono_block_q8_K *)xt + b;
                for (int p2 = 0; p2 < 4; p2++) {
                    int16_t e = (int16_t)(yb->bsums[4 * p2] + yb->bsums[4 * p2 + 1]);
                    int16_t f = (int16_t)(yb->bsums[4 * p2 + 2] + yb->bsums[4 * p2 + 3]);
                    s2[b - b0][p2] = (int32_t)((uint32_t)(uint16_t)e | (uint32_t)(uint16_t)f << 16);
                }
            }
            for (int64_t g = r0 / QR_ROWS; g * QR_ROWS < r1; g++) {
                float v[QR_ROWS];
                _mm512_storeu_ps(v, qk_group(wr, nb, g, b0, b1, xt, (const int32_t(*)[4])s2, five, pf));
                for (int j = 0; j < QR_ROWS; j++) {
                    int64_t r = g * QR_ROWS + j;
                    if (r < r0 || r >= r1) continue;
                    o[r] = b0 ? o[r] + v[j] : v[j];
                }
            }
        }
    }
}

#define QK_TYPE(tname, T, five, chunk)                                                                          \
    QX_INLINE void qk_row_##tname(uint8_t *c, uint8_t *blk, int j, int to_file) {                                \
        qk_row(c, blk, j, to_file, five);                                                                        \
    }                                                                                                            \
    static size_t qk_repack_size_##tname(int64_t rows, int64_t n) { return qk_size(rows, n, QK_CHUNK(five)); }   \
    static void qk_repack_##tname(const void *w, size_t wrb, int64_t rows, int64_t n, void *dst) {               \
        qk_repack(qk_row_##tname, chunk, QK_CHUNK(five), sizeof(mono_block_##tname), w, wrb, rows, n, dst);     \
    }                                                                                                            \
    static void qk_unrepack_##tname(const void *wr, int64_t rows, int64_t n, int64_t r0, int64_t r1, void *dst, \
                                    size_t drb) {                                                                \
        qk_unrepack(qk_row_##tname, chunk, QK_CHUNK(five), sizeof(mono_block_##tname), wr, rows, n, r0, r1, dst, \
                    drb);                                                                                        \
    }                                                                                                            \
    static void qk_gemm_##tname(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1, const void *x,  \
                                size_t xrb, int64_t n_tok, float *out, size_t os) {                              \
        if (n_tok >= 4)                                                                                          \
            qr_gemm_via_rows(MONO_TYPE_##T, qk_unrepack_##tname, qt_gemm_##tname, qk_gemm_##tname, n, wr, rows, \
                             r0, r1, x, xrb, n_tok, out, os);                                                    \
        else                                                                                                     \
            qk_gemv(n, wr, rows, r0, r1, x, xrb, n_tok, out, os, five, 0);                                       \
    }                                                                                                            \
    static void qk_gemm_##tname##_pf(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1,            \
                                     const void *x, size_t xrb, int64_t n_tok, float *out, size_t os) {          \
        if (n_tok >= 4)                                                                                          \
            qk_gemm_##tname(n, wr, rows, r0, r1, x, xrb, n_tok, out, os);                                        \
        else                                                                                                     \
            qk_gemv(n, wr, rows, r0, r1, x, xrb, n_tok, out, os, five, 1);                                       \
    }
QK_TYPE(q4_K, Q4_K, 0, NULL)
QK_TYPE(q5_K, Q5_K, 1, qk_chunk_qh)
#undef QK_TYPE

/* ------------------------------------------------ Q6_K repacked 16 rows wide */

/* Per group of 16 rows and super-block (same size as the rows): d[16]
 * halves, the 16 int8 scales of the 16 rows (16 bytes per scale), then for
 * each half h and m = 0..7 three vectors whose lane j holds 4 bytes of row j:
 * ql[64h+4m..], ql[64h+32+4m..], qh[32h+4m..]. Unsigned 6-bit values
 * (q + 32) are rebuilt in registers; each 16-weight group's sum is seeded
 * with -32 * its bsum (exact) and scaled with vpmulld. */
#define Q6_SC (2 * QR_ROWS)
#define Q6_Q (18 * QR_ROWS)
#define Q6_CHUNK (Q6_Q + 2 * 8 * 3 * 64)

QX_INLINE void q6_row(uint8_t *c, uint8_t *blk, int j, int to_file) {
    uint8_t *ql = blk + offsetof(mono_block_q6_K, ql), *qh = blk + offsetof(mono_block_q6_K, qh);
    qk_mv(blk + offsetof(mono_block_q6_K, d), c + 2 * j, 2, to_file);
    for (int k = 0; k < 16; k++) qk_mv(blk + offsetof(mono_block_q6_K, scales) + k, c + Q6_SC + 16 * k + j, 1, to_file);
    for (int h = 0; h < 2; h++)
        for (int m = 0; m < 8; m++) {
            uint8_t *v = c + Q6_Q + 192 * (8 * h + m) + 4 * j;
            qk_mv(ql + 64 * h + 4 * m, v, 4, to_file);
            qk_mv(ql + 64 * h + 32 + 4 * m, v + 64, 4, to_file);
            qk_mv(qh + 32 * h + 4 * m, v + 128, 4, to_file);
        }
}

static size_t q6_repack_size_q6_K(int64_t rows, int64_t n) { return qk_size(rows, n, Q6_CHUNK); }

static void q6_repack_q6_K(const void *w, size_t wrb, int64_t rows, int64_t n, void *dst) {
    qk_repack(q6_row, NULL, Q6_CHUNK, sizeof(mono_block_q6_K), w, wrb, rows, n, dst);
}

static void q6_unrepack_q6_K(const void *wr, int64_t rows, int64_t n, int64_t r0, int64_t r1, void *dst,
                             size_t drb) {
    qk_unrepack(q6_row, NULL, Q6_CHUNK, sizeof(mono_block_q6_K), wr, rows, n, r0, r1, dst, drb);
}

QX_INLINE __m512i q6_dot4(__m512i acc, __m512i v, const int8_t *y) {
    int32_t y4;
    memcpy(&y4, y, 4);
    return _mm512_dpbusd_epi32(acc, v, _mm512_set1_epi32(y4));
}

QX_INLINE __m512 q6_group(const uint8_t *wr, int64_t nb, int64_t g, int64_t b0, int64_t b1, const uint8_t *x,
                          int pf) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
    __m512 acc = _mm512_setzero_ps();
    const uint8_t *chunk = wr + (size_t)(g * nb + b0) * Q6_CHUNK;
    for (int64_t b = b0; b < b1; b++, chunk += Q6_CHUNK) {
        qr_prefetch(chunk, Q6_CHUNK, pf);
        const mono_block_q8_K *yb = (const mono_block_q8_K *)x + b;
        __m512i isum = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            __m512i i[8]; /* 16-weight group 8h + 2k + (m >= 4) -> i[2k + (m >= 4)] */
            QX_UNROLL
            for (int q = 0; q < 8; q++) i[q] = _mm512_set1_epi32(-32 * yb->bsums[8 * h + q]);
            QX_UNROLL
            for (int m = 0; m < 8; m++) {
                const uint8_t *v = chunk + Q6_Q + 192 * (8 * h + m);
                __m512i l0 = _mm512_loadu_si512(v), l1 = _mm512_loadu_si512(v + 64), qh = _mm512_loadu_si512(v + 128);
                /* 0x0F ? low nibble : high bits at 0x30 (bit select) */
                __m512i v1 = _mm512_ternarylogic_epi32(m4, l0, _mm512_and_si512(_mm512_slli_epi16(qh, 4), m30), 0xCA);
                __m512i v2 = _mm512_ternarylogic_epi32(m4, l1, _mm512_and_si512(_mm512_slli_epi16(qh, 2), m30), 0xCA);
                __m512i v3 = _mm512_ternarylogic_epi32(m4, _mm512_srli_epi16(l0, 4), _mm512_and_si512(qh, m30), 0xCA);
                __m512i v4 = _mm512_ternarylogic_epi32(m4, _mm512_srli_epi16(l1, 4),
                                                       _mm512_and_si512(_mm512_srli_epi16(qh, 2), m30), 0xCA);
                const int8_t *y = yb->qs + 128 * h + 4 * m;
                const int hi = m >= 4;
                i[0 + hi] = q6_dot4(i[0 + hi], v1, y);
                i[2 + hi] = q6_dot4(i[2 + hi], v2, y + 32);
                i[4 + hi] = q6_dot4(i[4 + hi], v3, y + 64);
                i[6 + hi] = q6_dot4(i[6 + hi], v4, y + 96);
            }
            QX_UNROLL
            for (int q = 0; q < 8; q++) {
                __m512i sc = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(chunk + Q6_SC + 16 * (8 * h + q))));
                isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(i[q], sc));
            }
        }
        __m512 dv = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)chunk)), _mm512_set1_ps(yb->d));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), dv, acc);
    }
    return acc;
}

QX_INLINE void q6_gemv(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1, const void *x, size_t xrb,
                       int64_t n_tok, float *out, size_t os, int pf) {
    const int64_t nb = n / QX_QK_K;
    if (r1 > rows) r1 = rows;
    for (int64_t t = 0; t < n_tok; t++) {
        const uint8_t *xt = (const uint8_t *)x + (size_t)t * xrb;
        float *o = out + (size_t)t * os;
        for (int64_t g = r0 / QR_ROWS; g * QR_ROWS < r1; g++) {
            float v[QR_ROWS];
            _mm512_storeu_ps(v, q6_group(wr, nb, g, 0, nb, xt, pf));
            for (int j = 0; j < QR_ROWS; j++) {
                int64_t r = g * QR_ROWS + j;
                if (r >= r0 && r < r1) o[r] = v[j];
            }
        }
    }
}

static void q6_gemm_q6_K(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1, const void *x, size_t xrb,
                         int64_t n_tok, float *out, size_t os) {
    if (n_tok >= 4)
        qr_gemm_via_rows(MONO_TYPE_Q6_K, q6_unrepack_q6_K, qt_gemm_q6_K, q6_gemm_q6_K, n, wr, rows, r0, r1, x, xrb,
                         n_tok, out, os);
    else
        q6_gemv(n, wr, rows, r0, r1, x, xrb, n_tok, out, os, 0);
}

static void q6_gemm_q6_K_pf(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1, const void *x,
                            size_t xrb, int64_t n_tok, float *out, size_t os) {
    if (n_tok >= 4) q6_gemm_q6_K(n, wr, rows, r0, r1, x, xrb, n_tok, out, os);
    else q6_gemv(n, wr, rows, r0, r1, x, xrb, n_tok, out, os, 1);
}

#endif
