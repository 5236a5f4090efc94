/*
 * vocab.c -- building a mono_tokenizer: the vocabulary, its string index,
 * the merge table and the added tokens, checked as they arrive so a loader
 * can report the first inconsistency by name (see tokenizer.h for the order
 * of calls). Also GPT-2's byte <-> character alphabet.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tokenizer/nfc.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

#define MAX_VOCAB (1 << 24)

/* Bytes 33..126, 161..172 and 174..255 stand for themselves; the other 68
 * (0..32, 127..160, 173) take U+0100.. in byte order. */
uint32_t mono_bytelevel_char(uint8_t b) {
    if (b <= 32) return 256u + b;
    if (b >= 127 && b <= 160) return 256u + 33 + (b - 127u);
    if (b == 173) return 256u + 67;
    return b;
}

int mono_bytelevel_byte(uint32_t cp) {
    if ((cp >= 33 && cp <= 126) || (cp >= 161 && cp <= 172) || (cp >= 174 && cp <= 255)) return (int)cp;
    if (cp < 256 || cp >= 256 + 68) return -1;
    uint32_t n = cp - 256;
    if (n < 33) return (int)n;
    if (n < 67) return (int)(127 + n - 33);
    return 173;
}

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

mono_status mono_tok_create(int32_t n_vocab, mono_tokenizer **out, mono_error *err) {
    *out = NULL;
    if (n_vocab <= 0 || n_vocab > MAX_VOCAB)
        return mono_error_set(err, MONO_ERR_FORMAT, "vocabulary size %ld is out of range (1..%d)", (long)n_vocab,
                              MAX_VOCAB);
    mono_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    size_t n = (size_t)n_vocab;
    t->n_vocab = n_vocab;
    t->text_off = calloc(n, sizeof *t->text_off);
    t->text_len = calloc(n, sizeof *t->text_len);
    t->bytes_off = calloc(n, sizeof *t->bytes_off);
    t->bytes_len = calloc(n, sizeof *t->bytes_len);
    t->attr = calloc(n, 1);
    t->bos_id = t->eos_id = t->pad_id = -1;
    t->pipe.unk_id = -1;
    for (int b = 0; b < 256; b++) t->byte_id[b] = -1;
    if (!t->text_off || !t->text_len || !t->bytes_off || !t->bytes_len || !t->attr) {
        mono_tokenizer_free(t);
        return mono_error_set(err, MONO_ERR_NOMEM, "out of memory (vocabulary of %ld)", (long)n_vocab);
    }
    *out = t;
    return MONO_OK;
}

/* Appends s[0..len) and a NUL to the text arena; stores its offset. */
static mono_status text_append(mono_tokenizer *t, const char *s, size_t len, uint32_t *off, mono_error *err) {
    size_t need;
    if (!mono_size_add(t->text_size, len + 1, &need) || need > UINT32_MAX)
        return mono_error_set(err, MONO_ERR_FORMAT, "vocabulary strings exceed 4 GiB");
    if (need > t->text_cap) {
        size_t cap = t->text_cap ? t->text_cap : 1 << 16;
        while (cap < need) cap *= 2;
        char *p = realloc(t->text, cap);
        if (!p) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
        t->text = p;
        t->text_cap = cap;
    }
    if (len) memcpy(t->text + t->text_size, s, len);
    t->text[t->text_size + len] = 0;
    *off = (uint32_t)t->text_size;
    t->text_size = need;
    return MONO_OK;
}

/* printf arguments for at most max bytes of a string that need not end in
 * NUL (token texts and merges straight from a mapped GGUF file) */
#define SHOWN(len, max) (int)((len) < (max) ? (len) : (max))

mono_status mono_tok_set_token(mono_tokenizer *t, int32_t id, const char *s, size_t len, mono_error *err) {
    if (id < 0 || id >= t->n_vocab)
        return mono_error_set(err, MONO_ERR_FORMAT, "token id %ld is out of range (vocabulary size %ld)", (long)id,
                              (long)t->n_vocab);
    if (t->attr[id] & MONO_TOK_MODEL)
        return mono_error_set(err, MONO_ERR_FORMAT, "duplicate token id %ld ('%.40s' and '%.*s')", (long)id,
                              t->text + t->text_off[id], SHOWN(len, 40), s);
    if (len > UINT32_MAX) return mono_error_set(err, MONO_ERR_FORMAT, "token %ld is too long", (long)id);
    mono_status st = text_append(t, s, len, &t->text_off[id], err);
    if (st != MONO_OK) return st;
    t->text_len[id] = (uint32_t)len;
    t->attr[id] |= MONO_TOK_PRESENT | MONO_TOK_MODEL;
    return MONO_OK;
}

