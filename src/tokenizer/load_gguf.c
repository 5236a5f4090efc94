/*
 * load_gguf.c -- builds a mono_tokenizer from a GGUF file's tokenizer.ggml.*
 * metadata (llama.cpp's layout), through the same core as tokenizer.json,
 * so both loaders give one tokenizer with the same ids.
 *
 *   tokenizer.ggml.model       must be "gpt2" (byte-level BPE)
 *   tokenizer.ggml.pre         "qwen2": Qwen2 split + NFC (as Qwen's
 *                              tokenizer.json); "gpt2"/"default"/absent:
 *                              GPT-2's ByteLevel regex
 *   tokenizer.ggml.tokens      the vocabulary, by id
 *   tokenizer.ggml.token_type  1 normal, 3 control (a special added token),
 *                              4 user-defined (an added token), 5 unused
 *   tokenizer.ggml.merges      "a b" strings in rank order
 *   tokenizer.ggml.{bos,eos,padding}_token_id
 */
#include <string.h>

#include "core/error.h"
#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

enum { TYPE_NORMAL = 1, TYPE_CONTROL = 3, TYPE_USER = 4, TYPE_UNUSED = 5 };

static int str_eq(mono_gguf_str s, const char *c) { return s.len == strlen(c) && !memcmp(s.ptr, c, s.len); }

static int32_t optional_id(const mono_gguf *g, const char *key, int32_t n_vocab) {
    const mono_gguf_kv *kv = mono_gguf_find(g, key);
    int64_t v;
    if (!kv || !mono_gguf_kv_int(kv, &v) || v < 0 || v >= n_vocab) return -1;
    return (int32_t)v;
}

static mono_status pipeline(const mono_gguf *g, mono_tok_pipeline *p, mono_error *err) {
    mono_gguf_str model, pre = {"default", 7};
    mono_status st = mono_gguf_get_str(g, "tokenizer.ggml.model", &model, err);
    if (st != MONO_OK) return st;
    if (!str_eq(model, "gpt2"))
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "tokenizer.ggml.model \"%.*s\" is not supported (only gpt2)",
                              (int)(model.len > 40 ? 40 : model.len), model.ptr);
    if (mono_gguf_find(g, "tokenizer.ggml.pre") && (st = mono_gguf_get_str(g, "tokenizer.ggml.pre", &pre, err)) != MONO_OK)
        return st;
    memset(p, 0, sizeof *p);
    p->unk_id = -1;
    if (str_eq(pre, "qwen2")) {
        p->split = 1;
        p->split_kind = MONO_PRETOK_QWEN2;
        p->nfc = 1;
    } else if (str_eq(pre, "default") || str_eq(pre, "gpt2") || str_eq(pre, "gpt-2")) {
        p->bytelevel_regex = 1;
    } else {
        return mono_error_set(err, MONO_ERR_UNSUPPORTED,
                              "tokenizer.ggml.pre \"%.*s\" is not supported (qwen2 and gpt2 are)",
                              (int)(pre.len > 40 ? 40 : pre.len), pre.ptr);
    }
    return MONO_OK;
}

