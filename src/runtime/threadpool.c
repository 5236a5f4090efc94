/*
 * threadpool.c -- the worker pool behind mono_threadpool_run.
 *
 * n-1 pthreads plus the caller. A run publishes (fn, arg), resets a claim
 * counter and the count of unfinished slices, and bumps a generation
 * counter; workers spinning on the counter start at once. Each thread,
 * the caller included, claims slice numbers ith from the counter until
 * none are left, so every ith in [0, nth) runs exactly once; the caller
 * takes slice 0 and then whatever no worker has claimed yet. On a loaded
 * machine (more runnable threads than cores) a descheduled worker thus
 * never holds a run up: the caller does its slice instead.
 *
 * A worker that saw no new generation for SPIN_NS goes to sleep on a
 * condition variable, so a pool that is idle between requests does not
 * burn its cores, while decode (hundreds of tiny runs per token,
 * microseconds apart) never pays a futex round trip. The caller waits for
 * the unfinished count to reach zero the same way: spin, then sleep.
 *
 * Sleeping uses the classic store-then-check handshake on two seq_cst
 * atomics: a sleeper increments n_sleeping and then re-reads the generation
 * under the mutex; the publisher bumps the generation and then reads
 * n_sleeping. At least one side sees the other's store, so a wake-up can
 * never be lost, and the publisher takes the mutex only when someone sleeps.
 */
#define _POSIX_C_SOURCE 200809L
#include "runtime/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ volatile("yield" ::: "memory")
#else
#define cpu_relax() ((void)0)
#endif

/* How long a waiting thread spins before it sleeps. Decode issues runs a few
 * microseconds apart; a token's CPU-side gaps (sampling, detokenizing) stay
 * well under a millisecond, so workers stay hot through generation. */
#define SPIN_NS 1000000LL
/* Check the clock only every this many spins (clock reads cost ~20 ns). */
#define SPIN_CHECK 256

typedef struct worker {
    mono_threadpool *pool;
} worker;

struct mono_threadpool {
    int n;                      /* threads including the caller */
    pthread_t *threads;         /* n - 1 workers */
    worker *workers;

    mono_task_fn fn;            /* the current run; written before gen bumps */
    void *arg;

    /* gen (polled by workers) and busy (polled by the caller, written by
     * every worker) live on separate cache lines */
    _Alignas(64) atomic_uint gen; /* run counter; workers start on a change */
    atomic_int stop;              /* set once, by free */
    atomic_int n_sleeping;        /* workers inside (or entering) cond wait */
    _Alignas(64) atomic_int next; /* next slice to claim; >= n: none left */
    atomic_int busy;              /* slices 1..n-1 not finished yet */
    atomic_int caller_sleeping;   /* the caller waits on done_cv */
    _Alignas(64) char pad_end;

    pthread_mutex_t mu;
    pthread_cond_t work_cv;     /* workers sleep here between runs */
    pthread_cond_t done_cv;     /* the caller sleeps here for a long run */
};

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Spins until gen differs from seen or SPIN_NS pass; 1 if it changed. */
static int spin_for_gen(mono_threadpool *p, unsigned seen) {
    long long start = 0;
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(&p->gen, memory_order_acquire) != seen) return 1;
        cpu_relax();
        if (i % SPIN_CHECK == 0) {
            long long t = now_ns();
            if (!start) start = t;
            else if (t - start > SPIN_NS) return 0;
            sched_yield(); /* lets the thread we wait for run if cores are oversubscribed */
        }
    }
}

/* Claims and runs slices until none are left. fn and arg are read only
 * after a successful claim: the claim's acquire pairs with the release that
 * reset `next` after they were written, so even a worker still looking at
 * an earlier generation runs the current run's function. */
static void run_slices(mono_threadpool *p) {
    for (;;) {
        int ith = atomic_fetch_add_explicit(&p->next, 1, memory_order_acq_rel);
        if (ith >= p->n) return;
        p->fn(p->arg, ith, p->n);
        if (atomic_fetch_sub(&p->busy, 1) == 1 && atomic_load(&p->caller_sleeping)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done_cv);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

static void *worker_main(void *varg) {
    worker *w = varg;
    mono_threadpool *p = w->pool;
    unsigned seen = 0; /* gen starts at 0 */
    for (;;) {
        if (!spin_for_gen(p, seen)) {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->n_sleeping, 1);
            while (atomic_load(&p->gen) == seen) pthread_cond_wait(&p->work_cv, &p->mu);
            atomic_fetch_sub(&p->n_sleeping, 1);
            pthread_mutex_unlock(&p->mu);
        }
        seen = atomic_load_explicit(&p->gen, memory_order_acquire);
        if (atomic_load_explicit(&p->stop, memory_order_acquire)) break;
        run_slices(p);
    }
    return NULL;
}

/* Bumps the generation and wakes sleepers (run and shutdown share it). */
static void publish(mono_threadpool *p) {
    atomic_fetch_add(&p->gen, 1); /* seq_cst: orders fn/arg/busy before it */
    if (atomic_load(&p->n_sleeping) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->work_cv);
        pthread_mutex_unlock(&p->mu);
    }
}

