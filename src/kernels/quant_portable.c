/*
 * quant_portable.c -- plain C dot products of quantized weight rows with
 * quantized activations, and the portable kernel registration.
 *
 * These are the oracle for every SIMD version: each block's integer sum is
 * computed exactly (int32), then scaled in float. SIMD kernels must give the
 * same integers; only the float accumulation order may differ.
 *
 * Pairings (the weight type's vec_dot_type): Q4_0, Q5_0, Q8_0 x Q8_0;
 * Q4_1, Q5_1 x Q8_1 (the activation block sum s = d*sum(q) gives the min
 * term); K-quants x Q8_K (bsums give the min term).
 */
#include "kernels/quant.h"

#include <string.h>

#define QK MONO_QK
#define QK_K MONO_QK_K

static inline float h2f(uint16_t h) { return mono_f16_to_f32(h); }

static inline int dot32_u4(const uint8_t *qs, int offset, const int8_t *y) {
    /* weights (nibble - offset): low nibbles are elements 0..15, high 16..31 */
    int s = 0;
    for (int j = 0; j < QK / 2; j++) {
        s += ((qs[j] & 0xF) - offset) * y[j];
        s += ((qs[j] >> 4) - offset) * y[j + QK / 2];
    }
    return s;
}

static inline int dot32_u5(const uint8_t *qs, const uint8_t *qh4, int offset, const int8_t *y) {
    uint32_t qh;
    memcpy(&qh, qh4, 4);
    int s = 0;
    for (int j = 0; j < QK / 2; j++) {
        int w0 = ((qs[j] & 0xF) | (((qh >> j) & 1) << 4)) - offset;
        int w1 = ((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - offset;
        s += w0 * y[j] + w1 * y[j + QK / 2];
    }
    return s;
}

void mono_vec_dot_q4_0_q8_0(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q4_0 *a = w;
    const mono_block_q8_0 *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / QK; i++)
        sum += (float)dot32_u4(a[i].qs, 8, b[i].qs) * (h2f(a[i].d) * h2f(b[i].d));
    *out = sum;
}

void mono_vec_dot_q4_1_q8_1(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q4_1 *a = w;
    const mono_block_q8_1 *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / QK; i++)
        sum += (float)dot32_u4(a[i].qs, 0, b[i].qs) * (h2f(a[i].d) * h2f(b[i].d)) +
               h2f(a[i].m) * h2f(b[i].s);
    *out = sum;
}

void mono_vec_dot_q5_0_q8_0(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q5_0 *a = w;
    const mono_block_q8_0 *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / QK; i++)
        sum += (float)dot32_u5(a[i].qs, a[i].qh, 16, b[i].qs) * (h2f(a[i].d) * h2f(b[i].d));
    *out = sum;
}

void mono_vec_dot_q5_1_q8_1(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q5_1 *a = w;
    const mono_block_q8_1 *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / QK; i++)
        sum += (float)dot32_u5(a[i].qs, a[i].qh, 0, b[i].qs) * (h2f(a[i].d) * h2f(b[i].d)) +
               h2f(a[i].m) * h2f(b[i].s);
    *out = sum;
}

void mono_vec_dot_q8_0_q8_0(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q8_0 *a = w;
    const mono_block_q8_0 *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / QK; i++) {
        int s = 0;
        for (int j = 0; j < QK; j++) s += a[i].qs[j] * b[i].qs[j];
        sum += (float)s * (h2f(a[i].d) * h2f(b[i].d));
    }
    *out = sum;
}

/* ------------------------------------------------------------- K-quants */

void mono_vec_dot_q2_K_q8_K(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q2_K *a = w;
    const mono_block_q8_K *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int isum = 0, msum = 0, is = 0;
        const int8_t *y = b[i].qs;
        for (int half = 0; half < 2; half++) {
            const uint8_t *q = a[i].qs + 32 * half;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int k = 0; k < 2; k++, is++, y += 16) {
                    int s = 0;
                    for (int l = 0; l < 16; l++) s += ((q[l + 16 * k] >> shift) & 3) * y[l];
                    isum += (a[i].scales[is] & 0xF) * s;
                    msum += (a[i].scales[is] >> 4) * b[i].bsums[is];
                }
            }
        }
        sum += b[i].d * (h2f(a[i].d) * (float)isum - h2f(a[i].dmin) * (float)msum);
    }
    *out = sum;
}

void mono_vec_dot_q3_K_q8_K(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q3_K *a = w;
    const mono_block_q8_K *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t sc[16];
        mono_q3k_unpack_scales(a[i].scales, sc);
        int isum = 0, is = 0;
        const int8_t *y = b[i].qs;
        uint8_t m = 1;
        for (int half = 0; half < 2; half++) {
            const uint8_t *q = a[i].qs + 32 * half;
            for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
                for (int k = 0; k < 2; k++, is++, y += 16) {
                    const uint8_t *hm = a[i].hmask + 16 * k;
                    int s = 0;
                    for (int l = 0; l < 16; l++)
                        s += (((q[l + 16 * k] >> shift) & 3) - ((hm[l] & m) ? 0 : 4)) * y[l];
                    isum += sc[is] * s;
                }
            }
        }
        sum += b[i].d * h2f(a[i].d) * (float)isum;
    }
    *out = sum;
}

