#pragma once
/// \file
/// The on-disk cache of everything expensive (pretrained backbones, weak
/// supervisors' predictions, strong ceilings, encoder features).
///
/// An artefact lives at `<cache-dir>/<kind>/<label>-<hash>.{pt,json}` where the
/// hash is FNV-1a-64 of the canonical JSON of everything that determines it, the
/// data's fingerprint included (Dataset::id), and the fingerprint of the library's code
/// (core/code.hpp: a binary built from other headers, or by another compiler, computes
/// its own entries). The `.json` sidecar (the key, the
/// artefact's metrics, and checksums of both files' contents) is written last and
/// marks the artefact complete. Reading checks both checksums: a damaged,
/// truncated or half-replaced entry is reported in one line and treated as missing,
/// so it is recomputed and overwritten; it is never served (README, "Reliability").
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <ATen/core/Tensor.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/atomic_file.hpp"
#include "w2s/core/code.hpp"
#include "w2s/core/error.hpp"
#include "w2s/core/hash.hpp"

#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)  // only the definitions read and write tensors
#include <torch/serialize.h>
#endif

namespace w2s {

/// Bumped whenever a change makes old cached artefacts wrong.
inline constexpr int cache_format = 3;  // 3: checksummed sidecars, data fingerprints in keys

/// A cached artefact: tensors plus a JSON sidecar with its key and metadata.
struct Artifact {
  std::vector<at::Tensor> tensors;
  nlohmann::json meta;
};

/// The cache under one directory. Disabled (`enabled = false`), every lookup misses
/// and nothing is written.
class Cache {
 public:
  /// `environment`: what every artefact depends on besides its own key. Experiments pass
  /// experiment/identity.hpp's `cache_environment` (the run identity's code, threads, device
  /// and library versions, less the experiment's own source and the seed), so an artefact
  /// made under another setting is never served under a record that names this one. The
  /// default, the library's code alone, is for tests and tools that make no records.
  Cache(std::filesystem::path root, bool enabled, nlohmann::json environment = {{"code", code::library_fingerprint()}})
      : root_(std::move(root)), enabled_(enabled), environment_(std::move(environment)) {}

  /// Base path (without extension) of the artefact of `kind` with `key`.
  [[nodiscard]] std::filesystem::path base(const std::string& kind, const std::string& label,
                                           const nlohmann::json& key) const {
    nlohmann::json full = key;
    full["cache_format"] = cache_format;
    full.update(environment_);  // an entry made by other code, threads, device or libraries is not served
    return root_ / kind / (label + "-" + stable_hash(full.dump()));
  }
  /// The same, for an artefact that depends on part of the code only: `code` replaces the
  /// environment's (the per-text features of a checkpoint: code.hpp's models_fingerprint); the
  /// threads, device and library versions still count.
  [[nodiscard]] std::filesystem::path base(const std::string& kind, const std::string& label, const nlohmann::json& key,
                                           const nlohmann::json& code) const {
    nlohmann::json full = key;
    full["cache_format"] = cache_format;
    full.update(environment_);
    full["code"] = code;
    return root_ / kind / (label + "-" + stable_hash(full.dump()));
  }
  [[nodiscard]] const nlohmann::json& environment() const { return environment_; }

  /// The artefact at `base`, or nothing when it is absent or damaged (then one line on
  /// stderr says which file and why, and the caller recomputes it).
  [[nodiscard]] W2S_ENGINE_INLINE std::optional<Artifact> load(const std::filesystem::path& base) const;

  /// Writes the artefact: the tensors, then the sidecar with both checksums. A write
  /// that fails (disk full, no permission) is one w2s::Error naming the file, and
  /// leaves no temporary file and no entry behind.
  W2S_ENGINE_INLINE void store(const std::filesystem::path& base, const Artifact& a) const;

  /// Held while one process computes the artefact at `base`: another process that wants
  /// the same artefact (w2s_sweep runs several binaries at once) waits, then loads it,
  /// instead of computing it a second time. An flock on `<base>.lock` (an empty file left
  /// in place), released when the holder ends, even by kill -9. Without the cache, or where
  /// the lock file cannot be made (a read-only cache: store says why), it holds nothing.
  class Lock {
   public:
    Lock() = default;
    explicit Lock(const std::filesystem::path& file) {
      std::error_code ec;
      std::filesystem::create_directories(file.parent_path(), ec);
      fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd_ >= 0)
        while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
        }
    }
    Lock(Lock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Lock& operator=(Lock&&) = delete;
    ~Lock() {
      if (fd_ >= 0) ::close(fd_);  // closing releases the flock
    }

   private:
    int fd_ = -1;
  };
  [[nodiscard]] Lock lock(const std::filesystem::path& base) const {
    return enabled_ ? Lock(with_extension(base, ".lock")) : Lock();
  }

