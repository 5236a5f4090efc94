/*
 * load_json.c -- reads a Hugging Face tokenizer.json (byte-level BPE: the
 * Qwen2 and GPT-2 families) into a mono_tokenizer, and reads bos/eos/pad
 * from a tokenizer_config.json next to it when there is one.
 *
 * What is accepted (anything else is refused with a message naming it):
 *   model          BPE; merges as "a b" strings or ["a", "b"] pairs; no
 *                  dropout, no subword prefix/suffix, no byte_fallback
 *   normalizer     null, NFC, or a Sequence of NFC
 *   pre_tokenizer  ByteLevel (GPT-2 regex when use_regex), or a Sequence of
 *                  Split(Regex = the Qwen2 or GPT-2 pattern, Isolated) and
 *                  ByteLevel(use_regex = false)
 *   decoder        ByteLevel (or a Sequence holding just that)
 *   added_tokens   any, with their special/normalized/lstrip/rstrip/
 *                  single_word flags
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/file.h"
#include "core/json.h"
#include "tokenizer/tokenizer.h"

static const char QWEN2_REGEX[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";
static const char GPT2_REGEX[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

static int str_is(const mono_json *j, const char *s) {
    return j && j->type == MONO_JSON_STRING && j->len == strlen(s) && !memcmp(j->u.str, s, j->len);
}

/* An optional boolean member: absent or null gives dflt; another type fails. */
static int get_bool(const mono_json *obj, const char *key, int dflt, int *out) {
    const mono_json *j = mono_json_get(obj, key);
    if (!j || j->type == MONO_JSON_NULL) {
        *out = dflt;
        return 1;
    }
    if (j->type != MONO_JSON_BOOL) return 0;
    *out = j->u.boolean;
    return 1;
}

static const char *type_of(const mono_json *obj) {
    const mono_json *ty = mono_json_get_typed(obj, "type", MONO_JSON_STRING);
    return ty ? ty->u.str : NULL;
}

static mono_status parse_normalizer(const mono_json *n, mono_tok_pipeline *p, mono_error *err) {
    if (!n || n->type == MONO_JSON_NULL) return MONO_OK;
    if (n->type != MONO_JSON_OBJECT) return mono_error_set(err, MONO_ERR_FORMAT, "normalizer is not an object");
    const char *ty = type_of(n);
    if (!ty) return mono_error_set(err, MONO_ERR_FORMAT, "normalizer has no \"type\"");
    if (!strcmp(ty, "NFC")) {
        p->nfc = 1;
        return MONO_OK;
    }
    if (!strcmp(ty, "Sequence")) {
        const mono_json *list = mono_json_get_typed(n, "normalizers", MONO_JSON_ARRAY);
        if (!list) return mono_error_set(err, MONO_ERR_FORMAT, "normalizer Sequence has no \"normalizers\" array");
        for (uint32_t i = 0; i < list->len; i++) {
            mono_status st = parse_normalizer(&list->u.items[i], p, err);
            if (st != MONO_OK) return st;
        }
        return MONO_OK;
    }
    return mono_error_set(err, MONO_ERR_UNSUPPORTED, "normalizer type \"%.40s\" is not supported (only NFC)", ty);
}

static mono_status parse_bytelevel(const mono_json *b, mono_tok_pipeline *p, mono_error *err) {
    int aps, regex, trim;
    if (!get_bool(b, "add_prefix_space", 0, &aps) || !get_bool(b, "use_regex", 1, &regex) ||
        !get_bool(b, "trim_offsets", 1, &trim))
        return mono_error_set(err, MONO_ERR_FORMAT, "ByteLevel pre-tokenizer: a flag is not a boolean");
    p->add_prefix_space = aps;
    p->bytelevel_regex = regex;
    return MONO_OK;
}

