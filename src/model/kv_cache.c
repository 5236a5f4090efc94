/*
 * kv_cache.c -- storage and the two attention inner loops (scores against
 * the cached keys, the probability-weighted sum of cached values), so the
 * float16 variant lives in one place.
 */
#include "model/kv_cache.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "kernels/types.h"

static size_t elem_size(int type) { return type == MONO_KV_F16 ? 2 : 4; }

mono_status mono_kv_cache_init(mono_kv_cache *kv, int type, int n_layer, int n_ctx, int n_head_kv, int head_dim,
                               mono_error *err) {
    memset(kv, 0, sizeof *kv);
    if (type != MONO_KV_F32 && type != MONO_KV_F16)
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "unknown KV cache type %d", type);
    size_t n, bytes;
    if (!mono_size_mul((size_t)n_layer, (size_t)n_ctx, &n) || !mono_size_mul(n, (size_t)n_head_kv, &n) ||
        !mono_size_mul(n, (size_t)head_dim, &n) ||
        !mono_size_mul(n, elem_size(type), &bytes))
        return mono_error_set(err, MONO_ERR_NOMEM, "KV cache size overflows");
    kv->type = type;
    kv->n_layer = n_layer;
    kv->n_ctx = n_ctx;
    kv->n_head_kv = n_head_kv;
    kv->head_dim = head_dim;
    kv->k = malloc(bytes ? bytes : 1);
    kv->v = malloc(bytes ? bytes : 1);
    if (!kv->k || !kv->v) {
        mono_kv_cache_free(kv);
        return mono_error_set(err, MONO_ERR_NOMEM, "out of memory for a KV cache of %zu bytes", 2 * bytes);
    }
    kv->bytes = 2 * bytes;
    return MONO_OK;
}

void mono_kv_cache_free(mono_kv_cache *kv) {
    free(kv->k);
    free(kv->v);
    memset(kv, 0, sizeof *kv);
}

/* Element index of position pos of kv head g in layer il. */
static size_t offset(const mono_kv_cache *kv, int il, int g, int pos) {
    return (((size_t)il * (size_t)kv->n_head_kv + (size_t)g) * (size_t)kv->n_ctx + (size_t)pos) * (size_t)kv->head_dim;
}

/* dst[0..n) = src[0..n) in the cache's element type. */
static void put_row(const mono_kv_cache *kv, const float *src, void *dst, size_t n) {
    if (kv->type == MONO_KV_F32) {
        memcpy(dst, src, n * sizeof(float));
    } else if (kv->to_f16) {
        kv->to_f16(src, dst, (int64_t)n);
    } else {
        uint16_t *h = dst;
        for (size_t i = 0; i < n; i++) h[i] = mono_f32_to_f16(src[i]);
    }
}

void mono_kv_cache_store(mono_kv_cache *kv, int il, int pos, int n, const float *k, const float *v) {
    size_t es = elem_size(kv->type), hd = (size_t)kv->head_dim, kv_dim = (size_t)kv->n_head_kv * hd;
    for (int g = 0; g < kv->n_head_kv; g++) { /* a head's positions are contiguous in the cache */
        size_t off = offset(kv, il, g, pos) * es;
        for (int i = 0; i < n; i++) {
            size_t src = (size_t)i * kv_dim + (size_t)g * hd, dst = off + (size_t)i * hd * es;
            put_row(kv, k + src, (char *)kv->k + dst, hd);
            put_row(kv, v + src, (char *)kv->v + dst, hd);
        }
    }
}

void mono_kv_cache_scores(const mono_kv_cache *kv, int il, int g, int hd, const float *q, int n_pos, float scale,
                          mono_vec_dot_fn dot, float *out) {
    size_t base = offset(kv, il, g, 0), stride = (size_t)hd;
    if (dot) {
        size_t esize = elem_size(kv->type);
        const uint8_t *kp = (const uint8_t *)kv->k + base * esize;
        for (int j = 0; j < n_pos; j++, kp += stride * esize) {
            dot(hd, &out[j], kp, q);
            out[j] *= scale;
        }
    } else if (kv->type == MONO_KV_F32) {
        const float *kp = (const float *)kv->k + base;
        for (int j = 0; j < n_pos; j++, kp += stride) {
            float s0 = 0, s1 = 0;
            int i = 0;
            for (; i + 2 <= hd; i += 2) {
                s0 += q[i] * kp[i];
                s1 += q[i + 1] * kp[i + 1];
            }
            for (; i < hd; i++) s0 += q[i] * kp[i];
            out[j] = (s0 + s1) * scale;
        }
    } else {
        const uint16_t *kp = (const uint16_t *)kv->k + base;
        for (int j = 0; j < n_pos; j++, kp += stride) {
            float s = 0;
            for (int i = 0; i < hd; i++) s += q[i] * mono_f16_to_f32(kp[i]);
            out[j] = s * scale;
        }
    }
}

