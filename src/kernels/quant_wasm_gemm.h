/*
 * quant_wasm_gemm.h -- blocked matrix products (prefill, mono_gemm_fn) of
 * the quantized types for WebAssembly SIMD128; included by quant_wasm.c
 * after its vec_dot kernels, whose helpers (h2f, unpack_45, q6_16) it uses.
 *
 * A vec_dot per (row, token) redoes per token what depends only on the row:
 * the bit twiddling that turns packed quants into bytes, two half-to-float
 * conversions per block (~10 scalar ops each in wasm) and, for K-quants, the
 * scale unpacking. Here each weight row is unpacked once per block of
 * WG_TB tokens into a plain int16 row, and WG_TOK tokens at a time are
 * multiplied against it:
 *   - weights are int16 so that one i32x4.dot_i16x8_s (x86 pmaddwd) does 8
 *     products, against the activation's int8 widened by its load
 *     (i16x8.load8x8_s, x86 pmovsxbw): 3 ops per 8 products and token, where
 *     the int8 route of vec_dot needs 5 per 16 plus the unpacking;
 *   - K-quant group scales are multiplied into the int16 weights (|sc*q| <=
 *     4096, Q6_K's hostile -128 * -32), so a super-block is one integer sum
 *     per token; mins act through the activation's bsums (one i16 dot);
 *   - the activations' block scales (legacy types) are converted once per
 *     token block into a table.
 * Integer sums are exactly the portable kernels' (same products; no i16
 * accumulation anywhere); only the float summation order differs.
 *
 * Decode (n_tok < WG_TOK) keeps the row-at-a-time vec_dot path: it streams
 * the packed rows once per token, which is what a memory-bound product wants.
 * Q2_K and Q3_K, which had only the portable vec_dot, get one here: each
 * super-block unpacked on the stack, then the one-token tile.
 * The workspace (2 bytes per column plus tables) comes from malloc once per
 * call; if that fails the call falls back to the vec_dot loop.
 */
#ifndef MONO_KERNELS_QUANT_WASM_GEMM_H
#define MONO_KERNELS_QUANT_WASM_GEMM_H

#include <stdlib.h>

#define WG_TOK 4        /* tokens per register tile (16 xmm registers on x86 V8; 2, 6, 8 measured: no better) */
#define WG_TB 64        /* tokens per block (a multiple of 4): their scale table and rows stay in cache */
#define WG_MAX_COLS (1 << 22) /* larger rows (none in practice) take the vec_dot loop */
/* V8 tiers a function up only on its next call (no on-stack replacement):
 * the per-row work stays in functions of its own, called once per row, so
 * that even the first large product runs optimized code after a few rows. */
#define WG_NOINLINE __attribute__((noinline))

/* One unpacked K-quant super-block besides its 256 int16 weights:
 * sum = d * sum(w16 * y) - dmin * sum(mn[g] * bsums[g]). */
typedef struct wg_ksb {
    int16_t mn[16]; /* min per 16 weights (Q4_K/Q5_K: each sub-block's twice), 0 if none */
    float d, dmin;
} wg_ksb;

typedef struct wg_work {
    int16_t *q;           /* the row's n weights (K-quants: times their group scale) */
    float *dw, *mw;       /* legacy: per block weight scale and min (Q4_1/Q5_1) */
    wg_ksb *ks;           /* K-quants: per super-block */
    float *dx, *sx;       /* legacy: activation scale, Q8_1 sum of token t, block b at
                           * ((t / 4) * nb + b) * 4 + t % 4 (four tokens side by side) */
} wg_work;

static int wg_is_k(int type) { return mono_type_get(type)->block_size == QK_K; }
static int wg_has_min(int type) {
    return type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1 || type == MONO_TYPE_Q2_K || type == MONO_TYPE_Q4_K ||
           type == MONO_TYPE_Q5_K;
}

