/*
 * json.c -- a strict recursive-descent JSON parser building a compact tree.
 *
 * Memory: nodes and decoded strings live in chunked arenas owned by the
 * document, so freeing is one walk over the chunk list. While parsing, the
 * children of open containers sit on a scratch stack; when a container
 * closes they are copied into the arena as one contiguous array, which keeps
 * lookups cache-friendly and the tree 32 bytes a node.
 */
#include "core/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define JSON_MAX_DEPTH 256

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} arena_chunk;

struct mono_json_doc {
    arena_chunk *chunks;
    mono_json root;
};

typedef struct parser {
    const unsigned char *p, *end, *begin;
    mono_json_doc *doc;
    mono_json *stack;        /* scratch: children of open containers */
    size_t stack_len, stack_cap;
    int depth;
    mono_error *err;
} parser;

static void *arena_alloc(mono_json_doc *doc, size_t size) {
    size = (size + 15) & ~(size_t)15;
    arena_chunk *c = doc->chunks;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > (1u << 20) ? size : (1u << 20);
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = doc->chunks;
        c->used = 0;
        c->cap = cap;
        doc->chunks = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    return p;
}

static mono_status fail(parser *ps, const char *what) {
    return mono_error_set(ps->err, MONO_ERR_FORMAT, "invalid JSON at byte %zu: %s",
                          (size_t)(ps->p - ps->begin), what);
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static mono_status push(parser *ps, const mono_json *node) {
    if (ps->stack_len == ps->stack_cap) {
        size_t cap = ps->stack_cap ? ps->stack_cap * 2 : 256;
        mono_json *ns = realloc(ps->stack, cap * sizeof *ns);
        if (!ns) return mono_error_set(ps->err, MONO_ERR_NOMEM, "JSON: out of memory");
        ps->stack = ns;
        ps->stack_cap = cap;
    }
    ps->stack[ps->stack_len++] = *node;
    return MONO_OK;
}

static int hex4(const unsigned char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = s[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

/* Length of the valid UTF-8 sequence at s (< end), or 0 if invalid. */
static size_t utf8_valid_len(const unsigned char *s, const unsigned char *end) {
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; min = 0x10000; }
    else return 0;
    if ((size_t)(end - s) < n) return 0;
    unsigned cp = c & (0x3F >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

static size_t put_utf8(unsigned char *o, unsigned cp) {
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) { o[0] = 0xC0 | (cp >> 6); o[1] = 0x80 | (cp & 0x3F); return 2; }
    if (cp < 0x10000) {
        o[0] = 0xE0 | (cp >> 12); o[1] = 0x80 | ((cp >> 6) & 0x3F); o[2] = 0x80 | (cp & 0x3F);
        return 3;
    }
    o[0] = 0xF0 | (cp >> 18); o[1] = 0x80 | ((cp >> 12) & 0x3F);
    o[2] = 0x80 | ((cp >> 6) & 0x3F); o[3] = 0x80 | (cp & 0x3F);
    return 4;
}

/* Parses a string starting at the opening quote; the decoded bytes never
 * outnumber the raw ones, so one arena block of the raw length suffices. */
static mono_status parse_string(parser *ps, const char **out, uint32_t *out_len) {
    const unsigned char *s = ++ps->p;  /* past '"' */
    const unsigned char *q = s;
    int simple = 1;
    while (q < ps->end && *q != '"') {
        if (*q == '\\') { simple = 0; q += 2; continue; }
        if (*q < 0x20) { ps->p = q; return fail(ps, "control character in string"); }
        if (*q >= 0x80) {
            size_t n = utf8_valid_len(q, ps->end);
            if (!n) { ps->p = q; return fail(ps, "invalid UTF-8 in string"); }
            q += n;
            continue;
        }
        q++;
    }
    if (q >= ps->end) return fail(ps, "unterminated string");
    size_t raw = (size_t)(q - s);
    if (raw > 0xFFFFFFFFu) return fail(ps, "string too long");
    unsigned char *o = arena_alloc(ps->doc, raw + 1);
    if (!o) return mono_error_set(ps->err, MONO_ERR_NOMEM, "JSON: out of memory");
    size_t n = 0;
    if (simple) {
        memcpy(o, s, raw);
        n = raw;
    } else {
        const unsigned char *r = s;
        while (r < q) {
            if (*r != '\\') { o[n++] = *r++; continue; }
            ps->p = r;
            unsigned char e = r[1];
            r += 2;
            switch (e) {
            case '"': o[n++] = '"'; break;
            case '\\': o[n++] = '\\'; break;
            case '/': o[n++] = '/'; break;
            case 'b': o[n++] = '\b'; break;
            case 'f': o[n++] = '\f'; break;
            case 'n': o[n++] = '\n'; break;
            case 'r': o[n++] = '\r'; break;
            case 't': o[n++] = '\t'; break;
            case 'u': {
                unsigned cp, lo;
                if (q - r < 4 || !hex4(r, &cp)) return fail(ps, "bad \\u escape");
                r += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(ps, "lone low surrogate");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (q - r < 6 || r[0] != '\\' || r[1] != 'u' || !hex4(r + 2, &lo) ||
                        lo < 0xDC00 || lo > 0xDFFF)
                        return fail(ps, "lone high surrogate");
                    r += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                n += put_utf8(o + n, cp);
                break;
            }
            default: return fail(ps, "bad escape");
            }
        }
    }
    o[n] = 0;
    ps->p = q + 1;
    *out = (const char *)o;
    *out_len = (uint32_t)n;
    return MONO_OK;
}

static mono_status parse_number(parser *ps, mono_json *node) {
    const unsigned char *s = ps->p, *q = s;
    int is_int = 1;
    if (q < ps->end && *q == '-') q++;
    if (q >= ps->end) return fail(ps, "bad number");
    if (*q == '0') q++;
    else if (*q >= '1' && *q <= '9') while (q < ps->end && *q >= '0' && *q <= '9') q++;
    else return fail(ps, "bad number");
    if (q < ps->end && *q == '.') {
        is_int = 0;
        q++;
        if (q >= ps->end || *q < '0' || *q > '9') { ps->p = q; return fail(ps, "bad fraction"); }
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        is_int = 0;
        q++;
        if (q < ps->end && (*q == '+' || *q == '-')) q++;
        if (q >= ps->end || *q < '0' || *q > '9') { ps->p = q; return fail(ps, "bad exponent"); }
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    char buf[64];
    size_t n = (size_t)(q - s);
    node->type = MONO_JSON_NUMBER;
    size_t digits = n - (*s == '-');
    if (is_int && digits <= 18) {  /* 18 digits always fit an int64 */
        int64_t v = 0;
        const unsigned char *d = s + (*s == '-');
        for (; d < q; d++) v = v * 10 + (*d - '0');
        node->u.integer = (*s == '-') ? -v : v;
        node->is_int = 1;
    } else {
        if (n >= sizeof buf) {
            /* very long literal: strtod needs a NUL-terminated copy */
            char *tmp = malloc(n + 1);
            if (!tmp) return mono_error_set(ps->err, MONO_ERR_NOMEM, "JSON: out of memory");
            memcpy(tmp, s, n);
            tmp[n] = 0;
            node->u.number = strtod(tmp, NULL);
            free(tmp);
        } else {
            memcpy(buf, s, n);
            buf[n] = 0;
            node->u.number = strtod(buf, NULL);
        }
        node->is_int = 0;
    }
    ps->p = q;
    return MONO_OK;
}

static int match_word(parser *ps, const char *w, size_t n) {
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n) != 0) return 0;
    ps->p += n;
    return 1;
}

static mono_status parse_value(parser *ps, mono_json *node);

/* Parses an array or object whose opening bracket is at ps->p. */
static mono_status parse_container(parser *ps, mono_json *node, int is_object) {
    unsigned char close = is_object ? '}' : ']';
    if (++ps->depth > JSON_MAX_DEPTH) return fail(ps, "nesting too deep");
    ps->p++;
    size_t base = ps->stack_len;
    mono_status st;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
    } else {
        for (;;) {
            mono_json child;
            memset(&child, 0, sizeof child);
            skip_ws(ps);
            if (is_object) {
                if (ps->p >= ps->end || *ps->p != '"') return fail(ps, "expected member name");
                if ((st = parse_string(ps, &child.key, &child.key_len)) != MONO_OK) return st;
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') return fail(ps, "expected ':'");
                ps->p++;
            }
            if ((st = parse_value(ps, &child)) != MONO_OK) return st;
            if ((st = push(ps, &child)) != MONO_OK) return st;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
            if (ps->p < ps->end && *ps->p == close) { ps->p++; break; }
            return fail(ps, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    size_t count = ps->stack_len - base;
    if (count > 0xFFFFFFFFu) return fail(ps, "container too large");
    node->type = is_object ? MONO_JSON_OBJECT : MONO_JSON_ARRAY;
    node->len = (uint32_t)count;
    node->u.items = NULL;
    if (count) {
        node->u.items = arena_alloc(ps->doc, count * sizeof(mono_json));
        if (!node->u.items) return mono_error_set(ps->err, MONO_ERR_NOMEM, "JSON: out of memory");
        memcpy(node->u.items, ps->stack + base, count * sizeof(mono_json));
    }
    ps->stack_len = base;
    ps->depth--;
    return MONO_OK;
}

static mono_status parse_value(parser *ps, mono_json *node) {
    skip_ws(ps);
    if (ps->p >= ps->end) return fail(ps, "unexpected end of input");
    switch (*ps->p) {
    case '{': return parse_container(ps, node, 1);
    case '[': return parse_container(ps, node, 0);
    case '"':
        node->type = MONO_JSON_STRING;
        return parse_string(ps, &node->u.str, &node->len);
    case 't':
        if (!match_word(ps, "true", 4)) return fail(ps, "bad literal");
        node->type = MONO_JSON_BOOL; node->u.boolean = 1;
        return MONO_OK;
    case 'f':
        if (!match_word(ps, "false", 5)) return fail(ps, "bad literal");
        node->type = MONO_JSON_BOOL; node->u.boolean = 0;
        return MONO_OK;
    case 'n':
        if (!match_word(ps, "null", 4)) return fail(ps, "bad literal");
        node->type = MONO_JSON_NULL;
        return MONO_OK;
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) return parse_number(ps, node);
        return fail(ps, "unexpected character");
    }
}

mono_status mono_json_parse(const char *text, size_t len, mono_json_doc **out, mono_error *err) {
    *out = NULL;
    if (!text && len) return mono_error_set(err, MONO_ERR_INVALID_ARG, "JSON: NULL text");
    mono_json_doc *doc = calloc(1, sizeof *doc);
    if (!doc) return mono_error_set(err, MONO_ERR_NOMEM, "JSON: out of memory");
    parser ps = {0};
    ps.begin = ps.p = (const unsigned char *)(text ? text : "");
    ps.end = ps.p + len;
    ps.doc = doc;
    ps.err = err;
    /* a UTF-8 byte order mark is tolerated, as serde_json does not but many
     * editors write it; nothing else before the value is */
    if (len >= 3 && memcmp(ps.p, "\xEF\xBB\xBF", 3) == 0) ps.p += 3;
    mono_status st = parse_value(&ps, &doc->root);
    if (st == MONO_OK) {
        skip_ws(&ps);
        if (ps.p != ps.end) st = fail(&ps, "trailing characters after the value");
    }
    free(ps.stack);
    if (st != MONO_OK) {
        mono_json_doc_free(doc);
        return st;
    }
    *out = doc;
    return MONO_OK;
}

void mono_json_doc_free(mono_json_doc *doc) {
    if (!doc) return;
    arena_chunk *c = doc->chunks;
    while (c) {
        arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    free(doc);
}

const mono_json *mono_json_root(const mono_json_doc *doc) { return doc ? &doc->root : NULL; }

const mono_json *mono_json_get(const mono_json *obj, const char *key) {
    if (!obj || obj->type != MONO_JSON_OBJECT) return NULL;
    size_t klen = strlen(key);
    /* last one wins on duplicates, as in serde_json's map deserialisation */
    for (uint32_t i = obj->len; i-- > 0;) {
        const mono_json *m = &obj->u.items[i];
        if (m->key_len == klen && memcmp(m->key, key, klen) == 0) return m;
    }
    return NULL;
}

const mono_json *mono_json_get_typed(const mono_json *obj, const char *key, mono_json_type type) {
    const mono_json *m = mono_json_get(obj, key);
    return (m && m->type == type) ? m : NULL;
}

int mono_json_as_int64(const mono_json *node, int64_t *out) {
    if (!node || node->type != MONO_JSON_NUMBER) return 0;
    if (node->is_int) { *out = node->u.integer; return 1; }
    double d = node->u.number;
    if (!(d >= -9.2e18 && d <= 9.2e18) || floor(d) != d) return 0;
    *out = (int64_t)d;
    return 1;
}

int mono_json_as_double(const mono_json *node, double *out) {
    if (!node || node->type != MONO_JSON_NUMBER) return 0;
    *out = node->is_int ? (double)node->u.integer : node->u.number;
    return 1;
}

const char *mono_json_type_name(int type) {
    static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};
    return (type >= 0 && type <= MONO_JSON_OBJECT) ? names[type] : "?";
}

void mono_json_write_string(FILE *f, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (c < 0x20) {
                fputs("\\u00", f);
                fputc(hex[c >> 4], f);
                fputc(hex[c & 15], f);
            } else {
                fputc(c, f);
            }
        }
    }
    fputc('"', f);
}
