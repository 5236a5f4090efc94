/*
 * bpe.c -- byte-level BPE on one pre-token piece, with a per-encoder cache.
 *
 * The piece's bytes start as one symbol each (the token of that byte), then
 * the adjacent pair with the lowest merge rank is merged, leftmost first,
 * until no pair has a merge. That is exactly what Hugging Face's heap-based
 * loop computes (a stale heap entry can never validate: the span a position
 * covers only grows, so its string, and with it the merged id, changes).
 * Short pieces use a flat array (a few cache lines, no heap); pieces of more
 * than SMALL symbols use a linked list and a binary heap.
 *
 * Most pieces repeat (" the", " of", "\n"), so results for pieces of up to
 * MONO_CACHE_KEY bytes and MONO_CACHE_IDS ids are cached by their bytes, one
 * cache line per piece. The cache starts small (a one-shot encode of a short
 * text must not pay for 4 MiB), doubles while it fills, and once at its
 * largest is cleared when full rather than evicted piecemeal.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tokenizer/encoder.h"
#include "tokenizer/utf8.h"

#define SMALL 192
#define CACHE_MIN_BITS 8     /* 16 KiB: one-shot encodes of short texts stay cheap */
#define CACHE_MAX_BITS 16    /* 4 MiB */

mono_status mono_encoder_push(mono_encoder *e, int32_t id, mono_error *err) {
    if (e->n_ids == e->cap_ids) {
        size_t cap = e->cap_ids ? e->cap_ids * 2 : 256;
        int32_t *p = realloc(e->ids, cap * sizeof *p);
        if (!p) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory (token ids)");
        e->ids = p;
        e->cap_ids = cap;
    }
    e->ids[e->n_ids++] = id;
    return MONO_OK;
}

static mono_status push_many(mono_encoder *e, const int32_t *ids, size_t n, mono_error *err) {
    if (e->n_ids + n <= e->cap_ids && n <= MONO_CACHE_IDS) {   /* the common case: a few ids */
        int32_t *dst = e->ids + e->n_ids;
        for (size_t i = 0; i < n; i++) dst[i] = ids[i];
        e->n_ids += n;
        return MONO_OK;
    }
    if (e->n_ids + n > e->cap_ids) {
        size_t cap = e->cap_ids ? e->cap_ids : 256;
        while (cap < e->n_ids + n) cap *= 2;
        int32_t *p = realloc(e->ids, cap * sizeof *p);
        if (!p) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory (token ids)");
        e->ids = p;
        e->cap_ids = cap;
    }
    memcpy(e->ids + e->n_ids, ids, n * sizeof *ids);
    e->n_ids += n;
    return MONO_OK;
}

static uint32_t piece_hash(const uint8_t *p, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        p += 8;
        n -= 8;
    }
    if (n) {
        /* byte by byte: a short memcpy into a word stalls on store forwarding */
        uint64_t w = 0;
        for (size_t i = 0; i < n; i++) w |= (uint64_t)p[i] << (8 * i);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 29;
    }
    return (uint32_t)(h >> 32) | 1;
}

static void cache_clear(mono_encoder *e) {
    memset(e->cache, 0, ((size_t)e->cache_mask + 1) * sizeof *e->cache);
    e->cache_used = 0;
}

static uint32_t cache_index(uint32_t h, uint32_t mask) { return (h * 0x9E3779B1u) & mask; }

/* Returns the cache slot for (p, n): filled when it holds the piece, empty
 * (hash 0) where it would go. */
static mono_cache_slot *cache_find(mono_encoder *e, const uint8_t *p, size_t n, uint32_t h) {
    uint32_t i = cache_index(h, e->cache_mask);
    for (;;) {
        mono_cache_slot *s = &e->cache[i];
        if (!s->hash) return s;
        if (s->hash == h && s->key_len == n && !memcmp(s->key, p, n)) return s;
        i = (i + 1) & e->cache_mask;
    }
}

/* Makes room for one more entry: allocates the cache, doubles it while it
 * is small, clears it once it is at its largest. 0 when out of memory. */
