/*
 * test_tokenizer_edge.c -- the tokenizer on everything but the happy path:
 * malformed and unsupported tokenizer.json files (clear errors, no crash,
 * every truncation of a valid file), invalid UTF-8 (round trip through
 * decode_bytes, HF-style U+FFFD in decode), the streaming decoder on
 * characters split across tokens, ignore_merges / unk / prefix space, the
 * GGUF loader giving the same ids as the JSON one, and two threads sharing
 * one tokenizer.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>

#include "core/file.h"
#include "core/json.h"
#include "formats/gguf_write.h"
#include "monologue.h"
#include "test.h"
#include "tokenizer/utf8.h"

/* A complete byte-level vocabulary (the 256 GPT-2 alphabet characters) plus
 * a few merges, as JSON text; %s slots: extra vocab, merges, added tokens,
 * model options, pre_tokenizer. */
static char *small_json(const char *extra_vocab, const char *merges, const char *added, const char *model_opts,
                        const char *pretok) {
    size_t cap = 1 << 16;
    char *s = malloc(cap);
    size_t n = 0;
    n += (size_t)snprintf(s + n, cap - n, "{\"version\":\"1.0\",\"added_tokens\":[%s],\"normalizer\":{\"type\":\"NFC\"},"
                                          "\"pre_tokenizer\":%s,\"decoder\":{\"type\":\"ByteLevel\"},"
                                          "\"model\":{\"type\":\"BPE\"%s,\"vocab\":{",
                          added, pretok, model_opts);
    for (int b = 0; b < 256; b++) {
        uint32_t cp = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174 ? (uint32_t)b
                      : b <= 32                                                 ? 256u + (uint32_t)b
                      : b <= 160                                                ? 256u + 33 + (uint32_t)(b - 127)
                                                                                : 256u + 67;
        uint8_t u[4];
        size_t k = mono_utf8_encode(cp, u);
        s[n++] = '"';
        if (cp == '"' || cp == '\\') s[n++] = '\\';
        memcpy(s + n, u, k);
        n += k;
        n += (size_t)snprintf(s + n, cap - n, "\":%d,", b);
    }
    n += (size_t)snprintf(s + n, cap - n, "%s", extra_vocab);
    if (s[n - 1] == ',') n--;
    n += (size_t)snprintf(s + n, cap - n, "},\"merges\":[%s]}}", merges);
    return s;
}

#define QWEN_SPLIT                                                                                                    \
    "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|" \
    "[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|"     \
    "\\\\s+(?!\\\\S)|\\\\s+\"},\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\","                   \
    "\"add_prefix_space\":false,\"use_regex\":false}]}"
#define GPT2_BL "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true}"
#define GPT2_BL_APS "{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"use_regex\":true}"

static mono_tokenizer *load_str(const char *json, mono_status want, const char *want_msg, mt_ctx *t) {
    mono_tokenizer *tok = NULL;
    mono_error err;
    memset(&err, 0, sizeof err);
    mono_status st = mono_tokenizer_load_json_bytes(json, strlen(json), &tok, &err);
    MT_CHECK_MSG(t, st == want, "status %s (%s), wanted %s", mono_status_name(st), err.message, mono_status_name(want));
    if (want_msg) MT_CHECK_MSG(t, strstr(err.message, want_msg) != NULL, "message '%s' lacks '%s'", err.message, want_msg);
    if (st != MONO_OK) {
        MT_CHECK(t, tok == NULL && err.message[0]);
        return NULL;
    }
    return tok;
}

