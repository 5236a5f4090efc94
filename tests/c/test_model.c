/*
 * test_model.c -- exactness of the forward pass against Hugging Face
 * transformers on every golden model (shared/golden/models): logits for the
 * whole sequence, hidden states layer by layer, greedy generation with the KV
 * cache; and that prefill as one matrix, in batches, across calls and token
 * by token all agree, with 1 or 3 threads, with an f32 or f16 KV cache.
 */
#include <stdlib.h>

#include "runtime/context.h"
#include "test_model_util.h"

#define TOL 1e-4   /* x max |expected logit|, as shared/golden/README.md asks */

typedef struct capture {
    int n_slots, n_tokens, n_embd;
    float *x;      /* [n_slots][n_tokens][n_embd] */
} capture;

static void capture_hook(void *user, int index, int pos0, int n_tok, int n_embd, const float *x) {
    capture *c = user;
    if (index < 0 || index >= c->n_slots || n_embd != c->n_embd || pos0 + n_tok > c->n_tokens) return;
    memcpy(c->x + ((size_t)index * c->n_tokens + pos0) * n_embd, x, sizeof(float) * (size_t)n_tok * n_embd);
}

static mono_context *make_ctx(mt_ctx *t, const mono_model *m, int n_ctx, int n_batch, int n_threads, int kv) {
    mono_context_params cp = mono_context_params_default();
    cp.n_ctx = n_ctx;
    cp.n_batch = n_batch;
    cp.n_threads = n_threads;
    cp.kv_type = kv;
    mono_context *ctx = NULL;
    mono_error err;
    if (!MT_CHECK_MSG(t, mono_context_init(m, &cp, &ctx, &err) == MONO_OK, "%s", err.message)) return NULL;
    return ctx;
}

/* Logits of the whole sequence in one call against the reference. */
static void check_logits(mt_ctx *t, const golden *g, const float *lg, double tol, const char *what) {
    double e = rel_err(lg, g->logits, (size_t)g->n_tokens * g->n_vocab);
    MT_CHECK_MSG(t, e <= tol, "%s: relative logit error %.3g > %.3g", what, e, tol);
    int bad = 0;
    for (int i = 0; i < g->n_tokens; i++)
        if (argmax(lg + (size_t)i * g->n_vocab, g->n_vocab) != argmax(g->logits + (size_t)i * g->n_vocab, g->n_vocab))
            bad++;
    MT_CHECK_MSG(t, bad == 0, "%s: argmax differs at %d positions", what, bad);
    if (t->verbose) fprintf(stderr, "    %s: relative logit error %.3g\n", what, e);
}

static void check_hidden(mt_ctx *t, const golden *g, const capture *c, int n_layer) {
    MT_CHECK_EQ_INT(t, g->n_hidden, n_layer + 1);
    for (int i = 0; i < g->n_hidden; i++) {
        int slot = i < n_layer ? i : n_layer + 1; /* the last reference is after the final norm */
        const float *want = golden_hidden(g, i);
        double e = rel_err(c->x + (size_t)slot * c->n_tokens * c->n_embd, want, (size_t)g->n_tokens * g->n_embd);
        MT_CHECK_MSG(t, e <= TOL, "hidden_%d: relative error %.3g", i, e);
    }
}

static void check_greedy(mt_ctx *t, const golden *g, mono_context *ctx) {
    mono_error err;
    const float *lg;
    mono_context_reset(ctx);
    if (!MT_CHECK(t, mono_context_eval(ctx, g->prompt, g->n_prompt, 0, &lg, &err) == MONO_OK)) return;
    int i = 0;
    for (; i < g->n_greedy; i++) {
        int32_t next = argmax(lg, g->n_vocab);
        if (next != g->greedy[i]) break;
        if (mono_context_eval(ctx, &next, 1, 0, &lg, &err) != MONO_OK) break;
    }
    MT_CHECK_MSG(t, i == g->n_greedy, "greedy generation diverges at step %d of %d", i, g->n_greedy);
    MT_CHECK_EQ_INT(t, mono_context_n_past(ctx), g->n_prompt + i);
}

static void check_token_by_token(mt_ctx *t, const golden *g, mono_context *ctx) {
    mono_error err;
    mono_context_reset(ctx);
    double worst = 0;
    for (int i = 0; i < g->n_tokens; i++) {
        const float *lg;
        if (!MT_CHECK(t, mono_context_eval(ctx, &g->input_ids[i], 1, 0, &lg, &err) == MONO_OK)) return;
        MT_CHECK(t, lg == mono_context_logits(ctx));
        double e = rel_err(lg, g->logits + (size_t)i * g->n_vocab, (size_t)g->n_vocab);
        if (e > worst) worst = e;
    }
    MT_CHECK_MSG(t, worst <= TOL, "token-by-token decode: relative error %.3g", worst);
}

