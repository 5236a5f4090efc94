/*
 * gguf_convert.c -- see gguf_convert.h. Metadata follows llama.cpp's names
 * (the keys its loader reads for qwen2/llama/qwen3); the tokenizer becomes
 * a "gpt2" (byte-level BPE) vocabulary the way llama.cpp's own
 * convert_hf_to_gguf.py writes it: ids without a token are "[PAD<i>]" of
 * type UNUSED, added tokens are CONTROL (special, or looking special like
 * "<|...|>") or USER_DEFINED. Checked against a real Qwen2.5 GGUF: tokens,
 * token types and merges come out identical.
 */
#include "formats/gguf_convert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/file.h"
#include "core/json.h"
#include "formats/gguf.h"
#include "formats/gguf_write.h"
#include "monologue.h"

enum { TOK_NORMAL = 1, TOK_CONTROL = 3, TOK_USER_DEFINED = 4, TOK_UNUSED = 5 };

void mono_convert_options_init(mono_convert_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->type = -1;
}

/* Everything the writer points at until the file is written. */
typedef struct convert_state {
    mono_gguf_writer *w;
    void **bufs;
    size_t n_bufs, cap_bufs;
} convert_state;

static void *keep(convert_state *cs, size_t n) {
    if (cs->n_bufs == cs->cap_bufs) {
        size_t nc = cs->cap_bufs ? cs->cap_bufs * 2 : 64;
        void **nb = realloc(cs->bufs, nc * sizeof *nb);
        if (!nb) return NULL;
        cs->bufs = nb;
        cs->cap_bufs = nc;
    }
    void *p = malloc(n ? n : 1);
    if (p) cs->bufs[cs->n_bufs++] = p;
    return p;
}

/* ---- tokenizer ---- */

typedef struct vocab {
    const char **str;
    size_t *len;
    int32_t *type;
    const char **merges;
    size_t *merge_len;
    size_t n_merges;
} vocab;

/* GPT-2's byte-to-unicode table in id order: id i is byte bs[i], written as
 * the character cs[i] (UTF-8 in out, returns its length). */
static size_t byte_token(int id, char *out) {
    int bs[256], n = 0, extra = 0;
    unsigned cp = 0;
    for (int b = '!'; b <= '~'; b++) bs[n++] = b;
    for (int b = 0xA1; b <= 0xAC; b++) bs[n++] = b;
    for (int b = 0xAE; b <= 0xFF; b++) bs[n++] = b;
    int printable = n;
    for (int b = 0; b < 256; b++) {
        int found = 0;
        for (int i = 0; i < printable; i++) found |= bs[i] == b;
        if (!found) {
            if (n == id) cp = 256u + (unsigned)extra;
            bs[n++] = b;
            extra++;
        }
    }
    if (id < printable) cp = (unsigned)bs[id];
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
}

static mono_status vocab_alloc(convert_state *cs, vocab *v, size_t n) {
    v->str = keep(cs, n * sizeof *v->str);
    v->len = keep(cs, n * sizeof *v->len);
    v->type = keep(cs, n * sizeof *v->type);
    if (!v->str || !v->len || !v->type) return MONO_ERR_NOMEM;
    memset(v->str, 0, n * sizeof *v->str);
    return MONO_OK;
}

static mono_status fill_pads(convert_state *cs, vocab *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (v->str[i]) continue;
        char *s = keep(cs, 24);
        if (!s) return MONO_ERR_NOMEM;
        v->len[i] = (size_t)snprintf(s, 24, "[PAD%zu]", i);
        v->str[i] = s;
        v->type[i] = TOK_UNUSED;
    }
    return MONO_OK;
}

static mono_status placeholder_vocab(convert_state *cs, vocab *v, size_t n, mono_error *err) {
    if (vocab_alloc(cs, v, n)) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n && i < 256; i++) {
        char *s = keep(cs, 2);
        if (!s) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
        v->len[i] = byte_token((int)i, s);
        v->str[i] = s;
        v->type[i] = TOK_NORMAL;
    }
    if (fill_pads(cs, v, n)) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    return MONO_OK;
}

