/*
 * test_quant_tile.c -- the tiled x86 prefill gemms (src/kernels/quant_x86_tile.h)
 * at the sizes test_quant.c does not reach: several row tiles plus a
 * partial one (16 rows on AVX-512, 8 on AVX2), token tiles plus a tail, and
 * more tokens than one token block (QT_TB = 256), so the per-block
 * activation table is rebuilt; each result must equal the portable vec_dot
 * within float tolerance and nothing outside [r0, r1) may be written.
 * Extreme blocks (largest weights against -128 activations) check that the
 * 16-bit partial sums of the AVX2 path cannot saturate.
 */
#include <stdlib.h>

#include "kernels/quant.h"
#include "test.h"

static uint64_t tile_rng(uint64_t *s) {
    *s ^= *s >> 12; *s ^= *s << 25; *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}
static float tile_frand(uint64_t *s) { return (float)((tile_rng(s) >> 40) * (1.0 / 16777216.0)) * 2 - 1; }

static const int tile_types[] = {MONO_TYPE_Q8_0, MONO_TYPE_Q4_0, MONO_TYPE_Q5_0, MONO_TYPE_Q4_1, MONO_TYPE_Q5_1,
                                 MONO_TYPE_Q2_K, MONO_TYPE_Q3_K, MONO_TYPE_Q4_K, MONO_TYPE_Q5_K, MONO_TYPE_Q6_K};

/* k->gemm against the portable vec_dot on rows [r0, r1) of W, all n_tok tokens. */
static int tile_compare(mt_ctx *t, const char *isa, const mono_kernels *k, const mono_kernels *p, int type, int64_t n,
                        const uint8_t *W, size_t wrb, int64_t r0, int64_t r1, const uint8_t *X, size_t xrb,
                        int64_t n_tok, size_t os) {
    const size_t total = os * (size_t)n_tok;
    float *out = malloc(total * 4), *ref = malloc(total * 4);
    for (size_t j = 0; j < total; j++) out[j] = ref[j] = -12345.0f;
    k->gemm[type](n, W, wrb, r0, r1, X, xrb, n_tok, out, os);
    mono_gemm_by_vec_dot(p->vec_dot[type], n, W, wrb, r0, r1, X, xrb, n_tok, ref, os);
    double big = 1e-3;
    for (size_t j = 0; j < total; j++)
        if (ref[j] != -12345.0f) big = fmax(big, fabs(ref[j]));
    int bad = 0;
    for (size_t j = 0; j < total; j++)
        if (!(fabs(out[j] - ref[j]) <= 2e-5 * big + 1e-6)) {
            if (!bad) fprintf(stderr, "    [%zu] %.9g vs %.9g\n", j, out[j], ref[j]);
            bad++;
        }
    MT_CHECK_MSG(t, bad == 0, "%s %s tiled gemm n=%lld rows [%lld, %lld) n_tok=%lld: %d outputs differ", isa,
                 mono_type_get(type)->name, (long long)n, (long long)r0, (long long)r1, (long long)n_tok, bad);
    free(out);
    free(ref);
    return bad == 0;
}

static void tile_random(mt_ctx *t, const char *isa, const mono_kernels *k, const mono_kernels *p) {
    uint64_t s = 1234;
    for (size_t i = 0; i < sizeof tile_types / sizeof tile_types[0]; i++) {
        const int type = tile_types[i];
        const mono_type_traits *tr = mono_type_get(type);
        if (!k->gemm[type]) continue;
        const int64_t n = tr->block_size == 256 ? 3 * 256 : 27 * 32, rows = 41, ntok_max = 300;
        const size_t wrb = mono_type_row_bytes(type, n), xrb = mono_type_row_bytes(tr->vec_dot_type, n);
        uint8_t *W = malloc(wrb * rows), *X = malloc(xrb * ntok_max);
        float *f = malloc((size_t)n * 4);
        for (int64_t r = 0; r < rows; r++) {
            for (int64_t j = 0; j < n; j++) f[j] = 0.05f * (tile_frand(&s) + tile_frand(&s));
            tr->from_float(f, W + r * wrb, n);
        }
        for (int64_t r = 0; r < ntok_max; r++) {
            for (int64_t j = 0; j < n; j++) f[j] = tile_frand(&s) * (tile_rng(&s) % 40 == 0 ? 6.0f : 1.0f);
            mono_type_get(tr->vec_dot_type)->from_float(f, X + r * xrb, n);
        }
        static const int64_t ntoks[] = {4, 8, 13, 300};
        for (size_t j = 0; j < sizeof ntoks / sizeof ntoks[0]; j++)
            if (!tile_compare(t, isa, k, p, type, n, W, wrb, 3, 40, X, xrb, ntoks[j], rows + 5)) break;
        tile_compare(t, isa, k, p, type, n, W, wrb, 16, 32, X, xrb, 9, rows); /* exactly one tile */
        free(W);
        free(X);
        free(f);
    }
}

