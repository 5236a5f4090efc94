/*
 * test_quant_ggml.c -- bit-exactness of our quantized types against the
 * llama.cpp build that node-llama-cpp ships (libggml-base.so, dlopen'ed).
 *
 * For every block type: ggml's reference quantizer and ours must write the
 * same bytes from the same floats, and both dequantizers must give the same
 * float bits, on quantizer output and on random block bytes (which reach
 * scale/bit patterns a quantizer rarely writes). Skips with a message when
 * the library is absent (set MONO_GGML_LIB to point at another copy).
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels/quant.h"
#include "test.h"

#define GGML_LIB_DEFAULT "tools/peers/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so"

/* ggml.h's struct ggml_type_traits as of ggml 0.5 (llama.cpp b7xxx); the
 * suite checks name/block size/type size before trusting the pointers. */
typedef struct ggml_traits {
    const char *type_name;
    int64_t blck_size;
    int64_t blck_size_interleave;
    size_t type_size;
    bool is_quantized;
    void (*to_float)(const void *x, float *y, int64_t k);
    void (*from_float_ref)(const float *x, void *y, int64_t k);
} ggml_traits;

typedef const ggml_traits *(*get_traits_fn)(int type);
typedef size_t (*quantize_chunk_fn)(int type, const float *src, void *dst, int64_t start,
                                    int64_t nrows, int64_t n_per_row, const float *imatrix);

/* xorshift64* and Box-Muller: deterministic test data without libc rand. */
static uint64_t rng_next(uint64_t *s) {
    *s ^= *s >> 12; *s ^= *s << 25; *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}
static float rng_uniform(uint64_t *s) { return (float)((rng_next(s) >> 40) * (1.0 / 16777216.0)); }
static float rng_gauss(uint64_t *s) {
    float u = rng_uniform(s) + 1e-7f, v = rng_uniform(s);
    return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}

/* Fills x with one of several weight-like distributions (kind 0..7). */
static void fill_floats(float *x, int64_t n, int kind, uint64_t *s) {
    for (int64_t i = 0; i < n; i++) {
        float g = rng_gauss(s);
        switch (kind) {
        case 0: x[i] = 0.02f * g; break;                                /* typical weights */
        case 1: x[i] = rng_uniform(s) * 2 - 1; break;                   /* uniform */
        case 2: x[i] = (rng_next(s) % 97 == 0) ? 40 * g : 0.01f * g; break; /* outliers */
        case 3: x[i] = 0.5f + 0.01f * g; break;                         /* all positive */
        case 4: x[i] = (i / 32) % 3 == 0 ? 0.0f : g; break;             /* zero blocks */
        case 5: x[i] = 1e-6f * g; break;                                /* tiny: half subnormals */
        case 6: x[i] = (float)((int)(g * 4)) * 0.25f; break;            /* few distinct values */
        default: x[i] = (i / 256) % 2 ? 3.0f : -1000.0f * g; break;     /* constant / large */
        }
    }
}

/* Random block bytes whose half-precision fields are finite (NaN/inf scales
 * would make "same bits" meaningless). */
static void fill_random_blocks(int type, uint8_t *dst, size_t bytes, uint64_t *s) {
    for (size_t i = 0; i < bytes; i++) dst[i] = (uint8_t)rng_next(s);
    const mono_type_traits *tr = mono_type_get(type);
    size_t bb = tr->block_bytes, nb = bytes / bb;
    for (size_t b = 0; b < nb; b++) {
        uint8_t *blk = dst + b * bb;
        uint16_t *halves[2] = {NULL, NULL};
        switch (type) {
        case MONO_TYPE_Q2_K: halves[0] = (uint16_t *)(blk + 80); halves[1] = (uint16_t *)(blk + 82); break;
        case MONO_TYPE_Q3_K: halves[0] = (uint16_t *)(blk + 108); break;
        case MONO_TYPE_Q6_K: halves[0] = (uint16_t *)(blk + 208); break;
        case MONO_TYPE_Q8_K: { float d = rng_gauss(s); memcpy(blk, &d, 4); break; }
        case MONO_TYPE_Q4_1: case MONO_TYPE_Q5_1: case MONO_TYPE_Q8_1:
        case MONO_TYPE_Q4_K: case MONO_TYPE_Q5_K:
            halves[0] = (uint16_t *)blk; halves[1] = (uint16_t *)(blk + 2); break;
        default: halves[0] = (uint16_t *)blk; break;
        }
        for (int h = 0; h < 2; h++) {
            if (!halves[h]) continue;
            uint16_t v;
            memcpy(&v, halves[h], 2);
            v &= 0xBFFF; /* exponent < 16: finite, |x| < 2 */
            memcpy(halves[h], &v, 2);
        }
    }
}

static const int all_types[] = {MONO_TYPE_Q4_0, MONO_TYPE_Q4_1, MONO_TYPE_Q5_0, MONO_TYPE_Q5_1,
                                MONO_TYPE_Q8_0, MONO_TYPE_Q8_1, MONO_TYPE_Q2_K, MONO_TYPE_Q3_K,
                                MONO_TYPE_Q4_K, MONO_TYPE_Q5_K, MONO_TYPE_Q6_K, MONO_TYPE_Q8_K};

static int first_diff(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return (int)i;
    return -1;
}

