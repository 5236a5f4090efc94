/*
 * gguf.c -- see gguf.h. A bounds-checked cursor walks the header, the
 * metadata and the tensor infos; nothing is read before its length has been
 * checked against the bytes left, and counts are checked against the
 * smallest size their items could take before anything is allocated.
 *
 * Layout (all little-endian):
 *   u32 magic "GGUF", u32 version (2 or 3), u64 n_tensors, u64 n_kv,
 *   n_kv x { string key, u32 type, value },
 *   n_tensors x { string name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset },
 *   padding to general.alignment, tensor data (each tensor at an aligned offset).
 * A string is u64 length + bytes; an array is u32 elem type + u64 count + items.
 */
#include "formats/gguf.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define GGUF_MAX_ARRAY_DEPTH 8
#define GGUF_MAX_NAME 4096

struct mono_gguf {
    mono_blob blob;
    uint32_t version;
    size_t alignment, data_offset;
    mono_gguf_kv *kv;
    size_t n_kv;
    size_t *kv_sorted;            /* indices sorted by key, for lookups */
    mono_tensor *tensors;
    uint64_t *offsets;
    size_t n_tensors;
    size_t *t_sorted;
};

typedef struct cursor {
    const uint8_t *base;
    size_t pos, size;
    mono_error *err;
} cursor;

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static size_t left(const cursor *c) { return c->size - c->pos; }

static mono_status truncated(cursor *c, const char *what) {
    return mono_error_set(c->err, MONO_ERR_FORMAT, "truncated file: %s at byte %zu runs past the end (%zu bytes)",
                          what, c->pos, c->size);
}

static mono_status get_u32(cursor *c, uint32_t *v, const char *what) {
    if (left(c) < 4) return truncated(c, what);
    *v = rd32(c->base + c->pos);
    c->pos += 4;
    return MONO_OK;
}

static mono_status get_u64(cursor *c, uint64_t *v, const char *what) {
    if (left(c) < 8) return truncated(c, what);
    *v = rd64(c->base + c->pos);
    c->pos += 8;
    return MONO_OK;
}

static mono_status get_str(cursor *c, mono_gguf_str *s, const char *what) {
    uint64_t len;
    mono_status st = get_u64(c, &len, what);
    if (st) return st;
    if (len > left(c))
        return mono_error_set(c->err, MONO_ERR_FORMAT, "truncated file: %s of %llu bytes at byte %zu runs past the end",
                              what, (unsigned long long)len, c->pos);
    s->ptr = (const char *)c->base + c->pos;
    s->len = (size_t)len;
    c->pos += (size_t)len;
    return MONO_OK;
}

static const size_t scalar_size[MONO_GGUF_TYPE_COUNT] = {
    [MONO_GGUF_UINT8] = 1, [MONO_GGUF_INT8] = 1, [MONO_GGUF_UINT16] = 2, [MONO_GGUF_INT16] = 2,
    [MONO_GGUF_UINT32] = 4, [MONO_GGUF_INT32] = 4, [MONO_GGUF_FLOAT32] = 4, [MONO_GGUF_BOOL] = 1,
    [MONO_GGUF_UINT64] = 8, [MONO_GGUF_INT64] = 8, [MONO_GGUF_FLOAT64] = 8,
};

