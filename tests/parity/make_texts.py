#!/usr/bin/env python3
"""Writes the parity corpus: real texts plus adversarial strings, one {"text": ...} per line.

    make_texts.py DATA_DIR OUT.jsonl [--per-source 2000]

Real texts, chosen evenly spaced over a sorted listing (deterministic, no randomness):
SpamAssassin emails (raw bytes decoded as UTF-8 with errors='replace', so both
tokenizers see the same str), Brown corpus sentences (the words of `word/tag`
tokens joined by spaces) and fine-food reviews. Then ~100 adversarial strings.
Each line also carries "source" (email, brown, review, adversarial); the
tokenizers read only "text".
"""
import argparse
import json
import re
import sys
from pathlib import Path


def evenly(items, n):
    """n items spread evenly over the list (all of them if there are fewer)."""
    if len(items) <= n:
        return list(items)
    return [items[i * len(items) // n] for i in range(n)]


def emails(data, n):
    files = sorted((data / "text/spam-assassin/data").glob("*/*.txt"))
    return [f.read_bytes().decode("utf-8", errors="replace") for f in evenly(files, n)]


def brown_sentences(data, n):
    sentences = []
    for f in sorted(p for p in (data / "text/brown").iterdir() if re.fullmatch(r"c[a-r]\d\d", p.name)):
        for line in f.read_text(encoding="utf-8").splitlines():
            words = [token.rsplit("/", 1)[0] for token in line.split()]
            if words:
                sentences.append(" ".join(words))
    return evenly(sentences, n)


def reviews(data, n):
    lines = (data / "text/fine-foods/train.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in evenly(lines, n)]


def adversarial():
    """Strings that stress normalisation, pre-tokenisation and the byte/char fallbacks."""
    bad_utf8 = [b"\xff\xfe abc", b"caf\xe9 au lait", b"\xc3\x28 broken", b"cut \xe2\x82", b"emoji cut \xf0\x9f\x98",
                b"surrogate \xed\xa0\x80", b"overlong \xc0\xaf", b"\x80\x81\x82 lone continuations", b"ok\xf5\xff"]
    return [
        # empty and whitespace runs
        "", " ", "   ", "a  b", "  leading", "trailing  ", "\t\t\ttabs\t", "\n\n\n", "a\r\nb\r\n", " " * 60,
        "x" + " " * 33 + "y", "\u00a0nbsp\u00a0 \u00a0", "\u3000ideographic\u3000space", "line\u2028sep\u2029par",
        "em\u2003space thin\u2009space", "mixed \t \n \r\n  \u00a0 ws", "end with newline\n", "   \n  x  \n  ",
        # accents, case and Unicode normalisation
        "café naïve résumé", "cafe\u0301 (decomposed)", "ÀÉÎÕÜ àéîõü", "Ångström", "İstanbul ıi", "Straße STRASSE ß",
        "ﬁnancial ﬂow", "Σίσυφος ΟΔΥΣΣΕΥΣ σς", "Ĳssel ǅ ǈ", "Crème Brûlée", "ÑANDÚ", "ŁÓDŹ Łódź", "Ǆemal",
        "A\u030a vs \u00c5", "e\u0301\u0301\u0301 stacked", "Ⅻ ½ ² ³ ₂", "ＡＢＣ１２３ fullwidth",
        # CJK, other scripts, mixed scripts
        "中文分词测试", "日本語のテキスト、カタカナとひらがな。", "한국어 문장입니다", "中a文b字c", "𠀀𠀁𠀂 extension B",
        "，。！？【】", "Hello мир 世界 مرحبا שלום नमस्ते", "ภาษาไทยไม่มีช่องว่าง", "क्षत्रिय हिन्दी १२३",
        "العربية ٣٤٥ مُحَمَّد", "Ελληνικά and English", "ქართული Հայերեն", "Tiếng Việt có dấu", "abcдефghi",
        # emoji
        "😀", "I ❤️ this 👍🏽", "👨‍👩‍👧‍👦 family", "🇺🇸🇫🇷 flags", "1️⃣ keycap", "emoji😀inside😀words", "🙂" * 40,
        # control characters
        "\x00", "a\x00b", "\x01\x02\x03 ctrl", "del\x7f", "\x1b[31mred\x1b[0m", "next\x85line", "back\x08space",
        "form\x0cfeed vert\x0btab", "\x9f C1 \x90",
        # zero-width and format characters
        "zero\u200bwidth", "\u200c\u200d joiners", "\ufeffBOM at start", "soft\u00adhyphen", "word\u2060joiner",
        "\u200eltr\u200f rtl", "\u202eoverride\u202c", "\u200b\u200b\u200b",
        # very long words
        "a" * 99, "a" * 100, "a" * 101, "b" * 500, "supercalifragilisticexpialidocious" * 5, "é" * 150, "中" * 200,
        "x" * 3000, "1234567890" * 20, "http://example.com/" + "path/" * 40 + "?q=1&r=2",
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk" * 4,
        # punctuation, contractions, numbers
        "don't can't I'm we'll they've she'd it's", "DON'T WON'T", "'s's's 're've", "don’t (curly)",
        "...!!!???", "$100.00 & 50% off!!!", "email@example.com <a@b.c>", "<html><body>x</body></html>",
        "C++ / C# / F#", "a—b–c-d", "“smart” ‘quotes’ «guillemets»", "¿Qué? ¡Sí!", "∑∫√∞≠≤ ≥ ±", "®™© §¶",
        "3.14159 1,000,000 1e-10 0x1F", "abc123def 4ever", "  ' leading apostrophe", "[CLS] literal [SEP] [MASK] [UNK]",
        "[cls] lower [pad]",
        # invalid UTF-8, decoded with replacement characters
        *(b.decode("utf-8", errors="replace") for b in bad_utf8), "\ufffd literal replacement",
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-source", type=int, default=2000)
    args = parser.parse_args()
    sources = {"email": emails, "brown": brown_sentences, "review": reviews}
    rows = []
    for name, read in sources.items():
        try:
            texts = read(args.data, args.per_source)
        except FileNotFoundError as e:
            sys.exit(f"make_texts: missing {e.filename}; run `./w2s.sh setup`")
        rows += [{"source": name, "text": t} for t in texts]
    rows += [{"source": "adversarial", "text": t} for t in adversarial()]
    tmp = args.out.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    tmp.replace(args.out)
    counts = ", ".join(f"{sum(r['source'] == s for r in rows)} {s}" for s in [*sources, "adversarial"])
    print(f"make_texts: {len(rows)} texts ({counts}) -> {args.out}")


if __name__ == "__main__":
    main()
