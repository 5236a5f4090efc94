/*
 * test_quant.c -- the quantized types without any peer library:
 *   - quantize/dequantize round trips stay within each type's error budget;
 *   - portable dot products equal the dot of the dequantized vectors;
 *   - every SIMD kernel (AVX2, AVX-512 VNNI when the CPU has them) equals the
 *     portable one on random rows of odd lengths, and each gemm equals its
 *     vec_dot for awkward token counts, row ranges and output strides;
 *   - SIMD activation quantizers write the reference bytes, ties included;
 *   - hostile blocks (q8 = -128, huge scales) do not crash and agree.
 */
#include <stdlib.h>

#include "kernels/quant.h"
#include "test.h"

static uint64_t rng(uint64_t *s) {
    *s ^= *s >> 12; *s ^= *s << 25; *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}
static float frand(uint64_t *s) { return (float)((rng(s) >> 40) * (1.0 / 16777216.0)) * 2 - 1; }

static void fill(float *x, int64_t n, uint64_t *s, float scale) {
    for (int64_t i = 0; i < n; i++) {
        float v = frand(s) + frand(s) + frand(s); /* roughly bell shaped */
        x[i] = scale * v * (rng(s) % 50 == 0 ? 8.0f : 1.0f);
    }
}

static const int weight_types[] = {MONO_TYPE_Q4_0, MONO_TYPE_Q4_1, MONO_TYPE_Q5_0, MONO_TYPE_Q5_1, MONO_TYPE_Q8_0,
                                   MONO_TYPE_Q2_K, MONO_TYPE_Q3_K, MONO_TYPE_Q4_K, MONO_TYPE_Q5_K, MONO_TYPE_Q6_K};
#define N_WEIGHT_TYPES (int)(sizeof weight_types / sizeof weight_types[0])

/* Relative RMS error budgets of a round trip on bell-shaped data. */
static double budget(int type) {
    switch (type) {
    case MONO_TYPE_Q8_0: case MONO_TYPE_Q8_1: return 0.01;
    case MONO_TYPE_Q8_K: return 0.03; /* one scale per 256: outliers cost more */
    case MONO_TYPE_Q6_K: return 0.04;
    case MONO_TYPE_Q5_0: case MONO_TYPE_Q5_1: case MONO_TYPE_Q5_K: return 0.08;
    case MONO_TYPE_Q4_0: case MONO_TYPE_Q4_1: case MONO_TYPE_Q4_K: return 0.16;
    case MONO_TYPE_Q3_K: return 0.30;
    default: return 0.60; /* Q2_K */
    }
}

static void test_round_trip(mt_ctx *t) {
    static const int all[] = {MONO_TYPE_Q4_0, MONO_TYPE_Q4_1, MONO_TYPE_Q5_0, MONO_TYPE_Q5_1, MONO_TYPE_Q8_0,
                              MONO_TYPE_Q8_1, MONO_TYPE_Q2_K, MONO_TYPE_Q3_K, MONO_TYPE_Q4_K, MONO_TYPE_Q5_K,
                              MONO_TYPE_Q6_K, MONO_TYPE_Q8_K};
    const int64_t n = 256 * 8;
    float *x = malloc(n * 4), *y = malloc(n * 4);
    uint8_t *q = malloc(mono_type_row_bytes(MONO_TYPE_Q8_K, n));
    uint64_t s = 42;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const mono_type_traits *tr = mono_type_get(all[i]);
        if (!MT_CHECK(t, tr && tr->quantized && tr->to_float && tr->from_float)) continue;
        MT_CHECK_EQ_INT(t, mono_type_row_bytes(all[i], n), n / tr->block_size * tr->block_bytes);
        MT_CHECK_EQ_INT(t, mono_type_row_bytes(all[i], tr->block_size + 1), 0);
        fill(x, n, &s, 0.05f);
        tr->from_float(x, q, n);
        tr->to_float(q, y, n);
        double e2 = 0, x2 = 0;
        for (int64_t j = 0; j < n; j++) { e2 += (double)(x[j] - y[j]) * (x[j] - y[j]); x2 += (double)x[j] * x[j]; }
        double rel = sqrt(e2 / x2);
        MT_CHECK_MSG(t, rel < budget(all[i]), "%s: round-trip relative RMS error %.4f over budget %.2f", tr->name, rel,
                     budget(all[i]));
        /* an all-zero row stays zero */
        memset(x, 0, n * 4);
        tr->from_float(x, q, n);
        tr->to_float(q, y, n);
        int nonzero = 0;
        for (int64_t j = 0; j < n; j++) nonzero += y[j] != 0;
        MT_CHECK_MSG(t, nonzero == 0, "%s: zeros came back as %d non-zeros", tr->name, nonzero);
    }
    free(x); free(y); free(q);
}