static void check_type(mt_ctx *t, void *lib, get_traits_fn get_traits, quantize_chunk_fn chunk, int type) {
    const mono_type_traits *ours = mono_type_get(type);
    const ggml_traits *theirs_table = get_traits(type), *theirs = theirs_table;
    ggml_traits patched;
    if (theirs && (!theirs->to_float || !theirs->from_float_ref)) {
        /* Q8_1/Q8_K have no table entries in ggml-base: use the exported row functions */
        char name[64];
        patched = *theirs;
        snprintf(name, sizeof name, "dequantize_row_%s", ours ? ours->name : "");
        if (!patched.to_float) *(void **)&patched.to_float = dlsym(lib, name);
        snprintf(name, sizeof name, "quantize_row_%s_ref", ours ? ours->name : "");
        if (!patched.from_float_ref) *(void **)&patched.from_float_ref = dlsym(lib, name);
        theirs = &patched;
    }
    if (!MT_CHECK_MSG(t, ours && theirs && theirs->type_name && strcmp(theirs->type_name, ours->name) == 0 &&
                             theirs->blck_size == ours->block_size && theirs->type_size == ours->block_bytes,
                      "type %d: traits disagree (%s)", type, theirs && theirs->type_name ? theirs->type_name : "?"))
        return;
    const int64_t n = 256 * 24; /* 24 K-blocks, 192 legacy blocks */
    const size_t bytes = mono_type_row_bytes(type, n);
    float *x = malloc(n * sizeof *x), *ya = malloc(n * sizeof *ya), *yb = malloc(n * sizeof *yb);
    uint8_t *qa = calloc(1, bytes), *qb = calloc(1, bytes);
    uint64_t s = 0x9E3779B97F4A7C15ull ^ (uint64_t)type;
    int quant_bad = 0, deq_bad = 0, chunk_bad = 0;
    for (int kind = 0; kind < 8; kind++) {
        fill_floats(x, n, kind, &s);
        if (theirs->from_float_ref) {
            memset(qa, 0, bytes);
            memset(qb, 0, bytes);
            theirs->from_float_ref(x, qa, n);
            ours->from_float(x, qb, n);
            int d = first_diff(qa, qb, bytes);
            if (d >= 0 && quant_bad++ == 0)
                fprintf(stderr, "    %s: quantization differs (data kind %d) at byte %d (block %d): ggml %02x ours %02x\n",
                        ours->name, kind, d, d / (int)ours->block_bytes, qa[d], qb[d]);
        }
        if (chunk && type != MONO_TYPE_Q8_1 && type != MONO_TYPE_Q8_K) {
            /* what llama_model_quantize calls (no importance matrix): 8 rows */
            memset(qa, 0, bytes);
            chunk(type, x, qa, 0, 8, n / 8, NULL);
            ours->from_float(x, qb, n);
            if (first_diff(qa, qb, bytes) >= 0) chunk_bad++;
        }
        if (theirs->to_float) {
            theirs->to_float(qb, ya, n);
            ours->to_float(qb, yb, n);
            if (first_diff(ya, yb, n * sizeof(float)) >= 0) deq_bad++;
        }
    }
    for (int round = 0; round < 4 && theirs->to_float; round++) {
        fill_random_blocks(type, qa, bytes, &s);
        theirs->to_float(qa, ya, n);
        ours->to_float(qa, yb, n);
        int d = first_diff(ya, yb, n * sizeof(float));
        if (d >= 0 && deq_bad++ == 0)
            fprintf(stderr, "    %s: dequantization differs at element %d: ggml %.9g ours %.9g\n",
                    ours->name, d / 4, ya[d / 4], yb[d / 4]);
    }
    MT_CHECK_MSG(t, quant_bad == 0, "%s: %d of 8 data sets quantize differently from ggml", ours->name, quant_bad);
    MT_CHECK_MSG(t, chunk_bad == 0, "%s: ggml_quantize_chunk differs on %d data sets", ours->name, chunk_bad);
    MT_CHECK_MSG(t, deq_bad == 0, "%s: dequantization differs from ggml on %d data sets", ours->name, deq_bad);
    if (t->verbose)
        fprintf(stderr, "    %s: quantize %s, dequantize %s\n", ours->name,
                theirs->from_float_ref ? "byte-exact" : "(ggml has none)",
                theirs->to_float ? "bit-exact" : "(ggml has none)");
    free(x); free(ya); free(yb); free(qa); free(qb);
}

void suite_quant_ggml(mt_ctx *t) {
    const char *path = getenv("MONO_GGML_LIB");
    if (!path || !*path) path = GGML_LIB_DEFAULT;
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        char why[600];
        snprintf(why, sizeof why, "llama.cpp's libggml-base.so not found (%s): run scripts/setup.sh", dlerror());
        mt_skip(t, why);
        return;
    }
    get_traits_fn get_traits = (get_traits_fn)dlsym(lib, "ggml_get_type_traits");
    quantize_chunk_fn chunk = (quantize_chunk_fn)dlsym(lib, "ggml_quantize_chunk");
    if (MT_CHECK_MSG(t, get_traits != NULL, "ggml_get_type_traits missing from %s", path)) {
        for (size_t i = 0; i < sizeof all_types / sizeof all_types[0]; i++)
            check_type(t, lib, get_traits, chunk, all_types[i]);
    }
    dlclose(lib);
}
