/*
 * quant_ref.c -- dequantization and reference quantization of every block
 * type in quant.h.
 *
 * Both directions follow llama.cpp's definitions operation for operation
 * (same float expressions in the same order, same rounding helpers), so that
 * dequantization is bit-exact and quantization is byte-exact with ggml's
 * dequantize_row_* and quantize_row_*_ref: a file quantized here is the file
 * llama-quantize writes without an importance matrix. tests/c/test_quant_ggml.c
 * checks both against the shipped libggml-base.so.
 *
 * Rounding helpers: llama.cpp uses roundf (halves away from zero) for Q8_0/1,
 * truncation after +0.5/+8.5/+16.5 for Q4/Q5, and nearest_int (the
 * "add 1.5*2^23" trick: round half to even) for the K-quants.
 */
#include "kernels/quant.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Bit-exactness needs every a*b+c rounded twice, as llama.cpp's build does:
 * no fused multiply-add (GCC in ISO C mode already does not contract). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define QK MONO_QK
#define QK_K MONO_QK_K
#define GROUP_MAX_EPS 1e-15f

static inline float h2f(uint16_t h) { return mono_f16_to_f32(h); }
static inline uint16_t f2h(float f) { return mono_f32_to_f16(f); }
static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

/* Round half to even for |f| < 2^22 (what llama.cpp's nearest_int does). */
static inline int nearest_int(float f) {
    float v = f + 12582912.f;
    int32_t i;
    memcpy(&i, &v, 4);
    return (i & 0x007fffff) - 0x00400000;
}

void mono_q4k_unpack_scales(const uint8_t packed[12], uint8_t sc[8], uint8_t mn[8]) {
    for (int j = 0; j < 8; j++) mono_q4k_scale_min(j, packed, &sc[j], &mn[j]);
}

void mono_q3k_unpack_scales(const uint8_t packed[12], int8_t out[16]) {
    /* low 4 bits: bytes 0..7 (low nibble j<8, high nibble j>=8); high 2 bits: bytes 8..11 */
    for (int j = 0; j < 16; j++) {
        int lo = j < 8 ? (packed[j] & 0xF) : (packed[j - 8] >> 4);
        int hi = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
        out[j] = (int8_t)((lo | (hi << 4)) - 32);
    }
}

/* ---------------------------------------------------------------- legacy */

