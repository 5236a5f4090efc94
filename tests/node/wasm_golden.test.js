// wasm_golden.test.js -- the WebAssembly build (wasm/Makefile, Emscripten,
// MONO_NO_MMAP, one thread) against the Hugging Face golden references:
// `monologue eval` logits for every position within 1e-4 of the largest
// expected logit with the same argmax, and `monologue run --temp 0` giving
// the reference greedy continuation token for token -- for every golden
// model (F32, BF16, F16 weights). Then the browser library
// (build/emscripten/monologue_lib.js, wasm/wasm_api.c): each golden model is
// re-packed here in JavaScript as a GGUF image in memory, loaded with
// mono_model_load_from_memory (no file system at all), and must give the
// same logits and greedy continuation; a truncated image is refused with a
// message.
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
  return ok;
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

// Raw tensors of a safetensors file: {name: {dtype, shape, bytes}}.
function readRawSafetensors(file) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const out = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    out[name] = { dtype: t.dtype, shape: t.shape, bytes: buf.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]) };
  }
  return out;
}

// GGUF v3 image of a Hugging Face Qwen2 folder (what a browser app would fetch).
function ggufImage(dir) {
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const theta = cfg.rope_theta || (cfg.rope_parameters && cfg.rope_parameters.rope_theta);
  const st = readRawSafetensors(path.join(dir, 'model.safetensors'));
  const rename = (n) => n.replace('model.embed_tokens.', 'token_embd.').replace('model.norm.', 'output_norm.')
    .replace('lm_head.', 'output.').replace(/^model\.layers\.(\d+)\./, 'blk.$1.')
    .replace('input_layernorm.', 'attn_norm.').replace('post_attention_layernorm.', 'ffn_norm.')
    .replace(/self_attn\.([qkv])_proj\./, 'attn_$1.').replace('self_attn.o_proj.', 'attn_output.')
    .replace(/mlp\.(gate|up|down)_proj\./, 'ffn_$1.');
  const types = { F32: 0, F16: 1, BF16: 30 };
  const parts = [];
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
  const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; };
  const str = (x) => Buffer.concat([u64(Buffer.byteLength(x)), Buffer.from(x)]);
  const kvs = [['general.architecture', 8, str('qwen2')],
    ['qwen2.block_count', 4, u32(cfg.num_hidden_layers)], ['qwen2.embedding_length', 4, u32(cfg.hidden_size)],
    ['qwen2.feed_forward_length', 4, u32(cfg.intermediate_size)],
    ['qwen2.attention.head_count', 4, u32(cfg.num_attention_heads)],
    ['qwen2.attention.head_count_kv', 4, u32(cfg.num_key_value_heads)],
    ['qwen2.context_length', 4, u32(cfg.max_position_embeddings)]];
  const f32 = (v) => { const b = Buffer.alloc(4); b.writeFloatLE(v); return b; };
  kvs.push(['qwen2.rope.freq_base', 6, f32(theta)], ['qwen2.attention.layer_norm_rms_epsilon', 6, f32(cfg.rms_norm_eps)]);
  const names = Object.keys(st).sort();
  parts.push(Buffer.from('GGUF'), u32(3), u64(names.length), u64(kvs.length));
  for (const [k, t, v] of kvs) parts.push(str(k), u32(t), v);
  let off = 0;
  const datas = [];
  for (const n of names) {
    const t = st[n];
    const ne = t.shape.slice().reverse();
    parts.push(str(rename(n)), u32(ne.length), ...ne.map(u64), u32(types[t.dtype]), u64(off));
    const padded = Buffer.alloc(Math.ceil(t.bytes.length / 32) * 32);
    t.bytes.copy(padded);
    datas.push(padded);
    off += padded.length;
  }
  let head = Buffer.concat(parts);
  head = Buffer.concat([head, Buffer.alloc((32 - (head.length % 32)) % 32)]);
  return Buffer.concat([head, ...datas]);
}

function libCheck(M, name) {
  const dir = path.join(SHARED, 'golden', 'models', name);
  if (!fs.existsSync(dir)) return;
  const exp = readSafetensors(path.join(dir, 'expected.safetensors'));
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
  const [T, V] = exp.logits.shape;
  const img = ggufImage(dir);
  const err = M._malloc(512);
  const p = M._malloc(img.length);
  M.HEAPU8.set(img, p);
  const model = M._monow_model_load(p, img.length, err, 512);
  if (!check(model !== 0, `${name}: browser library loads the GGUF image from memory` +
    (model ? '' : ': ' + M.UTF8ToString(err)))) return;
  check(M._monow_model_n_vocab(model) === V, `${name}: n_vocab ${V}`);
  const ctx = M._monow_context_init(model, 128, 0, err, 512);
  const ids = M._malloc(4 * T);
  M.HEAP32.set(exp.input_ids.data, ids >> 2);
  const lg = M._monow_context_eval(ctx, ids, T, 1, err, 512);
  let scale = 0, worst = 0;
  if (check(lg !== 0, `${name}: eval from memory` + (lg ? '' : ': ' + M.UTF8ToString(err)))) {
    const got = M.HEAPF32.subarray(lg >> 2, (lg >> 2) + T * V);
    for (let i = 0; i < T * V; i++) {
      scale = Math.max(scale, Math.abs(exp.logits.data[i]));
      const d = Math.abs(got[i] - exp.logits.data[i]);
      if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
    }
    check(worst / scale <= TOL, `${name}: library logits within ${(worst / scale).toExponential(3)} (bound ${TOL})`);
  }
  // greedy, one token per call, after rewinding to the prompt
  M._monow_context_truncate(ctx, 0);
  M.HEAP32.set(json.prompt_ids, ids >> 2);
  let out = M._monow_context_eval(ctx, ids, json.prompt_ids.length, 0, err, 512);
  const gen = [];
  for (let i = 0; i < json.greedy_ids.length && out; i++) {
    const row = M.HEAPF32.subarray(out >> 2, (out >> 2) + V);
    let best = 0;
    for (let j = 1; j < V; j++) if (row[j] > row[best]) best = j;
    gen.push(best);
    M.HEAP32[ids >> 2] = best;
    out = M._monow_context_eval(ctx, ids, 1, 0, err, 512);
  }
  check(gen.join(' ') === json.greedy_ids.join(' '), `${name}: library greedy continuation matches (${gen.length} tokens)`);
  // too long for the context: refused with a message, nothing crashes
  const big = M._monow_context_eval(ctx, ids, 1000, 0, err, 512);
  check(big === 0 && /context/.test(M.UTF8ToString(err)), `${name}: over-long eval refused: ${M.UTF8ToString(err)}`);
  M._monow_context_free(ctx);
  M._monow_model_free(model);
  // a truncated image
  const bad = M._monow_model_load(p, Math.floor(img.length / 3), err, 512);
  check(bad === 0 && M.UTF8ToString(err).length > 0, `${name}: truncated image refused: ${M.UTF8ToString(err)}`);
  M._free(p); M._free(ids); M._free(err);
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
  const createMonologue = require(path.join(ROOT, 'build', 'emscripten', 'monologue_lib.js'));
  const M = createMonologue();
  for (const m of ['tiny-f32', 'small-bf16-untied', 'f16-mha']) libCheck(M, m);
  fs.rmSync(TMP, { recursive: true, force: true });
  console.log(failures ? `wasm_golden: ${failures} FAILED` : 'wasm_golden: all passed');
  process.exit(failures ? 1 : 0);
}

try { main(); } catch (e) { console.log('FAIL ' + (e.stderr ? e.stderr.toString().slice(-2000) : '') + (e.stack || e)); process.exit(1); }
