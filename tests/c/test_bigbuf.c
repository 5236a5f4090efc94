/*
 * test_bigbuf.c -- huge-page-backed buffers: every byte writable and kept,
 * alignment (64 bytes everywhere, 2 MiB where mmap is used), size 0
 * refused with a message, free safe twice and on a zeroed buffer.
 */
#include <stdint.h>
#include <string.h>

#include "core/bigbuf.h"
#include "test.h"

static void check_size(mt_ctx *t, size_t n, int huge) {
    mono_bigbuf b;
    mono_error err;
    if (!MT_CHECK_MSG(t, mono_bigbuf_init(&b, n, huge, &err) == MONO_OK, "bigbuf %zu: %s", n, err.message)) return;
    MT_CHECK(t, b.size == n && b.data != NULL);
    MT_CHECK(t, (uintptr_t)b.data % 64 == 0);
#if defined(__linux__) && !defined(MONO_NO_MMAP)
    MT_CHECK(t, (uintptr_t)b.data % ((size_t)2 << 20) == 0);
#endif
    uint8_t *p = b.data;
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 131 + 7);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += p[i] != (uint8_t)(i * 131 + 7);
    MT_CHECK_MSG(t, bad == 0, "bigbuf %zu: %zu bytes changed", n, bad);
    mono_bigbuf_free(&b);
    MT_CHECK(t, b.data == NULL && b.size == 0);
    mono_bigbuf_free(&b); /* twice: a no-op */
}

void suite_bigbuf(mt_ctx *t) {
    size_t sizes[] = {1, 63, 4097, ((size_t)2 << 20) - 1, (size_t)2 << 20, ((size_t)5 << 20) + 12345};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) check_size(t, sizes[i], (int)(i % 2));
    mono_bigbuf b;
    mono_error err;
    memset(&err, 0, sizeof err);
    MT_CHECK(t, mono_bigbuf_init(&b, 0, 1, &err) != MONO_OK && strstr(err.message, "size 0") && b.data == NULL);
    mono_bigbuf zero;
    memset(&zero, 0, sizeof zero);
    mono_bigbuf_free(&zero);
    mono_bigbuf_free(NULL);
    int h = mono_bigbuf_huge_pages();
    MT_CHECK(t, h == 0 || h == 1);
}
