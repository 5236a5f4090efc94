// llama_util.js -- small helpers shared by the Node tests that compare
// Monologue with llama.cpp (v0.5.0 through npm node-llama-cpp 3.22.1, CPU):
// loading the peer the way /work/shared/ENVIRONMENT.md says works offline,
// every position's logits from either engine as one Float32Array
// [n_tokens * n_vocab], and argmax / log-softmax over a row.
//
// Not a test itself (the name does not end in .test.js, so run_all.sh skips it).
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const PEERS = path.join(ROOT, 'tools', 'peers', 'node_modules');
const BIN = process.env.MONO_BIN || path.join(ROOT, 'build', 'monologue');

// The llama.cpp handle: CPU only, the prebuilt binaries npm installed, never
// a build or a download (there is no network).
async function llamaLoad() {
  const { getLlama } = await import(path.join(PEERS, 'node-llama-cpp', 'dist', 'index.js'));
  return getLlama({ gpu: false, build: 'never', usePrebuiltBinaries: true, skipDownload: true, logLevel: 'error' });
}

// llama.cpp's logits for every position of ids, run as one sequence from
// position 0, as a Float32Array [ids.length * nVocab]. The KV cache is F32
// and flash attention off, so attention is computed in float32 as Monologue
// computes it (--kv f32): differences left come from the weights' dot
// products alone. A token llama.cpp gave no logit for stays NaN; `missing`
// counts positions without logits. The context holds more than ids.length
// tokens: node-llama-cpp shifts a full context (drops its oldest tokens)
// before evaluating the token that fills it, so with contextSize ==
// ids.length the last position's logits were computed without the start of
// the sequence (seen: every logit of position 255 of 256 off by up to 0.6).
async function llamaLogits(llama, gguf, ids, nVocab, opts = {}) {
  return (await llamaLogitsMany(llama, gguf, [ids], nVocab, opts))[0];
}

// The same for several sequences on one loaded model (each from position 0,
// the context cleared in between): an array of { logits, missing }.
async function llamaLogitsMany(llama, gguf, seqs, nVocab, opts = {}) {
  const model = await llama.loadModel({ modelPath: gguf, gpuLayers: 0 });
  const n = Math.max(...seqs.map((s) => s.length));
  const context = await model.createContext({
    contextSize: opts.contextSize || Math.max(128, n + 64), batchSize: opts.batchSize || Math.max(128, n),
    threads: opts.threads || 2, flashAttention: false,
    experimentalKvCacheKeyType: opts.kv || 'F32', experimentalKvCacheValueType: opts.kv || 'F32',
  });
  const seq = context.getSequence();
  const all = [];
  for (const ids of seqs) {
    await seq.clearHistory();
    const res = await seq.controlledEvaluate(ids.map((t) => [t, { generateNext: { logits: true } }]));
    const out = new Float32Array(ids.length * nVocab).fill(NaN);
    let missing = 0;
    for (let p = 0; p < ids.length; p++) {
      const map = res[p] && res[p].next && res[p].next.logits;
      if (!map) { missing++; continue; }
      for (const [tok, v] of map) if (tok >= 0 && tok < nVocab) out[p * nVocab + tok] = v;
    }
    all.push({ logits: out, missing });
  }
  await context.dispose();
  await model.dispose();
  return all;
}

// `monologue eval`'s logits for every position of ids (float32 LE
// [n_tokens, n_vocab], written to a scratch file next to the model).
function monoLogits(gguf, ids, opts = {}) {
  const file = opts.file || gguf + '.logits.bin';
  const args = ['eval', '-m', gguf, '--tokens', ids.join(','), '--logits-out', file, '-t', String(opts.threads || 2)];
  if (opts.kv) args.push('--kv', opts.kv);
  execFileSync(BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const b = fs.readFileSync(file);
  fs.unlinkSync(file);
  return new Float32Array(new Uint8Array(b).buffer);
}

function monoTokenize(tokenizer, text) {
  return JSON.parse(execFileSync(BIN, ['tokenize', '-t', tokenizer], { input: text }).toString());
}

function argmax(a, off, n) {
  let best = 0;
  for (let i = 1; i < n; i++) if (a[off + i] > a[off + best]) best = i;
  return best;
}

// log softmax of a[off .. off+n) in float64 (into out, a Float64Array(n)).
function logSoftmax(a, off, n, out) {
  let m = -Infinity;
  for (let i = 0; i < n; i++) if (a[off + i] > m) m = a[off + i];
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(a[off + i] - m);
  const lse = m + Math.log(s);
  for (let i = 0; i < n; i++) out[i] = a[off + i] - lse;
  return out;
}

module.exports = { ROOT, PEERS, BIN, llamaLoad, llamaLogits, llamaLogitsMany, monoLogits, monoTokenize, argmax, logSoftmax };
