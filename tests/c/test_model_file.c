/*
 * test_model_file.c -- the unified model view: the golden Hugging Face
 * folders open with the right hyper-parameters and tensor shapes, GGUF
 * files built here open the same way, and configs that contradict their
 * tensors are refused with a message naming the problem.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "formats/gguf.h"
#include "formats/gguf_write.h"
#include "formats/hf_config.h"
#include "formats/model_file.h"
#include "formats/safetensors.h"
#include "test.h"

typedef struct golden {
    const char *dir;
    int n_layer, n_embd, n_head, n_head_kv, n_ff, n_vocab, tied, type;
} golden;

static const golden goldens[] = {
    {"golden/models/tiny-f32", 2, 64, 4, 2, 160, 1024, 1, MONO_TYPE_F32},
    {"golden/models/small-bf16-untied", 3, 128, 8, 2, 352, 2048, 0, MONO_TYPE_BF16},
    {"golden/models/f16-mha", 2, 96, 6, 6, 256, 1536, 1, MONO_TYPE_F16},
};

static void check_golden(mt_ctx *t, const golden *g) {
    char path[512];
    mono_model_file *mf = NULL;
    mono_error e = {0};
    mt_shared_path(path, sizeof path, g->dir);
    strcat(path, "//");   /* trailing slashes do not change the name */
    if (!MT_CHECK_MSG(t, mono_model_file_open(path, &mf, &e) == MONO_OK, "%s: %s", path, e.message)) return;
    const mono_hparams *hp = mono_model_file_hparams(mf);
    MT_CHECK(t, !strcmp(hp->arch, "qwen2"));
    MT_CHECK_EQ_INT(t, hp->n_layer, g->n_layer);
    MT_CHECK_EQ_INT(t, hp->n_embd, g->n_embd);
    MT_CHECK_EQ_INT(t, hp->n_head, g->n_head);
    MT_CHECK_EQ_INT(t, hp->n_head_kv, g->n_head_kv);
    MT_CHECK_EQ_INT(t, hp->head_dim, g->n_embd / g->n_head);
    MT_CHECK_EQ_INT(t, hp->n_ff, g->n_ff);
    MT_CHECK_EQ_INT(t, hp->n_vocab, g->n_vocab);
    MT_CHECK_EQ_INT(t, hp->tied_embeddings, g->tied);
    MT_CHECK_EQ_INT(t, hp->n_ctx_train, 4096);
    MT_CHECK(t, fabsf(hp->rope_theta - 1e6f) < 1.0f);
    MT_CHECK(t, fabsf(hp->rms_eps - 1e-6f) < 1e-9f);
    MT_CHECK_EQ_INT(t, hp->eos_id, -1);
    MT_CHECK(t, !strcmp(mono_model_file_format(mf), "safetensors"));
    MT_CHECK(t, !strcmp(hp->name, strrchr(g->dir, '/') + 1));
    MT_CHECK(t, mono_model_file_gguf(mf) == NULL);
    /* 12 tensors a layer (7 weights, 3 biases, 2 norms) + embeddings + final norm (+ lm_head) */
    MT_CHECK_EQ_INT(t, mono_model_file_n_tensors(mf), (size_t)(12 * g->n_layer + 2 + !g->tied));
    const mono_tensor *te = mono_model_file_tensor(mf, "token_embd.weight");
    MT_CHECK(t, te && te->n_dims == 2 && te->ne[0] == g->n_embd && te->ne[1] == g->n_vocab && te->type == g->type);
    const mono_tensor *kv = mono_model_file_tensor(mf, "blk.1.attn_k.weight");
    MT_CHECK(t, kv && kv->ne[0] == g->n_embd && kv->ne[1] == g->n_head_kv * (g->n_embd / g->n_head));
    const mono_tensor *kb = mono_model_file_tensor(mf, "blk.0.attn_k.bias");
    MT_CHECK(t, kb && kb->n_dims == 1 && kb->ne[0] == g->n_head_kv * (g->n_embd / g->n_head));
    const mono_tensor *dn = mono_model_file_tensor(mf, "blk.0.ffn_down.weight");
    MT_CHECK(t, dn && dn->ne[0] == g->n_ff && dn->ne[1] == g->n_embd && dn->nbytes == (size_t)g->n_ff * g->n_embd * (g->type == MONO_TYPE_F32 ? 4 : 2));
    MT_CHECK(t, (mono_model_file_tensor(mf, "output.weight") != NULL) == !g->tied);
    MT_CHECK(t, mono_model_file_tensor(mf, "model.embed_tokens.weight") == NULL);
    MT_CHECK(t, mono_model_file_tensor(mf, "blk.0.nonexistent") == NULL);
    /* the norm weights are non-trivial: reading them through the view works */
    const mono_tensor *nw = mono_model_file_tensor(mf, "output_norm.weight");
    if (MT_CHECK(t, nw != NULL)) {
        const mono_type_traits *tr = mono_type_get(nw->type);
        float v[2];
        tr->to_float(nw->data, v, 2);
        MT_CHECK(t, isfinite(v[0]) && v[0] != 0.0f && v[0] != v[1]);
    }
    mono_model_file_close(mf);
}

