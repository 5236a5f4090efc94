#!/usr/bin/env bash
# compare.sh -- the speed table of issue 4: Monologue against llama.cpp
# v0.5.0 (libllama's C API, dlopen'ed, not node) on Qwen2.5-0.5B-shaped GGUF
# files with random weights (24 layers, hidden 896, 14/2 heads, ffn 4864,
# vocabulary 151936) in F16, Q8_0, Q4_0 and Q4_K_M (quantized by `monologue
# quantize`, byte-identical to llama-quantize). For each thread count and
# type it runs, same threads, same pseudo-random prompt of P ids, N greedy
# decode steps with end-of-sequence ignored, one warm-up each:
#
#  1. bench/llama/pair_llama.c: both engines in one process, decode in
#     alternating blocks of 8 tokens with the memory read bandwidth measured
#     after each pair of blocks, REPS repetitions (prefill alternating too).
#     The table's tok/s, ratios and % of roofline come from here: medians
#     over the block pairs, the ratio with its quartiles. On this shared
#     machine the bandwidth swings between ~30 and ~50 GB/s in phases of
#     seconds; separate runs can land in different phases, paired blocks
#     cannot.
#  2. `monologue bench -r 1` and bench_llama.c (separate processes,
#     alternating, REPS times each): peak RSS of each engine on its own,
#     and the decode ratio of those runs' medians as a cross-check.
#
#   bench/llama/compare.sh [-t "1 2"] [-p 512] [-n 128] [-r 3] [--types "f16 q8_0 q4_0 q4_k_m"] [--real]
#
# --real adds a row for models/real/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
# (scripts/fetch_real_model.sh): a real prompt and Monologue's greedy answer,
# then pair_llama on that file with the table's settings at the last thread
# count (prefill and decode of both engines, side by side). Set BENCH_JSON=FILE to keep every raw result.
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS="1 2"; P=512; N=128; REPS=3; TYPES="f16 q8_0 q4_0 q4_k_m"; REAL=0
usage() { grep -m1 "^#   bench/llama/compare.sh" "$0" | sed "s/^#   /usage: /" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    -t) THREADS="${2:?}"; shift 2 ;;
    -p) P="${2:?}"; shift 2 ;;
    -n) N="${2:?}"; shift 2 ;;
    -r) REPS="${2:?}"; shift 2 ;;
    --types) TYPES="${2:?}"; shift 2 ;;
    --real) REAL=1; shift ;;
    *) usage ;;
  esac
done
for v in "$P" "$N" "$REPS" $THREADS; do
  case "$v" in ''|*[!0-9]*) echo "compare.sh: not a number: '$v'" >&2; exit 2 ;; esac
done
[ "$P" -ge 1 ] && [ "$P" -le 512 ] || { echo "compare.sh: -p must be in [1, 512] (bench_llama's prompt limit)" >&2; exit 2; }

LLAMA=${LLAMA_LIBDIR:-tools/peers/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64}
SHARED=${MONO_SHARED:-../shared}
OUT=build/bench/compare
PY=/usr/bin/python3
mkdir -p "$OUT"
[ -e "$LLAMA/libllama.v0.5.0.so" ] || { echo "compare.sh: $LLAMA/libllama.v0.5.0.so missing (scripts/setup.sh installs the npm peers)" >&2; exit 77; }
make -s -j2 build/monologue build/libmonologue.a
cc -std=c11 -O2 -Iinclude -Isrc tests/node/make_tiny_qwen2_gguf.c build/libmonologue.a -lm -pthread -o "$OUT/make_tiny"
cc -std=c11 -O2 -Iinclude bench/llama/bench_llama.c build/libmonologue.a -ldl -lm -pthread -o "$OUT/bench_llama"
cc -std=c11 -O3 -march=native -Iinclude -Isrc bench/llama/pair_llama.c build/libmonologue.a -ldl -lm -pthread \
   -o "$OUT/pair_llama"

# the models: random F16 weights, then quantized
F16="$OUT/q05-f16.gguf"
[ -e "$F16" ] || "$OUT/make_tiny" "$SHARED/tokenizers/qwen2.5/tokenizer.json" "$F16" 7 f16 qwen2.5-0.5b
for q in $TYPES; do
  [ "$q" = f16 ] || [ -e "$OUT/q05-$q.gguf" ] || build/monologue quantize -t 2 "$F16" "$OUT/q05-$q.gguf" "$q" >/dev/null
done

