/*
 * model.c -- loading a model: open the file (formats/), check the
 * architecture against the table (arch.c), bind every weight by role with
 * its shape checked against the hyper-parameters, convert the small vectors
 * to float32, and find the model's tokenizer.
 *
 * Matrices are used in place from the mapped file, except where the kernel
 * table has a load-time repacked form for their type (AVX-512 VNNI: Q4_0,
 * Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K in groups of 16 rows, which
 * decode reads at a higher share of memory bandwidth; AVX2/AVX-512: F16 and
 * BF16 rows longer than 1024 in column panels): those are copied once, repacked, and
 * the file pages they came from are released, so one copy of the weights
 * stays resident either way. Where the OS backs memory with transparent
 * huge pages, the other matrices (F16, F32, types without a repacked form)
 * are copied as they are into the same huge-page buffer: decode streams
 * every weight once per token, and 2 MiB pages made it 7-19% faster here
 * (core/bigbuf.h). Repacking is most of the load time (the kernel
 * zeroing fresh pages for the copy, then the copy itself), so it runs on
 * a temporary thread pool, slices of all matrices claimed from one counter.
 */
#define _DEFAULT_SOURCE /* madvise, sysconf */
#include "model/model.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__) && !defined(MONO_NO_MMAP)
#include <sys/mman.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older C headers lack the name */
#endif
#endif

#include "core/error.h"
#include "runtime/threadpool.h"

mono_model_params mono_model_params_default(void) {
    mono_model_params p;
    memset(&p, 0, sizeof p);
    return p;
}

/* ---- hyper-parameter checks ------------------------------------------- */

static mono_status check_hparams(mono_hparams *hp, mono_error *err) {
    if (hp->n_layer < 1 || hp->n_layer > 4096)
        return mono_error_set(err, MONO_ERR_FORMAT, "bad layer count %d", hp->n_layer);
    if (hp->n_embd < 1 || hp->n_embd > (1 << 20))
        return mono_error_set(err, MONO_ERR_FORMAT, "bad hidden size %d", hp->n_embd);
    if (hp->n_head < 1 || hp->n_head > 4096 || hp->n_head_kv < 1 || hp->n_head % hp->n_head_kv != 0)
        return mono_error_set(err, MONO_ERR_FORMAT, "bad head counts %d / %d (heads must be a multiple of kv heads)",
                              hp->n_head, hp->n_head_kv);
    if (hp->head_dim == 0 && hp->n_embd % hp->n_head == 0) hp->head_dim = hp->n_embd / hp->n_head;
    if (hp->head_dim < 2 || hp->head_dim > 4096 || hp->head_dim % 2 != 0)
        return mono_error_set(err, MONO_ERR_FORMAT, "bad head dimension %d (must be even)", hp->head_dim);
    if (hp->n_ff < 1 || hp->n_ff > (1 << 22))
        return mono_error_set(err, MONO_ERR_FORMAT, "bad feed-forward size %d", hp->n_ff);
    if (hp->n_vocab < 1 || hp->n_vocab > (1 << 24))
        return mono_error_set(err, MONO_ERR_FORMAT, "bad vocabulary size %d", hp->n_vocab);
    if (!(hp->rms_eps > 0.0f) || !isfinite(hp->rms_eps) || hp->rms_eps > 1.0f)
        return mono_error_set(err, MONO_ERR_FORMAT, "bad RMSNorm epsilon %g", (double)hp->rms_eps);
    if (!(hp->rope_theta > 0.0f) || !isfinite(hp->rope_theta))
        return mono_error_set(err, MONO_ERR_FORMAT, "bad RoPE theta %g", (double)hp->rope_theta);
    if (hp->n_ctx_train < 0) hp->n_ctx_train = 0;
    return MONO_OK;
}

/* ---- binding tensors ------------------------------------------------- */

typedef struct binder {
    mono_model *m;
    mono_error *err;
    float *vec_next;             /* next free float in m->vectors */
} binder;

