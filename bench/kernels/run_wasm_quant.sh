#!/usr/bin/env bash
# run_wasm_quant.sh -- builds bench_wasm_quant.c for wasm32-wasi with SIMD128
# (clang-14 + wasi-libc, as tests/cli/wasm_quant_kernels.sh) and runs it under
# Node: prefill GOP/s of the portable vec_dot loop, quant_wasm.c's vec_dot
# loop and its gemm (quant_wasm_gemm.h), one thread. Arguments: rows cols
# n_tok (default 896 1024 64).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/wasm
clang-14 --target=wasm32-wasi -msimd128 -O2 -std=c11 -Wall -Wextra -Wno-unused-parameter -Iinclude -Isrc \
  bench/kernels/bench_wasm_quant.c src/kernels/types.c src/kernels/kernels.c src/kernels/float_portable.c \
  src/kernels/float_wasm.c src/kernels/quant_ref.c src/kernels/quant_portable.c src/kernels/quant_wasm.c \
  -Wl,--max-memory=1073741824 -o build/wasm/bench_wasm_quant.wasm
node --no-warnings -e '
const fs = require("fs");
const { WASI } = require("node:wasi");
const wasi = new WASI({ version: "preview1", args: ["bench_wasm_quant", ...process.argv.slice(2)], env: {}, preopens: {} });
const inst = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(process.argv[1])), wasi.getImportObject());
process.exitCode = wasi.start(inst);
' build/wasm/bench_wasm_quant.wasm "$@"
