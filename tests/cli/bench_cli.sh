#!/usr/bin/env bash
# bench_cli.sh -- `monologue bench`: on a tiny golden model the one JSON line
# parses and carries the keys scripts read (prefill_tok_s, decode_tok_s,
# load_ms, peak_rss_mb, ...) with sane values (positive rates, medians of
# the per-run lists, the requested counts); -p 0 / -n 0 time one phase only;
# bad flags exit 2 and bad models exit 1, each with a message and no JSON;
# bench/llama/compare.sh refuses bad flags before building anything; its
# llama.cpp tools (pair_llama.c, bench_llama.c) build and run on a tiny model.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

M="$SHARED/golden/models/tiny-f32"
[ -d "$M" ] || { echo "skip: no golden model $M"; exit 0; }

# check FILE NP NG REPS: the JSON line's keys and values
check() {
  $PY - "$@" <<'EOF'
import json, statistics, sys
path, np, ng, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
lines = open(path).read().splitlines()
assert len(lines) == 1, "expected one line, got %d" % len(lines)
j = json.loads(lines[0])
for k in ("prefill_tok_s", "decode_tok_s", "load_ms", "peak_rss_mb", "threads", "n_prompt", "n_gen", "reps",
          "weight_bytes", "decode_bytes", "weight_type", "prefill_runs", "decode_runs"):
    assert k in j, "missing key " + k
assert (j["n_prompt"], j["n_gen"], j["reps"]) == (np, ng, reps), (j["n_prompt"], j["n_gen"], j["reps"])
assert len(j["prefill_runs"]) == reps and len(j["decode_runs"]) == reps
for key, n in (("prefill", np), ("decode", ng)):
    runs, m = j[key + "_runs"], j[key + "_tok_s"]
    if n == 0:
        assert m == 0 and all(r == 0 for r in runs), (key, m, runs)
    else:
        assert m > 0 and all(r > 0 for r in runs), (key, m, runs)
        assert abs(m - statistics.median(runs)) <= 0.01 + 1e-6 * m, (key, m, runs)
assert 0 <= j["load_ms"] < 60000, j["load_ms"]
assert 1 < j["peak_rss_mb"] < 65536, j["peak_rss_mb"]
assert j["weight_bytes"] > 0 and j["threads"] >= 1
assert 0 < j["decode_bytes"] <= j["weight_bytes"], (j["decode_bytes"], j["weight_bytes"])
EOF
}

# 1. the smoke run of the issue, then medians over several repetitions and one-phase runs
for args in "8 4 1" "8 4 3" "0 4 2" "8 0 2"; do
  set -- $args
  if $BIN bench -m "$M" -t 2 -p "$1" -n "$2" -r "$3" >"$TMP/out" 2>"$TMP/err" && check "$TMP/out" "$1" "$2" "$3" 2>"$TMP/py"; then
    ok "bench -p $1 -n $2 -r $3: $(cut -c1-160 "$TMP/out")"
  else
    bad "bench -p $1 -n $2 -r $3: $(cat "$TMP/out" "$TMP/err" "$TMP/py")"
  fi
done
if $BIN bench -m "$M" -t 1 -p 4 -n 2 -r 1 --no-warmup >"$TMP/out" 2>"$TMP/err" && check "$TMP/out" 4 2 1 2>/dev/null \
   && grep -q '"threads": 1,' "$TMP/out"; then ok "bench -t 1 --no-warmup"; else bad "bench -t 1 --no-warmup: $(cat "$TMP/out" "$TMP/err")"; fi

# 2. bad flags: exit 2, a message naming the problem, nothing on stdout
expect() { # WANT_RC WANT_TEXT ARGS...
  local want=$1 text=$2
  shift 2
  $BIN bench "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  if [ $rc -eq "$want" ] && grep -qi -- "$text" "$TMP/err" && [ ! -s "$TMP/out" ]; then ok "bench $* -> $rc ($(head -1 "$TMP/err"))"
  else bad "bench $*: rc $rc (want $want), stderr '$(cat "$TMP/err")', stdout '$(cat "$TMP/out")'"; fi
}
expect 2 "bad value for -p" -m "$M" -p -1
expect 2 "bad value for -n" -m "$M" -n x
expect 2 "bad value for -r" -m "$M" -r 0
expect 2 "bad value for -t" -m "$M" -t 0
expect 2 "bad value for --threads" -m "$M" --threads 99999
expect 2 "needs a value" -m "$M" -p
expect 2 "unknown option" -m "$M" --bogus
expect 2 "nothing to measure" -m "$M" -p 0 -n 0

