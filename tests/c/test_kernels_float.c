/*
 * test_kernels_float.c -- the f32/f16/bf16 kernels of every ISA this CPU
 * has, and the scalar half/bfloat16 conversions.
 *
 *   - conversions: all 65536 half and bfloat16 values round-trip; rounding
 *     of floats to half/bfloat16 at and around every tie is to nearest
 *     even; F16C's vcvtps2ph/vcvtph2ps agree where the CPU has them;
 *   - each ISA's table is built by calling its register function directly
 *     (skipped with a message if the CPU lacks it), and its vec_dot and
 *     gemm are checked against a double-precision reference with an error
 *     bound, and against the portable oracle, on odd sizes, odd strides,
 *     unaligned rows and partial row ranges;
 *   - the portable gemm is bit-identical to the portable vec_dot;
 *   - edge values: every half value through a one-hot dot product,
 *     infinities, subnormals;
 *   - the panel form of long rows (float_panel.h, where an ISA repacks
 *     F16/BF16): exact size, no form for short rows, unrepack gives the
 *     file bytes back, slices repack to the whole matrix's bytes, decode
 *     within the error bound with outputs outside the rows untouched,
 *     prefill bit-identical to the file layout's gemm.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <stdint.h>
#include <stdlib.h>

#include "kernels/kernels.h"
#include "test.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* ---------------------------------------------------------------- data */

typedef struct rng { uint64_t s; } rng;

static uint32_t rng_u32(rng *r) {
    r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(r->s >> 33);
}

/* uniform in [-1, 1) */
static float rng_f(rng *r) { return (float)((double)rng_u32(r) / 2147483648.0 - 1.0); }

static float f32_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t bits_f32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static size_t elem_size(mono_type type) { return type == MONO_TYPE_F32 ? 4 : 2; }

/* Stores v as element i of a row of type; returns the value actually stored. */
static float put(mono_type type, void *row, int64_t i, float v) {
    if (type == MONO_TYPE_F32) { ((float *)row)[i] = v; return v; }
    uint16_t *h = row;
    if (type == MONO_TYPE_F16) { h[i] = mono_f32_to_f16(v); return mono_f16_to_f32(h[i]); }
    h[i] = mono_f32_to_bf16(v);
    return mono_bf16_to_f32(h[i]);
}

/* ---------------------------------------------------------- conversions */

static int is_nan_half(uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x3FF); }

static void test_f16_roundtrip(mt_ctx *t) {
    int bad = 0, bad_nan = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = mono_f16_to_f32((uint16_t)h);
        uint16_t back = mono_f32_to_f16(f);
        if (is_nan_half((uint16_t)h)) {
            if (f == f || !is_nan_half(back) || (back & 0x8000) != (h & 0x8000)) bad_nan++;
        } else if (back != h) {
            bad++;
        }
    }
    MT_CHECK_EQ_INT(t, bad, 0);
    MT_CHECK_EQ_INT(t, bad_nan, 0);
    MT_CHECK(t, mono_f16_to_f32(0x3C00) == 1.0f);
    MT_CHECK(t, mono_f16_to_f32(0x0001) == 5.9604644775390625e-8f); /* smallest subnormal */
    MT_CHECK(t, mono_f16_to_f32(0x7BFF) == 65504.0f);
    MT_CHECK(t, mono_f16_to_f32(0xFC00) == -INFINITY);
}

/* Rounding to half at every boundary: for each pair of neighbouring
 * finite halves a < b, the float midpoint rounds to the even one, and the
 * floats just below/above it round to a/b. Exact in float since half has
 * 11 significant bits. */
