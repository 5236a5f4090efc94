/*
 * model_file.c -- implements model_file.h: opens a GGUF file (or GGUF bytes
 * in memory) or a Hugging Face folder, reads the hyper-parameters, maps
 * tensor names to GGUF's and checks every tensor the architecture needs
 * against the hyper-parameters before anyone computes with them.
 */
#define _POSIX_C_SOURCE 200809L
#include "formats/model_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/file.h"
#include "core/json.h"
#include "formats/gguf.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"

#define MF_MAX_SHARDS 1024
#define MF_MAX_JSON (64 << 20)   /* config, generation config, shard index */

struct mono_model_file {
    mono_hparams hp;
    mono_gen_defaults gen;
    mono_gguf *gguf;
    mono_safetensors **shards;
    size_t n_shards;
    mono_tensor *tensors;        /* file order (GGUF) or name order per shard (HF) */
    char **names;                /* HF: owned mapped names, else NULL */
    const char **src_names;      /* HF: the safetensors names (in the shards' headers) */
    size_t n;
    size_t *sorted;              /* indices sorted by name */
    char *tokenizer_json;
};

static const mono_tensor *mf_lookup(const void *ctx, const char *name) {
    return mono_model_file_tensor((const mono_model_file *)ctx, name);
}

/* Sorts idx[] by tensor name (qsort in C11 takes no context). */
static void merge_sort(size_t *idx, size_t *tmp, size_t n, const mono_tensor *t) {
    if (n < 2) return;
    size_t h = n / 2, i = 0, j = h, k = 0;
    merge_sort(idx, tmp, h, t);
    merge_sort(idx + h, tmp, n - h, t);
    while (i < h && j < n) tmp[k++] = strcmp(t[idx[j]].name, t[idx[i]].name) < 0 ? idx[j++] : idx[i++];
    while (i < h) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

static mono_status index_tensors(mono_model_file *mf, mono_error *err) {
    size_t n = mf->n ? mf->n : 1;
    size_t *tmp = malloc(n * sizeof *tmp);
    mf->sorted = malloc(n * sizeof *mf->sorted);
    if (!tmp || !mf->sorted) { free(tmp); return mono_error_set(err, MONO_ERR_NOMEM, "out of memory"); }
    for (size_t i = 0; i < mf->n; i++) mf->sorted[i] = i;
    merge_sort(mf->sorted, tmp, mf->n, mf->tensors);
    free(tmp);
    for (size_t i = 1; i < mf->n; i++)
        if (!strcmp(mf->tensors[mf->sorted[i]].name, mf->tensors[mf->sorted[i - 1]].name))
            return mono_error_set(err, MONO_ERR_FORMAT, "duplicate tensor '%s'", mf->tensors[mf->sorted[i]].name);
    return MONO_OK;
}

/* Tensors of layers the model does not have are a sign of a wrong config. */
static mono_status check_layers(const mono_model_file *mf, mono_error *err) {
    for (size_t i = 0; i < mf->n; i++) {
        const char *nm = mf->tensors[i].name;
        if (strncmp(nm, "blk.", 4)) continue;
        char *end;
        long l = strtol(nm + 4, &end, 10);
        if (end != nm + 4 && *end == '.' && (l < 0 || l >= mf->hp.n_layer))
            return mono_error_set(err, MONO_ERR_FORMAT, "tensor '%s' is for layer %ld, but the model has %d layers", nm, l,
                                  mf->hp.n_layer);
    }
    return MONO_OK;
}

/* For a Hugging Face folder, says which safetensors name a message's
 * (GGUF-named) tensor came from. */
static void name_source(const mono_model_file *mf, mono_error *err) {
    if (!err || !mf->src_names) return;
    char quoted[160];
    for (size_t i = 0; i < mf->n; i++) {
        if (!strcmp(mf->src_names[i], mf->tensors[i].name)) continue;
        snprintf(quoted, sizeof quoted, "'%s'", mf->tensors[i].name);
        if (!strstr(err->message, quoted)) continue;
        size_t len = strlen(err->message);
        snprintf(err->message + len, sizeof err->message - len, " (safetensors name '%s')", mf->src_names[i]);
        return;
    }
}

static mono_status check_model(mono_model_file *mf, mono_error *err) {
    mono_status st = index_tensors(mf, err);
    if (!st) st = check_layers(mf, err);
    if (!st) st = mono_arch_check_tensors(&mf->hp, mf_lookup, mf, err);
    if (st) name_source(mf, err);
    return st;
}

/* ---------------- GGUF ---------------- */

static mono_status gguf_u32_opt(const mono_gguf *g, const char *key, int def, int *out, mono_error *err) {
    uint32_t v;
    if (!mono_gguf_find(g, key)) { *out = def; return MONO_OK; }
    mono_status st = mono_gguf_get_u32(g, key, &v, err);
    if (st) return st;
    if (v > INT32_MAX) return mono_error_set(err, MONO_ERR_FORMAT, "metadata key '%s' = %u is too large", key, v);
    *out = (int)v;
    return MONO_OK;
}

static mono_status gguf_u32_req(const mono_gguf *g, const char *key, int *out, mono_error *err) {
    if (!mono_gguf_find(g, key)) return mono_error_set(err, MONO_ERR_FORMAT, "metadata key '%s' is missing", key);
    return gguf_u32_opt(g, key, 0, out, err);
}

static mono_status gguf_f32_opt(const mono_gguf *g, const char *key, float def, float *out, mono_error *err) {
    if (!mono_gguf_find(g, key)) { *out = def; return MONO_OK; }
    return mono_gguf_get_f32(g, key, out, err);
}

static mono_status gguf_hparams(const mono_gguf *g, mono_hparams *hp, mono_error *err) {
    mono_gguf_str s;
    char key[96];
    mono_status st;
    memset(hp, 0, sizeof *hp);
    if ((st = mono_gguf_get_str(g, "general.architecture", &s, err))) return st;
    if (s.len == 0 || s.len >= sizeof hp->arch || memchr(s.ptr, 0, s.len))
        return mono_error_set(err, MONO_ERR_FORMAT, "general.architecture is empty or too long");
    memcpy(hp->arch, s.ptr, s.len);
    if (mono_gguf_find(g, "general.name") && !mono_gguf_get_str(g, "general.name", &s, NULL)) {
        size_t n = s.len < sizeof hp->name - 1 ? s.len : sizeof hp->name - 1;
        memcpy(hp->name, s.ptr, n);
        for (size_t i = 0; i < n; i++) if (!hp->name[i]) hp->name[i] = '?';
    }
#define K(suffix) (snprintf(key, sizeof key, "%s.%s", hp->arch, suffix), key)
    if ((st = gguf_u32_req(g, K("block_count"), &hp->n_layer, err)) ||
        (st = gguf_u32_req(g, K("embedding_length"), &hp->n_embd, err)) ||
        (st = gguf_u32_req(g, K("feed_forward_length"), &hp->n_ff, err)) ||
        (st = gguf_u32_req(g, K("attention.head_count"), &hp->n_head, err)) ||
        (st = gguf_u32_opt(g, K("attention.head_count_kv"), hp->n_head, &hp->n_head_kv, err)) ||
        (st = gguf_u32_opt(g, K("context_length"), 4096, &hp->n_ctx_train, err)) ||
        (st = gguf_f32_opt(g, K("rope.freq_base"), 10000.0f, &hp->rope_theta, err)) ||
        (st = gguf_f32_opt(g, K("attention.layer_norm_rms_epsilon"), 1e-6f, &hp->rms_eps, err)))
        return st;
    if (hp->n_head <= 0) return mono_error_set(err, MONO_ERR_FORMAT, "%s is 0", K("attention.head_count"));
    if ((st = gguf_u32_opt(g, K("attention.key_length"), hp->n_embd / hp->n_head, &hp->head_dim, err))) return st;
    mono_gguf_str scaling;
    if (mono_gguf_find(g, K("rope.scaling.type")) && !mono_gguf_get_str(g, key, &scaling, NULL) &&
        !(scaling.len == 4 && !memcmp(scaling.ptr, "none", 4)))
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "%s = '%.*s': rope scaling is not supported", key,
                              (int)(scaling.len < 32 ? scaling.len : 32), scaling.ptr);
    K("attention.key_length");
#undef K
    if (!mono_gguf_find(g, key) && hp->n_embd % hp->n_head)
        return mono_error_set(err, MONO_ERR_FORMAT, "embedding length %d is not a multiple of the head count %d", hp->n_embd, hp->n_head);
    hp->bos_id = hp->eos_id = hp->pad_id = -1;
    if ((st = gguf_u32_opt(g, "tokenizer.ggml.bos_token_id", -1, &hp->bos_id, err)) ||
        (st = gguf_u32_opt(g, "tokenizer.ggml.eos_token_id", -1, &hp->eos_id, err)) ||
        (st = gguf_u32_opt(g, "tokenizer.ggml.padding_token_id", -1, &hp->pad_id, err)))
        return st;
    const mono_tensor *emb = mono_gguf_tensor(g, "token_embd.weight");
    if (!emb) return mono_error_set(err, MONO_ERR_FORMAT, "missing tensor 'token_embd.weight'");
    if (emb->n_dims != 2 || emb->ne[1] > INT32_MAX)
        return mono_error_set(err, MONO_ERR_FORMAT, "tensor 'token_embd.weight' must be 2-dimensional");
    hp->n_vocab = (int)emb->ne[1];
    hp->tied_embeddings = mono_gguf_tensor(g, "output.weight") == NULL;
    return mono_hparams_check(hp, err);
}

