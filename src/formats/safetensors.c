/*
 * safetensors.c -- see safetensors.h. The JSON header is parsed with the
 * project's strict parser; the tensor table is then sorted by name (for
 * lookups and the duplicate check) and a copy by offset (for the overlap
 * check).
 */
#include "formats/safetensors.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/file.h"
#include "core/json.h"

struct mono_safetensors {
    mono_blob blob;
    mono_json_doc *doc;
    mono_tensor *tensors;
    size_t n;
};

static const struct { const char *name; int type; size_t size; } dtypes[] = {
    {"F32", MONO_TYPE_F32, 4}, {"F16", MONO_TYPE_F16, 2}, {"BF16", MONO_TYPE_BF16, 2},
    {"I32", MONO_ST_I32, 4}, {"I64", MONO_ST_I64, 8},
};

size_t mono_safetensors_type_size(int type) {
    for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
        if (dtypes[i].type == type) return dtypes[i].size;
    return 0;
}

const char *mono_safetensors_type_name(int type) {
    for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
        if (dtypes[i].type == type) return dtypes[i].name;
    return "unknown";
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const mono_tensor *)a)->name, ((const mono_tensor *)b)->name);
}

typedef struct span { size_t begin, end; const char *name; } span;

static int by_begin(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

static mono_status read_entry(const mono_json *m, const uint8_t *data, size_t data_size, mono_tensor *t, span *sp,
                              mono_error *err) {
    const char *name = m->key;
    if (m->key_len == 0 || strlen(name) != m->key_len)
        return mono_error_set(err, MONO_ERR_FORMAT, "safetensors header: empty tensor name or name with NUL");
    if (m->type != MONO_JSON_OBJECT)
        return mono_error_set(err, MONO_ERR_FORMAT, "tensor '%s': header entry is not an object", name);
    const mono_json *dt = mono_json_get_typed(m, "dtype", MONO_JSON_STRING);
    const mono_json *shape = mono_json_get_typed(m, "shape", MONO_JSON_ARRAY);
    const mono_json *offs = mono_json_get_typed(m, "data_offsets", MONO_JSON_ARRAY);
    if (!dt || !shape || !offs)
        return mono_error_set(err, MONO_ERR_FORMAT, "tensor '%s': needs dtype (string), shape and data_offsets (arrays)", name);
    size_t esize = 0;
    t->type = -1;
    for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
        if (!strcmp(dt->u.str, dtypes[i].name)) { t->type = dtypes[i].type; esize = dtypes[i].size; }
    if (t->type < 0)
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "tensor '%s': dtype '%.16s' is not supported (F32, F16, BF16, I32, I64)",
                              name, dt->u.str);
    if (shape->len > MONO_MAX_DIMS)
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "tensor '%s': %u dimensions (at most %d)", name, shape->len, MONO_MAX_DIMS);
    t->name = name;
    t->n_dims = shape->len ? (int)shape->len : 1;
    for (int d = 0; d < MONO_MAX_DIMS; d++) t->ne[d] = 1;
    size_t count = 1;
    for (uint32_t d = 0; d < shape->len; d++) {
        int64_t v;
        if (!mono_json_as_int64(&shape->u.items[d], &v) || v < 0)
            return mono_error_set(err, MONO_ERR_FORMAT, "tensor '%s': shape[%u] is not a non-negative integer", name, d);
        if ((uint64_t)v > SIZE_MAX || !mono_size_mul(count, (size_t)v, &count))
            return mono_error_set(err, MONO_ERR_FORMAT, "tensor '%s': shape overflows", name);
        t->ne[shape->len - 1 - d] = v;   /* reversed: ne[0] is the innermost */
    }
    int64_t b, e;
    if (offs->len != 2 || !mono_json_as_int64(&offs->u.items[0], &b) || !mono_json_as_int64(&offs->u.items[1], &e) ||
        b < 0 || e < 0)
        return mono_error_set(err, MONO_ERR_FORMAT, "tensor '%s': data_offsets must be two non-negative integers", name);
    if (b > e) return mono_error_set(err, MONO_ERR_FORMAT, "tensor '%s': data_offsets begin %lld > end %lld", name, (long long)b, (long long)e);
    if ((uint64_t)e > data_size)
        return mono_error_set(err, MONO_ERR_FORMAT, "tensor '%s' data out of bounds (end %lld > %zu data bytes)", name, (long long)e, data_size);
    size_t want;
    if (!mono_size_mul(count, esize, &want) || want != (size_t)(e - b))
        return mono_error_set(err, MONO_ERR_FORMAT, "tensor '%s': data_offsets span %lld bytes, shape and dtype need %zu",
                              name, (long long)(e - b), count * esize);
    t->data = data + b;
    t->nbytes = want;
    sp->begin = (size_t)b;
    sp->end = (size_t)e;
    sp->name = name;
    return MONO_OK;
}

