/*
 * quantize.c -- `monologue quantize`: GGUF in, GGUF out with weights in a
 * llama.cpp file type (see quantize.h).
 *
 * The pass mirrors llama.cpp's llama_model_quantize_impl:
 *   1. metadata is copied key by key (split keys dropped), then
 *      general.quantization_version = 2 and general.file_type are set;
 *   2. tensors are visited in llama.cpp's order -- by layer number, then by
 *      name ("blk.2." before "blk.10.") -- which matters because the
 *      attn_v/ffn_down counters that pick "more bits" layers count visits;
 *   3. each tensor's type is chosen (mono_quantize_tensor_type), then its
 *      rows are converted to f32 and quantized with the reference quantizers
 *      of quant_ref.c (byte-exact with ggml's), split over threads by rows.
 * Output tensors are written in the same visiting order, as llama.cpp does.
 */
#include "formats/quantize.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "formats/gguf.h"
#include "formats/gguf_convert.h"
#include "formats/gguf_write.h"
#include "kernels/types.h"
#include "runtime/threadpool.h"

typedef struct ftype_info { const char *name; int ftype, default_type; } ftype_info;

static const ftype_info ftypes[] = {
    {"F32", MONO_FTYPE_F32, MONO_TYPE_F32},       {"F16", MONO_FTYPE_F16, MONO_TYPE_F16},
    {"BF16", MONO_FTYPE_BF16, MONO_TYPE_BF16},    {"Q8_0", MONO_FTYPE_Q8_0, MONO_TYPE_Q8_0},
    {"Q4_0", MONO_FTYPE_Q4_0, MONO_TYPE_Q4_0},    {"Q4_1", MONO_FTYPE_Q4_1, MONO_TYPE_Q4_1},
    {"Q5_0", MONO_FTYPE_Q5_0, MONO_TYPE_Q5_0},    {"Q5_1", MONO_FTYPE_Q5_1, MONO_TYPE_Q5_1},
    {"Q2_K", MONO_FTYPE_Q2_K, MONO_TYPE_Q2_K},    {"Q3_K_S", MONO_FTYPE_Q3_K_S, MONO_TYPE_Q3_K},
    {"Q3_K_M", MONO_FTYPE_Q3_K_M, MONO_TYPE_Q3_K}, {"Q3_K_L", MONO_FTYPE_Q3_K_L, MONO_TYPE_Q3_K},
    {"Q4_K_S", MONO_FTYPE_Q4_K_S, MONO_TYPE_Q4_K}, {"Q4_K_M", MONO_FTYPE_Q4_K_M, MONO_TYPE_Q4_K},
    {"Q5_K_S", MONO_FTYPE_Q5_K_S, MONO_TYPE_Q5_K}, {"Q5_K_M", MONO_FTYPE_Q5_K_M, MONO_TYPE_Q5_K},
    {"Q6_K", MONO_FTYPE_Q6_K, MONO_TYPE_Q6_K},
};
#define N_FTYPES (sizeof ftypes / sizeof ftypes[0])

int mono_quantize_ftype_parse(const char *name, int *ftype) {
    for (size_t i = 0; name && i < N_FTYPES; i++) {
        const char *a = ftypes[i].name, *b = name;
        while (*a && *b && toupper((unsigned char)*b) == *a) { a++; b++; }
        if (!*a && !*b) { *ftype = ftypes[i].ftype; return 1; }
    }
    return 0;
}

static const ftype_info *ftype_find(int ftype) {
    for (size_t i = 0; i < N_FTYPES; i++)
        if (ftypes[i].ftype == ftype) return &ftypes[i];
    return NULL;
}

const char *mono_quantize_ftype_name(int ftype) {
    const ftype_info *f = ftype_find(ftype);
    return f ? f->name : NULL;
}

const char *mono_quantize_ftype_list(void) {
    return "f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q2_k q3_k_s q3_k_m q3_k_l q4_k_s q4_k_m q5_k_s q5_k_m q6_k";
}

/* ------------------------------------------------------ type selection */

