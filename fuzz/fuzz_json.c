/*
 * fuzz_json.c -- libFuzzer target for the strict JSON parser (src/core/json.c).
 * Arbitrary bytes either fail with a message or give a tree whose every
 * node is consistent: strings are valid UTF-8 of the stated length and
 * survive mono_json_write_string + re-parsing unchanged, numbers marked
 * is_int convert exactly, lookups find what iteration finds.
 */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "tokenizer/utf8.h"

static void check_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = mono_utf8_decode((const uint8_t *)s + i, n - i, &cp);
        if (!k) abort();
        i += k;
    }
}

/* Writes s as a JSON literal, parses it back, and compares. */
static void check_string_round_trip(const char *s, size_t n) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return;
    mono_json_write_string(f, s, n);
    fclose(f);
    mono_json_doc *doc;
    if (mono_json_parse(buf, len, &doc, NULL) != MONO_OK) abort();
    const mono_json *r = mono_json_root(doc);
    if (r->type != MONO_JSON_STRING || r->len != n || memcmp(r->u.str, s, n) || r->u.str[n] != 0) abort();
    mono_json_doc_free(doc);
    free(buf);
}

static void walk(const mono_json *j, int depth) {
    if (depth > 300) abort();   /* the parser limits nesting */
    switch (j->type) {
    case MONO_JSON_STRING:
        check_utf8(j->u.str, j->len);
        check_string_round_trip(j->u.str, j->len);
        break;
    case MONO_JSON_NUMBER: {
        int64_t iv;
        double dv;
        if (j->is_int && (!mono_json_as_int64(j, &iv) || iv != j->u.integer)) abort();
        if (!mono_json_as_double(j, &dv)) abort();
        break;
    }
    case MONO_JSON_BOOL:
        if (j->u.boolean != 0 && j->u.boolean != 1) abort();
        break;
    case MONO_JSON_ARRAY:
    case MONO_JSON_OBJECT:
        for (uint32_t i = 0; i < j->len; i++) {
            const mono_json *c = &j->u.items[i];
            if (j->type == MONO_JSON_OBJECT) {
                if (!c->key) abort();
                check_utf8(c->key, c->key_len);
                /* the first member with this key (keys may repeat) */
                const mono_json *found = strlen(c->key) == c->key_len ? mono_json_get(j, c->key) : c;
                if (!found) abort();
            } else if (c->key) {
                abort();
            }
            walk(c, depth + 1);
        }
        break;
    case MONO_JSON_NULL:
        break;
    default:
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mono_json_doc *doc = NULL;
    mono_error err;
    err.message[0] = 0;
    if (mono_json_parse((const char *)data, size, &doc, &err) != MONO_OK) {
        if (!err.message[0] || doc) abort();
        return 0;
    }
    walk(mono_json_root(doc), 0);
    mono_json_doc_free(doc);
    return 0;
}
