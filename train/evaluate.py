"""evaluate.py -- validation loss of a trained model on a uint16 token file,
computed by PyTorch and (optionally) by Monologue's C engine on the same
blocks, plus bits per byte when the matching text file is given.

  /usr/bin/python3 -m train.evaluate --model models/default/model.gguf \
      --tokens data/tokens/valid.bin [--text data/corpus/valid.txt] \
      [--blocks 40] [--seq-len 512] [--engine build/monologue]

Blocks are spread evenly over the file. The engine's loss comes from the
logits `monologue eval --logits-out` writes.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

from train.sample import load_any


def block_starts(n_tokens, seq_len, n_blocks):
    n_avail = (n_tokens - 1) // seq_len
    n_blocks = min(n_blocks, n_avail)
    return [int(i * n_avail / n_blocks) * seq_len for i in range(n_blocks)]


def nll_from_logits(logits, targets):
    t = torch.as_tensor(logits, dtype=torch.float32)
    return float(F.cross_entropy(t, torch.as_tensor(targets, dtype=torch.long), reduction="sum"))


def main(argv=None):
    p = argparse.ArgumentParser(description="validation loss through PyTorch and the C engine")
    p.add_argument("--model", required=True, help="GGUF file or train.py model.pt")
    p.add_argument("--tokens", required=True)
    p.add_argument("--text", help="the text the tokens encode, for bits per byte")
    p.add_argument("--blocks", type=int, default=40)
    p.add_argument("--seq-len", type=int, default=512)
    p.add_argument("--engine", help="path to build/monologue (GGUF models only)")
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    model = load_any(a.model)
    toks = np.fromfile(a.tokens, dtype=np.uint16).astype(np.int64)
    starts = block_starts(len(toks), a.seq_len, a.blocks)
    if not starts:
        print("evaluate: error: %s is shorter than one block" % a.tokens, file=sys.stderr)
        return 1
    tot_pt = tot_en = 0.0
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        for s in starts:
            x = toks[s:s + a.seq_len + 1]
            with torch.no_grad():
                lg = model(torch.tensor(x[None, :-1]))[0]
            tot_pt += nll_from_logits(lg, x[1:])
            n += len(x) - 1
            if a.engine:
                out = os.path.join(tmp, "l.bin")
                r = subprocess.run([a.engine, "eval", "-m", a.model, "--tokens", ",".join(map(str, x[:-1])),
                                    "--logits-out", out, "-t", "2"], capture_output=True, text=True)
                if r.returncode != 0:
                    print("evaluate: engine failed: %s" % r.stderr.strip(), file=sys.stderr)
                    return 1
                el = np.fromfile(out, dtype=np.float32).reshape(len(x) - 1, -1)
                tot_en += nll_from_logits(el, x[1:])
    loss = tot_pt / n
    print("blocks %d x %d tokens = %d predictions" % (len(starts), a.seq_len, n))
    print("pytorch: loss %.4f nats/token, perplexity %.2f" % (loss, math.exp(loss)))
    if a.engine:
        le = tot_en / n
        print("engine:  loss %.4f nats/token, perplexity %.2f" % (le, math.exp(le)))
    if a.text:
        nbytes = os.path.getsize(a.text)
        bpt = nbytes / len(toks)
        print("text: %.3f bytes/token -> %.4f bits/byte (pytorch)" % (bpt, loss / math.log(2) / bpt))
    return 0


if __name__ == "__main__":
    sys.exit(main())