void mono_tok_trim(mono_tokenizer *t) {
    while (t->n_vocab > 1 && !(t->attr[t->n_vocab - 1] & MONO_TOK_PRESENT)) t->n_vocab--;
}

int32_t mono_tok_lookup(const mono_tokenizer *t, const char *s, size_t len) {
    if (!t->map) return -1;
    uint32_t i = (uint32_t)hash_bytes(s, len) & t->map_mask;
    for (;;) {
        int32_t id = t->map[i];
        if (id < 0) return -1;
        if (t->text_len[id] == len && !memcmp(t->text + t->text_off[id], s, len)) return id;
        i = (i + 1) & t->map_mask;
    }
}

mono_status mono_tok_index_vocab(mono_tokenizer *t, mono_error *err) {
    size_t count = 0;
    for (int32_t id = 0; id < t->n_vocab; id++) count += (t->attr[id] & MONO_TOK_MODEL) != 0;
    size_t cap = 16;
    while (cap < count * 2) cap *= 2;
    free(t->map);
    t->map = malloc(cap * sizeof *t->map);
    if (!t->map) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    memset(t->map, 0xFF, cap * sizeof *t->map);
    t->map_mask = (uint32_t)(cap - 1);
    for (int32_t id = 0; id < t->n_vocab; id++) {
        if (!(t->attr[id] & MONO_TOK_MODEL)) continue;
        const char *s = t->text + t->text_off[id];
        size_t len = t->text_len[id];
        uint32_t i = (uint32_t)hash_bytes(s, len) & t->map_mask;
        while (t->map[i] >= 0) {
            int32_t o = t->map[i];
            if (t->text_len[o] == len && !memcmp(t->text + t->text_off[o], s, len))
                return mono_error_set(err, MONO_ERR_FORMAT, "token '%.60s' appears twice (ids %ld and %ld)", s,
                                      (long)o, (long)id);
            i = (i + 1) & t->map_mask;
        }
        t->map[i] = id;
    }
    return MONO_OK;
}

static void merge_insert(mono_merge_slot *slots, uint32_t mask, uint64_t key, uint32_t rank, int32_t merged) {
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    uint32_t i = (uint32_t)(h >> 32) & mask;
    while (slots[i].key != UINT64_MAX && slots[i].key != key) i = (i + 1) & mask;
    /* a repeated pair keeps its last rank, as Hugging Face's HashMap insert does */
    slots[i].key = key;
    slots[i].rank = rank;
    slots[i].merged = merged;
}

static mono_status merges_grow(mono_tokenizer *t, mono_error *err) {
    size_t cap = t->merges ? (size_t)t->merge_mask + 1 : 0;
    /* load factor up to 3/4: the table is probed at random, so its size in
     * cache lines matters more than probe lengths (Qwen: 4 MiB, not 8) */
    if (t->merges && (t->n_merges + 1) * 4 <= cap * 3) return MONO_OK;
    size_t ncap = cap ? cap * 2 : 1024;
    if (ncap > ((size_t)1 << 30)) return mono_error_set(err, MONO_ERR_FORMAT, "too many merges");
    mono_merge_slot *s = malloc(ncap * sizeof *s);
    if (!s) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory (merges)");
    for (size_t i = 0; i < ncap; i++) s[i].key = UINT64_MAX;
    for (size_t i = 0; i < cap; i++)
        if (t->merges[i].key != UINT64_MAX)
            merge_insert(s, (uint32_t)(ncap - 1), t->merges[i].key, t->merges[i].rank, t->merges[i].merged);
    free(t->merges);
    t->merges = s;
    t->merge_mask = (uint32_t)(ncap - 1);
    return MONO_OK;
}

