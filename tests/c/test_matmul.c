/*
 * test_matmul.c -- the forward pass's fused pieces against their plain
 * forms: mono_matmul_swiglu (gate/up in one pool run with SwiGLU applied by
 * each slice) against two mono_matmul calls and the formula, and the
 * grouped attention helpers of the KV cache (scores of several heads by one
 * gemm, value mixing for several heads) against one head at a time, for F32
 * and F16 caches, odd sizes and thread counts that do not divide them; and
 * the vectorizable exp, SwiGLU and softmax of vmath.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/types.h"
#include "model/kv_cache.h"
#include "model/matmul.h"
#include "model/vmath.h"
#include "runtime/threadpool.h"
#include "test.h"

static float frand(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return (float)((*s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

static float max_abs_diff(const float *a, const float *b, size_t n) {
    float m = 0;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf(a[i] - b[i]);
        if (d != d) return d; /* NaN counts as a failure */
        if (d > m) m = d;
    }
    return m;
}

/* A random [rows, cols] matrix stored as type (owned by *keep). */
static mono_matrix make_matrix(int type, int64_t rows, int64_t cols, unsigned seed, void **keep) {
    mono_matrix w;
    memset(&w, 0, sizeof w);
    const mono_type_traits *tr = mono_type_get(type);
    w.type = type;
    w.n_rows = rows;
    w.n_cols = cols;
    w.row_bytes = mono_type_row_bytes(type, cols);
    uint8_t *d = malloc(w.row_bytes * (size_t)rows);
    float *row = malloc(sizeof(float) * (size_t)cols);
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = 0; c < cols; c++) row[c] = frand(&seed) * 0.5f;
        tr->from_float(row, d + (size_t)r * w.row_bytes, cols);
    }
    free(row);
    w.data = d;
    *keep = d;
    return w;
}

static void check_swiglu(mt_ctx *t, const mono_kernels *k, int n_threads, int gate_type, int up_type, int64_t F,
                         int64_t D, int64_t n_tok) {
    mono_error err;
    mono_threadpool *pool = NULL;
    if (!MT_CHECK(t, mono_threadpool_init(&pool, n_threads, &err) == MONO_OK)) return;
    void *kg, *ku;
    mono_matrix wg = make_matrix(gate_type, F, D, 11, &kg), wu = make_matrix(up_type, F, D, 29, &ku);
    unsigned seed = 7;
    float *x = malloc(sizeof(float) * (size_t)(n_tok * D));
    for (int64_t i = 0; i < n_tok * D; i++) x[i] = frand(&seed);
    size_t n_out = (size_t)(n_tok * F);
    float *g1 = malloc(sizeof(float) * n_out), *u1 = malloc(sizeof(float) * n_out);
    float *g2 = malloc(sizeof(float) * n_out), *u2 = malloc(sizeof(float) * n_out);
    mono_matmul_scratch s;
    memset(&s, 0, sizeof s);
    int ok = 1;
    size_t xq = mono_matmul_xq_bytes(gate_type, D, n_tok, &ok), xu = mono_matmul_xq_bytes(up_type, D, n_tok, &ok);
    if (xu > xq) xq = xu;
    s.xq_bytes = xq * MONO_MATMUL_MAX_GROUP;
    s.xq = malloc(s.xq_bytes ? s.xq_bytes : 1);
    s.max_cols = D;
    s.n_threads = n_threads;
    s.wrow = malloc(sizeof(float) * (size_t)(D * n_threads));
    mono_matmul(k, pool, &wg, x, n_tok, g1, (size_t)F, &s);
    mono_matmul(k, pool, &wu, x, n_tok, u1, (size_t)F, &s);
    for (size_t i = 0; i < n_out; i++) g1[i] = g1[i] / (1.0f + mono_expf_approx(-g1[i])) * u1[i];
    mono_matmul_swiglu(k, pool, &wg, &wu, x, n_tok, g2, u2, &s);
    /* the same kernels on the same rows: bit-identical */
    MT_CHECK_MSG(t, max_abs_diff(u1, u2, n_out) == 0.0f && max_abs_diff(g1, g2, n_out) == 0.0f,
                 "swiglu %s/%s F=%lld n_tok=%lld threads=%d: up differs by %g, gate by %g", mono_type_get(gate_type)->name,
                 mono_type_get(up_type)->name, (long long)F, (long long)n_tok, n_threads,
                 (double)max_abs_diff(u1, u2, n_out), (double)max_abs_diff(g1, g2, n_out));
    free(s.xq);
    free(s.wrow);
    free(x), free(g1), free(u1), free(g2), free(u2), free(kg), free(ku);
    mono_threadpool_free(pool);
}

