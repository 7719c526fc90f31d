#pragma once
/// \file
/// A word tokenizer in the style GloVe 6B's vocabulary was built with (Stanford
/// PTB tokenizer, lower-cased), so that tokens look up well in that vocabulary.
///
/// Rules, in order:
/// - UTF-8 is decoded; bytes that are not well-formed UTF-8 are dropped (they
///   cannot be a vocabulary word, and dropping keeps neighbouring words intact).
/// - Letters are lower-cased: ASCII, Latin-1 Supplement, Latin Extended-A, Greek
///   and Cyrillic. Accents are kept ("café").
/// - Whitespace (Unicode spaces, no-break space included), control characters,
///   zero-width characters and U+FFFD separate tokens and vanish.
/// - A word is a run of letters and digits (any non-ASCII code point outside the
///   punctuation/symbol blocks counts as a letter, so CJK text stays in runs) that
///   may continue through one connector: '-' between word characters ("e-mail"),
///   an apostrophe before a letter ("o'neill", "1990's"), and '.', ',' or ':'
///   between digits ("3.14", "1,000", "10:30", "192.168.0.1").
///   The typographic apostrophes ’ and ʼ are read as ' everywhere.
/// - Initials keep their dots, the final one included ("u.s.", "e.g.", "a.m.",
///   "j.r.r."), as PTB does. Any other '.' is a token of its own: "mr." → "mr", "."
///   (PTB's abbreviation list is not reproduced) and host names split at their
///   dots, "www.x.org" → "www", ".", "x", ".", "org", because the GloVe list
///   shipped with w2s (wink's) holds no dotted words at all.
/// - Clitics split off PTB-style: "n't" ("don't" → "do", "n't"; "can't" → "ca",
///   "n't"; "won't" → "wo", "n't"), "'s", "'m", "'d", "'ll", "'re", "'ve".
/// - Every other character is a one-character token ("(", "$", "!", "“", "€"), except
///   runs of two or more '.' → "..." and of two or more '-' → "--".
/// - URLs and e-mail addresses get no special case: "http://x.org/a" → "http", ":",
///   "/", "/", "x", ".", "org", "/", "a"; "bob@x.org" → "bob", "@", "x", ".", "org".
#include <string>
#include <string_view>
#include <vector>

#include "w2s/ingest/text/encodings.hpp"

namespace w2s::text {

/// Options of words().
struct WordTokenizerOptions {
  size_t max_words = 0;  ///< stop after this many tokens; 0 = no cap
};

namespace words_detail {

/// Lower case of the common cased scripts (see the file comment); others unchanged.
inline char32_t to_lower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0xC0) return c;
  if (c <= 0xDE) return c == 0xD7 ? c : c + 32;
  if (c < 0x100) return c;
  if (c == 0x130) return 'i';  // dotted capital I
  if ((c <= 0x137) || (c >= 0x14A && c <= 0x177)) return (c % 2 == 0) ? c + 1 : c;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c % 2 == 1) ? c + 1 : c;
  if (c == 0x178) return 0xFF;
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

/// Separators: whitespace, controls, zero-width characters, BOM and U+FFFD.
inline bool is_separator(char32_t c) {
  return c <= 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0xAD || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200F) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x2060 || c == 0x3000 || c == 0xFEFF || c == 0xFFFD;
}

inline bool is_ascii_letter(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }

/// Letters and digits of words. Outside ASCII: everything but the Latin-1
/// symbols, the punctuation/symbol blocks (U+2000–U+2BFF, U+2E00–U+2E7F, CJK
/// punctuation U+3000–U+303F, fullwidth ASCII punctuation, specials) and emoji.
inline bool is_word_char(char32_t c) {
  if (c < 0x80) return is_ascii_letter(c) || is_digit(c);
  if (c < 0xC0) return c == 0xAA || c == 0xB5 || c == 0xBA;
  if (c == 0xD7 || c == 0xF7) return false;
  if (c >= 0x2000 && c <= 0x2BFF) return false;
  if (c >= 0x2E00 && c <= 0x2E7F) return false;
  if (c >= 0x3000 && c <= 0x303F) return false;
  if (c >= 0xFE10 && c <= 0xFE6F) return false;  // vertical/small form punctuation
  if (c >= 0xFF00 && c <= 0xFF0F) return false;  // fullwidth ! " # … /
  if (c >= 0xFF1A && c <= 0xFF20) return false;
  if (c >= 0xFF3B && c <= 0xFF40) return false;
  if (c >= 0xFF5B && c <= 0xFF65) return false;
  if (c >= 0xFFF0 && c <= 0xFFFF) return false;
  if (c >= 0x1F000 && c <= 0x1FAFF) return false;  // emoji and pictographs
  return true;
}

