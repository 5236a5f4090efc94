/*
 * cmd_bench.c -- `monologue bench`: prompt (prefill) and generation (decode)
 * speed of a model, measured the way llama-bench does, printed as one JSON
 * line that scripts (bench/llama/compare.sh) read.
 *
 *   monologue bench -m MODEL [-t T] [-p 512] [-n 128] [-r REPS]
 *
 * Each repetition empties the KV cache, evaluates p prompt tokens as one
 * call (the prompt runs as a matrix), then n tokens one at a time, each the
 * argmax of the previous logits (end-of-sequence ignored, as in llama-bench).
 * One untimed warm-up run first maps the weights in and starts the threads.
 * The prompt is p pseudo-random ids (fixed seed), so a run needs no
 * tokenizer. Reported: medians over the repetitions (and every value),
 * load time, and the process's peak resident memory (VmHWM: mmapped weight
 * pages count once touched, as for llama.cpp).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "cli/engine.h"
#include "core/clock.h"
#include "core/error.h"
#include "monologue.h"

typedef struct bench_opts {
    const char *model;
    long long n_threads, n_prompt, n_gen, reps, warmup;
} bench_opts;

static void usage(FILE *f) {
    fprintf(f,
            "usage: monologue bench [-m MODEL] [-t T] [-p N_PROMPT] [-n N_GEN] [-r REPS]\n"
            "\n"
            "Prefill of N_PROMPT tokens then decode of N_GEN tokens (end-of-sequence ignored),\n"
            "repeated REPS times after one warm-up run; prints one JSON line with the medians\n"
            "(prefill_tok_s, decode_tok_s), every repetition, load_ms and peak_rss_mb.\n"
            "\n"
            CLI_MODEL_HELP
            "  -t, --threads N        worker threads (default: all cores)\n"
            "  -p, --n-prompt N       prompt tokens (default 512; 0: decode only)\n"
            "  -n, --n-gen N          generated tokens (default 128; 0: prefill only)\n"
            "  -r, --repetitions N    timed repetitions (default 5)\n"
            "  --no-warmup            skip the untimed warm-up run\n");
}

#define NEED(v) do { if (!((v) = cli_flag_value("bench", argc, argv, &i))) return 0; } while (0)

static int parse_args(int argc, char **argv, bench_opts *o) {
    memset(o, 0, sizeof *o);
    o->n_prompt = 512;
    o->n_gen = 128;
    o->reps = 5;
    o->warmup = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); exit(0); }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) NEED(o->model);
        else if (!strcmp(a, "--no-warmup")) o->warmup = 0;
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            NEED(v);
            if (!cli_parse_int("bench", a, v, 1, 256, &o->n_threads)) return 0;
        } else if (!strcmp(a, "-p") || !strcmp(a, "--n-prompt")) {
            NEED(v);
            if (!cli_parse_int("bench", a, v, 0, 1 << 20, &o->n_prompt)) return 0;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--n-gen")) {
            NEED(v);
            if (!cli_parse_int("bench", a, v, 0, 1 << 20, &o->n_gen)) return 0;
        } else if (!strcmp(a, "-r") || !strcmp(a, "--repetitions")) {
            NEED(v);
            if (!cli_parse_int("bench", a, v, 1, 1000, &o->reps)) return 0;
        } else {
            fprintf(stderr, "monologue bench: unknown option '%s'\n", a);
            usage(stderr);
            return 0;
        }
    }
    if (o->n_prompt + o->n_gen == 0) {
        fprintf(stderr, "monologue bench: -p and -n are both 0: nothing to measure\n");
        return 0;
    }
    return 1;
}

/* Peak resident set in MiB: VmHWM from /proc/self/status, else getrusage. */
static double peak_rss_mb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) { kb = strtoll(line + 6, NULL, 10); break; }
    if (f) fclose(f);
    if (kb < 0) {
        struct rusage ru;
        kb = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0; /* KiB on Linux */
    }
    return (double)kb / 1024.0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n) {
    double *s = malloc((size_t)n * sizeof *s);
    if (!s) return v[0];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double m = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
    return m;
}

/* One repetition: reset, prefill prompt[0..n_prompt), decode n_gen tokens.
 * Fills the two rates (tokens/s; 0 where that phase is empty). */
