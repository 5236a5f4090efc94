// tokenizer_hf.test.js -- Monologue's tokenizer against Hugging Face's own
// (npm tokenizers@0.23.2, the Rust library) on >= 10 MB of mixed text built
// at test time (tokenizer_corpus.js): 0 mismatching ids allowed.
//
// Tokenizers compared, each through `monologue tokenize --jsonl`:
//   qwen     the Qwen2.5 tokenizer.json (NFC, Qwen2 Split regex, 22 added tokens)
//   gpt2     the same vocabulary as a GPT-2 style file: plain ByteLevel with
//            its built-in regex, no normalizer
//   gpt2-aps ... with add_prefix_space, ignore_merges, NFC, and added tokens
//            using every flag (lstrip, rstrip, single_word, normalized,
//            non-special, content already in the vocabulary)
//   trained  a small BPE trained by HF itself on part of the corpus (so bytes
//            missing from its vocabulary are dropped, as HF does), and the
//            same with an unk_token (fuse_unk) taking their place
// plus the pre-tokenizer alone: every code point (in runs between letters,
// digits, spaces and punctuation) split by both regexes, compared piece by
// piece with HF's preTokenizeString (this is what pins the Unicode classes);
// plus NFC alone against HF's normalizer on NormalizationTest.txt and every
// code point; plus decoding: random id sequences (many cut UTF-8 characters apart)
// decoded by both, compared as strings (HF's lossy U+FFFD rules).
//
// Env: MONO_BIN (default build/monologue), TOKENIZER_TEST_MB (default 10).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { buildCorpus, allCodePointsText, stressText, rng, ROOT, PEERS } = require('./tokenizer_corpus');

const { Tokenizer } = require(path.join(PEERS, 'tokenizers'));
const BIN = process.env.MONO_BIN || path.join(ROOT, 'build', 'monologue');
const SHARED = process.env.MONO_SHARED || path.resolve(ROOT, '..', 'shared');
const QWEN = path.join(SHARED, 'tokenizers', 'qwen2.5', 'tokenizer.json');
const MB = Number(process.env.TOKENIZER_TEST_MB || 10);
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'mono-tok-'));

let failures = 0;
function fail(msg) { failures++; console.log('FAIL ' + msg); }

function monoEncode(tokPath, texts) {
  const input = path.join(TMP, 'in.jsonl');
  fs.writeFileSync(input, texts.map((t) => JSON.stringify({ text: t })).join('\n') + '\n');
  const out = execFileSync(BIN, ['tokenize', '-t', tokPath, '--jsonl'], {
    input: fs.readFileSync(input), maxBuffer: 1 << 30,
  }).toString();
  return out.trimEnd().split('\n').map((l) => JSON.parse(l));
}

function monoDecode(tokPath, idLists) {
  const out = execFileSync(BIN, ['tokenize', '-t', tokPath, '--decode', '--jsonl'], {
    input: idLists.map((ids) => JSON.stringify(ids)).join('\n') + '\n', maxBuffer: 1 << 30,
  }).toString();
  return out.trimEnd().split('\n').map((l) => JSON.parse(l).text);
}

function describe(text, a, b) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `first difference at token ${i}: monologue ${JSON.stringify(a.slice(i, i + 8))} vs hf ` +
    `${JSON.stringify(b.slice(i, i + 8))}; text ${JSON.stringify(text.slice(0, 120))}`;
}

async function compare(name, tokPath, texts) {
  const t0 = Date.now();
  const hf = Tokenizer.fromFile(tokPath);
  const mono = monoEncode(tokPath, texts);
  const t1 = Date.now();
  if (mono.length !== texts.length) {
    fail(`${name}: monologue gave ${mono.length} lines for ${texts.length} texts`);
    return;
  }
  let bad = 0, ids = 0, bytes = 0;
  for (let i = 0; i < texts.length; i++) {
    const want = (await hf.encode(texts[i], null, { addSpecialTokens: false })).getIds();
    ids += want.length;
    bytes += Buffer.byteLength(texts[i]);
    const got = mono[i];
    if (got.length !== want.length || got.some((v, j) => v !== want[j])) {
      if (bad < 5) fail(`${name}: text ${i}: ${describe(texts[i], got, want)}`);
      bad++;
    }
  }
  const t2 = Date.now();
  console.log(`${name}: ${texts.length} texts, ${(bytes / 1e6).toFixed(1)} MB, ${ids} ids, ${bad} mismatches ` +
    `(monologue ${((t1 - t0) / 1000).toFixed(1)} s incl. load, hf ${((t2 - t1) / 1000).toFixed(1)} s)`);
  if (bad) fail(`${name}: ${bad} of ${texts.length} texts differ`);
}

