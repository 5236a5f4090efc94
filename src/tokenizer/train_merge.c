/*
 * train_merge.c -- the BPE merge loop: from counted pieces to a vocabulary
 * and a ranked merge list.
 *
 * Every unique piece becomes a "word": a doubly linked run of symbols (token
 * ids) in one array holding all words, each word with its count. For every
 * adjacent symbol pair we keep
 *   - its weighted count (sum over words of occurrences x word count), and
 *   - the positions where it starts (an append-only list that may hold
 *     stale entries; they are checked when used).
 * A max-heap orders pairs by (count desc, left id asc, right id asc), HF's
 * BpeTrainer order. Entries are invalidated lazily: counts of existing pairs
 * only fall (every new pair contains the newest token), so a popped entry
 * whose count is stale is pushed back with the current count and the first
 * entry popped with a current count is the true best pair.
 *
 * Merging pair (a, b) into c visits its positions in increasing order, which
 * is left to right within each word, so overlapping runs ("a a a") merge as
 * the encoder merges them, and adjusts the counts of the neighbouring pairs:
 *   (prev, a) -= n, (prev, c) += n, (b, next) -= n, (c, next) += n.
 * The work per merge is proportional to the occurrences it changes, not to
 * the length of the words holding them, which keeps 8k merges over 10 MB of
 * text to well under a second, and one 10 MB "word" (a DNA sequence) fast.
 */
#include "tokenizer/train_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

#define NONE UINT32_MAX    /* no neighbour; a symbol merged away */

typedef struct pair_info {
    uint32_t a, b;
    int64_t count;
    uint32_t *occ;          /* positions where it started (maybe stale) */
    uint32_t n_occ, cap_occ;
    uint32_t touched;       /* merge stamp: already in the touched list */
} pair_info;

typedef struct heap_entry {
    int64_t count;
    uint32_t a, b, pair;
} heap_entry;

typedef struct merge_state {
    mono_error *err;
    /* symbols of all words, linked within each word; sym NONE once merged
     * into its left neighbour */
    uint32_t *sym, *next, *prev, *word_of;
    size_t n_sym;
    int64_t *w_count;
    /* pairs: open addressing on (a, b), slots hold index + 1 */
    pair_info *pairs;
    size_t n_pairs, cap_pairs;
    uint32_t *pslots;
    size_t pslot_cap;
    heap_entry *heap;
    size_t n_heap, cap_heap;
    uint32_t *touched;
    size_t n_touched, cap_touched;
    uint32_t stamp;
    /* tokens: bytes, offsets, and a string -> id map (slots hold id + 1) */
    uint8_t *tok_bytes;
    size_t tok_len, tok_cap;
    size_t *tok_off;
    uint64_t *tok_hash;
    uint32_t n_tokens, cap_tokens;
    uint32_t *tslots;
    size_t tslot_cap;
    /* merges */
    uint32_t *merges, *merge_result;
    uint32_t n_merges, cap_merges;
    /* raw byte strings no token may equal (special tokens' spellings) */
    uint8_t **forbid;
    size_t *forbid_len;
    uint32_t n_forbid;
} merge_state;

#define NOMEM(ms) mono_error_set((ms)->err, MONO_ERR_NOMEM, "training: out of memory")

/* Grows *p (n elements of size sz used, *cap allocated) to hold one more. */
static int grow(void **p, size_t sz, size_t n, size_t *cap) {
    if (n < *cap) return 1;
    size_t c = *cap ? *cap * 2 : 16, bytes;
    if (!mono_size_mul(c, sz, &bytes)) return 0;
    void *q = realloc(*p, bytes);
    if (!q) return 0;
    *p = q;
    *cap = c;
    return 1;
}

static int grow32(void **p, size_t sz, uint32_t n, uint32_t *cap) {
    size_t c = *cap;
    if (n >= UINT32_MAX / 2 || !grow(p, sz, n, &c)) return 0;
    *cap = (uint32_t)c;
    return 1;
}

