/*
 * test_chat.c -- chat formatting byte for byte (hand-written expectations
 * read off Qwen2.5's chat template, and tests/fixtures/chat/qwen2.5.jsonl:
 * the real template rendered by @huggingface/jinja), refusals, and the
 * stop-string matcher fed text in every possible split.
 */
#include <stdlib.h>

#include "core/file.h"
#include "core/json.h"
#include "runtime/chat.h"
#include "runtime/generate.h"
#include "test.h"

#define QWEN_SYS "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"

static void expect_format(mt_ctx *t, mono_chat_template tmpl, const mono_chat_message *m, size_t n, int gen,
                          const char *want) {
    char *out = NULL;
    size_t len = 0;
    mono_error err;
    mono_status st = mono_chat_format(tmpl, m, n, gen, &out, &len, &err);
    if (!MT_CHECK_MSG(t, st == MONO_OK, "format failed: %s", err.message)) return;
    MT_CHECK_MSG(t, len == strlen(want) && memcmp(out, want, len) == 0, "got:\n%s\nwant:\n%s", out, want);
    MT_CHECK(t, out[len] == '\0');
    mono_free(out);
}

static void test_format_by_hand(mt_ctx *t) {
    mono_chat_message one[] = {{"user", "Hi"}};
    expect_format(t, MONO_CHAT_QWEN2, one, 1, 1, QWEN_SYS "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    expect_format(t, MONO_CHAT_QWEN2, one, 1, 0, QWEN_SYS "<|im_start|>user\nHi<|im_end|>\n");
    expect_format(t, MONO_CHAT_CHATML, one, 1, 1, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    mono_chat_message conv[] = {{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}, {"user", "Bye"}};
    const char *want = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                       "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n";
    expect_format(t, MONO_CHAT_QWEN2, conv, 4, 0, want);
    expect_format(t, MONO_CHAT_CHATML, conv, 4, 0, want); /* an explicit system prompt renders alike */
    expect_format(t, MONO_CHAT_QWEN2, NULL, 0, 1, QWEN_SYS "<|im_start|>assistant\n");
    expect_format(t, MONO_CHAT_CHATML, NULL, 0, 0, "");
    mono_chat_message later_sys[] = {{"user", "a"}, {"system", "b"}};
    expect_format(t, MONO_CHAT_QWEN2, later_sys, 2, 0,
                  QWEN_SYS "<|im_start|>user\na<|im_end|>\n<|im_start|>system\nb<|im_end|>\n");
    mono_chat_message tools[] = {{"user", "q"}, {"assistant", ""}, {"tool", "r1"}, {"tool", "r2"}, {"user", "x"}};
    expect_format(t, MONO_CHAT_QWEN2, tools, 5, 0,
                  QWEN_SYS "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n<|im_end|>\n"
                           "<|im_start|>user\n<tool_response>\nr1\n</tool_response>\n<tool_response>\nr2\n"
                           "</tool_response><|im_end|>\n<|im_start|>user\nx<|im_end|>\n");
}

static void test_format_refusals(mt_ctx *t) {
    char *out = (char *)1;
    mono_error err;
    mono_chat_message bad_role[] = {{"user", "a"}, {"bot", "b"}};
    MT_CHECK(t, mono_chat_format(MONO_CHAT_QWEN2, bad_role, 2, 1, &out, NULL, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, out == NULL);
    MT_CHECK_MSG(t, strstr(err.message, "message 1") && strstr(err.message, "'bot'"), "%s", err.message);
    mono_chat_message null_role[] = {{NULL, "b"}};
    MT_CHECK(t, mono_chat_format(MONO_CHAT_QWEN2, null_role, 1, 1, &out, NULL, &err) == MONO_ERR_INVALID_ARG);
    mono_chat_message null_content[] = {{"user", NULL}};
    MT_CHECK(t, mono_chat_format(MONO_CHAT_QWEN2, null_content, 1, 1, &out, NULL, &err) == MONO_ERR_INVALID_ARG);
    const char *bad_utf8[] = {"\xff", "ok \xe4\xbd", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"};
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof *bad_utf8; i++) {
        mono_chat_message m[] = {{"user", bad_utf8[i]}};
        MT_CHECK(t, mono_chat_format(MONO_CHAT_QWEN2, m, 1, 1, &out, NULL, &err) == MONO_ERR_INVALID_ARG);
        MT_CHECK_MSG(t, strstr(err.message, "UTF-8") != NULL, "%s", err.message);
    }
    MT_CHECK(t, mono_chat_format((mono_chat_template)7, bad_role, 1, 1, &out, NULL, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, mono_chat_format(MONO_CHAT_QWEN2, NULL, 2, 1, &out, NULL, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, mono_chat_format(MONO_CHAT_QWEN2, bad_role, 1, 1, NULL, NULL, &err) == MONO_ERR_INVALID_ARG);
}

/* Every conversation the real template rendered must come out identical. */
static void test_format_vs_jinja(mt_ctx *t) {
    char *text = NULL;
    size_t size = 0;
    mono_error err;
    if (!MT_CHECK_MSG(t, mono_file_read_text("tests/fixtures/chat/qwen2.5.jsonl", &text, &size, &err) == MONO_OK,
                      "%s", err.message))
        return;
    int cases = 0;
    for (char *line = text, *end; line < text + size; line = end + 1) {
        end = memchr(line, '\n', (size_t)(text + size - line));
        if (!end) end = text + size;
        if (end == line) continue;
        mono_json_doc *doc = NULL;
        if (!MT_CHECK_MSG(t, mono_json_parse(line, (size_t)(end - line), &doc, &err) == MONO_OK, "%s", err.message)) break;
        const mono_json *root = mono_json_root(doc);
        const mono_json *msgs = mono_json_get_typed(root, "messages", MONO_JSON_ARRAY);
        const mono_json *gen = mono_json_get_typed(root, "add_generation_prompt", MONO_JSON_BOOL);
        const mono_json *want = mono_json_get_typed(root, "text", MONO_JSON_STRING);
        if (MT_CHECK(t, msgs && gen && want)) {
            mono_chat_message m[16];
            size_t n = msgs->len < 16 ? msgs->len : 16;
            for (size_t i = 0; i < n; i++) {
                const mono_json *r = mono_json_get_typed(&msgs->u.items[i], "role", MONO_JSON_STRING);
                const mono_json *c = mono_json_get_typed(&msgs->u.items[i], "content", MONO_JSON_STRING);
                m[i].role = r ? r->u.str : NULL;
                m[i].content = c ? c->u.str : NULL;
            }
            char *out = NULL;
            size_t len = 0;
            if (MT_CHECK_MSG(t, mono_chat_format(MONO_CHAT_QWEN2, m, n, gen->u.boolean, &out, &len, &err) == MONO_OK,
                             "case %d: %s", cases, err.message))
                MT_CHECK_MSG(t, len == want->len && memcmp(out, want->u.str, len) == 0,
                             "case %d differs from the Jinja rendering:\n%s\n---- want ----\n%s", cases, out,
                             want->u.str);
            mono_free(out);
            cases++;
        }
        mono_json_doc_free(doc);
    }
    MT_CHECK_MSG(t, cases >= 20, "only %d fixture cases", cases);
    free(text);
}

/* ---- stop strings ------------------------------------------------------ */

typedef struct collect {
    char buf[512];
    size_t len;
    int calls, cancel_after; /* cancel on call number cancel_after (0: never) */
    int saw_empty;
} collect;

static int collect_fn(const char *text, size_t len, void *user) {
    collect *c = user;
    if (len == 0) c->saw_empty = 1;
    if (c->len + len < sizeof c->buf) {
        memcpy(c->buf + c->len, text, len);
        c->len += len;
        c->buf[c->len] = '\0';
    }
    c->calls++;
    return c->cancel_after && c->calls >= c->cancel_after;
}

/* Feeds text cut at the given offsets (a bit mask over byte gaps) and
 * returns what came out; *stopped says whether a stop string was found. */
static void run_split(mono_stop_matcher *m, const char *text, unsigned mask, collect *c, int *stopped,
                      size_t *max_held) {
    size_t n = strlen(text), start = 0;
    *stopped = 0;
    *max_held = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i < n && !(mask >> (i - 1) & 1)) continue;
        int r = mono_stop_matcher_feed(m, text + start, i - start, collect_fn, c);
        if (m->held.len > *max_held) *max_held = m->held.len;
        start = i;
        if (r == MONO_MATCH_STOP) { *stopped = 1; return; }
    }
    if (mono_stop_matcher_flush(m, collect_fn, c) == MONO_MATCH_STOP) *stopped = 1;
}

static void test_stop_matcher_splits(mt_ctx *t) {
    const char *stops[] = {"\nUser:", "<END>", "ab"};
    struct { const char *text, *want; int stopped; } cases[] = {
        {"hello world", "hello world", 0},
        {"hello\nUser: more", "hello", 1},
        {"x<EN", "x<EN", 0},               /* a prefix at the very end is flushed */
        {"x<END>y", "x", 1},
        {"aab", "a", 1},                   /* overlap: "a" then "ab" */
        {"x<ENDab", "x<END", 1},           /* "<END" alone never completes */
        {"<ab", "<", 1},
        {"q\nUser<END>", "q\nUser", 1},
        {"\nUse\nUser:", "\nUse", 1},      /* a failed prefix followed by a match */
        {"<E<END>", "<E", 1},
        {"a", "a", 0},
        {"ab", "", 1},
        {"caf\xc3\xa9 ab", "caf\xc3\xa9 ", 1},
    };
    mono_stop_matcher m;
    mono_error err;
    MT_CHECK(t, mono_stop_matcher_init(&m, stops, 3, &err) == MONO_OK);
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        size_t n = strlen(cases[k].text);
        unsigned masks = n > 1 ? 1u << (n - 1) : 1;
        int all_ok = 1;
        for (unsigned mask = 0; mask < masks && all_ok; mask++) {
            collect c = {0};
            int stopped;
            size_t max_held;
            mono_stop_matcher_reset(&m);
            run_split(&m, cases[k].text, mask, &c, &stopped, &max_held);
            all_ok = MT_CHECK_MSG(t, c.len == strlen(cases[k].want) && !memcmp(c.buf, cases[k].want, c.len) &&
                                         stopped == cases[k].stopped,
                                  "case %zu split %#x: got '%s' stopped=%d", k, mask, c.buf, stopped);
            /* nothing is held longer than the longest stop string minus one byte */
            all_ok &= MT_CHECK(t, max_held <= 5);
        }
    }
    /* the first stop string to complete wins, however the text is cut:
     * "ab" completes before "xaby" does, though "xaby" starts earlier */
    {
        const char *st2[] = {"xaby", "ab", "by!"};
        mono_stop_matcher m2;
        MT_CHECK(t, mono_stop_matcher_init(&m2, st2, 3, &err) == MONO_OK);
        const char *text = "zxaby!";
        int same = 1;
        for (unsigned mask = 0; mask < 32; mask++) {
            collect c2 = {0};
            int stopped;
            size_t max_held;
            mono_stop_matcher_reset(&m2);
            run_split(&m2, text, mask, &c2, &stopped, &max_held);
            same &= stopped && c2.len == 2 && !memcmp(c2.buf, "zx", 2);
        }
        MT_CHECK(t, same);
        mono_stop_matcher_free(&m2);
    }
    /* text after a stop is ignored */
    collect c = {0};
    mono_stop_matcher_reset(&m);
    MT_CHECK(t, mono_stop_matcher_feed(&m, "1<END>2", 7, collect_fn, &c) == MONO_MATCH_STOP);
    MT_CHECK(t, mono_stop_matcher_feed(&m, "3", 1, collect_fn, &c) == MONO_MATCH_STOP);
    MT_CHECK(t, c.len == 1 && c.buf[0] == '1');
    /* text is released as soon as it cannot start a stop string */
    mono_stop_matcher_reset(&m);
    c = (collect){0};
    MT_CHECK(t, mono_stop_matcher_feed(&m, "xy<", 3, collect_fn, &c) == MONO_MATCH_MORE);
    MT_CHECK(t, c.len == 2 && m.held.len == 1);
    MT_CHECK(t, mono_stop_matcher_feed(&m, "b", 1, collect_fn, &c) == MONO_MATCH_MORE);
    MT_CHECK(t, c.len == 4 && m.held.len == 0);
    /* the callback can cancel */
    mono_stop_matcher_reset(&m);
    c = (collect){0};
    c.cancel_after = 1;
    MT_CHECK(t, mono_stop_matcher_feed(&m, "zzz", 3, collect_fn, &c) == MONO_MATCH_CANCEL);
    mono_stop_matcher_free(&m);

    /* no stop strings: a pass-through that never calls back with nothing */
    MT_CHECK(t, mono_stop_matcher_init(&m, NULL, 0, &err) == MONO_OK);
    c = (collect){0};
    MT_CHECK(t, mono_stop_matcher_feed(&m, "", 0, collect_fn, &c) == MONO_MATCH_MORE);
    MT_CHECK(t, mono_stop_matcher_feed(&m, "abc", 3, collect_fn, &c) == MONO_MATCH_MORE);
    MT_CHECK(t, c.len == 3 && c.calls == 1 && !c.saw_empty);
    mono_stop_matcher_free(&m);

    /* refusals */
    const char *empty[] = {"ok", ""};
    MT_CHECK(t, mono_stop_matcher_init(&m, empty, 2, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, strstr(err.message, "stop string 1") != NULL);
    const char *bad[] = {"\xc3"};
    MT_CHECK(t, mono_stop_matcher_init(&m, bad, 1, &err) == MONO_ERR_INVALID_ARG);
    const char *nul[] = {NULL};
    MT_CHECK(t, mono_stop_matcher_init(&m, nul, 1, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, mono_stop_matcher_init(&m, NULL, 2, &err) == MONO_ERR_INVALID_ARG);
    mono_stop_matcher_free(&m);
}

/* A multi-byte stop string split inside its characters: the text before it
 * still comes out whole, never half a character. */
static void test_stop_matcher_utf8(mt_ctx *t) {
    const char *stops[] = {"\xe4\xbd\xa0\xe5\xa5\xbd"}; /* 你好 */
    mono_stop_matcher m;
    MT_CHECK(t, mono_stop_matcher_init(&m, stops, 1, NULL) == MONO_OK);
    const char *text = "\xe5\x86\x8d\xe8\xa7\x81\xe4\xbd\xa0\xe5\xa5\xbd!"; /* 再见你好! */
    size_t n = strlen(text);
    for (unsigned mask = 0; mask < (1u << (n - 1)); mask += 7) {
        collect c = {0};
        int stopped;
        size_t max_held;
        mono_stop_matcher_reset(&m);
        run_split(&m, text, mask, &c, &stopped, &max_held);
        if (!MT_CHECK_MSG(t, stopped && c.len == 6 && !memcmp(c.buf, text, 6), "split %#x: '%s'", mask, c.buf)) break;
    }
    mono_stop_matcher_free(&m);
}

void suite_chat(mt_ctx *t) {
    test_format_by_hand(t);
    test_format_refusals(t);
    test_format_vs_jinja(t);
    test_stop_matcher_splits(t);
    test_stop_matcher_utf8(t);
}
