/*
 * encoder.h -- the private state of a mono_encoder: scratch buffers and the
 * piece cache that make encoding fast, kept out of mono_tokenizer so a
 * loaded tokenizer stays read-only and shareable across threads.
 */
#ifndef MONO_TOKENIZER_ENCODER_H
#define MONO_TOKENIZER_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tokenizer.h"

/* One cache line per cached piece: a hit reads nothing else. */
#define MONO_CACHE_KEY 24
#define MONO_CACHE_IDS 8
typedef struct mono_cache_slot {
    uint32_t hash;          /* 0 = empty */
    uint8_t key_len, n_ids;
    uint16_t pad;
    uint8_t key[MONO_CACHE_KEY];
    int32_t ids[MONO_CACHE_IDS];
} mono_cache_slot;

typedef struct mono_added_match {
    size_t start, stop;
    int32_t id;
} mono_added_match;

struct mono_encoder {
    const mono_tokenizer *tok;
    /* set by mono_encoder_pieces: receives pieces instead of BPE */
    mono_piece_fn on_piece;
    void *on_piece_user;
    /* output ids of the current call */
    int32_t *ids;
    size_t n_ids, cap_ids;
    /* piece cache: piece bytes -> ids, cleared when full */
    mono_cache_slot *cache;
    uint32_t cache_mask;
    size_t cache_used;
    /* BPE scratch */
    int32_t *sym;
    uint32_t *rank;
    int32_t *merged;
    int32_t *prev, *next;
    size_t sym_cap;
    void *heap;
    size_t heap_cap;
    /* normalized text, prefix-space piece, byte-level string (ignore_merges) */
    uint8_t *norm;
    size_t norm_len, norm_cap;
    uint8_t *piece;
    size_t piece_cap;
    uint8_t *bl;
    size_t bl_cap;
    /* added-token matches, one list per level (raw text, normalized text) */
    mono_added_match *matches[2];
    size_t n_matches[2], cap_matches[2];
};

/* Appends the BPE tokens of one pre-token piece to enc->ids (bpe.c). */
mono_status mono_bpe_piece(mono_encoder *enc, const uint8_t *p, size_t n, mono_error *err);
/* Appends one id to enc->ids. */
mono_status mono_encoder_push(mono_encoder *enc, int32_t id, mono_error *err);
void mono_bpe_scratch_free(mono_encoder *enc);

#endif