const char *mono_gguf_type_name(int type) {
    static const char *names[MONO_GGUF_TYPE_COUNT] = {
        "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
    return (type >= 0 && type < MONO_GGUF_TYPE_COUNT) ? names[type] : "unknown";
}

/* Skips one value of `type` (arrays recursively), checking bounds. */
static mono_status skip_value(cursor *c, uint32_t type, int depth, const char *key) {
    if (type >= MONO_GGUF_TYPE_COUNT)
        return mono_error_set(c->err, MONO_ERR_FORMAT, "key '%s': unknown value type %u", key, type);
    if (type == MONO_GGUF_STRING) {
        mono_gguf_str s;
        return get_str(c, &s, "string value");
    }
    if (type != MONO_GGUF_ARRAY) {
        if (left(c) < scalar_size[type]) return truncated(c, "value");
        if (type == MONO_GGUF_BOOL && c->base[c->pos] > 1)
            return mono_error_set(c->err, MONO_ERR_FORMAT, "key '%s': bool value %u is not 0 or 1", key,
                                  c->base[c->pos]);
        c->pos += scalar_size[type];
        return MONO_OK;
    }
    if (depth >= GGUF_MAX_ARRAY_DEPTH)
        return mono_error_set(c->err, MONO_ERR_FORMAT, "key '%s': arrays nested deeper than %d", key,
                              GGUF_MAX_ARRAY_DEPTH);
    uint32_t et;
    uint64_t n;
    mono_status st = get_u32(c, &et, "array type");
    if (!st) st = get_u64(c, &n, "array count");
    if (st) return st;
    if (et >= MONO_GGUF_TYPE_COUNT)
        return mono_error_set(c->err, MONO_ERR_FORMAT, "key '%s': unknown array element type %u", key, et);
    /* the smallest an element can be: strings 8, arrays 12, scalars their size */
    size_t min = et == MONO_GGUF_STRING ? 8 : et == MONO_GGUF_ARRAY ? 12 : scalar_size[et];
    if (n > left(c) / min)
        return mono_error_set(c->err, MONO_ERR_FORMAT,
                              "truncated file: key '%s' array of %llu %s elements does not fit in the %zu bytes left",
                              key, (unsigned long long)n, mono_gguf_type_name((int)et), left(c));
    if (et != MONO_GGUF_STRING && et != MONO_GGUF_ARRAY && et != MONO_GGUF_BOOL) {
        c->pos += (size_t)n * min;
        return MONO_OK;
    }
    for (uint64_t i = 0; i < n; i++)
        if ((st = skip_value(c, et, depth + 1, key))) return st;
    return MONO_OK;
}

static mono_status read_kv(cursor *c, mono_gguf_kv *kv, size_t idx) {
    mono_gguf_str key;
    uint32_t type;
    mono_status st = get_str(c, &key, "metadata key");
    if (st) return st;
    if (key.len == 0 || key.len > GGUF_MAX_NAME || memchr(key.ptr, 0, key.len))
        return mono_error_set(c->err, MONO_ERR_FORMAT, "metadata key %zu: empty, too long or contains NUL", idx);
    char *k = malloc(key.len + 1);
    if (!k) return mono_error_set(c->err, MONO_ERR_NOMEM, "out of memory");
    memcpy(k, key.ptr, key.len);
    k[key.len] = 0;
    kv->key = k;
    if ((st = get_u32(c, &type, "metadata type"))) return st;
    if (type >= MONO_GGUF_TYPE_COUNT)
        return mono_error_set(c->err, MONO_ERR_FORMAT, "key '%s': unknown value type %u", k, type);
    kv->type = (int)type;
    size_t start = c->pos;
    if (type == MONO_GGUF_STRING) {
        if ((st = get_str(c, &kv->str, "string value"))) return st;
        kv->data = (const uint8_t *)kv->str.ptr;
    } else if (type == MONO_GGUF_ARRAY) {
        uint32_t et;
        if ((st = get_u32(c, &et, "array type")) || (st = get_u64(c, &kv->arr_n, "array count"))) return st;
        c->pos = start;
        if ((st = skip_value(c, type, 0, k))) return st;   /* validates everything */
        kv->arr_type = (int)et;
        kv->data = c->base + start + 12;
        if (et == MONO_GGUF_STRING) {
            /* index the strings once: the tokenizer needs random access */
            size_t bytes;
            if (!mono_size_mul((size_t)kv->arr_n, sizeof *kv->arr_strs, &bytes))
                return mono_error_set(c->err, MONO_ERR_NOMEM, "key '%s': array too large", k);
            kv->arr_strs = malloc(bytes ? bytes : 1);
            if (!kv->arr_strs) return mono_error_set(c->err, MONO_ERR_NOMEM, "out of memory");
            cursor s = {c->base, start + 12, c->pos, c->err};
            for (uint64_t i = 0; i < kv->arr_n; i++) get_str(&s, &kv->arr_strs[i], "string");  /* checked above */
        }
    } else {
        if ((st = skip_value(c, type, 0, k))) return st;
        kv->data = c->base + start;
    }
    /* size counts the bytes data points at: the string's bytes, the array's
     * elements (after its 12-byte header), or the scalar */
    kv->size = c->pos - start - (type == MONO_GGUF_STRING ? 8 : type == MONO_GGUF_ARRAY ? 12 : 0);
    return MONO_OK;
}

static int name_cmp_kv(const void *a, const void *b, const mono_gguf *g) {
    return strcmp(g->kv[*(const size_t *)a].key, g->kv[*(const size_t *)b].key);
}

/* qsort has no context argument in C11: a small merge sort with one. */
static void sort_idx(size_t *idx, size_t *tmp, size_t n, const mono_gguf *g,
                     int (*cmp)(const void *, const void *, const mono_gguf *)) {
    if (n < 2) return;
    size_t h = n / 2;
    sort_idx(idx, tmp, h, g, cmp);
    sort_idx(idx + h, tmp, n - h, g, cmp);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = cmp(&idx[j], &idx[i], g) < 0 ? idx[j++] : idx[i++];
    while (i < h) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

static int name_cmp_t(const void *a, const void *b, const mono_gguf *g) {
    return strcmp(g->tensors[*(const size_t *)a].name, g->tensors[*(const size_t *)b].name);
}

static mono_status make_index(mono_gguf *g, size_t n, size_t **out, int tensors, mono_error *err) {
    size_t *idx = malloc((n ? n : 1) * sizeof *idx), *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!idx || !tmp) { free(idx); free(tmp); return mono_error_set(err, MONO_ERR_NOMEM, "out of memory"); }
    for (size_t i = 0; i < n; i++) idx[i] = i;
    sort_idx(idx, tmp, n, g, tensors ? name_cmp_t : name_cmp_kv);
    free(tmp);
    *out = idx;
    for (size_t i = 1; i < n; i++) {
        const char *a = tensors ? g->tensors[idx[i - 1]].name : g->kv[idx[i - 1]].key;
        const char *b = tensors ? g->tensors[idx[i]].name : g->kv[idx[i]].key;
        if (!strcmp(a, b))
            return mono_error_set(err, MONO_ERR_FORMAT, "duplicate %s '%s'", tensors ? "tensor name" : "metadata key", a);
    }
    return MONO_OK;
}

/* ggml's names for the type ids this build may not implement, so a refusal
 * says what the file holds. */
static const char *ggml_type_name(uint32_t type) {
    static const char *names[] = {
        [16] = "iq2_xxs", [17] = "iq2_xs", [18] = "iq3_xxs", [19] = "iq1_s", [20] = "iq4_nl", [21] = "iq3_s",
        [22] = "iq2_s", [23] = "iq4_xs", [24] = "i8", [25] = "i16", [26] = "i32", [27] = "i64", [28] = "f64",
        [29] = "iq1_m", [34] = "tq1_0", [35] = "tq2_0", [39] = "mxfp4"};
    const mono_type_traits *tr = mono_type_get((int)type);
    if (tr) return tr->name;
    return type < sizeof names / sizeof *names && names[type] ? names[type] : "unknown to ggml too";
}

static mono_status read_tensor_info(cursor *c, mono_gguf *g, size_t i) {
    mono_tensor *t = &g->tensors[i];
    mono_gguf_str name;
    uint32_t n_dims, type;
    mono_status st = get_str(c, &name, "tensor name");
    if (st) return st;
    if (name.len == 0 || name.len > GGUF_MAX_NAME || memchr(name.ptr, 0, name.len))
        return mono_error_set(c->err, MONO_ERR_FORMAT, "tensor %zu: name empty, too long or contains NUL", i);
    char *nm = malloc(name.len + 1);
    if (!nm) return mono_error_set(c->err, MONO_ERR_NOMEM, "out of memory");
    memcpy(nm, name.ptr, name.len);
    nm[name.len] = 0;
    t->name = nm;
    if ((st = get_u32(c, &n_dims, "tensor n_dims"))) return st;
    if (n_dims < 1 || n_dims > MONO_MAX_DIMS)
        return mono_error_set(c->err, MONO_ERR_FORMAT, "tensor '%s': %u dimensions (1 to %d allowed)", nm, n_dims,
                              MONO_MAX_DIMS);
    t->n_dims = (int)n_dims;
    uint64_t total = 1;
    for (int d = 0; d < MONO_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        uint64_t ne;
        if ((st = get_u64(c, &ne, "tensor dimension"))) return st;
        if (ne == 0 || ne > (uint64_t)INT64_MAX)
            return mono_error_set(c->err, MONO_ERR_FORMAT, "tensor '%s': dimension %u is %llu", nm, d,
                                  (unsigned long long)ne);
        if (total > (uint64_t)INT64_MAX / ne)
            return mono_error_set(c->err, MONO_ERR_FORMAT, "tensor '%s': element count overflows", nm);
        total *= ne;
        t->ne[d] = (int64_t)ne;
    }
    if ((st = get_u32(c, &type, "tensor type")) || (st = get_u64(c, &g->offsets[i], "tensor offset"))) return st;
    const mono_type_traits *tr = mono_type_get((int)type);
    if (!tr)
        return mono_error_set(c->err, MONO_ERR_UNSUPPORTED, "tensor '%s': unsupported tensor type %u (%s)", nm, type,
                              ggml_type_name(type));
    t->type = (int)type;
    size_t row = mono_type_row_bytes((int)type, t->ne[0]);
    if (row == 0)
        return mono_error_set(c->err, MONO_ERR_FORMAT, "tensor '%s': row of %lld is not a multiple of %s's block of %lld",
                              nm, (long long)t->ne[0], tr->name, (long long)tr->block_size);
    size_t rows = 1;
    for (int d = 1; d < MONO_MAX_DIMS; d++)
        if ((uint64_t)t->ne[d] > SIZE_MAX || !mono_size_mul(rows, (size_t)t->ne[d], &rows))
            return mono_error_set(c->err, MONO_ERR_FORMAT, "tensor '%s': size overflows", nm);
    if (!mono_size_mul(row, rows, &t->nbytes))
        return mono_error_set(c->err, MONO_ERR_FORMAT, "tensor '%s': size overflows", nm);
    return MONO_OK;
}

static mono_status gguf_parse(mono_gguf *g, mono_error *err) {
    cursor c = {g->blob.data, 0, g->blob.size, err};
    uint32_t magic;
    uint64_t n_tensors, n_kv;
    mono_status st;
    if (g->blob.size < 4) return mono_error_set(err, MONO_ERR_FORMAT, "truncated file: %zu bytes, no GGUF header", g->blob.size);
    magic = rd32(g->blob.data);
    if (magic != MONO_GGUF_MAGIC) return mono_error_set(err, MONO_ERR_FORMAT, "not a GGUF file (bad magic)");
    c.pos = 4;
    if ((st = get_u32(&c, &g->version, "version"))) return st;
    if (g->version == 1) return mono_error_set(err, MONO_ERR_UNSUPPORTED, "GGUF version 1 is not supported (convert to v3)");
    if (g->version > 0xFFFF && (g->version & 0xFFFF) == 0)
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "big-endian GGUF files are not supported");
    if (g->version != 2 && g->version != 3)
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "unsupported GGUF version %u", g->version);
    if ((st = get_u64(&c, &n_tensors, "tensor count")) || (st = get_u64(&c, &n_kv, "metadata count"))) return st;
    /* a kv takes at least 8 (key len) + 1 + 4 + 1 bytes; a tensor info 8 + 1 + 4 + 8 + 4 + 8 */
    if (n_kv > left(&c) / 14)
        return mono_error_set(err, MONO_ERR_FORMAT, "truncated file: %llu metadata entries cannot fit", (unsigned long long)n_kv);
    if (n_tensors > left(&c) / 33)
        return mono_error_set(err, MONO_ERR_FORMAT, "truncated file: %llu tensor infos cannot fit",
                              (unsigned long long)n_tensors);
    g->n_kv = (size_t)n_kv;
    g->kv = calloc(g->n_kv ? g->n_kv : 1, sizeof *g->kv);
    if (!g->kv) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < g->n_kv; i++)
        if ((st = read_kv(&c, &g->kv[i], i))) return st;
    if ((st = make_index(g, g->n_kv, &g->kv_sorted, 0, err))) return st;

    g->alignment = MONO_GGUF_DEFAULT_ALIGNMENT;
    const mono_gguf_kv *al = mono_gguf_find(g, "general.alignment");
    if (al) {
        int64_t a;
        if (al->type != MONO_GGUF_UINT32 || !mono_gguf_kv_int(al, &a) || a == 0 || (a & (a - 1)) || a > (1 << 30))
            return mono_error_set(err, MONO_ERR_FORMAT, "general.alignment must be a u32 power of two");
        g->alignment = (size_t)a;
    }

    if (n_tensors > left(&c) / 33)
        return mono_error_set(err, MONO_ERR_FORMAT, "truncated file: %llu tensor infos cannot fit",
                              (unsigned long long)n_tensors);
    g->n_tensors = (size_t)n_tensors;
    g->tensors = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *g->tensors);
    g->offsets = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *g->offsets);
    if (!g->tensors || !g->offsets) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < g->n_tensors; i++)
        if ((st = read_tensor_info(&c, g, i))) return st;
    if ((st = make_index(g, g->n_tensors, &g->t_sorted, 1, err))) return st;

    size_t pad = (g->alignment - c.pos % g->alignment) % g->alignment;
    g->data_offset = c.pos + pad;
    if (g->data_offset > g->blob.size) {
        if (g->n_tensors) return mono_error_set(err, MONO_ERR_FORMAT, "truncated file: no room for tensor data");
        g->data_offset = g->blob.size;   /* metadata only (a vocab file) */
    }
    size_t room = g->blob.size - g->data_offset;
    for (size_t i = 0; i < g->n_tensors; i++) {
        mono_tensor *t = &g->tensors[i];
        uint64_t off = g->offsets[i];
        if (off % g->alignment)
            return mono_error_set(err, MONO_ERR_FORMAT, "tensor '%s': data offset %llu is not a multiple of the alignment %zu",
                                  t->name, (unsigned long long)off, g->alignment);
        if (off > room || t->nbytes > room - (size_t)off)
            return mono_error_set(err, MONO_ERR_FORMAT, "tensor '%s' data out of bounds (offset %llu + %zu bytes > %zu)",
                                  t->name, (unsigned long long)off, t->nbytes, room);
        t->data = g->blob.data + g->data_offset + (size_t)off;
        /* typed loads need f32 data 4-aligned and everything else (f16, bf16,
         * the quantized blocks' f16 scales) 2-aligned in memory */
        size_t need = t->type == MONO_TYPE_F32 ? 4 : 2;
        if ((uintptr_t)t->data % need)
            return mono_error_set(err, MONO_ERR_FORMAT, "tensor '%s': data at byte %zu is not %zu-byte aligned in memory",
                                  t->name, g->data_offset + (size_t)off, need);
    }
    return MONO_OK;
}

