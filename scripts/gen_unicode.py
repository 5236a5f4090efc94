#!/usr/bin/env python3
"""gen_unicode.py -- generates src/tokenizer/unicode_tables.c from the Unicode
Character Database that Debian's `unicode-data` package installs in
/usr/share/unicode (Unicode 15.0 on Debian 12).

What the tokenizer needs, and nothing more:
  * per code point property bits: Letter (\\p{L} = Lu Ll Lt Lm Lo),
    Number (\\p{N} = Nd Nl No), White_Space (what \\s means in Unicode-aware
    regex engines: PropList.txt), NFC_QC=No and NFC_QC=Maybe, Alphabetic
    and Word (what Rust regex's \\w matches: Alphabetic, marks, Nd, Pc and
    Join_Control; Hugging Face's single_word added tokens look at it);
  * canonical combining classes;
  * full (recursive) canonical decompositions, Hangul excluded (algorithmic);
  * primary composites: pairs (a, b) -> c for canonical decompositions of
    length two that are not Full_Composition_Exclusion.

Normalization data is limited to what Unicode NFC_AGE (9.0) assigned, because
that is what Hugging Face's NFC normalizer (the unicode-normalization-alignments
crate) knows: probing tokenizers 0.23.2 shows combining marks of Unicode 10.0
and later are not reordered by it. Characters assigned later get combining
class 0, no decomposition, no composition and the NFC_NEW bit; the letter,
number and space classes use the full current data (the regex engine's data
is current: checked against every code point).

The regex classes, in turn, must match Hugging Face's regex engine
(Oniguruma), whose data is Unicode 16.0, newer than Debian's 15.0: the letters
and digits assigned in 15.1 and 16.0 are listed in UNICODE_16_ADDITIONS below
(from the Unicode 16.0 UCD; scripts/probe_hf_classes.js checks every code
point against Hugging Face and found exactly these 29 ranges to differ).

Lookups use two-stage tables (code point >> 8 selects a 256-entry block;
identical blocks are shared), so a lookup is two loads.

Run: /usr/bin/python3 scripts/gen_unicode.py [UCD_DIR]  (then commit the output)
"""
import os
import sys

UCD = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/unicode"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "tokenizer", "unicode_tables.c")
MAXCP = 0x110000

LETTER, NUMBER, SPACE, NFC_NO, NFC_MAYBE, ALPHA, NFC_NEW, WORD = 1, 2, 4, 8, 16, 32, 64, 128
NFC_AGE = (9, 0)


# Letters (L) and decimal digits (N) new in Unicode 15.1 and 16.0.
UNICODE_16_ADDITIONS = [
    (0x1C89, 0x1C8A, "L"), (0xA7CB, 0xA7CD, "L"), (0xA7DA, 0xA7DC, "L"), (0x105C0, 0x105F3, "L"),
    (0x10D40, 0x10D49, "N"), (0x10D4A, 0x10D65, "L"), (0x10D6F, 0x10D85, "L"), (0x10EC2, 0x10EC4, "L"),
    (0x11380, 0x11389, "L"), (0x1138B, 0x1138B, "L"), (0x1138E, 0x1138E, "L"), (0x11390, 0x113B5, "L"),
    (0x113B7, 0x113B7, "L"), (0x113D1, 0x113D1, "L"), (0x113D3, 0x113D3, "L"), (0x116D0, 0x116E3, "N"),
    (0x11BC0, 0x11BE0, "L"), (0x11BF0, 0x11BF9, "N"), (0x13460, 0x143FA, "L"), (0x16100, 0x1611D, "L"),
    (0x16130, 0x16139, "N"), (0x16D40, 0x16D6C, "L"), (0x16D70, 0x16D79, "N"), (0x18CFF, 0x18CFF, "L"),
    (0x1CCF0, 0x1CCF9, "N"), (0x1E5D0, 0x1E5ED, "L"), (0x1E5F0, 0x1E5F0, "L"), (0x1E5F1, 0x1E5FA, "N"),
    (0x2EBF0, 0x2EE5D, "L"),
]


def strip(line):
    return line.split("#", 1)[0].strip()


def parse_range(field):
    if ".." in field:
        a, b = field.split("..")
        return int(a, 16), int(b, 16)
    return int(field, 16), int(field, 16)


