/*
 * attention.c -- causal grouped-query attention over the KV cache: the step
 * of a layer between its q/k/v projections (keys and values already
 * cached) and its output projection, split over the thread pool.
 *
 *   att[t, h] = softmax(q[t, h] K^T / sqrt(hd), positions 0 .. pos+t) V
 *
 * K, V: the cached keys and values of kv head g = h / group.
 *
 * Decode (one token, attend_token) reads each cached key and value row
 * once for all the query heads of a group.
 *
 * Prefill (attend_block) takes a block of tokens x the heads of a group as
 * one matrix of queries and walks the cached positions in blocks: the
 * scores of a key block are one gemm, the probabilities times the
 * (transposed) value block another, both through the kernel table, and
 * the softmax runs block by block with a running maximum and sum (what
 * was accumulated is rescaled when the maximum grows, as in flash
 * attention), so each thread's scratch is a few hundred KiB at any context
 * length. Token by token, the 7 heads of a Qwen2.5 group made gemms too
 * small to reach the kernels' speed, and the value rows were re-read for
 * every token.
 */
#include "model/attention.h"

#include <math.h>
#include <string.h>

#include "model/vmath.h"

/* cached positions per block of the prefill path: the block's scores
 * ([rows, ATT_KB]) and transposed values ([hd, ATT_KB]) stay in L2 */
#define ATT_KB 256
/* query rows (tokens x heads of a group) a prefill block aims for */
#define ATT_ROWS 128

typedef struct attn_task {
    mono_forward *f;
    int il, n, pos;
    int per_unit;                /* decode: query heads per unit of work (<= one GQA group) */
    int tb;                      /* prefill: tokens per block */
    mono_gemm_fn gemm;           /* q K^T for the cache's element type */
    mono_vec_dot_fn dot;         /* the same, one row at a time (decode's fallback) */
} attn_task;

/* ---- decode ----------------------------------------------------------------- */

/* One unit of work is (token t, kv head g, a run of the query heads that
 * share g): the causal mask is the loop bound. Decode splits a group when
 * there are fewer groups than threads. */
static void attend_token(void *arg, int ith, int nth) {
    attn_task *a = arg;
    mono_forward *f = a->f;
    const mono_hparams *hp = &f->m->hp;
    int H = hp->n_head, Hkv = hp->n_head_kv, hd = hp->head_dim, group = H / Hkv;
    int chunks = (group + a->per_unit - 1) / a->per_unit;
    float scale = 1.0f / sqrtf((float)hd);
    float *p = f->scores + (size_t)ith * (size_t)group * (size_t)f->n_ctx;   /* [per_unit, n_ctx] */
    long long lo, hi;
    mono_split_range((long long)a->n * Hkv * chunks, ith, nth, &lo, &hi);
    for (long long u = lo; u < hi; u++) {
        int t = (int)(u / ((long long)Hkv * chunks)), rest = (int)(u % ((long long)Hkv * chunks));
        int g = rest / chunks, h0 = g * group + (rest % chunks) * a->per_unit;
        int nh = g * group + group - h0 < a->per_unit ? g * group + group - h0 : a->per_unit;
        int n_pos = a->pos + t + 1;
        const float *q = f->q + ((size_t)t * H + h0) * hd;             /* [nh, hd] */
        mono_kv_cache_scores_heads(&f->kv, a->gemm, a->dot, a->il, g, hd, q, nh, n_pos, p, (size_t)f->n_ctx);
        for (int h = 0; h < nh; h++) mono_softmax(p + (size_t)h * f->n_ctx, n_pos, scale);
        mono_kv_cache_mix_heads(&f->kv, a->il, g, hd, p, (size_t)f->n_ctx, nh, n_pos, f->att + ((size_t)t * H + h0) * hd);
    }
}

/* ---- prefill ---------------------------------------------------------------- */

/* Tokens t0 .. t1-1, kv head g: rows r = (t - t0) * group + h of every
 * buffer below are (token t, query head g * group + h). */