static mono_status set_token(vocab *v, size_t n, int64_t id, const char *s, size_t len, int type, mono_error *err) {
    if (id < 0 || (uint64_t)id >= n)
        return mono_error_set(err, MONO_ERR_FORMAT, "tokenizer.json: token id %lld is outside the model's vocabulary of %zu",
                              (long long)id, n);
    v->str[id] = s;
    v->len[id] = len;
    v->type[id] = type;
    return MONO_OK;
}

static int ends_with(const char *s, size_t n, const char *suf) {
    size_t k = strlen(suf);
    return n >= k && !memcmp(s + n - k, suf, k);
}

/* llama.cpp's convert_hf_to_gguf.py (does_token_look_special) makes added
 * tokens like these CONTROL even when tokenizer.json says special: false. */
static int looks_special(const char *s, size_t n) {
    static const char *exact[] = {"<pad>", "<mask>", "<2mass>", "[@BOS@]"};
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
        if (n == strlen(exact[i]) && !memcmp(s, exact[i], n)) return 1;
    if (n >= 4 && !memcmp(s, "<|", 2) && ends_with(s, n, "|>")) return 1;
    if (n >= 8 && !memcmp(s, "<\xef\xbd\x9c", 4) && ends_with(s, n, "\xef\xbd\x9c>")) return 1;   /* <｜ ... ｜> */
    if (n >= 8 && !memcmp(s, "<unused", 7) && s[n - 1] == '>') return 1;
    return 0;
}

static mono_status json_vocab(convert_state *cs, const mono_json *root, vocab *v, size_t n, mono_error *err) {
    const mono_json *model = mono_json_get_typed(root, "model", MONO_JSON_OBJECT);
    const mono_json *ty = model ? mono_json_get_typed(model, "type", MONO_JSON_STRING) : NULL;
    const mono_json *vo = model ? mono_json_get_typed(model, "vocab", MONO_JSON_OBJECT) : NULL;
    const mono_json *me = model ? mono_json_get_typed(model, "merges", MONO_JSON_ARRAY) : NULL;
    if (!vo || !me || (ty && strcmp(ty->u.str, "BPE")))
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "tokenizer.json: only BPE models (model.vocab + model.merges) convert");
    if (vocab_alloc(cs, v, n)) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    mono_status st;
    for (uint32_t i = 0; i < vo->len; i++) {
        int64_t id;
        if (!mono_json_as_int64(&vo->u.items[i], &id)) return mono_error_set(err, MONO_ERR_FORMAT, "tokenizer.json: vocab id is not an integer");
        if ((st = set_token(v, n, id, vo->u.items[i].key, vo->u.items[i].key_len, TOK_NORMAL, err))) return st;
    }
    const mono_json *added = mono_json_get_typed(root, "added_tokens", MONO_JSON_ARRAY);
    for (uint32_t i = 0; added && i < added->len; i++) {
        const mono_json *a = &added->u.items[i];
        const mono_json *c = mono_json_get_typed(a, "content", MONO_JSON_STRING);
        const mono_json *sp = mono_json_get_typed(a, "special", MONO_JSON_BOOL);
        int64_t id;
        if (!c || !mono_json_as_int64(mono_json_get(a, "id"), &id))
            return mono_error_set(err, MONO_ERR_FORMAT, "tokenizer.json: added_tokens[%u] needs id and content", i);
        int control = (sp && sp->u.boolean) || looks_special(c->u.str, c->len);
        if ((st = set_token(v, n, id, c->u.str, c->len, control ? TOK_CONTROL : TOK_USER_DEFINED, err))) return st;
    }
    if (fill_pads(cs, v, n)) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    v->n_merges = me->len;
    v->merges = keep(cs, me->len * sizeof *v->merges);
    v->merge_len = keep(cs, me->len * sizeof *v->merge_len);
    if (!v->merges || !v->merge_len) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < me->len; i++) {
        const mono_json *m = &me->u.items[i];
        if (m->type == MONO_JSON_STRING) {
            v->merges[i] = m->u.str;
            v->merge_len[i] = m->len;
        } else if (m->type == MONO_JSON_ARRAY && m->len == 2 && m->u.items[0].type == MONO_JSON_STRING &&
                   m->u.items[1].type == MONO_JSON_STRING) {
            size_t a = m->u.items[0].len, b = m->u.items[1].len;
            char *s = keep(cs, a + b + 1);
            if (!s) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
            memcpy(s, m->u.items[0].u.str, a);
            s[a] = ' ';
            memcpy(s + a + 1, m->u.items[1].u.str, b);
            v->merges[i] = s;
            v->merge_len[i] = a + b + 1;
        } else {
            return mono_error_set(err, MONO_ERR_FORMAT, "tokenizer.json: merges[%u] is neither \"a b\" nor [\"a\", \"b\"]", i);
        }
    }
    return MONO_OK;
}

