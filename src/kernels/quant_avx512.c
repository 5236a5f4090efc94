/*
 * quant_avx512.c -- AVX-512 kernels for the quantized types.
 *
 * Everything in quant_x86_dot.h/quant_x86_gemm.h is built here again with
 * MONO_QX_VNNI, so each u8 x i8 dot product is one vpdpbusd and each 16-bit
 * scale dot of the K-quants one vpdpwssd. (512-bit K-quant kernels were
 * tried: on Zen 4, which splits 512-bit ops in two, they were no faster than
 * these 256-bit ones, so they are not kept.) On top of that,
 * decode (fewer than 4 tokens) of the legacy 32-weight types gets a
 * matrix-vector kernel that streams two blocks per 512-bit register:
 *
 *   - the activation row is prepared once per call: its quants packed
 *     without the block headers (two blocks per 64 bytes, in order), the constant
 *     offset of the weights (Q4_0 stores q+8, Q5_0 q+16, Q8_0 is made
 *     unsigned as q+128) folded into a per-lane correction -off*sum(y) that
 *     seeds the vpdpbusd accumulator, and its scales decoded to floats;
 *   - per weight block pair the loop is then: unpack, one vpdpbusd, one
 *     convert, one scale permute, one fmadd; the eight weight scales of a
 *     group of 8 blocks are gathered with two word permutes and converted
 *     together, so no scalar half conversions remain in the loop.
 * The integer sum of every block is exact (sum (q+off)*y - off*sum y), as in
 * the portable kernels; only float summation order differs.
 */
#define MONO_QX_VNNI 1
#include "kernels/quant_x86_dot.h"
#include "kernels/quant_x86_gemm.h"
#include "kernels/quant_x86_tile.h"

/* Per-type constants of the legacy layouts. */
typedef struct qz_layout {
    int stride;    /* block bytes */
    int qs;        /* offset of the 16/32 quant bytes */
    int qh;        /* offset of the 32 high bits, or -1 */
    int m;         /* offset of the min half (Q4_1/Q5_1), or -1 */
    int nibbles;   /* 1: 4-bit quants (low nibbles are weights 0-15, high 16-31) */
    int off;       /* subtracted weight offset: 128, 16, 8 or 0 */
} qz_layout;

static const qz_layout qz_q8_0 = {34, 2, -1, -1, 0, 128};
static const qz_layout qz_q4_0 = {18, 2, -1, -1, 1, 8};
static const qz_layout qz_q5_0 = {22, 6, 2, -1, 1, 16};
static const qz_layout qz_q4_1 = {20, 4, -1, 2, 1, 0};
static const qz_layout qz_q5_1 = {24, 8, 4, 2, 1, 0};

/* One token's activation row, prepared for a layout. */
typedef struct qz_act {
    int8_t y[QX_GEMM_MAX_COLS];            /* 64 bytes per block pair, in order */
    int32_t c[QX_GEMM_MAX_COLS / 4];       /* 16 lanes per pair: -off * sum of 4 y */
    float dx[QX_GEMM_MAX_COLS / QX_QK];    /* activation scale per block */
    float sx[QX_GEMM_MAX_COLS / QX_QK];    /* Q8_1 block sum d*sum(q) per block */
} qz_act;

QX_INLINE void qz_prepare(const qz_layout *L, const uint8_t *x, int64_t nb, qz_act *a) {
    const size_t xb = L->m >= 0 ? sizeof(mono_block_q8_1) : sizeof(mono_block_q8_0);
    const size_t xq = L->m >= 0 ? 4 : 2;
    for (int64_t b = 0; b < nb; b++) {
        uint16_t h;
        memcpy(&h, x + b * xb, 2);
        a->dx[b] = qx_h2f(h);
        if (L->m >= 0) { memcpy(&h, x + b * xb + 2, 2); a->sx[b] = qx_h2f(h); }
    }
    for (int64_t p = 0; p < nb / 2; p++) {
        const int8_t *y0 = (const int8_t *)(x + (2 * p) * xb + xq), *y1 = (const int8_t *)(x + (2 * p + 1) * xb + xq);
        int8_t *d = a->y + 64 * p;
        memcpy(d, y0, 32);
        memcpy(d + 32, y1, 32);
        __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8((char)L->off),
                                        _mm512_loadu_si512(d));
        _mm512_storeu_si512(a->c + 16 * p, _mm512_sub_epi32(_mm512_setzero_si512(), s));
    }
}

