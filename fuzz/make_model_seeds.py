#!/usr/bin/python3
"""make_model_seeds.py -- writes the seed corpus of fuzz_model
(fuzz/corpus/model/): tiny well-formed Qwen2 GGUF files (one or two layers,
hidden 8/32, F32, F16 and Q8_0 weights, tied and untied output, a
tokenizer-less and a GQA/MHA variant) with small finite weights, so the
fuzzer starts from models that load and run.
Run from the repository root: /usr/bin/python3 fuzz/make_model_seeds.py"""
import os, random, struct

def s(x):
    x = x.encode() if isinstance(x, str) else x
    return struct.pack("<Q", len(x)) + x

def pad(b, a=32):
    return b + bytes((-len(b)) % a)

def f16(x):
    return struct.pack("<e", x)

def q8_0(vals):  # blocks of 32: f16 scale + 32 int8
    out = b""
    for i in range(0, len(vals), 32):
        blk = vals[i:i + 32]
        amax = max(abs(v) for v in blk) or 1.0
        d = amax / 127
        out += f16(d) + bytes((round(v / d) & 255) for v in blk)
    return out

def encode(vals, ty):
    if ty == 0:
        return b"".join(struct.pack("<f", v) for v in vals)
    if ty == 1:
        return b"".join(f16(v) for v in vals)
    return q8_0(vals)

def gguf(kvs, tensors):
    out = struct.pack("<IIQQ", 0x46554747, 3, len(tensors), len(kvs))
    for k, t, v in kvs:
        out += s(k) + struct.pack("<I", t) + v
    off, data = 0, b""
    for name, ne, ty, raw in tensors:
        out += s(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", x) for x in ne) + struct.pack("<IQ", ty, off)
        chunk = pad(raw)
        data += chunk
        off += len(chunk)
    return pad(out) + data

def model(n_layer, E, V, FF, H, KV, wtype, tied, rng):
    HD = E // H
    u32 = lambda v: struct.pack("<I", v)
    kvs = [("general.architecture", 8, s("qwen2")), ("qwen2.block_count", 4, u32(n_layer)),
           ("qwen2.embedding_length", 4, u32(E)), ("qwen2.feed_forward_length", 4, u32(FF)),
           ("qwen2.attention.head_count", 4, u32(H)), ("qwen2.attention.head_count_kv", 4, u32(KV)),
           ("qwen2.context_length", 4, u32(64)),
           ("qwen2.rope.freq_base", 6, struct.pack("<f", 1e6)),
           ("qwen2.attention.layer_norm_rms_epsilon", 6, struct.pack("<f", 1e-6))]
    tensors = []
    def t(name, ne, center=0.0, scale=0.3, ty=None):
        n = 1
        for x in ne:
            n *= x
        ty = (wtype if len(ne) == 2 else 0) if ty is None else ty
        vals = [center + scale * (2 * rng.random() - 1) for _ in range(n)]
        tensors.append((name, ne, ty, encode(vals, ty)))
    t("token_embd.weight", [E, V], scale=1.0)
    for il in range(n_layer):
        p = "blk.%d." % il
        t(p + "attn_norm.weight", [E], 1.0, 0.2)
        t(p + "attn_q.weight", [E, H * HD]); t(p + "attn_q.bias", [H * HD])
        t(p + "attn_k.weight", [E, KV * HD]); t(p + "attn_k.bias", [KV * HD])
        t(p + "attn_v.weight", [E, KV * HD]); t(p + "attn_v.bias", [KV * HD])
        t(p + "attn_output.weight", [H * HD, E])
        t(p + "ffn_norm.weight", [E], 1.0, 0.2)
        t(p + "ffn_gate.weight", [E, FF]); t(p + "ffn_up.weight", [E, FF]); t(p + "ffn_down.weight", [FF, E])
    t("output_norm.weight", [E], 1.0, 0.2)
    if not tied:
        t("output.weight", [E, V])
    return gguf(kvs, tensors)

D = "fuzz/corpus/model"
os.makedirs(D, exist_ok=True)
rng = random.Random(7)
seeds = {
    "f32_tied.gguf": (1, 8, 16, 12, 2, 1, 0, True),
    "f16_untied.gguf": (2, 8, 16, 12, 2, 2, 1, False),
    "q8_0_gqa.gguf": (1, 32, 8, 64, 4, 2, 8, True),
}
for name, args in seeds.items():
    open(os.path.join(D, name), "wb").write(model(*args, rng))
