#!/usr/bin/env bash
# compare.sh -- the speed table of issue 4: Monologue (`monologue bench`)
# against llama.cpp v0.5.0 (libllama's C API through bench_llama.c, not
# node) on Qwen2.5-0.5B-shaped GGUF files with random weights (24 layers,
# hidden 896, 14/2 heads, ffn 4864, vocabulary 151936) in F16, Q8_0, Q4_0
# and Q4_K_M (quantized by `monologue quantize`, byte-identical to
# llama-quantize). For each thread count it measures the machine's memory
# read bandwidth (bench/kernels/bench_float's read loop), then runs the two
# engines alternately REPS times each (same threads, same pseudo-random
# prompt of P ids, N greedy decode steps with end-of-sequence ignored, one
# warm-up each), and prints medians, the ratios Monologue/llama.cpp, decode
# as % of the bandwidth roofline (bandwidth / weight bytes read per token)
# and both peak RSS. Ratios come from one interleaved run: on a shared
# machine absolute numbers swing, ratios much less.
#
#   bench/llama/compare.sh [-t "1 2"] [-p 512] [-n 128] [-r 3] [--types "f16 q8_0 q4_0 q4_k_m"] [--real]
#
# --real adds a row for models/real/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
# (scripts/fetch_real_model.sh): a real prompt, Monologue's greedy answer and
# decode tok/s of both engines. Set BENCH_JSON=FILE to keep every raw result.
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
cc -std=c11 -O2 bench/llama/bench_llama.c -ldl -o "$OUT/bench_llama"
cc -std=c11 -O3 -march=native -Iinclude -Isrc -pthread bench/kernels/bench_float.c build/libmonologue.a -lm -pthread \
   -o "$OUT/bench_float"

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
  # read bandwidth with t threads: the first line of bench_float (line-buffered, the rest cut off)
  bw=$(stdbuf -oL "$OUT/bench_float" --threads "$t" --quick 2>/dev/null | head -1 | sed -n 's/.*read \([0-9.]*\) GB\/s.*/\1/p' || true)
  echo "{\"kind\": \"bandwidth\", \"threads\": $t, \"read_gbs\": ${bw:-0}}" >> "$RAW"
  for q in $TYPES; do
    m="$OUT/q05-$q.gguf"
    for r in $(seq "$REPS"); do
      build/monologue bench -m "$m" -t "$t" -p "$P" -n "$N" -r 1 | sed "s/^{/{\"kind\": \"mono\", \"type\": \"$q\", /" >> "$RAW"
      line=$("$OUT/bench_llama" "$LLAMA" "$m" "$t" "$N" "$IDS" 1)
      echo "$line" | sed -n "s/^prefill: [0-9]* tokens, \([0-9.]*\) tokens\/s | decode: [0-9]* tokens, \([0-9.]*\) tokens\/s | peak_rss_mb: \([0-9.]*\)$/{\"kind\": \"llama\", \"type\": \"$q\", \"threads\": $t, \"prefill_tok_s\": \1, \"decode_tok_s\": \2, \"peak_rss_mb\": \3}/p" >> "$RAW"
    done
  done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

echo "Monologue vs llama.cpp v0.5.0 (libllama C API), Qwen2.5-0.5B shapes, random weights; prefill $P tokens, decode $N;"
echo "medians of $REPS interleaved runs each; $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores;"
echo "load average $LOAD_START at the start, $LOAD_END at the end"
$PY - "$RAW" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
bw = {r["threads"]: r["read_gbs"] for r in rows if r["kind"] == "bandwidth"}
med = lambda v: statistics.median(v) if v else 0.0
print()
print("| type | thr | weights MB | prefill mono | prefill llama | ratio | decode mono | decode llama | ratio "
      "| roofline tok/s | mono % roof | llama % roof | RSS MB mono / llama |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
seen = []
for r in rows:
    if r["kind"] == "mono" and (r["type"], r["threads"]) not in seen: seen.append((r["type"], r["threads"]))
for ty, t in seen:
    mo = [r for r in rows if r["kind"] == "mono" and r["type"] == ty and r["threads"] == t]
    ll = [r for r in rows if r["kind"] == "llama" and r["type"] == ty and r["threads"] == t]
    mp, lp = med([r["prefill_tok_s"] for r in mo]), med([r["prefill_tok_s"] for r in ll])
    md, ld = med([r["decode_tok_s"] for r in mo]), med([r["decode_tok_s"] for r in ll])
    wb = mo[0]["weight_bytes"]
    roof = bw.get(t, 0) * 1e9 / wb if wb else 0
    ratio = lambda a, b: "%.2fx" % (a / b) if b else "-"
    pct = lambda a: "%.0f%%" % (100 * a / roof) if roof else "-"
    print("| %s | %d | %.0f | %.1f | %.1f | %s | %.1f | %.1f | %s | %.1f | %s | %s | %.0f / %.0f |" % (
        ty, t, wb / 1e6, mp, lp, ratio(mp, lp), md, ld, ratio(md, ld), roof, pct(md), pct(ld),
        med([r["peak_rss_mb"] for r in mo]), med([r["peak_rss_mb"] for r in ll])))
print()
print("read bandwidth: " + ", ".join("%d thread(s) %.1f GB/s" % (t, b) for t, b in sorted(bw.items())))
print("roofline = bandwidth / weight bytes (every weight is read once per decoded token; the tied output")
print("projection reads the whole embedding matrix). Raw results: build/bench/compare/raw.jsonl")
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
    echo "monologue: $(grep -o 'prefill.*' "$OUT/real.err")"
    echo "llama.cpp: $("$OUT/bench_llama" "$LLAMA" "$REALM" "$t" 64 "$RIDS" 1)"
  fi
fi