/* Two consecutive weight blocks as 64 unsigned bytes, weights in order. */
QX_INLINE __m512i qz_unpack_pair(const qz_layout *L, const uint8_t *pb) {
    if (!L->nibbles) {
        __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(pb + L->qs))),
                                       _mm256_loadu_si256((const __m256i *)(pb + L->stride + L->qs)), 1);
        return _mm512_xor_si512(v, _mm512_set1_epi8((char)0x80));
    }
    /* [qs_b, qs_b, qs_b1, qs_b1], shifted by 0 or 4 per 16 bytes: the weights
     * of both blocks in their natural order, so the high bits of Q5 are the
     * two 32-bit qh words side by side */
    __m512i v = _mm512_mask_broadcast_i32x4(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(pb + L->qs))),
                                            0xFF00, _mm_loadu_si128((const __m128i *)(pb + L->stride + L->qs)));
    v = _mm512_srlv_epi16(v, _mm512_setr_epi64(0, 0, 0x0004000400040004, 0x0004000400040004, 0, 0,
                                               0x0004000400040004, 0x0004000400040004));
    if (L->qh < 0) return _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
    uint32_t h0, h1;
    memcpy(&h0, pb + L->qh, 4);
    memcpy(&h1, pb + L->stride + L->qh, 4);
    __m512i hb = _mm512_maskz_mov_epi8((__mmask64)((uint64_t)h0 | (uint64_t)h1 << 32), _mm512_set1_epi8(0x10));
    return _mm512_ternarylogic_epi32(v, _mm512_set1_epi8(0x0F), hb, 0xEA); /* (v & 0x0F) | hb */
}

/* Eight halves of eight consecutive blocks (the word indices say which
 * field), as floats. Reads only bytes of those blocks (masked loads past the
 * first 64). */
QX_INLINE __m256 qz_gather8(const qz_layout *L, const uint8_t *base, __m512i idx_lo, __m512i idx_hi, __mmask64 tail,
                            int full) {
    const uint8_t *b2 = base + 4 * L->stride;
    /* A masked load is ~3x slower than a plain one on Zen 4 when its line
     * comes from DRAM (Q8_0 decode fell to 27% of the read loop): read the
     * whole next 64 bytes whenever they lie inside the row. */
    __m512i h0 = full ? _mm512_loadu_si512(base + 64) : _mm512_maskz_loadu_epi8(tail, base + 64);
    __m512i h1 = full ? _mm512_loadu_si512(b2 + 64) : _mm512_maskz_loadu_epi8(tail, b2 + 64);
    __m512i r0 = _mm512_permutex2var_epi16(_mm512_loadu_si512(base), idx_lo, h0);
    __m512i r1 = _mm512_permutex2var_epi16(_mm512_loadu_si512(b2), idx_hi, h1);
    __m512i r = _mm512_mask_blend_epi16(0xF0, r0, r1);
    return _mm256_cvtph_ps(_mm512_castsi512_si128(r));
}

/* lane -> block-in-group permute base: [2p x8, 2p+1 x8] (add 2p for pair p) */
static inline __m512i qz_lane_blk(void) {
    return _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
}

/* The pairs after the last whole group of 8 blocks, with scalar scales. */
QX_INLINE float qz_row_tail(const qz_layout *L, const uint8_t *row, int64_t g, int64_t nb, const qz_act *a) {
    __m512 acc = _mm512_setzero_ps();
    float tail_sum = 0;
    for (; g + 2 <= nb; g += 2) {
        const uint8_t *pb = row + g * L->stride;
        uint16_t h0, h1;
        memcpy(&h0, pb, 2);
        memcpy(&h1, pb + L->stride, 2);
        __m512 s2 = _mm512_castps128_ps512(_mm_setr_ps(qx_h2f(h0) * a->dx[g], qx_h2f(h1) * a->dx[g + 1], 0, 0));
        __m512i i = _mm512_dpbusd_epi32(_mm512_loadu_si512(a->c + 8 * g), qz_unpack_pair(L, pb),
                                        _mm512_loadu_si512(a->y + 32 * g));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), _mm512_permutexvar_ps(qz_lane_blk(), s2), acc);
        if (L->m >= 0) {
            memcpy(&h0, pb + L->m, 2);
            memcpy(&h1, pb + L->stride + L->m, 2);
            tail_sum += qx_h2f(h0) * a->sx[g] + qx_h2f(h1) * a->sx[g + 1];
        }
    }
    return _mm512_reduce_add_ps(acc) + tail_sum;
}

/* dot(W row, prepared activation) for R (1 or 2) rows of nb blocks: two rows
 * share every activation and correction load (the loop's load ports, not
 * its arithmetic, are what limits one row on Zen 4). */
