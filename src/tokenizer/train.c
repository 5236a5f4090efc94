/*
 * train.c -- the byte-level BPE trainer's front half: options, special
 * tokens, and counting the pre-tokenized pieces of the training text; plus
 * the public mono_tokenizer_train_* entry points. The merge loop itself is in
 * train_merge.c.
 *
 * Text goes through the same steps as when encoding, so the merges are
 * learned on exactly the pieces the encoder will later see:
 *   1. special tokens are cut out of the raw text (leftmost-longest match,
 *      as HF's added-vocabulary split) and never learned from;
 *   2. each stretch between them is NFC-normalized (when opts.nfc);
 *   3. split by the shared pre-tokenizer scanner (pretok.h);
 *   4. each piece is counted in a hash map (piece bytes -> occurrences).
 */
#include "tokenizer/train_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/file.h"
#include "tokenizer/nfc.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

/* Files are fed in chunks of about this size (see feed_file). */
#define FEED_CHUNK (4u << 20)

void mono_train_options_init(mono_train_options *opts) {
    memset(opts, 0, sizeof *opts);
    opts->vocab_size = 8192;
    opts->pretokenizer = MONO_PRETOK_QWEN2;
    opts->nfc = 1;
    opts->min_frequency = 0;
}

/* ---- piece counting ----------------------------------------------------- */

uint64_t mono_train_hash(const uint8_t *s, size_t n) {
    /* FNV-1a, then a final mix so the low bits (the slot index) are good. */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h;
}

static mono_status pieces_grow(mono_trainer *tr, mono_error *err) {
    size_t cap = tr->slot_cap ? tr->slot_cap * 2 : 1024;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots) return mono_error_set(err, MONO_ERR_NOMEM, "training: out of memory (piece table)");
    for (size_t i = 0; i < tr->n_pieces; i++) {
        size_t s = tr->pieces[i].hash & (cap - 1);
        while (slots[s]) s = (s + 1) & (cap - 1);
        slots[s] = (uint32_t)i + 1;
    }
    free(tr->slots);
    tr->slots = slots;
    tr->slot_cap = cap;
    return MONO_OK;
}

static mono_status piece_count(mono_trainer *tr, const uint8_t *s, size_t n, mono_error *err) {
    if (n > UINT32_MAX) return mono_error_set(err, MONO_ERR_RANGE, "training: a piece of %zu bytes is too long", n);
    if ((tr->n_pieces + 1) * 2 > tr->slot_cap) {
        mono_status st = pieces_grow(tr, err);
        if (st != MONO_OK) return st;
    }
    uint64_t h = mono_train_hash(s, n);
    size_t mask = tr->slot_cap - 1, slot = h & mask;
    for (;;) {
        uint32_t e = tr->slots[slot];
        if (!e) break;
        mono_train_piece *p = &tr->pieces[e - 1];
        if (p->hash == h && p->len == n && !memcmp(tr->arena + p->off, s, n)) {
            p->count++;
            return MONO_OK;
        }
        slot = (slot + 1) & mask;
    }
    if (tr->n_pieces >= UINT32_MAX - 1)
        return mono_error_set(err, MONO_ERR_RANGE, "training: more than 4 billion distinct pieces");
    if (tr->n_pieces == tr->pieces_cap) {
        size_t cap = tr->pieces_cap ? tr->pieces_cap * 2 : 1024;
        mono_train_piece *np = realloc(tr->pieces, cap * sizeof *np);
        if (!np) return mono_error_set(err, MONO_ERR_NOMEM, "training: out of memory (pieces)");
        tr->pieces = np;
        tr->pieces_cap = cap;
    }
    size_t need;
    if (!mono_size_add(tr->arena_len, n, &need))
        return mono_error_set(err, MONO_ERR_NOMEM, "training: piece arena overflow");
    if (need > tr->arena_cap) {
        size_t cap = tr->arena_cap ? tr->arena_cap : 1u << 16;
        while (cap < need) cap *= 2;
        uint8_t *na = realloc(tr->arena, cap);
        if (!na) return mono_error_set(err, MONO_ERR_NOMEM, "training: out of memory (piece bytes)");
        tr->arena = na;
        tr->arena_cap = cap;
    }
    memcpy(tr->arena + tr->arena_len, s, n);
    mono_train_piece *p = &tr->pieces[tr->n_pieces];
    p->hash = h;
    p->off = tr->arena_len;
    p->len = (uint32_t)n;
    p->count = 1;
    tr->arena_len = need;
    tr->slots[slot] = (uint32_t)++tr->n_pieces;
    return MONO_OK;
}

