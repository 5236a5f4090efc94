#!/usr/bin/env bash
# quantize_llama.sh -- `monologue quantize` against llama.cpp's quantizer.
#
# For every file type, the same F16/BF16 GGUF goes through our quantizer and
# llama.cpp's llama_model_quantize (libllama from node-llama-cpp, through
# tests/cli/quantize_vs_llama.c); every output tensor must have the same
# type (the Q4_K_M etc. mixes, fallbacks for rows not a multiple of 256) and
# the same bytes, and llama.cpp must load our file. Inputs: a tiny Qwen2 with
# the full Qwen2.5 vocabulary at hidden 64 (K-quants fall back) and 256
# (K-quants fit), tied embeddings, and the golden untied BF16 Hugging Face
# model (also quantized straight from its folder: same bytes). Then error
# handling: bad type, missing file, truncated file, bad flags.
# Skips the llama.cpp part when tools/peers is not installed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
LIB=${MONO_LIB:-build/libmonologue.a}
LLAMA=tools/peers/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64

CC=${CC:-cc}
$CC -std=c11 -O2 -Iinclude -Isrc tests/node/make_tiny_qwen2_gguf.c "$LIB" -lm -pthread -o "$TMP/make_tiny" || { echo "FAIL build make_tiny"; exit 1; }
$CC -std=c11 -O2 -Iinclude -Isrc tests/cli/quantize_vs_llama.c "$LIB" -ldl -lm -pthread -o "$TMP/qvl" || { echo "FAIL build quantize_vs_llama"; exit 1; }

TOK="$SHARED/tokenizers/qwen2.5/tokenizer.json"
"$TMP/make_tiny" "$TOK" "$TMP/tiny64.gguf" 1234 f16 64 >/dev/null || bad "make tiny64"
"$TMP/make_tiny" "$TOK" "$TMP/tiny256.gguf" 99 f16 256 >/dev/null || bad "make tiny256"
# 26 layers (blk.i = blk.(i % 2)): llama.cpp's layer rules and its visiting order
"$TMP/qvl" --layers 26 "$TMP/tiny256.gguf" "$TMP/deep256.gguf" || bad "make deep256"
# the untied golden model: its folder -> BF16 GGUF (weights as stored)
"$BIN" quantize "$SHARED/golden/models/small-bf16-untied" "$TMP/untied.gguf" bf16 >/dev/null || bad "HF folder -> bf16 gguf"

# name:llama_ftype
TYPES="f16:1 bf16:32 q8_0:7 q4_0:2 q4_1:3 q5_0:8 q5_1:9 q2_k:10 q3_k_s:11 q3_k_m:12 q3_k_l:13 q4_k_s:14 q4_k_m:15 q5_k_s:16 q5_k_m:17 q6_k:18"

have_llama=1
if [ ! -e "$LLAMA/libllama.v0.5.0.so" ]; then
  echo "skip: llama.cpp's libllama not found ($LLAMA): run scripts/setup.sh"
  have_llama=0
fi

