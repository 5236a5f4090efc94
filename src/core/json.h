/*
 * json.h -- the project's own small, strict JSON parser (RFC 8259) and a few
 * writing helpers.
 *
 * Used for tokenizer.json, config.json, generation_config.json and
 * safetensors headers, all of which may be hostile: the parser validates
 * UTF-8, rejects lone surrogates, trailing commas, comments, leading zeros,
 * duplicate-free is NOT enforced (callers that care check), limits nesting
 * depth, and never reads past the given length. The input need not be
 * NUL-terminated.
 *
 * The whole document becomes a tree of mono_json nodes held in one
 * mono_json_doc; strings are decoded (escapes resolved), NUL-terminated, and
 * may contain NUL bytes (use len).
 */
#ifndef MONO_CORE_JSON_H
#define MONO_CORE_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "monologue.h"

typedef enum mono_json_type {
    MONO_JSON_NULL = 0,
    MONO_JSON_BOOL,
    MONO_JSON_NUMBER,
    MONO_JSON_STRING,
    MONO_JSON_ARRAY,
    MONO_JSON_OBJECT
} mono_json_type;

typedef struct mono_json mono_json;
struct mono_json {
    const char *key;        /* member name when the parent is an object, else NULL */
    union {
        double number;      /* MONO_JSON_NUMBER and !is_int */
        int64_t integer;    /* MONO_JSON_NUMBER and is_int (exact) */
        int boolean;        /* MONO_JSON_BOOL */
        const char *str;    /* MONO_JSON_STRING: decoded, NUL-terminated */
        mono_json *items;   /* MONO_JSON_ARRAY / OBJECT: [len] children */
    } u;
    uint32_t len;           /* string bytes, or number of children */
    uint32_t key_len;
    uint8_t type;           /* mono_json_type */
    uint8_t is_int;         /* number written without fraction/exponent, fits int64 */
};

typedef struct mono_json_doc mono_json_doc;

/* Parses [text, text+len). On failure the message names the byte offset. */
mono_status mono_json_parse(const char *text, size_t len, mono_json_doc **out, mono_error *err);
void mono_json_doc_free(mono_json_doc *doc);
const mono_json *mono_json_root(const mono_json_doc *doc);

/* Lookups; each returns NULL when absent or when node is not an object. */
const mono_json *mono_json_get(const mono_json *obj, const char *key);
/* Like mono_json_get, but NULL also when the member has the wrong type. */
const mono_json *mono_json_get_typed(const mono_json *obj, const char *key, mono_json_type type);

/* Numeric views: return 1 and store the value when node is a number that is
 * representable (an integer for _int64), else 0. */
int mono_json_as_int64(const mono_json *node, int64_t *out);
int mono_json_as_double(const mono_json *node, double *out);

const char *mono_json_type_name(int type);

/* Writes s[0..len) as a JSON string literal (with quotes), escaping control
 * characters, '"' and '\\'. Bytes >= 0x80 are copied as they are: callers
 * pass valid UTF-8. */
void mono_json_write_string(FILE *f, const char *s, size_t len);

#endif
