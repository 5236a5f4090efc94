/*
 * forward.c -- the Qwen2-family transformer, read top to bottom:
 *
 *   x = embed(tokens)                                  [n, D]
 *   for each layer:
 *       h = rmsnorm(x) * attn_norm                     [n, D]
 *       q = h Wq^T + bq,  k = h Wk^T + bk,  v = ...    [n, H*hd], [n, Hkv*hd]
 *       q, k = rope(q, k, positions)                   (NeoX: pairs i, i+hd/2)
 *       cache[k, v] at positions pos .. pos+n-1
 *       a = softmax(q K^T / sqrt(hd), causal) V        per head, GQA
 *       x = x + a Wo^T
 *       h = rmsnorm(x) * ffn_norm
 *       x = x + (silu(h Wg^T) * (h Wu^T)) Wd^T
 *   logits = (rmsnorm(x) * output_norm) Wout^T        [rows wanted, V]
 *
 * D = n_embd, H = n_head, Hkv = n_head_kv, hd = head_dim, F = n_ff,
 * V = n_vocab. Everything is float32 except the weights, which the matmul
 * reads in their stored type. The matmuls and attention run on the thread
 * pool; so do the elementwise steps of a batch (split by tokens), while
 * decode runs those on the calling thread.
 */
#include "model/forward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "model/attention.h"
#include "model/vmath.h"

/* ---- buffers ----------------------------------------------------------- */

static float *alloc_floats(mono_forward *f, size_t rows, size_t cols, int *ok) {
    size_t n, bytes;
    if (!*ok || !mono_size_mul(rows, cols, &n) || !mono_size_mul(n, sizeof(float), &bytes)) {
        *ok = 0;
        return NULL;
    }
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) *ok = 0;
    f->scratch_bytes += bytes;
    return p;
}

static size_t max_xq_bytes(const mono_model *m, int n_batch, int *ok) {
    size_t best = 0;
    const mono_matrix *all[] = {&m->output};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        size_t b = mono_matmul_xq_bytes(all[i]->type, all[i]->n_cols, n_batch, ok);
        if (b > best) best = b;
    }
    for (int il = 0; il < m->hp.n_layer; il++) {
        const mono_layer *L = &m->layers[il];
        const mono_matrix *ws[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
        for (size_t i = 0; i < sizeof ws / sizeof *ws; i++) {
            int ok1 = 1;
            size_t b = mono_matmul_xq_bytes(ws[i]->type, ws[i]->n_cols, n_batch, &ok1);
            if (!ok1) *ok = 0;
            if (b > best) best = b;
        }
    }
    return best;
}

mono_status mono_forward_init(mono_forward *f, const mono_model *m, mono_threadpool *pool, int n_ctx, int n_batch,
                              int kv_type, mono_error *err) {
    memset(f, 0, sizeof *f);
    const mono_hparams *hp = &m->hp;
    f->m = m;
    f->pool = pool;
    f->n_threads = pool ? mono_threadpool_size(pool) : 1;
    f->n_ctx = n_ctx;
    f->n_batch = n_batch;
    size_t D = (size_t)hp->n_embd, Q = (size_t)hp->n_head * hp->head_dim, KV = (size_t)hp->n_head_kv * hp->head_dim;
    size_t F = (size_t)hp->n_ff, B = (size_t)n_batch;
    mono_status s = mono_kv_cache_init(&f->kv, kv_type, hp->n_layer, n_ctx, hp->n_head_kv, hp->head_dim, err);
    if (s != MONO_OK) return s;
    f->kv.to_f16 = m->kernels.quantize_row[MONO_TYPE_F16];
    f->kv.to_f32 = m->kernels.to_float[MONO_TYPE_F16];
    int ok = 1;
    f->x = alloc_floats(f, B, D, &ok);
    f->xn = alloc_floats(f, B, D, &ok);
    f->q = alloc_floats(f, B, Q, &ok);
    f->k = alloc_floats(f, B, KV, &ok);
    f->v = alloc_floats(f, B, KV, &ok);
    f->att = alloc_floats(f, B, Q, &ok);
    f->gate = alloc_floats(f, B, F, &ok);
    f->up = alloc_floats(f, B, F, &ok);
    f->rope_cos = alloc_floats(f, B, (size_t)hp->head_dim / 2, &ok);
    f->rope_sin = alloc_floats(f, B, (size_t)hp->head_dim / 2, &ok);
    f->scores = alloc_floats(f, (size_t)f->n_threads * (size_t)(hp->n_head / hp->n_head_kv), (size_t)n_ctx, &ok);
    f->attn_scratch_floats = mono_attention_scratch_floats(hp, n_batch);
    f->attn_scratch = alloc_floats(f, (size_t)f->n_threads, f->attn_scratch_floats, &ok);
    f->mm.n_threads = f->n_threads;
    size_t max_cols = D > Q ? D : Q;
    if (F > max_cols) max_cols = F;
    f->mm.max_cols = (int64_t)max_cols;
    f->mm.wrow = alloc_floats(f, (size_t)f->n_threads, max_cols, &ok);
    if (m->tok_embd.packed) {
        f->embd_rows = malloc(m->tok_embd.row_bytes * (size_t)m->kernels.repack_rows[m->tok_embd.type]);
        if (!f->embd_rows) ok = 0;
    }
    size_t xq = max_xq_bytes(m, n_batch, &ok); /* one slot per matrix of a group (q/k/v) */
    if (!mono_size_mul(xq, MONO_MATMUL_MAX_GROUP, &xq)) ok = 0;
    if (ok) {
        f->mm.xq = malloc(xq ? xq : 1);
        f->mm.xq_bytes = xq;
        f->scratch_bytes += xq;
        if (!f->mm.xq) ok = 0;
    }
    if (!ok) {
        mono_forward_free(f);
        return mono_error_set(err, MONO_ERR_NOMEM, "out of memory for context buffers (batch %d)", n_batch);
    }
    return MONO_OK;
}

