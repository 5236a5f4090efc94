/*
 * pretok.c -- hand-written scanners equivalent to the Qwen2 and GPT-2
 * pre-tokenizer regexes (see pretok.h), matched the way Hugging Face's
 * regex engine matches them: alternatives tried left to right, each one
 * greedy with backtracking.
 *
 * Every position starts a match of either pattern (any character is a
 * letter, a number, a space or "other", and each class has an alternative),
 * so splitting is a loop of "longest-by-regex piece at pos".
 *
 * Classes: L = \p{L}, N = \p{N}, S = \s (White_Space), P = anything else,
 * including each byte that is not valid UTF-8.
 */
#include "tokenizer/pretok.h"

#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

enum { CL = MONO_UCP_LETTER, CN = MONO_UCP_NUMBER, CS = MONO_UCP_SPACE, CLNS = CL | CN | CS };

/* ASCII classes: the hot path never touches the Unicode tables. */
static const uint8_t ascii_class[128] = {
    ['\t'] = CS, ['\n'] = CS, ['\v'] = CS, ['\f'] = CS, ['\r'] = CS, [' '] = CS,
    ['0'] = CN, ['1'] = CN, ['2'] = CN, ['3'] = CN, ['4'] = CN,
    ['5'] = CN, ['6'] = CN, ['7'] = CN, ['8'] = CN, ['9'] = CN,
    ['A'] = CL, ['B'] = CL, ['C'] = CL, ['D'] = CL, ['E'] = CL, ['F'] = CL, ['G'] = CL,
    ['H'] = CL, ['I'] = CL, ['J'] = CL, ['K'] = CL, ['L'] = CL, ['M'] = CL, ['N'] = CL,
    ['O'] = CL, ['P'] = CL, ['Q'] = CL, ['R'] = CL, ['S'] = CL, ['T'] = CL, ['U'] = CL,
    ['V'] = CL, ['W'] = CL, ['X'] = CL, ['Y'] = CL, ['Z'] = CL,
    ['a'] = CL, ['b'] = CL, ['c'] = CL, ['d'] = CL, ['e'] = CL, ['f'] = CL, ['g'] = CL,
    ['h'] = CL, ['i'] = CL, ['j'] = CL, ['k'] = CL, ['l'] = CL, ['m'] = CL, ['n'] = CL,
    ['o'] = CL, ['p'] = CL, ['q'] = CL, ['r'] = CL, ['s'] = CL, ['t'] = CL, ['u'] = CL,
    ['v'] = CL, ['w'] = CL, ['x'] = CL, ['y'] = CL, ['z'] = CL,
};

/* Class bits (CL/CN/CS, or 0 for P) of the code point at pos; its length. */
static inline uint8_t class_at(const uint8_t *s, size_t n, size_t pos, size_t *k, uint32_t *cp_out) {
    uint8_t b = s[pos];
    if (b < 0x80) {
        *k = 1;
        *cp_out = b;
        return ascii_class[b];
    }
    uint32_t cp;
    *k = mono_utf8_next(s, n, pos, &cp);
    *cp_out = cp;
    if (cp == MONO_UTF8_INVALID) return 0;
    return (uint8_t)(mono_unicode_props(cp) & CLNS);
}

