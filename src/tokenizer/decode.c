/*
 * decode.c -- token ids back to text: all at once (lossy, as Hugging Face's
 * ByteLevel decoder + String::from_utf8_lossy, or raw bytes), and a
 * streaming decoder that only ever emits complete UTF-8.
 *
 * Lossy means: every maximal invalid subpart of the byte string becomes one
 * U+FFFD (the Unicode-recommended practice Rust implements). The streaming
 * decoder applies the same rule incrementally, holding back a tail that may
 * still become a valid character, so the concatenation of everything it
 * emits (flush included) equals mono_tokenizer_decode of all the ids.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

static const uint8_t REPLACEMENT[3] = {0xEF, 0xBF, 0xBD};

typedef struct byte_buf {
    uint8_t *p;
    size_t n, cap;
} byte_buf;

static int buf_reserve(byte_buf *b, size_t extra) {
    size_t need;
    if (!mono_size_add(b->n, extra, &need)) return 0;
    if (need <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (!mono_size_mul(cap, 2, &cap)) return 0;
    }
    uint8_t *p = realloc(b->p, cap);
    if (!p) return 0;
    b->p = p;
    b->cap = cap;
    return 1;
}

/* Converts s[0..n) lossily, appending to out (which must have room for
 * 3 * n bytes). Unless final, stops before a tail that is an incomplete
 * but so far valid sequence. Returns how many input bytes it used. */
static size_t lossy_convert(const uint8_t *s, size_t n, byte_buf *out, int final) {
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            out->p[out->n++] = s[i++];
            continue;
        }
        uint32_t cp;
        size_t k = mono_utf8_decode(s + i, n - i, &cp);
        if (k) {
            memcpy(out->p + out->n, s + i, k);
            out->n += k;
            i += k;
            continue;
        }
        size_t m = mono_utf8_maximal_subpart(s + i, n - i);
        if (!final && i + m == n && m < mono_utf8_seq_len(s[i])) break;   /* may complete later */
        memcpy(out->p + out->n, REPLACEMENT, 3);
        out->n += 3;
        i += m;
    }
    return i;
}

static mono_status check_id(const mono_tokenizer *t, int32_t id, mono_error *err) {
    if (id < 0 || id >= t->n_vocab || !(t->attr[id] & MONO_TOK_PRESENT))
        return mono_error_set(err, MONO_ERR_RANGE, "token id %ld is not in the vocabulary (size %ld)", (long)id,
                              (long)t->n_vocab);
    return MONO_OK;
}

static mono_status decode_impl(const mono_tokenizer *t, const int32_t *ids, size_t n, unsigned flags, char **text,
                               size_t *len, mono_error *err) {
    int lossy = !(flags & MONO_DECODE_RAW_BYTES);
    if (!t || !text || (!ids && n)) return mono_error_set(err, MONO_ERR_INVALID_ARG, "decode: NULL argument");
    *text = NULL;
    if (len) *len = 0;
    byte_buf raw = {0};
    for (size_t i = 0; i < n; i++) {
        mono_status st = check_id(t, ids[i], err);
        if (st == MONO_OK && (flags & MONO_DECODE_SKIP_SPECIAL) && (t->attr[ids[i]] & MONO_TOK_SPECIAL)) continue;
        if (st == MONO_OK && !buf_reserve(&raw, t->bytes_len[ids[i]]))
            st = mono_error_set(err, MONO_ERR_NOMEM, "out of memory (decode)");
        if (st != MONO_OK) {
            free(raw.p);
            return st;
        }
        if (t->bytes_len[ids[i]]) memcpy(raw.p + raw.n, t->bytes + t->bytes_off[ids[i]], t->bytes_len[ids[i]]);
        raw.n += t->bytes_len[ids[i]];
    }
    byte_buf out = {0};
    size_t worst;
    if (!lossy) {
        out = raw;
        raw.p = NULL;
    } else if (!mono_size_mul(raw.n, 3, &worst) || !buf_reserve(&out, worst)) {
        free(raw.p);
        return mono_error_set(err, MONO_ERR_NOMEM, "out of memory (decode)");
    } else {
        lossy_convert(raw.p, raw.n, &out, 1);
    }
    free(raw.p);
    if (!buf_reserve(&out, 1)) {
        free(out.p);
        return mono_error_set(err, MONO_ERR_NOMEM, "out of memory (decode)");
    }
    out.p[out.n] = 0;
    *text = (char *)out.p;
    if (len) *len = out.n;
    return MONO_OK;
}

