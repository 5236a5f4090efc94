/*
 * sampler.c -- logits to the next token: penalties, temperature, top-k,
 * top-p, min-p and a seeded draw (see section 5 of monologue.h for the
 * order and the exact semantics).
 *
 * Built for a 151936-token vocabulary: greedy is one pass; top-k keeps a
 * k-element min-heap instead of sorting the vocabulary; top-p sorts only the
 * tokens above a probability cut-off that is widened until they hold at
 * least p of the mass, so a sort touches a few hundred candidates at most in
 * practice. Everything the sampler needs lives in the object (buffers grow
 * to the vocabulary once), so sampling allocates nothing in steady state.
 */
#include "runtime/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "model/model.h"

#define MONO_SAMPLER_BUCKETS 1024

struct mono_sampler {
    mono_sampler_params p;
    uint64_t rng[4];            /* xoshiro256** state */
    int32_t *hist;              /* tokens accepted so far */
    size_t n_hist, cap_hist;
    float *work;                /* penalised logits [cap_vocab] */
    uint32_t *counts;           /* occurrence counts, all zero between calls */
    mono_token_prob *cand;      /* candidates [cap_vocab] */
    float *heap;                /* top-k min-heap [cap_vocab] */
    size_t cap_vocab;
    double bucket_mass[MONO_SAMPLER_BUCKETS]; /* top-p scratch */
};

/* ---- random numbers: xoshiro256** seeded through splitmix64 ---------- */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(uint64_t s[4]) {
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1) with 53 random bits. */
static double rng_uniform(uint64_t s[4]) { return (double)(rng_next(s) >> 11) * 0x1.0p-53; }

void mono_sampler_set_seed(mono_sampler *s, uint64_t seed) {
    if (!s) return;
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix64(&x);
}

/* ---- parameters -------------------------------------------------------- */

mono_sampler_params mono_sampler_params_default(void) {
    mono_sampler_params p;
    memset(&p, 0, sizeof p);
    p.temperature = 1.0f;
    p.top_k = 50;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.repetition_penalty = 1.0f;
    return p;
}

static mono_status params_check(const mono_sampler_params *p, mono_error *err) {
    if (!isfinite(p->temperature))
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "sampler: temperature must be a finite number");
    if (!(p->top_p > 0.0f)) /* also catches NaN */
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "sampler: top_p must be > 0 (1 turns it off), got %g",
                              (double)p->top_p);
    if (!(p->min_p >= 0.0f && p->min_p <= 1.0f))
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "sampler: min_p must be in [0, 1], got %g", (double)p->min_p);
    if (!(p->repetition_penalty > 0.0f) || !isfinite(p->repetition_penalty))
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "sampler: repetition_penalty must be > 0 (1 turns it off), got %g",
                              (double)p->repetition_penalty);
    if (!isfinite(p->presence_penalty) || !isfinite(p->frequency_penalty))
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "sampler: presence/frequency penalties must be finite");
    return MONO_OK;
}

mono_sampler_params mono_sampler_params_resolve(const mono_gen_defaults *gd, const mono_sampler_params *overrides,
                                                unsigned set) {
    mono_sampler_params p = mono_sampler_params_default();
    int do_sample = 0;
    if (gd) {
        if (gd->has_temperature) p.temperature = gd->temperature;
        if (gd->has_top_p) p.top_p = gd->top_p;
        if (gd->has_top_k) p.top_k = gd->top_k;
        if (gd->has_repetition_penalty) p.repetition_penalty = gd->repetition_penalty;
        do_sample = gd->has_do_sample && gd->do_sample;
    }
    if (!do_sample) p.temperature = 0.0f;
    if (overrides) {
        if (set & MONO_SP_TEMPERATURE) p.temperature = overrides->temperature;
        if (set & MONO_SP_TOP_K) p.top_k = overrides->top_k;
        if (set & MONO_SP_TOP_P) p.top_p = overrides->top_p;
        if (set & MONO_SP_MIN_P) p.min_p = overrides->min_p;
        if (set & MONO_SP_REPETITION_PENALTY) p.repetition_penalty = overrides->repetition_penalty;
        if (set & MONO_SP_PRESENCE_PENALTY) p.presence_penalty = overrides->presence_penalty;
        if (set & MONO_SP_FREQUENCY_PENALTY) p.frequency_penalty = overrides->frequency_penalty;
        if (set & MONO_SP_PENALTY_LAST_N) p.penalty_last_n = overrides->penalty_last_n;
        if (set & MONO_SP_SEED) p.seed = overrides->seed;
    }
    return p;
}

/* ---- object ------------------------------------------------------------ */

