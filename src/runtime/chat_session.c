/*
 * chat_session.c -- mono_chat: a multi-turn conversation on one context.
 *
 * Each turn renders the whole conversation with the chat template,
 * tokenizes it, and compares the ids with the tokens the session knows are
 * in the KV cache: the longest common prefix stays, the cache is truncated
 * there, and only the rest is evaluated. Usually that rest is just the new
 * user turn; it is more only when the reply, re-tokenized from its text,
 * differs from the tokens the model sampled (BPE may spell the same text
 * differently) or when a stop string cut the reply -- then the cache
 * resumes from the first differing token, so the cache always holds exactly
 * what the template renders, as a fresh run would.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "formats/gguf.h"
#include "model/model.h"
#include "runtime/chat.h"

#define QWEN2_IM_START 151644

static int bytes_contain(const char *hay, size_t n, const char *needle) {
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(hay + i, needle, m)) return 1;
    return 0;
}

mono_chat_template mono_chat_template_for_model(const mono_model *model) {
    if (!model) return MONO_CHAT_QWEN2;
    const mono_gguf *g = mono_model_file_gguf(model->file);
    const mono_gguf_kv *kv = g ? mono_gguf_find(g, "tokenizer.chat_template") : NULL;
    if (kv && kv->type == MONO_GGUF_STRING) {
        if (bytes_contain(kv->str.ptr, kv->str.len, "You are Qwen, created by Alibaba Cloud")) return MONO_CHAT_QWEN2;
        if (bytes_contain(kv->str.ptr, kv->str.len, "<|im_start|>")) return MONO_CHAT_CHATML;
    }
    const mono_tokenizer *tok = mono_model_tokenizer(model);
    if (tok && mono_tokenizer_token_id(tok, "<|im_start|>", 12) == QWEN2_IM_START) return MONO_CHAT_QWEN2;
    return MONO_CHAT_CHATML;
}

struct mono_chat {
    mono_context *ctx;
    const mono_tokenizer *tok;
    mono_chat_template tmpl;
    mono_chat_message *msgs;     /* roles are static strings, contents owned */
    size_t n_msgs, cap_msgs;
    int has_system;              /* msgs[0] is the caller's system prompt */
    int32_t *cached;             /* the tokens in ctx's KV cache, in order */
    size_t n_cached, cap_cached;
};

static const char *role_static(const char *role) {
    static const char *const roles[] = {"system", "user", "assistant", "tool"};
    for (size_t i = 0; i < sizeof roles / sizeof *roles; i++)
        if (role && !strcmp(role, roles[i])) return roles[i];
    return NULL;
}

static mono_status msg_push(mono_chat *c, const char *role, const char *content, size_t len, mono_error *err) {
    const char *r = role_static(role);
    if (!r)
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "chat: unknown role '%.40s' (expected system, user, assistant or tool)",
                              role ? role : "(null)");
    if (!content) return mono_error_set(err, MONO_ERR_INVALID_ARG, "chat: %s message has no content", r);
    size_t ok = mono_utf8_valid_prefix(content, len);
    if (ok != len)
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "chat: %s message is not valid UTF-8 (bad byte at offset %zu)", r, ok);
    if (memchr(content, '\0', len))
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "chat: %s message contains a NUL byte", r);
    if (c->n_msgs == c->cap_msgs) {
        size_t cap = c->cap_msgs ? c->cap_msgs * 2 : 16, bytes;
        if (!mono_size_mul(cap, sizeof *c->msgs, &bytes)) return mono_error_set(err, MONO_ERR_NOMEM, "chat: too many messages");
        mono_chat_message *m = realloc(c->msgs, bytes);
        if (!m) return mono_error_set(err, MONO_ERR_NOMEM, "chat: out of memory");
        c->msgs = m;
        c->cap_msgs = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return mono_error_set(err, MONO_ERR_NOMEM, "chat: out of memory");
    memcpy(copy, content, len);
    copy[len] = '\0';
    c->msgs[c->n_msgs].role = r;
    c->msgs[c->n_msgs].content = copy;
    c->n_msgs++;
    return MONO_OK;
}

static void msgs_truncate(mono_chat *c, size_t n) {
    while (c->n_msgs > n) free((void *)c->msgs[--c->n_msgs].content);
}

