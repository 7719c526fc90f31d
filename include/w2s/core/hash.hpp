#pragma once
/// \file
/// Stable hashes: names of cache keys (`stable_hash`), and checksums of bytes that
/// must not change unnoticed (`checksum`: cached artefacts, datasets, checkpoints).
/// Both are the same on every run and machine; neither is cryptographic.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "w2s/core/engine.hpp"

namespace w2s {

/// FNV-1a 64-bit hash of `text` as 16 hex digits.
W2S_ENGINE_INLINE std::string stable_hash(std::string_view text);

/// A running checksum of byte blocks, 8 bytes a step on four independent lanes (a
/// few GB/s, so a 200 MB dataset costs a tenth of a second). Every byte and the
/// total length count: a flipped bit, a truncation or an extension all change it.
class Checksum {
 public:
  Checksum& add(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    total_ += n;
    while (n > 0 && fill_ > 0) {  // finish a partial word from the previous block
      word_[fill_++] = *p++;
      --n;
      if (fill_ == 8) flush_word();
    }
    for (; n >= 8; n -= 8, p += 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      mix(w);
    }
    while (n-- > 0) word_[fill_++] = *p++;
    return *this;
  }
  Checksum& add(std::string_view s) { return add(s.data(), s.size()); }

  /// 16 hex digits.
  [[nodiscard]] std::string hex() const {
    Checksum c = *this;
    if (c.fill_ > 0) {
      uint64_t w = 0;
      std::memcpy(&w, c.word_, c.fill_);
      c.mix(w ^ (uint64_t(c.fill_) << 56));
    }
    uint64_t h = c.total_ * kPrime;
    for (const uint64_t lane : c.lane_) h = avalanche(h ^ avalanche(lane)) * kPrime;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(avalanche(h)));
    return buf;
  }

 private:
  static constexpr uint64_t kPrime = 0x9E3779B97F4A7C15ull;
  static uint64_t avalanche(uint64_t x) {  // splitmix64's finaliser
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    return x ^ (x >> 31);
  }
  void mix(uint64_t w) {
    uint64_t& lane = lane_[next_];
    next_ = (next_ + 1) & 3;
    lane = (lane ^ w) * kPrime;
    lane = (lane << 31) | (lane >> 33);
  }
  void flush_word() {
    uint64_t w;
    std::memcpy(&w, word_, 8);
    mix(w);
    fill_ = 0;
  }
  uint64_t lane_[4] = {1, 2, 3, 4};
  unsigned char word_[8] = {};
  size_t fill_ = 0, next_ = 0;
  uint64_t total_ = 0;
};

/// The checksum of `bytes`.
inline std::string checksum(std::string_view bytes) { return Checksum().add(bytes).hex(); }

/// The checksum of a file's bytes, read in 1 MiB blocks; "" when it cannot be read.
W2S_ENGINE_INLINE std::string file_checksum(const std::filesystem::path& path);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE std::string stable_hash(std::string_view text) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64 offset basis (0xcbf29ce484222325)
  for (const unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

W2S_ENGINE_INLINE std::string file_checksum(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  Checksum sum;
  std::string block(1 << 20, '\0');
  while (in.read(block.data(), std::streamsize(block.size())) || in.gcount() > 0)
    sum.add(block.data(), size_t(in.gcount()));
  return in.bad() ? "" : sum.hex();
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