mono_status mono_sampler_init(const mono_sampler_params *params, mono_sampler **out, mono_error *err) {
    if (!out) return mono_error_set(err, MONO_ERR_INVALID_ARG, "sampler: out is NULL");
    *out = NULL;
    mono_sampler_params p = params ? *params : mono_sampler_params_default();
    mono_status st = params_check(&p, err);
    if (st != MONO_OK) return st;
    mono_sampler *s = calloc(1, sizeof *s);
    if (!s) return mono_error_set(err, MONO_ERR_NOMEM, "sampler: out of memory");
    s->p = p;
    mono_sampler_set_seed(s, p.seed);
    *out = s;
    return MONO_OK;
}

void mono_sampler_free(mono_sampler *s) {
    if (!s) return;
    free(s->hist);
    free(s->work);
    free(s->counts);
    free(s->cand);
    free(s->heap);
    free(s);
}

const mono_sampler_params *mono_sampler_get_params(const mono_sampler *s) { return s ? &s->p : NULL; }

void mono_sampler_reset(mono_sampler *s) {
    if (!s) return;
    s->n_hist = 0;
    mono_sampler_set_seed(s, s->p.seed);
}

mono_status mono_sampler_accept(mono_sampler *s, int32_t token, mono_error *err) {
    if (!s) return mono_error_set(err, MONO_ERR_INVALID_ARG, "sampler: NULL sampler");
    if (s->n_hist == s->cap_hist) {
        size_t cap = s->cap_hist ? s->cap_hist * 2 : 256, bytes;
        if (!mono_size_mul(cap, sizeof *s->hist, &bytes))
            return mono_error_set(err, MONO_ERR_NOMEM, "sampler: history too long");
        int32_t *h = realloc(s->hist, bytes);
        if (!h) return mono_error_set(err, MONO_ERR_NOMEM, "sampler: out of memory growing the history");
        s->hist = h;
        s->cap_hist = cap;
    }
    s->hist[s->n_hist++] = token;
    return MONO_OK;
}

static mono_status buffers_reserve(mono_sampler *s, size_t n_vocab, mono_error *err) {
    if (n_vocab <= s->cap_vocab) return MONO_OK;
    size_t b1, b2, b3;
    if (!mono_size_mul(n_vocab, sizeof(float), &b1) || !mono_size_mul(n_vocab, sizeof(mono_token_prob), &b2) ||
        !mono_size_mul(n_vocab, sizeof(uint32_t), &b3))
        return mono_error_set(err, MONO_ERR_NOMEM, "sampler: vocabulary of %zu is too large", n_vocab);
    float *work = malloc(b1), *heap = malloc(b1);
    mono_token_prob *cand = malloc(b2);
    uint32_t *counts = calloc(n_vocab, sizeof(uint32_t));
    if (!work || !heap || !cand || !counts) {
        free(work); free(heap); free(cand); free(counts);
        return mono_error_set(err, MONO_ERR_NOMEM, "sampler: out of memory for a vocabulary of %zu", n_vocab);
    }
    free(s->work); free(s->heap); free(s->cand); free(s->counts);
    s->work = work; s->heap = heap; s->cand = cand; s->counts = counts;
    s->cap_vocab = n_vocab;
    return MONO_OK;
}

/* ---- the pipeline ------------------------------------------------------ */

/* Steps 1-2: returns the logits the rest of the pipeline sees (a penalised
 * copy, or the caller's array when no penalty applies). Each distinct token
 * of the window is penalised once, from its original logit, as HF's
 * gather/scatter does. */
static const float *penalties_apply(mono_sampler *s, const float *logits, int n_vocab) {
    const mono_sampler_params *p = &s->p;
    if (p->repetition_penalty == 1.0f && p->presence_penalty == 0.0f && p->frequency_penalty == 0.0f) return logits;
    size_t start = 0;
    if (p->penalty_last_n > 0 && s->n_hist > (size_t)p->penalty_last_n) start = s->n_hist - (size_t)p->penalty_last_n;
    if (start == s->n_hist) return logits;
    memcpy(s->work, logits, (size_t)n_vocab * sizeof(float));
    for (size_t i = start; i < s->n_hist; i++) {
        int32_t t = s->hist[i];
        if (t >= 0 && t < n_vocab) s->counts[t]++;
    }
    for (size_t i = start; i < s->n_hist; i++) {
        int32_t t = s->hist[i];
        if (t < 0 || t >= n_vocab || s->counts[t] == 0) continue;
        float v = s->work[t], c = (float)s->counts[t];
        s->counts[t] = 0; /* once per distinct token; leaves counts zeroed */
        if (p->repetition_penalty != 1.0f) v = v > 0.0f ? v / p->repetition_penalty : v * p->repetition_penalty;
        v -= c * p->frequency_penalty + p->presence_penalty;
        s->work[t] = v;
    }
    return s->work;
}