static void check_malformed(mt_ctx *t) {
    struct {
        const char *vocab, *merges, *added, *opts, *pretok;
        mono_status st;
        const char *msg;
    } cases[] = {
        {"\"ab\":256,", "\"a b\"", "", "", QWEN_SPLIT, MONO_OK, NULL},
        {"\"ab\":256,", "[\"a\",\"b\"]", "", "", QWEN_SPLIT, MONO_OK, NULL},
        {"\"ab\":256,", "\"a zz\"", "", "", QWEN_SPLIT, MONO_ERR_FORMAT, "'zz' is not in the vocabulary"},
        {"", "\"a b\"", "", "", QWEN_SPLIT, MONO_ERR_FORMAT, "merged token"},
        {"\"ab\":256,", "\"ab\"", "", "", QWEN_SPLIT, MONO_ERR_FORMAT, "two tokens"},
        {"\"ab\":256,", "[\"a\"]", "", "", QWEN_SPLIT, MONO_ERR_FORMAT, "merge 0"},
        {"\"ab\":255,", "", "", "", QWEN_SPLIT, MONO_ERR_FORMAT, "duplicate token id 255"},
        {"\"ab\":-1,", "", "", "", QWEN_SPLIT, MONO_ERR_FORMAT, "'ab'"},
        {"\"ab\":1.5,", "", "", "", QWEN_SPLIT, MONO_ERR_FORMAT, "'ab'"},
        {"\"ab\":\"x\",", "", "", "", QWEN_SPLIT, MONO_ERR_FORMAT, "'ab'"},
        {"\"ab\":99999999999,", "", "", "", QWEN_SPLIT, MONO_ERR_FORMAT, "'ab'"},
        {"\"ab\":5000000,", "", "", "", QWEN_SPLIT, MONO_ERR_FORMAT, "far beyond"},
        {"\"ab\":600,", "", "", "", QWEN_SPLIT, MONO_OK, NULL},   /* a few holes are fine */
        {"", "", "{\"content\":\"<s>\"}", "", QWEN_SPLIT, MONO_ERR_FORMAT, "added token"},
        {"", "", "{\"id\":300,\"content\":7}", "", QWEN_SPLIT, MONO_ERR_FORMAT, "content"},
        {"", "", "{\"id\":300,\"content\":\"<s>\",\"special\":\"yes\"}", "", QWEN_SPLIT, MONO_ERR_FORMAT, "boolean"},
        {"", "", "", ",\"dropout\":0.1", QWEN_SPLIT, MONO_ERR_UNSUPPORTED, "dropout"},
        {"", "", "", ",\"byte_fallback\":true", QWEN_SPLIT, MONO_ERR_UNSUPPORTED, "byte_fallback"},
        {"", "", "", ",\"continuing_subword_prefix\":\"##\"", QWEN_SPLIT, MONO_ERR_UNSUPPORTED, "continuing_subword_prefix"},
        {"", "", "", ",\"unk_token\":\"<unk>\"", QWEN_SPLIT, MONO_ERR_FORMAT, "unk_token"},
        {"", "", "", "", "{\"type\":\"Whitespace\"}", MONO_ERR_UNSUPPORTED, "Whitespace"},
        {"", "", "", "", "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\d+\"},"
                         "\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\"}]}",
         MONO_ERR_UNSUPPORTED, "unknown regex"},
        {"", "", "", "", "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"String\":\" \"},"
                         "\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\"}]}",
         MONO_ERR_UNSUPPORTED, "Regex"},
        {"", "", "", "", "null", MONO_ERR_UNSUPPORTED, "pre_tokenizer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *js = small_json(cases[i].vocab, cases[i].merges, cases[i].added, cases[i].opts, cases[i].pretok);
        mono_tokenizer *tok = load_str(js, cases[i].st, cases[i].msg, t);
        mono_tokenizer_free(tok);
        free(js);
    }
    const char *whole[][3] = {
        {"", "format", ""},
        {"[]", "format", "not a JSON object"},
        {"{}", "format", "no \"model\""},
        {"{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}", "unsupported", "WordPiece"},
        {"{\"model\":{\"type\":\"Bogus\",\"vocab\":{}}}", "format", "unknown model type \"Bogus\""},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":[],\"merges\":[]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"},"
         "\"decoder\":{\"type\":\"ByteLevel\"}}", "format", "vocab"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"},"
         "\"decoder\":{\"type\":\"ByteLevel\"}}", "format", "empty"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"},"
         "\"decoder\":{\"type\":\"WordPiece\"}}", "unsupported", "decoder"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"normalizer\":{\"type\":\"Lowercase\"},"
         "\"pre_tokenizer\":{\"type\":\"ByteLevel\"},\"decoder\":{\"type\":\"ByteLevel\"}}", "unsupported", "Lowercase"},
    };
    for (size_t i = 0; i < sizeof whole / sizeof *whole; i++) {
        mono_tokenizer *tok = NULL;
        mono_error err;
        mono_status st = mono_tokenizer_load_json_bytes(whole[i][0], strlen(whole[i][0]), &tok, &err);
        MT_CHECK_MSG(t, st != MONO_OK && !strcmp(mono_status_name(st), mono_status_name(
                         !strcmp(whole[i][1], "format") ? MONO_ERR_FORMAT : MONO_ERR_UNSUPPORTED)),
                     "case %zu: %s", i, err.message);
        MT_CHECK_MSG(t, strstr(err.message, whole[i][2]) != NULL, "case %zu: '%s' lacks '%s'", i, err.message, whole[i][2]);
        mono_tokenizer_free(tok);
    }
    /* every truncation of a valid file fails cleanly */
    char *js = small_json("\"ab\":256,", "\"a b\"", "{\"id\":257,\"content\":\"<s>\",\"special\":true}", "", QWEN_SPLIT);
    size_t len = strlen(js);
    int all_failed = 1;
    for (size_t cut = 0; cut < len; cut += 7) {
        mono_tokenizer *tok = NULL;
        if (mono_tokenizer_load_json_bytes(js, cut, &tok, NULL) == MONO_OK) all_failed = 0;
        mono_tokenizer_free(tok);
    }
    MT_CHECK(t, all_failed);
    free(js);
    mono_tokenizer *tok = NULL;
    mono_error err;
    MT_CHECK(t, mono_tokenizer_load("/nonexistent/tokenizer.json", &tok, &err) == MONO_ERR_IO && tok == NULL);
    MT_CHECK(t, strstr(err.message, "/nonexistent/tokenizer.json") != NULL);
}

