/*
 * test_safetensors.c -- the safetensors reader and sharded Hugging Face
 * folders: dtypes, reversed shapes and data come back right; every
 * truncation and a battery of hostile headers (bad JSON, huge lengths,
 * out-of-bounds, overlapping or mis-sized offsets, duplicates, unsupported
 * dtypes) are refused with a message; an index.json spreads tensors over
 * shards and is checked against them.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "formats/model_file.h"
#include "formats/safetensors.h"
#include "test.h"

/* header JSON + data -> file bytes (header length little-endian; the
 * header padded with spaces to a multiple of 8, as writers do, unless
 * the caller asks for raw) */
static uint8_t *make_st_raw(const char *header, const void *data, size_t data_len, size_t *out_len, int pad) {
    size_t len = strlen(header), hl = pad ? (len + 7) / 8 * 8 : len;
    uint8_t *buf = malloc(8 + hl + data_len + 1);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, header, len);
    memset(buf + 8 + len, ' ', hl - len);
    if (data_len) memcpy(buf + 8 + hl, data, data_len);
    *out_len = 8 + hl + data_len;
    return buf;
}

static uint8_t *make_st(const char *header, const void *data, size_t data_len, size_t *out_len) {
    return make_st_raw(header, data, data_len, out_len, 1);
}

static mono_status open_exact(const uint8_t *bytes, size_t n, mono_error *e) {
    uint8_t *copy = malloc(n ? n : 1);
    if (n) memcpy(copy, bytes, n);
    mono_safetensors *st = NULL;
    memset(e, 0, sizeof *e);
    mono_status s = mono_safetensors_open_memory(copy, n, &st, e);
    mono_safetensors_close(st);
    free(copy);
    return s;
}

static const char *valid_header =
    "{\"__metadata__\":{\"format\":\"pt\"},"
    "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[8,32]},"
    "\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[44,52]},"
    "\"s\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[52,54]},"
    "\"ids\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[32,44]},"
    "\"big\":{\"dtype\":\"I64\",\"shape\":[1,1],\"data_offsets\":[0,8]},"
    "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[54,54]}}";

static void check_valid(mt_ctx *t) {
    uint8_t data[54];
    for (int i = 0; i < 54; i++) data[i] = (uint8_t)(i * 3 + 1);
    size_t n;
    uint8_t *file = make_st(valid_header, data, sizeof data, &n);
    mono_safetensors *st = NULL;
    mono_error e = {0};
    if (MT_CHECK_MSG(t, mono_safetensors_open_memory(file, n, &st, &e) == MONO_OK, "%s", e.message)) {
        MT_CHECK_EQ_INT(t, mono_safetensors_n_tensors(st), 6);
        const mono_tensor *w = mono_safetensors_tensor(st, "w");
        MT_CHECK(t, w && w->type == MONO_TYPE_F32 && w->n_dims == 2 && w->ne[0] == 3 && w->ne[1] == 2 && w->ne[2] == 1);
        MT_CHECK(t, w && w->nbytes == 24 && !memcmp(w->data, data + 8, 24));
        const mono_tensor *h = mono_safetensors_tensor(st, "h");
        MT_CHECK(t, h && h->type == MONO_TYPE_F16 && h->ne[0] == 4 && !memcmp(h->data, data + 44, 8));
        const mono_tensor *s = mono_safetensors_tensor(st, "s");
        MT_CHECK(t, s && s->type == MONO_TYPE_BF16 && s->n_dims == 1 && s->ne[0] == 1 && s->nbytes == 2);
        const mono_tensor *ids = mono_safetensors_tensor(st, "ids");
        MT_CHECK(t, ids && ids->type == MONO_ST_I32 && ids->nbytes == 12 && !memcmp(ids->data, data + 32, 12));
        const mono_tensor *big = mono_safetensors_tensor(st, "big");
        MT_CHECK(t, big && big->type == MONO_ST_I64 && big->nbytes == 8);
        const mono_tensor *em = mono_safetensors_tensor(st, "empty");
        MT_CHECK(t, em && em->nbytes == 0 && em->ne[1] == 0 && em->ne[0] == 5);
        MT_CHECK(t, mono_safetensors_tensor(st, "__metadata__") == NULL);
        MT_CHECK(t, mono_safetensors_tensor(st, "nope") == NULL);
        MT_CHECK(t, !strcmp(mono_safetensors_type_name(MONO_TYPE_BF16), "BF16"));
        MT_CHECK(t, strcmp(mono_safetensors_tensor_at(st, 0)->name, mono_safetensors_tensor_at(st, 1)->name) < 0);
    }
    mono_safetensors_close(st);
    /* every truncation fails with a message; every byte flip is survived */
    int all = 1;
    for (size_t k = 0; k < n; k++) {
        if (open_exact(file, k, &e) == MONO_OK || !e.message[0]) { all = 0; fprintf(stderr, "    truncation %zu accepted\n", k); }
    }
    MT_CHECK(t, all);
    uint8_t *copy = malloc(n);
    for (size_t k = 0; k < n; k++) {
        memcpy(copy, file, n);
        copy[k] ^= 0x5A;
        open_exact(copy, n, &e);
    }
    free(copy);
    free(file);
}

