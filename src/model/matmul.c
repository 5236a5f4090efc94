/*
 * matmul.c -- the one matrix product the forward pass uses (see matmul.h).
 */
#include "model/matmul.h"

#include <string.h>

#include "model/vmath.h"

/* 1 when w can run through vec_dot/gemm (else the float fallback). */
int mono_matmul_has_kernels(const mono_kernels *k, const mono_matrix *w) {
    const mono_type_traits *tr = mono_type_get(w->type);
    if (!tr || !k->vec_dot[w->type]) return 0;
    const mono_type_traits *vt = mono_type_get(tr->vec_dot_type);
    return vt && (k->quantize_row[tr->vec_dot_type] || vt->from_float) &&
           mono_type_row_bytes(tr->vec_dot_type, w->n_cols) != 0;
}

size_t mono_matmul_xq_bytes(int w_type, int64_t n_cols, int64_t n_tok, int *ok) {
    const mono_type_traits *tr = mono_type_get(w_type);
    *ok = tr != NULL;
    if (!tr || tr->vec_dot_type == MONO_TYPE_F32) return 0;
    size_t row = mono_type_row_bytes(tr->vec_dot_type, n_cols), total = 0;
    if (row == 0) return 0; /* not convertible: the float path is used */
    if (n_tok < 0 || (size_t)n_tok > SIZE_MAX / row) { *ok = 0; return 0; }
    total = row * (size_t)n_tok;
    return total;
}

