/*
 * llama_dl.h -- llama.cpp's C API, dlopen'ed, for the benchmarks that run it
 * beside Monologue (bench_llama.c: its own process; pair_llama.c: the same
 * process as Monologue). libllama v0.5.0 comes from the npm package
 * @node-llama-cpp/linux-x64; the CPU backend is picked by ggml at load.
 *
 * llama.cpp's parameter structs are passed by value and change size between
 * versions: they are handled as opaque buffers larger than any version's
 * (the SysV ABI passes such structs in memory), touching only n_ctx (the
 * first field of the context parameters) and setting threads through
 * llama_set_n_threads.
 *
 * Header-only (static functions): each benchmark is one C file.
 */
#ifndef MONO_BENCH_LLAMA_DL_H
#define MONO_BENCH_LLAMA_DL_H

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct llama_opaque { uint32_t first; char rest[2044]; } llama_opaque;

typedef struct llama_dl {
    void *lib, *ggml;
    void *model, *ctx;
    int32_t n_vocab;
    void *(*get_memory)(void *);
    void (*memory_clear)(void *, int);
    llama_opaque (*batch_one)(int32_t *, int32_t);
    int32_t (*decode)(void *, llama_opaque);
    float *(*logits_ith)(void *, int32_t);
    void (*ctx_free)(void *);
    void (*model_free)(void *);
} llama_dl;

static void llama_dl_quiet(int level, const char *text, void *ud) {
    (void)ud;
    if (level == 4) fputs(text, stderr); /* errors only */
}

/* Loads libllama from libdir, then model with a context of n_ctx positions
 * and n_threads threads. Returns 0, 77 when the library or one of its
 * symbols is missing (a skip for the callers' scripts), or 1, with the
 * reason in why[cap]. */
static int llama_dl_open(llama_dl *L, const char *libdir, const char *model, int n_threads, int n_ctx, char *why,
                         size_t cap) {
    memset(L, 0, sizeof *L);
    char path[1024];
    snprintf(path, sizeof path, "%s/libllama.v0.5.0.so", libdir);
    L->lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    snprintf(path, sizeof path, "%s/libggml.v0.5.0.so", libdir);
    L->ggml = L->lib ? dlopen(path, RTLD_NOW | RTLD_GLOBAL) : NULL;
    if (!L->lib || !L->ggml) { snprintf(why, cap, "%s", dlerror()); return 77; }

    void (*log_set)(void (*)(int, const char *, void *), void *) = dlsym(L->lib, "llama_log_set");
    void (*load_all)(const char *) = dlsym(L->ggml, "ggml_backend_load_all_from_path");
    void (*backend_init)(void) = dlsym(L->lib, "llama_backend_init");
    llama_opaque (*model_defaults)(void) = dlsym(L->lib, "llama_model_default_params");
    void *(*model_load)(const char *, llama_opaque) = dlsym(L->lib, "llama_model_load_from_file");
    llama_opaque (*ctx_defaults)(void) = dlsym(L->lib, "llama_context_default_params");
    void *(*ctx_init)(void *, llama_opaque) = dlsym(L->lib, "llama_init_from_model");
    void (*set_threads)(void *, int32_t, int32_t) = dlsym(L->lib, "llama_set_n_threads");
    const void *(*get_vocab)(const void *) = dlsym(L->lib, "llama_model_get_vocab");
    int32_t (*vocab_n)(const void *) = dlsym(L->lib, "llama_vocab_n_tokens");
    L->get_memory = (void *(*)(void *))dlsym(L->lib, "llama_get_memory");
    L->memory_clear = (void (*)(void *, int))dlsym(L->lib, "llama_memory_clear");
    L->batch_one = (llama_opaque(*)(int32_t *, int32_t))dlsym(L->lib, "llama_batch_get_one");
    L->decode = (int32_t(*)(void *, llama_opaque))dlsym(L->lib, "llama_decode");
    L->logits_ith = (float *(*)(void *, int32_t))dlsym(L->lib, "llama_get_logits_ith");
    L->ctx_free = (void (*)(void *))dlsym(L->lib, "llama_free");
    L->model_free = (void (*)(void *))dlsym(L->lib, "llama_model_free");
    if (!load_all || !backend_init || !model_defaults || !model_load || !ctx_defaults || !ctx_init || !set_threads ||
        !get_vocab || !vocab_n || !L->get_memory || !L->memory_clear || !L->batch_one || !L->decode ||
        !L->logits_ith || !L->ctx_free || !L->model_free) {
        snprintf(why, cap, "libllama lacks an expected symbol");
        return 77;
    }
    if (log_set) log_set(llama_dl_quiet, NULL);
    load_all(libdir);
    backend_init();
    L->model = model_load(model, model_defaults());
    if (!L->model) { snprintf(why, cap, "cannot load %s", model); return 1; }
    llama_opaque cp = ctx_defaults();
    cp.first = (uint32_t)n_ctx;
    L->ctx = ctx_init(L->model, cp);
    if (!L->ctx) { snprintf(why, cap, "cannot create a context"); return 1; }
    set_threads(L->ctx, n_threads, n_threads);
    L->n_vocab = vocab_n(get_vocab(L->model));
    return 0;
}

/* llama_decode asserts a call's tokens fit the context's n_batch, which
 * this header leaves at its default (2048) */
#define LLAMA_DL_BATCH 2048

/* Evaluates n tokens, in calls of at most LLAMA_DL_BATCH; the last one's
 * logits, or NULL. */
static const float *llama_dl_eval(llama_dl *L, int32_t *tokens, int n) {
    for (int i = 0; i < n; i += LLAMA_DL_BATCH) {
        int c = n - i < LLAMA_DL_BATCH ? n - i : LLAMA_DL_BATCH;
        if (L->decode(L->ctx, L->batch_one(tokens + i, c)) != 0) return NULL;
    }
    return L->logits_ith(L->ctx, -1);
}

/* Empties the KV cache (the next eval starts at position 0). */
static void llama_dl_clear(llama_dl *L) { L->memory_clear(L->get_memory(L->ctx), 1); }

static void llama_dl_close(llama_dl *L) {
    if (L->ctx) L->ctx_free(L->ctx);
    if (L->model) L->model_free(L->model);
    memset(L, 0, sizeof *L);
}

#endif
