/*
 * test_sampler.c -- the sampler against a straightforward reference: the
 * Hugging Face logits processors written the obvious way (full sorts,
 * double precision), on hand-made and random logits; plus determinism,
 * draw frequencies, parameter checks and generation_config resolution.
 */
#include <float.h>
#include <stdlib.h>
#include <time.h>

#include "runtime/sampler.h"
#include "test.h"

/* ---- reference pipeline ------------------------------------------------ */

typedef struct ref_item { int id; double v; } ref_item;

static int ref_cmp_asc(const void *a, const void *b) {
    const ref_item *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? -1 : 1;
    return (x->id < y->id) - (x->id > y->id); /* the lower id counts as larger */
}

/* probs[V] <- the distribution HF would draw from. */
static void ref_dist(const float *logits, int V, const int32_t *hist, int n_hist, const mono_sampler_params *p,
                     double *probs) {
    double *s = malloc(sizeof(double) * V);
    for (int i = 0; i < V; i++) s[i] = isnan(logits[i]) ? -INFINITY : logits[i];
    int start = (p->penalty_last_n > 0 && n_hist > p->penalty_last_n) ? n_hist - p->penalty_last_n : 0;
    for (int t = 0; t < V; t++) {
        int count = 0;
        for (int i = start; i < n_hist; i++) count += hist[i] == t;
        if (!count) continue;
        double v = (float)s[t];
        if (p->repetition_penalty != 1.0f)
            v = v < 0 ? (float)(v * p->repetition_penalty) : (float)(v / p->repetition_penalty);
        v -= count * (double)p->frequency_penalty + p->presence_penalty;
        s[t] = v;
    }
    for (int i = 0; i < V; i++) probs[i] = 0.0;
    if (p->temperature <= 0.0f) {
        int best = 0;
        for (int i = 1; i < V; i++)
            if (s[i] > s[best]) best = i;
        probs[best] = 1.0;
        free(s);
        return;
    }
    for (int i = 0; i < V; i++) s[i] /= p->temperature;
    ref_item *it = malloc(sizeof(ref_item) * V);
    if (p->top_k > 0 && p->top_k < V) {
        for (int i = 0; i < V; i++) { it[i].id = i; it[i].v = s[i]; }
        qsort(it, V, sizeof *it, ref_cmp_asc);
        double kth = it[V - p->top_k].v;
        for (int i = 0; i < V; i++)
            if (s[i] < kth) s[i] = -INFINITY;
    }
    double mx = -INFINITY, z = 0;
    for (int i = 0; i < V; i++) mx = s[i] > mx ? s[i] : mx;
    for (int i = 0; i < V; i++) z += exp(s[i] - mx);
    if (p->top_p < 1.0f) { /* HF: ascending sort, remove where cumsum <= 1 - top_p, keep the last */
        for (int i = 0; i < V; i++) { it[i].id = i; it[i].v = s[i]; }
        qsort(it, V, sizeof *it, ref_cmp_asc);
        double cum = 0;
        for (int j = 0; j < V - 1; j++) {
            cum += exp(it[j].v - mx) / z;
            if (cum <= 1.0 - p->top_p) s[it[j].id] = -INFINITY;
        }
    }
    if (p->min_p > 0.0f)
        for (int i = 0; i < V; i++)
            if (exp(s[i] - mx) < p->min_p) s[i] = -INFINITY;
    z = 0;
    for (int i = 0; i < V; i++) z += exp(s[i] - mx);
    for (int i = 0; i < V; i++) probs[i] = exp(s[i] - mx) / z;
    free(it);
    free(s);
}

static uint64_t lcg(uint64_t *x) {
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 33;
}
static float rand_logit(uint64_t *x, float scale) { return ((float)(lcg(x) % 2000001) / 1000000.0f - 1.0f) * scale; }