/* IEEE half -> float without branches, so the loop vectorizes: the 15 bits
 * of exponent and mantissa move into float position and a multiply by 2^112
 * rebiases the exponent (exact, subnormals included); inf/NaN are patched
 * by a select. Same values as mono_f16_to_f32 (checked in test_model_api). */
static void widen_f16(const uint16_t *src, float *dst, int n) {
    for (int i = 0; i < n; i++) {
        uint32_t h = src[i], em = h & 0x7FFFu, bits = em << 13, sign = (h & 0x8000u) << 16;
        float f;
        memcpy(&f, &bits, 4);
        f *= 0x1p112f;
        memcpy(&bits, &f, 4);
        bits = em >= 0x7C00u ? (0x7F800000u | ((em & 0x3FFu) << 13)) : bits;
        bits |= sign;
        memcpy(&dst[i], &bits, 4);
    }
}

void mono_kv_cache_widen_f16(const uint16_t *src, float *dst, int n) { widen_f16(src, dst, n); }

/* n halves of the f16 cache -> floats, through the kernel table's converter
 * (F16C, NEON) when the cache has one */
static void widen_rows(const mono_kv_cache *kv, const uint16_t *src, float *dst, int n) {
    if (kv->to_f32) kv->to_f32(src, dst, n);
    else widen_f16(src, dst, n);
}

/* out[0..n) += w * v[0..n), in blocks of 8 the compiler turns into SIMD. */
/* inlined everywhere, so the ISA clones below get their own wide copies */
#if defined(__GNUC__)
#define ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define ALWAYS_INLINE inline
#endif

static ALWAYS_INLINE void axpy(float *restrict out, float w, const float *restrict v, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) out[i + k] += w * v[i + k];
    for (; i < n; i++) out[i] += w * v[i];
}

void mono_kv_cache_mix(const mono_kv_cache *kv, int il, int g, int hd, const float *p, int n_pos, float *out) {
    size_t base = offset(kv, il, g, 0), stride = (size_t)hd;
    memset(out, 0, (size_t)hd * sizeof(float));
    if (kv->type == MONO_KV_F32) {
        const float *vp = (const float *)kv->v + base;
        for (int j = 0; j < n_pos; j++, vp += stride) axpy(out, p[j], vp, hd);
        return;
    }
    /* f16: widen a piece of the row at a time, then axpy */
    float tmp[256];
    const uint16_t *vp = (const uint16_t *)kv->v + base;
    for (int j = 0; j < n_pos; j++, vp += stride)
        for (int i = 0; i < hd; i += 256) {
            int c = hd - i < 256 ? hd - i : 256;
            widen_f16(vp + i, tmp, c);
            axpy(out + i, p[j], tmp, c);
        }
}

void mono_kv_cache_scores_heads(const mono_kv_cache *kv, mono_gemm_fn gemm, mono_vec_dot_fn dot, int il, int g, int hd,
                                const float *q, int n_heads, int n_pos, float *out, size_t out_stride) {
    if (!gemm) {
        for (int h = 0; h < n_heads; h++)
            mono_kv_cache_scores(kv, il, g, hd, q + (size_t)h * hd, n_pos, 1.0f, dot, out + (size_t)h * out_stride);
        return;
    }
    mono_kv_cache_scores_range(kv, gemm, il, g, hd, q, n_heads, 0, n_pos, out, out_stride);
}

void mono_kv_cache_scores_range(const mono_kv_cache *kv, mono_gemm_fn gemm, int il, int g, int hd, const float *q,
                                int n_rows, int j0, int nb, float *out, size_t out_stride) {
    /* key rows are the "weights", the queries the "tokens" */
    size_t esize = elem_size(kv->type), row_bytes = (size_t)hd * esize;
    const uint8_t *kp = (const uint8_t *)kv->k + offset(kv, il, g, j0) * esize;
    gemm(hd, kp, row_bytes, 0, nb, q, (size_t)hd * sizeof(float), n_rows, out, out_stride);
}

