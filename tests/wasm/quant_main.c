/*
 * quant_main.c -- a test runner for WebAssembly (wasm32-wasi, SIMD128) that
 * runs the quantized-type suite (tests/c/test_quant.c: round trips, portable
 * dot products, quant_wasm.c against the portable oracle) and the prefill
 * gemms (tests/c/test_quant_gemm.c: quant_wasm_gemm.h). Built and run
 * under Node's WASI by tests/cli/wasm_quant_kernels.sh.
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
    t.suite = "quant";
    suite_quant(&t);
    t.suite = "quant_gemm";
    suite_quant_gemm(&t);
    printf("wasm quant: %d passed, %d failed", t.passed, t.failed);
    if (t.skipped) printf(" (%d skipped)", t.skipped);
    printf("\n");
    return t.failed ? 1 : 0;
}