static void test_f16_rounding(mt_ctx *t) {
    int bad = 0;
    for (uint32_t h = 0; h < 0x7BFF; h++) {
        double a = mono_f16_to_f32((uint16_t)h), b = mono_f16_to_f32((uint16_t)(h + 1));
        float mid = (float)((a + b) / 2);
        uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
        for (int s = 0; s < 2; s++) {
            uint16_t sg = s ? 0x8000 : 0;
            float m = s ? -mid : mid;
            if (mono_f32_to_f16(m) != (uint16_t)(even | sg)) bad++;
            if (mono_f32_to_f16(nextafterf(m, 0)) != (uint16_t)(h | sg)) bad++;
            if (mono_f32_to_f16(nextafterf(m, s ? -INFINITY : INFINITY)) != (uint16_t)((h + 1) | sg)) bad++;
        }
    }
    MT_CHECK_EQ_INT(t, bad, 0);
    /* overflow: 65520 is the midpoint between 65504 and 2^16 (inf) */
    MT_CHECK_EQ_INT(t, mono_f32_to_f16(65519.99f), 0x7BFF);
    MT_CHECK_EQ_INT(t, mono_f32_to_f16(65520.0f), 0x7C00);
    MT_CHECK_EQ_INT(t, mono_f32_to_f16(1e10f), 0x7C00);
    MT_CHECK_EQ_INT(t, mono_f32_to_f16(-1e10f), 0xFC00);
    MT_CHECK_EQ_INT(t, mono_f32_to_f16(INFINITY), 0x7C00);
    MT_CHECK(t, is_nan_half(mono_f32_to_f16(NAN)));
    /* underflow: half of the smallest subnormal ties to 0, just above to 1 */
    MT_CHECK_EQ_INT(t, mono_f32_to_f16(2.98023223876953125e-8f), 0);
    MT_CHECK_EQ_INT(t, mono_f32_to_f16(nextafterf(2.98023223876953125e-8f, 1)), 1);
    MT_CHECK_EQ_INT(t, mono_f32_to_f16(1e-30f), 0);
    MT_CHECK_EQ_INT(t, mono_f32_to_f16(-1e-30f), 0x8000);
}

#if defined(__x86_64__)
__attribute__((target("f16c"))) static uint16_t hw_f32_to_f16(float f) {
    return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
}
__attribute__((target("f16c"))) static float hw_f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }

/* F16C agrees on every half and on a million floats spread over all
 * exponents (nan payloads aside: only nan-ness and sign are compared). */
static void test_f16_vs_f16c(mt_ctx *t) {
    mono_cpu cpu;
    mono_cpu_detect(&cpu);
    if (!cpu.f16c) { mt_skip(t, "no F16C on this CPU (or MONO_ISA caps it): hardware comparison skipped"); return; }
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float a = mono_f16_to_f32((uint16_t)h), b = hw_f16_to_f32((uint16_t)h);
        if (is_nan_half((uint16_t)h) ? (a == a || b == b) : bits_f32(a) != bits_f32(b)) bad++;
    }
    MT_CHECK_EQ_INT(t, bad, 0);
    bad = 0;
    for (uint64_t u = 0; u < 0x100000000ULL; u += 4093) {
        float f = f32_bits((uint32_t)u);
        uint16_t a = mono_f32_to_f16(f), b = hw_f32_to_f16(f);
        if (is_nan_half(a) || is_nan_half(b) ? !(is_nan_half(a) && is_nan_half(b) && (a & 0x8000) == (b & 0x8000))
                                              : a != b) bad++;
    }
    MT_CHECK_EQ_INT(t, bad, 0);
}
#endif

static void test_bf16(mt_ctx *t) {
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = mono_bf16_to_f32((uint16_t)h);
        if (bits_f32(f) != h << 16) bad++;
        uint16_t back = mono_f32_to_bf16(f);
        int nan = (h & 0x7F80) == 0x7F80 && (h & 0x7F);
        if (nan ? !((back & 0x7F80) == 0x7F80 && (back & 0x7F) && (back & 0x8000) == (h & 0x8000)) : back != h) bad++;
    }
    MT_CHECK_EQ_INT(t, bad, 0);
    /* rounding: ties to even, otherwise nearest, on a spread of floats */
    bad = 0;
    for (uint64_t u = 0; u < 0x100000000ULL; u += 65521) {
        uint32_t x = (uint32_t)u;
        if ((x & 0x7F800000u) == 0x7F800000u) continue;
        uint32_t lo = x & 0xFFFF0000u, rem = x & 0xFFFF;
        uint32_t want = (rem > 0x8000 || (rem == 0x8000 && (lo & 0x10000))) ? lo + 0x10000 : lo;
        if (mono_f32_to_bf16(f32_bits(x)) != want >> 16) bad++;
        uint32_t tie = lo | 0x8000; /* exact tie */
        want = (lo & 0x10000) ? lo + 0x10000 : lo;
        if (mono_f32_to_bf16(f32_bits(tie)) != want >> 16) bad++;
    }
    MT_CHECK_EQ_INT(t, bad, 0);
    MT_CHECK_EQ_INT(t, mono_f32_to_bf16(f32_bits(0x7F7FFFFFu)), 0x7F80); /* FLT_MAX rounds to inf */
    MT_CHECK_EQ_INT(t, mono_f32_to_bf16(1.0f), 0x3F80);
}