static int tensor_is_2d(const mono_tensor *t) {
    for (int d = 2; d < MONO_MAX_DIMS; d++)
        if (t->ne[d] != 1) return 0;
    return 1;
}

/* Binds a matrix of n_rows rows of n_cols elements (ne = {n_cols, n_rows}). */
static mono_status bind_matrix(binder *b, const char *name, int64_t n_cols, int64_t n_rows, mono_matrix *out) {
    const mono_tensor *t = mono_model_file_tensor(b->m->file, name);
    if (!t) return mono_error_set(b->err, MONO_ERR_FORMAT, "missing tensor %s", name);
    if (!tensor_is_2d(t) || t->ne[0] != n_cols || t->ne[1] != n_rows)
        return mono_error_set(b->err, MONO_ERR_FORMAT,
                              "tensor %s has shape [%lld, %lld, %lld, %lld], expected [%lld, %lld] from the hyper-parameters",
                              name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                              (long long)t->ne[3], (long long)n_cols, (long long)n_rows);
    const mono_type_traits *tr = mono_type_get(t->type);
    if (!tr) return mono_error_set(b->err, MONO_ERR_UNSUPPORTED, "tensor %s has unknown type %d", name, t->type);
    size_t row_bytes = mono_type_row_bytes(t->type, n_cols), total;
    if (row_bytes == 0)
        return mono_error_set(b->err, MONO_ERR_FORMAT, "tensor %s: %lld columns are not a whole number of %s blocks",
                              name, (long long)n_cols, tr->name);
    if (!mono_size_mul(row_bytes, (size_t)n_rows, &total) || total > t->nbytes)
        return mono_error_set(b->err, MONO_ERR_FORMAT, "tensor %s: %zu bytes of data, shape needs more", name, t->nbytes);
    const mono_kernels *k = &b->m->kernels;
    const mono_type_traits *vt = mono_type_get(tr->vec_dot_type);
    int can_dot = k->vec_dot[t->type] && vt && (k->quantize_row[tr->vec_dot_type] || vt->from_float);
    if (!can_dot && !tr->to_float)
        return mono_error_set(b->err, MONO_ERR_UNSUPPORTED, "tensor %s: this build cannot compute with type %s",
                              name, tr->name);
    out->data = t->data;
    out->type = t->type;
    out->n_rows = n_rows;
    out->n_cols = n_cols;
    out->row_bytes = row_bytes;
    return MONO_OK;
}

/* Converts a 1-D tensor of n elements to float32 in the vectors buffer. A
 * missing optional vector gives *out = NULL. */
static mono_status bind_vector(binder *b, const char *name, int64_t n, int required, const float **out) {
    const mono_tensor *t = mono_model_file_tensor(b->m->file, name);
    *out = NULL;
    if (!t) return required ? mono_error_set(b->err, MONO_ERR_FORMAT, "missing tensor %s", name) : MONO_OK;
    int64_t count = 1;
    for (int d = 0; d < MONO_MAX_DIMS; d++) count *= t->ne[d];
    if (t->ne[0] != n || count != n)
        return mono_error_set(b->err, MONO_ERR_FORMAT, "tensor %s has %lld elements, expected a vector of %lld",
                              name, (long long)count, (long long)n);
    const mono_type_traits *tr = mono_type_get(t->type);
    size_t bytes = mono_type_row_bytes(t->type, n);
    if (!tr || !tr->to_float || bytes == 0)
        return mono_error_set(b->err, MONO_ERR_UNSUPPORTED, "tensor %s: cannot read type %d as float", name, t->type);
    if (bytes > t->nbytes) return mono_error_set(b->err, MONO_ERR_FORMAT, "tensor %s is truncated", name);
    tr->to_float(t->data, b->vec_next, n);
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(b->vec_next[i]))
            return mono_error_set(b->err, MONO_ERR_FORMAT, "tensor %s holds a non-finite value at %lld", name, (long long)i);
    *out = b->vec_next;
    b->vec_next += n;
    return MONO_OK;
}