static mono_status gguf_finish(mono_gguf *g, mono_gguf **out, mono_error *err) {
    mono_status st = gguf_parse(g, err);
    if (st) { mono_gguf_close(g); return st; }
    *out = g;
    return MONO_OK;
}

mono_status mono_gguf_open(const char *path, mono_gguf **out, mono_error *err) {
    *out = NULL;
    mono_gguf *g = calloc(1, sizeof *g);
    if (!g) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    mono_status st = mono_blob_open(&g->blob, path, err);
    if (st) { free(g); return st; }
    st = gguf_finish(g, out, err);
    if (st) mono_error_prefix(err, "%s", path);
    return st;
}

mono_status mono_gguf_open_memory(const void *data, size_t size, mono_gguf **out, mono_error *err) {
    *out = NULL;
    if (!data && size) return mono_error_set(err, MONO_ERR_INVALID_ARG, "no data given");
    mono_gguf *g = calloc(1, sizeof *g);
    if (!g) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    mono_blob_borrow(&g->blob, data, size);
    return gguf_finish(g, out, err);
}

void mono_gguf_close(mono_gguf *g) {
    if (!g) return;
    for (size_t i = 0; g->kv && i < g->n_kv; i++) {
        free((void *)g->kv[i].key);
        free(g->kv[i].arr_strs);
    }
    for (size_t i = 0; g->tensors && i < g->n_tensors; i++) free((void *)g->tensors[i].name);
    free(g->kv); free(g->kv_sorted); free(g->tensors); free(g->offsets); free(g->t_sorted);
    mono_blob_close(&g->blob);
    free(g);
}

