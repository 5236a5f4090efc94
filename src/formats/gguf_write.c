/*
 * gguf_write.c -- see gguf_write.h. Values are encoded into small heap
 * buffers as they are added; writing streams header, metadata, tensor infos
 * and aligned tensor data into a sink (a FILE or a growing buffer), so a
 * large model is never copied in memory to be written to disk.
 */
#define _POSIX_C_SOURCE 200809L   /* stat(), getpid() */
#include "formats/gguf_write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

typedef struct wkv {
    char *key;
    int type;
    uint8_t *val;
    size_t len;
} wkv;

typedef struct wtensor {
    char *name;
    int type, n_dims;
    int64_t ne[MONO_MAX_DIMS];
    const void *data;
    size_t nbytes;
} wtensor;

struct mono_gguf_writer {
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
};

mono_gguf_writer *mono_gguf_writer_init(void) { return calloc(1, sizeof(mono_gguf_writer)); }

void mono_gguf_writer_free(mono_gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) { free(w->kv[i].key); free(w->kv[i].val); }
    for (size_t i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->kv); free(w->t); free(w);
}

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

static mono_status add_raw(mono_gguf_writer *w, const char *key, int type, const void *a, size_t alen,
                           const void *b, size_t blen, mono_error *err) {
    if (!w || !key || !*key) return mono_error_set(err, MONO_ERR_INVALID_ARG, "gguf writer: empty key");
    for (size_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, key)) return mono_error_set(err, MONO_ERR_INVALID_ARG, "gguf writer: duplicate key '%s'", key);
    if (w->n_kv == w->cap_kv) {
        size_t nc = w->cap_kv ? w->cap_kv * 2 : 16;
        wkv *nk = realloc(w->kv, nc * sizeof *nk);
        if (!nk) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
        w->kv = nk; w->cap_kv = nc;
    }
    size_t len;
    if (!mono_size_add(alen, blen, &len)) return mono_error_set(err, MONO_ERR_NOMEM, "value too large");
    wkv *kv = &w->kv[w->n_kv];
    kv->key = malloc(strlen(key) + 1);
    kv->val = malloc(len ? len : 1);
    if (!kv->key || !kv->val) { free(kv->key); free(kv->val); return mono_error_set(err, MONO_ERR_NOMEM, "out of memory"); }
    strcpy(kv->key, key);
    if (alen) memcpy(kv->val, a, alen);
    if (blen) memcpy(kv->val + alen, b, blen);
    kv->type = type;
    kv->len = len;
    w->n_kv++;
    return MONO_OK;
}

static mono_status add_scalar(mono_gguf_writer *w, const char *key, int type, uint64_t bits, size_t n, mono_error *err) {
    uint8_t b[8];
    put64(b, bits);   /* little-endian: the low n bytes are the value */
    return add_raw(w, key, type, b, n, NULL, 0, err);
}

mono_status mono_gguf_writer_add_kv_u8(mono_gguf_writer *w, const char *key, uint8_t v, mono_error *err) { return add_scalar(w, key, MONO_GGUF_UINT8, v, 1, err); }
mono_status mono_gguf_writer_add_kv_i8(mono_gguf_writer *w, const char *key, int8_t v, mono_error *err) { return add_scalar(w, key, MONO_GGUF_INT8, (uint8_t)v, 1, err); }
mono_status mono_gguf_writer_add_kv_u16(mono_gguf_writer *w, const char *key, uint16_t v, mono_error *err) { return add_scalar(w, key, MONO_GGUF_UINT16, v, 2, err); }
mono_status mono_gguf_writer_add_kv_i16(mono_gguf_writer *w, const char *key, int16_t v, mono_error *err) { return add_scalar(w, key, MONO_GGUF_INT16, (uint16_t)v, 2, err); }
mono_status mono_gguf_writer_add_kv_u32(mono_gguf_writer *w, const char *key, uint32_t v, mono_error *err) { return add_scalar(w, key, MONO_GGUF_UINT32, v, 4, err); }
mono_status mono_gguf_writer_add_kv_i32(mono_gguf_writer *w, const char *key, int32_t v, mono_error *err) { return add_scalar(w, key, MONO_GGUF_INT32, (uint32_t)v, 4, err); }
mono_status mono_gguf_writer_add_kv_u64(mono_gguf_writer *w, const char *key, uint64_t v, mono_error *err) { return add_scalar(w, key, MONO_GGUF_UINT64, v, 8, err); }
mono_status mono_gguf_writer_add_kv_i64(mono_gguf_writer *w, const char *key, int64_t v, mono_error *err) { return add_scalar(w, key, MONO_GGUF_INT64, (uint64_t)v, 8, err); }
mono_status mono_gguf_writer_add_kv_bool(mono_gguf_writer *w, const char *key, int v, mono_error *err) { return add_scalar(w, key, MONO_GGUF_BOOL, v != 0, 1, err); }

