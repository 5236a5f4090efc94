/*
 * threadpool.h -- a fixed pool of worker threads for data-parallel ops.
 *
 * Every heavy op (matmul, attention, ...) splits its work into nth slices
 * and calls mono_threadpool_run once; the calling thread works as thread 0,
 * so a pool of 1 runs inline with no threads at all. Workers wait on a cheap
 * spin-then-sleep barrier between runs so decode (many tiny runs per token)
 * does not pay a futex round trip per op.
 */
#ifndef MONO_RUNTIME_THREADPOOL_H
#define MONO_RUNTIME_THREADPOOL_H

#include "monologue.h"

typedef struct mono_threadpool mono_threadpool;

/* fn runs once for each slice ith in [0, nth). Slices run in parallel on
 * the pool's threads, but a thread may run several (the caller takes the
 * slices no worker has started yet, so a descheduled worker never stalls a
 * run): fn must not wait for another slice of the same run. Use ith, not
 * the OS thread, to pick per-slice scratch. */
typedef void (*mono_task_fn)(void *arg, int ith, int nth);

/* n_threads >= 1 (the caller counts as one). */
mono_status mono_threadpool_init(mono_threadpool **out, int n_threads, mono_error *err);
void mono_threadpool_free(mono_threadpool *pool);
int mono_threadpool_size(const mono_threadpool *pool);

/* Runs fn on all threads and returns when every one has finished. Not
 * reentrant: call it from one thread at a time. A NULL pool runs fn(arg,
 * 0, 1) inline, so callers with an optional pool need no branch. */
void mono_threadpool_run(mono_threadpool *pool, mono_task_fn fn, void *arg);

/* Threads to use when the caller says 0: the online CPUs, at most 64 (1 in
 * a WebAssembly build without threads). */
int mono_threadpool_default_threads(void);

/* Splits [0, n) into nth near-equal ranges; range ith is [*lo, *hi). */
void mono_split_range(long long n, int ith, int nth, long long *lo, long long *hi);

#endif
