/*
 * test_quant_gemm.c -- the prefill gemms of whatever ISA this build runs
 * (mono_kernels_init: AVX2/AVX-512 on x86, quant_neon_gemm.h on AArch64,
 * quant_wasm_gemm.h in wasm) against the portable vec_dot oracle, beyond
 * what test_quant.c's small cases reach:
 *   - token counts around the kernels' 4-token tiles and 64-token blocks
 *     (4, 5, 7, 63, 64, 65, 131), a row range inside the matrix and an
 *     output stride wider than it; nothing outside is written;
 *   - Qwen2.5-0.5B row lengths (896 for the 32-weight types, 4864 for the
 *     K-quants) and short rows of one or a few blocks;
 *   - weight blocks of random bytes (every scale, min, high bit and Q8_0's
 *     -128 possible; only the halves kept finite) against activations with
 *     quants at +-127;
 *   - on NEON and WASM, decode (n_tok < 4) is the vec_dot per row: equal bits.
 * Tests in wasm: tests/cli/wasm_quant_kernels.sh; on AArch64 under qemu:
 * tests/cli/neon_qemu.sh.
 */
#include <stddef.h>
#include <stdlib.h>

#include "kernels/quant.h"
#include "test.h"

static uint64_t rng(uint64_t *s) {
    *s ^= *s >> 12; *s ^= *s << 25; *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}
static float frand(uint64_t *s) { return (float)((rng(s) >> 40) * (1.0 / 16777216.0)) * 2 - 1; }

static const int gemm_types[] = {MONO_TYPE_Q4_0, MONO_TYPE_Q4_1, MONO_TYPE_Q5_0, MONO_TYPE_Q5_1, MONO_TYPE_Q8_0,
                                 MONO_TYPE_Q2_K, MONO_TYPE_Q3_K, MONO_TYPE_Q4_K, MONO_TYPE_Q5_K, MONO_TYPE_Q6_K};

/* Offsets of the half-precision fields (d, and dmin/m where present) in a block. */
static int half_fields(int type, size_t off[2]) {
    switch (type) {
    case MONO_TYPE_Q4_1: off[0] = offsetof(mono_block_q4_1, d); off[1] = offsetof(mono_block_q4_1, m); return 2;
    case MONO_TYPE_Q5_1: off[0] = offsetof(mono_block_q5_1, d); off[1] = offsetof(mono_block_q5_1, m); return 2;
    case MONO_TYPE_Q2_K: off[0] = offsetof(mono_block_q2_K, d); off[1] = offsetof(mono_block_q2_K, dmin); return 2;
    case MONO_TYPE_Q4_K: off[0] = offsetof(mono_block_q4_K, d); off[1] = offsetof(mono_block_q4_K, dmin); return 2;
    case MONO_TYPE_Q5_K: off[0] = offsetof(mono_block_q5_K, d); off[1] = offsetof(mono_block_q5_K, dmin); return 2;
    case MONO_TYPE_Q3_K: off[0] = offsetof(mono_block_q3_K, d); return 1;
    case MONO_TYPE_Q6_K: off[0] = offsetof(mono_block_q6_K, d); return 1;
    default: off[0] = 0; return 1; /* Q4_0, Q5_0, Q8_0: d first */
    }
}

/* rows x n weights: quantized from bell-ish floats, or random bytes with
 * finite half scales in [1e-3, 0.05) of either sign. */
static void make_weights(int type, int64_t n, int64_t rows, int hostile, uint8_t *w, uint64_t *s) {
    const mono_type_traits *tr = mono_type_get(type);
    const size_t wrb = mono_type_row_bytes(type, n);
    if (!hostile) {
        float *f = malloc((size_t)n * 4);
        for (int64_t r = 0; r < rows; r++) {
            for (int64_t i = 0; i < n; i++) f[i] = 0.03f * (frand(s) + frand(s) + frand(s));
            tr->from_float(f, w + (size_t)r * wrb, n);
        }
        free(f);
        return;
    }
    for (size_t i = 0; i < wrb * (size_t)rows; i++) w[i] = (uint8_t)(rng(s) >> 56);
    size_t off[2];
    int nh = half_fields(type, off);
    for (size_t b = 0; b < wrb * (size_t)rows / tr->block_bytes; b++)
        for (int h = 0; h < nh; h++) {
            float v = (0.001f + 0.049f * (float)((rng(s) >> 40) * (1.0 / 16777216.0))) * (rng(s) & 1 ? -1 : 1);
            uint16_t hv = mono_f32_to_f16(v);
            memcpy(w + b * tr->block_bytes + off[h], &hv, 2);
        }
}

/* n_tok activation rows in vec_dot_type; every 7th value is an outlier so
 * that some quants reach +-127. */
static void make_acts(int vtype, int64_t n, int64_t n_tok, uint8_t *x, uint64_t *s) {
    const size_t xrb = mono_type_row_bytes(vtype, n);
    float *f = malloc((size_t)n * 4);
    for (int64_t t = 0; t < n_tok; t++) {
        for (int64_t i = 0; i < n; i++) f[i] = frand(s) * (i % 7 == 3 ? 4.0f : 1.0f);
        mono_type_get(vtype)->from_float(f, x + (size_t)t * xrb, n);
    }
    free(f);
}

