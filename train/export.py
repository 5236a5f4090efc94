"""export.py -- writes a trained model (train.py's model.pt or ckpt.pt) as
  * a GGUF v3 file (F32, F16 or Q8_0) with llama.cpp's qwen2 key and tensor
    names and the tokenizer in tokenizer.ggml.* metadata, and/or
  * a Hugging Face folder: config.json (transformers-4 style),
    model.safetensors, tokenizer.json, tokenizer_config.json,
    generation_config.json.

  /usr/bin/python3 -m train.export --model runs/x/model.pt --tokenizer tok.json \
      --gguf out.gguf --type q8_0 --hf out_hf/

load_gguf_model() reads such a GGUF back into a PyTorch Qwen2 (dequantized),
which is how the shipped model is checked against the C engine.
"""
import argparse
import json
import os
import shutil
import struct
import sys

import numpy as np
import torch

from train import gguf
from train.model import ModelConfig, Qwen2

SPECIAL_EOT = "<|endoftext|>"

# GGUF tensor name <- our parameter name (per layer: {i})
LAYER_MAP = [
    ("input_layernorm.weight", "attn_norm.weight"),
    ("self_attn.q_proj.weight", "attn_q.weight"),
    ("self_attn.q_proj.bias", "attn_q.bias"),
    ("self_attn.k_proj.weight", "attn_k.weight"),
    ("self_attn.k_proj.bias", "attn_k.bias"),
    ("self_attn.v_proj.weight", "attn_v.weight"),
    ("self_attn.v_proj.bias", "attn_v.bias"),
    ("self_attn.o_proj.weight", "attn_output.weight"),
    ("post_attention_layernorm.weight", "ffn_norm.weight"),
    ("mlp.gate_proj.weight", "ffn_gate.weight"),
    ("mlp.up_proj.weight", "ffn_up.weight"),
    ("mlp.down_proj.weight", "ffn_down.weight"),
]


class ExportError(Exception):
    pass


def gguf_names(n_layers):
    """[(our name, gguf name)] for every tensor of the model."""
    out = [("embed_tokens.weight", "token_embd.weight")]
    for i in range(n_layers):
        out += [("layers.%d.%s" % (i, a), "blk.%d.%s" % (i, b)) for a, b in LAYER_MAP]
    out.append(("norm.weight", "output_norm.weight"))
    return out


def load_checkpoint(path):
    if not os.path.exists(path):
        raise ExportError("model file not found: %s" % path)
    from train.train import torch_load
    ck = torch_load(path)
    if not isinstance(ck, dict) or "model" not in ck or "model_config" not in ck:
        raise ExportError("%s is not a train.py model.pt/ckpt.pt" % path)
    mc = ModelConfig.from_dict(ck["model_config"])
    model = Qwen2(mc)
    model.load_state_dict({k: v.float() for k, v in ck["model"].items()})
    model.eval()
    return model


# --- tokenizer.json -> GGUF vocabulary ----------------------------------------

def read_tokenizer(path, vocab_size):
    """Returns (tokens, token_types, merges, special ids) from a Hugging Face
    byte-level BPE tokenizer.json, padded to vocab_size with [PADn] tokens."""
    with open(path, encoding="utf-8") as f:
        tj = json.load(f)
    model = tj.get("model", {})
    if model.get("type") != "BPE":
        raise ExportError("%s: only BPE tokenizers are supported" % path)
    id_to_tok, types = {}, {}
    for tok, i in model["vocab"].items():
        id_to_tok[i] = tok
        types[i] = 1  # normal
    for at in tj.get("added_tokens", []):
        id_to_tok[at["id"]] = at["content"]
        types[at["id"]] = 3 if at.get("special") else 4  # control / user-defined
    n = max(id_to_tok) + 1
    if n > vocab_size:
        raise ExportError("tokenizer has %d tokens but the model's vocab_size is %d" % (n, vocab_size))
    tokens, ttypes = [], []
    for i in range(vocab_size):
        if i in id_to_tok:
            tokens.append(id_to_tok[i])
            ttypes.append(types[i])
        else:
            tokens.append("[PAD%d]" % i)
            ttypes.append(5)  # unused
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    tok_to_id = {t: i for i, t in id_to_tok.items()}
    specials = {k: tok_to_id.get(v) for k, v in
                (("eot", SPECIAL_EOT), ("im_start", "<|im_start|>"), ("im_end", "<|im_end|>"))}
    if specials["eot"] is None:
        raise ExportError("%s has no %s token" % (path, SPECIAL_EOT))
    return tokens, ttypes, merges, specials


CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def export_gguf(model, tokenizer_path, out_path, qtype="f32", name="monologue", context=None):
    """context: qwen2.context_length to advertise (default: the model's
    max_position_embeddings); give the training seq_len so that an engine
    does not run past the positions the model has seen."""
    if qtype not in gguf.TYPE_NAMES:
        raise ExportError("unknown --type %s (f32, f16, q8_0)" % qtype)
    c = model.config
    tokens, ttypes, merges, sp = read_tokenizer(tokenizer_path, c.vocab_size)
    w = gguf.GGUFWriter()
    U32, F32, STR, ARR = gguf.T_UINT32, gguf.T_FLOAT32, gguf.T_STRING, gguf.T_ARRAY
    w.add("general.architecture", STR, "qwen2")
    w.add("general.name", STR, name)
    w.add("general.file_type", U32, {"f32": 0, "f16": 1, "q8_0": 7}[qtype])
    w.add("general.quantization_version", U32, 2)
    w.add("qwen2.context_length", U32, min(context or c.max_position_embeddings, c.max_position_embeddings))
    w.add("qwen2.embedding_length", U32, c.hidden_size)
    w.add("qwen2.block_count", U32, c.num_hidden_layers)
    w.add("qwen2.feed_forward_length", U32, c.intermediate_size)
    w.add("qwen2.attention.head_count", U32, c.num_attention_heads)
    w.add("qwen2.attention.head_count_kv", U32, c.num_key_value_heads)
    w.add("qwen2.rope.freq_base", F32, float(c.rope_theta))
    w.add("qwen2.attention.layer_norm_rms_epsilon", F32, float(c.rms_norm_eps))
    w.add("tokenizer.ggml.model", STR, "gpt2")
    w.add("tokenizer.ggml.pre", STR, "qwen2")
    w.add("tokenizer.ggml.tokens", ARR, (STR, tokens))
    w.add("tokenizer.ggml.token_type", ARR, (gguf.T_INT32, ttypes))
    w.add("tokenizer.ggml.merges", ARR, (STR, merges))
    w.add("tokenizer.ggml.bos_token_id", U32, sp["eot"])
    w.add("tokenizer.ggml.eos_token_id", U32, sp["eot"])
    w.add("tokenizer.ggml.padding_token_id", U32, sp["eot"])
    w.add("tokenizer.ggml.add_bos_token", gguf.T_BOOL, False)
    if sp["im_start"] is not None and sp["im_end"] is not None:
        w.add("tokenizer.chat_template", STR, CHATML_TEMPLATE)
    state = model.state_dict()
    big = gguf.TYPE_NAMES[qtype]
    for ours, theirs in gguf_names(c.num_hidden_layers):
        t = state[ours].detach().float().numpy()
        # 1-D tensors (norms, biases) stay F32, as llama.cpp keeps them.
        w.add_tensor(theirs, t, gguf.GGML_F32 if t.ndim == 1 else big)
    w.write(out_path)


def load_gguf_model(path):
    """A PyTorch Qwen2 holding the (dequantized) weights of a qwen2 GGUF."""
    meta, tensors = gguf.read_gguf(path)
    if meta.get("general.architecture") != "qwen2":
        raise ExportError("%s: architecture %r is not qwen2" % (path, meta.get("general.architecture")))
    emb = tensors["token_embd.weight"][1]
    mc = ModelConfig(
        vocab_size=emb[0], hidden_size=meta["qwen2.embedding_length"],
        intermediate_size=meta["qwen2.feed_forward_length"], num_hidden_layers=meta["qwen2.block_count"],
        num_attention_heads=meta["qwen2.attention.head_count"],
        num_key_value_heads=meta["qwen2.attention.head_count_kv"],
        max_position_embeddings=meta["qwen2.context_length"], rope_theta=meta["qwen2.rope.freq_base"],
        rms_norm_eps=meta["qwen2.attention.layer_norm_rms_epsilon"])
    model = Qwen2(mc)
    sd = {ours: torch.from_numpy(np.array(tensors[theirs][2])) for ours, theirs in gguf_names(mc.num_hidden_layers)}
    model.load_state_dict(sd)
    model.eval()
    return model, meta


# --- Hugging Face folder ----------------------------------------------------------