static void check_hostile(mt_ctx *t) {
    static const struct { const char *header; size_t data; const char *want; } cases[] = {
        {"[]", 0, "not a JSON object"},
        {"{\"a\":", 0, "JSON"},
        {"{\"a\":1}", 0, "not an object"},
        {"{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "F64"},
        {"{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "not supported"},
        {"{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype"},
        {"{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype"},
        {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "shape"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "shape[0]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "shape[0]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", 4, "shape[0]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, "dimensions"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,4]}}", 4, "overflow"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8, "data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4, "data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "begin"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}", 4, "out of bounds"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551615]}}", 4, "data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8, "need 8"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "duplicate"},
        {"{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "empty"},
        {"{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "NUL"},
    };
    mono_error e;
    uint8_t zeros[16] = {0};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n;
        uint8_t *file = make_st(cases[i].header, zeros, cases[i].data, &n);
        mono_status st = open_exact(file, n, &e);
        MT_CHECK_MSG(t, st != MONO_OK && strstr(e.message, cases[i].want), "case %zu: status %d '%s' (wanted '%s')", i, st,
                     e.message, cases[i].want);
        free(file);
    }
    /* header lengths: huge, past the end, over the limit */
    uint8_t raw[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'};
    MT_CHECK(t, open_exact(raw, 10, &e) != MONO_OK && strstr(e.message, "too large"));
    uint8_t raw2[10] = {3, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    MT_CHECK(t, open_exact(raw2, 10, &e) != MONO_OK && strstr(e.message, "truncated"));
    uint8_t raw3[10] = {0, 0, 0, 0x10, 0, 0, 0, 0, '{', '}'};
    MT_CHECK(t, open_exact(raw3, 10, &e) != MONO_OK);
    uint8_t raw4[10] = {2, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    MT_CHECK(t, open_exact(raw4, 10, &e) == MONO_OK);   /* no tensors is well-formed */
    MT_CHECK(t, open_exact(raw4, 5, &e) != MONO_OK && strstr(e.message, "truncated"));
    mono_safetensors *st = NULL;
    MT_CHECK(t, mono_safetensors_open("/nonexistent.safetensors", &st, &e) == MONO_ERR_IO);
    /* an unpadded header (data at an odd offset) and an odd data offset */
    size_t n;
    uint8_t *file = make_st_raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", zeros, 4, &n, 0);
    MT_CHECK(t, open_exact(file, n, &e) != MONO_OK && strstr(e.message, "aligned"));
    free(file);
    file = make_st("{\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[1,3]}}", zeros, 4, &n);
    MT_CHECK(t, open_exact(file, n, &e) != MONO_OK && strstr(e.message, "aligned"));
    free(file);
    file = make_st("{\"a\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[2,4]}}", zeros, 4, &n);
    MT_CHECK(t, open_exact(file, n, &e) == MONO_OK);
    free(file);
}

/* ---- a sharded copy of tiny-f32 ---- */

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) { fwrite(p, 1, n, f); fclose(f); }
}

