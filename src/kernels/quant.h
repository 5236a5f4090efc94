/*
 * quant.h -- block layouts of the quantized weight types and the private
 * prototypes shared by quant_ref.c (dequantization, reference quantization),
 * quant_portable.c (C dot products) and the SIMD files.
 *
 * Every layout is byte-for-byte llama.cpp's (ggml-common.h): a GGUF tensor of
 * type Q4_K is an array of mono_block_q4_K. Halves (d, dmin, m, s) are IEEE
 * binary16 stored as uint16_t; the structs have no padding (checked below).
 *
 * Legacy types pack QK = 32 weights per block; K-quants pack QK_K = 256 per
 * super-block with 8 or 16 sub-block scales. Activations are converted to
 * Q8_0 (Q4_0, Q5_0, Q8_0 weights), Q8_1 (Q4_1, Q5_1: the block sum s = d *
 * sum(qs) carries the min term) or Q8_K (K-quants: bsums carry the min term)
 * before an integer dot product. The kernels rely on what the activation
 * quantizers guarantee: activation quants lie in [-127, 127] (the x86 sign
 * trick cannot negate -128) and Q8_K's bsums are the sums of its quants.
 * Weight bytes may be anything (a hostile file): no kernel reads outside its
 * blocks or misbehaves on them.
 */
#ifndef MONO_KERNELS_QUANT_H
#define MONO_KERNELS_QUANT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"

#define MONO_QK 32
#define MONO_QK_K 256
#define MONO_K_SCALE_SIZE 12

typedef struct { uint16_t d; uint8_t qs[MONO_QK / 2]; } mono_block_q4_0;
typedef struct { uint16_t d, m; uint8_t qs[MONO_QK / 2]; } mono_block_q4_1;
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[MONO_QK / 2]; } mono_block_q5_0;
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[MONO_QK / 2]; } mono_block_q5_1;
typedef struct { uint16_t d; int8_t qs[MONO_QK]; } mono_block_q8_0;
typedef struct { uint16_t d, s; int8_t qs[MONO_QK]; } mono_block_q8_1;

/* 2.625 bits: 16 scales/mins as 4-bit pairs, 2-bit quants. w = d*sc*q - dmin*m */
typedef struct {
    uint8_t scales[MONO_QK_K / 16];
    uint8_t qs[MONO_QK_K / 4];
    uint16_t d, dmin;
} mono_block_q2_K;
/* 3.4375 bits: 16 6-bit scales, 2 low bits in qs, high bit in hmask. w = d*sc*q */
typedef struct {
    uint8_t hmask[MONO_QK_K / 8];
    uint8_t qs[MONO_QK_K / 4];
    uint8_t scales[12];
    uint16_t d;
} mono_block_q3_K;
/* 4.5 bits: 8 sub-blocks of 32 with 6-bit scale and min. w = d*sc*q - dmin*m */
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[MONO_K_SCALE_SIZE];
    uint8_t qs[MONO_QK_K / 2];
} mono_block_q4_K;
/* 5.5 bits: as Q4_K plus one high bit per weight in qh. */
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[MONO_K_SCALE_SIZE];
    uint8_t qh[MONO_QK_K / 8];
    uint8_t qs[MONO_QK_K / 2];
} mono_block_q5_K;
/* 6.5625 bits: 16 sub-blocks of 16 with int8 scales; q in [-32, 31]. w = d*sc*q */
typedef struct {
    uint8_t ql[MONO_QK_K / 2];
    uint8_t qh[MONO_QK_K / 4];
    int8_t scales[MONO_QK_K / 16];
    uint16_t d;
} mono_block_q6_K;
/* Activations for the K-quants: float scale, sums of each 16 quants. */
typedef struct {
    float d;
    int8_t qs[MONO_QK_K];
    int16_t bsums[MONO_QK_K / 16];
} mono_block_q8_K;

