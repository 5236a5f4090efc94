#!/usr/bin/env bash
# run.sh -- builds bench_sampler against build/libmonologue.a and runs it:
# per-token sampling cost on a 151936-entry vocabulary, Monologue vs
# llama.cpp's sampler chain (libllama from tools/peers), same logits.
#   bench/sampler/run.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
LIBDIR=tools/peers/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
make -s build/libmonologue.a
mkdir -p build/bench
cc -std=c11 -O2 -Iinclude -o build/bench/bench_sampler bench/sampler/bench_sampler.c build/libmonologue.a -lm -ldl -pthread
build/bench/bench_sampler "$LIBDIR" "${1:-200}"