void mono_forward_free(mono_forward *f) {
    mono_kv_cache_free(&f->kv);
    float *bufs[] = {f->x, f->xn, f->q, f->k, f->v, f->att, f->gate, f->up, f->rope_cos, f->rope_sin, f->scores,
                     f->attn_scratch, f->mm.wrow};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
    free(f->mm.xq);
    free(f->embd_rows);
    memset(f, 0, sizeof *f);
}

/* ---- elementwise steps ------------------------------------------------- */

/* Loops below run in blocks of 16 (8 for doubles) with a scalar tail: a
 * fixed inner trip count is what GCC's -O2 vectorizer accepts, and these
 * steps run on one thread between the matmuls of every decoded token
 * (as plain loops they were ~1% of decode). */
#define EW_BLOCK 16
/* rmsnorm also runs in place (q/k norms): out == x exactly, which leaves no
 * dependency between iterations; this says so, or GCC would not vectorize */
#if defined(__GNUC__) && !defined(__clang__)
#define EW_IVDEP _Pragma("GCC ivdep")
#else
#define EW_IVDEP
#endif

/* out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * w, for n rows of d; the sum of
 * squares in double, in 8 lanes. */
static void rmsnorm(float *out, const float *x, const float *w, int n, int d, float eps) {
    for (int t = 0; t < n; t++) {
        const float *xr = x + (size_t)t * d;
        float *o = out + (size_t)t * d;
        double acc[8] = {0};
        int i = 0;
        for (; i + 8 <= d; i += 8)
            for (int k = 0; k < 8; k++) acc[k] += (double)xr[i + k] * xr[i + k];
        for (; i < d; i++) acc[0] += (double)xr[i] * xr[i];
        double ss = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        float inv = (float)(1.0 / sqrt(ss / d + eps));
        for (i = 0; i + EW_BLOCK <= d; i += EW_BLOCK)
            EW_IVDEP for (int k = 0; k < EW_BLOCK; k++) o[i + k] = (xr[i + k] * inv) * w[i + k];
        for (; i < d; i++) o[i] = (xr[i] * inv) * w[i];
    }
}

/* x[i] += y[i] for i < count */
static void add_rows(float *restrict x, const float *restrict y, size_t count) {
    size_t i = 0;
    for (; i + EW_BLOCK <= count; i += EW_BLOCK)
        for (int k = 0; k < EW_BLOCK; k++) x[i + k] += y[i + k];
    for (; i < count; i++) x[i] += y[i];
}

static void add_bias(float *restrict x, const float *restrict b, int n, int d) {
    if (!b) return;
    for (int t = 0; t < n; t++) add_rows(x + (size_t)t * d, b, (size_t)d);
}

/* cos/sin of pos * theta^(-2i/hd) for each token of the batch and pair i. */
static void rope_tables(mono_forward *f, int n, int pos) {
    int half = f->m->hp.head_dim / 2;
    double theta = f->m->hp.rope_theta;
    for (int t = 0; t < n; t++)
        for (int i = 0; i < half; i++) {
            double inv_freq = pow(theta, -2.0 * i / f->m->hp.head_dim);
            double angle = (double)(pos + t) * inv_freq;
            f->rope_cos[(size_t)t * half + i] = (float)cos(angle);
            f->rope_sin[(size_t)t * half + i] = (float)sin(angle);
        }
}

