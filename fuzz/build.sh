#!/usr/bin/env bash
# build.sh -- builds every fuzz/fuzz_*.c as a libFuzzer binary in build/fuzz/,
# linked with the library sources compiled by clang with ASan + UBSan.
# A target defines LLVMFuzzerTestOneInput; seeds live in fuzz/corpus/<name>/.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG=${CLANG:-$(command -v clang-14 || command -v clang)}
OUT=build/fuzz
mkdir -p "$OUT/obj"
FLAGS="-std=c11 -g -O1 -Iinclude -Isrc -pthread -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
# a header newer than the newest object invalidates them all (no per-file deps here)
newest_header=$(find include src -name '*.h' -newer "$OUT/obj/.stamp" 2>/dev/null | head -1 || true)
if [ ! -e "$OUT/obj/.stamp" ] || [ -n "$newest_header" ]; then rm -f "$OUT"/obj/*.o; fi
objs=()
for src in $(find src -name '*.c' -not -path 'src/cli/*' -not -name '*_neon.c' -not -name '*_wasm.c' | sort); do
  obj="$OUT/obj/$(echo "$src" | tr / _).o"
  extra=""
  case "$src" in
    *_avx2.c) extra="-mavx2 -mfma -mf16c";;
    *_avx512.c) extra="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16 -mavx2 -mfma -mf16c";;
  esac
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ]; then $CLANG $FLAGS $extra -c "$src" -o "$obj"; fi
  objs+=("$obj")
done
touch "$OUT/obj/.stamp"
for t in fuzz/fuzz_*.c; do
  [ -e "$t" ] || continue
  name=$(basename "$t" .c)
  $CLANG $FLAGS -fsanitize=fuzzer "$t" "${objs[@]}" -lm -o "$OUT/$name"
done
echo "fuzz targets in $OUT"