# 3. bad models: exit 1 with the loader's message
expect 1 "cannot load" -m "$TMP/missing.gguf" -p 4 -n 2 -r 1
printf 'GGUF\003\000\000\000' > "$TMP/trunc.gguf"
expect 1 "cannot load" -m "$TMP/trunc.gguf" -p 4 -n 2 -r 1

# 4. compare.sh refuses bad flags (before building or running anything)
for args in "-p 0" "-p 513" "-r x" "--nope"; do
  bash bench/llama/compare.sh $args >"$TMP/out" 2>"$TMP/err"
  rc=$?
  if [ $rc -eq 2 ] && [ -s "$TMP/err" ]; then ok "compare.sh $args -> 2 ($(head -1 "$TMP/err"))"; else bad "compare.sh $args: rc $rc $(cat "$TMP/err")"; fi
done

# 5. the llama.cpp benchmarks build and run on a tiny full-vocabulary GGUF (2 layers,
#    hidden 64): pair_llama.c's JSON line (both engines in one process) and
#    bench_llama.c's line; skipped without the npm peers
LLAMA=tools/peers/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
TOKJ="$SHARED/tokenizers/qwen2.5/tokenizer.json"
if [ ! -e "$LLAMA/libllama.v0.5.0.so" ] || [ ! -e "$TOKJ" ]; then
  echo "skip: pair_llama / bench_llama (no $LLAMA/libllama.v0.5.0.so or $TOKJ)"
elif ! make -s build/libmonologue.a \
  || ! cc -std=c11 -O2 -Iinclude -Isrc tests/node/make_tiny_qwen2_gguf.c build/libmonologue.a -lm -pthread -o "$TMP/make_tiny" \
  || ! cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude -Isrc bench/llama/pair_llama.c build/libmonologue.a -ldl -lm -pthread -o "$TMP/pair_llama" \
  || ! cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude bench/llama/bench_llama.c build/libmonologue.a -ldl -lm -pthread -o "$TMP/bench_llama" \
  || ! "$TMP/make_tiny" "$TOKJ" "$TMP/tiny.gguf" 3 q8_0 >/dev/null; then
  bad "building the llama.cpp benchmarks or their tiny model"
else
  if "$TMP/pair_llama" "$LLAMA" "$TMP/tiny.gguf" 2 8 20 2 >"$TMP/out" 2>"$TMP/err" && $PY - "$TMP/out" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
j = json.loads(lines[0])
assert j["kind"] == "pair" and (j["threads"], j["n_prompt"], j["n_gen"], j["reps"], j["block"]) == (2, 8, 20, 2, 8), j
assert j["pairs"] == 2 * 3, j                                  # 20 tokens in blocks of 8: 8, 8, 4
for k in ("mono_prefill_tok_s", "llama_prefill_tok_s", "mono_decode_tok_s", "llama_decode_tok_s", "read_gbs",
          "mono_roof_pct", "llama_roof_pct", "decode_ratio"):
    assert j[k] > 0, (k, j[k])
assert j["decode_ratio_q1"] <= j["decode_ratio"] <= j["decode_ratio_q3"], j
assert j["read_gbs_min"] <= j["read_gbs"] <= j["read_gbs_max"], j
assert 0 < j["decode_bytes"] <= j["weight_bytes"], j
EOF
  then ok "pair_llama: $(cut -c1-200 "$TMP/out")"; else bad "pair_llama: $(cat "$TMP/out" "$TMP/err")"; fi
  for args in "x 8 20 2" "2 0 20 2" "2 8 20 0" "2 8 20 2 0"; do
    "$TMP/pair_llama" "$LLAMA" "$TMP/tiny.gguf" $args >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ $rc -eq 2 ] && grep -q "must be an integer" "$TMP/err" && [ ! -s "$TMP/out" ]; then ok "pair_llama $args -> 2"
    else bad "pair_llama $args: rc $rc, $(cat "$TMP/err")"; fi
  done
  if "$TMP/bench_llama" "$LLAMA" "$TMP/tiny.gguf" 2 6 1,2,3,4 1 >"$TMP/out" 2>"$TMP/err" \
     && grep -Eq '^prefill: 4 tokens, [0-9.]+ tokens/s \| decode: 6 tokens, [0-9.]+ tokens/s \| peak_rss_mb: [0-9.]+$' "$TMP/out"; then
    ok "bench_llama: $(cat "$TMP/out")"
  else bad "bench_llama: $(cat "$TMP/out" "$TMP/err")"; fi
fi

exit $fail
