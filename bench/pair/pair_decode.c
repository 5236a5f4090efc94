/*
 * pair_decode.c -- paired A/B timing of decode for one model loaded twice.
 *
 * On a shared machine the memory bandwidth behind decode drifts by 2x
 * within minutes, so two separate runs of an engine setting rarely say
 * which setting is faster. This loads the same model twice in one process,
 * with environment settings A for the first load and B for the second,
 * then decodes alternately from the two (two tokens from A, two from B,
 * ...), timing every token: both sides see the same machine within
 * milliseconds of each other. Prints medians, quartiles and the B/A ratio
 * of the medians. A second run with --swap loads B first, to rule out an
 * order effect (the second copy's memory differs from the first's).
 *
 *   pair_decode MODEL THREADS TOKENS "VAR=VALUE|-" "VAR=VALUE|-" [--swap] [--prompt P]
 *
 * --prompt P first evaluates P pseudo-random ids on each side (as one
 * prefill), so the timed tokens attend over P + i positions: attention's
 * share of decode grows with the context.
 *
 * e.g. huge pages for the weights: pair_decode m.gguf 2 300 MONO_NO_HUGE_PAGES=1 -
 * ("-": no variable set). A side's setting is in force while it loads and
 * while it decodes, so it can switch load-time and run-time choices alike.
 * bench/pair/run.sh builds and runs it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "monologue.h"

typedef struct side {
    const char *setting;   /* "VAR=VALUE" or "-" */
    mono_model *model;
    mono_context *ctx;
    double *ms;            /* [n] per-token times */
    int n;
    double load_ms;
} side;

/* Sets (or, for "VAR=-"/"-", leaves) one variable; returns the name set. */
static int apply(const char *setting, char *name, size_t cap) {
    name[0] = 0;
    if (!strcmp(setting, "-")) return 1;
    const char *eq = strchr(setting, '=');
    if (!eq || eq == setting || (size_t)(eq - setting) >= cap) return 0;
    memcpy(name, setting, (size_t)(eq - setting));
    name[eq - setting] = 0;
    return setenv(name, eq + 1, 1) == 0;
}

static int load_side(side *s, const char *path, int threads, int tokens, int prompt) {
    char name[128];
    if (!apply(s->setting, name, sizeof name)) {
        fprintf(stderr, "pair_decode: bad setting '%s' (want VAR=VALUE or -)\n", s->setting);
        return 0;
    }
    mono_error err;
    mono_model_params mp = mono_model_params_default();
    double t0 = mono_clock_seconds();
    if (mono_model_load(path, &mp, &s->model, &err) != MONO_OK) {
        fprintf(stderr, "pair_decode: %s\n", err.message);
        return 0;
    }
    s->load_ms = (mono_clock_seconds() - t0) * 1e3;
    if (name[0]) unsetenv(name);
    mono_context_params cp = mono_context_params_default();
    cp.n_threads = threads;
    cp.n_ctx = prompt + tokens + 8;
    cp.n_batch = 512;
    if (mono_context_init(s->model, &cp, &s->ctx, &err) != MONO_OK) {
        fprintf(stderr, "pair_decode: %s\n", err.message);
        return 0;
    }
    s->ms = malloc(sizeof(double) * (size_t)tokens);
    return s->ms != NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile(double *v, int n, double q) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[(int)(q * (n - 1) + 0.5)];
}

int main(int argc, char **argv) {
    int threads = argc >= 6 ? atoi(argv[2]) : 0, tokens = argc >= 6 ? atoi(argv[3]) : 0, swap = 0, prompt = 0;
    for (int i = 6; i < argc; i++) {
        if (!strcmp(argv[i], "--swap")) swap = 1;
        else if (!strcmp(argv[i], "--prompt") && i + 1 < argc) prompt = atoi(argv[++i]);
        else threads = 0; /* usage */
    }
    if (threads < 1 || tokens < 4 || prompt < 0) {
        fprintf(stderr, "usage: pair_decode MODEL THREADS>=1 TOKENS>=4 \"VAR=VALUE|-\" \"VAR=VALUE|-\" [--swap] [--prompt P]\n");
        return 2;
    }
    side s[2];
    memset(s, 0, sizeof s);
    s[0].setting = argv[4];
    s[1].setting = argv[5];
    for (int i = 0; i < 2; i++)
        if (!load_side(&s[swap ? 1 - i : i], argv[1], threads, tokens, prompt)) return 1;
    mono_error err;
    int32_t tok[2] = {100, 100};
    if (prompt > 0) {
        int32_t *ids = malloc(sizeof(int32_t) * (size_t)prompt);
        if (!ids) return 1;
        for (int i = 0; i < prompt; i++) ids[i] = (int32_t)((i * 7919 + 11) % 1000);
        for (int k = 0; k < 2; k++) {
            char name[128];
            apply(s[k].setting, name, sizeof name);
            mono_status st = mono_context_eval(s[k].ctx, ids, prompt, 0, NULL, &err);
            if (name[0]) unsetenv(name);
            if (st != MONO_OK) {
                fprintf(stderr, "pair_decode: %s\n", err.message);
                return 1;
            }
        }
        free(ids);
    }
    for (int i = 0; i < 2; i++) /* warm-up: first touch of every weight */
        if (mono_context_eval(s[i].ctx, &tok[i], 1, 0, NULL, &err) != MONO_OK) {
            fprintf(stderr, "pair_decode: %s\n", err.message);
            return 1;
        }
    for (int i = 0; i < tokens; i++) {
        side *c = &s[(i / 2) % 2];
        int k = (int)(c - s);
        tok[k] = (tok[k] * 7 + 13) % 1000; /* the same ids on both sides */
        char name[128];
        apply(c->setting, name, sizeof name); /* in force while this side decodes too */
        double t0 = mono_clock_seconds();
        if (mono_context_eval(c->ctx, &tok[k], 1, 0, NULL, &err) != MONO_OK) {
            fprintf(stderr, "pair_decode: %s\n", err.message);
            return 1;
        }
        c->ms[c->n++] = (mono_clock_seconds() - t0) * 1e3;
        if (name[0]) unsetenv(name);
    }
    double med[2];
    for (int i = 0; i < 2; i++) {
        med[i] = quantile(s[i].ms, s[i].n, 0.5);
        printf("%-28s load %7.1f ms  decode ms/token: p25 %.2f  median %.2f  p75 %.2f  (%d tokens)\n", s[i].setting,
               s[i].load_ms, quantile(s[i].ms, s[i].n, 0.25), med[i], quantile(s[i].ms, s[i].n, 0.75), s[i].n);
    }
    printf("B/A decode speed: %.3fx%s\n", med[0] / med[1], swap ? " (B loaded first)" : "");
    for (int i = 0; i < 2; i++) {
        mono_context_free(s[i].ctx);
        mono_model_free(s[i].model);
        free(s[i].ms);
    }
    return 0;
}
