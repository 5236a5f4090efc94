// gguf_llama.test.js -- GGUF files written by Monologue's writer load in
// llama.cpp (v0.5.0 through npm node-llama-cpp 3.22.1, CPU) and compute what
// Hugging Face computed.
//
// Each golden Hugging Face folder is converted with `monologue convert`
// (as f32, and as stored: bf16 / f16 matrices), read back with
// `monologue info`, loaded by llama.cpp, and run on the golden input_ids.
// llama.cpp's logits at every position are compared with the golden HF
// logits (expected.safetensors): a failure here points at the writer or the
// converter (metadata keys, shapes, tensor names, data layout), since both
// llama.cpp and transformers are independent of this project.
//   f32:     max |diff| <= 1e-5 x max |logit| (seen: < 1e-6), same argmax
//            everywhere; Monologue's own `monologue eval` on the same GGUF
//            file must meet the golden bound too (1e-4, same argmax).
//   stored:  llama.cpp rounds activations to bf16/f16 for those dot products,
//            so the bound is 1e-2 (seen: 5e-3 bf16, 5e-4 f16) and argmax may
//            differ only at near-ties (at most one position).
//
// Env: MONO_BIN (default build/monologue), MONO_SHARED (default ../shared).
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const PEERS = path.join(ROOT, 'tools', 'peers', 'node_modules');
const BIN = process.env.MONO_BIN || path.join(ROOT, 'build', 'monologue');
const SHARED = process.env.MONO_SHARED || path.resolve(ROOT, '..', 'shared');
const OUT = path.join(ROOT, 'build', 'gguf_llama');

let failures = 0;
function check(ok, msg) {
  console.log((ok ? 'ok   ' : 'FAIL ') + msg);
  if (!ok) failures++;
}

// A safetensors file's tensors as {dtype, shape, data: TypedArray}.
function readSafetensors(file) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const out = {};
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [a, b] = e.data_offsets;
    const bytes = buf.subarray(8 + n + a, 8 + n + b);
    const copy = new Uint8Array(bytes);   // aligned copy
    const arr = e.dtype === 'F32' ? new Float32Array(copy.buffer) : e.dtype === 'I32' ? new Int32Array(copy.buffer) : null;
    out[name] = { dtype: e.dtype, shape: e.shape, data: arr };
  }
  return out;
}

function argmax(a, off, n) {
  let best = 0;
  for (let i = 1; i < n; i++) if (a[off + i] > a[off + best]) best = i;
  return best;
}

const MODELS = [
  { name: 'tiny-f32', vocab: 1024, stored: 'f32' },
  { name: 'small-bf16-untied', vocab: 2048, stored: 'bf16' },
  { name: 'f16-mha', vocab: 1536, stored: 'f16' },
];

async function runOne(llama, m, type) {
  const dir = path.join(SHARED, 'golden', 'models', m.name);
  const gguf = path.join(OUT, `${m.name}-${type}.gguf`);
  const tag = `[${m.name} as ${type}]`;
  const args = ['convert', '-m', dir, '-o', gguf];
  if (type === 'f32') args.push('--type', 'f32');
  execFileSync(BIN, args, { stdio: 'inherit' });
  const info = execFileSync(BIN, ['info', '-m', gguf]).toString();
  check(new RegExp(`^vocabulary: +${m.vocab}$`, 'm').test(info) && /^tokenizer: +GGUF metadata/m.test(info),
    `${tag} monologue info reads the written file back`);

  const exp = readSafetensors(path.join(dir, 'expected.safetensors'));
  const ids = Array.from(exp.input_ids.data);
  const want = exp.logits.data;
  const V = exp.logits.shape[1];
  check(V === m.vocab, `${tag} golden logits are [${ids.length}, ${V}]`);

  const model = await llama.loadModel({ modelPath: gguf, gpuLayers: 0 });
  check(model.trainContextSize === 4096, `${tag} llama.cpp reads context length ${model.trainContextSize}`);
  const context = await model.createContext({
    contextSize: 256, batchSize: 256, threads: 2, flashAttention: false,
    experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32',
  });
  const seq = context.getSequence();
  const res = await seq.controlledEvaluate(ids.map((t) => [t, { generateNext: { logits: true } }]));
  let scale = 0, worst = 0, argmaxBad = 0, missing = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let p = 0; p < ids.length; p++) {
    const map = res[p] && res[p].next && res[p].next.logits;
    if (!map) { missing++; continue; }
    const row = new Float32Array(V).fill(NaN);
    for (const [tok, v] of map) if (tok < V) row[tok] = v;
    for (let i = 0; i < V; i++) {
      const d = Math.abs(row[i] - want[p * V + i]);
      if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
    }
    if (argmax(row, 0, V) !== argmax(want, p * V, V)) argmaxBad++;
  }
  check(missing === 0, `${tag} llama.cpp gave logits at all ${ids.length} positions (${missing} missing)`);
  const tol = type === 'f32' ? 1e-5 : 1e-2;
  check(worst / scale <= tol, `${tag} llama.cpp vs Hugging Face: max |diff| ${worst.toExponential(3)} = ` +
    `${(worst / scale).toExponential(3)} of max |logit| ${scale.toFixed(3)} (bound ${tol})`);
  if (type === 'f32') check(argmaxBad === 0, `${tag} argmax equal at every position (${argmaxBad} differ)`);
  else check(argmaxBad <= 1, `${tag} argmax differs at ${argmaxBad} of ${ids.length} positions (at most 1)`);
  await context.dispose();
  await model.dispose();
  if (type === 'f32') {
    // the same file through Monologue's GGUF loading path and forward pass
    const file = path.join(OUT, 'mono_logits.bin');
    execFileSync(BIN, ['eval', '-m', gguf, '--tokens', ids.join(','), '--logits-out', file, '-t', '2'],
      { stdio: ['ignore', 'inherit', 'inherit'] });
    const b = fs.readFileSync(file);
    const mine = new Float32Array(new Uint8Array(b).buffer);
    let w = 0, bad = 0;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(mine[i] - want[i]);
      if (!(d <= w)) w = Number.isNaN(d) ? Infinity : d;
    }
    for (let p = 0; p < ids.length; p++) if (argmax(mine, p * V, V) !== argmax(want, p * V, V)) bad++;
    check(mine.length === want.length && w / scale <= 1e-4 && bad === 0,
      `${tag} monologue eval on the GGUF vs Hugging Face: ${(w / scale).toExponential(3)} of max |logit|, ${bad} argmax differ`);
    fs.unlinkSync(file);
  }
  fs.unlinkSync(gguf);
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const { getLlama } = await import(path.join(PEERS, 'node-llama-cpp', 'dist', 'index.js'));
  const llama = await getLlama({ gpu: false, build: 'never', usePrebuiltBinaries: true, skipDownload: true, logLevel: 'error' });
  for (const m of MODELS) {
    await runOne(llama, m, 'f32');
    if (m.stored !== 'f32') await runOne(llama, m, m.stored);
  }
  await llama.dispose();
  console.log(failures ? `gguf_llama: ${failures} FAILED` : 'gguf_llama: all passed');
  process.exit(failures ? 1 : 0);
}

main().catch((e) => { console.log('FAIL ' + (e && e.stack || e)); process.exit(1); });