void mono_dequantize_row_q4_0(const void *src, float *dst, int64_t n) {
    const mono_block_q4_0 *b = src;
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        const float d = h2f(b[i].d);
        for (int j = 0; j < QK / 2; j++) {
            dst[j] = ((b[i].qs[j] & 0xF) - 8) * d;
            dst[j + QK / 2] = ((b[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void mono_quantize_row_q4_0(const float *src, void *dst, int64_t n) {
    mono_block_q4_0 *b = dst;
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        float amax = 0.0f, max = 0.0f; /* max keeps the sign of the largest magnitude */
        for (int j = 0; j < QK; j++)
            if (amax < fabsf(src[j])) { amax = fabsf(src[j]); max = src[j]; }
        const float d = max / -8;
        const float id = d ? 1.0f / d : 0.0f;
        b[i].d = f2h(d);
        for (int j = 0; j < QK / 2; j++) {
            int q0 = imin(15, (int8_t)(src[j] * id + 8.5f));
            int q1 = imin(15, (int8_t)(src[j + QK / 2] * id + 8.5f));
            b[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void mono_dequantize_row_q4_1(const void *src, float *dst, int64_t n) {
    const mono_block_q4_1 *b = src;
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        const float d = h2f(b[i].d), m = h2f(b[i].m);
        for (int j = 0; j < QK / 2; j++) {
            dst[j] = (b[i].qs[j] & 0xF) * d + m;
            dst[j + QK / 2] = (b[i].qs[j] >> 4) * d + m;
        }
    }
}

void mono_quantize_row_q4_1(const float *src, void *dst, int64_t n) {
    mono_block_q4_1 *b = dst;
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < QK; j++) {
            if (src[j] < min) min = src[j];
            if (src[j] > max) max = src[j];
        }
        const float d = (max - min) / 15;
        const float id = d ? 1.0f / d : 0.0f;
        b[i].d = f2h(d);
        b[i].m = f2h(min);
        for (int j = 0; j < QK / 2; j++) {
            int q0 = imin(15, (int8_t)((src[j] - min) * id + 0.5f));
            int q1 = imin(15, (int8_t)((src[j + QK / 2] - min) * id + 0.5f));
            b[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void mono_dequantize_row_q5_0(const void *src, float *dst, int64_t n) {
    const mono_block_q5_0 *b = src;
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        const float d = h2f(b[i].d);
        uint32_t qh;
        memcpy(&qh, b[i].qh, 4);
        for (int j = 0; j < QK / 2; j++) {
            int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
            dst[j] = (((b[i].qs[j] & 0xF) | h0) - 16) * d;
            dst[j + QK / 2] = (((b[i].qs[j] >> 4) | h1) - 16) * d;
        }
    }
}

void mono_quantize_row_q5_0(const float *src, void *dst, int64_t n) {
    mono_block_q5_0 *b = dst;
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK; j++)
            if (amax < fabsf(src[j])) { amax = fabsf(src[j]); max = src[j]; }
        const float d = max / -16;
        const float id = d ? 1.0f / d : 0.0f;
        b[i].d = f2h(d);
        uint32_t qh = 0;
        for (int j = 0; j < QK / 2; j++) {
            int q0 = imin(31, (int8_t)(src[j] * id + 16.5f));
            int q1 = imin(31, (int8_t)(src[j + QK / 2] * id + 16.5f));
            b[i].qs[j] = (uint8_t)((q0 & 0xF) | ((q1 & 0xF) << 4));
            qh |= (uint32_t)((q0 >> 4) & 1) << j;
            qh |= (uint32_t)((q1 >> 4) & 1) << (j + QK / 2);
        }
        memcpy(b[i].qh, &qh, 4);
    }
}

void mono_dequantize_row_q5_1(const void *src, float *dst, int64_t n) {
    const mono_block_q5_1 *b = src;
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        const float d = h2f(b[i].d), m = h2f(b[i].m);
        uint32_t qh;
        memcpy(&qh, b[i].qh, 4);
        for (int j = 0; j < QK / 2; j++) {
            int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
            dst[j] = ((b[i].qs[j] & 0xF) | h0) * d + m;
            dst[j + QK / 2] = ((b[i].qs[j] >> 4) | h1) * d + m;
        }
    }
}

void mono_quantize_row_q5_1(const float *src, void *dst, int64_t n) {
    mono_block_q5_1 *b = dst;
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < QK; j++) {
            if (src[j] < min) min = src[j];
            if (src[j] > max) max = src[j];
        }
        const float d = (max - min) / 31;
        const float id = d ? 1.0f / d : 0.0f;
        b[i].d = f2h(d);
        b[i].m = f2h(min);
        uint32_t qh = 0;
        for (int j = 0; j < QK / 2; j++) {
            /* llama.cpp does not clamp here: (x-min)*id + 0.5 stays below 32 */
            int q0 = (uint8_t)((src[j] - min) * id + 0.5f);
            int q1 = (uint8_t)((src[j + QK / 2] - min) * id + 0.5f);
            b[i].qs[j] = (uint8_t)((q0 & 0xF) | ((q1 & 0xF) << 4));
            qh |= (uint32_t)((q0 >> 4) & 1) << j;
            qh |= (uint32_t)((q1 >> 4) & 1) << (j + QK / 2);
        }
        memcpy(b[i].qh, &qh, 4);
    }
}

void mono_dequantize_row_q8_0(const void *src, float *dst, int64_t n) {
    const mono_block_q8_0 *b = src;
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        const float d = h2f(b[i].d);
        for (int j = 0; j < QK; j++) dst[j] = b[i].qs[j] * d;
    }
}

/* round(v) as a Q8 quant. For finite activations |v| <= 127 already and this
 * is ggml's (int8_t)roundf(v); a NaN (a hostile model's activations) would
 * make that cast undefined behaviour, so it becomes 0 -- the byte x86's
 * conversion gave anyway. */
static inline int8_t q8_round(float v) {
    if (!(v == v)) return 0;
    float r = roundf(v);
    return (int8_t)(r > 127.0f ? 127.0f : r < -127.0f ? -127.0f : r);
}

void mono_quantize_row_q8_0(const float *src, void *dst, int64_t n) {
    mono_block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) amax = amax > fabsf(src[j]) ? amax : fabsf(src[j]);
        const float d = amax / 127;
        const float id = d ? 1.0f / d : 0.0f;
        b[i].d = f2h(d);
        for (int j = 0; j < QK; j++) b[i].qs[j] = q8_round(src[j] * id);
    }
}