#define TRY(expr) do { mono_status s_ = (expr); if (s_ != MONO_OK) return s_; } while (0)

static mono_status bind_layer(binder *b, int il) {
    const mono_hparams *hp = &b->m->hp;
    const mono_arch *a = b->m->arch;
    mono_layer *L = &b->m->layers[il];
    int64_t D = hp->n_embd, Q = (int64_t)hp->n_head * hp->head_dim, KV = (int64_t)hp->n_head_kv * hp->head_dim;
    char name[96];
#define NAME(suffix) (snprintf(name, sizeof name, "blk.%d." suffix, il), name)
    TRY(bind_vector(b, NAME("attn_norm.weight"), D, 1, &L->attn_norm));
    TRY(bind_matrix(b, NAME("attn_q.weight"), D, Q, &L->wq));
    TRY(bind_matrix(b, NAME("attn_k.weight"), D, KV, &L->wk));
    TRY(bind_matrix(b, NAME("attn_v.weight"), D, KV, &L->wv));
    TRY(bind_vector(b, NAME("attn_q.bias"), Q, a->qkv_bias, &L->bq));
    TRY(bind_vector(b, NAME("attn_k.bias"), KV, a->qkv_bias, &L->bk));
    TRY(bind_vector(b, NAME("attn_v.bias"), KV, a->qkv_bias, &L->bv));
    if (a->qk_norm) {
        TRY(bind_vector(b, NAME("attn_q_norm.weight"), hp->head_dim, 1, &L->q_norm));
        TRY(bind_vector(b, NAME("attn_k_norm.weight"), hp->head_dim, 1, &L->k_norm));
    }
    TRY(bind_matrix(b, NAME("attn_output.weight"), Q, D, &L->wo));
    TRY(bind_vector(b, NAME("ffn_norm.weight"), D, 1, &L->ffn_norm));
    TRY(bind_matrix(b, NAME("ffn_gate.weight"), D, hp->n_ff, &L->w_gate));
    TRY(bind_matrix(b, NAME("ffn_up.weight"), D, hp->n_ff, &L->w_up));
    TRY(bind_matrix(b, NAME("ffn_down.weight"), hp->n_ff, D, &L->w_down));
#undef NAME
    return MONO_OK;
}

static void count_weights(mono_model *m) {
    size_t n = mono_model_file_n_tensors(m->file);
    size_t bytes_by_type[MONO_TYPE_COUNT] = {0};
    for (size_t i = 0; i < n; i++) {
        const mono_tensor *t = mono_model_file_tensor_at(m->file, i);
        long long count = 1;
        for (int d = 0; d < MONO_MAX_DIMS; d++) count *= t->ne[d];
        m->n_params += count;
        m->weight_bytes += t->nbytes;
        if (!strcmp(t->name, "token_embd.weight")) m->embd_bytes = t->nbytes;
        if (t->type >= 0 && t->type < MONO_TYPE_COUNT) bytes_by_type[t->type] += t->nbytes;
    }
    m->main_type = 0;
    for (int ty = 0; ty < MONO_TYPE_COUNT; ty++)
        if (bytes_by_type[ty] > bytes_by_type[m->main_type]) m->main_type = ty;
}

static int report(const mono_model_params *p, float fraction) {
    return p && p->progress ? p->progress(fraction, p->progress_user_data) : 0;
}

