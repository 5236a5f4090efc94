/*
 * safetensors.h -- reads one .safetensors file in place (zero copy): an
 * 8-byte little-endian header length, a JSON header mapping tensor names to
 * {dtype, shape, data_offsets}, then the data.
 *
 * Tensors come back as mono_tensor with their file names (Hugging Face's),
 * GGUF-order shapes (ne[0] innermost, i.e. shape reversed) and a type:
 * MONO_TYPE_F32/F16/BF16, or MONO_ST_I32/MONO_ST_I64 (ggml's ids for those)
 * for integer tensors such as the golden files' input_ids. Any other dtype is
 * refused with a message naming the tensor and the dtype. __metadata__ is
 * ignored. Every offset is checked: inside the file, begin <= end, size ==
 * product(shape) * dtype size, no two tensors overlapping, no duplicate names,
 * and each tensor's data aligned (in the file) to its element size, so typed
 * loads from the mapped data are aligned (writers pad the header to 8).
 */
#ifndef MONO_FORMATS_SAFETENSORS_H
#define MONO_FORMATS_SAFETENSORS_H

#include <stddef.h>

#include "formats/model_file.h"
#include "monologue.h"

#define MONO_ST_I32 26                        /* ggml's GGML_TYPE_I32 */
#define MONO_ST_I64 27                        /* ggml's GGML_TYPE_I64 */
#define MONO_ST_MAX_HEADER (100u << 20)       /* the reference library's limit */

typedef struct mono_safetensors mono_safetensors;

mono_status mono_safetensors_open(const char *path, mono_safetensors **out, mono_error *err);
/* Bytes the caller keeps alive. */
mono_status mono_safetensors_open_memory(const void *data, size_t size, mono_safetensors **out, mono_error *err);
void mono_safetensors_close(mono_safetensors *st);
/* mono_blob_release on the file's bytes [p, p + n) (see core/file.h). */
void mono_safetensors_release(const mono_safetensors *st, const void *p, size_t n);

/* Tensors, sorted by name. */
size_t mono_safetensors_n_tensors(const mono_safetensors *st);
const mono_tensor *mono_safetensors_tensor_at(const mono_safetensors *st, size_t i);
const mono_tensor *mono_safetensors_tensor(const mono_safetensors *st, const char *name);  /* NULL if absent */

/* Element size of a safetensors tensor type (above), 0 if unknown. */
size_t mono_safetensors_type_size(int type);
const char *mono_safetensors_type_name(int type);   /* "F32", "BF16", "I64", ... */

#endif
