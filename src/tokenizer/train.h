/*
 * train.h -- the byte-level BPE trainer's private interface: feed it text,
 * let it learn merges, get back a mono_bpe_model, write that model as a
 * Hugging Face tokenizer.json (json_write.c).
 *
 * The public entry points (mono_tokenizer_train_* in monologue.h, section
 * "2b. Training") are thin wrappers over these; tests use them directly.
 *
 *     mono_trainer *tr;
 *     mono_trainer_init(&tr, &opts, &err);
 *     mono_trainer_feed(tr, text, len, &err);       // any number of times
 *     mono_bpe_model *m;
 *     mono_trainer_finish(tr, &m, &stats, &err);    // learns the merges
 *     mono_bpe_model_write_json(m, f, &err);
 *     mono_bpe_model_free(m);
 *     mono_trainer_free(tr);
 */
#ifndef MONO_TOKENIZER_TRAIN_H
#define MONO_TOKENIZER_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "monologue.h"
#include "tokenizer/pretok.h"

/* What training produced.
 *
 * Token ids 0..255 are the 256 single bytes, ordered by the code point of
 * their GPT-2 byte-level character (bytes_to_unicode): '!'..'~' first, then
 * U+00A1.., then the remapped control/space bytes U+0100... This is the order
 * of GPT-2's and Qwen's vocabularies, and of HF's trainer (the mapping is
 * mono_bytelevel_char in tokenizer.h). Ids from 256 on
 * are merge results in the order they were learned. Two merges may produce
 * the same string (e.g. "ab"+"c" and "a"+"bc"); like HF's trainer, the later
 * merge then reuses the earlier id, so n_merges >= n_tokens - 256.
 * Special tokens get ids n_tokens, n_tokens+1, ... in the order given. */
typedef struct mono_bpe_model {
    uint32_t n_tokens;        /* BPE vocabulary size (bytes + learned tokens) */
    uint32_t n_merges;
    uint8_t *token_bytes;     /* all token byte strings, concatenated */
    size_t *token_offset;     /* [n_tokens + 1]: token i is [off[i], off[i+1]) */
    uint32_t *merges;         /* [2 * n_merges]: left id, right id, by rank */
    uint32_t *merge_result;   /* [n_merges]: the id each merge produces */
    uint32_t n_special;
    char **special;           /* [n_special] NUL-terminated UTF-8 */
    mono_pretok_kind pretok;
    int nfc;                  /* text was NFC-normalized (written as the normalizer) */
} mono_bpe_model;

void mono_bpe_model_free(mono_bpe_model *m);

/* Token i's bytes (raw, not byte-level encoded). */
static inline const uint8_t *mono_bpe_model_token(const mono_bpe_model *m, uint32_t i, size_t *len) {
    *len = m->token_offset[i + 1] - m->token_offset[i];
    return m->token_bytes + m->token_offset[i];
}

typedef struct mono_trainer mono_trainer;

/* Copies what it needs from opts (special token strings included). Fails
 * with MONO_ERR_INVALID_ARG on a vocabulary smaller than 256 + specials, an
 * empty, duplicate or invalid-UTF-8 special token, or a special token of one
 * byte (it would collide with the byte alphabet). */
mono_status mono_trainer_init(mono_trainer **out, const mono_train_options *opts, mono_error *err);
void mono_trainer_free(mono_trainer *tr);

/* Adds one document: special tokens in it are cut out (never learned), the
 * rest is NFC-normalized (if asked), pre-tokenized and counted. Texts are
 * independent: no piece spans two calls. Invalid UTF-8 is accepted (each bad
 * byte is its own code point, as in the encoder). */
mono_status mono_trainer_feed(mono_trainer *tr, const uint8_t *text, size_t len, mono_error *err);

/* Feeds a whole file (memory-mapped), in chunks cut where a piece boundary
 * is certain, so memory stays bounded and the counts equal feeding it whole. */
mono_status mono_trainer_feed_file(mono_trainer *tr, const char *path, mono_error *err);

/* Learns merges until the vocabulary is full, no pair is left, or the best
 * pair occurs fewer than min_frequency times. MONO_ERR_INVALID_ARG if no
 * text was fed at all. The trainer can be freed right after. */
mono_status mono_trainer_finish(mono_trainer *tr, mono_bpe_model **out, mono_train_stats *stats,
                                mono_error *err);

/* Writes m as a tokenizer.json that HF tokenizers and mono_tokenizer_load
 * read identically (see json_write.c for the exact layout). */
mono_status mono_bpe_model_write_json(const mono_bpe_model *m, FILE *f, mono_error *err);

/* The same, into a malloc'd NUL-terminated buffer (release with mono_free). */
mono_status mono_bpe_model_to_json(const mono_bpe_model *m, char **out, size_t *len, mono_error *err);

#endif