static int encode_eq(const mono_tokenizer *tok, const char *s, size_t n, unsigned flags, const int32_t *want, size_t wn) {
    int32_t *ids;
    size_t k;
    if (mono_tokenizer_encode(tok, s, n, flags, &ids, &k, NULL) != MONO_OK) return 0;
    int ok = k == wn && (!k || !memcmp(ids, want, k * sizeof *ids));
    if (!ok) {
        fprintf(stderr, "    got:");
        for (size_t i = 0; i < k; i++) fprintf(stderr, " %d", ids[i]);
        fprintf(stderr, "\n");
    }
    mono_free(ids);
    return ok;
}

static void check_invalid_utf8(mt_ctx *t, const mono_tokenizer *tok) {
    const char *inputs[] = {"\xff", "a\xc3", "\xe2\x82", "\xed\xa0\x80x", "\xf0\x9f\x98", "caf\xc3\xa9\xff\xfe ok",
                            "\xc0\x80", "\xf4\x90\x80\x80", "ab\x80\x80\x80 cd", "<s>\xff<s>"};
    for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
        const char *s = inputs[i];
        int32_t *ids;
        size_t n;
        char *back;
        size_t blen;
        MT_CHECK(t, mono_tokenizer_encode(tok, s, strlen(s), 0, &ids, &n, NULL) == MONO_OK);
        MT_CHECK(t, mono_tokenizer_decode_bytes(tok, ids, n, &back, &blen, NULL) == MONO_OK);
        MT_CHECK_MSG(t, blen == strlen(s) && !memcmp(back, s, blen), "round trip of input %zu", i);
        mono_free(back);
        mono_free(ids);
    }
    /* lossy decode = Rust's from_utf8_lossy: one U+FFFD per maximal invalid subpart */
    struct { const char *in, *out; } lossy[] = {
        {"\xff", "\xef\xbf\xbd"},
        {"\xe2\x82", "\xef\xbf\xbd"},
        {"\xe2\x82x", "\xef\xbf\xbdx"},
        {"\xf0\x9f\x98" "a", "\xef\xbf\xbd" "a"},
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xc0\x80", "\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"a\xc3\xa9\x80", "a\xc3\xa9\xef\xbf\xbd"},
    };
    for (size_t i = 0; i < sizeof lossy / sizeof *lossy; i++) {
        int32_t ids[8];
        size_t n = strlen(lossy[i].in);
        for (size_t j = 0; j < n; j++) ids[j] = (uint8_t)lossy[i].in[j];   /* byte b has id b here */
        char *out;
        size_t len;
        MT_CHECK(t, mono_tokenizer_decode(tok, ids, n, &out, &len, NULL) == MONO_OK);
        MT_CHECK_MSG(t, len == strlen(lossy[i].out) && !memcmp(out, lossy[i].out, len), "lossy case %zu", i);
        mono_free(out);
    }
}

