// train_default_llama.test.js -- the shipped default model
// (models/default/model.gguf, written by train/export.py) loads in llama.cpp
// (v0.5.0 via npm node-llama-cpp 3.22.1, CPU), which reads our qwen2 keys,
// tensors and tokenizer metadata: llama.cpp's tokenizer gives Monologue's
// ids for the prompts, and along `monologue run --temp 0`'s greedy
// continuation llama.cpp's argmax is the same token at every step, except at
// near-ties (gap <= 1% of the top logit): both engines multiply Q8_0 weights
// by Q8-rounded activations, in different orders.
//
// Env: MONO_BIN (default build/monologue).
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const PEERS = path.join(ROOT, 'tools', 'peers', 'node_modules');
const BIN = process.env.MONO_BIN || path.join(ROOT, 'build', 'monologue');
const GGUF = path.join(ROOT, 'models', 'default', 'model.gguf');
const PROMPTS = ['The President said that', 'In the beginning God created',
  'Blessed is the man who', 'Python is a programming language that'];
const N = 24;

let failures = 0;
function check(ok, msg) {
  console.log((ok ? 'ok   ' : 'FAIL ') + msg);
  if (!ok) failures++;
}

function monoIds(text) {
  return JSON.parse(execFileSync(BIN, ['tokenize', '-t', GGUF], { input: text }).toString());
}

function monoGreedy(ids) {
  const out = execFileSync(BIN, ['run', '-m', GGUF, '--tokens', ids.join(','), '-n', String(N), '--temp', '0',
    '--print-ids', '-q', '-t', '2']).toString();
  return out.trim().split(/\s+/).filter((s) => s).map(Number);
}

function argmax(map) {
  let best = -1, bv = -Infinity;
  for (const [tok, v] of map) if (v > bv) { bv = v; best = tok; }
  return best;
}

async function main() {
  if (!fs.existsSync(GGUF) || !fs.existsSync(BIN)) {
    console.log('skip: models/default/model.gguf or build/monologue missing');
    return;
  }
  const { getLlama } = await import(path.join(PEERS, 'node-llama-cpp', 'dist', 'index.js'));
  const llama = await getLlama({ gpu: false, build: 'never', usePrebuiltBinaries: true, skipDownload: true, logLevel: 'error' });
  const model = await llama.loadModel({ modelPath: GGUF, gpuLayers: 0 });
  check(model.trainContextSize === 512, `llama.cpp reads context length ${model.trainContextSize}`);
  const eot = model.tokenize('<|endoftext|>', true);
  check(eot.length === 1 && eot[0] === 8189, `llama.cpp sees <|endoftext|> as special id ${eot}`);
  for (const text of PROMPTS) {
    const ids = Array.from(model.tokenize(text));
    const mine = monoIds(text);
    check(JSON.stringify(ids) === JSON.stringify(mine), `tokenize ${JSON.stringify(text)}: llama.cpp [${ids}] monologue [${mine}]`);
    const context = await model.createContext({ contextSize: 128, batchSize: 128, threads: 2 });
    const seq = context.getSequence();
    let res = await seq.controlledEvaluate(ids.map((t, i) => (i === ids.length - 1 ? [t, { generateNext: { logits: true } }] : t)));
    // Feed monologue's greedy tokens to llama.cpp: at every step llama.cpp's
    // argmax must be that token, or (at a near-tie between Q8 rounding
    // orders) within 1% of the largest logit's magnitude below it.
    const ours = monoGreedy(mine);
    let agree = 0, tie = null;
    for (let k = 0; k < ours.length; k++) {
      const map = res[res.length - 1].next.logits;
      const best = argmax(map);
      if (best === ours[k]) agree++;
      else {
        const top = map.get(best), mineV = map.get(ours[k]);
        tie = { k, gap: top - mineV, scale: Math.abs(top) };
        if (!(tie.gap <= 0.01 * tie.scale)) break;
      }
      if (k + 1 < ours.length) res = await seq.controlledEvaluate([[ours[k], { generateNext: { logits: true } }]]);
    }
    await context.dispose();
    check(ours.length === N && (agree === N || (tie && tie.gap <= 0.01 * tie.scale)),
      `greedy ${JSON.stringify(text)}: llama.cpp's argmax = monologue's token at ${agree}/${N} steps` +
      (tie ? ` (step ${tie.k}: gap ${tie.gap.toFixed(4)} of ${tie.scale.toFixed(2)})` : ''));
  }
  await model.dispose();
  await llama.dispose();
  console.log(failures ? `train_default_llama: ${failures} FAILED` : 'train_default_llama: all passed');
  process.exit(failures ? 1 : 0);
}

main().catch((e) => { console.log('FAIL ' + (e && e.stack || e)); process.exit(1); });
