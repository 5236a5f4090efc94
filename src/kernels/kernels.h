/*
 * kernels.h -- the per-ISA compute interface.
 *
 * The forward pass never calls SIMD code directly: it asks a mono_kernels
 * table, filled once at start-up from the CPU's features, for the dot
 * product and matrix kernels of each weight type. Every ISA fills only what
 * it implements on top of the portable C versions, which are always present
 * (they are what WebAssembly without SIMD uses and the tests' oracle).
 *
 * Files: *_portable.c (plain C11), *_avx2.c, *_avx512.c, *_neon.c, *_wasm.c;
 * the Makefile gives each suffix its ISA flags.
 */
#ifndef MONO_KERNELS_H
#define MONO_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/types.h"

typedef struct mono_cpu {
    int avx2, fma, f16c;
    int avx512f, avx512bw, avx512vl, avx512vnni, avx512bf16;
    int neon, dotprod;
    int simd128;
} mono_cpu;

/* Fills cpu from CPUID (x86), compile-time flags (ARM, wasm). Honours the
 * environment variable MONO_ISA=portable|avx2|avx512 (x86), portable|neon
 * (AArch64), portable|wasm_simd128 (wasm) to cap what is used. */
void mono_cpu_detect(mono_cpu *cpu);

/* *out = dot(w[0..n), x[0..n)); w is one row of the weight type, x is one row
 * of that type's vec_dot_type (already converted). n % block_size == 0. */
typedef void (*mono_vec_dot_fn)(int64_t n, float *out, const void *w, const void *x);

/* Blocked matrix product for prefill:
 *   out[t * out_stride + r] = dot(W row r, X row t)
 * for rows r in [r0, r1) and tokens t in [0, n_tok); W rows are w_row_bytes
 * apart, X rows (in vec_dot_type) x_row_bytes apart. Implementations reuse
 * each weight block across several tokens. NULL means "use vec_dot". */
typedef void (*mono_gemm_fn)(int64_t n, const void *w, size_t w_row_bytes, int64_t r0, int64_t r1,
                             const void *x, size_t x_row_bytes, int64_t n_tok,
                             float *out, size_t out_stride);

/* Optional load-time repacking for decode (llama.cpp repacks Q4_0 the same
 * way): the rows of a matrix interleaved in groups of repack_rows[type], so
 * that one 512-bit vpdpbusd serves 16 rows and the per-block scale work is
 * done once per 16 rows; F16/BF16 rows longer than 1024 in column panels
 * per group of 64 rows (float_panel.h: the activation slice stays in L1).
 * NULL entries: no repacked form for that type here.
 *   repack_size(rows, n): bytes of the repacked [rows x n] matrix (the last
 *     group padded with zero rows), 0 if this shape is not supported;
 *   repack(w, w_row_bytes, rows, n, dst): writes it (dst: repack_size bytes,
 *     64-byte aligned is best); the original matrix is not needed afterwards;
 *   unrepack(wr, rows, n, r0, r1, dst, dst_row_bytes): the inverse, for rows
 *     [r0, r1) (r0 a multiple of repack_rows): row r's bytes, exactly as in
 *     the file, at dst + (r - r0) * dst_row_bytes (prefill runs the gemm on
 *     such slices);
 *   gemm_repacked(n, wr, rows, r0, r1, x, x_row_bytes, n_tok, out, os): as
 *     mono_gemm_fn, W given as the whole repacked matrix wr of `rows` rows,
 *     for decode and prefill alike (n_tok >= 4 runs a token-tiled GEMM);
 *     Any [r0, r1) works; ranges that start on a multiple of repack_rows
 *     avoid recomputing a shared group. Exact per-block integer sums, as
 *     vec_dot (only float summation order differs). */
typedef size_t (*mono_repack_size_fn)(int64_t rows, int64_t n);
typedef void (*mono_repack_fn)(const void *w, size_t w_row_bytes, int64_t rows, int64_t n, void *dst);
typedef void (*mono_unrepack_fn)(const void *wr, int64_t rows, int64_t n, int64_t r0, int64_t r1, void *dst,
                                 size_t dst_row_bytes);
typedef void (*mono_gemm_repacked_fn)(int64_t n, const void *wr, int64_t rows, int64_t r0, int64_t r1,
                                      const void *x, size_t x_row_bytes, int64_t n_tok, float *out,
                                      size_t out_stride);

typedef struct mono_kernels {
    mono_cpu cpu;
    const char *isa;                         /* best ISA in use, e.g. "avx512" */
    mono_vec_dot_fn vec_dot[MONO_TYPE_COUNT];
    mono_gemm_fn gemm[MONO_TYPE_COUNT];
    /* activation conversion to a vec_dot_type (may be a SIMD version of the
     * type's from_float; must give the same bytes) */
    void (*quantize_row[MONO_TYPE_COUNT])(const float *src, void *dst, int64_t n);
    /* rows back to float32 (a SIMD version of the type's to_float, same
     * floats; NULL where an ISA has none): the F16 KV cache's value rows */
    void (*to_float[MONO_TYPE_COUNT])(const void *src, float *dst, int64_t n);
    /* optional repacking (see above); all NULL/0 unless an ISA fills them */
    int repack_rows[MONO_TYPE_COUNT];
    mono_repack_size_fn repack_size[MONO_TYPE_COUNT];
    mono_repack_fn repack[MONO_TYPE_COUNT];
    mono_unrepack_fn unrepack[MONO_TYPE_COUNT];
    mono_gemm_repacked_fn gemm_repacked[MONO_TYPE_COUNT];
} mono_kernels;

/* Fills k for this CPU: portable first, then each ISA the CPU supports. */
void mono_kernels_init(mono_kernels *k);

/* Registration hooks, one per (family, ISA) file. Each overwrites only the
 * entries it implements. "float" = f32/f16/bf16 weights; "quant" = the
 * block-quantized types. */
void mono_kernels_register_float_portable(mono_kernels *k);
void mono_kernels_register_quant_portable(mono_kernels *k);
#if defined(__x86_64__) || defined(_M_X64)
void mono_kernels_register_float_avx2(mono_kernels *k);
void mono_kernels_register_quant_avx2(mono_kernels *k);
void mono_kernels_register_float_avx512(mono_kernels *k);
void mono_kernels_register_quant_avx512(mono_kernels *k);
/* AVX2's decode matrix-vector product (float_matvec.h) for rows r0 .. r1 of
 * f32/f16/bf16 weights; the AVX-512 table uses it for f16/bf16 (float_avx512.c) */
void mono_float_avx2_matvec(int type, int64_t n, const char *w, size_t wrb, int64_t r0, int64_t r1, const void *x,
                            float *out);
#endif
#if defined(__aarch64__)
void mono_kernels_register_float_neon(mono_kernels *k);
void mono_kernels_register_quant_neon(mono_kernels *k);
#endif
#if defined(__wasm_simd128__)
void mono_kernels_register_float_wasm(mono_kernels *k);
/* weak: wasm builds that list sources by hand may leave quant_wasm.c out */
__attribute__((weak)) void mono_kernels_register_quant_wasm(mono_kernels *k);
#endif

#endif
