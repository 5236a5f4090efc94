/*
 * context.c -- the public context API (monologue.h section 4): a thread
 * pool, the forward pass's buffers and KV cache, the logits of the last
 * call, and timing counters.
 *
 * eval checks everything before touching the cache, so a refused call leaves
 * the context as it was.
 */
#define _POSIX_C_SOURCE 200809L
#include "runtime/context.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "model/model.h"

struct mono_context {
    const mono_model *model;
    mono_threadpool *pool;
    mono_forward fwd;
    int n_ctx, n_batch, n_past;
    float *logits;               /* [logits_cap, n_vocab] */
    size_t logits_cap;           /* rows allocated */
    int n_logits;                /* rows valid from the last eval (0 = none) */
    mono_context_stats stats;
};

mono_context_params mono_context_params_default(void) {
    mono_context_params p;
    memset(&p, 0, sizeof p);
    p.kv_type = MONO_KV_F32;
    return p;
}

mono_status mono_context_init(const mono_model *model, const mono_context_params *params, mono_context **out,
                              mono_error *err) {
    if (!out) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_context_init: out is NULL");
    *out = NULL;
    if (!model) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_context_init: model is NULL");
    mono_context_params p = params ? *params : mono_context_params_default();
    if (p.n_ctx < 0 || p.n_batch < 0 || p.n_threads < 0)
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "negative context parameter (n_ctx %d, n_batch %d, n_threads %d)",
                              p.n_ctx, p.n_batch, p.n_threads);
    if (p.kv_type != MONO_KV_F32 && p.kv_type != MONO_KV_F16)
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "unknown KV cache type %d", (int)p.kv_type);
    if (p.n_ctx == 0) {
        p.n_ctx = model->hp.n_ctx_train > 0 ? model->hp.n_ctx_train : 4096;
        if (p.n_ctx > 4096) p.n_ctx = 4096;
    }
    if (p.n_ctx > (1 << 24)) return mono_error_set(err, MONO_ERR_INVALID_ARG, "n_ctx %d is too large", p.n_ctx);
    if (p.n_batch == 0) p.n_batch = 256;
    if (p.n_batch > p.n_ctx) p.n_batch = p.n_ctx;
    if (p.n_threads == 0) p.n_threads = mono_threadpool_default_threads();
    if (p.n_threads > 256) return mono_error_set(err, MONO_ERR_INVALID_ARG, "n_threads %d is too large", p.n_threads);

    mono_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    ctx->model = model;
    ctx->n_ctx = p.n_ctx;
    ctx->n_batch = p.n_batch;
    mono_status s = mono_threadpool_init(&ctx->pool, p.n_threads, err);
    if (s == MONO_OK) s = mono_forward_init(&ctx->fwd, model, ctx->pool, p.n_ctx, p.n_batch, p.kv_type, err);
    if (s != MONO_OK) {
        mono_context_free(ctx);
        return s;
    }
    ctx->stats.n_threads = p.n_threads;
    *out = ctx;
    return MONO_OK;
}

void mono_context_free(mono_context *ctx) {
    if (!ctx) return;
    mono_forward_free(&ctx->fwd);
    mono_threadpool_free(ctx->pool);
    free(ctx->logits);
    free(ctx);
}

/* Makes room for rows logits rows; the old contents need not survive. */
static mono_status reserve_logits(mono_context *ctx, size_t rows, mono_error *err) {
    if (rows <= ctx->logits_cap) return MONO_OK;
    size_t n, bytes;
    if (!mono_size_mul(rows, (size_t)ctx->model->hp.n_vocab, &n) || !mono_size_mul(n, sizeof(float), &bytes))
        return mono_error_set(err, MONO_ERR_NOMEM, "logits for %zu positions overflow", rows);
    float *p = malloc(bytes);
    if (!p) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory for logits of %zu positions (%zu bytes)", rows, bytes);
    free(ctx->logits);
    ctx->logits = p;
    ctx->logits_cap = rows;
    ctx->n_logits = 0;
    return MONO_OK;
}

