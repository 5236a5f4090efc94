/*
 * test_tokenizer.c -- the Qwen2.5 tokenizer against Hugging Face's own
 * output: every line of golden/tokenizer/qwen2.5-public.jsonl (ids and
 * decoded text) and llama.cpp's Qwen2 vectors; vocabulary queries; the
 * special-as-text flag; the one-shot and reusable encoders agreeing.
 */
#include <stdlib.h>

#include "core/file.h"
#include "core/json.h"
#include "monologue.h"
#include "test.h"

static mono_tokenizer *load_qwen(mt_ctx *t) {
    char path[512];
    mt_shared_path(path, sizeof path, "tokenizers/qwen2.5/tokenizer.json");
    mono_tokenizer *tok = NULL;
    mono_error err;
    if (mono_tokenizer_load(path, &tok, &err) != MONO_OK) {
        MT_CHECK_MSG(t, 0, "loading %s: %s", path, err.message);
        return NULL;
    }
    return tok;
}

/* Checks every {"text", "ids"[, "decoded"]} line of a golden file; returns
 * the number of lines checked. */
static int check_golden(mt_ctx *t, const mono_tokenizer *tok, mono_encoder *enc, const char *rel) {
    char path[512];
    mt_shared_path(path, sizeof path, rel);
    char *data;
    size_t size;
    if (mono_file_read_text(path, &data, &size, NULL) != MONO_OK) {
        mt_skip(t, path);
        return 0;
    }
    int lines = 0, bad_ids = 0, bad_dec = 0;
    for (char *line = data, *end; line < data + size; line = end + 1) {
        end = memchr(line, '\n', (size_t)(data + size - line));
        if (!end) end = data + size;
        if (end == line) continue;
        mono_json_doc *doc;
        if (mono_json_parse(line, (size_t)(end - line), &doc, NULL) != MONO_OK) {
            MT_CHECK_MSG(t, 0, "%s: line %d is not JSON", rel, lines + 1);
            continue;
        }
        const mono_json *r = mono_json_root(doc);
        const mono_json *text = mono_json_get_typed(r, "text", MONO_JSON_STRING);
        const mono_json *ids = mono_json_get_typed(r, "ids", MONO_JSON_ARRAY);
        const mono_json *dec = mono_json_get_typed(r, "decoded", MONO_JSON_STRING);
        lines++;
        int32_t *got = NULL, *got2 = NULL;
        size_t n = 0, n2 = 0;
        mono_error err;
        mono_status st = mono_tokenizer_encode(tok, text->u.str, text->len, 0, &got, &n, &err);
        mono_status st2 = mono_encoder_encode(enc, text->u.str, text->len, 0, &got2, &n2, &err);
        int same = st == MONO_OK && st2 == MONO_OK && n == ids->len && n2 == n;
        for (size_t i = 0; same && i < n; i++) {
            int64_t want;
            same = mono_json_as_int64(&ids->u.items[i], &want) && got[i] == want && got2[i] == want;
        }
        if (!same && bad_ids++ < 5) {
            fprintf(stderr, "    ids differ for %.80s\n    got:", text->u.str);
            for (size_t i = 0; i < n && i < 40; i++) fprintf(stderr, " %d", got[i]);
            fprintf(stderr, "\n");
        }
        if (dec) {
            char *out = NULL;
            size_t len = 0;
            int32_t want_ids[4096];
            size_t m = ids->len < 4096 ? ids->len : 4096;
            for (size_t i = 0; i < m; i++) {
                int64_t v = 0;
                mono_json_as_int64(&ids->u.items[i], &v);
                want_ids[i] = (int32_t)v;
            }
            int ok = mono_tokenizer_decode(tok, want_ids, m, &out, &len, &err) == MONO_OK && len == dec->len &&
                     !memcmp(out, dec->u.str, len);
            if (!ok && bad_dec++ < 5) fprintf(stderr, "    decode differs: %.80s\n", out ? out : err.message);
            mono_free(out);
        }
        mono_free(got);
        mono_free(got2);
        mono_json_doc_free(doc);
    }
    free(data);
    MT_CHECK_MSG(t, bad_ids == 0, "%s: %d of %d lines give other ids", rel, bad_ids, lines);
    MT_CHECK_MSG(t, bad_dec == 0, "%s: %d of %d lines decode differently", rel, bad_dec, lines);
    if (t->verbose) fprintf(stderr, "    %s: %d lines\n", rel, lines);
    return lines;
}

