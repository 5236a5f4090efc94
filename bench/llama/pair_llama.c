/*
 * pair_llama.c -- Monologue and llama.cpp decoding side by side in one
 * process, in alternating blocks of tokens, with the memory read bandwidth
 * measured between the blocks: the decode ratio and the roofline of
 * bench/llama/compare.sh, taken so that both engines and the bandwidth see
 * the same machine.
 *
 * Why: on this project's shared 2-core VM the memory bandwidth behind decode
 * swings between ~30 and ~50 GB/s in phases of seconds. Two processes run
 * one after the other (compare.sh's separate runs) can land in different
 * phases, so a ratio of their medians moves by 20% from run to run, and a
 * bandwidth measured once per table can sit in yet another phase (rooflines
 * above 100% follow). Here every block of BLOCK tokens of one engine is
 * next to a block of the other, tens of milliseconds apart, and each pair
 * of blocks gets its own bandwidth reading.
 *
 *   pair_llama LIBDIR MODEL THREADS N_PROMPT N_GEN REPS [BLOCK=8]
 *
 * Each repetition empties both caches, prefills the same N_PROMPT
 * pseudo-random ids (`monologue bench`'s generator) in each engine, then
 * decodes N_GEN greedy tokens in each (each engine continues its own
 * argmax, end-of-sequence ignored), BLOCK at a time, alternating which
 * engine goes first. Between engines the process sleeps 3 ms so that
 * neither engine's idle threads (Monologue's pool spins for 1 ms before it
 * sleeps) run during the other's block; the first token of a Monologue block
 * thus pays the pool's wake-up, as llama.cpp's pays its thread start.
 * After each pair of blocks, T threads read a 512 MiB buffer on huge pages
 * (like Monologue's weights; the best plain read measured here): that pair's
 * roofline is bandwidth / weight bytes read per token.
 *
 * Prints one JSON line: medians over all block pairs of each engine's
 * decode tok/s, of the per-pair ratio llama time / Monologue time (with
 * quartiles), of the bandwidth and of each engine's % of its pair's
 * roofline; prefill tok/s medians over the repetitions (alternating order).
 * PAIR_VERBOSE=1 also prints every pair of blocks to stderr.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/bigbuf.h"
#include "core/clock.h"
#include "llama_dl.h"
#include "monologue.h"

#define BW_BYTES ((size_t)512 << 20)
#define MAX_THREADS 64

/* ---- memory read bandwidth, T threads ---------------------------------- */

typedef struct read_job {
    const uint64_t *p;
    size_t n;           /* words, a multiple of 8 */
    uint64_t sink;
} read_job;

static void *read_words(void *arg) {
    read_job *j = arg;
    uint64_t a[8] = {0};
    for (size_t i = 0; i < j->n; i += 8)
        for (int k = 0; k < 8; k++) a[k] += j->p[i + k];
    j->sink = a[0] ^ a[1] ^ a[2] ^ a[3] ^ a[4] ^ a[5] ^ a[6] ^ a[7];
    return NULL;
}

static double read_gbs(const void *buf, int T) {
    pthread_t th[MAX_THREADS];
    read_job jobs[MAX_THREADS];
    size_t per = BW_BYTES / 8 / (size_t)T / 8 * 8;
    double t0 = mono_clock_seconds();
    for (int i = 0; i < T; i++) {
        jobs[i] = (read_job){(const uint64_t *)buf + per * (size_t)i, per, 0};
        if (pthread_create(&th[i], NULL, read_words, &jobs[i]) != 0) return 0;
    }
    for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
    return (double)per * 8 * T / (mono_clock_seconds() - t0) / 1e9;
}

/* ---- the two engines ------------------------------------------------------ */

typedef struct engines {
    mono_context *mono;
    llama_dl llama;
    int n_vocab;
    const float *mono_logits, *llama_logits;
} engines;

