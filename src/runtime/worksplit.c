/*
 * worksplit.c -- per-thread runs of chunks with stealing (see worksplit.h).
 */
#include "runtime/worksplit.h"

#include "runtime/threadpool.h"

static unsigned long long pack(unsigned long long front, unsigned long long back) { return front | back << 32; }

void mono_worksplit_init(mono_worksplit *w, long long n_chunks, int nth) {
    if (n_chunks < 0) n_chunks = 0;
    if (n_chunks > 0xffffffffLL) n_chunks = 0xffffffffLL;
    w->n_runs = nth < 1 ? 1 : nth > MONO_WORKSPLIT_MAX_RUNS ? MONO_WORKSPLIT_MAX_RUNS : nth;
    for (int i = 0; i < w->n_runs; i++) {
        long long lo, hi;
        mono_split_range(n_chunks, i, w->n_runs, &lo, &hi);
        atomic_init(&w->runs[i].range, pack((unsigned long long)lo, (unsigned long long)hi));
    }
}

/* Takes one chunk from run r, from the front or the back; 0 if it is empty. */
static int take(mono_worksplit_run *r, int from_back, long long *chunk) {
    unsigned long long v = atomic_load_explicit(&r->range, memory_order_relaxed);
    for (;;) {
        unsigned long long front = v & 0xffffffffULL, back = v >> 32;
        if (front >= back) return 0;
        unsigned long long next = from_back ? pack(front, back - 1) : pack(front + 1, back);
        if (atomic_compare_exchange_weak_explicit(&r->range, &v, next, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            *chunk = (long long)(from_back ? back - 1 : front);
            return 1;
        }
    }
}

int mono_worksplit_next(mono_worksplit *w, int ith, long long *chunk) {
    int own = (ith < 0 ? 0 : ith) % w->n_runs;
    if (take(&w->runs[own], 0, chunk)) return 1;
    for (int i = 1; i < w->n_runs; i++)
        if (take(&w->runs[(own + i) % w->n_runs], 1, chunk)) return 1;
    return 0;
}
