#!/usr/bin/env bash
# tokenize.sh -- `monologue tokenize`: golden ids through the CLI, every mode
# (--jsonl, --decode, --raw, --pieces, --special-as-text), a byte-exact
# round trip of invalid UTF-8, and failures: bad flags exit 2, bad input or a
# bad tokenizer exits 1 with "monologue tokenize: <reason>" -- never a crash.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
TOK=$SHARED/tokenizers/qwen2.5/tokenizer.json
expect() {   # name, expected, actual
  if [ "$2" == "$3" ]; then ok "$1"; else bad "$1: expected [$2] got [$3]"; fi
}
# name, expected exit status, message fragment, command...
expect_exit() {
  local name=$1 want=$2 frag=$3; shift 3
  "$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
  if [ $rc -ne "$want" ]; then bad "$name: exit $rc, wanted $want ($(head -c 300 "$TMP/err"))"
  elif ! grep -q -- "$frag" "$TMP/err"; then bad "$name: message lacks '$frag': $(head -c 300 "$TMP/err")"
  else ok "$name"; fi
}

expect "encode" "[9707, 11, 1879, 0]" "$(printf 'Hello, world!' | $BIN tokenize -t "$TOK")"
expect "encode empty" "[]" "$(printf '' | $BIN tokenize -t "$TOK")"
expect "folder" "[9707, 11, 1879, 0]" "$(printf 'Hello, world!' | $BIN tokenize -t "$(dirname "$TOK")")"
expect "decode" "Hello, world!" "$(echo '[9707, 11, 1879, 0]' | $BIN tokenize -t "$TOK" --decode)"
expect "special" "[151644, 872, 151645]" "$(printf '<|im_start|>user<|im_end|>' | $BIN tokenize -t "$TOK")"
expect "special as text" "[27, 91, 318, 4906, 91, 29]" "$(printf '<|im_start|>' | $BIN tokenize -t "$TOK" --special-as-text)"
expect "skip special" "user" "$(echo '[151644, 872, 151645]' | $BIN tokenize -t "$TOK" --decode --skip-special)"
expect "pieces" '["Hello", ",", "\u0120world", "<|im_end|>"]' "$(printf 'Hello, world<|im_end|>' | $BIN tokenize -t "$TOK" --pieces)"

# every golden line through --jsonl, in one process
/usr/bin/python3 - "$SHARED/golden/tokenizer/qwen2.5-public.jsonl" "$TMP/in.jsonl" "$TMP/want.txt" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for l in lines: f.write(json.dumps({"text": l["text"]}) + "\n")
with open(sys.argv[3], "w") as f:
    for l in lines: f.write(json.dumps(l["ids"]) + "\n")
PY
$BIN tokenize -t "$TOK" --jsonl < "$TMP/in.jsonl" > "$TMP/got.txt" || bad "--jsonl exit status"
if cmp -s "$TMP/got.txt" "$TMP/want.txt"; then ok "golden via --jsonl ($(wc -l < "$TMP/want.txt") lines)"; else bad "golden via --jsonl differs"; fi
$BIN tokenize -t "$TOK" --decode --jsonl < "$TMP/want.txt" > "$TMP/dec.jsonl" || bad "--decode --jsonl exit status"
/usr/bin/python3 - "$SHARED/golden/tokenizer/qwen2.5-public.jsonl" "$TMP/dec.jsonl" <<'PY' && ok "golden decode via --jsonl" || bad "golden decode via --jsonl"
import json, sys
want = [json.loads(l)["decoded"] for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
got = [json.loads(l)["text"] for l in open(sys.argv[2], encoding="utf-8")]
sys.exit(0 if want == got else 1)
PY

# invalid UTF-8: raw round trip is byte-exact (without the NFC normalizer,
# which rightly changes e.g. U+0387 into U+00B7); plain decode gives U+FFFD
/usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1],encoding="utf-8")); j["normalizer"]=None; json.dump(j,open(sys.argv[2],"w",encoding="utf-8"),ensure_ascii=False)' "$TOK" "$TMP/nonfc.json"
for i in 1 2 3; do
  head -c 3000 /dev/urandom > "$TMP/rand.bin"
  $BIN tokenize -t "$TMP/nonfc.json" --bytes < "$TMP/rand.bin" > "$TMP/rand.ids" &&
    $BIN tokenize -t "$TMP/nonfc.json" --decode --raw < "$TMP/rand.ids" > "$TMP/rand.back"
  if cmp -s "$TMP/rand.bin" "$TMP/rand.back"; then ok "random bytes round trip $i"; else bad "random bytes round trip $i"; fi
done
expect "lossy decode" "$(printf 'a\xef\xbf\xbdb')" "$(printf 'a\xffb' | $BIN tokenize -t "$TOK" --bytes | $BIN tokenize -t "$TOK" --decode)"
expect_exit "invalid UTF-8 text in" 1 "not valid UTF-8" sh -c "printf 'a\\377b' | $BIN tokenize -t '$TOK'"

# failures
expect_exit "unknown flag" 2 "unknown option" $BIN tokenize -t "$TOK" --nope
expect_exit "missing -t" 2 "-t FILE is required" $BIN tokenize
expect_exit "-t without value" 2 "needs a value" $BIN tokenize -t
expect_exit "--raw with --jsonl" 2 "--raw" $BIN tokenize -t "$TOK" --decode --raw --jsonl
expect_exit "missing file" 1 "No such file" $BIN tokenize -t "$TMP/none.json"
echo '{"model": {"type": "Unigram"}}' > "$TMP/unigram.json"
expect_exit "unsupported model" 1 "Unigram" $BIN tokenize -t "$TMP/unigram.json"
head -c 100000 "$TOK" > "$TMP/trunc.json"
expect_exit "truncated tokenizer.json" 1 "monologue tokenize: loading the tokenizer" $BIN tokenize -t "$TMP/trunc.json"
printf 'GGUF\3\0\0\0' > "$TMP/trunc.gguf"
expect_exit "truncated gguf" 1 "monologue tokenize: loading the tokenizer" $BIN tokenize -t "$TMP/trunc.gguf"
expect_exit "decode: not JSON" 1 "monologue tokenize:" sh -c "echo '[1, 2' | $BIN tokenize -t '$TOK' --decode"
expect_exit "decode: not ids" 1 "element 1" sh -c "echo '[1, \"x\"]' | $BIN tokenize -t '$TOK' --decode"
expect_exit "decode: id out of range" 1 "not in the vocabulary" sh -c "echo '[1, 999999]' | $BIN tokenize -t '$TOK' --decode"
expect_exit "jsonl: no text" 1 "line 2" sh -c "printf '{\"text\": \"a\"}\n{\"txt\": 1}\n' | $BIN tokenize -t '$TOK' --jsonl"
expect_exit "jsonl: bad JSON" 1 "line 1" sh -c "printf '{\"text\": \"a\n' | $BIN tokenize -t '$TOK' --jsonl"
exit $fail