/* Writes the tensors [from, to) of src into dir/name as one safetensors file. */
static void write_shard(const mono_safetensors *src, size_t from, size_t to, const char *dir, const char *name) {
    size_t cap = 1 << 16, hl = 0, off = 0;
    char *h = malloc(cap);
    hl += (size_t)snprintf(h + hl, cap - hl, "{");
    for (size_t i = from; i < to; i++) {
        const mono_tensor *tt = mono_safetensors_tensor_at(src, i);
        hl += (size_t)snprintf(h + hl, cap - hl, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", i > from ? "," : "", tt->name,
                               mono_safetensors_type_name(tt->type));
        for (int d = tt->n_dims - 1; d >= 0; d--) hl += (size_t)snprintf(h + hl, cap - hl, "%lld%s", (long long)tt->ne[d], d ? "," : "");
        hl += (size_t)snprintf(h + hl, cap - hl, "],\"data_offsets\":[%zu,%zu]}", off, off + tt->nbytes);
        off += tt->nbytes;
    }
    hl += (size_t)snprintf(h + hl, cap - hl, "}");
    uint8_t *data = malloc(off ? off : 1);
    off = 0;
    for (size_t i = from; i < to; i++) {
        const mono_tensor *tt = mono_safetensors_tensor_at(src, i);
        memcpy(data + off, tt->data, tt->nbytes);
        off += tt->nbytes;
    }
    size_t n;
    uint8_t *file = make_st(h, data, off, &n);
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_bytes(path, file, n);
    free(file); free(data); free(h);
}

static void write_index(const mono_safetensors *src, size_t split, const char *dir, const char *second, const char *extra) {
    char *idx = malloc(1 << 16), path[600];
    size_t k = (size_t)sprintf(idx, "{\"metadata\":{\"total_size\":1},\"weight_map\":{");
    for (size_t i = 0; i < mono_safetensors_n_tensors(src); i++)
        k += (size_t)sprintf(idx + k, "%s\"%s\":\"%s\"", i ? "," : "", mono_safetensors_tensor_at(src, i)->name,
                             i < split ? "model-00001-of-00002.safetensors" : second);
    k += (size_t)sprintf(idx + k, "%s}}", extra);
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    write_bytes(path, idx, k);
    free(idx);
}

static mono_status open_dir(const char *dir, mono_error *e) {
    mono_model_file *mf = NULL;
    mono_status st = mono_model_file_open(dir, &mf, e);
    mono_model_file_close(mf);
    return st;
}

