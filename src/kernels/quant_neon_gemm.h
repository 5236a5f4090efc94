/*
 * quant_neon_gemm.h -- blocked matrix products (prefill, mono_gemm_fn) of
 * the quantized types for AArch64 NEON; included by quant_neon.c after its
 * vec_dot kernels, whose helpers (h2f, dot16, unpack_45, q6_16, shr_u8) it
 * uses.
 *
 * A vec_dot per (row, token) redoes per token what depends only on the row:
 * the bit twiddling that turns packed quants into bytes, the half-to-float
 * conversions of the block scales and the K-quant scale unpacking. Here each
 * weight row is unpacked once per block of NG_TB tokens into plain signed
 * bytes (offsets applied), float block scales (legacy types) or int32 group
 * scales, mins and float d/dmin (K-quants); then NG_TOK tokens at a time run
 * over it: each 16-byte weight vector is loaded once and multiplied into
 * all of them (vdotq_s32 with +dotprod, else vmull_s8 + vmlal_high_s8 +
 * vpadalq_s16 where the weights are small enough for two products to share
 * an int16 lane: every type but Q8_0). The activations' block scales (legacy types) are converted once
 * per token block into a table. Integer sums are exactly the portable
 * kernels'; only the float summation order differs.
 *
 * Decode (n_tok < NG_TOK) keeps the row-at-a-time vec_dot path: it streams
 * the packed rows once per token, which is what a memory-bound product wants.
 * Q2_K and Q3_K, which had only the portable vec_dot, get one here: each
 * super-block unpacked on the stack, then the one-token tile.
 * The workspace (1 byte per column plus tables) comes from malloc once per
 * call; if that fails the call falls back to the vec_dot loop.
 */
#ifndef MONO_KERNELS_QUANT_NEON_GEMM_H
#define MONO_KERNELS_QUANT_NEON_GEMM_H

#include <stdlib.h>

#define NG_TOK 4        /* tokens per register tile (the legacy tile's reduction assumes 4) */
#define NG_TB 64        /* tokens per block (a multiple of 4): their scale table and rows stay in cache */
#define NG_MAX_COLS (1 << 22) /* larger rows (none in practice) take the vec_dot loop */

/* One unpacked K-quant super-block besides its 256 weight bytes:
 * sum = d * sum_g sc[g] * dot(q_g, y_g) - dmin * sum_g mn[g] * bsums[g]. */
typedef struct ng_ksb {
    int32_t sc[16]; /* scale per 16 weights (Q4_K/Q5_K: each sub-block's twice) */
    int16_t mn[16]; /* min per 16 weights, 0 if the type has none */
    float d, dmin;
} ng_ksb;

typedef struct ng_work {
    int8_t *q;            /* the row's n weights as signed bytes */
    float *dw, *mw;       /* legacy: per block weight scale and min (Q4_1/Q5_1) */
    ng_ksb *ks;           /* K-quants: per super-block */
    float *dx, *sx;       /* legacy: activation scale, Q8_1 sum of token t, block b at
                           * ((t / 4) * nb + b) * 4 + t % 4 (four tokens side by side) */
} ng_work;

static int ng_is_k(int type) { return mono_type_get(type)->block_size == QK_K; }
static int ng_has_min(int type) {
    return type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1 || type == MONO_TYPE_Q2_K || type == MONO_TYPE_Q4_K ||
           type == MONO_TYPE_Q5_K;
}

/* One allocation for everything (NULL on failure); free(*base) after. */
static int ng_work_alloc(ng_work *wk, void **base, int type, int64_t n) {
    const int64_t nb = n / QK, nsb = n / QK_K;
    size_t q = (size_t)n, legacy = (size_t)nb * sizeof(float) * (2 + 2 * NG_TB);
    size_t k = (size_t)nsb * sizeof(ng_ksb);
    uint8_t *p = malloc(q + (ng_is_k(type) ? k : legacy) + 16);
    *base = p;
    if (!p) return 0;
    wk->q = (int8_t *)p;
    p += q; /* n is a multiple of 32: the tables stay aligned */
    wk->ks = (ng_ksb *)(void *)p;
    wk->dw = (float *)(void *)p;
    wk->mw = wk->dw + nb;
    wk->dx = wk->mw + nb;
    wk->sx = wk->dx + (size_t)nb * NG_TB;
    return 1;
}