/* Streams ids through a mono_detok; checks every emission is valid UTF-8
 * and that the whole equals mono_tokenizer_decode. */
static int stream_matches(const mono_tokenizer *tok, const int32_t *ids, size_t n) {
    mono_detok *d;
    if (mono_detok_init(tok, &d, NULL) != MONO_OK) return 0;
    char acc[1024];
    size_t alen = 0;
    int ok = 1;
    for (size_t i = 0; i <= n && ok; i++) {
        const char *txt;
        size_t len;
        mono_status st = i < n ? mono_detok_push(d, ids[i], &txt, &len, NULL) : mono_detok_flush(d, &txt, &len, NULL);
        if (st != MONO_OK || alen + len > sizeof acc) ok = 0;
        for (size_t j = 0; ok && j < len;) {
            uint32_t cp;
            size_t k = mono_utf8_decode((const uint8_t *)txt + j, len - j, &cp);
            if (!k) ok = 0;
            j += k ? k : 1;
        }
        if (ok) memcpy(acc + alen, txt, len), alen += len;
    }
    mono_detok_free(d);
    char *whole;
    size_t wlen;
    if (!ok || mono_tokenizer_decode(tok, ids, n, &whole, &wlen, NULL) != MONO_OK) return 0;
    ok = wlen == alen && !memcmp(whole, acc, alen);
    mono_free(whole);
    return ok;
}

static void check_streaming(mt_ctx *t, const mono_tokenizer *tok) {
    /* "é😀中" one byte token at a time: nothing partial ever comes out */
    const char *s = "\xc3\xa9\xf0\x9f\x98\x80\xe4\xb8\xad";
    int32_t ids[16];
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) ids[i] = (uint8_t)s[i];
    MT_CHECK(t, stream_matches(tok, ids, n));
    MT_CHECK(t, stream_matches(tok, ids, 0));   /* nothing at all: flush of an empty stream */
    mono_detok *d;
    MT_CHECK(t, mono_detok_init(tok, &d, NULL) == MONO_OK);
    const char *txt;
    size_t len;
    MT_CHECK(t, mono_detok_push(d, 0xf0, &txt, &len, NULL) == MONO_OK && len == 0);
    MT_CHECK(t, mono_detok_push(d, 0x9f, &txt, &len, NULL) == MONO_OK && len == 0);
    MT_CHECK(t, mono_detok_push(d, 0x98, &txt, &len, NULL) == MONO_OK && len == 0);
    MT_CHECK(t, mono_detok_push(d, 0x80, &txt, &len, NULL) == MONO_OK && len == 4 && !memcmp(txt, "\xf0\x9f\x98\x80", 4));
    /* an incomplete character left at the end is flushed as U+FFFD */
    MT_CHECK(t, mono_detok_push(d, 0xe4, &txt, &len, NULL) == MONO_OK && len == 0);
    MT_CHECK(t, mono_detok_flush(d, &txt, &len, NULL) == MONO_OK && len == 3 && !memcmp(txt, "\xef\xbf\xbd", 3));
    /* an id outside the vocabulary is an error, not a crash */
    MT_CHECK(t, mono_detok_push(d, 1 << 30, &txt, &len, NULL) == MONO_ERR_RANGE);
    mono_detok_reset(d);
    MT_CHECK(t, mono_detok_push(d, 'x', &txt, &len, NULL) == MONO_OK && len == 1 && txt[0] == 'x');
    mono_detok_free(d);
    /* random byte soup: the stream always equals the one-shot decode */
    uint32_t r = 12345;
    for (int trial = 0; trial < 200; trial++) {
        size_t m = 1 + trial % 12;
        for (size_t i = 0; i < m; i++) {
            r = r * 1103515245u + 12345u;
            ids[i] = (int32_t)((r >> 8) % 258);   /* bytes plus "ab" and "<s>" */
        }
        if (!stream_matches(tok, ids, m)) {
            MT_CHECK_MSG(t, 0, "stream differs on trial %d", trial);
            break;
        }
    }
}

