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

#include "w2s/core/cache.hpp"
#include "w2s/metrics/metrics.hpp"
#include "w2s/train/trainer.hpp"

namespace w2s {

/// JSON null for NaN or nullopt: JSON has no NaN.
inline nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
inline nlohmann::json number_or_null(const std::optional<double>& v) {
  return v ? number_or_null(*v) : nlohmann::json(nullptr);
}

/// Accuracy, AUC and (when given) the curve of one model's test predictions; for
/// regression the MSE. `score` is what PGR is computed from (metrics::score).
inline nlohmann::json model_metrics(const at::Tensor& probs, const at::Tensor& labels, const Curve* curve) {
  const double score = metrics::score(probs, labels);
  if (metrics::is_regression(labels)) {
    nlohmann::json j = {{"mse", -score}, {"score", score}};
    if (curve) {
      j["best_mse"] = number_or_null(-curve->best());
      j["final_mse"] = number_or_null(-curve->final());
      j["curve"] = curve->to_json();
    }
    return j;
  }
  nlohmann::json j = {{"accuracy", score}, {"score", score}, {"auc", number_or_null(metrics::binary_auc(probs, labels))}};
  if (curve) {
    j["best_accuracy"] = number_or_null(curve->best());
    j["final_accuracy"] = number_or_null(curve->final());
    j["curve"] = curve->to_json();
  }
  return j;
}

/// The regression setting's per-task numbers (Charikar et al. 2024): for each
/// output column j (one transfer task), on one split, err_weak = E(g − y)²,
/// err_w2s = E(f − y)², err_ceiling, misfit = E(f − g)² and gain = err_weak − err_w2s,
/// where g are the weak model's and f the student's predictions.
inline nlohmann::json regression_tasks(const at::Tensor& weak, const at::Tensor& student, const at::Tensor& ceiling,
                                       const at::Tensor& y) {
  const auto per_column = [](const at::Tensor& a, const at::Tensor& b) {
    return (a.to(at::kDouble) - b.to(at::kDouble)).pow(2).mean(0);
  };
  const auto ew = per_column(weak, y), es = per_column(student, y), ec = per_column(ceiling, y),
             mf = per_column(student, weak);
  nlohmann::json tasks = nlohmann::json::array();
  for (int64_t j = 0; j < y.size(1); ++j)
    tasks.push_back({{"err_weak", ew[j].item<double>()},
                     {"err_w2s", es[j].item<double>()},
                     {"err_ceiling", ec[j].item<double>()},
                     {"misfit", mf[j].item<double>()},
                     {"gain", (ew[j] - es[j]).item<double>()}});
  return tasks;
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