static int has(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* llama.cpp's tensor_allows_quantization, for the tensors our
 * architectures have (the exotic names of other families included). */
static int allows_quantization(const mono_tensor *t) {
    const char *n = t->name;
    if (t->n_dims < 2 || !ends_with(n, "weight")) return 0;
    static const char *const never[] = {"_norm.weight", "ffn_gate_inp.weight", "altup", "laurel",
                                        "per_layer_model_proj", "ssm_conv1d", "shortconv.conv.weight",
                                        "attn_rel_b.weight", ".position_embd", ".patch_embd", "time_mix_"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (has(n, never[i])) return 0;
    return strcmp(n, "position_embd.weight") != 0 && strcmp(n, "token_types.weight") != 0;
}

static int use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

/* The ftype-specific choice (llama_tensor_get_type_impl) for the ftypes we
 * support; IQ/TQ/MoE branches do not apply. */
static int choose(mono_quantize_plan *p, const mono_tensor *t, int new_type) {
    const char *n = t->name;
    const int f = p->ftype;
    int is_output = strcmp(n, "output.weight") == 0;
    int is_embd = strcmp(n, "token_embd.weight") == 0 || strcmp(n, "per_layer_token_embd.weight") == 0;
    if (is_output || (p->tied_embeddings && is_embd)) {
        int64_t bs = mono_type_get(new_type)->block_size;
        if (t->ne[0] % bs != 0) return MONO_TYPE_Q8_0;
        return new_type != MONO_TYPE_Q8_0 ? MONO_TYPE_Q6_K : new_type;
    }
    if (is_embd) return new_type;
    /* fused QKV and MLA's kv_b count as attn_v (llama.cpp's category_is_attn_v) */
    if (has(n, "attn_qkv.weight") || has(n, "attn_kv_b.weight") || has(n, "attn_v.weight")) {
        if (f == MONO_FTYPE_Q2_K) new_type = p->n_gqa >= 4 ? MONO_TYPE_Q4_K : MONO_TYPE_Q3_K;
        else if (f == MONO_FTYPE_Q3_K_M) new_type = p->i_attention_wv < 2 ? MONO_TYPE_Q5_K : MONO_TYPE_Q4_K;
        else if (f == MONO_FTYPE_Q3_K_L) new_type = MONO_TYPE_Q5_K;
        else if ((f == MONO_FTYPE_Q4_K_M || f == MONO_FTYPE_Q5_K_M) && use_more_bits(p->i_attention_wv, p->n_attention_wv))
            new_type = MONO_TYPE_Q6_K;
        else if (f == MONO_FTYPE_Q4_K_S && p->i_attention_wv < 4) new_type = MONO_TYPE_Q5_K;
        p->i_attention_wv++;
        return new_type;
    }
    if (has(n, "ffn_down")) {
        int i = p->i_ffn_down++, nl = p->n_layer;
        if (f == MONO_FTYPE_Q2_K) new_type = MONO_TYPE_Q3_K;
        else if (f == MONO_FTYPE_Q3_K_M) new_type = i < nl / 16 ? MONO_TYPE_Q5_K : MONO_TYPE_Q4_K;
        else if (f == MONO_FTYPE_Q3_K_L) new_type = MONO_TYPE_Q5_K;
        else if (f == MONO_FTYPE_Q4_K_M) { if (use_more_bits(i, nl)) new_type = MONO_TYPE_Q6_K; }
        else if (f == MONO_FTYPE_Q5_K_M && use_more_bits(i, nl)) new_type = MONO_TYPE_Q6_K;
        else if (f == MONO_FTYPE_Q4_K_S && i < nl / 8) new_type = MONO_TYPE_Q5_K;
        return new_type;
    }
    if (has(n, "attn_output.weight")) {
        if (f == MONO_FTYPE_Q2_K) new_type = MONO_TYPE_Q3_K;
        else if (f == MONO_FTYPE_Q3_K_M) new_type = MONO_TYPE_Q4_K;
        else if (f == MONO_FTYPE_Q3_K_L) new_type = MONO_TYPE_Q5_K;
        return new_type;
    }
    if (has(n, "ffn_up")) p->i_ffn_up++;
    else if (has(n, "ffn_gate")) p->i_ffn_gate++;
    return new_type;
}

int mono_quantize_tensor_type(mono_quantize_plan *p, const mono_tensor *t) {
    if (!allows_quantization(t)) return t->type;
    int new_type = p->default_type;
    if (!mono_type_get(new_type)->quantized) return new_type;
    if (!p->pure) new_type = choose(p, t, new_type);
    if (t->ne[0] % mono_type_get(new_type)->block_size != 0) { /* llama.cpp's tensor_type_fallback */
        p->n_fallback++;
        switch (new_type) {
        case MONO_TYPE_Q2_K: case MONO_TYPE_Q3_K: new_type = MONO_TYPE_Q4_0; break;
        case MONO_TYPE_Q4_K: new_type = MONO_TYPE_Q5_0; break;
        case MONO_TYPE_Q5_K: new_type = MONO_TYPE_Q5_1; break;
        case MONO_TYPE_Q6_K: new_type = MONO_TYPE_Q8_0; break;
        default: break; /* a 32-block type that does not fit: F16 below */
        }
        if (t->ne[0] % mono_type_get(new_type)->block_size != 0) new_type = MONO_TYPE_F16;
    }
    return new_type;
}

/* ------------------------------------------------------------ the pass */

static int layer_of(const char *name) {
    int l;
    return sscanf(name, "blk.%d.", &l) == 1 ? l : -1;
}

static int cmp_tensors(const void *a, const void *b) {
    const mono_tensor *x = *(const mono_tensor *const *)a, *y = *(const mono_tensor *const *)b;
    int lx = layer_of(x->name), ly = layer_of(y->name);
    if (lx != ly) return lx < ly ? -1 : 1;
    return strcmp(x->name, y->name);
}

typedef struct convert_job {
    const mono_tensor *t;
    int out_type;
    int64_t n_rows, n_cols;
    size_t in_row, out_row;
    uint8_t *out;
    float *scratch;           /* n_threads x n_cols */
    long long bad_row[64];    /* per thread: first row with a NaN/inf value, or -1 */
} convert_job;

static void convert_task(void *arg, int ith, int nth) {
    convert_job *j = arg;
    long long lo, hi;
    mono_split_range(j->n_rows, ith, nth, &lo, &hi);
    const mono_type_traits *src = mono_type_get(j->t->type), *dst = mono_type_get(j->out_type);
    float *f = j->scratch + (size_t)ith * (size_t)j->n_cols;
    j->bad_row[ith] = -1;
    for (long long r = lo; r < hi; r++) {
        src->to_float((const uint8_t *)j->t->data + (size_t)r * j->in_row, f, j->n_cols);
        /* NaN/inf weights have no quantized form (the reference quantizers
         * would convert NaN to an integer): refuse the tensor instead */
        if (dst->quantized)
            for (int64_t c = 0; c < j->n_cols; c++)
                if (!isfinite(f[c])) { j->bad_row[ith] = r; return; }
        dst->from_float(f, j->out + (size_t)r * j->out_row, j->n_cols);
    }
}

/* Copies every metadata key except the ones the output redefines. */
static mono_status copy_metadata(const mono_gguf *g, mono_gguf_writer *w, int ftype, mono_error *err) {
    mono_status st = MONO_OK;
    for (size_t i = 0; i < mono_gguf_n_kv(g) && st == MONO_OK; i++) {
        const mono_gguf_kv *kv = mono_gguf_kv_at(g, i);
        if (!strcmp(kv->key, "general.file_type") || !strcmp(kv->key, "general.quantization_version") ||
            !strncmp(kv->key, "split.", 6))
            continue;
        if (kv->type == MONO_GGUF_STRING) {
            st = mono_gguf_writer_add_kv_strn(w, kv->key, kv->str.ptr, kv->str.len, err);
        } else if (kv->type == MONO_GGUF_ARRAY) { /* re-encode the header; elements are already GGUF bytes */
            size_t len = 12 + kv->size;
            uint8_t *buf = malloc(len ? len : 1);
            if (!buf) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory copying '%s'", kv->key);
            uint32_t at = (uint32_t)kv->arr_type;
            uint64_t n = kv->arr_n;
            memcpy(buf, &at, 4);
            memcpy(buf + 4, &n, 8);
            if (kv->size) memcpy(buf + 12, kv->data, kv->size);
            st = mono_gguf_writer_add_kv_raw(w, kv->key, MONO_GGUF_ARRAY, buf, len, err);
            free(buf);
        } else {
            st = mono_gguf_writer_add_kv_raw(w, kv->key, kv->type, kv->data, kv->size, err);
        }
    }
    if (st == MONO_OK) st = mono_gguf_writer_add_kv_u32(w, "general.quantization_version", 2, err);
    if (st == MONO_OK) st = mono_gguf_writer_add_kv_u32(w, "general.file_type", (uint32_t)ftype, err);
    return st;
}

static int read_u32_key(const mono_gguf *g, const char *arch, const char *suffix, int fallback) {
    char key[160];
    uint32_t v;
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return mono_gguf_find(g, key) && mono_gguf_get_u32(g, key, &v, NULL) == MONO_OK ? (int)v : fallback;
}

mono_status mono_quantize_model(const char *in_path, const char *out_path, int ftype, const mono_quantize_opts *opts,
                                mono_quantize_stats *st_out, mono_error *err) {
    const ftype_info *fi = ftype_find(ftype);
    if (!fi) return mono_error_set(err, MONO_ERR_INVALID_ARG, "unknown file type %d (known: %s)", ftype,
                                   mono_quantize_ftype_list());
    if (!in_path || !out_path) return mono_error_set(err, MONO_ERR_INVALID_ARG, "quantize: missing path");
    /* A Hugging Face folder (anything that is not GGUF) goes through the
     * converter first: a temporary GGUF with the weights as stored. */
    char *tmp_path = NULL;
    FILE *probe = fopen(in_path, "rb");
    uint32_t magic = 0;
    if (probe) { if (fread(&magic, 4, 1, probe) != 1) magic = 0; fclose(probe); }
    if (magic != MONO_GGUF_MAGIC) {
        mono_model_file *mf = NULL;
        mono_status cst = mono_model_file_open(in_path, &mf, err);
        if (cst != MONO_OK) return cst;
        size_t tl = strlen(out_path) + 32;
        tmp_path = malloc(tl);
        if (!tmp_path) { mono_model_file_close(mf); return mono_error_set(err, MONO_ERR_NOMEM, "out of memory"); }
        snprintf(tmp_path, tl, "%s.convert-tmp.gguf", out_path);
        mono_convert_options co;
        mono_convert_options_init(&co);
        co.type = -1;
        cst = mono_model_file_write_gguf(mf, &co, tmp_path, err);
        mono_model_file_close(mf);
        if (cst != MONO_OK) { remove(tmp_path); free(tmp_path); return cst; }
        in_path = tmp_path;
    }
    mono_gguf *g = NULL;
    mono_status st = mono_gguf_open(in_path, &g, err);
    if (st != MONO_OK) {
        if (tmp_path) { remove(tmp_path); free(tmp_path); }
        return st;
    }

    mono_quantize_stats stats;
    memset(&stats, 0, sizeof stats);
    size_t nt = mono_gguf_n_tensors(g);
    const mono_tensor **order = calloc(nt ? nt : 1, sizeof *order);
    uint8_t **bufs = calloc(nt ? nt : 1, sizeof *bufs);
    mono_gguf_writer *w = mono_gguf_writer_init();
    mono_threadpool *pool = NULL;
    float *scratch = NULL;
    int n_threads = opts && opts->n_threads > 0 ? opts->n_threads : 1;
    if (n_threads > 64) n_threads = 64;
    if (!order || !bufs || !w) { st = mono_error_set(err, MONO_ERR_NOMEM, "out of memory"); goto done; }
    if ((st = mono_threadpool_init(&pool, n_threads, err)) != MONO_OK) goto done;

    mono_gguf_str arch = {"", 0};
    char arch_s[64] = "";
    if (mono_gguf_find(g, "general.architecture") && mono_gguf_get_str(g, "general.architecture", &arch, NULL) == MONO_OK)
        snprintf(arch_s, sizeof arch_s, "%.*s", (int)(arch.len < 63 ? arch.len : 63), arch.ptr);

    mono_quantize_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.ftype = ftype;
    plan.default_type = fi->default_type;
    plan.pure = opts ? opts->pure : 0;
    plan.n_layer = read_u32_key(g, arch_s, "block_count", 0);
    int n_head = read_u32_key(g, arch_s, "attention.head_count", 1);
    int n_head_kv = read_u32_key(g, arch_s, "attention.head_count_kv", n_head);
    plan.n_gqa = n_head_kv > 0 ? n_head / n_head_kv : 1;
    plan.tied_embeddings = 1;
    for (size_t i = 0; i < nt; i++) {
        order[i] = mono_gguf_tensor_at(g, i);
        const char *n = order[i]->name;
        if (has(n, "attn_v.weight") || has(n, "attn_qkv.weight") || has(n, "attn_kv_b.weight")) plan.n_attention_wv++;
        if (!strcmp(n, "output.weight")) plan.tied_embeddings = 0;
    }
    qsort(order, nt, sizeof *order, cmp_tensors);
    if ((st = copy_metadata(g, w, ftype, err)) != MONO_OK) goto done;

    for (size_t i = 0; i < nt; i++) {
        const mono_tensor *t = order[i];
        int out_type = mono_quantize_tensor_type(&plan, t);
        const mono_type_traits *src = mono_type_get(t->type), *dst = mono_type_get(out_type);
        const void *data = t->data;
        size_t nbytes = t->nbytes;
        stats.bytes_in += t->nbytes;
        if (out_type != t->type) {
            if (!src || !src->to_float) {
                st = mono_error_set(err, MONO_ERR_UNSUPPORTED, "tensor '%s': cannot convert from type %d", t->name, t->type);
                goto done;
            }
            int64_t n_cols = t->ne[0], n_rows = 1;
            for (int d = 1; d < t->n_dims; d++) n_rows *= t->ne[d];
            convert_job job = {t, out_type, n_rows, n_cols, mono_type_row_bytes(t->type, n_cols),
                               mono_type_row_bytes(out_type, n_cols), NULL, NULL, {0}};
            size_t out_bytes;
            if (!job.in_row || !job.out_row || !mono_size_mul(job.out_row, (size_t)n_rows, &out_bytes)) {
                st = mono_error_set(err, MONO_ERR_FORMAT, "tensor '%s': %lld columns do not fit type %s", t->name,
                                    (long long)n_cols, dst->name);
                goto done;
            }
            free(scratch);
            scratch = malloc((size_t)n_threads * (size_t)n_cols * sizeof *scratch);
            bufs[i] = malloc(out_bytes ? out_bytes : 1);
            if (!scratch || !bufs[i]) { st = mono_error_set(err, MONO_ERR_NOMEM, "out of memory for '%s'", t->name); goto done; }
            job.out = bufs[i];
            job.scratch = scratch;
            mono_threadpool_run(pool, convert_task, &job);
            for (int th = 0; th < n_threads && th < 64; th++)
                if (job.bad_row[th] >= 0) {
                    st = mono_error_set(err, MONO_ERR_FORMAT, "tensor '%s' row %lld holds NaN or infinite values", t->name,
                                        job.bad_row[th]);
                    goto done;
                }
            data = bufs[i];
            nbytes = out_bytes;
            stats.n_converted++;
        }
        if ((st = mono_gguf_writer_add_tensor(w, t->name, out_type, t->n_dims, t->ne, data, nbytes, err)) != MONO_OK)
            goto done;
        stats.bytes_out += nbytes;
        if (out_type >= 0 && out_type < 40) stats.n_by_type[out_type]++;
    }
    stats.n_tensors = nt;
    stats.n_fallback = (size_t)plan.n_fallback;
    st = mono_gguf_writer_write_file(w, out_path, err);

done:
    if (bufs)
        for (size_t i = 0; i < nt; i++) free(bufs[i]);
    free(bufs);
    free(order);
    free(scratch);
    mono_threadpool_free(pool);
    mono_gguf_writer_free(w);
    mono_gguf_close(g);
    if (tmp_path) { remove(tmp_path); free(tmp_path); }
    if (st == MONO_OK && st_out) *st_out = stats;
    if (st != MONO_OK) mono_error_prefix(err, "quantize %s", in_path);
    return st;
}
