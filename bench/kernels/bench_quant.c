/*
 * bench_quant.c -- decode (matrix-vector) and prefill (gemm) speed of the
 * quantized-type kernels against llama.cpp's own CPU kernels and the
 * machine's read bandwidth, all measured in the same run.
 *
 *   decode: y = W x over Qwen2.5-0.5B shapes, cycled over enough copies of W
 *           (> 256 MiB) that every weight byte comes from DRAM as in real
 *           decode. GB/s of weights read, % of a plain read loop, and the
 *           ratio to ggml's vec_dot (libggml-cpu-*.so from node-llama-cpp,
 *           dlopen'ed; skipped when absent) on the same bytes and split.
 *   prefill: gemm of one cache-resident matrix against --tokens tokens, in
 *           GOP/s (2 ops per weight per token), vs ggml's vec_dot loop.
 *
 * Usage: bench_quant [--threads N] [--seconds S] [--tokens T] [--quick]
 *                    [--type NAME]... [--ggml-cpu PATH]
 * (built and run by bench/kernels/run_quant.sh)
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"
#include "runtime/threadpool.h"

/* With one thread the bench counts this thread's CPU time, not wall time:
 * on a shared machine the time the thread spends descheduled is not ours. */
static int g_cpu_clock = 0;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(g_cpu_clock ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------ llama.cpp's side */

typedef void (*ggml_vec_dot_t)(int n, float *s, size_t bs, const void *x, size_t bx, const void *y, size_t by,
                               int nrc);
typedef struct ggml_traits_cpu { /* ggml-cpu.h, ggml 0.5 */
    void (*from_float)(const float *x, void *y, int64_t k);
    ggml_vec_dot_t vec_dot;
    int vec_dot_type;
    int64_t nrows;
} ggml_traits_cpu;

typedef struct ggml_cpu {
    const ggml_traits_cpu *(*traits)(int type);
    const char *path;
} ggml_cpu;

static void ggml_open(ggml_cpu *g, const char *path) {
    static const char *dir = "tools/peers/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/";
    static const char *variants[] = {"zen4", "sapphirerapids", "icelake", "cascadelake", "skylakex", "alderlake",
                                     "haswell", "x64"};
    char buf[512];
    memset(g, 0, sizeof *g);
    snprintf(buf, sizeof buf, "%slibggml-base.so", dir);
    if (!dlopen(buf, RTLD_NOW | RTLD_GLOBAL)) return;
    void *lib = NULL;
    if (path) {
        lib = dlopen(path, RTLD_NOW);
    } else {
        static char chosen[512];
        for (size_t i = 0; !lib && i < sizeof variants / sizeof variants[0]; i++) {
            snprintf(chosen, sizeof chosen, "%slibggml-cpu-%s.so", dir, variants[i]);
            lib = dlopen(chosen, RTLD_NOW);
            /* a variant built for a newer CPU loads but would fault: ggml checks with this */
            int (*score)(void) = lib ? (int (*)(void))dlsym(lib, "ggml_backend_score") : NULL;
            if (lib && score && score() == 0) { dlclose(lib); lib = NULL; }
            path = chosen;
        }
    }
    if (!lib) return;
    void (*init)(void) = (void (*)(void))dlsym(lib, "ggml_cpu_init");
    g->traits = (const ggml_traits_cpu *(*)(int))dlsym(lib, "ggml_get_type_traits_cpu");
    if (init) init();
    g->path = path;
}

/* --------------------------------------------------------------- jobs */

typedef struct read_job {
    const uint64_t *buf;
    long long n;
    uint64_t sink[64];
} read_job;

static void read_task(void *arg, int ith, int nth) {
    read_job *j = arg;
    long long lo, hi;
    mono_split_range(j->n / 8, ith, nth, &lo, &hi);
    uint64_t a[8] = {0};
    for (long long i = lo * 8; i < hi * 8; i += 8)
        for (int k = 0; k < 8; k++) a[k] += j->buf[i + k];
    j->sink[ith] = a[0] ^ a[1] ^ a[2] ^ a[3] ^ a[4] ^ a[5] ^ a[6] ^ a[7];
}

typedef struct mat_job {
    const mono_kernels *k;
    ggml_vec_dot_t ggml_dot; /* set: run llama.cpp's kernel instead */
    int type;
    const char *w;
    size_t row_bytes, x_row_bytes;
    long long rows, cols, n_tok;
    const void *xq;
    float *out;
    int repacked; /* w is the kernels' repacked form: gemm_repacked */
    char **plain; /* with repacked: the original copies, for llama.cpp's turn */
} mat_job;

static void mat_task(void *arg, int ith, int nth) {
    mat_job *j = arg;
    long long lo, hi;
    mono_split_range(j->rows, ith, nth, &lo, &hi);
    if (j->ggml_dot) {
        for (long long r = lo; r < hi; r++)
            for (long long t = 0; t < j->n_tok; t++)
                j->ggml_dot((int)j->cols, &j->out[t * j->rows + r], 0, j->w + r * j->row_bytes, 0,
                            (const char *)j->xq + t * j->x_row_bytes, 0, 1);
    } else if (j->repacked) { /* whole row groups per thread */
        const long long g = j->k->repack_rows[j->type], ng = (j->rows + g - 1) / g;
        mono_split_range(ng, ith, nth, &lo, &hi);
        hi = hi * g < j->rows ? hi * g : j->rows;
        j->k->gemm_repacked[j->type](j->cols, j->w, j->rows, lo * g, hi, j->xq, j->x_row_bytes, j->n_tok, j->out,
                                     (size_t)j->rows);
    } else if (j->k->gemm[j->type]) {
        j->k->gemm[j->type](j->cols, j->w, j->row_bytes, lo, hi, j->xq, j->x_row_bytes, j->n_tok, j->out,
                            (size_t)j->rows);
    } else {
        for (long long r = lo; r < hi; r++)
            for (long long t = 0; t < j->n_tok; t++)
                j->k->vec_dot[j->type](j->cols, &j->out[t * j->rows + r], j->w + r * j->row_bytes,
                                       (const char *)j->xq + t * j->x_row_bytes);
    }
}

/* Runs job over the copies for about `seconds`; returns seconds per product. */
static double time_products(mono_threadpool *pool, mat_job *job, char **copies, int n_copies, double seconds) {
    int reps = 0;
    job->w = job->ggml_dot && job->plain ? job->plain[0] : copies[0];
    mono_threadpool_run(pool, mat_task, job); /* warm-up */
    double t0 = now_s(), t;
    do {
        for (int c = 0; c < n_copies; c++) {
            job->w = job->ggml_dot && job->plain ? job->plain[c] : copies[c];
            mono_threadpool_run(pool, mat_task, job);
            reps++;
        }
        t = now_s() - t0;
    } while (t < seconds);
    return t / reps;
}

/* The machine is shared: alternate ours and llama.cpp's in short rounds and
 * keep each one's best round, so a burst of someone else's work does not
 * land on one side only. theirs = NULL times ours alone. */
static void time_pair(mono_threadpool *pool, mat_job *job, ggml_vec_dot_t theirs, char **copies, int n_copies,
                      double seconds, double *t_ours, double *t_theirs) {
    const int rounds = 5;
    *t_ours = *t_theirs = 1e30;
    for (int r = 0; r < rounds; r++) {
        job->ggml_dot = NULL;
        double a = time_products(pool, job, copies, n_copies, seconds / rounds);
        if (a < *t_ours) *t_ours = a;
        if (!theirs) continue;
        job->ggml_dot = theirs;
        double b = time_products(pool, job, copies, n_copies, seconds / rounds);
        if (b < *t_theirs) *t_theirs = b;
    }
    job->ggml_dot = NULL;
}

static double read_bandwidth(mono_threadpool *pool, size_t bytes, double seconds) {
    read_job j = {0};
    j.n = (long long)(bytes / 8);
    uint64_t *buf = malloc(bytes);
    for (long long i = 0; i < j.n; i++) buf[i] = (uint64_t)i;
    j.buf = buf;
    mono_threadpool_run(pool, read_task, &j);
    int reps = 0;
    double t0 = now_s(), t;
    do {
        mono_threadpool_run(pool, read_task, &j);
        reps++;
        t = now_s() - t0;
    } while (t < seconds);
    free(buf);
    return (double)bytes * reps / t / 1e9;
}

/* Fills a weight matrix of `type` with quantized random data. */
static void make_matrix(int type, char *w, long long rows, long long cols, uint64_t seed) {
    const mono_type_traits *tr = mono_type_get(type);
    size_t rb = mono_type_row_bytes(type, cols);
    float *f = malloc(cols * sizeof *f);
    for (long long r = 0; r < rows; r++) {
        if (r < 64) {
            for (long long c = 0; c < cols; c++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                f[c] = (float)((int64_t)(seed >> 11) % 2000 - 1000) * 1e-5f;
            }
            tr->from_float(f, w + r * rb, cols);
        } else { /* quantizing every row of a 150k-row matrix takes long: reuse the first 64 */
            memcpy(w + r * rb, w + (r % 64) * rb, rb);
        }
    }
    free(f);
}

typedef struct shape { long long rows, cols; const char *what; } shape;

static void bench_type(mono_threadpool *pool, const mono_kernels *k, const ggml_cpu *g, int type, double seconds,
                       double bw, long long n_tok, int quick) {
    const mono_type_traits *tr = mono_type_get(type);
    const shape legacy[] = {{4864, 896, "ffn_up"}, {151936, 896, "lm_head"}, {384, 896, "in-L2"}};
    const shape kq[] = {{896, 4864, "ffn_down"}, {151936, 1024, "lm_head-like"}, {96, 4864, "in-L2"}};
    const shape *shapes = tr->block_size == 256 ? kq : legacy;
    const ggml_traits_cpu *gt = g->traits ? g->traits(type) : NULL;
    if (gt && (!gt->vec_dot || gt->vec_dot_type != (int)tr->vec_dot_type)) gt = NULL;
    for (int s = 0; s < 3; s++) {
        long long rows = shapes[s].rows, cols = shapes[s].cols;
        size_t rb = mono_type_row_bytes(type, cols), mat = rb * (size_t)rows;
        size_t want = (size_t)(quick ? 128 : 320) << 20;
        int n_copies = (int)((want + mat - 1) / mat);
        if (n_copies < 2) n_copies = 2;
        if (s == 2) n_copies = 1; /* compute speed: the matrix stays in L2 */
        char **copies = malloc(n_copies * sizeof *copies);
        for (int c = 0; c < n_copies; c++) {
            copies[c] = malloc(mat);
            if (c == 0) make_matrix(type, copies[0], rows, cols, 12345);
            else memcpy(copies[c], copies[0], mat);
        }
        const mono_type_traits *vt = mono_type_get(tr->vec_dot_type);
        size_t xrb = mono_type_row_bytes(tr->vec_dot_type, cols);
        long long ntk = s == 0 ? n_tok : 1;
        char *xq = malloc(xrb * ntk);
        float *xf = malloc(cols * sizeof *xf), *out = malloc(rows * ntk * sizeof *out);
        for (long long t = 0; t < ntk; t++) {
            for (long long c = 0; c < cols; c++) xf[c] = (float)((c * 7 + t * 13) % 23 - 11) * 0.1f;
            vt->from_float(xf, xq + t * xrb, cols);
        }
        mat_job job = {.k = k, .type = type, .row_bytes = rb, .x_row_bytes = xrb, .rows = rows, .cols = cols,
                       .n_tok = 1, .xq = xq, .out = out};
        double ours, theirs;
        time_pair(pool, &job, gt ? gt->vec_dot : NULL, copies, n_copies, seconds, &ours, &theirs);
        double gbs = mat / ours / 1e9;
        printf("  %-5s decode %-12s [%6lld x %5lld] %7.1f MB  %6.1f us  %5.1f GB/s  %3.0f%% of read bw", tr->name,
               shapes[s].what, rows, cols, mat / 1e6, ours * 1e6, gbs, 100 * gbs / bw);
        if (gt) printf("  llama.cpp %5.1f GB/s  ratio %.2fx", mat / theirs / 1e9, theirs / ours);
        printf("\n");
        if (k->repack[type] && k->repack_size[type](rows, cols)) { /* the load-time repacked form, same bytes */
            size_t rsz = k->repack_size[type](rows, cols);
            char **rp = malloc(n_copies * sizeof *rp);
            for (int c = 0; c < n_copies; c++) {
                rp[c] = aligned_alloc(64, (rsz + 63) / 64 * 64);
                k->repack[type](copies[c], rb, rows, cols, rp[c]);
            }
            mat_job rj = job;
            rj.repacked = 1;
            rj.plain = copies;
            double rt, tt;
            time_pair(pool, &rj, gt ? gt->vec_dot : NULL, rp, n_copies, seconds, &rt, &tt);
            printf("  %-5s decode %-12s repacked x%d         %6.1f us  %5.1f GB/s  %3.0f%% of read bw", tr->name,
                   shapes[s].what, k->repack_rows[type], rt * 1e6, mat / rt / 1e9, 100 * mat / rt / 1e9 / bw);
            if (gt) printf("  llama.cpp %5.1f GB/s  ratio %.2fx", mat / tt / 1e9, tt / rt);
            printf("  (%.2fx the row kernel)\n", ours / rt);
            for (int c = 0; c < n_copies; c++) free(rp[c]);
            free(rp);
        }
        if (s == 0 && n_tok > 1) { /* prefill on the cache-resident matrix */
            job.n_tok = ntk;
            char *one[1] = {copies[0]};
            double tp, tg;
            time_pair(pool, &job, gt ? gt->vec_dot : NULL, one, 1, seconds, &tp, &tg);
            double ops = 2.0 * rows * cols * ntk;
            printf("  %-5s prefill %-11s [%6lld x %5lld] x %lld tokens: %6.1f GOP/s", tr->name, shapes[s].what, rows,
                   cols, ntk, ops / tp / 1e9);
            if (gt) printf("  llama.cpp vec_dot loop %6.1f GOP/s  ratio %.2fx", ops / tg / 1e9, tg / tp);
            printf("\n");
        }
        for (int c = 0; c < n_copies; c++) free(copies[c]);
        free(copies); free(xq); free(xf); free(out);
    }
}

int main(int argc, char **argv) {
    int threads = 1, quick = 0, n_types = 0, types[16];
    long long n_tok = 32;
    double seconds = 1.0;
    const char *ggml_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) { quick = 1; seconds = 0.25; }
        else if (!strcmp(a, "--threads") && v) { threads = atoi(v); i++; }
        else if (!strcmp(a, "--seconds") && v) { seconds = atof(v); i++; }
        else if (!strcmp(a, "--tokens") && v) { n_tok = atoll(v); i++; }
        else if (!strcmp(a, "--ggml-cpu") && v) { ggml_path = v; i++; }
        else if (!strcmp(a, "--type") && v && n_types < 16) {
            int found = -1;
            for (int t = 0; t < MONO_TYPE_COUNT; t++) {
                const mono_type_traits *tr = mono_type_get(t);
                if (tr && tr->quantized && !strcmp(tr->name, v)) found = t;
            }
            if (found < 0) { fprintf(stderr, "bench_quant: unknown type '%s'\n", v); return 2; }
            types[n_types++] = found;
            i++;
        } else {
            fprintf(stderr, "usage: bench_quant [--threads N] [--seconds S] [--tokens T] [--quick] [--type NAME]... "
                            "[--ggml-cpu PATH]\n");
            return 2;
        }
    }
    if (threads < 1 || threads > 64 || n_tok < 1 || seconds <= 0) {
        fprintf(stderr, "bench_quant: bad --threads/--tokens/--seconds\n");
        return 2;
    }
    if (!n_types) {
        static const int all[] = {MONO_TYPE_Q8_0, MONO_TYPE_Q4_0, MONO_TYPE_Q5_0, MONO_TYPE_Q4_1, MONO_TYPE_Q5_1,
                                  MONO_TYPE_Q4_K, MONO_TYPE_Q5_K, MONO_TYPE_Q6_K, MONO_TYPE_Q3_K, MONO_TYPE_Q2_K};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) types[n_types++] = all[i];
    }
    g_cpu_clock = threads == 1;
    mono_kernels k;
    mono_kernels_init(&k);
    ggml_cpu g;
    ggml_open(&g, ggml_path);
    mono_threadpool *pool;
    mono_error err;
    if (mono_threadpool_init(&pool, threads, &err) != MONO_OK) {
        fprintf(stderr, "bench_quant: %s\n", err.message);
        return 1;
    }
    double bw = read_bandwidth(pool, (size_t)256 << 20, seconds);
    printf("bench_quant: isa %s, %d thread(s) (%s time), read bandwidth %.1f GB/s, llama.cpp kernels: %s\n", k.isa,
           threads, g_cpu_clock ? "thread CPU" : "wall", bw,
           g.traits ? g.path : "not found (skipping the comparison)");
    for (int i = 0; i < n_types; i++) bench_type(pool, &k, &g, types[i], seconds, bw, n_tok, quick);
    mono_threadpool_free(pool);
    return 0;
}
