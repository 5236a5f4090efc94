#!/usr/bin/env bash
# formats_convert.sh -- `monologue convert`: HF folder -> GGUF (as stored and
# re-typed), GGUF -> GGUF (metadata and tokenizer kept byte for byte, tensors
# re-encoded), a real tokenizer.json embedded, and refusals: bad flags
# (exit 2), unreadable models and tokenizers that do not fit (exit 1).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
has() { if grep -Eq "$2" "$1"; then ok "$3"; else bad "$3: no '$2' in:"; cat "$1"; fi; }

G="$SHARED/golden/models/small-bf16-untied"
"$BIN" convert -m "$G" -o "$TMP/a.gguf" || bad "convert as stored"
"$BIN" info -m "$TMP/a.gguf" --metadata > "$TMP/a.txt" || bad "info a.gguf"
has "$TMP/a.txt" "^bf16 +23 " "as stored: 23 bf16 matrices"
has "$TMP/a.txt" "^f32 +16 " "as stored: 16 f32 norms and biases"
has "$TMP/a.txt" "^embeddings: +separate output.weight" "untied model keeps output.weight"
has "$TMP/a.txt" "qwen2.attention.key_length +u32 +16$" "head dim written"
has "$TMP/a.txt" "tokenizer.ggml.tokens +array +\[string x 2048\] \"!\", \"\\\\\"\", \"#\", \"\\$\"" "placeholder byte vocabulary"

# GGUF -> GGUF: everything but the tensor types is kept
"$BIN" convert -m "$TMP/a.gguf" -o "$TMP/b.gguf" --type f16 --name renamed || bad "convert gguf -> f16"
"$BIN" info -m "$TMP/b.gguf" --metadata > "$TMP/b.txt" || bad "info b.gguf"
has "$TMP/b.txt" "^f16 +23 " "re-typed to f16"
has "$TMP/b.txt" "^name: +renamed$" "--name"
grep -v -E "^(model|name|format|f16|bf16|total|parameters): |general.name|^(f16|bf16|total) " "$TMP/a.txt" > "$TMP/a.cmp"
grep -v -E "^(model|name|format|f16|bf16|total|parameters): |general.name|^(f16|bf16|total) " "$TMP/b.txt" > "$TMP/b.cmp"
if diff "$TMP/a.cmp" "$TMP/b.cmp" > "$TMP/diff"; then ok "GGUF -> GGUF keeps metadata and hyper-parameters"; else bad "metadata changed:"; cat "$TMP/diff"; fi

# f16 weights widen exactly to f32: a second round trip is lossless
"$BIN" convert -m "$TMP/b.gguf" -o "$TMP/c.gguf" --type f32 || bad "convert f16 -> f32"
"$BIN" convert -m "$TMP/c.gguf" -o "$TMP/d.gguf" --type f16 || bad "convert f32 -> f16"
if cmp -s "$TMP/b.gguf" "$TMP/d.gguf"; then ok "f16 -> f32 -> f16 gives the same file"; else bad "f16 -> f32 -> f16 changed the file"; fi

# a real tokenizer.json: ids beyond the model's 2048 rows are refused
"$BIN" convert -m "$G" -o "$TMP/x.gguf" --tokenizer "$SHARED/tokenizers/qwen2.5/tokenizer.json" 2> "$TMP/err"
[ $? -eq 1 ] && grep -q "outside the model's vocabulary of 2048" "$TMP/err" && ok "oversized tokenizer refused" || bad "oversized tokenizer: $(cat "$TMP/err")"
# a small tokenizer.json in the folder is embedded as given
mkdir "$TMP/m" && cp "$G/config.json" "$G/model.safetensors" "$TMP/m/"
$PY - "$TMP/m/tokenizer.json" <<'PYEOF'
import json, sys
vocab = {"a": 0, "b": 1, "ab": 2}
json.dump({"model": {"type": "BPE", "vocab": vocab, "merges": [["a", "b"]]},
           "added_tokens": [{"id": 5, "content": "<|end|>", "special": True},
                            {"id": 3, "content": "<|fim|>", "special": False}]}, open(sys.argv[1], "w"))