/* Pre-tokenizes one stretch of (normalized) text and counts its pieces. */
static mono_status count_pieces(mono_trainer *tr, const uint8_t *s, size_t n, mono_error *err) {
    size_t pos = 0;
    while (pos < n) {
        size_t end = mono_pretok_next(tr->pretok, s, n, pos);
        mono_status st = piece_count(tr, s + pos, end - pos, err);
        if (st != MONO_OK) return st;
        tr->n_piece_total++;
        pos = end;
    }
    return MONO_OK;
}

/* Appends s[0..n) unchanged to the NFC buffer. */
static mono_status norm_append_raw(mono_trainer *tr, const uint8_t *s, size_t n, mono_error *err) {
    if (tr->norm_cap - tr->norm_len < n) {
        size_t cap = tr->norm_cap ? tr->norm_cap : 1u << 16;
        while (cap - tr->norm_len < n) cap *= 2;
        uint8_t *b = realloc(tr->norm, cap);
        if (!b) return mono_error_set(err, MONO_ERR_NOMEM, "training: out of memory (NFC buffer)");
        tr->norm = b;
        tr->norm_cap = cap;
    }
    memcpy(tr->norm + tr->norm_len, s, n);
    tr->norm_len += n;
    return MONO_OK;
}

/* One stretch between special tokens: normalize, then count. NFC works
 * line by line here: '\n' is a starter that composes with nothing, so
 * NFC(x "\n" y) = NFC(x) "\n" NFC(y), and only lines that fail the quick
 * check pay for the full algorithm. */
static mono_status feed_plain(mono_trainer *tr, const uint8_t *s, size_t n, mono_error *err) {
    if (n == 0) return MONO_OK;
    if (!tr->nfc || mono_nfc_quick_check(s, n)) return count_pieces(tr, s, n, err);
    tr->norm_len = 0;   /* the buffer is reused from stretch to stretch */
    mono_status st = MONO_OK;
    for (size_t pos = 0; pos < n && st == MONO_OK;) {
        const uint8_t *nl = memchr(s + pos, '\n', n - pos);
        size_t end = nl ? (size_t)(nl - s) + 1 : n;
        if (mono_nfc_quick_check(s + pos, end - pos)) st = norm_append_raw(tr, s + pos, end - pos, err);
        else st = mono_nfc_append(s + pos, end - pos, &tr->norm, &tr->norm_len, &tr->norm_cap, err);
        pos = end;
    }
    if (st != MONO_OK) return st;
    return count_pieces(tr, tr->norm, tr->norm_len, err);
}

/* Length of the longest special token starting at s[0..n), or 0. */
static size_t special_at(const mono_trainer *tr, const uint8_t *s, size_t n) {
    size_t best = 0;
    for (uint32_t i = 0; i < tr->n_special; i++) {
        size_t k = tr->special_len[i];
        if (k > best && k <= n && !memcmp(s, tr->special[i], k)) best = k;
    }
    return best;
}

/* Cuts special tokens out of one text and feeds the stretches between. */
static mono_status feed_split(mono_trainer *tr, const uint8_t *text, size_t len, mono_error *err) {
    if (tr->n_special == 0) return feed_plain(tr, text, len, err);
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (!tr->special_first[text[i]]) continue;
        size_t k = special_at(tr, text + i, len - i);
        if (!k) continue;
        mono_status st = feed_plain(tr, text + start, i - start, err);
        if (st != MONO_OK) return st;
        i += k - 1;
        start = i + 1;
    }
    return feed_plain(tr, text + start, len - start, err);
}

mono_status mono_trainer_feed(mono_trainer *tr, const uint8_t *text, size_t len, mono_error *err) {
    if (!tr || (!text && len)) return mono_error_set(err, MONO_ERR_INVALID_ARG, "training: NULL argument");
    tr->n_bytes += len;
    return feed_split(tr, text, len, err);
}

/* Where a chunk may end at or after `from` (> 0): just after a '\n' that
 * follows a printable non-space ASCII character and is followed by an ASCII
 * letter. Then that '\n' is a piece of its own under both patterns, at the
 * end of a chunk too: letters only take a non-newline prefix, punctuation
 * runs stop before letters, and with a non-space before it no whitespace run
 * (whose split can depend on what follows) reaches across it. NFC never
 * composes across '\n'. So pieces and counts are the same as feeding the
 * text whole. Returns n when there is no such place. */
