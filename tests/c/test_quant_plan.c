/*
 * test_quant_plan.c -- the per-tensor type choice of `monologue quantize`
 * (mono_quantize_tensor_type) on Qwen2.5-0.5B's tensor list, without any
 * peer library. Expectations are worked out by hand from llama.cpp's rules:
 *   use_more_bits(i, 24) picks layers 0-2, 21-23 and 5, 8, 11, 14, 17, 20;
 *   896 columns are not a multiple of 256, so Q4_K -> Q5_0, Q5_K -> Q5_1,
 *   Q6_K -> Q8_0; ffn_down has 4864 columns (19 x 256) and keeps K-quants;
 *   the tied token_embd is the output: Q6_K, i.e. Q8_0 at 896 columns.
 * (tests/cli/quantize_llama.sh checks the same against llama.cpp itself.)
 */
#include <string.h>

#include "formats/quantize.h"
#include "test.h"

enum { N_LAYER = 24, N_EMBD = 896, N_FF = 4864, N_KV = 128 };

static int more_bits_layer(int i) {
    return i < 3 || i >= 21 || (i - 3) % 3 == 2;
}

typedef struct plan_count { int n[40]; int type_of_v[N_LAYER], type_of_down[N_LAYER], embd; } plan_count;

static int run(const mono_quantize_plan *proto, mono_tensor *t, const char *name, int64_t ne0, int64_t ne1, int n_dims) {
    (void)proto;
    t->name = name;
    t->type = MONO_TYPE_F16;
    t->n_dims = n_dims;
    t->ne[0] = ne0;
    t->ne[1] = ne1;
    t->ne[2] = t->ne[3] = 1;
    return 0;
}

/* Visits the model's tensors in llama.cpp's order (non-layer tensors, then
 * layer by layer, names sorted within a layer). */
static void plan_model(int ftype, int default_type, plan_count *c) {
    mono_quantize_plan p;
    memset(&p, 0, sizeof p);
    memset(c, 0, sizeof *c);
    p.ftype = ftype;
    p.default_type = default_type;
    p.n_layer = N_LAYER;
    p.n_gqa = 7;
    p.n_attention_wv = N_LAYER;
    p.tied_embeddings = 1;
    mono_tensor t;
    static char names[32][64];
    run(&p, &t, "output_norm.weight", N_EMBD, 1, 1);
    c->n[mono_quantize_tensor_type(&p, &t)]++;
    run(&p, &t, "token_embd.weight", N_EMBD, 151936, 2);
    c->embd = mono_quantize_tensor_type(&p, &t);
    c->n[c->embd]++;
    for (int l = 0; l < N_LAYER; l++) {
        struct { const char *suffix; int64_t ne0, ne1; int dims; } ts[] = {
            {"attn_k.bias", N_KV, 1, 1},         {"attn_k.weight", N_EMBD, N_KV, 2},
            {"attn_norm.weight", N_EMBD, 1, 1},  {"attn_output.weight", N_EMBD, N_EMBD, 2},
            {"attn_q.bias", N_EMBD, 1, 1},       {"attn_q.weight", N_EMBD, N_EMBD, 2},
            {"attn_v.bias", N_KV, 1, 1},         {"attn_v.weight", N_EMBD, N_KV, 2},
            {"ffn_down.weight", N_FF, N_EMBD, 2}, {"ffn_gate.weight", N_EMBD, N_FF, 2},
            {"ffn_norm.weight", N_EMBD, 1, 1},   {"ffn_up.weight", N_EMBD, N_FF, 2},
        };
        for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
            snprintf(names[i], sizeof names[i], "blk.%d.%s", l, ts[i].suffix);
            run(&p, &t, names[i], ts[i].ne0, ts[i].ne1, ts[i].dims);
            int ty = mono_quantize_tensor_type(&p, &t);
            c->n[ty]++;
            if (!strcmp(ts[i].suffix, "attn_v.weight")) c->type_of_v[l] = ty;
            if (!strcmp(ts[i].suffix, "ffn_down.weight")) c->type_of_down[l] = ty;
        }
    }
}