/* Index of the first maximum, NaN ignored; -1 when all are -inf or NaN.
 * Eight independent running maxima (no loop-carried branch, vectorisable),
 * then one scan for the first index holding the maximum. */
int mono_logits_argmax(const float *x, int n) {
    if (!x || n < 1) return -1;
    float m[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
    for (; i < n; i++) m[0] = x[i] > m[0] ? x[i] : m[0];
    float best = m[0];
    for (int j = 1; j < 8; j++) best = m[j] > best ? m[j] : best;
    if (best == -INFINITY) return -1;
    for (i = 0; i < n; i++)
        if (x[i] == best) return i;
    return -1;
}

static float clean(float x) { return isnan(x) ? -INFINITY : x; }

/* Restores the min-heap property of heap[0..k) below position j. */
static inline void sift_down(float *heap, int k, int j) {
    for (;;) {
        int l = 2 * j + 1, r = l + 1, m = j;
        if (l < k && heap[l] < heap[m]) m = l;
        if (r < k && heap[r] < heap[m]) m = r;
        if (m == j) return;
        float tmp = heap[j]; heap[j] = heap[m]; heap[m] = tmp;
        j = m;
    }
}

/* The k-th largest of x[0..n) (NaN as -inf), by a k-element min-heap. */
static float kth_largest(float *heap, const float *x, int n, int k) {
    for (int i = 0; i < k; i++) heap[i] = clean(x[i]);
    for (int i = k / 2 - 1; i >= 0; i--) sift_down(heap, k, i); /* heapify */
    for (int i = k; i < n; i++) {
        float v = x[i];
        if (!(v > heap[0])) continue; /* NaN fails too */
        heap[0] = v;
        sift_down(heap, k, 0);
    }
    return heap[0];
}

static int cmp_desc(const void *a, const void *b) {
    const mono_token_prob *x = a, *y = b;
    if (x->logit != y->logit) return x->logit > y->logit ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Step 5 on cand[0..n) whose p fields hold exp(logit - max) summing to z.
 * Returns how many survive; they end up first. A token survives when the
 * mass of the tokens ranked above it is < top_p * z. Large candidate sets
 * are bucketed by logit first: whole buckets above the one where the mass
 * crosses the target survive unsorted, those below are dropped, and only
 * the crossing bucket is sorted (a few hundred tokens, not 150k). */
static size_t top_p_apply(mono_sampler *s, mono_token_prob *cand, size_t n, double z, float top_p) {
    double target = (double)top_p * z, before = 0.0;
    size_t lo = 0, hi = n; /* cand[lo..hi) needs sorting; cand[0..lo) survives */
    if (n > 256) {
        enum { B = MONO_SAMPLER_BUCKETS };
        float mx = -INFINITY, mn = INFINITY;
        for (size_t i = 0; i < n; i++) {
            if (cand[i].logit > mx) mx = cand[i].logit;
            if (cand[i].logit < mn) mn = cand[i].logit;
        }
        float range = mx - mn < 64.0f ? mx - mn : 64.0f;
        float scale = range > 0.0f ? (float)B / range : 0.0f;
        double *mass = s->bucket_mass;
        memset(mass, 0, sizeof s->bucket_mass);
        for (size_t i = 0; i < n; i++) {
            float b = (mx - cand[i].logit) * scale;
            int k = b < (float)(B - 1) ? (int)b : B - 1;
            mass[k] += cand[i].p;
        }
        int cross = B - 1;
        for (int k = 0; k < B; k++) {
            if (before + mass[k] >= target) { cross = k; break; }
            before += mass[k];
        }
        /* partition: buckets < cross first, then bucket cross */
        size_t w = 0;
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1) lo = w;
            for (size_t i = w; i < n; i++) {
                float b = (mx - cand[i].logit) * scale;
                int k = b < (float)(B - 1) ? (int)b : B - 1;
                if (pass == 0 ? k < cross : k == cross) { mono_token_prob t = cand[w]; cand[w++] = cand[i]; cand[i] = t; }
            }
        }
        hi = w;
    }
    qsort(cand + lo, hi - lo, sizeof *cand, cmp_desc);
    double cum = before;
    size_t keep = lo;
    while (keep < hi && (keep == 0 || cum < target)) cum += cand[keep++].p;
    return keep;
}

/* Keeps cand[i] with logit - max >= cut (order kept); the max always stays. */
static size_t min_p_apply(mono_token_prob *cand, size_t n, float mx, float cut) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (cand[i].logit - mx >= cut) cand[w++] = cand[i];
    return w;
}

