/*
 * test_gguf.c -- the GGUF reader and writer: every metadata type round-trips
 * (nested arrays and string arrays included), tensors of several types come
 * back bit-identical at aligned offsets, and a battery of hostile files --
 * every truncation of a valid file, huge counts, overflowing dimensions,
 * bad offsets and alignments, duplicates, wrong magic/version -- each gives
 * an error with a message, never a crash (run under ASan to mean it).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/file.h"
#include "formats/gguf.h"
#include "formats/gguf_convert.h"
#include "formats/gguf_write.h"
#include "formats/model_file.h"
#include "test.h"

/* ---- a raw byte builder for hand-made (hostile) files ---- */

typedef struct bb {
    uint8_t *p;
    size_t n, cap;
} bb;

static void bb_put(bb *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void bb_u32(bb *b, uint32_t v) { uint8_t x[4] = {v, v >> 8, v >> 16, v >> 24}; bb_put(b, x, 4); }
static void bb_u64(bb *b, uint64_t v) { bb_u32(b, (uint32_t)v); bb_u32(b, (uint32_t)(v >> 32)); }
static void bb_str(bb *b, const char *s) { bb_u64(b, strlen(s)); bb_put(b, s, strlen(s)); }
static void bb_pad(bb *b, size_t align) { while (b->n % align) bb_put(b, "", 1); }
static void bb_zeros(bb *b, size_t n) { while (n--) bb_put(b, "", 1); }

static void bb_header(bb *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    bb_u32(b, MONO_GGUF_MAGIC);
    bb_u32(b, version);
    bb_u64(b, n_tensors);
    bb_u64(b, n_kv);
}

static void bb_tensor(bb *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type, uint64_t off) {
    bb_str(b, name);
    bb_u32(b, n_dims);
    for (uint32_t d = 0; d < n_dims; d++) bb_u64(b, ne[d]);
    bb_u32(b, type);
    bb_u64(b, off);
}

/* Opens a copy of exactly n bytes (so ASan sees any over-read). */
static mono_status open_exact(const uint8_t *data, size_t n, mono_error *e) {
    uint8_t *copy = malloc(n ? n : 1);
    if (n) memcpy(copy, data, n);
    mono_gguf *g = NULL;
    memset(e, 0, sizeof *e);
    mono_status st = mono_gguf_open_memory(copy, n, &g, e);
    mono_gguf_close(g);
    free(copy);
    return st;
}

static int expect_fail(mt_ctx *t, bb *b, const char *want, const char *label) {
    mono_error e;
    mono_status st = open_exact(b->p, b->n, &e);
    int ok = MT_CHECK_MSG(t, st != MONO_OK && e.message[0] && strstr(e.message, want),
                          "%s: status %d, message '%s' (wanted '%s')", label, st, e.message, want);
    free(b->p);
    memset(b, 0, sizeof *b);
    return ok;
}

/* ---- the valid file ---- */

static float f32_data[12];
static uint16_t f16_data[8], bf16_data[5];
static uint8_t q8_data[2 * 34];

static mono_gguf_writer *build_writer(mt_ctx *t, int with_q8) {
    mono_error e = {0};
    mono_gguf_writer *w = mono_gguf_writer_init();
    int ok = 1;
    ok &= mono_gguf_writer_add_kv_str(w, "general.architecture", "test", &e) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_u8(w, "k.u8", 250, &e) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_i8(w, "k.i8", -7, &e) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_u16(w, "k.u16", 65000, &e) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_i16(w, "k.i16", -30000, &e) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_u32(w, "k.u32", 4000000000u, &e) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_i32(w, "k.i32", -2000000000, &e) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_u64(w, "k.u64", 0x123456789ABCull, &e) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_i64(w, "k.i64", -0x123456789ABCll, &e) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_f32(w, "k.f32", 1.5f, &e) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_f64(w, "k.f64", -2.25, &e) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_bool(w, "k.bool", 1, &e) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_strn(w, "k.str", "h\0llo", 5, &e) == MONO_OK;
    const char *toks[] = {"a", "", "\xc4\xa0the", "<|endoftext|>"};
    ok &= mono_gguf_writer_add_kv_arr_str(w, "tokenizer.ggml.tokens", toks, NULL, 4, &e) == MONO_OK;
    int32_t types[4] = {1, 1, 1, 3};
    ok &= mono_gguf_writer_add_kv_arr(w, "tokenizer.ggml.token_type", MONO_GGUF_INT32, types, 4, &e) == MONO_OK;
    float scores[3] = {-1.0f, 0.5f, 2.0f};
    ok &= mono_gguf_writer_add_kv_arr(w, "k.scores", MONO_GGUF_FLOAT32, scores, 3, &e) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_arr(w, "k.empty", MONO_GGUF_UINT8, NULL, 0, &e) == MONO_OK;
    /* a nested array: [[1, 2], [3]] of u16 */
    bb nested = {0};
    bb_u32(&nested, MONO_GGUF_ARRAY); bb_u64(&nested, 2);
    bb_u32(&nested, MONO_GGUF_UINT16); bb_u64(&nested, 2); bb_put(&nested, "\x01\x00\x02\x00", 4);
    bb_u32(&nested, MONO_GGUF_UINT16); bb_u64(&nested, 1); bb_put(&nested, "\x03\x00", 2);
    ok &= mono_gguf_writer_add_kv_raw(w, "k.nested", MONO_GGUF_ARRAY, nested.p, nested.n, &e) == MONO_OK;
    free(nested.p);
    for (int i = 0; i < 12; i++) f32_data[i] = (float)i * 0.5f - 1.0f;
    for (int i = 0; i < 8; i++) f16_data[i] = mono_f32_to_f16((float)i);
    for (int i = 0; i < 5; i++) bf16_data[i] = mono_f32_to_bf16((float)-i);
    for (int i = 0; i < (int)sizeof q8_data; i++) q8_data[i] = (uint8_t)(i * 7);
    int64_t ne_a[2] = {4, 3}, ne_b[1] = {8}, ne_c[3] = {5, 1, 1}, ne_q[2] = {32, 2};
    ok &= mono_gguf_writer_add_tensor(w, "a.weight", MONO_TYPE_F32, 2, ne_a, f32_data, sizeof f32_data, &e) == MONO_OK;
    ok &= mono_gguf_writer_add_tensor(w, "b.weight", MONO_TYPE_F16, 1, ne_b, f16_data, sizeof f16_data, &e) == MONO_OK;
    ok &= mono_gguf_writer_add_tensor(w, "c.weight", MONO_TYPE_BF16, 3, ne_c, bf16_data, sizeof bf16_data, &e) == MONO_OK;
    if (with_q8)
        ok &= mono_gguf_writer_add_tensor(w, "q.weight", MONO_TYPE_Q8_0, 2, ne_q, q8_data, sizeof q8_data, &e) == MONO_OK;
    MT_CHECK_MSG(t, ok, "writer: %s", e.message);
    /* the writer refuses duplicates and wrong sizes */
    MT_CHECK(t, mono_gguf_writer_add_kv_u32(w, "k.u32", 1, &e) != MONO_OK && strstr(e.message, "duplicate"));
    MT_CHECK(t, mono_gguf_writer_add_tensor(w, "a.weight", MONO_TYPE_F32, 2, ne_a, f32_data, sizeof f32_data, &e) != MONO_OK);
    MT_CHECK(t, mono_gguf_writer_add_tensor(w, "z", MONO_TYPE_F32, 2, ne_a, f32_data, 10, &e) != MONO_OK);
    MT_CHECK(t, mono_gguf_writer_add_tensor(w, "z", 99, 2, ne_a, f32_data, 48, &e) != MONO_OK);
    return w;
}

static void check_read_back(mt_ctx *t, const mono_gguf *g, int with_q8) {
    mono_error e = {0};
    uint32_t u32 = 0;
    int32_t i32 = 0;
    int64_t i64 = 0;
    float f = 0;
    int b = 0;
    mono_gguf_str s = {0};
    MT_CHECK_EQ_INT(t, mono_gguf_version(g), 3);
    MT_CHECK_EQ_INT(t, mono_gguf_n_kv(g), 18);
    MT_CHECK(t, mono_gguf_get_u32(g, "k.u8", &u32, &e) == MONO_OK && u32 == 250);
    MT_CHECK(t, mono_gguf_get_i32(g, "k.i8", &i32, &e) == MONO_OK && i32 == -7);
    MT_CHECK(t, mono_gguf_get_u32(g, "k.u16", &u32, &e) == MONO_OK && u32 == 65000);
    MT_CHECK(t, mono_gguf_get_i32(g, "k.i16", &i32, &e) == MONO_OK && i32 == -30000);
    MT_CHECK(t, mono_gguf_get_u32(g, "k.u32", &u32, &e) == MONO_OK && u32 == 4000000000u);
    MT_CHECK(t, mono_gguf_get_i32(g, "k.u32", &i32, &e) != MONO_OK && strstr(e.message, "out of range"));
    MT_CHECK(t, mono_gguf_get_i32(g, "k.i32", &i32, &e) == MONO_OK && i32 == -2000000000);
    MT_CHECK(t, mono_gguf_get_u32(g, "k.i32", &u32, &e) != MONO_OK);
    MT_CHECK(t, mono_gguf_get_i64(g, "k.u64", &i64, &e) == MONO_OK && i64 == 0x123456789ABCll);
    MT_CHECK(t, mono_gguf_get_i64(g, "k.i64", &i64, &e) == MONO_OK && i64 == -0x123456789ABCll);
    MT_CHECK(t, mono_gguf_get_f32(g, "k.f32", &f, &e) == MONO_OK && f == 1.5f);
    MT_CHECK(t, mono_gguf_get_f32(g, "k.f64", &f, &e) == MONO_OK && f == -2.25f);
    MT_CHECK(t, mono_gguf_get_bool(g, "k.bool", &b, &e) == MONO_OK && b == 1);
    MT_CHECK(t, mono_gguf_get_str(g, "k.str", &s, &e) == MONO_OK && s.len == 5 && !memcmp(s.ptr, "h\0llo", 5));
    const mono_gguf_kv *skv = mono_gguf_find(g, "k.str");
    MT_CHECK(t, skv && skv->size == 5 && skv->data == (const uint8_t *)skv->str.ptr);
    const mono_gguf_kv *ukv = mono_gguf_find(g, "k.u64");
    MT_CHECK(t, ukv && ukv->size == 8 && ukv->type == MONO_GGUF_UINT64);
    MT_CHECK(t, mono_gguf_get_str(g, "general.architecture", &s, &e) == MONO_OK && s.len == 4 && !memcmp(s.ptr, "test", 4));
    /* wrong types and missing keys name the key */
    MT_CHECK(t, mono_gguf_get_u32(g, "k.str", &u32, &e) != MONO_OK && strstr(e.message, "k.str") && strstr(e.message, "string"));
    MT_CHECK(t, mono_gguf_get_f32(g, "k.u32", &f, &e) != MONO_OK);
    MT_CHECK(t, mono_gguf_get_str(g, "no.such.key", &s, &e) != MONO_OK && strstr(e.message, "no.such.key"));
    MT_CHECK(t, mono_gguf_get_bool(g, "k.u8", &b, &e) != MONO_OK);
    const mono_gguf_kv *kv = NULL;
    if (MT_CHECK(t, mono_gguf_get_arr(g, "tokenizer.ggml.tokens", MONO_GGUF_STRING, &kv, &e) == MONO_OK)) {
        MT_CHECK(t, kv->arr_n == 4 && kv->arr_strs);
        MT_CHECK(t, kv->arr_strs[0].len == 1 && kv->arr_strs[0].ptr[0] == 'a');
        MT_CHECK(t, kv->arr_strs[1].len == 0);
        MT_CHECK(t, kv->arr_strs[2].len == 5 && !memcmp(kv->arr_strs[2].ptr, "\xc4\xa0the", 5));
        MT_CHECK(t, kv->arr_strs[3].len == 13 && !memcmp(kv->arr_strs[3].ptr, "<|endoftext|>", 13));
    }
    MT_CHECK(t, mono_gguf_get_arr(g, "tokenizer.ggml.tokens", MONO_GGUF_INT32, &kv, &e) != MONO_OK);
    if (MT_CHECK(t, mono_gguf_get_arr(g, "tokenizer.ggml.token_type", MONO_GGUF_INT32, &kv, &e) == MONO_OK)) {
        int64_t v = 0;
        MT_CHECK(t, kv->arr_n == 4 && mono_gguf_arr_int(kv, 3, &v) && v == 3);
        MT_CHECK(t, !mono_gguf_arr_int(kv, 4, &v));
    }
    if (MT_CHECK(t, mono_gguf_get_arr(g, "k.scores", -1, &kv, &e) == MONO_OK)) {
        float x = 0;
        int64_t v;
        MT_CHECK(t, mono_gguf_arr_f32(kv, 2, &x) && x == 2.0f && mono_gguf_arr_f32(kv, 0, &x) && x == -1.0f);
        MT_CHECK(t, !mono_gguf_arr_int(kv, 0, &v));
    }
    MT_CHECK(t, mono_gguf_get_arr(g, "k.empty", MONO_GGUF_UINT8, &kv, &e) == MONO_OK && kv->arr_n == 0);
    if (MT_CHECK(t, mono_gguf_get_arr(g, "k.nested", MONO_GGUF_ARRAY, &kv, &e) == MONO_OK))
        MT_CHECK(t, kv->arr_n == 2 && kv->size == 12 + 4 + 12 + 2);
    /* tensors */
    MT_CHECK_EQ_INT(t, mono_gguf_n_tensors(g), 3 + with_q8);
    const mono_tensor *a = mono_gguf_tensor(g, "a.weight"), *bt = mono_gguf_tensor(g, "b.weight");
    const mono_tensor *c = mono_gguf_tensor(g, "c.weight");
    if (MT_CHECK(t, a && bt && c)) {
        MT_CHECK(t, a->type == MONO_TYPE_F32 && a->n_dims == 2 && a->ne[0] == 4 && a->ne[1] == 3 && a->ne[2] == 1);
        MT_CHECK(t, a->nbytes == 48 && !memcmp(a->data, f32_data, 48));
        MT_CHECK(t, bt->type == MONO_TYPE_F16 && bt->nbytes == 16 && !memcmp(bt->data, f16_data, 16));
        MT_CHECK(t, c->type == MONO_TYPE_BF16 && c->n_dims == 3 && c->nbytes == 10 && !memcmp(c->data, bf16_data, 10));
        for (size_t i = 0; i < mono_gguf_n_tensors(g); i++)
            MT_CHECK(t, mono_gguf_tensor_offset(g, i) % mono_gguf_alignment(g) == 0);
        MT_CHECK(t, mono_gguf_data_offset(g) % mono_gguf_alignment(g) == 0);
        MT_CHECK(t, !strcmp(mono_gguf_tensor_at(g, 0)->name, "a.weight"));   /* file order kept */
    }
    if (with_q8) {
        const mono_tensor *q = mono_gguf_tensor(g, "q.weight");
        MT_CHECK(t, q && q->type == MONO_TYPE_Q8_0 && q->nbytes == sizeof q8_data && !memcmp(q->data, q8_data, sizeof q8_data));
    }
    MT_CHECK(t, mono_gguf_tensor(g, "nope") == NULL);
}

static void check_round_trip(mt_ctx *t, uint8_t **file, size_t *file_size, size_t *data_end) {
    int with_q8 = mono_type_get(MONO_TYPE_Q8_0) != NULL;
    mono_gguf_writer *w = build_writer(t, with_q8);
    mono_error e = {0};
    uint8_t *buf = NULL;
    size_t n = 0;
    MT_CHECK(t, mono_gguf_writer_write_memory(w, &buf, &n, &e) == MONO_OK);
    mono_gguf *g = NULL;
    if (MT_CHECK_MSG(t, mono_gguf_open_memory(buf, n, &g, &e) == MONO_OK, "%s", e.message)) {
        check_read_back(t, g, with_q8);
        *data_end = 0;
        for (size_t i = 0; i < mono_gguf_n_tensors(g); i++) {
            size_t end = mono_gguf_data_offset(g) + mono_gguf_tensor_offset(g, i) + mono_gguf_tensor_at(g, i)->nbytes;
            if (end > *data_end) *data_end = end;
        }
    }
    mono_gguf_close(g);
    /* the file path gives the same bytes and the same answers */
    char path[] = "/tmp/mono_gguf_XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) {
        close(fd);
        MT_CHECK(t, mono_gguf_writer_write_file(w, path, &e) == MONO_OK);
        mono_blob blob;
        if (MT_CHECK(t, mono_blob_open(&blob, path, &e) == MONO_OK)) {
            MT_CHECK(t, blob.size == n && !memcmp(blob.data, buf, n));
            mono_blob_close(&blob);
        }
        if (MT_CHECK(t, mono_gguf_open(path, &g, &e) == MONO_OK)) check_read_back(t, g, with_q8);
        mono_gguf_close(g);
        remove(path);
    }
    MT_CHECK(t, mono_gguf_writer_write_file(w, "/nonexistent-dir/x.gguf", &e) == MONO_ERR_IO);
    /* an empty writer makes a valid empty file; bad arguments are refused */
    mono_gguf_writer *w0 = mono_gguf_writer_init();
    uint8_t *b0 = NULL;
    size_t n0 = 0;
    MT_CHECK(t, mono_gguf_writer_write_memory(w0, &b0, &n0, &e) == MONO_OK && n0 == 32);   /* header padded */
    if (MT_CHECK(t, b0 && mono_gguf_open_memory(b0, n0, &g, &e) == MONO_OK)) {
        MT_CHECK(t, mono_gguf_n_kv(g) == 0 && mono_gguf_n_tensors(g) == 0 && mono_gguf_kv_at(g, 0) == NULL &&
                    mono_gguf_tensor_at(g, 0) == NULL && mono_gguf_find(g, "x") == NULL);
        mono_gguf_close(g);
    }
    free(b0);
    int64_t ne1[2] = {4, 0};
    MT_CHECK(t, mono_gguf_writer_add_kv_u8(w0, "", 1, &e) != MONO_OK);
    MT_CHECK(t, mono_gguf_writer_add_kv_arr(w0, "k", MONO_GGUF_STRING, NULL, 0, &e) != MONO_OK);
    MT_CHECK(t, mono_gguf_writer_add_tensor(w0, "t", MONO_TYPE_F32, 2, ne1, f32_data, 0, &e) != MONO_OK);
    MT_CHECK(t, mono_gguf_writer_add_tensor(w0, "t", MONO_TYPE_F32, 5, ne1, f32_data, 0, &e) != MONO_OK);
    MT_CHECK(t, mono_gguf_writer_add_tensor(w0, "", MONO_TYPE_F32, 1, ne1, f32_data, 16, &e) != MONO_OK);
    char long_name[80];
    memset(long_name, 'x', 64);
    long_name[64] = 0;
    MT_CHECK(t, mono_gguf_writer_add_tensor(w0, long_name, MONO_TYPE_F32, 1, ne1, f32_data, 16, &e) != MONO_OK && strstr(e.message, "63"));
    long_name[63] = 0;
    MT_CHECK(t, mono_gguf_writer_add_tensor(w0, long_name, MONO_TYPE_F32, 1, ne1, f32_data, 16, &e) == MONO_OK);
    mono_gguf_writer_free(w0);
    mono_gguf_writer_free(NULL);
    /* a custom alignment is honoured */
    mono_gguf_writer_add_kv_u32(w, "general.alignment", 64, &e);
    uint8_t *buf64 = NULL;
    size_t n64 = 0;
    mono_gguf_writer_write_memory(w, &buf64, &n64, &e);
    if (MT_CHECK(t, mono_gguf_open_memory(buf64, n64, &g, &e) == MONO_OK)) {
        MT_CHECK(t, mono_gguf_alignment(g) == 64 && mono_gguf_data_offset(g) % 64 == 0);
        for (size_t i = 0; i < mono_gguf_n_tensors(g); i++) MT_CHECK(t, mono_gguf_tensor_offset(g, i) % 64 == 0);
        MT_CHECK(t, !memcmp(mono_gguf_tensor(g, "a.weight")->data, f32_data, 48));
    }
    mono_gguf_close(g);
    free(buf64);
    mono_gguf_writer_free(w);
    *file = buf;
    *file_size = n;
}

