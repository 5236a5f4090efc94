/*
 * test_attention.c -- attention over the KV cache (model/attention.c)
 * against a double-precision reference of the formula, and the pieces its
 * prefill path is built from: the block-by-block softmax of vmath.c and the
 * transposed value blocks of kv_cache.c.
 *
 * The attention checks fill a cache with random keys and values, run
 * mono_attention for a batch of queries at some position (prefill from 0,
 * prefill continuing a filled cache, decode), and compare every output
 * row with softmax(q K^T / sqrt(hd), causal) V computed in double from the
 * same cached values. Sizes are chosen to cross every block edge: several
 * key blocks (256 positions), token blocks that do not divide the batch,
 * rows whose causal limit falls inside or before a key block, GQA groups of
 * 7, 2 and 1 heads, F32 and F16 caches, 1 to 3 threads.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "model/attention.h"
#include "model/kv_cache.h"
#include "model/vmath.h"
#include "runtime/threadpool.h"
#include "test.h"

static float frand(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return (float)((*s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

/* a float that F16 holds exactly, so F32 and F16 caches store the same value */
static float half_exact(unsigned *s) { return roundf(frand(s) * 256.0f) / 256.0f; }

/* Softmax of n scores fed in blocks of `block`, combined the way
 * attention.c does (rescale the earlier exps, divide by the final sum),
 * against the one-pass softmax computed in double. */
static void check_softmax_block(mt_ctx *t, int n, int block, float spread) {
    unsigned seed = (unsigned)(n * 31 + block);
    float *s = malloc(sizeof(float) * (size_t)n);
    double *ref = malloc(sizeof(double) * (size_t)n);
    /* a rising trend makes the maximum grow from block to block */
    for (int j = 0; j < n; j++) s[j] = frand(&seed) * spread + (float)j * spread / (float)n;
    double max = -INFINITY, sum = 0;
    for (int j = 0; j < n; j++) max = s[j] > max ? s[j] : max;
    for (int j = 0; j < n; j++) sum += ref[j] = exp(((double)s[j] - max) * 0.125);
    float run_max = -INFINITY, run_sum = 0, rescale = -1;
    for (int j0 = 0; j0 < n; j0 += block) {
        int nb = n - j0 < block ? n - j0 : block;
        float bs = mono_softmax_block(s + j0, nb, 0.125f, &run_max, &rescale);
        if (j0 == 0) MT_CHECK_MSG(t, rescale == 0.0f, "first block's rescale is %g, not 0", (double)rescale);
        MT_CHECK(t, rescale >= 0.0f && rescale <= 1.0f);
        for (int j = 0; j < j0; j++) s[j] *= rescale;
        run_sum = run_sum * rescale + bs;
    }
    double worst = 0;
    for (int j = 0; j < n; j++) {
        double d = fabs((double)s[j] / run_sum - ref[j] / sum);
        worst = d > worst ? d : worst;
    }
    MT_CHECK_MSG(t, run_max == (float)max, "running maximum %g, want %g", (double)run_max, max);
    MT_CHECK_MSG(t, worst < 1e-6, "softmax in blocks of %d (n %d, spread %g) off by %g", block, n, (double)spread, worst);
    free(s), free(ref);
}