def read_unicode_data():
    gc = {}
    ccc = {}
    decomp = {}
    first = None
    with open(os.path.join(UCD, "UnicodeData.txt"), encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split(";")
            cp = int(p[0], 16)
            name, cat, cls, dec = p[1], p[2], int(p[3]), p[5]
            if name.endswith(", First>"):
                first = cp
                continue
            lo = first if name.endswith(", Last>") else cp
            first = None
            for c in range(lo, cp + 1):
                gc[c] = cat
                if cls:
                    ccc[c] = cls
            if dec and not dec.startswith("<"):
                decomp[cp] = [int(x, 16) for x in dec.split()]
    return gc, ccc, decomp


def read_prop(path, wanted):
    out = {}
    with open(os.path.join(UCD, path), encoding="utf-8") as f:
        for line in f:
            s = strip(line)
            if not s:
                continue
            fields = [x.strip() for x in s.split(";")]
            if fields[1] != wanted:
                continue
            lo, hi = parse_range(fields[0])
            val = fields[2] if len(fields) > 2 else True
            for c in range(lo, hi + 1):
                out[c] = val
    return out


def read_ages():
    ages = {}
    with open(os.path.join(UCD, "DerivedAge.txt"), encoding="utf-8") as f:
        for line in f:
            s = strip(line)
            if not s:
                continue
            rng, ver = [x.strip() for x in s.split(";")]
            lo, hi = parse_range(rng)
            v = tuple(int(x) for x in ver.split("."))
            for c in range(lo, hi + 1):
                ages[c] = v
    return ages


def version():
    with open(os.path.join(UCD, "DerivedNormalizationProps.txt"), encoding="utf-8") as f:
        head = f.readline()
    return head.split("-")[1].split(".txt")[0] if "-" in head else "unknown"


def two_stage(values, name, ctype):
    blocks = {}
    stage1 = []
    stage2 = []
    for b in range(MAXCP >> 8):
        blk = tuple(values[(b << 8):(b << 8) + 256])
        if blk not in blocks:
            blocks[blk] = len(blocks)
            stage2.extend(blk)
        stage1.append(blocks[blk])
    s1type = "uint8_t" if len(blocks) <= 256 else "uint16_t"
    lines = ["static const %s %s_stage1[%d] = {" % (s1type, name, len(stage1))]
    for i in range(0, len(stage1), 16):
        lines.append("    " + ",".join(str(x) for x in stage1[i:i + 16]) + ",")
    lines.append("};")
    lines.append("static const %s %s_stage2[%d] = {" % (ctype, name, len(stage2)))
    for i in range(0, len(stage2), 32):
        lines.append("    " + ",".join(str(x) for x in stage2[i:i + 32]) + ",")
    lines.append("};")
    return "\n".join(lines)


def main():
    gc, ccc, decomp = read_unicode_data()
    white = read_prop("PropList.txt", "White_Space")
    nfc_qc = read_prop("DerivedNormalizationProps.txt", "NFC_QC")
    fce = read_prop("DerivedNormalizationProps.txt", "Full_Composition_Exclusion")
    alpha = read_prop("DerivedCoreProperties.txt", "Alphabetic")
    join_control = read_prop("PropList.txt", "Join_Control")
    ages = read_ages()
    new = {c for c, v in ages.items() if v > NFC_AGE}
    ccc = {c: v for c, v in ccc.items() if c not in new}
    decomp = {c: v for c, v in decomp.items() if c not in new}
    nfc_qc = {c: v for c, v in nfc_qc.items() if c not in new}

    props = [0] * MAXCP
    for c, cat in gc.items():
        if cat[0] == "L":
            props[c] |= LETTER
        elif cat[0] == "N":
            props[c] |= NUMBER
    for c in white:
        props[c] |= SPACE
    for lo, hi, cls in UNICODE_16_ADDITIONS:
        for c in range(lo, hi + 1):
            assert c not in gc, "U+%04X is already assigned" % c
            props[c] |= (LETTER | ALPHA | WORD | NFC_NEW) if cls == "L" else (NUMBER | WORD | NFC_NEW)
    for c in alpha:
        props[c] |= ALPHA | WORD
    for c in join_control:
        props[c] |= WORD
    for c, cat in gc.items():
        if cat in ("Mn", "Mc", "Me", "Nd", "Pc"):
            props[c] |= WORD
    for c in new:
        props[c] |= NFC_NEW
    for c, v in nfc_qc.items():
        props[c] |= NFC_NO if v == "N" else NFC_MAYBE
    cccv = [0] * MAXCP
    for c, v in ccc.items():
        cccv[c] = v

    def full(c):
        if c not in decomp:
            return [c]
        r = []
        for x in decomp[c]:
            r.extend(full(x))
        return r

    dec_cps = sorted(decomp)
    dec_data = []
    dec_index = []
    for c in dec_cps:
        seq = full(c)
        assert len(seq) < 16
        dec_index.append((c, len(dec_data), len(seq)))
        dec_data.extend(seq)
    comp = []
    for c in dec_cps:
        d = decomp[c]
        if len(d) == 2 and c not in fce:
            comp.append((d[0], d[1], c))
    comp.sort()

    out = []
    out.append("/*\n * unicode_tables.c -- GENERATED by scripts/gen_unicode.py from the Unicode %s\n"
               " * Character Database (/usr/share/unicode). Do not edit: rerun the script.\n"
               " *\n * Property bits, canonical combining classes, canonical decompositions and\n"
               " * primary composites, as described in unicode_tables.h.\n */" % version())
    out.append('#include "tokenizer/unicode_tables.h"\n')
    out.append('const char mono_unicode_version[] = "%s";\n' % version())
    out.append(two_stage(props, "props", "uint8_t"))
    out.append(two_stage(cccv, "ccc", "uint8_t"))
    out.append("\n/* Full canonical decompositions: {code point, offset, length}, sorted. */")
    out.append("static const uint32_t decomp_data[%d] = {" % len(dec_data))
    for i in range(0, len(dec_data), 12):
        out.append("    " + ",".join("0x%X" % x for x in dec_data[i:i + 12]) + ",")
    out.append("};")
    out.append("static const struct { uint32_t cp; uint16_t off; uint8_t len; } decomp_index[%d] = {" % len(dec_index))
    for i in range(0, len(dec_index), 6):
        out.append("    " + ",".join("{0x%X,%d,%d}" % t for t in dec_index[i:i + 6]) + ",")
    out.append("};")
    out.append("\n/* Primary composites {first, second, composite}, sorted by (first, second). */")
    out.append("static const struct { uint32_t a, b, c; } comp_pairs[%d] = {" % len(comp))
    for i in range(0, len(comp), 5):
        out.append("    " + ",".join("{0x%X,0x%X,0x%X}" % t for t in comp[i:i + 5]) + ",")
    out.append("};")
    out.append(r"""
uint8_t mono_unicode_props(uint32_t cp) {
    if (cp >= 0x110000) return 0;
    return props_stage2[((size_t)props_stage1[cp >> 8] << 8) | (cp & 0xFF)];
}

uint8_t mono_unicode_ccc(uint32_t cp) {
    if (cp >= 0x110000) return 0;
    return ccc_stage2[((size_t)ccc_stage1[cp >> 8] << 8) | (cp & 0xFF)];
}

size_t mono_unicode_decompose(uint32_t cp, const uint32_t **seq) {
    size_t lo = 0, hi = sizeof decomp_index / sizeof *decomp_index;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (decomp_index[mid].cp < cp) lo = mid + 1;
        else hi = mid;
    }
    if (lo < sizeof decomp_index / sizeof *decomp_index && decomp_index[lo].cp == cp) {
        *seq = decomp_data + decomp_index[lo].off;
        return decomp_index[lo].len;
    }
    return 0;
}

uint32_t mono_unicode_compose(uint32_t a, uint32_t b) {
    size_t lo = 0, hi = sizeof comp_pairs / sizeof *comp_pairs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (comp_pairs[mid].a < a || (comp_pairs[mid].a == a && comp_pairs[mid].b < b)) lo = mid + 1;
        else hi = mid;
    }
    if (lo < sizeof comp_pairs / sizeof *comp_pairs && comp_pairs[lo].a == a && comp_pairs[lo].b == b)
        return comp_pairs[lo].c;
    return 0;
}
""")
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    print("wrote %s (Unicode %s): %d decompositions, %d composites" % (OUT, version(), len(dec_index), len(comp)))


if __name__ == "__main__":
    main()