/* Largest weights (Q5_0/Q5_1 q = 31, Q4 q = 15, Q8_0 +-127) against -128
 * activations: the integer sums are exact only if no partial sum saturates. */
static void tile_extreme(mt_ctx *t, const char *isa, const mono_kernels *k, const mono_kernels *p) {
    static const int types[] = {MONO_TYPE_Q8_0, MONO_TYPE_Q4_0, MONO_TYPE_Q5_0, MONO_TYPE_Q4_1, MONO_TYPE_Q5_1};
    const int64_t n = 8 * 32, rows = 17, ntok = 9;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        const int type = types[i];
        const mono_type_traits *tr = mono_type_get(type);
        if (!k->gemm[type]) continue;
        const size_t wrb = mono_type_row_bytes(type, n), xrb = mono_type_row_bytes(tr->vec_dot_type, n);
        uint8_t *W = malloc(wrb * rows), *X = malloc(xrb * ntok);
        memset(W, 0xFF, wrb * rows); /* every quant at its maximum */
        for (int64_t r = 0; r < rows; r++)
            for (int64_t b = 0; b < n / 32; b++) {
                uint8_t *blk = W + r * wrb + b * tr->block_bytes;
                const uint16_t one = 0x3C00, half = 0x3800; /* 1.0, 0.5 */
                memcpy(blk, (r + b) % 2 ? &one : &half, 2);
                if (type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1) memcpy(blk + 2, &half, 2);
                if (type == MONO_TYPE_Q8_0) memset(blk + 2, r % 3 == 0 ? 0x81 : 0x7F, 32); /* q = -127 or 127 */
            }
        const int with_sum = tr->vec_dot_type == MONO_TYPE_Q8_1;
        const size_t xbb = mono_type_get(tr->vec_dot_type)->block_bytes;
        for (int64_t r = 0; r < ntok; r++)
            for (int64_t b = 0; b < n / 32; b++) {
                uint8_t *blk = X + r * xrb + b * xbb;
                const uint16_t one = 0x3C00;
                memcpy(blk, &one, 2);
                if (with_sum) memcpy(blk + 2, &one, 2);
                /* -128 or 127 (-127 for Q8_0: its AVX2 gemm takes |y| by the sign trick, and
                 * the activation quantizer never writes -128) */
                memset(blk + (with_sum ? 4 : 2), r % 2 ? (type == MONO_TYPE_Q8_0 ? 0x81 : 0x80) : 0x7F, 32);
            }
        tile_compare(t, isa, k, p, type, n, W, wrb, 0, rows, X, xrb, ntok, rows);
        free(W);
        free(X);
    }
}

void suite_quant_tile(mt_ctx *t) {
#if defined(__x86_64__)
    mono_kernels p, k;
    memset(&p, 0, sizeof p);
    mono_cpu_detect(&p.cpu);
    mono_kernels_register_quant_portable(&p);
    k = p;
    if (!(p.cpu.avx2 && p.cpu.fma && p.cpu.f16c)) {
        mt_skip(t, "no AVX2 on this CPU: tiled gemms not tested");
        return;
    }
    mono_kernels_register_quant_avx2(&k);
    tile_random(t, "avx2", &k, &p);
    tile_extreme(t, "avx2", &k, &p);
    if (p.cpu.avx512f && p.cpu.avx512bw && p.cpu.avx512vl && p.cpu.avx512vnni) {
        mono_kernels_register_quant_avx512(&k);
        tile_random(t, "avx512", &k, &p);
        tile_extreme(t, "avx512", &k, &p);
    } else {
        mt_skip(t, "no AVX512-VNNI on this CPU: avx512 tiled gemms not tested");
    }
#else
    (void)tile_random; /* x86 only: referenced so other targets build without warnings */
    (void)tile_extreme;
    mt_skip(t, "x86 only");
#endif
}