/* vt[i * ld + j] == V[j0 + j][i] for the values stored, F32 and F16 */
static void check_values_t(mt_ctx *t, const mono_kernels *k, int kv_type, int hd, int j0, int nb) {
    mono_error err;
    mono_kv_cache kv;
    int n_kv = 2, n_pos = j0 + nb + 3, g = 1, il = 1;
    if (!MT_CHECK(t, mono_kv_cache_init(&kv, kv_type, 2, n_pos, n_kv, hd, &err) == MONO_OK)) return;
    kv.to_f16 = k->quantize_row[MONO_TYPE_F16];
    kv.to_f32 = k->to_float[MONO_TYPE_F16];
    unsigned seed = (unsigned)(hd * 7 + nb);
    size_t row = (size_t)n_kv * hd, ld = (size_t)nb + 5;
    float *kk = malloc(sizeof(float) * row * (size_t)n_pos), *vv = malloc(sizeof(float) * row * (size_t)n_pos);
    for (size_t i = 0; i < row * (size_t)n_pos; i++) kk[i] = half_exact(&seed), vv[i] = half_exact(&seed);
    mono_kv_cache_store(&kv, il, 0, n_pos, kk, vv);
    float *vt = malloc(sizeof(float) * (size_t)hd * ld);
    mono_kv_cache_values_t(&kv, il, g, hd, j0, nb, vt, ld);
    int bad = 0;
    for (int i = 0; i < hd; i++)
        for (int j = 0; j < nb; j++) bad += vt[(size_t)i * ld + j] != vv[(size_t)(j0 + j) * row + (size_t)g * hd + i];
    MT_CHECK_MSG(t, bad == 0, "values_t (%s, hd %d, positions %d..%d): %d values wrong",
                 kv_type == MONO_KV_F16 ? "f16" : "f32", hd, j0, j0 + nb - 1, bad);
    free(kk), free(vv), free(vt);
    mono_kv_cache_free(&kv);
}

typedef struct attn_case {
    int n_head, n_head_kv, hd;
    int pos, n;          /* the batch: positions pos .. pos+n-1 */
    int n_batch;         /* the context's batch limit (>= n) */
} attn_case;

static void check_attention(mt_ctx *t, const mono_kernels *k, const attn_case *c, int kv_type, int n_threads) {
    mono_error err;
    mono_model m;
    memset(&m, 0, sizeof m);
    m.hp.n_head = c->n_head, m.hp.n_head_kv = c->n_head_kv, m.hp.head_dim = c->hd;
    m.kernels = *k;
    const int H = c->n_head, Hkv = c->n_head_kv, hd = c->hd, group = H / Hkv, n_ctx = c->pos + c->n + 7, il = 1;
    mono_forward f;
    memset(&f, 0, sizeof f);
    f.m = &m;
    f.n_threads = n_threads, f.n_ctx = n_ctx, f.n_batch = c->n_batch;
    if (n_threads > 1 && !MT_CHECK(t, mono_threadpool_init(&f.pool, n_threads, &err) == MONO_OK)) return;
    if (!MT_CHECK(t, mono_kv_cache_init(&f.kv, kv_type, 2, n_ctx, Hkv, hd, &err) == MONO_OK)) return;
    f.kv.to_f16 = k->quantize_row[MONO_TYPE_F16];
    f.kv.to_f32 = k->to_float[MONO_TYPE_F16];
    size_t kvrow = (size_t)Hkv * hd, qrow = (size_t)H * hd, n_all = (size_t)(c->pos + c->n);
    float *kk = malloc(sizeof(float) * kvrow * n_all), *vv = malloc(sizeof(float) * kvrow * n_all);
    unsigned seed = (unsigned)(c->pos * 131 + c->n * 7 + hd);
    for (size_t i = 0; i < kvrow * n_all; i++) kk[i] = half_exact(&seed), vv[i] = half_exact(&seed);
    /* a few positions far more attended than the rest: the running maximum moves */
    for (size_t j = 0; j < n_all; j += 97)
        for (size_t i = 0; i < kvrow; i++) kk[j * kvrow + i] *= 4.0f;
    mono_kv_cache_store(&f.kv, il, 0, (int)n_all, kk, vv);
    f.q = malloc(sizeof(float) * qrow * (size_t)c->n_batch);
    f.att = malloc(sizeof(float) * qrow * (size_t)c->n_batch);
    for (size_t i = 0; i < qrow * (size_t)c->n; i++) f.q[i] = frand(&seed) * 3.0f;
    f.scores = malloc(sizeof(float) * (size_t)n_threads * (size_t)group * (size_t)n_ctx);
    f.attn_scratch_floats = mono_attention_scratch_floats(&m.hp, c->n_batch);
    f.attn_scratch = malloc(sizeof(float) * (size_t)n_threads * f.attn_scratch_floats);
    memset(f.att, 0xff, sizeof(float) * qrow * (size_t)c->n);   /* NaN: every row must be written */

    mono_attention(&f, il, c->n, c->pos);

    double worst = 0, scale = 1.0 / sqrt((double)hd);
    double *p = malloc(sizeof(double) * n_all), *want = malloc(sizeof(double) * (size_t)hd);
    for (int tk = 0; tk < c->n; tk++)
        for (int h = 0; h < H; h++) {
            int g = h / group, n_pos = c->pos + tk + 1;
            const float *q = f.q + (size_t)tk * qrow + (size_t)h * hd;
            double max = -INFINITY, sum = 0;
            for (int j = 0; j < n_pos; j++) {
                double d = 0;
                for (int i = 0; i < hd; i++) d += (double)q[i] * kk[(size_t)j * kvrow + (size_t)g * hd + i];
                p[j] = d * scale;
                max = p[j] > max ? p[j] : max;
            }
            for (int j = 0; j < n_pos; j++) sum += p[j] = exp(p[j] - max);
            for (int i = 0; i < hd; i++) want[i] = 0;
            for (int j = 0; j < n_pos; j++)
                for (int i = 0; i < hd; i++) want[i] += p[j] / sum * vv[(size_t)j * kvrow + (size_t)g * hd + i];
            const float *got = f.att + (size_t)tk * qrow + (size_t)h * hd;
            for (int i = 0; i < hd; i++) {
                double d = fabs((double)got[i] - want[i]);
                if (d != d) d = INFINITY;
                worst = d > worst ? d : worst;
            }
        }
    /* values are in [-1, 1]; float sums over a few hundred terms */
    MT_CHECK_MSG(t, worst < 2e-5, "attention (%d/%d heads, hd %d, %s cache, positions %d..%d, batch %d, %d threads): off by %g",
                 H, Hkv, hd, kv_type == MONO_KV_F16 ? "f16" : "f32", c->pos, c->pos + c->n - 1, c->n_batch, n_threads,
                 worst);
    free(p), free(want), free(kk), free(vv), free(f.q), free(f.att), free(f.scores), free(f.attn_scratch);
    mono_kv_cache_free(&f.kv);
    mono_threadpool_free(f.pool);
}