void mono_vec_dot_q4_K_q8_K(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q4_K *a = w;
    const mono_block_q8_K *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sc[8], mn[8];
        mono_q4k_unpack_scales(a[i].scales, sc, mn);
        int isum = 0, msum = 0;
        for (int j = 0; j < 4; j++) {
            const uint8_t *q = a[i].qs + 32 * j;
            const int8_t *y = b[i].qs + 64 * j;
            int s0 = 0, s1 = 0;
            for (int l = 0; l < 32; l++) {
                s0 += (q[l] & 0xF) * y[l];
                s1 += (q[l] >> 4) * y[l + 32];
            }
            isum += sc[2 * j] * s0 + sc[2 * j + 1] * s1;
        }
        for (int j = 0; j < 8; j++) msum += mn[j] * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
        sum += b[i].d * (h2f(a[i].d) * (float)isum - h2f(a[i].dmin) * (float)msum);
    }
    *out = sum;
}

void mono_vec_dot_q5_K_q8_K(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q5_K *a = w;
    const mono_block_q8_K *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sc[8], mn[8];
        mono_q4k_unpack_scales(a[i].scales, sc, mn);
        int isum = 0, msum = 0;
        for (int j = 0; j < 4; j++) {
            const uint8_t *q = a[i].qs + 32 * j, *qh = a[i].qh;
            const int8_t *y = b[i].qs + 64 * j;
            int s0 = 0, s1 = 0;
            for (int l = 0; l < 32; l++) {
                s0 += ((q[l] & 0xF) | (((qh[l] >> (2 * j)) & 1) << 4)) * y[l];
                s1 += ((q[l] >> 4) | (((qh[l] >> (2 * j + 1)) & 1) << 4)) * y[l + 32];
            }
            isum += sc[2 * j] * s0 + sc[2 * j + 1] * s1;
        }
        for (int j = 0; j < 8; j++) msum += mn[j] * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
        sum += b[i].d * (h2f(a[i].d) * (float)isum - h2f(a[i].dmin) * (float)msum);
    }
    *out = sum;
}

void mono_vec_dot_q6_K_q8_K(int64_t n, float *out, const void *w, const void *x) {
    const mono_block_q6_K *a = w;
    const mono_block_q8_K *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int isum = 0;
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = a[i].ql + 64 * half, *qh = a[i].qh + 32 * half;
            const int8_t *sc = a[i].scales + 8 * half, *y = b[i].qs + 128 * half;
            for (int k = 0; k < 4; k++) { /* 32 weights l + 32k share qh bits 2k, 2k+1 */
                const uint8_t *lo = ql + 32 * (k & 1);
                int s0 = 0, s1 = 0;
                for (int l = 0; l < 32; l++) {
                    int q = ((k < 2 ? lo[l] & 0xF : lo[l] >> 4) | (((qh[l] >> (2 * k)) & 3) << 4)) - 32;
                    if (l < 16) s0 += q * y[32 * k + l];
                    else s1 += q * y[32 * k + l];
                }
                isum += sc[2 * k] * s0 + sc[2 * k + 1] * s1;
            }
        }
        sum += b[i].d * h2f(a[i].d) * (float)isum;
    }
    *out = sum;
}

void mono_gemm_by_vec_dot(mono_vec_dot_fn dot, int64_t n, const void *w, size_t w_row_bytes,
                          int64_t r0, int64_t r1, const void *x, size_t x_row_bytes,
                          int64_t n_tok, float *out, size_t out_stride) {
    for (int64_t r = r0; r < r1; r++) {
        const char *wr = (const char *)w + (size_t)r * w_row_bytes;
        for (int64_t t = 0; t < n_tok; t++)
            dot(n, &out[(size_t)t * out_stride + (size_t)r], wr, (const char *)x + (size_t)t * x_row_bytes);
    }
}

void mono_kernels_register_quant_portable(mono_kernels *k) {
    k->vec_dot[MONO_TYPE_Q4_0] = mono_vec_dot_q4_0_q8_0;
    k->vec_dot[MONO_TYPE_Q4_1] = mono_vec_dot_q4_1_q8_1;
    k->vec_dot[MONO_TYPE_Q5_0] = mono_vec_dot_q5_0_q8_0;
    k->vec_dot[MONO_TYPE_Q5_1] = mono_vec_dot_q5_1_q8_1;
    k->vec_dot[MONO_TYPE_Q8_0] = mono_vec_dot_q8_0_q8_0;
    k->vec_dot[MONO_TYPE_Q2_K] = mono_vec_dot_q2_K_q8_K;
    k->vec_dot[MONO_TYPE_Q3_K] = mono_vec_dot_q3_K_q8_K;
    k->vec_dot[MONO_TYPE_Q4_K] = mono_vec_dot_q4_K_q8_K;
    k->vec_dot[MONO_TYPE_Q5_K] = mono_vec_dot_q5_K_q8_K;
    k->vec_dot[MONO_TYPE_Q6_K] = mono_vec_dot_q6_K_q8_K;
    k->quantize_row[MONO_TYPE_Q8_0] = mono_quantize_row_q8_0;
    k->quantize_row[MONO_TYPE_Q8_1] = mono_quantize_row_q8_1;
    k->quantize_row[MONO_TYPE_Q8_K] = mono_quantize_row_q8_K;
}
