/*
 * bench_llama.c -- llama.cpp's side of bench/llama/run.sh: decode speed of a
 * GGUF through libllama (v0.5.0 from node-llama-cpp, dlopen'ed, CPU only),
 * measured the way `monologue run` reports its own: a prompt of token ids,
 * then N greedy tokens one at a time; prints "decode: N tokens, X tokens/s".
 *
 *   bench_llama LIBDIR MODEL.gguf THREADS N_PREDICT ID,ID,... [WARMUP]
 *
 * WARMUP 1 (bench/llama/compare.sh, as `monologue bench`): one untimed run
 * of the first 16 prompt tokens and 4 decode steps first, then the cache is
 * cleared. The line ends with the process's peak RSS (VmHWM).
 *
 * llama.cpp's parameter structs are passed by value and change size between
 * versions: they are handled as opaque buffers larger than any version's
 * (the SysV ABI passes such structs in memory), touching only n_ctx (the
 * first field) and setting threads through llama_set_n_threads.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct opaque { uint32_t first; char rest[2044]; } opaque;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void quiet(int level, const char *text, void *ud) {
    (void)ud;
    if (level == 4) fputs(text, stderr);
}

#define SYM(lib, name) dlsym(lib, name)

int main(int argc, char **argv) {
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: bench_llama LIBDIR MODEL.gguf THREADS N_PREDICT ID,ID,... [WARMUP]\n");
        return 2;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/libllama.v0.5.0.so", argv[1]);
    void *lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    snprintf(path, sizeof path, "%s/libggml.v0.5.0.so", argv[1]);
    void *ggml = lib ? dlopen(path, RTLD_NOW | RTLD_GLOBAL) : NULL;
    if (!lib || !ggml) { fprintf(stderr, "bench_llama: %s\n", dlerror()); return 77; }
    int n_threads = atoi(argv[3]), n_predict = atoi(argv[4]);
    int32_t prompt[512];
    int n_prompt = 0;
    for (char *s = argv[5]; *s && n_prompt < 512;) {
        prompt[n_prompt++] = (int32_t)strtol(s, &s, 10);
        if (*s == ',') s++;
    }

    void (*log_set)(void (*)(int, const char *, void *), void *) = SYM(lib, "llama_log_set");
    void (*load_all)(const char *) = SYM(ggml, "ggml_backend_load_all_from_path");
    void (*backend_init)(void) = SYM(lib, "llama_backend_init");
    opaque (*model_defaults)(void) = SYM(lib, "llama_model_default_params");
    void *(*model_load)(const char *, opaque) = SYM(lib, "llama_model_load_from_file");
    opaque (*ctx_defaults)(void) = SYM(lib, "llama_context_default_params");
    void *(*ctx_init)(void *, opaque) = SYM(lib, "llama_init_from_model");
    void (*set_threads)(void *, int32_t, int32_t) = SYM(lib, "llama_set_n_threads");
    opaque (*batch_one)(int32_t *, int32_t) = SYM(lib, "llama_batch_get_one");
    int32_t (*decode)(void *, opaque) = SYM(lib, "llama_decode");
    float *(*logits_ith)(void *, int32_t) = SYM(lib, "llama_get_logits_ith");
    const void *(*get_vocab)(const void *) = SYM(lib, "llama_model_get_vocab");
    int32_t (*vocab_n)(const void *) = SYM(lib, "llama_vocab_n_tokens");
    void (*ctx_free)(void *) = SYM(lib, "llama_free");
    void (*model_free)(void *) = SYM(lib, "llama_model_free");
    if (!load_all || !backend_init || !model_defaults || !model_load || !ctx_defaults || !ctx_init || !set_threads ||
        !batch_one || !decode || !logits_ith || !get_vocab || !vocab_n || !ctx_free || !model_free) {
        fprintf(stderr, "bench_llama: libllama lacks an expected symbol\n");
        return 77;
    }
    if (log_set) log_set(quiet, NULL);
    load_all(argv[1]);
    backend_init();
    void *model = model_load(argv[2], model_defaults());
    if (!model) { fprintf(stderr, "bench_llama: cannot load %s\n", argv[2]); return 1; }
    opaque cp = ctx_defaults();
    cp.first = (uint32_t)(n_prompt + n_predict + 16); /* n_ctx */
    void *ctx = ctx_init(model, cp);
    if (!ctx) { fprintf(stderr, "bench_llama: cannot create a context\n"); return 1; }
    set_threads(ctx, n_threads, n_threads);
    int32_t nv = vocab_n(get_vocab(model));
    if (argc == 7 && atoi(argv[6])) { /* warm-up: map the weights in, start the threads */
        void *(*get_memory)(void *) = SYM(lib, "llama_get_memory");
        void (*memory_clear)(void *, int) = SYM(lib, "llama_memory_clear");
        int32_t wtok = prompt[0];
        if (!get_memory || !memory_clear) { fprintf(stderr, "bench_llama: no llama_memory_clear\n"); return 77; }
        if (decode(ctx, batch_one(prompt, n_prompt < 16 ? n_prompt : 16)) != 0) return 1;
        for (int i = 0; i < 4; i++)
            if (decode(ctx, batch_one(&wtok, 1)) != 0) return 1;
        memory_clear(get_memory(ctx), 1);
    }

    double t0 = now_s();
    if (decode(ctx, batch_one(prompt, n_prompt)) != 0) { fprintf(stderr, "bench_llama: prompt failed\n"); return 1; }
    double t1 = now_s();
    int32_t tok = 0;
    for (int i = 0; i < n_predict; i++) {
        const float *lg = logits_ith(ctx, -1);
        tok = 0;
        for (int32_t v = 1; v < nv; v++)
            if (lg[v] > lg[tok]) tok = v;
        if (decode(ctx, batch_one(&tok, 1)) != 0) { fprintf(stderr, "bench_llama: decode failed\n"); return 1; }
    }
    double t2 = now_s();
    double rss_mb = 0;
    char line[256];
    FILE *st = fopen("/proc/self/status", "r");
    while (st && fgets(line, sizeof line, st))
        if (!strncmp(line, "VmHWM:", 6)) rss_mb = atof(line + 6) / 1024.0;
    if (st) fclose(st);
    printf("prefill: %d tokens, %.1f tokens/s | decode: %d tokens, %.1f tokens/s | peak_rss_mb: %.1f\n", n_prompt,
           n_prompt / (t1 - t0), n_predict, n_predict / (t2 - t1), rss_mb);
    ctx_free(ctx);
    model_free(model);
    return 0;
}
