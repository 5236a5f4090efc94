/*
 * fuzz_train.c -- libFuzzer target for the BPE trainer and the
 * tokenizer.json writer: arbitrary text (invalid UTF-8 included) and
 * arbitrary special tokens either train cleanly or are refused with a
 * message; whatever trains must give a tokenizer.json that the project's
 * JSON parser and tokenizer loader accept, and (without NFC) that tokenizer
 * must give every input byte back: decode_bytes(encode(text)) == text.
 *
 * Input layout: byte 0 holds options (bit 0: GPT-2 pattern, bit 1: NFC,
 * bits 2-7: extra vocabulary); the rest is split at 0xFF bytes: the first
 * field is the text, the others are special tokens (at most 4).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "monologue.h"

#define MAX_SPECIAL 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t flags = data[0];
    const uint8_t *p = data + 1, *end = data + size;
    const uint8_t *fields[1 + MAX_SPECIAL];
    size_t lens[1 + MAX_SPECIAL];
    size_t n_fields = 0;
    while (n_fields < 1 + MAX_SPECIAL) {
        const uint8_t *q = memchr(p, 0xFF, (size_t)(end - p));
        if (!q || n_fields == MAX_SPECIAL) q = end;
        fields[n_fields] = p;
        lens[n_fields++] = (size_t)(q - p);
        if (q == end) break;
        p = q + 1;
    }
    char *specials[MAX_SPECIAL];
    size_t n_special = n_fields - 1;
    for (size_t i = 0; i < n_special; i++) {
        specials[i] = malloc(lens[1 + i] + 1);
        memcpy(specials[i], fields[1 + i], lens[1 + i]);
        specials[i][lens[1 + i]] = 0;   /* an embedded NUL just shortens it */
    }
    mono_train_options o;
    mono_train_options_init(&o);
    o.pretokenizer = flags & 1;
    o.nfc = (flags >> 1) & 1;
    o.vocab_size = 256 + (uint32_t)n_special + 4u * (flags >> 2);
    o.special_tokens = (const char *const *)specials;
    o.n_special = n_special;
    const char *text = (const char *)fields[0];
    char *json = NULL;
    size_t json_len = 0;
    mono_error err;
    mono_train_stats st;
    if (mono_tokenizer_train_texts(&text, &lens[0], 1, &o, &json, &json_len, &st, &err) == MONO_OK) {
        if (st.vocab_size > o.vocab_size || st.merges < st.vocab_size - 256 - n_special) abort();
        mono_json_doc *doc = NULL;
        if (mono_json_parse(json, json_len, &doc, &err) != MONO_OK) abort();
        mono_json_doc_free(doc);
        mono_tokenizer *tok = NULL;
        if (mono_tokenizer_load_json_bytes(json, json_len, &tok, &err) != MONO_OK) abort();
        if (mono_tokenizer_n_vocab(tok) != (int32_t)st.vocab_size) abort();
        int32_t *ids = NULL;
        size_t n_ids = 0;
        if (mono_tokenizer_encode(tok, text, lens[0], 0, &ids, &n_ids, &err) != MONO_OK) abort();
        char *back = NULL;
        size_t back_len = 0;
        if (mono_tokenizer_decode_bytes(tok, ids, n_ids, &back, &back_len, &err) != MONO_OK) abort();
        /* Decoding sends every token, added ones too, through the byte-level
         * decoder (as HF does): a special token holding a non-ASCII character
         * of the byte-level alphabet (e.g. U+0107 = byte 0x07) decodes to
         * other bytes, in HF as here. Round trips are promised otherwise. */
        int ascii_specials = 1;
        for (size_t i = 0; i < n_special; i++)
            for (const char *c = specials[i]; *c; c++)
                if ((unsigned char)*c >= 0x80) ascii_specials = 0;
        if (!o.nfc && ascii_specials && (back_len != lens[0] || memcmp(back, text, back_len) != 0)) abort();
        mono_free(back);
        mono_free(ids);
        mono_tokenizer_free(tok);
    } else if (!err.message[0]) {
        abort();   /* a refusal must say why */
    }
    mono_free(json);
    for (size_t i = 0; i < n_special; i++) free(specials[i]);
    return 0;
}
