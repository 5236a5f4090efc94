#!/usr/bin/env bash
# run.sh -- builds bench/kernels/bench_float against build/libmonologue.a and
# runs it with 1 and 2 threads (decode GB/s vs the machine's read bandwidth,
# prefill GFLOP/s). Extra arguments go to bench_float, e.g. --quick,
# --isa avx512, --rows 896 --cols 4864, --tokens 128.
set -euo pipefail
cd "$(dirname "$0")/../.."
CC="${CC:-cc}"
make -s -j2 build/libmonologue.a
mkdir -p build/bench
# -O3 -march=native only for the bandwidth loops in the bench itself; the
# kernels come from the library as shipped.
$CC -std=c11 -O3 -march=native -Wall -Wextra -Iinclude -Isrc -pthread \
    bench/kernels/bench_float.c build/libmonologue.a -lm -pthread -o build/bench/bench_float
for t in ${BENCH_THREADS:-1 2}; do
  echo "== $t thread(s)"
  build/bench/bench_float --threads "$t" "$@"
done
