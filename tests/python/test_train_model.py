"""test_train_model.py -- the training pipeline's model and file formats:
train/model.py against Hugging Face's golden logits and greedy ids, the Q8_0
quantizer against llama.cpp's own (libggml-base.so), the GGUF writer/reader
round trip and its refusals, the Hugging Face export round trip, the
built-in PNG writer, and the corpus helpers (cleaning, deterministic split).
"""
import ctypes
import json
import os
import struct
import sys
import zlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
SHARED = os.environ.get("MONO_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
GOLDEN = os.path.join(SHARED, "golden", "models")
LIBGGML = os.path.join(ROOT, "tools", "peers", "node_modules", "@node-llama-cpp", "linux-x64", "bins",
                       "linux-x64", "libggml-base.so")

from train import gguf  # noqa: E402
from train.corpus import clean_rst, is_valid_doc, normalize_ws  # noqa: E402
from train.export import (export_gguf, export_hf, load_gguf_model, load_hf_folder,  # noqa: E402
                          read_safetensors, read_tokenizer)
from train.model import ModelConfig, Qwen2, rope_tables  # noqa: E402
from train.plot import _png_bytes, _plot_builtin  # noqa: E402

torch.set_num_threads(2)


@pytest.mark.parametrize("name", ["tiny-f32", "f16-mha"])
def test_model_matches_hf_golden(name):
    d = os.path.join(GOLDEN, name)
    if not os.path.isdir(d):
        pytest.skip("golden model %s not found" % d)
    model = load_hf_folder(d)
    exp = read_safetensors(os.path.join(d, "expected.safetensors"))
    ids = torch.tensor(exp["input_ids"].astype(np.int64))[None]
    with torch.no_grad():
        logits = model(ids)[0].numpy()
        hidden = model.hidden(ids)[0].numpy()
    ref = exp["logits"]
    assert np.abs(logits - ref).max() <= 1e-4 * np.abs(ref).max()
    assert (logits.argmax(-1) == ref.argmax(-1)).all()
    last = max(int(k.split("_")[1]) for k in exp if k.startswith("hidden_"))
    assert np.abs(hidden - exp["hidden_%d" % last]).max() <= 1e-4 * np.abs(exp["hidden_%d" % last]).max()
    with open(os.path.join(d, "expected.json")) as f:
        ej = json.load(f)
    assert model.generate_greedy(ej["prompt_ids"], len(ej["greedy_ids"])) == ej["greedy_ids"]


def test_rope_is_neox_rotate_half():
    cos, sin = rope_tables(8, 3, 10000.0, torch.device("cpu"))
    # position 2, pair i rotates by angle 2 * theta^(-2i/d), same angle for i and i + d/2
    ang = 2 * 10000.0 ** (-np.arange(0, 8, 2) / 8)
    assert np.allclose(cos[2, :4].numpy(), np.cos(ang), atol=1e-6)
    assert np.allclose(cos[2, 4:].numpy(), np.cos(ang), atol=1e-6)
    assert np.allclose(sin[2, 4:].numpy(), np.sin(ang), atol=1e-6)


def test_config_refusals():
    with pytest.raises(ValueError, match="too small"):
        ModelConfig(vocab_size=100).validate()
    with pytest.raises(ValueError, match="multiple of num_key_value_heads"):
        ModelConfig(num_attention_heads=8, num_key_value_heads=3).validate()
    with pytest.raises(ValueError, match="unknown model config keys"):
        ModelConfig.from_dict({"hidden": 3})
    with pytest.raises(ValueError, match="exceeds the context"):
        Qwen2(ModelConfig(vocab_size=300, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                          num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4)).hidden(
            torch.zeros(1, 5, dtype=torch.long))


def test_q8_0_matches_llama_cpp():
    if not os.path.exists(LIBGGML):
        pytest.skip("libggml-base.so (npm @node-llama-cpp/linux-x64) not installed")
    lib = ctypes.CDLL(LIBGGML)
    f = lib.quantize_row_q8_0_ref
    f.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    rng = np.random.default_rng(7)
    x = rng.standard_normal(32 * 64).astype(np.float32) * rng.uniform(0.01, 5, 32 * 64).astype(np.float32)
    x[:32] = 0.0                          # an all-zero block (d = 0)
    x[32:64] = np.linspace(-1, 1, 32)     # exact halves after scaling
    x[64] = 1e-30                         # tiny values
    ref = ctypes.create_string_buffer(64 * 34)
    f(x.ctypes.data, ref, x.size)
    assert gguf.quantize_q8_0(x) == ref.raw
    back = gguf.dequantize_q8_0(ref.raw, x.size)
    d = np.abs(x).reshape(-1, 32).max(1) / 127
    # half a step, plus the f16 rounding of d (relative 2^-11) times 127
    assert (np.abs(back - x).reshape(-1, 32) <= d[:, None] * (0.5 + 127 * 2.0 ** -11) + 1e-12).all()


def _tokenizer_file(tmp_path, n_bytes_tokens=256, merges=(("Ġ", "t"), ("Ġt", "h"))):
    from train.sample import byte_decoder
    vocab = {ch: i for i, ch in enumerate(sorted(byte_decoder(), key=lambda c: byte_decoder()[c]))}
    for a, b in merges:
        vocab[a + b] = len(vocab)
    n = len(vocab)
    tj = {"model": {"type": "BPE", "vocab": vocab, "merges": [" ".join(m) for m in merges]},
          "added_tokens": [{"id": n, "content": "<|endoftext|>", "special": True},
                           {"id": n + 1, "content": "<|im_start|>", "special": True},
                           {"id": n + 2, "content": "<|im_end|>", "special": True}]}
    p = tmp_path / "tokenizer.json"
    p.write_text(json.dumps(tj))
    return str(p), n + 3, n  # path, tokens, id of <|endoftext|>


def _tiny_model(vocab, seed=0):
    torch.manual_seed(seed)
    m = Qwen2(ModelConfig(vocab_size=vocab, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                          rope_theta=10000.0, rms_norm_eps=1e-6))
    with torch.no_grad():  # non-trivial norms and biases, as a trained model has
        for n, p in m.named_parameters():
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.1)
    return m.eval()