/* Rotates each of n_heads heads of rows [t0, t1) of x ([n, n_heads*hd]). */
static void rope_apply(const mono_forward *f, float *x, int t0, int t1, int n_heads) {
    int hd = f->m->hp.head_dim, half = hd / 2;
    int neox = f->m->arch->rope == MONO_ROPE_NEOX;
    for (int t = t0; t < t1; t++) {
        const float *c = f->rope_cos + (size_t)t * half, *s = f->rope_sin + (size_t)t * half;
        for (int h = 0; h < n_heads; h++) {
            float *v = x + ((size_t)t * n_heads + h) * hd;
            for (int i = 0; i < half; i++) {
                int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
                float x0 = v[a], x1 = v[b];
                v[a] = x0 * c[i] - x1 * s[i];
                v[b] = x0 * s[i] + x1 * c[i];
            }
        }
    }
}


/* ---- the elementwise steps of a layer, per token ------------------------
 *
 * Each step works on rows [t0, t1) of the batch; a batch of a few tokens
 * (decode) runs them on the calling thread, a longer one splits the rows
 * over the pool. */

typedef enum { STEP_ATTN_IN, STEP_QKV_POST, STEP_FFN_IN, STEP_FFN_OUT } step_kind;

typedef struct step_task {
    mono_forward *f;
    const mono_layer *L;
    step_kind kind;
    int n;
} step_task;

static void step_rows(const step_task *st, int t0, int t1) {
    mono_forward *f = st->f;
    const mono_hparams *hp = &f->m->hp;
    const mono_layer *L = st->L;
    int n = t1 - t0, D = hp->n_embd, hd = hp->head_dim, Q = hp->n_head * hd, KV = hp->n_head_kv * hd;
    float *x = f->x + (size_t)t0 * D, *xn = f->xn + (size_t)t0 * D;
    float *q = f->q + (size_t)t0 * Q, *k = f->k + (size_t)t0 * KV, *v = f->v + (size_t)t0 * KV;
    switch (st->kind) {
    case STEP_ATTN_IN:                                               /* xn = rmsnorm(x) * attn_norm */
        rmsnorm(xn, x, L->attn_norm, n, D, hp->rms_eps);
        break;
    case STEP_QKV_POST:                                              /* biases, q/k norms, rope */
        add_bias(q, L->bq, n, Q);
        add_bias(k, L->bk, n, KV);
        add_bias(v, L->bv, n, KV);
        if (f->m->arch->qk_norm) {                                   /* per head, [n*H, hd] */
            rmsnorm(q, q, L->q_norm, n * hp->n_head, hd, hp->rms_eps);
            rmsnorm(k, k, L->k_norm, n * hp->n_head_kv, hd, hp->rms_eps);
        }
        rope_apply(f, f->q, t0, t1, hp->n_head);
        rope_apply(f, f->k, t0, t1, hp->n_head_kv);
        break;
    case STEP_FFN_IN:                                                /* x += attention out; xn = rmsnorm(x) * ffn_norm */
        add_rows(x, xn, (size_t)n * D);
        rmsnorm(xn, x, L->ffn_norm, n, D, hp->rms_eps);
        break;
    case STEP_FFN_OUT:                                               /* x += MLP out */
        add_rows(x, xn, (size_t)n * D);
        break;
    }
}

static void step_task_fn(void *arg, int ith, int nth) {
    const step_task *st = arg;
    long long lo, hi;
    mono_split_range(st->n, ith, nth, &lo, &hi);
    if (lo < hi) step_rows(st, (int)lo, (int)hi);
}

static void step(mono_forward *f, const mono_layer *L, step_kind kind, int n) {
    step_task st = {f, L, kind, n};
    if (n < 4) step_rows(&st, 0, n); /* a pool round trip costs more than a few rows */
    else mono_threadpool_run(f->pool, step_task_fn, &st);
}

/* ---- one layer ------------------------------------------------------------ */

static void matmul(mono_forward *f, const mono_matrix *w, const float *x, int n, float *out) {
    mono_matmul(&f->m->kernels, f->pool, w, x, n, out, (size_t)w->n_rows, &f->mm);
}

/* Runs layer il over the n rows of the batch. After the keys and values of
 * all n are cached, only rows [keep_from, n) go on through attention and
 * the MLP (the last layer, when only their logits are wanted: the other
 * rows' outputs would feed nothing); they move to rows [0, n - keep_from). */