  /// Loads the artefact at `base`, or computes it with `make` and stores it (under `lock`).
  W2S_ENGINE_INLINE Artifact get_or_make(const std::filesystem::path& base,
                                         const std::function<Artifact()>& make) const;

  [[nodiscard]] const std::filesystem::path& root() const { return root_; }
  [[nodiscard]] bool enabled() const { return enabled_; }

 private:
  static std::filesystem::path with_extension(std::filesystem::path base, const char* ext) {
    base += ext;
    return base;
  }
  static std::string read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    check(in.good(), "cannot open");
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    check(!in.bad(), "read error");
    return bytes;
  }
  std::filesystem::path root_;
  bool enabled_;
  nlohmann::json environment_;
};

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE std::optional<Artifact> Cache::load(const std::filesystem::path& base) const {
  if (!enabled_) return std::nullopt;
  const auto json_path = with_extension(base, ".json"), pt_path = with_extension(base, ".pt");
  if (!std::filesystem::exists(json_path) || !std::filesystem::exists(pt_path)) return std::nullopt;
  const auto damaged = [&](const std::filesystem::path& file, const std::string& why) -> std::optional<Artifact> {
    std::cerr << "w2s: cache: " << file.string() << ": damaged (" << why << "); recomputing it" << std::endl;
    return std::nullopt;
  };
  Artifact a;
  std::string bytes;
  try {
    a.meta = nlohmann::json::parse(read_bytes(json_path));
  } catch (const std::exception&) {
    return damaged(json_path, "not valid JSON");
  }
  if (!a.meta.is_object() || !a.meta.contains("checksum") || !a.meta["checksum"].is_object())
    return damaged(json_path, "no checksum");
  const nlohmann::json sums = a.meta["checksum"];
  a.meta.erase("checksum");
  if (sums.value("meta", "") != checksum(a.meta.dump())) return damaged(json_path, "checksum mismatch");
  try {
    bytes = read_bytes(pt_path);
  } catch (const std::exception& e) {
    return damaged(pt_path, e.what());
  }
  if (sums.value("pt_bytes", uint64_t{0}) != bytes.size())
    return damaged(pt_path, std::to_string(bytes.size()) + " bytes, the sidecar says " +
                                std::to_string(sums.value("pt_bytes", uint64_t{0})));
  if (sums.value("pt", "") != checksum(bytes)) return damaged(pt_path, "checksum mismatch");
  try {
    std::istringstream in(bytes);
    torch::load(a.tensors, in);
  } catch (const std::exception& e) {  // a checksummed file LibTorch cannot read: written by another version?
    std::string what = e.what();
    return damaged(pt_path, what.substr(0, what.find('\n')));
  }
  return a;
}

W2S_ENGINE_INLINE void Cache::store(const std::filesystem::path& base, const Artifact& a) const {
  if (!enabled_) return;
  const auto json_path = with_extension(base, ".json"), pt_path = with_extension(base, ".pt");
  std::ostringstream buffer;  // serialised in memory: LibTorch's writer cannot fail half-way on a full disk
  torch::save(a.tensors, buffer);
  const std::string bytes = buffer.str();
  nlohmann::json meta = a.meta.is_object() ? a.meta : nlohmann::json::object();
  check(a.meta.is_object() || a.meta.is_null(), "cache: ", json_path.string(), ": metadata must be a JSON object");
  meta.erase("checksum");
  const nlohmann::json sums = {{"pt", checksum(bytes)}, {"pt_bytes", bytes.size()}, {"meta", checksum(meta.dump())}};
  meta["checksum"] = sums;
  const auto write = [&](const std::filesystem::path& path, const std::string& content) {
    try {
      atomic_write_text(path, content);
    } catch (const std::exception& e) {
      std::error_code ignored;
      std::filesystem::remove(json_path, ignored);  // no sidecar: the entry is incomplete, not stale
      fail("cache: cannot write ", path.string(), ": ", first_line(e.what()), "; --no-cache runs without the cache");
    }
  };
  write(pt_path, bytes);
  write(json_path, meta.dump(2) + "\n");
}

W2S_ENGINE_INLINE Artifact Cache::get_or_make(const std::filesystem::path& base,
                                              const std::function<Artifact()>& make) const {
  const auto held = lock(base);
  if (auto hit = load(base)) return *hit;
  Artifact a = make();
  store(base, a);
  return a;
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
