#!/usr/bin/env bash
# run.sh -- decode speed side by side: Monologue (`monologue run`) and
# llama.cpp v0.5.0 (libllama from node-llama-cpp through bench_llama.c, the C
# API, not node) on the same GGUF files, Qwen2.5-0.5B shapes with random
# weights (24 layers, hidden 896, ffn 4864, full vocabulary), quantized by
# `monologue quantize` (byte-identical to llama-quantize's output) to q8_0,
# q4_0 and q4_k_m. Each engine runs ROUNDS times, alternating, and the best
# run of each is kept (the machine is shared: timings swing by 2x when
# anything else runs); prints tok/s and the ratio.
#
#   bench/llama/run.sh [THREADS [N_PREDICT [ROUNDS]]]     (default 2 64 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
T=${1:-2}; N=${2:-64}; ROUNDS=${3:-3}
LLAMA=tools/peers/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
SHARED=${MONO_SHARED:-../shared}
OUT=build/bench/llama
mkdir -p "$OUT"
make -s -j2 build/monologue build/libmonologue.a
cc -std=c11 -O2 -Iinclude -Isrc tests/node/make_tiny_qwen2_gguf.c build/libmonologue.a -lm -pthread -o "$OUT/make_tiny"
cc -std=c11 -O2 -Iinclude bench/llama/bench_llama.c build/libmonologue.a -ldl -lm -pthread -o "$OUT/bench_llama"
[ -e "$OUT/q05-f16.gguf" ] || "$OUT/make_tiny" "$SHARED/tokenizers/qwen2.5/tokenizer.json" "$OUT/q05-f16.gguf" 7 f16 qwen2.5-0.5b
IDS=$(seq -s, 100 115)
rate() { sed -n 's/.*decode: [0-9]* tokens, \([0-9.]*\) tokens\/s.*/\1/p'; }
best() { awk 'BEGIN{m=0} {if ($1>m) m=$1} END{print m}'; }
echo "threads $T, prompt 16 tokens, $N greedy tokens, best of $ROUNDS (load: $(cut -d' ' -f1-3 /proc/loadavg))"
for q in q8_0 q4_0 q4_k_m; do
  [ -e "$OUT/q05-$q.gguf" ] || build/monologue quantize -t 2 "$OUT/q05-f16.gguf" "$OUT/q05-$q.gguf" "$q" >/dev/null
  ours=""; theirs=""
  for r in $(seq "$ROUNDS"); do
    ours="$ours $(build/monologue run -m "$OUT/q05-$q.gguf" --tokens "$IDS" -n "$N" --temp 0 -t "$T" --print-ids 2>&1 >/dev/null | rate)"
    theirs="$theirs $("$OUT/bench_llama" "$LLAMA" "$OUT/q05-$q.gguf" "$T" "$N" "$IDS" | rate)"
  done
  o=$(echo $ours | tr ' ' '\n' | best); l=$(echo $theirs | tr ' ' '\n' | best)
  printf "%-7s monologue %6.1f tok/s   llama.cpp %6.1f tok/s   ratio %sx   (runs: ours%s | llama.cpp%s)\n" \
    "$q" "$o" "$l" "$(awk -v a="$o" -v b="$l" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "-" }')" "$ours" "$theirs"
done