static size_t chunk_end(const uint8_t *s, size_t n, size_t from) {
    for (size_t i = from; i + 1 < n; i++) {
        const uint8_t *nl = memchr(s + i, '\n', n - 1 - i);
        if (!nl) return n;
        i = (size_t)(nl - s);
        uint8_t c = s[i + 1] | 0x20, p = s[i - 1];
        if (c >= 'a' && c <= 'z' && p > 0x20 && p < 0x7F) return i + 1;
    }
    return n;
}

mono_status mono_trainer_feed_file(mono_trainer *tr, const char *path, mono_error *err) {
    if (!tr || !path) return mono_error_set(err, MONO_ERR_INVALID_ARG, "training: NULL argument");
    mono_blob blob = {0};
    mono_status st = mono_blob_open(&blob, path, err);
    if (st != MONO_OK) return st;
    const uint8_t *s = blob.data;
    size_t n = blob.size;
    tr->n_bytes += n;
    /* Chunking is exact only when no special token could straddle a cut. */
    int can_chunk = 1;
    for (uint32_t i = 0; i < tr->n_special; i++)
        if (memchr(tr->special[i], '\n', tr->special_len[i])) can_chunk = 0;
    size_t pos = 0;
    while (pos < n && st == MONO_OK) {
        size_t end = (can_chunk && n - pos > tr->chunk_size) ? chunk_end(s, n, pos + tr->chunk_size) : n;
        st = feed_split(tr, s + pos, end - pos, err);
        pos = end;
    }
    mono_blob_close(&blob);
    if (st != MONO_OK) mono_error_prefix(err, "%s", path);
    return st;
}

/* ---- options and special tokens ---------------------------------------- */

/* The byte string whose byte-level spelling is the special token's text, or
 * 0 if some character is outside the byte-level alphabet. A learned token
 * with those bytes would share the special's vocabulary key in
 * tokenizer.json, so the merge loop refuses to create it. */
static size_t special_as_bytes(const uint8_t *s, size_t n, uint8_t *out) {
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = mono_utf8_decode(s + i, n - i, &cp);
        if (!len) return 0;
        int found = mono_bytelevel_byte(cp);
        if (found < 0) return 0;
        out[k++] = (uint8_t)found;
        i += len;
    }
    return k;
}

mono_status mono_trainer_init(mono_trainer **out, const mono_train_options *opts, mono_error *err) {
    if (!out || !opts) return mono_error_set(err, MONO_ERR_INVALID_ARG, "training: NULL argument");
    *out = NULL;
    if (opts->pretokenizer != MONO_PRETOK_QWEN2 && opts->pretokenizer != MONO_PRETOK_GPT2)
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "training: unknown pre-tokenizer %d", opts->pretokenizer);
    if (opts->n_special > 65536)
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "training: too many special tokens (%zu)", opts->n_special);
    if (opts->n_special && !opts->special_tokens)
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "training: n_special is set but special_tokens is NULL");
    if ((uint64_t)opts->vocab_size < 256 + (uint64_t)opts->n_special)
        return mono_error_set(err, MONO_ERR_INVALID_ARG,
                              "training: vocabulary size %u is too small: it must be at least 256 (bytes) + %zu "
                              "(special tokens) = %zu", opts->vocab_size, opts->n_special, 256 + opts->n_special);
    mono_trainer *tr = calloc(1, sizeof *tr);
    if (!tr) return mono_error_set(err, MONO_ERR_NOMEM, "training: out of memory");
    tr->vocab_size = opts->vocab_size;
    tr->chunk_size = FEED_CHUNK;
    tr->pretok = (mono_pretok_kind)opts->pretokenizer;
    tr->nfc = opts->nfc ? 1 : 0;
    tr->min_frequency = opts->min_frequency;
    tr->n_special = (uint32_t)opts->n_special;
    if (tr->n_special) {
        tr->special = calloc(tr->n_special, sizeof *tr->special);
        tr->special_len = calloc(tr->n_special, sizeof *tr->special_len);
        if (!tr->special || !tr->special_len) {
            mono_trainer_free(tr);
            return mono_error_set(err, MONO_ERR_NOMEM, "training: out of memory");
        }
    }
    for (uint32_t i = 0; i < tr->n_special; i++) {
        const char *s = opts->special_tokens[i];
        mono_status st = MONO_OK;
        size_t n = s ? strlen(s) : 0;
        if (!s || n == 0)
            st = mono_error_set(err, MONO_ERR_INVALID_ARG, "training: special token %u is empty", i);
        else if (mono_utf8_valid_prefix(s, n) != n)
            st = mono_error_set(err, MONO_ERR_INVALID_ARG, "training: special token %u is not valid UTF-8", i);
        for (uint32_t j = 0; st == MONO_OK && j < i; j++)
            if (!strcmp(tr->special[j], s))
                st = mono_error_set(err, MONO_ERR_INVALID_ARG, "training: special token '%s' is given twice", s);
        if (st == MONO_OK) {
            uint8_t *raw = malloc(n);
            size_t rn = raw ? special_as_bytes((const uint8_t *)s, n, raw) : 0;
            if (rn == 1)
                st = mono_error_set(err, MONO_ERR_INVALID_ARG,
                                    "training: special token '%s' is a single byte-level character; it would "
                                    "collide with the byte alphabet", s);
            free(raw);
        }
        if (st == MONO_OK && !(tr->special[i] = malloc(n + 1)))
            st = mono_error_set(err, MONO_ERR_NOMEM, "training: out of memory");
        if (st != MONO_OK) {
            mono_trainer_free(tr);
            return st;
        }
        memcpy(tr->special[i], s, n + 1);
        tr->special_len[i] = n;
        tr->special_first[(uint8_t)s[0]] = 1;
    }
    *out = tr;
    return MONO_OK;
}