static void check_options(mt_ctx *t) {
    /* GPT-2 regex with prefix space: "hi" is encoded as " hi" */
    char *js = small_json("\"\xc4\xa0h\":256,\"\xc4\xa0hi\":257,", "\"\xc4\xa0 h\",\"\xc4\xa0h i\"", "", "", GPT2_BL_APS);
    mono_tokenizer *tok = load_str(js, MONO_OK, NULL, t);
    free(js);
    int32_t w1[] = {257}, w2[] = {257, 257};
    MT_CHECK(t, tok && encode_eq(tok, "hi", 2, 0, w1, 1));
    MT_CHECK(t, tok && encode_eq(tok, "hi hi", 5, 0, w2, 2));
    mono_tokenizer_free(tok);
    /* ignore_merges: a whole-piece vocabulary entry wins over merges */
    js = small_json("\"abc\":256,\"bc\":257,", "\"b c\"", "", ",\"ignore_merges\":true", GPT2_BL);
    tok = load_str(js, MONO_OK, NULL, t);
    free(js);
    int32_t w3[] = {256}, w4[] = {'a', 257, 'd'};
    MT_CHECK(t, tok && encode_eq(tok, "abc", 3, 0, w3, 1));
    MT_CHECK(t, tok && encode_eq(tok, "abcd", 4, 0, w4, 3));
    mono_tokenizer_free(tok);
    /* added tokens: special vs text, lstrip/rstrip, single_word */
    js = small_json("", "", "{\"id\":256,\"content\":\"<s>\",\"special\":true},"
                            "{\"id\":257,\"content\":\"[M]\",\"lstrip\":true,\"rstrip\":true},"
                            "{\"id\":258,\"content\":\"cat\",\"single_word\":true}", "", QWEN_SPLIT);
    tok = load_str(js, MONO_OK, NULL, t);
    free(js);
    int32_t w5[] = {'x', 256, 'y'}, w6[] = {'x', 257, 'y'}, w7[] = {258, ' ', 'c', 'a', 't', 's'};
    MT_CHECK(t, tok && encode_eq(tok, "x<s>y", 5, 0, w5, 3));
    MT_CHECK(t, tok && encode_eq(tok, "x  [M]  y", 9, 0, w6, 3));
    MT_CHECK(t, tok && encode_eq(tok, "cat cats", 8, 0, w7, 6));
    MT_CHECK(t, tok && mono_tokenizer_token_is_special(tok, 256) && !mono_tokenizer_token_is_special(tok, 257));
    MT_CHECK(t, tok && mono_tokenizer_token_is_added(tok, 257) && !mono_tokenizer_token_is_added(tok, 5));
    if (tok) check_invalid_utf8(t, tok);
    if (tok) check_streaming(t, tok);
    mono_tokenizer_free(tok);
}

