/*
 * test_model_api.c -- the model and context API around the forward pass:
 * loading from a GGUF image in memory (the golden model re-packed with the
 * project's GGUF writer must give the same logits), progress and cancel,
 * repacked weights give the file layout's logits (more on loading in
 * test_model_load.c), refusals (missing file, unknown or untested architecture, wrong shapes),
 * and the context's bookkeeping (range and id errors leave it unchanged,
 * truncate/rewind, reset, independent contexts on one model, stats).
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "model/model.h"

#include "formats/gguf_write.h"
#include "formats/model_file.h"
#include "kernels/types.h"
#include "model/kv_cache.h"
#include "test_model_util.h"

/* ---- a GGUF image of a golden model ----------------------------------- */

typedef struct gguf_opts {
    const char *arch;            /* general.architecture to write */
    const char *skip_tensor;     /* leave this tensor out */
    const char *bad_shape;       /* write this tensor with its two dims swapped */
    /* 2-D F32 tensors whose name ends with requant[i].suffix are stored as
     * requant[i].type; with roundtrip, as F32 again after that rounding */
    struct { const char *suffix; int type; } requant[4];
    int roundtrip;
} gguf_opts;

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* Re-types an F32 matrix: *data/nbytes/type become the rounded copy (owned
 * by *keep, freed by the caller). 0 when the tensor is left as it is. */
static int requant(const gguf_opts *o, const mono_tensor *x, const void **data, size_t *nbytes, int *type, void **keep) {
    if (x->type != MONO_TYPE_F32 || x->n_dims != 2) return 0;
    for (int i = 0; i < 4 && o->requant[i].suffix; i++) {
        if (!ends_with(x->name, o->requant[i].suffix)) continue;
        const mono_type_traits *tr = mono_type_get(o->requant[i].type);
        size_t row = mono_type_row_bytes(o->requant[i].type, x->ne[0]);
        uint8_t *q = malloc(row * (size_t)x->ne[1]);
        float *back = malloc(sizeof(float) * (size_t)(x->ne[0] * x->ne[1]));
        for (int64_t r = 0; r < x->ne[1]; r++) {
            tr->from_float((const float *)x->data + r * x->ne[0], q + r * row, x->ne[0]);
            tr->to_float(q + r * row, back + r * x->ne[0], x->ne[0]);
        }
        if (o->roundtrip) {
            free(q);
            *keep = back;
            *data = back;
            *nbytes = sizeof(float) * (size_t)(x->ne[0] * x->ne[1]);
        } else {
            free(back);
            *keep = q;
            *data = q;
            *nbytes = row * (size_t)x->ne[1];
            *type = o->requant[i].type;
        }
        return 1;
    }
    return 0;
}

/* Re-packs the model in dir as a GGUF file image (mono_free it). */
static int gguf_image(mt_ctx *t, const char *dir, const gguf_opts *o, uint8_t **img, size_t *size) {
    mono_error err;
    mono_model_file *mf;
    if (!MT_CHECK_MSG(t, mono_model_file_open(dir, &mf, &err) == MONO_OK, "%s", err.message)) return 0;
    const mono_hparams *hp = mono_model_file_hparams(mf);
    mono_gguf_writer *w = mono_gguf_writer_init();
    char key[96];
    int ok = 1;
    void *keep[64];
    int n_keep = 0;
#define KEY(s) (snprintf(key, sizeof key, "%s.%s", o->arch, s), key)
    ok &= mono_gguf_writer_add_kv_str(w, "general.architecture", o->arch, &err) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_u32(w, KEY("block_count"), (uint32_t)hp->n_layer, &err) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_u32(w, KEY("embedding_length"), (uint32_t)hp->n_embd, &err) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_u32(w, KEY("feed_forward_length"), (uint32_t)hp->n_ff, &err) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_u32(w, KEY("attention.head_count"), (uint32_t)hp->n_head, &err) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_u32(w, KEY("attention.head_count_kv"), (uint32_t)hp->n_head_kv, &err) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_u32(w, KEY("context_length"), (uint32_t)hp->n_ctx_train, &err) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_f32(w, KEY("rope.freq_base"), hp->rope_theta, &err) == MONO_OK;
    ok &= mono_gguf_writer_add_kv_f32(w, KEY("attention.layer_norm_rms_epsilon"), hp->rms_eps, &err) == MONO_OK;
#undef KEY
    for (size_t i = 0; ok && i < mono_model_file_n_tensors(mf); i++) {
        const mono_tensor *x = mono_model_file_tensor_at(mf, i);
        if (o->skip_tensor && !strcmp(x->name, o->skip_tensor)) continue;
        int64_t ne[MONO_MAX_DIMS];
        memcpy(ne, x->ne, sizeof ne);
        if (o->bad_shape && !strcmp(x->name, o->bad_shape)) {
            int64_t tmp = ne[0];
            ne[0] = ne[1];
            ne[1] = tmp;
        }
        const void *data = x->data;
        size_t nbytes = x->nbytes;
        int type = x->type;
        if (requant(o, x, &data, &nbytes, &type, &keep[n_keep])) n_keep++;
        ok &= mono_gguf_writer_add_tensor(w, x->name, type, x->n_dims, ne, data, nbytes, &err) == MONO_OK;
    }
    if (ok) ok = mono_gguf_writer_write_memory(w, img, size, &err) == MONO_OK;
    MT_CHECK_MSG(t, ok, "writing the GGUF image: %s", err.message);
    mono_gguf_writer_free(w);
    for (int i = 0; i < n_keep; i++) free(keep[i]);
    mono_model_file_close(mf);
    return ok;
}

