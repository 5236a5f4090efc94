/*
 * test_threadpool.c -- the worker pool: every slice runs exactly once per
 * run, workers really take part, results written by workers are visible to
 * the caller afterwards,
 * the sleep/wake path works after idle periods, long runs complete, bad
 * arguments are refused with a message, and mono_split_range tiles [0, n).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "runtime/threadpool.h"
#include "test.h"

#define MAX_T 8

typedef struct run_state {
    int nth_seen[MAX_T];
    int calls[MAX_T];          /* per-thread call counts, plain ints: each
                                  slot is written by one thread only */
    const int *data;           /* summed by slices */
    long long n;
    long long partial[MAX_T];
    long sleep_us_for_ith;     /* >0: thread sleep_ith sleeps this long */
    int sleep_ith;
} run_state;

static void sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static void task_sum(void *varg, int ith, int nth) {
    run_state *s = varg;
    s->calls[ith]++;
    s->nth_seen[ith] = nth;
    long long lo, hi, sum = 0;
    mono_split_range(s->n, ith, nth, &lo, &hi);
    for (long long i = lo; i < hi; i++) sum += s->data[i];
    s->partial[ith] = sum;
    if (s->sleep_us_for_ith > 0 && ith == s->sleep_ith) sleep_us(s->sleep_us_for_ith);
}

/* runs `runs` sums over data that the caller changes between runs; returns
 * the number of runs whose total was wrong */
static int sum_runs(mono_threadpool *p, run_state *s, int *data, int runs) {
    int wrong = 0;
    for (int r = 0; r < runs; r++) {
        long long expect = 0;
        for (long long i = 0; i < s->n; i++) {
            data[i] = (int)((i * 31 + r * 7) % 1000);
            expect += data[i];
        }
        mono_threadpool_run(p, task_sum, s);
        long long got = 0;
        for (int i = 0; i < mono_threadpool_size(p); i++) got += s->partial[i];
        if (got != expect) wrong++;
    }
    return wrong;
}

static void test_runs(mt_ctx *t, int nth, int runs, long long n) {
    mono_threadpool *p = NULL;
    mono_error e;
    if (!MT_CHECK(t, mono_threadpool_init(&p, nth, &e) == MONO_OK)) return;
    MT_CHECK_EQ_INT(t, mono_threadpool_size(p), nth);
    int *data = malloc((size_t)n * sizeof *data);
    run_state s = {.data = data, .n = n};
    int wrong = sum_runs(p, &s, data, runs);
    MT_CHECK_MSG(t, wrong == 0, "nth=%d: %d of %d runs summed wrong", nth, wrong, runs);
    for (int i = 0; i < nth; i++) {
        MT_CHECK_MSG(t, s.calls[i] == runs, "nth=%d thread %d ran %d times, want %d", nth, i, s.calls[i], runs);
        MT_CHECK_EQ_INT(t, s.nth_seen[i], nth);
    }
    for (int i = nth; i < MAX_T; i++) MT_CHECK_EQ_INT(t, s.calls[i], 0);
    free(data);
    mono_threadpool_free(p);
}

/* Workers fall asleep after ~1 ms idle; runs after that must still start
 * all of them, and a run where one thread is slow must wait for it. */
static void test_sleep_wake(mt_ctx *t, int nth) {
    mono_threadpool *p = NULL;
    if (!MT_CHECK(t, mono_threadpool_init(&p, nth, NULL) == MONO_OK)) return;
    int data[257];
    run_state s = {.data = data, .n = 257};
    int wrong = 0;
    for (int r = 0; r < 4; r++) {
        sleep_us(4000); /* longer than the spin window: workers sleep */
        wrong += sum_runs(p, &s, data, 3);
        s.sleep_ith = r % nth;
        s.sleep_us_for_ith = 3000; /* one slow thread: the others (and the caller) must wait */
        wrong += sum_runs(p, &s, data, 1);
        s.sleep_us_for_ith = 0;
    }
    MT_CHECK_MSG(t, wrong == 0, "nth=%d: %d runs wrong around sleeps", nth, wrong);
    for (int i = 0; i < nth; i++) MT_CHECK_EQ_INT(t, s.calls[i], 16);
    mono_threadpool_free(p);
}

static void task_count(void *varg, int ith, int nth) {
    atomic_int *c = varg;
    atomic_fetch_add_explicit(&c[ith], 1, memory_order_relaxed);
    (void)nth;
}

static void test_stress(mt_ctx *t, int nth, int runs) {
    mono_threadpool *p = NULL;
    if (!MT_CHECK(t, mono_threadpool_init(&p, nth, NULL) == MONO_OK)) return;
    atomic_int counts[MAX_T];
    for (int i = 0; i < MAX_T; i++) atomic_init(&counts[i], 0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int r = 0; r < runs; r++) mono_threadpool_run(p, task_count, counts);
    clock_gettime(CLOCK_MONOTONIC, &b);
    for (int i = 0; i < nth; i++) MT_CHECK_MSG(t, atomic_load(&counts[i]) == runs, "thread %d ran %d of %d", i,
                                               atomic_load(&counts[i]), runs);
    if (t->verbose) {
        double us = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3 / runs;
        fprintf(stderr, "    threadpool: %d threads, %d empty runs, %.2f us/run\n", nth, runs, us);
    }
    mono_threadpool_free(p);
}

