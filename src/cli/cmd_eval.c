/*
 * cmd_eval.c -- `monologue eval`: runs a sequence of token ids through the
 * model as one sequence from position 0 and writes every position's logits
 * (little-endian float32, row-major [n_tokens, n_vocab]) to a file, for
 * comparisons against other implementations. Also reports the sequence's
 * perplexity (each token scored by the logits of the position before it).
 *
 * The helpers shared with `monologue run` (engine.h) live here too.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/engine.h"
#include "monologue.h"

int cli_parse_tokens(const char *cmd, const char *s, int32_t **ids, int *n) {
    size_t cap = 16, count = 0;
    int32_t *v = malloc(cap * sizeof *v);
    const char *p = s;
    if (!v) { fprintf(stderr, "monologue %s: out of memory\n", cmd); return 0; }
    for (;;) {
        while (*p == ' ') p++;
        char *end;
        errno = 0;
        long long x = strtoll(p, &end, 10);
        if (end == p || errno || x < 0 || x > INT32_MAX) {
            const char *item_end = strchr(p, ',');
            int len = item_end ? (int)(item_end - p) : (int)strlen(p);
            fprintf(stderr, "monologue %s: bad token list: item %zu ('%.*s') is not a token id (a non-negative integer)\n",
                    cmd, count + 1, len, p);
            free(v);
            return 0;
        }
        if (count == cap) {
            int32_t *nv = realloc(v, 2 * cap * sizeof *v);
            if (!nv) { free(v); fprintf(stderr, "monologue %s: out of memory\n", cmd); return 0; }
            v = nv;
            cap *= 2;
        }
        v[count++] = (int32_t)x;
        p = end;
        while (*p == ' ') p++;
        if (*p == '\0') break;
        if (*p != ',') {
            fprintf(stderr, "monologue %s: bad token list: unexpected '%c' after item %zu\n", cmd, *p, count);
            free(v);
            return 0;
        }
        p++;
        if (count > (size_t)INT32_MAX / 2) { free(v); fprintf(stderr, "monologue %s: token list too long\n", cmd); return 0; }
    }
    *ids = v;
    *n = (int)count;
    return 1;
}

static double seconds_now(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

mono_model *cli_load_model(const char *cmd, const char *path, int verbose) {
    int is_default = 0;
    if (!path) path = getenv("MONO_MODEL");
    if (!path || !*path) {
        struct stat sb;
        path = MONO_DEFAULT_MODEL;
        is_default = 1;
        if (stat(path, &sb) != 0) {
            fprintf(stderr, "monologue %s: no model given (-m PATH) and the default model '%s' is not installed\n", cmd, path);
            return NULL;
        }
    }
    /* a folder holding model.gguf (and no config.json) means that file */
    char gguf_path[4096];
    struct stat sb;
    snprintf(gguf_path, sizeof gguf_path, "%s/config.json", path);
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && stat(gguf_path, &sb) != 0) {
        snprintf(gguf_path, sizeof gguf_path, "%s/model.gguf", path);
        if (stat(gguf_path, &sb) == 0) path = gguf_path;
    }
    mono_model *m = NULL;
    mono_error err;
    double t0 = seconds_now();
    if (mono_model_load(path, NULL, &m, &err) != MONO_OK) {
        fprintf(stderr, "monologue %s: cannot load %smodel: %s\n", cmd, is_default ? "the default " : "", err.message);
        return NULL;
    }
    if (verbose) {
        mono_model_info info;
        mono_model_info_get(m, &info);
        fprintf(stderr, "model: %s (%s, %d layers, %.1fM parameters, %s, kernels %s), loaded in %.0f ms\n", path,
                info.arch, info.n_layer, (double)info.n_params / 1e6, info.weight_type, info.isa,
                (seconds_now() - t0) * 1e3);
    }
    return m;
}

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
            if (!(v = cli_flag_value("eval", argc, argv, &i))) return 2;
            if (!strcmp(v, "f32")) kv = MONO_KV_F32;
            else if (!strcmp(v, "f16")) kv = MONO_KV_F16;
            else { fprintf(stderr, "monologue eval: bad value for --kv: '%s' (expected f32 or f16)\n", v); return 2; }
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
    mono_model *m = cli_load_model("eval", model_path, 1);
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