static mono_status write_vocab(convert_state *cs, const mono_hparams *hp, const vocab *v, mono_error *err) {
    mono_gguf_writer *w = cs->w;
    size_t n = (size_t)hp->n_vocab;
    const char *pre = !strcmp(hp->arch, "qwen2") || !strcmp(hp->arch, "qwen3") ? "qwen2" : "default";
    mono_status st;
    if ((st = mono_gguf_writer_add_kv_str(w, "tokenizer.ggml.model", "gpt2", err)) ||
        (st = mono_gguf_writer_add_kv_str(w, "tokenizer.ggml.pre", pre, err)) ||
        (st = mono_gguf_writer_add_kv_arr_str(w, "tokenizer.ggml.tokens", v->str, v->len, n, err)) ||
        (st = mono_gguf_writer_add_kv_arr(w, "tokenizer.ggml.token_type", MONO_GGUF_INT32, v->type, n, err)) ||
        (st = mono_gguf_writer_add_kv_arr_str(w, "tokenizer.ggml.merges", v->merges, v->merge_len, v->n_merges, err)) ||
        (st = mono_gguf_writer_add_kv_bool(w, "tokenizer.ggml.add_bos_token", 0, err)))
        return st;
    if (hp->bos_id >= 0 && (st = mono_gguf_writer_add_kv_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)hp->bos_id, err))) return st;
    if (hp->eos_id >= 0 && (st = mono_gguf_writer_add_kv_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)hp->eos_id, err))) return st;
    if (hp->pad_id >= 0 && (st = mono_gguf_writer_add_kv_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)hp->pad_id, err))) return st;
    return MONO_OK;
}

static mono_status add_tokenizer(convert_state *cs, const mono_model_file *mf, const mono_convert_options *opt, mono_error *err) {
    const mono_hparams *hp = mono_model_file_hparams(mf);
    const char *path = opt->tokenizer_json ? opt->tokenizer_json : mono_model_file_tokenizer_json(mf);
    vocab v = {0};
    if (!path) {
        mono_status st = placeholder_vocab(cs, &v, (size_t)hp->n_vocab, err);
        return st ? st : write_vocab(cs, hp, &v, err);
    }
    char *text;
    size_t len;
    mono_json_doc *doc = NULL;
    mono_status st = mono_file_read_text(path, &text, &len, err);
    if (st) return st;
    /* A broken vocabulary never goes into the file: the tokenizer loader
     * checks what the copy below does not (merges naming unknown tokens,
     * duplicate ids, wrong types). What it merely cannot run (another
     * pre-tokenizer or normalizer) llama.cpp may, so that converts. */
    mono_tokenizer *check = NULL;
    st = mono_tokenizer_load_json_bytes(text, len, &check, err);
    mono_tokenizer_free(check);
    if (st && st != MONO_ERR_UNSUPPORTED) { free(text); return mono_error_prefix(err, "%s", path); }
    st = mono_json_parse(text, len, &doc, err);
    free(text);
    if (st) return mono_error_prefix(err, "%s", path);
    st = json_vocab(cs, mono_json_root(doc), &v, (size_t)hp->n_vocab, err);
    if (!st) st = write_vocab(cs, hp, &v, err);   /* copies the strings */
    mono_json_doc_free(doc);
    return st;
}