/* ------------------------------------------------------------ kernels */

typedef struct isa_table {
    const char *name;
    mono_kernels k;
} isa_table;

/* Tables for every ISA the CPU has, each built by its register function on
 * top of the portable one. Returns the count; [0] is portable. */
static int isa_tables(mt_ctx *t, isa_table *out) {
    mono_cpu cpu;
    mono_cpu_detect(&cpu);
    int n = 0;
    memset(out, 0, 4 * sizeof *out);
    out[n].name = "portable";
    mono_kernels_register_float_portable(&out[n++].k);
#if defined(__x86_64__)
    if (cpu.avx2 && cpu.fma && cpu.f16c) {
        out[n].name = "avx2";
        mono_kernels_register_float_portable(&out[n].k);
        mono_kernels_register_float_avx2(&out[n++].k);
    } else {
        mt_skip(t, "CPU lacks AVX2+FMA+F16C: avx2 float kernels not tested");
    }
    if (cpu.avx2 && cpu.avx512f && cpu.avx512bw && cpu.avx512vl) {
        out[n].name = "avx512";
        mono_kernels_register_float_portable(&out[n].k);
        mono_kernels_register_float_avx512(&out[n++].k);
    } else {
        mt_skip(t, "CPU lacks AVX-512 F/BW/VL: avx512 float kernels not tested");
    }
#elif defined(__aarch64__)
    out[n].name = "neon";
    mono_kernels_register_float_portable(&out[n].k);
    mono_kernels_register_float_neon(&out[n++].k);
#elif defined(__wasm_simd128__)
    out[n].name = "wasm_simd128";
    mono_kernels_register_float_portable(&out[n].k);
    mono_kernels_register_float_wasm(&out[n++].k);
#endif
    for (int i = 0; i < n; i++) out[i].k.isa = out[i].name;
    return n;
}

/* Reference dot in double over the stored (rounded) weights, and the sum
 * of |w x| for the error bound. */
static double ref_dot(mono_type type, const void *w, const float *x, int64_t n, double *abs_sum) {
    const mono_type_traits *tr = mono_type_get(type);
    double s = 0, a = 0;
    for (int64_t i = 0; i < n; i++) {
        float wi;
        tr->to_float((const char *)w + (size_t)i * elem_size(type), &wi, 1);
        s += (double)wi * x[i];
        a += fabs((double)wi * x[i]);
    }
    *abs_sum = a;
    return s;
}

/* Worst-case error bound of float summation with chains of at most n/4 + 1
 * adds per lane plus a short combining tree (every kernel here accumulates
 * in at least 4 lanes), with or without fused multiply-add. */
static double dot_bound(int64_t n, double abs_sum) {
    return ((double)(n / 4 + 8) * 5.960464477539063e-8) * abs_sum * 1.01 + 1e-30;
}

static const int64_t sizes[] = {1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 255, 513, 896, 1000, 4864};
#define N_SIZES (sizeof sizes / sizeof *sizes)
static const mono_type types[] = {MONO_TYPE_F32, MONO_TYPE_F16, MONO_TYPE_BF16};

