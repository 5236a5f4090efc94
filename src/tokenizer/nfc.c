/*
 * nfc.c -- NFC normalization (see nfc.h): the textbook algorithm of UAX #15
 * over the generated tables in unicode_tables.c, Hangul done arithmetically.
 */
#include "tokenizer/nfc.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

enum {
    SBASE = 0xAC00, LBASE = 0x1100, VBASE = 0x1161, TBASE = 0x11A7,
    LCOUNT = 19, VCOUNT = 21, TCOUNT = 28, NCOUNT = VCOUNT * TCOUNT, SCOUNT = LCOUNT * NCOUNT
};

/* Invalid bytes ride along in the code point array as RAW_BASE + byte. */
#define RAW_BASE 0x110000u

int mono_nfc_quick_check(const uint8_t *s, size_t n) {
    size_t i = 0;
    uint8_t last_ccc = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            last_ccc = 0;
            i++;
            /* skip ASCII eight bytes at a time */
            while (i + 8 <= n) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                if (w & 0x8080808080808080ull) break;
                i += 8;
            }
            continue;
        }
        uint32_t cp;
        i += mono_utf8_next(s, n, i, &cp);
        /* invalid bytes and code points below U+0300: ccc 0, quick check Yes */
        if (cp == MONO_UTF8_INVALID || cp < 0x300) {
            last_ccc = 0;
            continue;
        }
        uint8_t p = mono_unicode_props(cp);
        if (p & (MONO_UCP_NFC_NO | MONO_UCP_NFC_MAYBE)) return 0;
        uint8_t c = mono_unicode_ccc(cp);
        if (c && last_ccc > c) return 0;
        last_ccc = c;
    }
    return 1;
}

typedef struct cp_buf {
    uint32_t *v;
    size_t n, cap;
} cp_buf;

static int cp_push(cp_buf *b, uint32_t cp) {
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        uint32_t *v = realloc(b->v, cap * sizeof *v);
        if (!v) return 0;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = cp;
    return 1;
}

static uint8_t ccc_of(uint32_t cp) { return cp >= RAW_BASE ? 0 : mono_unicode_ccc(cp); }

static int decompose(const uint8_t *s, size_t n, cp_buf *b) {
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = mono_utf8_next(s, n, i, &cp);
        if (cp == MONO_UTF8_INVALID) cp = RAW_BASE + s[i];
        i += k;
        if (cp >= SBASE && cp < SBASE + SCOUNT) {
            uint32_t si = cp - SBASE;
            if (!cp_push(b, LBASE + si / NCOUNT) || !cp_push(b, VBASE + (si % NCOUNT) / TCOUNT)) return 0;
            if (si % TCOUNT && !cp_push(b, TBASE + si % TCOUNT)) return 0;
            continue;
        }
        const uint32_t *seq;
        size_t m = cp < RAW_BASE ? mono_unicode_decompose(cp, &seq) : 0;
        if (!m) {
            if (!cp_push(b, cp)) return 0;
            continue;
        }
        for (size_t j = 0; j < m; j++)
            if (!cp_push(b, seq[j])) return 0;
    }
    return 1;
}

/* Canonical ordering: a stable insertion sort of each run of non-starters
 * by combining class (runs are short). */
static void reorder(cp_buf *b) {
    for (size_t i = 1; i < b->n; i++) {
        uint8_t c = ccc_of(b->v[i]);
        if (!c) continue;
        size_t j = i;
        uint32_t x = b->v[i];
        while (j > 0) {
            uint8_t pc = ccc_of(b->v[j - 1]);
            if (!pc || pc <= c) break;
            b->v[j] = b->v[j - 1];
            j--;
        }
        b->v[j] = x;
    }
}

static uint32_t compose_pair(uint32_t a, uint32_t c) {
    if (a >= RAW_BASE || c >= RAW_BASE) return 0;
    if (a >= LBASE && a < LBASE + LCOUNT && c >= VBASE && c < VBASE + VCOUNT)
        return SBASE + ((a - LBASE) * VCOUNT + (c - VBASE)) * TCOUNT;
    if (a >= SBASE && a < SBASE + SCOUNT && (a - SBASE) % TCOUNT == 0 && c > TBASE && c < TBASE + TCOUNT)
        return a + (c - TBASE);
    return mono_unicode_compose(a, c);
}

static void compose(cp_buf *b) {
    size_t out = 0;
    long starter = -1;
    uint8_t last_ccc = 0;
    for (size_t i = 0; i < b->n; i++) {
        uint32_t c = b->v[i];
        uint8_t cc = ccc_of(c);
        if (starter >= 0) {
            int adjacent = (size_t)starter == out - 1;
            int blocked = !adjacent && (last_ccc == 0 || last_ccc >= cc);
            if (!blocked) {
                uint32_t comp = compose_pair(b->v[starter], c);
                if (comp) {
                    b->v[starter] = comp;
                    continue;
                }
            }
        }
        if (cc == 0) starter = (long)out;
        last_ccc = cc;
        b->v[out++] = c;
    }
    b->n = out;
}

static int bytes_reserve(uint8_t **buf, size_t *len, size_t *cap, size_t extra) {
    size_t need;
    if (!mono_size_add(*len, extra, &need)) return 0;
    if (need <= *cap) return 1;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) {
        if (!mono_size_mul(nc, 2, &nc)) return 0;
    }
    uint8_t *p = realloc(*buf, nc);
    if (!p) return 0;
    *buf = p;
    *cap = nc;
    return 1;
}

mono_status mono_nfc_append(const uint8_t *s, size_t n, uint8_t **buf, size_t *len, size_t *cap, mono_error *err) {
    if (mono_nfc_quick_check(s, n)) {
        if (!bytes_reserve(buf, len, cap, n)) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory (NFC)");
        if (n) memcpy(*buf + *len, s, n);
        *len += n;
        return MONO_OK;
    }
    cp_buf b = {0};
    if (!decompose(s, n, &b)) {
        free(b.v);
        return mono_error_set(err, MONO_ERR_NOMEM, "out of memory (NFC)");
    }
    reorder(&b);
    compose(&b);
    size_t worst;
    if (!mono_size_mul(b.n, 4, &worst) || !bytes_reserve(buf, len, cap, worst)) {
        free(b.v);
        return mono_error_set(err, MONO_ERR_NOMEM, "out of memory (NFC)");
    }
    for (size_t i = 0; i < b.n; i++) {
        if (b.v[i] >= RAW_BASE) (*buf)[(*len)++] = (uint8_t)(b.v[i] - RAW_BASE);
        else *len += mono_utf8_encode(b.v[i], *buf + *len);
    }
    free(b.v);
    return MONO_OK;
}
