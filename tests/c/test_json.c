/*
 * test_json.c -- the strict JSON parser: accepts what RFC 8259 allows,
 * refuses the rest with a message, never reads out of bounds.
 */
#include "core/json.h"
#include "test.h"

static int parses(const char *s) {
    mono_json_doc *d = NULL;
    mono_error e;
    mono_status st = mono_json_parse(s, strlen(s), &d, &e);
    mono_json_doc_free(d);
    return st == MONO_OK;
}

void suite_json(mt_ctx *t) {
    const char *good[] = {"{}", "[]", "0", "-0", "1.5e3", "\"\"", "true", "false", "null",
                          " [1, 2, {\"a\": [null]}] ", "\"\\u00e9\\ud83d\\ude00\"", "\"é\"",
                          "-12345678901234567890", "1E+2", "\"\\/\\b\\f\\n\\r\\t\""};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) MT_CHECK_MSG(t, parses(good[i]), "%s", good[i]);
    const char *bad[] = {"", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "tru", "nul",
                         "\"\\ud800\"", "\"\\udc00\"", "\"\\x\"", "\"a", "[1 2]", "{1:2}",
                         "// c\n1", "1 2", "\"\x01\"", "\"\xff\"", "\"\xc0\x80\"", "\"\xed\xa0\x80\"",
                         "{\"a\" 1}", "NaN", "[", "\"\\u12\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) MT_CHECK_MSG(t, !parses(bad[i]), "accepted %s", bad[i]);

    /* depth limit */
    char deep[1100];
    memset(deep, '[', 600); deep[600] = 0;
    MT_CHECK(t, !parses(deep));

    /* values and lookups */
    const char *doc = "{\"n\": 42, \"f\": -2.5, \"s\": \"a\\nb\\u0000c\", \"arr\": [1, \"x\", true],"
                      " \"big\": 9007199254740993, \"dup\": 1, \"dup\": 2}";
    mono_json_doc *d = NULL;
    mono_error e;
    MT_CHECK(t, mono_json_parse(doc, strlen(doc), &d, &e) == MONO_OK);
    if (!d) return;
    const mono_json *r = mono_json_root(d);
    int64_t iv = 0; double dv = 0;
    MT_CHECK(t, mono_json_as_int64(mono_json_get(r, "n"), &iv) && iv == 42);
    MT_CHECK(t, mono_json_as_double(mono_json_get(r, "f"), &dv) && dv == -2.5);
    MT_CHECK(t, !mono_json_as_int64(mono_json_get(r, "f"), &iv));
    MT_CHECK(t, mono_json_as_int64(mono_json_get(r, "big"), &iv) && iv == 9007199254740993LL);
    const mono_json *s = mono_json_get_typed(r, "s", MONO_JSON_STRING);
    MT_CHECK(t, s && s->len == 5 && memcmp(s->u.str, "a\nb\0c", 5) == 0);
    const mono_json *arr = mono_json_get_typed(r, "arr", MONO_JSON_ARRAY);
    MT_CHECK(t, arr && arr->len == 3 && arr->u.items[2].type == MONO_JSON_BOOL);
    MT_CHECK(t, mono_json_get_typed(r, "n", MONO_JSON_STRING) == NULL);
    MT_CHECK(t, mono_json_as_int64(mono_json_get(r, "dup"), &iv) && iv == 2);
    MT_CHECK(t, mono_json_get(r, "missing") == NULL);
    mono_json_doc_free(d);

    /* error messages name the offset */
    MT_CHECK(t, mono_json_parse("[1,]", 4, &d, &e) == MONO_ERR_FORMAT && strstr(e.message, "byte 3"));
    /* not NUL-terminated: must stop at len */
    MT_CHECK(t, mono_json_parse("[1]]]", 3, &d, &e) == MONO_OK);
    mono_json_doc_free(d);
}
