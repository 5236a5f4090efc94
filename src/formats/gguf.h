/*
 * gguf.h -- the GGUF (v2/v3) reader: metadata key/values and tensor infos of
 * a llama.cpp model file, read in place from a mono_blob (zero copy).
 *
 * Every count, length, offset and dimension is checked against the file
 * size and for overflow before use, so a hostile file gives an error
 * ("truncated file", "tensor 'x' data out of bounds", ...), never a crash.
 *
 *     mono_gguf *g;
 *     if (mono_gguf_open("m.gguf", &g, &err) != MONO_OK) ...
 *     uint32_t n;  mono_gguf_get_u32(g, "qwen2.block_count", &n, &err);
 *     const mono_tensor *t = mono_gguf_tensor(g, "token_embd.weight");
 *     mono_gguf_close(g);
 *
 * Typed getters fail (MONO_ERR_FORMAT, message naming the key) when the key
 * is missing or has another type; integer getters accept any integer type
 * whose value fits. Strings in GGUF are not NUL-terminated: they come back
 * as (pointer, length) into the file.
 */
#ifndef MONO_FORMATS_GGUF_H
#define MONO_FORMATS_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "core/file.h"
#include "formats/model_file.h"
#include "monologue.h"

#define MONO_GGUF_MAGIC 0x46554747u   /* "GGUF" little-endian */
#define MONO_GGUF_DEFAULT_ALIGNMENT 32

typedef enum mono_gguf_type {
    MONO_GGUF_UINT8 = 0,
    MONO_GGUF_INT8 = 1,
    MONO_GGUF_UINT16 = 2,
    MONO_GGUF_INT16 = 3,
    MONO_GGUF_UINT32 = 4,
    MONO_GGUF_INT32 = 5,
    MONO_GGUF_FLOAT32 = 6,
    MONO_GGUF_BOOL = 7,
    MONO_GGUF_STRING = 8,
    MONO_GGUF_ARRAY = 9,
    MONO_GGUF_UINT64 = 10,
    MONO_GGUF_INT64 = 11,
    MONO_GGUF_FLOAT64 = 12,
    MONO_GGUF_TYPE_COUNT
} mono_gguf_type;

typedef struct mono_gguf_str {
    const char *ptr;              /* into the file; NOT NUL-terminated */
    size_t len;
} mono_gguf_str;

typedef struct mono_gguf_kv {
    const char *key;              /* NUL-terminated copy */
    int type;                     /* mono_gguf_type */
    /* scalars: the value's bytes (little-endian) in the file; strings: the
     * string's bytes; arrays: the elements after the array header (for
     * arrays of strings/arrays: the first element's length prefix). */
    const uint8_t *data;
    size_t size;                  /* bytes at data: scalar, string or elements */
    mono_gguf_str str;            /* MONO_GGUF_STRING */
    int arr_type;                 /* MONO_GGUF_ARRAY: element type */
    uint64_t arr_n;               /* MONO_GGUF_ARRAY: element count */
    mono_gguf_str *arr_strs;      /* arrays of strings: [arr_n], else NULL */
} mono_gguf_kv;

typedef struct mono_gguf mono_gguf;

/* Opens a file (memory-mapped) or wraps bytes the caller keeps alive. */
mono_status mono_gguf_open(const char *path, mono_gguf **out, mono_error *err);
mono_status mono_gguf_open_memory(const void *data, size_t size, mono_gguf **out, mono_error *err);
void mono_gguf_close(mono_gguf *g);
/* mono_blob_release on the file's bytes [p, p + n) (see core/file.h). */
void mono_gguf_release(const mono_gguf *g, const void *p, size_t n);

uint32_t mono_gguf_version(const mono_gguf *g);
size_t mono_gguf_alignment(const mono_gguf *g);
size_t mono_gguf_data_offset(const mono_gguf *g);   /* start of the tensor data */
const char *mono_gguf_type_name(int type);           /* "u32", "string", ... */

/* Metadata. */
size_t mono_gguf_n_kv(const mono_gguf *g);
const mono_gguf_kv *mono_gguf_kv_at(const mono_gguf *g, size_t i);
const mono_gguf_kv *mono_gguf_find(const mono_gguf *g, const char *key);  /* NULL if absent */

mono_status mono_gguf_get_u32(const mono_gguf *g, const char *key, uint32_t *out, mono_error *err);
mono_status mono_gguf_get_i32(const mono_gguf *g, const char *key, int32_t *out, mono_error *err);
mono_status mono_gguf_get_i64(const mono_gguf *g, const char *key, int64_t *out, mono_error *err);
mono_status mono_gguf_get_f32(const mono_gguf *g, const char *key, float *out, mono_error *err);  /* f32 or f64 */
mono_status mono_gguf_get_bool(const mono_gguf *g, const char *key, int *out, mono_error *err);
mono_status mono_gguf_get_str(const mono_gguf *g, const char *key, mono_gguf_str *out, mono_error *err);
/* Arrays: the kv (for arr_n, arr_type, arr_strs); elem_type -1 accepts any. */
mono_status mono_gguf_get_arr(const mono_gguf *g, const char *key, int elem_type, const mono_gguf_kv **out,
                              mono_error *err);

/* Element i of a numeric array (i < arr_n; integer/bool/float element
 * types, converted). Return 0 when the element type does not convert. */
int mono_gguf_arr_int(const mono_gguf_kv *kv, uint64_t i, int64_t *out);
int mono_gguf_arr_f32(const mono_gguf_kv *kv, uint64_t i, float *out);
/* A scalar of any integer type as int64 (u64 above INT64_MAX fails). */
int mono_gguf_kv_int(const mono_gguf_kv *kv, int64_t *out);

/* Tensors (GGUF names, data pointing into the file). */
size_t mono_gguf_n_tensors(const mono_gguf *g);
const mono_tensor *mono_gguf_tensor_at(const mono_gguf *g, size_t i);
const mono_tensor *mono_gguf_tensor(const mono_gguf *g, const char *name);   /* NULL if absent */
/* Offset of tensor i's data relative to mono_gguf_data_offset(). */
uint64_t mono_gguf_tensor_offset(const mono_gguf *g, size_t i);

#endif
