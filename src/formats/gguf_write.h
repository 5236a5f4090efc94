/*
 * gguf_write.h -- builds GGUF v3 files that llama.cpp loads: metadata of
 * every type (string arrays for tokenizers included), tensors of any type
 * mono_type_get() knows, data aligned to general.alignment (default 32).
 *
 *     mono_gguf_writer *w = mono_gguf_writer_init();
 *     mono_gguf_writer_add_kv_str(w, "general.architecture", "qwen2", &err);
 *     mono_gguf_writer_add_kv_u32(w, "qwen2.block_count", 24, &err);
 *     int64_t ne[2] = {896, 151936};
 *     mono_gguf_writer_add_tensor(w, "token_embd.weight", MONO_TYPE_F16, 2, ne, data, nbytes, &err);
 *     mono_gguf_writer_write_file(w, "out.gguf", &err);
 *     mono_gguf_writer_free(w);
 *
 * Metadata values are copied; tensor data is NOT: it must stay valid until
 * the file has been written. Keys and tensor names must be unique.
 */
#ifndef MONO_FORMATS_GGUF_WRITE_H
#define MONO_FORMATS_GGUF_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "formats/gguf.h"
#include "monologue.h"

typedef struct mono_gguf_writer mono_gguf_writer;

mono_gguf_writer *mono_gguf_writer_init(void);   /* NULL when out of memory */
void mono_gguf_writer_free(mono_gguf_writer *w);

mono_status mono_gguf_writer_add_kv_u8(mono_gguf_writer *w, const char *key, uint8_t v, mono_error *err);
mono_status mono_gguf_writer_add_kv_i8(mono_gguf_writer *w, const char *key, int8_t v, mono_error *err);
mono_status mono_gguf_writer_add_kv_u16(mono_gguf_writer *w, const char *key, uint16_t v, mono_error *err);
mono_status mono_gguf_writer_add_kv_i16(mono_gguf_writer *w, const char *key, int16_t v, mono_error *err);
mono_status mono_gguf_writer_add_kv_u32(mono_gguf_writer *w, const char *key, uint32_t v, mono_error *err);
mono_status mono_gguf_writer_add_kv_i32(mono_gguf_writer *w, const char *key, int32_t v, mono_error *err);
mono_status mono_gguf_writer_add_kv_u64(mono_gguf_writer *w, const char *key, uint64_t v, mono_error *err);
mono_status mono_gguf_writer_add_kv_i64(mono_gguf_writer *w, const char *key, int64_t v, mono_error *err);
mono_status mono_gguf_writer_add_kv_f32(mono_gguf_writer *w, const char *key, float v, mono_error *err);
mono_status mono_gguf_writer_add_kv_f64(mono_gguf_writer *w, const char *key, double v, mono_error *err);
mono_status mono_gguf_writer_add_kv_bool(mono_gguf_writer *w, const char *key, int v, mono_error *err);
mono_status mono_gguf_writer_add_kv_str(mono_gguf_writer *w, const char *key, const char *s, mono_error *err);
mono_status mono_gguf_writer_add_kv_strn(mono_gguf_writer *w, const char *key, const char *s, size_t len,
                                         mono_error *err);
/* An array of n numeric elements (elem_type a scalar mono_gguf_type other
 * than string), given as the host's little-endian values. */
mono_status mono_gguf_writer_add_kv_arr(mono_gguf_writer *w, const char *key, int elem_type, const void *data,
                                        size_t n, mono_error *err);
/* An array of n strings; lens NULL means NUL-terminated. */
mono_status mono_gguf_writer_add_kv_arr_str(mono_gguf_writer *w, const char *key, const char *const *strs,
                                            const size_t *lens, size_t n, mono_error *err);
/* A value already encoded as GGUF bytes (e.g. nested arrays): type and the
 * bytes that follow the type field. Not validated. */
mono_status mono_gguf_writer_add_kv_raw(mono_gguf_writer *w, const char *key, int type, const void *bytes,
                                        size_t len, mono_error *err);

/* ne[0] innermost; nbytes must equal what type and shape imply. */
mono_status mono_gguf_writer_add_tensor(mono_gguf_writer *w, const char *name, int type, int n_dims,
                                        const int64_t *ne, const void *data, size_t nbytes, mono_error *err);

mono_status mono_gguf_writer_write_file(const mono_gguf_writer *w, const char *path, mono_error *err);
/* The whole file in one heap buffer (release with mono_free). */
mono_status mono_gguf_writer_write_memory(const mono_gguf_writer *w, uint8_t **out, size_t *size, mono_error *err);

#endif