mono_status mono_tokenizer_from_gguf(const mono_gguf *g, mono_tokenizer **out, mono_error *err) {
    *out = NULL;
    mono_tok_pipeline pipe;
    mono_status st = pipeline(g, &pipe, err);
    const mono_gguf_kv *tokens = NULL, *types = NULL, *merges = NULL;
    if (st == MONO_OK) st = mono_gguf_get_arr(g, "tokenizer.ggml.tokens", MONO_GGUF_STRING, &tokens, err);
    if (st == MONO_OK) st = mono_gguf_get_arr(g, "tokenizer.ggml.merges", MONO_GGUF_STRING, &merges, err);
    if (st == MONO_OK && mono_gguf_find(g, "tokenizer.ggml.token_type"))
        st = mono_gguf_get_arr(g, "tokenizer.ggml.token_type", -1, &types, err);
    if (st != MONO_OK) return st;
    if (tokens->arr_n == 0 || tokens->arr_n > INT32_MAX)
        return mono_error_set(err, MONO_ERR_FORMAT, "tokenizer.ggml.tokens has %llu entries",
                              (unsigned long long)tokens->arr_n);
    if (types && types->arr_n != tokens->arr_n)
        return mono_error_set(err, MONO_ERR_FORMAT, "tokenizer.ggml.token_type has %llu entries for %llu tokens",
                              (unsigned long long)types->arr_n, (unsigned long long)tokens->arr_n);
    for (uint64_t i = 0; i < tokens->arr_n; i++) {   /* GGUF strings are UTF-8; a byte-level vocabulary always is */
        mono_gguf_str s = tokens->arr_strs[i];
        if (mono_utf8_valid_prefix(s.ptr, s.len) != s.len)
            return mono_error_set(err, MONO_ERR_FORMAT, "tokenizer.ggml.tokens[%llu] is not valid UTF-8",
                                  (unsigned long long)i);
    }
    int32_t n = (int32_t)tokens->arr_n;
    mono_tokenizer *t;
    if ((st = mono_tok_create(n, &t, err)) != MONO_OK) return st;
    t->pipe = pipe;
    /* the model vocabulary first (added tokens are matched, never merged) */
    for (int32_t id = 0; id < n && st == MONO_OK; id++) {
        int64_t ty = TYPE_NORMAL;
        if (types && !mono_gguf_arr_int(types, (uint64_t)id, &ty)) {
            st = mono_error_set(err, MONO_ERR_FORMAT, "tokenizer.ggml.token_type is not an integer array");
            break;
        }
        if (ty == TYPE_CONTROL || ty == TYPE_USER) continue;
        mono_gguf_str s = tokens->arr_strs[id];
        st = mono_tok_set_token(t, id, s.ptr, s.len, err);
        if (ty == TYPE_UNUSED) t->attr[id] &= (uint8_t)~MONO_TOK_MODEL;   /* decodable, never matched */
    }
    if (st == MONO_OK) st = mono_tok_index_vocab(t, err);
    for (uint64_t i = 0; i < merges->arr_n && st == MONO_OK; i++) {
        mono_gguf_str m = merges->arr_strs[i];
        const char *sp = m.len ? memchr(m.ptr, ' ', m.len) : NULL;
        if (!sp || memchr(sp + 1, ' ', m.len - (size_t)(sp + 1 - m.ptr))) {
            st = mono_error_set(err, MONO_ERR_FORMAT, "merge %llu is not two tokens separated by one space",
                                (unsigned long long)i);
            break;
        }
        if (i > UINT32_MAX - 1) {
            st = mono_error_set(err, MONO_ERR_FORMAT, "too many merges");
            break;
        }
        st = mono_tok_add_merge(t, m.ptr, (size_t)(sp - m.ptr), sp + 1, m.len - (size_t)(sp - m.ptr) - 1, (uint32_t)i,
                                err);
    }
    for (int32_t id = 0; id < n && st == MONO_OK && types; id++) {
        int64_t ty;
        mono_gguf_arr_int(types, (uint64_t)id, &ty);
        if (ty != TYPE_CONTROL && ty != TYPE_USER) continue;
        mono_gguf_str s = tokens->arr_strs[id];
        st = mono_tok_add_added(t, id, s.ptr, s.len, ty == TYPE_CONTROL, 0, 0, 0, 0, err);
    }
    if (st == MONO_OK) {
        t->bos_id = optional_id(g, "tokenizer.ggml.bos_token_id", n);
        t->eos_id = optional_id(g, "tokenizer.ggml.eos_token_id", n);
        t->pad_id = optional_id(g, "tokenizer.ggml.padding_token_id", n);
        st = mono_tok_finish(t, err);
    }
    if (st != MONO_OK) {
        mono_tokenizer_free(t);
        return st;
    }
    *out = t;
    return MONO_OK;
}

mono_status mono_tokenizer_load_gguf(const char *path, mono_tokenizer **out, mono_error *err) {
    if (!out) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_tokenizer_load_gguf: out is NULL");
    *out = NULL;
    if (!path) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_tokenizer_load_gguf: path is NULL");
    mono_gguf *g;
    mono_status st = mono_gguf_open(path, &g, err);
    if (st != MONO_OK) return st;
    st = mono_tokenizer_from_gguf(g, out, err);
    mono_gguf_close(g);
    if (st != MONO_OK) mono_error_prefix(err, "%s", path);
    return st;
}

mono_status mono_tokenizer_load_gguf_bytes(const void *data, size_t len, mono_tokenizer **out, mono_error *err) {
    if (!out) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_tokenizer_load_gguf_bytes: out is NULL");
    *out = NULL;
    if (!data) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_tokenizer_load_gguf_bytes: data is NULL");
    mono_gguf *g;
    mono_status st = mono_gguf_open_memory(data, len, &g, err);
    if (st != MONO_OK) return st;
    st = mono_tokenizer_from_gguf(g, out, err);   /* copies every string it keeps */
    mono_gguf_close(g);
    return st;
}