static int cache_make_room(mono_encoder *e) {
    size_t size = e->cache ? (size_t)e->cache_mask + 1 : 0;
    if (e->cache && (e->cache_used + 1) * 8 <= size * 5) return 1;
    if (size >= ((size_t)1 << CACHE_MAX_BITS)) {
        cache_clear(e);
        return 1;
    }
    size_t nsize = size ? size * 2 : (size_t)1 << CACHE_MIN_BITS;
    mono_cache_slot *c = calloc(nsize, sizeof *c);
    if (!c) return 0;
    for (size_t i = 0; i < size; i++) {
        if (!e->cache[i].hash) continue;
        uint32_t j = cache_index(e->cache[i].hash, (uint32_t)(nsize - 1));
        while (c[j].hash) j = (j + 1) & (uint32_t)(nsize - 1);
        c[j] = e->cache[i];
    }
    free(e->cache);
    e->cache = c;
    e->cache_mask = (uint32_t)(nsize - 1);
    return 1;
}

static mono_status reserve_scratch(mono_encoder *e, size_t n, mono_error *err) {
    if (n <= e->sym_cap) return MONO_OK;
    size_t cap = e->sym_cap ? e->sym_cap : 64;
    while (cap < n) {
        if (!mono_size_mul(cap, 2, &cap)) return mono_error_set(err, MONO_ERR_NOMEM, "piece too long");
    }
    int32_t *sym = realloc(e->sym, cap * sizeof *sym);
    if (sym) e->sym = sym;
    uint32_t *rank = realloc(e->rank, cap * sizeof *rank);
    if (rank) e->rank = rank;
    int32_t *merged = realloc(e->merged, cap * sizeof *merged);
    if (merged) e->merged = merged;
    int32_t *prev = realloc(e->prev, cap * sizeof *prev);
    if (prev) e->prev = prev;
    int32_t *next = realloc(e->next, cap * sizeof *next);
    if (next) e->next = next;
    if (!sym || !rank || !merged || !prev || !next) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory (BPE)");
    e->sym_cap = cap;
    return MONO_OK;
}

static inline void pair_rank(const mono_tokenizer *t, int32_t a, int32_t b, uint32_t *rank, int32_t *merged) {
    const mono_merge_slot *s = mono_tok_merge_find(t, a, b);
    *rank = s ? s->rank : UINT32_MAX;
    *merged = s ? s->merged : -1;
}

/* Flat-array BPE for short pieces: O(m^2) in the worst case, tiny m. */
static size_t merge_small(const mono_tokenizer *t, int32_t *sym, uint32_t *rank, int32_t *merged, size_t m) {
    for (size_t i = 0; i + 1 < m; i++) pair_rank(t, sym[i], sym[i + 1], &rank[i], &merged[i]);
    while (m > 1) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < m; i++)
            if (rank[i] < rank[best]) best = i;
        if (rank[best] == UINT32_MAX) break;
        sym[best] = merged[best];
        memmove(sym + best + 1, sym + best + 2, (m - best - 2) * sizeof *sym);
        if (best + 2 < m) {
            memmove(rank + best + 1, rank + best + 2, (m - best - 3) * sizeof *rank);
            memmove(merged + best + 1, merged + best + 2, (m - best - 3) * sizeof *merged);
        }
        m--;
        if (best > 0) pair_rank(t, sym[best - 1], sym[best], &rank[best - 1], &merged[best - 1]);
        if (best + 1 < m) pair_rank(t, sym[best], sym[best + 1], &rank[best], &merged[best]);
    }
    return m;
}

typedef struct heap_item {
    uint32_t rank, pos;
    int32_t merged;
} heap_item;

