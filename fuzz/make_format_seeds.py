#!/usr/bin/python3
"""make_format_seeds.py -- writes the small seed corpora of fuzz_gguf,
fuzz_safetensors and fuzz_config (fuzz/corpus/{gguf,safetensors,config}/).
Run from the repository root: /usr/bin/python3 fuzz/make_format_seeds.py"""
import json, os, struct

def s(x):
    x = x.encode() if isinstance(x, str) else x
    return struct.pack("<Q", len(x)) + x

def pad(b, a=32):
    return b + bytes((-len(b)) % a)

def gguf(kvs, tensors, version=3, align=32):
    out = struct.pack("<IIQQ", 0x46554747, version, len(tensors), len(kvs))
    for k, t, v in kvs:
        out += s(k) + struct.pack("<I", t) + v
    off, data = 0, b""
    for name, ne, ty, size in tensors:
        out += s(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", x) for x in ne) + struct.pack("<IQ", ty, off)
        chunk = pad(bytes((i * 7 + 1) & 255 for i in range(size)), align)
        data += chunk
        off += len(chunk)
    return pad(out, align) + data

def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), "wb").write(data)

G = "fuzz/corpus/gguf"
all_types = [("u8", 0, b"\x07"), ("i8", 1, b"\xf9"), ("u16", 2, b"\x01\x02"), ("i16", 3, b"\xff\xff"),
             ("u32", 4, struct.pack("<I", 7)), ("i32", 5, struct.pack("<i", -7)), ("f32", 6, struct.pack("<f", 1.5)),
             ("bool", 7, b"\x01"), ("str", 8, s("hello")), ("u64", 10, struct.pack("<Q", 9)),
             ("i64", 11, struct.pack("<q", -9)), ("f64", 12, struct.pack("<d", 2.5)),
             ("arr_str", 9, struct.pack("<IQ", 8, 3) + s("a") + s("") + s("<|x|>")),
             ("arr_i32", 9, struct.pack("<IQ", 5, 2) + struct.pack("<ii", 1, -1)),
             ("arr_nested", 9, struct.pack("<IQ", 9, 1) + struct.pack("<IQ", 2, 1) + b"\x05\x00"),
             ("general.alignment", 4, struct.pack("<I", 64))]
write(G, "all_types.gguf", gguf(all_types, [("t", [4, 2], 0, 32), ("h", [8], 1, 16), ("b", [3, 1, 1], 30, 6)], align=64))
write(G, "v2.gguf", gguf([("general.architecture", 8, s("x"))], [("t", [2], 0, 8)], version=2))
E, V, FF, H, KV, HD = 8, 16, 12, 2, 1, 4
hp = [("general.architecture", 8, s("qwen2")), ("qwen2.block_count", 4, struct.pack("<I", 1)),
      ("qwen2.embedding_length", 4, struct.pack("<I", E)), ("qwen2.feed_forward_length", 4, struct.pack("<I", FF)),
      ("qwen2.attention.head_count", 4, struct.pack("<I", H)), ("qwen2.attention.head_count_kv", 4, struct.pack("<I", KV)),
      ("qwen2.rope.freq_base", 6, struct.pack("<f", 1e6)), ("qwen2.attention.layer_norm_rms_epsilon", 6, struct.pack("<f", 1e-6))]
shapes = [("token_embd.weight", [E, V]), ("output_norm.weight", [E]), ("blk.0.attn_norm.weight", [E]),
          ("blk.0.attn_q.weight", [E, H * HD]), ("blk.0.attn_q.bias", [H * HD]), ("blk.0.attn_k.weight", [E, KV * HD]),
          ("blk.0.attn_k.bias", [KV * HD]), ("blk.0.attn_v.weight", [E, KV * HD]), ("blk.0.attn_v.bias", [KV * HD]),
          ("blk.0.attn_output.weight", [H * HD, E]), ("blk.0.ffn_norm.weight", [E]), ("blk.0.ffn_gate.weight", [E, FF]),
          ("blk.0.ffn_up.weight", [E, FF]), ("blk.0.ffn_down.weight", [FF, E])]
def n(ne):
    r = 1
    for x in ne: r *= x
    return r
write(G, "qwen2_tiny_f16.gguf", gguf(hp, [(k, ne, 1, 2 * n(ne)) for k, ne in shapes]))
# a Q8_0 tensor (34-byte blocks of 32)
write(G, "q8_0.gguf", gguf([("general.architecture", 8, s("x"))], [("q", [32, 2], 8, 68)]))

S = "fuzz/corpus/safetensors"
def st(header, data):
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)   # writers pad the header to 8 bytes
    return struct.pack("<Q", len(h)) + h + data
write(S, "mixed.safetensors", st({"__metadata__": {"format": "pt"},
                                   "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
                                   "h": {"dtype": "F16", "shape": [4], "data_offsets": [24, 32]},
                                   "b": {"dtype": "BF16", "shape": [], "data_offsets": [32, 34]},
                                   "i": {"dtype": "I32", "shape": [1], "data_offsets": [34, 38]},
                                   "l": {"dtype": "I64", "shape": [1, 1], "data_offsets": [38, 46]}}, bytes(range(46))))
write(S, "hf_names.safetensors", st({"model.layers.0.self_attn.q_proj.weight": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, 8]},
                                      "model.embed_tokens.weight": {"dtype": "F16", "shape": [2, 2], "data_offsets": [8, 16]}}, bytes(16)))

C = "fuzz/corpus/config"
for name in ("tiny-f32", "small-bf16-untied", "f16-mha"):
    src = "../shared/golden/models/%s/config.json" % name
    if os.path.exists(src):
        write(C, name + ".json", open(src, "rb").read())
write(C, "generation_config.json", json.dumps({"temperature": 0.7, "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.05,
                                               "do_sample": True, "eos_token_id": [151645, 151643]}).encode())
write(C, "qwen3.json", json.dumps({"model_type": "qwen3", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                                   "num_key_value_heads": 2, "head_dim": 32, "intermediate_size": 96, "vocab_size": 100,
                                   "rope_theta": 1e6, "eos_token_id": [1, 2], "tie_word_embeddings": True}).encode())
