/*
 * nfc.h -- Unicode Normalization Form C (canonical decomposition, canonical
 * ordering, canonical composition), as Hugging Face's "NFC" normalizer does
 * it, with a quick check so already-normalized text is not copied.
 *
 * Bytes that are not valid UTF-8 pass through unchanged and act like a
 * starter that nothing composes with (so they also stop reordering).
 */
#ifndef MONO_TOKENIZER_NFC_H
#define MONO_TOKENIZER_NFC_H

#include <stddef.h>
#include <stdint.h>

#include "monologue.h"

/* 1 when s[0..n) is certainly NFC already (the common case: all code points
 * below U+0300, or all NFC_Quick_Check=Yes in canonical order). */
int mono_nfc_quick_check(const uint8_t *s, size_t n);

/* Appends NFC(s[0..n)) to the heap buffer *buf (length *len, capacity *cap;
 * *buf may be NULL with *cap 0). MONO_ERR_NOMEM on allocation failure. */
mono_status mono_nfc_append(const uint8_t *s, size_t n, uint8_t **buf, size_t *len, size_t *cap, mono_error *err);

#endif