mono_status mono_context_eval(mono_context *ctx, const int32_t *tokens, int n, int want_all_logits,
                              const float **logits, mono_error *err) {
    if (logits) *logits = NULL;
    if (!ctx || (!tokens && n > 0)) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_context_eval: NULL argument");
    if (n < 1) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_context_eval: no tokens (n = %d)", n);
    if (n > ctx->n_ctx - ctx->n_past)
        return mono_error_set(err, MONO_ERR_RANGE,
                              "%d tokens do not fit in the context: %d of %d positions are used, %d are free", n,
                              ctx->n_past, ctx->n_ctx, ctx->n_ctx - ctx->n_past);
    int n_vocab = ctx->model->hp.n_vocab;
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= n_vocab)
            return mono_error_set(err, MONO_ERR_INVALID_ARG, "token id %ld at index %d is out of range [0, %d)",
                                  (long)tokens[i], i, n_vocab);
    int rows = want_all_logits ? n : 1;
    mono_status s = reserve_logits(ctx, (size_t)rows, err);
    if (s != MONO_OK) return s;

    double t0 = mono_clock_seconds();
    for (int off = 0; off < n; off += ctx->n_batch) {
        int c = n - off < ctx->n_batch ? n - off : ctx->n_batch;
        int last = off + c == n;
        float *out = ctx->logits;
        int from = c; /* no logits for this batch */
        if (want_all_logits) {
            out = ctx->logits + (size_t)off * n_vocab;
            from = 0;
        } else if (last) {
            from = c - 1;
        }
        mono_forward_batch(&ctx->fwd, tokens + off, c, ctx->n_past + off, out, from);
    }
    double dt = mono_clock_seconds() - t0;
    ctx->n_past += n;
    ctx->n_logits = rows;
    if (n > 1) {
        ctx->stats.n_prefill_tokens += n;
        ctx->stats.prefill_seconds += dt;
    } else {
        ctx->stats.n_decode_tokens += n;
        ctx->stats.decode_seconds += dt;
    }
    if (logits) *logits = ctx->logits;
    return MONO_OK;
}

const float *mono_context_logits(const mono_context *ctx) {
    if (!ctx || ctx->n_logits == 0) return NULL;
    return ctx->logits + (size_t)(ctx->n_logits - 1) * ctx->model->hp.n_vocab;
}

int mono_context_n_past(const mono_context *ctx) { return ctx ? ctx->n_past : 0; }
int mono_context_n_ctx(const mono_context *ctx) { return ctx ? ctx->n_ctx : 0; }
int mono_context_n_vocab(const mono_context *ctx) { return ctx ? ctx->model->hp.n_vocab : 0; }
int mono_context_n_batch(const mono_context *ctx) { return ctx ? ctx->n_batch : 0; }
const mono_model *mono_context_model(const mono_context *ctx) { return ctx ? ctx->model : NULL; }

mono_status mono_context_truncate(mono_context *ctx, int n, mono_error *err) {
    if (!ctx) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_context_truncate: ctx is NULL");
    if (n < 0 || n > ctx->n_past)
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "cannot truncate to %d positions: the context holds %d", n,
                              ctx->n_past);
    ctx->n_past = n;
    ctx->n_logits = 0;
    return MONO_OK;
}

void mono_context_reset(mono_context *ctx) {
    if (!ctx) return;
    ctx->n_past = 0;
    ctx->n_logits = 0;
}

void mono_context_stats_get(const mono_context *ctx, mono_context_stats *stats) {
    *stats = ctx->stats;
    stats->weight_bytes = ctx->model->weight_bytes;
    stats->kv_bytes = ctx->fwd.kv.bytes;
    size_t logits_bytes = ctx->logits_cap * (size_t)ctx->model->hp.n_vocab * sizeof(float);
    stats->scratch_bytes = ctx->fwd.scratch_bytes + logits_bytes;
}

void mono_context_stats_reset(mono_context *ctx) {
    int nt = ctx->stats.n_threads;
    memset(&ctx->stats, 0, sizeof ctx->stats);
    ctx->stats.n_threads = nt;
}

void mono_context_set_hidden_hook(mono_context *ctx, mono_hidden_hook fn, void *user) {
    ctx->fwd.hook = fn;
    ctx->fwd.hook_user = user;
}
