#!/usr/bin/env python3
"""Generates datasets/include/w2s/ingest/text/wordpiece_tables.hpp: the per-code-point tables that
let w2s::text::WordPiece reproduce Hugging Face `tokenizers`' BERT uncased
pipeline (BertNormalizer + BertPreTokenizer) bit for bit.

The tables are not derived from a Unicode database but asked of the reference
itself, one code point at a time, so they carry its exact (partly old) Unicode
versions: Rust's `char` tables, the `unicode-normalization` and
`unicode_categories` crates. The classes:
  removed   BertNormalizer(clean_text) deletes the character (controls, format
            characters, private use, U+FFFD, ...);
  chinese   handle_chinese_chars puts spaces around it;
  space     BertPreTokenizer splits on it and drops it (clean_text's white space
            is a subset);
  punct     BertPreTokenizer isolates it;
  mapped    with lowercase=True (strip_accents=None follows it): what NFD, the
            removal of nonspacing marks (Mn) and Rust's char::to_lowercase turn
            it into. Hangul syllables are left to the C++ code, which computes
            their NFD arithmetically; the script checks that formula on all
            11,172 of them.
Then it replays the C++ algorithm over the tables and compares it with the
reference on every code point (inside "a…b") and on random mixed strings, with
lowercase on and off, and refuses to write the header on any difference.

Where per-character composition is not exact: NFD reorders the combining marks
of one combining sequence by canonical combining class, and accent stripping
removes only the nonspacing (Mn) ones. About 25 marks with a nonzero class are
spacing (Mc) and survive: viramas of class 9 (U+1715, U+1B44, U+A953, ...),
U+16FF0..1 (class 6), the Hangul tone marks U+302E..F (224) and the musical
symbol stems, flags and dot U+1D165..6, U+1D16D..72 (216, 226; also produced by
decomposing U+1D15E..64 and U+1D1BB..C0). Two of them in one combining sequence
in descending class order come out swapped from the reference and in text order
from the tables (the reference turns "a" U+1D16D U+1D165 into "a" U+1D165
U+1D16D). No real text does this, so the tables do not carry combining classes;
the random check leaves these marks out and `--show-reordering` prints the case.

Usage (from the repository root, with a virtual environment that has the
reference):
    python3 -m venv /tmp/tokvenv && /tmp/tokvenv/bin/pip install tokenizers
    /tmp/tokvenv/bin/python tools/gen_wordpiece_tables.py
The header records the `tokenizers` version; it was last generated with 0.23.3.
"""
import argparse
import pathlib
import random
import sys
import unicodedata

import tokenizers
from tokenizers.normalizers import BertNormalizer
from tokenizers.pre_tokenizers import BertPreTokenizer

SURROGATES = range(0xD800, 0xE000)
HANGUL = range(0xAC00, 0xD7A4)
SEPARATOR = "|"  # ends each entry of the mapping pool; no mapping contains it


def normalizer(lowercase):
    return BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=lowercase)