static void test_vec_dot(mt_ctx *t, const isa_table *isas, int n_isa) {
    rng r = {42};
    for (size_t ti = 0; ti < 3; ti++) {
        mono_type type = types[ti];
        for (size_t si = 0; si < N_SIZES; si++) {
            int64_t n = sizes[si];
            /* +1 element so rows can start unaligned */
            char *wbuf = malloc((size_t)(n + 1) * 4), *xbuf = malloc((size_t)(n + 1) * 4);
            void *w = wbuf + elem_size(type); /* 2- or 4-byte aligned only */
            float *x = (float *)(xbuf + 4);
            for (int rep = 0; rep < 3; rep++) {
                for (int64_t i = 0; i < n; i++) {
                    put(type, w, i, rng_f(&r) * (rep == 2 ? 1000.0f : 1.0f));
                    x[i] = rng_f(&r);
                }
                double abs_sum, ref = ref_dot(type, w, x, n, &abs_sum), bound = dot_bound(n, abs_sum);
                float oracle = 0;
                isas[0].k.vec_dot[type](n, &oracle, w, x);
                for (int k = 0; k < n_isa; k++) {
                    float got = -12345.0f;
                    isas[k].k.vec_dot[type](n, &got, w, x);
                    MT_CHECK_MSG(t, fabs(got - ref) <= bound, "%s vec_dot %s n=%lld: got %.9g, ref %.9g, bound %.3g",
                                 isas[k].name, mono_type_get(type)->name, (long long)n, got, ref, bound);
                    MT_CHECK_MSG(t, fabs((double)got - oracle) <= 2 * bound, "%s vec_dot %s n=%lld: %.9g vs oracle %.9g",
                                 isas[k].name, mono_type_get(type)->name, (long long)n, got, oracle);
                }
            }
            free(wbuf);
            free(xbuf);
        }
    }
}

/* One gemm shape on every ISA: a padded weight matrix of `rows` rows,
 * n_tok padded activation rows, an output with stride > rows; only rows
 * [r0, r1) may be written. */
static void check_gemm(mt_ctx *t, const isa_table *isas, int n_isa, mono_type type, int64_t n, int64_t rows,
                       int64_t r0, int64_t r1, int64_t n_tok, rng *r) {
    size_t es = elem_size(type);
    size_t w_rb = (size_t)(n + 3) * es, x_rb = (size_t)(n + 5) * 4, ostride = (size_t)rows + 3;
    char *wbuf = malloc(w_rb * (size_t)rows + 4), *xbuf = malloc(x_rb * (size_t)n_tok + 4);
    float *out = malloc(ostride * (size_t)n_tok * sizeof *out);
    float *ref = malloc((size_t)(rows * n_tok) * sizeof *ref);
    char *w = wbuf + es;
    char *x = xbuf + 4;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < n; j++) put(type, w + (size_t)i * w_rb, j, rng_f(r));
    for (int64_t i = 0; i < n_tok; i++)
        for (int64_t j = 0; j < n; j++) ((float *)(x + (size_t)i * x_rb))[j] = rng_f(r);
    for (int k = 0; k < n_isa; k++) {
        const char *name = isas[k].name, *tn = mono_type_get(type)->name;
        for (size_t i = 0; i < ostride * (size_t)n_tok; i++) out[i] = -777.0f;
        isas[k].k.gemm[type](n, w, w_rb, r0, r1, x, x_rb, n_tok, out, ostride);
        int bad = 0, touched = 0, not_vec_dot = 0;
        for (int64_t tk = 0; tk < n_tok; tk++) {
            const float *xt = (const float *)(x + (size_t)tk * x_rb);
            for (int64_t row = 0; row < (int64_t)ostride; row++) {
                float got = out[(size_t)tk * ostride + (size_t)row];
                if (row < r0 || row >= r1) { touched += got != -777.0f; continue; }
                const char *wr = w + (size_t)row * w_rb;
                double abs_sum, want = ref_dot(type, wr, xt, n, &abs_sum), bound = dot_bound(n, abs_sum);
                if (!(fabs(got - want) <= bound)) bad++;
                float vd;
                isas[k].k.vec_dot[type](n, &vd, wr, xt);
                if (k == 0 ? bits_f32(vd) != bits_f32(got) : !(fabs((double)vd - got) <= 2 * bound)) not_vec_dot++;
                if (k == 0) ref[row * n_tok + tk] = got;
                else if (!(fabs((double)ref[row * n_tok + tk] - got) <= 2 * bound)) bad++;
            }
        }
        MT_CHECK_MSG(t, bad == 0, "%s gemm %s n=%lld rows [%lld,%lld) tok=%lld: %d wrong", name, tn, (long long)n,
                     (long long)r0, (long long)r1, (long long)n_tok, bad);
        MT_CHECK_MSG(t, touched == 0, "%s gemm %s: wrote %d outputs outside its rows", name, tn, touched);
        MT_CHECK_MSG(t, not_vec_dot == 0, "%s gemm %s n=%lld tok=%lld: %d results differ from vec_dot%s", name, tn,
                     (long long)n, (long long)n_tok, not_vec_dot, k == 0 ? " (must be bit-identical)" : "");
    }
    free(wbuf);
    free(xbuf);
    free(out);
    free(ref);
}