/* ---- loading ------------------------------------------------------------- */

static void test_gguf_in_memory(mt_ctx *t, const golden *g) {
    uint8_t *img;
    size_t size;
    gguf_opts o = {"qwen2", NULL, NULL, {{0}}, 0};
    if (!gguf_image(t, g->dir, &o, &img, &size)) return;
    mono_model *m = NULL;
    mono_error err;
    progress_log pl = {0, 0, 0, 1};
    mono_model_params mp = mono_model_params_default();
    mp.progress = on_progress;
    mp.progress_user_data = &pl;
    if (MT_CHECK_MSG(t, mono_model_load_from_memory(img, size, &mp, &m, &err) == MONO_OK, "%s", err.message)) {
        MT_CHECK(t, pl.calls >= 2 && pl.monotonic && pl.last == 1.0f);
        mono_context *ctx;
        const float *lg;
        MT_CHECK(t, mono_context_init(m, NULL, &ctx, &err) == MONO_OK);
        if (MT_CHECK(t, mono_context_eval(ctx, g->input_ids, g->n_tokens, 1, &lg, &err) == MONO_OK)) {
            double e = rel_err(lg, g->logits, (size_t)g->n_tokens * g->n_vocab);
            MT_CHECK_MSG(t, e <= 1e-4, "GGUF image: relative logit error %.3g", e);
        }
        mono_context_free(ctx);
        mono_model_free(m);
    }
    /* cancelled half-way: no model, a clear status */
    pl = (progress_log){0, 2, 0, 1};
    m = (mono_model *)&pl;
    MT_CHECK_EQ_INT(t, mono_model_load_from_memory(img, size, &mp, &m, &err), MONO_ERR_CANCELLED);
    MT_CHECK(t, m == NULL && strstr(err.message, "cancel"));
    /* truncated image */
    MT_CHECK(t, mono_model_load_from_memory(img, size / 2, NULL, &m, &err) != MONO_OK && m == NULL);
    mono_free(img);
}

/* Logits of the golden input through the model re-packed with o: loaded
 * from memory, or (path set) from that file with params mp, where
 * *n_packed (if given) receives how many matrices were repacked at load. */