def write_safetensors(path, named):
    """named: [(name, float32 numpy array)] -> a safetensors file (F32)."""
    header, offset, blobs = {}, 0, []
    for name, a in named:
        b = np.ascontiguousarray(a, dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """{name: float32 numpy array} from a safetensors file (F32, F16, BF16, I32)."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ExportError("%s: truncated safetensors file" % path)
    n = struct.unpack("<Q", buf[:8])[0]
    if 8 + n > len(buf):
        raise ExportError("%s: header runs past the end of the file" % path)
    header = json.loads(buf[8:8 + n])
    data, out = buf[8 + n:], {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        if not 0 <= b <= e <= len(data):
            raise ExportError("%s: tensor %s lies outside the file" % (path, name))
        raw, dt = data[b:e], info["dtype"]
        if dt == "F32":
            a = np.frombuffer(raw, dtype=np.float32)
        elif dt == "F16":
            a = np.frombuffer(raw, dtype=np.float16).astype(np.float32)
        elif dt == "BF16":
            a = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif dt == "I32":
            a = np.frombuffer(raw, dtype=np.int32)
        else:
            raise ExportError("%s: unsupported dtype %s" % (path, dt))
        out[name] = a.reshape(info["shape"]).copy()
    return out


def load_hf_folder(path):
    """A PyTorch Qwen2 from a Hugging Face folder (config.json in the
    transformers 4 or 5 style, one model.safetensors, tied embeddings)."""
    with open(os.path.join(path, "config.json")) as f:
        cfg = json.load(f)
    theta = cfg.get("rope_theta", (cfg.get("rope_parameters") or {}).get("rope_theta", 10000.0))
    mc = ModelConfig(vocab_size=cfg["vocab_size"], hidden_size=cfg["hidden_size"],
                     intermediate_size=cfg["intermediate_size"], num_hidden_layers=cfg["num_hidden_layers"],
                     num_attention_heads=cfg["num_attention_heads"],
                     num_key_value_heads=cfg.get("num_key_value_heads", cfg["num_attention_heads"]),
                     max_position_embeddings=cfg["max_position_embeddings"], rope_theta=float(theta),
                     rms_norm_eps=cfg["rms_norm_eps"], tie_word_embeddings=cfg.get("tie_word_embeddings", True))
    model = Qwen2(mc)
    st = read_safetensors(os.path.join(path, "model.safetensors"))
    sd = {k[len("model."):]: torch.from_numpy(v) for k, v in st.items() if k.startswith("model.")}
    model.load_state_dict(sd)
    model.eval()
    return model


def export_hf(model, tokenizer_path, out_dir):
    c = model.config
    _, _, _, sp = read_tokenizer(tokenizer_path, c.vocab_size)
    os.makedirs(out_dir, exist_ok=True)
    cfg = {
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
        "vocab_size": c.vocab_size, "hidden_size": c.hidden_size, "intermediate_size": c.intermediate_size,
        "num_hidden_layers": c.num_hidden_layers, "num_attention_heads": c.num_attention_heads,
        "num_key_value_heads": c.num_key_value_heads, "max_position_embeddings": c.max_position_embeddings,
        "max_window_layers": c.num_hidden_layers, "use_sliding_window": False, "sliding_window": None,
        "rope_theta": float(c.rope_theta), "rms_norm_eps": float(c.rms_norm_eps), "hidden_act": "silu",
        "tie_word_embeddings": True, "attention_dropout": 0.0, "initializer_range": c.init_std,
        "bos_token_id": sp["eot"], "eos_token_id": sp["eot"], "torch_dtype": "float32",
        "use_cache": True, "transformers_version": "4.45.0"}
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(out_dir, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": sp["eot"], "eos_token_id": sp["eot"], "do_sample": False,
                   "transformers_version": "4.45.0"}, f, indent=2)
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": c.max_position_embeddings,
                   "eos_token": SPECIAL_EOT, "pad_token": SPECIAL_EOT, "bos_token": None,
                   "add_bos_token": False, "chat_template": CHATML_TEMPLATE}, f, indent=2)
    shutil.copyfile(tokenizer_path, os.path.join(out_dir, "tokenizer.json"))
    sd = model.state_dict()
    write_safetensors(os.path.join(out_dir, "model.safetensors"),
                      [("model." + k, v.detach().float().numpy()) for k, v in sd.items()])


def main(argv=None):
    p = argparse.ArgumentParser(description="export a trained model to GGUF and/or a Hugging Face folder")
    p.add_argument("--model", required=True, help="train.py model.pt or ckpt.pt")
    p.add_argument("--tokenizer", required=True, help="the tokenizer.json the model was trained with")
    p.add_argument("--gguf", help="output GGUF path")
    p.add_argument("--type", default="f32", choices=sorted(gguf.TYPE_NAMES), help="GGUF tensor type")
    p.add_argument("--hf", help="output Hugging Face folder")
    p.add_argument("--name", default="monologue", help="general.name in the GGUF")
    p.add_argument("--context", type=int, default=None,
                   help="qwen2.context_length to write (default: max_position_embeddings; use the training seq_len)")
    a = p.parse_args(argv)
    if not a.gguf and not a.hf:
        p.error("give --gguf and/or --hf")
    try:
        model = load_checkpoint(a.model)
        if a.gguf:
            export_gguf(model, a.tokenizer, a.gguf, a.type, a.name, a.context)
            print("wrote %s (%s, %.1f MB)" % (a.gguf, a.type, os.path.getsize(a.gguf) / 1e6))
        if a.hf:
            export_hf(model, a.tokenizer, a.hf)
            print("wrote %s/" % a.hf)
    except (ExportError, gguf.GGUFError, ValueError, OSError, KeyError) as e:
        print("export: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
