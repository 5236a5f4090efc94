#!/usr/bin/env bash
# formats_hostile.sh -- `monologue info` on broken and hostile model files
# (made here by Python): truncated, wrong magic/version, huge counts,
# overflowing dimensions, out-of-bounds or misaligned offsets, duplicates,
# bad safetensors headers, configs that contradict the weights. Each must
# exit 1 with "monologue info: <reason>" -- never crash, hang or succeed.
# Uses the ASan build too when it exists.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
bins=("${MONO_BIN:-build/monologue}")
[ -x build/asan/monologue ] && [ -z "${MONO_BIN:-}" ] && bins+=(build/asan/monologue)

$PY - "$TMP" "$SHARED/golden/models/tiny-f32" <<'PYEOF'
import os, shutil, struct, sys
out, golden = sys.argv[1], sys.argv[2]
def s(x):
    x = x.encode() if isinstance(x, str) else x
    return struct.pack("<Q", len(x)) + x
def hdr(nt, nkv, version=3, magic=0x46554747): return struct.pack("<IIQQ", magic, version, nt, nkv)
def kv(k, t, v): return s(k) + struct.pack("<I", t) + v
def tinfo(name, ne, ty=0, off=0):
    return s(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", x) for x in ne) + struct.pack("<IQ", ty, off)
def pad(b, a=32): return b + bytes((-len(b)) % a)
arch = kv("general.architecture", 8, s("qwen2"))
def w(name, data, expect):
    open(os.path.join(out, name), "wb").write(data)
    open(os.path.join(out, name + ".expect"), "w").write(expect)

good = pad(hdr(1, 1) + arch + tinfo("token_embd.weight", [4, 2])) + bytes(32)
w("empty.gguf", b"", "truncated")
w("magic.gguf", b"GGUX" + good[4:], "magic")
w("v1.gguf", hdr(0, 0, version=1), "version 1")
w("v9.gguf", hdr(0, 0, version=9), "version 9")
w("bigendian.gguf", hdr(0, 0, version=0x03000000), "big-endian")
for cut in (3, 10, 23, 40, len(good) - 40, len(good) - 1):
    w("cut%d.gguf" % cut, good[:cut], "truncated" if cut < len(good) - 32 else "out of bounds")
w("ntensors.gguf", hdr(2**63, 0), "tensor infos")
w("nkv.gguf", hdr(0, 2**40), "metadata")
w("keylen.gguf", hdr(0, 1) + struct.pack("<Q", 2**64 - 1) + b"abcdefgh", "truncated")
w("strlen.gguf", hdr(0, 1) + s("k") + struct.pack("<IQ", 8, 2**62) + bytes(16), "truncated")
w("arrlen.gguf", hdr(0, 1) + s("k") + struct.pack("<IIQ", 9, 12, 2**61) + bytes(16), "array")
w("kvtype.gguf", hdr(0, 1) + s("k") + struct.pack("<I", 99) + bytes(16), "unknown value type")
w("nested.gguf", hdr(0, 1) + s("k") + struct.pack("<I", 9) + struct.pack("<IQ", 9, 1) * 64 + struct.pack("<IQ", 0, 0), "nested")
w("dupkey.gguf", hdr(0, 2) + arch + arch, "duplicate metadata key")
w("align0.gguf", hdr(0, 1) + kv("general.alignment", 4, struct.pack("<I", 0)), "alignment")
w("align3.gguf", hdr(0, 1) + kv("general.alignment", 4, struct.pack("<I", 3)), "alignment")
w("ndims.gguf", pad(hdr(1, 1) + arch + tinfo("t", [1, 1, 1, 1, 1])) + bytes(32), "dimensions")
w("dimzero.gguf", pad(hdr(1, 1) + arch + tinfo("t", [4, 0])) + bytes(32), "dimension 1 is 0")
w("dimoverflow.gguf", pad(hdr(1, 1) + arch + tinfo("t", [2**40, 2**40])) + bytes(32), "overflow")
w("ttype.gguf", pad(hdr(1, 1) + arch + tinfo("t", [4, 2], ty=77)) + bytes(32), "unsupported tensor type 77")
w("misaligned.gguf", pad(hdr(1, 1) + arch + tinfo("t", [4, 2], off=4)) + bytes(64), "alignment")
w("offpast.gguf", pad(hdr(1, 1) + arch + tinfo("t", [4, 2], off=2**62)) + bytes(32), "out of bounds")
w("datapast.gguf", pad(hdr(1, 1) + arch + tinfo("t", [4, 100])) + bytes(32), "out of bounds")
w("duptensor.gguf", pad(hdr(2, 1) + arch + tinfo("t", [4, 2]) + tinfo("t", [4, 2], off=32)) + bytes(64), "duplicate tensor")
w("noarch.gguf", pad(hdr(1, 0) + tinfo("token_embd.weight", [4, 2])) + bytes(32), "general.architecture")
w("nohparams.gguf", good, "qwen2.block_count")
w("garbage.bin", bytes(range(256)) * 4, "not a GGUF")

def folder(name, config=None, st=None, expect=""):
    d = os.path.join(out, name)
    os.mkdir(d)
    if config is not None: open(os.path.join(d, "config.json"), "w").write(config)
    if st is not None: open(os.path.join(d, "model.safetensors"), "wb").write(st)
    open(d + ".expect", "w").write(expect)
cfg = open(os.path.join(golden, "config.json")).read()
weights = open(os.path.join(golden, "model.safetensors"), "rb").read()
def sth(h, data=b"", padded=True):
    h = h.encode() + b" " * ((-len(h)) % 8 + (0 if padded else 1))   # unpadded: data at an odd offset
    return struct.pack("<Q", len(h)) + h + data
folder("noconfig", None, weights, "config.json")
folder("noweights", cfg, None, "model.safetensors")
folder("badjson", cfg[:-3], weights, "config.json")
folder("wrong_hidden", cfg.replace('"hidden_size": 64', '"hidden_size": 128'), weights, "token_embd.weight")
folder("wrong_vocab", cfg.replace('"vocab_size": 1024', '"vocab_size": 1000'), weights, "token_embd.weight")
folder("wrong_layers", cfg.replace('"num_hidden_layers": 2', '"num_hidden_layers": 3'), weights, "missing tensor 'blk.2.")
folder("untied", cfg.replace('"tie_word_embeddings": true', '"tie_word_embeddings": false'), weights, "output.weight")
folder("gelu", cfg.replace('"silu"', '"gelu"'), weights, "silu")
folder("st_hlen", cfg, struct.pack("<Q", 2**63) + b"{}", "too large")
folder("st_short", cfg, struct.pack("<Q", 100) + b"{}", "truncated")
folder("st_json", cfg, sth('{"a":'), "JSON")
folder("st_bounds", cfg, sth('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', bytes(8)), "out of bounds")
folder("st_size", cfg, sth('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}}', bytes(16)), "need 16")
folder("st_dtype", cfg, sth('{"a":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}', bytes(4)), "F8_E4M3")
folder("st_overlap", cfg, sth('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', bytes(12)), "overlap")
folder("st_misaligned", cfg, sth('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', bytes(4), padded=False), "aligned")
shutil.copy(os.path.join(golden, "model.safetensors"), os.path.join(out, "alone.safetensors"))
open(os.path.join(out, "alone.safetensors.expect"), "w").write("need the folder")
open(os.path.join(out, "missing.gguf.expect"), "w").write("No such file")
PYEOF

n=0
for exp in "$TMP"/*.expect; do
  target="${exp%.expect}"
  want=$(cat "$exp")
  for bin in "${bins[@]}"; do
    n=$((n + 1))
    timeout 20 "$bin" info -m "$target" > "$TMP/out" 2> "$TMP/err"
    rc=$?
    name=$(basename "$target")
    if [ $rc -ne 1 ]; then
      echo "FAIL $bin $name: exit $rc (want 1)"; cat "$TMP/err" | head -20; fail=1
    elif ! grep -q "^monologue info: .*$want" "$TMP/err"; then
      echo "FAIL $bin $name: message '$(cat "$TMP/err")' lacks '$want'"; fail=1
    else
      echo "ok   $name: $(cat "$TMP/err")"
    fi
  done
done
[ $fail -eq 0 ] && echo "all $n hostile inputs refused with a message"
exit $fail