mono_status mono_tok_add_merge(mono_tokenizer *t, const char *a, size_t a_len, const char *b, size_t b_len,
                               uint32_t rank, mono_error *err) {
    int32_t ia = mono_tok_lookup(t, a, a_len), ib = mono_tok_lookup(t, b, b_len);
    if (ia < 0) return mono_error_set(err, MONO_ERR_FORMAT, "merge %u: '%.*s' is not in the vocabulary", rank, SHOWN(a_len, 60), a);
    if (ib < 0) return mono_error_set(err, MONO_ERR_FORMAT, "merge %u: '%.*s' is not in the vocabulary", rank, SHOWN(b_len, 60), b);
    char small[256];
    char *buf = small;
    size_t n = a_len + b_len;
    if (n > sizeof small && !(buf = malloc(n))) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    memcpy(buf, a, a_len);
    memcpy(buf + a_len, b, b_len);
    int32_t im = mono_tok_lookup(t, buf, n);
    if (buf != small) free(buf);
    if (im < 0)
        return mono_error_set(err, MONO_ERR_FORMAT, "merge %u: '%.*s%.*s' (the merged token) is not in the vocabulary",
                              rank, SHOWN(a_len, 60), a, SHOWN(b_len, 60), b);
    mono_status st = merges_grow(t, err);
    if (st != MONO_OK) return st;
    uint64_t key = ((uint64_t)(uint32_t)ia << 32) | (uint32_t)ib;
    size_t before = mono_tok_merge_find(t, ia, ib) ? 1 : 0;
    merge_insert(t->merges, t->merge_mask, key, rank, im);
    t->n_merges += !before;
    return MONO_OK;
}

mono_status mono_tok_add_added(mono_tokenizer *t, int32_t id, const char *s, size_t len, int special, int normalized,
                               int lstrip, int rstrip, int single_word, mono_error *err) {
    if (id < 0 || id >= t->n_vocab)
        return mono_error_set(err, MONO_ERR_FORMAT, "added token '%.*s' has id %ld, out of range (vocabulary size %ld)",
                              SHOWN(len, 60), s, (long)id, (long)t->n_vocab);
    if (len == 0) return mono_error_set(err, MONO_ERR_FORMAT, "added token %ld has empty content", (long)id);
    if (len > UINT32_MAX) return mono_error_set(err, MONO_ERR_FORMAT, "added token %ld is too long", (long)id);
    for (size_t i = 0; i < t->n_added; i++) {
        mono_added_token *a = &t->added[i];
        if (a->len == len && !memcmp(t->text + a->off, s, len)) {
            if (a->id != id)
                return mono_error_set(err, MONO_ERR_FORMAT, "added token '%.*s' appears with ids %ld and %ld", SHOWN(len, 60), s,
                                      (long)a->id, (long)id);
            /* the same content again: its later flags win, as in Hugging Face */
            a->special = (uint8_t)!!special;
            a->normalized = (uint8_t)!!normalized;
            a->lstrip = (uint8_t)!!lstrip;
            a->rstrip = (uint8_t)!!rstrip;
            a->single_word = (uint8_t)!!single_word;
            t->attr[id] = (uint8_t)((t->attr[id] & ~MONO_TOK_SPECIAL) | (special ? MONO_TOK_SPECIAL : 0));
            return MONO_OK;
        }
    }
    if (t->attr[id] & MONO_TOK_ADDED)
        return mono_error_set(err, MONO_ERR_FORMAT, "two added tokens have id %ld", (long)id);
    if ((t->attr[id] & MONO_TOK_MODEL) && (t->text_len[id] != len || memcmp(t->text + t->text_off[id], s, len)))
        return mono_error_set(err, MONO_ERR_FORMAT, "added token '%.*s' reuses id %ld of vocabulary token '%.60s'", SHOWN(len, 60), s,
                              (long)id, t->text + t->text_off[id]);
    if (t->n_added == t->added_cap) {
        size_t cap = t->added_cap ? t->added_cap * 2 : 16;
        mono_added_token *p = realloc(t->added, cap * sizeof *p);
        if (!p) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
        t->added = p;
        t->added_cap = cap;
    }
    mono_added_token *a = &t->added[t->n_added];
    memset(a, 0, sizeof *a);
    mono_status st = text_append(t, s, len, &a->off, err);
    if (st != MONO_OK) return st;
    a->id = id;
    a->len = (uint32_t)len;
    a->special = (uint8_t)!!special;
    a->normalized = (uint8_t)!!normalized;
    a->lstrip = (uint8_t)!!lstrip;
    a->rstrip = (uint8_t)!!rstrip;
    a->single_word = (uint8_t)!!single_word;
    t->n_added++;
    if (!(t->attr[id] & MONO_TOK_MODEL)) {
        t->text_off[id] = a->off;
        t->text_len[id] = a->len;
    }
    t->attr[id] |= MONO_TOK_PRESENT | MONO_TOK_ADDED | (special ? MONO_TOK_SPECIAL : 0);
    return MONO_OK;
}