QX_INLINE void qz_rows(const qz_layout *L, const uint8_t *const *row, const int R, int64_t nb, const qz_act *a,
                       __m512i id_lo, __m512i id_hi, __m512i im_lo, __m512i im_hi, __mmask64 tail,
                       size_t wrb, int64_t pf_chunk, float *res) {
    __m512 acc[2][4];
    __m256 macc[2];
    QX_UNROLL
    for (int r = 0; r < R; r++) {
        macc[r] = _mm256_setzero_ps();
        for (int p = 0; p < 4; p++) acc[r][p] = _mm512_setzero_ps();
    }
    const __m512i lane_blk = qz_lane_blk();
    int64_t g = 0;
    for (; g + 8 <= nb; g += 8) {
        __m512 s16[2];
        const int full = (g + 4) * L->stride + 128 <= nb * L->stride;
        QX_UNROLL
        for (int r = 0; r < R; r++) /* the row after this one (prefetches never fault) */
            for (int64_t o = 0; o < pf_chunk; o += 64)
                _mm_prefetch((const char *)row[r] + wrb + (g / 8) * pf_chunk + o, _MM_HINT_T0);
        QX_UNROLL
        for (int r = 0; r < R; r++) {
            const uint8_t *base = row[r] + g * L->stride;
            s16[r] = _mm512_castps256_ps512(_mm256_mul_ps(qz_gather8(L, base, id_lo, id_hi, tail, full), _mm256_loadu_ps(a->dx + g)));
            if (L->m >= 0)
                macc[r] = _mm256_fmadd_ps(qz_gather8(L, base, im_lo, im_hi, tail, full), _mm256_loadu_ps(a->sx + g), macc[r]);
        }
        QX_UNROLL
        for (int p = 0; p < 4; p++) {
            int64_t pair = g / 2 + p;
            __m512i c = _mm512_loadu_si512(a->c + 16 * pair), y = _mm512_loadu_si512(a->y + 64 * pair);
            __m512i idx = _mm512_add_epi32(lane_blk, _mm512_set1_epi32(2 * p));
            QX_UNROLL
            for (int r = 0; r < R; r++) {
                __m512i i = _mm512_dpbusd_epi32(c, qz_unpack_pair(L, row[r] + (g + 2 * p) * L->stride), y);
                acc[r][p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), _mm512_permutexvar_ps(idx, s16[r]), acc[r][p]);
            }
        }
    }
    QX_UNROLL
    for (int r = 0; r < R; r++) {
        __m512 t = _mm512_add_ps(_mm512_add_ps(acc[r][0], acc[r][1]), _mm512_add_ps(acc[r][2], acc[r][3]));
        res[r] = _mm512_reduce_add_ps(t) + qx_hsum_ps(macc[r]) + qz_row_tail(L, row[r], g, nb, a);
    }
}

