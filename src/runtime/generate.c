/*
 * generate.c -- the generation loop (prefill, then sample / stream /
 * evaluate token by token) and the stop-string matcher it streams through.
 *
 * Per generated token: sample from the last logits; a stop token ends the
 * loop without being evaluated or shown; otherwise the token joins the
 * sampler's history, its bytes go through the tokenizer's streaming decoder
 * (which never splits a UTF-8 character) and the stop-string matcher (which
 * holds back what might start a stop string) to the caller's callback, and
 * only then is it evaluated, so text reaches the screen a forward pass
 * earlier. The callback is also called with len 0 whenever a step produced
 * no text, and between prefill chunks, so cancelling is always prompt.
 */
#include "runtime/generate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"
#include "tokenizer/utf8.h"

/* Prefill runs in chunks this long so a long prompt can be cancelled. */
#define PREFILL_CHUNK 512

const char *mono_stop_reason_name(mono_stop_reason reason) {
    switch (reason) {
    case MONO_STOP_TOKEN: return "eos";
    case MONO_STOP_STRING: return "stop string";
    case MONO_STOP_MAX_TOKENS: return "max tokens";
    case MONO_STOP_CONTEXT_FULL: return "context full";
    case MONO_STOP_CANCELLED: return "cancelled";
    case MONO_STOP_NONE: break;
    }
    return "error";
}

mono_gen_params mono_gen_params_default(void) {
    mono_gen_params p;
    memset(&p, 0, sizeof p);
    p.max_tokens = -1;
    p.accept_prompt = 1;
    return p;
}


/* ---- text out: decoder -> stop matcher -> callback ---------------------- */

typedef struct text_sink {
    mono_text_fn cb;
    void *user;
    int called;            /* the callback ran during this step */
} text_sink;

static int sink_emit(const char *text, size_t len, void *user) {
    text_sink *s = user;
    s->called = 1;
    return s->cb ? s->cb(text, len, s->user) : 0;
}

/* 1 to cancel: polls the callback with len 0. */
static int sink_poll(text_sink *s) { return sink_emit("", 0, s); }

static int is_stop_token(const int32_t *stops, int n, int32_t t) {
    for (int i = 0; i < n; i++)
        if (stops[i] == t) return 1;
    return 0;
}

typedef struct gen_state {
    mono_context *ctx;
    const mono_tokenizer *tok;
    mono_sampler *sampler;
    const mono_gen_params *p;
    int32_t stops[MONO_MAX_EOS];
    int n_stops;
    const int32_t *stop_list;
    mono_stop_matcher match;
    mono_detok *detok;
    text_sink sink;
    int32_t *out;          /* sampled tokens */
    size_t n_out, cap_out;
    mono_status fail;      /* why a stream step returned MONO_MATCH_NOMEM */
} gen_state;

static mono_status out_push(gen_state *g, int32_t t, mono_error *err) {
    if (g->n_out == g->cap_out) {
        size_t cap = g->cap_out ? g->cap_out * 2 : 64, bytes;
        if (!mono_size_mul(cap, sizeof *g->out, &bytes)) return mono_error_set(err, MONO_ERR_NOMEM, "generate: too many tokens");
        int32_t *o = realloc(g->out, bytes);
        if (!o) return mono_error_set(err, MONO_ERR_NOMEM, "generate: out of memory");
        g->out = o;
        g->cap_out = cap;
    }
    g->out[g->n_out++] = t;
    return MONO_OK;
}

/* Streams token t's text; returns a MONO_MATCH_* code. */
static int stream_token(gen_state *g, int32_t t, mono_error *err) {
    if (!g->tok) return MONO_MATCH_MORE;
    const char *text;
    size_t len;
    if (!g->p->special_text && mono_tokenizer_token_is_special(g->tok, t)) return MONO_MATCH_MORE;
    mono_status st = mono_detok_push(g->detok, t, &text, &len, err);
    if (st != MONO_OK) {
        g->fail = st; /* e.g. an id beyond the tokenizer's vocabulary */
        return MONO_MATCH_NOMEM;
    }
    return mono_stop_matcher_feed(&g->match, text, len, sink_emit, &g->sink);
}