static mono_status open_gguf(mono_model_file *mf, mono_error *err) {
    mono_status st = gguf_hparams(mf->gguf, &mf->hp, err);
    if (st) return st;
    mf->n = mono_gguf_n_tensors(mf->gguf);
    mf->tensors = malloc((mf->n ? mf->n : 1) * sizeof *mf->tensors);
    if (!mf->tensors) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < mf->n; i++) mf->tensors[i] = *mono_gguf_tensor_at(mf->gguf, i);
    /* GGUF carries its end-of-generation id in the tokenizer metadata */
    if (mf->hp.eos_id >= 0) { mf->gen.n_eos = 1; mf->gen.eos_ids[0] = mf->hp.eos_id; }
    return check_model(mf, err);
}

/* ---------------- Hugging Face folder ---------------- */

static char *path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

static int file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Reads dir/name (JSON) and hands it to parse; absent + optional is OK. */
static mono_status read_json_file(const char *dir, const char *name, int optional, char **text, size_t *len, mono_error *err) {
    char *p = path_join(dir, name);
    *text = NULL;
    if (!p) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    if (!file_exists(p)) {
        free(p);
        if (optional) return MONO_OK;
        return mono_error_set(err, MONO_ERR_IO, "%s: no %s in this folder", dir, name);
    }
    struct stat sb;
    if (stat(p, &sb) == 0 && sb.st_size > MF_MAX_JSON) {
        mono_status st = mono_error_set(err, MONO_ERR_FORMAT, "%s is %lld bytes: too large for a %s", p,
                                        (long long)sb.st_size, name);
        free(p);
        return st;
    }
    mono_status st = mono_file_read_text(p, text, len, err);
    free(p);
    return st;
}