/* y[r] for rows [r0, r1) and n_tok < 4 tokens, one token at a time. */
QX_INLINE void qz_gemv(const qz_layout *L, mono_vec_dot_fn odd_dot, int64_t n, const void *w, size_t wrb, int64_t r0,
                       int64_t r1, const void *x, size_t xrb, int64_t n_tok, float *out, size_t os) {
    const int64_t nb = n / QX_QK;
    if (nb % 2) { /* an odd block count: the plain kernel (never on real model shapes) */
        mono_gemm_by_vec_dot(odd_dot, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
        return;
    }
    qz_act act;
    short id_lo[32] = {0}, id_hi[32] = {0}, im_lo[32] = {0}, im_hi[32] = {0};
    for (int i = 0; i < 4; i++) {
        id_lo[i] = (short)((i * L->stride) / 2);
        id_hi[4 + i] = id_lo[i];
        im_lo[i] = (short)((i * L->stride + (L->m >= 0 ? L->m : 0)) / 2);
        im_hi[4 + i] = im_lo[i];
    }
    /* bytes of a 4-block half that the gathers need beyond the first 64 */
    int need = 3 * L->stride + (L->m >= 0 ? L->m : 0) + 2;
    __mmask64 tail = need > 64 ? (((__mmask64)1 << (need - 64)) - 1) : 0;
    __m512i vid_lo = _mm512_loadu_si512(id_lo), vid_hi = _mm512_loadu_si512(id_hi);
    __m512i vim_lo = _mm512_loadu_si512(im_lo), vim_hi = _mm512_loadu_si512(im_hi);
    /* Rows are taken in pairs from the two halves of [r0, r1), so that each
     * of the two row streams reads consecutive memory (pairs of adjacent
     * rows ran Q8_0 from DRAM at a third of the read loop: two interleaved
     * streams 1 KiB apart defeat the hardware prefetcher), and each stream
     * prefetches its next row, a slice per group of 8 blocks. */
    const int64_t n_groups = nb / 8 > 0 ? nb / 8 : 1;
    const int64_t pf_chunk = ((int64_t)wrb + n_groups - 1) / n_groups;
    const int64_t h = (r1 - r0) / 2;
    for (int64_t t = 0; t < n_tok; t++) {
        qz_prepare(L, (const uint8_t *)x + t * xrb, nb, &act);
        for (int64_t i = 0; i < h; i++) {
            const int64_t ra = r0 + i, rb = r0 + h + i;
            const uint8_t *rows[2] = {(const uint8_t *)w + ra * wrb, (const uint8_t *)w + rb * wrb};
            float res[2];
            qz_rows(L, rows, 2, nb, &act, vid_lo, vid_hi, vim_lo, vim_hi, tail, wrb, pf_chunk, res);
            out[t * os + ra] = res[0];
            out[t * os + rb] = res[1];
        }
        if (r0 + 2 * h < r1) {
            const uint8_t *rows[1] = {(const uint8_t *)w + (r1 - 1) * wrb};
            qz_rows(L, rows, 1, nb, &act, vid_lo, vid_hi, vim_lo, vim_hi, tail, wrb, pf_chunk, &out[t * os + r1 - 1]);
        }
    }
}

#define QZ_GEMM(T, tname)                                                                                       \
    static void qz_gemm_##tname(int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x,    \
                                size_t xrb, int64_t n_tok, float *out, size_t os) {                             \
        if (n_tok >= 4)                                                                                         \
            qt_gemm_legacy(MONO_TYPE_##T, qx_vec_dot_##tname, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);      \
        else if (n > QX_GEMM_MAX_COLS)                                                                          \
            qx_gemm_any(MONO_TYPE_##T, qx_vec_dot_##tname, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);         \
        else                                                                                                    \
            qz_gemv(&qz_##tname, qx_vec_dot_##tname, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);                \
    }
QZ_GEMM(Q8_0, q8_0)
QZ_GEMM(Q4_0, q4_0)
QZ_GEMM(Q5_0, q5_0)
QZ_GEMM(Q4_1, q4_1)
QZ_GEMM(Q5_1, q5_1)
#undef QZ_GEMM

/* ------------------------------- Q4_0 and Q5_0 repacked 16 rows wide */

/* Layout: groups of QR_ROWS rows; in a group, per block column b, one chunk:
 * the 16 rows' scales (16 halves), then four 64-byte vectors R_m (m = 0..3)
 * whose bytes 4j..4j+3 are row j's qs[4m..4m+3]. The low nibbles of R_m
 * are weights 4m..4m+3 of each row, the high ones 16+4m..16+4m+3, so one
 * vpdpbusd against a broadcast of those 4 activation bytes adds the
 * products of all 16 rows, one row per lane. Q5_0 adds 64 bytes of high
 * bits as byte masks of those vectors: for each m a 64-bit mask for the low
 * nibbles (bit 4j+k = qh bit 4m+k of row j) and one for the high nibbles
 * (qh bit 16+4m+k). Q8_0 (kind 2) has eight vectors R_m of row j's
 * qs[4m..4m+3] + 128 (unsigned for vpdpbusd; the offset goes into the
 * block's correction). Same size as the rows (18, 22 or 34 bytes a row and
 * block); rows past `rows` are zero. */
#define QR_ROWS 16
#define QR_CHUNK(kind) (2 * QR_ROWS + ((kind) == 2 ? 8 * 64 : 4 * 64 + ((kind) ? 64 : 0)))

QX_INLINE size_t qr_size(int64_t rows, int64_t n, int kind) {
    if (rows <= 0 || n <= 0 || n % QX_QK) return 0;
    return (size_t)((rows + QR_ROWS - 1) / QR_ROWS) * (size_t)(n / QX_QK) * QR_CHUNK(kind);
}

QX_INLINE void qr_pack(const void *w, size_t wrb, int64_t rows, int64_t n, void *dst, int kind) {
    const int64_t nb = n / QX_QK, ng = (rows + QR_ROWS - 1) / QR_ROWS;
    const int five = kind == 1, nv = kind == 2 ? 8 : 4;
    const size_t bb = kind == 2 ? sizeof(mono_block_q8_0) : five ? sizeof(mono_block_q5_0) : sizeof(mono_block_q4_0);
    const size_t qs = five ? 6 : 2;
    uint8_t *d = dst;
    memset(d, 0, qr_size(rows, n, kind));
    for (int64_t g = 0; g < ng; g++)
        for (int64_t b = 0; b < nb; b++) {
            uint8_t *c = d + (size_t)(g * nb + b) * QR_CHUNK(kind);
            uint64_t mk[8] = {0};
            for (int j = 0; j < QR_ROWS && g * QR_ROWS + j < rows; j++) {
                const uint8_t *blk = (const uint8_t *)w + (size_t)(g * QR_ROWS + j) * wrb + (size_t)b * bb;
                memcpy(c + 2 * j, blk, 2);
                for (int m = 0; m < nv; m++)
                    for (int e = 0; e < 4; e++) /* Q8_0: q + 128 */
                        c[2 * QR_ROWS + 64 * m + 4 * j + e] = (uint8_t)(blk[qs + 4 * m + e] ^ (kind == 2 ? 0x80 : 0));
                if (five) {
                    uint32_t qh;
                    memcpy(&qh, blk + 2, 4);
                    for (int m = 0; m < 4; m++) {
                        mk[2 * m] |= (uint64_t)((qh >> (4 * m)) & 0xF) << (4 * j);
                        mk[2 * m + 1] |= (uint64_t)((qh >> (16 + 4 * m)) & 0xF) << (4 * j);
                    }
                }
            }
            if (five) memcpy(c + 2 * QR_ROWS + 4 * 64, mk, sizeof mk);
        }
}

/* Sums of 16 rows of group g over blocks [b0, b1) against one Q8_0 row x,
 * with c[b] = -off * sum(y of block b) and dx[b] its scale (b - b0 indexed). */
QX_INLINE __m512 qr_group(const uint8_t *wr, int64_t nb, int64_t g, int64_t b0, int64_t b1, const uint8_t *x,
                          const int32_t *c, const float *dx, int kind) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), h = _mm512_set1_epi8(0x10);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    const uint8_t *chunk = wr + (size_t)(g * nb + b0) * QR_CHUNK(kind);
    for (int64_t b = b0; b < b1; b++, chunk += QR_CHUNK(kind)) {
        const uint8_t *y = x + (size_t)b * sizeof(mono_block_q8_0) + 2;
        __m512i i0 = _mm512_set1_epi32(c[b - b0]), i1 = _mm512_setzero_si512();
        if (kind == 2) {
            QX_UNROLL
            for (int m = 0; m < 8; m++) {
                int32_t y4;
                memcpy(&y4, y + 4 * m, 4);
                __m512i r = _mm512_loadu_si512(chunk + 2 * QR_ROWS + 64 * m);
                if (m & 1) i1 = _mm512_dpbusd_epi32(i1, r, _mm512_set1_epi32(y4));
                else i0 = _mm512_dpbusd_epi32(i0, r, _mm512_set1_epi32(y4));
            }
        } else {
            QX_UNROLL
            for (int m = 0; m < 4; m++) {
                int32_t ylo, yhi;
                memcpy(&ylo, y + 4 * m, 4);
                memcpy(&yhi, y + 16 + 4 * m, 4);
                __m512i r = _mm512_loadu_si512(chunk + 2 * QR_ROWS + 64 * m), lo, hi;
                if (kind == 1) {
                    uint64_t kl, kh;
                    memcpy(&kl, chunk + 2 * QR_ROWS + 256 + 16 * m, 8);
                    memcpy(&kh, chunk + 2 * QR_ROWS + 256 + 16 * m + 8, 8);
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
        __m512 sc = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)chunk)), _mm512_set1_ps(dx[b - b0]));
        __m512 f = _mm512_cvtepi32_ps(_mm512_add_epi32(i0, i1));
        if ((b - b0) & 1) acc1 = _mm512_fmadd_ps(f, sc, acc1);
        else acc0 = _mm512_fmadd_ps(f, sc, acc0);
    }
    return _mm512_add_ps(acc0, acc1);
}

