// train_hf.test.js -- tokenizers trained by `monologue train-tokenizer` are
// read identically by Hugging Face's tokenizers (npm tokenizers@0.23.2, the
// Rust library) and by Monologue, and the merges are HF's own:
//
//   1. train (Qwen2 style, NFC, 3 special tokens) on a few MB of mixed text
//      (English, code, translations in many scripts, emoji, odd whitespace:
//      tokenizer_corpus.js), then encode a few MB of *other* text with both
//      libraries: 0 mismatching ids allowed. The same for a GPT-2 style
//      tokenizer (GPT-2 regex, no NFC).
//   2. special tokens written in the text come out as their ids in both.
//   3. HF's BpeTrainer, run on the same one-line corpus from our file, learns
//      exactly our merges in the same order (its ties go to the smaller pair
//      of ids, as ours do).
//   4. bad usage exits 2, failures exit 1, each with a message.
//
// Code points unassigned in Unicode 15.0 (the version of Monologue's tables,
// from Debian's unicode-data) are removed from the text first: HF's regex
// engine knows a newer Unicode (U+10D40, say, is a Garay digit since 16.0),
// so on those two splitters legitimately disagree, and a trained vocabulary
// learns merges right across them.
//
// Env: MONO_BIN (default build/monologue), TRAIN_TEST_MB (default 3).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');
const { buildCorpus, sotuText, ROOT, PEERS } = require('./tokenizer_corpus');

const { Tokenizer } = require(path.join(PEERS, 'tokenizers'));
const BIN = process.env.MONO_BIN || path.join(ROOT, 'build', 'monologue');
const MB = Number(process.env.TRAIN_TEST_MB || 3);
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'mono-train-'));
const SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];

let failures = 0;
function fail(msg) { failures++; console.log('FAIL ' + msg); }

// Code points assigned in /usr/share/unicode/UnicodeData.txt (Unicode 15.0).
function assignedSet() {
  const file = '/usr/share/unicode/UnicodeData.txt';
  const set = new Uint8Array(0x110000);
  let first = -1;
  for (const line of fs.readFileSync(file, 'latin1').split('\n')) {
    if (!line) continue;
    const f = line.split(';');
    const cp = parseInt(f[0], 16);
    if (f[1].endsWith(', First>')) { first = cp; continue; }
    if (f[1].endsWith(', Last>')) { set.fill(1, first, cp + 1); continue; }
    set[cp] = 1;
  }
  return set;
}

function keepAssigned(set, text) {
  const out = [];
  for (const ch of text) if (set[ch.codePointAt(0)]) out.push(ch);
  return out.join('');
}