/* One allocation for everything (NULL on failure); free(*base) after. */
static int wg_work_alloc(wg_work *wk, void **base, int type, int64_t n) {
    const int64_t nb = n / QK, nsb = n / QK_K;
    size_t q = (size_t)n * sizeof(int16_t), legacy = (size_t)nb * sizeof(float) * (2 + 2 * WG_TB);
    size_t k = (size_t)nsb * sizeof(wg_ksb);
    uint8_t *p = malloc(q + (wg_is_k(type) ? k : legacy) + 16);
    *base = p;
    if (!p) return 0;
    wk->q = (int16_t *)(void *)p;
    p += q;
    wk->ks = (wg_ksb *)(void *)p;
    wk->dw = (float *)(void *)p;
    wk->mw = wk->dw + nb;
    wk->dx = wk->mw + nb;
    wk->sx = wk->dx + (size_t)nb * WG_TB;
    return 1;
}

/* ------------------------------------------------------------ unpacking */

static ALWAYS_INLINE void wg_store16(int16_t *dst, v128_t lo, v128_t hi) {
    wasm_v128_store(dst, wasm_i16x8_extend_low_i8x16(lo));
    wasm_v128_store(dst + 8, wasm_i16x8_extend_high_i8x16(lo));
    wasm_v128_store(dst + 16, wasm_i16x8_extend_low_i8x16(hi));
    wasm_v128_store(dst + 24, wasm_i16x8_extend_high_i8x16(hi));
}

static WG_NOINLINE void wg_unpack_legacy(int type, const uint8_t *row, int64_t nb, wg_work *wk) {
    const size_t bb = mono_type_get(type)->block_bytes;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = row + (size_t)b * bb;
        uint16_t d, m = 0;
        v128_t lo, hi;
        memcpy(&d, blk, 2);
        switch (type) {
        case MONO_TYPE_Q8_0: lo = wasm_v128_load(blk + 2); hi = wasm_v128_load(blk + 18); break;
        case MONO_TYPE_Q4_0: unpack_45(blk + 2, NULL, 8, &lo, &hi); break;
        case MONO_TYPE_Q5_0: unpack_45(blk + 6, blk + 2, 16, &lo, &hi); break;
        case MONO_TYPE_Q4_1: unpack_45(blk + 4, NULL, 0, &lo, &hi); memcpy(&m, blk + 2, 2); break;
        default: /* Q5_1 */ unpack_45(blk + 8, blk + 4, 0, &lo, &hi); memcpy(&m, blk + 2, 2); break;
        }
        wg_store16(wk->q + 32 * b, lo, hi);
        wk->dw[b] = h2f(d);
        wk->mw[b] = h2f(m);
    }
}

/* Super-block weights given as 16 groups of 16 int8 values: times sc[g]. */
static ALWAYS_INLINE void wg_fold(int16_t *dst, const v128_t *g16, const int16_t *sc) {
    for (int g = 0; g < 16; g++) {
        v128_t s = wasm_i16x8_splat(sc[g]);
        wasm_v128_store(dst + 16 * g, wasm_i16x8_mul(wasm_i16x8_extend_low_i8x16(g16[g]), s));
        wasm_v128_store(dst + 16 * g + 8, wasm_i16x8_mul(wasm_i16x8_extend_high_i8x16(g16[g]), s));
    }
}