QX_INLINE void qr_gemm(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1, const void *x, size_t xrb,
                       int64_t n_tok, float *out, size_t os, int kind) {
    enum { CH = 256 }; /* blocks per activation chunk (the prepared sums live on the stack) */
    const int64_t nb = n / QX_QK;
    int32_t c[CH];
    float dx[CH];
    if (r1 > rows) r1 = rows;
    for (int64_t t = 0; t < n_tok; t++) {
        const uint8_t *xt = (const uint8_t *)x + (size_t)t * xrb;
        float *o = out + (size_t)t * os;
        for (int64_t b0 = 0; b0 < nb; b0 += CH) {
            const int64_t b1 = b0 + CH < nb ? b0 + CH : nb;
            for (int64_t b = b0; b < b1; b++) {
                const mono_block_q8_0 *xb = (const mono_block_q8_0 *)xt + b;
                __m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8((char)(kind == 2 ? 128 : kind ? 16 : 8)),
                                                _mm256_loadu_si256((const __m256i *)xb->qs));
                c[b - b0] = -qx_hsum_epi32(s);
                dx[b - b0] = qx_h2f(xb->d);
            }
            for (int64_t g = r0 / QR_ROWS; g * QR_ROWS < r1; g++) {
                float v[QR_ROWS];
                _mm512_storeu_ps(v, qr_group(wr, nb, g, b0, b1, xt, c, dx, kind));
                for (int j = 0; j < QR_ROWS; j++) {
                    int64_t r = g * QR_ROWS + j;
                    if (r < r0 || r >= r1) continue;
                    o[r] = b0 ? o[r] + v[j] : v[j];
                }
            }
        }
    }
}

