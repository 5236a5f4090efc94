/*
 * main.c -- runs every suite in suites.def (or those named on the command
 * line) and prints "N passed, N failed". Exit status 1 if anything failed.
 */
#include <stdlib.h>

#include "test.h"

int mt_check_impl(mt_ctx *t, int ok, const char *expr, const char *file, int line) {
    if (ok) {
        t->passed++;
    } else {
        t->failed++;
        fprintf(stderr, "FAIL [%s] %s:%d: %s\n", t->suite, file, line, expr);
    }
    return ok;
}

void mt_skip(mt_ctx *t, const char *why) {
    t->skipped++;
    fprintf(stderr, "SKIP [%s] %s\n", t->suite, why);
}

const char *mt_shared_dir(void) {
    const char *s = getenv("MONO_SHARED");
    return (s && *s) ? s : "../shared";
}

const char *mt_shared_path(char *buf, size_t size, const char *rel) {
    snprintf(buf, size, "%s/%s", mt_shared_dir(), rel);
    return buf;
}

typedef struct suite_entry {
    const char *name;
    void (*fn)(mt_ctx *);
} suite_entry;

static const suite_entry suites[] = {
#define SUITE(name) {#name, suite_##name},
#include "suites.def"
#undef SUITE
};

int main(int argc, char **argv) {
    mt_ctx t = {0};
    t.verbose = getenv("MT_VERBOSE") != NULL;
    size_t n = sizeof suites / sizeof suites[0];
    for (size_t i = 0; i < n; i++) {
        int selected = argc < 2;
        for (int a = 1; a < argc; a++)
            if (strcmp(argv[a], suites[i].name) == 0) selected = 1;
        if (!selected) continue;
        t.suite = suites[i].name;
        int before = t.failed;
        suites[i].fn(&t);
        fprintf(stderr, "%-24s %s\n", suites[i].name, t.failed == before ? "ok" : "FAILED");
    }
    printf("%d passed, %d failed", t.passed, t.failed);
    if (t.skipped) printf(" (%d skipped)", t.skipped);
    printf("\n");
    return t.failed ? 1 : 0;
}
