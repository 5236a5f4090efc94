/*
 * context.h -- private extras of mono_context for tests and tools: a hook to
 * watch the hidden states layer by layer (see mono_hidden_hook in
 * model/forward.h) and the number of batches a prompt was split into.
 */
#ifndef MONO_RUNTIME_CONTEXT_H
#define MONO_RUNTIME_CONTEXT_H

#include "model/forward.h"
#include "monologue.h"

/* Installs (or with fn NULL removes) the hidden-state hook. */
void mono_context_set_hidden_hook(mono_context *ctx, mono_hidden_hook fn, void *user);

/* The n_batch in use (after defaults). */
int mono_context_n_batch(const mono_context *ctx);

#endif
