/*
 * make_tiny_qwen2_gguf.c -- writes a tiny Qwen2 GGUF (random weights, 2
 * layers, hidden 64 by default, F32 or any type the project can quantize
 * to) that carries the FULL Qwen2.5 vocabulary from a
 * tokenizer.json (tokens, merges, token types in tokenizer.ggml.*), with the
 * project's own GGUF writer. llama.cpp loads it as it loads a real Qwen2.5
 * file, so llama_crosscheck.test.js can compare the two engines' logits.
 *
 *   cc -Iinclude -Isrc tests/node/make_tiny_qwen2_gguf.c build/libmonologue.a -lm -pthread -o build/make_tiny_qwen2_gguf
 *   build/make_tiny_qwen2_gguf ../shared/tokenizers/qwen2.5/tokenizer.json build/tiny-qwen2.gguf [SEED [TYPE [HIDDEN]]]
 *
 * TYPE ("f32", "f16", "q8_0", "q4_K", ... as llama.cpp names them) applies
 * to every matrix, the embeddings included; norms and biases stay F32.
 * HIDDEN must suit the type's block size (256 for K-quants); the
 * feed-forward size is 2.5 x HIDDEN rounded up to a multiple of 256.
 * HIDDEN "qwen2.5-0.5b" gives that model's shapes instead (24 layers, hidden
 * 896, 14/2 heads, feed-forward 4864): random weights for speed runs.
 *
 * A test tool: it prints and exits.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/json.h"
#include "formats/gguf_write.h"
#include "kernels/types.h"

enum { N_VOCAB = 151936 };

/* set from the command line */
static int N_LAYER = 2, N_HEAD = 4, N_HEAD_KV = 2, N_EMBD = 64, HEAD_DIM = 16, N_FF = 160, WTYPE = MONO_TYPE_F32;
enum { TOK_NORMAL = 1, TOK_CONTROL = 3, TOK_USER_DEFINED = 4, TOK_UNUSED = 5 };

static void die(const char *what, const mono_error *err) {
    fprintf(stderr, "make_tiny_qwen2_gguf: %s%s%s\n", what, err ? ": " : "", err ? err->message : "");
    exit(1);
}

