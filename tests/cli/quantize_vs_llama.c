/*
 * quantize_vs_llama.c -- test helper for tests/cli/quantize_llama.sh: checks
 * a GGUF written by `monologue quantize` against llama.cpp's own quantizer
 * (libllama.v0.5.0.so from node-llama-cpp, dlopen'ed):
 *
 *   quantize_vs_llama LIBDIR IN.gguf OURS.gguf FTYPE REF_OUT.gguf
 *
 *   1. llama_model_quantize(IN, REF_OUT, ftype) -- llama-quantize's pass;
 *   2. every tensor of REF_OUT must be in OURS with the same type, shape and
 *      bytes (so our dequantized weights are llama.cpp's, bit for bit), and
 *      OURS must have no other tensors;
 *   3. llama_model_load_from_file(OURS) must succeed (llama.cpp loads it).
 * Prints one line per problem; exit 0 when all hold, 1 otherwise, 77 when
 * the library cannot be loaded (the caller skips).
 *
 *   quantize_vs_llama --layers N IN.gguf OUT.gguf
 *
 * writes a deeper copy of a model: blk.i takes blk.(i % n_in)'s tensors and
 * <arch>.block_count becomes N, so the per-layer rules (use_more_bits, and
 * llama.cpp visiting blk.2 before blk.10) are exercised on a small file.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/gguf_write.h"
#include "kernels/types.h"

/* llama.cpp structs are returned and passed by value; their exact size
 * differs between versions. Both are larger than 16 bytes, so the SysV ABI
 * moves them through memory: a buffer at least as large works, and only
 * the leading fields we set (nthread, ftype) must match llama.h. */
typedef struct big_params { int32_t nthread, ftype; char rest[1016]; } big_params;

typedef big_params (*quant_defaults_fn)(void);
typedef uint32_t (*quantize_fn)(const char *in, const char *out, const big_params *p);
typedef big_params (*model_defaults_fn)(void);
typedef void *(*load_fn)(const char *path, big_params p);
typedef void (*free_fn)(void *model);
typedef void (*log_set_fn)(void (*cb)(int level, const char *text, void *ud), void *ud);

static void quiet(int level, const char *text, void *ud) {
    (void)ud;
    if (level == 4 /* GGML_LOG_LEVEL_ERROR */) fputs(text, stderr);
}

static int compare(const char *ref_path, const char *ours_path) {
    mono_gguf *ref = NULL, *ours = NULL;
    mono_error err;
    if (mono_gguf_open(ref_path, &ref, &err) != MONO_OK) { printf("cannot read %s: %s\n", ref_path, err.message); return 1; }
    if (mono_gguf_open(ours_path, &ours, &err) != MONO_OK) {
        printf("cannot read %s: %s\n", ours_path, err.message);
        mono_gguf_close(ref);
        return 1;
    }
    int bad = 0;
    size_t n = mono_gguf_n_tensors(ref);
    if (n != mono_gguf_n_tensors(ours)) {
        printf("tensor count: llama.cpp %zu, ours %zu\n", n, mono_gguf_n_tensors(ours));
        bad++;
    }
    for (size_t i = 0; i < n; i++) {
        const mono_tensor *a = mono_gguf_tensor_at(ref, i), *b = mono_gguf_tensor(ours, a->name);
        const mono_type_traits *ta = mono_type_get(a->type);
        if (!b) { printf("%s: missing from ours\n", a->name); bad++; continue; }
        const mono_type_traits *tb = mono_type_get(b->type);
        if (a->type != b->type) {
            printf("%s: type llama.cpp %s, ours %s\n", a->name, ta ? ta->name : "?", tb ? tb->name : "?");
            bad++;
            continue;
        }
        if (a->n_dims != b->n_dims || memcmp(a->ne, b->ne, sizeof a->ne) || a->nbytes != b->nbytes) {
            printf("%s: shape differs\n", a->name);
            bad++;
            continue;
        }
        if (memcmp(a->data, b->data, a->nbytes) != 0) {
            const uint8_t *x = a->data, *y = b->data;
            size_t d = 0;
            while (x[d] == y[d]) d++;
            printf("%s (%s): data differs from byte %zu (block %zu)\n", a->name, ta ? ta->name : "?", d,
                   ta ? d / ta->block_bytes : 0);
            bad++;
        }
    }
    printf("%zu tensors compared, %d differences\n", n, bad);
    mono_gguf_close(ref);
    mono_gguf_close(ours);
    return bad != 0;
}

