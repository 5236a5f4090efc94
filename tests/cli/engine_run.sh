#!/usr/bin/env bash
# engine_run.sh -- `monologue run`: greedy generation from ids reproduces the
# Hugging Face greedy continuation of every golden model; text generation on
# a golden model given a tokenizer (trained here with train-tokenizer) is
# valid UTF-8, deterministic for a seed, and the same as decoding the ids
# that --print-ids gives; bad flags and prompts are refused with a message.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
json_ids() { $PY -c "import json,sys; print(sys.argv[2].join(map(str, json.load(open(sys.argv[1]))[sys.argv[3]])))" "$@"; }

# 1. greedy continuation, token for token, with the KV cache
for m in tiny-f32 small-bf16-untied f16-mha; do
  dir="$SHARED/golden/models/$m"
  [ -d "$dir" ] || { echo "skip $m (no golden folder)"; continue; }
  prompt=$(json_ids "$dir/expected.json" , prompt_ids)
  want=$(json_ids "$dir/expected.json" " " greedy_ids)
  n=$(echo "$want" | wc -w)
  got=$($BIN run -m "$dir" --tokens "$prompt" -n "$n" --temp 0 --print-ids -q -t 2 2>"$TMP/err")
  if [ "$got" = "$want" ]; then ok "greedy $m: $n tokens"; else bad "greedy $m: got '$got' want '$want' $(cat "$TMP/err")"; fi
done

# 2. text: the tiny model with a tokenizer of its vocabulary size
dir="$SHARED/golden/models/tiny-f32"
M="$TMP/model"
tiny_text_model "$M" || bad "train-tokenizer failed"

t1=$($BIN run -m "$M" -p "Fellow citizens of the Senate" -n 24 --temp 0 -q 2>"$TMP/err") || bad "run -p: $(cat "$TMP/err")"
t2=$($BIN run -m "$M" -p "Fellow citizens of the Senate" -n 24 --temp 0 -q -t 1 2>/dev/null)
[ -n "$t1" ] && [ "$t1" = "$t2" ] && ok "text greedy is deterministic: '$t1'" || bad "text greedy: '$t1' vs '$t2'"
printf '%s' "$t1" | $PY -c "import sys; sys.stdin.buffer.read().decode('utf-8')" && ok "text is valid UTF-8" || bad "text is not UTF-8"
ids=$(printf '%s' "Fellow citizens of the Senate" | $BIN tokenize -t "$M" | tr -d '[] ')
gen=$($BIN run -m "$M" --tokens "$ids" -n 24 --temp 0 --print-ids -q 2>/dev/null)
dec=$(echo "[$(echo "$gen" | tr ' ' ',')]" | $BIN tokenize -t "$M" --decode)
[ "$dec" = "$t1" ] && ok "text = decode(ids from --print-ids)" || bad "text '$t1' != decoded ids '$dec' ($gen)"
printf '%s' "Fellow citizens of the Senate" > "$TMP/prompt.txt"
f1=$($BIN run -m "$M" -f "$TMP/prompt.txt" -n 24 --temp 0 -q 2>/dev/null)
f2=$(printf '%s' "Fellow citizens of the Senate" | $BIN run -m "$M" -f - -n 24 --temp 0 -q 2>/dev/null)
[ "$f1" = "$t1" ] && [ "$f2" = "$t1" ] && ok "-f FILE and -f - (stdin) give the same text as -p" || bad "-f: '$f1' / '$f2' vs '$t1'"
n_ie=$($BIN run -m "$M" --tokens "$ids" -n 40 --temp 0 --ignore-eos --print-ids -q 2>/dev/null | wc -w)
[ "$n_ie" = 40 ] && ok "--ignore-eos generates exactly -n tokens" || bad "--ignore-eos gave $n_ie tokens"
s1=$($BIN run -m "$M" -p "The state" -n 16 --temp 0.9 --top-k 40 --top-p 0.95 --seed 7 -q 2>/dev/null)
s2=$($BIN run -m "$M" -p "The state" -n 16 --temp 0.9 --top-k 40 --top-p 0.95 --seed 7 -q 2>/dev/null)
[ "$s1" = "$s2" ] && ok "sampling with --seed is reproducible" || bad "seeded sampling differs: '$s1' vs '$s2'"
# each sampling flag reaches the sampler: at temperature 5 the draw is noise,
# unless --top-k 1, --top-p 1e-6 or --min-p 1 leaves only the greedy token
ids_of_run() { $BIN run -m "$M" -p "The state" -n 16 -q --print-ids "$@" 2>"$TMP/err" || echo "error: $(cat "$TMP/err")"; }
greedy=$(ids_of_run --temp 0)
hot=$(ids_of_run --temp 5 --seed 3)
[ "$hot" != "$greedy" ] && ok "--temp 5 samples: $hot" || bad "--temp 5 gave the greedy ids: $hot"
for f in "--top-k 1" "--top-p 1e-6" "--min-p 1"; do
  got=$(ids_of_run --temp 5 --seed 3 $f)
  [ "$got" = "$greedy" ] && ok "--temp 5 $f is greedy" || bad "--temp 5 $f: '$got', greedy '$greedy'"
done
rep=$(ids_of_run --temp 0 --repeat-penalty 2)
rep2=$(ids_of_run --temp 0 --repeat-penalty 2)
[ "$rep" != "$greedy" ] && [ "$rep" = "$rep2" ] && ok "--repeat-penalty 2 changes the greedy ids: $rep" || bad "--repeat-penalty: '$rep' / '$rep2' vs '$greedy'"
if $BIN run -m "$M" --chat --system "Be brief." -p "Hello" -n 8 --temp 0 >"$TMP/out" 2>"$TMP/err" && grep -q "tokens/s" "$TMP/err"; then
  ok "--chat --system runs and reports speed: $(grep tokens/s "$TMP/err")"