@pytest.mark.parametrize("qtype,tol", [("f32", 0.0), ("f16", 2e-3), ("q8_0", 3e-2)])
def test_gguf_export_roundtrip(tmp_path, qtype, tol):
    tok, n, eot = _tokenizer_file(tmp_path)
    model = _tiny_model(n + 29)  # padded vocabulary: [PADn] tokens at the end
    path = str(tmp_path / ("m_%s.gguf" % qtype))
    export_gguf(model, tok, path, qtype)
    back, meta = load_gguf_model(path)
    assert meta["general.architecture"] == "qwen2"
    assert meta["qwen2.attention.layer_norm_rms_epsilon"] == pytest.approx(1e-6)
    assert meta["qwen2.rope.freq_base"] == 10000.0
    assert meta["qwen2.block_count"] == 2 and meta["qwen2.attention.head_count_kv"] == 2
    assert meta["tokenizer.ggml.model"] == "gpt2" and meta["tokenizer.ggml.pre"] == "qwen2"
    toks = meta["tokenizer.ggml.tokens"]
    assert len(toks) == n + 29 and toks[eot] == "<|endoftext|>" and toks[-1] == "[PAD%d]" % (n + 28)
    assert meta["tokenizer.ggml.token_type"][eot] == 3 and meta["tokenizer.ggml.token_type"][0] == 1
    assert meta["tokenizer.ggml.token_type"][n] == 5
    assert meta["tokenizer.ggml.merges"] == ["Ġ t", "Ġt h"]
    assert meta["tokenizer.ggml.eos_token_id"] == eot
    x = torch.tensor([[1, 5, 9, 200, n, 3]])
    with torch.no_grad():
        a, b = model(x), back(x)
    assert (a - b).abs().max().item() <= tol * a.abs().max().item() + 1e-7
    _, tensors = gguf.read_gguf(path)
    want = {"f32": gguf.GGML_F32, "f16": gguf.GGML_F16, "q8_0": gguf.GGML_Q8_0}[qtype]
    assert tensors["blk.0.attn_q.weight"][0] == want
    assert tensors["blk.0.attn_q.bias"][0] == gguf.GGML_F32 and tensors["output_norm.weight"][0] == gguf.GGML_F32
    assert tensors["blk.1.attn_k.weight"][1] == (32, 64)  # [rows, cols] = [kv_heads*head_dim, hidden]
    assert "output.weight" not in tensors  # tied


def test_gguf_metadata_types_and_truncation(tmp_path):
    w = gguf.GGUFWriter()
    vals = [("a.u8", gguf.T_UINT8, 200), ("a.i8", gguf.T_INT8, -5), ("a.u16", gguf.T_UINT16, 60000),
            ("a.i16", gguf.T_INT16, -300), ("a.u32", gguf.T_UINT32, 4000000000), ("a.i32", gguf.T_INT32, -7),
            ("a.f32", gguf.T_FLOAT32, 0.5), ("a.b", gguf.T_BOOL, True), ("a.s", gguf.T_STRING, "héllo"),
            ("a.u64", gguf.T_UINT64, 2 ** 40), ("a.i64", gguf.T_INT64, -2 ** 40), ("a.f64", gguf.T_FLOAT64, 0.1),
            ("a.arr", gguf.T_ARRAY, (gguf.T_INT32, [1, -2, 3])),
            ("a.sarr", gguf.T_ARRAY, (gguf.T_STRING, ["x", "", "zz"]))]
    for k, t, v in vals:
        w.add(k, t, v)
    w.add_tensor("t", np.arange(64, dtype=np.float32).reshape(2, 32), gguf.GGML_F32)
    p = str(tmp_path / "x.gguf")
    w.write(p)
    meta, tensors = gguf.read_gguf(p)
    for k, t, v in vals:
        assert meta[k] == (list(v[1]) if t == gguf.T_ARRAY else v)
    assert (tensors["t"][2] == np.arange(64).reshape(2, 32)).all()
    raw = open(p, "rb").read()
    assert raw[:4] == b"GGUF" and struct.unpack("<I", raw[4:8])[0] == 3
    for cut in (3, 30, len(raw) - 10):
        q = str(tmp_path / "cut.gguf")
        open(q, "wb").write(raw[:cut])
        with pytest.raises(gguf.GGUFError):
            gguf.read_gguf(q)
    with pytest.raises(gguf.GGUFError, match="multiple of 32"):
        gguf.GGUFWriter().add_tensor("bad", np.zeros((2, 33)), gguf.GGML_Q8_0)