/* dst[i * ld + j] = src[j * hd + i]: eight rows at a time, so each pass
 * writes eight consecutive floats of every output row */
static void transpose_rows(const float *src, int nb, int hd, float *dst, size_t ld) {
    int j = 0;
    for (; j + 8 <= nb; j += 8) {
        const float *s = src + (size_t)j * hd;
        for (int i = 0; i < hd; i++) {
            float *d = dst + (size_t)i * ld + j;
            for (int k = 0; k < 8; k++) d[k] = s[(size_t)k * hd + i];
        }
    }
    for (; j < nb; j++)
        for (int i = 0; i < hd; i++) dst[(size_t)i * ld + j] = src[(size_t)j * hd + i];
}

void mono_kv_cache_values_t(const mono_kv_cache *kv, int il, int g, int hd, int j0, int nb, float *vt, size_t ld) {
    size_t base = offset(kv, il, g, j0);
    if (kv->type == MONO_KV_F32) {
        transpose_rows((const float *)kv->v + base, nb, hd, vt, ld);
        return;
    }
    /* f16: widen a block of rows (16 KiB), then transpose it */
    float tmp[4096];
    int block = 4096 / hd; /* hd <= 4096 (checked at load) */
    if (block >= 8) block -= block % 8;
    const uint16_t *vp = (const uint16_t *)kv->v + base;
    for (int b0 = 0; b0 < nb; b0 += block) {
        int n = nb - b0 < block ? nb - b0 : block;
        const uint16_t *rows = vp + (size_t)b0 * hd;
        widen_rows(kv, rows, tmp, n * hd);
        transpose_rows(tmp, n, hd, vt + b0, ld);
    }
}

/* The value mixing is most of attention's arithmetic and this file is built
 * for the baseline ISA (SSE2 on x86-64): on x86 Linux with GCC's ifunc
 * support (clang 14's target_clones leaves the symbol undefined), also
 * compile it for AVX2 and AVX-512 and let the loader pick, so
 * axpy runs 8 or 16 lanes wide. Same operations in the same order (no FMA
 * contraction is enabled), so every clone gives the same floats. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(MONO_NO_CLONES)
#define MIX_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MIX_CLONES
#endif

/* columns of out a head keeps in registers at a time (see mix_rows) */
#define MIX_W 64
#if defined(__GNUC__)
/* GCC/clang vector types: 16-float accumulators the compiler keeps in
 * registers (a plain array stayed on the stack) */
typedef float mix_v16 __attribute__((vector_size(64)));

/* Heads h0 and h0 + 1 together: each row slice is loaded once for both
 * (one load feeds eight multiply-adds instead of four: the loads had been
 * the bottleneck, ~3x the multiply-add bound). */
static ALWAYS_INLINE void mix_pair(float *restrict out, const float *restrict p, size_t p_stride, const float *rows,
                                   size_t row_stride, int n, int hd, int i0) {
    const float *pa = p, *pb = p + p_stride;
    float *oa = out + i0, *ob = out + hd + i0;
    mix_v16 a0, a1, a2, a3, b0, b1, b2, b3, r0, r1, r2, r3;
    memcpy(&a0, oa, 64), memcpy(&a1, oa + 16, 64), memcpy(&a2, oa + 32, 64), memcpy(&a3, oa + 48, 64);
    memcpy(&b0, ob, 64), memcpy(&b1, ob + 16, 64), memcpy(&b2, ob + 32, 64), memcpy(&b3, ob + 48, 64);
    const float *r = rows + i0;
    for (int j = 0; j < n; j++, r += row_stride) {
        memcpy(&r0, r, 64), memcpy(&r1, r + 16, 64), memcpy(&r2, r + 32, 64), memcpy(&r3, r + 48, 64);
        a0 += pa[j] * r0, a1 += pa[j] * r1, a2 += pa[j] * r2, a3 += pa[j] * r3;
        b0 += pb[j] * r0, b1 += pb[j] * r1, b2 += pb[j] * r2, b3 += pb[j] * r3;
    }
    memcpy(oa, &a0, 64), memcpy(oa + 16, &a1, 64), memcpy(oa + 32, &a2, 64), memcpy(oa + 48, &a3, 64);
    memcpy(ob, &b0, 64), memcpy(ob + 16, &b1, 64), memcpy(ob + 32, &b2, 64), memcpy(ob + 48, &b3, 64);
}