static WG_NOINLINE void wg_unpack_k(int type, const uint8_t *row, int64_t nsb, wg_work *wk) {
    const size_t bb = mono_type_get(type)->block_bytes;
    const v128_t m4 = wasm_i8x16_splat(0x0F), m3 = wasm_i8x16_splat(3), b16 = wasm_i8x16_splat(0x10);
    for (int64_t i = 0; i < nsb; i++) {
        const uint8_t *blk = row + (size_t)i * bb;
        wg_ksb *o = &wk->ks[i];
        v128_t g16[16];
        int16_t sc[16];
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
            for (int g = 0; g < 16; g++) { sc[g] = s8[g / 2]; o->mn[g] = mn8[g / 2]; }
            for (int j = 0; j < 4; j++)
                for (int hf = 0; hf < 2; hf++) {
                    v128_t q = wasm_v128_load(qs + 32 * j + 16 * hf);
                    v128_t l = wasm_v128_and(q, m4), h = wasm_u8x16_shr(q, 4);
                    if (five) { /* bit tests: wasm has no 8-bit shifts on x86, V8 emulates them */
                        v128_t b = wasm_v128_load(qh + 16 * hf);
                        v128_t bl = wasm_i8x16_splat((int8_t)(1 << (2 * j)));
                        v128_t bh = wasm_i8x16_splat((int8_t)(2 << (2 * j)));
                        l = wasm_v128_or(l, wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(b, bl), bl), b16));
                        h = wasm_v128_or(h, wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(b, bh), bh), b16));
                    }
                    g16[4 * j + hf] = l;
                    g16[4 * j + 2 + hf] = h;
                }
        } else if (type == MONO_TYPE_Q6_K) {
            const mono_block_q6_K *b = (const mono_block_q6_K *)(const void *)blk;
            uint16_t dh;
            memcpy(&dh, &b->d, 2);
            o->d = h2f(dh);
            for (int g = 0; g < 16; g++) sc[g] = b->scales[g];
            for (int h = 0; h < 2; h++) {
                const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
                v128_t l[4] = {wasm_v128_load(ql), wasm_v128_load(ql + 16), wasm_v128_load(ql + 32),
                               wasm_v128_load(ql + 48)};
                v128_t hb[2] = {wasm_v128_load(qh), wasm_v128_load(qh + 16)};
                for (int k = 0; k < 4; k++)
                    for (int s = 0; s < 2; s++)
                        g16[8 * h + 2 * k + s] = q6_16(l[2 * (k & 1) + s], hb[s], k >= 2, 2 * k);
            }
        } else if (type == MONO_TYPE_Q2_K) {
            /* group 8h + 2s + k: (qs[32h + 16k + l] >> 2s) & 3, scale low nibble, min high */
            const mono_block_q2_K *b = (const mono_block_q2_K *)(const void *)blk;
            uint16_t dh, mh;
            memcpy(&dh, &b->d, 2);
            memcpy(&mh, &b->dmin, 2);
            o->d = h2f(dh);
            o->dmin = h2f(mh);
            for (int g = 0; g < 16; g++) { sc[g] = b->scales[g] & 0xF; o->mn[g] = b->scales[g] >> 4; }
            for (int h = 0; h < 2; h++)
                for (int k = 0; k < 2; k++) {
                    v128_t q = wasm_v128_load(b->qs + 32 * h + 16 * k);
                    for (int s = 0; s < 4; s++) g16[8 * h + 2 * s + k] = wasm_v128_and(wasm_u8x16_shr(q, 2 * s), m3);
                }
        } else { /* Q3_K: low 2 bits minus 4 where the hmask bit (4h + s) is clear */
            const mono_block_q3_K *b = (const mono_block_q3_K *)(const void *)blk;
            uint16_t dh;
            int8_t s8[16];
            memcpy(&dh, &b->d, 2);
            o->d = h2f(dh);
            mono_q3k_unpack_scales(b->scales, s8);
            for (int g = 0; g < 16; g++) sc[g] = s8[g];
            for (int k = 0; k < 2; k++) {
                v128_t hm = wasm_v128_load(b->hmask + 16 * k);
                for (int h = 0; h < 2; h++) {
                    v128_t q = wasm_v128_load(b->qs + 32 * h + 16 * k);
                    for (int s = 0; s < 4; s++) {
                        v128_t lo2 = wasm_v128_and(wasm_u8x16_shr(q, 2 * s), m3);
                        v128_t clear = wasm_i8x16_eq(wasm_v128_and(hm, wasm_i8x16_splat((int8_t)(1 << (4 * h + s)))),
                                                     wasm_i8x16_splat(0));
                        g16[8 * h + 2 * s + k] = wasm_i8x16_sub(lo2, wasm_v128_and(clear, wasm_i8x16_splat(4)));
                    }
                }
            }
        }
        wg_fold(wk->q + 256 * i, g16, sc);
    }
}

