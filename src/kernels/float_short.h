/*
 * float_short.h -- what the x86 float gemms (float_avx2.c, float_avx512.c)
 * do differently for short rows: attention's keys, one KV head's worth of
 * floats each, against the few query heads that share them.
 *
 * A row of at most SHORT_ROW elements is a few cache lines, so a register
 * tile of several rows is one stream anyway, and a vec_dot per row would pay
 * its horizontal sum for every row: leftover tokens (2-5 query heads) take a
 * narrower tile (2-5 heads against 1024 keys in cache: 1.3-2x faster).
 *
 * (Until the KV cache kept each kv head's rows contiguous, its rows sat
 * n_head_kv * head_dim floats apart and the gemms prefetched 16 rows ahead
 * in software; with contiguous rows the hardware prefetchers do as well:
 * median 1.01x without it over 6 alternating runs at 2048 positions.)
 */
#ifndef MONO_KERNELS_FLOAT_SHORT_H
#define MONO_KERNELS_FLOAT_SHORT_H

#define SHORT_ROW 256

#endif