ALL="$TYPES"
KQ="q3_k_l:13 q4_k_m:15 q5_k_s:16 q6_k:18"            # K-quants that fit
DEEP="q2_k:10 q3_k_m:12 q4_k_s:14 q4_k_m:15 q5_k_m:17" # the per-layer rules
for model in tiny64 tiny256 deep256 untied; do
  case $model in
    tiny64) list=$ALL ;;                                   # every type, K-quants falling back
    tiny256) list=$KQ ;;
    deep256) list=$DEEP ;;
    untied) list="f16:1 q8_0:7 q4_0:2 q4_k_m:15 q6_k:18" ;; # separate output.weight
  esac
  for tf in $list; do
    t=${tf%%:*}; f=${tf##*:}
    out="$TMP/$model-$t.gguf"
    if ! "$BIN" quantize -t 2 "$TMP/$model.gguf" "$out" "$t" > "$TMP/log" 2>&1; then
      bad "$model $t: monologue quantize failed"; cat "$TMP/log"; continue
    fi
    [ $have_llama = 1 ] || { ok "$model $t: written (llama.cpp comparison skipped)"; continue; }
    "$TMP/qvl" "$LLAMA" "$TMP/$model.gguf" "$out" "$f" "$TMP/ref.gguf" > "$TMP/cmp" 2>&1
    rc=$?
    if [ $rc = 0 ]; then ok "$model $t: same tensor types and bytes as llama.cpp, llama.cpp loads it"
    elif [ $rc = 77 ]; then ok "$model $t: llama.cpp comparison skipped ($(head -1 "$TMP/cmp"))"
    else bad "$model $t:"; head -20 "$TMP/cmp"; fi
    rm -f "$out" "$TMP/ref.gguf"
  done
done

# straight from the Hugging Face folder: the same bytes as from its GGUF
"$BIN" quantize "$SHARED/golden/models/small-bf16-untied" "$TMP/hf-q4km.gguf" q4_k_m >/dev/null &&
  "$BIN" quantize "$TMP/untied.gguf" "$TMP/gg-q4km.gguf" q4_k_m >/dev/null || bad "untied q4_k_m"
if [ -e "$TMP/hf-q4km.gguf" ] && [ -e "$TMP/gg-q4km.gguf" ]; then
  # tensor data: the files differ only in metadata order/values we copy
  if [ "$(tail -c 200000 "$TMP/hf-q4km.gguf" | md5sum)" = "$(tail -c 200000 "$TMP/gg-q4km.gguf" | md5sum)" ]; then
    ok "HF folder and its GGUF quantize to the same tensor data"
  else bad "HF folder and its GGUF quantize differently"; fi
  [ ! -e "$TMP/hf-q4km.gguf.convert-tmp.gguf" ] && ok "temporary conversion removed" || bad "temporary file left behind"
fi

# errors: clear message, non-zero exit, no crash
expect_quantize_fail() { # expect_quantize_fail CODE LABEL REGEX -- args
  local code=$1 label=$2 re=$3; shift 4
  "$BIN" quantize "$@" > "$TMP/out" 2>&1; local rc=$?
  if [ $rc = "$code" ] && grep -Eq "$re" "$TMP/out"; then ok "$label"; else bad "$label (exit $rc)"; cat "$TMP/out"; fi
}
expect_quantize_fail 2 "unknown type" "unknown type 'q9_9'" -- "$TMP/tiny64.gguf" "$TMP/x.gguf" q9_9
expect_quantize_fail 2 "missing arguments" "usage" -- "$TMP/tiny64.gguf"
expect_quantize_fail 2 "unknown flag" "unknown flag" -- --bogus "$TMP/tiny64.gguf" "$TMP/x.gguf" q8_0
expect_quantize_fail 2 "bad thread count" "bad value for -t" -- -t 0 "$TMP/tiny64.gguf" "$TMP/x.gguf" q8_0
expect_quantize_fail 2 "same input and output" "same file" -- "$TMP/tiny64.gguf" "$TMP/tiny64.gguf" q8_0
expect_quantize_fail 1 "missing input" "quantize" -- "$TMP/nope.gguf" "$TMP/x.gguf" q8_0
head -c 100000 "$TMP/tiny64.gguf" > "$TMP/trunc.gguf"
expect_quantize_fail 1 "truncated input" "truncated|out of bounds|beyond" -- "$TMP/trunc.gguf" "$TMP/x.gguf" q4_0
expect_quantize_fail 1 "unwritable output" "quantize" -- "$TMP/tiny64.gguf" "$TMP/no/such/dir/x.gguf" q8_0
# a NaN in an F16 weight (the middle of the file is token_embd's data): refused by name
cp "$TMP/tiny64.gguf" "$TMP/nan.gguf"
printf '\x00\x7e' | dd of="$TMP/nan.gguf" bs=1 seek=$(( ($(stat -c %s "$TMP/nan.gguf") / 2) & ~1 )) conv=notrunc 2>/dev/null
expect_quantize_fail 1 "NaN weight" "NaN or infinite" -- "$TMP/nan.gguf" "$TMP/x.gguf" q4_0

[ $fail = 0 ] && echo "quantize_llama: all ok" || echo "quantize_llama: FAILED"
exit $fail