/* ------------------------------------------------------------ unpacking */

static void ng_unpack_legacy(int type, const uint8_t *row, int64_t nb, ng_work *wk) {
    const size_t bb = mono_type_get(type)->block_bytes;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = row + (size_t)b * bb;
        uint16_t d, m = 0;
        int8x16_t lo, hi;
        memcpy(&d, blk, 2);
        switch (type) {
        case MONO_TYPE_Q8_0: lo = vld1q_s8((const int8_t *)blk + 2); hi = vld1q_s8((const int8_t *)blk + 18); break;
        case MONO_TYPE_Q4_0: unpack_45(blk + 2, NULL, 8, &lo, &hi); break;
        case MONO_TYPE_Q5_0: unpack_45(blk + 6, blk + 2, 16, &lo, &hi); break;
        case MONO_TYPE_Q4_1: unpack_45(blk + 4, NULL, 0, &lo, &hi); memcpy(&m, blk + 2, 2); break;
        default: /* Q5_1 */ unpack_45(blk + 8, blk + 4, 0, &lo, &hi); memcpy(&m, blk + 2, 2); break;
        }
        vst1q_s8(wk->q + 32 * b, lo);
        vst1q_s8(wk->q + 32 * b + 16, hi);
        wk->dw[b] = h2f(d);
        wk->mw[b] = h2f(m);
    }
}

