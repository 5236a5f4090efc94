/*
 * float_panel.h -- the panel layout of long float rows (F16, BF16), the
 * load-time repacked form the x86 float kernels decode from.
 *
 * Why: a matrix-vector product streams weight rows past an activation
 * vector that should stay in L1. With f32 activations and rows of 4864
 * (Qwen2.5-0.5B's down projection) the activation is 19 KiB; next to the
 * weight stream it no longer fits the 32 KiB L1 and decode of such rows ran
 * at 20 GB/s against 28 GB/s for 896-column rows (one Zen 4 core, huge
 * pages). Reading rows in column panels of PANEL_W keeps one 4 KiB slice of
 * the activation in L1 -- but only if the panels stay one sequential
 * stream: jumping between the segments of file rows (or interleaving
 * several rows) ran at 10-15 GB/s. So the rows are stored in groups of
 * PANEL_G rows, and within a group panel after panel:
 *
 *   group g: [panel 0: rows gG .. gG+G-1, columns 0 .. W-1]
 *            [panel 1: the same rows, columns W .. 2W-1] ...
 *
 * each panel row-major (row r's segment is contiguous), the last panel
 * narrower, the last group padded with zero rows. Same bytes as the file
 * otherwise. Rows of at most PANEL_W columns have no panel form (their
 * activation fits L1 already).
 */
#ifndef MONO_KERNELS_FLOAT_PANEL_H
#define MONO_KERNELS_FLOAT_PANEL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"

#define PANEL_G 64      /* rows per group: 64-256 measured best (26-28 GB/s), 16 no better than file rows */
#define PANEL_W 1024    /* columns per panel: 4 KiB of f32 activations */

/* Bytes of the panel form of [rows x n] elements of es bytes; 0 when the
 * rows are short enough to need none (or the size overflows). */
static inline size_t panel_size(int64_t rows, int64_t n, size_t es) {
    if (rows <= 0 || n <= PANEL_W) return 0;
    uint64_t groups = ((uint64_t)rows + PANEL_G - 1) / PANEL_G, row = (uint64_t)n * es;
    if (row / es != (uint64_t)n || groups > SIZE_MAX / PANEL_G / row) return 0;
    return (size_t)(groups * PANEL_G * row);
}

/* Row r's segment of the panel starting at column c0 (width wdt) in the
 * panel form wr of rows of n elements. */
static inline uint8_t *panel_seg(const void *wr, int64_t n, size_t es, int64_t r, int64_t c0, int64_t wdt) {
    const int64_t g = r / PANEL_G, j = r % PANEL_G;
    return (uint8_t *)wr + ((size_t)g * PANEL_G * (size_t)n + (size_t)c0 * PANEL_G + (size_t)j * (size_t)wdt) * es;
}

/* Moves rows [r0, r1) between the file layout (row r at file + (r - r0) *
 * frb) and the panel form; to_file picks the direction. Rows of the last
 * group past `rows` are zeroed in the panel form (only when repacking). */
static inline void panel_move(uint8_t *wr, int64_t rows, int64_t n, size_t es, int64_t r0, int64_t r1, uint8_t *file,
                              size_t frb, int to_file) {
    for (int64_t c0 = 0; c0 < n; c0 += PANEL_W) {
        const int64_t wdt = n - c0 < PANEL_W ? n - c0 : PANEL_W;
        const size_t seg = (size_t)wdt * es;
        for (int64_t r = r0; r < r1; r++) {
            uint8_t *p = panel_seg(wr, n, es, r, c0, wdt), *f = file + (size_t)(r - r0) * frb + (size_t)c0 * es;
            if (to_file) memcpy(f, p, seg);
            else memcpy(p, f, seg);
        }
        if (!to_file && r1 >= rows) /* zero rows of the last group */
            for (int64_t r = rows; r % PANEL_G != 0; r++) memset(panel_seg(wr, n, es, r, c0, wdt), 0, seg);
    }
}

/* Decode from the panel form: per group, each panel's row segments in
 * order (one sequential stream) against that panel's slice of x, the
 * segment dots (the ISA's vec_dot) summed per row. out[r] for r in
 * [r0, r1); x is f32. */