static int heap_less(const heap_item *a, const heap_item *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static void heap_push(heap_item *h, size_t *n, heap_item x) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(&x, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static heap_item heap_pop(heap_item *h, size_t *n) {
    heap_item top = h[0], x = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && heap_less(&h[c + 1], &h[c])) c++;
        if (!heap_less(&h[c], &x)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = x;
    return top;
}

/* Linked-list + heap BPE for long pieces: O(m log m). Every merge pushes at
 * most two entries, so the heap never holds more than 3m. */
static mono_status merge_large(mono_encoder *e, size_t m, size_t *out_m, mono_error *err) {
    const mono_tokenizer *t = e->tok;
    size_t need = 3 * m + 1;
    if (need > e->heap_cap) {
        heap_item *h = realloc(e->heap, need * sizeof *h);
        if (!h) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory (BPE heap)");
        e->heap = h;
        e->heap_cap = need;
    }
    heap_item *h = e->heap;
    size_t hn = 0;
    int32_t *sym = e->sym, *prev = e->prev, *next = e->next;
    for (size_t i = 0; i < m; i++) {
        prev[i] = (int32_t)i - 1;
        next[i] = i + 1 < m ? (int32_t)i + 1 : -1;
    }
    for (size_t i = 0; i + 1 < m; i++) {
        const mono_merge_slot *s = mono_tok_merge_find(t, sym[i], sym[i + 1]);
        if (s) heap_push(h, &hn, (heap_item){s->rank, (uint32_t)i, s->merged});
    }
    while (hn) {
        heap_item top = heap_pop(h, &hn);
        int32_t p = (int32_t)top.pos;
        if (sym[p] < 0 || next[p] < 0) continue;
        int32_t q = next[p];
        const mono_merge_slot *s = mono_tok_merge_find(t, sym[p], sym[q]);
        if (!s || s->merged != top.merged) continue;
        sym[p] = top.merged;
        sym[q] = -1;
        next[p] = next[q];
        if (next[q] >= 0) prev[next[q]] = p;
        if (prev[p] >= 0) {
            s = mono_tok_merge_find(t, sym[prev[p]], sym[p]);
            if (s) heap_push(h, &hn, (heap_item){s->rank, (uint32_t)prev[p], s->merged});
        }
        if (next[p] >= 0) {
            s = mono_tok_merge_find(t, sym[p], sym[next[p]]);
            if (s) heap_push(h, &hn, (heap_item){s->rank, (uint32_t)p, s->merged});
        }
    }
    size_t k = 0;
    for (int32_t i = 0; i >= 0 && (size_t)i < m; i = next[i]) sym[k++] = sym[i];
    *out_m = k;
    return MONO_OK;
}

static mono_status bpe_uncached(mono_encoder *e, const uint8_t *p, size_t n, size_t *out_m, mono_error *err) {
    const mono_tokenizer *t = e->tok;
    mono_status st = reserve_scratch(e, n, err);
    if (st != MONO_OK) return st;
    size_t m = 0;
    int32_t unk = t->pipe.unk_id;
    for (size_t i = 0; i < n; i++) {
        int32_t id = t->byte_id[p[i]];
        if (id < 0) {
            /* a byte with no token: Hugging Face drops it unless there is an unk token */
            if (unk < 0 || (t->pipe.fuse_unk && m && e->sym[m - 1] == unk)) continue;
            id = unk;
        }
        e->sym[m++] = id;
    }
    if (m <= SMALL) {
        *out_m = merge_small(t, e->sym, e->rank, e->merged, m);
        return MONO_OK;
    }
    return merge_large(e, m, out_m, err);
}

mono_status mono_bpe_piece(mono_encoder *e, const uint8_t *p, size_t n, mono_error *err) {
    const mono_tokenizer *t = e->tok;
    if (n == 0) return MONO_OK;
    if (n == 1 && t->byte_id[p[0]] >= 0) return mono_encoder_push(e, t->byte_id[p[0]], err);
    if (t->pipe.ignore_merges) {
        /* look the whole piece up as a vocabulary string (byte-level chars) */
        size_t need = n * 2;
        if (need > e->bl_cap) {
            uint8_t *b = realloc(e->bl, need);
            if (!b) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
            e->bl = b;
            e->bl_cap = need;
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++) k += mono_utf8_encode(mono_bytelevel_char(p[i]), e->bl + k);
        int32_t id = mono_tok_lookup(t, (const char *)e->bl, k);
        if (id >= 0) return mono_encoder_push(e, id, err);
    }
    uint32_t h = 0;
    int cacheable = n <= MONO_CACHE_KEY;
    if (cacheable) {
        h = piece_hash(p, n);
        if (e->cache) {
            const mono_cache_slot *slot = cache_find(e, p, n, h);
            if (slot->hash) return push_many(e, slot->ids, slot->n_ids, err);
        }
    }
    size_t m = 0;
    mono_status st = bpe_uncached(e, p, n, &m, err);
    if (st != MONO_OK) return st;
    if (cacheable && m <= MONO_CACHE_IDS && cache_make_room(e)) {   /* no room: just don't cache */
        mono_cache_slot *slot = cache_find(e, p, n, h);
        slot->hash = h;
        slot->key_len = (uint8_t)n;
        slot->n_ids = (uint8_t)m;
        memcpy(slot->key, p, n);
        memcpy(slot->ids, e->sym, m * sizeof *e->sym);
        e->cache_used++;
    }
    return push_many(e, e->sym, m, err);
}

void mono_bpe_scratch_free(mono_encoder *e) {
    free(e->ids);
    free(e->cache);
    free(e->sym);
    free(e->rank);
    free(e->merged);
    free(e->prev);
    free(e->next);
    free(e->heap);
    free(e->norm);
    free(e->piece);
    free(e->bl);
    free(e->matches[0]);
    free(e->matches[1]);
}
