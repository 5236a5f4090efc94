/*
 * test_model_api.c -- the model and context API around the forward pass:
 * loading from a GGUF image in memory (the golden model re-packed with the
 * project's GGUF writer must give the same logits), progress and cancel,
 * repacking at load (the same bytes and logits on any number of threads,
 * progress and cancel while repacking, thread counts out of range),
 * refusals (missing file, unknown or untested architecture, wrong shapes),
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

typedef struct progress_log {
    int calls, cancel_at;
    float last;
    int monotonic;
} progress_log;

static int on_progress(float f, void *user) {
    progress_log *p = user;
    if (f < p->last || f < 0 || f > 1) p->monotonic = 0;
    p->last = f;
    p->calls++;
    return p->cancel_at > 0 && p->calls >= p->cancel_at;
}

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

/* Logits of the golden input (one batch) from the model at dir loaded with
 * mp; *out_m keeps the model for inspection (caller frees). */
static float *eval_dir(mt_ctx *t, const golden *g, const mono_model_params *mp, mono_model **out_m) {
    mono_error err;
    mono_context *ctx = NULL;
    float *out = NULL;
    *out_m = NULL;
    if (!MT_CHECK_MSG(t, mono_model_load(g->dir, mp, out_m, &err) == MONO_OK, "%s", err.message)) return NULL;
    const float *lg;
    size_t n = (size_t)g->n_tokens * g->n_vocab;
    if (MT_CHECK(t, mono_context_init(*out_m, NULL, &ctx, &err) == MONO_OK) &&
        MT_CHECK_MSG(t, mono_context_eval(ctx, g->input_ids, g->n_tokens, 1, &lg, &err) == MONO_OK, "%s", err.message)) {
        out = malloc(sizeof(float) * n);
        memcpy(out, lg, sizeof(float) * n);
    }
    mono_context_free(ctx);
    return out;
}

static int inside(const mono_bigbuf *b, const void *p) {
    return b->data && (const char *)p >= (const char *)b->data && (const char *)p < (const char *)b->data + b->size;
}

/* Where the OS has transparent huge pages, matrices with no repacked form
 * (here: all of the F32 golden model) are copied at load into the
 * huge-page weights buffer: same bytes, so bit-identical logits; the file
 * pages are released, and a tied embedding is looked up from the copy.
 * MONO_NO_HUGE_PAGES=1 keeps them in the file. */
