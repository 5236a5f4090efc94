/*
 * chat.c -- chat templates: renders a conversation the way Qwen2.5's
 * Jinja chat template does (no tools), or as plain ChatML.
 *
 * The Qwen2.5 template, reduced to its no-tools branch:
 *   - messages[0] is a system message: "<|im_start|>system\n" + content +
 *     "<|im_end|>\n"; otherwise the default system prompt in that frame.
 *   - user, assistant and later system messages: "<|im_start|>" + role +
 *     "\n" + content + "<|im_end|>\n".
 *   - a run of tool messages: one "<|im_start|>user" frame holding
 *     "\n<tool_response>\n" + content + "\n</tool_response>" per message,
 *     closed by "<|im_end|>\n".
 *   - add_generation_prompt: "<|im_start|>assistant\n".
 * The session object (mono_chat) lives in chat_session.c.
 */
#include "runtime/chat.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tokenizer/utf8.h"

#define QWEN2_DEFAULT_SYSTEM "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

int mono_strbuf_append(mono_strbuf *b, const char *s, size_t n) {
    size_t need;
    if (!mono_size_add(b->len, n, &need) || !mono_size_add(need, 1, &need)) return 0;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need) {
            if (!mono_size_mul(cap, 2, &cap)) return 0;
        }
        char *d = realloc(b->data, cap);
        if (!d) return 0;
        b->data = d;
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 1;
}

int mono_strbuf_puts(mono_strbuf *b, const char *s) { return mono_strbuf_append(b, s, strlen(s)); }

void mono_strbuf_free(mono_strbuf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int mono_chat_role_known(const char *role) {
    return role && (!strcmp(role, "system") || !strcmp(role, "user") || !strcmp(role, "assistant") ||
                    !strcmp(role, "tool"));
}

static int is_role(const mono_chat_message *m, const char *role) { return !strcmp(m->role, role); }

/* "<|im_start|>" role "\n" content "<|im_end|>\n" */
static int put_turn(mono_strbuf *b, const char *role, const char *content) {
    return mono_strbuf_puts(b, "<|im_start|>") && mono_strbuf_puts(b, role) && mono_strbuf_puts(b, "\n") &&
           mono_strbuf_puts(b, content) && mono_strbuf_puts(b, "<|im_end|>\n");
}

static int render(mono_strbuf *b, mono_chat_template tmpl, const mono_chat_message *m, size_t n, int add_gen) {
    size_t first = 0;
    if (tmpl == MONO_CHAT_QWEN2) {
        if (n > 0 && is_role(&m[0], "system")) {
            if (!put_turn(b, "system", m[0].content)) return 0;
            first = 1;
        } else if (!put_turn(b, "system", QWEN2_DEFAULT_SYSTEM)) {
            return 0;
        }
    }
    for (size_t i = first; i < n; i++) {
        if (is_role(&m[i], "tool")) {
            if (i == 0 || !is_role(&m[i - 1], "tool"))
                if (!mono_strbuf_puts(b, "<|im_start|>user")) return 0;
            if (!mono_strbuf_puts(b, "\n<tool_response>\n") || !mono_strbuf_puts(b, m[i].content) ||
                !mono_strbuf_puts(b, "\n</tool_response>"))
                return 0;
            if (i + 1 == n || !is_role(&m[i + 1], "tool"))
                if (!mono_strbuf_puts(b, "<|im_end|>\n")) return 0;
        } else if (!put_turn(b, m[i].role, m[i].content)) {
            return 0;
        }
    }
    return !add_gen || mono_strbuf_puts(b, "<|im_start|>assistant\n");
}

mono_status mono_chat_format(mono_chat_template tmpl, const mono_chat_message *messages, size_t n,
                             int add_generation_prompt, char **out, size_t *out_len, mono_error *err) {
    if (!out) return mono_error_set(err, MONO_ERR_INVALID_ARG, "chat: out is NULL");
    *out = NULL;
    if (out_len) *out_len = 0;
    if (tmpl != MONO_CHAT_QWEN2 && tmpl != MONO_CHAT_CHATML)
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "chat: unknown template %d", (int)tmpl);
    if (n && !messages) return mono_error_set(err, MONO_ERR_INVALID_ARG, "chat: messages is NULL");
    for (size_t i = 0; i < n; i++) {
        if (!mono_chat_role_known(messages[i].role))
            return mono_error_set(err, MONO_ERR_INVALID_ARG,
                                  "chat: message %zu has role '%.40s' (expected system, user, assistant or tool)", i,
                                  messages[i].role ? messages[i].role : "(null)");
        if (!messages[i].content)
            return mono_error_set(err, MONO_ERR_INVALID_ARG, "chat: message %zu (%s) has no content", i,
                                  messages[i].role);
        size_t len = strlen(messages[i].content), ok = mono_utf8_valid_prefix(messages[i].content, len);
        if (ok != len)
            return mono_error_set(err, MONO_ERR_INVALID_ARG,
                                  "chat: message %zu (%s) is not valid UTF-8 (bad byte 0x%02x at offset %zu)", i,
                                  messages[i].role, (unsigned)(uint8_t)messages[i].content[ok], ok);
    }
    mono_strbuf b = {0};
    if (!render(&b, tmpl, messages, n, add_generation_prompt) || (!b.data && !mono_strbuf_append(&b, "", 0))) {
        mono_strbuf_free(&b);
        return mono_error_set(err, MONO_ERR_NOMEM, "chat: out of memory formatting %zu messages", n);
    }
    *out = b.data;
    if (out_len) *out_len = b.len;
    return MONO_OK;
}