static void check_sharded(mt_ctx *t) {
    char src[512], tmp[] = "/tmp/mono_st_XXXXXX", path[600];
    mono_error e = {0};
    mono_safetensors *whole = NULL;
    mt_shared_path(src, sizeof src, "golden/models/tiny-f32/model.safetensors");
    if (!MT_CHECK_MSG(t, mono_safetensors_open(src, &whole, &e) == MONO_OK, "%s", e.message)) return;
    if (!mkdtemp(tmp)) { mono_safetensors_close(whole); return; }
    size_t n = mono_safetensors_n_tensors(whole), split = n / 2;
    write_shard(whole, 0, split, tmp, "model-00001-of-00002.safetensors");
    write_shard(whole, split, n, tmp, "model-00002-of-00002.safetensors");
    mono_blob cfg;
    mt_shared_path(src, sizeof src, "golden/models/tiny-f32/config.json");
    if (mono_blob_open(&cfg, src, &e) == MONO_OK) {
        snprintf(path, sizeof path, "%s/config.json", tmp);
        write_bytes(path, cfg.data, cfg.size);
        mono_blob_close(&cfg);
    }
    write_index(whole, split, tmp, "model-00002-of-00002.safetensors", "");
    mono_model_file *mf = NULL;
    if (MT_CHECK_MSG(t, mono_model_file_open(tmp, &mf, &e) == MONO_OK, "%s", e.message)) {
        MT_CHECK_EQ_INT(t, mono_model_file_n_tensors(mf), n);
        /* same bytes as the unsharded file, under GGUF names */
        const mono_tensor *a = mono_model_file_tensor(mf, "blk.1.ffn_up.weight");
        const mono_tensor *b = mono_safetensors_tensor(whole, "model.layers.1.mlp.up_proj.weight");
        MT_CHECK(t, a && b && a->nbytes == b->nbytes && !memcmp(a->data, b->data, a->nbytes) && a->data != b->data);
        MT_CHECK(t, mono_model_file_tokenizer_json(mf) == NULL);
    }
    mono_model_file_close(mf);
    /* the index names a tensor its shard lacks */
    write_index(whole, split, tmp, "model-00002-of-00002.safetensors", ",\"ghost.weight\":\"model-00001-of-00002.safetensors\"");
    MT_CHECK(t, open_dir(tmp, &e) != MONO_OK && strstr(e.message, "ghost.weight"));
    /* a shard outside the folder, a missing shard, a bad index */
    write_index(whole, split, tmp, "../model-00002-of-00002.safetensors", "");
    MT_CHECK(t, open_dir(tmp, &e) != MONO_OK && strstr(e.message, "plain file name"));
    write_index(whole, split, tmp, "model-00003-of-00002.safetensors", "");
    MT_CHECK(t, open_dir(tmp, &e) != MONO_OK && strstr(e.message, "model-00003-of-00002.safetensors"));
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", tmp);
    write_bytes(path, "{\"weight_map\": 3}", 17);
    MT_CHECK(t, open_dir(tmp, &e) != MONO_OK && strstr(e.message, "weight_map"));
    write_bytes(path, "{\"weight_map\": {}}", 18);
    MT_CHECK(t, open_dir(tmp, &e) != MONO_OK && strstr(e.message, "no shards"));
    /* both shards hold the same tensor */
    write_shard(whole, 0, split + 1, tmp, "model-00001-of-00002.safetensors");
    write_index(whole, split, tmp, "model-00002-of-00002.safetensors", "");
    MT_CHECK(t, open_dir(tmp, &e) != MONO_OK && strstr(e.message, "duplicate"));
    /* a non-float weight */
    remove(path);
    const char *hdr = "{\"model.norm.weight\":{\"dtype\":\"I32\",\"shape\":[64],\"data_offsets\":[0,256]}}";
    static uint8_t zeros[256];
    size_t fl;
    uint8_t *file = make_st(hdr, zeros, 256, &fl);
    snprintf(path, sizeof path, "%s/model.safetensors", tmp);
    write_bytes(path, file, fl);
    free(file);
    MT_CHECK(t, open_dir(tmp, &e) != MONO_OK && strstr(e.message, "I32"));
    const char *names[] = {"model.safetensors", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                           "config.json", "model.safetensors.index.json"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(path, sizeof path, "%s/%s", tmp, names[i]);
        remove(path);
    }
    rmdir(tmp);
    mono_safetensors_close(whole);
}

static void check_name_map(mt_ctx *t) {
    char out[64];
    static const char *pairs[][2] = {
        {"model.embed_tokens.weight", "token_embd.weight"}, {"lm_head.weight", "output.weight"},
        {"model.norm.weight", "output_norm.weight"}, {"model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight"},
        {"model.layers.23.self_attn.q_proj.bias", "blk.23.attn_q.bias"},
        {"model.layers.7.self_attn.o_proj.weight", "blk.7.attn_output.weight"},
        {"model.layers.1.self_attn.k_norm.weight", "blk.1.attn_k_norm.weight"},
        {"model.layers.2.post_attention_layernorm.weight", "blk.2.ffn_norm.weight"},
        {"model.layers.3.mlp.down_proj.weight", "blk.3.ffn_down.weight"}};
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++)
        MT_CHECK_MSG(t, mono_hf_tensor_name_map(pairs[i][0], out, sizeof out) && !strcmp(out, pairs[i][1]), "%s", pairs[i][0]);
    const char *unmapped[] = {"model.layers.x.mlp.up_proj.weight", "model.layers.01.mlp.up_proj.weight",
                              "model.layers.1.mlp.up_proj", "model.rotary_emb.inv_freq", "model.layers..mlp.up_proj.weight",
                              "model.layers.1234567.mlp.up_proj.weight"};
    for (size_t i = 0; i < sizeof unmapped / sizeof *unmapped; i++)
        MT_CHECK_MSG(t, !mono_hf_tensor_name_map(unmapped[i], out, sizeof out), "mapped %s", unmapped[i]);
    MT_CHECK(t, !mono_hf_tensor_name_map("model.layers.1.mlp.up_proj.weight", out, 8));
}

void suite_safetensors(mt_ctx *t) {
    check_valid(t);
    check_hostile(t);
    check_sharded(t);
    check_name_map(t);
}