#define QR_TYPE(tname, five)                                                                                     \
    static size_t qr_repack_size_##tname(int64_t rows, int64_t n) { return qr_size(rows, n, five); }            \
    static void qr_repack_##tname(const void *w, size_t wrb, int64_t rows, int64_t n, void *dst) {               \
        qr_pack(w, wrb, rows, n, dst, five);                                                                     \
    }                                                                                                            \
    static void qr_gemm_##tname(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1, const void *x,  \
                                size_t xrb, int64_t n_tok, float *out, size_t os) {                              \
        qr_gemm(n, wr, rows, r0, r1, x, xrb, n_tok, out, os, five);                                              \
    }
QR_TYPE(q4_0, 0)
QR_TYPE(q5_0, 1)
QR_TYPE(q8_0, 2)
#undef QR_TYPE

/* ------------------------------------------------ Q4_K repacked 16 rows wide */

/* Per group of 16 rows and super-block, one chunk: d[16], dmin[16] (halves),
 * the 8 sub-block scales of the 16 rows (16 bytes per sub-block), the mins
 * as byte pairs (sub-blocks 2p, 2p+1) per row (32 bytes per p), then for each
 * 64-weight chunk c eight vectors whose lane j holds row j's qs[32c+4m..+3]:
 * low nibbles are sub-block 2c, high ones 2c+1. Sub-block sums are exact
 * int32, scaled with vpmulld; mins go through vpdpwssd against the
 * activation's bsums summed per sub-block (|sum| <= 32*127 fits int16). */
#define QK_CHUNK (4 * QR_ROWS + 8 * QR_ROWS + 4 * 32 + 32 * 64)

static size_t qk_repack_size_q4_K(int64_t rows, int64_t n) {
    if (rows <= 0 || n <= 0 || n % QX_QK_K) return 0;
    return (size_t)((rows + QR_ROWS - 1) / QR_ROWS) * (size_t)(n / QX_QK_K) * QK_CHUNK;
}

static void qk_repack_q4_K(const void *w, size_t wrb, int64_t rows, int64_t n, void *dst) {
    const int64_t nb = n / QX_QK_K, ng = (rows + QR_ROWS - 1) / QR_ROWS;
    uint8_t *d = dst;
    memset(d, 0, qk_repack_size_q4_K(rows, n));
    for (int64_t g = 0; g < ng; g++)
        for (int64_t b = 0; b < nb; b++) {
            uint8_t *c = d + (size_t)(g * nb + b) * QK_CHUNK;
            for (int j = 0; j < QR_ROWS && g * QR_ROWS + j < rows; j++) {
                const mono_block_q4_K *blk = (const mono_block_q4_K *)((const uint8_t *)w + (size_t)(g * QR_ROWS + j) * wrb) + b;
                uint8_t sc[8], mn[8];
                mono_q4k_unpack_scales(blk->scales, sc, mn);
                memcpy(c + 2 * j, &blk->d, 2);
                memcpy(c + 2 * QR_ROWS + 2 * j, &blk->dmin, 2);
                for (int s8 = 0; s8 < 8; s8++) c[4 * QR_ROWS + 16 * s8 + j] = sc[s8];
                for (int p2 = 0; p2 < 4; p2++) {
                    c[12 * QR_ROWS + 32 * p2 + 2 * j] = mn[2 * p2];
                    c[12 * QR_ROWS + 32 * p2 + 2 * j + 1] = mn[2 * p2 + 1];
                }
                for (int q = 0; q < 4; q++)
                    for (int m = 0; m < 8; m++)
                        memcpy(c + 12 * QR_ROWS + 128 + 64 * (8 * q + m) + 4 * j, blk->qs + 32 * q + 4 * m, 4);
            }
        }
}

/* 16 rows of group g against super-blocks [b0, b1) of one Q8_K row; s2[i]
 * holds the 4 int16 pairs of sub-block bsums of super-block b0 + i. */
