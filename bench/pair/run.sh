#!/usr/bin/env bash
# run.sh -- builds bench/pair/pair_decode against build/libmonologue.a and
# runs it: paired A/B decode timing of one model under two environment
# settings (see pair_decode.c), in both load orders. Also builds
# build/bench/matrices (matrices.c: decode GB/s per kind of weight matrix).
#
#   bench/pair/run.sh MODEL [THREADS=2] [TOKENS=300] [A=MONO_NO_HUGE_PAGES=1] [B=-]
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL="${1:?usage: bench/pair/run.sh MODEL [THREADS] [TOKENS] [A] [B]}"
T="${2:-2}"; N="${3:-300}"; A="${4:-MONO_NO_HUGE_PAGES=1}"; B="${5:--}"
make -s -j2 build/libmonologue.a
mkdir -p build/bench
${CC:-cc} -std=c11 -O2 -Wall -Wextra -Iinclude -Isrc bench/pair/pair_decode.c build/libmonologue.a -lm -pthread \
    -o build/bench/pair_decode
${CC:-cc} -std=c11 -O2 -Wall -Wextra -Iinclude -Isrc bench/pair/matrices.c build/libmonologue.a -lm -pthread \
    -o build/bench/matrices
build/bench/pair_decode "$MODEL" "$T" "$N" "$A" "$B"
build/bench/pair_decode "$MODEL" "$T" "$N" "$A" "$B" --swap
