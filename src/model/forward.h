/*
 * forward.h -- the transformer forward pass over a batch of tokens, with the
 * buffers it needs (owned by one context) and the KV cache it appends to.
 *
 * A batch of n tokens (1 for decode, up to n_batch for prefill) runs as
 * matrices: every projection is one [n, in] x [in, out] product through the
 * kernel table, split over the thread pool.
 */
#ifndef MONO_MODEL_FORWARD_H
#define MONO_MODEL_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "model/kv_cache.h"
#include "model/matmul.h"
#include "model/model.h"
#include "runtime/threadpool.h"

/* Called with the residual stream of the batch ([n_tok, n_embd] row-major,
 * positions pos0 ..): index 0 after the embedding lookup, index i after
 * layer i (1 <= i <= n_layer), and index n_layer + 1 after the final norm.
 * (Hugging Face's hidden_states are indices 0 .. n_layer-1 and n_layer+1.)
 * For tests and debugging; it must not keep the pointer. */
typedef void (*mono_hidden_hook)(void *user, int index, int pos0, int n_tok, int n_embd, const float *x);

typedef struct mono_forward {
    const mono_model *m;
    mono_threadpool *pool;       /* not owned; NULL runs everything inline */
    int n_threads, n_batch, n_ctx;
    mono_kv_cache kv;
    float *x;                    /* [n_batch, n_embd]      residual stream */
    float *xn;                   /* [n_batch, n_embd]      normed input / block output */
    float *q;                    /* [n_batch, n_head*hd]   queries */
    float *k, *v;                /* [n_batch, n_kv*hd]     this batch's keys, values */
    float *att;                  /* [n_batch, n_head*hd]   attention output */
    float *gate, *up;            /* [n_batch, n_ff]        MLP */
    float *rope_cos, *rope_sin;  /* [n_batch, hd/2]        per position, per pair */
    float *scores;               /* [n_threads, group, n_ctx] attention probabilities */
    float *attn_scratch;         /* [n_threads, attn_scratch_floats] prefill attention blocks (attention.c) */
    size_t attn_scratch_floats;
    mono_matmul_scratch mm;
    uint8_t *embd_rows;          /* [repack_rows, row_bytes]: one group of token_embd unpacked from its
                                    repacked copy (NULL unless token_embd is repacked) */
    size_t scratch_bytes;        /* all of the above but the KV cache */
    mono_hidden_hook hook;
    void *hook_user;
} mono_forward;

mono_status mono_forward_init(mono_forward *f, const mono_model *m, mono_threadpool *pool, int n_ctx, int n_batch,
                              int kv_type, mono_error *err);
void mono_forward_free(mono_forward *f);

/* Runs tokens[0..n) (n <= n_batch, ids already checked) at positions
 * pos .. pos+n-1 (pos + n <= n_ctx), storing their keys/values in the cache.
 * Writes the logits of rows [logits_from, n) to logits ([n - logits_from,
 * n_vocab]); logits_from >= n computes none. */
void mono_forward_batch(mono_forward *f, const int32_t *tokens, int n, int pos, float *logits, int logits_from);

#endif
