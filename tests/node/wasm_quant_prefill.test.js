// wasm_quant_prefill.test.js -- the WebAssembly build's prefill of quantized
// models end to end: the shipped model (models/default) re-quantized by the
// native CLI to Q4_0, Q5_1, Q4_K_M (Q4_K + Q6_K + fallbacks), Q3_K_M and
// Q2_K, then `monologue eval` of one 48-token sequence in wasm (SIMD128:
// quant_wasm_gemm.h does every matrix product of the prefill) against the
// native portable kernels (MONO_ISA=portable: the oracle, one vec_dot per
// row and token). The products agree to float rounding, but every layer
// re-quantizes its activations to 8 bits, so a rounding flip now and then
// moves the logits by a little: the bounds (largest logit difference per
// position under 5% of the largest logit, mean under 2%, same argmax at 90%
// of positions) sit well above that and far below what a wrong kernel gives.
//
// Builds build/emscripten/monologue.js (make -C wasm) and build/monologue.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const NATIVE = path.join(ROOT, 'build', 'monologue');
const JS = path.join(ROOT, 'build', 'emscripten', 'monologue.js');
const MODEL = path.join(ROOT, 'models', 'default', 'model.gguf');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'mono-wasm-quant-'));

let failures = 0;
function check(ok, msg) {
  console.log((ok ? 'ok   ' : 'FAIL ') + msg);
  if (!ok) failures++;
  return ok;
}

function readLogits(file, nVocab) {
  const buf = fs.readFileSync(file);
  const f = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const rows = [];
  for (let i = 0; i + nVocab <= f.length; i += nVocab) rows.push(f.subarray(i, i + nVocab));
  return rows;
}

function argmax(a) {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

function main() {
  if (!fs.existsSync(MODEL)) {
    console.log('SKIP wasm_quant_prefill: no models/default/model.gguf');
    return;
  }
  execFileSync('make', ['-s', '-C', ROOT, '-j2', 'build/monologue'], { stdio: 'inherit' });
  execFileSync('make', ['-s', '-C', path.join(ROOT, 'wasm'), '-j2'], { stdio: 'inherit' });
  const nVocab = 8192;
  const ids = [];
  for (let i = 0; i < 48; i++) ids.push(100 + ((i * 1237 + 11) % 8000));
  const types = [['q4_0', true], ['q5_1', true], ['q4_k_m', false], ['q3_k_m', false], ['q2_k', false]];
  for (const [type, pure] of types) {
    const gguf = path.join(TMP, type + '.gguf');
    execFileSync(NATIVE, ['quantize', ...(pure ? ['--pure'] : []), MODEL, gguf, type], { stdio: 'pipe' });
    const nat = path.join(TMP, type + '.native.bin'), wasm = path.join(TMP, type + '.wasm.bin');
    const args = ['eval', '-m', gguf, '--tokens', ids.join(','), '-t', '1'];
    execFileSync(NATIVE, [...args, '--logits-out', nat], { stdio: 'pipe', env: { ...process.env, MONO_ISA: 'portable' } });
    const err = execFileSync('node', [JS, ...args, '--logits-out', wasm], { stdio: ['ignore', 'pipe', 'pipe'] });
    const a = readLogits(nat, nVocab), b = readLogits(wasm, nVocab);
    if (!check(a.length === ids.length && b.length === ids.length, `${type}: ${ids.length} rows of logits from both`)) continue;
    let worst = 0, sum = 0, same = 0;
    for (let p = 0; p < a.length; p++) {
      let big = 0, d = 0;
      for (let v = 0; v < nVocab; v++) {
        big = Math.max(big, Math.abs(a[p][v]));
        d = Math.max(d, Math.abs(a[p][v] - b[p][v]));
      }
      const rel = d / Math.max(big, 1e-6);
      worst = Math.max(worst, rel);
      sum += rel;
      same += argmax(a[p]) === argmax(b[p]);
    }
    const mean = sum / a.length;
    check(worst < 0.05 && mean < 0.02 && same >= 0.9 * a.length,
      `${type}: wasm prefill vs native portable: largest logit difference ${(100 * worst).toFixed(2)}% ` +
      `(mean ${(100 * mean).toFixed(2)}%) of the largest logit, argmax same at ${same}/${a.length}`);
    void err;
  }
}

try {
  main();
} finally {
  fs.rmSync(TMP, { recursive: true, force: true });
}
if (failures) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('wasm_quant_prefill: all checks passed');