function train(args) {
  const r = spawnSync(BIN, ['train-tokenizer', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`train-tokenizer ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  console.log(r.stderr.trim());
  return r.stderr;
}

function monoEncode(tokPath, texts) {
  const out = execFileSync(BIN, ['tokenize', '-t', tokPath, '--jsonl'], {
    input: texts.map((t) => JSON.stringify({ text: t })).join('\n') + '\n', maxBuffer: 1 << 30,
  }).toString();
  return out.trimEnd().split('\n').map((l) => JSON.parse(l));
}

function firstDiff(a, b) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

async function compare(name, tokPath, texts) {
  const hf = Tokenizer.fromFile(tokPath);
  const t0 = Date.now();
  const mono = monoEncode(tokPath, texts);
  if (mono.length !== texts.length) return fail(`${name}: ${mono.length} results for ${texts.length} texts`);
  let bad = 0, ids = 0, bytes = 0;
  for (let i = 0; i < texts.length; i++) {
    const want = (await hf.encode(texts[i], null, { addSpecialTokens: false })).getIds();
    const got = mono[i];
    ids += want.length;
    bytes += Buffer.byteLength(texts[i]);
    if (got.length !== want.length || got.some((v, j) => v !== want[j])) {
      const k = firstDiff(got, want);
      if (bad < 5) {
        fail(`${name}: text ${i} differs at token ${k}: monologue ${JSON.stringify(got.slice(k, k + 6))} ` +
             `hf ${JSON.stringify(want.slice(k, k + 6))} in ${JSON.stringify(texts[i].slice(0, 100))}`);
      }
      bad++;
    }
  }
  console.log(`${name}: ${texts.length} texts, ${(bytes / 1e6).toFixed(2)} MB, ${ids} ids, ${bad} mismatches ` +
              `(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  if (bad) fail(`${name}: ${bad} of ${texts.length} texts differ`);
  if (ids < bytes / 8) fail(`${name}: suspiciously few ids (${ids} for ${bytes} bytes)`);
}

async function checkSpecials(tokPath, nVocab) {
  const hf = Tokenizer.fromFile(tokPath);
  const texts = [
    '<|im_start|>user\nHello there<|im_end|>\n<|im_start|>assistant\nHi!<|im_end|><|endoftext|>',
    'no space<|endoftext|>between <|im_end|>and text, a half <|im_end and <|endoftext|><|endoftext|>',
  ];
  const mono = monoEncode(tokPath, texts);
  for (let i = 0; i < texts.length; i++) {
    const want = (await hf.encode(texts[i], null, { addSpecialTokens: false })).getIds();
    if (JSON.stringify(mono[i]) !== JSON.stringify(want)) fail(`specials: text ${i}: ${mono[i]} vs hf ${want}`);
    for (let s = 0; s < SPECIALS.length; s++) {
      const id = nVocab - SPECIALS.length + s;
      const expect = texts[i].split(SPECIALS[s]).length - 1;
      const got = mono[i].filter((v) => v === id).length;
      if (got !== expect) fail(`specials: ${SPECIALS[s]} (id ${id}) found ${got} times in text ${i}, want ${expect}`);
      if (hf.tokenToId(SPECIALS[s]) !== id) fail(`specials: HF maps ${SPECIALS[s]} to ${hf.tokenToId(SPECIALS[s])}`);
    }
  }
}

function checkMergesAgainstHfTrainer() {
  // One line (HF's trainer reads files line by line; we read them whole).
  const text = sotuText(1.5e6).replace(/[\r\n]+/g, ' ');
  const corpus = path.join(TMP, 'oneline.txt');
  fs.writeFileSync(corpus, text);
  const ours = path.join(TMP, 'ours.json');
  train(['--vocab-size', '4000', '--out', ours, corpus]);
  const hf = Tokenizer.fromFile(ours);
  const t0 = Date.now();
  hf.train([corpus]);               // the BPE model's default trainer (vocab 30000)
  const hfPath = path.join(TMP, 'hf.json');
  hf.save(hfPath);
  const a = JSON.parse(fs.readFileSync(ours)).model.merges;
  const b = JSON.parse(fs.readFileSync(hfPath)).model.merges;
  let same = 0;
  while (same < a.length && same < b.length && a[same][0] === b[same][0] && a[same][1] === b[same][1]) same++;
  console.log(`HF trainer: ${b.length} merges in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
              `the first ${same} equal ours (we have ${a.length})`);
  if (a.length < 3000) fail(`only ${a.length} merges learned`);
  if (same !== a.length) fail(`merge ${same} differs: ours ${JSON.stringify(a[same])}, HF ${JSON.stringify(b[same])}`);
}

function checkErrors() {
  const cases = [
    [['--vocab-size', '1000', 'x.txt'], 2, /--out is required/],
    [['--out', 'x.json', 'x.txt'], 2, /--vocab-size is required/],
    [['--vocab-size', '1000', '--out', 'x.json'], 2, /no input files/],
    [['--vocab-size', 'many', '--out', 'x.json', 'x.txt'], 2, /bad value for --vocab-size/],
    [['--bogus'], 2, /unknown option/],
    [['--vocab-size', '1000', '--pretokenizer', 'bert', '--out', 'x.json', 'x.txt'], 2, /--pretokenizer/],
    [['--vocab-size', '1000', '--out', path.join(TMP, 'e.json'), path.join(TMP, 'missing.txt')], 1, /missing\.txt/],
    [['--vocab-size', '257', '--special', '<a>', '--special', '<b>', '--out', path.join(TMP, 'e.json'),
      path.join(TMP, 'empty.txt')], 1, /too small/],
    [['--vocab-size', '1000', '--out', path.join(TMP, 'e.json'), path.join(TMP, 'empty.txt')], 1, /empty/],
    [['--vocab-size', '1000', '--out', path.join(TMP, 'no', 'such', 'dir', 'e.json'), path.join(TMP, 'oneline.txt')],
      1, /cannot open/],
  ];
  fs.writeFileSync(path.join(TMP, 'empty.txt'), '');
  for (const [args, code, re] of cases) {
    const r = spawnSync(BIN, ['train-tokenizer', ...args], { encoding: 'utf8' });
    if (r.status !== code || !re.test(r.stderr)) {
      fail(`train-tokenizer ${args.join(' ')}: exit ${r.status} (want ${code}), stderr ${JSON.stringify(r.stderr)}`);
    }
  }
  const help = spawnSync(BIN, ['train-tokenizer', '--help'], { encoding: 'utf8' });
  if (help.status !== 0 || !/--vocab-size/.test(help.stdout)) fail('train-tokenizer --help');
}

async function main() {
  const t0 = Date.now();
  const assigned = assignedSet();
  const texts = buildCorpus(2 * MB).map((t) => keepAssigned(assigned, t)).filter((t) => t.length);
  // alternate chunks: half to train on, the other half to test with
  const trainFiles = [];
  const testTexts = [];
  let bytes = 0;
  texts.forEach((t, i) => { if (i % 2) testTexts.push(t); });
  const trainText = texts.filter((_, i) => i % 2 === 0);
  for (let f = 0; f < 4; f++) {
    const file = path.join(TMP, `train${f}.txt`);
    const part = trainText.filter((_, i) => i % 4 === f).join('\n');
    bytes += Buffer.byteLength(part);
    fs.writeFileSync(file, part);
    trainFiles.push(file);
  }
  console.log(`corpus: ${(bytes / 1e6).toFixed(1)} MB to train on, ${testTexts.length} test texts ` +
              `(${((Date.now() - t0) / 1000).toFixed(1)} s to build)`);

  const qwenStyle = path.join(TMP, 'qwen-style.json');
  train(['--vocab-size', '8000', ...SPECIALS.flatMap((s) => ['--special', s]), '--out', qwenStyle, ...trainFiles]);
  await compare('trained qwen2-style', qwenStyle, testTexts);
  await checkSpecials(qwenStyle, 8000);

  const gpt2Style = path.join(TMP, 'gpt2-style.json');
  train(['--vocab-size', '3000', '--pretokenizer', 'gpt2', '--no-nfc', '--special', '<|endoftext|>',
         '--out', gpt2Style, ...trainFiles]);
  await compare('trained gpt2-style', gpt2Style, testTexts.filter((_, i) => i % 3 === 0));

  checkMergesAgainstHfTrainer();
  checkErrors();

  fs.rmSync(TMP, { recursive: true, force: true });
  console.log(failures ? `${failures} FAILURES` : `train_hf: ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  process.exit(failures ? 1 : 0);
}

main().catch((e) => { console.log('FAIL ' + (e.stack || e)); process.exit(1); });
