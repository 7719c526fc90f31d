#pragma once
/// \file
/// One JSON Lines record per run (a configuration and a seed), written atomically to
/// the path its identity names (experiment/identity.hpp). One run per file makes
/// sweeps' "already done" a file test and needs no locks; `cat results/*/*.jsonl` is
/// the whole table.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>

#include "w2s/core/clock.hpp"
#include "w2s/core/engine.hpp"
#include "w2s/core/cache.hpp"

namespace w2s {

/// JSON null for NaN or nullopt: JSON has no NaN.
inline nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
inline nlohmann::json number_or_null(const std::optional<double>& v) {
  return v ? number_or_null(*v) : nlohmann::json(nullptr);
}

W2S_ENGINE_INLINE void write_record(const std::filesystem::path& path, const nlohmann::json& record);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE void write_record(const std::filesystem::path& path, const nlohmann::json& record) {
  atomic_write_text(path, record.dump() + "\n");
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