static void test_copied(mt_ctx *t, const golden *g) {
    mono_model_params plain = mono_model_params_default(), dflt = plain;
    plain.no_repack = 1;
    mono_model *mp = NULL, *md = NULL, *mn = NULL;
    float *a = eval_dir(t, g, &plain, &mp);
    float *b = eval_dir(t, g, &dflt, &md);
    setenv("MONO_NO_HUGE_PAGES", "1", 1);
    float *c = eval_dir(t, g, &dflt, &mn);
    unsetenv("MONO_NO_HUGE_PAGES");
    size_t n = (size_t)g->n_tokens * g->n_vocab;
    if (a && b && c) {
        MT_CHECK_MSG(t, !memcmp(a, b, sizeof(float) * n), "weights copied at load: logits differ from the file's");
        MT_CHECK_MSG(t, !memcmp(a, c, sizeof(float) * n), "MONO_NO_HUGE_PAGES: logits differ from the file's");
    }
    if (mp && md && mn) {
        MT_CHECK_EQ_INT(t, mp->n_copied, 0);
        MT_CHECK_EQ_INT(t, mn->n_copied, 0);
        int n_float = 0, n_in = 0;
        for (int il = 0; il < md->hp.n_layer; il++) {
            const mono_layer *L = &md->layers[il];
            const mono_matrix *ws[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
            for (int i = 0; i < 7; i++) {
                n_float += !md->kernels.repack[ws[i]->type];
                n_in += inside(&md->weights, ws[i]->data);
            }
        }
        if (mono_bigbuf_huge_pages()) {
            MT_CHECK_MSG(t, n_float > 0 && n_in == n_float, "%d of %d float matrices copied", n_in, n_float);
            MT_CHECK(t, md->n_copied >= n_float && md->copied_bytes > 0);
            MT_CHECK(t, inside(&md->weights, md->output.data) || md->output.packed);
            if (md->hp.tied_embeddings) MT_CHECK(t, md->tok_embd.data == md->output.data);
        } else {
            MT_CHECK_EQ_INT(t, md->n_copied, 0);
        }
    }
    free(a), free(b), free(c);
    mono_model_free(mp), mono_model_free(md), mono_model_free(mn);
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

/* ---- repacking on several threads -------------------------------------- */

/* A one-layer qwen2 GGUF file with random weights in every type the
 * AVX-512 kernels repack, shaped so that matrices span several 512-row
 * slices, end in a partial slice, and (vocab 1000) in a partial 16-row
 * group. Returns 0 (after a failed check) when it cannot be written. */
enum { SY_EMBD = 256, SY_HEADS = 4, SY_KV = 2, SY_HD = 64, SY_FF = 1280, SY_VOCAB = 1000 };

/* Adds a tensor of random values; *keep receives its bytes (the writer
 * reads them only when writing; the caller frees them). */
static int synth_tensor(mono_gguf_writer *w, const char *name, int type, int64_t cols, int64_t rows, uint32_t *seed,
                        void **keep, mono_error *err) {
    const mono_type_traits *tr = mono_type_get(type);
    size_t row_bytes = mono_type_row_bytes(type, cols);
    float *f = malloc(sizeof(float) * (size_t)cols);
    uint8_t *q = malloc(row_bytes * (size_t)rows);
    int ok = f && q && tr && tr->from_float;
    for (int64_t r = 0; ok && r < rows; r++) {
        for (int64_t c = 0; c < cols; c++) {
            *seed = *seed * 1664525u + 1013904223u;
            /* vectors (rows == 1): norm weights near 1; matrices small */
            float u = (float)(*seed >> 8) / 16777216.0f - 0.5f;
            f[c] = rows == 1 && type == MONO_TYPE_F32 ? 1.0f + 0.2f * u : 0.1f * u;
        }
        tr->from_float(f, q + (size_t)r * row_bytes, cols);
    }
    int64_t ne[2] = {cols, rows};
    if (ok) ok = mono_gguf_writer_add_tensor(w, name, type, rows == 1 ? 1 : 2, ne, q, row_bytes * (size_t)rows, err) == MONO_OK;
    free(f);
    *keep = q;
    return ok;
}

/* A byte-level BPE vocabulary: the 256 byte tokens (GPT-2's printable
 * stand-ins), "he", and one merge, or (bad) a merge line the loader must
 * refuse. Strings are written into text (at least 256 * 3 bytes). */
static int synth_tokenizer(mono_gguf_writer *w, int bad, char *text, mono_error *err) {
    const char *tokens[257], *merges[1] = {bad ? "h e x" : "h e"};
    char *o = text;
    for (int b = 0, extra = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        unsigned cp = printable ? (unsigned)b : 256u + (unsigned)extra++;
        tokens[b] = o;
        if (cp < 0x80) *o++ = (char)cp;
        else { *o++ = (char)(0xC0 | (cp >> 6)); *o++ = (char)(0x80 | (cp & 0x3F)); }
        *o++ = '\0';
    }
    tokens[256] = "he";
    return mono_gguf_writer_add_kv_str(w, "tokenizer.ggml.model", "gpt2", err) == MONO_OK &&
           mono_gguf_writer_add_kv_arr_str(w, "tokenizer.ggml.tokens", tokens, NULL, 257, err) == MONO_OK &&
           mono_gguf_writer_add_kv_arr_str(w, "tokenizer.ggml.merges", merges, NULL, 1, err) == MONO_OK;
}

/* tok: 0 no tokenizer, 1 a small valid one, 2 a malformed one. */
static int synth_model(mt_ctx *t, const char *path, int tok) {
    mono_error err = {0};
    mono_gguf_writer *w = mono_gguf_writer_init();
    uint32_t seed = 12345;
    char tok_text[256 * 3];
    int ok = w != NULL;
    ok = ok && (!tok || synth_tokenizer(w, tok == 2, tok_text, &err));
    ok = ok && mono_gguf_writer_add_kv_str(w, "general.architecture", "qwen2", &err) == MONO_OK;
    ok = ok && mono_gguf_writer_add_kv_u32(w, "qwen2.block_count", 1, &err) == MONO_OK;
    ok = ok && mono_gguf_writer_add_kv_u32(w, "qwen2.embedding_length", SY_EMBD, &err) == MONO_OK;
    ok = ok && mono_gguf_writer_add_kv_u32(w, "qwen2.feed_forward_length", SY_FF, &err) == MONO_OK;
    ok = ok && mono_gguf_writer_add_kv_u32(w, "qwen2.attention.head_count", SY_HEADS, &err) == MONO_OK;
    ok = ok && mono_gguf_writer_add_kv_u32(w, "qwen2.attention.head_count_kv", SY_KV, &err) == MONO_OK;
    ok = ok && mono_gguf_writer_add_kv_f32(w, "qwen2.attention.layer_norm_rms_epsilon", 1e-6f, &err) == MONO_OK;
    struct { const char *name; int type; int64_t cols, rows; } ts[] = {
        {"token_embd.weight", MONO_TYPE_Q8_0, SY_EMBD, SY_VOCAB},
        {"blk.0.attn_norm.weight", MONO_TYPE_F32, SY_EMBD, 1},
        {"blk.0.attn_q.weight", MONO_TYPE_Q4_0, SY_EMBD, SY_HEADS * SY_HD},
        {"blk.0.attn_k.weight", MONO_TYPE_Q5_0, SY_EMBD, SY_KV * SY_HD},
        {"blk.0.attn_v.weight", MONO_TYPE_Q4_1, SY_EMBD, SY_KV * SY_HD},
        {"blk.0.attn_q.bias", MONO_TYPE_F32, SY_HEADS * SY_HD, 1},
        {"blk.0.attn_k.bias", MONO_TYPE_F32, SY_KV * SY_HD, 1},
        {"blk.0.attn_v.bias", MONO_TYPE_F32, SY_KV * SY_HD, 1},
        {"blk.0.attn_output.weight", MONO_TYPE_Q6_K, SY_HEADS * SY_HD, SY_EMBD},
        {"blk.0.ffn_norm.weight", MONO_TYPE_F32, SY_EMBD, 1},
        {"blk.0.ffn_gate.weight", MONO_TYPE_Q4_K, SY_EMBD, SY_FF},
        {"blk.0.ffn_up.weight", MONO_TYPE_Q8_0, SY_EMBD, SY_FF},
        {"blk.0.ffn_down.weight", MONO_TYPE_Q5_1, SY_FF, SY_EMBD},
        {"output_norm.weight", MONO_TYPE_F32, SY_EMBD, 1},
    };
    enum { N_TS = sizeof ts / sizeof *ts };
    void *keep[N_TS] = {0};
    for (size_t i = 0; ok && i < N_TS; i++)
        ok = synth_tensor(w, ts[i].name, ts[i].type, ts[i].cols, ts[i].rows, &seed, &keep[i], &err);
    ok = ok && mono_gguf_writer_write_file(w, path, &err) == MONO_OK;
    mono_gguf_writer_free(w);
    for (size_t i = 0; i < N_TS; i++) free(keep[i]);
    return MT_CHECK_MSG(t, ok, "writing the synthetic model: %s", err.message);
}

/* 1 if w was repacked and differs from the whole matrix repacked in one
 * call (slicing and threads must change nothing). */
static int pack_differs(const mono_kernels *k, const mono_matrix *w) {
    if (!w->packed) return 0;
    size_t size = k->repack_size[w->type](w->n_rows, w->n_cols);
    uint8_t *want = malloc(size);
    if (!want) return 1;
    k->repack[w->type](w->data, w->row_bytes, w->n_rows, w->n_cols, want);
    int differs = memcmp(want, w->packed, size) != 0;
    free(want);
    return differs;
}

static int count_bad_packs(const mono_model *m) {
    int bad = pack_differs(&m->kernels, &m->output);
    for (int il = 0; il < m->hp.n_layer; il++) {
        const mono_layer *L = &m->layers[il];
        const mono_matrix *ws[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
        for (int i = 0; i < 7; i++) bad += pack_differs(&m->kernels, ws[i]);
    }
    return bad;
}

/* Logits of a few tokens, batch then token by token (NULL on failure). */
static float *synth_logits(mt_ctx *t, const mono_model *m) {
    static const int32_t ids[] = {1, 999, 17, 512, 640, 3, 888, 42, 511, 0};
    const int T = (int)(sizeof ids / sizeof *ids);
    mono_context *ctx = NULL;
    mono_error err;
    float *out = malloc(sizeof(float) * 2 * T * SY_VOCAB);
    const float *lg;
    int ok = out && MT_CHECK(t, mono_context_init(m, NULL, &ctx, &err) == MONO_OK);
    if (ok && (ok = MT_CHECK_MSG(t, mono_context_eval(ctx, ids, T, 1, &lg, &err) == MONO_OK, "%s", err.message)))
        memcpy(out, lg, sizeof(float) * T * SY_VOCAB);
    if (ok) mono_context_reset(ctx);
    for (int i = 0; ok && i < T; i++)
        if ((ok = MT_CHECK_MSG(t, mono_context_eval(ctx, &ids[i], 1, 0, &lg, &err) == MONO_OK, "%s", err.message)))
            memcpy(out + (size_t)(T + i) * SY_VOCAB, lg, sizeof(float) * SY_VOCAB);
    mono_context_free(ctx);
    if (!ok) { free(out); out = NULL; }
    return out;
}

static void test_repack_threads(mt_ctx *t) {
    char path[] = "/tmp/mono_repack_mt_XXXXXX";
    int fd = mkstemp(path);
    if (!MT_CHECK(t, fd >= 0)) return;
    close(fd);
    if (!synth_model(t, path, 0)) { remove(path); return; }
    mono_kernels k;
    mono_kernels_init(&k);
    const size_t n_logits = 2 * 10 * SY_VOCAB;
    mono_error err;
    float *ref = NULL, *base = NULL;
    int n_ref = -1;
    /* 0 = all CPUs; 3 and 64: more threads than this machine may have */
    const int threads[] = {-1, 1, 2, 3, 0, 64};
    for (size_t i = 0; i < sizeof threads / sizeof *threads; i++) {
        mono_model_params mp = mono_model_params_default();
        mp.no_repack = threads[i] < 0;
        mp.n_threads = threads[i] < 0 ? 0 : threads[i];
        mono_model *m = NULL;
        if (!MT_CHECK_MSG(t, mono_model_load(path, &mp, &m, &err) == MONO_OK, "%s", err.message)) continue;
        float *lg = synth_logits(t, m);
        if (threads[i] < 0) {
            MT_CHECK_EQ_INT(t, m->n_packed, 0);
            base = lg;
        } else {
            int bad = count_bad_packs(m);
            MT_CHECK_MSG(t, bad == 0, "n_threads %d: %d repacked matrices differ from a one-call repack", threads[i], bad);
            if (n_ref < 0) n_ref = m->n_packed;
            MT_CHECK_MSG(t, m->n_packed == n_ref, "n_threads %d: %d matrices repacked, %d with one thread",
                         threads[i], m->n_packed, n_ref);
            if (!ref) {
                ref = lg;
                if (base && lg) {
                    double e = rel_err(lg, base, n_logits);
                    MT_CHECK_MSG(t, e <= 1e-5, "repacked vs file layout: relative error %.3g", e);
                }
            } else {
                MT_CHECK_MSG(t, lg && ref && !memcmp(lg, ref, sizeof(float) * n_logits),
                             "n_threads %d: logits differ from one thread's", threads[i]);
                free(lg);
            }
        }
        mono_model_free(m);
    }
    /* all eight matrices where the kernels repack every type used here */
    int all = 1;
    const int types[] = {MONO_TYPE_Q4_0, MONO_TYPE_Q5_0, MONO_TYPE_Q4_1, MONO_TYPE_Q6_K, MONO_TYPE_Q4_K,
                         MONO_TYPE_Q8_0, MONO_TYPE_Q5_1};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) all &= k.repack[types[i]] != NULL;
    if (all) MT_CHECK_EQ_INT(t, n_ref, 8);
    else if (!k.repack[MONO_TYPE_Q8_0]) MT_CHECK_EQ_INT(t, n_ref, 0);
    free(ref);
    free(base);

    /* progress covers the repacking; cancelling at any report (binding,
     * between repacking rounds, the final one) frees everything */
    progress_log pl = {0, 0, 0, 1};
    mono_model_params mp = mono_model_params_default();
    mp.progress = on_progress;
    mp.progress_user_data = &pl;
    mp.n_threads = 2;
    mono_model *m = NULL;
    if (MT_CHECK_MSG(t, mono_model_load(path, &mp, &m, &err) == MONO_OK, "%s", err.message)) {
        MT_CHECK(t, pl.monotonic && pl.last == 1.0f);
        if (n_ref > 0) MT_CHECK_MSG(t, pl.calls >= 5, "%d progress reports while repacking", pl.calls);
    }
    mono_model_free(m);
    int calls = pl.calls;
    for (int at = 1; at <= calls; at++) {
        pl = (progress_log){0, at, 0, 1};
        m = (mono_model *)&pl;
        mono_status s = mono_model_load(path, &mp, &m, &err);
        MT_CHECK_MSG(t, s == MONO_ERR_CANCELLED && m == NULL && strstr(err.message, "cancel"),
                     "cancel at report %d of %d: status %d", at, calls, (int)s);
    }

    /* thread counts out of range are refused before any work */
    const int bad_threads[] = {-1, 257};
    for (size_t i = 0; i < 2; i++) {
        mp = mono_model_params_default();
        mp.n_threads = bad_threads[i];
        m = (mono_model *)&pl;
        MT_CHECK_EQ_INT(t, mono_model_load(path, &mp, &m, &err), MONO_ERR_INVALID_ARG);
        MT_CHECK(t, m == NULL && strstr(err.message, "n_threads"));
        m = (mono_model *)&pl;
        MT_CHECK_EQ_INT(t, mono_model_load_from_memory("", 0, &mp, &m, &err), MONO_ERR_INVALID_ARG);
        MT_CHECK(t, m == NULL && strstr(err.message, "n_threads"));
    }
    remove(path);
}

/* One thread builds the tokenizer while the others repack: the same
 * tokenizer as a load on one thread, and a malformed one fails the load
 * with its own message (and leaks nothing). */
static void test_repack_tokenizer(mt_ctx *t) {
    char path[] = "/tmp/mono_repack_tok_XXXXXX";
    int fd = mkstemp(path);
    if (!MT_CHECK(t, fd >= 0)) return;
    close(fd);
    mono_error err;
    int32_t *ids[2] = {NULL, NULL};
    size_t n_ids[2] = {0, 0};
    if (synth_model(t, path, 1)) {
        for (int i = 0; i < 2; i++) {
            mono_model_params mp = mono_model_params_default();
            mp.n_threads = i + 1;
            mono_model *m = NULL;
            if (!MT_CHECK_MSG(t, mono_model_load(path, &mp, &m, &err) == MONO_OK, "%s", err.message)) continue;
            const mono_tokenizer *tok = mono_model_tokenizer(m);
            if (MT_CHECK_MSG(t, tok != NULL, "n_threads %d: no tokenizer (%s)", i + 1, mono_model_tokenizer_note(m)))
                MT_CHECK(t, mono_tokenizer_encode(tok, "hehe!", 5, 0, &ids[i], &n_ids[i], &err) == MONO_OK);
            mono_model_free(m);
        }
        /* "he" twice (the merge), then "!" (byte 0x21 is token 0x21) */
        MT_CHECK(t, n_ids[0] == 3 && ids[0] && ids[0][0] == 256 && ids[0][1] == 256 && ids[0][2] == '!');
        MT_CHECK(t, n_ids[1] == n_ids[0] && ids[1] && ids[0] && !memcmp(ids[0], ids[1], n_ids[0] * sizeof *ids[0]));
    }
    mono_free(ids[0]);
    mono_free(ids[1]);
    if (synth_model(t, path, 2)) {
        for (int nt = 1; nt <= 2; nt++) {
            mono_model_params mp = mono_model_params_default();
            mp.n_threads = nt;
            mono_model *m = (mono_model *)&mp;
            MT_CHECK_EQ_INT(t, mono_model_load(path, &mp, &m, &err), MONO_ERR_FORMAT);
            MT_CHECK_MSG(t, m == NULL && strstr(err.message, "tokenizer") && strstr(err.message, "merge 0"),
                         "n_threads %d: %s", nt, err.message);
        }
    }
    remove(path);
}

void suite_model_api(mt_ctx *t) {
    test_widen_f16(t);
    test_repack_threads(t);
    test_repack_tokenizer(t);
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
    test_copied(t, &g);
    test_refusals(t, &g);
    golden_close(&g);
}