/* Reports progress up to share (the rest is repacking's). */
static mono_status bind_model(mono_model *m, const mono_model_params *params, float share, mono_error *err) {
    m->hp = *mono_model_file_hparams(m->file);
    m->gen = *mono_model_file_gen_defaults(m->file);
    mono_hparams *hp = &m->hp;
    m->arch = mono_arch_find(hp->arch);
    if (!m->arch) return mono_error_set(err, MONO_ERR_UNSUPPORTED, "unsupported architecture '%s'", hp->arch);
    if (!m->arch->supported)
        return mono_error_set(err, MONO_ERR_UNSUPPORTED,
                              "unsupported architecture '%s' (known, but not yet covered by a reference test)", hp->arch);
    TRY(check_hparams(hp, err));
    mono_kernels_init(&m->kernels);

    /* float32 vectors: per layer 2 norms + biases (+ q/k norms), final norm */
    size_t per_layer = 2 * (size_t)hp->n_embd + (size_t)(hp->n_head + 2 * hp->n_head_kv) * hp->head_dim +
                       2 * (size_t)hp->head_dim;
    size_t n_floats, bytes;
    if (!mono_size_mul(per_layer, (size_t)hp->n_layer, &n_floats) || !mono_size_add(n_floats, hp->n_embd, &n_floats) ||
        !mono_size_mul(n_floats, sizeof(float), &bytes))
        return mono_error_set(err, MONO_ERR_NOMEM, "model vectors too large");
    m->vectors = malloc(bytes);
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->vectors || !m->layers) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory binding weights");

    binder b = {m, err, m->vectors};
    TRY(bind_matrix(&b, "token_embd.weight", hp->n_embd, hp->n_vocab, &m->tok_embd));
    if (!mono_type_get(m->tok_embd.type)->to_float)
        return mono_error_set(err, MONO_ERR_UNSUPPORTED, "token_embd.weight: cannot read type %s as float",
                              mono_type_get(m->tok_embd.type)->name);
    for (int il = 0; il < hp->n_layer; il++) {
        if (report(params, share * (float)il / (float)hp->n_layer))
            return mono_error_set(err, MONO_ERR_CANCELLED, "loading cancelled by the progress callback");
        TRY(bind_layer(&b, il));
    }
    TRY(bind_vector(&b, "output_norm.weight", hp->n_embd, 1, &m->output_norm));
    if (mono_model_file_tensor(m->file, "output.weight")) {
        TRY(bind_matrix(&b, "output.weight", hp->n_embd, hp->n_vocab, &m->output));
        hp->tied_embeddings = 0;
    } else if (m->arch->tied_allowed) {
        m->output = m->tok_embd;
        hp->tied_embeddings = 1;
    } else {
        return mono_error_set(err, MONO_ERR_FORMAT, "missing tensor output.weight");
    }
    count_weights(m);
    return MONO_OK;
}

/* ---- load-time repacking ------------------------------------------------ */

/* Rows repacked per slice, the unit of work the threads claim: the file
 * pages of each slice are released as soon as it is copied, so loading
 * never holds much more than one copy (plus one slice per thread). 256 or
 * 2048 rows load no faster than 512. The copy lives in huge pages where the
 * OS has them (core/bigbuf.h): decode 7-19% faster in paired runs here
 * (bench/pair/run.sh), at the price of a slower, erratic load in this VM
 * (Q8_0 0.5B on 2 threads: 180-990 ms against 210-330 ms with 4 KiB pages,
 * the kernel zeroing 2 MiB pages the host must back afresh). */
#define REPACK_SLICE_ROWS 512
/* With a progress callback, the slices run in this many rounds; between
 * rounds the loading thread reports progress and may cancel. */
#define REPACK_ROUNDS 32

/* A matrix to repack (or copy): where it goes in the model's weights
 * buffer (allocated before the threads start) and how many of its slices
 * are not done yet. */
typedef struct repack_job {
    mono_matrix *w;
    int copy;                    /* 1: rows copied as they are (no repacked form) */
    size_t off;                  /* of dst in m->weights */
    uint8_t *dst;
    size_t dst_bytes, per_group; /* whole buffer; one group of g rows */
    int64_t g;                   /* rows per group (kernels.repack_rows) */
    atomic_int left;             /* slices not finished */
} repack_job;

typedef struct repack_slice {
    int job;
    int64_t r0, nr;              /* rows [r0, r0 + nr), r0 a multiple of g */
} repack_slice;

