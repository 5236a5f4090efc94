"""test_train_loop.py -- train/train.py on the CPU: the loss falls, an
interrupted run resumed from its checkpoint ends bit-identical to an
uninterrupted one, 2-process gloo DDP equals 1 process with gradient
accumulation over the same blocks, and bad input (missing/empty/odd token
files, a vocabulary too small, a diverging loss, bad configs) stops with a
clear message and exit status 1.
"""
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = sys.executable
SOTU = os.path.join(ROOT, "tools", "peers", "node_modules", "@stdlib", "datasets-sotu", "data",
                    "1830_andrew_jackson_d.txt")
ENV = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", OMP_NUM_THREADS="1", PYTHONPATH=ROOT)

CONFIG = {
    "model": {"vocab_size": 260, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
              "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64},
    "train": {"seq_len": 32, "batch_size": 4, "grad_accum": 1, "max_steps": 12, "lr": 3e-3, "min_lr": 3e-4,
              "warmup_steps": 3, "eval_every": 6, "eval_tokens": 2048, "ckpt_every": 100, "log_every": 3},
}


def _text_bytes():
    if os.path.exists(SOTU):
        return open(SOTU, "rb").read()
    return (b"The quick brown fox jumps over the lazy dog. " * 400)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("tokens")
    b = np.frombuffer(_text_bytes(), dtype=np.uint8).astype(np.uint16)
    b[:12000].tofile(str(d / "train.bin"))
    b[12000:14500].tofile(str(d / "valid.bin"))
    return str(d)


def _config(tmp_path, name="c.json", **train):
    c = json.loads(json.dumps(CONFIG))
    c["train"].update(train)
    p = tmp_path / name
    p.write_text(json.dumps(c))
    return str(p)


def _train(args, env=None):
    return subprocess.run([PY, "-m", "train.train", "--threads", "1"] + args, cwd=ROOT, env=env or ENV,
                          capture_output=True, text=True, timeout=300)


def _weights(run):
    return torch.load(os.path.join(run, "model.pt"), map_location="cpu")["model"]


def test_loss_falls_and_outputs(tmp_path, data_dir):
    run = str(tmp_path / "run")
    r = _train(["--config", _config(tmp_path, max_steps=30, eval_every=10), "--data", data_dir, "--out", run])
    assert r.returncode == 0, r.stderr
    h = json.load(open(os.path.join(run, "history.json")))
    val = [x["val_loss"] for x in h["history"] if "val_loss" in x]
    assert len(val) == 3 and val[-1] < val[0] - 0.5
    assert "tok/s" in r.stderr and "ETA" in r.stderr and "validation loss" in r.stderr
    assert open(os.path.join(run, "loss.png"), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.exists(os.path.join(run, "ckpt.pt"))


def test_resume_is_exact(tmp_path, data_dir):
    cfg = _config(tmp_path)
    full, part = str(tmp_path / "full"), str(tmp_path / "part")
    assert _train(["--config", cfg, "--data", data_dir, "--out", full]).returncode == 0
    r = _train(["--config", cfg, "--data", data_dir, "--out", part, "--stop-after", "5"])
    assert r.returncode == 0 and "continue with --resume" in r.stderr, r.stderr
    sys.path.insert(0, ROOT)
    from train.train import torch_load
    assert torch_load(os.path.join(part, "ckpt.pt"))["step"] == 5
    r = _train(["--config", cfg, "--data", data_dir, "--out", part, "--resume"])
    assert r.returncode == 0 and "resumed from" in r.stderr, r.stderr
    a, b = _weights(full), _weights(part)
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # the data order crosses an epoch boundary in 12 steps: 12000 tokens / 32 = 374 blocks, 48/step
    ha = json.load(open(os.path.join(full, "history.json")))["history"]
    hb = json.load(open(os.path.join(part, "history.json")))["history"]
    assert [x["val_loss"] for x in ha if "val_loss" in x] == [x["val_loss"] for x in hb if "val_loss" in x]


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_ddp_gloo_two_processes_equal_grad_accum(tmp_path, data_dir):
    single = str(tmp_path / "single")
    r = _train(["--config", _config(tmp_path, "a.json", batch_size=2, grad_accum=2, max_steps=6),
                "--data", data_dir, "--out", single])
    assert r.returncode == 0, r.stderr
    ddp = str(tmp_path / "ddp")
    cfg = _config(tmp_path, "b.json", batch_size=2, grad_accum=1, max_steps=6)
    port = str(_free_port())
    procs = []
    for rank in range(2):
        env = dict(ENV, MASTER_ADDR="127.0.0.1", MASTER_PORT=port, RANK=str(rank), LOCAL_RANK=str(rank),
                   WORLD_SIZE="2")
        procs.append(subprocess.Popen([PY, "-m", "train.train", "--threads", "1", "--config", cfg,
                                       "--data", data_dir, "--out", ddp], cwd=ROOT, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err
    assert "2 processes on cpu" in outs[0][1]
    a, b = _weights(single), _weights(ddp)
    for k in a:
        assert torch.allclose(a[k], b[k], atol=2e-5, rtol=1e-4), k
    hist = json.load(open(os.path.join(ddp, "history.json")))
    assert hist["world"] == 2
    # resuming with another world size is refused (the data order would differ)
    r = _train(["--config", cfg, "--data", data_dir, "--out", ddp, "--resume", "--max-steps", "8"])
    assert r.returncode == 1 and "2 processes" in r.stderr


def test_refusals(tmp_path, data_dir):
    cfg = _config(tmp_path)
    r = _train(["--config", cfg, "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")])
    assert r.returncode == 1 and "token file not found" in r.stderr and "Traceback" not in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "train.bin").write_bytes(b"")
    (empty / "valid.bin").write_bytes(b"")
    r = _train(["--config", cfg, "--data", str(empty), "--out", str(tmp_path / "r")])
    assert r.returncode == 1 and "empty" in r.stderr
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "train.bin").write_bytes(b"abc")
    r = _train(["--config", cfg, "--data", str(odd), "--out", str(tmp_path / "r")])
    assert r.returncode == 1 and "odd size" in r.stderr
    small = json.loads(json.dumps(CONFIG))
    small["model"]["vocab_size"] = 259
    big = tmp_path / "big"
    big.mkdir()
    (np.arange(3000) % 300).astype(np.uint16).tofile(str(big / "train.bin"))
    (np.arange(3000) % 300).astype(np.uint16).tofile(str(big / "valid.bin"))
    (tmp_path / "small.json").write_text(json.dumps(small))
    r = _train(["--config", str(tmp_path / "small.json"), "--data", str(big), "--out", str(tmp_path / "r")])
    assert r.returncode == 1 and "vocab too small" in r.stderr and "299" in r.stderr
    r = _train(["--config", _config(tmp_path, "nan.json", lr=1e9, min_lr=1e9, warmup_steps=1, log_every=1,
                                    grad_clip=1e30), "--data", data_dir, "--out", str(tmp_path / "r")])
    assert r.returncode == 1 and "loss became" in r.stderr, r.stderr
    (tmp_path / "bad.json").write_text('{"model": {"hidden_size": 30, "num_attention_heads": 4}}')
    r = _train(["--config", str(tmp_path / "bad.json"), "--data", data_dir, "--out", str(tmp_path / "r")])
    assert r.returncode == 1 and "multiple of num_attention_heads" in r.stderr
    (tmp_path / "typo.json").write_text('{"train": {"max_step": 3}}')
    r = _train(["--config", str(tmp_path / "typo.json"), "--data", data_dir, "--out", str(tmp_path / "r")])
    assert r.returncode == 1 and "unknown train config keys: max_step" in r.stderr
    (tmp_path / "broken.json").write_text('{"train": ')
    r = _train(["--config", str(tmp_path / "broken.json"), "--data", data_dir, "--out", str(tmp_path / "r")])
    assert r.returncode == 1 and "not valid JSON" in r.stderr
    r = _train(["--config", cfg, "--data", data_dir, "--out", str(tmp_path / "fresh"), "--resume"])
    assert r.returncode == 1 and "no checkpoint" in r.stderr
