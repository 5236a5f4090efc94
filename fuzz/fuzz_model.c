/*
 * fuzz_model.c -- libFuzzer target: a GGUF image loaded as a model
 * (mono_model_load_from_memory: architecture row, hyper-parameter checks,
 * weight binding by role and shape), then, when it loads, a context that
 * runs a few tokens through the forward pass, rewinds and runs again.
 * Seeds: fuzz/corpus/model/ (fuzz/make_model_seeds.py).
 */
#include <stddef.h>
#include <stdint.h>

#include "monologue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mono_model *m = NULL;
    mono_error err;
    if (mono_model_load_from_memory(data, size, NULL, &m, &err) != MONO_OK) return 0;
    mono_model_info info;
    mono_model_info_get(m, &info);
    mono_context_params cp = mono_context_params_default();
    cp.n_ctx = 8;
    cp.n_batch = 2;
    cp.n_threads = 1;
    cp.kv_type = size & 1 ? MONO_KV_F16 : MONO_KV_F32;
    mono_context *ctx = NULL;
    if (mono_context_init(m, &cp, &ctx, &err) == MONO_OK) {
        int32_t ids[3] = {0, info.n_vocab - 1, info.n_vocab / 2};
        const float *lg;
        mono_context_eval(ctx, ids, 3, 1, &lg, &err);
        mono_context_eval(ctx, ids + 1, 1, 0, &lg, &err);
        mono_context_truncate(ctx, 1, &err);
        mono_context_eval(ctx, ids, 2, 0, &lg, &err);
        mono_context_eval(ctx, ids, 8, 0, &lg, &err); /* refused: does not fit */
        mono_context_free(ctx);
    }
    mono_model_free(m);
    return 0;
}