static void ng_unpack_k(int type, const uint8_t *row, int64_t nsb, ng_work *wk) {
    const size_t bb = mono_type_get(type)->block_bytes;
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m3 = vdupq_n_u8(3), one = vdupq_n_u8(1);
    for (int64_t i = 0; i < nsb; i++) {
        const uint8_t *blk = row + (size_t)i * bb;
        ng_ksb *o = &wk->ks[i];
        int8_t *dst = wk->q + 256 * i; /* group g (16 weights) at dst + 16g */
        memset(o->mn, 0, sizeof o->mn);
        o->dmin = 0;
        if (type == MONO_TYPE_Q4_K || type == MONO_TYPE_Q5_K) {
            /* group 4j, 4j+1: low nibbles of qs[32j..], 4j+2, 4j+3: high; sub-block g/2 */
            const int five = type == MONO_TYPE_Q5_K;
            const uint8_t *qs = blk + 16 + (five ? 32 : 0), *qh = blk + 16;
            uint16_t dh, mh;
            uint8_t s8[8], mn8[8];
            memcpy(&dh, blk, 2);
            memcpy(&mh, blk + 2, 2);
            o->d = h2f(dh);
            o->dmin = h2f(mh);
            mono_q4k_unpack_scales(blk + 4, s8, mn8);
            for (int g = 0; g < 16; g++) { o->sc[g] = s8[g / 2]; o->mn[g] = mn8[g / 2]; }
            for (int j = 0; j < 4; j++)
                for (int hf = 0; hf < 2; hf++) {
                    uint8x16_t q = vld1q_u8(qs + 32 * j + 16 * hf);
                    uint8x16_t l = vandq_u8(q, m4), h = vshrq_n_u8(q, 4);
                    if (five) {
                        uint8x16_t b = vld1q_u8(qh + 16 * hf);
                        l = vorrq_u8(l, vshlq_n_u8(vandq_u8(shr_u8(b, 2 * j), one), 4));
                        h = vorrq_u8(h, vshlq_n_u8(vandq_u8(shr_u8(b, 2 * j + 1), one), 4));
                    }
                    vst1q_u8((uint8_t *)dst + 16 * (4 * j + hf), l);
                    vst1q_u8((uint8_t *)dst + 16 * (4 * j + 2 + hf), h);
                }
        } else if (type == MONO_TYPE_Q6_K) {
            const mono_block_q6_K *b = (const mono_block_q6_K *)(const void *)blk;
            uint16_t dh;
            memcpy(&dh, &b->d, 2);
            o->d = h2f(dh);
            for (int g = 0; g < 16; g++) o->sc[g] = b->scales[g];
            for (int h = 0; h < 2; h++) {
                const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
                uint8x16_t l[4] = {vld1q_u8(ql), vld1q_u8(ql + 16), vld1q_u8(ql + 32), vld1q_u8(ql + 48)};
                uint8x16_t hb[2] = {vld1q_u8(qh), vld1q_u8(qh + 16)};
                for (int k = 0; k < 4; k++)
                    for (int s = 0; s < 2; s++)
                        vst1q_s8(dst + 16 * (8 * h + 2 * k + s), q6_16(l[2 * (k & 1) + s], hb[s], k >= 2, 2 * k));
            }
        } else if (type == MONO_TYPE_Q2_K) {
            /* group 8h + 2s + k: (qs[32h + 16k + l] >> 2s) & 3, scale low nibble, min high */
            const mono_block_q2_K *b = (const mono_block_q2_K *)(const void *)blk;
            uint16_t dh, mh;
            memcpy(&dh, &b->d, 2);
            memcpy(&mh, &b->dmin, 2);
            o->d = h2f(dh);
            o->dmin = h2f(mh);
            for (int g = 0; g < 16; g++) { o->sc[g] = b->scales[g] & 0xF; o->mn[g] = b->scales[g] >> 4; }
            for (int h = 0; h < 2; h++)
                for (int k = 0; k < 2; k++) {
                    uint8x16_t q = vld1q_u8(b->qs + 32 * h + 16 * k);
                    for (int s = 0; s < 4; s++)
                        vst1q_u8((uint8_t *)dst + 16 * (8 * h + 2 * s + k), vandq_u8(shr_u8(q, 2 * s), m3));
                }
        } else { /* Q3_K: low 2 bits minus 4 where the hmask bit (4h + s) is clear */
            const mono_block_q3_K *b = (const mono_block_q3_K *)(const void *)blk;
            uint16_t dh;
            int8_t s8[16];
            memcpy(&dh, &b->d, 2);
            o->d = h2f(dh);
            mono_q3k_unpack_scales(b->scales, s8);
            for (int g = 0; g < 16; g++) o->sc[g] = s8[g];
            for (int k = 0; k < 2; k++) {
                uint8x16_t hm = vld1q_u8(b->hmask + 16 * k);
                for (int h = 0; h < 2; h++) {
                    uint8x16_t q = vld1q_u8(b->qs + 32 * h + 16 * k);
                    for (int s = 0; s < 4; s++) {
                        uint8x16_t lo2 = vandq_u8(shr_u8(q, 2 * s), m3);
                        uint8x16_t set = vtstq_u8(hm, vdupq_n_u8((uint8_t)(1u << (4 * h + s))));
                        uint8x16_t q3 = vsubq_u8(lo2, vbicq_u8(vdupq_n_u8(4), set));
                        vst1q_u8((uint8_t *)dst + 16 * (8 * h + 2 * s + k), q3);
                    }
                }
            }
        }
    }
}

/* Activation scales (and Q8_1 sums) of tokens [0, nt) as floats. */
static void ng_token_table(int has_min, int64_t nb, const uint8_t *x, size_t xrb, int64_t nt, ng_work *wk) {
    const size_t xb = has_min ? sizeof(mono_block_q8_1) : sizeof(mono_block_q8_0);
    for (int64_t t = 0; t < nt; t++)
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = x + (size_t)t * xrb + (size_t)b * xb;
            uint16_t h;
            memcpy(&h, blk, 2);
            const size_t at = (size_t)((t / 4) * nb + b) * 4 + (size_t)(t % 4);
            wk->dx[at] = h2f(h);
            if (has_min) { memcpy(&h, blk + 2, 2); wk->sx[at] = h2f(h); }
        }
}

/* -------------------------------------------------------- the products */

/* Four tokens against one unpacked legacy row; y[t] points at the token's
 * row of Q8_0/Q8_1 blocks, dx4/sx4 at the tokens' [block][4] table. The
 * four block sums are reduced together (two rounds of vpaddq) so that the
 * block's float work -- convert, scale, fmla, the Q8_1 min term -- is one
 * vector op each for all four tokens, whose results end up in the lanes. */