void mono_gguf_release(const mono_gguf *g, const void *p, size_t n) { mono_blob_release(&g->blob, p, n); }
uint32_t mono_gguf_version(const mono_gguf *g) { return g->version; }
size_t mono_gguf_alignment(const mono_gguf *g) { return g->alignment; }
size_t mono_gguf_data_offset(const mono_gguf *g) { return g->data_offset; }
size_t mono_gguf_n_kv(const mono_gguf *g) { return g->n_kv; }
const mono_gguf_kv *mono_gguf_kv_at(const mono_gguf *g, size_t i) { return i < g->n_kv ? &g->kv[i] : NULL; }
size_t mono_gguf_n_tensors(const mono_gguf *g) { return g->n_tensors; }
const mono_tensor *mono_gguf_tensor_at(const mono_gguf *g, size_t i) { return i < g->n_tensors ? &g->tensors[i] : NULL; }
uint64_t mono_gguf_tensor_offset(const mono_gguf *g, size_t i) { return i < g->n_tensors ? g->offsets[i] : 0; }

const mono_gguf_kv *mono_gguf_find(const mono_gguf *g, const char *key) {
    size_t lo = 0, hi = g->n_kv;
    if (!g->kv_sorted) return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(g->kv[g->kv_sorted[mid]].key, key);
        if (c == 0) return &g->kv[g->kv_sorted[mid]];
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return NULL;
}