/* Compares mono_sampler_dist with the reference; returns 1 when equal. */
static int check_against_ref(mt_ctx *t, const float *logits, int V, const int32_t *hist, int n_hist,
                             const mono_sampler_params *p, const char *what) {
    mono_sampler *s = NULL;
    mono_error err;
    if (!MT_CHECK(t, mono_sampler_init(p, &s, &err) == MONO_OK)) return 0;
    for (int i = 0; i < n_hist; i++) mono_sampler_accept(s, hist[i], NULL);
    const mono_token_prob *c;
    size_t n;
    int ok = MT_CHECK(t, mono_sampler_dist(s, logits, V, &c, &n, &err) == MONO_OK);
    double *ref = malloc(sizeof(double) * V), *got = calloc(V, sizeof(double));
    ref_dist(logits, V, hist, n_hist, p, ref);
    for (size_t i = 0; ok && i < n; i++) got[c[i].id] += c[i].p;
    int bad = -1;
    for (int i = 0; ok && i < V; i++)
        if (fabs(got[i] - ref[i]) > 2e-5 || ((got[i] > 0) != (ref[i] > 0))) { bad = i; break; }
    if (bad >= 0)
        ok = MT_CHECK_MSG(t, 0, "%s: token %d p=%.8f, reference %.8f (%zu survivors)", what, bad, got[bad], ref[bad], n);
    free(ref);
    free(got);
    mono_sampler_free(s);
    return ok;
}

/* ---- hand-made cases --------------------------------------------------- */