static void attend_block(const attn_task *a, int g, int t0, int t1, float *buf) {
    mono_forward *f = a->f;
    const mono_hparams *hp = &f->m->hp;
    const int H = hp->n_head, group = H / hp->n_head_kv, hd = hp->head_dim;
    const int rows = (t1 - t0) * group;
    const size_t hrow = (size_t)group * hd;                        /* a token's heads of group g */
    const float scale = 1.0f / sqrtf((float)hd);
    mono_gemm_fn gemm_f32 = f->m->kernels.gemm[MONO_TYPE_F32];
    float *qb = buf;                                  /* [rows, hd]      the block's queries */
    float *s = qb + (size_t)rows * hd;                /* [rows, ATT_KB]  scores, then probabilities */
    float *vt = s + (size_t)rows * ATT_KB;            /* [hd, ATT_KB]    values, transposed */
    float *mix = vt + (size_t)hd * ATT_KB;            /* [rows, hd]      probabilities x values */
    float *acc = mix + (size_t)rows * hd;             /* [rows, hd]      sum over the blocks so far */
    float *run_max = acc + (size_t)rows * hd;         /* [rows]          largest raw score so far */
    float *run_sum = run_max + rows;                  /* [rows]          sum of the exps so far */
    float *rescale = run_sum + rows;                  /* [rows]          this block's correction */

    for (int t = t0; t < t1; t++)
        memcpy(qb + (size_t)(t - t0) * hrow, f->q + (size_t)t * H * hd + (size_t)g * hrow, hrow * sizeof(float));
    for (int r = 0; r < rows; r++) run_max[r] = -INFINITY, run_sum[r] = 0;
    memset(acc, 0, (size_t)rows * hd * sizeof(float));

    const int n_keys = a->pos + t1;                   /* the last token sees positions 0 .. pos+t1-1 */
    for (int j0 = 0; j0 < n_keys; j0 += ATT_KB) {
        const int kb = n_keys - j0 < ATT_KB ? n_keys - j0 : ATT_KB;
        mono_kv_cache_scores_range(&f->kv, a->gemm, a->il, g, hd, qb, rows, j0, kb, s, ATT_KB);
        for (int r = 0; r < rows; r++) {
            float *sr = s + (size_t)r * ATT_KB;
            int valid = a->pos + t0 + r / group + 1 - j0;   /* causal: positions <= pos + t */
            valid = valid > kb ? kb : valid;
            if (valid <= 0) {                                /* the whole block is in this row's future */
                memset(sr, 0, (size_t)kb * sizeof(float));
                rescale[r] = 1.0f;
                continue;
            }
            float sum = mono_softmax_block(sr, valid, scale, &run_max[r], &rescale[r]);
            memset(sr + valid, 0, (size_t)(kb - valid) * sizeof(float));
            run_sum[r] = run_sum[r] * rescale[r] + sum;
        }
        mono_kv_cache_values_t(&f->kv, a->il, g, hd, j0, kb, vt, ATT_KB);
        /* the value rows are the "weights", the probability rows the "tokens" */
        gemm_f32(kb, vt, ATT_KB * sizeof(float), 0, hd, s, ATT_KB * sizeof(float), rows, mix, (size_t)hd);
        for (int r = 0; r < rows; r++) {
            float *ar = acc + (size_t)r * hd, *mr = mix + (size_t)r * hd, c = rescale[r];
            for (int i = 0; i < hd; i++) ar[i] = ar[i] * c + mr[i];
        }
    }
    for (int r = 0; r < rows; r++) {
        int t = t0 + r / group, h = g * group + r % group;
        float *out = f->att + ((size_t)t * H + h) * hd, *ar = acc + (size_t)r * hd, inv = 1.0f / run_sum[r];
        for (int i = 0; i < hd; i++) out[i] = ar[i] * inv;
    }
}

/* Units of work are (token block, kv head), dealt out in turn: later blocks
 * see more positions, so contiguous ranges would leave the first thread
 * with the cheap early tokens. */
static void attend_blocks(void *arg, int ith, int nth) {
    attn_task *a = arg;
    mono_forward *f = a->f;
    const int Hkv = f->m->hp.n_head_kv, n_blocks = (a->n + a->tb - 1) / a->tb;
    float *buf = f->attn_scratch + (size_t)ith * f->attn_scratch_floats;
    for (long long u = ith; u < (long long)n_blocks * Hkv; u += nth) {
        int b = (int)(u / Hkv), g = (int)(u % Hkv);
        int t0 = b * a->tb, t1 = t0 + a->tb < a->n ? t0 + a->tb : a->n;
        attend_block(a, g, t0, t1, buf);
    }
}

/* ---- both ------------------------------------------------------------------- */

int mono_attention_block_tokens(const mono_hparams *hp, int n_batch) {
    int group = hp->n_head / hp->n_head_kv, tb = ATT_ROWS / group;
    tb = tb < 1 ? 1 : tb;
    return tb < n_batch ? tb : n_batch;
}

size_t mono_attention_scratch_floats(const mono_hparams *hp, int n_batch) {
    size_t rows = (size_t)mono_attention_block_tokens(hp, n_batch) * (size_t)(hp->n_head / hp->n_head_kv);
    size_t hd = (size_t)hp->head_dim;
    return rows * hd * 3 + rows * ATT_KB + hd * ATT_KB + rows * 3;
}

void mono_attention(mono_forward *f, int il, int n, int pos) {
    const mono_hparams *hp = &f->m->hp;
    const mono_kernels *k = &f->m->kernels;
    mono_type kt = f->kv.type == MONO_KV_F16 ? MONO_TYPE_F16 : MONO_TYPE_F32;
    attn_task at = {f, il, n, pos, 0, 0, k->gemm[kt], k->vec_dot[kt]};
    int group = hp->n_head / hp->n_head_kv;
    if (n == 1 || !at.gemm || !k->gemm[MONO_TYPE_F32]) {
        int units = n * hp->n_head_kv;
        int split = units >= f->n_threads ? 1 : (f->n_threads + units - 1) / units;   /* decode, many threads */
        at.per_unit = (group + split - 1) / split;
        mono_threadpool_run(f->pool, attend_token, &at);
        return;
    }
    /* blocks small enough that every thread gets about two units */
    int tb = mono_attention_block_tokens(hp, f->n_batch);
    int fair = (int)((long long)n * hp->n_head_kv / (2LL * f->n_threads));
    at.tb = fair < 1 ? 1 : fair < tb ? fair : tb;
    mono_threadpool_run(f->pool, attend_blocks, &at);
}