static void check_truncations(mt_ctx *t, const uint8_t *file, size_t size, size_t data_end) {
    mono_error e;
    int all_failed = 1, all_named = 1;
    for (size_t n = 0; n < data_end; n++) {
        mono_status st = open_exact(file, n, &e);
        if (st == MONO_OK) { all_failed = 0; fprintf(stderr, "    truncation to %zu bytes accepted\n", n); }
        if (!e.message[0]) all_named = 0;
    }
    MT_CHECK(t, all_failed);
    MT_CHECK(t, all_named);
    MT_CHECK(t, open_exact(file, data_end, &e) == MONO_OK);   /* trailing padding is optional */
    MT_CHECK(t, open_exact(file, size, &e) == MONO_OK);
    /* flipping each header/metadata byte never crashes (errors or not) */
    uint8_t *copy = malloc(size);
    for (size_t i = 0; i < size && i < 2048; i++) {
        memcpy(copy, file, size);
        copy[i] ^= 0xFF;
        open_exact(copy, size, &e);
    }
    free(copy);
}

static void check_hostile(mt_ctx *t) {
    bb b = {0};
    uint64_t ne2[2] = {4, 2};

    bb_put(&b, "GGUX", 4); bb_u32(&b, 3); bb_u64(&b, 0); bb_u64(&b, 0);
    expect_fail(t, &b, "magic", "wrong magic");
    bb_header(&b, 1, 0, 0);
    expect_fail(t, &b, "version 1", "v1");
    bb_header(&b, 4, 0, 0);
    expect_fail(t, &b, "version 4", "v4");
    bb_header(&b, 0x03000000u, 0, 0);
    expect_fail(t, &b, "big-endian", "big-endian");
    bb_header(&b, 3, 0, 0);
    b.n -= 1;
    expect_fail(t, &b, "truncated", "short header");
    bb_header(&b, 3, UINT64_MAX, 0);
    expect_fail(t, &b, "tensor infos", "huge tensor count");
    bb_header(&b, 3, 0, (uint64_t)1 << 62);
    expect_fail(t, &b, "metadata", "huge kv count");
    bb_header(&b, 3, 0, 1); bb_u64(&b, UINT64_MAX); bb_put(&b, "abc", 3);
    expect_fail(t, &b, "truncated", "huge key length");
    bb_header(&b, 3, 0, 1); bb_u64(&b, 0); bb_u32(&b, MONO_GGUF_UINT8); bb_put(&b, "\x01", 1);
    bb_zeros(&b, 8);
    expect_fail(t, &b, "empty", "empty key");
    bb_header(&b, 3, 0, 1); bb_u64(&b, 3); bb_put(&b, "a\0b", 3); bb_u32(&b, MONO_GGUF_UINT8); bb_put(&b, "\x01", 1);
    expect_fail(t, &b, "NUL", "key with NUL");
    bb_header(&b, 3, 0, 1); bb_str(&b, "k"); bb_u32(&b, 13); bb_u64(&b, 0);
    expect_fail(t, &b, "unknown value type", "unknown kv type");
    bb_header(&b, 3, 0, 1); bb_str(&b, "k"); bb_u32(&b, MONO_GGUF_BOOL); bb_put(&b, "\x02", 1);
    expect_fail(t, &b, "bool", "bool 2");
    bb_header(&b, 3, 0, 1); bb_str(&b, "k"); bb_u32(&b, MONO_GGUF_STRING); bb_u64(&b, (uint64_t)1 << 63);
    expect_fail(t, &b, "truncated", "huge string");
    bb_header(&b, 3, 0, 1); bb_str(&b, "k"); bb_u32(&b, MONO_GGUF_ARRAY); bb_u32(&b, MONO_GGUF_UINT64); bb_u64(&b, (uint64_t)1 << 61);
    expect_fail(t, &b, "array", "huge array");
    bb_header(&b, 3, 0, 1); bb_str(&b, "k"); bb_u32(&b, MONO_GGUF_ARRAY); bb_u32(&b, MONO_GGUF_STRING); bb_u64(&b, 1000);
    bb_zeros(&b, 64);
    expect_fail(t, &b, "array", "string array too long");
    bb_header(&b, 3, 0, 1); bb_str(&b, "k"); bb_u32(&b, MONO_GGUF_ARRAY); bb_u32(&b, 77); bb_u64(&b, 1);
    expect_fail(t, &b, "element type", "unknown array elem type");
    bb_header(&b, 3, 0, 1); bb_str(&b, "k");
    bb_u32(&b, MONO_GGUF_ARRAY);
    for (int i = 0; i < 100; i++) { bb_u32(&b, MONO_GGUF_ARRAY); bb_u64(&b, 1); }
    bb_u32(&b, MONO_GGUF_UINT8); bb_u64(&b, 0);
    expect_fail(t, &b, "nested", "deep nesting");
    bb_header(&b, 3, 0, 2); bb_str(&b, "k"); bb_u32(&b, MONO_GGUF_UINT8); bb_put(&b, "\x01", 1);
    bb_str(&b, "k"); bb_u32(&b, MONO_GGUF_UINT8); bb_put(&b, "\x02", 1);
    expect_fail(t, &b, "duplicate metadata key 'k'", "duplicate key");
    static const struct { uint32_t type; const char *val; size_t len; } aligns[] = {
        {MONO_GGUF_UINT32, "\x00\x00\x00\x00", 4}, {MONO_GGUF_UINT32, "\x03\x00\x00\x00", 4},
        {MONO_GGUF_UINT64, "\x20\x00\x00\x00\x00\x00\x00\x00", 8}, {MONO_GGUF_UINT32, "\x00\x00\x00\x80", 4}};
    for (size_t i = 0; i < sizeof aligns / sizeof *aligns; i++) {
        bb_header(&b, 3, 0, 1); bb_str(&b, "general.alignment"); bb_u32(&b, aligns[i].type);
        bb_put(&b, aligns[i].val, aligns[i].len);
        expect_fail(t, &b, "alignment", "bad alignment");
    }
    /* tensor infos */
    static const struct { uint32_t n_dims; uint64_t ne[5]; uint32_t type; uint64_t off; const char *want; } bad_t[] = {
        {5, {1, 1, 1, 1, 1}, 0, 0, "dimensions"},
        {0, {0}, 0, 0, "dimensions"},
        {2, {4, 0}, 0, 0, "dimension 1 is 0"},
        {2, {(uint64_t)1 << 40, (uint64_t)1 << 40}, 0, 0, "overflow"},
        {2, {(uint64_t)1 << 31, (uint64_t)1 << 29}, 0, 0, "out of bounds"},
        {1, {UINT64_MAX}, 0, 0, "dimension 0"},
        {2, {4, 2}, 99, 0, "unsupported tensor type 99"},
        {2, {4, 2}, 4, 0, "unsupported tensor type 4"},
        {2, {4, 2}, 20, 0, "unsupported tensor type 20 (iq4_nl)"},
        {2, {4, 2}, 0, 16, "not a multiple of the alignment"},
        {2, {4, 2}, 0, 32, "out of bounds"},
        {2, {4, 2}, 0, (uint64_t)1 << 63, "out of bounds"},
        {2, {4, 3}, 0, 0, "out of bounds"},
        {2, {33, 1}, MONO_TYPE_Q8_0, 0, "block"},
    };
    for (size_t i = 0; i < sizeof bad_t / sizeof *bad_t; i++) {
        if (bad_t[i].type == MONO_TYPE_Q8_0 && !mono_type_get(MONO_TYPE_Q8_0)) continue;
        if (bad_t[i].type == 20 && mono_type_get(20)) continue;   /* iq4_nl, should a later build add it */
        bb_header(&b, 3, 1, 0);
        bb_tensor(&b, "t", bad_t[i].n_dims, bad_t[i].ne, bad_t[i].type, bad_t[i].off);
        bb_pad(&b, 32);
        bb_zeros(&b, 32);   /* room for a [4,2] f32 tensor */
        char label[32];
        snprintf(label, sizeof label, "tensor case %zu", i);
        expect_fail(t, &b, bad_t[i].want, label);
    }
    /* general.alignment 1 is legal, but an f32 tensor at an odd byte is not usable */
    bb_header(&b, 3, 1, 1);
    bb_str(&b, "general.alignment"); bb_u32(&b, MONO_GGUF_UINT32); bb_u32(&b, 1);
    bb_tensor(&b, "t", 2, ne2, 0, 1);
    bb_pad(&b, 32); bb_zeros(&b, 64);
    expect_fail(t, &b, "aligned", "odd f32 offset with alignment 1");
    bb_header(&b, 3, 2, 0);
    bb_tensor(&b, "t", 2, ne2, 0, 0);
    bb_tensor(&b, "t", 2, ne2, 0, 32);
    bb_pad(&b, 32); bb_zeros(&b, 64);
    expect_fail(t, &b, "duplicate tensor name 't'", "duplicate tensor");
    bb_header(&b, 3, 1, 0);
    bb_tensor(&b, "", 2, ne2, 0, 0);
    bb_pad(&b, 32); bb_zeros(&b, 32);
    expect_fail(t, &b, "name", "empty tensor name");
    bb_header(&b, 3, 1, 0);
    bb_tensor(&b, "t", 2, ne2, 0, 0);
    expect_fail(t, &b, "truncated", "no data at all");
    /* v2 and a metadata-only file are fine */
    bb_header(&b, 2, 1, 1); bb_str(&b, "general.architecture"); bb_u32(&b, MONO_GGUF_STRING); bb_str(&b, "x");
    bb_tensor(&b, "t", 2, ne2, 0, 0);
    bb_pad(&b, 32); bb_zeros(&b, 32);
    mono_error e;
    MT_CHECK_MSG(t, open_exact(b.p, b.n, &e) == MONO_OK, "v2: %s", e.message);
    free(b.p); memset(&b, 0, sizeof b);
    bb_header(&b, 3, 0, 1); bb_str(&b, "a"); bb_u32(&b, MONO_GGUF_UINT8); bb_put(&b, "\x01", 1);
    MT_CHECK_MSG(t, open_exact(b.p, b.n, &e) == MONO_OK, "metadata only: %s", e.message);
    free(b.p);
    /* a missing file names the path */
    mono_gguf *g = NULL;
    MT_CHECK(t, mono_gguf_open("/nonexistent/m.gguf", &g, &e) == MONO_ERR_IO && strstr(e.message, "/nonexistent/m.gguf"));
}