typedef struct repack_plan {
    mono_model *m;
    repack_job *jobs;
    repack_slice *slices;
    int n_jobs, n_slices;
    size_t total;                /* bytes of m->weights the jobs need */
    int copy_others;             /* copy matrices that have no repacked form */
    atomic_int next;             /* next slice to claim */
    int end;                     /* this round claims slices below end */
    /* The tokenizer is built by one of the threads meanwhile (it is the
     * longest serial part of a load), with its own error. */
    int with_tokenizer;
    atomic_int tokenizer_claimed;
    atomic_int stop;             /* the tokenizer failed: repacking is moot */
    mono_status tokenizer_status;
    mono_error tokenizer_err;
} repack_plan;

static void repack_plan_free(repack_plan *p) {
    free(p->jobs);
    free(p->slices);
}

/* Backs [p, p + n) with zeroed pages in one system call instead of one page
 * fault per 4 KiB (on the VMs this was measured on, a write fault costs
 * ~1.5 us and faults from two threads do not overlap, while
 * MADV_POPULATE_WRITE from two threads does). A hint: on kernels before
 * 5.14 it fails and the writes fault the pages in as before. */
static void prefault(void *p, size_t n) {
#if defined(__linux__) && !defined(MONO_NO_MMAP)
    long ps = sysconf(_SC_PAGESIZE);
    uintptr_t page = ps > 0 ? (uintptr_t)ps : 4096, lo = (uintptr_t)p, hi = lo + n;
    lo = (lo + page - 1) / page * page;
    hi = hi / page * page;
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#else
    (void)p; (void)n;
#endif
}

/* Queues w if the kernels have a repacked form for its type and shape
 * (or, with copy_others, in any case: copied as it is) and reserves its
 * place in the weights buffer. */
static mono_status repack_plan_add(repack_plan *p, mono_model *m, mono_matrix *w, mono_error *err) {
    const mono_kernels *k = &m->kernels;
    if (w->packed) return MONO_OK;
    const int64_t g = k->repack_rows[w->type];
    size_t n = 0, per_group = 0;
    int copy = 0;
    if (k->repack[w->type] && k->gemm_repacked[w->type] && k->unrepack[w->type] && g > 0 &&
        REPACK_SLICE_ROWS % g == 0) {
        n = k->repack_size[w->type](w->n_rows, w->n_cols);
        per_group = k->repack_size[w->type](g, w->n_cols);
    }
    if (n == 0 || per_group == 0) {
        if (!p->copy_others) return MONO_OK;
        copy = 1;
        if (!mono_size_mul(w->row_bytes, (size_t)w->n_rows, &n) || n == 0) return MONO_OK;
        per_group = w->row_bytes;
    }
    int64_t n_slices = (w->n_rows + REPACK_SLICE_ROWS - 1) / REPACK_SLICE_ROWS;
    if (n_slices > INT32_MAX - p->n_slices)
        return mono_error_set(err, MONO_ERR_NOMEM, "too many rows to repack (%lld)", (long long)w->n_rows);
    size_t off = (p->total + 63) / 64 * 64;
    if (off < p->total || off + n < off) return mono_error_set(err, MONO_ERR_NOMEM, "weights too large to repack");
    repack_job *j = &p->jobs[p->n_jobs++];
    j->w = w;
    j->copy = copy;
    j->off = off;
    j->dst_bytes = n;
    j->per_group = per_group;
    j->g = copy ? 1 : g;
    atomic_init(&j->left, (int)n_slices);
    p->n_slices += (int)n_slices;
    p->total = off + n;
    return MONO_OK;
}

/* Runs on every thread: claims slices until the round's end. Each slice
 * backs its part of the destination, repacks its rows and releases their
 * file pages; whoever finishes a matrix's last slice releases the whole
 * range once more (a slice's release stops at page boundaries inside it,
 * so the pages straddling two slices wait for that). */