/* Activation scales (and Q8_1 sums) of tokens [0, nt) as floats. */
static void wg_token_table(int has_min, int64_t nb, const uint8_t *x, size_t xrb, int64_t nt, wg_work *wk) {
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

/* 8 int16 weights against 8 int8 activations of each of NT tokens. */
#define WG_DOT8(acc, w, y, off) \
    wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(w, wasm_i16x8_load8x8((const int8_t *)(y) + (off))))

/* Four tokens against one unpacked legacy row; y[t] points at the token's
 * row of Q8_0/Q8_1 blocks, dx4/sx4 at the tokens' [block][4] table. The
 * four tokens' block sums are reduced together (a 4x4 transpose-add: six
 * shuffles that are single x86 unpacks) so that the block's float work --
 * convert, scale, add, and the Q8_1 min term -- is one vector op each for
 * all four tokens, whose results end up in the accumulator's lanes. */
static void wg_legacy_tile4(int64_t nb, const wg_work *wk, int has_min, const uint8_t *const *y, const float *dx4,
                            const float *sx4, float *res) {
    const size_t xb = has_min ? sizeof(mono_block_q8_1) : sizeof(mono_block_q8_0), xq = has_min ? 4 : 2;
    v128_t acc = wasm_f32x4_splat(0);
    for (int64_t b = 0; b < nb; b++) {
        const int16_t *w = wk->q + 32 * b;
        const v128_t w0 = wasm_v128_load(w), w1 = wasm_v128_load(w + 8), w2 = wasm_v128_load(w + 16),
                     w3 = wasm_v128_load(w + 24);
        v128_t s[4];
        for (int t = 0; t < 4; t++) {
            const uint8_t *yy = y[t] + (size_t)b * xb + xq;
            v128_t v = wasm_i32x4_dot_i16x8(w0, wasm_i16x8_load8x8((const int8_t *)yy));
            v = WG_DOT8(v, w1, yy, 8);
            v = WG_DOT8(v, w2, yy, 16);
            s[t] = WG_DOT8(v, w3, yy, 24);
        }
        v128_t u01 = wasm_i32x4_add(wasm_i32x4_shuffle(s[0], s[1], 0, 4, 1, 5),
                                    wasm_i32x4_shuffle(s[0], s[1], 2, 6, 3, 7));
        v128_t u23 = wasm_i32x4_add(wasm_i32x4_shuffle(s[2], s[3], 0, 4, 1, 5),
                                    wasm_i32x4_shuffle(s[2], s[3], 2, 6, 3, 7));
        v128_t tot = wasm_i32x4_add(wasm_i64x2_shuffle(u01, u23, 0, 2), wasm_i64x2_shuffle(u01, u23, 1, 3));
        v128_t sc = wasm_f32x4_mul(wasm_f32x4_splat(wk->dw[b]), wasm_v128_load(dx4 + 4 * b));
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(tot), sc));
        if (has_min)
            acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_splat(wk->mw[b]), wasm_v128_load(sx4 + 4 * b)));
    }
    wasm_v128_store(res, acc);
}

/* One token against one unpacked legacy row (token tails); its table
 * entries are 4 floats apart. */
static void wg_legacy_tile1(int64_t nb, const wg_work *wk, int has_min, const uint8_t *y, const float *dx,
                            const float *sx, float *res) {
    const size_t xb = has_min ? sizeof(mono_block_q8_1) : sizeof(mono_block_q8_0), xq = has_min ? 4 : 2;
    v128_t acc = wasm_f32x4_splat(0);
    float m = 0;
    for (int64_t b = 0; b < nb; b++) {
        const int16_t *w = wk->q + 32 * b;
        const uint8_t *yy = y + (size_t)b * xb + xq;
        v128_t v = wasm_i32x4_dot_i16x8(wasm_v128_load(w), wasm_i16x8_load8x8((const int8_t *)yy));
        v = WG_DOT8(v, wasm_v128_load(w + 8), yy, 8);
        v = WG_DOT8(v, wasm_v128_load(w + 16), yy, 16);
        v = WG_DOT8(v, wasm_v128_load(w + 24), yy, 24);
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(v), wasm_f32x4_splat(wk->dw[b] * dx[4 * b])));
        if (has_min) m += wk->mw[b] * sx[4 * b];
    }
    *res = hsum_f32(acc) + m;
}