/* ---- pairs --------------------------------------------------------------- */

static inline size_t pair_hash(uint32_t a, uint32_t b) {
    uint64_t k = ((uint64_t)a << 32 | b) * 0x9E3779B97F4A7C15ull;
    return (size_t)(k ^ (k >> 29));
}

static int pairs_rehash(merge_state *ms) {
    size_t cap = ms->pslot_cap ? ms->pslot_cap * 2 : 1u << 12;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots) return 0;
    for (size_t i = 0; i < ms->n_pairs; i++) {
        size_t s = pair_hash(ms->pairs[i].a, ms->pairs[i].b) & (cap - 1);
        while (slots[s]) s = (s + 1) & (cap - 1);
        slots[s] = (uint32_t)i + 1;
    }
    free(ms->pslots);
    ms->pslots = slots;
    ms->pslot_cap = cap;
    return 1;
}

/* The index of pair (a, b), created with count 0 if new; -1 on no memory. */
static int64_t pair_get(merge_state *ms, uint32_t a, uint32_t b) {
    if ((ms->n_pairs + 1) * 2 > ms->pslot_cap && !pairs_rehash(ms)) return -1;
    size_t mask = ms->pslot_cap - 1, s = pair_hash(a, b) & mask;
    for (; ms->pslots[s]; s = (s + 1) & mask) {
        pair_info *p = &ms->pairs[ms->pslots[s] - 1];
        if (p->a == a && p->b == b) return ms->pslots[s] - 1;
    }
    if (ms->n_pairs >= UINT32_MAX - 1) return -1;
    if (!grow((void **)&ms->pairs, sizeof *ms->pairs, ms->n_pairs, &ms->cap_pairs)) return -1;
    pair_info *p = &ms->pairs[ms->n_pairs];
    memset(p, 0, sizeof *p);
    p->a = a;
    p->b = b;
    ms->pslots[s] = (uint32_t)++ms->n_pairs;
    return (int64_t)ms->n_pairs - 1;
}

/* count(a, b) += delta; a positive delta records position pos (of a) as an
 * occurrence and puts the pair on this merge's touched list. */
static int pair_add(merge_state *ms, uint32_t a, uint32_t b, int64_t delta, uint32_t pos) {
    int64_t i = pair_get(ms, a, b);
    if (i < 0) return 0;
    pair_info *p = &ms->pairs[i];
    p->count += delta;
    if (delta <= 0) return 1;
    if (!grow32((void **)&p->occ, sizeof *p->occ, p->n_occ, &p->cap_occ)) return 0;
    p->occ[p->n_occ++] = pos;
    if (p->touched != ms->stamp) {
        p->touched = ms->stamp;
        if (!grow((void **)&ms->touched, sizeof *ms->touched, ms->n_touched, &ms->cap_touched)) return 0;
        ms->touched[ms->n_touched++] = (uint32_t)i;
    }
    return 1;
}

/* ---- heap --------------------------------------------------------------- */

static inline int heap_before(const heap_entry *x, const heap_entry *y) {
    if (x->count != y->count) return x->count > y->count;
    if (x->a != y->a) return x->a < y->a;
    return x->b < y->b;
}

static void heap_down(heap_entry *h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && heap_before(&h[l], &h[m])) m = l;
        if (r < n && heap_before(&h[r], &h[m])) m = r;
        if (m == i) return;
        heap_entry t = h[i]; h[i] = h[m]; h[m] = t;
        i = m;
    }
}

static int heap_push(merge_state *ms, uint32_t pair) {
    if (!grow((void **)&ms->heap, sizeof *ms->heap, ms->n_heap, &ms->cap_heap)) return 0;
    const pair_info *p = &ms->pairs[pair];
    heap_entry e = {p->count, p->a, p->b, pair};
    size_t i = ms->n_heap++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!heap_before(&e, &ms->heap[up])) break;
        ms->heap[i] = ms->heap[up];
        i = up;
    }
    ms->heap[i] = e;
    return 1;
}