static float *eval_model(mt_ctx *t, const golden *g, const gguf_opts *o, int by_token, const char *path,
                         const mono_model_params *mp, int *n_packed) {
    uint8_t *img;
    size_t size;
    if (!gguf_image(t, g->dir, o, &img, &size)) return NULL;
    mono_model *m = NULL;
    mono_error err;
    mono_context *ctx = NULL;
    float *out = NULL;
    mono_status s;
    if (path) {
        FILE *f = fopen(path, "wb");
        int ok = f && fwrite(img, 1, size, f) == size;
        if (f) ok &= fclose(f) == 0;
        if (!MT_CHECK_MSG(t, ok, "cannot write %s", path)) { mono_free(img); return NULL; }
        s = mono_model_load(path, mp, &m, &err);
    } else {
        s = mono_model_load_from_memory(img, size, mp, &m, &err);
    }
    if (n_packed) *n_packed = m ? m->n_packed : 0;
    if (MT_CHECK_MSG(t, s == MONO_OK, "%s", err.message) &&
        MT_CHECK(t, mono_context_init(m, NULL, &ctx, &err) == MONO_OK)) {
        size_t V = (size_t)g->n_vocab, T = (size_t)g->n_tokens;
        out = malloc(sizeof(float) * T * V);
        const float *lg;
        int ok = 1;
        if (by_token) {
            for (size_t i = 0; i < T && ok; i++)
                if ((ok = mono_context_eval(ctx, &g->input_ids[i], 1, 0, &lg, &err) == MONO_OK))
                    memcpy(out + i * V, lg, sizeof(float) * V);
        } else if ((ok = mono_context_eval(ctx, g->input_ids, (int)T, 1, &lg, &err) == MONO_OK)) {
            memcpy(out, lg, sizeof(float) * T * V);
        }
        if (!MT_CHECK_MSG(t, ok, "%s", err.message)) { free(out); out = NULL; }
    }
    mono_context_free(ctx);
    mono_model_free(m);
    mono_free(img);
    return out;
}

static float *eval_image(mt_ctx *t, const golden *g, const gguf_opts *o, int by_token) {
    return eval_model(t, g, o, by_token, NULL, NULL, NULL);
}

/* Load-time repacking (AVX-512 VNNI: Q4_0, Q5_0, Q8_0, ... here) must not
 * change results: decode reads the repacked copy, prefill rows unpacked from
 * it, the tied output is repacked while the embedding lookup keeps reading
 * the file (whose pages were released). Integer block sums are exact in
 * both layouts, so only float summation order differs. */
static void test_repacked(mt_ctx *t, const golden *g) {
    gguf_opts o = {"qwen2", NULL, NULL,
                   {{"attn_q.weight", MONO_TYPE_Q8_0}, {"attn_k.weight", MONO_TYPE_Q4_0},
                    {"ffn_gate.weight", MONO_TYPE_Q5_0}, {"token_embd.weight", MONO_TYPE_Q8_0}}, 0};
    char path[] = "/tmp/mono_repack_XXXXXX";
    int fd = mkstemp(path);
    if (!MT_CHECK(t, fd >= 0)) return;
    close(fd);
    mono_model_params plain = mono_model_params_default(), packed = plain, packed2 = plain;
    plain.no_repack = 1;
    packed.n_threads = 1;
    packed2.n_threads = 2;
    int n_plain = -1, n_packed = -1, n_mem = -1;
    for (int by_token = 0; by_token <= 1; by_token++) {
        float *a = eval_model(t, g, &o, by_token, path, &plain, &n_plain);
        float *b = eval_model(t, g, &o, by_token, path, &packed, &n_packed);
        float *c = eval_model(t, g, &o, by_token, NULL, &packed, &n_mem);
        float *b2 = eval_model(t, g, &o, by_token, path, &packed2, NULL);
        if (a && b && c && b2) {
            size_t n = (size_t)g->n_tokens * g->n_vocab;
            MT_CHECK_MSG(t, !memcmp(b, b2, sizeof(float) * n), "repacked on 1 and 2 threads: logits differ (%s)",
                         by_token ? "token by token" : "batch");
            double e = rel_err(b, a, n), e2 = rel_err(c, a, n);
            MT_CHECK_MSG(t, e <= 1e-5, "repacked vs file layout (%s): relative error %.3g", by_token ? "token by token" : "batch", e);
            MT_CHECK_MSG(t, e2 == 0, "model in memory (never repacked) vs file layout: relative error %.3g", e2);
        }
        free(a), free(b), free(c), free(b2);
    }
    MT_CHECK_EQ_INT(t, n_plain, 0);
    MT_CHECK_EQ_INT(t, n_mem, 0);
    mono_kernels k;
    mono_kernels_init(&k);
    mono_model_file *mf = NULL;
    mono_error err;
    int n_layer = mono_model_file_open(g->dir, &mf, &err) == MONO_OK ? mono_model_file_hparams(mf)->n_layer : -1;
    mono_model_file_close(mf);
    if (k.repack[MONO_TYPE_Q8_0]) /* per layer q, k, gate, and the tied output */
        MT_CHECK_MSG(t, n_packed == 3 * n_layer + 1, "%d matrices repacked, want %d", n_packed, 3 * n_layer + 1);
    else
        MT_CHECK_EQ_INT(t, n_packed, 0);
    remove(path);
}