def test_hf_export_roundtrip(tmp_path):
    tok, n, eot = _tokenizer_file(tmp_path)
    model = _tiny_model(n)
    out = str(tmp_path / "hf")
    export_hf(model, tok, out)
    cfg = json.load(open(os.path.join(out, "config.json")))
    assert cfg["model_type"] == "qwen2" and cfg["tie_word_embeddings"] and cfg["rope_theta"] == 10000.0
    assert cfg["eos_token_id"] == eot and cfg["architectures"] == ["Qwen2ForCausalLM"]
    assert json.load(open(os.path.join(out, "generation_config.json")))["eos_token_id"] == eot
    assert os.path.exists(os.path.join(out, "tokenizer.json"))
    st = read_safetensors(os.path.join(out, "model.safetensors"))
    assert "model.embed_tokens.weight" in st and "lm_head.weight" not in st
    back = load_hf_folder(out)
    x = torch.tensor([[4, 8, 15, 16, 23, 42]])
    with torch.no_grad():
        assert torch.equal(model(x), back(x))


def test_tokenizer_refusals(tmp_path):
    tok, n, _ = _tokenizer_file(tmp_path)
    from train.export import ExportError
    with pytest.raises(ExportError, match="vocab_size"):
        read_tokenizer(tok, n - 1)
    bad = tmp_path / "wp.json"
    bad.write_text(json.dumps({"model": {"type": "WordPiece", "vocab": {}}}))
    with pytest.raises(ExportError, match="BPE"):
        read_tokenizer(str(bad), 10)


def test_builtin_png(tmp_path):
    p = str(tmp_path / "c.png")
    _plot_builtin([("train", [1, 2, 3, 4], [5.0, 4.0, 3.5, 3.4], (0, 0, 255)),
                   ("val", [2, 4], [4.5, float("nan")], (255, 0, 0))], p, width=120, height=80)
    raw = open(p, "rb").read()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", raw[16:24])
    assert (w, h) == (120, 80)
    i = raw.index(b"IDAT")
    n = struct.unpack(">I", raw[i - 4:i])[0]
    pix = np.frombuffer(zlib.decompress(raw[i + 4:i + 4 + n]), dtype=np.uint8).reshape(80, 1 + 120 * 3)
    img = pix[:, 1:].reshape(80, 120, 3)
    assert ((img == [0, 0, 255]).all(-1)).sum() > 20   # the curve was drawn
    assert _png_bytes(np.zeros((1, 1, 3), np.uint8)).endswith(b"IEND\xaeB`\x82")


def test_corpus_cleaning_and_split():
    assert normalize_ws(" a \t b \n\n\n\n c ") == "a b\n\nc"
    rst = ("Title\n=====\n\nUse :func:`len` to count ``items`` in a list, as shown below in\n"
           "the example::\n\n    >>> len([1, 2])\n    2\n\n.. note::\n\n   A hidden note body.\n\n"
           "A second paragraph that is long enough to be kept as prose text.\n")
    out = clean_rst(rst)
    assert "Use len to count items in a list, as shown below in the example:" in out
    assert ">>>" not in out and "hidden note" not in out and "=====" not in out
    assert "second paragraph" in out
    flags = [is_valid_doc("sotu", "doc%d" % i) for i in range(5000)]
    assert 0.01 < sum(flags) / 5000 < 0.03          # ~2% validation
    assert flags == [is_valid_doc("sotu", "doc%d" % i) for i in range(5000)]  # deterministic


def test_corpus_refusals(tmp_path):
    import subprocess
    from train.corpus import CorpusError, encode_file, source_sotu
    with pytest.raises(CorpusError, match="no \\*.txt under"):
        list(source_sotu(str(tmp_path)))
    r = subprocess.run([sys.executable, "-m", "train.corpus", "build", "--out", str(tmp_path / "c"),
                        "--sources", "sotu,nope"], cwd=ROOT, capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 1 and "unknown source 'nope'" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(CorpusError, match="zero tokens"):
        encode_file(lambda s: [], str(tmp_path / "empty.txt"), str(tmp_path / "e.bin"))
    (tmp_path / "big.txt").write_text("x")
    with pytest.raises(CorpusError, match="uint16"):
        encode_file(lambda s: [70000], str(tmp_path / "big.txt"), str(tmp_path / "b.bin"))
    r = subprocess.run([sys.executable, "-m", "train.corpus", "encode", "--corpus", str(tmp_path / "none"),
                        "--tokenizer", str(tmp_path / "none.json"), "--out", str(tmp_path / "t")], cwd=ROOT,
                       capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 1 and "corpus: error:" in r.stderr and "Traceback" not in r.stderr
