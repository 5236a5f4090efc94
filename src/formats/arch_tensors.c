/*
 * arch_tensors.c -- the tensors each architecture needs and their shapes
 * (one table, used by the loader and the engine), and the mapping from
 * Hugging Face tensor names to GGUF's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "formats/model_file.h"

/* What a dimension is, in terms of the hyper-parameters. */
enum { D_ONE, D_EMBD, D_Q, D_KV, D_FF, D_VOCAB, D_HEAD };
/* Which architectures require a tensor (the others accept it if present). */
enum { R_ALL = 1, R_QWEN2 = 2, R_QWEN3 = 4, R_UNTIED = 8, R_NONE = 0 };

typedef struct spec_row {
    const char *name;      /* "%d" stands for the layer */
    int d0, d1;
    int required;
} spec_row;

static const spec_row global_rows[] = {
    {"token_embd.weight", D_EMBD, D_VOCAB, R_ALL},
    {"output_norm.weight", D_EMBD, D_ONE, R_ALL},
    {"output.weight", D_EMBD, D_VOCAB, R_UNTIED},
};

static const spec_row layer_rows[] = {
    {"blk.%d.attn_norm.weight", D_EMBD, D_ONE, R_ALL},
    {"blk.%d.attn_q.weight", D_EMBD, D_Q, R_ALL},
    {"blk.%d.attn_k.weight", D_EMBD, D_KV, R_ALL},
    {"blk.%d.attn_v.weight", D_EMBD, D_KV, R_ALL},
    {"blk.%d.attn_output.weight", D_Q, D_EMBD, R_ALL},
    {"blk.%d.attn_q.bias", D_Q, D_ONE, R_QWEN2},
    {"blk.%d.attn_k.bias", D_KV, D_ONE, R_QWEN2},
    {"blk.%d.attn_v.bias", D_KV, D_ONE, R_QWEN2},
    {"blk.%d.attn_output.bias", D_EMBD, D_ONE, R_NONE},
    {"blk.%d.attn_q_norm.weight", D_HEAD, D_ONE, R_QWEN3},
    {"blk.%d.attn_k_norm.weight", D_HEAD, D_ONE, R_QWEN3},
    {"blk.%d.ffn_norm.weight", D_EMBD, D_ONE, R_ALL},
    {"blk.%d.ffn_gate.weight", D_EMBD, D_FF, R_ALL},
    {"blk.%d.ffn_up.weight", D_EMBD, D_FF, R_ALL},
    {"blk.%d.ffn_down.weight", D_FF, D_EMBD, R_ALL},
};

static int arch_flag(const char *arch) {
    if (!strcmp(arch, "qwen2")) return R_QWEN2;
    if (!strcmp(arch, "qwen3")) return R_QWEN3;
    if (!strcmp(arch, "llama") || !strcmp(arch, "mistral")) return 0;
    return -1;
}

int mono_arch_known(const char *arch) { return arch_flag(arch) >= 0; }

static int64_t dim_value(const mono_hparams *hp, int d) {
    switch (d) {
    case D_EMBD: return hp->n_embd;
    case D_Q: return (int64_t)hp->n_head * hp->head_dim;
    case D_KV: return (int64_t)hp->n_head_kv * hp->head_dim;
    case D_FF: return hp->n_ff;
    case D_VOCAB: return hp->n_vocab;
    case D_HEAD: return hp->head_dim;
    default: return 1;
    }
}

static void fill_spec(const mono_hparams *hp, const spec_row *r, int layer, int flag, mono_tensor_spec *s) {
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, r->name, layer);
    s->ne[0] = dim_value(hp, r->d0);
    s->ne[1] = dim_value(hp, r->d1);
    s->ne[2] = s->ne[3] = 1;
    s->n_dims = r->d1 == D_ONE ? 1 : 2;
    s->required = (r->required & R_ALL) || (r->required & flag) || ((r->required & R_UNTIED) && !hp->tied_embeddings);
}