mono_status mono_gguf_writer_add_kv_f32(mono_gguf_writer *w, const char *key, float v, mono_error *err) {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    return add_scalar(w, key, MONO_GGUF_FLOAT32, bits, 4, err);
}

mono_status mono_gguf_writer_add_kv_f64(mono_gguf_writer *w, const char *key, double v, mono_error *err) {
    uint64_t bits;
    memcpy(&bits, &v, 8);
    return add_scalar(w, key, MONO_GGUF_FLOAT64, bits, 8, err);
}

mono_status mono_gguf_writer_add_kv_strn(mono_gguf_writer *w, const char *key, const char *s, size_t len, mono_error *err) {
    uint8_t b[8];
    if (!s && len) return mono_error_set(err, MONO_ERR_INVALID_ARG, "gguf writer: NULL string for '%s'", key ? key : "");
    put64(b, len);
    return add_raw(w, key, MONO_GGUF_STRING, b, 8, s, len, err);
}

mono_status mono_gguf_writer_add_kv_str(mono_gguf_writer *w, const char *key, const char *s, mono_error *err) {
    return mono_gguf_writer_add_kv_strn(w, key, s ? s : "", s ? strlen(s) : 0, err);
}

static size_t elem_size(int type) {
    switch (type) {
    case MONO_GGUF_UINT8: case MONO_GGUF_INT8: case MONO_GGUF_BOOL: return 1;
    case MONO_GGUF_UINT16: case MONO_GGUF_INT16: return 2;
    case MONO_GGUF_UINT32: case MONO_GGUF_INT32: case MONO_GGUF_FLOAT32: return 4;
    case MONO_GGUF_UINT64: case MONO_GGUF_INT64: case MONO_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

mono_status mono_gguf_writer_add_kv_arr(mono_gguf_writer *w, const char *key, int elem_type, const void *data, size_t n,
                                        mono_error *err) {
    size_t es = elem_size(elem_type), bytes;
    uint8_t hdr[12];
    if (!es) return mono_error_set(err, MONO_ERR_INVALID_ARG, "gguf writer: '%s': element type %d is not numeric", key ? key : "", elem_type);
    if (!mono_size_mul(es, n, &bytes)) return mono_error_set(err, MONO_ERR_NOMEM, "array too large");
    if (!data && n) return mono_error_set(err, MONO_ERR_INVALID_ARG, "gguf writer: NULL array data");
    put32(hdr, (uint32_t)elem_type);
    put64(hdr + 4, n);
    return add_raw(w, key, MONO_GGUF_ARRAY, hdr, 12, data, bytes, err);
}

mono_status mono_gguf_writer_add_kv_arr_str(mono_gguf_writer *w, const char *key, const char *const *strs,
                                            const size_t *lens, size_t n, mono_error *err) {
    size_t total = 12;
    for (size_t i = 0; i < n; i++) {
        size_t l = lens ? lens[i] : strlen(strs[i]);
        if (!mono_size_add(total, 8, &total) || !mono_size_add(total, l, &total))
            return mono_error_set(err, MONO_ERR_NOMEM, "array too large");
    }
    uint8_t *buf = malloc(total), *p = buf;
    if (!buf) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    put32(p, MONO_GGUF_STRING);
    put64(p + 4, n);
    p += 12;
    for (size_t i = 0; i < n; i++) {
        size_t l = lens ? lens[i] : strlen(strs[i]);
        put64(p, l);
        if (l) memcpy(p + 8, strs[i], l);
        p += 8 + l;
    }
    mono_status st = add_raw(w, key, MONO_GGUF_ARRAY, buf, total, NULL, 0, err);
    free(buf);
    return st;
}

mono_status mono_gguf_writer_add_kv_raw(mono_gguf_writer *w, const char *key, int type, const void *bytes, size_t len,
                                        mono_error *err) {
    return add_raw(w, key, type, bytes, len, NULL, 0, err);
}

mono_status mono_gguf_writer_add_tensor(mono_gguf_writer *w, const char *name, int type, int n_dims, const int64_t *ne,
                                        const void *data, size_t nbytes, mono_error *err) {
    if (!w || !name || !*name) return mono_error_set(err, MONO_ERR_INVALID_ARG, "gguf writer: empty tensor name");
    if (strlen(name) > 63)   /* ggml's GGML_MAX_NAME is 64 with the NUL */
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "gguf writer: tensor name '%.40s...' is longer than llama.cpp's 63 bytes", name);
    if (n_dims < 1 || n_dims > MONO_MAX_DIMS)
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "gguf writer: tensor '%s': %d dimensions", name, n_dims);
    if (!mono_type_get(type))
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "gguf writer: tensor '%s': unknown type %d", name, type);
    size_t want = mono_type_row_bytes(type, ne[0]);
    for (int d = 0; d < n_dims; d++)
        if (ne[d] <= 0) return mono_error_set(err, MONO_ERR_INVALID_ARG, "gguf writer: tensor '%s': dimension %d is %lld", name, d, (long long)ne[d]);
    for (int d = 1; d < n_dims; d++)
        if (!mono_size_mul(want, (size_t)ne[d], &want)) want = 0;
    if (want == 0 || want != nbytes)
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "gguf writer: tensor '%s': %zu bytes given, shape and type need %zu",
                              name, nbytes, want);
    for (size_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].name, name)) return mono_error_set(err, MONO_ERR_INVALID_ARG, "gguf writer: duplicate tensor '%s'", name);
    if (w->n_t == w->cap_t) {
        size_t nc = w->cap_t ? w->cap_t * 2 : 64;
        wtensor *nt = realloc(w->t, nc * sizeof *nt);
        if (!nt) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
        w->t = nt; w->cap_t = nc;
    }
    wtensor *t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    t->name = malloc(strlen(name) + 1);
    if (!t->name) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    strcpy(t->name, name);
    t->type = type;
    t->n_dims = n_dims;
    for (int d = 0; d < MONO_MAX_DIMS; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    t->data = data;
    t->nbytes = nbytes;
    w->n_t++;
    return MONO_OK;
}

