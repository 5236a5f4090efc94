"""test_tokenizer_py.py -- the `monologue` Python module: Qwen2.5 golden
encodings from Hugging Face, batches, decoding, training + save + reload
(also through a GGUF file written here), errors raised with the C library's
message, invalid input, and the GIL being released while the C code runs.

Built in-tree by conftest.py; run with `/usr/bin/python3 -m pytest tests/python`.
"""
import json
import os
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import monologue

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("MONO_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
QWEN = os.path.join(SHARED, "tokenizers", "qwen2.5", "tokenizer.json")
GOLDEN = os.path.join(SHARED, "golden", "tokenizer", "qwen2.5-public.jsonl")
LLAMACPP = os.path.join(SHARED, "golden", "tokenizer", "llamacpp-qwen2-vectors.jsonl")
SOTU = os.path.join(ROOT, "tools", "peers", "node_modules", "@stdlib", "datasets-sotu", "data")

needs_shared = pytest.mark.skipif(not os.path.exists(QWEN), reason="shared Qwen2.5 tokenizer not found")


def golden(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def qwen():
    return monologue.Tokenizer.from_file(QWEN)


MIXED = [
    "Hello, world! It's 2024; we've got 3.14159 reasons.",
    "def f(x):\n    return x ** 2  # square\n\n\n\tindented\r\n",
    "日本語のテキストと中文文本，还有한국어.",
    "emoji 😀👍🏽 family 👨‍👩‍👧 flags 🇫🇷",
    "caf\u00e9 vs cafe\u0301, \u212b vs \u00c5",   # NFC folds the decomposed and compatibility forms
    "   leading and trailing   ",
    "",
]


def corpus_file(tmp_path, name="corpus.txt", size=400_000):
    """A few hundred KB of SOTU prose plus the mixed snippets."""
    parts, total = [], 0
    if os.path.isdir(SOTU):
        for fn in sorted(os.listdir(SOTU)):
            if fn.endswith(".txt"):
                with open(os.path.join(SOTU, fn), encoding="utf-8") as f:
                    parts.append(f.read())
                total += len(parts[-1])
                if total > size:
                    break
    parts += MIXED * 50
    p = tmp_path / name
    p.write_text("\n".join(parts), encoding="utf-8")
    return p


# ---- golden encodings (ids produced by HF tokenizers 0.23.2) ---------------

@needs_shared
def test_golden_encode_decode(qwen):
    cases = golden(GOLDEN)
    assert len(cases) > 100
    for c in cases:
        assert qwen.encode(c["text"]) == c["ids"], c["text"]
        assert qwen.decode(c["ids"]) == c["decoded"], c["text"]


@needs_shared
def test_llamacpp_vectors(qwen):
    for c in golden(LLAMACPP):
        assert qwen.encode(c["text"]) == c["ids"], c["text"]


@needs_shared
def test_encode_batch_matches_encode(qwen):
    texts = [c["text"] for c in golden(GOLDEN)] + MIXED
    assert qwen.encode_batch(texts) == [qwen.encode(t) for t in texts]
    assert qwen.encode_batch([]) == []
    assert qwen.encode_batch(tuple(texts[:3])) == [qwen.encode(t) for t in texts[:3]]
    with pytest.raises(TypeError):
        qwen.encode_batch("not a list")
    with pytest.raises(TypeError):
        qwen.encode_batch(["ok", 3])


@needs_shared
def test_special_tokens(qwen):
    text = "<|im_start|>user\nhi<|im_end|>"
    ids = qwen.encode(text)
    assert ids[0] == 151644 and ids[-1] == 151645
    as_text = qwen.encode(text, special_as_text=True)
    assert 151644 not in as_text and 151645 not in as_text
    assert qwen.decode(as_text) == text
    assert qwen.encode_batch([text], special_as_text=True) == [as_text]
    assert qwen.token_to_id("<|endoftext|>") == 151643
    assert qwen.id_to_token(151643) == "<|endoftext|>"
    assert qwen.eos_id == 151645    # from tokenizer_config.json beside tokenizer.json


@needs_shared
def test_skip_special_and_pickle(qwen):
    import pickle
    ids = qwen.encode("<|im_start|>user\nhi<|im_end|>")
    assert qwen.decode(ids, skip_special_tokens=True) == "user\nhi"
    assert qwen.decode_bytes(ids, skip_special_tokens=True) == b"user\nhi"
    assert qwen.decode(ids) == "<|im_start|>user\nhi<|im_end|>"
    again = pickle.loads(pickle.dumps(qwen))
    texts = [c["text"] for c in golden(GOLDEN)]
    assert again.encode_batch(texts) == qwen.encode_batch(texts)
    assert again.vocab_size == qwen.vocab_size


@needs_shared
def test_vocab_lookups(qwen):
    assert qwen.vocab_size == 151665
    assert qwen.token_to_id("\u0120the") == 279      # "Ġthe" = " the"
    assert qwen.id_to_token(279) == "\u0120the"
    assert qwen.token_to_id("no such token at all") is None
    assert qwen.id_to_token(-1) is None
    assert qwen.id_to_token(10**6) is None
    assert qwen.decode([]) == ""


@needs_shared
def test_decode_errors(qwen):
    with pytest.raises(ValueError, match="151665|range|vocab"):
        qwen.decode([151665])
    with pytest.raises(ValueError):
        qwen.decode([-5])
    with pytest.raises(ValueError):
        qwen.decode([2**40])
    with pytest.raises(TypeError):
        qwen.decode(["a"])
    with pytest.raises(TypeError):
        qwen.decode(5)


@needs_shared
def test_invalid_text(qwen):
    # A lone surrogate cannot be UTF-8: raises like str.encode("utf-8").
    with pytest.raises(UnicodeEncodeError):
        qwen.encode("abc\ud800")
    with pytest.raises(UnicodeEncodeError):
        qwen.encode_batch(["fine", "\udfff"])
    # bytes are taken as they are; invalid UTF-8 survives a bytes round trip
    raw = b"ok \xff\xfe\xc3 end"
    ids = qwen.encode(raw)
    assert qwen.decode_bytes(ids) == raw
    assert qwen.decode(ids) == raw.decode("utf-8", "replace")
    with pytest.raises(TypeError):
        qwen.encode(123)


def test_direct_construction_refused():
    with pytest.raises(TypeError):
        monologue.Tokenizer()
    assert isinstance(monologue.__version__, str)


# ---- training -------------------------------------------------------------

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("train")
    return monologue.Tokenizer.train([str(corpus_file(d))], 2000, SPECIALS), d


def test_train_basics(trained):
    tok, _ = trained
    assert tok.vocab_size == 2000
    for i, s in enumerate(SPECIALS):
        assert tok.token_to_id(s) == 2000 - len(SPECIALS) + i
        assert tok.id_to_token(2000 - len(SPECIALS) + i) == s
    ids = tok.encode("the people<|endoftext|>the")
    assert ids.count(tok.token_to_id("<|endoftext|>")) == 1
    assert tok.encode("<|im_start|>", special_as_text=True) != [tok.token_to_id("<|im_start|>")]
    assert tok.id_to_token(0) == "!"     # bytes first, in GPT-2 byte-level order
    for text in MIXED:
        assert tok.decode(tok.encode(text)) == _nfc(text)
    doc = json.loads(tok.to_json())
    assert doc["normalizer"] == {"type": "NFC"}
    assert len(doc["model"]["vocab"]) == 2000 - len(SPECIALS)


def _nfc(s):
    import unicodedata
    return unicodedata.normalize("NFC", s)


def test_train_save_reload(trained, tmp_path):
    tok, d = trained
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    again = monologue.Tokenizer.from_file(str(path))
    texts = MIXED + [p.read_text(encoding="utf-8")[:20000] for p in d.iterdir()]
    assert again.encode_batch(texts) == tok.encode_batch(texts)
    assert again.vocab_size == tok.vocab_size
    assert path.read_text(encoding="utf-8") == tok.to_json()
    # a folder holding tokenizer.json loads too, and saves the same text
    folder = monologue.Tokenizer.from_file(str(tmp_path))
    assert folder.to_json() == tok.to_json()
    # os.PathLike paths work
    assert monologue.Tokenizer.from_file(path).vocab_size == 2000
    from_text = monologue.Tokenizer.from_json(tok.to_json())
    assert from_text.encode_batch(texts) == tok.encode_batch(texts)


def test_train_options(tmp_path):
    c = corpus_file(tmp_path, size=50_000)
    gpt2 = monologue.Tokenizer.train(c, 600, pretokenizer="gpt2", nfc=False)
    doc = json.loads(gpt2.to_json())
    assert doc["normalizer"] is None
    assert doc["pre_tokenizer"]["type"] == "ByteLevel"
    assert gpt2.vocab_size == 600
    assert gpt2.decode(gpt2.encode("cafe\u0301 123")) == "cafe\u0301 123"
    rare = monologue.Tokenizer.train([c], 100000, min_frequency=50)
    assert 256 < rare.vocab_size < 100000
    with pytest.raises(ValueError, match="pretokenizer"):
        monologue.Tokenizer.train([c], 600, pretokenizer="bert")


def test_train_from_texts(tmp_path):
    c = corpus_file(tmp_path, size=60_000)
    raw = c.read_bytes()    # (read_text would turn "\r\n" into "\n")
    from_file = monologue.Tokenizer.train([c], 900, ["<|endoftext|>"])
    assert monologue.Tokenizer.train_from_texts([raw], 900, ["<|endoftext|>"]).to_json() == from_file.to_json()
    text = raw.decode("utf-8")
    assert monologue.Tokenizer.train_from_texts([text], 900, ["<|endoftext|>"]).to_json() == from_file.to_json()
    # bytes are taken as they are; documents never share a piece
    docs = monologue.Tokenizer.train_from_texts([b"aaaa", "aaaa"], 300)
    assert docs.token_to_id("aaaa") is not None
    glued = monologue.Tokenizer.train_from_texts(["ab", "cd"], 300)
    assert glued.token_to_id("bc") is None and glued.token_to_id("ab") is not None
    with pytest.raises(TypeError):
        monologue.Tokenizer.train_from_texts("one text", 300)
    with pytest.raises(ValueError, match="empty"):
        monologue.Tokenizer.train_from_texts([], 300)
    with pytest.raises(ValueError, match="empty"):
        monologue.Tokenizer.train_from_texts(["<s><s>"], 300, ["<s>"])


def test_train_errors(tmp_path):
    c = corpus_file(tmp_path, size=10_000)
    with pytest.raises(ValueError, match="too small"):
        monologue.Tokenizer.train([str(c)], 258, SPECIALS)
    with pytest.raises(OSError, match="missing.txt"):
        monologue.Tokenizer.train([str(tmp_path / "missing.txt")], 1000)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        monologue.Tokenizer.train([str(empty)], 1000)
    with pytest.raises(ValueError, match="twice"):
        monologue.Tokenizer.train([str(c)], 1000, ["<a>", "<a>"])
    with pytest.raises(ValueError, match="empty"):
        monologue.Tokenizer.train([str(c)], 1000, [""])
    with pytest.raises(ValueError):
        monologue.Tokenizer.train([str(c)], 1000, ["a\x00b"])
    with pytest.raises(TypeError):
        monologue.Tokenizer.train([str(c)], 1000, "<one string>")
    with pytest.raises(ValueError):
        monologue.Tokenizer.train([str(c)], -1)
    with pytest.raises(ValueError, match="no input files"):
        monologue.Tokenizer.train([], 1000)


def test_load_errors(tmp_path):
    with pytest.raises(OSError, match="nope.json"):
        monologue.Tokenizer.from_file(str(tmp_path / "nope.json"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "zz"]]}}')
    with pytest.raises(ValueError):
        monologue.Tokenizer.from_file(str(bad))
    with pytest.raises(ValueError):
        monologue.Tokenizer.from_json("{ truncated")
    with pytest.raises(TypeError):
        monologue.Tokenizer.from_json(42)
    bad.write_bytes(b"GGUF\x03\x00\x00\x00")
    with pytest.raises(ValueError):
        monologue.Tokenizer.from_file(str(bad))