/* Encodes every golden line with tok; returns how many give other ids than
 * Hugging Face's (-1 when the file is missing). */
static int golden_mismatches(const mono_tokenizer *tok, const char *rel, int *lines) {
    char path[512];
    mt_shared_path(path, sizeof path, rel);
    char *data;
    size_t size;
    *lines = 0;
    if (mono_file_read_text(path, &data, &size, NULL) != MONO_OK) return -1;
    int bad = 0;
    for (char *line = data, *end; line < data + size; line = end + 1) {
        end = memchr(line, '\n', (size_t)(data + size - line));
        if (!end) end = data + size;
        mono_json_doc *doc;
        if (end == line || mono_json_parse(line, (size_t)(end - line), &doc, NULL) != MONO_OK) continue;
        const mono_json *text = mono_json_get_typed(mono_json_root(doc), "text", MONO_JSON_STRING);
        const mono_json *ids = mono_json_get_typed(mono_json_root(doc), "ids", MONO_JSON_ARRAY);
        int32_t *got = NULL;
        size_t n = 0;
        int same = text && ids && mono_tokenizer_encode(tok, text->u.str, text->len, 0, &got, &n, NULL) == MONO_OK &&
                   n == ids->len;
        for (size_t i = 0; same && i < n; i++) {
            int64_t v;
            same = mono_json_as_int64(&ids->u.items[i], &v) && v == got[i];
        }
        bad += !same;
        (*lines)++;
        mono_free(got);
        mono_json_doc_free(doc);
    }
    free(data);
    return bad;
}

/* The Qwen tokenizer written as GGUF metadata (as llama.cpp's converter
 * does) must give the same ids as the tokenizer.json it came from. */