/* A tiny qwen2 GGUF through the model file view: hparams from metadata,
 * vocab from the embedding, tied when output.weight is absent. */
static void check_model_view(mt_ctx *t) {
    enum { E = 8, V = 16, FF = 12, H = 2, HKV = 1, HD = 4 };
    static float zeros[V * E];
    mono_error e = {0};
    mono_gguf_writer *w = mono_gguf_writer_init();
    mono_gguf_writer_add_kv_str(w, "general.architecture", "qwen2", &e);
    mono_gguf_writer_add_kv_str(w, "general.name", "tiny test", &e);
    mono_gguf_writer_add_kv_u32(w, "qwen2.block_count", 1, &e);
    mono_gguf_writer_add_kv_u32(w, "qwen2.embedding_length", E, &e);
    mono_gguf_writer_add_kv_u32(w, "qwen2.feed_forward_length", FF, &e);
    mono_gguf_writer_add_kv_u32(w, "qwen2.attention.head_count", H, &e);
    mono_gguf_writer_add_kv_u32(w, "qwen2.attention.head_count_kv", HKV, &e);
    mono_gguf_writer_add_kv_u32(w, "qwen2.context_length", 128, &e);
    mono_gguf_writer_add_kv_f32(w, "qwen2.rope.freq_base", 1e6f, &e);
    mono_gguf_writer_add_kv_f32(w, "qwen2.attention.layer_norm_rms_epsilon", 1e-6f, &e);
    mono_gguf_writer_add_kv_u32(w, "tokenizer.ggml.eos_token_id", 15, &e);
    struct { const char *n; int64_t a, b; } ts[] = {
        {"token_embd.weight", E, V}, {"output_norm.weight", E, 1}, {"blk.0.attn_norm.weight", E, 1},
        {"blk.0.attn_q.weight", E, H * HD}, {"blk.0.attn_q.bias", H * HD, 1}, {"blk.0.attn_k.weight", E, HKV * HD},
        {"blk.0.attn_k.bias", HKV * HD, 1}, {"blk.0.attn_v.weight", E, HKV * HD}, {"blk.0.attn_v.bias", HKV * HD, 1},
        {"blk.0.attn_output.weight", H * HD, E}, {"blk.0.ffn_norm.weight", E, 1}, {"blk.0.ffn_gate.weight", E, FF},
        {"blk.0.ffn_up.weight", E, FF}, {"blk.0.ffn_down.weight", FF, E}};
    size_t nt = sizeof ts / sizeof *ts;
    for (size_t i = 0; i < nt; i++) {
        int64_t ne[2] = {ts[i].a, ts[i].b};
        mono_gguf_writer_add_tensor(w, ts[i].n, MONO_TYPE_F32, ts[i].b == 1 ? 1 : 2, ne, zeros, (size_t)(ts[i].a * ts[i].b * 4), &e);
    }
    uint8_t *buf = NULL;
    size_t n = 0;
    mono_gguf_writer_write_memory(w, &buf, &n, &e);
    mono_model_file *mf = NULL;
    if (MT_CHECK_MSG(t, mono_model_file_open_memory(buf, n, &mf, &e) == MONO_OK, "%s", e.message)) {
        const mono_hparams *hp = mono_model_file_hparams(mf);
        MT_CHECK(t, !strcmp(hp->arch, "qwen2") && !strcmp(hp->name, "tiny test"));
        MT_CHECK(t, hp->n_layer == 1 && hp->n_embd == E && hp->n_ff == FF && hp->n_head == H && hp->n_head_kv == HKV);
        MT_CHECK(t, hp->head_dim == HD && hp->n_vocab == V && hp->n_ctx_train == 128 && hp->tied_embeddings == 1);
        MT_CHECK(t, hp->rope_theta == 1e6f && hp->eos_id == 15 && hp->bos_id == -1);
        MT_CHECK(t, mono_model_file_gen_defaults(mf)->n_eos == 1 && mono_model_file_gen_defaults(mf)->eos_ids[0] == 15);
        MT_CHECK(t, mono_model_file_gguf(mf) != NULL && !strcmp(mono_model_file_format(mf), "gguf"));
        MT_CHECK(t, mono_model_file_n_tensors(mf) == nt && mono_model_file_tensor(mf, "blk.0.ffn_down.weight"));
        mono_tensor_spec specs[64];
        size_t ns = mono_arch_tensor_specs(hp, specs, 64);
        MT_CHECK(t, ns == 3 + 15);
    }
    mono_model_file_close(mf);
    /* the model view on every truncation and every flipped header byte:
     * errors (or, for flips that keep the file valid, a model), never a crash */
    int all_failed = 1, flips_ok = 0;
    for (size_t k = 0; k + 32 < n; k += (k < 2048 ? 1 : 61)) {
        uint8_t *cut = malloc(k ? k : 1);
        memcpy(cut, buf, k);
        mono_model_file *m2 = NULL;
        if (mono_model_file_open_memory(cut, k, &m2, &e) == MONO_OK) all_failed = 0;
        mono_model_file_close(m2);
        free(cut);
    }
    MT_CHECK(t, all_failed);
    uint8_t *copy = malloc(n);
    for (size_t k = 0; k < n && k < 1600; k++) {
        memcpy(copy, buf, n);
        copy[k] ^= 0x41;
        mono_model_file *m2 = NULL;
        if (mono_model_file_open_memory(copy, n, &m2, &e) == MONO_OK) {
            flips_ok++;   /* e.g. a changed name or an f32 value: still a model */
            const mono_hparams *h2 = mono_model_file_hparams(m2);
            const mono_tensor *te = mono_model_file_tensor(m2, "token_embd.weight");   /* vocab follows the embedding */
            MT_CHECK_MSG(t, h2->n_embd == E && te && h2->n_vocab == te->ne[1], "flip %zu: embd %d vocab %d", k, h2->n_embd, h2->n_vocab);
        }
        mono_model_file_close(m2);
    }
    free(copy);
    MT_CHECK(t, flips_ok > 0);
    free(buf);
    /* a wrong shape or a missing bias names the tensor */
    mono_gguf_writer_free(w);
    w = mono_gguf_writer_init();
    mono_gguf_writer_add_kv_str(w, "general.architecture", "qwen2", &e);
    mono_gguf_writer_add_kv_u32(w, "qwen2.block_count", 1, &e);
    mono_gguf_writer_add_kv_u32(w, "qwen2.embedding_length", E, &e);
    mono_gguf_writer_add_kv_u32(w, "qwen2.feed_forward_length", FF, &e);
    mono_gguf_writer_add_kv_u32(w, "qwen2.attention.head_count", H, &e);
    for (size_t i = 0; i < nt; i++) {
        int64_t ne[2] = {ts[i].a, ts[i].b};
        if (!strcmp(ts[i].n, "blk.0.attn_v.bias")) continue;
        mono_gguf_writer_add_tensor(w, ts[i].n, MONO_TYPE_F32, ts[i].b == 1 ? 1 : 2, ne, zeros, (size_t)(ts[i].a * ts[i].b * 4), &e);
    }
    mono_gguf_writer_write_memory(w, &buf, &n, &e);
    /* head_count_kv defaults to head_count (2): attn_k [8, 4] is now wrong */
    MT_CHECK(t, mono_model_file_open_memory(buf, n, &mf, &e) != MONO_OK && strstr(e.message, "blk.0.attn_k.weight"));
    free(buf);
    mono_gguf_writer_add_kv_u32(w, "qwen2.attention.head_count_kv", HKV, &e);
    mono_gguf_writer_write_memory(w, &buf, &n, &e);
    MT_CHECK(t, mono_model_file_open_memory(buf, n, &mf, &e) != MONO_OK && strstr(e.message, "missing tensor 'blk.0.attn_v.bias'"));
    free(buf);
    /* rope scaling is refused, "none" is fine */
    mono_gguf_writer_add_kv_str(w, "qwen2.rope.scaling.type", "yarn", &e);
    mono_gguf_writer_write_memory(w, &buf, &n, &e);
    MT_CHECK(t, mono_model_file_open_memory(buf, n, &mf, &e) == MONO_ERR_UNSUPPORTED && strstr(e.message, "yarn"));
    free(buf);
    mono_gguf_writer_free(w);
    /* no architecture at all */
    w = mono_gguf_writer_init();
    mono_gguf_writer_add_kv_u32(w, "x", 1, &e);
    mono_gguf_writer_write_memory(w, &buf, &n, &e);
    MT_CHECK(t, mono_model_file_open_memory(buf, n, &mf, &e) != MONO_OK && strstr(e.message, "general.architecture"));
    free(buf);
    mono_gguf_writer_free(w);
}