static mono_status add_shard(mono_model_file *mf, const char *dir, const char *file, mono_error *err) {
    for (const char *c = file; *c; c++)
        if (*c == '/' || *c == '\\') return mono_error_set(err, MONO_ERR_FORMAT, "shard name '%s' must be a plain file name", file);
    if (!*file || !strcmp(file, ".") || !strcmp(file, ".."))
        return mono_error_set(err, MONO_ERR_FORMAT, "bad shard name '%s'", file);
    if (mf->n_shards >= MF_MAX_SHARDS) return mono_error_set(err, MONO_ERR_FORMAT, "more than %d shards", MF_MAX_SHARDS);
    char *p = path_join(dir, file);
    if (!p) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    mono_status st = mono_safetensors_open(p, &mf->shards[mf->n_shards], err);
    free(p);
    if (st) return st;
    mf->n_shards++;
    return MONO_OK;
}

static mono_status open_shards_from_index(mono_model_file *mf, const char *dir, const char *text, size_t len, mono_error *err) {
    mono_json_doc *doc;
    mono_status st = mono_json_parse(text, len, &doc, err);
    if (st) return mono_error_prefix(err, "model.safetensors.index.json");
    const mono_json *wm = mono_json_get_typed(mono_json_root(doc), "weight_map", MONO_JSON_OBJECT);
    if (!wm) { mono_json_doc_free(doc); return mono_error_set(err, MONO_ERR_FORMAT, "model.safetensors.index.json: no 'weight_map' object"); }
    mf->shards = calloc(MF_MAX_SHARDS, sizeof *mf->shards);
    if (!mf->shards) { mono_json_doc_free(doc); return mono_error_set(err, MONO_ERR_NOMEM, "out of memory"); }
    /* open each distinct shard once (in first-mention order) */
    const char **names = calloc(wm->len ? wm->len : 1, sizeof *names);
    size_t n_names = 0;
    if (!names) { mono_json_doc_free(doc); return mono_error_set(err, MONO_ERR_NOMEM, "out of memory"); }
    for (uint32_t i = 0; i < wm->len && !st; i++) {
        const mono_json *v = &wm->u.items[i];
        if (v->type != MONO_JSON_STRING || strlen(v->u.str) != v->len) {
            st = mono_error_set(err, MONO_ERR_FORMAT, "weight_map['%s'] is not a file name", wm->u.items[i].key);
            break;
        }
        size_t k = 0;
        while (k < n_names && strcmp(names[k], v->u.str)) k++;
        if (k == n_names) {
            names[n_names++] = v->u.str;
            st = add_shard(mf, dir, v->u.str, err);
        }
    }
    /* every tensor the index names must be in the shard it names */
    for (uint32_t i = 0; i < wm->len && !st; i++) {
        const mono_json *v = &wm->u.items[i];
        size_t k = 0;
        while (strcmp(names[k], v->u.str)) k++;
        if (!mono_safetensors_tensor(mf->shards[k], v->key))
            st = mono_error_set(err, MONO_ERR_FORMAT, "tensor '%s' is not in %s as the index says", v->key, v->u.str);
    }
    free(names);
    mono_json_doc_free(doc);
    if (!st && mf->n_shards == 0) st = mono_error_set(err, MONO_ERR_FORMAT, "model.safetensors.index.json names no shards");
    return st;
}