mono_status mono_tokenizer_decode(const mono_tokenizer *tok, const int32_t *ids, size_t n, char **text, size_t *len,
                                  mono_error *err) {
    return decode_impl(tok, ids, n, 0, text, len, err);
}

mono_status mono_tokenizer_decode_bytes(const mono_tokenizer *tok, const int32_t *ids, size_t n, char **bytes,
                                        size_t *len, mono_error *err) {
    return decode_impl(tok, ids, n, MONO_DECODE_RAW_BYTES, bytes, len, err);
}

mono_status mono_tokenizer_decode_ex(const mono_tokenizer *tok, const int32_t *ids, size_t n, unsigned flags,
                                     char **text, size_t *len, mono_error *err) {
    return decode_impl(tok, ids, n, flags, text, len, err);
}

/* ---- streaming ----------------------------------------------------------- */

struct mono_detok {
    const mono_tokenizer *tok;
    uint8_t pending[4];     /* an incomplete UTF-8 sequence held back */
    size_t n_pending;
    byte_buf work, out;
};

mono_status mono_detok_init(const mono_tokenizer *tok, mono_detok **out, mono_error *err) {
    if (!out) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_detok_init: out is NULL");
    *out = NULL;
    if (!tok) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_detok_init: tokenizer is NULL");
    mono_detok *d = calloc(1, sizeof *d);
    if (!d) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    d->tok = tok;
    *out = d;
    return MONO_OK;
}

static mono_status detok_run(mono_detok *d, const uint8_t *b, size_t n, int final, const char **text, size_t *len,
                             mono_error *err) {
    d->work.n = d->out.n = 0;
    if (!buf_reserve(&d->work, d->n_pending + n) || !buf_reserve(&d->out, 3 * (d->n_pending + n) + 1))
        return mono_error_set(err, MONO_ERR_NOMEM, "out of memory (streaming decode)");
    if (d->n_pending) memcpy(d->work.p, d->pending, d->n_pending);
    if (n) memcpy(d->work.p + d->n_pending, b, n);
    d->work.n = d->n_pending + n;
    size_t used = lossy_convert(d->work.p, d->work.n, &d->out, final);
    d->n_pending = d->work.n - used;   /* at most 3 bytes: an incomplete sequence */
    if (d->n_pending) memcpy(d->pending, d->work.p + used, d->n_pending);
    d->out.p[d->out.n] = 0;
    *text = (const char *)d->out.p;
    if (len) *len = d->out.n;
    return MONO_OK;
}

mono_status mono_detok_push(mono_detok *d, int32_t id, const char **text, size_t *len, mono_error *err) {
    if (!d || !text) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_detok_push: NULL argument");
    *text = "";
    if (len) *len = 0;
    mono_status st = check_id(d->tok, id, err);
    if (st != MONO_OK) return st;
    const mono_tokenizer *t = d->tok;
    return detok_run(d, t->bytes + t->bytes_off[id], t->bytes_len[id], 0, text, len, err);
}

mono_status mono_detok_flush(mono_detok *d, const char **text, size_t *len, mono_error *err) {
    if (!d || !text) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_detok_flush: NULL argument");
    *text = "";
    if (len) *len = 0;
    return detok_run(d, NULL, 0, 1, text, len, err);
}

void mono_detok_reset(mono_detok *d) {
    if (d) d->n_pending = 0;
}

void mono_detok_free(mono_detok *d) {
    if (!d) return;
    free(d->work.p);
    free(d->out.p);
    free(d);
}