void suite_quant_plan(mt_ctx *t) {
    plan_count c;
    int ftype;

    /* names */
    MT_CHECK(t, mono_quantize_ftype_parse("q4_k_m", &ftype) && ftype == MONO_FTYPE_Q4_K_M);
    MT_CHECK(t, mono_quantize_ftype_parse("Q8_0", &ftype) && ftype == MONO_FTYPE_Q8_0);
    MT_CHECK(t, !mono_quantize_ftype_parse("q4_k_x", &ftype) && !mono_quantize_ftype_parse("", &ftype));
    MT_CHECK(t, !mono_quantize_ftype_parse("q4_k_mm", &ftype) && !mono_quantize_ftype_parse(NULL, &ftype));
    MT_CHECK(t, mono_quantize_ftype_name(MONO_FTYPE_Q4_K_M) && !strcmp(mono_quantize_ftype_name(MONO_FTYPE_Q4_K_M), "Q4_K_M"));
    MT_CHECK(t, mono_quantize_ftype_name(5) == NULL);

    /* Q4_K_M: 13 q8_0 (embeddings + 12 attn_v), 132 q5_0, 12 q4_K, 12 q6_K (ffn_down) */
    plan_model(MONO_FTYPE_Q4_K_M, MONO_TYPE_Q4_K, &c);
    MT_CHECK_EQ_INT(t, c.embd, MONO_TYPE_Q8_0);
    MT_CHECK_EQ_INT(t, c.n[MONO_TYPE_Q8_0], 13);
    MT_CHECK_EQ_INT(t, c.n[MONO_TYPE_Q5_0], 132);
    MT_CHECK_EQ_INT(t, c.n[MONO_TYPE_Q4_K], 12);
    MT_CHECK_EQ_INT(t, c.n[MONO_TYPE_Q6_K], 12);
    MT_CHECK_EQ_INT(t, c.n[MONO_TYPE_F16], 1 + 24 * 5); /* norms and biases stay as they are */
    MT_CHECK_EQ_INT(t, c.n[MONO_TYPE_F16] + c.n[MONO_TYPE_Q8_0] + c.n[MONO_TYPE_Q5_0] + c.n[MONO_TYPE_Q4_K] +
                           c.n[MONO_TYPE_Q6_K], 2 + 24 * 12);
    int bad_v = 0, bad_down = 0;
    for (int l = 0; l < N_LAYER; l++) {
        bad_v += c.type_of_v[l] != (more_bits_layer(l) ? MONO_TYPE_Q8_0 : MONO_TYPE_Q5_0);
        bad_down += c.type_of_down[l] != (more_bits_layer(l) ? MONO_TYPE_Q6_K : MONO_TYPE_Q4_K);
    }
    MT_CHECK_MSG(t, bad_v == 0, "q4_k_m: %d attn_v layers with the wrong type", bad_v);
    MT_CHECK_MSG(t, bad_down == 0, "q4_k_m: %d ffn_down layers with the wrong type", bad_down);

    /* Q5_K_M: same layers get Q6_K; 896-column Q5_K falls back to Q5_1 */
    plan_model(MONO_FTYPE_Q5_K_M, MONO_TYPE_Q5_K, &c);
    MT_CHECK_EQ_INT(t, c.n[MONO_TYPE_Q8_0], 13);
    MT_CHECK_EQ_INT(t, c.n[MONO_TYPE_Q5_1], 132);
    MT_CHECK_EQ_INT(t, c.n[MONO_TYPE_Q5_K], 12);
    MT_CHECK_EQ_INT(t, c.n[MONO_TYPE_Q6_K], 12);

    /* Q4_K_S: attn_v of the first 4 layers and ffn_down of the first 3 get Q5_K */
    plan_model(MONO_FTYPE_Q4_K_S, MONO_TYPE_Q4_K, &c);
    MT_CHECK_EQ_INT(t, c.type_of_v[0], MONO_TYPE_Q5_1);
    MT_CHECK_EQ_INT(t, c.type_of_v[4], MONO_TYPE_Q5_0);
    MT_CHECK_EQ_INT(t, c.type_of_down[2], MONO_TYPE_Q5_K);
    MT_CHECK_EQ_INT(t, c.type_of_down[3], MONO_TYPE_Q4_K);
    MT_CHECK_EQ_INT(t, c.embd, MONO_TYPE_Q8_0);

    /* Q4_0: everything Q4_0 but the embeddings (Q6_K wanted, Q8_0 at 896 columns) */
    plan_model(MONO_FTYPE_Q4_0, MONO_TYPE_Q4_0, &c);
    MT_CHECK_EQ_INT(t, c.embd, MONO_TYPE_Q8_0);
    MT_CHECK_EQ_INT(t, c.n[MONO_TYPE_Q4_0], 24 * 7);

    /* Q8_0 and F16: no mixes */
    plan_model(MONO_FTYPE_Q8_0, MONO_TYPE_Q8_0, &c);
    MT_CHECK_EQ_INT(t, c.n[MONO_TYPE_Q8_0], 24 * 7 + 1);
    plan_model(MONO_FTYPE_F16, MONO_TYPE_F16, &c);
    MT_CHECK_EQ_INT(t, c.n[MONO_TYPE_F16], 24 * 12 + 2);

    /* Q2_K: K-quants that do not fit fall back to Q4_0; attn_v Q4_K (n_gqa 7 >= 4) -> Q5_0 */
    plan_model(MONO_FTYPE_Q2_K, MONO_TYPE_Q2_K, &c);
    MT_CHECK_EQ_INT(t, c.type_of_v[7], MONO_TYPE_Q5_0);
    MT_CHECK_EQ_INT(t, c.type_of_down[7], MONO_TYPE_Q3_K);
    MT_CHECK_EQ_INT(t, c.n[MONO_TYPE_Q4_0], 24 * 5); /* q, k, output, gate, up */
}
