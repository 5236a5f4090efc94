/*
 * utf8.h -- strict UTF-8 decoding shared by the pre-tokenizer, NFC and the
 * decoders (static inline: these sit in the hottest loops).
 *
 * "Strict" means what Rust's str accepts: no overlong forms, no surrogates,
 * nothing above U+10FFFF. A byte that does not start a valid sequence decodes
 * as MONO_UTF8_INVALID with length 1, so callers can treat every invalid byte
 * as one code point of its own (the tokenizer's documented behaviour).
 */
#ifndef MONO_TOKENIZER_UTF8_H
#define MONO_TOKENIZER_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define MONO_UTF8_INVALID 0xFFFFFFFFu

/* Length of the valid sequence at s[0..n) (n >= 1), or 0 if s[0] does not
 * start one; on success stores the code point. */
static inline size_t mono_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp) {
    uint8_t b0 = s[0];
    if (b0 < 0x80) { *cp = b0; return 1; }
    if (b0 < 0xC2) return 0;
    if (b0 < 0xE0) {
        if (n < 2 || (s[1] & 0xC0) != 0x80) return 0;
        *cp = ((uint32_t)(b0 & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (b0 < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (b0 == 0xE0 && s[1] < 0xA0) return 0;      /* overlong */
        if (b0 == 0xED && s[1] >= 0xA0) return 0;     /* surrogate */
        *cp = ((uint32_t)(b0 & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    if (b0 < 0xF5) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        if (b0 == 0xF0 && s[1] < 0x90) return 0;      /* overlong */
        if (b0 == 0xF4 && s[1] >= 0x90) return 0;     /* > U+10FFFF */
        *cp = ((uint32_t)(b0 & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
              ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return 4;
    }
    return 0;
}

/* Decodes one code point at s[pos] (pos < n); an invalid byte gives
 * MONO_UTF8_INVALID and length 1. Returns the length. */
static inline size_t mono_utf8_next(const uint8_t *s, size_t n, size_t pos, uint32_t *cp) {
    size_t k = mono_utf8_decode(s + pos, n - pos, cp);
    if (k) return k;
    *cp = MONO_UTF8_INVALID;
    return 1;
}

/* Writes cp (< 0x110000) as UTF-8 into out[4]; returns the length. */
static inline size_t mono_utf8_encode(uint32_t cp, uint8_t *out) {
    if (cp < 0x80) { out[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) { out[0] = (uint8_t)(0xC0 | (cp >> 6)); out[1] = (uint8_t)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12)); out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18)); out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* How many bytes of s[0..n) form the longest prefix of some valid sequence
 * ("maximal subpart", Unicode 15 section 3.9), at least 1. Used by the lossy
 * decoders so each maximal invalid subpart becomes exactly one U+FFFD, as
 * Rust's String::from_utf8_lossy (and so Hugging Face) does. Also tells a
 * streaming decoder whether an incomplete tail could still become valid:
 * it could when the result equals n and n is shorter than the sequence. */
static inline size_t mono_utf8_maximal_subpart(const uint8_t *s, size_t n) {
    uint8_t b0 = s[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 < 0xE0) need = 2;
    else if (b0 >= 0xE0 && b0 < 0xF0) { need = 3; if (b0 == 0xE0) lo = 0xA0; if (b0 == 0xED) hi = 0x9F; }
    else if (b0 >= 0xF0 && b0 < 0xF5) { need = 4; if (b0 == 0xF0) lo = 0x90; if (b0 == 0xF4) hi = 0x8F; }
    else return 1;
    size_t k = 1;
    if (k < n && s[k] >= lo && s[k] <= hi) k++;
    else return 1;
    while (k < need && k < n && (s[k] & 0xC0) == 0x80) k++;
    return k;
}

/* The length a valid sequence starting with lead byte b0 would have (0 when
 * b0 cannot start one). */
static inline size_t mono_utf8_seq_len(uint8_t b0) {
    if (b0 < 0x80) return 1;
    if (b0 < 0xC2) return 0;
    if (b0 < 0xE0) return 2;
    if (b0 < 0xF0) return 3;
    if (b0 < 0xF5) return 4;
    return 0;
}

/* Length of the longest valid prefix of s[0..n) (n when all of it is valid). */
static inline size_t mono_utf8_valid_prefix(const char *s, size_t n) {
    const uint8_t *u = (const uint8_t *)s;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = mono_utf8_decode(u + i, n - i, &cp);
        if (!k) break;
        i += k;
    }
    return i;
}

#endif
