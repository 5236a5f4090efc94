/*
 * hf_config.c -- see hf_config.h. Each field is read through a small typed
 * getter that names the key in its error, so a hostile or mistyped config
 * says exactly which value is wrong.
 */
#include "formats/hf_config.h"

#include <math.h>
#include <string.h>

#include "core/error.h"
#include "core/json.h"

/* Limits that keep every later size computation far from overflow. */
#define HP_MAX_EMBD (1 << 20)
#define HP_MAX_LAYER 4096
#define HP_MAX_HEAD 4096
#define HP_MAX_FF (1 << 22)
#define HP_MAX_VOCAB (1 << 24)
#define HP_MAX_CTX (1 << 26)

static int is_null(const mono_json *v) { return !v || v->type == MONO_JSON_NULL; }

/* An integer in [lo, hi]; absent or null gives def (or an error if required). */
static mono_status get_int(const mono_json *obj, const char *key, int required, int64_t lo, int64_t hi, int def, int *out,
                           mono_error *err) {
    const mono_json *v = mono_json_get(obj, key);
    int64_t x;
    if (is_null(v)) {
        if (required) return mono_error_set(err, MONO_ERR_FORMAT, "config.json: '%s' is missing", key);
        *out = def;
        return MONO_OK;
    }
    if (!mono_json_as_int64(v, &x))
        return mono_error_set(err, MONO_ERR_FORMAT, "config: '%s' must be an integer (got %s)", key, mono_json_type_name(v->type));
    if (x < lo || x > hi)
        return mono_error_set(err, MONO_ERR_FORMAT, "config: '%s' = %lld is out of range [%lld, %lld]", key, (long long)x,
                              (long long)lo, (long long)hi);
    *out = (int)x;
    return MONO_OK;
}

static mono_status get_num(const mono_json *obj, const char *key, double lo, double hi, int *has, double *out, mono_error *err) {
    const mono_json *v = mono_json_get(obj, key);
    *has = 0;
    if (is_null(v)) return MONO_OK;
    if (!mono_json_as_double(v, out))
        return mono_error_set(err, MONO_ERR_FORMAT, "config: '%s' must be a number (got %s)", key, mono_json_type_name(v->type));
    if (!(*out >= lo && *out <= hi))
        return mono_error_set(err, MONO_ERR_FORMAT, "config: '%s' = %g is out of range [%g, %g]", key, *out, lo, hi);
    *has = 1;
    return MONO_OK;
}

/* A token id: null, an int, or a list of ints (ids[0..*n)). */
static mono_status get_ids(const mono_json *obj, const char *key, int *ids, int max, int *n, mono_error *err) {
    const mono_json *v = mono_json_get(obj, key);
    int64_t x;
    *n = 0;
    if (is_null(v)) return MONO_OK;
    if (v->type == MONO_JSON_NUMBER) {
        if (!mono_json_as_int64(v, &x) || x < -1 || x >= HP_MAX_VOCAB)
            return mono_error_set(err, MONO_ERR_FORMAT, "config: '%s' is not a valid token id", key);
        if (x >= 0) ids[(*n)++] = (int)x;   /* -1: none, as some LLaMA configs write it */
        return MONO_OK;
    }
    if (v->type != MONO_JSON_ARRAY)
        return mono_error_set(err, MONO_ERR_FORMAT, "config: '%s' must be a token id or a list of them", key);
    if ((int)v->len > max || v->len > (uint32_t)max)
        return mono_error_set(err, MONO_ERR_FORMAT, "config: '%s' lists %u ids (at most %d)", key, v->len, max);
    for (uint32_t i = 0; i < v->len; i++) {
        if (!mono_json_as_int64(&v->u.items[i], &x) || x < 0 || x >= HP_MAX_VOCAB)
            return mono_error_set(err, MONO_ERR_FORMAT, "config: '%s'[%u] is not a valid token id", key, i);
        ids[(*n)++] = (int)x;
    }
    return MONO_OK;
}

static mono_status get_single_id(const mono_json *obj, const char *key, int *out, mono_error *err) {
    int ids[8], n;
    mono_status st = get_ids(obj, key, ids, 8, &n, err);
    if (st) return st;
    *out = n ? ids[0] : -1;
    return MONO_OK;
}