static void test_gemm(mt_ctx *t, const isa_table *isas, int n_isa) {
    rng r = {7};
    static const int64_t toks[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 17};
    static const int64_t rowss[] = {1, 2, 3, 4, 5, 7, 9, 13};
    static const int64_t ns[] = {1, 7, 8, 31, 64, 100, 896, 1000};
    for (size_t ti = 0; ti < 3; ti++)
        for (size_t a = 0; a < sizeof ns / sizeof *ns; a++)
            for (size_t b = 0; b < sizeof toks / sizeof *toks; b += (ns[a] >= 896 ? 3 : 1))
                for (size_t c = 0; c < sizeof rowss / sizeof *rowss; c += (ns[a] >= 896 ? 2 : 1)) {
                    int64_t rows = rowss[c];
                    check_gemm(t, isas, n_isa, types[ti], ns[a], rows, 0, rows, toks[b], &r);
                    if (rows >= 3) check_gemm(t, isas, n_isa, types[ti], ns[a], rows, 1, rows - 1, toks[b], &r);
                }
    /* a long row (chunked paths) with a few tokens */
    for (size_t ti = 0; ti < 3; ti++) check_gemm(t, isas, n_isa, types[ti], 4864, 6, 0, 6, 11, &r);
    for (size_t ti = 0; ti < 3; ti++) check_gemm(t, isas, n_isa, types[ti], 1100, 5, 2, 5, 19, &r);
    /* enough tokens to span several of the SIMD kernels' L2 token blocks
     * (256 KiB of activations: 13 tokens at n = 4864, 59 at n = 1100) */
    for (size_t ti = 0; ti < 3; ti++) check_gemm(t, isas, n_isa, types[ti], 4864, 7, 0, 7, 41, &r);
    check_gemm(t, isas, n_isa, MONO_TYPE_F16, 1100, 9, 1, 9, 131, &r);
    /* an empty row range writes nothing */
    for (size_t ti = 0; ti < 3; ti++) check_gemm(t, isas, n_isa, types[ti], 64, 5, 2, 2, 7, &r);
}

/* Every finite half through a one-hot dot (exact: one product, zeros
 * elsewhere), so each ISA's half widening is checked on all 63488 finite
 * values including subnormals; infinities and nan propagate. */
static void test_f16_edges(mt_ctx *t, const isa_table *isas, int n_isa) {
    enum { N = 40 };
    uint16_t w[N];
    float x[N];
    for (int k = 0; k < n_isa; k++) {
        int bad = 0;
        for (uint32_t base = 0; base < 65536; base += N) {
            for (int i = 0; i < N; i++) {
                uint32_t h = base + (uint32_t)i;
                w[i] = (uint16_t)(h < 65536 && (h & 0x7C00) != 0x7C00 ? h : 0); /* 0 * inf would be nan */
            }
            for (int j = 0; j < N; j++) {
                for (int i = 0; i < N; i++) x[i] = i == j ? 1.0f : 0.0f;
                float got;
                isas[k].k.vec_dot[MONO_TYPE_F16](N, &got, w, x);
                if (bits_f32(got) != bits_f32(mono_f16_to_f32(w[j])) && !(got == 0 && w[j] == 0x8000)) bad++;
            }
        }
        MT_CHECK_MSG(t, bad == 0, "%s: %d half values widened wrong", isas[k].name, bad);
        /* subnormal weights times a large activation keep their value */
        for (int i = 0; i < N; i++) { w[i] = (uint16_t)(i + 1); x[i] = 65536.0f; }
        float got;
        isas[k].k.vec_dot[MONO_TYPE_F16](N, &got, w, x);
        MT_CHECK_MSG(t, got == 820.0f * 5.9604644775390625e-8f * 65536.0f, "%s: subnormal sum %.9g", isas[k].name, got);
        for (int i = 0; i < N; i++) { w[i] = 0x3C00; x[i] = 1.0f; }
        w[N - 1] = 0x7C00; /* +inf in the tail */
        isas[k].k.vec_dot[MONO_TYPE_F16](N, &got, w, x);
        MT_CHECK_MSG(t, isinf(got) && got > 0, "%s: inf weight gave %g", isas[k].name, got);
        w[3] = 0xFC00; /* -inf too: nan */
        isas[k].k.vec_dot[MONO_TYPE_F16](N, &got, w, x);
        MT_CHECK_MSG(t, got != got, "%s: +inf + -inf gave %g", isas[k].name, got);
        w[3] = 0x3C00;
        w[N - 1] = 0x7E00; /* nan */
        isas[k].k.vec_dot[MONO_TYPE_F16](N, &got, w, x);
        MT_CHECK_MSG(t, got != got, "%s: nan weight gave %g", isas[k].name, got);
    }
}