/* ---- metadata ---- */

static mono_status add_hparams(mono_gguf_writer *w, const mono_hparams *hp, const char *name, mono_error *err) {
    char key[96];
    mono_status st;
#define K(s) (snprintf(key, sizeof key, "%s.%s", hp->arch, s), key)
    if ((st = mono_gguf_writer_add_kv_str(w, "general.architecture", hp->arch, err)) ||
        (st = mono_gguf_writer_add_kv_str(w, "general.name", name, err)) ||
        (st = mono_gguf_writer_add_kv_u32(w, K("block_count"), (uint32_t)hp->n_layer, err)) ||
        (st = mono_gguf_writer_add_kv_u32(w, K("context_length"), (uint32_t)hp->n_ctx_train, err)) ||
        (st = mono_gguf_writer_add_kv_u32(w, K("embedding_length"), (uint32_t)hp->n_embd, err)) ||
        (st = mono_gguf_writer_add_kv_u32(w, K("feed_forward_length"), (uint32_t)hp->n_ff, err)) ||
        (st = mono_gguf_writer_add_kv_u32(w, K("attention.head_count"), (uint32_t)hp->n_head, err)) ||
        (st = mono_gguf_writer_add_kv_u32(w, K("attention.head_count_kv"), (uint32_t)hp->n_head_kv, err)) ||
        (st = mono_gguf_writer_add_kv_u32(w, K("attention.key_length"), (uint32_t)hp->head_dim, err)) ||
        (st = mono_gguf_writer_add_kv_u32(w, K("attention.value_length"), (uint32_t)hp->head_dim, err)) ||
        (st = mono_gguf_writer_add_kv_f32(w, K("rope.freq_base"), hp->rope_theta, err)) ||
        (st = mono_gguf_writer_add_kv_f32(w, K("attention.layer_norm_rms_epsilon"), hp->rms_eps, err)))
        return st;
#undef K
    return MONO_OK;
}

/* A GGUF source keeps its metadata (tokenizer included) byte for byte. */
static mono_status copy_metadata(mono_gguf_writer *w, const mono_gguf *g, const char *name, int retyped, mono_error *err) {
    mono_status st;
    for (size_t i = 0; i < mono_gguf_n_kv(g); i++) {
        const mono_gguf_kv *kv = mono_gguf_kv_at(g, i);
        /* the file type describes the tensors: stale once they are re-typed */
        if (!strcmp(kv->key, "general.alignment") || (retyped && !strcmp(kv->key, "general.file_type"))) continue;
        if (name && !strcmp(kv->key, "general.name")) continue;
        size_t hdr = kv->type == MONO_GGUF_STRING ? 8 : kv->type == MONO_GGUF_ARRAY ? 12 : 0;
        if ((st = mono_gguf_writer_add_kv_raw(w, kv->key, kv->type, kv->data - hdr, kv->size + hdr, err))) return st;
    }
    if (name && (st = mono_gguf_writer_add_kv_str(w, "general.name", name, err))) return st;
    return MONO_OK;
}

/* ---- tensors ---- */

