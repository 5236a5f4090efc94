#!/usr/bin/env bash
# engine_eval.sh -- `monologue eval` against the Hugging Face golden logits
# (every golden model), and its refusals: bad token lists, ids out of range,
# missing model, unknown flags -- each a message and a non-zero exit.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

# ids of a golden model's expected.safetensors, comma separated
ids_of() {
  $PY - "$1" <<'PYEOF'
import json, struct, sys
d = open(sys.argv[1] + "/expected.safetensors", "rb").read()
n = struct.unpack("<Q", d[:8])[0]
h = json.loads(d[8:8 + n])
e = h["input_ids"]
a, b = e["data_offsets"]
ids = struct.unpack("<%di" % ((b - a) // 4), d[8 + n + a:8 + n + b])
print(",".join(map(str, ids)))
PYEOF
}

compare() {   # compare.py MODEL_DIR LOGITS_FILE
  $PY - "$1" "$2" <<'PYEOF'
import json, struct, sys
import numpy as np
d = open(sys.argv[1] + "/expected.safetensors", "rb").read()
n = struct.unpack("<Q", d[:8])[0]
h = json.loads(d[8:8 + n])
e = h["logits"]
a, b = e["data_offsets"]
want = np.frombuffer(d[8 + n + a:8 + n + b], dtype="<f4").reshape(e["shape"])
got = np.fromfile(sys.argv[2], dtype="<f4")
if got.size != want.size:
    print("size %d, expected %d" % (got.size, want.size)); sys.exit(1)
got = got.reshape(want.shape)
err = np.abs(got - want).max() / np.abs(want).max()
same = (got.argmax(1) == want.argmax(1)).all()
print("relative error %.3g, argmax equal: %s" % (err, same))
sys.exit(0 if err <= 1e-4 and same else 1)
PYEOF
}

for m in tiny-f32 small-bf16-untied f16-mha; do
  dir="$SHARED/golden/models/$m"
  [ -d "$dir" ] || { echo "skip $m (no golden folder)"; continue; }
  ids=$(ids_of "$dir")
  if $BIN eval -m "$dir" --tokens "$ids" --logits-out "$TMP/$m.bin" -t 2 2>"$TMP/err" && r=$(compare "$dir" "$TMP/$m.bin"); then
    ok "eval $m: $r"
  else
    bad "eval $m: ${r:-} $(cat "$TMP/err")"
  fi
done

dir="$SHARED/golden/models/tiny-f32"
expect_fail "out of range" eval -m "$dir" --tokens 1,2,1024 --logits-out "$TMP/x.bin"
expect_fail "1024" eval -m "$dir" --tokens 1,2,1024
expect_fail "item 2" eval -m "$dir" --tokens 1,x,3
expect_fail "item 2" eval -m "$dir" --tokens 1,-2,3
expect_fail "after item 2" eval -m "$dir" --tokens "1,2;3"
expect_fail "item 3" eval -m "$dir" --tokens "1,2,"
expect_fail "tokens is required" eval -m "$dir"
expect_fail "unknown option" eval -m "$dir" --tokens 1 --bogus
expect_fail "needs a value" eval -m "$dir" --tokens
expect_fail "bad value for -t" eval -m "$dir" --tokens 1 -t 0
expect_fail "bad value for --kv" eval -m "$dir" --tokens 1 --kv q8
expect_fail "/nonexistent" eval -m /nonexistent --tokens 1
expect_fail "cannot open" eval -m "$dir" --tokens 1,2 --logits-out /nonexistent/dir/x.bin
[ -e models/default ] || MONO_MODEL= expect_fail "default model" eval --tokens 1
# a truncated model file is a message, not a crash
head -c 3000 "$dir/model.safetensors" > "$TMP/model.safetensors"; cp "$dir/config.json" "$TMP/"
expect_fail "cannot load" eval -m "$TMP" --tokens 1

[ $fail = 0 ] && echo "engine_eval: all passed" || echo "engine_eval: FAILED"
exit $fail