PYEOF
"$BIN" convert -m "$TMP/m" -o "$TMP/t.gguf" || bad "convert with tokenizer.json"
"$BIN" info -m "$TMP/t.gguf" --metadata > "$TMP/t.txt" 2>&1 || bad "info t.gguf"
has "$TMP/t.txt" "tokenizer.ggml.tokens +array +\[string x 2048\] \"a\", \"b\", \"ab\", \"<\\|fim\\|>\"" "tokens from tokenizer.json"
has "$TMP/t.txt" "tokenizer.ggml.merges +array +\[string x 1\] \"a b\"$" "merges as \"a b\""
has "$TMP/t.txt" "tokenizer.ggml.token_type +array +\[i32 x 2048\] 1, 1, 1, 3, ...$" "token types (an added <|...|> token is control, as llama.cpp makes it)"

# a real llama.cpp-made file (when scripts/fetch_real_model.sh has run):
# rewriting it with the types kept reproduces it byte for byte
for real in models/real/*.gguf; do
  [ -f "$real" ] || { echo "skip real-model rewrite (no models/real/*.gguf)"; break; }
  if "$BIN" convert -m "$real" -o "$TMP/real.gguf" && cmp -s "$real" "$TMP/real.gguf"; then
    ok "$(basename "$real") rewritten byte for byte"
  else
    bad "$(basename "$real") rewrite differs"
  fi
  # the Qwen2.5 tokenizer.json embedded by us == llama.cpp's convert_hf_to_gguf.py output
  "$BIN" convert -m "$real" -o "$TMP/real.gguf" --tokenizer "$SHARED/tokenizers/qwen2.5/tokenizer.json" || bad "convert --tokenizer"
  if $PY - "$real" "$TMP/real.gguf" <<'PYEOF'
import struct, sys
def read_kvs(path):
    d = open(path, "rb").read(16 << 20)
    nkv = struct.unpack_from("<Q", d, 16)[0]
    p = 24
    fmt = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
    def rs(p):
        n = struct.unpack_from("<Q", d, p)[0]
        return d[p + 8:p + 8 + n], p + 8 + n
    def val(t, p):
        if t == 8: return rs(p)
        if t == 9:
            et, n = struct.unpack_from("<IQ", d, p)
            p += 12
            out = []
            for _ in range(n):
                v, p = val(et, p)
                out.append(v)
            return out, p
        return struct.unpack_from("<" + fmt[t], d, p)[0], p + struct.calcsize("<" + fmt[t])
    kv = {}
    for _ in range(nkv):
        k, p = rs(p)
        t = struct.unpack_from("<I", d, p)[0]
        v, p = val(t, p + 4)
        kv[k.decode()] = v
    return kv
a, b = read_kvs(sys.argv[1]), read_kvs(sys.argv[2])
keys = ["tokenizer.ggml." + k for k in ("model", "pre", "tokens", "token_type", "merges")]
bad = [k for k in keys if a.get(k) != b.get(k)]
print("tokenizer metadata differs in: " + ", ".join(bad) if bad else "", end="")
sys.exit(1 if bad else 0)
PYEOF
  then ok "tokenizer.json -> GGUF matches the real file's tokens, types and merges"; else bad "tokenizer metadata differs from the real file"; fi
  rm -f "$TMP/real.gguf"
done

# refusals
"$BIN" convert -m "$G" > /dev/null 2>&1; [ $? -eq 2 ] && ok "no -o exits 2" || bad "no -o"
"$BIN" convert -m "$G" -o "$TMP/y.gguf" --type q9_9 2> "$TMP/err"; [ $? -eq 2 ] && grep -q "bad value for --type" "$TMP/err" && ok "bad --type exits 2" || bad "bad --type"
"$BIN" convert -m "$G" -o "$TMP/y.gguf" --frobnicate 2> /dev/null; [ $? -eq 2 ] && ok "unknown flag exits 2" || bad "unknown flag"
"$BIN" convert -m "$TMP/nope" -o "$TMP/y.gguf" 2> "$TMP/err"; [ $? -eq 1 ] && grep -q "^monologue convert: " "$TMP/err" && ok "missing model exits 1" || bad "missing model"
"$BIN" convert -m "$G" -o "$TMP/no/such/dir/y.gguf" 2> "$TMP/err"; [ $? -eq 1 ] && grep -q "y.gguf" "$TMP/err" && ok "unwritable output exits 1" || bad "unwritable output"
exit $fail
