/*
 * tokenizer.h -- the private layout of a mono_tokenizer, shared by its two
 * loaders (tokenizer.json in load_json.c, GGUF metadata in load_gguf.c),
 * the encoder (encode.c, bpe.c) and the decoder (decode.c).
 *
 * A loader builds one through the mono_tok_* calls below (vocab.c), in this
 * order: mono_tok_create, mono_tok_set_token for every id,
 * mono_tok_index_vocab, mono_tok_add_merge in rank order, mono_tok_add_added,
 * the pipeline options, mono_tok_finish. After that the object is read-only,
 * so any number of threads may share it.
 */
#ifndef MONO_TOKENIZER_TOKENIZER_H
#define MONO_TOKENIZER_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "monologue.h"
#include "tokenizer/pretok.h"

struct mono_gguf;

/* Token attribute bits. */
enum {
    MONO_TOK_PRESENT = 1,   /* the id has a token (ids may have holes) */
    MONO_TOK_MODEL = 2,     /* in the BPE model's vocabulary */
    MONO_TOK_ADDED = 4,     /* an added token (matched in text before splitting) */
    MONO_TOK_SPECIAL = 8    /* an added token marked special ("control") */
};

typedef struct mono_added_token {
    int32_t id;
    uint32_t off, len;      /* content: tok->text + off */
    uint32_t norm_off, norm_len;  /* content after the normalizer (normalized tokens) */
    uint8_t special, normalized, lstrip, rstrip, single_word;
} mono_added_token;

typedef struct mono_merge_slot {
    uint64_t key;           /* (uint64)left << 32 | right; UINT64_MAX when empty */
    uint32_t rank;
    int32_t merged;
} mono_merge_slot;

/* How pieces are split before BPE (see pretok.h and encode.c). */
typedef struct mono_tok_pipeline {
    int nfc;                /* apply NFC to text outside added tokens */
    int split;              /* a Split(Regex) step: 1 = use split_kind */
    mono_pretok_kind split_kind;
    int add_prefix_space;   /* ByteLevel: prepend ' ' to pieces not starting with one */
    int bytelevel_regex;    /* ByteLevel(use_regex=true): GPT-2 split after that */
    int ignore_merges;      /* BPE: a piece that is a whole vocabulary entry is one token */
    int32_t unk_id;         /* -1: bytes without a token are dropped (as HF does) */
    int fuse_unk;
} mono_tok_pipeline;

struct mono_tokenizer {
    int32_t n_vocab;        /* ids are [0, n_vocab) */
    /* Per id: the vocabulary string as written ("\xc4\xa0the" for " the"),
     * NUL-terminated, and the bytes it decodes to. */
    uint32_t *text_off, *text_len;
    uint32_t *bytes_off, *bytes_len;
    uint8_t *attr;
    char *text;             /* arena of vocabulary strings */
    size_t text_size, text_cap;
    uint8_t *bytes;         /* arena of decoded bytes */
    /* model vocabulary string -> id: open addressing, -1 = empty */
    int32_t *map;
    uint32_t map_mask;
    /* merges (left, right) -> (rank, merged) */
    mono_merge_slot *merges;
    uint32_t merge_mask;
    size_t n_merges;
    int32_t byte_id[256];   /* the token of each single byte, -1 if none */
    mono_added_token *added;
    size_t n_added, added_cap;
    uint8_t added_first[2][256];  /* [normalized]: some added token starts with this byte */
    int added_only_first[2];      /* that byte when it is the only one, -2 for no tokens, else -1 */
    int has_normalized_added;   /* some added token has normalized = 1 */
    mono_tok_pipeline pipe;
    int32_t bos_id, eos_id, pad_id;     /* -1 when unknown */
};

/* Building (vocab.c). */
mono_status mono_tok_create(int32_t n_vocab, mono_tokenizer **out, mono_error *err);
/* Sets the model vocabulary string of id (each id at most once). */
mono_status mono_tok_set_token(mono_tokenizer *tok, int32_t id, const char *s, size_t len, mono_error *err);
/* Builds the string map; call after every mono_tok_set_token. */
mono_status mono_tok_index_vocab(mono_tokenizer *tok, mono_error *err);
/* Adds merge number `rank` of the two vocabulary strings a and b. */
mono_status mono_tok_add_merge(mono_tokenizer *tok, const char *a, size_t a_len, const char *b, size_t b_len,
                               uint32_t rank, mono_error *err);
mono_status mono_tok_add_added(mono_tokenizer *tok, int32_t id, const char *s, size_t len, int special,
                               int normalized, int lstrip, int rstrip, int single_word, mono_error *err);
/* Lowers n_vocab to one past the largest id in use. */
void mono_tok_trim(mono_tokenizer *tok);
/* Computes decoded bytes, byte ids and normalized added-token forms. */
mono_status mono_tok_finish(mono_tokenizer *tok, mono_error *err);

/* Model vocabulary lookup by string; -1 when absent. */
int32_t mono_tok_lookup(const mono_tokenizer *tok, const char *s, size_t len);

/* The merge of (left, right), or NULL. */
static inline const mono_merge_slot *mono_tok_merge_find(const mono_tokenizer *tok, int32_t left, int32_t right) {
    uint64_t key = ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    uint32_t i = (uint32_t)(h >> 32) & tok->merge_mask;
    for (;;) {
        const mono_merge_slot *s = &tok->merges[i];
        if (s->key == key) return s;
        if (s->key == UINT64_MAX) return NULL;
        i = (i + 1) & tok->merge_mask;
    }
}

/* GPT-2's bytes_to_unicode: the code point byte b is written as in
 * vocabulary strings, and the reverse (-1 for code points outside it). */
uint32_t mono_bytelevel_char(uint8_t b);
int mono_bytelevel_byte(uint32_t cp);

/* Reads bos/eos/pad from a tokenizer_config.json (load_json.c). */
mono_status mono_tokenizer_read_config(mono_tokenizer *tok, const char *path, mono_error *err);

/* Loading from GGUF metadata (load_gguf.c), for the model loader. */
mono_status mono_tokenizer_from_gguf(const struct mono_gguf *g, mono_tokenizer **out, mono_error *err);

#endif