void mono_trainer_free(mono_trainer *tr) {
    if (!tr) return;
    for (uint32_t i = 0; i < tr->n_special; i++) free(tr->special ? tr->special[i] : NULL);
    free(tr->special);
    free(tr->special_len);
    free(tr->slots);
    free(tr->pieces);
    free(tr->arena);
    free(tr->norm);
    free(tr);
}

/* The raw byte strings a learned token must never equal (see above). */
size_t mono_trainer_forbidden(const mono_trainer *tr, uint32_t i, uint8_t *out) {
    return special_as_bytes((const uint8_t *)tr->special[i], tr->special_len[i], out);
}

/* ---- public wrappers ---------------------------------------------------- */

typedef mono_status (*feed_fn)(mono_trainer *tr, size_t i, const void *a, const void *b, mono_error *err);

static mono_status feed_path(mono_trainer *tr, size_t i, const void *a, const void *b, mono_error *err) {
    (void)b;
    const char *const *paths = a;
    if (!paths[i]) return mono_error_set(err, MONO_ERR_INVALID_ARG, "training: file name %zu is NULL", i);
    return mono_trainer_feed_file(tr, paths[i], err);
}

static mono_status feed_text(mono_trainer *tr, size_t i, const void *a, const void *b, mono_error *err) {
    const char *const *texts = a;
    const size_t *lens = b;
    return mono_trainer_feed(tr, (const uint8_t *)texts[i], lens[i], err);
}

static mono_status train_any(size_t n, feed_fn feed, const void *a, const void *b, const mono_train_options *opts,
                             char **json, size_t *json_len, mono_train_stats *stats, mono_error *err) {
    if (!json || (n && !a)) return mono_error_set(err, MONO_ERR_INVALID_ARG, "training: NULL argument");
    *json = NULL;
    if (json_len) *json_len = 0;
    mono_trainer *tr = NULL;
    mono_status st = mono_trainer_init(&tr, opts, err);
    for (size_t i = 0; st == MONO_OK && i < n; i++) st = feed(tr, i, a, b, err);
    mono_bpe_model *m = NULL;
    if (st == MONO_OK) st = mono_trainer_finish(tr, &m, stats, err);
    mono_trainer_free(tr);
    size_t len = 0;
    if (st == MONO_OK) st = mono_bpe_model_to_json(m, json, &len, err);
    mono_bpe_model_free(m);
    if (st == MONO_OK && json_len) *json_len = len;
    return st;
}

mono_status mono_tokenizer_train_files(const char *const *paths, size_t n_paths, const mono_train_options *opts,
                                       char **json, size_t *json_len, mono_train_stats *stats, mono_error *err) {
    if (n_paths == 0) return mono_error_set(err, MONO_ERR_INVALID_ARG, "training: no input files");
    return train_any(n_paths, feed_path, paths, NULL, opts, json, json_len, stats, err);
}

mono_status mono_tokenizer_train_texts(const char *const *texts, const size_t *lens, size_t n_texts,
                                       const mono_train_options *opts, char **json, size_t *json_len,
                                       mono_train_stats *stats, mono_error *err) {
    if (n_texts && !lens) return mono_error_set(err, MONO_ERR_INVALID_ARG, "training: NULL argument");
    return train_any(n_texts, feed_text, texts, lens, opts, json, json_len, stats, err);
}
