/*
 * bench_sampler.c -- cost of picking one token from a Qwen-sized row of
 * logits (151936), Monologue's sampler against llama.cpp's sampler chain
 * (libllama v0.5.0 from node-llama-cpp, dlopen'ed), same logits, same run.
 *
 *   bench_sampler LIBDIR [ITERATIONS]       (bench/sampler/run.sh builds it)
 *
 * The logits imitate a language model's: a few strong candidates over a
 * long Gaussian tail, re-drawn every iteration. Both sides do everything a
 * generation step needs after the forward pass: llama.cpp's includes filling
 * its candidate array from the logits (what its common sampler does each
 * token); ours is one mono_sampler_sample call. llama.cpp's chain order
 * (penalties, top-k, top-p, min-p, temperature, dist) differs from HF's
 * (temperature before top-k): the work is the same, the picks may differ.
 * Prints one line per configuration: microseconds per token on each side and
 * the ratio.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monologue.h"

typedef struct llama_token_data { int32_t id; float logit; float p; } llama_token_data;
typedef struct llama_token_data_array { llama_token_data *data; size_t size; int64_t selected; bool sorted; } llama_token_data_array;
typedef struct chain_params { bool no_perf; } chain_params;

typedef struct llama_api {
    chain_params (*chain_default)(void);
    void *(*chain_init)(chain_params);
    void (*chain_add)(void *, void *);
    void *(*top_k)(int32_t);
    void *(*top_p)(float, size_t);
    void *(*min_p)(float, size_t);
    void *(*temp)(float);
    void *(*dist)(uint32_t);
    void *(*greedy)(void);
    void *(*penalties)(int32_t, float, float, float);
    void (*apply)(void *, llama_token_data_array *);
    void (*accept)(void *, int32_t);
    void (*free)(void *);
} llama_api;

typedef struct config {
    const char *name;
    float temp, top_p, min_p, rep;
    int top_k;
} config;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 88172645463325252ull;
static double uniform(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1.0p-53;
}

static void fill_logits(float *x, int n) {
    for (int i = 0; i < n; i++) { /* Box-Muller tail around -2, sd 2 */
        double u = uniform() + 1e-12, v = uniform();
        x[i] = (float)(-2.0 + 2.0 * sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v));
    }
    for (int k = 0; k < 8; k++) x[(int)(uniform() * n)] = (float)(12.0 + 4.0 * uniform());
}

static void *llama_chain(const llama_api *L, const config *c) {
    void *ch = L->chain_init(L->chain_default());
    if (c->rep != 1.0f) L->chain_add(ch, L->penalties(64, c->rep, 0.0f, 0.0f));
    if (c->temp <= 0) { L->chain_add(ch, L->greedy()); return ch; }
    if (c->top_k > 0) L->chain_add(ch, L->top_k(c->top_k));
    if (c->top_p < 1.0f) L->chain_add(ch, L->top_p(c->top_p, 1));
    if (c->min_p > 0.0f) L->chain_add(ch, L->min_p(c->min_p, 1));
    L->chain_add(ch, L->temp(c->temp));
    L->chain_add(ch, L->dist(1234));
    return ch;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: bench_sampler LIBDIR [ITERATIONS]\n"); return 2; }
    int iters = argc > 2 ? atoi(argv[2]) : 200;
    char path[1024];
    snprintf(path, sizeof path, "%s/libllama.v0.5.0.so", argv[1]);
    void *lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!lib) { fprintf(stderr, "bench_sampler: %s\n", dlerror()); return 77; }
    llama_api L = {
        dlsym(lib, "llama_sampler_chain_default_params"), dlsym(lib, "llama_sampler_chain_init"),
        dlsym(lib, "llama_sampler_chain_add"), dlsym(lib, "llama_sampler_init_top_k"),
        dlsym(lib, "llama_sampler_init_top_p"), dlsym(lib, "llama_sampler_init_min_p"),
        dlsym(lib, "llama_sampler_init_temp"), dlsym(lib, "llama_sampler_init_dist"),
        dlsym(lib, "llama_sampler_init_greedy"), dlsym(lib, "llama_sampler_init_penalties"),
        dlsym(lib, "llama_sampler_apply"), dlsym(lib, "llama_sampler_accept"), dlsym(lib, "llama_sampler_free")};
    void **fns = (void **)&L;
    for (size_t i = 0; i < sizeof L / sizeof(void *); i++)
        if (!fns[i]) { fprintf(stderr, "bench_sampler: libllama lacks a sampler symbol\n"); return 77; }

    const int V = 151936;
    float *logits = malloc(sizeof(float) * V);
    llama_token_data *cand = malloc(sizeof(llama_token_data) * V);
    int32_t hist[64];
    for (int i = 0; i < 64; i++) hist[i] = (int32_t)(uniform() * V);
    config cfgs[] = {
        {"greedy", 0.0f, 1.0f, 0.0f, 1.0f, 0},
        {"qwen2.5 defaults (t0.7 k20 p0.8 r1.05)", 0.7f, 0.8f, 0.0f, 1.05f, 20},
        {"top-p 0.95, t0.8", 0.8f, 0.95f, 0.0f, 1.0f, 0},
        {"min-p 0.05, t1.0", 1.0f, 1.0f, 0.05f, 1.0f, 0},
        {"plain t1.0", 1.0f, 1.0f, 0.0f, 1.0f, 0},
    };
    printf("%-40s %12s %12s %8s\n", "sampler (vocab 151936)", "monologue", "llama.cpp", "ratio");
    for (size_t k = 0; k < sizeof cfgs / sizeof *cfgs; k++) {
        const config *c = &cfgs[k];
        mono_sampler_params sp = mono_sampler_params_default();
        sp.temperature = c->temp; sp.top_k = c->top_k; sp.top_p = c->top_p; sp.min_p = c->min_p;
        sp.repetition_penalty = c->rep; sp.penalty_last_n = 64; sp.seed = 1234;
        mono_sampler *ms = NULL;
        mono_error err;
        if (mono_sampler_init(&sp, &ms, &err) != MONO_OK) { fprintf(stderr, "%s\n", err.message); return 1; }
        void *ls = llama_chain(&L, c);
        for (int i = 0; i < 64; i++) { mono_sampler_accept(ms, hist[i], NULL); L.accept(ls, hist[i]); }
        double t_mono = 0, t_llama = 0;
        long long sink = 0;
        rng_state = 88172645463325252ull + k;
        for (int it = 0; it < iters; it++) {
            fill_logits(logits, V);
            double t0 = now_s();
            int32_t tok = -1;
            mono_sampler_sample(ms, logits, V, &tok, NULL);
            double t1 = now_s();
            for (int i = 0; i < V; i++) cand[i] = (llama_token_data){i, logits[i], 0.0f};
            llama_token_data_array arr = {cand, (size_t)V, -1, false};
            L.apply(ls, &arr);
            double t2 = now_s();
            if (arr.selected < 0 || arr.selected >= (int64_t)arr.size) { fprintf(stderr, "llama.cpp selected nothing\n"); return 1; }
            sink += tok + arr.data[arr.selected].id;
            t_mono += t1 - t0;
            t_llama += t2 - t1;
        }
        printf("%-40s %9.1f us %9.1f us %7.2fx\n", c->name, t_mono / iters * 1e6, t_llama / iters * 1e6,
               t_llama / t_mono);
        if (sink == 42) printf(" ");
        mono_sampler_free(ms);
        L.free(ls);
    }
    free(logits);
    free(cand);
    return 0;
}
