/*
 * encode.c -- text to token ids, in Hugging Face's order of steps:
 *
 *   1. find added tokens that are not "normalized" in the raw text
 *      (leftmost-longest, then the single_word / lstrip / rstrip rules);
 *   2. normalize (NFC) each stretch of text between them;
 *   3. find the "normalized" added tokens in the normalized stretches;
 *   4. pre-tokenize what is left (Split regex, ByteLevel prefix space,
 *      ByteLevel regex) and run BPE on every piece (bpe.c).
 *
 * A mono_encoder holds the scratch space and the piece cache; the
 * one-shot mono_tokenizer_encode makes a temporary one.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tokenizer/encoder.h"
#include "tokenizer/nfc.h"
#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

mono_status mono_encoder_init(const mono_tokenizer *tok, mono_encoder **out, mono_error *err) {
    if (!out) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_encoder_init: out is NULL");
    *out = NULL;
    if (!tok) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_encoder_init: tokenizer is NULL");
    mono_encoder *e = calloc(1, sizeof *e);
    if (!e) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    e->tok = tok;
    *out = e;
    return MONO_OK;
}

void mono_encoder_free(mono_encoder *e) {
    if (!e) return;
    mono_bpe_scratch_free(e);
    free(e);
}

/* ---- step 4: pre-tokenization ------------------------------------------ */

/* A piece ready for BPE, or for the caller of mono_encoder_pieces. */
static mono_status bpe_or_report(mono_encoder *e, const uint8_t *p, size_t n, mono_error *err) {
    if (!e->on_piece) return mono_bpe_piece(e, p, n, err);
    e->on_piece(e->on_piece_user, (const char *)p, n, -1);
    return MONO_OK;
}

static mono_status bytelevel_piece(mono_encoder *e, const uint8_t *p, size_t n, mono_error *err) {
    const mono_tok_pipeline *pipe = &e->tok->pipe;
    if (pipe->add_prefix_space && p[0] != ' ') {
        if (n + 1 > e->piece_cap) {
            size_t cap = e->piece_cap ? e->piece_cap : 256;
            while (cap < n + 1) cap *= 2;
            uint8_t *b = realloc(e->piece, cap);
            if (!b) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
            e->piece = b;
            e->piece_cap = cap;
        }
        e->piece[0] = ' ';
        memcpy(e->piece + 1, p, n);
        p = e->piece;
        n++;
    }
    if (!pipe->bytelevel_regex) return bpe_or_report(e, p, n, err);
    for (size_t pos = 0; pos < n;) {
        size_t end = mono_pretok_next(MONO_PRETOK_GPT2, p, n, pos);
        mono_status st = bpe_or_report(e, p + pos, end - pos, err);
        if (st != MONO_OK) return st;
        pos = end;
    }
    return MONO_OK;
}

static mono_status pretokenize(mono_encoder *e, const uint8_t *s, size_t n, mono_error *err) {
    const mono_tok_pipeline *pipe = &e->tok->pipe;
    if (!n) return MONO_OK;
    if (!pipe->split) return bytelevel_piece(e, s, n, err);
    for (size_t pos = 0; pos < n;) {
        size_t end = mono_pretok_next(pipe->split_kind, s, n, pos);
        mono_status st = bytelevel_piece(e, s + pos, end - pos, err);
        if (st != MONO_OK) return st;
        pos = end;
    }
    return MONO_OK;
}

/* ---- steps 1 and 3: added tokens ---------------------------------------- */

static uint8_t props_at(const uint8_t *s, size_t n, size_t pos, size_t *k) {
    uint32_t cp;
    *k = mono_utf8_next(s, n, pos, &cp);
    return cp == MONO_UTF8_INVALID ? 0 : mono_unicode_props(cp);
}