static void pause_ms(int ms) {
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* Prefill of ids in one engine (0 Monologue, 1 llama.cpp); seconds, or -1. */
static double prefill(engines *e, int which, int32_t *ids, int n) {
    mono_error err;
    double t0 = mono_clock_seconds();
    if (which == 0) {
        if (mono_context_eval(e->mono, ids, n, 0, &e->mono_logits, &err) != MONO_OK) {
            fprintf(stderr, "pair_llama: %s\n", err.message);
            return -1;
        }
    } else if (!(e->llama_logits = llama_dl_eval(&e->llama, ids, n))) {
        fprintf(stderr, "pair_llama: llama.cpp prompt failed\n");
        return -1;
    }
    return mono_clock_seconds() - t0;
}

/* n greedy decode steps in one engine; seconds, or -1. */
static double decode(engines *e, int which, int n) {
    mono_error err;
    double t0 = mono_clock_seconds();
    for (int i = 0; i < n; i++) {
        int32_t tok = mono_logits_argmax(which == 0 ? e->mono_logits : e->llama_logits, e->n_vocab);
        if (tok < 0) { fprintf(stderr, "pair_llama: logits all -inf or NaN\n"); return -1; }
        if (which == 0) {
            if (mono_context_eval(e->mono, &tok, 1, 0, &e->mono_logits, &err) != MONO_OK) {
                fprintf(stderr, "pair_llama: %s\n", err.message);
                return -1;
            }
        } else if (!(e->llama_logits = llama_dl_eval(&e->llama, &tok, 1))) {
            fprintf(stderr, "pair_llama: llama.cpp decode failed\n");
            return -1;
        }
    }
    return mono_clock_seconds() - t0;
}

/* ---- statistics ----------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of v[n], linear between order statistics; v is sorted. */
static double quantile(double *v, int n, double q) {
    if (n == 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double pos = q * (n - 1);
    int i = (int)pos;
    return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[i];
}

static int parse_int(const char *s, int lo, int hi, const char *what, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end != 0 || v < lo || v > hi) {
        fprintf(stderr, "pair_llama: %s must be an integer in [%d, %d], got '%s'\n", what, lo, hi, s);
        return 0;
    }
    *out = (int)v;
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 7 && argc != 8) {
        fprintf(stderr, "usage: pair_llama LIBDIR MODEL THREADS N_PROMPT N_GEN REPS [BLOCK=8]\n");
        return 2;
    }
    int T, P, N, R, B = 8;
    if (!parse_int(argv[3], 1, MAX_THREADS, "THREADS", &T) || !parse_int(argv[4], 1, 4096, "N_PROMPT", &P) ||
        !parse_int(argv[5], 1, 4096, "N_GEN", &N) || !parse_int(argv[6], 1, 100, "REPS", &R) ||
        (argc == 8 && !parse_int(argv[7], 1, 4096, "BLOCK", &B)))
        return 2;
    engines e = {0};
    mono_error err;
    mono_model *model = NULL;
    mono_model_params mp = mono_model_params_default();
    mp.n_threads = T;
    if (mono_model_load(argv[2], &mp, &model, &err) != MONO_OK) {
        fprintf(stderr, "pair_llama: %s\n", err.message);
        return 1;
    }
    mono_context_params cp = mono_context_params_default();
    cp.n_threads = T;
    cp.n_ctx = P + N + 16;
    if (mono_context_init(model, &cp, &e.mono, &err) != MONO_OK) {
        fprintf(stderr, "pair_llama: %s\n", err.message);
        return 1;
    }
    char why[512];
    int rc = llama_dl_open(&e.llama, argv[1], argv[2], T, P + N + 16, why, sizeof why);
    if (rc) { fprintf(stderr, "pair_llama: %s\n", why); return rc; }
    e.n_vocab = mono_context_n_vocab(e.mono);
    if (e.llama.n_vocab != e.n_vocab) {
        fprintf(stderr, "pair_llama: vocabularies differ (%d, %d)\n", e.n_vocab, e.llama.n_vocab);
        return 1;
    }
    mono_model_info info;
    mono_model_info_get(model, &info);
    mono_bigbuf bw_buf;
    if (mono_bigbuf_init(&bw_buf, BW_BYTES, 1, &err) != MONO_OK) {
        fprintf(stderr, "pair_llama: %s\n", err.message);
        return 1;
    }
    memset(bw_buf.data, 1, BW_BYTES);

    int32_t *ids = malloc((size_t)P * sizeof *ids);
    int n_blocks = (N + B - 1) / B, n_pairs = R * n_blocks;
    double *pf[2] = {calloc((size_t)R, sizeof(double)), calloc((size_t)R, sizeof(double))};
    double *tok_s[2] = {calloc((size_t)n_pairs, sizeof(double)), calloc((size_t)n_pairs, sizeof(double))};
    double *pct[2] = {calloc((size_t)n_pairs, sizeof(double)), calloc((size_t)n_pairs, sizeof(double))};
    double *ratio = calloc((size_t)n_pairs, sizeof(double)), *bw = calloc((size_t)n_pairs, sizeof(double));
    if (!ids || !pf[0] || !pf[1] || !tok_s[0] || !tok_s[1] || !pct[0] || !pct[1] || !ratio || !bw) {
        fprintf(stderr, "pair_llama: out of memory\n");
        return 1;
    }
    uint64_t x = 0x9E3779B97F4A7C15ull; /* `monologue bench`'s prompt */
    for (int i = 0; i < P; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        ids[i] = (int32_t)((x >> 33) % (uint64_t)e.n_vocab);
    }
    /* warm-up: weights mapped in, threads started, then both caches emptied */
    for (int w = 0; w < 2; w++)
        if (prefill(&e, w, ids, P < 16 ? P : 16) < 0 || decode(&e, w, 4) < 0) return 1;

    const char *v = getenv("PAIR_VERBOSE");
    int verbose = v && *v && strcmp(v, "0") != 0;
    int k = 0;
    for (int r = 0; r < R; r++) {
        mono_context_reset(e.mono);
        llama_dl_clear(&e.llama);
        for (int s = 0; s < 2; s++) {
            int w = (r + s) % 2;
            pause_ms(3);
            if ((pf[w][r] = prefill(&e, w, ids, P)) < 0) return 1;
            pf[w][r] = P / pf[w][r];
        }
        for (int b = 0; b < n_blocks; b++, k++) {
            int n = b + 1 < n_blocks ? B : N - B * b;
            double sec[2];
            for (int s = 0; s < 2; s++) {
                int w = (r + b + s) % 2;
                pause_ms(3);
                if ((sec[w] = decode(&e, w, n)) < 0) return 1;
            }
            pause_ms(3);
            bw[k] = read_gbs(bw_buf.data, T);
            double roof = bw[k] * 1e9 / (double)info.decode_bytes; /* tok/s */
            for (int w = 0; w < 2; w++) {
                tok_s[w][k] = n / sec[w];
                pct[w][k] = 100 * tok_s[w][k] / roof;
            }
            ratio[k] = sec[1] / sec[0];
            if (verbose)
                fprintf(stderr, "rep %d block %2d: monologue %6.1f tok/s, llama.cpp %6.1f tok/s, ratio %.3f, read %.1f GB/s\n",
                        r, b, tok_s[0][k], tok_s[1][k], ratio[k], bw[k]);
        }
    }
    double q1 = quantile(ratio, n_pairs, 0.25), q3 = quantile(ratio, n_pairs, 0.75);
    printf("{\"kind\": \"pair\", \"threads\": %d, \"n_prompt\": %d, \"n_gen\": %d, \"reps\": %d, \"block\": %d, "
           "\"pairs\": %d, \"weight_bytes\": %zu, \"decode_bytes\": %zu",
           T, P, N, R, B, n_pairs, info.weight_bytes, info.decode_bytes);
    printf(", \"mono_prefill_tok_s\": %.2f, \"llama_prefill_tok_s\": %.2f", quantile(pf[0], R, 0.5),
           quantile(pf[1], R, 0.5));
    printf(", \"mono_decode_tok_s\": %.2f, \"llama_decode_tok_s\": %.2f", quantile(tok_s[0], n_pairs, 0.5),
           quantile(tok_s[1], n_pairs, 0.5));
    printf(", \"decode_ratio\": %.3f, \"decode_ratio_q1\": %.3f, \"decode_ratio_q3\": %.3f",
           quantile(ratio, n_pairs, 0.5), q1, q3);
    printf(", \"read_gbs\": %.1f, \"read_gbs_min\": %.1f, \"read_gbs_max\": %.1f", quantile(bw, n_pairs, 0.5),
           quantile(bw, n_pairs, 0), quantile(bw, n_pairs, 1));
    printf(", \"mono_roof_pct\": %.1f, \"llama_roof_pct\": %.1f}\n", quantile(pct[0], n_pairs, 0.5),
           quantile(pct[1], n_pairs, 0.5));
    fflush(stdout);
    for (int w = 0; w < 2; w++) {
        free(pf[w]);
        free(tok_s[w]);
        free(pct[w]);
    }
    free(ratio);
    free(bw);
    free(ids);
    mono_bigbuf_free(&bw_buf);
    llama_dl_close(&e.llama);
    mono_context_free(e.mono);
    mono_model_free(model);
    return 0;
}
