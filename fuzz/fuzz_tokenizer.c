/*
 * fuzz_tokenizer.c -- libFuzzer target for the tokenizer. The first byte
 * picks what the rest is:
 *   0-31    a tokenizer.json: loading must fail with a message or give a
 *           tokenizer that encodes and decodes a fixed text within bounds;
 *   32-63   the same for a GGUF file's tokenizer.ggml.* metadata;
 *   64-255  text for two fixed small tokenizers (built once): A (Qwen2
 *           split, no normalizer, added tokens) must give decode_bytes(
 *           encode(x)) == x exactly; B (GPT-2 regex, NFC, prefix space,
 *           lstrip/rstrip tokens) must give in-range ids. For both, the
 *           streaming decoder must equal the one-shot decode and emit only
 *           valid UTF-8; for A the pieces must concatenate to the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monologue.h"
#include "tokenizer/utf8.h"

/* A byte-level vocabulary (the 256 GPT-2 alphabet characters), a few
 * merges and added tokens, around the given pre_tokenizer/normalizer. */
static char *small_json(const char *normalizer, const char *pretok, const char *added) {
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap);
    if (!s) abort();
    n += (size_t)snprintf(s + n, cap - n, "{\"added_tokens\":[%s],\"normalizer\":%s,\"pre_tokenizer\":%s,"
                          "\"decoder\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"BPE\",\"vocab\":{", added, normalizer, pretok);
    for (int b = 0; b < 256; b++) {
        uint32_t cp = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174 ? (uint32_t)b
                      : b <= 32 ? 256u + (uint32_t)b : b <= 160 ? 256u + 33 + (uint32_t)(b - 127) : 256u + 67;
        uint8_t u[4];
        size_t k = mono_utf8_encode(cp, u);
        s[n++] = '"';
        if (cp == '"' || cp == '\\') s[n++] = '\\';
        memcpy(s + n, u, k);
        n += k;
        n += (size_t)snprintf(s + n, cap - n, "\":%d,", b);
    }
    n += (size_t)snprintf(s + n, cap - n, "\"\xc4\xa0t\":256,\"he\":257,\"\xc4\xa0the\":258,\"in\":259,\"\xc3\x83\xc2\xa9\":260,"
                          "\"\xc4\xa0\xc4\xa0\":261},\"merges\":[\"\xc4\xa0 t\",\"h e\",\"\xc4\xa0t he\",\"i n\",\"\xc3\x83 \xc2\xa9\","
                          "\"\xc4\xa0 \xc4\xa0\"]}}");
    return s;
}

#define QWEN_SPLIT                                                                                                    \
    "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|" \
    "[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|"     \
    "\\\\s+(?!\\\\S)|\\\\s+\"},\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\","                   \
    "\"add_prefix_space\":false,\"use_regex\":false}]}"

static mono_tokenizer *fixed(int which) {
    static mono_tokenizer *tok[2];   /* built once per process: read-only after */
    if (!tok[which]) {
        char *js = which == 0
            ? small_json("null", QWEN_SPLIT,
                         "{\"id\":262,\"content\":\"<|end|>\",\"special\":true,\"normalized\":false},"
                         "{\"id\":263,\"content\":\"<tool>\",\"special\":false,\"normalized\":false},"
                         "{\"id\":264,\"content\":\"cat\",\"single_word\":true,\"normalized\":false}")
            : small_json("{\"type\":\"NFC\"}", "{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"use_regex\":true}",
                         "{\"id\":262,\"content\":\"[M]\",\"lstrip\":true,\"rstrip\":true,\"special\":true},"
                         "{\"id\":263,\"content\":\"\xc3\x85\",\"normalized\":true},"
                         "{\"id\":264,\"content\":\"dog\",\"single_word\":true,\"lstrip\":true,\"normalized\":true}");
        mono_error err;
        if (mono_tokenizer_load_json_bytes(js, strlen(js), &tok[which], &err) != MONO_OK) {
            fprintf(stderr, "fixed tokenizer %d: %s\n", which, err.message);
            abort();
        }
        free(js);
    }
    return tok[which];
}