/* The sequence fed in uneven pieces, all logits kept, against one call. */
static void check_split_calls(mt_ctx *t, const golden *g, mono_context *ctx) {
    mono_error err;
    mono_context_reset(ctx);
    float *all = malloc(sizeof(float) * (size_t)g->n_tokens * g->n_vocab);
    int cuts[] = {0, 1, 8, 9, 20, g->n_tokens};
    int ok = 1;
    for (int c = 0; c + 1 < (int)(sizeof cuts / sizeof *cuts) && ok; c++) {
        int a = cuts[c], b = cuts[c + 1] < g->n_tokens ? cuts[c + 1] : g->n_tokens;
        if (a >= b) continue;
        const float *lg;
        ok = MT_CHECK(t, mono_context_eval(ctx, g->input_ids + a, b - a, 1, &lg, &err) == MONO_OK);
        if (ok) memcpy(all + (size_t)a * g->n_vocab, lg, sizeof(float) * (size_t)(b - a) * g->n_vocab);
    }
    if (ok) check_logits(t, g, all, TOL, "prefill split over calls");
    free(all);
}

static void check_model(mt_ctx *t, const char *name) {
    golden g;
    if (!golden_open(t, &g, name)) return;
    mono_model *m = NULL;
    mono_error err;
    if (!MT_CHECK_MSG(t, mono_model_load(g.dir, NULL, &m, &err) == MONO_OK, "%s: %s", name, err.message)) {
        golden_close(&g);
        return;
    }
    mono_model_info info;
    mono_model_info_get(m, &info);
    MT_CHECK_EQ_INT(t, info.n_vocab, g.n_vocab);
    MT_CHECK_EQ_INT(t, info.n_embd, g.n_embd);
    if (t->verbose) fprintf(stderr, "  %s: %s, %d layers, kernels %s\n", name, info.weight_type, info.n_layer, info.isa);

    /* 1. the whole sequence as one matrix, hidden states captured */
    mono_context *ctx = make_ctx(t, m, 128, 0, 2, MONO_KV_F32);
    capture cap = {info.n_layer + 2, g.n_tokens, g.n_embd, NULL};
    cap.x = calloc((size_t)cap.n_slots * cap.n_tokens * cap.n_embd, sizeof(float));
    if (ctx) {
        mono_context_set_hidden_hook(ctx, capture_hook, &cap);
        const float *lg;
        if (MT_CHECK_MSG(t, mono_context_eval(ctx, g.input_ids, g.n_tokens, 1, &lg, &err) == MONO_OK, "%s", err.message)) {
            check_logits(t, &g, lg, TOL, name);
            check_hidden(t, &g, &cap, info.n_layer);
            /* the last row is also what mono_context_logits gives */
            MT_CHECK(t, mono_context_logits(ctx) == lg + (size_t)(g.n_tokens - 1) * g.n_vocab);
        }
        mono_context_set_hidden_hook(ctx, NULL, NULL);
        check_greedy(t, &g, ctx);
        check_token_by_token(t, &g, ctx);
        check_split_calls(t, &g, ctx);
    }
    free(cap.x);
    mono_context_free(ctx);

    /* 2. small batches (5 tokens a matrix), one thread and three threads */
    int threads[] = {1, 3};
    for (int i = 0; i < 2; i++) {
        ctx = make_ctx(t, m, 64, 5, threads[i], MONO_KV_F32);
        const float *lg;
        if (ctx && MT_CHECK(t, mono_context_eval(ctx, g.input_ids, g.n_tokens, 1, &lg, &err) == MONO_OK))
            check_logits(t, &g, lg, TOL, threads[i] == 1 ? "batches of 5, 1 thread" : "batches of 5, 3 threads");
        /* only the last position's logits, the prompt still run in batches of 5 */
        if (ctx) {
            mono_context_reset(ctx);
            if (MT_CHECK(t, mono_context_eval(ctx, g.input_ids, g.n_tokens, 0, &lg, &err) == MONO_OK)) {
                double e = rel_err(lg, g.logits + (size_t)(g.n_tokens - 1) * g.n_vocab, (size_t)g.n_vocab);
                MT_CHECK_MSG(t, e <= TOL, "last logits after batches of 5: relative error %.3g", e);
            }
        }
        mono_context_free(ctx);
    }

    /* 3. f16 KV cache: half-precision keys/values, looser bound */
    ctx = make_ctx(t, m, 64, 0, 2, MONO_KV_F16);
    const float *lg;
    if (ctx && MT_CHECK(t, mono_context_eval(ctx, g.input_ids, g.n_tokens, 1, &lg, &err) == MONO_OK)) {
        double e = rel_err(lg, g.logits, (size_t)g.n_tokens * g.n_vocab);
        MT_CHECK_MSG(t, e <= 5e-3, "f16 KV cache: relative error %.3g", e);
        mono_context_stats st;
        mono_context_stats_get(ctx, &st);
        size_t f32_bytes = (size_t)2 * info.n_layer * 64 * info.n_head_kv * info.head_dim * sizeof(float);
        MT_CHECK_EQ_INT(t, st.kv_bytes, f32_bytes / 2);
    }
    mono_context_free(ctx);
    mono_model_free(m);
    golden_close(&g);
}

void suite_model(mt_ctx *t) {
    check_model(t, "tiny-f32");
    check_model(t, "small-bf16-untied");
    check_model(t, "f16-mha");
}