static mono_status collect_hf_tensors(mono_model_file *mf, mono_error *err) {
    size_t total = 0;
    for (size_t s = 0; s < mf->n_shards; s++) total += mono_safetensors_n_tensors(mf->shards[s]);
    mf->tensors = calloc(total ? total : 1, sizeof *mf->tensors);
    mf->names = calloc(total ? total : 1, sizeof *mf->names);
    mf->src_names = calloc(total ? total : 1, sizeof *mf->src_names);
    if (!mf->tensors || !mf->names || !mf->src_names) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    for (size_t s = 0; s < mf->n_shards; s++)
        for (size_t i = 0; i < mono_safetensors_n_tensors(mf->shards[s]); i++) {
            const mono_tensor *t = mono_safetensors_tensor_at(mf->shards[s], i);
            if (t->type != MONO_TYPE_F32 && t->type != MONO_TYPE_F16 && t->type != MONO_TYPE_BF16)
                return mono_error_set(err, MONO_ERR_UNSUPPORTED, "tensor '%s': dtype %s (model weights must be F32, F16 or BF16)",
                                      t->name, mono_safetensors_type_name(t->type));
            char buf[128];
            const char *nm = mono_hf_tensor_name_map(t->name, buf, sizeof buf) ? buf : t->name;
            mf->names[mf->n] = malloc(strlen(nm) + 1);
            if (!mf->names[mf->n]) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
            strcpy(mf->names[mf->n], nm);
            mf->src_names[mf->n] = t->name;
            mf->tensors[mf->n] = *t;
            mf->tensors[mf->n].name = mf->names[mf->n];
            mf->n++;
        }
    return MONO_OK;
}