static void repack_task(void *arg, int ith, int nth) {
    (void)ith, (void)nth;
    repack_plan *p = arg;
    const mono_kernels *k = &p->m->kernels;
    if (p->with_tokenizer && !atomic_exchange(&p->tokenizer_claimed, 1)) {
        p->tokenizer_status = mono_model_load_tokenizer(p->m, &p->tokenizer_err);
        if (p->tokenizer_status != MONO_OK) atomic_store(&p->stop, 1);
    }
    for (;;) {
        if (atomic_load_explicit(&p->stop, memory_order_relaxed)) return;
        int i = atomic_fetch_add(&p->next, 1);
        if (i >= p->end) return;
        const repack_slice *s = &p->slices[i];
        repack_job *j = &p->jobs[s->job];
        const mono_matrix *w = j->w;
        const uint8_t *src = (const uint8_t *)w->data + (size_t)s->r0 * w->row_bytes;
        size_t off = (size_t)(s->r0 / j->g) * j->per_group;
        size_t len = (size_t)((s->nr + j->g - 1) / j->g) * j->per_group;
        prefault(j->dst + off, len < j->dst_bytes - off ? len : j->dst_bytes - off);
        if (j->copy) memcpy(j->dst + off, src, w->row_bytes * (size_t)s->nr);
        else k->repack[w->type](src, w->row_bytes, s->nr, w->n_cols, j->dst + off);
        mono_model_file_release(p->m->file, src, w->row_bytes * (size_t)s->nr);
        if (atomic_fetch_sub(&j->left, 1) == 1)
            mono_model_file_release(p->m->file, w->data, w->row_bytes * (size_t)w->n_rows);
    }
}

/* Splits the queued matrices into slices and runs them on n_threads
 * threads (fewer if there are fewer slices), one of which also builds the
 * tokenizer (*tokenizer_done = 1 then). A pool that cannot start (no
 * threads left in the process) leaves the work to this thread. */
static mono_status repack_plan_run(repack_plan *p, const mono_model_params *params, int n_threads, float share,
                                   int *tokenizer_done, mono_error *err) {
    if (p->n_slices == 0) return MONO_OK;
    p->slices = malloc((size_t)p->n_slices * sizeof *p->slices);
    if (!p->slices) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    int n = 0;
    for (int jb = 0; jb < p->n_jobs; jb++)
        for (int64_t r = 0; r < p->jobs[jb].w->n_rows; r += REPACK_SLICE_ROWS) {
            int64_t left = p->jobs[jb].w->n_rows - r;
            p->slices[n++] = (repack_slice){jb, r, left < REPACK_SLICE_ROWS ? left : REPACK_SLICE_ROWS};
        }
    int nth = n_threads < p->n_slices ? n_threads : p->n_slices;
    mono_threadpool *pool = NULL;
    mono_error pool_err;
    if (nth > 1 && mono_threadpool_init(&pool, nth, &pool_err) != MONO_OK) pool = NULL;
    p->with_tokenizer = pool != NULL;
    int has_progress = params && params->progress;
    int per_round = has_progress ? (p->n_slices + REPACK_ROUNDS - 1) / REPACK_ROUNDS : p->n_slices;
    mono_status s = MONO_OK;
    for (int lo = 0; lo < p->n_slices; lo += per_round) {
        atomic_store(&p->next, lo);
        p->end = p->n_slices - lo < per_round ? p->n_slices : lo + per_round;
        mono_threadpool_run(pool, repack_task, p);
        if (p->with_tokenizer) {
            *tokenizer_done = 1;
            if (p->tokenizer_status != MONO_OK) {
                if (err) *err = p->tokenizer_err;
                s = p->tokenizer_status;
                break;
            }
        }
        if (has_progress && report(params, share + (1.0f - share) * (float)p->end / (float)p->n_slices)) {
            s = mono_error_set(err, MONO_ERR_CANCELLED, "loading cancelled by the progress callback");
            break;
        }
    }
    mono_threadpool_free(pool);
    return s;
}

/* Huge pages for the weights buffer: where the OS has them, unless
 * MONO_NO_HUGE_PAGES is set (to measure their effect; bench/README.md). */