static mono_status parse_split(const mono_json *s, mono_tok_pipeline *p, mono_error *err) {
    const mono_json *pat = mono_json_get_typed(s, "pattern", MONO_JSON_OBJECT);
    const mono_json *re = pat ? mono_json_get_typed(pat, "Regex", MONO_JSON_STRING) : NULL;
    if (!re) return mono_error_set(err, MONO_ERR_UNSUPPORTED, "Split pre-tokenizer: only a \"Regex\" pattern is supported");
    if (!str_is(mono_json_get(s, "behavior"), "Isolated"))
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "Split pre-tokenizer: only behavior \"Isolated\" is supported");
    int invert;
    if (!get_bool(s, "invert", 0, &invert) || invert)
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "Split pre-tokenizer: invert must be false");
    if (p->split) return mono_error_set(err, MONO_ERR_UNSUPPORTED, "more than one Split pre-tokenizer");
    if (str_is(re, QWEN2_REGEX)) p->split_kind = MONO_PRETOK_QWEN2;
    else if (str_is(re, GPT2_REGEX)) p->split_kind = MONO_PRETOK_GPT2;
    else
        return mono_error_set(err, MONO_ERR_UNSUPPORTED,
                              "Split pre-tokenizer: unknown regex (only the Qwen2 and GPT-2 patterns are built in): %.120s",
                              re->u.str);
    p->split = 1;
    return MONO_OK;
}

static mono_status parse_pretokenizer(const mono_json *pt, mono_tok_pipeline *p, mono_error *err) {
    if (!pt || pt->type != MONO_JSON_OBJECT)
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "pre_tokenizer must be ByteLevel or a Sequence ending in ByteLevel");
    const char *ty = type_of(pt);
    if (ty && !strcmp(ty, "ByteLevel")) return parse_bytelevel(pt, p, err);
    if (!ty || strcmp(ty, "Sequence"))
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "pre_tokenizer type \"%.40s\" is not supported", ty ? ty : "?");
    const mono_json *list = mono_json_get_typed(pt, "pretokenizers", MONO_JSON_ARRAY);
    if (!list) return mono_error_set(err, MONO_ERR_FORMAT, "pre_tokenizer Sequence has no \"pretokenizers\" array");
    int have_bl = 0;
    for (uint32_t i = 0; i < list->len; i++) {
        const mono_json *e = &list->u.items[i];
        const char *et = e->type == MONO_JSON_OBJECT ? type_of(e) : NULL;
        mono_status st;
        if (et && !strcmp(et, "Split") && !have_bl) st = parse_split(e, p, err);
        else if (et && !strcmp(et, "ByteLevel") && !have_bl) st = parse_bytelevel(e, p, err), have_bl = 1;
        else
            st = mono_error_set(err, MONO_ERR_UNSUPPORTED, "pre_tokenizer Sequence: step %u (%.40s) is not supported",
                                i, et ? et : "not an object");
        if (st != MONO_OK) return st;
    }
    if (!have_bl) return mono_error_set(err, MONO_ERR_UNSUPPORTED, "pre_tokenizer Sequence has no ByteLevel step");
    return MONO_OK;
}

static mono_status parse_decoder(const mono_json *d, mono_error *err) {
    const char *ty = d && d->type == MONO_JSON_OBJECT ? type_of(d) : NULL;
    if (ty && !strcmp(ty, "ByteLevel")) return MONO_OK;
    if (ty && !strcmp(ty, "Sequence")) {
        const mono_json *list = mono_json_get_typed(d, "decoders", MONO_JSON_ARRAY);
        if (list && list->len == 1) return parse_decoder(&list->u.items[0], err);
    }
    return mono_error_set(err, MONO_ERR_UNSUPPORTED, "decoder must be ByteLevel (found %.40s)", ty ? ty : "none");
}