static float dot_f32(const float *a, const float *b, int64_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

void mono_matmul_rows(const mono_kernels *k, const mono_matrix *w, int64_t r0, int64_t r1, const void *xc,
                      size_t xc_row_bytes, const float *x, int64_t n_tok, float *out, size_t out_stride, float *wrow) {
    const uint8_t *wd = w->data;
    if (xc && w->packed) { /* the repacked copy: its own kernels, decode and prefill */
        k->gemm_repacked[w->type](w->n_cols, w->packed, w->n_rows, r0, r1, xc, xc_row_bytes, n_tok, out, out_stride);
        return;
    }
    if (xc) {
        /* gemm reuses weight blocks across tokens (prefill) and has its own
         * matrix-vector path for decode (an activation prepared once for all
         * rows, two rows per pass): it beats a vec_dot per row at every n_tok */
        if (k->gemm[w->type]) {
            k->gemm[w->type](w->n_cols, wd, w->row_bytes, r0, r1, xc, xc_row_bytes, n_tok, out, out_stride);
            return;
        }
        mono_vec_dot_fn dot = k->vec_dot[w->type];
        for (int64_t r = r0; r < r1; r++)
            for (int64_t t = 0; t < n_tok; t++)
                dot(w->n_cols, &out[t * out_stride + r], wd + r * w->row_bytes, (const uint8_t *)xc + t * xc_row_bytes);
        return;
    }
    /* no kernels for this type: dequantize each row once, reuse it for every token */
    const mono_type_traits *tr = mono_type_get(w->type);
    for (int64_t r = r0; r < r1; r++) {
        const float *row = (const float *)(const void *)(wd + r * w->row_bytes);
        if (w->type != MONO_TYPE_F32) {
            tr->to_float(wd + r * w->row_bytes, wrow, w->n_cols);
            row = wrow;
        }
        for (int64_t t = 0; t < n_tok; t++) out[t * out_stride + r] = dot_f32(row, x + t * w->n_cols, w->n_cols);
    }
}

typedef struct matmul_task {
    const mono_kernels *k;
    const mono_matrix *w;
    const float *x;
    int64_t n_tok;
    float *out;
    size_t out_stride;
    mono_matmul_scratch *s;
    const void *xc;              /* activations in vec_dot_type, or NULL */
    size_t xc_row_bytes;
    void (*convert)(const float *, void *, int64_t);
} matmul_task;

static void convert_task(void *arg, int ith, int nth) {
    matmul_task *m = arg;
    long long lo, hi;
    mono_split_range(m->n_tok, ith, nth, &lo, &hi);
    for (long long t = lo; t < hi; t++)
        m->convert(m->x + t * m->w->n_cols, (uint8_t *)m->s->xq + t * m->xc_row_bytes, m->w->n_cols);
}

/* Slice ith of n rows, on multiples of `align` (a repacked matrix's group:
 * a group split between threads would be computed by both). */
static void split_rows(long long n, int align, int ith, int nth, long long *lo, long long *hi) {
    if (align <= 1) { mono_split_range(n, ith, nth, lo, hi); return; }
    mono_split_range((n + align - 1) / align, ith, nth, lo, hi);
    *lo *= align;
    *hi = *hi * align < n ? *hi * align : n;
}

static int row_align(const mono_kernels *k, const mono_matrix *w) {
    return w->packed ? k->repack_rows[w->type] : 1;
}

static float *thread_wrow(const mono_matmul_scratch *s, int ith) {
    return s->wrow ? s->wrow + (size_t)ith * (size_t)s->max_cols : NULL;
}

static void rows_task(void *arg, int ith, int nth) {
    matmul_task *m = arg;
    long long lo, hi;
    split_rows(m->w->n_rows, row_align(m->k, m->w), ith, nth, &lo, &hi);
    if (lo >= hi) return;
    mono_matmul_rows(m->k, m->w, lo, hi, m->xc, m->xc_row_bytes, m->x, m->n_tok, m->out, m->out_stride,
                     thread_wrow(m->s, ith));
}

void mono_matmul(const mono_kernels *k, mono_threadpool *pool, const mono_matrix *w, const float *x, int64_t n_tok,
                 float *out, size_t out_stride, mono_matmul_scratch *s) {
    matmul_task m = {k, w, x, n_tok, out, out_stride, s, NULL, 0, NULL};
    if (mono_matmul_has_kernels(k, w)) {
        mono_type vdt = mono_type_get(w->type)->vec_dot_type;
        if (vdt == MONO_TYPE_F32) {
            m.xc = x;
            m.xc_row_bytes = (size_t)w->n_cols * sizeof(float);
        } else {
            m.convert = k->quantize_row[vdt] ? k->quantize_row[vdt] : mono_type_get(vdt)->from_float;
            m.xc = s->xq;
            m.xc_row_bytes = mono_type_row_bytes(vdt, w->n_cols);
            /* a few rows (decode) convert faster here than a pool round trip */
            if (n_tok < 4) convert_task(&m, 0, 1);
            else mono_threadpool_run(pool, convert_task, &m);
        }
    }
    mono_threadpool_run(pool, rows_task, &m);
}

/* ---- groups of products of one input ------------------------------------ */

typedef struct group_task {
    const mono_kernels *k;
    const mono_matrix *const *ws;
    float *const *outs;
    int count;
    const float *x;
    int64_t n_tok;
    mono_matmul_scratch *s;
    const void *xc[MONO_MATMUL_MAX_GROUP];   /* activations for ws[i], or NULL (float path) */
    size_t xc_row_bytes[MONO_MATMUL_MAX_GROUP];
    int64_t total_rows;
} group_task;

static void group_rows_task(void *arg, int ith, int nth) {
    group_task *g = arg;
    long long lo, hi;
    int align = 1;
    for (int i = 0; i < g->count; i++)
        if (row_align(g->k, g->ws[i]) > align) align = row_align(g->k, g->ws[i]);
    split_rows(g->total_rows, align, ith, nth, &lo, &hi);
    float *wrow = thread_wrow(g->s, ith);
    int64_t base = 0;
    for (int i = 0; i < g->count && lo < hi; i++) {
        const mono_matrix *w = g->ws[i];
        int64_t r0 = lo > base ? lo - base : 0, r1 = hi - base < w->n_rows ? hi - base : w->n_rows;
        if (r0 < r1)
            mono_matmul_rows(g->k, w, r0, r1, g->xc[i], g->xc_row_bytes[i], g->x, g->n_tok, g->outs[i],
                             (size_t)w->n_rows, wrow);
        base += w->n_rows;
    }
}

/* Fills g and converts x once per distinct vec_dot_type of ws. */
static void group_prepare(group_task *g, const mono_kernels *k, mono_threadpool *pool, const mono_matrix *const *ws,
                          float *const *outs, int count, const float *x, int64_t n_tok, mono_matmul_scratch *s) {
    memset(g, 0, sizeof *g);
    g->k = k;
    g->ws = ws;
    g->outs = outs;
    g->count = count;
    g->x = x;
    g->n_tok = n_tok;
    g->s = s;
    size_t slot = s->xq_bytes / MONO_MATMUL_MAX_GROUP;
    for (int i = 0; i < count; i++) {
        const mono_matrix *w = ws[i];
        g->total_rows += w->n_rows;
        if (!mono_matmul_has_kernels(k, w)) continue;
        mono_type vdt = mono_type_get(w->type)->vec_dot_type;
        if (vdt == MONO_TYPE_F32) {
            g->xc[i] = x;
            g->xc_row_bytes[i] = (size_t)w->n_cols * sizeof(float);
            continue;
        }
        /* reuse an earlier conversion to the same type */
        for (int j = 0; j < i && !g->xc[i]; j++)
            if (g->xc[j] && g->xc[j] != x && mono_type_get(ws[j]->type)->vec_dot_type == vdt) {
                g->xc[i] = g->xc[j];
                g->xc_row_bytes[i] = g->xc_row_bytes[j];
            }
        if (g->xc[i]) continue;
        matmul_task m = {k, w, x, n_tok, NULL, 0, s, NULL, 0, NULL};
        m.convert = k->quantize_row[vdt] ? k->quantize_row[vdt] : mono_type_get(vdt)->from_float;
        m.xc_row_bytes = mono_type_row_bytes(vdt, w->n_cols);
        mono_matmul_scratch sub = *s;
        sub.xq = (uint8_t *)s->xq + (size_t)i * slot;
        m.s = &sub;
        if (n_tok < 4) convert_task(&m, 0, 1);
        else mono_threadpool_run(pool, convert_task, &m);
        g->xc[i] = sub.xq;
        g->xc_row_bytes[i] = m.xc_row_bytes;
    }
}

void mono_matmul_group(const mono_kernels *k, mono_threadpool *pool, const mono_matrix *const *ws, float *const *outs,
                       int count, const float *x, int64_t n_tok, mono_matmul_scratch *s) {
    group_task g;
    group_prepare(&g, k, pool, ws, outs, count, x, n_tok, s);
    mono_threadpool_run(pool, group_rows_task, &g);
}

/* ---- the MLP's gate/up pair with SwiGLU ---------------------------------- */

/* Each slice takes the same rows [lo, hi) of gate and up, so it can apply
 * silu(gate) * up to its own columns of the output with no extra pool run. */
static void swiglu_rows_task(void *arg, int ith, int nth) {
    group_task *g = arg;
    const mono_matrix *wg = g->ws[0], *wu = g->ws[1];
    long long lo, hi;
    int align = row_align(g->k, wg) > row_align(g->k, wu) ? row_align(g->k, wg) : row_align(g->k, wu);
    split_rows(wg->n_rows, align, ith, nth, &lo, &hi);
    if (lo >= hi) return;
    float *wrow = thread_wrow(g->s, ith);
    size_t F = (size_t)wg->n_rows;
    mono_matmul_rows(g->k, wg, lo, hi, g->xc[0], g->xc_row_bytes[0], g->x, g->n_tok, g->outs[0], F, wrow);
    mono_matmul_rows(g->k, wu, lo, hi, g->xc[1], g->xc_row_bytes[1], g->x, g->n_tok, g->outs[1], F, wrow);
    for (int64_t t = 0; t < g->n_tok; t++) {
        float *gate = g->outs[0] + (size_t)t * F;
        const float *up = g->outs[1] + (size_t)t * F;
        mono_swiglu(gate + lo, up + lo, (size_t)(hi - lo));
    }
}

void mono_matmul_swiglu(const mono_kernels *k, mono_threadpool *pool, const mono_matrix *w_gate,
                        const mono_matrix *w_up, const float *x, int64_t n_tok, float *gate, float *up,
                        mono_matmul_scratch *s) {
    const mono_matrix *ws[2] = {w_gate, w_up};
    float *outs[2] = {gate, up};
    group_task g;
    group_prepare(&g, k, pool, ws, outs, 2, x, n_tok, s);
    mono_threadpool_run(pool, swiglu_rows_task, &g);
}