/* An F16C CPU must have some ISA table fill entry `what` (else the row
 * tests below would pass by testing nothing). */
static void check_f16c_registered(mt_ctx *t, int any, const char *what) {
#if defined(__x86_64__)
    mono_cpu cpu;
    mono_cpu_detect(&cpu);
    if (cpu.avx2 && cpu.f16c) MT_CHECK_MSG(t, any > 0, "no ISA registers %s on an F16C CPU", what);
#else
    (void)t, (void)any, (void)what;
#endif
}

/* An ISA's float32 -> half row conversion (the F16 KV cache's stores) gives
 * mono_f32_to_f16's bytes exactly: every 4093rd bit pattern of the 2^32
 * (normals, subnormals, overflow to inf, NaNs with payloads of both signs),
 * in rows of 1 .. 19 values so the SIMD body and its tail both run. */
static void test_f16_rows(mt_ctx *t, const isa_table *isas, int n_isa) {
    enum { ROW = 4096 };
    float *src = malloc(ROW * sizeof *src);
    uint16_t *got = malloc(ROW * sizeof *got);
    if (!MT_CHECK(t, src && got)) { free(src); free(got); return; }
    int any = 0;
    for (int k = 0; k < n_isa; k++) {
        void (*conv)(const float *, void *, int64_t) = isas[k].k.quantize_row[MONO_TYPE_F16];
        if (!conv) continue;
        any++;
        long bad = 0;
        int len = 1;
        for (uint64_t u = 0; u < 0x100000000ULL;) {
            int n = 0;
            for (; n < ROW && u < 0x100000000ULL; n++, u += 4093) src[n] = f32_bits((uint32_t)u);
            for (int i = 0; i < n; i += len, len = len % 19 + 1) {
                int m = i + len <= n ? len : n - i;
                conv(src + i, got + i, m);
                for (int j = i; j < i + m; j++)
                    if (got[j] != mono_f32_to_f16(src[j])) bad++;
            }
        }
        MT_CHECK_MSG(t, bad == 0, "%s quantize_row[f16]: %ld values differ from mono_f32_to_f16", isas[k].name, bad);
    }
    check_f16c_registered(t, any, "quantize_row[f16]");
    free(src);
    free(got);
}

/* An ISA's half -> float32 row conversion (the F16 KV cache's value rows)
 * gives mono_f16_to_f32's floats for all 65536 halves (NaNs: a NaN of the
 * same sign), in rows of 1 .. 19 values so the SIMD body and its tail both
 * run. */
static void test_f16_to_float_rows(mt_ctx *t, const isa_table *isas, int n_isa) {
    static uint16_t src[65536];
    static float got[65536];
    for (int i = 0; i < 65536; i++) src[i] = (uint16_t)i;
    int any = 0;
    for (int k = 0; k < n_isa; k++) {
        void (*conv)(const void *, float *, int64_t) = isas[k].k.to_float[MONO_TYPE_F16];
        if (!conv) continue;
        any++;
        for (int i = 0, len = 1; i < 65536; i += len, len = len % 19 + 1)
            conv(src + i, got + i, i + len <= 65536 ? len : 65536 - i);
        long bad = 0;
        for (int i = 0; i < 65536; i++) {
            float want = mono_f16_to_f32(src[i]);
            uint32_t a, b;
            memcpy(&a, &got[i], 4);
            memcpy(&b, &want, 4);
            if (want != want ? !(got[i] != got[i]) || (a >> 31) != (b >> 31) : a != b) bad++;
        }
        MT_CHECK_MSG(t, bad == 0, "%s to_float[f16]: %ld halves differ from mono_f16_to_f32", isas[k].name, bad);
    }
    check_f16c_registered(t, any, "to_float[f16]");
}