static mono_status check_model_options(const mono_json *m, mono_tok_pipeline *p, mono_error *err) {
    const char *ty = type_of(m);
    if (!ty && mono_json_get(m, "type"))      /* absent means BPE; present must name it */
        return mono_error_set(err, MONO_ERR_FORMAT, "model \"type\" is not a string");
    if (ty && strcmp(ty, "BPE")) {
        /* Hugging Face's other models are valid files we cannot run; anything else is not a tokenizer.json */
        int known = !strcmp(ty, "WordPiece") || !strcmp(ty, "WordLevel") || !strcmp(ty, "Unigram");
        return mono_error_set(err, known ? MONO_ERR_UNSUPPORTED : MONO_ERR_FORMAT,
                              known ? "model type \"%.40s\" is not supported (only BPE)" : "unknown model type \"%.40s\"", ty);
    }
    const mono_json *j = mono_json_get(m, "dropout");
    double dv;
    if (j && j->type != MONO_JSON_NULL && (!mono_json_as_double(j, &dv) || dv != 0.0))
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "BPE dropout is not supported");
    const char *strs[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int i = 0; i < 2; i++) {
        j = mono_json_get(m, strs[i]);
        if (j && j->type != MONO_JSON_NULL && !(j->type == MONO_JSON_STRING && j->len == 0))
            return mono_error_set(err, MONO_ERR_UNSUPPORTED, "BPE %s is not supported", strs[i]);
    }
    int bf;
    if (!get_bool(m, "byte_fallback", 0, &bf) || bf)
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "BPE byte_fallback is not supported");
    if (!get_bool(m, "fuse_unk", 0, &p->fuse_unk) || !get_bool(m, "ignore_merges", 0, &p->ignore_merges))
        return mono_error_set(err, MONO_ERR_FORMAT, "BPE fuse_unk/ignore_merges is not a boolean");
    return MONO_OK;
}

static mono_status token_id(const mono_json *j, const char *what, int64_t *id, mono_error *err) {
    if (!j || !mono_json_as_int64(j, id) || *id < 0 || *id > INT32_MAX)
        return mono_error_set(err, MONO_ERR_FORMAT, "%s: id is not a non-negative integer", what);
    return MONO_OK;
}

static mono_status load_merges(mono_tokenizer *t, const mono_json *merges, mono_error *err) {
    for (uint32_t i = 0; i < merges->len; i++) {
        const mono_json *e = &merges->u.items[i];
        const char *a, *b;
        size_t al, bl;
        if (e->type == MONO_JSON_STRING) {
            const char *sp = memchr(e->u.str, ' ', e->len);
            if (!sp || memchr(sp + 1, ' ', e->len - (size_t)(sp + 1 - e->u.str)))
                return mono_error_set(err, MONO_ERR_FORMAT, "merge %u (\"%.60s\") is not two tokens separated by one space",
                                      i, e->u.str);
            a = e->u.str;
            al = (size_t)(sp - a);
            b = sp + 1;
            bl = e->len - al - 1;
        } else if (e->type == MONO_JSON_ARRAY && e->len == 2 && e->u.items[0].type == MONO_JSON_STRING &&
                   e->u.items[1].type == MONO_JSON_STRING) {
            a = e->u.items[0].u.str;
            al = e->u.items[0].len;
            b = e->u.items[1].u.str;
            bl = e->u.items[1].len;
        } else {
            return mono_error_set(err, MONO_ERR_FORMAT, "merge %u is neither \"a b\" nor [\"a\", \"b\"]", i);
        }
        mono_status st = mono_tok_add_merge(t, a, al, b, bl, i, err);
        if (st != MONO_OK) return st;
    }
    return MONO_OK;
}

/* Added tokens get their ids the way Hugging Face's AddedVocabulary does
 * when it reads a file (the "id" written there is not used): the id the
 * content already has (an earlier added token, or a model vocabulary entry:
 * "the" added as a token keeps the vocabulary's id), else the next free id
 * after the largest added id, or the vocabulary size for the first one. */
