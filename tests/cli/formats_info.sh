#!/usr/bin/env bash
# formats_info.sh -- `monologue info` on the golden Hugging Face folders and
# on a GGUF built here (by a Python writer independent of ours): the
# reported hyper-parameters, tensor counts and parameter totals must match
# what the files hold; bad flags exit 2.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

expect_line() {   # expect_line FILE REGEX LABEL
  if grep -Eq "$2" "$1"; then ok "$3"; else bad "$3: no line matching '$2' in:"; cat "$1"; fi
}

# parameters of a safetensors file, counted by Python from its header
params_of() {
  $PY - "$1" <<'PYEOF'
import json, struct, sys
d = open(sys.argv[1], "rb").read(1 << 20)
n = struct.unpack("<Q", d[:8])[0]
h = json.loads(d[8:8 + n])
total = 0
for k, v in h.items():
    if k == "__metadata__": continue
    p = 1
    for s in v["shape"]: p *= s
    total += p
print("{:,}".format(total))
PYEOF
}

while read -r name layers hidden heads kv ff vocab emb; do
  dir="$SHARED/golden/models/$name"
  out="$TMP/$name.txt"
  if ! "$BIN" info -m "$dir" --tensors > "$out" 2> "$TMP/err"; then bad "$name: exit $? $(cat "$TMP/err")"; continue; fi
  expect_line "$out" "^architecture: +qwen2$" "$name architecture"
  expect_line "$out" "^layers: +$layers$" "$name layers"
  expect_line "$out" "^hidden size: +$hidden$" "$name hidden"
  expect_line "$out" "^attention heads: +$heads \(key/value heads $kv, head dim $((hidden / heads))\)$" "$name heads"
  expect_line "$out" "^feed-forward: +$ff$" "$name ff"
  expect_line "$out" "^vocabulary: +$vocab$" "$name vocab"
  expect_line "$out" "^embeddings: +$emb" "$name embeddings"
  expect_line "$out" "^rope theta: +1e\+06$" "$name rope theta"
  expect_line "$out" "^token_embd.weight +[a-z0-9]+ +$hidden x $vocab " "$name token_embd row"
  expect_line "$out" "^blk.$((layers - 1)).ffn_down.weight +[a-z0-9]+ +$ff x $hidden " "$name last ffn_down row"
  p=$(params_of "$dir/model.safetensors")
  expect_line "$out" "^parameters: +$p " "$name parameter total ($p)"
done <<'EOF'
tiny-f32 2 64 4 2 160 1024 tied
small-bf16-untied 3 128 8 2 352 2048 separate
f16-mha 2 96 6 6 256 1536 tied
EOF

# A qwen2 GGUF written by Python's struct module (not our writer).
$PY - "$TMP/py.gguf" <<'PYEOF'
import struct, sys
def s(x): x = x.encode(); return struct.pack("<Q", len(x)) + x
kv = [("general.architecture", 8, s("qwen2")), ("general.name", 8, s("py tiny")),
      ("qwen2.block_count", 4, struct.pack("<I", 1)), ("qwen2.embedding_length", 4, struct.pack("<I", 8)),
      ("qwen2.feed_forward_length", 4, struct.pack("<I", 16)), ("qwen2.attention.head_count", 4, struct.pack("<I", 2)),
      ("qwen2.attention.head_count_kv", 4, struct.pack("<I", 1)), ("qwen2.context_length", 4, struct.pack("<I", 256)),
      ("qwen2.rope.freq_base", 6, struct.pack("<f", 10000.0)),
      ("qwen2.attention.layer_norm_rms_epsilon", 6, struct.pack("<f", 1e-5)),
      ("tokenizer.ggml.eos_token_id", 4, struct.pack("<I", 3)),
      ("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 4) + b"".join(s(t) for t in ["a", "b", "c", "<eos>"]))]
E, V, FF, H, KV, HD = 8, 32, 16, 2, 1, 4
tensors = [("token_embd.weight", [E, V], 1), ("output_norm.weight", [E], 0), ("output.weight", [E, V], 1),
           ("blk.0.attn_norm.weight", [E], 0), ("blk.0.attn_q.weight", [E, H * HD], 1), ("blk.0.attn_q.bias", [H * HD], 0),
           ("blk.0.attn_k.weight", [E, KV * HD], 1), ("blk.0.attn_k.bias", [KV * HD], 0),
           ("blk.0.attn_v.weight", [E, KV * HD], 1), ("blk.0.attn_v.bias", [KV * HD], 0),
           ("blk.0.attn_output.weight", [H * HD, E], 1), ("blk.0.ffn_norm.weight", [E], 0),
           ("blk.0.ffn_gate.weight", [E, FF], 1), ("blk.0.ffn_up.weight", [E, FF], 1), ("blk.0.ffn_down.weight", [FF, E], 1)]
out = struct.pack("<IIQQ", 0x46554747, 3, len(tensors), len(kv))
for k, t, v in kv: out += s(k) + struct.pack("<I", t) + v
off, data = 0, b""
for name, ne, ty in tensors:
    n = 1
    for x in ne: n *= x
    size = n * (2 if ty == 1 else 4)
    out += s(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", x) for x in ne) + struct.pack("<IQ", ty, off)
    data += bytes(size) + bytes((-size) % 32)
    off += size + (-size) % 32
out += bytes((-len(out)) % 32)
open(sys.argv[1], "wb").write(out + data)
PYEOF
out="$TMP/gguf.txt"
if "$BIN" info -m "$TMP/py.gguf" --tensors --metadata > "$out" 2> "$TMP/err"; then
  expect_line "$out" "^format: +GGUF v3, 12 metadata keys, alignment 32" "gguf format line"
  expect_line "$out" "^name: +py tiny$" "gguf name"
  expect_line "$out" "^attention heads: +2 \(key/value heads 1, head dim 4\)$" "gguf heads"
  expect_line "$out" "^vocabulary: +32$" "gguf vocab from token_embd"
  expect_line "$out" "^embeddings: +separate" "gguf untied (output.weight present)"
  expect_line "$out" "^special ids: +bos -1, eos 3, pad -1$" "gguf special ids"
  expect_line "$out" "^tokenizer: +GGUF metadata, 4 tokens$" "gguf tokenizer"
  expect_line "$out" "^  tokenizer.ggml.tokens +array +\[string x 4\] \"a\", \"b\", \"c\", \"<eos>\"$" "gguf string array"
  expect_line "$out" "^  qwen2.rope.freq_base +f32 +10000$" "gguf f32 value"
  expect_line "$out" "^f16 +9 +1,088 +2.12 KiB$" "gguf f16 summary"
  expect_line "$out" "^f32 +6 +40 +160 B$" "gguf f32 summary"
else
  bad "python-written GGUF refused: $(cat "$TMP/err")"
fi

# flags
"$BIN" info > /dev/null 2>&1; [ $? -eq 2 ] && ok "no -m exits 2" || bad "no -m should exit 2"
"$BIN" info -m > /dev/null 2>&1; [ $? -eq 2 ] && ok "-m without value exits 2" || bad "-m without value should exit 2"
"$BIN" info -m x --bogus > "$TMP/o" 2>&1; [ $? -eq 2 ] && grep -q "unknown option '--bogus'" "$TMP/o" && ok "unknown flag exits 2" || bad "unknown flag"
"$BIN" info --help > /dev/null 2>&1; [ $? -eq 0 ] && ok "--help exits 0" || bad "--help"

exit $fail