const mono_tensor *mono_gguf_tensor(const mono_gguf *g, const char *name) {
    size_t lo = 0, hi = g->n_tensors;
    if (!g->t_sorted) return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(g->tensors[g->t_sorted[mid]].name, name);
        if (c == 0) return &g->tensors[g->t_sorted[mid]];
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return NULL;
}

/* Reads one integer/bool/float element of type `type` at p. */
static int read_num(int type, const uint8_t *p, int64_t *iv, double *fv) {
    uint32_t u32;
    uint64_t u64;
    float f;
    double d;
    switch (type) {
    case MONO_GGUF_UINT8: case MONO_GGUF_BOOL: *iv = p[0]; break;
    case MONO_GGUF_INT8: *iv = (int8_t)p[0]; break;
    case MONO_GGUF_UINT16: *iv = (uint16_t)(p[0] | p[1] << 8); break;
    case MONO_GGUF_INT16: *iv = (int16_t)(uint16_t)(p[0] | p[1] << 8); break;
    case MONO_GGUF_UINT32: *iv = rd32(p); break;
    case MONO_GGUF_INT32: *iv = (int32_t)rd32(p); break;
    case MONO_GGUF_UINT64: u64 = rd64(p); if (u64 > (uint64_t)INT64_MAX) return 0; *iv = (int64_t)u64; break;
    case MONO_GGUF_INT64: *iv = (int64_t)rd64(p); break;
    case MONO_GGUF_FLOAT32: u32 = rd32(p); memcpy(&f, &u32, 4); *fv = f; return 2;
    case MONO_GGUF_FLOAT64: u64 = rd64(p); memcpy(&d, &u64, 8); *fv = d; return 2;
    default: return 0;
    }
    *fv = (double)*iv;
    return 1;
}