static mono_status add_tensor(convert_state *cs, const mono_tensor *t, int want, mono_error *err) {
    if (want == t->type)
        return mono_gguf_writer_add_tensor(cs->w, t->name, t->type, t->n_dims, t->ne, t->data, t->nbytes, err);
    const mono_type_traits *src = mono_type_get(t->type), *dst = mono_type_get(want);
    if (!src || !src->to_float) return mono_error_set(err, MONO_ERR_UNSUPPORTED, "tensor '%s': cannot read type %d", t->name, t->type);
    if (!dst || !dst->from_float) return mono_error_set(err, MONO_ERR_UNSUPPORTED, "tensor '%s': cannot write type %d", t->name, want);
    size_t dst_row = mono_type_row_bytes(want, t->ne[0]), src_row = mono_type_row_bytes(t->type, t->ne[0]);
    if (!dst_row)
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "tensor '%s': rows of %lld do not split into %s blocks of %lld",
                              t->name, (long long)t->ne[0], dst->name, (long long)dst->block_size);
    size_t rows = t->nbytes / src_row, bytes;
    if (!mono_size_mul(rows, dst_row, &bytes)) return mono_error_set(err, MONO_ERR_NOMEM, "tensor '%s' too large", t->name);
    uint8_t *out = keep(cs, bytes);
    float *tmp = malloc((size_t)t->ne[0] * sizeof *tmp);
    if (!out || !tmp) { free(tmp); return mono_error_set(err, MONO_ERR_NOMEM, "out of memory"); }
    for (size_t r = 0; r < rows; r++) {
        src->to_float((const uint8_t *)t->data + r * src_row, tmp, t->ne[0]);
        dst->from_float(tmp, out + r * dst_row, t->ne[0]);
    }
    free(tmp);
    return mono_gguf_writer_add_tensor(cs->w, t->name, want, t->n_dims, t->ne, out, bytes, err);
}

static mono_status add_tensors(convert_state *cs, const mono_model_file *mf, const mono_convert_options *opt, mono_error *err) {
    const mono_hparams *hp = mono_model_file_hparams(mf);
    size_t n_specs = mono_arch_tensor_specs(hp, NULL, 0);
    mono_tensor_spec *specs = n_specs ? malloc(n_specs * sizeof *specs) : NULL;
    if (n_specs && !specs) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    mono_arch_tensor_specs(hp, specs, n_specs);
    mono_status st = MONO_OK;
    for (size_t i = 0; i < mono_model_file_n_tensors(mf) && !st; i++) {
        const mono_tensor *t = mono_model_file_tensor_at(mf, i);
        /* a known architecture gets exactly its tensors (llama.cpp refuses extras) */
        int listed = !n_specs;
        for (size_t k = 0; k < n_specs && !listed; k++) listed = !strcmp(specs[k].name, t->name);
        if (!listed || (hp->tied_embeddings && !strcmp(t->name, "output.weight"))) continue;
        int want = t->n_dims == 1 ? MONO_TYPE_F32 : opt->type >= 0 ? opt->type : t->type;
        st = add_tensor(cs, t, want, err);
    }
    free(specs);
    return st;
}

mono_status mono_model_file_write_gguf(const mono_model_file *mf, const mono_convert_options *opt, const char *path,
                                       mono_error *err) {
    mono_convert_options defaults;
    if (!opt) { mono_convert_options_init(&defaults); opt = &defaults; }
    convert_state cs = {0};
    cs.w = mono_gguf_writer_init();
    if (!cs.w) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    const mono_hparams *hp = mono_model_file_hparams(mf);
    const mono_gguf *g = mono_model_file_gguf(mf);
    mono_status st;
    if (g && !opt->tokenizer_json) {
        st = copy_metadata(cs.w, g, opt->name, opt->type >= 0, err);
    } else {
        st = add_hparams(cs.w, hp, opt->name ? opt->name : hp->name, err);
        if (!st) st = add_tokenizer(&cs, mf, opt, err);
    }
    if (!st) st = add_tensors(&cs, mf, opt, err);
    if (!st) st = mono_gguf_writer_write_file(cs.w, path, err);
    mono_gguf_writer_free(cs.w);
    for (size_t i = 0; i < cs.n_bufs; i++) free(cs.bufs[i]);
    free(cs.bufs);
    return st;
}