static void test_tables(mt_ctx *t, const isa_table *isas, int n_isa) {
    for (int k = 0; k < n_isa; k++)
        for (size_t ti = 0; ti < 3; ti++) {
            MT_CHECK(t, isas[k].k.vec_dot[types[ti]] != NULL);
            MT_CHECK(t, isas[k].k.gemm[types[ti]] != NULL);
            /* an ISA table that only holds portable pointers would test nothing */
            if (k > 0) MT_CHECK_MSG(t, isas[k].k.vec_dot[types[ti]] != isas[0].k.vec_dot[types[ti]],
                                    "%s registers no vec_dot for %s", isas[k].name, mono_type_get(types[ti])->name);
        }
    float src[37], dst[37];
    for (int i = 0; i < 37; i++) src[i] = (float)i * 0.37f - 3;
    for (int k = 0; k < n_isa; k++) {
        memset(dst, 0, sizeof dst);
        isas[k].k.quantize_row[MONO_TYPE_F32](src, dst, 37);
        MT_CHECK(t, memcmp(src, dst, sizeof src) == 0);
    }
    test_f16_rows(t, isas, n_isa);
    mono_kernels best;
    mono_kernels_init(&best);
    MT_CHECK(t, best.vec_dot[MONO_TYPE_F16] != NULL && best.isa != NULL);
    if (t->verbose) fprintf(stderr, "    kernels: best ISA %s\n", best.isa);
    /* the best table is the last ISA's, unless MONO_ISA capped it */
    const char *cap = getenv("MONO_ISA");
    if (!cap) {
        MT_CHECK_MSG(t, !strcmp(best.isa, isas[n_isa - 1].name), "init chose %s, best tested is %s", best.isa,
                     isas[n_isa - 1].name);
        MT_CHECK(t, best.vec_dot[MONO_TYPE_F16] == isas[n_isa - 1].k.vec_dot[MONO_TYPE_F16]);
        /* MONO_ISA=portable leaves the portable kernels only */
        setenv("MONO_ISA", "portable", 1);
        mono_kernels capped;
        mono_kernels_init(&capped);
        unsetenv("MONO_ISA");
        MT_CHECK(t, !strcmp(capped.isa, "portable"));
        for (size_t ti = 0; ti < 3; ti++) {
            MT_CHECK(t, capped.vec_dot[types[ti]] == isas[0].k.vec_dot[types[ti]]);
            MT_CHECK(t, capped.gemm[types[ti]] == isas[0].k.gemm[types[ti]]);
        }
    }
}