/* The golden expected.safetensors: input_ids (I32), logits, hidden_<i> (F32). */
static void check_expected(mt_ctx *t, const golden *g) {
    char path[512], rel[256];
    snprintf(rel, sizeof rel, "%s/expected.safetensors", g->dir);
    mt_shared_path(path, sizeof path, rel);
    mono_safetensors *st = NULL;
    mono_error e = {0};
    if (!MT_CHECK_MSG(t, mono_safetensors_open(path, &st, &e) == MONO_OK, "%s", e.message)) return;
    const mono_tensor *ids = mono_safetensors_tensor(st, "input_ids");
    const mono_tensor *lg = mono_safetensors_tensor(st, "logits");
    char hn[32];
    snprintf(hn, sizeof hn, "hidden_%d", g->n_layer);
    const mono_tensor *hl = mono_safetensors_tensor(st, hn);
    if (MT_CHECK(t, ids && lg && hl)) {
        MT_CHECK(t, ids->type == MONO_ST_I32 && ids->n_dims == 1);
        int64_t T = ids->ne[0];
        MT_CHECK(t, lg->type == MONO_TYPE_F32 && lg->n_dims == 2 && lg->ne[0] == g->n_vocab && lg->ne[1] == T);
        MT_CHECK(t, hl->ne[0] == g->n_embd && hl->ne[1] == T);
        int32_t first;
        memcpy(&first, ids->data, 4);
        MT_CHECK(t, first >= 0 && first < g->n_vocab);
    }
    MT_CHECK(t, mono_safetensors_tensor(st, "hidden_0") != NULL);
    mono_safetensors_close(st);
}

/* ---- a fake HF folder built in a temp directory ---- */

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(data, 1, n, f);
    fclose(f);
}

static int copy_file(const char *from, const char *to) {
    mono_blob b;
    if (mono_blob_open(&b, from, NULL) != MONO_OK) return 0;
    write_file(to, b.data, b.size);
    mono_blob_close(&b);
    return 1;
}

/* Opens tiny-f32's weights with a config edited by replacing `from` with `to`. */
static mono_status open_with_config_edit(const char *tmp, const char *from, const char *to, mono_error *e) {
    char src[512], dst[600];
    char *cfg = NULL;
    size_t n;
    mt_shared_path(src, sizeof src, "golden/models/tiny-f32/config.json");
    if (mono_file_read_text(src, &cfg, &n, NULL) != MONO_OK) return MONO_ERR_IO;
    char *at = strstr(cfg, from);
    char *out = malloc(n + strlen(to) + 1);
    if (at) {
        size_t pre = (size_t)(at - cfg);
        memcpy(out, cfg, pre);
        strcpy(out + pre, to);
        strcat(out, at + strlen(from));
    } else {
        strcpy(out, cfg);
    }
    snprintf(dst, sizeof dst, "%s/config.json", tmp);
    write_file(dst, out, strlen(out));
    free(cfg);
    free(out);
    mono_model_file *mf = NULL;
    mono_status st = mono_model_file_open(tmp, &mf, e);
    mono_model_file_close(mf);
    return st;
}

