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

#include "kernels/quant_x86_repack.h"

#include <cpuid.h>

/* 1 where the repacked decode kernels should prefetch ahead (see
 * quant_x86_repack.h: Intel yes, AMD no); MONO_REPACK_PREFETCH=0 or 1
 * overrides (tests run both builds; A/B timing). */
static int qz_repack_prefetch(void) {
    const char *e = getenv("MONO_REPACK_PREFETCH");
    if (e && (e[0] == '0' || e[0] == '1') && !e[1]) return e[0] == '1';
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
    return b == 0x756e6547u && d == 0x49656e69u && c == 0x6c65746eu; /* "Genu" "ineI" "ntel" */
}

static void qz_set_repacked(mono_kernels *k, int type, mono_repack_size_fn size, mono_repack_fn pack,
                            mono_unrepack_fn unpack, mono_gemm_repacked_fn gemm) {
    k->repack_rows[type] = QR_ROWS;
    k->repack_size[type] = size;
    k->repack[type] = pack;
    k->unrepack[type] = unpack;
    k->gemm_repacked[type] = gemm;
}

void mono_kernels_register_quant_avx512(mono_kernels *k) {
    if (!k->cpu.avx512vnni) return; /* the AVX2 versions registered before stay */
    const int pf = qz_repack_prefetch();
    qx_register(k);
    qt_register_k(k); /* K-quant prefill: quant_x86_tile.h */
    k->gemm[MONO_TYPE_Q8_0] = qz_gemm_q8_0;
    k->gemm[MONO_TYPE_Q4_0] = qz_gemm_q4_0;
    k->gemm[MONO_TYPE_Q5_0] = qz_gemm_q5_0;
    k->gemm[MONO_TYPE_Q4_1] = qz_gemm_q4_1;
    k->gemm[MONO_TYPE_Q5_1] = qz_gemm_q5_1;
    /* the repacked forms (quant_x86_repack.h), each in two decode builds */
#define QZ_REPACKED(T, size, pack, unpack, gemm)                                                               \
    qz_set_repacked(k, MONO_TYPE_##T, size, pack, unpack, pf ? gemm##_pf : gemm)
    QZ_REPACKED(Q4_0, qr_repack_size_q4_0, qr_repack_q4_0, qr_unrepack_q4_0, qr_gemm_q4_0);
    QZ_REPACKED(Q5_0, qr_repack_size_q5_0, qr_repack_q5_0, qr_unrepack_q5_0, qr_gemm_q5_0);
    QZ_REPACKED(Q8_0, qr_repack_size_q8_0, qr_repack_q8_0, qr_unrepack_q8_0, qr_gemm_q8_0);
    QZ_REPACKED(Q4_1, qr_repack_size_q4_1, qr_repack_q4_1, qr_unrepack_q4_1, qr_gemm_q4_1);
    QZ_REPACKED(Q5_1, qr_repack_size_q5_1, qr_repack_q5_1, qr_unrepack_q5_1, qr_gemm_q5_1);
    QZ_REPACKED(Q4_K, qk_repack_size_q4_K, qk_repack_q4_K, qk_unrepack_q4_K, qk_gemm_q4_K);
    QZ_REPACKED(Q5_K, qk_repack_size_q5_K, qk_repack_q5_K, qk_unrepack_q5_K, qk_gemm_q5_K);
    QZ_REPACKED(Q6_K, q6_repack_size_q6_K, q6_repack_q6_K, q6_unrepack_q6_K, q6_gemm_q6_K);
#undef QZ_REPACKED
}
