/*
 * bigbuf.c -- huge-page-backed large buffers (see bigbuf.h).
 */
#define _DEFAULT_SOURCE /* madvise, MAP_ANONYMOUS */
#include "core/bigbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#if defined(__linux__) && !defined(MONO_NO_MMAP)
#include <sys/mman.h>
#define HAVE_MMAP 1
#define HUGE_ALIGN ((size_t)2 << 20)
#ifndef MADV_HUGEPAGE
#define MADV_HUGEPAGE 14
#endif
#endif

mono_status mono_bigbuf_init(mono_bigbuf *b, size_t size, int huge, mono_error *err) {
    memset(b, 0, sizeof *b);
    if (size == 0) return mono_error_set(err, MONO_ERR_INVALID_ARG, "bigbuf: size 0");
#ifdef HAVE_MMAP
    /* map size + 2 MiB, then unmap the unaligned head and the tail, so the
     * buffer starts on a huge page boundary */
    size_t need = (size + HUGE_ALIGN - 1) / HUGE_ALIGN * HUGE_ALIGN;
    if (need < size || need + HUGE_ALIGN < need)
        return mono_error_set(err, MONO_ERR_NOMEM, "out of memory (%zu bytes for weights)", size);
    uint8_t *p = mmap(NULL, need + HUGE_ALIGN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory (%zu bytes for weights)", size);
    uint8_t *a = (uint8_t *)(((uintptr_t)p + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1));
    if (a > p) munmap(p, (size_t)(a - p));
    if (a + need < p + need + HUGE_ALIGN) munmap(a + need, (size_t)(p + need + HUGE_ALIGN - (a + need)));
    if (huge) (void)madvise(a, need, MADV_HUGEPAGE); /* a hint; EINVAL without THP support */
    b->data = a;
    b->map = a;
    b->map_size = need;
#else
    (void)huge;
    size_t need = (size + 63) / 64 * 64;
    if (need < size) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory (%zu bytes for weights)", size);
    b->data = aligned_alloc(64, need);
    if (!b->data) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory (%zu bytes for weights)", size);
    b->map = b->data;
    b->map_size = need;
#endif
    b->size = size;
    return MONO_OK;
}

void mono_bigbuf_free(mono_bigbuf *b) {
    if (!b || !b->map) return;
#ifdef HAVE_MMAP
    munmap(b->map, b->map_size);
#else
    free(b->map);
#endif
    memset(b, 0, sizeof *b);
}

int mono_bigbuf_huge_pages(void) {
#ifdef HAVE_MMAP
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f) return 0;
    char line[128] = {0};
    int ok = fgets(line, sizeof line, f) && (strstr(line, "[always]") || strstr(line, "[madvise]"));
    fclose(f);
    return ok;
#else
    return 0;
#endif
}
