/*
 * float_avx2.c -- f32/f16/bf16 weight kernels for AVX2 + FMA + F16C.
 *
 * vec_dot (decode, memory bound): four 8-lane accumulators so loads of the
 * next 32 elements overlap the FMA latency; half weights widen with
 * vcvtph2ps, bfloat16 with a zero-extend and a 16-bit shift. Tails shorter
 * than 8 use masked loads for activations and a zero-padded copy for
 * weights, so nothing reads past either row.
 *
 * gemm (prefill, compute bound): a register tile of 3 weight rows x 4
 * tokens (12 accumulators + 3 widened weight vectors + 1 activation = 16
 * ymm registers): each weight vector is widened once and used for 4 tokens,
 * each activation vector for 3 rows. Tokens are processed in blocks sized
 * so their activations stay in L2 while every row tile sweeps them.
 */
#include <immintrin.h>
#include <string.h>

#include "kernels/float_panel.h"
#include "kernels/float_short.h"
#include "kernels/kernels.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE size_t elem_bytes(int type) { return type == MONO_TYPE_F32 ? 4 : 2; }

/* 8 weights of `type` at p, widened to f32 */
static ALWAYS_INLINE __m256 load_w8(int type, const char *p) {
    if (type == MONO_TYPE_F32) return _mm256_loadu_ps((const float *)p);
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    if (type == MONO_TYPE_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* the first m < 8 weights at p, zeros after */
static ALWAYS_INLINE __m256 load_w_tail(int type, const char *p, int64_t m) {
    char tmp[32] = {0};
    memcpy(tmp, p, (size_t)m * elem_bytes(type));
    return load_w8(type, tmp);
}

static ALWAYS_INLINE __m256i tail_mask(int64_t m) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)m), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static ALWAYS_INLINE float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static ALWAYS_INLINE void vec_dot_any(int type, int64_t n, float *out, const void *w, const void *x) {
    const char *wp = w;
    const float *xp = x;
    const size_t es = elem_bytes(type);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(load_w8(type, wp + (size_t)i * es), _mm256_loadu_ps(xp + i), a0);
        a1 = _mm256_fmadd_ps(load_w8(type, wp + (size_t)(i + 8) * es), _mm256_loadu_ps(xp + i + 8), a1);
        a2 = _mm256_fmadd_ps(load_w8(type, wp + (size_t)(i + 16) * es), _mm256_loadu_ps(xp + i + 16), a2);
        a3 = _mm256_fmadd_ps(load_w8(type, wp + (size_t)(i + 24) * es), _mm256_loadu_ps(xp + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(load_w8(type, wp + (size_t)i * es), _mm256_loadu_ps(xp + i), a0);
    if (i < n) {
        __m256 xv = _mm256_maskload_ps(xp + i, tail_mask(n - i));
        a1 = _mm256_fmadd_ps(load_w_tail(type, wp + (size_t)i * es, n - i), xv, a1);
    }
    *out = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

/* gemm calls these for one token (decode) and for leftover tokens: one
 * row at a time is a single sequential stream, which the hardware
 * prefetchers follow; a tile of several rows x 1 token interleaves short
 * row streams and measured 2.5x slower from DRAM on Zen 4. noinline keeps
 * one copy of the loop. */
#define NOINLINE __attribute__((noinline))
static NOINLINE void vec_dot_f32(int64_t n, float *out, const void *w, const void *x) { vec_dot_any(MONO_TYPE_F32, n, out, w, x); }
static NOINLINE void vec_dot_f16(int64_t n, float *out, const void *w, const void *x) { vec_dot_any(MONO_TYPE_F16, n, out, w, x); }
static NOINLINE void vec_dot_bf16(int64_t n, float *out, const void *w, const void *x) { vec_dot_any(MONO_TYPE_BF16, n, out, w, x); }

static ALWAYS_INLINE mono_vec_dot_fn vec_dot_of(int type) {
    return type == MONO_TYPE_F32 ? vec_dot_f32 : type == MONO_TYPE_F16 ? vec_dot_f16 : vec_dot_bf16;
}

#include "kernels/float_matvec.h"

#define TILE_R 3
#define TILE_T 4

/* out[t * os + r] = dot(w row r, x row t) for r < R, t < T; R and T are
 * compile-time constants at every call, so the loops unroll into
 * registers. */
static ALWAYS_INLINE void tile(int type, int R, int T, int64_t n, const char *w, size_t wrb, const char *x, size_t xrb,
                               float *out, size_t os) {
    const size_t es = elem_bytes(type);
    __m256 acc[TILE_R][TILE_T], wv[TILE_R];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) wv[r] = load_w8(type, w + (size_t)r * wrb + (size_t)i * es);
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) {
            __m256 xv = _mm256_loadu_ps((const float *)(x + (size_t)t * xrb) + i);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
    if (i < n) {
        __m256i m = tail_mask(n - i);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) wv[r] = load_w_tail(type, w + (size_t)r * wrb + (size_t)i * es, n - i);
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) {
            __m256 xv = _mm256_maskload_ps((const float *)(x + (size_t)t * xrb) + i, m);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) out[(size_t)t * os + (size_t)r] = hsum(acc[r][t]);
}

/* Activation bytes a token block may occupy so it stays in L2 (half of a
 * typical 512 KiB - 2 MiB L2, leaving room for the weight rows). */
#define X_BLOCK_BYTES (256 * 1024)

/* Short rows (attention): see float_short.h. */
/* A tile of R rows and rem < TILE_T tokens (rem a run-time value). */
static ALWAYS_INLINE void tile_rest(int type, int R, int64_t rem, int64_t n, const char *w, size_t wrb, const char *x,
                                    size_t xrb, float *out, size_t os) {
    switch (rem) {
    case 1: tile(type, R, 1, n, w, wrb, x, xrb, out, os); break;
    case 2: tile(type, R, 2, n, w, wrb, x, xrb, out, os); break;
    case 3: tile(type, R, 3, n, w, wrb, x, xrb, out, os); break;
    default: break;
    }
}

static ALWAYS_INLINE void gemm_any(int type, int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x,
                                   size_t xrb, int64_t n_tok, float *out, size_t os) {
    const char *wp = w, *xp = x;
    if (n_tok == 1) { /* decode: row after row (see vec_dot_of, float_matvec.h) */
        matvec_of(type)(n, wp, wrb, r0, r1, x, out);
        return;
    }
    int64_t tb = (int64_t)(X_BLOCK_BYTES / ((size_t)n * 4 + 1));
    tb = tb < TILE_T ? TILE_T : tb - tb % TILE_T;
    for (int64_t t0 = 0; t0 < n_tok; t0 += tb) {
        int64_t t_end = n_tok - t0 < tb ? n_tok : t0 + tb;
        int64_t r = r0;
        for (; r < r1; r += TILE_R) {
            int full_r = r1 - r >= TILE_R;
            const char *wr = wp + (size_t)r * wrb;
            int64_t t = t0;
            for (; t + TILE_T <= t_end; t += TILE_T) {
                const char *xt = xp + (size_t)t * xrb;
                float *o = out + (size_t)t * os + (size_t)r;
                if (full_r) {
                    tile(type, TILE_R, TILE_T, n, wr, wrb, xt, xrb, o, os);
                } else {
                    for (int64_t rr = 0; rr < r1 - r; rr++)
                        tile(type, 1, TILE_T, n, wr + (size_t)rr * wrb, wrb, xt, xrb, o + rr, os);
                }
            }
            /* leftover tokens: two or more against short rows take a narrower
             * tile, else one row at a time (see vec_dot_of; for a single
             * token the vec_dots measured 1% faster in decode at 2048
             * positions, and as fast in cache) */
            int64_t nr = r1 - r < TILE_R ? r1 - r : TILE_R;
            if (t_end - t >= 2 && n <= SHORT_ROW) {
                const char *xt = xp + (size_t)t * xrb;
                float *o = out + (size_t)t * os + (size_t)r;
                if (full_r) tile_rest(type, TILE_R, t_end - t, n, wr, wrb, xt, xrb, o, os);
                else
                    for (int64_t rr = 0; rr < nr; rr++)
                        tile_rest(type, 1, t_end - t, n, wr + (size_t)rr * wrb, wrb, xt, xrb, o + rr, os);
                t = t_end;
            }
            for (; t < t_end; t++)
                for (int64_t rr = 0; rr < nr; rr++)
                    vec_dot_of(type)(n, out + (size_t)t * os + (size_t)(r + rr), wr + (size_t)rr * wrb,
                                     xp + (size_t)t * xrb);
        }
    }
}

/* also the AVX-512 table's decode loop for half weights (float_avx512.c says why) */
void mono_float_avx2_matvec(int type, int64_t n, const char *w, size_t wrb, int64_t r0, int64_t r1, const void *x,
                            float *out) {
    matvec_of(type)(n, w, wrb, r0, r1, x, out);
}

static void gemm_f32(int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x, size_t xrb,
                     int64_t n_tok, float *out, size_t os) {
    gemm_any(MONO_TYPE_F32, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
}
static void gemm_f16(int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x, size_t xrb,
                     int64_t n_tok, float *out, size_t os) {
    gemm_any(MONO_TYPE_F16, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
}
static void gemm_bf16(int64_t n, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *x, size_t xrb,
                      int64_t n_tok, float *out, size_t os) {
    gemm_any(MONO_TYPE_BF16, n, w, wrb, r0, r1, x, xrb, n_tok, out, os);
}

/* rows longer than PANEL_W decode from the panel form (float_panel.h) */
static void panel_gemm_f16(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1, const void *x, size_t xrb,
                           int64_t n_tok, float *out, size_t os) {
    panel_gemm(vec_dot_f16, gemm_f16, 2, n, wr, rows, r0, r1, x, xrb, n_tok, out, os);
}
static void panel_gemm_bf16(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1, const void *x, size_t xrb,
                            int64_t n_tok, float *out, size_t os) {
    panel_gemm(vec_dot_bf16, gemm_bf16, 2, n, wr, rows, r0, r1, x, xrb, n_tok, out, os);
}

/* float32 -> IEEE half, 8 at a time with F16C (round to nearest even, as
 * mono_f32_to_f16). A NaN becomes the quiet NaN of its sign with no
 * payload first: F16C would keep the payload's top bits, the portable
 * conversion does not, and both must give the same bytes. */
static void quantize_row_f16(const float *src, void *dst, int64_t n) {
    uint16_t *d = dst;
    const __m256 sign = _mm256_set1_ps(-0.0f), qnan = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FC00000));
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(src + i);
        __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
        x = _mm256_blendv_ps(x, _mm256_or_ps(_mm256_and_ps(x, sign), qnan), nan);
        _mm_storeu_si128((__m128i *)(d + i), _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    for (; i < n; i++) d[i] = mono_f32_to_f16(src[i]);
}

/* F16C widening: exact for every half (subnormals, inf; NaNs stay NaNs of
 * the same sign), checked against mono_f16_to_f32 in test_kernels_float. */
static void to_float_f16(const void *src, float *dst, int64_t n) {
    const uint16_t *s = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + i))));
    for (; i < n; i++) dst[i] = mono_f16_to_f32(s[i]);
}

void mono_kernels_register_float_avx2(mono_kernels *k) {
    k->vec_dot[MONO_TYPE_F32] = vec_dot_f32;
    k->vec_dot[MONO_TYPE_F16] = vec_dot_f16;
    k->vec_dot[MONO_TYPE_BF16] = vec_dot_bf16;
    k->gemm[MONO_TYPE_F32] = gemm_f32;
    k->gemm[MONO_TYPE_F16] = gemm_f16;
    k->gemm[MONO_TYPE_BF16] = gemm_bf16;
    /* quantize_row[F32] stays the portable memcpy: a copy is a copy */
    k->quantize_row[MONO_TYPE_F16] = quantize_row_f16; /* the F16 KV cache's stores */
    k->to_float[MONO_TYPE_F16] = to_float_f16;          /* and its value rows */
    panel_register(k, panel_gemm_f16, panel_gemm_bf16);
}