void mono_dequantize_row_q8_1(const void *src, float *dst, int64_t n) {
    const mono_block_q8_1 *b = src;
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        const float d = h2f(b[i].d);
        for (int j = 0; j < QK; j++) dst[j] = b[i].qs[j] * d;
    }
}

void mono_quantize_row_q8_1(const float *src, void *dst, int64_t n) {
    mono_block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) amax = amax > fabsf(src[j]) ? amax : fabsf(src[j]);
        const float d = amax / 127;
        const float id = d ? 1.0f / d : 0.0f;
        b[i].d = f2h(d);
        int sum = 0;
        for (int j = 0; j < QK; j++) {
            b[i].qs[j] = q8_round(src[j] * id);
            sum += b[i].qs[j];
        }
        b[i].s = f2h(sum * d);
    }
}

/* ------------------------------------------------- K-quant search helpers */

/* Symmetric levels in [-nmax, nmax) with a least-squares scale search
 * (llama.cpp's make_qx_quants, rmse_type 1 without importance weights). */
static float make_qx_quants(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) { amax = ax; max = x[i]; }
    }
    if (amax < GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = imax(-nmax, imin(nmax - 1, nearest_int(iscale * x[i])));
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = imax(-nmax, imin(nmax - 1, nearest_int(iscale * x[i])));
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++) {
                int l = nearest_int(iscale * x[i]);
                L[i] = (int8_t)(nmax + imax(-nmax, imin(nmax - 1, l)));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* Symmetric 3-bit levels with iterative refinement (make_q3_quants, rmse). */
static float make_q3_quants(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) { amax = ax; max = x[i]; }
    }
    if (amax < GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = imax(-nmax, imin(nmax - 1, nearest_int(iscale * x[i])));
        L[i] = (int8_t)l;
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int itry = 0; itry < 5; itry++) {
        int n_changed = 0;
        for (int i = 0; i < n; i++) {
            float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * L[i];
            if (slx > 0) {
                float sl2 = suml2 - w * L[i] * L[i];
                int new_l = imax(-nmax, imin(nmax - 1, nearest_int(x[i] * sl2 / slx)));
                if (new_l != L[i]) {
                    slx += w * x[i] * new_l;
                    sl2 += w * new_l * new_l;
                    if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (int8_t)new_l;
                        sumlx = slx;
                        suml2 = sl2;
                        n_changed++;
                    }
                }
            }
        }
        if (!n_changed) break;
    }
    for (int i = 0; i < n; i++) L[i] = (int8_t)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* Asymmetric levels in [0, nmax] with scale and min chosen by a weighted
 * least-squares search over nstep+1 candidate scales (make_qkx2_quants).
 * Returns the scale; *the_min receives the (non-negative) negated min. */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                              float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
                              int use_mad) {
    float min = x[0], max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        memset(L, 0, (size_t)n);
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; i++) {
        int l = nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)imax(0, imin(nmax, l));
        float diff = scale * L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_error += weights[i] * diff;
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = imax(0, imin(nmax, nearest_int(iscale * (x[i] - min))));
            Laux[i] = (uint8_t)l;
            float w = weights[i];
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                cur_error += weights[i] * diff;
            }
            if (cur_error < best_error) {
                memcpy(L, Laux, (size_t)n);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/* ------------------------------------------------------------------ Q2_K */

void mono_dequantize_row_q2_K(const void *src, float *y, int64_t n) {
    const mono_block_q2_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = h2f(b[i].d), min = h2f(b[i].dmin);
        const uint8_t *q = b[i].qs;
        int is = 0;
        for (int half = 0; half < 2; half++, q += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int k = 0; k < 2; k++) { /* two runs of 16 per shift */
                    uint8_t sc = b[i].scales[is++];
                    float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                    for (int l = 0; l < 16; l++) *y++ = dl * ((q[l + 16 * k] >> shift) & 3) - ml;
                }
            }
        }
    }
}

