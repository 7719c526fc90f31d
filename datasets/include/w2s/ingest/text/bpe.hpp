#pragma once
/// \file
/// GPT-2's byte-level BPE tokenizer (encoder.py of openai/gpt-2), reimplemented
/// so text experiments need neither Python nor a tokenizer library.
///
/// Encoding is byte-exact for any input, even invalid UTF-8: pre-tokens are byte
/// ranges of the input and every byte has a base token, so decode(encode(s)) == s.
/// Pre-tokenisation is a hand-written scanner equivalent to GPT-2's regex
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
/// with code-point classes from the generated unicode_tables.hpp (Unicode 14.0
/// via Python's unicodedata; GPT-2's `regex` module differs only on characters
/// assigned since).
#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "w2s/core/error.hpp"
#include "w2s/ingest/text/unicode_tables.hpp"

namespace w2s::text {

namespace bpe_detail {

/// GPT-2's reversible byte -> code point map: printable bytes stand for
/// themselves, the other 68 bytes are shifted to 256, 257, ... so that every
/// token in vocab.json is printable text.
inline std::array<char32_t, 256> byte_to_code_point() {
  std::array<char32_t, 256> map{};
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    map[b] = printable ? char32_t(b) : next++;
  }
  return map;
}

inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) return out.push_back(char(cp));
  const int tail = cp < 0x800 ? 1 : cp < 0x10000 ? 2 : 3;
  out += char(((0xFF00 >> (tail + 1)) & 0xFF) | (cp >> (6 * tail)));  // 110xxxxx, 1110xxxx, 11110xxx
  for (int k = tail - 1; k >= 0; --k) out += char(0x80 | ((cp >> (6 * k)) & 0x3F));
}

/// Marks a byte that starts no valid UTF-8 sequence.
inline constexpr char32_t kInvalid = 0xFFFFFFFF;

/// Decodes the code point at s[i] strictly (no overlongs, surrogates or values
/// past U+10FFFF); an invalid or truncated sequence yields kInvalid for its
/// first byte alone, so the following bytes are looked at on their own.
inline char32_t next_code_point(std::string_view s, size_t i, size_t& length) {
  const auto byte = [&](size_t k) { return k < s.size() ? uint8_t(s[k]) : uint8_t(0); };
  const uint8_t b0 = byte(i);
  length = 1;
  if (b0 < 0x80) return b0;
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // valid range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) n = 2;
  else if (b0 >= 0xE0 && b0 <= 0xEF) n = 3, lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
  else if (b0 >= 0xF0 && b0 <= 0xF4) n = 4, lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
  else return kInvalid;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return kInvalid;
  char32_t cp = b0 & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return kInvalid;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  length = n;
  return cp;
}

enum class CharClass : uint8_t { Letter, Number, Space, Other };

template <size_t N>
bool in_ranges(const unicode::Range (&table)[N], char32_t cp) {
  const auto it = std::upper_bound(std::begin(table), std::end(table), cp,
                                   [](char32_t c, const unicode::Range& r) { return c < r.first; });
  return it != std::begin(table) && cp <= std::prev(it)->last;
}

/// The regex's view of a code point; invalid bytes are "other" (\S, not L, not N).
inline CharClass classify(char32_t cp) {
  if (cp == kInvalid) return CharClass::Other;
  if (in_ranges(unicode::kLetters, cp)) return CharClass::Letter;
  if (in_ranges(unicode::kNumbers, cp)) return CharClass::Number;
  if (in_ranges(unicode::kWhiteSpace, cp)) return CharClass::Space;
  return CharClass::Other;
}

/// Calls emit(piece) for each pre-token of `text`, left to right, exactly as
/// re.findall with GPT-2's pattern would split it. Streams over the text, so
/// memory does not grow with its length.
template <class Emit>
void pre_tokenize(std::string_view text, Emit&& emit) {
  static const auto ascii_class = [] {
    std::array<CharClass, 128> t{};
    for (char32_t c = 0; c < 128; ++c) t[c] = classify(c);
    return t;
  }();
  const size_t n = text.size();
  // The class of the code point (or invalid byte) at byte k, and its length.
  const auto class_at = [&](size_t k, size_t& len) {
    const char32_t cp = next_code_point(text, k, len);
    return cp < 128 ? ascii_class[cp] : classify(cp);
  };
  // ASCII bytes never occur inside a multibyte sequence, so the contractions
  // and the literal space can be matched on raw bytes.
  const auto ch = [&](size_t k) { return k < n ? text[k] : '\0'; };
  size_t len = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    const char a = ch(i + 1), b = ch(i + 2);
    const size_t k = i + (ch(i) == ' ' ? 1 : 0);
    CharClass cls = CharClass::Space;
    if (ch(i) == '\'' && (a == 's' || a == 't' || a == 'm' || a == 'd')) {
      j = i + 2;
    } else if (ch(i) == '\'' && ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))) {
      j = i + 3;
    } else if (k < n && (cls = class_at(k, len)) != CharClass::Space) {
      // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space, then a run of one class.
      for (j = k + len; j < n && class_at(j, len) == cls;) j += len;
    } else {
      // `\s+(?!\S)` backtracks one character when the run is followed by a
      // non-space, leaving that last space to prefix the next word; `\s+` takes
      // a lone space (or other white space) that the first rule could not.
      size_t last = i, units = 0;
      for (j = i; j < n && class_at(j, len) == CharClass::Space; j += len) last = j, ++units;
      if (j < n && units > 1) j = last;
    }
    emit(text.substr(i, j - i));
    i = j;
  }
}