static int deepen(int n_layer, const char *in, const char *out) {
    mono_gguf *g = NULL;
    mono_error err;
    if (mono_gguf_open(in, &g, &err) != MONO_OK) { printf("%s\n", err.message); return 1; }
    mono_gguf_writer *w = mono_gguf_writer_init();
    mono_gguf_str arch;
    mono_gguf_get_str(g, "general.architecture", &arch, &err);
    char bc_key[96];
    snprintf(bc_key, sizeof bc_key, "%.*s.block_count", (int)arch.len, arch.ptr);
    uint32_t n_in = 0;
    mono_gguf_get_u32(g, bc_key, &n_in, &err);
    mono_status st = MONO_OK;
    for (size_t i = 0; i < mono_gguf_n_kv(g) && st == MONO_OK; i++) {
        const mono_gguf_kv *kv = mono_gguf_kv_at(g, i);
        if (!strcmp(kv->key, bc_key)) st = mono_gguf_writer_add_kv_u32(w, kv->key, (uint32_t)n_layer, &err);
        else if (kv->type == MONO_GGUF_STRING) st = mono_gguf_writer_add_kv_strn(w, kv->key, kv->str.ptr, kv->str.len, &err);
        else if (kv->type == MONO_GGUF_ARRAY) {
            size_t len = 12 + kv->size;
            uint8_t *buf = malloc(len);
            uint32_t at = (uint32_t)kv->arr_type;
            memcpy(buf, &at, 4);
            memcpy(buf + 4, &kv->arr_n, 8);
            memcpy(buf + 12, kv->data, kv->size);
            st = mono_gguf_writer_add_kv_raw(w, kv->key, MONO_GGUF_ARRAY, buf, len, &err);
            free(buf);
        } else st = mono_gguf_writer_add_kv_raw(w, kv->key, kv->type, kv->data, kv->size, &err);
    }
    char name[160];
    for (size_t i = 0; i < mono_gguf_n_tensors(g) && st == MONO_OK; i++) {
        const mono_tensor *t = mono_gguf_tensor_at(g, i);
        int l;
        if (sscanf(t->name, "blk.%d.", &l) != 1) {
            st = mono_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data, t->nbytes, &err);
            continue;
        }
        const char *rest = strchr(t->name + 4, '.') + 1;
        for (int j = l; j < n_layer && st == MONO_OK; j += (int)n_in) {
            snprintf(name, sizeof name, "blk.%d.%s", j, rest);
            st = mono_gguf_writer_add_tensor(w, name, t->type, t->n_dims, t->ne, t->data, t->nbytes, &err);
        }
    }
    if (st == MONO_OK) st = mono_gguf_writer_write_file(w, out, &err);
    if (st != MONO_OK) printf("deepen: %s\n", err.message);
    mono_gguf_writer_free(w);
    mono_gguf_close(g);
    return st != MONO_OK;
}

int main(int argc, char **argv) {
    if (argc == 5 && !strcmp(argv[1], "--layers")) return deepen(atoi(argv[2]), argv[3], argv[4]);
    if (argc != 6) {
        fprintf(stderr, "usage: quantize_vs_llama LIBDIR IN.gguf OURS.gguf FTYPE REF_OUT.gguf\n");
        return 2;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/libllama.v0.5.0.so", argv[1]);
    void *lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    snprintf(path, sizeof path, "%s/libggml.v0.5.0.so", argv[1]);
    void *ggml = lib ? dlopen(path, RTLD_NOW | RTLD_GLOBAL) : NULL;
    if (!lib || !ggml) {
        printf("skip: %s\n", dlerror());
        return 77;
    }
    quant_defaults_fn qdef = (quant_defaults_fn)dlsym(lib, "llama_model_quantize_default_params");
    quantize_fn quantize = (quantize_fn)dlsym(lib, "llama_model_quantize");
    model_defaults_fn mdef = (model_defaults_fn)dlsym(lib, "llama_model_default_params");
    load_fn load = (load_fn)dlsym(lib, "llama_model_load_from_file");
    free_fn model_free = (free_fn)dlsym(lib, "llama_model_free");
    log_set_fn log_set = (log_set_fn)dlsym(lib, "llama_log_set");
    void (*backend_init)(void) = (void (*)(void))dlsym(lib, "llama_backend_init");
    void (*load_all)(const char *) = (void (*)(const char *))dlsym(ggml, "ggml_backend_load_all_from_path");
    if (!qdef || !quantize || !mdef || !load || !model_free || !backend_init || !load_all) {
        printf("skip: libllama lacks an expected symbol\n");
        return 77;
    }
    if (log_set) log_set(quiet, NULL);
    load_all(argv[1]);
    backend_init();

    big_params qp = qdef();
    qp.nthread = 2;
    qp.ftype = atoi(argv[4]);
    if (quantize(argv[2], argv[5], &qp) != 0) {
        printf("llama_model_quantize failed on %s (ftype %d)\n", argv[2], qp.ftype);
        return 1;
    }
    int bad = compare(argv[5], argv[3]);
    void *model = load(argv[3], mdef());
    if (!model) {
        printf("llama.cpp could not load %s\n", argv[3]);
        bad = 1;
    } else {
        printf("llama.cpp loads %s\n", argv[3]);
        model_free(model);
    }
    return bad;
}
