// wasm_golden.test.js -- the WebAssembly build (wasm/Makefile, Emscripten,
// MONO_NO_MMAP, one thread) against the Hugging Face golden references:
// `monologue eval` logits for every position within 1e-4 of the largest
// expected logit with the same argmax, and `monologue run --temp 0` giving
// the reference greedy continuation token for token -- for every golden
// model (F32, BF16, F16 weights).
//
// Builds build/emscripten/monologue.js first (make -C wasm; up to date is a
// no-op). Env: MONO_SHARED (default ../shared).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const SHARED = process.env.MONO_SHARED || path.resolve(ROOT, '..', 'shared');
const JS = path.join(ROOT, 'build', 'emscripten', 'monologue.js');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'mono-wasm-'));
const TOL = 1e-4;

let failures = 0;
function check(ok, msg) {
  console.log((ok ? 'ok   ' : 'FAIL ') + msg);
  if (!ok) failures++;
}

// A safetensors file's tensors as typed arrays (F32, I32 only: what the goldens hold).
function readSafetensors(file) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const out = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [a, b] = t.data_offsets;
    const bytes = buf.subarray(8 + n + a, 8 + n + b);
    const copy = new Uint8Array(bytes).buffer; // aligned copy
    out[name] = { shape: t.shape, data: t.dtype === 'I32' ? new Int32Array(copy) : new Float32Array(copy) };
  }
  return out;
}

function wasm(args) {
  return execFileSync('node', [JS, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

function checkModel(name) {
  const dir = path.join(SHARED, 'golden', 'models', name);
  if (!fs.existsSync(dir)) { console.log(`skip ${name}: no golden folder`); return; }
  const exp = readSafetensors(path.join(dir, 'expected.safetensors'));
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
  const ids = Array.from(exp.input_ids.data);
  const [T, V] = exp.logits.shape;
  const want = exp.logits.data;

  const out = path.join(TMP, name + '.bin');
  wasm(['eval', '-m', dir, '--tokens', ids.join(','), '--logits-out', out]);
  const b = fs.readFileSync(out);
  const got = new Float32Array(new Uint8Array(b).buffer);
  check(got.length === T * V, `${name}: eval wrote ${got.length / V} x ${V} logits (want ${T} x ${V})`);
  let scale = 0, worst = 0, bad = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  for (let p = 0; p < T; p++) {
    let ag = 0, aw = 0;
    for (let i = 1; i < V; i++) {
      if (got[p * V + i] > got[p * V + ag]) ag = i;
      if (want[p * V + i] > want[p * V + aw]) aw = i;
    }
    if (ag !== aw) bad++;
  }
  check(worst / scale <= TOL, `${name}: logits within ${(worst / scale).toExponential(3)} of max |logit| (bound ${TOL})`);
  check(bad === 0, `${name}: argmax equal at all ${T} positions (${bad} differ)`);

  const gen = wasm(['run', '-m', dir, '--tokens', json.prompt_ids.join(','), '-n', String(json.greedy_ids.length),
    '--temp', '0', '--print-ids', '-q']).trim();
  check(gen === json.greedy_ids.join(' '), `${name}: greedy continuation of ${json.greedy_ids.length} tokens matches` +
    (gen === json.greedy_ids.join(' ') ? '' : `: got ${gen}`));
}

function main() {
  execFileSync('make', ['-s', '-C', path.join(ROOT, 'wasm'), '-j2'], { stdio: 'inherit' });
  check(fs.existsSync(JS), 'built ' + path.relative(ROOT, JS));
  const version = wasm(['run', '-m', path.join(SHARED, 'golden', 'models', 'tiny-f32'), '--tokens', '1,2', '-n', '1',
    '--temp', '0', '--print-ids']);
  check(/^\d+\s*$/.test(version), 'the wasm CLI runs (one token generated)');
  for (const m of ['tiny-f32', 'small-bf16-untied', 'f16-mha']) checkModel(m);
  fs.rmSync(TMP, { recursive: true, force: true });
  console.log(failures ? `wasm_golden: ${failures} FAILED` : 'wasm_golden: all passed');
  process.exit(failures ? 1 : 0);
}

try { main(); } catch (e) { console.log('FAIL ' + (e.stderr ? e.stderr.toString() : '') + (e.stack || e)); process.exit(1); }