_Static_assert(sizeof(mono_block_q4_0) == 18, "q4_0 layout");
_Static_assert(sizeof(mono_block_q4_1) == 20, "q4_1 layout");
_Static_assert(sizeof(mono_block_q5_0) == 22, "q5_0 layout");
_Static_assert(sizeof(mono_block_q5_1) == 24, "q5_1 layout");
_Static_assert(sizeof(mono_block_q8_0) == 34, "q8_0 layout");
_Static_assert(sizeof(mono_block_q8_1) == 36, "q8_1 layout");
_Static_assert(sizeof(mono_block_q2_K) == 84, "q2_K layout");
_Static_assert(sizeof(mono_block_q3_K) == 110, "q3_K layout");
_Static_assert(sizeof(mono_block_q4_K) == 144, "q4_K layout");
_Static_assert(sizeof(mono_block_q5_K) == 176, "q5_K layout");
_Static_assert(sizeof(mono_block_q6_K) == 210, "q6_K layout");
_Static_assert(sizeof(mono_block_q8_K) == 292, "q8_K layout");

/* Sub-block j (0..7) scale and min of a Q4_K/Q5_K block's packed 12 bytes. */
static inline void mono_q4k_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* The same unpacking four bytes at a time: sc[0..7] = scales, mn[0..7] =
 * mins (byte j of the little-endian words is sub-block j). */
static inline void mono_q4k_scales_u32(const uint8_t *s, uint32_t sc[2], uint32_t mn[2]) {
    uint32_t a, b, c;
    memcpy(&a, s, 4);
    memcpy(&b, s + 4, 4);
    memcpy(&c, s + 8, 4);
    sc[0] = a & 0x3f3f3f3fu;
    mn[0] = b & 0x3f3f3f3fu;
    sc[1] = (c & 0x0f0f0f0fu) | (((a >> 6) & 0x03030303u) << 4);
    mn[1] = ((c >> 4) & 0x0f0f0f0fu) | (((b >> 6) & 0x03030303u) << 4);
}

/* All 8 scales then all 8 mins of a Q4_K/Q5_K block, as bytes. */
void mono_q4k_unpack_scales(const uint8_t packed[12], uint8_t sc[8], uint8_t mn[8]);
/* The inverse: 8 scales and 8 mins (each < 64) into the 12 bytes. */
void mono_q4k_pack_scales(const uint8_t sc[8], const uint8_t mn[8], uint8_t packed[12]);
/* The 16 signed 6-bit scales (already minus 32) of a Q3_K block. */
void mono_q3k_unpack_scales(const uint8_t packed[12], int8_t out[16]);

/* Dequantization (bit-exact with llama.cpp's dequantize_row_*) and
 * reference quantization (byte-exact with quantize_row_*_ref); quant_ref.c. */
#define MONO_QUANT_TYPES(X) X(q4_0) X(q4_1) X(q5_0) X(q5_1) X(q8_0) X(q8_1) \
    X(q2_K) X(q3_K) X(q4_K) X(q5_K) X(q6_K) X(q8_K)
#define MONO_DECLARE_ROW(t) \
    void mono_dequantize_row_##t(const void *src, float *dst, int64_t n); \
    void mono_quantize_row_##t(const float *src, void *dst, int64_t n);
MONO_QUANT_TYPES(MONO_DECLARE_ROW)
#undef MONO_DECLARE_ROW

/* Portable dot products (quant_portable.c): the oracle for the SIMD ones. */
void mono_vec_dot_q4_0_q8_0(int64_t n, float *out, const void *w, const void *x);
void mono_vec_dot_q4_1_q8_1(int64_t n, float *out, const void *w, const void *x);
void mono_vec_dot_q5_0_q8_0(int64_t n, float *out, const void *w, const void *x);
void mono_vec_dot_q5_1_q8_1(int64_t n, float *out, const void *w, const void *x);
void mono_vec_dot_q8_0_q8_0(int64_t n, float *out, const void *w, const void *x);
void mono_vec_dot_q2_K_q8_K(int64_t n, float *out, const void *w, const void *x);
void mono_vec_dot_q3_K_q8_K(int64_t n, float *out, const void *w, const void *x);
void mono_vec_dot_q4_K_q8_K(int64_t n, float *out, const void *w, const void *x);
void mono_vec_dot_q5_K_q8_K(int64_t n, float *out, const void *w, const void *x);
void mono_vec_dot_q6_K_q8_K(int64_t n, float *out, const void *w, const void *x);

/* The portable gemm: loops vec_dot (the generic fallback any ISA may use). */
void mono_gemm_by_vec_dot(mono_vec_dot_fn dot, int64_t n, const void *w, size_t w_row_bytes,
                          int64_t r0, int64_t r1, const void *x, size_t x_row_bytes,
                          int64_t n_tok, float *out, size_t out_stride);

#endif
