/*
 * bigbuf.h -- one large, long-lived, writable buffer (the weights a model
 * copies or repacks at load), backed by transparent huge pages where the
 * operating system offers them.
 *
 * Why: decode streams every weight once per token, hundreds of megabytes
 * in 4 KiB pages, and each page costs a TLB walk and a restart of the
 * hardware prefetcher at its boundary. Measured on this project's 2-core
 * Zen 4 VM (paired per-token timing, the same model loaded twice in one
 * process, tokens alternating between the two copies): with 2 MiB pages,
 * decode of the Qwen2.5-0.5B shapes was 7-17% faster (Q8_0, Q4_K_M
 * repacked copies) and 6-13% faster (F16), see bench/README.md.
 *
 * Natively the buffer is an anonymous mapping aligned to 2 MiB with
 * MADV_HUGEPAGE (a hint: "never" in /sys/kernel/mm/transparent_hugepage
 * leaves 4 KiB pages, still correct). Without mmap (WebAssembly) it is a
 * plain aligned heap block.
 */
#ifndef MONO_CORE_BIGBUF_H
#define MONO_CORE_BIGBUF_H

#include <stddef.h>

#include "monologue.h"

typedef struct mono_bigbuf {
    void *data;         /* [size] bytes, 64-byte aligned, not zeroed on every platform */
    size_t size;
    void *map;          /* private: the mapping (or heap block) to release */
    size_t map_size;
} mono_bigbuf;

/* Allocates size bytes (size > 0), advised for huge pages if huge; on
 * failure *b is zeroed and err says why. */
mono_status mono_bigbuf_init(mono_bigbuf *b, size_t size, int huge, mono_error *err);

/* Releases the buffer; safe on a zeroed one. */
void mono_bigbuf_free(mono_bigbuf *b);

/* 1 when the OS would back a huge-page-advised buffer with huge pages
 * (Linux with transparent huge pages "always" or "madvise"), else 0. */
int mono_bigbuf_huge_pages(void);

#endif
