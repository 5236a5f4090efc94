/*
 * kernels_main.c -- a test runner for WebAssembly (wasm32-wasi, SIMD128)
 * that runs only the suites whose code is plain C with no threads or files:
 * the float kernels (portable and float_wasm.c) and the type conversions.
 * Built and run under Node's WASI by tests/cli/wasm_simd_kernels.sh.
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

int main(void) {
    mt_ctx t = {0};
    t.suite = "kernels_float";
    suite_kernels_float(&t);
    printf("wasm: %d passed, %d failed", t.passed, t.failed);
    if (t.skipped) printf(" (%d skipped)", t.skipped);
    printf("\n");
    return t.failed ? 1 : 0;
}