static void wait_done(mono_threadpool *p) {
    long long start = 0;
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(&p->busy, memory_order_acquire) == 0) return;
        cpu_relax();
        if (i % SPIN_CHECK == 0) {
            long long t = now_ns();
            if (!start) start = t;
            else if (t - start > SPIN_NS) break;
            sched_yield();
        }
    }
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->caller_sleeping, 1);
    while (atomic_load(&p->busy) != 0) pthread_cond_wait(&p->done_cv, &p->mu);
    atomic_store(&p->caller_sleeping, 0);
    pthread_mutex_unlock(&p->mu);
}

static void stop_workers(mono_threadpool *p, int started) {
    atomic_store(&p->stop, 1);
    publish(p);
    for (int i = 0; i < started; i++) pthread_join(p->threads[i], NULL);
}

mono_status mono_threadpool_init(mono_threadpool **out, int n_threads, mono_error *err) {
    if (!out) return mono_error_set(err, MONO_ERR_INVALID_ARG, "threadpool: NULL output pointer");
    *out = NULL;
    if (n_threads < 1 || n_threads > 1024)
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "threadpool: thread count %d is not in [1, 1024]",
                              n_threads);
    /* aligned_alloc: the struct has 64-byte aligned members */
    mono_threadpool *p = aligned_alloc(64, (sizeof *p + 63) / 64 * 64);
    if (!p) return mono_error_set(err, MONO_ERR_NOMEM, "threadpool: out of memory");
    memset(p, 0, sizeof *p);
    p->n = n_threads;
    atomic_init(&p->gen, 0);
    atomic_init(&p->busy, 0);
    atomic_init(&p->next, n_threads); /* nothing to claim before the first run */
    atomic_init(&p->stop, 0);
    atomic_init(&p->n_sleeping, 0);
    atomic_init(&p->caller_sleeping, 0);
    if (n_threads == 1) {
        *out = p;
        return MONO_OK;
    }
    p->threads = calloc((size_t)n_threads - 1, sizeof *p->threads);
    p->workers = calloc((size_t)n_threads - 1, sizeof *p->workers);
    if (!p->threads || !p->workers) {
        free(p->threads);
        free(p->workers);
        free(p);
        return mono_error_set(err, MONO_ERR_NOMEM, "threadpool: out of memory");
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    for (int i = 0; i < n_threads - 1; i++) {
        p->workers[i].pool = p;
        int rc = pthread_create(&p->threads[i], NULL, worker_main, &p->workers[i]);
        if (rc != 0) {
            stop_workers(p, i);
            pthread_cond_destroy(&p->done_cv);
            pthread_cond_destroy(&p->work_cv);
            pthread_mutex_destroy(&p->mu);
            free(p->threads);
            free(p->workers);
            free(p);
            return mono_error_set(err, MONO_ERR_NOMEM, "threadpool: cannot start thread %d of %d: %s", i + 1,
                                  n_threads, strerror(rc));
        }
    }
    *out = p;
    return MONO_OK;
}

void mono_threadpool_free(mono_threadpool *p) {
    if (!p) return;
    if (p->n > 1) {
        stop_workers(p, p->n - 1);
        pthread_cond_destroy(&p->done_cv);
        pthread_cond_destroy(&p->work_cv);
        pthread_mutex_destroy(&p->mu);
    }
    free(p->threads);
    free(p->workers);
    free(p);
}

int mono_threadpool_size(const mono_threadpool *p) { return p ? p->n : 1; }

void mono_threadpool_run(mono_threadpool *p, mono_task_fn fn, void *arg) {
    if (!p || p->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    atomic_store_explicit(&p->busy, p->n - 1, memory_order_relaxed);
    atomic_store_explicit(&p->next, 1, memory_order_release); /* slice 0 is the caller's */
    publish(p);
    fn(arg, 0, p->n);
    run_slices(p); /* slices no worker has started yet */
    wait_done(p);
}

int mono_threadpool_default_threads(void) {
    long n = 1;
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
    return 1; /* a WebAssembly build without threads runs inline */
#elif defined(_SC_NPROCESSORS_ONLN)
    n = sysconf(_SC_NPROCESSORS_ONLN);
#endif
    if (n < 1) n = 1;
    if (n > 64) n = 64;
    return (int)n;
}

void mono_split_range(long long n, int ith, int nth, long long *lo, long long *hi) {
    if (n <= 0 || nth <= 0 || ith < 0 || ith >= nth) {
        *lo = *hi = 0;
        return;
    }
    long long base = n / nth, rem = n % nth;
    *lo = ith * base + (ith < rem ? ith : rem);
    *hi = *lo + base + (ith < rem ? 1 : 0);
}