/* Quantized weights w (type) and activations xq (vec_dot_type) for tests. */
typedef struct qrow {
    int type, vtype;
    int64_t n;
    uint8_t *w, *x;
    float *wf, *xf;
} qrow;

static void qrow_make(qrow *r, int type, int64_t n, uint64_t *s) {
    const mono_type_traits *tr = mono_type_get(type);
    r->type = type;
    r->vtype = tr->vec_dot_type;
    r->n = n;
    r->w = malloc(mono_type_row_bytes(type, n));
    r->x = malloc(mono_type_row_bytes(r->vtype, n));
    r->wf = malloc(n * 4);
    r->xf = malloc(n * 4);
    fill(r->wf, n, s, 0.03f);
    fill(r->xf, n, s, 1.0f);
    tr->from_float(r->wf, r->w, n);
    mono_type_get(r->vtype)->from_float(r->xf, r->x, n);
    tr->to_float(r->w, r->wf, n); /* exact values the kernels see */
    mono_type_get(r->vtype)->to_float(r->x, r->xf, n);
}

static void qrow_free(qrow *r) { free(r->w); free(r->x); free(r->wf); free(r->xf); }

static int close_enough(double a, double b, double scale) { return fabs(a - b) <= 2e-5 * scale + 1e-6; }

static void test_portable_dot(mt_ctx *t) {
    mono_kernels k;
    memset(&k, 0, sizeof k);
    mono_kernels_register_quant_portable(&k);
    uint64_t s = 7;
    for (int i = 0; i < N_WEIGHT_TYPES; i++) {
        const mono_type_traits *tr = mono_type_get(weight_types[i]);
        int64_t n = tr->block_size == 256 ? 256 * 5 : 32 * 29;
        qrow r;
        qrow_make(&r, weight_types[i], n, &s);
        double ref = 0, scale = 0;
        for (int64_t j = 0; j < n; j++) { ref += (double)r.wf[j] * r.xf[j]; scale += fabs((double)r.wf[j] * r.xf[j]); }
        float got = -1;
        if (MT_CHECK_MSG(t, k.vec_dot[r.type] != NULL, "%s: no portable vec_dot", tr->name)) {
            k.vec_dot[r.type](n, &got, r.w, r.x);
            /* Q8_1's s is a rounded half: allow its error for Q4_1/Q5_1 */
            double tol = r.vtype == MONO_TYPE_Q8_1 ? 2e-3 * scale : 1e-4 * scale;
            MT_CHECK_MSG(t, fabs(got - ref) <= tol, "%s: portable dot %.7g, dequantized dot %.7g", tr->name, got, ref);
        }
        qrow_free(&r);
    }
}