static void check_inconsistent_configs(mt_ctx *t) {
    char tmp[] = "/tmp/mono_mf_XXXXXX", src[512], dst[600];
    if (!mkdtemp(tmp)) { mt_skip(t, "mkdtemp failed"); return; }
    mt_shared_path(src, sizeof src, "golden/models/tiny-f32/model.safetensors");
    snprintf(dst, sizeof dst, "%s/model.safetensors", tmp);
    if (!MT_CHECK(t, copy_file(src, dst))) return;
    mono_error e = {0};
    MT_CHECK(t, open_with_config_edit(tmp, "", "", &e) == MONO_OK);
    static const struct { const char *from, *to, *expect; } cases[] = {
        {"\"hidden_size\": 64", "\"hidden_size\": 128", "token_embd.weight' has shape [64, 1024], the hyper-parameters need [128, 1024] (safetensors name 'model.embed_tokens.weight')"},
        {"\"vocab_size\": 1024", "\"vocab_size\": 1000", "token_embd.weight"},
        {"\"intermediate_size\": 160", "\"intermediate_size\": 128", "ffn_gate.weight"},
        {"\"num_key_value_heads\": 2", "\"num_key_value_heads\": 4", "attn_k.weight"},
        {"\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3", "head count"},
        {"\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3", "blk.2."},
        {"\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1", "layer 1"},
        {"\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false", "output.weight"},
        {"\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\"", "hidden_act"},
        {"\"hidden_size\": 64", "\"hidden_size\": \"64\"", "hidden_size"},
        {"\"hidden_size\": 64", "\"hidden_size\": -64", "hidden_size"},
        {"\"hidden_size\": 64", "\"hidden_size\": 1e300", "hidden_size"},
        {"\"num_attention_heads\": 4", "\"num_attention_heads\": 0", "num_attention_heads"},
        {"\"rms_norm_eps\": 1e-06", "\"rms_norm_eps\": -1", "rms_norm_eps"},
        {"\"model_type\": \"qwen2\"", "\"model_type\": 7", "model_type"},
        {"\"eos_token_id\": null", "\"eos_token_id\": 5000", "eos"},
        {"\"rope_theta\": 1000000.0", "\"rope_theta\": \"big\"", "rope_theta"},
        {"{", "[", "JSON"},
        {"\"use_sliding_window\": false", "\"use_sliding_window\": true", "use_sliding_window"},
        {"\"rope_type\": \"default\"", "\"rope_type\": \"yarn\"", "rope_type"},
        {"\"sliding_window\": null", "\"rope_scaling\": {\"type\": \"linear\"}", "rope_scaling"},
        {"\"full_attention\",\n    \"full_attention\"", "\"full_attention\",\n    \"sliding_attention\"", "layer_types[1]"},
        {"\"vocab_size\": 1024", "\"vocab_size\": 1024,", "config.json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memset(&e, 0, sizeof e);
        mono_status st = open_with_config_edit(tmp, cases[i].from, cases[i].to, &e);
        MT_CHECK_MSG(t, st != MONO_OK && strstr(e.message, cases[i].expect), "case %zu (%s): status %d, message '%s'", i,
                     cases[i].to, st, e.message);
    }
    /* qwen3 needs q/k norms that these weights lack */
    memset(&e, 0, sizeof e);
    MT_CHECK(t, open_with_config_edit(tmp, "\"qwen2\"", "\"qwen3\"", &e) != MONO_OK && strstr(e.message, "attn_q_norm"));
    /* llama accepts the biases (optional there) */
    MT_CHECK(t, open_with_config_edit(tmp, "\"qwen2\"", "\"llama\"", &e) == MONO_OK);
    /* an unknown arch opens (the engine decides) */
    MT_CHECK(t, open_with_config_edit(tmp, "\"qwen2\"", "\"gpt9\"", &e) == MONO_OK);

    /* a .safetensors file alone, a folder without weights, a missing path */
    mono_model_file *mf = NULL;
    MT_CHECK(t, mono_model_file_open(dst, &mf, &e) != MONO_OK && strstr(e.message, "folder"));
    char renamed[700];
    snprintf(renamed, sizeof renamed, "%s/weights.bin", tmp);
    rename(dst, renamed);
    MT_CHECK(t, mono_model_file_open(renamed, &mf, &e) != MONO_OK && strstr(e.message, "looks like a safetensors file"));
    remove(renamed);
    MT_CHECK(t, mono_model_file_open(tmp, &mf, &e) != MONO_OK && strstr(e.message, "model.safetensors"));
    MT_CHECK(t, mono_model_file_open("/nonexistent/model.gguf", &mf, &e) != MONO_OK);
    snprintf(dst, sizeof dst, "%s/config.json", tmp);
    remove(dst);
    MT_CHECK(t, mono_model_file_open(tmp, &mf, &e) != MONO_OK && strstr(e.message, "config.json"));
    rmdir(tmp);
}

static void check_gen_config(mt_ctx *t) {
    mono_gen_defaults gd;
    mono_error e = {0};
    const char *ok = "{\"temperature\": 0.7, \"top_p\": 0.8, \"top_k\": 20, \"repetition_penalty\": 1.05,"
                     " \"do_sample\": true, \"eos_token_id\": [151645, 151643], \"bos_token_id\": 151643}";
    if (MT_CHECK_MSG(t, mono_hf_gen_config_parse(ok, strlen(ok), &gd, &e) == MONO_OK, "%s", e.message)) {
        MT_CHECK(t, gd.has_temperature && fabsf(gd.temperature - 0.7f) < 1e-6f);
        MT_CHECK(t, gd.has_top_p && fabsf(gd.top_p - 0.8f) < 1e-6f);
        MT_CHECK(t, gd.has_top_k && gd.top_k == 20);
        MT_CHECK(t, gd.has_repetition_penalty && fabsf(gd.repetition_penalty - 1.05f) < 1e-6f);
        MT_CHECK(t, gd.has_do_sample && gd.do_sample == 1);
        MT_CHECK(t, gd.n_eos == 2 && gd.eos_ids[0] == 151645 && gd.eos_ids[1] == 151643);
    }
    const char *single = "{\"eos_token_id\": 7}";
    MT_CHECK(t, mono_hf_gen_config_parse(single, strlen(single), &gd, &e) == MONO_OK && gd.n_eos == 1 &&
                gd.eos_ids[0] == 7 && !gd.has_temperature && !gd.has_top_k);
    const char *bad[] = {"{\"temperature\": \"hot\"}", "{\"top_p\": 1.5}", "{\"top_k\": -1}", "{\"do_sample\": 1}",
                         "{\"eos_token_id\": [1,2,3,4,5,6,7,8,9]}", "{\"eos_token_id\": -3}", "[]", "{\"top_k\": 2.5}",
                         "{\"eos_token_id\": [\"a\"]}", "{"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        MT_CHECK_MSG(t, mono_hf_gen_config_parse(bad[i], strlen(bad[i]), &gd, &e) != MONO_OK, "accepted %s", bad[i]);
    /* transformers 4 and 5 spellings of rope theta and dtype */
    mono_hparams hp;
    const char *v4 = "{\"model_type\":\"qwen2\",\"hidden_size\":64,\"num_hidden_layers\":1,\"num_attention_heads\":4,"
                     "\"intermediate_size\":8,\"vocab_size\":10,\"rope_theta\":5e5,\"torch_dtype\":\"bfloat16\","
                     "\"eos_token_id\":[3,4],\"head_dim\":32}";
    if (MT_CHECK_MSG(t, mono_hf_config_parse(v4, strlen(v4), &hp, &e) == MONO_OK, "%s", e.message)) {
        MT_CHECK(t, hp.rope_theta == 5e5f && hp.n_head_kv == 4 && hp.head_dim == 32 && hp.eos_id == 3 && hp.bos_id == -1);
        MT_CHECK(t, hp.tied_embeddings == 0 && hp.n_ctx_train == 4096);
    }
    const char *v5 = "{\"model_type\":\"qwen2\",\"hidden_size\":64,\"num_hidden_layers\":1,\"num_attention_heads\":4,"
                     "\"num_key_value_heads\":2,\"intermediate_size\":8,\"vocab_size\":10,\"dtype\":\"float32\","
                     "\"rope_parameters\":{\"rope_theta\":250.5,\"rope_type\":\"default\"},\"max_position_embeddings\":32768}";
    if (MT_CHECK_MSG(t, mono_hf_config_parse(v5, strlen(v5), &hp, &e) == MONO_OK, "%s", e.message))
        MT_CHECK(t, hp.rope_theta == 250.5f && hp.n_head_kv == 2 && hp.head_dim == 16 && hp.n_ctx_train == 32768);
}

/* config.json fields one at a time, on a minimal valid config */
static void check_config_fields(mt_ctx *t) {
    static const char *base = "{\"model_type\":\"qwen2\",\"hidden_size\":64,\"num_hidden_layers\":2,"
                              "\"num_attention_heads\":4,\"intermediate_size\":8,\"vocab_size\":100%s}";
    static const struct { const char *extra; int ok; const char *want; } cases[] = {
        {"", 1, NULL},
        {",\"num_key_value_heads\":8", 0, "key/value head"},
        {",\"num_key_value_heads\":3", 0, "key/value head"},
        {",\"num_key_value_heads\":null", 1, NULL},
        {",\"head_dim\":null", 1, NULL},
        {",\"head_dim\":0", 0, "head_dim"},
        {",\"head_dim\":\"16\"", 0, "head_dim"},
        {",\"bos_token_id\":[7,8]", 1, NULL},
        {",\"bos_token_id\":100", 0, "bos"},
        {",\"pad_token_id\":-1", 1, NULL},
        {",\"pad_token_id\":-2", 0, "pad_token_id"},
        {",\"eos_token_id\":{}", 0, "eos_token_id"},
        {",\"eos_token_id\":[]", 1, NULL},
        {",\"tie_word_embeddings\":1", 0, "tie_word_embeddings"},
        {",\"tie_word_embeddings\":true", 1, NULL},
        {",\"rope_parameters\":7", 0, "rope_parameters"},
        {",\"rope_parameters\":{\"rope_theta\":-5}", 0, "rope_theta"},
        {",\"rope_theta\":0", 0, "rope theta"},
        {",\"rms_norm_eps\":0", 0, "epsilon"},
        {",\"max_position_embeddings\":0", 0, "max_position_embeddings"},
        {",\"max_position_embeddings\":2147483648", 0, "max_position_embeddings"},
        {",\"hidden_act\":null", 1, NULL},
        {",\"hidden_act\":[\"silu\"]", 0, "hidden_act"},
        {",\"dtype\":5", 0, "dtype"},
        {",\"torch_dtype\":\"float16\"", 1, NULL},
        {",\"layer_types\":\"full_attention\"", 0, "layer_types"},
        {",\"use_sliding_window\":\"no\"", 0, "use_sliding_window"},
        {",\"model_type\":\"a_model_type_name_longer_than_31\"", 0, "model_type"},
    };
    mono_hparams hp;
    mono_error e;
    char buf[512];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(buf, sizeof buf, base, cases[i].extra);
        memset(&e, 0, sizeof e);
        mono_status st = mono_hf_config_parse(buf, strlen(buf), &hp, &e);
        if (cases[i].ok) MT_CHECK_MSG(t, st == MONO_OK, "%s: %s", cases[i].extra, e.message);
        else MT_CHECK_MSG(t, st != MONO_OK && strstr(e.message, cases[i].want), "%s: status %d '%s'", cases[i].extra, st, e.message);
    }
    snprintf(buf, sizeof buf, base, ",\"bos_token_id\":[7,8],\"head_dim\":32");
    if (MT_CHECK(t, mono_hf_config_parse(buf, strlen(buf), &hp, &e) == MONO_OK))
        MT_CHECK(t, hp.bos_id == 7 && hp.head_dim == 32 && hp.n_head_kv == 4 && hp.rope_theta == 10000.0f && hp.rms_eps == 1e-6f);
    /* hidden 66 does not split into 4 heads unless head_dim says how */
    const char *odd = "{\"model_type\":\"qwen2\",\"hidden_size\":66,\"num_hidden_layers\":1,\"num_attention_heads\":4,"
                      "\"intermediate_size\":8,\"vocab_size\":10}";
    MT_CHECK(t, mono_hf_config_parse(odd, strlen(odd), &hp, &e) != MONO_OK && strstr(e.message, "multiple"));
}

/* The per-arch tables: which tensors each architecture requires. */
static void check_arch_specs(mt_ctx *t) {
    mono_hparams hp = {0};
    hp.n_layer = 2; hp.n_embd = 64; hp.n_head = 4; hp.n_head_kv = 2; hp.head_dim = 16; hp.n_ff = 96; hp.n_vocab = 50;
    mono_tensor_spec specs[64];
    static const struct { const char *arch; int q_bias_required, q_norm_required; } archs[] = {
        {"qwen2", 1, 0}, {"llama", 0, 0}, {"mistral", 0, 0}, {"qwen3", 0, 1}};
    for (size_t a = 0; a < sizeof archs / sizeof *archs; a++) {
        snprintf(hp.arch, sizeof hp.arch, "%s", archs[a].arch);
        MT_CHECK(t, mono_arch_known(hp.arch));
        size_t n = mono_arch_tensor_specs(&hp, specs, 64);
        MT_CHECK_EQ_INT(t, n, 3 + 2 * 15);
        int qb = -1, qn = -1, out = -1;
        for (size_t i = 0; i < n; i++) {
            if (!strcmp(specs[i].name, "blk.1.attn_q.bias")) { qb = specs[i].required; MT_CHECK(t, specs[i].ne[0] == 64 && specs[i].n_dims == 1); }
            if (!strcmp(specs[i].name, "blk.1.attn_q_norm.weight")) { qn = specs[i].required; MT_CHECK(t, specs[i].ne[0] == 16); }
            if (!strcmp(specs[i].name, "output.weight")) out = specs[i].required;
            if (!strcmp(specs[i].name, "blk.0.attn_k.weight")) MT_CHECK(t, specs[i].ne[0] == 64 && specs[i].ne[1] == 32);
            if (!strcmp(specs[i].name, "blk.0.ffn_down.weight")) MT_CHECK(t, specs[i].ne[0] == 96 && specs[i].ne[1] == 64);
        }
        MT_CHECK(t, qb == archs[a].q_bias_required && qn == archs[a].q_norm_required && out == 1);
    }
    hp.tied_embeddings = 1;
    mono_arch_tensor_specs(&hp, specs, 64);
    MT_CHECK(t, !strcmp(specs[2].name, "output.weight") && specs[2].required == 0);
    snprintf(hp.arch, sizeof hp.arch, "gpt2");
    MT_CHECK(t, !mono_arch_known(hp.arch) && mono_arch_tensor_specs(&hp, specs, 64) == 0);
    /* a small cap writes only what fits but counts everything */
    snprintf(hp.arch, sizeof hp.arch, "qwen2");
    MT_CHECK(t, mono_arch_tensor_specs(&hp, specs, 2) == 33 && !strcmp(specs[1].name, "output_norm.weight"));
}

void suite_model_file(mt_ctx *t) {
    check_config_fields(t);
    check_arch_specs(t);
    for (size_t i = 0; i < sizeof goldens / sizeof *goldens; i++) {
        check_golden(t, &goldens[i]);
        check_expected(t, &goldens[i]);
    }
    check_inconsistent_configs(t);
    check_gen_config(t);
}