/* End of generation: the decoder's leftover bytes (as U+FFFD) and the text
 * the matcher still holds. */
static int stream_finish(gen_state *g, mono_error *err) {
    if (!g->tok) return MONO_MATCH_MORE;
    const char *text;
    size_t len;
    mono_status st = mono_detok_flush(g->detok, &text, &len, err);
    if (st != MONO_OK) {
        g->fail = st;
        return MONO_MATCH_NOMEM;
    }
    int r = mono_stop_matcher_feed(&g->match, text, len, sink_emit, &g->sink);
    if (r != MONO_MATCH_MORE) return r;
    return mono_stop_matcher_flush(&g->match, sink_emit, &g->sink);
}

static mono_status gen_setup(gen_state *g, mono_error *err) {
    const mono_gen_params *p = g->p;
    if (p->n_stop_tokens < 0 || (p->n_stop_tokens > 0 && !p->stop_tokens))
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "generate: bad stop token list");
    if (p->stop_tokens) {
        g->stop_list = p->stop_tokens;
        g->n_stops = p->n_stop_tokens;
    } else {
        mono_model_info info;
        mono_model_info_get(mono_context_model(g->ctx), &info);
        for (int i = 0; i < info.n_eos && i < MONO_MAX_EOS; i++) g->stops[g->n_stops++] = info.eos_ids[i];
        g->stop_list = g->stops;
    }
    if (p->n_stop_strings > 0 && !g->tok)
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "generate: stop strings need a tokenizer");
    mono_status st = mono_stop_matcher_init(&g->match, p->stop_strings, p->n_stop_strings, err);
    if (st != MONO_OK) return st;
    if (g->tok) {
        st = mono_detok_init(g->tok, &g->detok, err);
        if (st != MONO_OK) return st;
    }
    return MONO_OK;
}

/* Evaluates the prompt in chunks; *logits gets the last position's row. */
static mono_status gen_prefill(gen_state *g, const int32_t *prompt, size_t n_prompt, const float **logits,
                               mono_error *err) {
    if (n_prompt == 0) {
        *logits = mono_context_logits(g->ctx);
        if (!*logits)
            return mono_error_set(err, MONO_ERR_INVALID_ARG,
                                  "generate: empty prompt and nothing evaluated yet to continue from");
        return MONO_OK;
    }
    size_t room = (size_t)(mono_context_n_ctx(g->ctx) - mono_context_n_past(g->ctx));
    if (n_prompt > room)
        return mono_error_set(err, MONO_ERR_RANGE, "generate: prompt of %zu tokens does not fit: the context has %d of %d positions free",
                              n_prompt, (int)room, mono_context_n_ctx(g->ctx));
    for (size_t i = 0; i < n_prompt; i += PREFILL_CHUNK) {
        if (i > 0 && sink_poll(&g->sink))
            return mono_error_set(err, MONO_ERR_CANCELLED, "generate: cancelled during the prompt");
        int n = (int)(n_prompt - i < PREFILL_CHUNK ? n_prompt - i : PREFILL_CHUNK);
        mono_status st = mono_context_eval(g->ctx, prompt + i, n, 0, logits, err);
        if (st != MONO_OK) return st;
    }
    return MONO_OK;
}

