"""test_train_hf_transformers.py -- train/export.py's Hugging Face folder
loads in `transformers` (Qwen2ForCausalLM through AutoModelForCausalLM) and
gives train/model.py's logits and greedy tokens; its tokenizer files load in
AutoTokenizer. Skipped where transformers is not installed (Debian's Python
here has none; the GPU machine has it:
`python3 -m pytest -q --noconftest tests/python/test_train_hf_transformers.py`).
"""
import json
import os
import sys

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from train.export import export_hf  # noqa: E402
from train.model import ModelConfig, Qwen2  # noqa: E402
from train.sample import byte_decoder  # noqa: E402


def _tokenizer(tmp_path):
    """A small byte-level BPE tokenizer.json in the layout Monologue's trainer writes."""
    bd = byte_decoder()
    vocab = {ch: i for i, ch in enumerate(sorted(bd, key=lambda c: bd[c]))}
    merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("Ġ", "a"), ("i", "n")]
    for a, b in merges:
        vocab[a + b] = len(vocab)
    n = len(vocab)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tj = {"version": "1.0", "truncation": None, "padding": None,
          "added_tokens": [{"id": n + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                            "normalized": False, "special": True} for i, s in enumerate(specials)],
          "normalizer": {"type": "NFC"},
          "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
          "post_processor": None,
          "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
          "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                    "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                    "vocab": vocab, "merges": [" ".join(m) for m in merges]}}
    p = tmp_path / "tokenizer.json"
    p.write_text(json.dumps(tj))
    return str(p), n + 3


def test_hf_folder_in_transformers(tmp_path):
    tok_path, vocab = _tokenizer(tmp_path)
    torch.manual_seed(3)
    model = Qwen2(ModelConfig(vocab_size=vocab, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                              rope_theta=10000.0, rms_norm_eps=1e-6))
    with torch.no_grad():
        for _, p in model.named_parameters():
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.2)
    model.eval()
    out = str(tmp_path / "hf")
    export_hf(model, tok_path, out)
    hf = transformers.AutoModelForCausalLM.from_pretrained(out, torch_dtype=torch.float32,
                                                           attn_implementation="eager").eval()
    assert type(hf).__name__ == "Qwen2ForCausalLM"
    ids = torch.tensor([[5, 100, 200, 259, 3, 77, 150, 9, 261, 40]])
    with torch.no_grad():
        ref = model(ids)
        got = hf(ids).logits.float()
    assert (got - ref).abs().max().item() <= 1e-4 * ref.abs().max().item()
    with torch.no_grad():
        gen = hf.generate(ids, max_new_tokens=12, do_sample=False, eos_token_id=None, pad_token_id=0)
    assert gen[0, ids.shape[1]:].tolist() == model.generate_greedy(ids[0].tolist(), 12)
    tok = transformers.AutoTokenizer.from_pretrained(out)
    text = "the theatre in the tin<|endoftext|>"
    enc = tok(text, add_special_tokens=False)["input_ids"]
    assert enc[-1] == vocab - 3 and tok.decode(enc) == text
