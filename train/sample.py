"""sample.py -- generates text from a trained model in PyTorch (greedy or
temperature/top-k sampling), to look at a model and to produce the PyTorch
side of engine comparisons. Decoding reads tokenizer.json directly
(byte-level BPE: token strings map back to bytes through GPT-2's table).

  /usr/bin/python3 -m train.sample --model runs/x/model.pt | models/default/model.gguf \
      --tokenizer tok.json --ids 1,2,3 | --prompt-ids-file F  [--n 64] [--temp 0]
"""
import argparse
import json
import sys

import torch


def byte_decoder():
    """Inverse of GPT-2's bytes_to_unicode table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) + \
        list(range(ord("\u00ae"), ord("\u00ff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


class Detokenizer:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            tj = json.load(f)
        self.id_to_tok = {i: t for t, i in tj["model"]["vocab"].items()}
        self.special = {a["id"]: a["content"] for a in tj.get("added_tokens", [])}
        self.bd = byte_decoder()

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            if i in self.special:
                out += self.special[i].encode("utf-8")
            elif i in self.id_to_tok:
                out += bytes(self.bd[ch] for ch in self.id_to_tok[i])
        return out.decode("utf-8", errors="replace")


def load_any(path):
    """A model from train.py's model.pt/ckpt.pt or from a GGUF file."""
    if path.endswith(".gguf"):
        from train.export import load_gguf_model
        return load_gguf_model(path)[0]
    from train.export import load_checkpoint
    return load_checkpoint(path)


@torch.no_grad()
def generate(model, prompt, n_new, temp=0.0, top_k=40, seed=0, stop_id=None):
    g = torch.Generator()
    g.manual_seed(seed)
    ids = list(prompt)
    for _ in range(n_new):
        ctx = ids[-model.config.max_position_embeddings:]
        logits = model(torch.tensor([ctx], dtype=torch.long))[0, -1]
        if temp <= 0:
            nxt = int(logits.argmax())
        else:
            v, ix = torch.topk(logits / temp, min(top_k, logits.numel()))
            nxt = int(ix[torch.multinomial(torch.softmax(v, -1), 1, generator=g)])
        ids.append(nxt)
        if stop_id is not None and nxt == stop_id:
            break
    return ids[len(prompt):]


def main(argv=None):
    p = argparse.ArgumentParser(description="generate from a trained model in PyTorch")
    p.add_argument("--model", required=True)
    p.add_argument("--tokenizer", required=True)
    p.add_argument("--ids", required=True, help="comma-separated prompt token ids")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--temp", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    model = load_any(a.model)
    ids = [int(x) for x in a.ids.split(",") if x]
    out = generate(model, ids, a.n, a.temp, seed=a.seed)
    print(",".join(map(str, out)))
    print(Detokenizer(a.tokenizer).decode(ids + out), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
