/*
 * matmul.h -- out = x . W^T for any weight type, through the kernel table,
 * split over the thread pool by output rows.
 *
 * Activations arrive as float32 rows; they are converted once per call to the
 * weight type's vec_dot_type (k->quantize_row, or the type's from_float),
 * then each thread runs the type's gemm (or vec_dot per row and token) on its
 * slice of weight rows. A type with no kernels at all still works: its rows
 * are converted with to_float and dotted in float32 (the slow, exact path).
 */
#ifndef MONO_MODEL_MATMUL_H
#define MONO_MODEL_MATMUL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"
#include "model/model.h"
#include "runtime/threadpool.h"

/* Memory a matmul may use, owned by the caller (the context): sized with
 * mono_matmul_scratch_bytes for the largest call it will make. */
typedef struct mono_matmul_scratch {
    void *xq;                /* converted activations */
    size_t xq_bytes;
    float *wrow;             /* [n_threads, max_cols] dequantized weight rows */
    int64_t max_cols;
    int n_threads;
} mono_matmul_scratch;

/* Bytes of converted activations for n_tok rows of n_cols against w_type
 * (0 when they stay float32); 0 with *ok = 0 on overflow or bad type. */
size_t mono_matmul_xq_bytes(int w_type, int64_t n_cols, int64_t n_tok, int *ok);

/* out[t * out_stride + r] = dot(W row r, x row t) for r in [0, w->n_rows),
 * t in [0, n_tok); x is [n_tok, w->n_cols] float32, contiguous. */
void mono_matmul(const mono_kernels *k, mono_threadpool *pool, const mono_matrix *w, const float *x, int64_t n_tok,
                 float *out, size_t out_stride, mono_matmul_scratch *s);

/* Several products of the same input at once (q/k/v, gate/up): one
 * activation conversion per distinct vec_dot_type and one pool run over all
 * their rows, so decode pays one round trip instead of count. Every ws[i]
 * has x's n_cols; outs[i] is [n_tok, ws[i]->n_rows]. s->xq must hold count
 * conversions (MONO_MATMUL_MAX_GROUP x mono_matmul_xq_bytes). */
#define MONO_MATMUL_MAX_GROUP 3
void mono_matmul_group(const mono_kernels *k, mono_threadpool *pool, const mono_matrix *const *ws, float *const *outs,
                       int count, const float *x, int64_t n_tok, mono_matmul_scratch *s);

/* The MLP's first half: gate = silu(x Wg^T) * (x Wu^T), up = x Wu^T, in one
 * pool run (one conversion of x; each slice computes the same rows of both
 * and applies SwiGLU to them). w_gate and w_up have the same shape;
 * gate and up are [n_tok, w_gate->n_rows]. */
void mono_matmul_swiglu(const mono_kernels *k, mono_threadpool *pool, const mono_matrix *w_gate,
                        const mono_matrix *w_up, const float *x, int64_t n_tok, float *gate, float *up,
                        mono_matmul_scratch *s);

/* 1 when w runs through the kernel table's vec_dot/gemm, 0 when it takes
 * the float32 fallback (to_float per row). */
int mono_matmul_has_kernels(const mono_kernels *k, const mono_matrix *w);

/* Same, but only rows [r0, r1) of W (the caller splits the work itself). */
void mono_matmul_rows(const mono_kernels *k, const mono_matrix *w, int64_t r0, int64_t r1, const void *xc,
                      size_t xc_row_bytes, const float *x, int64_t n_tok, float *out, size_t out_stride, float *wrow);

#endif
