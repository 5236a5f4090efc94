/*
 * worksplit.h -- chunks of one parallel loop, split per thread, with
 * stealing.
 *
 * Decode is a string of matrix-vector products, each a few hundred
 * microseconds long and bound by memory bandwidth. Cut in one equal slice
 * per thread, a product waits for its slowest thread: on a shared or
 * virtual machine one core routinely streams 10-30% slower than the other
 * for a while (the hypervisor, the other tenant, an interrupt), and the
 * faster core then spins at every barrier. Here each thread owns a
 * contiguous run of chunks and takes them front to back (one sequential
 * stream, which the hardware prefetchers follow); a thread that runs out
 * takes chunks from the back of another's run. Owner and thief both claim
 * with one compare-and-swap on the victim's (front, back) word, so every
 * chunk is handed out exactly once.
 */
#ifndef MONO_RUNTIME_WORKSPLIT_H
#define MONO_RUNTIME_WORKSPLIT_H

#include <stdatomic.h>

/* Threads with a run of their own; slices beyond it share runs (claims
 * stay exact: every claim is a compare-and-swap). */
#define MONO_WORKSPLIT_MAX_RUNS 64

typedef struct mono_worksplit_run {
    _Alignas(64) _Atomic unsigned long long range; /* front in the low 32 bits, back (exclusive) in the high */
} mono_worksplit_run;

typedef struct mono_worksplit {
    int n_runs;
    mono_worksplit_run runs[MONO_WORKSPLIT_MAX_RUNS];
} mono_worksplit;

/* Splits chunks [0, n_chunks) into near-equal runs, one per slice of an
 * nth-slice pool run. n_chunks < 2^32. */
void mono_worksplit_init(mono_worksplit *w, long long n_chunks, int nth);

/* Next chunk for slice ith: the front of its own run, else the back of
 * another's. Returns 0 when every chunk has been handed out. */
int mono_worksplit_next(mono_worksplit *w, int ith, long long *chunk);

#endif