/* q, k and v (and gate, up) run as one group whose members need different
 * activation formats (Q8_0 for q8_0, Q8_1 for q4_1, plain f32): each must
 * get its own conversion. Reference: the same rounded weights stored as F32
 * (so only the 8-bit activation rounding differs: ~1e-2 here, where a
 * conversion given to the wrong matrix is O(1)), batch and token by token
 * (gemm and vec_dot round differently, so the 8-bit roundings differ too). */
static void test_mixed_group(mt_ctx *t, const golden *g) {
    gguf_opts o = {"qwen2", NULL, NULL,
                   {{"attn_q.weight", MONO_TYPE_Q8_0}, {"attn_k.weight", MONO_TYPE_Q4_1},
                    {"ffn_gate.weight", MONO_TYPE_Q4_0}, {"ffn_up.weight", MONO_TYPE_Q5_1}}, 0};
    float *mixed = eval_image(t, g, &o, 0);
    float *mixed_tok = eval_image(t, g, &o, 1);
    o.roundtrip = 1;
    float *ref = eval_image(t, g, &o, 0);
    if (mixed && mixed_tok && ref) {
        size_t n = (size_t)g->n_tokens * g->n_vocab;
        double e = rel_err(mixed, ref, n), e2 = rel_err(mixed_tok, mixed, n);
        MT_CHECK_MSG(t, e <= 2e-2, "mixed-type q/k/v group vs rounded F32 weights: relative error %.3g", e);
        MT_CHECK_MSG(t, e2 <= 2e-2, "mixed-type group, token by token vs batch: relative error %.3g", e2);
        if (t->verbose) fprintf(stderr, "    mixed group: %.3g vs rounded f32, %.3g token vs batch\n", e, e2);
    }
    free(mixed);
    free(mixed_tok);
    free(ref);
}

static void expect_refusal(mt_ctx *t, const golden *g, gguf_opts o, mono_status want, const char *words) {
    uint8_t *img;
    size_t size;
    if (!gguf_image(t, g->dir, &o, &img, &size)) return;
    mono_model *m = NULL;
    mono_error err = {0};
    mono_status s = mono_model_load_from_memory(img, size, NULL, &m, &err);
    MT_CHECK_MSG(t, s == want && m == NULL, "status %d (%s), expected %d", (int)s, err.message, (int)want);
    MT_CHECK_MSG(t, strstr(err.message, words) != NULL, "message '%s' lacks '%s'", err.message, words);
    mono_model_free(m);
    mono_free(img);
}

static void test_refusals(mt_ctx *t, const golden *g) {
    mono_model *m = (mono_model *)g;
    mono_error err;
    MT_CHECK_EQ_INT(t, mono_model_load("/nonexistent/model.gguf", NULL, &m, &err), MONO_ERR_IO);
    MT_CHECK(t, m == NULL && strstr(err.message, "/nonexistent/model.gguf"));
    MT_CHECK_EQ_INT(t, mono_model_load(NULL, NULL, &m, &err), MONO_ERR_INVALID_ARG);
    MT_CHECK_EQ_INT(t, mono_model_load(g->dir, NULL, NULL, &err), MONO_ERR_INVALID_ARG);
    expect_refusal(t, g, (gguf_opts){"llama", NULL, NULL, {{0}}, 0}, MONO_ERR_UNSUPPORTED, "unsupported architecture");
    expect_refusal(t, g, (gguf_opts){"gpt2", NULL, NULL, {{0}}, 0}, MONO_ERR_UNSUPPORTED, "unsupported architecture");
    expect_refusal(t, g, (gguf_opts){"qwen2", "blk.1.ffn_up.weight", NULL, {{0}}, 0}, MONO_ERR_FORMAT, "blk.1.ffn_up.weight");
    expect_refusal(t, g, (gguf_opts){"qwen2", "blk.0.attn_k.bias", NULL, {{0}}, 0}, MONO_ERR_FORMAT, "blk.0.attn_k.bias");
    expect_refusal(t, g, (gguf_opts){"qwen2", NULL, "blk.0.ffn_down.weight", {{0}}, 0}, MONO_ERR_FORMAT, "blk.0.ffn_down.weight");
}

