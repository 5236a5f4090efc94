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

mono_status mono_kv_cache_init(mono_kv_cache *kv, int type, int n_layer, int n_ctx, int kv_dim, mono_error *err) {
    memset(kv, 0, sizeof *kv);
    if (type != MONO_KV_F32 && type != MONO_KV_F16)
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "unknown KV cache type %d", type);
    size_t n, bytes;
    if (!mono_size_mul((size_t)n_layer, (size_t)n_ctx, &n) || !mono_size_mul(n, (size_t)kv_dim, &n) ||
        !mono_size_mul(n, elem_size(type), &bytes))
        return mono_error_set(err, MONO_ERR_NOMEM, "KV cache size overflows");
    kv->type = type;
    kv->n_layer = n_layer;
    kv->n_ctx = n_ctx;
    kv->kv_dim = kv_dim;
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

static size_t offset(const mono_kv_cache *kv, int il, int pos) {
    return ((size_t)il * (size_t)kv->n_ctx + (size_t)pos) * (size_t)kv->kv_dim;
}

void mono_kv_cache_store(mono_kv_cache *kv, int il, int pos, int n, const float *k, const float *v) {
    size_t off = offset(kv, il, pos), count = (size_t)n * (size_t)kv->kv_dim;
    if (kv->type == MONO_KV_F32) {
        memcpy((float *)kv->k + off, k, count * sizeof(float));
        memcpy((float *)kv->v + off, v, count * sizeof(float));
        return;
    }
    uint16_t *kh = (uint16_t *)kv->k + off, *vh = (uint16_t *)kv->v + off;
    for (size_t i = 0; i < count; i++) {
        kh[i] = mono_f32_to_f16(k[i]);
        vh[i] = mono_f32_to_f16(v[i]);
    }
}

void mono_kv_cache_scores(const mono_kv_cache *kv, int il, int g, int hd, const float *q, int n_pos, float scale,
                          mono_vec_dot_fn dot, float *out) {
    size_t base = offset(kv, il, 0) + (size_t)g * (size_t)hd, stride = (size_t)kv->kv_dim;
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

/* out[0..n) += w * v[0..n), in blocks of 8 the compiler turns into SIMD. */
static void axpy(float *restrict out, float w, const float *restrict v, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) out[i + k] += w * v[i + k];
    for (; i < n; i++) out[i] += w * v[i];
}

void mono_kv_cache_mix(const mono_kv_cache *kv, int il, int g, int hd, const float *p, int n_pos, float *out) {
    size_t base = offset(kv, il, 0) + (size_t)g * (size_t)hd, stride = (size_t)kv->kv_dim;
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
    /* key rows are the "weights", the heads' queries the "tokens" */
    size_t esize = elem_size(kv->type), row_bytes = (size_t)kv->kv_dim * esize;
    const uint8_t *kp = (const uint8_t *)kv->k + (offset(kv, il, 0) + (size_t)g * (size_t)hd) * esize;
    gemm(hd, kp, row_bytes, 0, n_pos, q, (size_t)hd * sizeof(float), n_heads, out, out_stride);
}

void mono_kv_cache_mix_heads(const mono_kv_cache *kv, int il, int g, int hd, const float *p, size_t p_stride,
                             int n_heads, int n_pos, float *out) {
    size_t base = offset(kv, il, 0) + (size_t)g * (size_t)hd, stride = (size_t)kv->kv_dim;
    memset(out, 0, (size_t)n_heads * (size_t)hd * sizeof(float));
    if (kv->type == MONO_KV_F32) {
        const float *vp = (const float *)kv->v + base;
        for (int j = 0; j < n_pos; j++, vp += stride)
            for (int h = 0; h < n_heads; h++) axpy(out + (size_t)h * hd, p[(size_t)h * p_stride + j], vp, hd);
        return;
    }
    /* f16: widen a piece of the row once, then one axpy per head */
    float tmp[256];
    const uint16_t *vp = (const uint16_t *)kv->v + base;
    for (int j = 0; j < n_pos; j++, vp += stride)
        for (int i = 0; i < hd; i += 256) {
            int c = hd - i < 256 ? hd - i : 256;
            widen_f16(vp + i, tmp, c);
            for (int h = 0; h < n_heads; h++) axpy(out + (size_t)h * hd + i, p[(size_t)h * p_stride + j], tmp, c);
        }
}