static heap_entry heap_pop(merge_state *ms) {
    heap_entry top = ms->heap[0];
    ms->heap[0] = ms->heap[--ms->n_heap];
    heap_down(ms->heap, ms->n_heap, 0);
    return top;
}

/* ---- tokens ------------------------------------------------------------- */

static int tokens_rehash(merge_state *ms) {
    size_t cap = ms->tslot_cap ? ms->tslot_cap * 2 : 1u << 10;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots) return 0;
    for (uint32_t i = 0; i < ms->n_tokens; i++) {
        size_t s = ms->tok_hash[i] & (cap - 1);
        while (slots[s]) s = (s + 1) & (cap - 1);
        slots[s] = i + 1;
    }
    free(ms->tslots);
    ms->tslots = slots;
    ms->tslot_cap = cap;
    return 1;
}

/* The id of the token with bytes s[0..n): an existing one, or a new one. */
static int token_intern(merge_state *ms, const uint8_t *s, size_t n, uint32_t *id) {
    if ((ms->n_tokens + 1) * 2 > ms->tslot_cap && !tokens_rehash(ms)) return 0;
    uint64_t h = mono_train_hash(s, n);
    size_t mask = ms->tslot_cap - 1, slot = h & mask;
    for (; ms->tslots[slot]; slot = (slot + 1) & mask) {
        uint32_t t = ms->tslots[slot] - 1;
        if (ms->tok_hash[t] == h && ms->tok_off[t + 1] - ms->tok_off[t] == n &&
            !memcmp(ms->tok_bytes + ms->tok_off[t], s, n)) {
            *id = t;
            return 1;
        }
    }
    size_t need;
    if (!mono_size_add(ms->tok_len, n, &need)) return 0;
    while (need > ms->tok_cap) {
        size_t cap = ms->tok_cap ? ms->tok_cap * 2 : 1u << 16;
        uint8_t *nb = realloc(ms->tok_bytes, cap);
        if (!nb) return 0;
        ms->tok_bytes = nb;
        ms->tok_cap = cap;
    }
    if (ms->n_tokens == ms->cap_tokens) {   /* tok_hash [cap], tok_off [cap + 1] */
        if (ms->cap_tokens > UINT32_MAX / 2) return 0;
        uint32_t cap = ms->cap_tokens ? ms->cap_tokens * 2 : 512;
        uint64_t *nh = realloc(ms->tok_hash, (size_t)cap * sizeof *nh);
        if (!nh) return 0;
        ms->tok_hash = nh;
        size_t *no = realloc(ms->tok_off, ((size_t)cap + 1) * sizeof *no);
        if (!no) return 0;
        ms->tok_off = no;
        ms->cap_tokens = cap;
    }
    memmove(ms->tok_bytes + ms->tok_len, s, n);
    ms->tok_hash[ms->n_tokens] = h;
    ms->tok_off[ms->n_tokens + 1] = need;
    ms->tok_len = need;
    *id = ms->n_tokens++;
    ms->tslots[slot] = *id + 1;
    return 1;
}

static int is_forbidden(const merge_state *ms, const uint8_t *s, size_t n) {
    for (uint32_t i = 0; i < ms->n_forbid; i++)
        if (ms->forbid_len[i] == n && !memcmp(ms->forbid[i], s, n)) return 1;
    return 0;
}

/* ---- setup --------------------------------------------------------------- */

/* Byte b's token id: its rank by byte-level code point (GPT-2 order). */
static void byte_ids(uint32_t id_of_byte[256], uint8_t byte_of_id[256]) {
    for (int b = 0; b < 256; b++) {
        uint32_t cp = mono_bytelevel_char((uint8_t)b), rank = 0;
        for (int o = 0; o < 256; o++)
            if (mono_bytelevel_char((uint8_t)o) < cp) rank++;
        id_of_byte[b] = rank;
        byte_of_id[rank] = (uint8_t)b;
    }
}