async function compareDecode(name, tokPath, nVocab, r) {
  const hf = Tokenizer.fromFile(tokPath);
  const lists = [];
  for (let i = 0; i < 3000; i++) {
    const n = 1 + Math.floor(r() * 12);
    const ids = [];
    for (let j = 0; j < n; j++) {
      // mostly low ids (single bytes, including lone UTF-8 lead/continuation bytes)
      const x = r();
      ids.push(x < 0.45 ? Math.floor(r() * 256)
        : x < 0.55 ? nVocab - 1 - Math.floor(r() * 30)   // added tokens live at the end
          : Math.floor(r() * nVocab));
    }
    lists.push(ids);
  }
  const mono = monoDecode(tokPath, lists);
  let bad = 0;
  for (let i = 0; i < lists.length; i++) {
    const want = await hf.decode(lists[i], false);
    if (mono[i] !== want) {
      if (bad < 5) fail(`${name} decode ${JSON.stringify(lists[i])}: ${JSON.stringify(mono[i])} vs hf ${JSON.stringify(want)}`);
      bad++;
    }
  }
  console.log(`${name} decode: ${lists.length} id lists, ${bad} mismatches`);
}

function monoPieces(tokPath, texts) {
  const out = execFileSync(BIN, ['tokenize', '-t', tokPath, '--jsonl', '--pieces'], {
    input: texts.map((t) => JSON.stringify({ text: t })).join('\n') + '\n', maxBuffer: 1 << 30,
  }).toString();
  return out.trimEnd().split('\n').map((l) => JSON.parse(l));
}

function comparePieces(name, tokPath, texts) {
  const pre = Tokenizer.fromFile(tokPath).getPreTokenizer();
  const mono = monoPieces(tokPath, texts);
  let bad = 0, n = 0;
  for (let i = 0; i < texts.length; i++) {
    const want = pre.preTokenizeString(texts[i]).map((p) => p[0]);
    n += want.length;
    if (JSON.stringify(want) !== JSON.stringify(mono[i])) {
      if (bad < 5) fail(`${name} pieces of ${JSON.stringify(texts[i].slice(0, 80))}: ${describe(texts[i], mono[i], want)}`);
      bad++;
    }
  }
  console.log(`${name} pieces: ${texts.length} texts, ${n} pieces, ${bad} mismatches`);
}

// NFC alone: the Qwen vocabulary with an NFC normalizer and a ByteLevel step
// that does not split, so --pieces prints NFC(text) in byte-level spelling;
// compared with HF's nfcNormalizer on every NormalizationTest.txt column and
// every code point (HF's NFC knows Unicode 9.0 only: see gen_unicode.py).
function compareNfc(r) {
  const j = JSON.parse(fs.readFileSync(QWEN, 'utf8'));
  j.normalizer = { type: 'NFC' };
  j.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  j.added_tokens = [];
  const tok = path.join(TMP, 'nfc-only.json');
  fs.writeFileSync(tok, JSON.stringify(j));
  const texts = [];
  const ntest = '/usr/share/unicode/NormalizationTest.txt.bz2';
  if (fs.existsSync(ntest)) {
    for (const line of execFileSync('bzcat', [ntest], { maxBuffer: 1 << 28 }).toString().split('\n')) {
      if (!line || line[0] === '#' || line[0] === '@') continue;
      for (const col of line.split(';').slice(0, 5))
        texts.push(String.fromCodePoint(...col.trim().split(' ').map((h) => parseInt(h, 16))));
    }
  } else {
    fail(`${ntest} is missing (Debian unicode-data)`);
  }
  for (let cp = 0; cp < 0x110000; cp += 48) {
    let t = '';
    for (let c = cp; c < cp + 48 && c < 0x110000; c++) if (c < 0xD800 || c >= 0xE000) t += String.fromCodePoint(c);
    texts.push(t);
  }
  for (let i = 0; i < 3000; i++) {   // random marks after random bases
    let t = '';
    for (let k = 0; k < 6; k++) t += String.fromCodePoint(r() < 0.5 ? 0x41 + Math.floor(r() * 0x1F00) : 0x300 + Math.floor(r() * 0x70));
    texts.push(t);
  }
  const nfc = require(path.join(PEERS, 'tokenizers')).nfcNormalizer();
  const alphabet = (s) => Array.from(Buffer.from(s, 'utf8'), (b) => String.fromCodePoint(
    (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174 ? b : b <= 32 ? 256 + b : b <= 160 ? 256 + 33 + b - 127 : 256 + 67)).join('');
  const mono = monoPieces(tok, texts);
  let bad = 0;
  for (let i = 0; i < texts.length; i++) {
    const want = texts[i] ? [alphabet(nfc.normalizeString(texts[i]))] : [];
    if (JSON.stringify(want) !== JSON.stringify(mono[i])) {
      if (bad < 5) fail(`NFC of ${JSON.stringify(texts[i])}: ${JSON.stringify(mono[i])} vs hf ${JSON.stringify(want)}`);
      bad++;
    }
  }
  console.log(`nfc: ${texts.length} texts, ${bad} mismatches`);
}

// The same pre-tokenizer with nothing around it (no normalizer, no added
// tokens), as HF's preTokenizeString sees text.
function preTokOnly(src, name) {
  const j = JSON.parse(fs.readFileSync(src, 'utf8'));
  j.normalizer = null;
  j.added_tokens = [];
  const out = path.join(TMP, name);
  fs.writeFileSync(out, JSON.stringify(j));
  return out;
}

function gpt2Variant(src, prefixSpace, extraAdded) {
  const j = JSON.parse(fs.readFileSync(src, 'utf8'));
  j.normalizer = null;
  j.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: prefixSpace, trim_offsets: true, use_regex: true };
  j.decoder = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
  if (extraAdded) {
    let id = j.added_tokens[j.added_tokens.length - 1].id + 1;
    const mk = (content, o) => Object.assign({ id: id++, content, single_word: false, lstrip: false,
      rstrip: false, normalized: false, special: false }, o);
    j.added_tokens.push(mk('[MASK]', { lstrip: true, special: true }));
    j.added_tokens.push(mk('<sep>', { rstrip: true }));
    j.added_tokens.push(mk('the', { single_word: true }));
    j.added_tokens.push(mk('Å', { normalized: true }));
    j.added_tokens.push(mk('don', { lstrip: true, rstrip: true, single_word: true, normalized: true }));
    j.added_tokens.push(mk(' of the', {}));
    j.added_tokens.push(mk('<|im', { special: true }));
    j.normalizer = { type: 'NFC' };
    j.model.ignore_merges = true;   // (as Llama 3 files have it)
  }
  const out = path.join(TMP, `gpt2-${prefixSpace ? 'aps' : 'plain'}${extraAdded ? '-added' : ''}.json`);
  fs.writeFileSync(out, JSON.stringify(j));
  return out;
}