static mono_status st_parse(mono_safetensors *st, mono_error *err) {
    const uint8_t *p = st->blob.data;
    if (st->blob.size < 8) return mono_error_set(err, MONO_ERR_FORMAT, "truncated file: %zu bytes, no safetensors header", st->blob.size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | p[i];
    if (hlen > MONO_ST_MAX_HEADER) return mono_error_set(err, MONO_ERR_FORMAT, "safetensors header of %llu bytes is too large", (unsigned long long)hlen);
    if (hlen > st->blob.size - 8)
        return mono_error_set(err, MONO_ERR_FORMAT, "truncated file: header of %llu bytes, only %zu follow",
                              (unsigned long long)hlen, st->blob.size - 8);
    mono_status s = mono_json_parse((const char *)p + 8, (size_t)hlen, &st->doc, err);
    if (s) return mono_error_prefix(err, "safetensors header");
    const mono_json *root = mono_json_root(st->doc);
    if (root->type != MONO_JSON_OBJECT) return mono_error_set(err, MONO_ERR_FORMAT, "safetensors header is not a JSON object");
    const uint8_t *data = p + 8 + hlen;
    size_t data_size = st->blob.size - 8 - (size_t)hlen;
    st->tensors = calloc(root->len ? root->len : 1, sizeof *st->tensors);
    span *spans = calloc(root->len ? root->len : 1, sizeof *spans);
    if (!st->tensors || !spans) { free(spans); return mono_error_set(err, MONO_ERR_NOMEM, "out of memory"); }
    for (uint32_t i = 0; i < root->len; i++) {
        const mono_json *m = &root->u.items[i];
        if (!strcmp(m->key, "__metadata__") && m->key_len == 12) continue;
        if ((s = read_entry(m, data, data_size, &st->tensors[st->n], &spans[st->n], err))) { free(spans); return s; }
        st->n++;
    }
    qsort(st->tensors, st->n, sizeof *st->tensors, by_name);
    for (size_t i = 1; i < st->n; i++)
        if (!strcmp(st->tensors[i - 1].name, st->tensors[i].name)) {
            free(spans);
            return mono_error_set(err, MONO_ERR_FORMAT, "duplicate tensor name '%s'", st->tensors[i].name);
        }
    qsort(spans, st->n, sizeof *spans, by_begin);
    size_t max_end = 0;
    const char *max_name = NULL;
    for (size_t i = 0; i < st->n; i++) {
        if (spans[i].end == spans[i].begin) continue;   /* empty tensors overlap nothing */
        if (max_name && spans[i].begin < max_end) {
            s = mono_error_set(err, MONO_ERR_FORMAT, "tensors '%s' and '%s' overlap", max_name, spans[i].name);
            free(spans);
            return s;
        }
        max_end = spans[i].end;
        max_name = spans[i].name;
    }
    free(spans);
    /* Writers pad the header so data starts 8-aligned; an element split
     * across alignment would make every typed load of it misaligned. */
    for (size_t i = 0; i < st->n; i++) {
        size_t es = mono_safetensors_type_size(st->tensors[i].type);
        if (st->tensors[i].nbytes && (size_t)((const uint8_t *)st->tensors[i].data - p) % es)
            return mono_error_set(err, MONO_ERR_FORMAT,
                                  "tensor '%s': data at file offset %zu is not aligned to its %zu-byte elements",
                                  st->tensors[i].name, (size_t)((const uint8_t *)st->tensors[i].data - p), es);
    }
    return MONO_OK;
}

static mono_status st_finish(mono_safetensors *st, mono_safetensors **out, mono_error *err) {
    mono_status s = st_parse(st, err);
    if (s) { mono_safetensors_close(st); return s; }
    *out = st;
    return MONO_OK;
}

mono_status mono_safetensors_open(const char *path, mono_safetensors **out, mono_error *err) {
    *out = NULL;
    mono_safetensors *st = calloc(1, sizeof *st);
    if (!st) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    mono_status s = mono_blob_open(&st->blob, path, err);
    if (s) { free(st); return s; }
    s = st_finish(st, out, err);
    if (s) mono_error_prefix(err, "%s", path);
    return s;
}

mono_status mono_safetensors_open_memory(const void *data, size_t size, mono_safetensors **out, mono_error *err) {
    *out = NULL;
    mono_safetensors *st = calloc(1, sizeof *st);
    if (!st) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    mono_blob_borrow(&st->blob, data, size);
    return st_finish(st, out, err);
}

void mono_safetensors_close(mono_safetensors *st) {
    if (!st) return;
    free(st->tensors);
    mono_json_doc_free(st->doc);
    mono_blob_close(&st->blob);
    free(st);
}

void mono_safetensors_release(const mono_safetensors *st, const void *p, size_t n) { mono_blob_release(&st->blob, p, n); }

size_t mono_safetensors_n_tensors(const mono_safetensors *st) { return st->n; }

const mono_tensor *mono_safetensors_tensor_at(const mono_safetensors *st, size_t i) {
    return i < st->n ? &st->tensors[i] : NULL;
}

const mono_tensor *mono_safetensors_tensor(const mono_safetensors *st, const char *name) {
    mono_tensor key = {0};
    key.name = name;
    return bsearch(&key, st->tensors, st->n, sizeof *st->tensors, by_name);
}