static inline void panel_matvec(mono_vec_dot_fn dot, size_t es, int64_t n, const void *wr, int64_t r0, int64_t r1,
                                const float *x, float *out) {
    float acc[PANEL_G], part;
    for (int64_t g0 = r0 - r0 % PANEL_G; g0 < r1; g0 += PANEL_G) {
        const int64_t lo = g0 > r0 ? g0 : r0, hi = g0 + PANEL_G < r1 ? g0 + PANEL_G : r1;
        for (int64_t r = lo; r < hi; r++) acc[r - g0] = 0;
        for (int64_t c0 = 0; c0 < n; c0 += PANEL_W) {
            const int64_t wdt = n - c0 < PANEL_W ? n - c0 : PANEL_W;
            for (int64_t r = lo; r < hi; r++) {
                dot(wdt, &part, panel_seg(wr, n, es, r, c0, wdt), x + c0);
                acc[r - g0] += part;
            }
        }
        for (int64_t r = lo; r < hi; r++) out[r] = acc[r - g0];
    }
}

/* gemm_repacked of the panel form: decode through panel_matvec; prefill
 * unpacks each group into file rows and runs the ISA's register-tiled gemm
 * on them (the same bits as from the file layout); without memory for a
 * group, the matrix-vector path token by token. */
static inline void panel_gemm(mono_vec_dot_fn dot, mono_gemm_fn gemm, size_t es, int64_t n, const void *wr, int64_t rows,
                              int64_t r0, int64_t r1, const void *x, size_t xrb, int64_t n_tok, float *out, size_t os) {
    const size_t wrb = (size_t)n * es;
    if (r1 > rows) r1 = rows;
    uint8_t *buf = n_tok > 1 ? malloc(wrb * PANEL_G) : NULL;
    if (!buf) {
        for (int64_t t = 0; t < n_tok; t++)
            panel_matvec(dot, es, n, wr, r0, r1, (const float *)(const void *)((const uint8_t *)x + (size_t)t * xrb),
                         out + (size_t)t * os);
        return;
    }
    for (int64_t a = r0 - r0 % PANEL_G; a < r1; a += PANEL_G) {
        const int64_t b = a + PANEL_G < rows ? a + PANEL_G : rows;
        const int64_t lo = a > r0 ? a : r0, hi = b < r1 ? b : r1;
        panel_move((uint8_t *)wr, rows, n, es, a, b, buf, wrb, 1);
        gemm(n, buf + (size_t)(lo - a) * wrb, wrb, 0, hi - lo, x, xrb, n_tok, out + lo, os);
    }
    free(buf);
}

static inline size_t panel_size_2(int64_t rows, int64_t n) { return panel_size(rows, n, 2); }
static inline void panel_repack_2(const void *w, size_t wrb, int64_t rows, int64_t n, void *dst) {
    panel_move(dst, rows, n, 2, 0, rows, (uint8_t *)(uintptr_t)w, wrb, 0);
}
static inline void panel_unrepack_2(const void *wr, int64_t rows, int64_t n, int64_t r0, int64_t r1, void *dst,
                                    size_t drb) {
    panel_move((uint8_t *)(uintptr_t)wr, rows, n, 2, r0, r1, dst, drb, 1);
}

/* Fills the panel entries of F16 and BF16 in k; gemm_f16/gemm_bf16 are the
 * ISA's panel_gemm wrappers. */
static inline void panel_register(mono_kernels *k, mono_gemm_repacked_fn gemm_f16, mono_gemm_repacked_fn gemm_bf16) {
    static const int types[] = {MONO_TYPE_F16, MONO_TYPE_BF16};
    for (int i = 0; i < 2; i++) {
        k->repack_rows[types[i]] = PANEL_G;
        k->repack_size[types[i]] = panel_size_2;
        k->repack[types[i]] = panel_repack_2;
        k->unrepack[types[i]] = panel_unrepack_2;
    }
    k->gemm_repacked[MONO_TYPE_F16] = gemm_f16;
    k->gemm_repacked[MONO_TYPE_BF16] = gemm_bf16;
}

#endif