static mono_status gen_decode(gen_state *g, const float *logits, mono_gen_stats *stats, mono_error *err) {
    const mono_gen_params *p = g->p;
    int n_vocab = mono_context_n_vocab(g->ctx);
    for (;;) {
        int32_t t;
        mono_status st = mono_sampler_sample(g->sampler, logits, n_vocab, &t, err);
        if (st != MONO_OK) return st;
        stats->n_generated++;
        if (is_stop_token(g->stop_list, g->n_stops, t)) { stats->stop_reason = MONO_STOP_TOKEN; break; }
        if ((st = mono_sampler_accept(g->sampler, t, err)) != MONO_OK) return st;
        if ((st = out_push(g, t, err)) != MONO_OK) return st;
        g->sink.called = 0;
        int r = stream_token(g, t, err);
        if (r == MONO_MATCH_MORE && !g->sink.called && sink_poll(&g->sink)) r = MONO_MATCH_CANCEL;
        if (r == MONO_MATCH_NOMEM)
            return g->fail != MONO_OK ? g->fail : mono_error_set(err, MONO_ERR_NOMEM, "generate: out of memory");
        if (r == MONO_MATCH_STOP) { stats->stop_reason = MONO_STOP_STRING; return MONO_OK; }
        if (r == MONO_MATCH_CANCEL) { stats->stop_reason = MONO_STOP_CANCELLED; return MONO_OK; }
        /* the last token is not evaluated: nothing would read its logits */
        if (p->max_tokens > 0 && stats->n_generated >= p->max_tokens) { stats->stop_reason = MONO_STOP_MAX_TOKENS; break; }
        if (mono_context_n_past(g->ctx) >= mono_context_n_ctx(g->ctx)) { stats->stop_reason = MONO_STOP_CONTEXT_FULL; break; }
        if ((st = mono_context_eval(g->ctx, &t, 1, 0, &logits, err)) != MONO_OK) return st;
    }
    int r = stream_finish(g, err);
    if (r == MONO_MATCH_STOP) stats->stop_reason = MONO_STOP_STRING;
    else if (r == MONO_MATCH_CANCEL) stats->stop_reason = MONO_STOP_CANCELLED;
    else if (r == MONO_MATCH_NOMEM)
        return g->fail != MONO_OK ? g->fail : mono_error_set(err, MONO_ERR_NOMEM, "generate: out of memory");
    return MONO_OK;
}

mono_status mono_generate(mono_context *ctx, const mono_tokenizer *tok, mono_sampler *sampler,
                          const int32_t *prompt, size_t n_prompt, const mono_gen_params *params,
                          mono_text_fn callback, void *user_data, mono_gen_stats *stats,
                          int32_t **tokens, size_t *n_tokens, mono_error *err) {
    mono_gen_stats local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    if (tokens) *tokens = NULL;
    if (n_tokens) *n_tokens = 0;
    if (!ctx || !sampler) return mono_error_set(err, MONO_ERR_INVALID_ARG, "generate: NULL context or sampler");
    if (n_prompt && !prompt) return mono_error_set(err, MONO_ERR_INVALID_ARG, "generate: prompt is NULL");
    mono_gen_params defaults = mono_gen_params_default();
    gen_state g;
    memset(&g, 0, sizeof g);
    g.ctx = ctx;
    g.tok = tok;
    g.sampler = sampler;
    g.p = params ? params : &defaults;
    g.sink.cb = callback;
    g.sink.user = user_data;
    mono_status st = gen_setup(&g, err);
    for (size_t i = 0; st == MONO_OK && g.p->accept_prompt && i < n_prompt; i++)
        st = mono_sampler_accept(sampler, prompt[i], err);
    const float *logits = NULL;
    double t0 = mono_clock_seconds();
    if (st == MONO_OK) st = gen_prefill(&g, prompt, n_prompt, &logits, err);
    double t1 = mono_clock_seconds();
    if (st == MONO_OK) {
        stats->n_prompt = (int)n_prompt;
        st = gen_decode(&g, logits, stats, err);
    }
    double t2 = mono_clock_seconds();
    stats->prefill_seconds = n_prompt ? t1 - t0 : 0.0;
    stats->decode_seconds = t2 - t1;
    if (stats->prefill_seconds > 0) stats->prefill_tok_s = stats->n_prompt / stats->prefill_seconds;
    if (stats->decode_seconds > 0) stats->decode_tok_s = stats->n_generated / stats->decode_seconds;
    if (st == MONO_OK && stats->stop_reason == MONO_STOP_CANCELLED)
        st = mono_error_set(err, MONO_ERR_CANCELLED, "generate: cancelled by the callback after %d tokens",
                            stats->n_generated);
    else if (st == MONO_ERR_CANCELLED)
        stats->stop_reason = MONO_STOP_CANCELLED;
    if (st == MONO_OK || st == MONO_ERR_CANCELLED) {
        if (tokens) { *tokens = g.out; g.out = NULL; }
        if (n_tokens) *n_tokens = g.n_out;
    }
    free(g.out);
    mono_stop_matcher_free(&g.match);
    mono_detok_free(g.detok);
    return st;
}