/* NT tokens (literal) against one unpacked K-quant row of nsb super-blocks. */
static ALWAYS_INLINE void wg_k_tile(int64_t nsb, const wg_work *wk, int has_min, const uint8_t *const *y, float *res,
                                    const int NT) {
    v128_t acc[WG_TOK];
    for (int t = 0; t < NT; t++) acc[t] = wasm_f32x4_splat(0);
    for (int64_t i = 0; i < nsb; i++) {
        const int16_t *w = wk->q + 256 * i;
        const mono_block_q8_K *yb[WG_TOK];
        v128_t is[WG_TOK];
        for (int t = 0; t < NT; t++) {
            yb[t] = (const mono_block_q8_K *)(const void *)y[t] + i;
            is[t] = wasm_i32x4_splat(0);
        }
        for (int c = 0; c < 32; c++) {
            const v128_t wv = wasm_v128_load(w + 8 * c);
            for (int t = 0; t < NT; t++) is[t] = WG_DOT8(is[t], wv, yb[t]->qs, 8 * c);
        }
        const wg_ksb *k = &wk->ks[i];
        for (int t = 0; t < NT; t++) {
            float dy;
            memcpy(&dy, &yb[t]->d, 4);
            acc[t] = wasm_f32x4_add(acc[t],
                                    wasm_f32x4_mul(wasm_f32x4_convert_i32x4(is[t]), wasm_f32x4_splat(dy * k->d)));
            if (has_min) {
                const int16_t *bs = yb[t]->bsums;
                v128_t ms = wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_v128_load(k->mn), wasm_v128_load(bs)),
                                           wasm_i32x4_dot_i16x8(wasm_v128_load(k->mn + 8), wasm_v128_load(bs + 8)));
                acc[t] = wasm_f32x4_sub(acc[t],
                                        wasm_f32x4_mul(wasm_f32x4_convert_i32x4(ms), wasm_f32x4_splat(dy * k->dmin)));
            }
        }
    }
    for (int t = 0; t < NT; t++) res[t] = hsum_f32(acc[t]);
}

/* One row (already unpacked) against tokens [0, nt) of the block. */
static WG_NOINLINE void wg_row_tokens(int is_k, int has_min, int64_t n, const wg_work *wk, const uint8_t *x, size_t xrb,
                                      int64_t nt, float *out, size_t os) {
    const int64_t nb = n / QK;
    for (int64_t t0 = 0; t0 < nt; t0 += 4) {
        const int m = nt - t0 < 4 ? (int)(nt - t0) : 4;
        const uint8_t *y[4];
        float res[4];
        for (int t = 0; t < m; t++) y[t] = x + (size_t)(t0 + t) * xrb;
        if (is_k) {
            /* a literal token count keeps the accumulators in registers */
            if (m == 4) wg_k_tile(n / QK_K, wk, has_min, y, res, 4);
            else for (int t = 0; t < m; t++) wg_k_tile(n / QK_K, wk, has_min, y + t, res + t, 1);
        } else {
            const float *dx4 = wk->dx + (size_t)(t0 / 4 * nb) * 4, *sx4 = wk->sx + (size_t)(t0 / 4 * nb) * 4;
            if (m == 4) wg_legacy_tile4(nb, wk, has_min, y, dx4, sx4, res);
            else for (int t = 0; t < m; t++) wg_legacy_tile1(nb, wk, has_min, y[t], dx4 + t, sx4 + t, res + t);
        }
        for (int t = 0; t < m; t++) out[(size_t)(t0 + t) * os] = res[t];
    }
}

