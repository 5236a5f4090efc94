/*
 * float_matvec.h -- decode's matrix-vector product for the SIMD float
 * kernels (float_avx2.c, float_avx512.c, float_neon.c, float_wasm.c):
 * rows r0 .. r1 one after another,
 * each a single stream the hardware prefetchers follow, with the row loop
 * and the file's vec_dot_any inlined into one function per type.
 *
 * Why not a call per row: rows are short (896 F16 columns: 1.75 KiB), so a
 * decoded token of Qwen2.5-0.5B makes ~550,000 of them, and with a call per
 * row F16 decode on one Zen 4 core moved between 18 and 25 tok/s with where
 * the linker happened to put the code (identical loops, different builds).
 * With the loop inlined it decoded at 24.9-26.4 tok/s in every build tried
 * (bench/README.md). In WebAssembly under V8 (one thread, run_wasm.sh's
 * kernels alternating with the per-row build): BF16 1.08-1.13x, F16 and F32
 * within noise. NEON was not timed on ARM hardware.
 *
 * Included by each of those files after its own vec_dot_any, NOINLINE and
 * ALWAYS_INLINE, so each ISA gets its own copy.
 */
#ifndef MONO_KERNELS_FLOAT_MATVEC_H
#define MONO_KERNELS_FLOAT_MATVEC_H

typedef void (*matvec_fn)(int64_t n, const char *w, size_t wrb, int64_t r0, int64_t r1, const void *x, float *out);

#define MATVEC(name, type)                                                                                  \
    static NOINLINE void name(int64_t n, const char *w, size_t wrb, int64_t r0, int64_t r1, const void *x, \
                              float *out) {                                                                \
        for (int64_t r = r0; r < r1; r++) vec_dot_any(type, n, out + r, w + (size_t)r * wrb, x);          \
    }
MATVEC(matvec_f32, MONO_TYPE_F32)
MATVEC(matvec_f16, MONO_TYPE_F16)
MATVEC(matvec_bf16, MONO_TYPE_BF16)
#undef MATVEC

static ALWAYS_INLINE matvec_fn matvec_of(int type) {
    return type == MONO_TYPE_F32 ? matvec_f32 : type == MONO_TYPE_F16 ? matvec_f16 : matvec_bf16;
}

#endif