QX_INLINE __m512 qk_group(const uint8_t *wr, int64_t nb, int64_t g, int64_t b0, int64_t b1, const uint8_t *x,
                          const int32_t (*s2)[4]) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 acc = _mm512_setzero_ps();
    const uint8_t *chunk = wr + (size_t)(g * nb + b0) * QK_CHUNK;
    for (int64_t b = b0; b < b1; b++, chunk += QK_CHUNK) {
        const mono_block_q8_K *yb = (const mono_block_q8_K *)x + b;
        __m512i isum = _mm512_setzero_si512(), msum = _mm512_setzero_si512();
        QX_UNROLL
        for (int p2 = 0; p2 < 4; p2++)
            msum = _mm512_dpwssd_epi32(msum, _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(chunk + 12 * QR_ROWS + 32 * p2))),
                                       _mm512_set1_epi32(s2[b - b0][p2]));
        for (int q = 0; q < 4; q++) {
            __m512i lo0 = _mm512_setzero_si512(), lo1 = _mm512_setzero_si512();
            __m512i hi0 = _mm512_setzero_si512(), hi1 = _mm512_setzero_si512();
            QX_UNROLL
            for (int m = 0; m < 8; m++) {
                int32_t ylo, yhi;
                memcpy(&ylo, yb->qs + 64 * q + 4 * m, 4);
                memcpy(&yhi, yb->qs + 64 * q + 32 + 4 * m, 4);
                __m512i r = _mm512_loadu_si512(chunk + 12 * QR_ROWS + 128 + 64 * (8 * q + m));
                __m512i l = _mm512_and_si512(r, m4), h = _mm512_and_si512(_mm512_srli_epi16(r, 4), m4);
                if (m & 1) {
                    lo1 = _mm512_dpbusd_epi32(lo1, l, _mm512_set1_epi32(ylo));
                    hi1 = _mm512_dpbusd_epi32(hi1, h, _mm512_set1_epi32(yhi));
                } else {
                    lo0 = _mm512_dpbusd_epi32(lo0, l, _mm512_set1_epi32(ylo));
                    hi0 = _mm512_dpbusd_epi32(hi0, h, _mm512_set1_epi32(yhi));
                }
            }
            __m512i sl = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(chunk + 4 * QR_ROWS + 16 * (2 * q))));
            __m512i sh = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(chunk + 4 * QR_ROWS + 16 * (2 * q + 1))));
            isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(_mm512_add_epi32(lo0, lo1), sl));
            isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(_mm512_add_epi32(hi0, hi1), sh));
        }
        __m512 dv = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)chunk)), _mm512_set1_ps(yb->d));
        __m512 mv = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(chunk + 2 * QR_ROWS))),
                                  _mm512_set1_ps(yb->d));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), dv, acc);
        acc = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(msum), mv, acc);
    }
    return acc;
}

static void qk_gemm_q4_K(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1, const void *x, size_t xrb,
                         int64_t n_tok, float *out, size_t os) {
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
                _mm512_storeu_ps(v, qk_group(wr, nb, g, b0, b1, xt, (const int32_t(*)[4])s2));
                for (int j = 0; j < QR_ROWS; j++) {
                    int64_t r = g * QR_ROWS + j;
                    if (r < r0 || r >= r1) continue;
                    o[r] = b0 ? o[r] + v[j] : v[j];
                }
            }
        }
    }
}

/* ------------------------------------------------ Q6_K repacked 16 rows wide */

/* Per group of 16 rows and super-block (same size as the rows): d[16]
 * halves, the 16 int8 scales of the 16 rows (16 bytes per scale), then for
 * each half h and m = 0..7 three vectors whose lane j holds 4 bytes of row j:
 * ql[64h+4m..], ql[64h+32+4m..], qh[32h+4m..]. Unsigned 6-bit values
 * (q + 32) are rebuilt in registers; each 16-weight group's sum is seeded
 * with -32 * its bsum (exact) and scaled with vpmulld. */
#define Q6_CHUNK (2 * QR_ROWS + 16 * QR_ROWS + 2 * 8 * 3 * 64)

static size_t q6_repack_size_q6_K(int64_t rows, int64_t n) {
    if (rows <= 0 || n <= 0 || n % QX_QK_K) return 0;
    return (size_t)((rows + QR_ROWS - 1) / QR_ROWS) * (size_t)(n / QX_QK_K) * Q6_CHUNK;
}

static void q6_repack_q6_K(const void *w, size_t wrb, int64_t rows, int64_t n, void *dst) {
    const int64_t nb = n / QX_QK_K, ng = (rows + QR_ROWS - 1) / QR_ROWS;
    uint8_t *d = dst;
    memset(d, 0, q6_repack_size_q6_K(rows, n));
    for (int64_t g = 0; g < ng; g++)
        for (int64_t b = 0; b < nb; b++) {
            uint8_t *c = d + (size_t)(g * nb + b) * Q6_CHUNK;
            for (int j = 0; j < QR_ROWS && g * QR_ROWS + j < rows; j++) {
                const mono_block_q6_K *blk = (const mono_block_q6_K *)((const uint8_t *)w + (size_t)(g * QR_ROWS + j) * wrb) + b;
                memcpy(c + 2 * j, &blk->d, 2);
                for (int k = 0; k < 16; k++) c[2 * QR_ROWS + 16 * k + j] = (uint8_t)blk->scales[k];
                for (int h = 0; h < 2; h++)
                    for (int m = 0; m < 8; m++) {
                        uint8_t *v = c + 18 * QR_ROWS + 192 * (8 * h + m) + 4 * j;
                        memcpy(v, blk->ql + 64 * h + 4 * m, 4);
                        memcpy(v + 64, blk->ql + 64 * h + 32 + 4 * m, 4);
                        memcpy(v + 128, blk->qh + 32 * h + 4 * m, 4);
                    }
            }
        }
}