/* HF folder -> GGUF (as stored, and all-f32) -> the same tensors. */
static void check_convert(mt_ctx *t) {
    static const char *dirs[] = {"golden/models/tiny-f32", "golden/models/small-bf16-untied", "golden/models/f16-mha"};
    for (size_t d = 0; d < sizeof dirs / sizeof *dirs; d++) {
        char src[512], out[] = "/tmp/mono_conv_XXXXXX";
        mono_error e = {0};
        mono_model_file *hf = NULL, *gg = NULL;
        mt_shared_path(src, sizeof src, dirs[d]);
        if (!MT_CHECK_MSG(t, mono_model_file_open(src, &hf, &e) == MONO_OK, "%s", e.message)) continue;
        int fd = mkstemp(out);
        if (fd >= 0) close(fd);
        for (int as_f32 = 0; as_f32 < 2; as_f32++) {
            mono_convert_options opt;
            mono_convert_options_init(&opt);
            if (as_f32) opt.type = MONO_TYPE_F32;
            if (!MT_CHECK_MSG(t, mono_model_file_write_gguf(hf, &opt, out, &e) == MONO_OK, "%s", e.message)) continue;
            if (!MT_CHECK_MSG(t, mono_model_file_open(out, &gg, &e) == MONO_OK, "%s", e.message)) continue;
            const mono_hparams *a = mono_model_file_hparams(hf), *b = mono_model_file_hparams(gg);
            MT_CHECK(t, a->n_layer == b->n_layer && a->n_embd == b->n_embd && a->n_head == b->n_head &&
                        a->n_head_kv == b->n_head_kv && a->head_dim == b->head_dim && a->n_ff == b->n_ff &&
                        a->n_vocab == b->n_vocab && a->n_ctx_train == b->n_ctx_train && a->rope_theta == b->rope_theta &&
                        a->rms_eps == b->rms_eps && a->tied_embeddings == b->tied_embeddings && !strcmp(a->arch, b->arch));
            MT_CHECK_EQ_INT(t, mono_model_file_n_tensors(gg), mono_model_file_n_tensors(hf));
            const mono_gguf *g = mono_model_file_gguf(gg);
            const mono_gguf_kv *toks = mono_gguf_find(g, "tokenizer.ggml.tokens");
            MT_CHECK(t, toks && toks->arr_n == (uint64_t)a->n_vocab && toks->arr_strs[0].len == 1 && toks->arr_strs[0].ptr[0] == '!');
            int same = 1;
            for (size_t i = 0; i < mono_model_file_n_tensors(hf); i++) {
                const mono_tensor *x = mono_model_file_tensor_at(hf, i), *y = mono_model_file_tensor(gg, x->name);
                if (!y || y->n_dims != x->n_dims || memcmp(y->ne, x->ne, sizeof x->ne)) { same = 0; continue; }
                int want = (as_f32 || x->n_dims == 1) ? MONO_TYPE_F32 : x->type;
                if (y->type != want) { same = 0; continue; }
                int64_t n = 1;
                for (int k = 0; k < MONO_MAX_DIMS; k++) n *= x->ne[k];
                float *fx = malloc((size_t)n * 4), *fy = malloc((size_t)n * 4);
                mono_type_get(x->type)->to_float(x->data, fx, n);
                mono_type_get(y->type)->to_float(y->data, fy, n);
                same &= !memcmp(fx, fy, (size_t)n * 4);   /* f32/f16/bf16 widen exactly */
                free(fx); free(fy);
            }
            MT_CHECK_MSG(t, same, "%s (f32=%d): tensors differ after conversion", dirs[d], as_f32);
            mono_model_file_close(gg);
            gg = NULL;
        }
        /* a tokenizer larger than the model's vocabulary is refused */
        char tok[512];
        mono_convert_options opt;
        mono_convert_options_init(&opt);
        opt.tokenizer_json = mt_shared_path(tok, sizeof tok, "tokenizers/qwen2.5/tokenizer.json");
        if (d == 0)
            MT_CHECK(t, mono_model_file_write_gguf(hf, &opt, out, &e) != MONO_OK && strstr(e.message, "outside the model's vocabulary"));
        remove(out);
        mono_model_file_close(hf);
    }
}

void suite_gguf(mt_ctx *t) {
    uint8_t *file = NULL;
    size_t size = 0, data_end = 0;
    check_round_trip(t, &file, &size, &data_end);
    if (file && data_end) check_truncations(t, file, size, data_end);
    free(file);
    check_hostile(t);
    check_model_view(t);
    check_convert(t);
}
