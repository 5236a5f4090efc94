#!/usr/bin/env bash
# chat_real_model.sh -- `monologue chat` on a real Qwen2.5 instruct GGUF
# when one is present (MONO_REAL_MODEL, default models/real/*.gguf; skipped
# otherwise): a short factual answer ends at <|im_end|> and is right, Ctrl-C
# in the middle of a long answer stops only that answer, and the next turn
# reuses the cache (the partial answer included).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
MODEL=${MONO_REAL_MODEL:-$(ls models/real/*.gguf 2>/dev/null | head -1)}
[ -n "$MODEL" ] && [ -f "$MODEL" ] || { echo "skip: no real model (set MONO_REAL_MODEL)"; exit 0; }
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$TMP"' EXIT

# 1. a short answer, stopped by the model's end-of-turn token
printf 'What is 2+2? Answer with just the number.\n' |
  $BIN chat -m "$MODEL" -t 2 -c 512 --temp 0 -n 16 >"$TMP/o1" 2>"$TMP/e1"; rc=$?
if [ $rc = 0 ] && grep -q 4 "$TMP/o1" && grep -q "| eos\]" "$TMP/e1" && grep -q "template qwen2" "$TMP/e1"; then ok "2+2: $(tr '\n' ' ' <"$TMP/o1")"
else bad "2+2: rc=$rc '$(cat "$TMP/o1")' $(cat "$TMP/e1")"; fi

# 2. Ctrl-C during a long answer stops it; the chat goes on with the cache
mkfifo "$TMP/in"
$BIN chat -m "$MODEL" -t 2 -c 1024 --temp 0 -n 400 <"$TMP/in" >"$TMP/o2" 2>"$TMP/e2" &
pid=$!
exec 3>"$TMP/in"
printf 'Write a long, detailed essay about the history of computers, with many sections.\n' >&3
for _ in $(seq 300); do [ "$(wc -c <"$TMP/o2")" -gt 30 ] && break; sleep 0.1; done
kill -INT $pid
for _ in $(seq 100); do grep -q '^\[stopped\]' "$TMP/e2" && break; sleep 0.1; done
if grep -q '^\[stopped\]' "$TMP/e2" && kill -0 $pid 2>/dev/null; then ok "Ctrl-C stopped the answer after $(wc -c <"$TMP/o2") bytes"
else bad "Ctrl-C: $(cat "$TMP/e2")"; fi
printf 'Thanks. Now just say OK.\n' >&3
for _ in $(seq 300); do grep -q '^\[prefill' "$TMP/e2" && break; sleep 0.1; done
printf '/exit\n' >&3
exec 3>&-
wait $pid; rc=$?; pid=
cached=$(grep -o '([0-9]* cached)' "$TMP/e2" | head -1 | tr -dc 0-9)
if [ $rc = 0 ] && [ -n "$cached" ] && [ "$cached" -gt 30 ]; then ok "next turn reused $cached cached tokens"
else bad "after Ctrl-C: rc=$rc $(cat "$TMP/e2")"; fi
exit $fail