static void check_gguf(mt_ctx *t, const mono_tokenizer *json) {
    int32_t n = mono_tokenizer_n_vocab(json);
    const char **strs = malloc((size_t)n * sizeof *strs);
    int32_t *types = malloc((size_t)n * sizeof *types);
    char path[512];
    mt_shared_path(path, sizeof path, "tokenizers/qwen2.5/tokenizer.json");
    char *text;
    size_t size;
    mono_gguf_writer *w = mono_gguf_writer_init();
    int ok = strs && types && w && mono_file_read_text(path, &text, &size, NULL) == MONO_OK;
    if (!ok) {
        MT_CHECK(t, 0);
        free(strs);
        free(types);
        mono_gguf_writer_free(w);
        return;
    }
    for (int32_t id = 0; id < n; id++) {
        strs[id] = mono_tokenizer_token_text(json, id);
        types[id] = !mono_tokenizer_token_is_added(json, id) ? 1 : mono_tokenizer_token_is_special(json, id) ? 3 : 4;
    }
    /* the merges, straight from the file: ["a","b"] pairs become "a b" */
    mono_json_doc *doc;
    size_t n_merges = 0;
    char **merges = NULL;
    if (mono_json_parse(text, size, &doc, NULL) == MONO_OK) {
        const mono_json *m = mono_json_get(mono_json_get(mono_json_root(doc), "model"), "merges");
        n_merges = m ? m->len : 0;
        merges = calloc(n_merges ? n_merges : 1, sizeof *merges);
        for (size_t i = 0; merges && i < n_merges; i++) {
            const mono_json *p = &m->u.items[i];
            size_t la = p->u.items[0].len, lb = p->u.items[1].len;
            merges[i] = malloc(la + lb + 2);
            memcpy(merges[i], p->u.items[0].u.str, la);
            merges[i][la] = ' ';
            memcpy(merges[i] + la + 1, p->u.items[1].u.str, lb + 1);
        }
        mono_json_doc_free(doc);
    }
    free(text);
    mono_error err;
    mono_status st = mono_gguf_writer_add_kv_str(w, "tokenizer.ggml.model", "gpt2", &err);
    if (!st) st = mono_gguf_writer_add_kv_str(w, "tokenizer.ggml.pre", "qwen2", &err);
    if (!st) st = mono_gguf_writer_add_kv_arr_str(w, "tokenizer.ggml.tokens", strs, NULL, (size_t)n, &err);
    if (!st) st = mono_gguf_writer_add_kv_arr(w, "tokenizer.ggml.token_type", MONO_GGUF_INT32, types, (size_t)n, &err);
    if (!st) st = mono_gguf_writer_add_kv_arr_str(w, "tokenizer.ggml.merges", (const char *const *)merges, NULL, n_merges, &err);
    if (!st) st = mono_gguf_writer_add_kv_u32(w, "tokenizer.ggml.eos_token_id", 151645, &err);
    uint8_t *bytes = NULL;
    size_t nbytes = 0;
    if (!st) st = mono_gguf_writer_write_memory(w, &bytes, &nbytes, &err);
    MT_CHECK_MSG(t, st == MONO_OK, "writing GGUF: %s", err.message);
    const char *gpath = "build/test_tokenizer_qwen.gguf";
    FILE *f = st == MONO_OK ? fopen(gpath, "wb") : NULL;
    if (f) {
        fwrite(bytes, 1, nbytes, f);
        fclose(f);
    }
    mono_tokenizer *g = NULL;
    MT_CHECK_MSG(t, f && mono_tokenizer_load(gpath, &g, &err) == MONO_OK, "loading GGUF: %s", err.message);
    if (g) {
        MT_CHECK_EQ_INT(t, mono_tokenizer_n_vocab(g), n);
        MT_CHECK_EQ_INT(t, mono_tokenizer_eos_id(g), 151645);
        MT_CHECK(t, mono_tokenizer_token_is_special(g, 151645) && mono_tokenizer_token_is_added(g, 151657));
        const char *golden[] = {"golden/tokenizer/qwen2.5-public.jsonl", "golden/tokenizer/llamacpp-qwen2-vectors.jsonl"};
        for (int gi = 0; gi < 2; gi++) {
            int lines, bad = golden_mismatches(g, golden[gi], &lines);
            MT_CHECK_MSG(t, bad == 0 && lines > 40, "GGUF tokenizer on %s: %d of %d lines differ", golden[gi], bad, lines);
        }
        const char *texts[] = {"Hello, world! I'M here", "<|im_start|>user\nCaf\xc3\xa9 e\xcc\x81 \xe4\xb8\xad\xe6\x96\x87<|im_end|>",
                               "<tool_call>{\"a\": 1}</tool_call>   \n\n  x", "\xf0\x9f\xa6\x99 12345 \xc5\xbft \xff"};
        for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
            for (unsigned flags = 0; flags < 2; flags++) {
                int32_t *a, *b;
                size_t na, nb;
                MT_CHECK(t, mono_tokenizer_encode(json, texts[i], strlen(texts[i]), flags, &a, &na, NULL) == MONO_OK);
                MT_CHECK(t, mono_tokenizer_encode(g, texts[i], strlen(texts[i]), flags, &b, &nb, NULL) == MONO_OK);
                MT_CHECK_MSG(t, na == nb && !memcmp(a, b, na * sizeof *a), "GGUF ids differ on text %zu", i);
                mono_free(a);
                mono_free(b);
            }
        }
    }
    mono_tokenizer_free(g);
    /* from memory, then with the buffer gone */
    g = NULL;
    uint8_t *copy = malloc(nbytes ? nbytes : 1);
    if (copy && bytes) memcpy(copy, bytes, nbytes);
    MT_CHECK(t, copy && mono_tokenizer_load_gguf_bytes(copy, nbytes, &g, NULL) == MONO_OK);
    free(copy);
    if (g) {
        int lines, bad = golden_mismatches(g, "golden/tokenizer/qwen2.5-public.jsonl", &lines);
        MT_CHECK_MSG(t, bad == 0 && lines > 40, "GGUF from memory: %d of %d lines differ", bad, lines);
    }
    mono_tokenizer_free(g);
    MT_CHECK(t, mono_tokenizer_load_gguf_bytes("GGUF\3\0\0\0", 8, &g, NULL) == MONO_ERR_FORMAT && !g);
    remove(gpath);
    mono_free(bytes);
    for (size_t i = 0; merges && i < n_merges; i++) free(merges[i]);
    free(merges);
    free(strs);
    free(types);
    mono_gguf_writer_free(w);
}