static mono_status bench_once(mono_context *ctx, const int32_t *prompt, int n_prompt, int n_gen, double *pp,
                              double *tg, mono_error *err) {
    mono_context_reset(ctx);
    const float *logits = NULL;
    int n_vocab = mono_context_n_vocab(ctx);
    double t0 = mono_clock_seconds();
    if (n_prompt > 0) {
        mono_status s = mono_context_eval(ctx, prompt, n_prompt, 0, &logits, err);
        if (s != MONO_OK) return s;
    }
    double t1 = mono_clock_seconds();
    /* with no prompt, decoding starts from the first pseudo-random id */
    int32_t tok = prompt[0];
    for (int i = 0; i < n_gen; i++) {
        if (logits) tok = mono_logits_argmax(logits, n_vocab);
        if (tok < 0) return mono_error_set(err, MONO_ERR_RANGE, "bench: every logit is -inf or NaN");
        mono_status s = mono_context_eval(ctx, &tok, 1, 0, &logits, err);
        if (s != MONO_OK) return s;
    }
    double t2 = mono_clock_seconds();
    *pp = n_prompt > 0 ? n_prompt / (t1 - t0) : 0;
    *tg = n_gen > 0 ? n_gen / (t2 - t1) : 0;
    return MONO_OK;
}

static void print_list(const char *key, const double *v, int n) {
    printf(", \"%s\": [", key);
    for (int i = 0; i < n; i++) printf(i ? ", %.2f" : "%.2f", v[i]);
    printf("]");
}

/* JSON string with the characters JSON needs escaped written as \uXXXX. */
static void print_json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == '"' || c == '\\') printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

int cmd_bench(int argc, char **argv) {
    bench_opts o;
    if (!parse_args(argc, argv, &o)) return 2;
    double t_load = mono_clock_seconds();
    mono_model *m = cli_load_model("bench", o.model, (int)o.n_threads, 0);
    if (!m) return 1;
    double load_ms = (mono_clock_seconds() - t_load) * 1e3;
    int rc = 1;
    mono_error err;
    mono_context *ctx = NULL;
    int np = (int)o.n_prompt, ng = (int)o.n_gen, reps = (int)o.reps;
    int32_t *prompt = malloc((size_t)(np > 0 ? np : 1) * sizeof *prompt);
    double *pp = malloc((size_t)reps * sizeof *pp), *tg = malloc((size_t)reps * sizeof *tg);
    if (!prompt || !pp || !tg) { fprintf(stderr, "monologue bench: out of memory\n"); goto done; }
    mono_model_info info;
    mono_model_info_get(m, &info);
    /* pseudo-random ids (64-bit LCG, fixed seed), as llama-bench's prompt */
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < (np > 0 ? np : 1); i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        prompt[i] = (int32_t)((x >> 33) % (uint64_t)info.n_vocab);
    }
    mono_context_params cp = mono_context_params_default();
    cp.n_ctx = np + ng + 1;
    cp.n_threads = (int)o.n_threads;
    if (mono_context_init(m, &cp, &ctx, &err) != MONO_OK) {
        fprintf(stderr, "monologue bench: %s\n", err.message);
        goto done;
    }
    double a, b;
    if (o.warmup && bench_once(ctx, prompt, np < 16 ? np : 16, ng < 4 ? ng : 4, &a, &b, &err) != MONO_OK) {
        fprintf(stderr, "monologue bench: %s\n", err.message);
        goto done;
    }
    for (int r = 0; r < reps; r++) {
        if (bench_once(ctx, prompt, np, ng, &pp[r], &tg[r], &err) != MONO_OK) {
            fprintf(stderr, "monologue bench: %s\n", err.message);
            goto done;
        }
    }
    mono_context_stats st;
    mono_context_stats_get(ctx, &st);
    printf("{\"engine\": \"monologue\", \"model\": ");
    print_json_string(o.model ? o.model : "");
    printf(", \"weight_type\": \"%s\", \"isa\": \"%s\", \"n_params\": %lld, \"weight_bytes\": %zu, \"decode_bytes\": %zu",
           info.weight_type, info.isa, info.n_params, info.weight_bytes, info.decode_bytes);
    printf(", \"threads\": %d, \"n_prompt\": %d, \"n_gen\": %d, \"reps\": %d", st.n_threads, np, ng, reps);
    printf(", \"load_ms\": %.1f, \"prefill_tok_s\": %.2f, \"decode_tok_s\": %.2f", load_ms,
           np > 0 ? median(pp, reps) : 0.0, ng > 0 ? median(tg, reps) : 0.0);
    print_list("prefill_runs", pp, reps);
    print_list("decode_runs", tg, reps);
    printf(", \"kv_bytes\": %zu, \"scratch_bytes\": %zu, \"peak_rss_mb\": %.1f}\n", st.kv_bytes, st.scratch_bytes,
           peak_rss_mb());
    fflush(stdout);
    rc = 0;
done:
    free(prompt);
    free(pp);
    free(tg);
    mono_context_free(ctx);
    mono_model_free(m);
    return rc;
}
