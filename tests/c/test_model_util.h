/*
 * test_model_util.h -- shared by the model test suites: reading a golden
 * model folder's expected.safetensors / expected.json (made by Hugging Face
 * transformers, see shared/golden/README.md) and comparing logits.
 *
 * Header-only (static functions) so each suite stays one file.
 */
#ifndef MONO_TEST_MODEL_UTIL_H
#define MONO_TEST_MODEL_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/json.h"
#include "formats/safetensors.h"
#include "monologue.h"
#include "test.h"

typedef struct golden {
    char dir[512];
    mono_safetensors *st;
    int n_tokens, n_vocab, n_embd, n_hidden;  /* n_hidden: hidden_0 .. hidden_{n_hidden-1} */
    int32_t *input_ids;                       /* [n_tokens] */
    const float *logits;                      /* [n_tokens, n_vocab], in the mapped file */
    int32_t prompt[256], greedy[256];
    int n_prompt, n_greedy;
} golden;

static inline int golden_ids(const mono_json *root, const char *key, int32_t *out, int cap) {
    const mono_json *a = mono_json_get_typed(root, key, MONO_JSON_ARRAY);
    if (!a || (int)a->len > cap) return -1;
    for (uint32_t i = 0; i < a->len; i++) {
        int64_t v;
        if (!mono_json_as_int64(&a->u.items[i], &v)) return -1;
        out[i] = (int32_t)v;
    }
    return (int)a->len;
}

/* Opens shared/golden/models/<name>; 0 (and a skip) when absent. */
static inline int golden_open(mt_ctx *t, golden *g, const char *name) {
    memset(g, 0, sizeof *g);
    char rel[256], path[700];
    snprintf(rel, sizeof rel, "golden/models/%s", name);
    mt_shared_path(g->dir, sizeof g->dir, rel);
    snprintf(path, sizeof path, "%s/expected.safetensors", g->dir);
    mono_error err;
    if (mono_safetensors_open(path, &g->st, &err) != MONO_OK) {
        mt_skip(t, err.message);
        return 0;
    }
    const mono_tensor *ids = mono_safetensors_tensor(g->st, "input_ids");
    const mono_tensor *lg = mono_safetensors_tensor(g->st, "logits");
    if (!MT_CHECK(t, ids && lg && ids->type == MONO_ST_I32 && lg->type == MONO_TYPE_F32)) return 0;
    g->n_tokens = (int)ids->ne[0];
    g->n_vocab = (int)lg->ne[0];
    g->input_ids = malloc(sizeof(int32_t) * (size_t)g->n_tokens);
    memcpy(g->input_ids, ids->data, sizeof(int32_t) * (size_t)g->n_tokens);
    g->logits = lg->data;
    for (;; g->n_hidden++) {
        char hn[32];
        snprintf(hn, sizeof hn, "hidden_%d", g->n_hidden);
        const mono_tensor *h = mono_safetensors_tensor(g->st, hn);
        if (!h) break;
        g->n_embd = (int)h->ne[0];
    }
    snprintf(path, sizeof path, "%s/expected.json", g->dir);
    char *text;
    size_t len;
    mono_json_doc *doc;
    if (!MT_CHECK(t, mono_file_read_text(path, &text, &len, &err) == MONO_OK)) return 0;
    int ok = MT_CHECK(t, mono_json_parse(text, len, &doc, &err) == MONO_OK);
    free(text);
    if (!ok) return 0;
    g->n_prompt = golden_ids(mono_json_root(doc), "prompt_ids", g->prompt, 256);
    g->n_greedy = golden_ids(mono_json_root(doc), "greedy_ids", g->greedy, 256);
    mono_json_doc_free(doc);
    return MT_CHECK(t, g->n_prompt > 0 && g->n_greedy > 0);
}

static inline void golden_close(golden *g) {
    free(g->input_ids);
    mono_safetensors_close(g->st);
}

static inline const float *golden_hidden(const golden *g, int i) {
    char hn[32];
    snprintf(hn, sizeof hn, "hidden_%d", i);
    const mono_tensor *h = mono_safetensors_tensor(g->st, hn);
    return h ? h->data : NULL;
}

static inline float max_abs(const float *x, size_t n) {
    float m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) > m) m = fabsf(x[i]);
    return m;
}

static inline int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

/* Largest |a - b| over n values, relative to the largest |b| (b is the
 * reference). NaN anywhere counts as infinitely wrong. */
static inline double rel_err(const float *a, const float *b, size_t n) {
    double worst = 0, scale = max_abs(b, n);
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d == d)) return INFINITY;
        if (d > worst) worst = d;
    }
    return scale > 0 ? worst / scale : worst;
}

/* A progress callback that records the calls, checks the fractions rise
 * within [0, 1], and cancels at call cancel_at (0: never). */
typedef struct progress_log {
    int calls, cancel_at;
    float last;
    int monotonic;
} progress_log;

static inline int on_progress(float f, void *user) {
    progress_log *p = user;
    if (f < p->last || f < 0 || f > 1) p->monotonic = 0;
    p->last = f;
    p->calls++;
    return p->cancel_at > 0 && p->calls >= p->cancel_at;
}

#endif