static void check_valid_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = mono_utf8_decode((const uint8_t *)s + i, n - i, &cp);
        if (!k) abort();
        i += k;
    }
}

static void check_stream(const mono_tokenizer *tok, const int32_t *ids, size_t n) {
    char *whole;
    size_t wlen;
    if (mono_tokenizer_decode(tok, ids, n, &whole, &wlen, NULL) != MONO_OK) abort();
    check_valid_utf8(whole, wlen);
    mono_detok *d;
    if (mono_detok_init(tok, &d, NULL) != MONO_OK) abort();
    size_t off = 0;
    for (size_t i = 0; i <= n; i++) {
        const char *txt;
        size_t len;
        mono_status st = i < n ? mono_detok_push(d, ids[i], &txt, &len, NULL) : mono_detok_flush(d, &txt, &len, NULL);
        if (st != MONO_OK || off + len > wlen || memcmp(whole + off, txt, len)) abort();
        check_valid_utf8(txt, len);
        off += len;
    }
    if (off != wlen) abort();
    mono_detok_free(d);
    mono_free(whole);
}

typedef struct piece_acc {
    char *buf;
    size_t len, cap;
} piece_acc;

static void on_piece(void *user, const char *p, size_t n, int32_t added_id) {
    piece_acc *a = user;
    (void)added_id;
    if (a->len + n > a->cap) {
        a->cap = (a->len + n) * 2 + 64;
        a->buf = realloc(a->buf, a->cap);
        if (!a->buf) abort();
    }
    memcpy(a->buf + a->len, p, n);
    a->len += n;
}

static void check_text(const mono_tokenizer *tok, const char *s, size_t n, unsigned flags, int exact) {
    int32_t *ids;
    size_t k;
    if (mono_tokenizer_encode(tok, s, n, flags, &ids, &k, NULL) != MONO_OK) abort();
    for (size_t i = 0; i < k; i++)
        if (ids[i] < 0 || ids[i] >= mono_tokenizer_n_vocab(tok)) abort();
    char *back;
    size_t blen;
    if (mono_tokenizer_decode_bytes(tok, ids, k, &back, &blen, NULL) != MONO_OK) abort();
    if (exact && (blen != n || memcmp(back, s, n))) abort();
    if (!exact) {
        check_stream(tok, ids, k);
        mono_free(back);
        mono_free(ids);
        return;
    }
    /* the pieces, concatenated, are exactly what the ids decode to (where
     * added tokens are ASCII and every byte has a token, as in A) */
    mono_encoder *e;
    piece_acc acc = {0};
    if (mono_encoder_init(tok, &e, NULL) != MONO_OK) abort();
    if (mono_encoder_pieces(e, s, n, flags, on_piece, &acc, NULL) != MONO_OK) abort();
    if (acc.len != blen || (blen && memcmp(acc.buf, back, blen))) abort();
    mono_encoder_free(e);
    free(acc.buf);
    check_stream(tok, ids, k);
    mono_free(back);
    mono_free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] < 64) {
        mono_tokenizer *tok = NULL;
        mono_error err;
        err.message[0] = 0;
        mono_status st = data[0] < 32 ? mono_tokenizer_load_json_bytes(rest, n, &tok, &err)
                                      : mono_tokenizer_load_gguf_bytes(rest, n, &tok, &err);
        if (st != MONO_OK) {
            if (tok || !err.message[0]) abort();
            return 0;
        }
        const char *text = "Hello <|im_end|> w\xc3\xb6rld \xff 12 'S\n\n";
        check_text(tok, text, strlen(text), 0, 0);
        check_text(tok, text, strlen(text), MONO_ENCODE_SPECIAL_AS_TEXT, 0);
        mono_tokenizer_free(tok);
        return 0;
    }
    unsigned flags = (data[0] & 1) ? MONO_ENCODE_SPECIAL_AS_TEXT : 0;
    check_text(fixed(0), rest, n, flags, 1);
    check_text(fixed(1), rest, n, flags, 0);
    return 0;
}