/* ---- contexts ------------------------------------------------------------ */

static void test_context_errors(mt_ctx *t, const mono_model *m, const golden *g) {
    mono_context_params cp = mono_context_params_default();
    cp.n_ctx = 16;
    cp.n_threads = 2;
    mono_context *ctx;
    mono_error err;
    if (!MT_CHECK(t, mono_context_init(m, &cp, &ctx, &err) == MONO_OK)) return;
    MT_CHECK_EQ_INT(t, mono_context_n_ctx(ctx), 16);
    MT_CHECK(t, mono_context_logits(ctx) == NULL);
    const float *lg = (const float *)ctx;
    /* longer than the context: refused with numbers, nothing changes */
    MT_CHECK_EQ_INT(t, mono_context_eval(ctx, g->input_ids, 17, 0, &lg, &err), MONO_ERR_RANGE);
    MT_CHECK(t, lg == NULL && strstr(err.message, "16"));
    MT_CHECK_EQ_INT(t, mono_context_eval(ctx, g->input_ids, 10, 0, &lg, &err), MONO_OK);
    MT_CHECK_EQ_INT(t, mono_context_eval(ctx, g->input_ids, 7, 0, &lg, &err), MONO_ERR_RANGE);
    MT_CHECK_EQ_INT(t, mono_context_n_past(ctx), 10);
    MT_CHECK(t, mono_context_logits(ctx) != NULL);
    /* bad ids name the id */
    int32_t bad[3] = {1, g->n_vocab, 2};
    MT_CHECK_EQ_INT(t, mono_context_eval(ctx, bad, 3, 0, &lg, &err), MONO_ERR_INVALID_ARG);
    char want[32];
    snprintf(want, sizeof want, "%d", g->n_vocab);
    MT_CHECK_MSG(t, strstr(err.message, want) != NULL, "%s", err.message);
    bad[1] = -5;
    MT_CHECK_EQ_INT(t, mono_context_eval(ctx, bad, 3, 0, &lg, &err), MONO_ERR_INVALID_ARG);
    MT_CHECK(t, strstr(err.message, "-5") != NULL);
    MT_CHECK_EQ_INT(t, mono_context_eval(ctx, bad, 0, 0, &lg, &err), MONO_ERR_INVALID_ARG);
    MT_CHECK_EQ_INT(t, mono_context_eval(ctx, NULL, 2, 0, &lg, &err), MONO_ERR_INVALID_ARG);
    MT_CHECK_EQ_INT(t, mono_context_n_past(ctx), 10);
    /* truncate bounds */
    MT_CHECK_EQ_INT(t, mono_context_truncate(ctx, 11, &err), MONO_ERR_INVALID_ARG);
    MT_CHECK_EQ_INT(t, mono_context_truncate(ctx, -1, &err), MONO_ERR_INVALID_ARG);
    MT_CHECK_EQ_INT(t, mono_context_truncate(ctx, 4, &err), MONO_OK);
    MT_CHECK(t, mono_context_logits(ctx) == NULL && mono_context_n_past(ctx) == 4);
    mono_context_reset(ctx);
    MT_CHECK_EQ_INT(t, mono_context_n_past(ctx), 0);
    /* bad params */
    mono_context *c2 = (mono_context *)&cp;
    cp.n_ctx = -1;
    MT_CHECK_EQ_INT(t, mono_context_init(m, &cp, &c2, &err), MONO_ERR_INVALID_ARG);
    MT_CHECK(t, c2 == NULL);
    cp = mono_context_params_default();
    cp.kv_type = (mono_kv_type)7;
    MT_CHECK_EQ_INT(t, mono_context_init(m, &cp, &c2, &err), MONO_ERR_INVALID_ARG);
    MT_CHECK_EQ_INT(t, mono_context_init(NULL, NULL, &c2, &err), MONO_ERR_INVALID_ARG);
    mono_context_free(ctx);
    mono_context_free(NULL);
}