int mono_gguf_kv_int(const mono_gguf_kv *kv, int64_t *out) {
    double f;
    return kv && kv->type != MONO_GGUF_BOOL && read_num(kv->type, kv->data, out, &f) == 1;
}

int mono_gguf_arr_int(const mono_gguf_kv *kv, uint64_t i, int64_t *out) {
    double f;
    if (!kv || kv->type != MONO_GGUF_ARRAY || i >= kv->arr_n || kv->arr_type >= MONO_GGUF_TYPE_COUNT ||
        !scalar_size[kv->arr_type])
        return 0;
    return read_num(kv->arr_type, kv->data + (size_t)i * scalar_size[kv->arr_type], out, &f) == 1;
}

int mono_gguf_arr_f32(const mono_gguf_kv *kv, uint64_t i, float *out) {
    int64_t iv;
    double f;
    if (!kv || kv->type != MONO_GGUF_ARRAY || i >= kv->arr_n || kv->arr_type >= MONO_GGUF_TYPE_COUNT ||
        !scalar_size[kv->arr_type])
        return 0;
    if (!read_num(kv->arr_type, kv->data + (size_t)i * scalar_size[kv->arr_type], &iv, &f)) return 0;
    *out = (float)f;
    return 1;
}

static mono_status find_typed(const mono_gguf *g, const char *key, const mono_gguf_kv **kv, mono_error *err) {
    *kv = mono_gguf_find(g, key);
    if (!*kv) return mono_error_set(err, MONO_ERR_FORMAT, "metadata key '%s' is missing", key);
    return MONO_OK;
}