void suite_attention(mt_ctx *t) {
    int ns[] = {1, 2, 15, 16, 17, 255, 256, 257, 700};
    int blocks[] = {1, 7, 64, 256};
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++)
        for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++) {
            check_softmax_block(t, ns[i], blocks[b], 30.0f);
            check_softmax_block(t, ns[i], blocks[b], 3000.0f);   /* exps underflow to ~0 */
        }
    mono_kernels k;
    mono_kernels_init(&k);
    int hds[] = {8, 40, 64, 128, 320};
    for (size_t i = 0; i < sizeof hds / sizeof *hds; i++)
        for (int kvt = MONO_KV_F32; kvt <= MONO_KV_F16; kvt++) {
            check_values_t(t, &k, kvt, hds[i], 0, 256);
            check_values_t(t, &k, kvt, hds[i], 13, 1);
            check_values_t(t, &k, kvt, hds[i], 300, 77);
        }
    static const attn_case cases[] = {
        {14, 2, 64, 0, 600, 600},    /* Qwen2.5-0.5B's heads: prefill over three key blocks */
        {14, 2, 64, 300, 150, 512},  /* a prompt continuing a filled cache (chat turn) */
        {14, 2, 64, 599, 1, 512},    /* decode */
        {14, 2, 64, 5, 3, 8},        /* a small batch: blocks of one token */
        {6, 3, 40, 250, 20, 32},     /* 2 heads a group, hd not a multiple of 16 */
        {4, 4, 8, 10, 260, 260},     /* no grouping, tiny heads */
        {2, 1, 128, 0, 130, 130},    /* one kv head */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int kvt = MONO_KV_F32; kvt <= MONO_KV_F16; kvt++)
            for (int th = 1; th <= 3; th++) check_attention(t, &k, &cases[i], kvt, th);
}
