#!/usr/bin/env bash
# wasm_quant_kernels.sh -- builds the quantized-type tests for wasm32-wasi
# with SIMD128 (clang-14 + wasi-libc; quant_wasm.c against the portable
# oracle, round trips, quant_wasm_gemm.h's gemms) and runs them under
# Node's WASI. Skips with a message (exit 0) when the toolchain is missing;
# scripts/setup.sh installs it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
wasm_wasi_ready wasm_quant_kernels || exit 0
mkdir -p build/wasm
"$CLANG" --target=wasm32-wasi -msimd128 -O2 -std=c11 -Wall -Wextra -Wno-unused-parameter \
  -Iinclude -Isrc -Itests/c \
  tests/wasm/quant_main.c tests/c/test_quant.c tests/c/test_quant_gemm.c \
  src/kernels/types.c src/kernels/kernels.c src/kernels/float_portable.c src/kernels/float_wasm.c \
  src/kernels/quant_ref.c src/kernels/quant_portable.c src/kernels/quant_wasm.c \
  -o build/wasm/quant.wasm
wasm_wasi_run build/wasm/quant.wasm