/* Rows [1, rows - 1) of one matrix for each token count; out stride rows + 3. */
static void check_case(mt_ctx *t, const char *isa, const mono_kernels *k, const mono_kernels *p, int type, int64_t n,
                       int hostile, uint64_t *s) {
    static const int64_t toks[] = {1, 2, 3, 4, 5, 7, 63, 64, 65, 131};
    const mono_type_traits *tr = mono_type_get(type);
    const int64_t rows = 7, r0 = 1, r1 = rows - 1, ntok_max = 131;
    const size_t wrb = mono_type_row_bytes(type, n), xrb = mono_type_row_bytes(tr->vec_dot_type, n), os = rows + 3;
    uint8_t *w = malloc(wrb * rows), *x = malloc(xrb * ntok_max);
    float *out = malloc(os * ntok_max * 4), *ref = malloc(os * ntok_max * 4);
    make_weights(type, n, rows, hostile, w, s);
    make_acts(tr->vec_dot_type, n, ntok_max, x, s);
    for (size_t i = 0; i < sizeof toks / sizeof toks[0]; i++) {
        const int64_t nt = toks[i];
        for (size_t j = 0; j < os * ntok_max; j++) out[j] = ref[j] = -12345.0f;
        k->gemm[type](n, w, wrb, r0, r1, x, xrb, nt, out, os);
        mono_gemm_by_vec_dot(p->vec_dot[type], n, w, wrb, r0, r1, x, xrb, nt, ref, os);
        /* outputs are sums of large terms that partly cancel (mins, random
         * scales): the tolerance scales with the largest of them */
        double big = 1e-3;
        for (size_t j = 0; j < os * ntok_max; j++)
            if (ref[j] != -12345.0f) big = fmax(big, fabs(ref[j]));
        int bad = 0, untouched = 1;
        for (size_t j = 0; j < os * ntok_max; j++) {
            if (ref[j] == -12345.0f) { untouched &= out[j] == -12345.0f; continue; }
            if (!(fabs(out[j] - ref[j]) <= 3e-5 * big + 1e-6)) {
                if (!bad) fprintf(stderr, "    [tok %zu row %zu] %.9g vs %.9g\n", j / os, j % os, out[j], ref[j]);
                bad++;
            }
        }
        MT_CHECK_MSG(t, bad == 0 && untouched, "%s %s gemm %s n=%lld n_tok=%lld: %d outputs differ%s", isa, tr->name,
                     hostile ? "random-byte weights" : "quantized weights", (long long)n, (long long)nt, bad,
                     untouched ? "" : ", wrote outside its rows/tokens");
#if defined(__aarch64__) || defined(__wasm_simd128__)
        /* decode is the ISA's vec_dot, row by row: the same bits */
        if (nt < 4) {
            int same = 1;
            for (int64_t tt = 0; tt < nt; tt++)
                for (int64_t r = r0; r < r1; r++) {
                    float v;
                    k->vec_dot[type](n, &v, w + (size_t)r * wrb, x + (size_t)tt * xrb);
                    same &= memcmp(&v, &out[(size_t)tt * os + (size_t)r], 4) == 0;
                }
            MT_CHECK_MSG(t, same, "%s %s decode gemm n_tok=%lld is not the vec_dot per row", isa, tr->name,
                         (long long)nt);
        }
#endif
    }
    free(w); free(x); free(out); free(ref);
}

static void check_table(mt_ctx *t, const char *isa, const mono_kernels *k, const mono_kernels *p) {
    uint64_t s = 2024;
    int tested = 0;
    for (size_t i = 0; i < sizeof gemm_types / sizeof gemm_types[0]; i++) {
        const int type = gemm_types[i];
        if (!k->gemm[type]) continue;
        tested++;
        const int64_t bs = mono_type_get(type)->block_size;
        const int64_t lens[] = {bs, 3 * bs, bs == 256 ? 4864 : 896};
        for (int li = 0; li < 3; li++)
            for (int hostile = 0; hostile < 2; hostile++) check_case(t, isa, k, p, type, lens[li], hostile, &s);
    }
#if defined(__aarch64__) || defined(__wasm_simd128__)
    MT_CHECK_MSG(t, tested == 10, "%s registers %d of 10 quantized gemms", isa, tested);
#else
    (void)tested;
#endif
}

void suite_quant_gemm(mt_ctx *t) {
    mono_kernels p, k;
    memset(&p, 0, sizeof p);
    mono_cpu_detect(&p.cpu);
    mono_kernels_register_quant_portable(&p);
    k = p;
#if defined(__x86_64__)
    if (p.cpu.avx2 && p.cpu.fma && p.cpu.f16c) {
        mono_kernels_register_quant_avx2(&k);
        check_table(t, "avx2", &k, &p);
        if (p.cpu.avx512f && p.cpu.avx512bw && p.cpu.avx512vl && p.cpu.avx512vnni) {
            mono_kernels_register_quant_avx512(&k);
            check_table(t, "avx512", &k, &p);
        }
    } else {
        mt_skip(t, "no AVX2 on this CPU: no SIMD gemms to test");
    }
#elif defined(__aarch64__)
    mono_kernels_register_quant_neon(&k);
    check_table(t, "neon", &k, &p);
#elif defined(__wasm_simd128__)
    mono_kernels_register_quant_wasm(&k);
    check_table(t, "wasm_simd128", &k, &p);
#else
    (void)k;
    mt_skip(t, "no SIMD gemms for this architecture");
#endif
}