static int huge_pages_wanted(void) {
    const char *e = getenv("MONO_NO_HUGE_PAGES");
    if (e && *e && strcmp(e, "0") != 0) return 0;
    return mono_bigbuf_huge_pages();
}

static int repack_wanted(const mono_model_params *params, int mapped) {
    if (params && params->no_repack) return 0;
    const char *e = getenv("MONO_NO_REPACK");
    if (e && *e && strcmp(e, "0") != 0) return 0;
    return mapped;
}

/* Repacks every matrix the kernels have a faster layout for, on all
 * threads (building the tokenizer meanwhile: *tokenizer_done says if it
 * did); share is the fraction of progress already reported. The packed
 * pointers are set only once every slice is done. */
static mono_status repack_model(mono_model *m, const mono_model_params *params, float share, int *tokenizer_done,
                                mono_error *err) {
    const int per_layer = 7;
    repack_plan p;
    memset(&p, 0, sizeof p);
    p.m = m;
    int huge = huge_pages_wanted();
    p.copy_others = huge; /* a plain copy pays only through huge pages */
    atomic_init(&p.next, 0);
    atomic_init(&p.tokenizer_claimed, 0);
    atomic_init(&p.stop, 0);
    p.jobs = calloc((size_t)m->hp.n_layer * per_layer + 1, sizeof *p.jobs);
    if (!p.jobs) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    mono_status s = MONO_OK;
    for (int il = 0; il < m->hp.n_layer && s == MONO_OK; il++) {
        mono_layer *L = &m->layers[il];
        mono_matrix *ws[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
        for (int i = 0; i < per_layer && s == MONO_OK; i++) s = repack_plan_add(&p, m, ws[i], err);
    }
    /* a tied output is tok_embd: the embedding lookup then reads rows back
     * from the repacked copy too (forward.c, embed_row) */
    if (s == MONO_OK) s = repack_plan_add(&p, m, &m->output, err);
    if (s == MONO_OK && p.total > 0) s = mono_bigbuf_init(&m->weights, p.total, huge, err);
    for (int jb = 0; jb < p.n_jobs && s == MONO_OK; jb++) p.jobs[jb].dst = (uint8_t *)m->weights.data + p.jobs[jb].off;
    int n_threads = params && params->n_threads > 0 ? params->n_threads : mono_threadpool_default_threads();
    if (s == MONO_OK) s = repack_plan_run(&p, params, n_threads, share, tokenizer_done, err);
    if (s == MONO_OK) {
        const void *output_file = m->output.data;
        for (int jb = 0; jb < p.n_jobs; jb++) {
            repack_job *j = &p.jobs[jb];
            if (j->copy) {
                j->w->data = j->dst;
                m->n_copied++;
                m->copied_bytes += j->dst_bytes;
            } else {
                j->w->packed = j->dst;
                m->n_packed++;
                m->packed_bytes += j->dst_bytes;
            }
        }
        if (m->hp.tied_embeddings) {
            m->tok_embd.packed = m->output.packed;
            if (m->tok_embd.data == output_file) m->tok_embd.data = m->output.data;
        }
    }
    repack_plan_free(&p);
    return s;
}

static mono_status check_params(const mono_model_params *params, mono_error *err) {
    if (params && (params->n_threads < 0 || params->n_threads > 256))
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "n_threads %d is out of range (0 = all CPUs, at most 256)",
                              params->n_threads);
    return MONO_OK;
}

static mono_status finish_load(mono_model *m, const mono_model_params *params, int mapped, mono_model **out,
                               mono_error *err) {
    int repack = repack_wanted(params, mapped);
    float share = repack ? 0.1f : 1.0f; /* of the progress, binding's */
    int tokenizer_done = 0;
    mono_status s = bind_model(m, params, share, err);
    if (s == MONO_OK && repack) s = repack_model(m, params, share, &tokenizer_done, err);
    if (s == MONO_OK && !tokenizer_done) s = mono_model_load_tokenizer(m, err);
    if (s == MONO_OK && report(params, 1.0f))
        s = mono_error_set(err, MONO_ERR_CANCELLED, "loading cancelled by the progress callback");
    if (s != MONO_OK) {
        mono_model_free(m);
        return s;
    }
    *out = m;
    return MONO_OK;
}