/* One ISA's table against the portable one. */
static void check_isa(mt_ctx *t, const char *isa, const mono_kernels *k, const mono_kernels *p) {
    uint64_t s = 99;
    for (int i = 0; i < N_WEIGHT_TYPES; i++) {
        int type = weight_types[i];
        const mono_type_traits *tr = mono_type_get(type);
        const int64_t blocks[] = {1, 2, 3, 7, 19, 28};
        for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
            int64_t n = blocks[b] * tr->block_size;
            qrow r;
            qrow_make(&r, type, n, &s);
            float a = 0, c = 0;
            double scale = 0;
            for (int64_t j = 0; j < n; j++) scale += fabs((double)r.wf[j] * r.xf[j]);
            k->vec_dot[type](n, &a, r.w, r.x);
            p->vec_dot[type](n, &c, r.w, r.x);
            MT_CHECK_MSG(t, close_enough(a, c, scale), "%s %s n=%lld: %.8g vs portable %.8g", isa, tr->name,
                         (long long)n, a, c);
            qrow_free(&r);
        }
        /* gemm: 13 rows of 3, 6, 10 or 28 blocks (odd counts, pair tails, groups
         * of 8 plus tails), tokens 1..9, rows [2, 11), output stride 17 */
        if (!k->gemm[type]) continue;
        static const int64_t gemm_blocks[] = {3, 6, 10, 28};
        for (int gb = 0; gb < 4; gb++) {
        if (tr->block_size == 256 && gb > 1) break;
        const int64_t n = gemm_blocks[gb] * tr->block_size, rows = 13, ntok_max = 9;
        size_t wrb = mono_type_row_bytes(type, n), xrb = mono_type_row_bytes(tr->vec_dot_type, n);
        uint8_t *W = malloc(wrb * rows), *X = malloc(xrb * ntok_max);
        float *f = malloc(n * 4), *out = malloc(17 * ntok_max * 4), *ref = malloc(17 * ntok_max * 4);
        for (int64_t r = 0; r < rows; r++) { fill(f, n, &s, 0.03f); tr->from_float(f, W + r * wrb, n); }
        for (int64_t r = 0; r < ntok_max; r++) {
            fill(f, n, &s, 1.0f);
            mono_type_get(tr->vec_dot_type)->from_float(f, X + r * xrb, n);
        }
        for (int ntok = 1; ntok <= ntok_max; ntok++) {
            for (int j = 0; j < 17 * ntok_max; j++) out[j] = ref[j] = -12345.0f;
            k->gemm[type](n, W, wrb, 2, 11, X, xrb, ntok, out, 17);
            mono_gemm_by_vec_dot(p->vec_dot[type], n, W, wrb, 2, 11, X, xrb, ntok, ref, 17);
            /* results are differences of large terms (K-quant mins): scale by the largest */
            double big = 1e-3;
            for (int j = 0; j < 17 * ntok_max; j++)
                if (ref[j] != -12345.0f) big = fmax(big, fabs(ref[j]));
            int bad = 0;
            for (int j = 0; j < 17 * ntok_max; j++)
                if (!close_enough(out[j], ref[j], big)) { if (!bad) fprintf(stderr, "    [%d] %.9g vs %.9g\n", j, out[j], ref[j]); bad++; }
            MT_CHECK_MSG(t, bad == 0, "%s %s gemm n=%lld n_tok=%d: %d outputs differ (or written out of range)", isa,
                         tr->name, (long long)n, ntok, bad);
        }
        free(W); free(X); free(f); free(out); free(ref);
        }
    }
    /* activation quantizers: same bytes, with exact .5 ties (amax 127 -> d = 1) */
    static const int act[] = {MONO_TYPE_Q8_0, MONO_TYPE_Q8_K};
    for (int i = 0; i < 2; i++) {
        int type = act[i];
        if (!k->quantize_row[type]) continue;
        const int64_t n = 256 * 3;
        float *x = malloc(n * 4);
        size_t bytes = mono_type_row_bytes(type, n);
        uint8_t *qa = calloc(1, bytes), *qb = calloc(1, bytes);
        for (int round = 0; round < 3; round++) {
            fill(x, n, &s, round == 0 ? 1.0f : 1e-3f);
            if (round == 2)
                for (int64_t j = 0; j < n; j++) x[j] = (j % 32 == 0) ? 127.0f : (float)((int)(frand(&s) * 100)) + 0.5f;
            k->quantize_row[type](x, qa, n);
            mono_type_get(type)->from_float(x, qb, n);
            MT_CHECK_MSG(t, memcmp(qa, qb, bytes) == 0, "%s quantize_row %s round %d differs from reference", isa,
                         mono_type_get(type)->name, round);
        }
        free(x); free(qa); free(qb);
    }
}

