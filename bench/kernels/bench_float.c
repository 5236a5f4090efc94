/*
 * bench_float.c -- micro-benchmark of the f32/f16/bf16 kernels of every ISA
 * this CPU has, against the machine's own memory bandwidth measured in the
 * same run (timings on a shared machine swing; ratios within one run hold).
 *
 *   decode: matrix-vector products over [rows x cols] weight matrices, cycled
 *           over enough copies (> 256 MiB) that every byte comes from DRAM,
 *           as in real decode; reported in GB/s of weights read and as % of
 *           a plain read loop's bandwidth with the same thread count. Both
 *           one vec_dot per row and gemm with one token (the engine's call)
 *           are timed, from DRAM and with one matrix hot in L3.
 *   prefill: gemm of the same matrix against n_tok tokens; GFLOP/s and % of
 *            the FMA peak measured in the same run (12 independent chains).
 *
 * Usage: bench_float [--threads N] [--rows R] [--cols C] [--tokens T]
 *                    [--seconds S] [--isa NAME] [--quick]
 * (built and run by bench/kernels/run.sh)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"
#include "runtime/threadpool.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------ bandwidth */

typedef struct read_job {
    const uint64_t *buf;
    long long n;           /* words */
    uint64_t sink[64];     /* per-thread results, kept so the loop is not dead */
} read_job;

/* Sums 64-bit words with 8 independent accumulators (vectorizes). */
static void read_task(void *arg, int ith, int nth) {
    read_job *j = arg;
    long long lo, hi;
    mono_split_range(j->n / 8, ith, nth, &lo, &hi);
    uint64_t a[8] = {0};
    for (long long i = lo * 8; i < hi * 8; i += 8)
        for (int k = 0; k < 8; k++) a[k] += j->buf[i + k];
    j->sink[ith] = a[0] ^ a[1] ^ a[2] ^ a[3] ^ a[4] ^ a[5] ^ a[6] ^ a[7];
}

typedef struct copy_job {
    char *dst;
    const char *src;
    long long n;
} copy_job;

static void copy_task(void *arg, int ith, int nth) {
    copy_job *j = arg;
    long long lo, hi;
    mono_split_range(j->n, ith, nth, &lo, &hi);
    memcpy(j->dst + lo, j->src + lo, (size_t)(hi - lo));
}

/* ------------------------------------------------------------ FMA peak */

#if defined(__x86_64__)
#include <immintrin.h>
#endif

typedef struct fma_job {
    long long iters;
    int wide;             /* 1: 512-bit vectors */
    float sink[64];
} fma_job;

/* 12 independent FMA chains per thread: the core's FMA throughput, the
 * ceiling for a compute-bound gemm. Returns flops per iteration via the
 * caller's formula (12 chains x lanes x 2). */
static void fma_task(void *arg, int ith, int nth) {
    fma_job *j = arg;
    (void)nth;
#if defined(__AVX512F__)
    if (j->wide) {
        __m512 a[12], b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-3f);
        for (int k = 0; k < 12; k++) a[k] = _mm512_set1_ps((float)k);
        for (long long i = 0; i < j->iters; i++)
            for (int k = 0; k < 12; k++) a[k] = _mm512_fmadd_ps(a[k], b, c);
        for (int k = 1; k < 12; k++) a[0] = _mm512_add_ps(a[0], a[k]);
        j->sink[ith] = _mm512_reduce_add_ps(a[0]);
        return;
    }
#endif
#if defined(__AVX2__) && defined(__FMA__)
    __m256 a[12], b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-3f);
    for (int k = 0; k < 12; k++) a[k] = _mm256_set1_ps((float)k);
    for (long long i = 0; i < j->iters; i++)
        for (int k = 0; k < 12; k++) a[k] = _mm256_fmadd_ps(a[k], b, c);
    for (int k = 1; k < 12; k++) a[0] = _mm256_add_ps(a[0], a[k]);
    float t[8];
    _mm256_storeu_ps(t, a[0]);
    j->sink[ith] = t[0];