static mono_status open_hf(mono_model_file *mf, const char *dir, mono_error *err) {
    char *text;
    size_t len;
    mono_status st = read_json_file(dir, "config.json", 0, &text, &len, err);
    if (st) return st;
    st = mono_hf_config_parse(text, len, &mf->hp, err);
    free(text);
    if (st) return st;
    if ((st = read_json_file(dir, "generation_config.json", 1, &text, &len, err))) return st;
    if (text) {
        st = mono_hf_gen_config_parse(text, len, &mf->gen, err);
        free(text);
        if (st) return st;
    }
    for (int i = 0; i < mf->gen.n_eos; i++)
        if (mf->gen.eos_ids[i] >= mf->hp.n_vocab)
            return mono_error_set(err, MONO_ERR_FORMAT, "generation_config.json: eos_token_id %d is outside the vocabulary of %d",
                                  mf->gen.eos_ids[i], mf->hp.n_vocab);
    if (mf->gen.n_eos == 0 && mf->hp.eos_id >= 0) { mf->gen.n_eos = 1; mf->gen.eos_ids[0] = mf->hp.eos_id; }
    /* the folder's name stands in for general.name ("a/b/" names b) */
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dl--;
    size_t b = dl;
    while (b > 0 && dir[b - 1] != '/') b--;
    snprintf(mf->hp.name, sizeof mf->hp.name, "%.*s", (int)(dl - b), dir + b);

    if ((st = read_json_file(dir, "model.safetensors.index.json", 1, &text, &len, err))) return st;
    if (text) {
        st = open_shards_from_index(mf, dir, text, len, err);
        free(text);
    } else {
        char *p = path_join(dir, "model.safetensors");
        if (!p) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
        int ok = file_exists(p);
        free(p);
        if (!ok) return mono_error_set(err, MONO_ERR_IO, "%s: no model.safetensors or model.safetensors.index.json", dir);
        mf->shards = calloc(1, sizeof *mf->shards);
        if (!mf->shards) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
        st = add_shard(mf, dir, "model.safetensors", err);
    }
    if (st) return st;
    if ((st = collect_hf_tensors(mf, err))) return st;
    char *tj = path_join(dir, "tokenizer.json");
    if (!tj) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    if (file_exists(tj)) mf->tokenizer_json = tj; else free(tj);
    return check_model(mf, err);
}

/* ---------------- public ---------------- */

