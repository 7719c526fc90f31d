#pragma once
/// \file
/// The on-disk cache of everything expensive (pretrained backbones, weak
/// supervisors' predictions, strong ceilings) and atomic file writes.
///
/// An artefact lives at `<cache-dir>/<kind>/<label>-<hash>.{pt,json}` where the
/// hash is FNV-1a-64 of the canonical JSON of everything that determines it.
/// The `.json` sidecar (the key, and the artefact's metrics) is written last and
/// marks the artefact complete; a process that dies mid-write leaves only a
/// temporary file behind, never a half artefact.
#include <torch/serialize.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "w2s/core/atomic_file.hpp"
#include "w2s/core/error.hpp"

namespace w2s {

/// Bumped whenever a change makes old cached artefacts wrong.
inline constexpr int cache_format = 2;  // 2: text backbones own their GloVe embedding

/// FNV-1a 64-bit hash of `text` as 16 hex digits: stable across runs and machines.
inline std::string stable_hash(const std::string& text) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64 offset basis (0xcbf29ce484222325)
  for (const unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

/// A cached artefact: tensors plus a JSON sidecar with its key and metadata.
struct Artifact {
  std::vector<at::Tensor> tensors;
  nlohmann::json meta;
};

/// The cache under one directory. Disabled (`enabled = false`), every lookup misses
/// and nothing is written.
class Cache {
 public:
  Cache(std::filesystem::path root, bool enabled) : root_(std::move(root)), enabled_(enabled) {}

  /// Base path (without extension) of the artefact of `kind` with `key`.
  [[nodiscard]] std::filesystem::path base(const std::string& kind, const std::string& label,
                                           const nlohmann::json& key) const {
    nlohmann::json full = key;
    full["cache_format"] = cache_format;
    return root_ / kind / (label + "-" + stable_hash(full.dump()));
  }

  [[nodiscard]] std::optional<Artifact> load(const std::filesystem::path& base) const {
    if (!enabled_) return std::nullopt;
    auto json_path = base, pt_path = base;
    json_path += ".json";
    pt_path += ".pt";
    if (!std::filesystem::exists(json_path) || !std::filesystem::exists(pt_path)) return std::nullopt;
    Artifact a;
    try {
      std::ifstream in(json_path);
      a.meta = nlohmann::json::parse(in);
      torch::load(a.tensors, pt_path.string());
    } catch (const std::exception& e) {
      fail(base.string(), ": corrupt cache entry (", e.what(), "); delete it or pass --no-cache");
    }
    return a;
  }

  void store(const std::filesystem::path& base, const Artifact& a) const {
    if (!enabled_) return;
    auto json_path = base, pt_path = base;
    json_path += ".json";
    pt_path += ".pt";
    atomic_write(pt_path, [&](const std::filesystem::path& tmp) { torch::save(a.tensors, tmp.string()); });
    atomic_write_text(json_path, a.meta.dump(2) + "\n");
  }

  /// Loads the artefact at `base`, or computes it with `make` and stores it.
  Artifact get_or_make(const std::filesystem::path& base, const std::function<Artifact()>& make) const {
    if (auto hit = load(base)) return *hit;
    Artifact a = make();
    store(base, a);
    return a;
  }

  [[nodiscard]] const std::filesystem::path& root() const { return root_; }
  [[nodiscard]] bool enabled() const { return enabled_; }

 private:
  std::filesystem::path root_;
  bool enabled_;
};

}  // namespace w2s
