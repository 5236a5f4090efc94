/*
 * wasm_api.c -- flat entry points for JavaScript (the browser build,
 * build/emscripten/monologue_lib.js): only pointers and numbers cross the
 * boundary, no structs, so the glue needs no layout knowledge. Errors come
 * back as a NULL/negative result with the message written to a caller's
 * buffer (errbuf, errcap bytes, NUL-terminated).
 *
 *   const M = createMonologue();                 // -sMODULARIZE, -sSINGLE_FILE
 *   const p = M._malloc(bytes.length); M.HEAPU8.set(bytes, p);
 *   const model = M._monow_model_load(p, bytes.length, err, 512);
 *   const ctx = M._monow_context_init(model, 2048, 0, err, 512);
 *   const logits = M._monow_context_eval(ctx, ids, n, 0, err, 512);  // HEAPF32[logits >> 2 ...]
 *
 * The model bytes must stay allocated while the model lives (weights are
 * used in place).
 */
#include <emscripten.h>
#include <stdio.h>
#include <string.h>

#include "monologue.h"

static void put_error(char *errbuf, size_t errcap, const mono_error *err) {
    if (errbuf && errcap) snprintf(errbuf, errcap, "%s", err->message);
}

EMSCRIPTEN_KEEPALIVE mono_model *monow_model_load(const void *data, size_t size, char *errbuf, size_t errcap) {
    mono_model *m = NULL;
    mono_error err;
    if (mono_model_load_from_memory(data, size, NULL, &m, &err) != MONO_OK) {
        put_error(errbuf, errcap, &err);
        return NULL;
    }
    return m;
}

EMSCRIPTEN_KEEPALIVE void monow_model_free(mono_model *m) { mono_model_free(m); }

EMSCRIPTEN_KEEPALIVE int monow_model_n_vocab(const mono_model *m) {
    mono_model_info info;
    mono_model_info_get(m, &info);
    return info.n_vocab;
}

/* The model's stop tokens into ids[0..cap); returns how many there are. */
EMSCRIPTEN_KEEPALIVE int monow_model_eos_ids(const mono_model *m, int32_t *ids, int cap) {
    mono_model_info info;
    mono_model_info_get(m, &info);
    for (int i = 0; i < info.n_eos && i < cap; i++) ids[i] = info.eos_ids[i];
    return info.n_eos;
}

EMSCRIPTEN_KEEPALIVE mono_context *monow_context_init(const mono_model *m, int n_ctx, int kv_f16, char *errbuf,
                                                      size_t errcap) {
    mono_context_params cp = mono_context_params_default();
    cp.n_ctx = n_ctx;
    cp.n_threads = 1;
    cp.kv_type = kv_f16 ? MONO_KV_F16 : MONO_KV_F32;
    mono_context *ctx = NULL;
    mono_error err;
    if (mono_context_init(m, &cp, &ctx, &err) != MONO_OK) {
        put_error(errbuf, errcap, &err);
        return NULL;
    }
    return ctx;
}

EMSCRIPTEN_KEEPALIVE void monow_context_free(mono_context *ctx) { mono_context_free(ctx); }

/* Logits ([n, n_vocab] if all, else [n_vocab]) or NULL on error. */
EMSCRIPTEN_KEEPALIVE const float *monow_context_eval(mono_context *ctx, const int32_t *ids, int n, int all,
                                                     char *errbuf, size_t errcap) {
    const float *logits = NULL;
    mono_error err;
    if (mono_context_eval(ctx, ids, n, all, &logits, &err) != MONO_OK) {
        put_error(errbuf, errcap, &err);
        return NULL;
    }
    return logits;
}

EMSCRIPTEN_KEEPALIVE int monow_context_n_past(const mono_context *ctx) { return mono_context_n_past(ctx); }

EMSCRIPTEN_KEEPALIVE int monow_context_truncate(mono_context *ctx, int n) {
    return mono_context_truncate(ctx, n, NULL) == MONO_OK ? 0 : -1;
}

/* Encodes text[0..len) with the model's tokenizer into ids[0..cap);
 * returns the number of ids (which may exceed cap: call again with more
 * room), or -1 with a message. */
EMSCRIPTEN_KEEPALIVE int monow_encode(const mono_model *m, const char *text, size_t len, int32_t *ids, int cap,
                                      char *errbuf, size_t errcap) {
    const mono_tokenizer *tok = mono_model_tokenizer(m);
    if (!tok) {
        if (errbuf && errcap) snprintf(errbuf, errcap, "the model has no tokenizer");
        return -1;
    }
    int32_t *out = NULL;
    size_t n = 0;
    mono_error err;
    if (mono_tokenizer_encode(tok, text, len, 0, &out, &n, &err) != MONO_OK) {
        put_error(errbuf, errcap, &err);
        return -1;
    }
    for (size_t i = 0; i < n && i < (size_t)cap; i++) ids[i] = out[i];
    mono_free(out);
    return (int)n;
}

/* Decodes ids into text[0..cap) (NUL-terminated, truncated to fit); returns
 * the full length in bytes or -1 with a message. */
EMSCRIPTEN_KEEPALIVE int monow_decode(const mono_model *m, const int32_t *ids, int n, char *text, size_t cap,
                                      char *errbuf, size_t errcap) {
    const mono_tokenizer *tok = mono_model_tokenizer(m);
    if (!tok) {
        if (errbuf && errcap) snprintf(errbuf, errcap, "the model has no tokenizer");
        return -1;
    }
    char *out = NULL;
    size_t len = 0;
    mono_error err;
    if (mono_tokenizer_decode(tok, ids, (size_t)n, &out, &len, &err) != MONO_OK) {
        put_error(errbuf, errcap, &err);
        return -1;
    }
    if (cap) {
        size_t k = len < cap - 1 ? len : cap - 1;
        memcpy(text, out, k);
        text[k] = '\0';
    }
    mono_free(out);
    return (int)len;
}