/* Start of the code point that ends at pos (> 0); invalid bytes count alone. */
static size_t prev_start(const uint8_t *s, size_t n, size_t pos) {
    for (size_t back = 1; back <= 4 && back <= pos; back++) {
        uint32_t cp;
        if ((s[pos - back] & 0xC0) == 0x80 && back < 4) continue;
        size_t k = mono_utf8_decode(s + pos - back, n - (pos - back), &cp);
        return k == back ? pos - back : pos - 1;
    }
    return pos - 1;
}

/* Appends a match to level `lvl`'s list. */
static mono_status add_match(mono_encoder *e, int lvl, size_t start, size_t stop, int32_t id, mono_error *err) {
    if (e->n_matches[lvl] == e->cap_matches[lvl]) {
        size_t cap = e->cap_matches[lvl] ? e->cap_matches[lvl] * 2 : 16;
        mono_added_match *m = realloc(e->matches[lvl], cap * sizeof *m);
        if (!m) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
        e->matches[lvl] = m;
        e->cap_matches[lvl] = cap;
    }
    e->matches[lvl][e->n_matches[lvl]++] = (mono_added_match){start, stop, id};
    return MONO_OK;
}

/* Hugging Face's AddedVocabulary::find_matches: leftmost-longest matches of
 * the added tokens with normalized == lvl, then each one's flags. */
static mono_status find_added(mono_encoder *e, int lvl, const uint8_t *s, size_t n, unsigned flags, mono_error *err) {
    const mono_tokenizer *t = e->tok;
    e->n_matches[lvl] = 0;
    size_t start_offset = 0;
    int only = t->added_only_first[lvl];
    if (only == -2) return MONO_OK;   /* no added tokens at this level */
    for (size_t i = 0; i < n;) {
        if (only >= 0) {   /* all these tokens start with one byte ('<'): memchr to it */
            const uint8_t *q = memchr(s + i, only, n - i);
            if (!q) break;
            i = (size_t)(q - s);
        } else if (!t->added_first[lvl][s[i]]) {
            i++;
            continue;
        }
        const mono_added_token *best = NULL;
        for (size_t j = 0; j < t->n_added; j++) {
            const mono_added_token *a = &t->added[j];
            if (a->normalized != lvl || a->norm_len > n - i || (best && a->norm_len <= best->norm_len)) continue;
            if (!memcmp(s + i, t->text + a->norm_off, a->norm_len)) best = a;
        }
        if (!best) {
            i++;
            continue;
        }
        size_t start = i, stop = i + best->norm_len, k;
        i = stop;
        if ((flags & MONO_ENCODE_SPECIAL_AS_TEXT) && best->special) continue;
        if (best->single_word) {   /* HF: regexes \w$ before and ^\w after */
            int before_word = start > 0 && (props_at(s, n, prev_start(s, n, start), &k) & MONO_UCP_WORD);
            int after_word = stop < n && (props_at(s, n, stop, &k) & MONO_UCP_WORD);
            if (before_word || after_word) continue;
        }
        if (best->lstrip) {
            size_t ns = start;
            while (ns > 0) {
                size_t ps = prev_start(s, n, ns);
                if (!(props_at(s, n, ps, &k) & MONO_UCP_SPACE)) break;
                ns = ps;
            }
            start = ns > start_offset ? ns : start_offset;
        }
        if (best->rstrip) {
            while (stop < n && (props_at(s, n, stop, &k) & MONO_UCP_SPACE)) stop += k;
        }
        mono_status st = add_match(e, lvl, start, stop, best->id, err);
        if (st != MONO_OK) return st;
        start_offset = stop;
    }
    return MONO_OK;
}

/* Runs `segment` on the stretches between the level's matches and pushes
 * the matched ids, replaying Hugging Face's split list (which can repeat
 * text when an rstrip reaches past the next match). */