static mono_status load_added(mono_tokenizer *t, const mono_json *added, size_t vocab_count, mono_error *err) {
    int64_t max_added = -1;
    for (uint32_t i = 0; added && i < added->len; i++) {
        const mono_json *a = &added->u.items[i];
        const mono_json *content = mono_json_get_typed(a, "content", MONO_JSON_STRING);
        if (a->type != MONO_JSON_OBJECT || !content)
            return mono_error_set(err, MONO_ERR_FORMAT, "added_tokens[%u] has no \"content\" string", i);
        int64_t file_id;
        mono_status st = token_id(mono_json_get(a, "id"), "added token", &file_id, err);
        if (st != MONO_OK) return st;
        int special, normalized, lstrip, rstrip, single;
        if (!get_bool(a, "special", 0, &special) || !get_bool(a, "normalized", !special, &normalized) ||
            !get_bool(a, "lstrip", 0, &lstrip) || !get_bool(a, "rstrip", 0, &rstrip) ||
            !get_bool(a, "single_word", 0, &single))
            return mono_error_set(err, MONO_ERR_FORMAT, "added_tokens[%u]: a flag is not a boolean", i);
        if (content->len == 0) continue;   /* Hugging Face ignores empty tokens */
        int32_t id = mono_tokenizer_token_id(t, content->u.str, content->len);
        if (id < 0) {
            int64_t next = max_added < 0 ? (int64_t)vocab_count
                           : (max_added >= (int64_t)vocab_count || vocab_count == 0) ? max_added + 1
                                                                                   : (int64_t)vocab_count;
            if (next >= t->n_vocab)
                return mono_error_set(err, MONO_ERR_FORMAT, "added token %u gets id %lld, out of range", i, (long long)next);
            id = (int32_t)next;
        }
        if (id > max_added) max_added = id;
        st = mono_tok_add_added(t, id, content->u.str, content->len, special, normalized, lstrip, rstrip, single, err);
        if (st != MONO_OK) return st;
    }
    return MONO_OK;
}

static mono_status build(const mono_json *root, mono_tokenizer **out, mono_error *err) {
    if (root->type != MONO_JSON_OBJECT) return mono_error_set(err, MONO_ERR_FORMAT, "not a JSON object");
    const mono_json *model = mono_json_get_typed(root, "model", MONO_JSON_OBJECT);
    if (!model) return mono_error_set(err, MONO_ERR_FORMAT, "no \"model\" object");
    mono_tok_pipeline pipe = {0};
    pipe.unk_id = -1;
    mono_status st = check_model_options(model, &pipe, err);
    if (st == MONO_OK) st = parse_normalizer(mono_json_get(root, "normalizer"), &pipe, err);
    if (st == MONO_OK) st = parse_pretokenizer(mono_json_get(root, "pre_tokenizer"), &pipe, err);
    if (st == MONO_OK) st = parse_decoder(mono_json_get(root, "decoder"), err);
    if (st != MONO_OK) return st;
    const mono_json *vocab = mono_json_get_typed(model, "vocab", MONO_JSON_OBJECT);
    const mono_json *merges = mono_json_get_typed(model, "merges", MONO_JSON_ARRAY);
    const mono_json *added = mono_json_get(root, "added_tokens");
    if (!vocab) return mono_error_set(err, MONO_ERR_FORMAT, "model has no \"vocab\" object");
    if (!merges) return mono_error_set(err, MONO_ERR_FORMAT, "model has no \"merges\" array");
    if (added && added->type == MONO_JSON_NULL) added = NULL;
    if (added && added->type != MONO_JSON_ARRAY) return mono_error_set(err, MONO_ERR_FORMAT, "added_tokens is not an array");
    int64_t max_id = -1, id;
    for (uint32_t i = 0; i < vocab->len; i++) {
        if ((st = token_id(&vocab->u.items[i], "vocab", &id, err)) != MONO_OK) return mono_error_prefix(err, "token '%.60s'", vocab->u.items[i].key);
        if (id > max_id) max_id = id;
    }
    /* room for every added token to get a new id; trimmed afterwards */
    int64_t n_added = added ? added->len : 0;
    int64_t room = (max_id + 1 > (int64_t)vocab->len ? max_id + 1 : (int64_t)vocab->len) + n_added;
    if (room <= 0) return mono_error_set(err, MONO_ERR_FORMAT, "the vocabulary is empty");
    if (room >= INT32_MAX) return mono_error_set(err, MONO_ERR_FORMAT, "token id %lld is too large", (long long)max_id);
    /* ids may have holes, but not mostly holes: a tiny file must not make us
     * allocate for millions of ids */
    if (max_id > 2 * ((int64_t)vocab->len + n_added) + 1024)
        return mono_error_set(err, MONO_ERR_FORMAT, "token id %lld is far beyond the %u vocabulary entries",
                              (long long)max_id, vocab->len);
    mono_tokenizer *t;
    if ((st = mono_tok_create((int32_t)room, &t, err)) != MONO_OK) return st;
    t->pipe = pipe;
    for (uint32_t i = 0; i < vocab->len && st == MONO_OK; i++) {
        const mono_json *v = &vocab->u.items[i];
        mono_json_as_int64(v, &id);
        st = mono_tok_set_token(t, (int32_t)id, v->key, v->key_len, err);
    }
    if (st == MONO_OK) st = mono_tok_index_vocab(t, err);
    if (st == MONO_OK) st = load_merges(t, merges, err);
    if (st == MONO_OK) st = load_added(t, added, vocab->len, err);
    if (st == MONO_OK) mono_tok_trim(t);
    if (st == MONO_OK) {
        const mono_json *unk = mono_json_get(model, "unk_token");
        if (unk && unk->type == MONO_JSON_STRING) {
            t->pipe.unk_id = mono_tok_lookup(t, unk->u.str, unk->len);
            if (t->pipe.unk_id < 0) st = mono_error_set(err, MONO_ERR_FORMAT, "unk_token '%.60s' is not in the vocabulary", unk->u.str);
        } else if (unk && unk->type != MONO_JSON_NULL) {
            st = mono_error_set(err, MONO_ERR_FORMAT, "unk_token is not a string");
        }
    }
    if (st == MONO_OK) st = mono_tok_finish(t, err);
    if (st != MONO_OK) {
        mono_tokenizer_free(t);
        return st;
    }
    *out = t;
    return MONO_OK;
}