static ALWAYS_INLINE void mix_one(float *restrict out, const float *restrict p, const float *rows, size_t row_stride,
                                  int n, int i0) {
    mix_v16 a0, a1, a2, a3, r0, r1, r2, r3;
    float *o = out + i0;
    memcpy(&a0, o, 64), memcpy(&a1, o + 16, 64), memcpy(&a2, o + 32, 64), memcpy(&a3, o + 48, 64);
    const float *r = rows + i0;
    for (int j = 0; j < n; j++, r += row_stride) {
        memcpy(&r0, r, 64), memcpy(&r1, r + 16, 64), memcpy(&r2, r + 32, 64), memcpy(&r3, r + 48, 64);
        a0 += p[j] * r0, a1 += p[j] * r1, a2 += p[j] * r2, a3 += p[j] * r3;
    }
    memcpy(o, &a0, 64), memcpy(o + 16, &a1, 64), memcpy(o + 32, &a2, 64), memcpy(o + 48, &a3, 64);
}
#endif

/* out[h] += sum_j p[h * p_stride + j] * rows[j] for nh heads over n rows of
 * hd floats (rows row_stride apart). A head's 64-float slice of out stays in
 * registers while the rows stream past (they are in L1/L2: the caller
 * blocks them), two heads at a time, so a row element costs one fused
 * multiply-add per head and no load/store of out; each element still sums
 * over j in order, like axpy. */
static ALWAYS_INLINE void mix_rows(float *restrict out, const float *restrict p, size_t p_stride, int nh, const float *rows,
                            size_t row_stride, int n, int hd) {
    int i0 = 0;
#if defined(__GNUC__)
    for (; i0 + MIX_W <= hd; i0 += MIX_W) {
        int h = 0;
        for (; h + 2 <= nh; h += 2)
            mix_pair(out + (size_t)h * hd, p + (size_t)h * p_stride, p_stride, rows, row_stride, n, hd, i0);
        if (h < nh) mix_one(out + (size_t)h * hd, p + (size_t)h * p_stride, rows, row_stride, n, i0);
    }
#endif
    if (i0 < hd)
        for (int h = 0; h < nh; h++) {
            const float *ph = p + (size_t)h * p_stride, *r = rows + i0;
            float *oh = out + (size_t)h * hd;
            for (int j = 0; j < n; j++, r += row_stride) axpy(oh + i0, ph[j], r, hd - i0);
        }
}

MIX_CLONES
void mono_kv_cache_mix_heads(const mono_kv_cache *kv, int il, int g, int hd, const float *p, size_t p_stride,
                             int n_heads, int n_pos, float *out) {
    size_t base = offset(kv, il, g, 0), stride = (size_t)hd;
    memset(out, 0, (size_t)n_heads * (size_t)hd * sizeof(float));
    if (kv->type == MONO_KV_F32) {
        /* blocks of rows that stay in L2 while every head of the group passes over them */
        const int block = 1024;
        const float *vp = (const float *)kv->v + base;
        for (int j0 = 0; j0 < n_pos; j0 += block) {
            int nb = n_pos - j0 < block ? n_pos - j0 : block;
            mix_rows(out, p + j0, p_stride, n_heads, vp + (size_t)j0 * stride, stride, nb, hd);
        }
        return;
    }
    /* f16: widen a block of rows once (16 KiB), then mix it for every head */
    float tmp[4096];
    int block = 4096 / hd; /* hd <= 4096 (checked at load) */
    const uint16_t *vp = (const uint16_t *)kv->v + base;
    for (int j0 = 0; j0 < n_pos; j0 += block) {
        int nb = n_pos - j0 < block ? n_pos - j0 : block;
        const uint16_t *rows = vp + (size_t)j0 * stride; /* the head's rows are contiguous */
        widen_rows(kv, rows, tmp, nb * hd);
        mix_rows(out, p + j0, p_stride, n_heads, tmp, (size_t)hd, nb, hd);
    }
}
