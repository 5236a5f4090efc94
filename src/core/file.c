/*
 * file.c -- see file.h. POSIX mmap where we can, plain reads where we cannot.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* madvise */
#include "core/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#ifndef MONO_NO_MMAP
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

enum { BLOB_NONE = 0, BLOB_MAPPED, BLOB_HEAP, BLOB_BORROWED };

static const uint8_t empty_bytes[1];

static mono_status read_stream(FILE *f, const char *path, uint8_t **out, size_t *size,
                               mono_error *err) {
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap + 1);
    if (!buf) return mono_error_set(err, MONO_ERR_NOMEM, "%s: out of memory", path);
    errno = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap;
            if (!mono_size_mul(cap, 2, &ncap)) { free(buf); return mono_error_set(err, MONO_ERR_NOMEM, "%s: too large", path); }
            uint8_t *nb = realloc(buf, ncap + 1);
            if (!nb) { free(buf); return mono_error_set(err, MONO_ERR_NOMEM, "%s: out of memory", path); }
            buf = nb; cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {   /* EISDIR when a folder was given where a file belongs */
        int e = errno;
        free(buf);
        return mono_error_set(err, MONO_ERR_IO, "%s: read failed: %s", path, e ? strerror(e) : "I/O error");
    }
    buf[len] = 0;
    *out = buf; *size = len;
    return MONO_OK;
}

static mono_status blob_read(mono_blob *blob, const char *path, mono_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return mono_error_set(err, MONO_ERR_IO, "%s: %s", path, strerror(errno));
    uint8_t *buf; size_t size;
    mono_status st = read_stream(f, path, &buf, &size, err);
    fclose(f);
    if (st != MONO_OK) return st;
    blob->data = buf; blob->size = size; blob->kind = BLOB_HEAP;
    return MONO_OK;
}

mono_status mono_blob_open(mono_blob *blob, const char *path, mono_error *err) {
    memset(blob, 0, sizeof *blob);
    if (!path) return mono_error_set(err, MONO_ERR_INVALID_ARG, "no path given");
#ifndef MONO_NO_MMAP
    int fd = open(path, O_RDONLY);
    if (fd < 0) return mono_error_set(err, MONO_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) { close(fd); return mono_error_set(err, MONO_ERR_IO, "%s: %s", path, strerror(errno)); }
    if (S_ISDIR(st.st_mode)) { close(fd); return mono_error_set(err, MONO_ERR_IO, "%s: is a directory", path); }
    if (!S_ISREG(st.st_mode) || st.st_size == 0) {
        close(fd);
        if (st.st_size == 0 && S_ISREG(st.st_mode)) { blob->data = empty_bytes; blob->kind = BLOB_BORROWED; return MONO_OK; }
        return blob_read(blob, path, err);  /* pipes, devices */
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return blob_read(blob, path, err);
    blob->data = p; blob->size = (size_t)st.st_size; blob->kind = BLOB_MAPPED;
    return MONO_OK;
#else
    return blob_read(blob, path, err);
#endif
}

void mono_blob_borrow(mono_blob *blob, const void *data, size_t size) {
    blob->data = data ? data : empty_bytes;
    blob->size = data ? size : 0;
    blob->kind = BLOB_BORROWED;
}

void mono_blob_release(const mono_blob *blob, const void *p, size_t n) {
#ifndef MONO_NO_MMAP
    if (!blob || blob->kind != BLOB_MAPPED || !p) return;
    uintptr_t lo = (uintptr_t)p, hi = lo + n, b0 = (uintptr_t)blob->data, b1 = b0 + blob->size;
    if (lo < b0 || hi > b1 || hi < lo) return;
    long ps = sysconf(_SC_PAGESIZE);
    uintptr_t page = ps > 0 ? (uintptr_t)ps : 4096;
    lo = (lo + page - 1) / page * page;
    hi = hi / page * page;
    /* MADV_DONTNEED on a read-only private file mapping drops the mapping
     * of those pages, never data: they are re-read from the file on use */
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED);
#else
    (void)blob; (void)p; (void)n;
#endif
}

void mono_blob_close(mono_blob *blob) {
    if (!blob) return;
#ifndef MONO_NO_MMAP
    if (blob->kind == BLOB_MAPPED) munmap((void *)blob->data, blob->size);
#endif
    if (blob->kind == BLOB_HEAP) free((void *)blob->data);
    memset(blob, 0, sizeof *blob);
}

mono_status mono_file_read_stream(FILE *f, const char *name, char **out, size_t *size, mono_error *err) {
    uint8_t *buf;
    size_t n;
    mono_status st = read_stream(f, name, &buf, &n, err);
    if (st != MONO_OK) return st;
    *out = (char *)buf;
    if (size) *size = n;
    return MONO_OK;
}

mono_status mono_file_read_text(const char *path, char **out, size_t *size, mono_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return mono_error_set(err, MONO_ERR_IO, "%s: %s", path, strerror(errno));
    mono_status st = mono_file_read_stream(f, path, out, size, err);
    fclose(f);
    return st;
}
