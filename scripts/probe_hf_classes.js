// probe_hf_classes.js -- asks Hugging Face's tokenizers (npm tokenizers@0.23.2,
// whose regex engine decides \p{L}, \p{N} and \s) for the class of every code
// point. With CLASSES_FILE (one letter per code point, L N S O, e.g. printed
// from mono_unicode_props by a throwaway C loop) it prints the ranges where
// the two disagree; without, it prints its own letters. Used to find
// UNICODE_16_ADDITIONS in gen_unicode.py; takes about half a minute.
//
//   node scripts/probe_hf_classes.js [CLASSES_FILE]
'use strict';
const fs = require('fs');
const path = require('path');
const { byteLevelPreTokenizer } = require(path.join(__dirname, '..', 'tools', 'peers', 'node_modules', 'tokenizers'));

// GPT-2's regex: "a"+c is one piece iff c is a letter, "1"+c iff a digit,
// "."+c iff neither nor a space.
const pt = byteLevelPreTokenizer(false, true);
const pieces = (s) => pt.preTokenizeString(s).length;
const hf = [];
for (let cp = 0; cp < 0x110000; cp++) {
  if (cp >= 0xD800 && cp < 0xE000) { hf.push('O'); continue; }
  const c = String.fromCodePoint(cp);
  hf.push(pieces('a' + c) === 1 ? 'L' : pieces('1' + c) === 1 ? 'N' : pieces('.' + c) === 1 ? 'O' : 'S');
}
if (process.argv[2]) {
  const mine = fs.readFileSync(process.argv[2], 'utf8');
  let start = -1;
  for (let cp = 0; cp <= 0x110000; cp++) {
    const differs = cp < 0x110000 && mine[cp] !== hf[cp];
    if (differs && start < 0) start = cp;
    if (start >= 0 && (!differs || mine[cp] !== mine[start] || hf[cp] !== hf[start])) {
      console.log(`${start.toString(16).toUpperCase()}..${(cp - 1).toString(16).toUpperCase()} ours ${mine[start]} hf ${hf[start]}`);
      start = differs ? cp : -1;
    }
  }
} else {
  process.stdout.write(hf.join(''));
}
