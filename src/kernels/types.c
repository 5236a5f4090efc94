/*
 * types.c -- the type traits table and the scalar half/bfloat16 conversions.
 *
 * Quantized types' conversions live in the quant_* files; their entries here
 * give the block geometry llama.cpp defines (QK = 32 for the legacy types,
 * QK_K = 256 for the K-quants).
 */
#include "kernels/types.h"
#include "kernels/quant.h"

#include <string.h>

float mono_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) { man <<= 1; exp--; }
            man &= 0x3FF;
            bits = sign | (exp << 23) | (man << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t mono_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t absx = x & 0x7FFFFFFFu;
    if (absx >= 0x7F800000u) /* inf or nan */
        return (uint16_t)(sign | 0x7C00 | (absx > 0x7F800000u ? 0x200 : 0));
    if (absx >= 0x477FF000u) return (uint16_t)(sign | 0x7C00); /* rounds to inf */
    if (absx < 0x38800000u) { /* subnormal or zero in half */
        if (absx < 0x33000000u) return (uint16_t)sign;
        uint32_t e = absx >> 23, m = (absx & 0x7FFFFF) | 0x800000;
        uint32_t shift = 126 - e; /* half subnormal = m * 2^(e-150) / 2^-24 */
        uint32_t half = m >> shift, rem = m & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t h = ((absx >> 13) - (112u << 10));
    uint32_t rem = absx & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

float mono_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t mono_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((x >> 16) | 0x40); /* quiet nan */
    return (uint16_t)((x + (0x7FFF + ((x >> 16) & 1))) >> 16);
}

static void f32_to_float(const void *src, float *dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }
static void f32_from_float(const float *src, void *dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }
static void f16_to_float(const void *src, float *dst, int64_t n) {
    const uint16_t *s = src;
    for (int64_t i = 0; i < n; i++) dst[i] = mono_f16_to_f32(s[i]);
}
static void f16_from_float(const float *src, void *dst, int64_t n) {
    uint16_t *d = dst;
    for (int64_t i = 0; i < n; i++) d[i] = mono_f32_to_f16(src[i]);
}
static void bf16_to_float(const void *src, float *dst, int64_t n) {
    const uint16_t *s = src;
    for (int64_t i = 0; i < n; i++) dst[i] = mono_bf16_to_f32(s[i]);
}
static void bf16_from_float(const float *src, void *dst, int64_t n) {
    uint16_t *d = dst;
    for (int64_t i = 0; i < n; i++) d[i] = mono_f32_to_bf16(src[i]);
}

/* Quantized types add their entries here (conversions in quant_*.c). */
static const mono_type_traits table[MONO_TYPE_COUNT] = {
    [MONO_TYPE_F32] = {"f32", 1, 4, 0, f32_to_float, f32_from_float, MONO_TYPE_F32},
    [MONO_TYPE_F16] = {"f16", 1, 2, 0, f16_to_float, f16_from_float, MONO_TYPE_F32},
    [MONO_TYPE_BF16] = {"bf16", 1, 2, 0, bf16_to_float, bf16_from_float, MONO_TYPE_F32},
#define QUANT_ENTRY(T, name, bs, bytes, vdt) \
    [MONO_TYPE_##T] = {#name, bs, bytes, 1, mono_dequantize_row_##name, mono_quantize_row_##name, MONO_TYPE_##vdt}
    QUANT_ENTRY(Q4_0, q4_0, 32, 18, Q8_0),
    QUANT_ENTRY(Q4_1, q4_1, 32, 20, Q8_1),
    QUANT_ENTRY(Q5_0, q5_0, 32, 22, Q8_0),
    QUANT_ENTRY(Q5_1, q5_1, 32, 24, Q8_1),
    QUANT_ENTRY(Q8_0, q8_0, 32, 34, Q8_0),
    QUANT_ENTRY(Q8_1, q8_1, 32, 36, Q8_1),
    QUANT_ENTRY(Q2_K, q2_K, 256, 84, Q8_K),
    QUANT_ENTRY(Q3_K, q3_K, 256, 110, Q8_K),
    QUANT_ENTRY(Q4_K, q4_K, 256, 144, Q8_K),
    QUANT_ENTRY(Q5_K, q5_K, 256, 176, Q8_K),
    QUANT_ENTRY(Q6_K, q6_K, 256, 210, Q8_K),
    QUANT_ENTRY(Q8_K, q8_K, 256, 292, Q8_K),
#undef QUANT_ENTRY
};

const mono_type_traits *mono_type_get(int type) {
    if (type < 0 || type >= MONO_TYPE_COUNT || !table[type].name) return NULL;
    return &table[type];
}

size_t mono_type_row_bytes(int type, int64_t n) {
    const mono_type_traits *t = mono_type_get(type);
    if (!t || n < 0 || n % t->block_size) return 0;
    uint64_t blocks = (uint64_t)(n / t->block_size);
    if (blocks > SIZE_MAX / t->block_bytes) return 0;
    return (size_t)blocks * t->block_bytes;
}