mono_status mono_hparams_check(const mono_hparams *hp, mono_error *err) {
    if (hp->n_embd < 1 || hp->n_embd > HP_MAX_EMBD) return mono_error_set(err, MONO_ERR_FORMAT, "hidden size %d out of range", hp->n_embd);
    if (hp->n_layer < 1 || hp->n_layer > HP_MAX_LAYER) return mono_error_set(err, MONO_ERR_FORMAT, "layer count %d out of range", hp->n_layer);
    if (hp->n_head < 1 || hp->n_head > HP_MAX_HEAD) return mono_error_set(err, MONO_ERR_FORMAT, "head count %d out of range", hp->n_head);
    if (hp->n_head_kv < 1 || hp->n_head_kv > hp->n_head || hp->n_head % hp->n_head_kv)
        return mono_error_set(err, MONO_ERR_FORMAT, "key/value head count %d must divide the head count %d", hp->n_head_kv, hp->n_head);
    if (hp->head_dim < 1 || hp->head_dim > HP_MAX_EMBD || (int64_t)hp->head_dim * hp->n_head > HP_MAX_EMBD * 4LL)
        return mono_error_set(err, MONO_ERR_FORMAT, "head dimension %d out of range", hp->head_dim);
    if (hp->n_ff < 1 || hp->n_ff > HP_MAX_FF) return mono_error_set(err, MONO_ERR_FORMAT, "feed-forward size %d out of range", hp->n_ff);
    if (hp->n_vocab < 1 || hp->n_vocab > HP_MAX_VOCAB) return mono_error_set(err, MONO_ERR_FORMAT, "vocabulary size %d out of range", hp->n_vocab);
    if (hp->n_ctx_train < 1 || hp->n_ctx_train > HP_MAX_CTX) return mono_error_set(err, MONO_ERR_FORMAT, "context length %d out of range", hp->n_ctx_train);
    if (!(hp->rope_theta > 0 && isfinite(hp->rope_theta))) return mono_error_set(err, MONO_ERR_FORMAT, "rope theta %g is not positive", hp->rope_theta);
    if (!(hp->rms_eps > 0 && hp->rms_eps < 1)) return mono_error_set(err, MONO_ERR_FORMAT, "rms norm epsilon %g out of range (0, 1)", hp->rms_eps);
    const int ids[3] = {hp->bos_id, hp->eos_id, hp->pad_id};
    const char *names[3] = {"bos", "eos", "pad"};
    for (int i = 0; i < 3; i++)
        if (ids[i] < -1 || ids[i] >= hp->n_vocab)
            return mono_error_set(err, MONO_ERR_FORMAT, "%s token id %d is outside the vocabulary of %d", names[i], ids[i], hp->n_vocab);
    return MONO_OK;
}

static mono_status parse_config(const mono_json *c, mono_hparams *hp, mono_error *err) {
    mono_status st;
    if (c->type != MONO_JSON_OBJECT) return mono_error_set(err, MONO_ERR_FORMAT, "config.json is not a JSON object");
    const mono_json *mt = mono_json_get(c, "model_type");
    if (!mt || mt->type != MONO_JSON_STRING) return mono_error_set(err, MONO_ERR_FORMAT, "config.json: 'model_type' (string) is missing");
    if (mt->len == 0 || mt->len >= sizeof hp->arch || strlen(mt->u.str) != mt->len)
        return mono_error_set(err, MONO_ERR_FORMAT, "config.json: 'model_type' is empty or too long");
    memcpy(hp->arch, mt->u.str, mt->len + 1);
    const mono_json *act = mono_json_get(c, "hidden_act");
    if (!is_null(act) && (act->type != MONO_JSON_STRING || strcmp(act->u.str, "silu")))
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "config.json: hidden_act must be \"silu\"");
    if ((st = get_int(c, "hidden_size", 1, 1, HP_MAX_EMBD, 0, &hp->n_embd, err)) ||
        (st = get_int(c, "num_hidden_layers", 1, 1, HP_MAX_LAYER, 0, &hp->n_layer, err)) ||
        (st = get_int(c, "num_attention_heads", 1, 1, HP_MAX_HEAD, 0, &hp->n_head, err)) ||
        (st = get_int(c, "num_key_value_heads", 0, 1, HP_MAX_HEAD, hp->n_head, &hp->n_head_kv, err)) ||
        (st = get_int(c, "intermediate_size", 1, 1, HP_MAX_FF, 0, &hp->n_ff, err)) ||
        (st = get_int(c, "vocab_size", 1, 1, HP_MAX_VOCAB, 0, &hp->n_vocab, err)) ||
        (st = get_int(c, "max_position_embeddings", 0, 1, HP_MAX_CTX, 4096, &hp->n_ctx_train, err)))
        return st;
    if (hp->n_embd % hp->n_head && is_null(mono_json_get(c, "head_dim")))
        return mono_error_set(err, MONO_ERR_FORMAT, "config.json: hidden_size %d is not a multiple of num_attention_heads %d",
                              hp->n_embd, hp->n_head);
    if ((st = get_int(c, "head_dim", 0, 1, HP_MAX_EMBD, hp->n_embd / hp->n_head, &hp->head_dim, err))) return st;
    int has;
    double v;
    if ((st = get_num(c, "rms_norm_eps", 0, 1, &has, &v, err))) return st;
    hp->rms_eps = has ? (float)v : 1e-6f;
    /* transformers 5 moved rope_theta into rope_parameters */
    const mono_json *rp = mono_json_get(c, "rope_parameters");
    if (!is_null(rp) && rp->type != MONO_JSON_OBJECT)
        return mono_error_set(err, MONO_ERR_FORMAT, "config.json: 'rope_parameters' must be an object");
    if ((st = get_num(rp && rp->type == MONO_JSON_OBJECT ? rp : c, "rope_theta", 0, 1e30, &has, &v, err))) return st;
    if (!has && (st = get_num(c, "rope_theta", 0, 1e30, &has, &v, err))) return st;
    hp->rope_theta = has ? (float)v : 10000.0f;
    /* what the forward pass does not implement is refused, not ignored */
    const mono_json *rs = mono_json_get(c, "rope_scaling");
    if (!is_null(rs)) return mono_error_set(err, MONO_ERR_UNSUPPORTED, "config.json: rope_scaling is not supported");
    const mono_json *rt = rp && rp->type == MONO_JSON_OBJECT ? mono_json_get(rp, "rope_type") : NULL;
    if (!is_null(rt) && (rt->type != MONO_JSON_STRING || strcmp(rt->u.str, "default")))
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "config.json: rope_parameters.rope_type other than \"default\" is not supported");
    const mono_json *sw = mono_json_get(c, "use_sliding_window");
    if (!is_null(sw) && (sw->type != MONO_JSON_BOOL || sw->u.boolean))
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "config.json: use_sliding_window is not supported");
    const mono_json *lt = mono_json_get(c, "layer_types");
    if (!is_null(lt)) {
        if (lt->type != MONO_JSON_ARRAY) return mono_error_set(err, MONO_ERR_FORMAT, "config.json: 'layer_types' must be a list");
        for (uint32_t i = 0; i < lt->len; i++)
            if (lt->u.items[i].type != MONO_JSON_STRING || strcmp(lt->u.items[i].u.str, "full_attention"))
                return mono_error_set(err, MONO_ERR_UNSUPPORTED, "config.json: layer_types[%u] is not \"full_attention\"", i);
    }
    const mono_json *tie = mono_json_get(c, "tie_word_embeddings");
    if (!is_null(tie) && tie->type != MONO_JSON_BOOL)
        return mono_error_set(err, MONO_ERR_FORMAT, "config.json: 'tie_word_embeddings' must be true or false");
    hp->tied_embeddings = tie && tie->type == MONO_JSON_BOOL ? tie->u.boolean : 0;
    const mono_json *dt = mono_json_get(c, "dtype");
    if (is_null(dt)) dt = mono_json_get(c, "torch_dtype");
    if (!is_null(dt) && dt->type != MONO_JSON_STRING)
        return mono_error_set(err, MONO_ERR_FORMAT, "config.json: 'dtype' must be a string");
    if ((st = get_single_id(c, "bos_token_id", &hp->bos_id, err)) || (st = get_single_id(c, "eos_token_id", &hp->eos_id, err)) ||
        (st = get_single_id(c, "pad_token_id", &hp->pad_id, err)))
        return st;
    return mono_hparams_check(hp, err);
}