/* Scratch for products of up to n_tok rows of D columns against types. */
static void scratch_init(mono_matmul_scratch *s, const int *types, int n_types, int64_t D, int64_t n_tok, int n_threads) {
    memset(s, 0, sizeof *s);
    size_t xq = 0;
    for (int i = 0; i < n_types; i++) {
        int ok = 1;
        size_t b = mono_matmul_xq_bytes(types[i], D, n_tok, &ok);
        if (b > xq) xq = b;
    }
    s->xq_bytes = xq * MONO_MATMUL_MAX_GROUP;
    s->xq = malloc(s->xq_bytes ? s->xq_bytes : 1);
    s->max_cols = D;
    s->n_threads = n_threads;
    s->wrow = malloc(sizeof(float) * (size_t)(D * n_threads));
}

/* Split over a pool, every row of mono_matmul, mono_matmul_group (rows of
 * several matrices split as one range) and mono_matmul_swiglu must come out
 * bit-identical to the single-threaded product (same kernel per row), with
 * no row left unwritten (the outputs start as NaN). */
static void check_pooled(mt_ctx *t, const mono_kernels *k, int type, int64_t F, int64_t D, int n_threads,
                          int64_t n_tok) {
    mono_error err;
    mono_threadpool *pool = NULL;
    if (!MT_CHECK(t, mono_threadpool_init(&pool, n_threads, &err) == MONO_OK)) return;
    void *keep[3];
    mono_matrix w[3] = {make_matrix(type, F, D, 3, &keep[0]), make_matrix(type, F / 7 + 1, D, 5, &keep[1]),
                        make_matrix(type, F / 3 + 5, D, 9, &keep[2])};
    int64_t rows = w[0].n_rows + w[1].n_rows + w[2].n_rows;
    unsigned seed = 17;
    float *x = malloc(sizeof(float) * (size_t)(n_tok * D));
    for (int64_t i = 0; i < n_tok * D; i++) x[i] = frand(&seed);
    float *ref = malloc(sizeof(float) * (size_t)(rows * n_tok)), *got = malloc(sizeof(float) * (size_t)(rows * n_tok));
    float *up_ref = malloc(sizeof(float) * (size_t)(F * n_tok)), *up_got = malloc(sizeof(float) * (size_t)(F * n_tok));
    mono_matmul_scratch s;
    scratch_init(&s, &type, 1, D, n_tok, n_threads);
    const mono_matrix *ws[3] = {&w[0], &w[1], &w[2]};
    float *outs_ref[3] = {ref, ref + w[0].n_rows * n_tok, ref + (w[0].n_rows + w[1].n_rows) * n_tok};
    float *outs_got[3] = {got, got + w[0].n_rows * n_tok, got + (w[0].n_rows + w[1].n_rows) * n_tok};
    const char *name = mono_type_get(type)->name;
    /* one matrix */
    memset(got, 0xff, sizeof(float) * (size_t)(F * n_tok)); /* NaNs: a row nobody wrote fails */
    mono_matmul(k, NULL, &w[0], x, n_tok, ref, (size_t)F, &s);
    mono_matmul(k, pool, &w[0], x, n_tok, got, (size_t)F, &s);
    MT_CHECK_MSG(t, max_abs_diff(ref, got, (size_t)(F * n_tok)) == 0.0f, "pooled matmul %s F=%lld threads=%d: %g", name,
                 (long long)F, n_threads, (double)max_abs_diff(ref, got, (size_t)(F * n_tok)));
    /* a group of three */
    memset(got, 0xff, sizeof(float) * (size_t)(rows * n_tok));
    mono_matmul_group(k, NULL, ws, outs_ref, 3, x, n_tok, &s);
    mono_matmul_group(k, pool, ws, outs_got, 3, x, n_tok, &s);
    MT_CHECK_MSG(t, max_abs_diff(ref, got, (size_t)(rows * n_tok)) == 0.0f, "pooled group %s threads=%d: %g", name,
                 n_threads, (double)max_abs_diff(ref, got, (size_t)(rows * n_tok)));
    /* gate/up with SwiGLU (w[0] as both) */
    memset(got, 0xff, sizeof(float) * (size_t)(F * n_tok));
    memset(up_got, 0xff, sizeof(float) * (size_t)(F * n_tok));
    mono_matmul_swiglu(k, NULL, &w[0], &w[0], x, n_tok, ref, up_ref, &s);
    mono_matmul_swiglu(k, pool, &w[0], &w[0], x, n_tok, got, up_got, &s);
    MT_CHECK_MSG(t, max_abs_diff(ref, got, (size_t)(F * n_tok)) == 0.0f && max_abs_diff(up_ref, up_got, (size_t)(F * n_tok)) == 0.0f,
                 "pooled swiglu %s threads=%d: %g", name, n_threads, (double)max_abs_diff(ref, got, (size_t)(F * n_tok)));
    free(s.xq), free(s.wrow), free(x), free(ref), free(got), free(up_ref), free(up_got);
    for (int i = 0; i < 3; i++) free(keep[i]);
    mono_threadpool_free(pool);
}

