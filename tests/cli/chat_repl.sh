#!/usr/bin/env bash
# chat_repl.sh -- `monologue chat` driven through piped stdin on a golden
# model given a tokenizer (trained here with train-tokenizer, specials
# <|endoftext|> <|im_start|> <|im_end|>): replies are deterministic for
# greedy and for a seed, /reset really starts over (same reply as a fresh
# run), the second turn reuses the cache, /exit and end of input quit,
# backslash continues a line, --stop cuts a reply, Ctrl-C at the prompt
# twice quits; bad lines, flags and models are refused with a message.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

dir="$SHARED/golden/models/tiny-f32"
[ -d "$dir" ] || { echo "skip: no golden tiny-f32"; exit 0; }
M="$TMP/model"
tiny_text_model "$M" || { echo "FAIL train-tokenizer"; exit 1; }

# --template qwen2: Qwen's default system prompt, so the prompts are long
# enough for the context tests below; auto picks chatml for this model
chat() { $BIN chat -m "$M" -t 1 --template qwen2 "$@"; }
$BIN chat -m "$M" </dev/null 2>"$TMP/e0" >/dev/null
if grep -q 'template chatml' "$TMP/e0"; then ok "auto template: chatml for a non-Qwen vocabulary"; else bad "auto template: $(cat "$TMP/e0")"; fi

# 1. greedy: deterministic, and /reset gives the same reply as a fresh start
printf 'Hello there\n' | chat -n 12 --temp 0 >"$TMP/a1" 2>"$TMP/e1"; rc=$?
printf 'Hello there\n' | chat -n 12 --temp 0 >"$TMP/a2" 2>/dev/null
if [ $rc = 0 ] && [ -s "$TMP/a1" ] && cmp -s "$TMP/a1" "$TMP/a2"; then ok "greedy reply is deterministic"; else bad "greedy: rc=$rc $(cat "$TMP/e1")"; fi
printf 'Hello there\n/reset\nHello there\n' | chat -n 12 --temp 0 >"$TMP/b" 2>"$TMP/eb"
cat "$TMP/a1" "$TMP/a1" >"$TMP/b_want"
if cmp -s "$TMP/b" "$TMP/b_want" && grep -q 'conversation cleared' "$TMP/eb"; then ok "/reset starts over"; else bad "/reset: $(od -c "$TMP/b" | head -5)"; fi

# 2. the second turn reuses the first turn's tokens from the cache
printf 'Hello there\nAnd then?\n' | chat -n 12 --temp 0 >/dev/null 2>"$TMP/e2"
cached=$(grep -o '([0-9]* cached)' "$TMP/e2" | sed -n 2p | tr -dc 0-9)
first=$(grep -o 'prefill [0-9]* tokens' "$TMP/e2" | sed -n 1p | tr -dc 0-9)
if [ -n "$cached" ] && [ -n "$first" ] && [ "$cached" -gt "$first" ]; then ok "turn 2 reused $cached cached tokens (turn 1 prompt: $first)"; else bad "cache reuse: $(cat "$TMP/e2")"; fi

# 3. seeded sampling is reproducible
printf 'Tell me more\nplease\n' | chat -n 16 --temp 1 --top-k 0 --seed 42 >"$TMP/s1" 2>/dev/null
printf 'Tell me more\nplease\n' | chat -n 16 --temp 1 --top-k 0 --seed 42 >"$TMP/s2" 2>/dev/null
if [ -s "$TMP/s1" ] && cmp -s "$TMP/s1" "$TMP/s2"; then ok "seeded sampling is reproducible"; else bad "seeded sampling differs"; fi

# 4. /exit stops reading; end of input quits with status 0; \ continues a line
printf 'one\n/exit\ntwo\n' | chat -n 4 --temp 0 >/dev/null 2>"$TMP/e4"; rc=$?
n=$(grep -c '^\[prefill' "$TMP/e4")
if [ $rc = 0 ] && [ "$n" = 1 ]; then ok "/exit quits"; else bad "/exit: rc=$rc turns=$n"; fi
printf 'first line\\\nsecond line\n' | chat -n 4 --temp 0 >/dev/null 2>"$TMP/e5"; rc=$?
n=$(grep -c '^\[prefill' "$TMP/e5")
if [ $rc = 0 ] && [ "$n" = 1 ]; then ok "backslash continues a message"; else bad "continuation: rc=$rc turns=$n"; fi
chat -n 4 --temp 0 </dev/null >/dev/null 2>&1; rc=$?
if [ $rc = 0 ]; then ok "empty input quits cleanly"; else bad "empty input: rc=$rc"; fi