/* Rewinding and re-feeding gives the same logits as the first time; two
 * contexts interleaved give what each gives alone. */
static void test_context_rewind(mt_ctx *t, const mono_model *m, const golden *g) {
    mono_context *a, *b;
    mono_error err;
    mono_context_params cp = mono_context_params_default();
    cp.n_ctx = 64;
    cp.n_threads = 2;
    if (!MT_CHECK(t, mono_context_init(m, &cp, &a, &err) == MONO_OK)) return;
    if (!MT_CHECK(t, mono_context_init(m, &cp, &b, &err) == MONO_OK)) { mono_context_free(a); return; }
    int V = g->n_vocab, T = g->n_tokens;
    const float *lg;
    /* a: the whole sequence; b: its second half first (a different history) */
    MT_CHECK(t, mono_context_eval(b, g->input_ids + T / 2, T - T / 2, 0, &lg, &err) == MONO_OK);
    MT_CHECK(t, mono_context_eval(a, g->input_ids, T / 2, 0, &lg, &err) == MONO_OK);
    MT_CHECK(t, mono_context_eval(a, g->input_ids + T / 2, T - T / 2, 1, &lg, &err) == MONO_OK);
    double e = rel_err(lg, g->logits + (size_t)(T / 2) * V, (size_t)(T - T / 2) * V);
    MT_CHECK_MSG(t, e <= 1e-4, "interleaved contexts: relative error %.3g", e);
    /* rewind a to 5 and replay: same logits as the reference */
    MT_CHECK(t, mono_context_truncate(a, 5, &err) == MONO_OK);
    MT_CHECK(t, mono_context_eval(a, g->input_ids + 5, 20, 1, &lg, &err) == MONO_OK);
    e = rel_err(lg, g->logits + (size_t)5 * V, (size_t)20 * V);
    MT_CHECK_MSG(t, e <= 1e-4, "after truncate: relative error %.3g", e);
    /* rewind after feeding something else in between */
    int32_t junk[4] = {3, 1, 4, 1};
    MT_CHECK(t, mono_context_eval(a, junk, 4, 0, &lg, &err) == MONO_OK);
    MT_CHECK(t, mono_context_truncate(a, 25, &err) == MONO_OK);
    MT_CHECK(t, mono_context_eval(a, g->input_ids + 25, 1, 0, &lg, &err) == MONO_OK);
    e = rel_err(lg, g->logits + (size_t)25 * V, (size_t)V);
    MT_CHECK_MSG(t, e <= 1e-4, "replay after junk: relative error %.3g", e);
    /* stats */
    mono_context_stats st;
    mono_context_stats_get(a, &st);
    MT_CHECK_EQ_INT(t, st.n_prefill_tokens, T + 20 + 4);
    MT_CHECK_EQ_INT(t, st.n_decode_tokens, 1);
    MT_CHECK(t, st.prefill_seconds > 0 && st.decode_seconds > 0 && st.n_threads == 2);
    MT_CHECK(t, st.kv_bytes > 0 && st.weight_bytes > 0 && st.scratch_bytes > 0);
    mono_context_stats_reset(a);
    mono_context_stats_get(a, &st);
    MT_CHECK(t, st.n_prefill_tokens == 0 && st.n_decode_tokens == 0);
    MT_CHECK(t, mono_context_model(a) == m && mono_context_n_vocab(a) == V);
    mono_context_free(a);
    mono_context_free(b);
}

/* Two contexts on one model, driven from two threads at once, each
 * reproduce the reference (the model is shared read-only). */
typedef struct worker {
    const mono_model *m;
    const golden *g;
    double err;
    int ok;
} worker;