static mono_status cached_set(mono_chat *c, const int32_t *a, size_t na, const int32_t *b, size_t nb, mono_error *err) {
    size_t n;
    if (!mono_size_add(na, nb, &n)) return mono_error_set(err, MONO_ERR_NOMEM, "chat: too many tokens");
    if (n > c->cap_cached) {
        size_t bytes;
        if (!mono_size_mul(n, sizeof *c->cached, &bytes)) return mono_error_set(err, MONO_ERR_NOMEM, "chat: too many tokens");
        int32_t *p = realloc(c->cached, bytes);
        if (!p) return mono_error_set(err, MONO_ERR_NOMEM, "chat: out of memory");
        c->cached = p;
        c->cap_cached = n;
    }
    if (na && a != c->cached) memmove(c->cached, a, na * sizeof *a);
    if (nb) memcpy(c->cached + na, b, nb * sizeof *b);
    c->n_cached = n;
    return MONO_OK;
}

mono_status mono_chat_init(mono_context *ctx, const mono_tokenizer *tok, mono_chat_template tmpl, const char *system,
                           mono_chat **out, mono_error *err) {
    if (!out) return mono_error_set(err, MONO_ERR_INVALID_ARG, "chat: out is NULL");
    *out = NULL;
    if (!ctx || !tok) return mono_error_set(err, MONO_ERR_INVALID_ARG, "chat: a context and a tokenizer are needed");
    if (tmpl != MONO_CHAT_QWEN2 && tmpl != MONO_CHAT_CHATML)
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "chat: unknown template %d", (int)tmpl);
    mono_chat *c = calloc(1, sizeof *c);
    if (!c) return mono_error_set(err, MONO_ERR_NOMEM, "chat: out of memory");
    c->ctx = ctx;
    c->tok = tok;
    c->tmpl = tmpl;
    if (system) {
        mono_status st = msg_push(c, "system", system, strlen(system), err);
        if (st != MONO_OK) {
            mono_chat_free(c);
            return st;
        }
        c->has_system = 1;
    }
    mono_context_reset(ctx);
    *out = c;
    return MONO_OK;
}

void mono_chat_free(mono_chat *chat) {
    if (!chat) return;
    msgs_truncate(chat, 0);
    free(chat->msgs);
    free(chat->cached);
    free(chat);
}

void mono_chat_reset(mono_chat *chat) {
    if (!chat) return;
    msgs_truncate(chat, chat->has_system ? 1 : 0);
    chat->n_cached = 0;
    mono_context_reset(chat->ctx);
}

void mono_chat_forget(mono_chat *chat, size_t n) {
    if (!chat) return;
    size_t first = chat->has_system ? 1 : 0, have = chat->n_msgs - first;
    if (n > have) n = have;
    if (n == 0) return;
    for (size_t i = first; i < first + n; i++) free((void *)chat->msgs[i].content);
    memmove(chat->msgs + first, chat->msgs + first + n, (chat->n_msgs - first - n) * sizeof *chat->msgs);
    chat->n_msgs -= n;
}

mono_status mono_chat_add(mono_chat *chat, const char *role, const char *content, mono_error *err) {
    if (!chat) return mono_error_set(err, MONO_ERR_INVALID_ARG, "chat: NULL chat");
    return msg_push(chat, role, content, content ? strlen(content) : 0, err);
}

size_t mono_chat_n_messages(const mono_chat *chat) { return chat ? chat->n_msgs : 0; }

const mono_chat_message *mono_chat_message_at(const mono_chat *chat, size_t i) {
    return chat && i < chat->n_msgs ? &chat->msgs[i] : NULL;
}

/* Collects the reply text while passing it on to the caller's callback. */
typedef struct reply_sink {
    mono_strbuf text;
    int nomem;
    mono_text_fn cb;
    void *user;
} reply_sink;

static int reply_emit(const char *text, size_t len, void *user) {
    reply_sink *r = user;
    /* kept as a C string: a generated NUL byte is left out of the record */
    for (size_t i = 0, j; i < len; i = j + 1) {
        for (j = i; j < len && text[j] != '\0'; j++) {}
        if (j > i && !mono_strbuf_append(&r->text, text + i, j - i)) r->nomem = 1;
    }
    return r->cb ? r->cb(text, len, r->user) : 0;
}