inline bool is_letter(char32_t c) { return is_word_char(c) && !is_digit(c); }

inline bool is_apostrophe(char32_t c) { return c == '\'' || c == 0x2019 || c == 0x02BC; }

/// Whether a connector at cps[i] joins the word characters on both sides.
inline bool joins(const std::u32string& cps, size_t i) {
  if (i == 0 || i + 1 >= cps.size()) return false;
  const char32_t prev = cps[i - 1];
  const char32_t next = cps[i + 1];
  const char32_t c = cps[i];
  if (c == '-') return is_word_char(prev) && is_word_char(next);
  if (c == '.' || c == ',' || c == ':') return is_digit(prev) && is_digit(next);
  if (is_apostrophe(c)) return is_word_char(prev) && is_letter(next);  // "o'neill", "1990's"
  return false;
}

/// Length of a run of initials at cps[i] ("u.s.", "e.g.", "a.m", "j.r.r."): single
/// letters each followed by '.', at least two letters, the last dot optional; 0 when
/// there is none. Initials are the one place a '.' stays inside a word.
inline size_t initials_length(const std::u32string& cps, size_t i) {
  auto lone_letter = [&](size_t k) {
    return k < cps.size() && is_letter(cps[k]) && (k + 1 == cps.size() || !is_word_char(cps[k + 1]));
  };
  size_t k = i;
  size_t letters = 0;
  while (lone_letter(k)) {
    ++letters;
    if (k + 1 < cps.size() && cps[k + 1] == '.') {
      k += 2;
    } else {
      k += 1;  // the last letter without its dot ("u.s")
      break;
    }
  }
  if (letters < 2) return 0;
  return k - i;
}

inline std::string encode(const std::u32string& cps, size_t from, size_t to) {
  std::string out;
  for (size_t k = from; k < to; ++k) codec_detail::append_utf8(out, is_apostrophe(cps[k]) ? U'\'' : cps[k]);
  return out;
}

/// Length of the clitic that ends `w` ("n't", "'s", …), or 0; the stem must be
/// non-empty.
inline size_t clitic_length(const std::u32string& w) {
  auto ends_with = [&](std::u32string_view s) {
    return w.size() > s.size() && std::u32string_view(w).substr(w.size() - s.size()) == s;
  };
  if (ends_with(U"n't") && is_letter(w[w.size() - 4])) return 3;
  for (std::u32string_view s : {U"'s", U"'m", U"'d", U"'ll", U"'re", U"'ve"})
    if (ends_with(s)) return s.size();
  return 0;
}

}  // namespace words_detail

/// Splits UTF-8 text into lower-cased GloVe-style tokens (see the file comment).
inline std::vector<std::string> words(std::string_view utf8_text, const WordTokenizerOptions& options = {}) {
  using namespace words_detail;
  std::u32string cps;
  cps.reserve(utf8_text.size());
  char32_t cp = 0;
  for (size_t i = 0; i < utf8_text.size();) {
    const size_t n = codec_detail::decode_utf8_at(utf8_text, i, cp);
    if (n == 0) {
      ++i;  // invalid byte: dropped
      continue;
    }
    cps += is_apostrophe(cp) ? U'\'' : to_lower(cp);
    i += n;
  }
  std::vector<std::string> out;
  auto full = [&] { return options.max_words != 0 && out.size() >= options.max_words; };
  for (size_t i = 0; i < cps.size() && !full();) {
    const char32_t c = cps[i];
    if (is_separator(c)) {
      ++i;
      continue;
    }
    if (is_word_char(c)) {
      if (const size_t n = initials_length(cps, i); n > 0) {
        out.push_back(encode(cps, i, i + n));
        i += n;
        continue;
      }
      size_t j = i + 1;
      while (j < cps.size() && (is_word_char(cps[j]) || joins(cps, j))) ++j;
      const std::u32string w = cps.substr(i, j - i);
      const size_t clitic = clitic_length(w);
      out.push_back(encode(w, 0, w.size() - clitic));
      if (clitic > 0 && !full()) out.push_back(encode(w, w.size() - clitic, w.size()));
      i = j;
      continue;
    }
    if (c == '.' || c == '-') {
      size_t j = i;
      while (j < cps.size() && cps[j] == c) ++j;
      out.push_back(j - i == 1 ? std::string(1, char(c)) : (c == '.' ? "..." : "--"));
      i = j;
      continue;
    }
    out.push_back(encode(cps, i, i + 1));
    ++i;
  }
  return out;
}

}  // namespace w2s::text