# the prompt: the same pseudo-random ids `monologue bench` makes (its LCG)
IDS=$($PY -c "
x=0x9E3779B97F4A7C15; out=[]
for i in range($P):
    x=(x*6364136223846793005+1442695040888963407)%2**64; out.append(str((x>>33)%151936))
print(','.join(out))")

RAW="$OUT/raw.jsonl"
: > "$RAW"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for t in $THREADS; do
  for q in $TYPES; do
    m="$OUT/q05-$q.gguf"
    "$OUT/pair_llama" "$LLAMA" "$m" "$t" "$P" "$N" "$REPS" | sed "s/^{/{\"type\": \"$q\", /" >> "$RAW"
    for r in $(seq "$REPS"); do
      build/monologue bench -m "$m" -t "$t" -p "$P" -n "$N" -r 1 | sed "s/^{/{\"kind\": \"mono\", \"type\": \"$q\", /" >> "$RAW"
      line=$("$OUT/bench_llama" "$LLAMA" "$m" "$t" "$N" "$IDS" 1)
      echo "$line" | sed -n "s/^prefill: [0-9]* tokens, \([0-9.]*\) tokens\/s | decode: [0-9]* tokens, \([0-9.]*\) tokens\/s | peak_rss_mb: \([0-9.]*\)$/{\"kind\": \"llama\", \"type\": \"$q\", \"threads\": $t, \"prefill_tok_s\": \1, \"decode_tok_s\": \2, \"peak_rss_mb\": \3}/p" >> "$RAW"
    done
  done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

echo "Monologue vs llama.cpp v0.5.0 (libllama C API), Qwen2.5-0.5B shapes, random weights; prefill $P tokens, decode $N;"
echo "$REPS repetitions; $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores;"
echo "load average $LOAD_START at the start, $LOAD_END at the end"
$PY - "$RAW" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
med = lambda v: statistics.median(v) if v else 0.0
print()
print("Paired, one process (bench/llama/pair_llama.c): medians over blocks of 8 decode tokens, ratio quartiles in brackets;")
print("% of roofline = tok/s / (read bandwidth measured after that pair of blocks / weight bytes per token).")
print("Separate processes (`monologue bench`, bench_llama.c): ratio of the decode medians, and peak RSS.")
print()
print("| type | thr | MB read per token | prefill mono | prefill llama | ratio | decode mono | decode llama | ratio [q1, q3] "
      "| read GB/s | mono % roof | llama % roof | separate runs: decode ratio | RSS MB mono / llama |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for p in [r for r in rows if r.get("kind") == "pair"]:
    ty, t = p["type"], p["threads"]
    mo = [r for r in rows if r.get("kind") == "mono" and r["type"] == ty and r["threads"] == t]
    ll = [r for r in rows if r.get("kind") == "llama" and r["type"] == ty and r["threads"] == t]
    sep = med([r["decode_tok_s"] for r in mo]) / med([r["decode_tok_s"] for r in ll]) if ll and mo else 0
    pr = p["mono_prefill_tok_s"] / p["llama_prefill_tok_s"] if p["llama_prefill_tok_s"] else 0
    print("| %s | %d | %.0f | %.1f | %.1f | %.2fx | %.1f | %.1f | %.2fx [%.2f, %.2f] | %.1f | %.0f%% | %.0f%% | %.2fx | %.0f / %.0f |" % (
        ty, t, p["decode_bytes"] / 1e6, p["mono_prefill_tok_s"], p["llama_prefill_tok_s"], pr,
        p["mono_decode_tok_s"], p["llama_decode_tok_s"], p["decode_ratio"], p["decode_ratio_q1"], p["decode_ratio_q3"],
        p["read_gbs"], p["mono_roof_pct"], p["llama_roof_pct"], sep,
        med([r["peak_rss_mb"] for r in mo]), med([r["peak_rss_mb"] for r in ll])))
print()
print("roofline: every weight is read once per decoded token (the tied output projection reads the whole")
print("embedding matrix). Raw results: build/bench/compare/raw.jsonl")
EOF
[ -z "${BENCH_JSON:-}" ] || cp "$RAW" "$BENCH_JSON"

if [ "$REAL" = 1 ]; then
  REALM=models/real/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
  if [ ! -e "$REALM" ]; then
    echo "real model: $REALM missing (scripts/fetch_real_model.sh fetches it); row skipped"
  else
    t=$(echo $THREADS | awk '{print $NF}')
    Q="Write a Python function that returns the n-th Fibonacci number."
    RIDS=$($PY -c "
import json,subprocess,sys
text='<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n'+sys.argv[1]+'<|im_end|>\n<|im_start|>assistant\n'
ids=json.loads(subprocess.run(['build/monologue','tokenize','-t',sys.argv[2]],input=text.encode(),capture_output=True,check=True).stdout)
print(','.join(map(str,ids)))" "$Q" "$REALM")
    echo
    echo "real model $REALM, $t thread(s), greedy, 64 tokens, chat prompt: $Q"
    ans=$(build/monologue run -m "$REALM" --tokens "$RIDS" -n 64 --temp 0 -t "$t" --ignore-eos 2>"$OUT/real.err")
    echo "Monologue's answer: $ans" | head -12
    echo "pair_llama on that file, $t thread(s), prefill $P, decode $N, $REPS repetitions:"
    "$OUT/pair_llama" "$LLAMA" "$REALM" "$t" "$P" "$N" "$REPS"
  fi
fi