def hangul_nfd(cp):
    s = cp - 0xAC00
    t = s % 28
    return chr(0x1100 + s // 588) + chr(0x1161 + (s % 588) // 28) + (chr(0x11A7 + t) if t else "")


def classify():
    """Returns (sets of removed, chinese, space, punct code points, {cp: mapped string})."""
    plain, lower, pre = normalizer(False), normalizer(True), BertPreTokenizer()
    removed, chinese, space, punct, mapped = set(), set(), set(), set(), {}
    for cp in range(0x110000):
        if cp in SURROGATES:
            continue
        c = chr(cp)
        words = [w for w, _ in pre.pre_tokenize_str("a" + c + "a")]
        if words == ["a", "a"]:
            space.add(cp)
        elif words == ["a", c, "a"]:
            punct.add(cp)
        else:
            assert words == ["a" + c + "a"], (hex(cp), words)
        a, b = plain.normalize_str(c), lower.normalize_str(c)
        if a == "":
            removed.add(cp)
            assert b == "", hex(cp)
        elif a == " " and c != " ":  # clean_text's white space: the pre-tokenizer's too
            assert b == " " and cp in space, hex(cp)
        else:
            if a == " " + c + " ":
                chinese.add(cp)
                b = b[1:-1]
            else:
                assert a == c, (hex(cp), a)
            if cp in HANGUL:
                assert b == hangul_nfd(cp), hex(cp)
            elif b != c:
                mapped[cp] = b
    # wordpiece.hpp's ASCII fast path: of ASCII, only A-Z is mapped (to a-z), none is Chinese.
    assert {cp: m for cp, m in mapped.items() if cp < 0x80} == {cp: chr(cp + 32) for cp in range(0x41, 0x5B)}
    assert not any(cp < 0x80 for cp in chinese)
    for cp, m in mapped.items():
        assert SEPARATOR not in m and not any(ord(x) in space for x in m), (hex(cp), m)
        assert cp not in space and (cp not in chinese or (m and not any(ord(x) in punct for x in m))), hex(cp)
    return removed, chinese, space, punct, mapped


def emulate(text, lowercase, removed, chinese, space, punct, mapped):
    """The C++ pre-tokenizer (wordpiece.hpp's for_each_word), over the tables."""
    words, word = [], []

    def flush():
        if word:
            words.append("".join(word))
            word.clear()

    for c in text:
        cp = ord(c)
        if cp in removed:
            continue
        if cp in space:
            flush()
            continue
        out = c
        if lowercase:
            out = hangul_nfd(cp) if cp in HANGUL else mapped.get(cp, c)
        if cp in chinese:
            flush()
        for x in out:
            if ord(x) in punct:
                flush()
                words.append(x)
            else:
                word.append(x)
        if cp in chinese:
            flush()
    flush()
    return words


def reference(text, lowercase):
    pre = BertPreTokenizer()
    return [w for w, _ in pre.pre_tokenize_str(normalizer(lowercase).normalize_str(text))]


def verify(tables, samples, seed):
    removed, chinese, space, punct, mapped = tables
    for lowercase in (False, True):
        norm, pre = normalizer(lowercase), BertPreTokenizer()
        for cp in range(0x110000):
            if cp in SURROGATES:
                continue
            s = "a" + chr(cp) + "b"
            want = [w for w, _ in pre.pre_tokenize_str(norm.normalize_str(s))]
            got = emulate(s, lowercase, *tables)
            assert got == want, (hex(cp), lowercase, got, want)
    rng = random.Random(seed)
    pools = [
        "abcXYZ019", " \t\n\r  ", ".,;:!?'\"()[]{}#$%&*+-/<=>@\\^_`|~", "ÀÉÎõüçñßÆØåÿ",
        "\u0301\u0308\u0327\u0323\u0345\u05b0\u0e31", "中文字符漢字", "\uf900\ufa2e", "한국어각힣",
        "ひらがなカタカナ", "ΑΒΓάέΣσς", "АБВЁёЙй", "😀👍🏽🇫🇷\u200d❤️", "\x00\x01\x07\x1b\x7f\x85\ufffd",
        "\u200b\u200c\u200d\u2060\ufeff\u00ad", "\u00a0\u2003\u3000\u2028\u202f", "İıŉǰẞ\u1e9e\u2126\u212a\u212b",
    ]
    # Marks with a combining class that survive stripping (see the docstring) are left out.
    kept = lambda cp: not unicodedata.combining(chr(cp)) or unicodedata.category(chr(cp)) == "Mn"
    survivors = {ord(x) for m in mapped.values() for x in m if unicodedata.combining(x)}
    assigned = [cp for cp in range(0x110000) if cp not in SURROGATES and kept(cp) and cp not in survivors]
    for _ in range(samples):
        chars = []
        for _ in range(rng.randint(1, 40)):
            if rng.random() < 0.2:
                chars.append(chr(rng.choice(assigned)))
            else:
                chars.append(rng.choice(rng.choice(pools)))
        s = "".join(chars)
        for lowercase in (False, True):
            got, want = emulate(s, lowercase, *tables), reference(s, lowercase)
            assert got == want, (repr(s), lowercase, got, want)


def ranges(cps):
    out = []
    for cp in sorted(cps):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def emit_ranges(name, doc, cps):
    rs = ranges(cps)
    lines = [f"/// {doc} ({len(rs)} ranges).", f"inline constexpr unicode::Range {name}[] = {{"]
    cells = [f"{{0x{lo:X}, 0x{hi:X}}}," for lo, hi in rs]
    for k in range(0, len(cells), 6):
        lines.append("    " + " ".join(cells[k:k + 6]))
    lines.append("};")
    return "\n".join(lines)


def escape(s):
    out = []
    for c in s:
        if c in '"\\' or unicodedata.category(c)[0] in "CZ":
            out.append(f"\\U{ord(c):08X}" if c not in '"\\' else "\\" + c)
        else:
            out.append(c)
    return "".join(out)


def emit_mapping(mapped):
    runs = ranges(mapped)
    cells = [f"{{0x{lo:X}, {hi - lo + 1}}}," for lo, hi in runs]
    lines = [f"/// Runs of consecutive mapped code points: first, count ({len(runs)} runs, {len(mapped)} code points).",
             "inline constexpr MapRun kMapRuns[] = {"]
    for k in range(0, len(cells), 7):
        lines.append("    " + " ".join(cells[k:k + 7]))
    lines += ["};", "",
              "/// What each mapped code point becomes, in code-point order, each ended by '|' (UTF-8).",
              "inline constexpr char kMapPool[] ="]
    pool = "".join(escape(mapped[cp]) + SEPARATOR for cp in sorted(mapped))
    chunks, line = [], ""
    for entry in pool.split(SEPARATOR)[:-1]:
        if len(line) >= 76:
            chunks.append(line)
            line = ""
        line += entry + SEPARATOR
    chunks.append(line)
    lines += [f'    "{c}"' for c in chunks]
    lines[-1] += ";"
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=5000, help="random strings to check")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show-reordering", action="store_true")
    args = parser.parse_args()
    if args.show_reordering:
        for x in ("a\U0001D16D\U0001D165", "\u302e\U00016ff0"):  # classes 226, 216 and 224, 6
            print(ascii(x), "->", ascii(normalizer(True).normalize_str(x)), "tables:",
                  ascii("".join(emulate(x, True, *classify()))))
        return
    tables = classify()
    verify(tables, args.samples, args.seed)
    removed, chinese, space, punct, mapped = tables
    version = tokenizers.__version__
    body = "\n\n".join([
        emit_ranges("kRemoved", "Deleted by clean_text", removed),
        emit_ranges("kChinese", "Surrounded by spaces (handle_chinese_chars)", chinese),
        emit_ranges("kSpace", "Split on and dropped by BertPreTokenizer", space),
        emit_ranges("kPunct", "Isolated by BertPreTokenizer", punct),
        emit_mapping(mapped),
    ])
    text = f"""#pragma once
/// \\file
/// GENERATED by tools/gen_wordpiece_tables.py from Hugging Face tokenizers {version}
/// (BertNormalizer + BertPreTokenizer, asked one code point at a time); do not
/// edit by hand, rerun the script. Ranges are sorted, disjoint and inclusive.
/// Hangul syllables are not in the mapping: wordpiece.hpp decomposes them.
#include <cstdint>

#include "w2s/ingest/text/unicode_tables.hpp"

namespace w2s::text::wordpiece_tables {{

/// The `tokenizers` version the tables reproduce.
inline constexpr const char* kTokenizersVersion = "{version}";

/// Code points first .. first + count - 1 take consecutive entries of kMapPool.
struct MapRun {{
  char32_t first;
  uint32_t count;
}};

{body}

}}  // namespace w2s::text::wordpiece_tables
"""
    out = pathlib.Path(__file__).resolve().parent.parent / "include" / "w2s" / "text" / "wordpiece_tables.hpp"
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(text.encode())} bytes): {len(mapped)} mapped code points, "
          f"tokenizers {version}, {args.samples} random strings checked", file=sys.stderr)


if __name__ == "__main__":
    main()
