/*
 * chat.h -- private pieces of the chat layer: a growable byte buffer the
 * formatter and the generation loop share, and UTF-8 validation.
 */
#ifndef MONO_RUNTIME_CHAT_H
#define MONO_RUNTIME_CHAT_H

#include <stddef.h>

#include "monologue.h"
#include "tokenizer/utf8.h"

typedef struct mono_strbuf {
    char *data;   /* NUL-terminated when non-NULL */
    size_t len, cap;
} mono_strbuf;

/* Appends n bytes (0 on out-of-memory or overflow, 1 on success). */
int mono_strbuf_append(mono_strbuf *b, const char *s, size_t n);
int mono_strbuf_puts(mono_strbuf *b, const char *s);
void mono_strbuf_free(mono_strbuf *b);

/* mono_utf8_valid_prefix (the strict UTF-8 check of messages and stop
 * strings) comes from tokenizer/utf8.h. */

/* 1 for the roles the templates know: system, user, assistant, tool. */
int mono_chat_role_known(const char *role);

#endif