/* Packs 2-bit levels L[256] into qs: byte l of each 32-byte group holds
 * levels l, l+32, l+64, l+96 of the group's 128 weights. */
static void pack_2bit(const uint8_t *L, uint8_t *qs) {
    for (int j = 0; j < QK_K; j += 128)
        for (int l = 0; l < 32; l++)
            qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                      (L[j + l + 96] << 6));
}

void mono_quantize_row_q2_K(const float *x, void *dst, int64_t n) {
    mono_block_q2_K *y = dst;
    uint8_t L[QK_K], Laux[16];
    float weights[16], mins[QK_K / 16], scales[QK_K / 16];
    const float q4scale = 15.f;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < QK_K / 16; j++) {
            for (int l = 0; l < 16; l++) weights[l] = fabsf(x[16 * j + l]);
            scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux,
                                         -0.5f, 0.1f, 15, 1);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        if (max_scale > 0) {
            float iscale = q4scale / max_scale;
            for (int j = 0; j < QK_K / 16; j++) y[i].scales[j] = (uint8_t)nearest_int(iscale * scales[j]);
            y[i].d = f2h(max_scale / q4scale);
        } else {
            memset(y[i].scales, 0, sizeof y[i].scales);
            y[i].d = f2h(0.f);
        }
        if (max_min > 0) {
            float iscale = q4scale / max_min;
            for (int j = 0; j < QK_K / 16; j++)
                y[i].scales[j] |= (uint8_t)(nearest_int(iscale * mins[j]) << 4);
            y[i].dmin = f2h(max_min / q4scale);
        } else {
            y[i].dmin = f2h(0.f);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            const float d = h2f(y[i].d) * (y[i].scales[j] & 0xF);
            if (!d) continue;
            const float dm = h2f(y[i].dmin) * (y[i].scales[j] >> 4);
            for (int ii = 0; ii < 16; ii++)
                L[16 * j + ii] = (uint8_t)imax(0, imin(3, nearest_int((x[16 * j + ii] + dm) / d)));
        }
        pack_2bit(L, y[i].qs);
    }
}

/* ------------------------------------------------------------------ Q3_K */

void mono_dequantize_row_q3_K(const void *src, float *y, int64_t n) {
    const mono_block_q3_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d_all = h2f(b[i].d);
        int8_t scales[16];
        mono_q3k_unpack_scales(b[i].scales, scales);
        const uint8_t *q = b[i].qs, *hm = b[i].hmask;
        uint8_t m = 1;
        int is = 0;
        for (int half = 0; half < 2; half++, q += 32) {
            for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
                for (int k = 0; k < 2; k++) {
                    float dl = d_all * scales[is++];
                    for (int l = 0; l < 16; l++) {
                        int v = ((q[l + 16 * k] >> shift) & 3) - ((hm[l + 16 * k] & m) ? 0 : 4);
                        *y++ = dl * v;
                    }
                }
            }
        }
    }
}

void mono_quantize_row_q3_K(const float *x, void *dst, int64_t n) {
    mono_block_q3_K *y = dst;
    int8_t L[QK_K];
    float scales[QK_K / 16];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max_scale = 0, amax = 0;
        for (int j = 0; j < QK_K / 16; j++) {
            scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j);
            float scale = fabsf(scales[j]);
            if (scale > amax) { amax = scale; max_scale = scales[j]; }
        }
        memset(y[i].scales, 0, 12);
        if (max_scale) {
            float iscale = -32.f / max_scale;
            for (int j = 0; j < QK_K / 16; j++) {
                int8_t l8 = (int8_t)nearest_int(iscale * scales[j]);
                int l = imax(-32, imin(31, l8)) + 32;
                if (j < 8) y[i].scales[j] = (uint8_t)(l & 0xF);
                else y[i].scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
                l >>= 4;
                y[i].scales[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
            }
            y[i].d = f2h(1 / iscale);
        } else {
            y[i].d = f2h(0.f);
        }
        int8_t sc[16];
        mono_q3k_unpack_scales(y[i].scales, sc);
        for (int j = 0; j < QK_K / 16; j++) {
            float d = h2f(y[i].d) * sc[j];
            if (!d) continue;
            for (int ii = 0; ii < 16; ii++) {
                int l = imax(-4, imin(3, nearest_int(x[16 * j + ii] / d)));
                L[16 * j + ii] = (int8_t)(l + 4);
            }
        }
        /* high bit of weight j goes to hmask[j % 32], bit j / 32 */
        memset(y[i].hmask, 0, QK_K / 8);
        for (int j = 0; j < QK_K; j++) {
            if (L[j] > 3) {
                y[i].hmask[j % 32] |= (uint8_t)(1 << (j / 32));
                L[j] -= 4;
            }
        }
        pack_2bit((const uint8_t *)L, y[i].qs);
    }
}