static ALWAYS_INLINE void ng_legacy_tile4(int64_t nb, const ng_work *wk, int has_min, const uint8_t *const *y,
                                          const float *dx4, const float *sx4, float *res, const int small) {
    const size_t xb = has_min ? sizeof(mono_block_q8_1) : sizeof(mono_block_q8_0), xq = has_min ? 4 : 2;
    float32x4_t acc = vdupq_n_f32(0);
    for (int64_t b = 0; b < nb; b++) {
        const int8x16_t w0 = vld1q_s8(wk->q + 32 * b), w1 = vld1q_s8(wk->q + 32 * b + 16);
        int32x4_t s[4];
        for (int t = 0; t < 4; t++) {
            const int8_t *yy = (const int8_t *)(y[t] + (size_t)b * xb + xq);
            s[t] = small ? dot16_small(dot16_small(vdupq_n_s32(0), w0, vld1q_s8(yy)), w1, vld1q_s8(yy + 16))
                         : dot16(dot16(vdupq_n_s32(0), w0, vld1q_s8(yy)), w1, vld1q_s8(yy + 16));
        }
        int32x4_t tot = vpaddq_s32(vpaddq_s32(s[0], s[1]), vpaddq_s32(s[2], s[3]));
        acc = vmlaq_f32(acc, vcvtq_f32_s32(tot), vmulq_n_f32(vld1q_f32(dx4 + 4 * b), wk->dw[b]));
        if (has_min) acc = vmlaq_n_f32(acc, vld1q_f32(sx4 + 4 * b), wk->mw[b]);
    }
    vst1q_f32(res, acc);
}

/* One token against one unpacked legacy row (token tails); its table
 * entries are 4 floats apart. */
