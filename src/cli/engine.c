/*
 * engine.c -- what the subcommands that run a model share (engine.h):
 * finding the model to load when -m is absent, loading it with a readable
 * message on failure, and parsing "--tokens 1,2,3".
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/engine.h"
#include "core/clock.h"
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

/* Appends ", path" (or "path" first) to the list of places tried; a list
 * too long for the buffer ends in "...". */
static void tried_add(char *tried, size_t cap, const char *path) {
    size_t used = strlen(tried);
    int w = snprintf(tried + used, cap - used, "%s%s", used ? ", " : "", path);
    if (w < 0 || (size_t)w >= cap - used) {
        if (cap >= 4) memcpy(tried + cap - 4, "...", 4);
    }
}

/* Tries one candidate: 1 (and the path in buf) when it exists. */
static int try_path(const char *path, char *buf, size_t cap, char *tried, size_t tried_cap) {
    struct stat sb;
    if (stat(path, &sb) == 0) {
        int w = snprintf(buf, cap, "%s", path);
        if (w >= 0 && (size_t)w < cap) return 1;
    }
    tried_add(tried, tried_cap, path);
    return 0;
}

const char *cli_default_model(char *buf, size_t cap, char *tried, size_t tried_cap) {
    if (tried_cap) tried[0] = '\0';
    const char *env = getenv("MONO_MODEL");
    if (env && *env) return env;
    if (try_path(MONO_DEFAULT_MODEL, buf, cap, tried, tried_cap)) return buf;
#ifdef __EMSCRIPTEN__
    return NULL;    /* the wasm CLI's "executable" is node: nothing of ours beside it */
#else
    /* beside the executable: /proc/self/exe is its real path (symbolic
     * links resolved), so dropping components walks up real folders */
    char dir[4096], cand[4096 + sizeof "/" MONO_DEFAULT_MODEL];
    ssize_t len = readlink("/proc/self/exe", dir, sizeof dir);
    if (len <= 0 || (size_t)len >= sizeof dir) return NULL;   /* no /proc (not Linux, wasm) or a path too long */
    dir[len] = '\0';
    char *slash = strrchr(dir, '/');            /* the executable's folder */
    if (!slash || slash == dir) return NULL;
    *slash = '\0';
    for (int up = 0; up < CLI_DEFAULT_MODEL_LEVELS; up++) {
        slash = strrchr(dir, '/');
        if (!slash || slash == dir) break;      /* at the root: nothing above */
        *slash = '\0';
        snprintf(cand, sizeof cand, "%s/%s", dir, MONO_DEFAULT_MODEL);
        if (try_path(cand, buf, cap, tried, tried_cap)) return buf;
    }
    return NULL;
#endif
}

mono_model *cli_load_model(const char *cmd, const char *path, int n_threads, int verbose) {
    int is_default = 0;
    char default_path[4096 + sizeof "/" MONO_DEFAULT_MODEL], tried[2048];
    if (!path) {
        if (!(path = cli_default_model(default_path, sizeof default_path, tried, sizeof tried))) {
            fprintf(stderr, "monologue %s: no model given (-m PATH or $MONO_MODEL) and the default model is not "
                    "installed (tried %s)\n", cmd, tried);
            return NULL;
        }
        is_default = path == default_path;
    }
    /* a folder holding model.gguf (and no config.json) means that file */
    char gguf_path[4096 + sizeof "/config.json"];
    struct stat sb;
    snprintf(gguf_path, sizeof gguf_path, "%s/config.json", path);
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && stat(gguf_path, &sb) != 0) {
        snprintf(gguf_path, sizeof gguf_path, "%s/model.gguf", path);
        if (stat(gguf_path, &sb) == 0) path = gguf_path;
    }
    mono_model *m = NULL;
    mono_error err;
    double t0 = mono_clock_seconds();
    mono_model_params mp = mono_model_params_default();
    mp.n_threads = n_threads;
    if (mono_model_load(path, &mp, &m, &err) != MONO_OK) {
        fprintf(stderr, "monologue %s: cannot load %smodel: %s\n", cmd, is_default ? "the default " : "", err.message);
        return NULL;
    }
    if (verbose) {
        mono_model_info info;
        mono_model_info_get(m, &info);
        fprintf(stderr, "model: %s (%s, %d layers, %.1fM parameters, %s, kernels %s), loaded in %.0f ms\n", path,
                info.arch, info.n_layer, (double)info.n_params / 1e6, info.weight_type, info.isa,
                (mono_clock_seconds() - t0) * 1e3);
    }
    return m;
}