static mono_status wrong_type(const mono_gguf_kv *kv, const char *want, mono_error *err) {
    return mono_error_set(err, MONO_ERR_FORMAT, "metadata key '%s' has type %s, expected %s", kv->key,
                          mono_gguf_type_name(kv->type), want);
}

mono_status mono_gguf_get_i64(const mono_gguf *g, const char *key, int64_t *out, mono_error *err) {
    const mono_gguf_kv *kv;
    mono_status st = find_typed(g, key, &kv, err);
    if (st) return st;
    if (!mono_gguf_kv_int(kv, out)) return wrong_type(kv, "an integer", err);
    return MONO_OK;
}

mono_status mono_gguf_get_u32(const mono_gguf *g, const char *key, uint32_t *out, mono_error *err) {
    int64_t v;
    mono_status st = mono_gguf_get_i64(g, key, &v, err);
    if (st) return st;
    if (v < 0 || v > UINT32_MAX)
        return mono_error_set(err, MONO_ERR_FORMAT, "metadata key '%s' = %lld is out of range for u32", key, (long long)v);
    *out = (uint32_t)v;
    return MONO_OK;
}

mono_status mono_gguf_get_i32(const mono_gguf *g, const char *key, int32_t *out, mono_error *err) {
    int64_t v;
    mono_status st = mono_gguf_get_i64(g, key, &v, err);
    if (st) return st;
    if (v < INT32_MIN || v > INT32_MAX)
        return mono_error_set(err, MONO_ERR_FORMAT, "metadata key '%s' = %lld is out of range for i32", key, (long long)v);
    *out = (int32_t)v;
    return MONO_OK;
}

mono_status mono_gguf_get_f32(const mono_gguf *g, const char *key, float *out, mono_error *err) {
    const mono_gguf_kv *kv;
    int64_t iv;
    double f;
    mono_status st = find_typed(g, key, &kv, err);
    if (st) return st;
    if (kv->type != MONO_GGUF_FLOAT32 && kv->type != MONO_GGUF_FLOAT64) return wrong_type(kv, "f32", err);
    read_num(kv->type, kv->data, &iv, &f);
    *out = (float)f;
    return MONO_OK;
}

mono_status mono_gguf_get_bool(const mono_gguf *g, const char *key, int *out, mono_error *err) {
    const mono_gguf_kv *kv;
    mono_status st = find_typed(g, key, &kv, err);
    if (st) return st;
    if (kv->type != MONO_GGUF_BOOL) return wrong_type(kv, "bool", err);
    *out = kv->data[0] != 0;
    return MONO_OK;
}

mono_status mono_gguf_get_str(const mono_gguf *g, const char *key, mono_gguf_str *out, mono_error *err) {
    const mono_gguf_kv *kv;
    mono_status st = find_typed(g, key, &kv, err);
    if (st) return st;
    if (kv->type != MONO_GGUF_STRING) return wrong_type(kv, "string", err);
    *out = kv->str;
    return MONO_OK;
}

mono_status mono_gguf_get_arr(const mono_gguf *g, const char *key, int elem_type, const mono_gguf_kv **out,
                              mono_error *err) {
    const mono_gguf_kv *kv;
    mono_status st = find_typed(g, key, &kv, err);
    if (st) return st;
    if (kv->type != MONO_GGUF_ARRAY) return wrong_type(kv, "array", err);
    if (elem_type >= 0 && kv->arr_type != elem_type)
        return mono_error_set(err, MONO_ERR_FORMAT, "metadata key '%s' is an array of %s, expected %s", key,
                              mono_gguf_type_name(kv->arr_type), mono_gguf_type_name(elem_type));
    *out = kv;
    return MONO_OK;
}