mono_status mono_tokenizer_load_json_bytes(const void *data, size_t len, mono_tokenizer **out, mono_error *err) {
    if (!out) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_tokenizer_load_json_bytes: out is NULL");
    *out = NULL;
    if (!data && len) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_tokenizer_load_json_bytes: data is NULL");
    mono_json_doc *doc;
    mono_status st = mono_json_parse(data ? data : "", len, &doc, err);
    if (st != MONO_OK) return st;
    st = build(mono_json_root(doc), out, err);
    mono_json_doc_free(doc);
    return st;
}

/* Looks up a token named in tokenizer_config.json: a string, or an object
 * with "content" (an AddedToken); -1 when absent or unknown. */
static int32_t config_token(const mono_tokenizer *t, const mono_json *cfg, const char *key) {
    const mono_json *j = mono_json_get(cfg, key);
    if (j && j->type == MONO_JSON_OBJECT) j = mono_json_get(j, "content");
    if (!j || j->type != MONO_JSON_STRING) return -1;
    return mono_tokenizer_token_id(t, j->u.str, j->len);
}

mono_status mono_tokenizer_read_config(mono_tokenizer *t, const char *path, mono_error *err) {
    char *text;
    size_t size;
    mono_status st = mono_file_read_text(path, &text, &size, err);
    if (st != MONO_OK) return st;
    mono_json_doc *doc;
    st = mono_json_parse(text, size, &doc, err);
    free(text);
    if (st != MONO_OK) return mono_error_prefix(err, "%s", path);
    const mono_json *r = mono_json_root(doc);
    t->bos_id = config_token(t, r, "bos_token");
    t->eos_id = config_token(t, r, "eos_token");
    t->pad_id = config_token(t, r, "pad_token");
    mono_json_doc_free(doc);
    return MONO_OK;
}