QX_INLINE __m512i q6_dot4(__m512i acc, __m512i v, const int8_t *y) {
    int32_t y4;
    memcpy(&y4, y, 4);
    return _mm512_dpbusd_epi32(acc, v, _mm512_set1_epi32(y4));
}

QX_INLINE __m512 q6_group(const uint8_t *wr, int64_t nb, int64_t g, int64_t b0, int64_t b1, const uint8_t *x) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
    __m512 acc = _mm512_setzero_ps();
    const uint8_t *chunk = wr + (size_t)(g * nb + b0) * Q6_CHUNK;
    for (int64_t b = b0; b < b1; b++, chunk += Q6_CHUNK) {
        const mono_block_q8_K *yb = (const mono_block_q8_K *)x + b;
        __m512i isum = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            __m512i i[8]; /* 16-weight group 8h + 2k + (m >= 4) -> i[2k + (m >= 4)] */
            QX_UNROLL
            for (int q = 0; q < 8; q++) i[q] = _mm512_set1_epi32(-32 * yb->bsums[8 * h + q]);
            QX_UNROLL
            for (int m = 0; m < 8; m++) {
                const uint8_t *v = chunk + 18 * QR_ROWS + 192 * (8 * h + m);
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
                __m512i sc = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(chunk + 2 * QR_ROWS + 16 * (8 * h + q))));
                isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(i[q], sc));
            }
        }
        __m512 dv = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)chunk)), _mm512_set1_ps(yb->d));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), dv, acc);
    }
    return acc;
}

static void q6_gemm_q6_K(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1, const void *x, size_t xrb,
                         int64_t n_tok, float *out, size_t os) {
    const int64_t nb = n / QX_QK_K;
    if (r1 > rows) r1 = rows;
    for (int64_t t = 0; t < n_tok; t++) {
        const uint8_t *xt = (const uint8_t *)x + (size_t)t * xrb;
        float *o = out + (size_t)t * os;
        for (int64_t g = r0 / QR_ROWS; g * QR_ROWS < r1; g++) {
            float v[QR_ROWS];
            _mm512_storeu_ps(v, q6_group(wr, nb, g, 0, nb, xt));
            for (int j = 0; j < QR_ROWS; j++) {
                int64_t r = g * QR_ROWS + j;
                if (r >= r0 && r < r1) o[r] = v[j];
            }
        }
    }
}

void mono_kernels_register_quant_avx512(mono_kernels *k) {
    if (!k->cpu.avx512vnni) return; /* the AVX2 versions registered before stay */
    qx_register(k);
    qt_register_k(k); /* K-quant prefill: quant_x86_tile.h */
    k->gemm[MONO_TYPE_Q8_0] = qz_gemm_q8_0;
    k->gemm[MONO_TYPE_Q4_0] = qz_gemm_q4_0;
    k->gemm[MONO_TYPE_Q5_0] = qz_gemm_q5_0;
    k->gemm[MONO_TYPE_Q4_1] = qz_gemm_q4_1;
    k->gemm[MONO_TYPE_Q5_1] = qz_gemm_q5_1;
    k->repack_rows[MONO_TYPE_Q4_0] = QR_ROWS;
    k->repack_size[MONO_TYPE_Q4_0] = qr_repack_size_q4_0;
    k->repack[MONO_TYPE_Q4_0] = qr_repack_q4_0;
    k->gemm_repacked[MONO_TYPE_Q4_0] = qr_gemm_q4_0;
    k->repack_rows[MONO_TYPE_Q5_0] = QR_ROWS;
    k->repack_size[MONO_TYPE_Q5_0] = qr_repack_size_q5_0;
    k->repack[MONO_TYPE_Q5_0] = qr_repack_q5_0;
    k->gemm_repacked[MONO_TYPE_Q5_0] = qr_gemm_q5_0;
    k->repack_rows[MONO_TYPE_Q8_0] = QR_ROWS;
    k->repack_size[MONO_TYPE_Q8_0] = qr_repack_size_q8_0;
    k->repack[MONO_TYPE_Q8_0] = qr_repack_q8_0;
    k->gemm_repacked[MONO_TYPE_Q8_0] = qr_gemm_q8_0;
    k->repack_rows[MONO_TYPE_Q4_K] = QR_ROWS;
    k->repack_size[MONO_TYPE_Q4_K] = qk_repack_size_q4_K;
    k->repack[MONO_TYPE_Q4_K] = qk_repack_q4_K;
    k->gemm_repacked[MONO_TYPE_Q4_K] = qk_gemm_q4_K;
    k->repack_rows[MONO_TYPE_Q6_K] = QR_ROWS;
    k->repack_size[MONO_TYPE_Q6_K] = q6_repack_size_q6_K;
    k->repack[MONO_TYPE_Q6_K] = q6_repack_q6_K;
    k->gemm_repacked[MONO_TYPE_Q6_K] = q6_gemm_q6_K;
}
