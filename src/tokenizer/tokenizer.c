/*
 * tokenizer.c -- the public face of the tokenizer: loading by path (JSON,
 * GGUF or a folder) and the vocabulary queries of monologue.h section 2.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/file.h"
#include "tokenizer/tokenizer.h"

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Reads tokenizer_config.json beside a tokenizer.json, if there is one. */
static void read_config_beside(mono_tokenizer *t, const char *json_path) {
    const char *slash = strrchr(json_path, '/');
    size_t dir = slash ? (size_t)(slash - json_path + 1) : 0;
    char *cfg = malloc(dir + sizeof "tokenizer_config.json");
    if (!cfg) return;
    memcpy(cfg, json_path, dir);
    memcpy(cfg + dir, "tokenizer_config.json", sizeof "tokenizer_config.json");
    FILE *f = fopen(cfg, "rb");
    if (f) {
        fclose(f);
        /* a broken config only costs the bos/eos ids, not the tokenizer */
        mono_tokenizer_read_config(t, cfg, NULL);
    }
    free(cfg);
}

mono_status mono_tokenizer_load(const char *path, mono_tokenizer **out, mono_error *err) {
    if (!out) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_tokenizer_load: out is NULL");
    *out = NULL;
    if (!path) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_tokenizer_load: path is NULL");
    char *joined = NULL;
    if (is_dir(path)) {
        size_t n = strlen(path);
        joined = malloc(n + sizeof "/tokenizer.json");
        if (!joined) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
        memcpy(joined, path, n);
        memcpy(joined + n, "/tokenizer.json", sizeof "/tokenizer.json");
        path = joined;
    }
    mono_blob blob;
    mono_status st = mono_blob_open(&blob, path, err);
    if (st == MONO_OK) {
        if (blob.size >= 4 && !memcmp(blob.data, "GGUF", 4)) {
            mono_blob_close(&blob);
            st = mono_tokenizer_load_gguf(path, out, err);
        } else {
            st = mono_tokenizer_load_json_bytes(blob.data, blob.size, out, err);
            mono_blob_close(&blob);
            if (st == MONO_OK) read_config_beside(*out, path);
            else mono_error_prefix(err, "%s", path);
        }
    }
    free(joined);
    return st;
}

int32_t mono_tokenizer_n_vocab(const mono_tokenizer *t) { return t ? t->n_vocab : 0; }

static int valid(const mono_tokenizer *t, int32_t id) {
    return t && id >= 0 && id < t->n_vocab && (t->attr[id] & MONO_TOK_PRESENT);
}

const char *mono_tokenizer_token_text(const mono_tokenizer *t, int32_t id) {
    return valid(t, id) ? t->text + t->text_off[id] : NULL;
}

const char *mono_tokenizer_token_bytes(const mono_tokenizer *t, int32_t id, size_t *len) {
    if (len) *len = 0;
    if (!valid(t, id)) return NULL;
    if (len) *len = t->bytes_len[id];
    return (const char *)t->bytes + t->bytes_off[id];
}

int32_t mono_tokenizer_token_id(const mono_tokenizer *t, const char *s, size_t len) {
    if (!t || (!s && len)) return -1;
    for (size_t i = 0; i < t->n_added; i++)
        if (t->added[i].len == len && !memcmp(t->text + t->added[i].off, s, len)) return t->added[i].id;
    return mono_tok_lookup(t, s ? s : "", len);
}

int mono_tokenizer_token_is_special(const mono_tokenizer *t, int32_t id) {
    return valid(t, id) && (t->attr[id] & MONO_TOK_SPECIAL) != 0;
}

int mono_tokenizer_token_is_added(const mono_tokenizer *t, int32_t id) {
    return valid(t, id) && (t->attr[id] & MONO_TOK_ADDED) != 0;
}

int32_t mono_tokenizer_bos_id(const mono_tokenizer *t) { return t ? t->bos_id : -1; }
int32_t mono_tokenizer_eos_id(const mono_tokenizer *t) { return t ? t->eos_id : -1; }
int32_t mono_tokenizer_pad_id(const mono_tokenizer *t) { return t ? t->pad_id : -1; }
