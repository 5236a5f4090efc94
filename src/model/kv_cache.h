/*
 * kv_cache.h -- the keys and values of every position a context has seen,
 * per layer, in float32 or float16.
 *
 * Layout: k and v are [n_layer][n_head_kv][n_ctx][head_dim]: the keys (and
 * values) of one kv head are contiguous, position after position, so the
 * thread that attends with that head streams one run of memory. (With a
 * position's kv heads side by side, two threads on two kv heads each read
 * every other 256 bytes; this layout measured decode 1.08-1.16x faster
 * after a 2048-token prompt, Qwen2.5-0.5B shapes, Q8_0, 2 threads, Zen 4.)
 */
#ifndef MONO_MODEL_KV_CACHE_H
#define MONO_MODEL_KV_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"
#include "monologue.h"

typedef struct mono_kv_cache {
    int type;            /* mono_kv_type: MONO_KV_F32 or MONO_KV_F16 */
    int n_layer, n_ctx, n_head_kv, head_dim;
    void *k, *v;         /* [n_layer][n_head_kv][n_ctx][head_dim] floats or halves */
    size_t bytes;        /* k + v */
    /* float32 -> half for an F16 cache: the kernel table's quantize_row[F16]
     * when the caller sets it (same bytes as mono_f32_to_f16), else NULL */
    void (*to_f16)(const float *src, void *dst, int64_t n);
    /* and back: the kernel table's to_float[F16], else NULL (a plain loop) */
    void (*to_f32)(const void *src, float *dst, int64_t n);
} mono_kv_cache;

mono_status mono_kv_cache_init(mono_kv_cache *kv, int type, int n_layer, int n_ctx, int n_head_kv, int head_dim,
                               mono_error *err);
void mono_kv_cache_free(mono_kv_cache *kv);

/* Stores n positions' keys and values ([n][n_head_kv * head_dim] float32
 * each, as the projections make them) at positions pos .. pos+n-1 of layer il. */
void mono_kv_cache_store(mono_kv_cache *kv, int il, int pos, int n, const float *k, const float *v);

/* Scores of one query head against keys [0, n_pos) of kv head g:
 * out[j] = scale * dot(q, K[il][g][j]). dot is the kernel
 * table's vec_dot for the cache's element type (F32 or F16 rows against
 * float32 q), or NULL for the plain C loop. */
void mono_kv_cache_scores(const mono_kv_cache *kv, int il, int g, int hd, const float *q, int n_pos, float scale,
                          mono_vec_dot_fn dot, float *out);

/* out[0..hd) = sum_j p[j] * V[il][g][j] over j in [0, n_pos): the plain
 * one-head form, kept as the reference the tests hold the grouped and
 * blocked forms to (it widens halves with its own C loop, not the ISA's). */
void mono_kv_cache_mix(const mono_kv_cache *kv, int il, int g, int hd, const float *p, int n_pos, float *out);

/* Scores of n_heads query heads (q rows hd floats apart, the heads of one
 * GQA group) against keys [0, n_pos) of kv head g, in one blocked product so
 * each key row is read once for all of them:
 *   out[h * out_stride + j] = dot(q_h, K[il][g][j])   (unscaled)
 * gemm is the kernel table's gemm for the cache's element type (F32 or F16
 * rows against float32 queries); NULL falls back to dot (or the C loop)
 * one head at a time. */
void mono_kv_cache_scores_heads(const mono_kv_cache *kv, mono_gemm_fn gemm, mono_vec_dot_fn dot, int il, int g, int hd,
                                const float *q, int n_heads, int n_pos, float *out, size_t out_stride);

/* Scores of n_rows queries (rows hd floats apart) against the nb keys
 * j0 .. j0+nb-1 of kv head g, one gemm (the kernel table's, for the
 * cache's element type):  out[r * out_stride + j] = dot(q_r, K[il][g][j0 + j]) */
void mono_kv_cache_scores_range(const mono_kv_cache *kv, mono_gemm_fn gemm, int il, int g, int hd, const float *q,
                                int n_rows, int j0, int nb, float *out, size_t out_stride);

/* The values of positions j0 .. j0+nb-1 of kv head g, transposed to float:
 * vt[i * ld + j] = V[il][g][j0 + j][i] for i < hd, j < nb (ld >= nb). With
 * the value rows as the "weights" of a gemm, the probabilities times the
 * values become one product whose reduction runs along contiguous memory. */
void mono_kv_cache_values_t(const mono_kv_cache *kv, int il, int g, int hd, int j0, int nb, float *vt, size_t ld);

/* out[h*hd ..) = sum_j p[h * p_stride + j] * V[il][g][j] for each of
 * n_heads heads, reading each value row once for all of them. */
void mono_kv_cache_mix_heads(const mono_kv_cache *kv, int il, int g, int hd, const float *p, size_t p_stride,
                             int n_heads, int n_pos, float *out);

/* The half -> float widening the f16 cache uses (exposed for its test). */
void mono_kv_cache_widen_f16(const uint16_t *src, float *dst, int n);

#endif