/* One shape of the panel form: rows x n of type, rows [r0, r1). */
static void check_panel(mt_ctx *t, const isa_table *isa, mono_type type, int64_t rows, int64_t n, int64_t r0,
                        int64_t r1, rng *r) {
    const mono_kernels *k = &isa->k;
    const size_t es = elem_size(type), wrb = (size_t)n * es, size = k->repack_size[type](rows, n);
    const int64_t g = k->repack_rows[type], groups = (rows + g - 1) / g;
    if (!MT_CHECK_MSG(t, size == (size_t)(groups * g) * wrb, "%s %s panel size %zu for %lld x %lld", isa->name,
                      mono_type_get(type)->name, size, (long long)rows, (long long)n)) return;
    uint8_t *w = malloc(wrb * rows), *wr = malloc(size), *back = malloc(wrb * rows), *part = malloc(size);
    enum { T = 7 };
    float *x = malloc(sizeof(float) * n * T), *out = malloc(sizeof(float) * rows * T), *ref = malloc(sizeof(float) * rows * T);
    for (int64_t i = 0; i < rows * n; i++) put(type, w, i, rng_f(r));
    for (int64_t i = 0; i < n * T; i++) x[i] = rng_f(r);
    k->repack[type](w, wrb, rows, n, wr);
    k->unrepack[type](wr, rows, n, 0, rows, back, wrb);
    MT_CHECK_MSG(t, !memcmp(w, back, wrb * rows), "%s panel unrepack differs (%lld x %lld)", isa->name,
                 (long long)rows, (long long)n);
    if (rows > g) { /* the loader repacks slices of rows on several threads */
        size_t per_group = k->repack_size[type](g, n);
        k->repack[type](w + (size_t)g * wrb, wrb, rows - g, n, part);
        MT_CHECK(t, !memcmp(part, wr + per_group, size - per_group));
    }
    /* decode: each row within the error bound, nothing outside [r0, r1) written */
    for (int64_t i = 0; i < rows; i++) out[i] = -7.0f;
    k->gemm_repacked[type](n, wr, rows, r0, r1, x, (size_t)n * sizeof(float), 1, out, (size_t)rows);
    int bad = 0;
    for (int64_t i = 0; i < rows; i++) {
        double abs_sum, want = ref_dot(type, w + (size_t)i * wrb, x, n, &abs_sum);
        if (i < r0 || i >= r1) bad += out[i] != -7.0f;
        else bad += !(fabs(out[i] - want) <= dot_bound(n, abs_sum));
    }
    MT_CHECK_MSG(t, bad == 0, "%s %s panel decode %lld x %lld rows [%lld, %lld): %d bad", isa->name,
                 mono_type_get(type)->name, (long long)rows, (long long)n, (long long)r0, (long long)r1, bad);
    /* prefill: from a group boundary, the file layout's gemm bit for bit
     * (the same register tiles); else within the bound (tiles split at
     * group ends) */
    for (int nt = 2; nt <= T; nt += 5) {
        k->gemm_repacked[type](n, wr, rows, r0, r1, x, (size_t)n * sizeof(float), nt, out, (size_t)rows);
        k->gemm[type](n, w, wrb, r0, r1, x, (size_t)n * sizeof(float), nt, ref, (size_t)rows);
        bad = 0;
        for (int tk = 0; tk < nt; tk++)
            for (int64_t i = r0; i < r1; i++) {
                double abs_sum, want = ref_dot(type, w + (size_t)i * wrb, x + (size_t)tk * n, n, &abs_sum);
                float o = out[tk * rows + i];
                bad += r0 % g == 0 ? o != ref[tk * rows + i] : !(fabs(o - want) <= dot_bound(n, abs_sum));
            }
        MT_CHECK_MSG(t, bad == 0, "%s panel prefill (%d tokens) differs from the file gemm in %d outputs", isa->name, nt, bad);
    }
    free(w), free(wr), free(back), free(part), free(x), free(out), free(ref);
}

static void test_panels(mt_ctx *t, const isa_table *isas, int n_isa) {
    rng r = {0x9a9e1};
    int any = 0;
    for (int ki = 0; ki < n_isa; ki++)
        for (size_t ti = 0; ti < 3; ti++) {
            const mono_kernels *k = &isas[ki].k;
            mono_type type = types[ti];
            if (!k->repack[type]) continue;
            any = 1;
            MT_CHECK(t, k->repack_size[type] && k->unrepack[type] && k->gemm_repacked[type] && k->repack_rows[type] > 0);
            MT_CHECK_EQ_INT(t, k->repack_size[type](64, 896), 0); /* short rows: no panel form */
            MT_CHECK_EQ_INT(t, k->repack_size[type](0, 4864), 0);
            static const int64_t rows_list[] = {1, 63, 64, 65, 130}, cols_list[] = {1025, 1040, 2050, 4864};
            for (int ri = 0; ri < 5; ri++)
                for (int ci = 0; ci < 4; ci++) {
                    int64_t rows = rows_list[ri], n = cols_list[ci];
                    if (rows * n > 130 * 2050 && ri != 2) continue; /* keep the suite quick */
                    check_panel(t, &isas[ki], type, rows, n, 0, rows, &r);
                    if (rows > 5) check_panel(t, &isas[ki], type, rows, n, 3, rows - 2, &r);
                    if (rows > 64) check_panel(t, &isas[ki], type, rows, n, 64, rows, &r);
                }
        }
    if (!any) mt_skip(t, "no ISA here has a panel form of float rows");
}

void suite_kernels_float(mt_ctx *t) {
    test_f16_roundtrip(t);
    test_f16_rounding(t);
#if defined(__x86_64__)
    test_f16_vs_f16c(t);
#endif
    test_bf16(t);
    isa_table isas[4];
    int n_isa = isa_tables(t, isas);
    test_tables(t, isas, n_isa);
    test_vec_dot(t, isas, n_isa);
    test_gemm(t, isas, n_isa);
    test_f16_edges(t, isas, n_isa);
    test_f16_to_float_rows(t, isas, n_isa);
    test_panels(t, isas, n_isa);
}