# ---- GGUF: the same vocabulary in tokenizer.ggml.* metadata ---------------

def _gguf_string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def write_gguf(path, doc):
    """A tensor-less GGUF v3 file carrying doc's vocabulary and merges."""
    vocab = sorted(doc["model"]["vocab"].items(), key=lambda kv: kv[1])
    tokens = [t for t, _ in vocab] + [a["content"] for a in doc["added_tokens"]]
    types = [1] * len(vocab) + [3] * len(doc["added_tokens"])
    merges = [" ".join(m) for m in doc["model"]["merges"]]
    kv = []
    kv.append(_gguf_string("tokenizer.ggml.model") + struct.pack("<I", 8) + _gguf_string("gpt2"))
    kv.append(_gguf_string("tokenizer.ggml.pre") + struct.pack("<I", 8) + _gguf_string("qwen2"))
    kv.append(_gguf_string("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, len(tokens)) +
              b"".join(_gguf_string(t) for t in tokens))
    kv.append(_gguf_string("tokenizer.ggml.token_type") + struct.pack("<IIQ", 9, 5, len(types)) +
              struct.pack("<%di" % len(types), *types))
    kv.append(_gguf_string("tokenizer.ggml.merges") + struct.pack("<IIQ", 9, 8, len(merges)) +
              b"".join(_gguf_string(m) for m in merges))
    kv.append(_gguf_string("tokenizer.ggml.eos_token_id") + struct.pack("<II", 4, len(vocab)))
    with open(path, "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, 0, len(kv)) + b"".join(kv))


def test_gguf_vocabulary(trained, tmp_path):
    tok, d = trained
    path = tmp_path / "tok.gguf"
    write_gguf(path, json.loads(tok.to_json()))
    g = monologue.Tokenizer.from_file(str(path))
    texts = MIXED + ["the people <|im_end|> of the United States"]
    assert g.encode_batch(texts) == tok.encode_batch(texts)
    assert g.eos_id == tok.vocab_size - len(SPECIALS)
    # written back as tokenizer.json: the same vocabulary, merges and ids
    out = tmp_path / "from-gguf.json"
    g.save(str(out))
    doc, back = json.loads(tok.to_json()), json.loads(out.read_text(encoding="utf-8"))
    assert back["model"]["vocab"] == doc["model"]["vocab"]
    assert back["model"]["merges"] == doc["model"]["merges"]
    assert back["added_tokens"] == doc["added_tokens"]
    assert back["normalizer"] == doc["normalizer"] and back["pre_tokenizer"] == doc["pre_tokenizer"]
    assert monologue.Tokenizer.from_file(str(out)).encode_batch(texts) == tok.encode_batch(texts)


# ---- threads and the GIL ----------------------------------------------------

@needs_shared
def test_threads_share_one_tokenizer(qwen):
    texts = [c["text"] for c in golden(GOLDEN)] * 20
    want = qwen.encode_batch(texts)
    with ThreadPoolExecutor(4) as ex:
        results = list(ex.map(lambda _: qwen.encode_batch(texts), range(8)))
    assert all(r == want for r in results)
    with ThreadPoolExecutor(4) as ex:
        decoded = list(ex.map(qwen.decode, want[:200]))
    assert decoded == [qwen.decode(w) for w in want[:200]]


@needs_shared
def test_gil_released_while_encoding(qwen):
    """A pure-Python thread keeps running while one long encode call is in C."""
    text = ("The quick brown fox, 1234 jumps; über 日本語 😀. " * 20000)
    start = time.perf_counter()
    qwen.encode(text)
    one = time.perf_counter() - start
    reps = max(1, int(0.6 / max(one, 1e-3)))
    batch = [text] * reps
    ticks, stop = [], threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    th = threading.Thread(target=ticker)
    th.start()
    time.sleep(0.02)
    t0 = time.perf_counter()
    qwen.encode_batch(batch)
    t1 = time.perf_counter()
    stop.set()
    th.join()
    inside = [t for t in ticks if t0 + 0.05 < t < t1 - 0.05]
    assert t1 - t0 > 0.2, "the call was too short to tell"
    assert len(inside) > 10, "no Python thread ran while encode_batch was in C: GIL not released?"
