/*
 * vmath.c -- SwiGLU and softmax with an exp that vectorizes (see vmath.h).
 */
#include "model/vmath.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* This file is built for the baseline ISA; on x86 Linux with GCC (not clang:
 * its target_clones leaves the symbol undefined in version 14) the
 * two loops are also compiled for AVX2 and AVX-512 and the loader picks one
 * (ifunc). Every clone does the same float operations in the same order
 * (no FMA contraction under -std=c11), so all give the same results. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(MONO_NO_CLONES)
#define VM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VM_CLONES
#endif
#if defined(__GNUC__)
#define VM_INLINE __attribute__((always_inline)) inline
#else
#define VM_INLINE inline
#endif

/* exp(x) = 2^n * exp(r), n = round(x / ln 2), r = x - n ln 2 (in two parts,
 * so r is exact to float precision); exp(r) by Cephes' expf polynomial. n is
 * rounded by the 1.5 * 2^23 trick and 2^n built from its bits, with no
 * float-to-int conversion (so NaN passes through without undefined
 * behaviour and every step is a plain vector operation). */
static VM_INLINE float expf_approx(float x) {
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.7f ? 88.7f : x;
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    float nm = x * 1.44269504088896341f + magic;
    float n = nm - magic;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    uint32_t bits;
    memcpy(&bits, &nm, 4);
    bits = (bits - 0x4B400000u + 127u) << 23; /* n + 127 in the exponent field */
    float scale;
    memcpy(&scale, &bits, 4);
    return p * scale;
}

float mono_expf_approx(float x) { return expf_approx(x); }

/* Loops run in blocks of 16 with a scalar tail: a fixed trip count is what
 * GCC's -O2 vectorizer (the "very cheap" cost model) accepts. */
#define VM_BLOCK 16

static VM_INLINE float silu_mul(float g, float u) { return g / (1.0f + expf_approx(-g)) * u; }

VM_CLONES
void mono_swiglu(float *restrict gate, const float *restrict up, size_t n) {
    size_t i = 0;
    for (; i + VM_BLOCK <= n; i += VM_BLOCK)
        for (int k = 0; k < VM_BLOCK; k++) gate[i + k] = silu_mul(gate[i + k], up[i + k]);
    for (; i < n; i++) gate[i] = silu_mul(gate[i], up[i]);
}

/* The maximum and the sum run in VM_BLOCK lanes (lane k takes elements
 * k, k + 16, ...), then the lanes combine: a single running value would be
 * one long dependency chain (~4 cycles an element; at a few hundred
 * positions, 7 heads and 24 layers that was ~0.15 ms of every decoded
 * token). The lanes are in the source, so every clone adds in the same
 * order and gives the same floats. */
static VM_INLINE float max_of(const float *s, int n) {
    float m[VM_BLOCK];
    for (int k = 0; k < VM_BLOCK; k++) m[k] = s[0];
    int j = 0;
    for (; j + VM_BLOCK <= n; j += VM_BLOCK)
        for (int k = 0; k < VM_BLOCK; k++) m[k] = s[j + k] > m[k] ? s[j + k] : m[k];
    for (; j < n; j++) m[0] = s[j] > m[0] ? s[j] : m[0];
    float max = m[0];
    for (int k = 1; k < VM_BLOCK; k++) max = m[k] > max ? m[k] : max;
    return max;
}

/* s = exp(scale * (s - max)); returns the sum */
static VM_INLINE float exp_sum(float *s, int n, float max, float scale) {
    float acc[VM_BLOCK];
    for (int k = 0; k < VM_BLOCK; k++) acc[k] = 0;
    int j = 0;
    for (; j + VM_BLOCK <= n; j += VM_BLOCK)
        for (int k = 0; k < VM_BLOCK; k++) {
            s[j + k] = expf_approx((s[j + k] - max) * scale);
            acc[k] += s[j + k];
        }
    for (; j < n; j++) {
        s[j] = expf_approx((s[j] - max) * scale);
        acc[0] += s[j];
    }
    float sum = 0;
    for (int k = 0; k < VM_BLOCK; k++) sum += acc[k];
    return sum;
}

VM_CLONES
void mono_softmax(float *s, int n, float scale) {
    float inv = 1.0f / exp_sum(s, n, max_of(s, n), scale);
    for (int j = 0; j < n; j++) s[j] *= inv;
}

VM_CLONES
float mono_softmax_block(float *s, int n, float scale, float *run_max, float *rescale) {
    float old = *run_max, max = max_of(s, n);
    max = old > max ? old : max;
    *rescale = old == -INFINITY ? 0.0f : expf_approx((old - max) * scale);
    *run_max = max;
    return exp_sum(s, n, max, scale);
}