mono_status mono_hf_config_parse(const char *text, size_t len, mono_hparams *hp, mono_error *err) {
    mono_json_doc *doc;
    memset(hp, 0, sizeof *hp);
    hp->bos_id = hp->eos_id = hp->pad_id = -1;
    mono_status st = mono_json_parse(text, len, &doc, err);
    if (st) return mono_error_prefix(err, "config.json");
    st = parse_config(mono_json_root(doc), hp, err);
    mono_json_doc_free(doc);
    return st;
}

static mono_status parse_gen(const mono_json *c, mono_gen_defaults *gd, mono_error *err) {
    mono_status st;
    double v;
    if (c->type != MONO_JSON_OBJECT) return mono_error_set(err, MONO_ERR_FORMAT, "generation_config.json is not a JSON object");
    if ((st = get_num(c, "temperature", 0, 1e6, &gd->has_temperature, &v, err))) return st;
    gd->temperature = (float)v;
    if ((st = get_num(c, "top_p", 0, 1, &gd->has_top_p, &v, err))) return st;
    gd->top_p = (float)v;
    if ((st = get_num(c, "repetition_penalty", 1e-6, 1e6, &gd->has_repetition_penalty, &v, err))) return st;
    gd->repetition_penalty = (float)v;
    const mono_json *tk = mono_json_get(c, "top_k");
    if (!is_null(tk)) {
        if ((st = get_int(c, "top_k", 1, 0, HP_MAX_VOCAB, 0, &gd->top_k, err))) return st;
        gd->has_top_k = 1;
    }
    const mono_json *ds = mono_json_get(c, "do_sample");
    if (!is_null(ds)) {
        if (ds->type != MONO_JSON_BOOL) return mono_error_set(err, MONO_ERR_FORMAT, "generation_config: 'do_sample' must be true or false");
        gd->has_do_sample = 1;
        gd->do_sample = ds->u.boolean;
    }
    return get_ids(c, "eos_token_id", gd->eos_ids, 8, &gd->n_eos, err);
}

mono_status mono_hf_gen_config_parse(const char *text, size_t len, mono_gen_defaults *gd, mono_error *err) {
    mono_json_doc *doc;
    memset(gd, 0, sizeof *gd);
    mono_status st = mono_json_parse(text, len, &doc, err);
    if (st) return mono_error_prefix(err, "generation_config.json");
    st = parse_gen(mono_json_root(doc), gd, err);
    mono_json_doc_free(doc);
    if (st) memset(gd, 0, sizeof *gd);
    return st;
}