static ALWAYS_INLINE void ng_legacy_tile1(int64_t nb, const ng_work *wk, int has_min, const uint8_t *y, const float *dx,
                                          const float *sx, float *res, const int small) {
    const size_t xb = has_min ? sizeof(mono_block_q8_1) : sizeof(mono_block_q8_0), xq = has_min ? 4 : 2;
    float32x4_t acc = vdupq_n_f32(0);
    float m = 0;
    for (int64_t b = 0; b < nb; b++) {
        const int8x16_t w0 = vld1q_s8(wk->q + 32 * b), w1 = vld1q_s8(wk->q + 32 * b + 16);
        const int8_t *yy = (const int8_t *)(y + (size_t)b * xb + xq);
        int32x4_t v = small ? dot16_small(dot16_small(vdupq_n_s32(0), w0, vld1q_s8(yy)), w1, vld1q_s8(yy + 16))
                            : dot16(dot16(vdupq_n_s32(0), w0, vld1q_s8(yy)), w1, vld1q_s8(yy + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(v), wk->dw[b] * dx[4 * b]);
        if (has_min) m += wk->mw[b] * sx[4 * b];
    }
    *res = vaddvq_f32(acc) + m;
}

/* NT tokens (literal) against one unpacked K-quant row of nsb super-blocks.
 * pairs (Q4_K/Q5_K, literal): groups 2p and 2p+1 share a scale, so 32
 * weights are one dot and one multiply-add. Two accumulators per token
 * (even and odd steps) halve the multiply-add dependency chains. */
static ALWAYS_INLINE void ng_k_tile(int64_t nsb, const ng_work *wk, int has_min, const uint8_t *const *y, float *res,
                                    const int NT, const int pairs) {
    float32x4_t acc[NG_TOK];
    for (int t = 0; t < NT; t++) acc[t] = vdupq_n_f32(0);
    for (int64_t i = 0; i < nsb; i++) {
        const int8_t *w = wk->q + 256 * i;
        const ng_ksb *k = &wk->ks[i];
        const mono_block_q8_K *yb[NG_TOK];
        int32x4_t is[2][NG_TOK];
        for (int t = 0; t < NT; t++) {
            yb[t] = (const mono_block_q8_K *)(const void *)y[t] + i;
            is[0][t] = is[1][t] = vdupq_n_s32(0);
        }
        if (pairs) {
            for (int p = 0; p < 8; p++) {
                const int8x16_t w0 = vld1q_s8(w + 32 * p), w1 = vld1q_s8(w + 32 * p + 16);
                const int32_t sc = k->sc[2 * p];
                for (int t = 0; t < NT; t++) {
                    const int8_t *yy = yb[t]->qs + 32 * p;
                    int32x4_t d = dot16_small(dot16_small(vdupq_n_s32(0), w0, vld1q_s8(yy)), w1, vld1q_s8(yy + 16));
                    is[p & 1][t] = vmlaq_n_s32(is[p & 1][t], d, sc);
                }
            }
        } else {
            for (int g = 0; g < 16; g++) {
                const int8x16_t wv = vld1q_s8(w + 16 * g);
                const int32_t sc = k->sc[g];
                for (int t = 0; t < NT; t++) {
                    int32x4_t d = dot16_small(vdupq_n_s32(0), wv, vld1q_s8(yb[t]->qs + 16 * g));
                    is[g & 1][t] = vmlaq_n_s32(is[g & 1][t], d, sc);
                }
            }
        }
        for (int t = 0; t < NT; t++) {
            const float dy = yb[t]->d;
            acc[t] = vmlaq_n_f32(acc[t], vcvtq_f32_s32(vaddq_s32(is[0][t], is[1][t])), dy * k->d);
            if (has_min) {
                int32x4_t ms = vmull_s16(vld1_s16(k->mn), vld1_s16(yb[t]->bsums));
                ms = vmlal_s16(ms, vld1_s16(k->mn + 4), vld1_s16(yb[t]->bsums + 4));
                ms = vmlal_s16(ms, vld1_s16(k->mn + 8), vld1_s16(yb[t]->bsums + 8));
                ms = vmlal_s16(ms, vld1_s16(k->mn + 12), vld1_s16(yb[t]->bsums + 12));
                acc[t] = vmlsq_n_f32(acc[t], vcvtq_f32_s32(ms), dy * k->dmin);
            }
        }
    }
    for (int t = 0; t < NT; t++) res[t] = vaddvq_f32(acc[t]);
}

/* One row (already unpacked) against tokens [0, nt) of the block; the
 * literal flags below give each case its own inlined copy of the tile. */
static void ng_row_tokens(int type, int64_t n, const ng_work *wk, const uint8_t *x, size_t xrb, int64_t nt, float *out,
                          size_t os) {
    const int64_t nb = n / QK, nsb = n / QK_K;
    const int is_k = ng_is_k(type), has_min = ng_has_min(type);
    const int pairs = type == MONO_TYPE_Q4_K || type == MONO_TYPE_Q5_K;
    const int small = type != MONO_TYPE_Q8_0;
    for (int64_t t0 = 0; t0 < nt; t0 += NG_TOK) {
        const int m = nt - t0 < NG_TOK ? (int)(nt - t0) : NG_TOK;
        const uint8_t *y[NG_TOK];
        float res[NG_TOK];
        for (int t = 0; t < m; t++) y[t] = x + (size_t)(t0 + t) * xrb;
        if (is_k) {
            if (m == NG_TOK && pairs) ng_k_tile(nsb, wk, has_min, y, res, NG_TOK, 1);
            else if (m == NG_TOK) ng_k_tile(nsb, wk, has_min, y, res, NG_TOK, 0);
            else for (int t = 0; t < m; t++) ng_k_tile(nsb, wk, has_min, y + t, res + t, 1, 0);
        } else {
            const float *dx4 = wk->dx + (size_t)(t0 / 4 * nb) * 4, *sx4 = wk->sx + (size_t)(t0 / 4 * nb) * 4;
            if (m == NG_TOK && small) ng_legacy_tile4(nb, wk, has_min, y, dx4, sx4, res, 1);
            else if (m == NG_TOK) ng_legacy_tile4(nb, wk, has_min, y, dx4, sx4, res, 0);
            else for (int t = 0; t < m; t++) ng_legacy_tile1(nb, wk, has_min, y[t], dx4 + t, sx4 + t, res + t, small);
        }
        for (int t = 0; t < m; t++) out[(size_t)(t0 + t) * os] = res[t];
    }
}

/* The gemm of every type (see mono_gemm_fn in kernels.h). */
static void ng_gemm(int type, mono_vec_dot_fn dot, int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1,
                    const void *x, size_t xrb, int64_t n_tok, float *out, size_t os) {
    void *base = NULL;
    ng_work wk;
    if (n_tok < NG_TOK || n <= 0 || n > NG_MAX_COLS || !ng_work_alloc(&wk, &base, type, n)) {
        mono_gemm_by_vec_dot(dot, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
        return;
    }
    const int is_k = ng_is_k(type), has_min = ng_has_min(type);
    for (int64_t t0 = 0; t0 < n_tok; t0 += NG_TB) {
        const int64_t nt = n_tok - t0 < NG_TB ? n_tok - t0 : NG_TB;
        const uint8_t *xt = (const uint8_t *)x + (size_t)t0 * xrb;
        if (!is_k) ng_token_table(has_min, n / QK, xt, xrb, nt, &wk);
        for (int64_t r = r0; r < r1; r++) {
            const uint8_t *row = (const uint8_t *)w + (size_t)r * wrb;
            if (is_k) ng_unpack_k(type, row, n / QK_K, &wk);
            else ng_unpack_legacy(type, row, n / QK, &wk);
            ng_row_tokens(type, n, &wk, xt, xrb, nt, out + (size_t)t0 * os + (size_t)r, os);
        }
    }
    free(base);
}

/* Q2_K/Q3_K vec_dot (decode) from the same pieces: each super-block
 * unpacked into a local block of bytes, then one token against it. */
static ALWAYS_INLINE void ng_dot_k_unpacked(int type, int64_t n, float *out, const void *w, const void *x) {
    int8_t q[QK_K];
    ng_ksb ks;
    ng_work wk;
    memset(&wk, 0, sizeof wk);
    wk.q = q;
    wk.ks = &ks;
    const size_t bb = mono_type_get(type)->block_bytes;
    const int has_min = ng_has_min(type);
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *y = (const uint8_t *)x + (size_t)i * sizeof(mono_block_q8_K);
        float r;
        ng_unpack_k(type, (const uint8_t *)w + (size_t)i * bb, 1, &wk);
        ng_k_tile(1, &wk, has_min, &y, &r, 1, 0);
        sum += r;
    }
    *out = sum;
}
static void vec_dot_q2_K(int64_t n, float *out, const void *w, const void *x) {
    ng_dot_k_unpacked(MONO_TYPE_Q2_K, n, out, w, x);
}
static void vec_dot_q3_K(int64_t n, float *out, const void *w, const void *x) {
    ng_dot_k_unpacked(MONO_TYPE_Q3_K, n, out, w, x);
}

/* Decode goes to this file's vec_dot. */
#define NG_GEMM(T, tname, dot)                                                                                \
    static void gemm_##tname(int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x,   \
                             size_t xrb, int64_t n_tok, float *out, size_t os) {                              \
        ng_gemm(MONO_TYPE_##T, dot, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);                               \
    }
NG_GEMM(Q8_0, q8_0, vec_dot_q8_0)
NG_GEMM(Q4_0, q4_0, vec_dot_q4_0)
NG_GEMM(Q5_0, q5_0, vec_dot_q5_0)
NG_GEMM(Q4_1, q4_1, vec_dot_q4_1)
NG_GEMM(Q5_1, q5_1, vec_dot_q5_1)
NG_GEMM(Q4_K, q4_K, vec_dot_q4_K)
NG_GEMM(Q5_K, q5_K, vec_dot_q5_K)
NG_GEMM(Q6_K, q6_K, vec_dot_q6_K)
NG_GEMM(Q2_K, q2_K, vec_dot_q2_K)
NG_GEMM(Q3_K, q3_K, vec_dot_q3_K)
#undef NG_GEMM

#endif