/* The bytes a vocabulary string decodes to, Hugging Face's ByteLevel way:
 * if every character is in the byte alphabet, those bytes; else the
 * string's own UTF-8 bytes. Writes at most len bytes to out. */
static size_t decode_token(const char *s, size_t len, uint8_t *out) {
    size_t n = 0, i = 0;
    while (i < len) {
        uint32_t cp;
        size_t k = mono_utf8_decode((const uint8_t *)s + i, len - i, &cp);
        int b = k ? mono_bytelevel_byte(cp) : -1;
        if (b < 0) {
            memcpy(out, s, len);
            return len;
        }
        out[n++] = (uint8_t)b;
        i += k;
    }
    return n;
}

mono_status mono_tok_finish(mono_tokenizer *t, mono_error *err) {
    if (!t->map) {
        mono_status st = mono_tok_index_vocab(t, err);
        if (st != MONO_OK) return st;
    }
    if (!t->merges) {
        mono_status st = merges_grow(t, err);
        if (st != MONO_OK) return st;
    }
    size_t total = 0;
    for (int32_t id = 0; id < t->n_vocab; id++) total += t->text_len[id];
    t->bytes = malloc(total ? total : 1);
    if (!t->bytes) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    size_t off = 0;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        if (!(t->attr[id] & MONO_TOK_PRESENT)) continue;
        t->bytes_off[id] = (uint32_t)off;
        t->bytes_len[id] = (uint32_t)decode_token(t->text + t->text_off[id], t->text_len[id], t->bytes + off);
        off += t->bytes_len[id];
    }
    for (int b = 0; b < 256; b++) {
        uint8_t u[4];
        size_t k = mono_utf8_encode(mono_bytelevel_char((uint8_t)b), u);
        t->byte_id[b] = mono_tok_lookup(t, (const char *)u, k);
    }
    memset(t->added_first, 0, sizeof t->added_first);
    t->has_normalized_added = 0;
    for (size_t i = 0; i < t->n_added; i++) {
        mono_added_token *a = &t->added[i];
        a->norm_off = a->off;
        a->norm_len = a->len;
        if (a->normalized) {
            t->has_normalized_added = 1;
            if (t->pipe.nfc) {
                uint8_t *buf = NULL;
                size_t len = 0, cap = 0;
                mono_status st = mono_nfc_append((const uint8_t *)t->text + a->off, a->len, &buf, &len, &cap, err);
                if (st == MONO_OK) st = text_append(t, (const char *)buf, len, &a->norm_off, err);
                free(buf);
                if (st != MONO_OK) return st;
                a->norm_len = (uint32_t)len;
                if (!len) return mono_error_set(err, MONO_ERR_FORMAT, "added token %ld normalizes to nothing", (long)a->id);
            }
        }
        t->added_first[a->normalized][(uint8_t)t->text[a->norm_off]] = 1;
    }
    for (int lvl = 0; lvl < 2; lvl++) {
        int count = 0, last = -1;
        for (int b = 0; b < 256; b++)
            if (t->added_first[lvl][b]) count++, last = b;
        t->added_only_first[lvl] = count == 1 ? last : count == 0 ? -2 : -1;
    }
    return MONO_OK;
}

void mono_tokenizer_free(mono_tokenizer *t) {
    if (!t) return;
    free(t->text_off);
    free(t->text_len);
    free(t->bytes_off);
    free(t->bytes_len);
    free(t->attr);
    free(t->text);
    free(t->bytes);
    free(t->map);
    free(t->merges);
    free(t->added);
    free(t);
}