/* ---- output ---- */

typedef struct sink {
    FILE *f;
    uint8_t *buf;
    size_t len, cap;
    size_t pos;        /* bytes written so far */
    int failed;
} sink;

static void emit(sink *s, const void *p, size_t n) {
    if (s->failed || n == 0) return;
    if (s->f) {
        if (fwrite(p, 1, n, s->f) != n) s->failed = 1;
    } else {
        if (s->len + n > s->cap) {
            size_t nc = s->cap ? s->cap : 4096;
            while (nc < s->len + n) nc *= 2;
            uint8_t *nb = realloc(s->buf, nc);
            if (!nb) { s->failed = 1; return; }
            s->buf = nb; s->cap = nc;
        }
        memcpy(s->buf + s->len, p, n);
        s->len += n;
    }
    s->pos += n;
}

static void emit32(sink *s, uint32_t v) { uint8_t b[4]; put32(b, v); emit(s, b, 4); }
static void emit64(sink *s, uint64_t v) { uint8_t b[8]; put64(b, v); emit(s, b, 8); }
static void emit_pad(sink *s, size_t align) {
    static const uint8_t zeros[64];
    size_t pad = (align - s->pos % align) % align;
    while (pad) { size_t k = pad < sizeof zeros ? pad : sizeof zeros; emit(s, zeros, k); pad -= k; }
}

