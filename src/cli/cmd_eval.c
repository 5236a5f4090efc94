/*
 * cmd_eval.c -- `monologue eval`: runs a sequence of token ids through the
 * model as one sequence from position 0 and writes every position's logits
 * (little-endian float32, row-major [n_tokens, n_vocab]) to a file, for
 * comparisons against other implementations. Also reports the sequence's
 * perplexity (each token scored by the logits of the position before it).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/engine.h"
#include "monologue.h"

static int write_logits(const char *path, const float *logits, size_t count) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "monologue eval: cannot open %s for writing: %s\n", path, strerror(errno));
        return 0;
    }
    unsigned char buf[4096];
    size_t used = 0;
    int ok = 1;
    for (size_t i = 0; i < count && ok; i++) {
        uint32_t u;
        memcpy(&u, &logits[i], 4);
        buf[used++] = (unsigned char)u;
        buf[used++] = (unsigned char)(u >> 8);
        buf[used++] = (unsigned char)(u >> 16);
        buf[used++] = (unsigned char)(u >> 24);
        if (used == sizeof buf || i + 1 == count) {
            ok = fwrite(buf, 1, used, f) == used;
            used = 0;
        }
    }
    if (fclose(f) != 0) ok = 0;
    if (!ok) fprintf(stderr, "monologue eval: writing %s failed: %s\n", path, strerror(errno));
    return ok;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: monologue eval [-m MODEL] --tokens ID,ID,... [--logits-out FILE] [-t THREADS] [--kv f32|f16]\n"
            "\n"
            "Runs the ids as one sequence from position 0. Writes every position's logits to FILE\n"
            "(little-endian float32, row-major [n_tokens, n_vocab]) and prints the perplexity of\n"
            "the sequence to stderr.\n");
}

int cmd_eval(int argc, char **argv) {
    const char *model_path = NULL, *tokens_arg = NULL, *out_path = NULL;
    long long n_threads = 0;
    int kv = MONO_KV_F32;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) { if (!(model_path = cli_flag_value("eval", argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--tokens")) { if (!(tokens_arg = cli_flag_value("eval", argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--logits-out")) { if (!(out_path = cli_flag_value("eval", argc, argv, &i))) return 2; }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!(v = cli_flag_value("eval", argc, argv, &i)) || !cli_parse_int("eval", a, v, 1, 256, &n_threads)) return 2;
        } else if (!strcmp(a, "--kv")) {
            if (!(v = cli_flag_value("eval", argc, argv, &i)) || !cli_parse_kv("eval", v, &kv)) return 2;
        } else {
            fprintf(stderr, "monologue eval: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!tokens_arg) { fprintf(stderr, "monologue eval: --tokens is required\n"); usage(stderr); return 2; }
    int32_t *ids = NULL;
    int n = 0;
    if (!cli_parse_tokens("eval", tokens_arg, &ids, &n)) return 2;

    int rc = 1;
    mono_context *ctx = NULL;
    mono_error err;
    mono_model *m = cli_load_model("eval", model_path, (int)n_threads, 1);
    if (!m) goto done;
    mono_context_params cp = mono_context_params_default();
    cp.n_ctx = n;                   /* exactly the sequence: never too small, no waste */
    cp.n_threads = (int)n_threads;
    cp.kv_type = kv;
    if (mono_context_init(m, &cp, &ctx, &err) != MONO_OK) {
        fprintf(stderr, "monologue eval: %s\n", err.message);
        goto done;
    }
    const float *lg;
    if (mono_context_eval(ctx, ids, n, 1, &lg, &err) != MONO_OK) {
        fprintf(stderr, "monologue eval: %s\n", err.message);
        goto done;
    }
    int V = mono_context_n_vocab(ctx);
    for (size_t k = 0; k < (size_t)n * V; k++)
        if (!isfinite(lg[k])) {      /* NaN / inf weights: say so, never a "perplexity nan" */
            fprintf(stderr, "monologue eval: the logits are not finite (%g at position %zu, token %zu): "
                    "the model's weights or hyper-parameters are broken\n", lg[k], k / V, k % V);
            goto done;
        }
    double nll = 0;
    for (int t = 0; t + 1 < n; t++) {
        const float *row = lg + (size_t)t * V;
        double mx = row[0], sum = 0;
        for (int j = 1; j < V; j++) mx = row[j] > mx ? row[j] : mx;
        for (int j = 0; j < V; j++) sum += exp(row[j] - mx);
        nll += mx + log(sum) - row[ids[t + 1]];
    }
    mono_context_stats st;
    mono_context_stats_get(ctx, &st);
    double secs = st.prefill_seconds + st.decode_seconds;
    fprintf(stderr, "eval: %d tokens in %.0f ms (%.1f tokens/s)", n, secs * 1e3, secs > 0 ? n / secs : 0.0);
    if (n > 1) fprintf(stderr, ", perplexity %.4f", exp(nll / (n - 1)));
    fprintf(stderr, "\n");
    if (out_path && !write_logits(out_path, lg, (size_t)n * V)) goto done;
    rc = 0;
done:
    mono_context_free(ctx);
    mono_model_free(m);
    free(ids);
    return rc;
}