static mono_status setup(merge_state *ms, const mono_trainer *tr) {
    uint32_t id_of_byte[256];
    uint8_t byte_of_id[256];
    byte_ids(id_of_byte, byte_of_id);
    ms->tok_off = malloc(sizeof *ms->tok_off);
    if (!ms->tok_off) return NOMEM(ms);
    ms->tok_off[0] = 0;
    for (int i = 0; i < 256; i++) {
        uint32_t id;
        if (!token_intern(ms, &byte_of_id[i], 1, &id)) return NOMEM(ms);
    }
    if (tr->n_special) {
        ms->forbid = calloc(tr->n_special, sizeof *ms->forbid);
        ms->forbid_len = calloc(tr->n_special, sizeof *ms->forbid_len);
        if (!ms->forbid || !ms->forbid_len) return NOMEM(ms);
    }
    for (uint32_t i = 0; i < tr->n_special; i++) {
        uint8_t *buf = malloc(tr->special_len[i]);
        if (!buf) return NOMEM(ms);
        size_t n = mono_trainer_forbidden(tr, i, buf);
        if (n) {
            ms->forbid[ms->n_forbid] = buf;
            ms->forbid_len[ms->n_forbid++] = n;
        } else {
            free(buf);
        }
    }
    /* Words: pieces of two or more bytes (single bytes never merge). */
    size_t total = 0, n_words = 0;
    for (size_t i = 0; i < tr->n_pieces; i++)
        if (tr->pieces[i].len > 1) { total += tr->pieces[i].len; n_words++; }
    if (total >= NONE) return mono_error_set(ms->err, MONO_ERR_RANGE, "training: too much distinct text (%zu bytes)", total);
    size_t nt = total ? total : 1;
    ms->sym = malloc(nt * sizeof *ms->sym);
    ms->next = malloc(nt * sizeof *ms->next);
    ms->prev = malloc(nt * sizeof *ms->prev);
    ms->word_of = malloc(nt * sizeof *ms->word_of);
    ms->w_count = malloc((n_words ? n_words : 1) * sizeof *ms->w_count);
    if (!ms->sym || !ms->next || !ms->prev || !ms->word_of || !ms->w_count) return NOMEM(ms);
    size_t pos = 0, w = 0;
    for (size_t i = 0; i < tr->n_pieces; i++) {
        const mono_train_piece *pc = &tr->pieces[i];
        if (pc->len < 2) continue;
        const uint8_t *s = tr->arena + pc->off;
        ms->w_count[w] = (int64_t)pc->count;
        for (uint32_t k = 0; k < pc->len; k++, pos++) {
            ms->sym[pos] = id_of_byte[s[k]];
            ms->word_of[pos] = (uint32_t)w;
            ms->prev[pos] = k ? (uint32_t)pos - 1 : NONE;
            ms->next[pos] = k + 1 < pc->len ? (uint32_t)pos + 1 : NONE;
        }
        w++;
    }
    ms->n_sym = total;
    /* Initial pair counts, then one heap of every pair. */
    ms->stamp = 1;
    for (size_t i = 0; i < total; i++)
        if (ms->next[i] != NONE &&
            !pair_add(ms, ms->sym[i], ms->sym[i + 1], ms->w_count[ms->word_of[i]], (uint32_t)i))
            return NOMEM(ms);
    ms->n_touched = 0;
    ms->heap = malloc((ms->n_pairs ? ms->n_pairs : 1) * sizeof *ms->heap);
    if (!ms->heap) return NOMEM(ms);
    ms->cap_heap = ms->n_pairs ? ms->n_pairs : 1;
    for (size_t i = 0; i < ms->n_pairs; i++) {
        const pair_info *p = &ms->pairs[i];
        ms->heap[i] = (heap_entry){p->count, p->a, p->b, (uint32_t)i};
    }
    ms->n_heap = ms->n_pairs;
    for (size_t i = ms->n_heap / 2; i-- > 0;) heap_down(ms->heap, ms->n_heap, i);
    return MONO_OK;
}

/* ---- the loop ------------------------------------------------------------ */