static void layer_forward(mono_forward *f, int il, int n, int pos, int keep_from) {
    const mono_model *m = f->m;
    const mono_hparams *hp = &m->hp;
    const mono_layer *L = &m->layers[il];

    /* attention block */
    step(f, L, STEP_ATTN_IN, n);                                     /* xn [n, D] */
    const mono_matrix *qkv[3] = {&L->wq, &L->wk, &L->wv};           /* one pass over the three: */
    float *qkv_out[3] = {f->q, f->k, f->v};                          /* q [n, Q], k, v [n, KV] */
    mono_matmul_group(&m->kernels, f->pool, qkv, qkv_out, 3, f->xn, n, &f->mm);
    step(f, L, STEP_QKV_POST, n);                                    /* + bias, rope(q, k) */
    mono_kv_cache_store(&f->kv, il, pos, n, f->k, f->v);
    if (keep_from > 0) {                                             /* q, x [n - keep_from, ...] */
        size_t Q = (size_t)hp->n_head * hp->head_dim, D = (size_t)hp->n_embd;
        memmove(f->q, f->q + (size_t)keep_from * Q, (size_t)(n - keep_from) * Q * sizeof(float));
        memmove(f->x, f->x + (size_t)keep_from * D, (size_t)(n - keep_from) * D * sizeof(float));
        n -= keep_from;
        pos += keep_from;
        if (n == 0) return;
    }
    mono_attention(f, il, n, pos);                                   /* att [n, Q] */
    matmul(f, &L->wo, f->att, n, f->xn);                             /* xn  [n, D] */

    /* MLP block */
    step(f, L, STEP_FFN_IN, n);                                      /* x += xn; xn = rmsnorm(x) [n, D] */
    mono_matmul_swiglu(&m->kernels, f->pool, &L->w_gate, &L->w_up,   /* gate = silu(xn Wg^T) * (xn Wu^T) */
                       f->xn, n, f->gate, f->up, &f->mm);            /* gate [n, F] */
    matmul(f, &L->w_down, f->gate, n, f->xn);                        /* xn   [n, D] */
    step(f, L, STEP_FFN_OUT, n);                                     /* x += xn */
}

/* ---- the whole model ---------------------------------------------------- */

/* out[D] = the token's embedding row as float. A repacked (tied) token_embd
 * is read from its repacked copy, one group of rows unpacked: its file
 * pages were released, and faulting them back in maps whole page-cache
 * folios (up to megabytes a token on ext4). */
static void embed_row(mono_forward *f, int32_t token, float *out) {
    const mono_model *m = f->m;
    const mono_matrix *e = &m->tok_embd;
    const uint8_t *row = (const uint8_t *)e->data + (size_t)token * e->row_bytes;
    if (f->embd_rows) {
        const int64_t g = m->kernels.repack_rows[e->type], r0 = token - token % g;
        const int64_t r1 = r0 + g < e->n_rows ? r0 + g : e->n_rows;
        m->kernels.unrepack[e->type](e->packed, e->n_rows, e->n_cols, r0, r1, f->embd_rows, e->row_bytes);
        row = f->embd_rows + (size_t)(token - r0) * e->row_bytes;
    }
    mono_type_get(e->type)->to_float(row, out, e->n_cols);
}

void mono_forward_batch(mono_forward *f, const int32_t *tokens, int n, int pos, float *logits, int logits_from) {
    const mono_model *m = f->m;
    const mono_hparams *hp = &m->hp;
    int D = hp->n_embd;
    for (int t = 0; t < n; t++) embed_row(f, tokens[t], f->x + (size_t)t * D); /* x [n, D] */
    if (f->hook) f->hook(f->hook_user, 0, pos, n, D, f->x);
    rope_tables(f, n, pos);
    /* rows before `from` need no output: the last layer drops them once their
     * keys and values are cached (all rows stay when a hook watches) */
    int from = f->hook ? 0 : logits_from < n ? logits_from : n;
    for (int il = 0; il < hp->n_layer; il++) {
        layer_forward(f, il, n, pos, il == hp->n_layer - 1 ? from : 0);
        if (f->hook) f->hook(f->hook_user, il + 1, pos, n, D, f->x);
    }
    int kept = n - from;                                             /* x [kept, D]: rows from .. n-1 */
    if (kept == 0) return;
    rmsnorm(f->xn, f->x, m->output_norm, kept, D, hp->rms_eps);
    if (f->hook) f->hook(f->hook_user, hp->n_layer + 1, pos, n, D, f->xn);
    if (logits_from < n)                                             /* logits [n - logits_from, V] */
        matmul(f, &m->output, f->xn + (size_t)(logits_from - from) * D, n - logits_from, logits);
}
