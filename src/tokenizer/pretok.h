/*
 * pretok.h -- pre-tokenization: splitting text into the pieces BPE merges
 * within. Shared by encoding and training, so both split identically.
 *
 * The scanners reproduce the regexes exactly, with Unicode properties from
 * the generated tables (unicode_tables.h):
 *   QWEN2: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|
 *          ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 *   GPT2:  's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * Bytes that are not valid UTF-8 are each treated as one code point that is
 * neither letter, number nor space (see the tokenizer docs for why).
 */
#ifndef MONO_TOKENIZER_PRETOK_H
#define MONO_TOKENIZER_PRETOK_H

#include <stddef.h>
#include <stdint.h>

typedef enum mono_pretok_kind {
    MONO_PRETOK_QWEN2 = 0,
    MONO_PRETOK_GPT2 = 1
} mono_pretok_kind;

/* Returns the end offset (> pos) of the piece that starts at pos < len. */
size_t mono_pretok_next(mono_pretok_kind kind, const uint8_t *text, size_t len, size_t pos);

#endif
