/*
 * file.h -- whole-file access: memory-mapped natively (zero copy), read into
 * memory where mmap is unavailable (the WebAssembly build defines
 * MONO_NO_MMAP) or when the bytes already live in memory (the browser).
 */
#ifndef MONO_CORE_FILE_H
#define MONO_CORE_FILE_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "monologue.h"

typedef struct mono_blob {
    const uint8_t *data;  /* [size] bytes, read-only */
    size_t size;
    int kind;             /* private: how to release it (map, heap, borrowed) */
} mono_blob;

/* Maps (or reads) a whole file. An empty file gives size 0, data non-NULL. */
mono_status mono_blob_open(mono_blob *blob, const char *path, mono_error *err);

/* Wraps caller-owned memory without copying; the caller keeps it alive. */
void mono_blob_borrow(mono_blob *blob, const void *data, size_t size);

/* Tells the OS that bytes [p, p + n) of the blob will not be read soon:
 * for a mapped file, the whole pages inside the range leave the process's
 * resident set (a later read maps them back from the page cache). Heap and
 * borrowed blobs, and ranges outside the blob, are left alone. */
void mono_blob_release(const mono_blob *blob, const void *p, size_t n);

/* Unmaps or frees; safe on a zeroed blob. */
void mono_blob_close(mono_blob *blob);

/* Reads a whole (small) file into a NUL-terminated heap buffer. */
mono_status mono_file_read_text(const char *path, char **out, size_t *size, mono_error *err);

/* The same for an open stream read to its end (standard input); name is
 * what error messages call it. */
mono_status mono_file_read_stream(FILE *f, const char *name, char **out, size_t *size, mono_error *err);

#endif