static int has_suffix(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* An 8-byte little-endian length, then '{': a safetensors header. */
static int looks_like_safetensors(const char *path) {
    mono_blob b;
    if (mono_blob_open(&b, path, NULL) != MONO_OK) return 0;
    int yes = b.size >= 10 && b.data[8] == '{' && b.data[7] == 0 && b.data[6] == 0;
    mono_blob_close(&b);
    return yes;
}

mono_status mono_model_file_open(const char *path, mono_model_file **out, mono_error *err) {
    struct stat sb;
    *out = NULL;
    if (!path || !*path) return mono_error_set(err, MONO_ERR_INVALID_ARG, "no model path given");
    if (stat(path, &sb) != 0) return mono_error_set(err, MONO_ERR_IO, "%s: %s", path, strerror(errno));
    mono_model_file *mf = calloc(1, sizeof *mf);
    if (!mf) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    mono_status st;
    if (S_ISDIR(sb.st_mode)) {
        /* a folder with model.gguf and no config.json (what the training
         * pipeline installs as models/default) means that file */
        char *cfg = path_join(path, "config.json"), *gguf = path_join(path, "model.gguf");
        if (!cfg || !gguf) {
            st = mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
        } else if (!file_exists(cfg) && file_exists(gguf)) {
            st = mono_gguf_open(gguf, &mf->gguf, err);
            if (!st) st = open_gguf(mf, err);
        } else {
            st = open_hf(mf, path, err);
        }
        free(cfg);
        free(gguf);
    } else if (has_suffix(path, ".safetensors")) {
        st = mono_error_set(err, MONO_ERR_INVALID_ARG,
                            "a .safetensors file alone is not a model: need the folder (with config.json) that holds it");
    } else {
        st = mono_gguf_open(path, &mf->gguf, err);
        if (!st) st = open_gguf(mf, err);
        else if (looks_like_safetensors(path))
            st = mono_error_set(err, MONO_ERR_INVALID_ARG,
                                "%s looks like a safetensors file, which alone is not a model: need the folder (with config.json) that holds it",
                                path);
    }
    if (st) {
        mono_model_file_close(mf);
        /* gguf_open already prefixed its own errors with the path */
        if (!err || strncmp(err->message, path, strlen(path))) mono_error_prefix(err, "%s", path);
        return st;
    }
    *out = mf;
    return MONO_OK;
}

mono_status mono_model_file_open_memory(const void *data, size_t size, mono_model_file **out, mono_error *err) {
    *out = NULL;
    mono_model_file *mf = calloc(1, sizeof *mf);
    if (!mf) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    mono_status st = mono_gguf_open_memory(data, size, &mf->gguf, err);
    if (!st) st = open_gguf(mf, err);
    if (st) { mono_model_file_close(mf); return st; }
    *out = mf;
    return MONO_OK;
}

void mono_model_file_release(const mono_model_file *mf, const void *p, size_t n) {
    if (!mf) return;
    if (mf->gguf) mono_gguf_release(mf->gguf, p, n);
    for (size_t i = 0; i < mf->n_shards; i++) mono_safetensors_release(mf->shards[i], p, n);
}

void mono_model_file_close(mono_model_file *mf) {
    if (!mf) return;
    for (size_t i = 0; mf->names && i < mf->n; i++) free(mf->names[i]);
    for (size_t s = 0; s < mf->n_shards; s++) mono_safetensors_close(mf->shards[s]);
    free(mf->names); free(mf->src_names); free(mf->shards); free(mf->tensors); free(mf->sorted); free(mf->tokenizer_json);
    mono_gguf_close(mf->gguf);
    free(mf);
}

const mono_hparams *mono_model_file_hparams(const mono_model_file *mf) { return &mf->hp; }
const mono_gen_defaults *mono_model_file_gen_defaults(const mono_model_file *mf) { return &mf->gen; }
size_t mono_model_file_n_tensors(const mono_model_file *mf) { return mf->n; }
const mono_tensor *mono_model_file_tensor_at(const mono_model_file *mf, size_t i) { return i < mf->n ? &mf->tensors[i] : NULL; }
const struct mono_gguf *mono_model_file_gguf(const mono_model_file *mf) { return mf->gguf; }
const char *mono_model_file_tokenizer_json(const mono_model_file *mf) { return mf->tokenizer_json; }
const char *mono_model_file_format(const mono_model_file *mf) { return mf->gguf ? "gguf" : "safetensors"; }

const mono_tensor *mono_model_file_tensor(const mono_model_file *mf, const char *name) {
    size_t lo = 0, hi = mf->n;
    if (!mf->sorted || !name) return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(mf->tensors[mf->sorted[mid]].name, name);
        if (c == 0) return &mf->tensors[mf->sorted[mid]];
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return NULL;
}