/* ------------------------------------------------------------ Q4_K, Q5_K */

/* Packs 8 six-bit scales and mins into Q4_K/Q5_K's 12 bytes. */
static void pack_scales_k4(const uint8_t ls[8], const uint8_t lm[8], uint8_t *s) {
    for (int j = 0; j < 8; j++) {
        if (j < 4) {
            s[j] = ls[j];
            s[j + 4] = lm[j];
        } else {
            s[j + 4] = (uint8_t)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            s[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
            s[j] |= (uint8_t)((lm[j] >> 4) << 6);
        }
    }
}

void mono_q4k_pack_scales(const uint8_t sc[8], const uint8_t mn[8], uint8_t packed[12]) {
    memset(packed, 0, MONO_K_SCALE_SIZE);
    pack_scales_k4(sc, mn, packed);
}

/* The common part of Q4_K and Q5_K reference quantization: per 32-weight
 * sub-block scale/min search, 6-bit scale coding, then the final levels in
 * L (0..nmax). Fills d, dmin and scales (the first 16 bytes of both). */
static void quantize_k4_common(const float *x, int nmax, float rmin, int nstep, uint16_t *d_out,
                               uint16_t *dmin_out, uint8_t *scales_out, uint8_t *L) {
    uint8_t Laux[32], ls[8], lm[8];
    float weights[32], mins[8], scales[8];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < QK_K / 32; j++) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) weights[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin,
                                     0.1f, nstep, 0);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < 8; j++) {
        ls[j] = (uint8_t)imin(63, (uint8_t)nearest_int(inv_scale * scales[j]));
        lm[j] = (uint8_t)imin(63, (uint8_t)nearest_int(inv_min * mins[j]));
    }
    memset(scales_out, 0, MONO_K_SCALE_SIZE);
    pack_scales_k4(ls, lm, scales_out);
    *d_out = f2h(max_scale / 63.f);
    *dmin_out = f2h(max_min / 63.f);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        mono_q4k_scale_min(j, scales_out, &sc, &m);
        const float d = h2f(*d_out) * sc;
        if (!d) continue;
        const float dm = h2f(*dmin_out) * m;
        for (int ii = 0; ii < 32; ii++)
            L[32 * j + ii] = (uint8_t)imax(0, imin(nmax, nearest_int((x[32 * j + ii] + dm) / d)));
    }
}