/* The gemm of every type (see mono_gemm_fn in kernels.h). */
static void wg_gemm(int type, mono_vec_dot_fn dot, int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1,
                    const void *x, size_t xrb, int64_t n_tok, float *out, size_t os) {
    void *base = NULL;
    wg_work wk;
    if (n_tok < WG_TOK || n <= 0 || n > WG_MAX_COLS || !wg_work_alloc(&wk, &base, type, n)) {
        mono_gemm_by_vec_dot(dot, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
        return;
    }
    const int is_k = wg_is_k(type), has_min = wg_has_min(type);
    for (int64_t t0 = 0; t0 < n_tok; t0 += WG_TB) {
        const int64_t nt = n_tok - t0 < WG_TB ? n_tok - t0 : WG_TB;
        const uint8_t *xt = (const uint8_t *)x + (size_t)t0 * xrb;
        if (!is_k) wg_token_table(has_min, n / QK, xt, xrb, nt, &wk);
        for (int64_t r = r0; r < r1; r++) {
            const uint8_t *row = (const uint8_t *)w + (size_t)r * wrb;
            if (is_k) wg_unpack_k(type, row, n / QK_K, &wk);
            else wg_unpack_legacy(type, row, n / QK, &wk);
            wg_row_tokens(is_k, has_min, n, &wk, xt, xrb, nt, out + (size_t)t0 * os + (size_t)r, os);
        }
    }
    free(base);
}

/* Q2_K/Q3_K vec_dot (decode) from the same pieces: each super-block
 * unpacked into a local int16 block, then one token against it. */
static ALWAYS_INLINE void wg_dot_k_unpacked(int type, int64_t n, float *out, const void *w, const void *x) {
    int16_t q[QK_K];
    wg_ksb ks;
    wg_work wk;
    memset(&wk, 0, sizeof wk);
    wk.q = q;
    wk.ks = &ks;
    const size_t bb = mono_type_get(type)->block_bytes;
    const int has_min = wg_has_min(type);
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *y = (const uint8_t *)x + (size_t)i * sizeof(mono_block_q8_K);
        float r;
        wg_unpack_k(type, (const uint8_t *)w + (size_t)i * bb, 1, &wk);
        wg_k_tile(1, &wk, has_min, &y, &r, 1);
        sum += r;
    }
    *out = sum;
}
static void vec_dot_q2_K(int64_t n, float *out, const void *w, const void *x) {
    wg_dot_k_unpacked(MONO_TYPE_Q2_K, n, out, w, x);
}
static void vec_dot_q3_K(int64_t n, float *out, const void *w, const void *x) {
    wg_dot_k_unpacked(MONO_TYPE_Q3_K, n, out, w, x);
}

/* Decode goes to this file's vec_dot. (unused: a -DMONO_WASM_NO_GEMM build registers none) */
#define WG_GEMM(T, tname, dot)                                                                              \
    __attribute__((unused)) static void gemm_##tname(int64_t n, const void *w, size_t wrb, int64_t r0,    \
                                                     int64_t r1, const void *x, size_t xrb, int64_t n_tok, \
                                                     float *out, size_t os) {                              \
        wg_gemm(MONO_TYPE_##T, dot, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);                             \
    }
WG_GEMM(Q8_0, q8_0, vec_dot_q8_0)
WG_GEMM(Q4_0, q4_0, vec_dot_q4_0)
WG_GEMM(Q5_0, q5_0, vec_dot_q5_0)
WG_GEMM(Q4_1, q4_1, vec_dot_q4_1)
WG_GEMM(Q5_1, q5_1, vec_dot_q5_1)
WG_GEMM(Q4_K, q4_K, vec_dot_q4_K)
WG_GEMM(Q5_K, q5_K, vec_dot_q5_K)
WG_GEMM(Q6_K, q6_K, vec_dot_q6_K)
WG_GEMM(Q2_K, q2_K, vec_dot_q2_K)
WG_GEMM(Q3_K, q3_K, vec_dot_q3_K)
#undef WG_GEMM

#endif