/* Merges the (a, b) starting at position i, if it is still there, into c
 * and adjusts the neighbouring pairs. */
static int merge_at(merge_state *ms, uint32_t i, uint32_t a, uint32_t b, uint32_t c) {
    uint32_t j = ms->next[i];
    if (ms->sym[i] != a || j == NONE || ms->sym[j] != b) return 1;   /* stale */
    int64_t cnt = ms->w_count[ms->word_of[i]];
    uint32_t p = ms->prev[i], k = ms->next[j];
    if (p != NONE) {
        uint32_t left = ms->sym[p];
        if (!(left == a && a == b) && !pair_add(ms, left, a, -cnt, p)) return 0;
        if (!pair_add(ms, left, c, cnt, p)) return 0;
    }
    if (k != NONE) {
        uint32_t right = ms->sym[k];
        if (!(a == b && right == b) && !pair_add(ms, b, right, -cnt, j)) return 0;
        if (!pair_add(ms, c, right, cnt, i)) return 0;
        ms->prev[k] = i;
    }
    ms->sym[i] = c;
    ms->next[i] = k;
    ms->sym[j] = NONE;
    ms->next[j] = ms->prev[j] = NONE;
    return 1;
}

static int cmp_u32(const void *x, const void *y) {
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

static mono_status learn(merge_state *ms, uint32_t target, uint64_t min_frequency) {
    uint8_t *buf = NULL;
    size_t buf_cap = 0;
    mono_status st = MONO_OK;
    while (ms->n_tokens < target && ms->n_heap > 0) {
        heap_entry e = heap_pop(ms);
        pair_info *p = &ms->pairs[e.pair];
        if (p->count != e.count) {   /* stale: requeue with the current count */
            if (p->count > 0 && !heap_push(ms, e.pair)) { st = NOMEM(ms); break; }
            continue;
        }
        if (p->count <= 0 || (uint64_t)p->count < min_frequency) break;
        uint32_t a = p->a, b = p->b;
        size_t la = ms->tok_off[a + 1] - ms->tok_off[a], lb = ms->tok_off[b + 1] - ms->tok_off[b];
        if (la + lb > buf_cap) {
            uint8_t *nb = realloc(buf, la + lb);
            if (!nb) { st = NOMEM(ms); break; }
            buf = nb;
            buf_cap = la + lb;
        }
        memcpy(buf, ms->tok_bytes + ms->tok_off[a], la);
        memcpy(buf + la, ms->tok_bytes + ms->tok_off[b], lb);
        if (is_forbidden(ms, buf, la + lb)) {   /* would shadow a special token */
            p->count = 0;
            continue;
        }
        uint32_t c;
        if (!token_intern(ms, buf, la + lb, &c)) { st = NOMEM(ms); break; }
        if (ms->n_merges == ms->cap_merges) {
            uint32_t cap = ms->cap_merges ? ms->cap_merges * 2 : 1024;
            uint32_t *nm = realloc(ms->merges, (size_t)cap * 2 * sizeof *nm);
            if (nm) ms->merges = nm;
            uint32_t *nr = nm ? realloc(ms->merge_result, (size_t)cap * sizeof *nr) : NULL;
            if (!nr) { st = NOMEM(ms); break; }
            ms->merge_result = nr;
            ms->cap_merges = cap;
        }
        ms->merges[2 * ms->n_merges] = a;
        ms->merges[2 * ms->n_merges + 1] = b;
        ms->merge_result[ms->n_merges++] = c;

        ms->stamp++;
        ms->n_touched = 0;
        uint32_t *occ = p->occ, n_occ = p->n_occ;
        p->occ = NULL;   /* pair_add may move ms->pairs: keep our own copy */
        p->n_occ = p->cap_occ = 0;
        /* increasing positions = left to right within each word */
        qsort(occ, n_occ, sizeof *occ, cmp_u32);
        int ok = 1;
        for (uint32_t k = 0; ok && k < n_occ; k++)
            if (k == 0 || occ[k] != occ[k - 1]) ok = merge_at(ms, occ[k], a, b, c);
        free(occ);
        if (!ok) { st = NOMEM(ms); break; }
        p = &ms->pairs[e.pair];
        p->count = 0;
        free(p->occ);   /* (a, b) cannot reappear: a, b are older than c */
        p->occ = NULL;
        p->n_occ = p->cap_occ = 0;
        for (size_t k = 0; ok && k < ms->n_touched; k++)
            if (ms->pairs[ms->touched[k]].count > 0) ok = heap_push(ms, ms->touched[k]);
        if (!ok) { st = NOMEM(ms); break; }
    }
    free(buf);
    return st;
}

static void state_free(merge_state *ms) {
    for (size_t i = 0; i < ms->n_pairs; i++) free(ms->pairs[i].occ);
    for (uint32_t i = 0; i < ms->n_forbid; i++) free(ms->forbid[i]);
    free(ms->forbid);
    free(ms->forbid_len);
    free(ms->pairs);
    free(ms->pslots);
    free(ms->heap);
    free(ms->touched);
    free(ms->sym);
    free(ms->next);
    free(ms->prev);
    free(ms->word_of);
    free(ms->w_count);
    free(ms->tok_bytes);
    free(ms->tok_off);
    free(ms->tok_hash);
    free(ms->tslots);
    free(ms->merges);
    free(ms->merge_result);
}

void mono_bpe_model_free(mono_bpe_model *m) {
    if (!m) return;
    for (uint32_t i = 0; i < m->n_special; i++) free(m->special ? m->special[i] : NULL);
    free(m->special);
    free(m->token_bytes);
    free(m->token_offset);
    free(m->merges);
    free(m->merge_result);
    free(m);
}

mono_status mono_trainer_finish(mono_trainer *tr, mono_bpe_model **out, mono_train_stats *stats, mono_error *err) {
    if (!tr || !out) return mono_error_set(err, MONO_ERR_INVALID_ARG, "training: NULL argument");
    *out = NULL;
    if (tr->n_piece_total == 0)
        return mono_error_set(err, MONO_ERR_INVALID_ARG,
                              "training: the corpus is empty (no text outside special tokens)");
    merge_state ms = {0};
    ms.err = err;
    mono_status st = setup(&ms, tr);
    if (st == MONO_OK) st = learn(&ms, tr->vocab_size - tr->n_special, tr->min_frequency);
    mono_bpe_model *m = NULL;
    if (st == MONO_OK && !(m = calloc(1, sizeof *m))) st = NOMEM(&ms);
    if (st == MONO_OK) {
        m->n_tokens = ms.n_tokens;
        m->n_merges = ms.n_merges;
        m->token_bytes = ms.tok_bytes;
        m->token_offset = ms.tok_off;
        m->merges = ms.merges;
        m->merge_result = ms.merge_result;
        ms.tok_bytes = NULL;
        ms.tok_off = NULL;
        ms.merges = ms.merge_result = NULL;
        m->pretok = tr->pretok;
        m->nfc = tr->nfc;
        m->n_special = tr->n_special;
        if (tr->n_special && !(m->special = calloc(tr->n_special, sizeof *m->special))) st = NOMEM(&ms);
        for (uint32_t i = 0; st == MONO_OK && i < tr->n_special; i++) {
            if (!(m->special[i] = malloc(tr->special_len[i] + 1))) st = NOMEM(&ms);
            else memcpy(m->special[i], tr->special[i], tr->special_len[i] + 1);
        }
    }
    state_free(&ms);
    if (st != MONO_OK) {
        mono_bpe_model_free(m);
        return st;
    }
    if (stats) {
        stats->bytes = tr->n_bytes;
        stats->pieces = tr->n_piece_total;
        stats->unique_pieces = tr->n_pieces;
        stats->vocab_size = m->n_tokens + m->n_special;
        stats->merges = m->n_merges;
    }
    *out = m;
    return MONO_OK;
}
