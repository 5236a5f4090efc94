/*
 * types.h -- tensor element types and their traits (block layout, row
 * conversion), shared by the file readers, the quantizer and the kernels.
 *
 * The numeric values are GGUF's ggml_type ids, so a type read from a file is
 * used as is. Quantized types store blocks of block_size elements in
 * block_bytes bytes; a row of n elements (n a multiple of block_size) takes
 * n / block_size * block_bytes bytes. Dequantization is bit-exact with
 * llama.cpp's definition of each type.
 */
#ifndef MONO_KERNELS_TYPES_H
#define MONO_KERNELS_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef enum mono_type {
    MONO_TYPE_F32 = 0,
    MONO_TYPE_F16 = 1,
    MONO_TYPE_Q4_0 = 2,
    MONO_TYPE_Q4_1 = 3,
    MONO_TYPE_Q5_0 = 6,
    MONO_TYPE_Q5_1 = 7,
    MONO_TYPE_Q8_0 = 8,
    MONO_TYPE_Q8_1 = 9,
    MONO_TYPE_Q2_K = 10,
    MONO_TYPE_Q3_K = 11,
    MONO_TYPE_Q4_K = 12,
    MONO_TYPE_Q5_K = 13,
    MONO_TYPE_Q6_K = 14,
    MONO_TYPE_Q8_K = 15,
    MONO_TYPE_BF16 = 30,
    MONO_TYPE_COUNT = 40   /* table size; ids above are not valid */
} mono_type;

typedef struct mono_type_traits {
    const char *name;        /* "f32", "q4_K", ... as llama.cpp spells them */
    int64_t block_size;      /* elements per block (1 for f32/f16/bf16) */
    size_t block_bytes;      /* bytes per block */
    int quantized;
    /* Row conversions; n is a multiple of block_size. NULL if unsupported. */
    void (*to_float)(const void *src, float *dst, int64_t n);
    void (*from_float)(const float *src, void *dst, int64_t n);
    /* The type activations are converted to before a dot product with a row
     * of this type (e.g. Q8_0 for Q4_0 weights, Q8_K for K-quants, F32 for
     * float weights). */
    mono_type vec_dot_type;
} mono_type_traits;

/* Traits of a type, or NULL for an id this build does not know. */
const mono_type_traits *mono_type_get(int type);

/* Bytes of a row of n elements; 0 if the type is unknown or n is not a
 * multiple of its block size (callers treat 0 as "refuse the tensor"). */
size_t mono_type_row_bytes(int type, int64_t n);

/* IEEE half and bfloat16 conversions (round to nearest even). */
float mono_f16_to_f32(uint16_t h);
uint16_t mono_f32_to_f16(float f);
float mono_bf16_to_f32(uint16_t h);
uint16_t mono_f32_to_bf16(float f);

#endif