/* Grouped scores/mixing against the one-head functions. */
static void check_attention(mt_ctx *t, const mono_kernels *k, int kv_type, int hd, int n_heads, int n_pos) {
    mono_error err;
    mono_kv_cache kv;
    int n_kv = 2, n_ctx = n_pos + 3, il = 1;
    if (!MT_CHECK(t, mono_kv_cache_init(&kv, kv_type, 2, n_ctx, n_kv, hd, &err) == MONO_OK)) return;
    kv.to_f16 = k->quantize_row[MONO_TYPE_F16]; /* the ISA's conversions, as the engine sets them */
    kv.to_f32 = k->to_float[MONO_TYPE_F16];
    unsigned seed = 99;
    size_t row = (size_t)n_kv * hd;
    float *kk = malloc(sizeof(float) * row * (size_t)n_pos), *vv = malloc(sizeof(float) * row * (size_t)n_pos);
    for (size_t i = 0; i < row * (size_t)n_pos; i++) kk[i] = frand(&seed), vv[i] = frand(&seed);
    mono_kv_cache_store(&kv, il, 0, n_pos, kk, vv);
    float *q = malloc(sizeof(float) * (size_t)(n_heads * hd));
    for (int i = 0; i < n_heads * hd; i++) q[i] = frand(&seed);
    size_t ps = (size_t)n_ctx;
    float *s1 = calloc((size_t)n_heads * ps, sizeof(float)), *s2 = calloc((size_t)n_heads * ps, sizeof(float));
    float *o1 = malloc(sizeof(float) * (size_t)(n_heads * hd)), *o2 = malloc(sizeof(float) * (size_t)(n_heads * hd));
    mono_type et = kv_type == MONO_KV_F16 ? MONO_TYPE_F16 : MONO_TYPE_F32;
    int g = 1;
    for (int h = 0; h < n_heads; h++)
        mono_kv_cache_scores(&kv, il, g, hd, q + (size_t)h * hd, n_pos, 1.0f, NULL, s1 + (size_t)h * ps);
    mono_kv_cache_scores_heads(&kv, k->gemm[et], k->vec_dot[et], il, g, hd, q, n_heads, n_pos, s2, ps);
    float sd = 0;
    for (int h = 0; h < n_heads; h++) {
        float d = max_abs_diff(s1 + (size_t)h * ps, s2 + (size_t)h * ps, (size_t)n_pos);
        if (d > sd) sd = d;
    }
    MT_CHECK_MSG(t, sd < 1e-4f * (float)hd, "scores (hd %d, %d heads, %d positions): off by %g", hd, n_heads, n_pos,
                 (double)sd);
    /* probabilities: any positive weights will do */
    for (int h = 0; h < n_heads; h++)
        for (int j = 0; j < n_pos; j++) s1[(size_t)h * ps + j] = (frand(&seed) + 1.0f) / (float)n_pos;
    for (int h = 0; h < n_heads; h++)
        mono_kv_cache_mix(&kv, il, g, hd, s1 + (size_t)h * ps, n_pos, o1 + (size_t)h * hd);
    mono_kv_cache_mix_heads(&kv, il, g, hd, s1, ps, n_heads, n_pos, o2);
    /* same products summed in the same order: identical */
    MT_CHECK_MSG(t, max_abs_diff(o1, o2, (size_t)(n_heads * hd)) == 0.0f, "mix (hd %d, %d heads, %d positions): off by %g",
                 hd, n_heads, n_pos, (double)max_abs_diff(o1, o2, (size_t)(n_heads * hd)));
    free(kk), free(vv), free(q), free(s1), free(s2), free(o1), free(o2);
    mono_kv_cache_free(&kv);
}