static void check_queries(mt_ctx *t, const mono_tokenizer *tok) {
    MT_CHECK_EQ_INT(t, mono_tokenizer_n_vocab(tok), 151665);
    MT_CHECK_EQ_INT(t, mono_tokenizer_token_id(tok, "<|im_end|>", 10), 151645);
    MT_CHECK_EQ_INT(t, mono_tokenizer_token_id(tok, "\xc4\xa0the", 5), 279);
    MT_CHECK_EQ_INT(t, mono_tokenizer_token_id(tok, "no such token!", 14), -1);
    MT_CHECK(t, mono_tokenizer_token_is_special(tok, 151645));
    MT_CHECK(t, mono_tokenizer_token_is_added(tok, 151645));
    MT_CHECK(t, !mono_tokenizer_token_is_special(tok, 279));
    MT_CHECK(t, !mono_tokenizer_token_is_special(tok, -1) && !mono_tokenizer_token_is_special(tok, 1 << 30));
    size_t len = 0;
    const char *b = mono_tokenizer_token_bytes(tok, 279, &len);
    MT_CHECK(t, b && len == 4 && !memcmp(b, " the", 4));
    MT_CHECK(t, mono_tokenizer_token_text(tok, 279) && !strcmp(mono_tokenizer_token_text(tok, 279), "\xc4\xa0the"));
    MT_CHECK(t, mono_tokenizer_token_text(tok, 151665) == NULL);
    /* tokenizer_config.json beside it: eos <|im_end|>, pad <|endoftext|>, no bos */
    MT_CHECK_EQ_INT(t, mono_tokenizer_eos_id(tok), 151645);
    MT_CHECK_EQ_INT(t, mono_tokenizer_pad_id(tok), 151643);
    MT_CHECK_EQ_INT(t, mono_tokenizer_bos_id(tok), -1);
}

static void check_special_as_text(mt_ctx *t, const mono_tokenizer *tok) {
    const char *s = "<|im_start|>user\nhi<|im_end|>";
    int32_t *ids;
    size_t n;
    MT_CHECK(t, mono_tokenizer_encode(tok, s, strlen(s), 0, &ids, &n, NULL) == MONO_OK);
    MT_CHECK(t, n >= 2 && ids[0] == 151644 && ids[n - 1] == 151645);
    mono_free(ids);
    MT_CHECK(t, mono_tokenizer_encode(tok, s, strlen(s), MONO_ENCODE_SPECIAL_AS_TEXT, &ids, &n, NULL) == MONO_OK);
    int any_special = 0;
    for (size_t i = 0; i < n; i++) any_special |= mono_tokenizer_token_is_special(tok, ids[i]);
    MT_CHECK(t, n > 4 && !any_special);
    char *back;
    size_t len;
    MT_CHECK(t, mono_tokenizer_decode(tok, ids, n, &back, &len, NULL) == MONO_OK && len == strlen(s) && !strcmp(back, s));
    mono_free(back);
    mono_free(ids);
    /* skipping special tokens, as HF's skip_special_tokens */
    int32_t chat[] = {151644, 872, 198, 6023, 151645};
    MT_CHECK(t, mono_tokenizer_decode_ex(tok, chat, 5, MONO_DECODE_SKIP_SPECIAL, &back, &len, NULL) == MONO_OK);
    MT_CHECK(t, len == 7 && !strcmp(back, "user\nhi"));
    mono_free(back);
    MT_CHECK(t, mono_tokenizer_decode_ex(tok, chat, 5, 0, &back, &len, NULL) == MONO_OK);
    MT_CHECK(t, !strcmp(back, "<|im_start|>user\nhi<|im_end|>"));
    mono_free(back);
    /* decode refuses ids outside the vocabulary */
    int32_t badid[2] = {9707, 151665};
    mono_error err;
    MT_CHECK(t, mono_tokenizer_decode(tok, badid, 2, &back, &len, &err) == MONO_ERR_RANGE && strstr(err.message, "151665"));
}

void suite_tokenizer(mt_ctx *t) {
    mono_tokenizer *tok = load_qwen(t);
    if (!tok) return;
    mono_encoder *enc;
    MT_CHECK(t, mono_encoder_init(tok, &enc, NULL) == MONO_OK);
    MT_CHECK(t, check_golden(t, tok, enc, "golden/tokenizer/qwen2.5-public.jsonl") > 50);
    MT_CHECK(t, check_golden(t, tok, enc, "golden/tokenizer/llamacpp-qwen2-vectors.jsonl") > 40);
    check_queries(t, tok);
    check_special_as_text(t, tok);
    mono_encoder_free(enc);
    mono_tokenizer_free(tok);
}