function trainSmall(texts) {
  // HF trains with its defaults (BpeTrainer: vocab 30000); we keep it small by
  // training on a slice of the corpus and save it as a tokenizer.json.
  // (the npm binding has no ByteLevel decoder constructor: it is set in the JSON)
  const { BPE, byteLevelPreTokenizer } = require(path.join(PEERS, 'tokenizers'));
  const t = new Tokenizer(BPE.empty());
  t.setPreTokenizer(byteLevelPreTokenizer(false, true));
  const file = path.join(TMP, 'train.txt');
  fs.writeFileSync(file, texts.join('\n'));
  t.train([file]);
  const out = path.join(TMP, 'trained.json');
  t.save(out);
  const j = JSON.parse(fs.readFileSync(out, 'utf8'));
  j.decoder = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  fs.writeFileSync(out, JSON.stringify(j));
  return out;
}

function withUnk(src) {
  const j = JSON.parse(fs.readFileSync(src, 'utf8'));
  const id = Math.max(...Object.values(j.model.vocab)) + 1;
  j.model.vocab['[UNK]'] = id;
  j.model.unk_token = '[UNK]';
  j.model.fuse_unk = true;
  const out = path.join(TMP, 'trained-unk.json');
  fs.writeFileSync(out, JSON.stringify(j));
  return out;
}

async function main() {
  if (!fs.existsSync(BIN)) { console.log(`FAIL ${BIN} is missing (run make)`); process.exit(1); }
  const t0 = Date.now();
  const texts = buildCorpus(MB);
  const total = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  console.log(`corpus: ${texts.length} texts, ${(total / 1e6).toFixed(1)} MB (built in ${Date.now() - t0} ms)`);
  if (total < MB * 1e6 * 0.95) fail(`corpus is only ${total} bytes`);

  await compare('qwen', QWEN, texts);
  const r = rng(7);
  const third = texts.filter(() => r() < 0.3);
  await compare('gpt2', gpt2Variant(QWEN, false, false), third);
  const tenth = texts.filter(() => r() < 0.1);
  const variant = gpt2Variant(QWEN, true, true);
  await compare('gpt2-aps+added', variant, tenth);
  const trained = trainSmall(texts.filter(() => r() < 0.02));
  await compare('trained', trained, tenth);
  await compare('trained-unk', withUnk(trained), tenth.slice(0, 40));
  const cpLines = allCodePointsText().split('\n').concat(stressText(rng(3), 20000).split('\n'));
  // (?i:'s|'t|...) after an apostrophe: every BMP character (case folding;
  // the whole range 0..10FFFF was checked once, with the same result)
  for (let cp = 0x20; cp < 0x10000; cp += 64) {
    let line = '';
    for (let c = cp; c < cp + 64; c++) if (c < 0xD800 || c >= 0xE000) line += "'" + String.fromCodePoint(c) + 'x ';
    cpLines.push(line);
  }
  comparePieces('qwen-regex', preTokOnly(QWEN, 'qwen-pretok.json'), cpLines);
  comparePieces('gpt2-regex', preTokOnly(gpt2Variant(QWEN, false, false), 'gpt2-pretok.json'), cpLines);
  compareNfc(r);
  await compareDecode('qwen', QWEN, 151665, r);
  await compareDecode('trained', trained, 1000, r);
  await compareDecode('gpt2-aps+added', variant, 151669, r);

  if (failures) console.log(`tokenizer_hf: ${failures} failures (files kept in ${TMP})`);
  else fs.rmSync(TMP, { recursive: true, force: true });
  console.log(failures ? `tokenizer_hf: ${failures} failures` : 'tokenizer_hf: all equal');
  process.exit(failures ? 1 : 0);
}

main().catch((e) => { console.log('FAIL ' + (e && e.stack || e)); process.exit(1); });