static size_t writer_alignment(const mono_gguf_writer *w) {
    for (size_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, "general.alignment") && w->kv[i].type == MONO_GGUF_UINT32) {
            const uint8_t *p = w->kv[i].val;
            uint32_t a = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            if (a && !(a & (a - 1))) return a;
        }
    return MONO_GGUF_DEFAULT_ALIGNMENT;
}

static void write_all(const mono_gguf_writer *w, sink *s) {
    size_t align = writer_alignment(w);
    emit32(s, MONO_GGUF_MAGIC);
    emit32(s, 3);
    emit64(s, w->n_t);
    emit64(s, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        size_t kl = strlen(w->kv[i].key);
        emit64(s, kl);
        emit(s, w->kv[i].key, kl);
        emit32(s, (uint32_t)w->kv[i].type);
        emit(s, w->kv[i].val, w->kv[i].len);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        size_t nl = strlen(t->name);
        emit64(s, nl);
        emit(s, t->name, nl);
        emit32(s, (uint32_t)t->n_dims);
        for (int d = 0; d < t->n_dims; d++) emit64(s, (uint64_t)t->ne[d]);
        emit32(s, (uint32_t)t->type);
        emit64(s, off);
        off += t->nbytes;
        off += (align - off % align) % align;
    }
    emit_pad(s, align);
    size_t data_start = s->pos;
    for (size_t i = 0; i < w->n_t; i++) {
        emit(s, w->t[i].data, w->t[i].nbytes);
        size_t rel = s->pos - data_start;
        size_t pad = (align - rel % align) % align;
        static const uint8_t zeros[64];
        while (pad) { size_t k = pad < sizeof zeros ? pad : sizeof zeros; emit(s, zeros, k); pad -= k; }
    }
}

static mono_status write_to(const mono_gguf_writer *w, const char *path, mono_error *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return mono_error_set(err, MONO_ERR_IO, "%s: %s", path, strerror(errno));
    sink s = {0};
    s.f = f;
    write_all(w, &s);
    int e = s.failed ? errno : 0;
    if (fclose(f) != 0 && !e) e = errno;
    if (s.failed || e) return mono_error_set(err, MONO_ERR_IO, "%s: write failed: %s", path, strerror(e ? e : EIO));
    return MONO_OK;
}

/* A file is written next to its final name and renamed over it when
 * complete: a failed write leaves no partial file and the old one intact,
 * and an input mapped from the same file (quantize a.gguf ./a.gguf) is
 * never truncated under its reader. Anything that is not a regular file
 * (/dev/stdout, /dev/full) is written in place and never removed. */
mono_status mono_gguf_writer_write_file(const mono_gguf_writer *w, const char *path, mono_error *err) {
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) return write_to(w, path, err);
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    snprintf(tmp, n, "%s.%ld.part", path, (long)getpid());
    mono_status st = write_to(w, tmp, err);
    if (st == MONO_OK && rename(tmp, path) != 0)
        st = mono_error_set(err, MONO_ERR_IO, "%s: %s", path, strerror(errno));
    if (st != MONO_OK) {
        remove(tmp);
        if (err && !strncmp(err->message, tmp, strlen(tmp))) {   /* name the file the caller asked for */
            char rest[sizeof err->message];
            snprintf(rest, sizeof rest, "%s", err->message + strlen(tmp));
            mono_error_set(err, st, "%s%s", path, rest);
        }
    }
    free(tmp);
    return st;
}

mono_status mono_gguf_writer_write_memory(const mono_gguf_writer *w, uint8_t **out, size_t *size, mono_error *err) {
    sink s = {0};
    write_all(w, &s);
    if (s.failed) { free(s.buf); return mono_error_set(err, MONO_ERR_NOMEM, "gguf writer: out of memory"); }
    *out = s.buf ? s.buf : malloc(1);
    *size = s.len;
    return MONO_OK;
}
