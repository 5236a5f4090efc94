/*
 * test.h -- the C test runner's tiny framework.
 *
 * A suite is a function `void suite_NAME(mt_ctx *t)` listed in suites.def.
 * Checks count as passed or failed; the runner prints "N passed, N failed".
 * Tests read fixtures relative to the repository root (the runner's working
 * directory) and the shared golden files from mt_shared_dir() (env
 * MONO_SHARED, default ../shared).
 */
#ifndef MONO_TEST_H
#define MONO_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct mt_ctx {
    int passed, failed, skipped;
    const char *suite;
    int verbose;
} mt_ctx;

int mt_check_impl(mt_ctx *t, int ok, const char *expr, const char *file, int line);
void mt_skip(mt_ctx *t, const char *why);
const char *mt_shared_dir(void);
/* Builds "<shared>/<rel>" into buf. */
const char *mt_shared_path(char *buf, size_t size, const char *rel);

#define MT_CHECK(t, cond) mt_check_impl((t), !!(cond), #cond, __FILE__, __LINE__)
#define MT_CHECK_MSG(t, cond, ...) \
    (mt_check_impl((t), !!(cond), #cond, __FILE__, __LINE__) ? 1 : (fprintf(stderr, "    "), fprintf(stderr, __VA_ARGS__), fprintf(stderr, "\n"), 0))
#define MT_CHECK_EQ_INT(t, a, b) \
    MT_CHECK_MSG((t), (long long)(a) == (long long)(b), "%s = %lld, %s = %lld", #a, (long long)(a), #b, (long long)(b))

#define SUITE(name) void suite_##name(mt_ctx *t);
#include "suites.def"
#undef SUITE

#endif
