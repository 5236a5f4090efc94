/*
 * json_write.c -- writes a trained mono_bpe_model as a Hugging Face
 * tokenizer.json, in the layout of Qwen2's own file, so that HF tokenizers
 * and mono_tokenizer_load read it and encode identically:
 *
 *   added_tokens    the special tokens, ids after the BPE vocabulary,
 *                   special=true, normalized=false (matched in raw text)
 *   normalizer      {"type":"NFC"} when the text was normalized, else null
 *   pre_tokenizer   Qwen2: Sequence[Split(Regex <qwen2 pattern>, Isolated),
 *                          ByteLevel(add_prefix_space=false, use_regex=false)]
 *                   GPT-2: ByteLevel(add_prefix_space=false, use_regex=true),
 *                          whose built-in regex is the GPT-2 pattern
 *   post_processor  ByteLevel (changes no ids)
 *   decoder         ByteLevel
 *   model           BPE, byte_fallback false, no unk token; vocab in id
 *                   order; merges as [left, right] pairs in rank order
 *
 * Token strings are spelled in GPT-2's byte-level alphabet (every byte one
 * printable character), which is what the "vocab" and "merges" keys hold.
 */
#define _POSIX_C_SOURCE 200809L   /* open_memstream */

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/json.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/train.h"
#include "tokenizer/utf8.h"

/* The patterns as Hugging Face spells them (pretok.h implements them). */
static const char qwen2_pattern[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

static const char byte_level_opts[] = "\"add_prefix_space\": false, \"trim_offsets\": false, \"use_regex\": false";

/* Writes a token's bytes as a JSON string in byte-level spelling. */
static void write_token(FILE *f, const uint8_t *s, size_t n, char *buf) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += mono_utf8_encode(mono_bytelevel_char(s[i]), (uint8_t *)buf + k);
    mono_json_write_string(f, buf, k);
}

mono_status mono_bpe_model_write_json(const mono_bpe_model *m, FILE *f, mono_error *err) {
    if (!m || !f) return mono_error_set(err, MONO_ERR_INVALID_ARG, "tokenizer.json: NULL argument");
    size_t longest = 1;
    for (uint32_t i = 0; i < m->n_tokens; i++) {
        size_t n = m->token_offset[i + 1] - m->token_offset[i];
        if (n > longest) longest = n;
    }
    char *buf = malloc(2 * longest);   /* byte-level characters are 1 or 2 bytes */
    if (!buf) return mono_error_set(err, MONO_ERR_NOMEM, "tokenizer.json: out of memory");

    fputs("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [", f);
    for (uint32_t i = 0; i < m->n_special; i++) {
        fprintf(f, "%s\n    {\"id\": %u, \"content\": ", i ? "," : "", m->n_tokens + i);
        mono_json_write_string(f, m->special[i], strlen(m->special[i]));
        fputs(", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, "
              "\"special\": true}", f);
    }
    fputs(m->n_special ? "\n  ],\n" : "],\n", f);
    fputs(m->nfc ? "  \"normalizer\": {\"type\": \"NFC\"},\n" : "  \"normalizer\": null,\n", f);
    if (m->pretok == MONO_PRETOK_GPT2) {
        fputs("  \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, "
              "\"use_regex\": true},\n", f);
    } else {
        fputs("  \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", "
              "\"pattern\": {\"Regex\": ", f);
        mono_json_write_string(f, qwen2_pattern, strlen(qwen2_pattern));
        fprintf(f, "}, \"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", %s}]},\n",
                byte_level_opts);
    }
    fprintf(f, "  \"post_processor\": {\"type\": \"ByteLevel\", %s},\n", byte_level_opts);
    fprintf(f, "  \"decoder\": {\"type\": \"ByteLevel\", %s},\n", byte_level_opts);
    fputs("  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
          "    \"continuing_subword_prefix\": \"\",\n    \"end_of_word_suffix\": \"\",\n    \"fuse_unk\": false,\n"
          "    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n    \"vocab\": {", f);
    for (uint32_t i = 0; i < m->n_tokens; i++) {
        size_t n;
        const uint8_t *s = mono_bpe_model_token(m, i, &n);
        fputs(i ? ",\n      " : "\n      ", f);
        write_token(f, s, n, buf);
        fprintf(f, ": %u", i);
    }
    fputs("\n    },\n    \"merges\": [", f);
    for (uint32_t i = 0; i < m->n_merges; i++) {
        size_t na, nb;
        const uint8_t *a = mono_bpe_model_token(m, m->merges[2 * i], &na);
        const uint8_t *b = mono_bpe_model_token(m, m->merges[2 * i + 1], &nb);
        fputs(i ? ",\n      [" : "\n      [", f);
        write_token(f, a, na, buf);
        fputs(", ", f);
        write_token(f, b, nb, buf);
        fputc(']', f);
    }
    fputs(m->n_merges ? "\n    ]\n  }\n}\n" : "]\n  }\n}\n", f);
    free(buf);
    if (ferror(f)) return mono_error_set(err, MONO_ERR_IO, "tokenizer.json: write failed");
    return MONO_OK;
}

mono_status mono_bpe_model_to_json(const mono_bpe_model *m, char **out, size_t *len, mono_error *err) {
    if (!out) return mono_error_set(err, MONO_ERR_INVALID_ARG, "tokenizer.json: NULL argument");
    *out = NULL;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) return mono_error_set(err, MONO_ERR_NOMEM, "tokenizer.json: cannot open a memory stream");
    mono_status st = mono_bpe_model_write_json(m, f, err);
    if (fclose(f) != 0 && st == MONO_OK) st = mono_error_set(err, MONO_ERR_NOMEM, "tokenizer.json: out of memory");
    if (st != MONO_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    if (len) *len = size;
    return MONO_OK;
}