/* Renders and tokenizes the conversation with the generation prompt. */
static mono_status conversation_ids(mono_chat *c, int32_t **ids, size_t *n, mono_error *err) {
    char *text = NULL;
    size_t len = 0;
    mono_status st = mono_chat_format(c->tmpl, c->msgs, c->n_msgs, 1, &text, &len, err);
    if (st != MONO_OK) return st;
    st = mono_tokenizer_encode(c->tok, text, len, 0, ids, n, err);
    mono_free(text);
    return st;
}

mono_status mono_chat_respond(mono_chat *chat, const char *user_text, mono_sampler *sampler,
                              const mono_gen_params *params, mono_text_fn callback, void *user_data,
                              mono_gen_stats *stats, mono_error *err) {
    mono_gen_stats local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    if (!chat || !sampler) return mono_error_set(err, MONO_ERR_INVALID_ARG, "chat: NULL chat or sampler");
    size_t n_before = chat->n_msgs;
    mono_status st = MONO_OK;
    if (user_text) st = msg_push(chat, "user", user_text, strlen(user_text), err);
    if (st != MONO_OK) return st;

    int32_t *ids = NULL, *gen = NULL;
    size_t n_ids = 0, n_gen = 0;
    reply_sink sink = {{0}, 0, callback, user_data};
    st = conversation_ids(chat, &ids, &n_ids, err);
    int n_ctx = mono_context_n_ctx(chat->ctx);
    if (st == MONO_OK && n_ids >= (size_t)n_ctx)
        st = mono_error_set(err, MONO_ERR_RANGE,
                            "chat: the conversation is %zu tokens, the context holds %d (start over, or use a larger context)",
                            n_ids, n_ctx);
    size_t keep = 0;
    int touched = 0; /* the cache was changed by this call */
    if (st == MONO_OK) {
        touched = 1;
        /* the longest prefix already in the cache; at least one token is
         * evaluated so the logits belong to the last prompt position */
        size_t lim = chat->n_cached < n_ids - 1 ? chat->n_cached : n_ids - 1;
        if ((size_t)mono_context_n_past(chat->ctx) < lim) lim = (size_t)mono_context_n_past(chat->ctx);
        while (keep < lim && chat->cached[keep] == ids[keep]) keep++;
        st = mono_context_truncate(chat->ctx, (int)keep, err);
        if (st == MONO_OK) chat->n_cached = keep;
    }
    if (st == MONO_OK) { /* HF penalises the whole conversation */
        mono_sampler_history_clear(sampler);
        for (size_t i = 0; st == MONO_OK && i < n_ids; i++) st = mono_sampler_accept(sampler, ids[i], err);
    }
    if (st == MONO_OK) {
        mono_gen_params p = params ? *params : mono_gen_params_default();
        p.accept_prompt = 0;
        st = mono_generate(chat->ctx, chat->tok, sampler, ids + keep, n_ids - keep, &p, reply_emit, &sink, stats, &gen,
                           &n_gen, err);
        stats->n_cached = (int)keep;
    }
    size_t n_past = (size_t)mono_context_n_past(chat->ctx);
    /* cancelled before any reply: as if the message had not been sent */
    int answered = st == MONO_OK || (st == MONO_ERR_CANCELLED && (n_gen > 0 || sink.text.len > 0));
    if (answered) {
        size_t n_eval = n_past > n_ids ? n_past - n_ids : 0; /* sampled tokens now in the cache */
        if (n_eval > n_gen) n_eval = n_gen;
        mono_status s2 = cached_set(chat, ids, n_ids, gen, n_eval, err);
        if (s2 == MONO_OK && sink.nomem) s2 = mono_error_set(err, MONO_ERR_NOMEM, "chat: out of memory keeping the reply");
        if (s2 == MONO_OK) s2 = msg_push(chat, "assistant", sink.text.data ? sink.text.data : "", sink.text.len, err);
        if (s2 != MONO_OK) st = s2;
    } else {
        /* roll back: the conversation as before, the cache as far as it is known */
        msgs_truncate(chat, n_before);
        if (touched) {
            size_t valid = n_past < n_ids ? n_past : n_ids;
            if (mono_context_truncate(chat->ctx, (int)valid, NULL) != MONO_OK ||
                cached_set(chat, ids, valid, NULL, 0, NULL) != MONO_OK) {
                chat->n_cached = 0;
                mono_context_reset(chat->ctx);
            }
        }
    }
    mono_free(gen);
    mono_free(ids);
    mono_strbuf_free(&sink.text);
    return st;
}
