#!/usr/bin/env bash
# run_quant.sh -- builds bench/kernels/bench_quant against build/libmonologue.a
# and runs it with 1 and 2 threads: decode GB/s of the quantized kernels vs
# the machine's read bandwidth and vs llama.cpp's kernels (dlopen'ed from
# tools/peers when present), prefill GOP/s. Extra arguments go to
# bench_quant, e.g. --quick, --type q4_K, --tokens 64.
set -euo pipefail
cd "$(dirname "$0")/../.."
CC="${CC:-cc}"
make -s -j2 build/libmonologue.a
mkdir -p build/bench
$CC -std=c11 -O2 -Wall -Wextra -Iinclude -Isrc -pthread \
    bench/kernels/bench_quant.c build/libmonologue.a -lm -ldl -pthread -o build/bench/bench_quant
for t in ${BENCH_THREADS:-1 2}; do
  echo "== $t thread(s)"
  build/bench/bench_quant --threads "$t" "$@"
done