/* xorshift64* -> uniform in [-1, 1) */
static float rnd(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (float)((double)((*s * 2685821657736338717ull) >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static float *tensor_data(size_t n, float center, float scale, uint64_t *s) {
    float *p = malloc(n * sizeof *p);
    if (!p) die("out of memory", NULL);
    for (size_t i = 0; i < n; i++) p[i] = center + scale * rnd(s);
    return p;
}

/* Adds a tensor of ne1 rows of ne0 random values (center +- scale); 2-D
 * tensors are stored as WTYPE, 1-D ones as F32. */
static void add(mono_gguf_writer *w, const char *name, int64_t ne0, int64_t ne1, float center, float scale,
                uint64_t *s, void **keep, int *n_keep) {
    mono_error err;
    size_t n = (size_t)ne0 * (size_t)ne1;
    int type = ne1 > 1 ? WTYPE : MONO_TYPE_F32;
    if (ne1 > 1 && N_LAYER > 2) scale *= (float)sqrt(64.0 / (double)ne0); /* deep and wide: keep activations O(1) */
    float *d = tensor_data(n, center, scale, s);
    size_t row = mono_type_row_bytes(type, ne0);
    if (row == 0) die("the hidden/feed-forward sizes do not suit the type's block size", NULL);
    void *data = d;
    if (type != MONO_TYPE_F32) {
        data = malloc(row * (size_t)ne1);
        if (!data) die("out of memory", NULL);
        for (int64_t r = 0; r < ne1; r++)
            mono_type_get(type)->from_float(d + r * ne0, (uint8_t *)data + r * row, ne0);
        free(d);
    }
    keep[(*n_keep)++] = data;
    int64_t ne[2] = {ne0, ne1};
    if (mono_gguf_writer_add_tensor(w, name, type, ne1 > 1 ? 2 : 1, ne, data, row * (size_t)ne1, &err) != MONO_OK)
        die(name, &err);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: make_tiny_qwen2_gguf TOKENIZER_JSON OUT.gguf [SEED [TYPE [HIDDEN]]]\n");
        return 2;
    }
    if (argc > 4) {
        WTYPE = -1;
        for (int ty = 0; ty < MONO_TYPE_COUNT; ty++) {
            const mono_type_traits *tr = mono_type_get(ty);
            if (tr && tr->name && !strcmp(tr->name, argv[4]) && tr->from_float) WTYPE = ty;
        }
        if (WTYPE < 0) die("unknown or unwritable weight type", NULL);
    }
    if (argc > 5 && !strcmp(argv[5], "qwen2.5-0.5b")) {
        N_LAYER = 24, N_HEAD = 14, N_HEAD_KV = 2, N_EMBD = 896, HEAD_DIM = 64, N_FF = 4864;
    } else if (argc > 5) {
        N_EMBD = atoi(argv[5]);
        if (N_EMBD < 64 || N_EMBD % 64 != 0 || N_EMBD > 4096) die("HIDDEN must be a multiple of 64 in [64, 4096]", NULL);
        HEAD_DIM = N_EMBD / N_HEAD;
        N_FF = (N_EMBD * 5 / 2 + 255) / 256 * 256;
    }
    uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1234;
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    mono_error err;
    char *text;
    size_t len;
    mono_json_doc *doc;
    if (mono_file_read_text(argv[1], &text, &len, &err) != MONO_OK) die(argv[1], &err);
    if (mono_json_parse(text, len, &doc, &err) != MONO_OK) die(argv[1], &err);
    const mono_json *root = mono_json_root(doc);
    const mono_json *model = mono_json_get_typed(root, "model", MONO_JSON_OBJECT);
    const mono_json *vocab = model ? mono_json_get_typed(model, "vocab", MONO_JSON_OBJECT) : NULL;
    const mono_json *merges = model ? mono_json_get_typed(model, "merges", MONO_JSON_ARRAY) : NULL;
    const mono_json *added = mono_json_get_typed(root, "added_tokens", MONO_JSON_ARRAY);
    if (!vocab || !merges || !added) die("tokenizer.json lacks model.vocab, model.merges or added_tokens", NULL);

    /* tokens by id; ids without a token are "[PAD<id>]" (as convert_hf_to_gguf.py writes them) */
    const char **tokens = calloc(N_VOCAB, sizeof *tokens);
    int32_t *types = calloc(N_VOCAB, sizeof *types);
    char (*pads)[24] = calloc(N_VOCAB, sizeof *pads);
    for (uint32_t i = 0; i < vocab->len; i++) {
        int64_t id;
        if (!mono_json_as_int64(&vocab->u.items[i], &id) || id < 0 || id >= N_VOCAB) die("bad vocab id", NULL);
        tokens[id] = vocab->u.items[i].key;
        types[id] = TOK_NORMAL;
    }
    for (uint32_t i = 0; i < added->len; i++) {
        const mono_json *a = &added->u.items[i];
        const mono_json *c = mono_json_get_typed(a, "content", MONO_JSON_STRING);
        const mono_json *sp = mono_json_get_typed(a, "special", MONO_JSON_BOOL);
        int64_t id;
        if (!c || !mono_json_as_int64(mono_json_get(a, "id"), &id) || id < 0 || id >= N_VOCAB) die("bad added token", NULL);
        tokens[id] = c->u.str;
        types[id] = sp && sp->u.boolean ? TOK_CONTROL : TOK_USER_DEFINED;
    }
    for (int i = 0; i < N_VOCAB; i++)
        if (!tokens[i]) {
            snprintf(pads[i], sizeof pads[i], "[PAD%d]", i);
            tokens[i] = pads[i];
            types[i] = TOK_UNUSED;
        }
    /* merges as "left right" strings (tokenizer.json has either form) */
    const char **mstr = calloc(merges->len, sizeof *mstr);
    char **owned = calloc(merges->len, sizeof *owned);
    for (uint32_t i = 0; i < merges->len; i++) {
        const mono_json *mj = &merges->u.items[i];
        if (mj->type == MONO_JSON_STRING) {
            mstr[i] = mj->u.str;
        } else if (mj->type == MONO_JSON_ARRAY && mj->len == 2) {
            size_t la = mj->u.items[0].len, lb = mj->u.items[1].len;
            owned[i] = malloc(la + lb + 2);
            memcpy(owned[i], mj->u.items[0].u.str, la);
            owned[i][la] = ' ';
            memcpy(owned[i] + la + 1, mj->u.items[1].u.str, lb + 1);
            mstr[i] = owned[i];
        } else {
            die("bad merge entry", NULL);
        }
    }

    mono_gguf_writer *w = mono_gguf_writer_init();
    if (!w) die("out of memory", NULL);
#define OK(call) do { if ((call) != MONO_OK) die(#call, &err); } while (0)
    OK(mono_gguf_writer_add_kv_str(w, "general.architecture", "qwen2", &err));
    OK(mono_gguf_writer_add_kv_str(w, "general.name", "tiny-qwen2-crosscheck", &err));
    OK(mono_gguf_writer_add_kv_u32(w, "qwen2.block_count", N_LAYER, &err));
    OK(mono_gguf_writer_add_kv_u32(w, "qwen2.context_length", 4096, &err));
    OK(mono_gguf_writer_add_kv_u32(w, "qwen2.embedding_length", N_EMBD, &err));
    OK(mono_gguf_writer_add_kv_u32(w, "qwen2.feed_forward_length", N_FF, &err));
    OK(mono_gguf_writer_add_kv_u32(w, "qwen2.attention.head_count", N_HEAD, &err));
    OK(mono_gguf_writer_add_kv_u32(w, "qwen2.attention.head_count_kv", N_HEAD_KV, &err));
    OK(mono_gguf_writer_add_kv_f32(w, "qwen2.rope.freq_base", 1000000.0f, &err));
    OK(mono_gguf_writer_add_kv_f32(w, "qwen2.attention.layer_norm_rms_epsilon", 1e-6f, &err));
    if (WTYPE == MONO_TYPE_F32) OK(mono_gguf_writer_add_kv_u32(w, "general.file_type", 0, &err));
    OK(mono_gguf_writer_add_kv_str(w, "tokenizer.ggml.model", "gpt2", &err));
    OK(mono_gguf_writer_add_kv_str(w, "tokenizer.ggml.pre", "qwen2", &err));
    OK(mono_gguf_writer_add_kv_arr_str(w, "tokenizer.ggml.tokens", tokens, NULL, N_VOCAB, &err));
    OK(mono_gguf_writer_add_kv_arr(w, "tokenizer.ggml.token_type", MONO_GGUF_INT32, types, N_VOCAB, &err));
    OK(mono_gguf_writer_add_kv_arr_str(w, "tokenizer.ggml.merges", mstr, NULL, merges->len, &err));
    OK(mono_gguf_writer_add_kv_u32(w, "tokenizer.ggml.eos_token_id", 151643, &err));
    OK(mono_gguf_writer_add_kv_u32(w, "tokenizer.ggml.padding_token_id", 151643, &err));
    OK(mono_gguf_writer_add_kv_u32(w, "tokenizer.ggml.bos_token_id", 151643, &err));
    OK(mono_gguf_writer_add_kv_bool(w, "tokenizer.ggml.add_bos_token", 0, &err));

    void *keep[16 * 24 + 4];
    int n_keep = 0;
    char name[64];
    int Q = N_HEAD * HEAD_DIM, KV = N_HEAD_KV * HEAD_DIM;
    add(w, "token_embd.weight", N_EMBD, N_VOCAB, 0, 1.0f, &s, keep, &n_keep);
    for (int il = 0; il < N_LAYER; il++) {
#define T(suffix, ne0, ne1, c, sc) (snprintf(name, sizeof name, "blk.%d." suffix, il), add(w, name, ne0, ne1, c, sc, &s, keep, &n_keep))
        T("attn_norm.weight", N_EMBD, 1, 1.0f, 0.2f);
        T("attn_q.weight", N_EMBD, Q, 0, 0.25f);
        T("attn_q.bias", Q, 1, 0, 0.5f);
        T("attn_k.weight", N_EMBD, KV, 0, 0.25f);
        T("attn_k.bias", KV, 1, 0, 0.5f);
        T("attn_v.weight", N_EMBD, KV, 0, 0.25f);
        T("attn_v.bias", KV, 1, 0, 0.5f);
        T("attn_output.weight", Q, N_EMBD, 0, 0.2f);
        T("ffn_norm.weight", N_EMBD, 1, 1.0f, 0.2f);
        T("ffn_gate.weight", N_EMBD, N_FF, 0, 0.25f);
        T("ffn_up.weight", N_EMBD, N_FF, 0, 0.25f);
        T("ffn_down.weight", N_FF, N_EMBD, 0, 0.15f);
#undef T
    }
    add(w, "output_norm.weight", N_EMBD, 1, 1.0f, 0.2f, &s, keep, &n_keep);
    OK(mono_gguf_writer_write_file(w, argv[2], &err));
#undef OK
    mono_gguf_writer_free(w);
    for (int i = 0; i < n_keep; i++) free(keep[i]);
    for (uint32_t i = 0; i < merges->len; i++) free(owned[i]);
    free(owned);
    free(mstr);
    free(pads);
    free(types);
    free(tokens);
    mono_json_doc_free(doc);
    free(text);
    return 0;
}