else bad "--chat: $(cat "$TMP/err")"; fi

# the default model when -m is absent: $MONO_MODEL, else models/default in
# the working directory, else up to two folders above the executable's
# (build/monologue -> models/default), so it works from any directory
ABS_BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
mkdir -p "$TMP/elsewhere" "$TMP/empty" "$TMP/inst/bin/sub"
want=$($BIN run -m "$M" -p "The state" -n 8 --temp 0 -q 2>/dev/null)
if [ -e models/default ]; then
  here=$(MONO_MODEL= $BIN run -p "Once upon a time" -n 8 --temp 0 -q 2>"$TMP/err") || bad "default model: $(cat "$TMP/err")"
  away=$(cd "$TMP/elsewhere" && env -u MONO_MODEL "$ABS_BIN" run -p "Once upon a time" -n 8 --temp 0 -q 2>"$TMP/err")
  if [ -n "$here" ] && [ "$here" = "$away" ]; then ok "no -m: the default model answers, from another directory too: '$away'"
  else bad "default model from another directory: '$here' vs '$away' $(cat "$TMP/err")"; fi
else
  echo "skip default model from the repository: models/default is not installed"
fi
got=$(cd "$TMP/elsewhere" && MONO_MODEL="$M" "$ABS_BIN" run -p "The state" -n 8 --temp 0 -q 2>"$TMP/err")
[ -n "$want" ] && [ "$got" = "$want" ] && ok "\$MONO_MODEL names the default model" || bad "MONO_MODEL: '$got' vs '$want' $(cat "$TMP/err")"
mkdir -p "$TMP/elsewhere/models" && ln -s "$M" "$TMP/elsewhere/models/default"
got=$(cd "$TMP/elsewhere" && env -u MONO_MODEL "$ABS_BIN" run -p "The state" -n 8 --temp 0 -q 2>"$TMP/err")
[ "$got" = "$want" ] && ok "models/default in the working directory comes before the executable's" || bad "cwd default: '$got' vs '$want' $(cat "$TMP/err")"
# a copy of the binary in TMP/inst/bin/sub: nothing installed anywhere it looks
cp "$ABS_BIN" "$TMP/inst/bin/sub/monologue"
(cd "$TMP/empty" && env -u MONO_MODEL "$TMP/inst/bin/sub/monologue" run -p hi -n 2 -q) >/dev/null 2>"$TMP/err"; rc=$?
if [ $rc = 1 ] && grep -qF "the default model is not installed (tried models/default, $TMP/inst/bin/models/default, $TMP/inst/models/default)" "$TMP/err"
then ok "no default model anywhere: exit 1 naming the paths tried"
else bad "no default model: rc=$rc $(cat "$TMP/err")"; fi
(cd "$TMP/empty" && MONO_MODEL= "$TMP/inst/bin/sub/monologue" eval --tokens 1) >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q "monologue eval: no model given" "$TMP/err" && ok "eval: the same message" || bad "eval without a model: rc=$rc $(cat "$TMP/err")"
mkdir -p "$TMP/inst/models" && ln -s "$M" "$TMP/inst/models/default"
got=$(cd "$TMP/empty" && env -u MONO_MODEL "$TMP/inst/bin/sub/monologue" run -p "The state" -n 8 --temp 0 -q 2>"$TMP/err")
[ "$got" = "$want" ] && ok "models/default two folders above the executable's" || bad "executable-relative default: '$got' vs '$want' $(cat "$TMP/err")"
rm "$TMP/inst/models/default" && mkdir -p "$TMP/inst/bin/models" && ln -s "$M" "$TMP/inst/bin/models/default"
got=$(cd "$TMP/empty" && env -u MONO_MODEL "$TMP/inst/bin/sub/monologue" run -p "The state" -n 8 --temp 0 2>"$TMP/err")
[ "$got" = "$want" ] && grep -qF "model: $TMP/inst/bin/models/default " "$TMP/err" && ok "models/default one folder above the executable's" \
  || bad "executable-relative default: '$got' vs '$want' $(cat "$TMP/err")"
# 3. refusals
expect_fail "context" run -m "$dir" --tokens 1,2,3,4,5,6 -c 4 -n 2
expect_fail "out of range" run -m "$dir" --tokens 1,5000 -n 2
expect_fail "exactly one of" run -m "$dir" --tokens 1 -p hi
expect_fail "exactly one of" run -m "$dir"
expect_fail "exactly one of" run -m "$M" -p hi -f "$TMP/prompt.txt"
expect_fail "cannot open" run -m "$M" -f "$TMP/no-such-file"
expect_fail "no usable tokenizer" run -m "$dir" -p "hello"
expect_fail "needs --chat" run -m "$M" -p hi --system x
expect_fail "bad value for --temp" run -m "$M" -p hi --temp -1
expect_fail "bad value for --top-p" run -m "$M" -p hi --top-p 2
expect_fail "bad value for -n" run -m "$M" -p hi -n -2
expect_fail "bad value for --seed" run -m "$M" -p hi --seed abc
expect_fail "bad value for --top-k" run -m "$M" -p hi --top-k -1
expect_fail "bad value for --min-p" run -m "$M" -p hi --min-p 1.5
expect_fail "bad value for --repeat-penalty" run -m "$M" -p hi --repeat-penalty 0
expect_fail "unknown option '--presence-penalty'" run -m "$M" -p hi --presence-penalty 1
expect_fail "unknown option" run -m "$M" -p hi --frobnicate
expect_fail "needs a value" run -m "$M" -p
expect_fail "item 2" run -m "$dir" --tokens 1,,2

[ $fail = 0 ] && echo "engine_run: all passed" || echo "engine_run: FAILED"
exit $fail
