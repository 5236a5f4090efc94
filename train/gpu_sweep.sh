#!/usr/bin/env bash
# gpu_sweep.sh -- the default model's training run on the GPU machine: trains
# several configs at once on one GPU (small models leave it mostly idle, so
# concurrent runs cost little), each fitted into a time budget, picks the
# lowest validation loss, exports it as a Q8_0 GGUF and packs what should
# come back into $OUT (GGUF split into <= 15 MiB parts, logs, histories).
#
#   train/gpu_sweep.sh BUDGET_SECONDS CONFIG...
# Needs data/tokens/{train,valid}.bin and data/tokenizer.json (carried).
set -uo pipefail
budget=${1:?budget seconds}; shift
OUT=${OUT:-/tmp/out}
PY=${PY:-python3}
mkdir -p "$OUT" runs
export PYTHONUNBUFFERED=1 NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
$PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
pids=()
for cfg in "$@"; do
  name=$(basename "$cfg" .json)
  $PY -m train.train --config "$cfg" --data data/tokens --out "runs/$name" \
      --time-budget "$budget" --time-limit "$((budget + 30))" > "runs/$name.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
for cfg in "$@"; do name=$(basename "$cfg" .json); echo "== $name"; grep -E "model:|validation|budget|finished|stopped|error" "runs/$name.log"; done
best=$($PY - "$@" <<'EOF'
import json, os, sys
best = None
for cfg in sys.argv[1:]:
    name = os.path.basename(cfg)[:-5]
    try:
        h = json.load(open("runs/%s/history.json" % name))
    except OSError:
        continue
    v = [x["val_loss"] for x in h["history"] if "val_loss" in x]
    if v and (best is None or v[-1] < best[0]):
        best = (v[-1], name)
print(best[1] if best else "")
EOF
)
[ -n "$best" ] || { echo "no run finished"; tar czf "$OUT/runs.tar.gz" runs/*.log; exit 1; }
echo "best: $best"
$PY -m train.export --model "runs/$best/model.pt" --tokenizer data/tokenizer.json \
    --gguf "runs/$best/model.gguf" --type q8_0 --name "monologue-default" \
    --context "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["train_config"]["seq_len"])' "runs/$best/history.json")"
$PY - "$best" <<'EOF'
import sys, torch, json
from train.sample import load_any, generate, Detokenizer
best = sys.argv[1]
m = load_any("runs/%s/model.gguf" % best)
d = Detokenizer("data/tokenizer.json")
tj = json.load(open("data/tokenizer.json"))
import numpy as np
v = np.fromfile("data/tokens/valid.bin", dtype=np.uint16)
for start in (0, 20000, 60000, 100000):
    p = [int(x) for x in v[start:start + 16]]
    print("---", repr(d.decode(p)))
    print("greedy:", repr(d.decode(generate(m, p, 48))))
    print("t=0.8: ", repr(d.decode(generate(m, p, 48, temp=0.8, seed=1))))
EOF
split -b 15M -d "runs/$best/model.gguf" "$OUT/model.gguf.part"
cp "runs/$best/loss.png" "$OUT/loss.png" 2>/dev/null
tar czf "$OUT/runs.tar.gz" runs/*.log runs/*/history.json runs/*/loss.png
ls -la "$OUT"
