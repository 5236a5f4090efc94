/*
 * train_internal.h -- the trainer's state, shared by train.c (counting the
 * pieces) and train_merge.c (learning the merges). Nothing outside the
 * trainer includes this.
 */
#ifndef MONO_TOKENIZER_TRAIN_INTERNAL_H
#define MONO_TOKENIZER_TRAIN_INTERNAL_H

#include "tokenizer/train.h"

typedef struct mono_train_piece {
    uint64_t hash;
    size_t off;        /* into mono_trainer.arena */
    uint32_t len;
    uint64_t count;
} mono_train_piece;

struct mono_trainer {
    /* options */
    uint32_t vocab_size;
    mono_pretok_kind pretok;
    int nfc;
    uint64_t min_frequency;
    uint32_t n_special;
    char **special;
    size_t *special_len;
    uint8_t special_first[256];   /* 1 if some special token starts with this byte */
    size_t chunk_size;            /* feed_file's chunk size (tests make it small) */

    /* unique pieces: open addressing, slots hold piece index + 1 */
    uint32_t *slots;
    size_t slot_cap;
    mono_train_piece *pieces;
    size_t n_pieces, pieces_cap;
    uint8_t *arena;
    size_t arena_len, arena_cap;

    uint8_t *norm;                /* NFC scratch buffer */
    size_t norm_len, norm_cap;

    uint64_t n_bytes, n_piece_total;
};

uint64_t mono_train_hash(const uint8_t *s, size_t n);

/* Writes into out (room for the special's length) the raw bytes whose
 * byte-level spelling equals special token i; returns their count, or 0. */
size_t mono_trainer_forbidden(const mono_trainer *tr, uint32_t i, uint8_t *out);

#endif
