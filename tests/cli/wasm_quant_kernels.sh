#!/usr/bin/env bash
# wasm_quant_kernels.sh -- builds the quantized-type tests for wasm32-wasi
# with SIMD128 (clang-14 + wasi-libc; quant_wasm.c against the portable
# oracle, round trips) and runs them under Node's WASI. Skips with a message
# (exit 0) when the toolchain is missing; scripts/setup.sh installs it.
set -euo pipefail
cd "$(dirname "$0")/../.."
CLANG="${WASM_CLANG:-clang-14}"
RT=$("$CLANG" --target=wasm32-wasi -print-libgcc-file-name 2>/dev/null || true)
for need in "$CLANG" node; do
  command -v "$need" >/dev/null 2>&1 || { echo "SKIP wasm_quant_kernels: $need not found"; exit 0; }
done
if [ ! -e /usr/lib/wasm32-wasi/libc.a ] || [ -z "$RT" ] || [ ! -e "$RT" ] || ! command -v wasm-ld-14 >/dev/null 2>&1; then
  echo "SKIP wasm_quant_kernels: needs wasi-libc, lld-14 and libclang-rt-14-dev-wasm32 (scripts/setup.sh)"
  exit 0
fi
mkdir -p build/wasm
"$CLANG" --target=wasm32-wasi -msimd128 -O2 -std=c11 -Wall -Wextra -Wno-unused-parameter \
  -Iinclude -Isrc -Itests/c \
  tests/wasm/quant_main.c tests/c/test_quant.c \
  src/kernels/types.c src/kernels/kernels.c src/kernels/float_portable.c src/kernels/float_wasm.c \
  src/kernels/quant_ref.c src/kernels/quant_portable.c src/kernels/quant_wasm.c \
  -o build/wasm/quant.wasm
node --no-warnings -e '
const fs = require("fs");
const { WASI } = require("node:wasi");
const wasi = new WASI({ version: "preview1", args: [], env: {}, preopens: {} });
const inst = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(process.argv[1])), wasi.getImportObject());
process.exitCode = wasi.start(inst);
' build/wasm/quant.wasm
