#pragma once
/// \file
/// A run's identity: everything that can change its result. One function,
/// `run_identity`, makes it, and everything that must tell runs apart reads it:
///  - the record's path, `<out>/<experiment>/<dataset>_<weak>_<strong>_<group>_seed<k>.jsonl`
///    (`group` = the identity's hash without the seed, 12 hex digits): a run with another
///    policy option, another code or other data writes beside the first, never over it;
///  - the report, which groups records by `identity.group` and so never pools different
///    configurations as if they were seeds (report/aggregate.hpp);
///  - `--skip-existing` and w2s_sweep, for which a run is done when its record exists;
///  - cache keys, which hold the same parts a cached artefact depends on: the data's
///    fingerprint (Dataset::id), `environment` less the binary's own source (core/cache.hpp)
///    and the stage's own configuration (experiment/protocol.hpp).
/// What is in it: the policies with their options; every configuration value except those
/// that only say where things go or how they are shown (`placement_keys`); the thread count
/// actually used (BLAS results differ between 1 and 2 threads); the code's fingerprint
/// (embedded at build time, core/code.hpp); the data's fingerprint and the backbones' keys
/// (which hash the checkpoint files); and the libraries' versions.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "w2s/core/engine.hpp"
#include "w2s/core/code.hpp"
#include "w2s/core/config.hpp"
#include "w2s/core/hash.hpp"
#include "w2s/core/placement.hpp"
#include "w2s/core/runtime.hpp"

namespace w2s {

struct RunIdentity {
  nlohmann::json fields;  ///< the identity without the seed
  std::string group;      ///< hash of `fields`, 16 hex digits: the same for every seed of one configuration

  /// The identity of one seed's run, 16 hex digits.
  [[nodiscard]] std::string run(uint64_t seed) const { return stable_hash(group + "/seed" + std::to_string(seed)); }

  [[nodiscard]] W2S_ENGINE_INLINE std::filesystem::path record_path(const std::filesystem::path& out,
                                                                    uint64_t seed) const;

  /// What a record carries under "identity".
  [[nodiscard]] W2S_ENGINE_INLINE nlohmann::json to_json(uint64_t seed) const;

  /// Whether `path` holds a whole record of this identity and seed (--skip-existing, w2s_sweep).
  [[nodiscard]] W2S_ENGINE_INLINE bool recorded_at(const std::filesystem::path& path, uint64_t seed) const;
};

/// What a result depends on besides its configuration, policies and data: the code (the
/// library's fingerprint, and with `with_source` the binary's own source too), the threads in
/// force, the device and the libraries' versions. The run identity holds it with the source;
/// cache keys (core/cache.hpp) without, so that every experiment binary of one library shares
/// weak models and ceilings, but none made with other threads, device or libraries.
W2S_ENGINE_INLINE nlohmann::json environment(int threads, const std::string& device, bool with_source);

/// Cache keys' part of the environment (Cache's `environment`).
W2S_ENGINE_INLINE nlohmann::json cache_environment(int threads, const std::string& device);

/// The identity of `cfg`'s runs: `cfg` after the sizes are resolved, `policies` as the
/// experiment describes them, `threads` in force, and `data` = the data's fingerprint and
/// the backbones' keys.
W2S_ENGINE_INLINE RunIdentity run_identity(const RunConfig& cfg, const nlohmann::json& policies, int threads,
                                           const nlohmann::json& data);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE std::filesystem::path RunIdentity::record_path(const std::filesystem::path& out,
                                                                 uint64_t seed) const {
  const auto text = [&](const char* k) { return fields.at(k).get<std::string>(); };
  return out / text("experiment") /
         (text("dataset") + "_" + text("weak") + "_" + text("strong") + "_" + group.substr(0, 12) + "_seed" +
          std::to_string(seed) + ".jsonl");
}

W2S_ENGINE_INLINE nlohmann::json RunIdentity::to_json(uint64_t seed) const {
  return {{"run", run(seed)}, {"group", group}, {"seed", seed}, {"fields", fields}};
}

W2S_ENGINE_INLINE bool RunIdentity::recorded_at(const std::filesystem::path& path, uint64_t seed) const {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return false;
  const auto r = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  return r.is_object() && r.contains("identity") && r["identity"].value("run", "") == run(seed);
}

W2S_ENGINE_INLINE nlohmann::json environment(int threads, const std::string& device, bool with_source) {
  return {{"code", with_source ? code::fingerprint() : code::library_fingerprint()},
          {"threads", threads},
          {"device", device},
          {"versions", runtime::versions()}};
}

W2S_ENGINE_INLINE nlohmann::json cache_environment(int threads, const std::string& device) {
  return environment(threads, device, false);
}

W2S_ENGINE_INLINE RunIdentity run_identity(const RunConfig& cfg, const nlohmann::json& policies, int threads,
                                           const nlohmann::json& data) {
  nlohmann::json config = cfg.to_json();
  for (const auto& k : placement_keys()) config.erase(k);
  RunIdentity id;
  id.fields = {{"experiment", cfg.experiment},
               {"dataset", cfg.dataset},
               {"weak", cfg.weak},
               {"strong", cfg.strong},
               {"policies", policies},
               {"config", config},
               {"data", data}};
  id.fields.update(environment(threads, cfg.device, true));  // code, threads, device, versions
  id.group = stable_hash(id.fields.dump());
  return id;
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