void mono_dequantize_row_q4_K(const void *src, float *y, int64_t n) {
    const mono_block_q4_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *q = b[i].qs;
        const float d = h2f(b[i].d), min = h2f(b[i].dmin);
        for (int j = 0; j < 4; j++, q += 32) {
            uint8_t sc, m;
            mono_q4k_scale_min(2 * j, b[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            mono_q4k_scale_min(2 * j + 1, b[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
        }
    }
}

void mono_quantize_row_q4_K(const float *x, void *dst, int64_t n) {
    mono_block_q4_K *y = dst;
    uint8_t L[QK_K];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        quantize_k4_common(x, 15, -1.f, 20, &y[i].d, &y[i].dmin, y[i].scales, L);
        uint8_t *q = y[i].qs;
        for (int j = 0; j < QK_K; j += 64, q += 32)
            for (int l = 0; l < 32; l++) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
    }
}

void mono_dequantize_row_q5_K(const void *src, float *y, int64_t n) {
    const mono_block_q5_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *ql = b[i].qs, *qh = b[i].qh;
        const float d = h2f(b[i].d), min = h2f(b[i].dmin);
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0; j < 4; j++, ql += 32, u1 <<= 2, u2 <<= 2) {
            uint8_t sc, m;
            mono_q4k_scale_min(2 * j, b[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            mono_q4k_scale_min(2 * j + 1, b[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        }
    }
}

void mono_quantize_row_q5_K(const float *x, void *dst, int64_t n) {
    mono_block_q5_K *y = dst;
    uint8_t L[QK_K];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        quantize_k4_common(x, 31, -0.5f, 15, &y[i].d, &y[i].dmin, y[i].scales, L);
        uint8_t *qh = y[i].qh, *ql = y[i].qs;
        memset(qh, 0, QK_K / 8);
        uint8_t m1 = 1, m2 = 2;
        for (int b = 0; b < QK_K; b += 64, ql += 32, m1 <<= 2, m2 <<= 2) {
            for (int j = 0; j < 32; j++) {
                int l1 = L[b + j], l2 = L[b + j + 32];
                if (l1 > 15) { l1 -= 16; qh[j] |= m1; }
                if (l2 > 15) { l2 -= 16; qh[j] |= m2; }
                ql[j] = (uint8_t)(l1 | (l2 << 4));
            }
        }
    }
}

/* ------------------------------------------------------------------ Q6_K */

void mono_dequantize_row_q6_K(const void *src, float *y, int64_t n) {
    const mono_block_q6_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = h2f(b[i].d);
        const uint8_t *ql = b[i].ql, *qh = b[i].qh;
        const int8_t *sc = b[i].scales;
        for (int half = 0; half < 2; half++, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[is] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
        }
    }
}

void mono_quantize_row_q6_K(const float *x, void *dst, int64_t n) {
    mono_block_q6_K *y = dst;
    int8_t L[QK_K];
    float scales[QK_K / 16];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max_scale = 0, max_abs_scale = 0;
        for (int ib = 0; ib < QK_K / 16; ib++) {
            scales[ib] = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
            if (fabsf(scales[ib]) > max_abs_scale) {
                max_abs_scale = fabsf(scales[ib]);
                max_scale = scales[ib];
            }
        }
        if (max_abs_scale < GROUP_MAX_EPS) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        float iscale = -128.f / max_scale;
        y[i].d = f2h(1 / iscale);
        for (int ib = 0; ib < QK_K / 16; ib++)
            y[i].scales[ib] = (int8_t)imin(127, nearest_int(iscale * scales[ib]));
        for (int j = 0; j < QK_K / 16; j++) {
            float d = h2f(y[i].d) * y[i].scales[j];
            if (!d) continue;
            for (int ii = 0; ii < 16; ii++) {
                int l = imax(-32, imin(31, nearest_int(x[16 * j + ii] / d)));
                L[16 * j + ii] = (int8_t)(l + 32);
            }
        }
        uint8_t *ql = y[i].ql, *qh = y[i].qh;
        for (int j = 0; j < QK_K; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; l++) {
                const uint8_t *Lb = (const uint8_t *)L + j + l;
                ql[l] = (uint8_t)((Lb[0] & 0xF) | ((Lb[64] & 0xF) << 4));
                ql[l + 32] = (uint8_t)((Lb[32] & 0xF) | ((Lb[96] & 0xF) << 4));
                qh[l] = (uint8_t)((Lb[0] >> 4) | ((Lb[32] >> 4) << 2) | ((Lb[64] >> 4) << 4) |
                                  ((Lb[96] >> 4) << 6));
            }
        }
    }
}

/* ------------------------------------------------------------------ Q8_K */

void mono_dequantize_row_q8_K(const void *src, float *dst, int64_t n) {
    const mono_block_q8_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K)
        for (int j = 0; j < QK_K; j++) dst[j] = b[i].d * b[i].qs[j];
}

void mono_quantize_row_q8_K(const float *x, void *dst, int64_t n) {
    mono_block_q8_K *y = dst;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max = 0, amax = 0;
        for (int j = 0; j < QK_K; j++)
            if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); max = x[j]; }
        if (!amax) { /* llama.cpp leaves bsums unwritten here; zero them */
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < QK_K; j++) y[i].qs[j] = (int8_t)imin(127, nearest_int(iscale * x[j]));
        for (int j = 0; j < QK_K / 16; j++) {
            int sum = 0;
            for (int ii = 0; ii < 16; ii++) sum += y[i].qs[16 * j + ii];
            y[i].bsums[j] = (int16_t)sum;
        }
        y[i].d = 1 / iscale;
    }
}