/* ulps between two finite floats of the same sign */
static long ulp_diff(float a, float b) {
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    return labs((long)ia - (long)ib);
}

/* The exp approximation against libm's (double) exp over its whole range,
 * and the vector loops (blocks of 16 + tails) against scalar references. */
static void check_vmath(mt_ctx *t) {
    long worst = 0;
    float worst_x = 0;
    for (float x = -87.0f; x <= 88.0f; x += 0.000731f) {
        float want = (float)exp((double)x), got = mono_expf_approx(x);
        long d = ulp_diff(want, got);
        if (d > worst) worst = d, worst_x = x;
    }
    MT_CHECK_MSG(t, worst <= 2, "mono_expf_approx is %ld ulp off at x = %.9g", worst, (double)worst_x);
    MT_CHECK(t, mono_expf_approx(0.0f) == 1.0f);
    MT_CHECK(t, mono_expf_approx(-1000.0f) >= 0.0f && mono_expf_approx(-1000.0f) < 1e-37f);
    MT_CHECK(t, mono_expf_approx(1000.0f) > 1e38f);
    unsigned seed = 5;
    for (int n = 1; n <= 70; n++) {
        float g[70], u[70], want[70], s[70], ref[70];
        for (int i = 0; i < n; i++) {
            g[i] = frand(&seed) * 12.0f, u[i] = frand(&seed);
            want[i] = g[i] / (1.0f + mono_expf_approx(-g[i])) * u[i];
            s[i] = frand(&seed) * 30.0f;
        }
        mono_swiglu(g, u, (size_t)n);
        MT_CHECK_MSG(t, max_abs_diff(g, want, (size_t)n) == 0.0f, "mono_swiglu n=%d differs from the scalar form", n);
        double max = s[0], sum = 0;
        for (int i = 1; i < n; i++) max = s[i] > max ? s[i] : max;
        for (int i = 0; i < n; i++) sum += exp(((double)s[i] - max) * 0.125);
        for (int i = 0; i < n; i++) ref[i] = (float)(exp(((double)s[i] - max) * 0.125) / sum);
        mono_softmax(s, n, 0.125f);
        MT_CHECK_MSG(t, max_abs_diff(s, ref, (size_t)n) < 1e-6f, "mono_softmax n=%d off by %g", n,
                     (double)max_abs_diff(s, ref, (size_t)n));
    }
}

void suite_matmul(mt_ctx *t) {
    check_vmath(t);
    mono_kernels k;
    mono_kernels_init(&k);
    /* F = 37 rows split over 1, 2, 3 threads; decode (1, 2 tokens) and gemm sizes */
    int64_t toks[] = {1, 2, 5, 9};
    for (int th = 1; th <= 3; th++)
        for (size_t i = 0; i < sizeof toks / sizeof *toks; i++) {
            check_swiglu(t, &k, th, MONO_TYPE_Q4_0, MONO_TYPE_Q5_1, 37, 64, toks[i]);
            check_swiglu(t, &k, th, MONO_TYPE_Q4_K, MONO_TYPE_Q6_K, 37, 256, toks[i]);
            check_swiglu(t, &k, th, MONO_TYPE_F16, MONO_TYPE_F32, 37, 40, toks[i]);
        }
    /* large matrices, decode sizes, thread counts that do not divide them */
    for (int th = 2; th <= 3; th++)
        for (int64_t nt = 1; nt <= 2; nt++) {
            check_pooled(t, &k, MONO_TYPE_F32, 3001, 256, th, nt);
            check_pooled(t, &k, MONO_TYPE_Q8_0, 2500, 1024, th, nt);
            check_pooled(t, &k, MONO_TYPE_Q4_K, 1999, 512, th, nt);
        }
    int hds[] = {8, 64, 80, 128, 256, 320};   /* 320: rows past the short-row tiles (SHORT_ROW 256) */
    for (size_t i = 0; i < sizeof hds / sizeof *hds; i++)
        for (int kvt = MONO_KV_F32; kvt <= MONO_KV_F16; kvt++) {
            check_attention(t, &k, kvt, hds[i], 7, 1);
            check_attention(t, &k, kvt, hds[i], 7, 300);
            check_attention(t, &k, kvt, hds[i], 1, 1100); /* more rows than one F32 block */
            check_attention(t, &k, kvt, hds[i], 3, 70);
            for (int nh = 2; nh <= 8; nh += 2) check_attention(t, &k, kvt, hds[i], nh, 37); /* head pairs, tiles */
            check_attention(t, &k, kvt, hds[i], 5, 5);
        }
}