static mono_status split_by_matches(mono_encoder *e, int lvl, const uint8_t *s, size_t n,
                                    mono_status (*segment)(mono_encoder *, const uint8_t *, size_t, unsigned, mono_error *),
                                    unsigned flags, mono_error *err) {
    size_t off = 0;
    mono_status st;
    for (size_t i = 0; i < e->n_matches[lvl]; i++) {
        mono_added_match m = e->matches[lvl][i];
        if (off < m.start && (st = segment(e, s + off, m.start - off, flags, err)) != MONO_OK) return st;
        if (e->on_piece) {
            const mono_tokenizer *t = e->tok;
            e->on_piece(e->on_piece_user, t->text + t->text_off[m.id], t->text_len[m.id], m.id);
        } else if ((st = mono_encoder_push(e, m.id, err)) != MONO_OK) {
            return st;
        }
        off = m.stop;
    }
    if (off < n) return segment(e, s + off, n - off, flags, err);
    return MONO_OK;
}

static mono_status pretok_segment(mono_encoder *e, const uint8_t *s, size_t n, unsigned flags, mono_error *err) {
    (void)flags;
    return pretokenize(e, s, n, err);
}

/* ---- step 2: normalization ---------------------------------------------- */

static mono_status normalized_segment(mono_encoder *e, const uint8_t *s, size_t n, unsigned flags, mono_error *err) {
    const mono_tokenizer *t = e->tok;
    if (t->pipe.nfc && !mono_nfc_quick_check(s, n)) {
        e->norm_len = 0;
        mono_status st = mono_nfc_append(s, n, &e->norm, &e->norm_len, &e->norm_cap, err);
        if (st != MONO_OK) return st;
        s = e->norm;
        n = e->norm_len;
    }
    if (!t->has_normalized_added) return pretokenize(e, s, n, err);
    mono_status st = find_added(e, 1, s, n, flags, err);
    if (st != MONO_OK) return st;
    return split_by_matches(e, 1, s, n, pretok_segment, flags, err);
}

mono_status mono_encoder_encode(mono_encoder *e, const char *text, size_t len, unsigned flags, int32_t **ids,
                                size_t *n_ids, mono_error *err) {
    if (!e || !ids || !n_ids) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_encoder_encode: NULL argument");
    *ids = NULL;
    *n_ids = 0;
    if (!text && len) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_encoder_encode: text is NULL");
    const uint8_t *s = (const uint8_t *)text;
    e->n_ids = 0;
    mono_status st = MONO_OK;
    if (len) {
        st = find_added(e, 0, s, len, flags, err);
        if (st == MONO_OK) st = split_by_matches(e, 0, s, len, normalized_segment, flags, err);
    }
    if (st != MONO_OK) return st;
    int32_t *out = malloc((e->n_ids ? e->n_ids : 1) * sizeof *out);
    if (!out) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory (token ids)");
    if (e->n_ids) memcpy(out, e->ids, e->n_ids * sizeof *out);
    *ids = out;
    *n_ids = e->n_ids;
    return MONO_OK;
}

mono_status mono_tokenizer_encode(const mono_tokenizer *tok, const char *text, size_t len, unsigned flags,
                                  int32_t **ids, size_t *n_ids, mono_error *err) {
    if (ids) *ids = NULL;
    if (n_ids) *n_ids = 0;
    mono_encoder *e;
    mono_status st = mono_encoder_init(tok, &e, err);
    if (st != MONO_OK) return st;
    st = mono_encoder_encode(e, text, len, flags, ids, n_ids, err);
    mono_encoder_free(e);
    return st;
}

mono_status mono_encoder_pieces(mono_encoder *e, const char *text, size_t len, unsigned flags, mono_piece_fn fn,
                                void *user, mono_error *err) {
    if (!e || !fn) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_encoder_pieces: NULL argument");
    if (!text && len) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_encoder_pieces: text is NULL");
    e->on_piece = fn;
    e->on_piece_user = user;
    mono_status st = MONO_OK;
    if (len) {
        const uint8_t *s = (const uint8_t *)text;
        st = find_added(e, 0, s, len, flags, err);
        if (st == MONO_OK) st = split_by_matches(e, 0, s, len, normalized_segment, flags, err);
    }
    e->on_piece = NULL;
    e->on_piece_user = NULL;
    return st;
}
