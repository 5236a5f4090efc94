/*
 * test_model_load.c -- what loading does to the weights: the load-time
 * repack on several threads (a synthetic one-layer model of every repacked
 * type: packed bytes, bitwise-equal logits on 1/2/3/64 threads, progress
 * and cancel, bad n_threads), the tokenizer built on a pool thread
 * meanwhile, and the copy of the other matrices into the huge-page weights
 * buffer (bit-identical logits, the tied embedding read from the copy, the
 * MONO_NO_HUGE_PAGES switch).
 */
#define _POSIX_C_SOURCE 200809L /* setenv, mkstemp */
#include <stdlib.h>
#include <unistd.h>

#include "model/model.h"

#include "formats/gguf_write.h"
#include "formats/model_file.h"
#include "kernels/types.h"
#include "test_model_util.h"

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

/* decode_bytes, the bytes a decoded token reads (the roofline's numerator
 * in the benchmarks): every weight, less an embedding table that a separate
 * output projection leaves to one-row lookups. */
static void test_decode_bytes(mt_ctx *t, const char *name, size_t embd_elem_bytes) {
    golden g;
    if (!golden_open(t, &g, name)) return;
    mono_model *m = NULL;
    mono_error err;
    if (MT_CHECK_MSG(t, mono_model_load(g.dir, NULL, &m, &err) == MONO_OK, "%s: %s", name, err.message)) {
        mono_model_info info;
        mono_model_info_get(m, &info);
        size_t embd = (size_t)info.n_vocab * info.n_embd * embd_elem_bytes;
        size_t want = info.weight_bytes - (info.tied_embeddings ? 0 : embd);
        MT_CHECK_MSG(t, info.decode_bytes == want, "%s: decode_bytes %zu, want %zu (weight_bytes %zu, tied %d)", name,
                     info.decode_bytes, want, info.weight_bytes, info.tied_embeddings);
    }
    mono_model_free(m);
    golden_close(&g);
}

void suite_model_load(mt_ctx *t) {
    test_repack_threads(t);
    test_repack_tokenizer(t);
    test_decode_bytes(t, "tiny-f32", 4);
    test_decode_bytes(t, "small-bf16-untied", 2);
    golden g;
    if (!golden_open(t, &g, "tiny-f32")) return;
    test_copied(t, &g);
    golden_close(&g);
}