size_t mono_arch_tensor_specs(const mono_hparams *hp, mono_tensor_spec *out, size_t cap) {
    int flag = arch_flag(hp->arch);
    if (flag < 0 || hp->n_layer < 0) return 0;
    size_t n = 0, ng = sizeof global_rows / sizeof *global_rows, nl = sizeof layer_rows / sizeof *layer_rows;
    for (size_t i = 0; i < ng; i++, n++)
        if (n < cap) fill_spec(hp, &global_rows[i], 0, flag, &out[n]);
    for (int l = 0; l < hp->n_layer; l++)
        for (size_t i = 0; i < nl; i++, n++)
            if (n < cap) fill_spec(hp, &layer_rows[i], l, flag, &out[n]);
    return n;
}

static void shape_str(char *buf, size_t cap, int n_dims, const int64_t *ne) {
    size_t k = 0;
    k += (size_t)snprintf(buf + k, cap - k, "[");
    for (int d = 0; d < n_dims && k < cap; d++)
        k += (size_t)snprintf(buf + k, cap - k, d ? ", %lld" : "%lld", (long long)ne[d]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

static mono_status check_one(const mono_tensor_spec *s, const mono_tensor *t, mono_error *err) {
    char want[96], got[96];
    if (!t) {
        if (!s->required) return MONO_OK;
        return mono_error_set(err, MONO_ERR_FORMAT, "missing tensor '%s'", s->name);
    }
    int same = 1;
    for (int d = 0; d < MONO_MAX_DIMS; d++) same &= t->ne[d] == s->ne[d];
    if (same) return MONO_OK;
    shape_str(want, sizeof want, s->n_dims, s->ne);
    shape_str(got, sizeof got, t->n_dims, t->ne);
    return mono_error_set(err, MONO_ERR_FORMAT, "tensor '%s' has shape %s, the hyper-parameters need %s", s->name, got, want);
}

mono_status mono_arch_check_tensors(const mono_hparams *hp, const mono_tensor *(*lookup)(const void *ctx, const char *name),
                                    const void *ctx, mono_error *err) {
    int flag = arch_flag(hp->arch);
    if (flag < 0) return MONO_OK;
    mono_tensor_spec s;
    size_t ng = sizeof global_rows / sizeof *global_rows, nl = sizeof layer_rows / sizeof *layer_rows;
    mono_status st;
    for (size_t i = 0; i < ng; i++) {
        fill_spec(hp, &global_rows[i], 0, flag, &s);
        if ((st = check_one(&s, lookup(ctx, s.name), err))) return st;
    }
    for (int l = 0; l < hp->n_layer; l++)
        for (size_t i = 0; i < nl; i++) {
            fill_spec(hp, &layer_rows[i], l, flag, &s);
            if ((st = check_one(&s, lookup(ctx, s.name), err))) return st;
        }
    return MONO_OK;
}

/* ---- Hugging Face names ---- */

static const struct { const char *hf, *gguf; } layer_names[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.o_proj.bias", "attn_output.bias"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
};

int mono_hf_tensor_name_map(const char *hf, char *out, size_t cap) {
    const char *g = NULL;
    if (!strcmp(hf, "model.embed_tokens.weight")) g = "token_embd.weight";
    else if (!strcmp(hf, "model.norm.weight")) g = "output_norm.weight";
    else if (!strcmp(hf, "lm_head.weight")) g = "output.weight";
    if (g) {
        if (strlen(g) >= cap) return 0;
        strcpy(out, g);
        return 1;
    }
    const char *p = "model.layers.";
    size_t pl = strlen(p);
    if (strncmp(hf, p, pl)) return 0;
    const char *s = hf + pl;
    long layer = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 6) layer = layer * 10 + (*s++ - '0'), digits++;
    if (!digits || *s != '.' || (digits > 1 && hf[pl] == '0')) return 0;
    s++;
    for (size_t i = 0; i < sizeof layer_names / sizeof *layer_names; i++)
        if (!strcmp(s, layer_names[i].hf)) {
            int n = snprintf(out, cap, "blk.%ld.%s", layer, layer_names[i].gguf);
            return n > 0 && (size_t)n < cap;
        }
    return 0;
}