# 5. --stop: the reply ends right before the first occurrence of the stop text
seed=3  # a seed whose reply is long enough (a random model may stop at once)
for s in 3 4 5 6 7 8 9 10 11 12; do
  seed=$s
  printf 'Hello there\n' | chat -n 40 --temp 0.8 --seed $seed --top-k 0 >"$TMP/f1" 2>/dev/null
  [ "$(tr -d " \n\t" <"$TMP/f1" | wc -c)" -gt 12 ] && break
done
stop=$($PY -c "
import sys
t = open(sys.argv[1], 'rb').read().decode('utf-8')[:-1]
s = t[len(t)//2: len(t)//2 + 3]
print(s if len(s) == 3 and s.strip() == s and '\x00' not in s else '')" "$TMP/f1")
if [ -n "$stop" ]; then
  printf 'Hello there\n' | chat -n 40 --temp 0.8 --seed $seed --top-k 0 --stop "$stop" >"$TMP/f2" 2>"$TMP/ef2"
  if $PY -c "
import sys
full = open(sys.argv[1], 'rb').read().decode('utf-8')[:-1]
cut = open(sys.argv[2], 'rb').read().decode('utf-8')[:-1]
stop = sys.argv[3]
sys.exit(0 if cut == full[:full.index(stop)] else 1)" "$TMP/f1" "$TMP/f2" "$stop" && grep -q 'stop string' "$TMP/ef2"; then
    ok "--stop '$stop' cuts the reply"
  else bad "--stop '$stop': $(cat "$TMP/f2")"; fi
else
  echo "skip --stop (reply too short or unsuitable: $(head -c 80 "$TMP/f1"))"
fi

# 6. bad input lines: a message, the chat goes on, exit status 1
printf 'ok\n\xff\xfe bad\n/nonsense\nstill here\n' | chat -n 4 --temp 0 >/dev/null 2>"$TMP/e6"; rc=$?
n=$(grep -c '^\[prefill' "$TMP/e6")
if [ $rc = 1 ] && grep -q 'UTF-8' "$TMP/e6" && grep -q "unknown command '/nonsense'" "$TMP/e6" && [ "$n" = 2 ]; then
  ok "bad lines refused, chat goes on"; else bad "bad lines: rc=$rc turns=$n $(cat "$TMP/e6")"; fi
printf 'Hello there, this does not fit\n' | chat -c 40 -n 4 --temp 0 >/dev/null 2>"$TMP/e7"; rc=$?
if [ $rc = 1 ] && grep -q 'context holds 40' "$TMP/e7"; then ok "too long for the context: refused"; else bad "ctx: rc=$rc $(cat "$TMP/e7")"; fi

printf 'one two\nthree four\nfive six\nseven eight\nnine ten\neleven twelve\n' | chat -c 110 -n 6 --temp 0 >/dev/null 2>"$TMP/e7b"; rc=$?
n=$(grep -c '^\[prefill' "$TMP/e7b")
if [ $rc = 0 ] && [ "$n" = 6 ] && grep -q 'forgot the oldest exchange' "$TMP/e7b"; then ok "a full context forgets the oldest exchange"
else bad "forgetting: rc=$rc turns=$n $(cat "$TMP/e7b")"; fi

# 7. generation_config.json defaults (Qwen2.5-Instruct's), flags winning
G="$TMP/model_gc"
mkdir -p "$G"
for f in config.json model.safetensors tokenizer.json; do ln -s "$(cd "$M" && pwd -P)/$f" "$G/$f" 2>/dev/null || ln -s "$M/$f" "$G/$f"; done
printf '{"bos_token_id": 1021, "do_sample": true, "eos_token_id": [1022, 1023], "pad_token_id": 1021,\n "repetition_penalty": 1.05, "temperature": 0.7, "top_k": 20, "top_p": 0.8}\n' >"$G/generation_config.json"
$BIN chat -m "$G" </dev/null 2>"$TMP/g1" >/dev/null
if grep -q 'temperature 0.7, top-k 20, top-p 0.8, min-p 0, repetition penalty 1.05' "$TMP/g1"; then ok "generation_config defaults"
else bad "generation_config: $(cat "$TMP/g1")"; fi
$BIN chat -m "$G" --top-k 5 --repeat-penalty 1 </dev/null 2>"$TMP/g2" >/dev/null
if grep -q 'temperature 0.7, top-k 5, top-p 0.8, min-p 0, repetition penalty 1\.' "$TMP/g2"; then ok "flags override generation_config"
else bad "overrides: $(cat "$TMP/g2")"; fi
$BIN chat -m "$G" --temp 0 </dev/null 2>"$TMP/g3" >/dev/null
if grep -q 'greedy, repetition penalty 1.05' "$TMP/g3"; then ok "--temp 0 is greedy"; else bad "--temp 0: $(cat "$TMP/g3")"; fi
$BIN chat -m "$M" --temp 0.5 </dev/null 2>"$TMP/g4" >/dev/null
if grep -q 'temperature 0.5, top-k 50, top-p 1,' "$TMP/g4"; then ok "no generation_config: HF defaults (greedy unless --temp)"
else bad "HF defaults: $(cat "$TMP/g4")"; fi

# the sampling flags chat shares with run, and its own penalties, reach the
# sampler: the banner shows top-p and min-p; at temperature 5 --top-k 1 is
# greedy; a presence or frequency penalty of 100 ends greedy repetition
$BIN chat -m "$M" --temp 0.5 --top-p 0.7 --min-p 0.05 </dev/null 2>"$TMP/g5" >/dev/null
if grep -q 'temperature 0.5, top-k 50, top-p 0.7, min-p 0.05,' "$TMP/g5"; then ok "--top-p and --min-p reach the sampler"
else bad "--top-p/--min-p: $(cat "$TMP/g5")"; fi
reply() { printf 'Hello there\n' | $BIN chat -m "$M" -t 1 -n 16 -q "$@" 2>"$TMP/e5"; }
greedy=$(reply --temp 0)
hot=$(reply --temp 5 --seed 2)
k1=$(reply --temp 5 --seed 2 --top-k 1)
[ -n "$greedy" ] && [ "$hot" != "$greedy" ] && [ "$k1" = "$greedy" ] && ok "--temp 5 --top-k 1 is greedy" || bad "--top-k 1: '$k1' vs '$greedy' (hot '$hot')"
for f in --presence-penalty --frequency-penalty; do
  got=$(reply --temp 0 $f 100)
  again=$(reply --temp 0 $f 100)
  if [ -n "$got" ] && [ "$got" != "$greedy" ] && [ "$got" = "$again" ]; then ok "$f 100 changes the greedy reply: '$got'"
  else bad "$f 100: '$got' / '$again' vs greedy '$greedy' $(cat "$TMP/e5")"; fi
done

# 8. bad flags (status 2) and models (status 1)
for args in "--temp abc" "--top-p 0" "--top-k -1" "--presence-penalty 101" "--frequency-penalty -101" "--seed -1" "--template llama" "--stop" "--bogus" "-c 0" "--kv f8"; do
  chat $args </dev/null >/dev/null 2>"$TMP/e8"; rc=$?
  if [ $rc = 2 ] && grep -q 'monologue chat:' "$TMP/e8"; then ok "refused: $args"; else bad "flags '$args': rc=$rc $(cat "$TMP/e8")"; fi
done
$BIN chat -m "$TMP/missing" </dev/null >/dev/null 2>"$TMP/e9"; rc=$?
if [ $rc = 1 ] && [ -s "$TMP/e9" ]; then ok "missing model refused"; else bad "missing model: rc=$rc"; fi
$BIN chat -m "$dir" </dev/null >/dev/null 2>"$TMP/e10"; rc=$?
if [ $rc = 1 ] && grep -q 'no tokenizer' "$TMP/e10"; then ok "model without tokenizer refused"; else bad "no tokenizer: rc=$rc $(cat "$TMP/e10")"; fi

# 9. Ctrl-C at the prompt: the first one only warns, the second quits
mkfifo "$TMP/in"
$BIN chat -m "$M" -t 1 -n 4 --temp 0 <"$TMP/in" >"$TMP/o11" 2>"$TMP/e11" &
pid=$!
exec 3>"$TMP/in"
printf 'hi\n' >&3
for _ in $(seq 50); do grep -q '^\[prefill' "$TMP/e11" 2>/dev/null && break; sleep 0.1; done
kill -INT $pid
for _ in $(seq 50); do grep -q 'Ctrl-C again' "$TMP/e11" && break; sleep 0.1; done
if kill -0 $pid 2>/dev/null && grep -q 'Ctrl-C again' "$TMP/e11"; then ok "one Ctrl-C at the prompt keeps the chat"; else bad "one Ctrl-C: $(cat "$TMP/e11")"; fi
kill -INT $pid
for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then bad "two Ctrl-C did not end the chat"; kill $pid; else
  wait $pid; rc=$?
  if [ $rc = 0 ] && grep -q 'Ctrl-C again' "$TMP/e11"; then ok "second Ctrl-C quits (status 0)"; else bad "Ctrl-C quit: rc=$rc"; fi
fi
exec 3>&-

exit $fail