inline std::string read_file(const std::filesystem::path& path, const char* what) {
  check(std::filesystem::is_regular_file(path), "Gpt2Tokenizer: ", what, " '", path.string(),
        "' not found (GPT-2's files are vocab.json + merges.txt, or encoder.json + vocab.bpe)");
  std::ifstream in(path, std::ios::binary);
  check(bool(in), "Gpt2Tokenizer: cannot open ", what, " '", path.string(), "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace bpe_detail

/// How text is cut into pre-tokens before BPE: GPT-2's regex alone, or first every numeric
/// character (Unicode class N) on its own and GPT-2's regex on the text between (Hugging Face's
/// Digits(individual_digits) then ByteLevel: SmolLM2's tokenizer, GGUF pre "smollm").
enum class PreTokenizer { gpt2, gpt2_single_digits };

/// GPT-2's tokenizer: vocab.json (token -> id) and merges.txt (merge priorities).
/// Immutable after construction; encode() is safe to call from several threads
/// (copies share one mutex-guarded cache of per-pre-token results).
class Gpt2Tokenizer {
 public:
  /// Loads `dir`/vocab.json + merges.txt (Hugging Face names), else
  /// `dir`/encoder.json + vocab.bpe (OpenAI's names).
  static Gpt2Tokenizer from_dir(const std::filesystem::path& dir) {
    if (std::filesystem::exists(dir / "vocab.json") || std::filesystem::exists(dir / "merges.txt"))
      return Gpt2Tokenizer(dir / "vocab.json", dir / "merges.txt");
    return Gpt2Tokenizer(dir / "encoder.json", dir / "vocab.bpe");
  }

  Gpt2Tokenizer(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt)
      : cache_(std::make_shared<Cache>()) {
    load_vocab(vocab_json);
    load_merges(merges_txt);
  }

  /// A byte-level BPE from lists (a GGUF file's tokenizer.ggml.tokens and .merges): `tokens[i]`
  /// is id i, spelled in GPT-2's byte alphabet, and `merges` are "A B" lines, highest priority
  /// first. A byte without a token of its own reads as `unknown` when that is an id, a run of
  /// them inside one pre-token as one `unknown` (SmolLM2's vocabulary lacks 21 bytes; Hugging
  /// Face's tokenizer gives its unknown token for them, fused), and is an error otherwise.
  /// `where` names the source in errors.
  Gpt2Tokenizer(const std::vector<std::string>& tokens, const std::vector<std::string>& merges, PreTokenizer pre,
                const std::string& where, int64_t unknown = -1)
      : cache_(std::make_shared<Cache>()), pre_(pre) {
    start_vocab(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) add_token(tokens[i], int64_t(i), where + ": token " + std::to_string(i));
    check(unknown < int64_t(tokens.size()), where, ": the unknown token's id ", unknown, " is outside the vocabulary");
    finish_vocab(where, unknown);
    unknown_ = int32_t(unknown);
    for (size_t i = 0; i < merges.size(); ++i)
      add_merge(merges[i], int32_t(i), where + ": merge " + std::to_string(i));
  }

  /// The token ids of `utf8`; any bytes are accepted, invalid UTF-8 included.
  /// "<|endoftext|>" in the text is ordinary text here, as in GPT-2's encoder.
  std::vector<int64_t> encode(std::string_view utf8) const {
    std::vector<int64_t> ids;
    ids.reserve(utf8.size() / 3 + 1);
    const auto emit = [&](std::string_view piece) { bpe(piece, ids); };
    if (pre_ == PreTokenizer::gpt2) {
      bpe_detail::pre_tokenize(utf8, emit);
      return ids;
    }
    size_t start = 0, len = 1;  // the text since the last numeric character
    for (size_t i = 0; i < utf8.size(); i += len) {
      const char32_t cp = bpe_detail::next_code_point(utf8, i, len);
      if (bpe_detail::classify(cp) != bpe_detail::CharClass::Number) continue;
      bpe_detail::pre_tokenize(utf8.substr(start, i - start), emit);
      bpe(utf8.substr(i, len), ids);
      start = i + len;
    }
    bpe_detail::pre_tokenize(utf8.substr(start), emit);
    return ids;
  }

  /// The exact bytes the ids stand for; throws w2s::Error on an unknown id.
  std::string decode(const std::vector<int64_t>& ids) const {
    std::string out;
    for (size_t k = 0; k < ids.size(); ++k) {
      check(ids[k] >= 0 && ids[k] < vocab_size(), "Gpt2Tokenizer::decode: id ", ids[k], " at position ",
            k, " is outside the vocabulary [0, ", vocab_size(), ")");
      out += bytes_[size_t(ids[k])];
    }
    return out;
  }

  int64_t vocab_size() const { return int64_t(bytes_.size()); }

  /// The id of "<|endoftext|>" (50256 in GPT-2); throws if the vocabulary lacks it.
  int64_t eot() const {
    const auto id = token_id("<|endoftext|>");
    check(id.has_value(), "Gpt2Tokenizer: the vocabulary has no <|endoftext|> token");
    return *id;
  }

  /// The id of a vocabulary entry spelled in GPT-2's byte alphabet (" world" is "Ġworld").
  std::optional<int64_t> token_id(std::string_view token) const {
    const auto it = vocab_.find(std::string(token));
    if (it == vocab_.end()) return std::nullopt;
    return it->second;
  }

 private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  struct Cache {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<int32_t>> pieces;
  };
  /// Bounds the cache's memory on endless streams of new pre-tokens.
  static constexpr size_t kMaxCached = 1 << 18;

  static uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }

  void load_vocab(const std::filesystem::path& path) {
    const std::string text = bpe_detail::read_file(path, "vocabulary");
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      fail(path.string(), ": malformed JSON: ", e.what());
    }
    check(json.is_object(), path.string(), ": expected a JSON object of token -> id");
    const size_t n = json.size();
    start_vocab(n);
    for (const auto& [token, value] : json.items()) {
      check(value.is_number_integer(), path.string(), ": token '", token, "' maps to ", value.dump(),
            "; expected an integer id");
      add_token(token, value.get<int64_t>(), path.string());
    }
    finish_vocab(path.string());
  }

  void start_vocab(size_t n) {
    bytes_.assign(n, std::string());
    seen_.assign(n, false);
  }

  /// Token `token` (in GPT-2's byte alphabet) as id `id` of the vocabulary start_vocab sized.
  void add_token(const std::string& token, int64_t id, const std::string& where) {
    static const auto to_byte = [] {
      std::array<int16_t, 256 + 68> t;  // code point -> byte, -1 where none
      t.fill(-1);
      const auto map = bpe_detail::byte_to_code_point();
      for (int b = 0; b < 256; ++b) t[map[b]] = int16_t(b);
      return t;
    }();
    const size_t n = bytes_.size();
    check(id >= 0 && id < int64_t(n), where, ": token '", token, "' has id ", id, "; expected ids 0..", n - 1,
          " (one per entry)");
    check(!seen_[size_t(id)], where, ": id ", id, " is used twice (again by '", token, "')");
    seen_[size_t(id)] = true;
    for (size_t i = 0, len = 1; i < token.size(); i += len) {
      const char32_t cp = bpe_detail::next_code_point(token, i, len);
      check(cp < to_byte.size() && to_byte[cp] >= 0, where, ": token '", token,
            "' has a character outside GPT-2's byte alphabet");
      bytes_[size_t(id)] += char(to_byte[cp]);
    }
    vocab_.emplace(token, int32_t(id));
  }

  /// Records every byte's base token (`unknown` for a byte without one, where that is an id).
  void finish_vocab(const std::string& where, int64_t unknown = -1) {
    const auto map = bpe_detail::byte_to_code_point();
    for (int b = 0; b < 256; ++b) {
      std::string symbol;
      bpe_detail::append_utf8(symbol, map[b]);
      const auto it = vocab_.find(symbol);
      check(it != vocab_.end() || unknown >= 0, where, ": no token for byte ", b, " ('", symbol,
            "'); a byte-level vocabulary needs all 256");
      byte_id_[b] = it != vocab_.end() ? it->second : int32_t(unknown);
    }
    seen_.clear();
  }

  void load_merges(const std::filesystem::path& path) {
    std::istringstream in(bpe_detail::read_file(path, "merges file"));
    std::string line;
    int32_t rank = 0;
    for (size_t number = 1; std::getline(in, line); ++number) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || (number == 1 && line.rfind("#version", 0) == 0)) continue;
      add_merge(line, rank++, path.string() + ":" + std::to_string(number));
    }
  }

  /// The merge "A B" (two space-separated symbols of the vocabulary) at priority `rank`.
  void add_merge(const std::string& line, int32_t rank, const std::string& where) {
    const size_t space = line.find(' ');
    check(space != std::string::npos && space > 0 && space + 1 < line.size() &&
              line.find(' ', space + 1) == std::string::npos,
          where, ": expected two space-separated symbols, got '", line, "'");
    const std::string a = line.substr(0, space), b = line.substr(space + 1);
    const auto id = [&](const std::string& s) {
      const auto it = vocab_.find(s);
      check(it != vocab_.end(), where, ": merge '", line, "' needs '", s, "', which is not in the vocabulary");
      return it->second;
    };
    const int32_t ia = id(a), ib = id(b), merged = id(a + b);
    const bool fresh = merges_.emplace(pair_key(ia, ib), Merge{rank, merged}).second;
    check(fresh, where, ": merge '", line, "' appears twice");
  }

  /// Appends the BPE tokens of one pre-token, through the cache.
  void bpe(std::string_view piece, std::vector<int64_t>& out) const {
    if (piece.size() == 1) {
      out.push_back(byte_id_[uint8_t(piece[0])]);
      return;
    }
    std::string key(piece);
    {
      std::lock_guard lock(cache_->mutex);
      if (const auto it = cache_->pieces.find(key); it != cache_->pieces.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    std::vector<int32_t> ids = merge(piece);
    if (unknown_ >= 0)  // a run of bytes without tokens is one unknown token (HF's fuse_unk)
      ids.erase(std::unique(ids.begin(), ids.end(), [u = unknown_](int32_t a, int32_t b) { return a == u && b == u; }),
                ids.end());
    out.insert(out.end(), ids.begin(), ids.end());
    std::lock_guard lock(cache_->mutex);
    if (cache_->pieces.size() >= kMaxCached) cache_->pieces.clear();
    cache_->pieces.emplace(std::move(key), std::move(ids));
  }

  /// GPT-2's merge loop in O(n log n): each round merges every occurrence,
  /// left to right, of the lowest-ranked adjacent pair. A heap ordered by
  /// (rank, position) over a linked list yields the same rounds; pairs formed
  /// during a round that outrank it wait for the next round, as in GPT-2.
  std::vector<int32_t> merge(std::string_view piece) const {
    const int32_t n = int32_t(piece.size());
    std::vector<int32_t> id(n), next(n), prev(n);
    for (int32_t i = 0; i < n; ++i) id[i] = byte_id_[uint8_t(piece[i])], next[i] = i + 1, prev[i] = i - 1;
    struct Candidate {
      int32_t rank, left, left_id, right_id, result;
      bool operator>(const Candidate& o) const { return std::tie(rank, left) > std::tie(o.rank, o.left); }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
    std::vector<Candidate> deferred;
    int32_t round = -1;
    const auto consider = [&](int32_t left) {
      if (left < 0 || next[left] >= n) return;
      const auto it = merges_.find(pair_key(id[left], id[next[left]]));
      if (it == merges_.end()) return;
      const Candidate c{it->second.rank, left, id[left], id[next[left]], it->second.result};
      if (c.rank < round)
        deferred.push_back(c);
      else
        heap.push(c);
    };
    for (int32_t i = 0; i + 1 < n; ++i) consider(i);
    while (!heap.empty() || !deferred.empty()) {
      if (heap.empty() || heap.top().rank > round) {  // the round is over
        for (const auto& c : deferred) heap.push(c);
        deferred.clear();
        round = heap.top().rank;
      }
      const Candidate c = heap.top();
      heap.pop();
      const int32_t right = next[c.left];
      // Stale when either side was merged since (ids changed or the node is gone).
      if (id[c.left] != c.left_id || right >= n || id[right] != c.right_id) continue;
      id[c.left] = c.result;
      id[right] = -1;
      next[c.left] = next[right];
      if (next[right] < n) prev[next[right]] = c.left;
      consider(prev[c.left]);
      consider(c.left);
    }
    std::vector<int32_t> out;
    for (int32_t i = 0; i < n; i = next[i]) out.push_back(id[i]);
    return out;
  }

  std::unordered_map<std::string, int32_t> vocab_;  ///< token (byte alphabet) -> id
  std::vector<std::string> bytes_;                  ///< id -> the bytes it stands for
  std::array<int32_t, 256> byte_id_{};              ///< byte -> its base token
  std::unordered_map<uint64_t, Merge> merges_;      ///< (left id, right id) -> rank, result
  std::shared_ptr<Cache> cache_;
  PreTokenizer pre_ = PreTokenizer::gpt2;
  int32_t unknown_ = -1;    ///< the id of bytes without a token, or -1 (then every byte has one)
  std::vector<bool> seen_;  ///< while loading: ids given so far
};

}  // namespace w2s::text
