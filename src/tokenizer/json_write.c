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

/* ---- any loaded tokenizer ------------------------------------------------ */

static const char gpt2_pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

static const char *json_bool(int b) { return b ? "true" : "false"; }

static void write_vocab_string(FILE *f, const mono_tokenizer *tok, int32_t id) {
    mono_json_write_string(f, tok->text + tok->text_off[id], tok->text_len[id]);
}

static int cmp_rank(const void *a, const void *b) {
    uint32_t x = (*(const mono_merge_slot *const *)a)->rank, y = (*(const mono_merge_slot *const *)b)->rank;
    return x < y ? -1 : x > y;
}

/* Writes tok's pipeline, vocabulary, merges (by rank) and added tokens in
 * the same layout as a trained model; what the loader understood is all
 * there is, so loading the result gives the same tokenizer. */
static mono_status tokenizer_write_json(const mono_tokenizer *tok, FILE *f, mono_error *err) {
    const mono_tok_pipeline *p = &tok->pipe;
    size_t n_slots = tok->merges ? (size_t)tok->merge_mask + 1 : 0, n = 0;
    const mono_merge_slot **order = malloc((tok->n_merges ? tok->n_merges : 1) * sizeof *order);
    if (!order) return mono_error_set(err, MONO_ERR_NOMEM, "tokenizer.json: out of memory");
    for (size_t i = 0; i < n_slots && n < tok->n_merges; i++)
        if (tok->merges[i].key != UINT64_MAX) order[n++] = &tok->merges[i];
    qsort(order, n, sizeof *order, cmp_rank);

    fputs("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [", f);
    for (size_t i = 0; i < tok->n_added; i++) {
        const mono_added_token *a = &tok->added[i];
        fprintf(f, "%s\n    {\"id\": %d, \"content\": ", i ? "," : "", (int)a->id);
        mono_json_write_string(f, tok->text + a->off, a->len);
        fprintf(f, ", \"single_word\": %s, \"lstrip\": %s, \"rstrip\": %s, \"normalized\": %s, \"special\": %s}",
                json_bool(a->single_word), json_bool(a->lstrip), json_bool(a->rstrip), json_bool(a->normalized),
                json_bool(a->special));
    }
    fputs(tok->n_added ? "\n  ],\n" : "],\n", f);
    fputs(p->nfc ? "  \"normalizer\": {\"type\": \"NFC\"},\n" : "  \"normalizer\": null,\n", f);
    char byte_level[160];
    snprintf(byte_level, sizeof byte_level,
             "{\"type\": \"ByteLevel\", \"add_prefix_space\": %s, \"trim_offsets\": false, \"use_regex\": %s}",
             json_bool(p->add_prefix_space), json_bool(p->bytelevel_regex));
    if (p->split) {
        const char *re = p->split_kind == MONO_PRETOK_GPT2 ? gpt2_pattern : qwen2_pattern;
        fputs("  \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", "
              "\"pattern\": {\"Regex\": ", f);
        mono_json_write_string(f, re, strlen(re));
        fprintf(f, "}, \"behavior\": \"Isolated\", \"invert\": false}, %s]},\n", byte_level);
    } else {
        fprintf(f, "  \"pre_tokenizer\": %s,\n", byte_level);
    }
    fprintf(f, "  \"post_processor\": {\"type\": \"ByteLevel\", %s},\n", byte_level_opts);
    fprintf(f, "  \"decoder\": {\"type\": \"ByteLevel\", %s},\n", byte_level_opts);
    fputs("  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": ", f);
    if (p->unk_id >= 0) write_vocab_string(f, tok, p->unk_id);
    else fputs("null", f);
    fprintf(f, ",\n    \"continuing_subword_prefix\": \"\",\n    \"end_of_word_suffix\": \"\",\n    \"fuse_unk\": %s,\n"
            "    \"byte_fallback\": false,\n    \"ignore_merges\": %s,\n    \"vocab\": {",
            json_bool(p->fuse_unk), json_bool(p->ignore_merges));
    int first = 1;
    for (int32_t id = 0; id < tok->n_vocab; id++) {
        if (!(tok->attr[id] & MONO_TOK_MODEL)) continue;
        fputs(first ? "\n      " : ",\n      ", f);
        write_vocab_string(f, tok, id);
        fprintf(f, ": %d", (int)id);
        first = 0;
    }
    fputs("\n    },\n    \"merges\": [", f);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ",\n      [" : "\n      [", f);
        write_vocab_string(f, tok, (int32_t)(order[i]->key >> 32));
        fputs(", ", f);
        write_vocab_string(f, tok, (int32_t)(uint32_t)order[i]->key);
        fputc(']', f);
    }
    fputs(n ? "\n    ]\n  }\n}\n" : "]\n  }\n}\n", f);
    free(order);
    if (ferror(f)) return mono_error_set(err, MONO_ERR_IO, "tokenizer.json: write failed");
    return MONO_OK;
}

mono_status mono_tokenizer_to_json(const mono_tokenizer *tok, char **out, size_t *len, mono_error *err) {
    if (!tok || !out) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_tokenizer_to_json: NULL argument");
    *out = NULL;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) return mono_error_set(err, MONO_ERR_NOMEM, "tokenizer.json: cannot open a memory stream");
    mono_status st = tokenizer_write_json(tok, f, err);
    if (fclose(f) != 0 && st == MONO_OK) st = mono_error_set(err, MONO_ERR_NOMEM, "tokenizer.json: out of memory");
    if (st != MONO_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    if (len) *len = size;
    return MONO_OK;
}