static void *worker_run(void *arg) {
    worker *w = arg;
    mono_context_params cp = mono_context_params_default();
    cp.n_ctx = 64;
    cp.n_threads = 2;
    mono_context *ctx;
    w->ok = 0;
    w->err = INFINITY;
    if (mono_context_init(w->m, &cp, &ctx, NULL) != MONO_OK) return NULL;
    const float *lg = NULL;
    int ok = 1;
    for (int round = 0; round < 5 && ok; round++) {
        mono_context_reset(ctx);
        ok = mono_context_eval(ctx, w->g->input_ids, w->g->n_tokens, 1, &lg, NULL) == MONO_OK;
    }
    if (ok) {
        w->err = rel_err(lg, w->g->logits, (size_t)w->g->n_tokens * w->g->n_vocab);
        w->ok = 1;
    }
    mono_context_free(ctx);
    return NULL;
}

static void test_concurrent_contexts(mt_ctx *t, const mono_model *m, const golden *g) {
    worker w[2] = {{m, g, 0, 0}, {m, g, 0, 0}};
    pthread_t th[2];
    int started[2];
    for (int i = 0; i < 2; i++) started[i] = pthread_create(&th[i], NULL, worker_run, &w[i]) == 0;
    for (int i = 0; i < 2; i++)
        if (started[i]) pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        MT_CHECK(t, started[i] && w[i].ok);
        MT_CHECK_MSG(t, w[i].err <= 1e-4, "concurrent context %d: relative error %.3g", i, w[i].err);
    }
}

static void test_info(mt_ctx *t, const mono_model *m) {
    mono_model_info info;
    mono_model_info_get(m, &info);
    MT_CHECK(t, !strcmp(info.arch, "qwen2"));
    MT_CHECK_EQ_INT(t, info.n_layer, 2);
    MT_CHECK_EQ_INT(t, info.n_head, 4);
    MT_CHECK_EQ_INT(t, info.n_head_kv, 2);
    MT_CHECK_EQ_INT(t, info.head_dim, 16);
    MT_CHECK_EQ_INT(t, info.n_ff, 160);
    MT_CHECK(t, info.tied_embeddings == 1 && info.rms_eps == 1e-6f && info.rope_theta == 1e6f);
    /* embeddings 1024x64, per layer 4 + 2x2 attention mats... counted from the file */
    long long per_layer = 64 + 64 * 64 + 64 + 2 * (64 * 32 + 32) + 64 * 64 + 64 + 3 * 64 * 160;
    MT_CHECK_EQ_INT(t, info.n_params, 1024 * 64 + 2 * per_layer + 64);
    MT_CHECK_EQ_INT(t, info.weight_bytes, (size_t)info.n_params * 4);
    MT_CHECK(t, !strcmp(info.weight_type, "f32"));
}

/* The f16 KV cache's branchless widening equals the reference conversion
 * for all 65536 halves (NaNs: still NaN, same sign). */
static void test_widen_f16(mt_ctx *t) {
    static uint16_t h[65536];
    static float got[65536];
    for (int i = 0; i < 65536; i++) h[i] = (uint16_t)i;
    mono_kv_cache_widen_f16(h, got, 65536);
    int bad = 0;
    for (int i = 0; i < 65536; i++) {
        float want = mono_f16_to_f32((uint16_t)i);
        uint32_t a, b;
        memcpy(&a, &got[i], 4);
        memcpy(&b, &want, 4);
        if (a != b && !(isnan(got[i]) && isnan(want) && (a >> 31) == (b >> 31))) bad++;
    }
    MT_CHECK_EQ_INT(t, bad, 0);
}

void suite_model_api(mt_ctx *t) {
    test_widen_f16(t);
    golden g;
    if (!golden_open(t, &g, "tiny-f32")) return;
    mono_model *m = NULL;
    mono_error err;
    if (MT_CHECK_MSG(t, mono_model_load(g.dir, NULL, &m, &err) == MONO_OK, "%s", err.message)) {
        test_info(t, m);
        test_context_errors(t, m, &g);
        test_context_rewind(t, m, &g);
        test_concurrent_contexts(t, m, &g);
    }
    mono_model_free(m);
    test_gguf_in_memory(t, &g);
    test_mixed_group(t, &g);
    test_repacked(t, &g);
    test_refusals(t, &g);
    golden_close(&g);
}