static void test_hostile_blocks(mt_ctx *t, const char *isa, const mono_kernels *k, const mono_kernels *p) {
    /* Q8_0 weights of -128 (never written by a quantizer but legal bytes) */
    mono_block_q8_0 w[4], x[4];
    for (int b = 0; b < 4; b++) {
        w[b].d = mono_f32_to_f16(0.5f);
        x[b].d = mono_f32_to_f16(0.25f);
        for (int j = 0; j < 32; j++) { w[b].qs[j] = -128; x[b].qs[j] = (int8_t)(j % 2 ? 127 : -127); }
    }
    float a = 0, c = 0;
    k->vec_dot[MONO_TYPE_Q8_0](128, &a, w, x);
    p->vec_dot[MONO_TYPE_Q8_0](128, &c, w, x);
    MT_CHECK_MSG(t, a == c, "%s q8_0 with -128 weights: %g vs portable %g", isa, a, c);
    /* scales that are half subnormals, the largest normal and negative */
    static const uint16_t halves[] = {0x0001, 0x03FF, 0x0400, 0x7BFF, 0x8400, 0xFBFF, 0x3C00};
    for (size_t h = 0; h < sizeof halves / sizeof halves[0]; h++) {
        for (int b = 0; b < 4; b++) {
            w[b].d = halves[h];
            x[b].d = halves[(h + (size_t)b) % (sizeof halves / sizeof halves[0])];
            for (int j = 0; j < 32; j++) { w[b].qs[j] = (int8_t)(j * 7 - 100); x[b].qs[j] = (int8_t)(50 - j * 3); }
        }
        k->vec_dot[MONO_TYPE_Q8_0](128, &a, w, x);
        p->vec_dot[MONO_TYPE_Q8_0](128, &c, w, x);
        float wf[128], xf[128];
        double mag = 0;
        mono_dequantize_row_q8_0(w, wf, 128);
        mono_dequantize_row_q8_0(x, xf, 128);
        for (int j = 0; j < 128; j++) mag += fabs((double)wf[j] * xf[j]);
        MT_CHECK_MSG(t, close_enough(a, c, mag), "%s q8_0 with scale 0x%04x: %g vs portable %g", isa, halves[h], a, c);
    }
    /* all-ones bytes (largest scales, every high bit set) in each K type */
    static uint8_t blk[2 * 292];
    memset(blk, 0xFF, sizeof blk);
    for (int i = 0; i < N_WEIGHT_TYPES; i++) {
        int type = weight_types[i];
        const mono_type_traits *tr = mono_type_get(type);
        if (tr->block_size != 256) continue;
        uint8_t wb[210], xb[292];
        memset(wb, 0x5A, sizeof wb);
        memset(xb, 0, sizeof xb);
        float one = 1.0f;
        memcpy(xb, &one, 4);
        for (int j = 0; j < 256; j++) xb[4 + j] = (uint8_t)(j % 3 == 0 ? 0x81 : 0x7F);
        for (int j = 0; j < 16; j++) {
            int sum = 0;
            for (int l = 0; l < 16; l++) sum += (int8_t)xb[4 + 16 * j + l];
            int16_t s16 = (int16_t)sum;
            memcpy(xb + 260 + 2 * j, &s16, 2);
        }
        k->vec_dot[type](256, &a, wb, xb);
        p->vec_dot[type](256, &c, wb, xb);
        /* float tolerance relative to the size of the terms (they cancel here) */
        float wf[256], xf[256];
        double scale = 0;
        tr->to_float(wb, wf, 256);
        mono_type_get(MONO_TYPE_Q8_K)->to_float(xb, xf, 256);
        for (int j = 0; j < 256; j++) scale += fabs((double)wf[j] * xf[j]);
        MT_CHECK_MSG(t, close_enough(a, c, scale), "%s %s patterned block: %g vs portable %g", isa, tr->name, a, c);
    }
}

void suite_quant(mt_ctx *t) {
    test_round_trip(t);
    test_portable_dot(t);
    mono_kernels p, k;
    memset(&p, 0, sizeof p);
    mono_cpu_detect(&p.cpu);
    mono_kernels_register_quant_portable(&p);
#if defined(__x86_64__)
    k = p;
    if (p.cpu.avx2 && p.cpu.fma && p.cpu.f16c) {
        mono_kernels_register_quant_avx2(&k);
        check_isa(t, "avx2", &k, &p);
        test_hostile_blocks(t, "avx2", &k, &p);
        if (p.cpu.avx512f && p.cpu.avx512bw && p.cpu.avx512vl && p.cpu.avx512vnni) {
            mono_kernels_register_quant_avx512(&k);
            check_isa(t, "avx512", &k, &p);
            test_hostile_blocks(t, "avx512", &k, &p);
        } else {
            mt_skip(t, "no AVX512-VNNI on this CPU: avx512 quant kernels not tested");
        }
    } else {
        mt_skip(t, "no AVX2 on this CPU: x86 quant kernels not tested");
    }
#elif defined(__aarch64__)
    k = p;
    mono_kernels_register_quant_neon(&k);
    check_isa(t, "neon", &k, &p);
    test_hostile_blocks(t, "neon", &k, &p);
#elif defined(__wasm_simd128__)
    k = p;
    mono_kernels_register_quant_wasm(&k);
    check_isa(t, "wasm_simd128", &k, &p);
    test_hostile_blocks(t, "wasm_simd128", &k, &p);
#else
    (void)k;
    mt_skip(t, "no SIMD quant kernels for this architecture yet");
#endif
}
