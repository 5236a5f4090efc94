/*
 * attention.h -- causal grouped-query attention over the KV cache, one
 * layer at a time (attention.c). Called by the forward pass after the
 * batch's keys and values are in the cache.
 */
#ifndef MONO_MODEL_ATTENTION_H
#define MONO_MODEL_ATTENTION_H

#include <stddef.h>

#include "model/forward.h"

/* f->att[t, h] for the n tokens at positions pos .. pos+n-1 (queries in
 * f->q, [n, n_head * head_dim]), attending to cached positions 0 .. pos+t
 * of layer il. */
void mono_attention(mono_forward *f, int il, int n, int pos);

/* Tokens per block of the prefill path, and the floats of scratch each
 * thread needs for it (mono_forward_init allocates them). */
int mono_attention_block_tokens(const mono_hparams *hp, int n_batch);
size_t mono_attention_scratch_floats(const mono_hparams *hp, int n_batch);

#endif