typedef struct thread_job {
    const mono_tokenizer *tok;
    const char *text;
    size_t len;
    int32_t *ids;
    size_t n;
    mono_status st;
} thread_job;

static void *encode_job(void *arg) {
    thread_job *j = arg;
    mono_encoder *e;
    j->st = mono_encoder_init(j->tok, &e, NULL);
    for (int r = 0; r < 3 && j->st == MONO_OK; r++) {
        mono_free(j->ids);
        j->ids = NULL;
        j->st = mono_encoder_encode(e, j->text, j->len, 0, &j->ids, &j->n, NULL);
    }
    mono_encoder_free(e);
    return NULL;
}

/* A loaded tokenizer is read-only: two threads encoding at once agree with
 * a lone one (ThreadSanitizer would flag writes; ASan use-after-free). */
static void check_threads(mt_ctx *t, const mono_tokenizer *tok) {
    size_t len = 0, cap = 1 << 20;
    char *text = malloc(cap);
    const char *parts[] = {"The quick brown fox, ", "caf\xc3\xa9 e\xcc\x81 ", "\xe4\xb8\xad\xe6\x96\x87 ", "<|im_end|>",
                           "I'M 12345\n\n", "\xf0\x9f\xa6\x99 "};
    for (int i = 0; len + 64 < cap; i++) {
        size_t k = strlen(parts[(i * 7) % 6]);
        memcpy(text + len, parts[(i * 7) % 6], k);
        len += k;
    }
    int32_t *want;
    size_t n_want;
    MT_CHECK(t, mono_tokenizer_encode(tok, text, len, 0, &want, &n_want, NULL) == MONO_OK);
    thread_job jobs[2] = {{tok, text, len, NULL, 0, MONO_OK}, {tok, text, len, NULL, 0, MONO_OK}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, encode_job, &jobs[i]);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        MT_CHECK(t, jobs[i].st == MONO_OK && jobs[i].n == n_want && !memcmp(jobs[i].ids, want, n_want * sizeof *want));
        mono_free(jobs[i].ids);
    }
    mono_free(want);
    free(text);
}

void suite_tokenizer_edge(mt_ctx *t) {
    check_malformed(t);
    check_options(t);
    char path[512];
    mt_shared_path(path, sizeof path, "tokenizers/qwen2.5/tokenizer.json");
    mono_tokenizer *qwen = NULL;
    if (mono_tokenizer_load(path, &qwen, NULL) != MONO_OK) {
        mt_skip(t, "Qwen tokenizer.json not found");
        return;
    }
    check_gguf(t, qwen);
    check_threads(t, qwen);
    /* Qwen on invalid UTF-8: still a round trip */
    const char *bad = "ok \xff\xfe caf\xc3 \xed\xa0\x80 \xf0\x9f\x98 <|im_end|>\x80";
    int32_t *ids;
    size_t n;
    char *back;
    size_t blen;
    MT_CHECK(t, mono_tokenizer_encode(qwen, bad, strlen(bad), 0, &ids, &n, NULL) == MONO_OK);
    MT_CHECK(t, mono_tokenizer_decode_bytes(qwen, ids, n, &back, &blen, NULL) == MONO_OK);
    MT_CHECK(t, blen == strlen(bad) && !memcmp(back, bad, blen));
    MT_CHECK(t, stream_matches(qwen, ids, n));
    mono_free(back);
    mono_free(ids);
    mono_tokenizer_free(qwen);
}
