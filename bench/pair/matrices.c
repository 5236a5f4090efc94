/*
 * matrices.c -- decode bandwidth of each kind of weight matrix of a model:
 * runs the model's own matmul (one token, the layout loading chose: file,
 * repacked, panels, huge pages) over every layer's q, k, v, o, gate, up,
 * down and the output projection, and prints ms per token and GB/s (file
 * bytes / time) for each kind. Finds the matrix a decode kernel handles
 * badly (the F16 down projection's L1 misses were found this way).
 *
 *   matrices MODEL [THREADS=1]     (MONO_NO_REPACK=1 etc. apply as usual)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "model/matmul.h"
#include "model/model.h"
#include "runtime/threadpool.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: matrices MODEL [THREADS]\n");
        return 2;
    }
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    mono_error err;
    mono_model *m = NULL;
    mono_model_params mp = mono_model_params_default();
    mono_threadpool *pool = NULL;
    if (threads < 1 || mono_model_load(argv[1], &mp, &m, &err) != MONO_OK ||
        mono_threadpool_init(&pool, threads, &err) != MONO_OK) {
        fprintf(stderr, "matrices: %s\n", threads < 1 ? "THREADS >= 1" : err.message);
        return 1;
    }
    const int64_t max_cols = 1 << 16, max_rows = m->output.n_rows > 65536 ? m->output.n_rows : 65536;
    mono_matmul_scratch s = {.xq_bytes = 1 << 20, .max_cols = max_cols, .n_threads = threads};
    s.xq = malloc(s.xq_bytes);
    s.wrow = malloc(sizeof(float) * (size_t)max_cols * (size_t)threads);
    float *x = malloc(sizeof(float) * (size_t)max_cols), *y = malloc(sizeof(float) * (size_t)max_rows);
    for (int64_t i = 0; i < max_cols; i++) x[i] = 1.0f / (float)(i + 1);
    static const char *names[] = {"q", "k", "v", "o", "gate", "up", "down", "output"};
    double t[8] = {0}, bytes[8] = {0};
    const int reps = 3;
    for (int rep = 0; rep < reps; rep++)
        for (int il = 0; il <= m->hp.n_layer; il++) {
            mono_layer *L = il < m->hp.n_layer ? &m->layers[il] : NULL;
            const mono_matrix *ws[8] = {0};
            if (L) {
                const mono_matrix *lw[7] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
                memcpy(ws, lw, sizeof lw);
            } else {
                ws[7] = &m->output;
            }
            for (int i = 0; i < 8; i++) {
                if (!ws[i] || ws[i]->n_cols > max_cols || ws[i]->n_rows > max_rows) continue;
                double t0 = mono_clock_seconds();
                mono_matmul(&m->kernels, pool, ws[i], x, 1, y, (size_t)ws[i]->n_rows, &s);
                t[i] += mono_clock_seconds() - t0;
                bytes[i] += (double)ws[i]->row_bytes * (double)ws[i]->n_rows;
            }
        }
    double T = 0, B = 0;
    printf("%s, %d thread(s), %s\n", argv[1], threads, m->kernels.isa);
    for (int i = 0; i < 8; i++) {
        if (t[i] <= 0) continue;
        printf("%-7s %8.2f ms/token %7.1f GB/s\n", names[i], t[i] / reps * 1e3, bytes[i] / t[i] / 1e9);
        T += t[i], B += bytes[i];
    }
    printf("total   %8.2f ms/token %7.1f GB/s\n", T / reps * 1e3, B / T / 1e9);
    free(s.xq), free(s.wrow), free(x), free(y);
    mono_threadpool_free(pool);
    mono_model_free(m);
    return 0;
}