/* End of the run of code points whose class has `want` bits, from pos. */
static size_t run_end(const uint8_t *s, size_t n, size_t pos, uint8_t want) {
    while (pos < n) {
        uint8_t b = s[pos];
        if (b < 0x80) {
            if (!(ascii_class[b] & want)) break;
            pos++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if (!(class_at(s, n, pos, &k, &cp) & want)) break;
        pos += k;
    }
    return pos;
}

/* End of a run of "P" code points (not letter, number or space), from pos. */
static size_t other_run_end(const uint8_t *s, size_t n, size_t pos) {
    while (pos < n) {
        uint8_t b = s[pos];
        if (b < 0x80) {
            if (ascii_class[b]) break;
            pos++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if (class_at(s, n, pos, &k, &cp)) break;
        pos += k;
    }
    return pos;
}

/* The \s+(?!\S) | \s+ tail shared by both patterns (pos starts a space run).
 * With newline_alt, first tries Qwen2's \s*[\r\n]+: the run up to and
 * including its last \r or \n. */
static size_t space_piece(const uint8_t *s, size_t n, size_t pos, int newline_alt) {
    size_t e = pos, last_start = pos, after_nl = 0;
    while (e < n) {
        size_t k;
        uint32_t cp;
        if (!(class_at(s, n, e, &k, &cp) & CS)) break;
        last_start = e;
        e += k;
        if (cp == '\r' || cp == '\n') after_nl = e;
    }
    if (newline_alt && after_nl) return after_nl;
    if (e == n) return e;                 /* (?!\S) holds at the end */
    if (last_start > pos) return last_start; /* give back the last space */
    return e;                             /* a single space: plain \s+ */
}

/* Folds the code point for (?i:...) on ASCII letters; U+017F LATIN SMALL
 * LETTER LONG S folds to 's' under Unicode simple case folding. */
static uint32_t fold_lower(uint32_t cp) {
    if (cp >= 'A' && cp <= 'Z') return cp + 32;
    if (cp == 0x17F) return 's';
    return cp;
}

/* Length of a contraction ('s 't 're 've 'm 'll 'd) at pos, or 0. */
static size_t contraction(const uint8_t *s, size_t n, size_t pos, int fold) {
    if (s[pos] != '\'' || pos + 1 >= n) return 0;
    uint32_t c1, c2 = 0;
    size_t k1 = mono_utf8_next(s, n, pos + 1, &c1), k2 = 0;
    if (fold) c1 = fold_lower(c1);
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 1 + k1;
    if (pos + 1 + k1 < n) {
        k2 = mono_utf8_next(s, n, pos + 1 + k1, &c2);
        if (fold) c2 = fold_lower(c2);
    }
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 1 + k1 + k2;
    return 0;
}

static size_t next_qwen2(const uint8_t *s, size_t n, size_t pos) {
    size_t k0, k;
    uint32_t cp0, cp;
    uint8_t c0 = class_at(s, n, pos, &k0, &cp0);
    /* (?i:'s|'t|'re|'ve|'m|'ll|'d) */
    if (cp0 == '\'') {
        size_t m = contraction(s, n, pos, 1);
        if (m) return pos + m;
    }
    /* [^\r\n\p{L}\p{N}]?\p{L}+ */
    if (c0 & CL) return run_end(s, n, pos + k0, CL);
    if (!(c0 & (CL | CN)) && cp0 != '\r' && cp0 != '\n' && pos + k0 < n &&
        (class_at(s, n, pos + k0, &k, &cp) & CL))
        return run_end(s, n, pos + k0 + k, CL);
    /* \p{N} */
    if (c0 & CN) return pos + k0;
    /* ?[^\s\p{L}\p{N}]+[\r\n]* */
    size_t q = pos;
    if (cp0 == ' ' && pos + 1 < n) q = pos + 1;
    if (q < n && class_at(s, n, q, &k, &cp) == 0) {
        size_t e = other_run_end(s, n, q);
        while (e < n && (s[e] == '\r' || s[e] == '\n')) e++;
        return e;
    }
    /* \s*[\r\n]+ | \s+(?!\S) | \s+  (c0 is a space here) */
    return space_piece(s, n, pos, 1);
}

static size_t next_gpt2(const uint8_t *s, size_t n, size_t pos) {
    size_t k0, k;
    uint32_t cp0, cp;
    uint8_t c0 = class_at(s, n, pos, &k0, &cp0);
    /* 's|'t|'re|'ve|'m|'ll|'d (case-sensitive) */
    if (cp0 == '\'') {
        size_t m = contraction(s, n, pos, 0);
        if (m) return pos + m;
    }
    /* ?\p{L}+ | ?\p{N}+ | ?[^\s\p{L}\p{N}]+ */
    size_t q = pos;
    uint8_t c = c0;
    if (cp0 == ' ' && pos + 1 < n) {
        uint8_t c1 = class_at(s, n, pos + 1, &k, &cp);
        if (!(c1 & CS)) { q = pos + 1; c = c1; }
    }
    if (c & CL) return run_end(s, n, q, CL);
    if (c & CN) return run_end(s, n, q, CN);
    if (!(c & CS)) return other_run_end(s, n, q);
    /* \s+(?!\S) | \s+ */
    return space_piece(s, n, pos, 0);
}

size_t mono_pretok_next(mono_pretok_kind kind, const uint8_t *text, size_t len, size_t pos) {
    if (pos >= len) return len;
    return kind == MONO_PRETOK_GPT2 ? next_gpt2(text, len, pos) : next_qwen2(text, len, pos);
}