mono_status mono_model_load(const char *path, const mono_model_params *params, mono_model **out, mono_error *err) {
    if (!out) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_model_load: out is NULL");
    *out = NULL;
    if (!path) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_model_load: path is NULL");
    mono_status ps = check_params(params, err);
    if (ps != MONO_OK) return ps;
    mono_model *m = calloc(1, sizeof *m);
    if (!m) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    if (report(params, 0.0f)) {
        free(m);
        return mono_error_set(err, MONO_ERR_CANCELLED, "loading cancelled by the progress callback");
    }
    mono_status s = mono_model_file_open(path, &m->file, err);
    if (s != MONO_OK) {
        free(m);
        return s;
    }
    s = finish_load(m, params, 1, out, err);
    if (s != MONO_OK) mono_error_prefix(err, "%s", path);
    return s;
}

mono_status mono_model_load_from_memory(const void *data, size_t size, const mono_model_params *params,
                                        mono_model **out, mono_error *err) {
    if (!out) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_model_load_from_memory: out is NULL");
    *out = NULL;
    if (!data && size) return mono_error_set(err, MONO_ERR_INVALID_ARG, "mono_model_load_from_memory: data is NULL");
    mono_status ps = check_params(params, err);
    if (ps != MONO_OK) return ps;
    mono_model *m = calloc(1, sizeof *m);
    if (!m) return mono_error_set(err, MONO_ERR_NOMEM, "out of memory");
    mono_status s = mono_model_file_open_memory(data, size, &m->file, err);
    if (s != MONO_OK) {
        free(m);
        return s;
    }
    /* the caller's bytes stay resident anyway: a repacked copy would double them */
    return finish_load(m, params, 0, out, err);
}

void mono_model_free(mono_model *m) {
    if (!m) return;
    mono_model_free_tokenizer(m);
    mono_model_file_close(m->file);
    free(m->layers);
    free(m->vectors);
    mono_bigbuf_free(&m->weights);
    free(m);
}

void mono_model_info_get(const mono_model *m, mono_model_info *info) {
    memset(info, 0, sizeof *info);
    const mono_hparams *hp = &m->hp;
    snprintf(info->arch, sizeof info->arch, "%s", hp->arch);
    snprintf(info->name, sizeof info->name, "%s", hp->name);
    info->n_layer = hp->n_layer;
    info->n_embd = hp->n_embd;
    info->n_head = hp->n_head;
    info->n_head_kv = hp->n_head_kv;
    info->head_dim = hp->head_dim;
    info->n_ff = hp->n_ff;
    info->n_vocab = hp->n_vocab;
    info->n_ctx_train = hp->n_ctx_train;
    info->rope_theta = hp->rope_theta;
    info->rms_eps = hp->rms_eps;
    info->tied_embeddings = hp->tied_embeddings;
    info->bos_id = hp->bos_id;
    mono_model_eos_ids(m, info->eos_ids, &info->n_eos);
    info->n_params = m->n_params;
    info->weight_bytes = m->weight_bytes;
    /* a separate output projection leaves the embedding table to lookups of one row */
    info->decode_bytes = m->weight_bytes - (m->hp.tied_embeddings ? 0 : m->embd_bytes);
    const mono_type_traits *tr = mono_type_get(m->main_type);
    info->weight_type = tr ? tr->name : "?";
    info->isa = m->kernels.isa;
    const mono_gen_defaults *g = &m->gen;
    info->has_temperature = g->has_temperature;
    info->temperature = g->temperature;
    info->has_top_k = g->has_top_k;
    info->top_k = g->top_k;
    info->has_top_p = g->has_top_p;
    info->top_p = g->top_p;
    info->has_repetition_penalty = g->has_repetition_penalty;
    info->repetition_penalty = g->repetition_penalty;
}