static void test_greedy(mt_ctx *t) {
    mono_sampler_params p = mono_sampler_params_default();
    p.temperature = 0.0f;
    mono_sampler *s;
    mono_error err;
    MT_CHECK(t, mono_sampler_init(&p, &s, &err) == MONO_OK);
    float l1[] = {0.1f, 3.0f, -1.0f, 3.0f, NAN, 2.9f};
    int32_t tok = -1;
    MT_CHECK(t, mono_sampler_sample(s, l1, 6, &tok, &err) == MONO_OK);
    MT_CHECK_EQ_INT(t, tok, 1); /* first of the tied maxima */
    float l2[] = {NAN, -INFINITY, NAN};
    MT_CHECK(t, mono_sampler_sample(s, l2, 3, &tok, &err) == MONO_ERR_RANGE);
    MT_CHECK(t, strstr(err.message, "-inf") != NULL);
    MT_CHECK(t, mono_sampler_sample(s, l1, 0, &tok, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, mono_sampler_sample(s, NULL, 6, &tok, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, mono_sampler_sample(s, l1, 6, NULL, &err) == MONO_ERR_INVALID_ARG);
    mono_sampler_free(s);
    mono_sampler_free(NULL);
}

/* mono_logits_argmax against a plain scan: every length 1..40 (the 8-lane
 * body and its tail), the maximum at every place, ties, NaN, -inf. */
static void test_logits_argmax(mt_ctx *t) {
    float x[40];
    int bad = 0;
    uint64_t r = 7;
    for (int n = 1; n <= 40; n++)
        for (int where = 0; where < n; where++) {
            for (int i = 0; i < n; i++) {
                r = r * 6364136223846793005ull + 1442695040888963407ull;
                x[i] = (float)((r >> 40) % 17) - 8.0f;               /* small ints: many ties */
                if ((r >> 20) % 11 == 0) x[i] = NAN;
                if ((r >> 24) % 13 == 0) x[i] = -INFINITY;
            }
            x[where] = 9.0f;                                         /* above the random values */
            if (where + 1 < n && where % 3 == 0) x[n - 1] = 9.0f;    /* a later tie */
            int ref = -1;
            for (int i = 0; i < n; i++)
                if (!isnan(x[i]) && (ref < 0 || x[i] > x[ref])) ref = i;
            if (mono_logits_argmax(x, n) != ref) bad++;
        }
    MT_CHECK_EQ_INT(t, bad, 0);
    float none[] = {NAN, -INFINITY, NAN, -INFINITY, NAN, NAN, NAN, NAN, -INFINITY};
    MT_CHECK_EQ_INT(t, mono_logits_argmax(none, 9), -1);
    MT_CHECK_EQ_INT(t, mono_logits_argmax(none, 0), -1);
    MT_CHECK_EQ_INT(t, mono_logits_argmax(NULL, 5), -1);
    float inf[] = {1, INFINITY, 2, INFINITY};
    MT_CHECK_EQ_INT(t, mono_logits_argmax(inf, 4), 1);
}

static void test_penalties_by_hand(mt_ctx *t) {
    /* Tokens 0 (twice), 1 and 3 were seen; 7 is out of the 5-token vocab. */
    float logits[] = {2.0f, -2.0f, 0.5f, 1.0f, 0.0f};
    int32_t hist[] = {0, 1, 0, 3, 7};
    mono_sampler_params p = mono_sampler_params_default();
    p.temperature = 1.0f; p.top_k = 0;
    p.repetition_penalty = 2.0f;
    mono_sampler *s;
    MT_CHECK(t, mono_sampler_init(&p, &s, NULL) == MONO_OK);
    for (int i = 0; i < 5; i++) mono_sampler_accept(s, hist[i], NULL);
    const mono_token_prob *c;
    size_t n;
    MT_CHECK(t, mono_sampler_dist(s, logits, 5, &c, &n, NULL) == MONO_OK);
    MT_CHECK_EQ_INT(t, n, 5);
    float want[] = {1.0f, -4.0f, 0.5f, 0.5f, 0.0f}; /* >0 divided, <0 multiplied, once each */
    for (size_t i = 0; i < n; i++)
        MT_CHECK_MSG(t, c[i].logit == want[c[i].id], "token %d logit %g want %g", c[i].id, c[i].logit, want[c[i].id]);
    mono_sampler_free(s);

    /* presence + frequency on top (OpenAI: count * freq + presence) */
    p.presence_penalty = 0.25f; p.frequency_penalty = 0.5f;
    MT_CHECK(t, mono_sampler_init(&p, &s, NULL) == MONO_OK);
    for (int i = 0; i < 5; i++) mono_sampler_accept(s, hist[i], NULL);
    MT_CHECK(t, mono_sampler_dist(s, logits, 5, &c, &n, NULL) == MONO_OK);
    float want2[] = {1.0f - 1.25f, -4.0f - 0.75f, 0.5f, 0.5f - 0.75f, 0.0f};
    for (size_t i = 0; i < n; i++)
        MT_CHECK_MSG(t, fabsf(c[i].logit - want2[c[i].id]) < 1e-6f, "token %d logit %g want %g", c[i].id, c[i].logit,
                     want2[c[i].id]);
    mono_sampler_free(s);

    /* last-n window of 2 sees tokens 3 and 7 only */
    p.presence_penalty = 0; p.frequency_penalty = 0; p.penalty_last_n = 2;
    MT_CHECK(t, mono_sampler_init(&p, &s, NULL) == MONO_OK);
    for (int i = 0; i < 5; i++) mono_sampler_accept(s, hist[i], NULL);
    MT_CHECK(t, mono_sampler_dist(s, logits, 5, &c, &n, NULL) == MONO_OK);
    for (size_t i = 0; i < n; i++) {
        float w = c[i].id == 3 ? 0.5f : logits[c[i].id];
        MT_CHECK_MSG(t, c[i].logit == w, "window: token %d logit %g want %g", c[i].id, c[i].logit, w);
    }
    /* greedy sees the penalised logits too (HF applies processors first) */
    mono_sampler_free(s);
    p.temperature = 0; p.penalty_last_n = 0;
    MT_CHECK(t, mono_sampler_init(&p, &s, NULL) == MONO_OK);
    for (int i = 0; i < 5; i++) mono_sampler_accept(s, hist[i], NULL);
    int32_t tok;
    MT_CHECK(t, mono_sampler_sample(s, logits, 5, &tok, NULL) == MONO_OK);
    MT_CHECK_EQ_INT(t, tok, 0); /* 2/2 = 1 still beats 0.5 */
    mono_sampler_accept(s, 0, NULL);
    mono_sampler_accept(s, 0, NULL); /* still one division: HF penalises a token once */
    MT_CHECK(t, mono_sampler_sample(s, logits, 5, &tok, NULL) == MONO_OK);
    MT_CHECK_EQ_INT(t, tok, 0);
    mono_sampler_reset(s); /* no history: plain argmax */
    float l3[] = {1.0f, 1.5f, 0.0f};
    mono_sampler_accept(s, 1, NULL);
    MT_CHECK(t, mono_sampler_sample(s, l3, 3, &tok, NULL) == MONO_OK);
    MT_CHECK_EQ_INT(t, tok, 0); /* 1.5/2 < 1 */
    mono_sampler_free(s);
}

static void test_top_p_min_p_by_hand(mt_ctx *t) {
    float logits[] = {logf(0.05f), logf(0.5f), logf(0.15f), logf(0.3f)};
    mono_sampler_params p = mono_sampler_params_default();
    p.top_k = 0;
    struct { float top_p, min_p; int keep[4]; } cases[] = {
        {0.45f, 0, {0, 1, 0, 0}}, {0.75f, 0, {0, 1, 0, 1}}, {0.85f, 0, {0, 1, 1, 1}},
        {0.99f, 0, {1, 1, 1, 1}}, {1.0f, 0.25f, {0, 1, 1, 1}}, {1.0f, 0.5f, {0, 1, 0, 1}},
        {0.75f, 0.7f, {0, 1, 0, 0}}, {1.0f, 1.0f, {0, 1, 0, 0}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        p.top_p = cases[k].top_p;
        p.min_p = cases[k].min_p;
        mono_sampler *s;
        MT_CHECK(t, mono_sampler_init(&p, &s, NULL) == MONO_OK);
        const mono_token_prob *c;
        size_t n;
        MT_CHECK(t, mono_sampler_dist(s, logits, 4, &c, &n, NULL) == MONO_OK);
        int kept[4] = {0};
        double sum = 0, kept_mass = 0;
        for (size_t i = 0; i < n; i++) { kept[c[i].id] = 1; sum += c[i].p; kept_mass += expf(logits[c[i].id]); }
        for (int i = 0; i < 4; i++)
            MT_CHECK_MSG(t, kept[i] == cases[k].keep[i], "case %zu (top_p %g min_p %g): token %d kept=%d", k,
                         (double)cases[k].top_p, (double)cases[k].min_p, i, kept[i]);
        MT_CHECK(t, fabs(sum - 1.0) < 1e-6);
        for (size_t i = 0; i < n; i++) /* renormalised over the survivors */
            MT_CHECK(t, fabs(c[i].p - expf(logits[c[i].id]) / kept_mass) < 1e-6);
        mono_sampler_free(s);
    }
}

static void test_top_k_ties_and_greedy_equivalence(mt_ctx *t) {
    float logits[] = {1.0f, 3.0f, 2.0f, 3.0f, 2.0f, -5.0f};
    mono_sampler_params p = mono_sampler_params_default();
    p.top_k = 2;
    mono_sampler *s;
    MT_CHECK(t, mono_sampler_init(&p, &s, NULL) == MONO_OK);
    const mono_token_prob *c;
    size_t n;
    MT_CHECK(t, mono_sampler_dist(s, logits, 6, &c, &n, NULL) == MONO_OK);
    MT_CHECK_EQ_INT(t, n, 2);
    p.top_k = 3; /* the 3rd largest is 2.0, tied: HF keeps both 2.0s */
    mono_sampler_free(s);
    MT_CHECK(t, mono_sampler_init(&p, &s, NULL) == MONO_OK);
    MT_CHECK(t, mono_sampler_dist(s, logits, 6, &c, &n, NULL) == MONO_OK);
    MT_CHECK_EQ_INT(t, n, 4);
    mono_sampler_free(s);

    /* temperature 1 with top-k 1 is greedy, whatever the seed */
    uint64_t x = 7;
    float *big = malloc(sizeof(float) * 5000);
    int same = 1;
    for (int trial = 0; trial < 50; trial++) {
        for (int i = 0; i < 5000; i++) big[i] = rand_logit(&x, 8.0f);
        int best = 0;
        for (int i = 1; i < 5000; i++)
            if (big[i] > big[best]) best = i;
        p.top_k = 1; p.temperature = 1.0f; p.seed = (uint64_t)trial;
        MT_CHECK(t, mono_sampler_init(&p, &s, NULL) == MONO_OK);
        int32_t tok;
        MT_CHECK(t, mono_sampler_sample(s, big, 5000, &tok, NULL) == MONO_OK);
        same &= tok == best;
        mono_sampler_free(s);
    }
    MT_CHECK(t, same);
    free(big);
}

/* ---- against the reference on random logits ---------------------------- */

static void test_random_vs_reference(mt_ctx *t) {
    const int V = 3000;
    float *logits = malloc(sizeof(float) * V);
    int32_t hist[40];
    uint64_t x = 12345;
    struct { float temp; int top_k; float top_p, min_p, rep, pres, freq; int last_n; float scale; } grid[] = {
        {1.0f, 0, 1.0f, 0, 1.0f, 0, 0, 0, 3},      {0.7f, 20, 0.8f, 0, 1.05f, 0, 0, 0, 5},
        {0.7f, 0, 0.8f, 0, 1.0f, 0, 0, 0, 5},      {1.3f, 0, 0.95f, 0.05f, 1.0f, 0, 0, 0, 4},
        {0.5f, 100, 1.0f, 0.1f, 1.3f, 0.2f, 0.1f, 16, 6}, {1.0f, 0, 0.5f, 0, 1.0f, 0, 0, 0, 0.5f},
        {2.0f, 0, 0.9f, 0, 1.1f, 0.5f, 0.3f, 0, 10}, {0.0f, 40, 0.9f, 0.1f, 1.2f, 0.4f, 0.4f, 0, 5},
        {0.9f, 2999, 0.99f, 0, 1.0f, 0, 0, 0, 2},  {1.0f, 50, 1.0f, 0, 1.0f, 0, 0, 0, 20},
    };
    for (size_t g = 0; g < sizeof grid / sizeof *grid; g++) {
        for (int rep = 0; rep < 3; rep++) {
            for (int i = 0; i < V; i++) logits[i] = rand_logit(&x, grid[g].scale);
            for (int i = 0; i < 40; i++) hist[i] = (int32_t)(lcg(&x) % 60) * (i % 3 ? 1 : 50); /* repeats */
            mono_sampler_params p = mono_sampler_params_default();
            p.temperature = grid[g].temp; p.top_k = grid[g].top_k; p.top_p = grid[g].top_p; p.min_p = grid[g].min_p;
            p.repetition_penalty = grid[g].rep; p.presence_penalty = grid[g].pres;
            p.frequency_penalty = grid[g].freq; p.penalty_last_n = grid[g].last_n;
            char what[64];
            snprintf(what, sizeof what, "grid %zu rep %d", g, rep);
            check_against_ref(t, logits, V, hist, 40, &p, what);
        }
    }
    free(logits);
}

/* A Qwen-sized vocabulary with a peaked and a flat distribution: exercises
 * the top-p cut-off widening both ways. */
static void test_qwen_vocab_vs_reference(mt_ctx *t) {
    const int V = 151936;
    float *logits = malloc(sizeof(float) * V);
    int32_t hist[8] = {5, 77, 151643, 9, 5, 100000, 151935, 3};
    uint64_t x = 99;
    float scales[] = {0.05f, 1.0f, 12.0f};
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < V; i++) logits[i] = rand_logit(&x, scales[k]);
        mono_sampler_params p = mono_sampler_params_default();
        p.top_k = 0; p.top_p = 0.9f; p.temperature = 0.8f; p.repetition_penalty = 1.1f;
        check_against_ref(t, logits, V, hist, 8, &p, "qwen vocab top-p");
        p.top_k = 20; p.top_p = 0.8f; p.temperature = 0.7f; p.repetition_penalty = 1.05f; /* Qwen2.5 defaults */
        check_against_ref(t, logits, V, hist, 8, &p, "qwen vocab defaults");
        p.top_k = 0; p.top_p = 1.0f; p.min_p = 0.05f;
        check_against_ref(t, logits, V, hist, 8, &p, "qwen vocab min-p");
    }
    free(logits);
}

/* ---- randomness -------------------------------------------------------- */

static void test_determinism(mt_ctx *t) {
    const int V = 500;
    float *logits = malloc(sizeof(float) * V);
    mono_sampler_params p = mono_sampler_params_default();
    p.top_k = 0; p.temperature = 1.0f; p.seed = 1234;
    mono_sampler *a, *b, *c;
    MT_CHECK(t, mono_sampler_init(&p, &a, NULL) == MONO_OK);
    MT_CHECK(t, mono_sampler_init(&p, &b, NULL) == MONO_OK);
    p.seed = 1235;
    MT_CHECK(t, mono_sampler_init(&p, &c, NULL) == MONO_OK);
    int32_t seq[200];
    int same_ab = 1, same_ac = 1;
    uint64_t x = 1;
    for (int step = 0; step < 200; step++) {
        for (int i = 0; i < V; i++) logits[i] = rand_logit(&x, 1.0f);
        int32_t ta, tb, tc;
        mono_sampler_sample(a, logits, V, &ta, NULL);
        mono_sampler_sample(b, logits, V, &tb, NULL);
        mono_sampler_sample(c, logits, V, &tc, NULL);
        same_ab &= ta == tb;
        same_ac &= ta == tc;
        seq[step] = ta;
    }
    MT_CHECK(t, same_ab);
    MT_CHECK(t, !same_ac); /* flat 500-way draws: 200 equal by chance is impossible */
    mono_sampler_reset(a); /* replays the stream from the seed */
    x = 1;
    int replay = 1;
    for (int step = 0; step < 200; step++) {
        for (int i = 0; i < V; i++) logits[i] = rand_logit(&x, 1.0f);
        int32_t ta;
        mono_sampler_sample(a, logits, V, &ta, NULL);
        replay &= ta == seq[step];
    }
    MT_CHECK(t, replay);
    mono_sampler_free(a);
    mono_sampler_free(b);
    mono_sampler_free(c);
    free(logits);
}

static void test_draw_frequencies(mt_ctx *t) {
    float logits[] = {0.0f, 1.0f, 2.0f, -1.0f, 0.5f, 3.0f, -3.0f, 1.5f};
    const int V = 8, N = 60000;
    mono_sampler_params p = mono_sampler_params_default();
    p.top_k = 0; p.temperature = 1.5f; p.seed = 77;
    mono_sampler *s;
    MT_CHECK(t, mono_sampler_init(&p, &s, NULL) == MONO_OK);
    int counts[8] = {0};
    for (int i = 0; i < N; i++) {
        int32_t tok = -1;
        mono_sampler_sample(s, logits, V, &tok, NULL);
        if (tok >= 0 && tok < V) counts[tok]++;
    }
    double z = 0;
    for (int i = 0; i < V; i++) z += exp(logits[i] / 1.5);
    for (int i = 0; i < V; i++) {
        double want = exp(logits[i] / 1.5) / z, got = (double)counts[i] / N;
        double sd = sqrt(want * (1 - want) / N);
        MT_CHECK_MSG(t, fabs(got - want) < 5 * sd + 1e-4, "token %d: frequency %.4f, probability %.4f", i, got, want);
    }
    mono_sampler_free(s);
}

/* ---- parameters -------------------------------------------------------- */

static void test_params(mt_ctx *t) {
    mono_sampler *s = (mono_sampler *)1;
    mono_error err;
    mono_sampler_params p = mono_sampler_params_default();
    MT_CHECK(t, p.temperature == 1.0f && p.top_k == 50 && p.top_p == 1.0f && p.repetition_penalty == 1.0f);
    p.top_p = 0.0f;
    MT_CHECK(t, mono_sampler_init(&p, &s, &err) == MONO_ERR_INVALID_ARG && s == NULL);
    MT_CHECK(t, strstr(err.message, "top_p") != NULL);
    p = mono_sampler_params_default(); p.min_p = 1.5f;
    MT_CHECK(t, mono_sampler_init(&p, &s, &err) == MONO_ERR_INVALID_ARG);
    p = mono_sampler_params_default(); p.repetition_penalty = 0.0f;
    MT_CHECK(t, mono_sampler_init(&p, &s, &err) == MONO_ERR_INVALID_ARG);
    p = mono_sampler_params_default(); p.temperature = NAN;
    MT_CHECK(t, mono_sampler_init(&p, &s, &err) == MONO_ERR_INVALID_ARG);
    p = mono_sampler_params_default(); p.presence_penalty = INFINITY;
    MT_CHECK(t, mono_sampler_init(&p, &s, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, mono_sampler_init(NULL, NULL, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, mono_sampler_init(NULL, &s, &err) == MONO_OK && mono_sampler_get_params(s)->top_k == 50);
    MT_CHECK(t, mono_sampler_accept(NULL, 1, &err) == MONO_ERR_INVALID_ARG);
    int acc = 1;
    for (int i = 0; i < 5000; i++) acc &= mono_sampler_accept(s, i, NULL) == MONO_OK;
    MT_CHECK(t, acc);
    mono_sampler_free(s);

    /* generation_config resolution (Qwen2.5-Instruct ships these values) */
    mono_gen_defaults gd;
    memset(&gd, 0, sizeof gd);
    gd.has_temperature = gd.has_top_p = gd.has_top_k = gd.has_repetition_penalty = gd.has_do_sample = 1;
    gd.temperature = 0.7f; gd.top_p = 0.8f; gd.top_k = 20; gd.repetition_penalty = 1.05f; gd.do_sample = 1;
    mono_sampler_params r = mono_sampler_params_resolve(&gd, NULL, 0);
    MT_CHECK(t, r.temperature == 0.7f && r.top_p == 0.8f && r.top_k == 20 && r.repetition_penalty == 1.05f);
    mono_sampler_params o = mono_sampler_params_default();
    o.top_k = 5; o.temperature = 0.0f; o.seed = 9;
    r = mono_sampler_params_resolve(&gd, &o, MONO_SP_TOP_K | MONO_SP_SEED);
    MT_CHECK(t, r.top_k == 5 && r.seed == 9 && r.temperature == 0.7f && r.top_p == 0.8f);
    r = mono_sampler_params_resolve(&gd, &o, MONO_SP_TEMPERATURE);
    MT_CHECK(t, r.temperature == 0.0f && r.top_k == 20);
    gd.do_sample = 0; /* HF: greedy, whatever the temperature says */
    r = mono_sampler_params_resolve(&gd, NULL, 0);
    MT_CHECK(t, r.temperature == 0.0f);
    o.temperature = 0.9f; /* ...unless the caller asks for a temperature */
    r = mono_sampler_params_resolve(&gd, &o, MONO_SP_TEMPERATURE);
    MT_CHECK(t, r.temperature == 0.9f && r.top_k == 20 && r.top_p == 0.8f);
    r = mono_sampler_params_resolve(NULL, NULL, 0); /* no config: HF greedy */
    MT_CHECK(t, r.temperature == 0.0f && r.top_k == 50);
    memset(&gd, 0, sizeof gd);
    gd.has_do_sample = 1; gd.do_sample = 1; /* sampling with HF's defaults */
    r = mono_sampler_params_resolve(&gd, NULL, 0);
    MT_CHECK(t, r.temperature == 1.0f && r.top_k == 50 && r.top_p == 1.0f);
}

/* Sampling cost on a Qwen-sized vocabulary (MT_VERBOSE prints it). */
static void test_speed(mt_ctx *t) {
    const int V = 151936;
    float *logits = malloc(sizeof(float) * V);
    uint64_t x = 3;
    for (int i = 0; i < V; i++) logits[i] = rand_logit(&x, 6.0f);
    struct { const char *name; float temp; int top_k; float top_p; float rep; } cfg[] = {
        {"greedy", 0, 0, 1, 1}, {"qwen defaults", 0.7f, 20, 0.8f, 1.05f}, {"top-p 0.9 only", 0.8f, 0, 0.9f, 1}};
    for (int k = 0; k < 3; k++) {
        mono_sampler_params p = mono_sampler_params_default();
        p.temperature = cfg[k].temp; p.top_k = cfg[k].top_k; p.top_p = cfg[k].top_p; p.repetition_penalty = cfg[k].rep;
        mono_sampler *s;
        MT_CHECK(t, mono_sampler_init(&p, &s, NULL) == MONO_OK);
        for (int i = 0; i < 200; i++) mono_sampler_accept(s, i * 7, NULL);
        clock_t c0 = clock();
        int runs = 50, ok = 1;
        for (int r = 0; r < runs; r++) {
            int32_t tok;
            ok &= mono_sampler_sample(s, logits, V, &tok, NULL) == MONO_OK;
        }
        double us = (double)(clock() - c0) / CLOCKS_PER_SEC * 1e6 / runs;
        MT_CHECK(t, ok);
        if (t->verbose) fprintf(stderr, "    sampler %-16s %8.1f us/token (vocab %d)\n", cfg[k].name, us, V);
        mono_sampler_free(s);
    }
    free(logits);
}

void suite_sampler(mt_ctx *t) {
    test_greedy(t);
    test_logits_argmax(t);
    test_penalties_by_hand(t);
    test_top_p_min_p_by_hand(t);
    test_top_k_ties_and_greedy_equivalence(t);
    test_random_vs_reference(t);
    test_qwen_vocab_vs_reference(t);
    test_determinism(t);
    test_draw_frequencies(t);
    test_params(t);
    test_speed(t);
}
