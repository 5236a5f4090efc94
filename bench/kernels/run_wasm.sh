#!/usr/bin/env bash
# run_wasm.sh -- builds bench_wasm.c for wasm32-wasi with SIMD128 (clang-14,
# wasi-libc, as tests/cli/wasm_simd_kernels.sh) and runs it under Node.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/wasm
clang-14 --target=wasm32-wasi -msimd128 -O2 -std=c11 -Wall -Wextra -Iinclude -Isrc \
  bench/kernels/bench_wasm.c src/kernels/types.c src/kernels/kernels.c src/kernels/float_portable.c \
  src/kernels/float_wasm.c src/kernels/quant_ref.c src/kernels/quant_portable.c \
  -Wl,--max-memory=2147483648 -o build/wasm/bench_wasm.wasm
# Node 20's WASI segfaults while exiting once the wasm memory has grown past
# a few tens of MiB (seen here with a 300 MiB malloc and nothing else); the
# results are complete when "done" is printed, so that exit is forgiven.
out=$(node --no-warnings -e '
const fs = require("fs");
const { WASI } = require("node:wasi");
const wasi = new WASI({ version: "preview1", args: [], env: {}, preopens: {} });
const inst = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(process.argv[1])), wasi.getImportObject());
process.exitCode = wasi.start(inst);
' build/wasm/bench_wasm.wasm 2>&1) || true
echo "$out"
grep -q "bench_wasm: done" <<<"$out"