#else
    j->sink[ith] = (float)j->iters;
#endif
}

/* ---------------------------------------------------------- matvec/gemm */

typedef struct mat_job {
    const mono_kernels *k;
    mono_type type;
    const char *w;         /* rows x row_bytes */
    size_t row_bytes;
    long long rows, cols, n_tok;
    const float *x;        /* n_tok x cols */
    float *out;            /* n_tok x rows */
} mat_job;

static void matvec_task(void *arg, int ith, int nth) {
    mat_job *j = arg;
    long long lo, hi;
    mono_split_range(j->rows, ith, nth, &lo, &hi);
    mono_vec_dot_fn dot = j->k->vec_dot[j->type];
    for (long long r = lo; r < hi; r++) dot(j->cols, &j->out[r], j->w + (size_t)r * j->row_bytes, j->x);
}

/* decode as the engine runs it: gemm with one token */
static void gemv_task(void *arg, int ith, int nth) {
    mat_job *j = arg;
    long long lo, hi;
    mono_split_range(j->rows, ith, nth, &lo, &hi);
    if (lo < hi) j->k->gemm[j->type](j->cols, j->w, j->row_bytes, lo, hi, j->x, (size_t)j->cols * 4, 1, j->out, 1);
}

static void gemm_task(void *arg, int ith, int nth) {
    mat_job *j = arg;
    /* split in row groups of 12 so every thread gets whole register tiles */
    long long lo, hi, groups = (j->rows + 11) / 12;
    mono_split_range(groups, ith, nth, &lo, &hi);
    lo *= 12;
    hi = hi * 12 < j->rows ? hi * 12 : j->rows;
    if (lo >= hi) return;
    j->k->gemm[j->type](j->cols, j->w, j->row_bytes, lo, hi, j->x, (size_t)j->cols * 4, j->n_tok, j->out,
                        (size_t)j->rows);
}

/* ---------------------------------------------------------------- main */

typedef struct opts {
    int threads;
    long long rows, cols, n_tok;
    double seconds;
    const char *isa;
} opts;

/* Runs fn(arg) through the pool until `seconds` pass (at least 3 times);
 * returns the best time of one call. */
static double time_best(mono_threadpool *pool, mono_task_fn fn, void *arg, double seconds) {
    double best = 1e30, start = now_s();
    for (int it = 0; it < 3 || now_s() - start < seconds; it++) {
        double t0 = now_s();
        mono_threadpool_run(pool, fn, arg);
        double dt = now_s() - t0;
        if (dt < best) best = dt;
        if (it > 100000) break;
    }
    return best;
}

/* Runs a matvec over each of n_copies matrices in turn, alternating with a
 * plain read of the same bytes, so both see the same machine load; returns
 * seconds per matrix for each (best of sweeps). */
static void time_stream(mono_threadpool *pool, mono_task_fn fn, mat_job *jobs, int n_copies, double seconds,
                        double *t_kernel, double *t_read) {
    read_job rj = {.buf = (const uint64_t *)jobs[0].w,
                   .n = (long long)(jobs[0].row_bytes * (size_t)jobs[0].rows * (size_t)n_copies / 8)};
    double start = now_s();
    *t_kernel = *t_read = 1e30;
    for (int it = 0; it < 3 || now_s() - start < seconds; it++) {
        double t0 = now_s();
        for (int c = 0; c < n_copies; c++) mono_threadpool_run(pool, fn, &jobs[c]);
        double t1 = now_s();
        mono_threadpool_run(pool, read_task, &rj);
        double t2 = now_s();
        if ((t1 - t0) / n_copies < *t_kernel) *t_kernel = (t1 - t0) / n_copies;
        if ((t2 - t1) / n_copies < *t_read) *t_read = (t2 - t1) / n_copies;
    }
}