/* Slices with real work: each slice still runs exactly once, and the
 * workers (not only the caller, which may take unclaimed slices) do run
 * some of them. */
typedef struct who_state {
    pthread_t caller;
    atomic_int on_worker, slices[MAX_T];
    volatile double sink[MAX_T];
} who_state;

static void task_who(void *varg, int ith, int nth) {
    who_state *s = varg;
    double x = 0;
    for (int i = 0; i < 20000; i++) x += (double)i * 1e-9; /* ~10-20 us */
    s->sink[ith] = x;
    atomic_fetch_add(&s->slices[ith], 1);
    if (!pthread_equal(pthread_self(), s->caller)) atomic_fetch_add(&s->on_worker, 1);
    (void)nth;
}

static void test_workers_participate(mt_ctx *t) {
    mono_threadpool *p = NULL;
    if (!MT_CHECK(t, mono_threadpool_init(&p, 2, NULL) == MONO_OK)) return;
    who_state s = {.caller = pthread_self()};
    atomic_init(&s.on_worker, 0);
    for (int i = 0; i < MAX_T; i++) atomic_init(&s.slices[i], 0);
    for (int r = 0; r < 2000; r++) mono_threadpool_run(p, task_who, &s);
    MT_CHECK_EQ_INT(t, atomic_load(&s.slices[0]), 2000);
    MT_CHECK_EQ_INT(t, atomic_load(&s.slices[1]), 2000);
    MT_CHECK_MSG(t, atomic_load(&s.on_worker) > 0, "the worker ran none of 2000 slices");
    if (t->verbose) fprintf(stderr, "    threadpool: worker ran %d of 2000 slice-1s\n", atomic_load(&s.on_worker));
    mono_threadpool_free(p);
}

static void test_bad_args(mt_ctx *t) {
    mono_threadpool *p = (mono_threadpool *)&p;
    mono_error e = {0};
    MT_CHECK(t, mono_threadpool_init(&p, 0, &e) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, p == NULL);
    MT_CHECK(t, strstr(e.message, "thread count 0") != NULL);
    MT_CHECK(t, mono_threadpool_init(&p, -3, &e) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, mono_threadpool_init(&p, 100000, &e) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, mono_threadpool_init(NULL, 2, &e) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, mono_threadpool_init(&p, 0, NULL) == MONO_ERR_INVALID_ARG);
    mono_threadpool_free(NULL);
    /* a pool that never ran shuts down cleanly */
    MT_CHECK(t, mono_threadpool_init(&p, 3, NULL) == MONO_OK);
    mono_threadpool_free(p);
}

static void test_split_range(mt_ctx *t) {
    int bad = 0;
    for (long long n = 0; n <= 70; n++) {
        for (int nth = 1; nth <= 9; nth++) {
            long long prev_hi = 0, min_len = n + 1, max_len = -1;
            for (int ith = 0; ith < nth; ith++) {
                long long lo, hi;
                mono_split_range(n, ith, nth, &lo, &hi);
                if (lo != prev_hi || hi < lo) bad++;
                prev_hi = hi;
                if (hi - lo < min_len) min_len = hi - lo;
                if (hi - lo > max_len) max_len = hi - lo;
            }
            if (prev_hi != n || max_len - min_len > 1) bad++;
        }
    }
    MT_CHECK_EQ_INT(t, bad, 0);
    long long lo, hi;
    mono_split_range(4000000000000000000LL, 6, 7, &lo, &hi); /* no overflow */
    MT_CHECK(t, hi == 4000000000000000000LL && lo == 4000000000000000000LL - 571428571428571428LL);
    mono_split_range(10, 3, 3, &lo, &hi); /* ith out of range: empty */
    MT_CHECK(t, lo == 0 && hi == 0);
    mono_split_range(-5, 0, 2, &lo, &hi);
    MT_CHECK(t, lo == 0 && hi == 0);
}

/* The default thread count: the online CPUs, clamped to [1, 64]. */
static void test_default_threads(mt_ctx *t) {
    int n = mono_threadpool_default_threads();
    MT_CHECK(t, n >= 1 && n <= 64);
#if defined(_SC_NPROCESSORS_ONLN)
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus >= 1) MT_CHECK_EQ_INT(t, n, cpus > 64 ? 64 : (int)cpus);
#endif
}

void suite_threadpool(mt_ctx *t) {
    test_default_threads(t);
    test_bad_args(t);
    test_split_range(t);
    for (int nth = 1; nth <= 4; nth++) test_runs(t, nth, nth <= 2 ? 3000 : 500, 1000 + nth);
    test_runs(t, 2, 20, 1); /* fewer items than threads */
    for (int nth = 2; nth <= 3; nth++) test_sleep_wake(t, nth);
    test_workers_participate(t);
    test_stress(t, 2, 100000);
    test_stress(t, 4, 5000); /* oversubscribed on 2 cores: must still finish */
}
