#pragma once
/// \file
/// One JSON Lines record per (experiment, dataset, weak, strong, seed), written
/// atomically to `<out>/<experiment>/<dataset>_<weak>_<strong>_seed<k>.jsonl`.
/// One run per file makes sweeps' "already done" a file test and needs no locks;
/// `cat results/*/*.jsonl` is the whole table.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>

#include "w2s/core/cache.hpp"
#include "w2s/metrics/metrics.hpp"
#include "w2s/train/trainer.hpp"

namespace w2s {

/// JSON null for NaN or nullopt: JSON has no NaN.
inline nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
inline nlohmann::json number_or_null(const std::optional<double>& v) {
  return v ? number_or_null(*v) : nlohmann::json(nullptr);
}

/// Accuracy, AUC and (when given) the curve of one model's test predictions.
inline nlohmann::json model_metrics(const at::Tensor& probs, const at::Tensor& labels, const Curve* curve) {
  nlohmann::json j = {{"accuracy", metrics::accuracy(probs, labels)},
                      {"auc", number_or_null(metrics::binary_auc(probs, labels))}};
  if (curve) {
    j["best_accuracy"] = number_or_null(curve->best());
    j["final_accuracy"] = number_or_null(curve->final());
    j["curve"] = curve->to_json();
  }
  return j;
}

inline std::filesystem::path record_path(const std::filesystem::path& out, const std::string& experiment,
                                         const std::string& dataset, const std::string& weak,
                                         const std::string& strong, uint64_t seed) {
  return out / experiment / (dataset + "_" + weak + "_" + strong + "_seed" + std::to_string(seed) + ".jsonl");
}

inline std::string utc_now() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

inline std::string host_name() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

inline void write_record(const std::filesystem::path& path, const nlohmann::json& record) {
  atomic_write_text(path, record.dump() + "\n");
}

}  // namespace w2s