static int parse_opts(int argc, char **argv, opts *o) {
    *o = (opts){.threads = 1, .rows = 4864, .cols = 896, .n_tok = 64, .seconds = 0.5, .isa = NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) { o->seconds = 0.1; continue; }
        if (!v) { fprintf(stderr, "bench_float: %s needs a value\n", a); return 0; }
        char *end;
        if (!strcmp(a, "--isa")) { o->isa = v; i++; continue; }
        if (!strcmp(a, "--seconds")) {
            o->seconds = strtod(v, &end);
            if (*end || o->seconds <= 0 || o->seconds > 60) { fprintf(stderr, "bench_float: bad --seconds '%s'\n", v); return 0; }
            i++;
            continue;
        }
        long long n = strtoll(v, &end, 10);
        if (*end || n < 1 || n > 1000000) { fprintf(stderr, "bench_float: bad value '%s' for %s\n", v, a); return 0; }
        if (!strcmp(a, "--threads") && n <= 256) o->threads = (int)n;
        else if (!strcmp(a, "--rows")) o->rows = n;
        else if (!strcmp(a, "--cols")) o->cols = n;
        else if (!strcmp(a, "--tokens") && n <= 4096) o->n_tok = n;
        else { fprintf(stderr, "bench_float: unknown option or bad value: %s %s\n", a, v); return 0; }
        i++;
    }
    return 1;
}

