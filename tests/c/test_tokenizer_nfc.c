/*
 * test_tokenizer_nfc.c -- the NFC normalizer against every line of the
 * Unicode NormalizationTest.txt (the NFC columns: c2 == NFC(c1) == NFC(c2)
 * == NFC(c3), c4 == NFC(c4) == NFC(c5); lines with characters assigned after
 * Unicode 9.0 are skipped, see gen_unicode.py), every code point not in Part 1
 * left unchanged, the quick check, and invalid bytes passing through.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "test.h"
#include "tokenizer/nfc.h"
#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

/* Parses a column of hex code points into UTF-8; sets *newer when one was
 * assigned after Unicode 9.0 (outside the normalizer's repertoire). */
static size_t parse_col(const char *s, uint8_t *out, int *newer) {
    size_t n = 0;
    while (*s && *s != ';') {
        char *end;
        unsigned long cp = strtoul(s, &end, 16);
        if (end == s) break;
        if (mono_unicode_props((uint32_t)cp) & MONO_UCP_NFC_NEW) *newer = 1;
        n += mono_utf8_encode((uint32_t)cp, out + n);
        s = end;
        while (*s == ' ') s++;
    }
    return n;
}

static int nfc_equals(const uint8_t *in, size_t n, const uint8_t *want, size_t wn) {
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int ok = mono_nfc_append(in, n, &buf, &len, &cap, NULL) == MONO_OK && len == wn && (!wn || !memcmp(buf, want, wn));
    free(buf);
    return ok;
}

static void conformance(mt_ctx *t) {
    const char *path = "/usr/share/unicode/NormalizationTest.txt.bz2";
    FILE *probe = fopen(path, "rb"), *f = NULL;
    if (probe) {
        fclose(probe);
        f = popen("bzcat /usr/share/unicode/NormalizationTest.txt.bz2", "r");
    }
    if (!f) {
        mt_skip(t, "NormalizationTest.txt.bz2 not available");
        return;
    }
    char line[2048];
    uint8_t col[5][256];
    size_t len[5];
    int part1 = 0, lines = 0, bad = 0, skipped = 0;
    static uint8_t in_part1[0x110000];
    memset(in_part1, 0, sizeof in_part1);
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        if (line[0] == '@') {
            part1 = !strncmp(line, "@Part1", 6);
            continue;
        }
        const char *p = line;
        int newer = 0;
        for (int c = 0; c < 5; c++) {
            len[c] = parse_col(p, col[c], &newer);
            p = strchr(p, ';');
            if (!p) break;
            p++;
        }
        if (part1) in_part1[strtoul(line, NULL, 16)] = 1;
        if (newer) {
            skipped++;
            continue;
        }
        lines++;
        int ok = nfc_equals(col[0], len[0], col[1], len[1]) && nfc_equals(col[1], len[1], col[1], len[1]) &&
                 nfc_equals(col[2], len[2], col[1], len[1]) && nfc_equals(col[3], len[3], col[3], len[3]) &&
                 nfc_equals(col[4], len[4], col[3], len[3]);
        if (!ok && bad++ < 5) fprintf(stderr, "    NFC mismatch: %s", line);
    }
    pclose(f);
    MT_CHECK_MSG(t, lines > 18000, "only %d test lines", lines);
    MT_CHECK_MSG(t, skipped < 1500, "%d lines skipped as post-9.0", skipped);
    if (t->verbose) fprintf(stderr, "    %d NormalizationTest lines, %d skipped (post-9.0)\n", lines, skipped);
    MT_CHECK_MSG(t, bad == 0, "%d of %d NormalizationTest lines fail", bad, lines);
    /* Part 1 lists every code point that changes; all others are invariant. */
    int changed = 0;
    for (uint32_t cp = 0; cp < 0x110000; cp++) {
        if (in_part1[cp] || (cp >= 0xD800 && cp < 0xE000)) continue;
        uint8_t b[4];
        size_t n = mono_utf8_encode(cp, b);
        if (!nfc_equals(b, n, b, n) && changed++ < 5) fprintf(stderr, "    U+%04X changed by NFC\n", cp);
    }
    MT_CHECK_EQ_INT(t, changed, 0);
}

#define S(x) (const uint8_t *)(x), sizeof(x) - 1

void suite_tokenizer_nfc(mt_ctx *t) {
    conformance(t);
    MT_CHECK(t, mono_nfc_quick_check(S("plain ASCII and caf\xc3\xa9")));
    MT_CHECK(t, !mono_nfc_quick_check(S("e\xcc\x81")));              /* e + U+0301 */
    MT_CHECK(t, nfc_equals(S("e\xcc\x81"), S("\xc3\xa9")));
    MT_CHECK(t, nfc_equals(S("\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8"), S("\xea\xb0\x81"))); /* jamo -> U+AC01 */
    MT_CHECK(t, nfc_equals(S("\xea\xb0\x81"), S("\xea\xb0\x81")));
    MT_CHECK(t, nfc_equals(S("\xe2\x84\xab"), S("\xc3\x85")));    /* ANGSTROM SIGN -> A with ring */
    /* reordering: U+0323 (ccc 220) before U+0307 (ccc 230), then composition */
    MT_CHECK(t, nfc_equals(S("s\xcc\x87\xcc\xa3"), S("\xe1\xb9\xa9")));
    /* invalid bytes pass through and block composition */
    MT_CHECK(t, nfc_equals(S("e\xff\xcc\x81"), S("e\xff\xcc\x81")));
    MT_CHECK(t, nfc_equals(S("\xc3\x28\xed\xa0\x80"), S("\xc3\x28\xed\xa0\x80")));
    MT_CHECK(t, nfc_equals(S(""), S("")));
    /* Hugging Face's normalizer knows Unicode 9.0: U+0EBA (12.0, ccc 9) after
     * U+0EB9 (ccc 118) is not reordered, and neither are the 14.0 marks. */
    MT_CHECK(t, nfc_equals(S("\xe0\xba\xb9\xe0\xba\xba"), S("\xe0\xba\xb9\xe0\xba\xba")));
    MT_CHECK(t, nfc_equals(S("q\xe1\xb7\xb9\xe1\xb7\xba"), S("q\xe1\xb7\xb9\xe1\xb7\xba")));
}