mono_status mono_sampler_dist(mono_sampler *s, const float *logits, int n_vocab, const mono_token_prob **out,
                              size_t *n_out, mono_error *err) {
    if (!s || !logits || !out || !n_out) return mono_error_set(err, MONO_ERR_INVALID_ARG, "sampler: NULL argument");
    if (n_vocab <= 0) return mono_error_set(err, MONO_ERR_INVALID_ARG, "sampler: n_vocab must be > 0, got %d", n_vocab);
    mono_status st = buffers_reserve(s, (size_t)n_vocab, err);
    if (st != MONO_OK) return st;
    const mono_sampler_params *p = &s->p;
    const float *x = penalties_apply(s, logits, n_vocab);

    /* Greedy: argmax, first index on ties (torch.argmax does the same). */
    if (p->temperature <= 0.0f) {
        int best = mono_logits_argmax(x, n_vocab);
        if (best < 0) return mono_error_set(err, MONO_ERR_RANGE, "sampler: every logit is -inf or NaN");
        float bv = x[best];
        s->cand[0].id = best;
        s->cand[0].logit = bv;
        s->cand[0].p = 1.0f;
        *out = s->cand;
        *n_out = 1;
        return MONO_OK;
    }

    /* Step 4 first as a filter (it commutes with the temperature scale). */
    float thr = -INFINITY;
    if (p->top_k > 0 && p->top_k < n_vocab) thr = kth_largest(s->heap, x, n_vocab, p->top_k);
    size_t n = 0;
    float inv_t = 1.0f / p->temperature, mx = -INFINITY;
    for (int i = 0; i < n_vocab; i++) {
        float v = x[i];
        if (!(v >= thr) || v == -INFINITY) continue; /* NaN fails >= */
        s->cand[n].id = i;
        s->cand[n].logit = v * inv_t;               /* step 3 */
        if (s->cand[n].logit > mx) mx = s->cand[n].logit;
        n++;
    }
    if (n == 0) return mono_error_set(err, MONO_ERR_RANGE, "sampler: every logit is -inf or NaN");
    if (isinf(mx)) { /* +inf logits: they share all the mass */
        size_t w = 0;
        for (size_t i = 0; i < n; i++)
            if (s->cand[i].logit == mx) s->cand[w++] = s->cand[i];
        n = w;
        for (size_t i = 0; i < n; i++) { s->cand[i].logit = 0.0f; }
        mx = 0.0f;
    }
    /* Step 6 as a cut on logits (p / p_max = exp(logit - max)); without
     * top-p it runs first, so exponentials are only taken for survivors. */
    int use_top_p = p->top_p < 1.0f && n > 1;
    float min_cut = p->min_p > 0.0f ? logf(p->min_p) : -INFINITY;
    if (!use_top_p && p->min_p > 0.0f) n = min_p_apply(s->cand, n, mx, min_cut);
    double z = 0.0;
    for (size_t i = 0; i < n; i++) {
        s->cand[i].p = expf(s->cand[i].logit - mx);
        z += s->cand[i].p;
    }
    if (use_top_p) {
        n = top_p_apply(s, s->cand, n, z, p->top_p);
        if (p->min_p > 0.0f) n = min_p_apply(s->cand, n, mx, min_cut);
    }
    z = 0.0;
    for (size_t i = 0; i < n; i++) z += s->cand[i].p;
    for (size_t i = 0; i < n; i++) s->cand[i].p = (float)(s->cand[i].p / z);
    *out = s->cand;
    *n_out = n;
    return MONO_OK;
}

mono_status mono_sampler_sample(mono_sampler *s, const float *logits, int n_vocab, int32_t *token, mono_error *err) {
    if (!token) return mono_error_set(err, MONO_ERR_INVALID_ARG, "sampler: token is NULL");
    const mono_token_prob *c;
    size_t n;
    mono_status st = mono_sampler_dist(s, logits, n_vocab, &c, &n, err);
    if (st != MONO_OK) return st;
    if (n == 1) { *token = c[0].id; return MONO_OK; }
    double u = rng_uniform(s->rng), cum = 0.0;
    for (size_t i = 0; i < n; i++) {
        cum += c[i].p;
        if (u < cum) { *token = c[i].id; return MONO_OK; }
    }
    *token = c[n - 1].id; /* u landed in the rounding gap below 1 */
    return MONO_OK;
}

void mono_sampler_history_clear(mono_sampler *s) {
    if (s) s->n_hist = 0;
}

mono_sampler_params mono_sampler_params_from_model(const mono_model *model) {
    return mono_sampler_params_resolve(model ? &model->gen : NULL, NULL, 0);
}