int main(int argc, char **argv) {
    opts o;
    if (!parse_opts(argc, argv, &o)) return 2;
    mono_threadpool *pool;
    mono_error err;
    if (mono_threadpool_init(&pool, o.threads, &err) != MONO_OK) {
        fprintf(stderr, "bench_float: %s\n", err.message);
        return 1;
    }

    /* ISA tables, each registered by hand so every ISA can be compared */
    mono_cpu cpu;
    mono_cpu_detect(&cpu);
    mono_kernels tabs[4];
    const char *names[4];
    int n_isa = 0;
    memset(tabs, 0, sizeof tabs);
    names[n_isa] = "portable";
    mono_kernels_register_float_portable(&tabs[n_isa++]);
#if defined(__x86_64__)
    if (cpu.avx2 && cpu.fma && cpu.f16c) {
        names[n_isa] = "avx2";
        mono_kernels_register_float_portable(&tabs[n_isa]);
        mono_kernels_register_float_avx2(&tabs[n_isa++]);
    }
    if (cpu.avx2 && cpu.avx512f && cpu.avx512bw && cpu.avx512vl) {
        names[n_isa] = "avx512";
        mono_kernels_register_float_portable(&tabs[n_isa]);
        mono_kernels_register_float_avx512(&tabs[n_isa++]);
    }
#elif defined(__aarch64__)
    names[n_isa] = "neon";
    mono_kernels_register_float_portable(&tabs[n_isa]);
    mono_kernels_register_float_neon(&tabs[n_isa++]);
#endif

    /* memory bandwidth with this thread count */
    const size_t bw_bytes = (size_t)512 << 20;
    char *big = malloc(bw_bytes), *big2 = malloc(bw_bytes / 2);
    if (!big || !big2) { fprintf(stderr, "bench_float: out of memory\n"); return 1; }
    memset(big, 1, bw_bytes);
    memset(big2, 2, bw_bytes / 2);
    read_job rj = {.buf = (const uint64_t *)big, .n = (long long)(bw_bytes / 8)};
    double read_gbs = bw_bytes / time_best(pool, read_task, &rj, o.seconds * 2) / 1e9;
    copy_job cj = {.dst = big2, .src = big, .n = (long long)(bw_bytes / 2)};
    double copy_gbs = (bw_bytes / 2) / time_best(pool, copy_task, &cj, o.seconds) / 1e9;
    free(big2);
    double peak = 0;
    for (int wide = 0; wide < 2; wide++) {
        fma_job fj = {.iters = 2000000, .wide = wide};
        double t = time_best(pool, fma_task, &fj, o.seconds / 2);
        double lanes = wide ? 16 : 8, gf = 12.0 * lanes * 2 * (double)fj.iters * o.threads / t / 1e9;
        if (gf > peak) peak = gf;
    }
    printf("threads %d: read %.1f GB/s, memcpy %.1f GB/s (bytes copied), FMA peak %.1f GFLOP/s\n", o.threads,
           read_gbs, copy_gbs, peak);

    static const mono_type types[] = {MONO_TYPE_F16, MONO_TYPE_BF16, MONO_TYPE_F32};
    float *x = malloc((size_t)(o.n_tok * o.cols) * 4), *out = malloc((size_t)(o.n_tok * o.rows) * 4);
    for (long long i = 0; i < o.n_tok * o.cols; i++) x[i] = (float)((i * 7919) % 2001 - 1000) / 1000.0f;
    printf("%-8s %-5s %-14s %12s %11s  %s\n", "isa", "type", "op", "shape", "result", "vs read of the same bytes / FMA peak");
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) {
        mono_type type = types[ti];
        const mono_type_traits *tr = mono_type_get(type);
        size_t row_bytes = mono_type_row_bytes(type, o.cols), mat_bytes = row_bytes * (size_t)o.rows;
        int n_copies = (int)((bw_bytes / 2) / mat_bytes) + 1; /* > 256 MiB of weights: DRAM, not cache */
        if (mat_bytes * (size_t)n_copies > bw_bytes) n_copies = (int)(bw_bytes / mat_bytes);
        if (n_copies < 1) n_copies = 1;
        /* weights: every copy a slice of big, filled with small finite values */
        float *tmp = malloc((size_t)o.cols * 4);
        for (long long c = 0; c < o.cols; c++) tmp[c] = (float)((c * 31) % 17 - 8) / 64.0f;
        for (size_t off = 0; off + row_bytes <= mat_bytes * (size_t)n_copies; off += row_bytes)
            tr->from_float(tmp, big + off, o.cols);
        free(tmp);
        mat_job *jobs = calloc((size_t)n_copies, sizeof *jobs);
        char shape[64];
        for (int k = 0; k < n_isa; k++) {
            if (o.isa && strcmp(o.isa, names[k]) != 0) continue;
            for (int c = 0; c < n_copies; c++)
                jobs[c] = (mat_job){&tabs[k], type, big + (size_t)c * mat_bytes, row_bytes, o.rows, o.cols, 1, x, out};
            snprintf(shape, sizeof shape, "%lldx%lld", o.rows, o.cols);
            static const char *labels[2][2] = {{"vec_dot (DRAM)", "vec_dot (L3)"}, {"gemm1 (DRAM)", "gemm1 (L3)"}};
            for (int via_gemm = 0; via_gemm < 2; via_gemm++) {
                mono_task_fn fn = via_gemm ? gemv_task : matvec_task;
                double t_dram, t_read;
                time_stream(pool, fn, jobs, n_copies, o.seconds, &t_dram, &t_read);
                double t_hot = time_best(pool, fn, &jobs[0], o.seconds / 2);
                printf("%-8s %-5s %-14s %12s %6.1f GB/s %9.0f%% (read %.1f GB/s)\n", names[k], tr->name,
                       labels[via_gemm][0], shape, mat_bytes / t_dram / 1e9, 100 * t_read / t_dram,
                       mat_bytes / t_read / 1e9);
                printf("%-8s %-5s %-14s %12s %6.1f GB/s\n", names[k], tr->name, labels[via_gemm][1], shape,
                       mat_bytes / t_hot / 1e9);
            }
            mat_job g = jobs[0];
            g.n_tok = o.n_tok;
            double t_gemm = time_best(pool, gemm_task, &g, o.seconds);
            snprintf(shape, sizeof shape, "%lldx%lldx%lld", o.rows, o.cols, o.n_tok);
            double gf = 2.0 * o.rows * o.cols * o.n_tok / t_gemm / 1e9;
            printf("%-8s %-5s %-14s %12s %6.1f GFLOP/s %4.0f%% of FMA peak\n", names[k], tr->name, "gemm", shape, gf,
                   100 * gf / peak);
            fflush(stdout);
        }
        free(jobs);
    }
    free(x);
    free(out);
    free(big);
    mono_threadpool_free(pool);
    return 0;
}
