#pragma once
/// \file
/// A seed's record (experiment/record.hpp has the format): everything an experiment writes
/// beyond what its policies add. It depends on the task alone, so the compiled engine
/// instantiates it once for each task (core/engine.hpp) rather than every experiment file.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>

#include "w2s/core/code.hpp"
#include "w2s/core/config.hpp"
#include "w2s/core/engine.hpp"
#include "w2s/core/runtime.hpp"
#include "w2s/experiment/protocol.hpp"
#include "w2s/experiment/record.hpp"
#include "w2s/experiment/task.hpp"
#include "w2s/models/pretrain.hpp"
#include "w2s/train/trainer.hpp"

namespace w2s {

/// What a seed's record holds besides its identity and the policies' own fields.
struct RecordParts {
  const RunConfig& cfg;
  uint64_t seed;
  int threads;
  const Splits& splits;
  const PretrainedBackbone& weak_bb;
  const PretrainedBackbone& strong_bb;
  const StageResult& weak;
  const StageResult& ceiling;
  const FitResult& student;
  double seed_seconds;
  double total_seconds;
  nlohmann::json policies;     ///< Experiment::policies()
  bool transfer_ground_truth;  ///< the student reads the transfer half's ground truth (needs_transfer_ground_truth)
};

/// Where and with what a record was made.
W2S_ENGINE_INLINE nlohmann::json runtime_record(const RunConfig& cfg, int threads);

/// The record of a seed whose training diverged (--on-divergence record).
W2S_ENGINE_INLINE nlohmann::json diverged_record(const RunConfig& cfg, uint64_t seed, int threads,
                                                 const nlohmann::json& identity, const Diverged& d,
                                                 const nlohmann::json& policies);

/// A seed's record: the three models' test metrics under `Task`, PGR (final, at each model's
/// best step, by AUC), sizes, timings and runtime.
template <class Task>
nlohmann::json seed_record(const RecordParts& p);

#if defined(W2S_COMPILED_ENGINE) && !defined(W2S_ENGINE_SOURCE)
extern template nlohmann::json seed_record<Classification>(const RecordParts&);
extern template nlohmann::json seed_record<Regression>(const RecordParts&);
#endif

#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE nlohmann::json runtime_record(const RunConfig& cfg, int threads) {
  return {{"threads", threads},           {"device", cfg.device}, {"versions", runtime::versions()},
          {"revision", code::revision()}, {"host", host_name()},  {"finished_at", utc_now()}};
}

W2S_ENGINE_INLINE nlohmann::json diverged_record(const RunConfig& cfg, uint64_t seed, int threads,
                                                 const nlohmann::json& identity, const Diverged& d,
                                                 const nlohmann::json& policies) {
  return {{"experiment", cfg.experiment},
          {"dataset", cfg.dataset},
          {"weak", cfg.weak},
          {"strong", cfg.strong},
          {"seed", seed},
          {"smoke", cfg.smoke},
          {"identity", identity},
          {"diverged", {{"stage", d.stage}, {"step", d.step}, {"loss", number_or_null(d.loss)}, {"message", d.what()}}},
          {"policies", policies},
          {"config", cfg.to_json()},
          {"runtime", runtime_record(cfg, threads)}};
}

template <class Task>
nlohmann::json seed_record(const RecordParts& p) {
  const auto& y = p.splits.test.targets;
  const auto &weak = p.weak, &ceiling = p.ceiling;
  const auto& student = p.student;
  const double w = Task::score(weak.test_probs, y), c = Task::score(ceiling.test_probs, y);
  const double st = Task::score(student.test_probs, y);
  const auto w_auc = metrics::binary_auc(weak.test_probs, y), c_auc = metrics::binary_auc(ceiling.test_probs, y);
  const auto s_auc = metrics::binary_auc(student.test_probs, y);
  std::optional<double> pgr_auc;
  if (w_auc && c_auc && s_auc) pgr_auc = metrics::pgr(*w_auc, *s_auc, *c_auc);
  nlohmann::json m = {
      {"weak", Task::model_metrics(weak.test_probs, y, &weak.curve)},
      {"ceiling", Task::model_metrics(ceiling.test_probs, y, &ceiling.curve)},
      {"student", Task::model_metrics(student.test_probs, y, &student.curve)},
      {"pgr", number_or_null(metrics::pgr(w, st, c))},
      // each model at its own best test step, not the student's best beside the others' final
      {"pgr_best", number_or_null(metrics::pgr(weak.curve.best(), student.curve.best(), ceiling.curve.best()))},
      {"pgr_auc", number_or_null(pgr_auc)}};
  // Which of the three models stopped early on held-out rows (--val-fraction), and where.
  if (const auto stopping = student.early_stopping(); !stopping.is_null()) m["student"]["early_stopping"] = stopping;
  if (!weak.early_stopping.is_null()) m["weak"]["early_stopping"] = weak.early_stopping;
  if (!ceiling.early_stopping.is_null()) m["ceiling"]["early_stopping"] = ceiling.early_stopping;
  const auto& cfg = p.cfg;
  const auto sized = [](const PretrainedBackbone& b) {  // the size and, where counted, its parameters
    auto j = b.size.describe();
    if (b.parameters > 0) j["parameters"] = b.parameters;
    return j;
  };
  return {
      {"experiment", cfg.experiment},
      {"dataset", cfg.dataset},
      {"weak", cfg.weak},
      {"strong", cfg.strong},
      {"seed", p.seed},
      {"smoke", cfg.smoke},
      {"policies", p.policies},
      {"task", std::string(Task::name)},
      {"student_capabilities", {{"transfer_ground_truth", p.transfer_ground_truth}}},
      {"config", cfg.to_json()},
      {"sizes", {{"weak", sized(p.weak_bb)}, {"strong", sized(p.strong_bb)}}},
      {"n",
       {{"weak_half", p.splits.weak_half.size()},
        {"transfer_half", p.splits.transfer_half.size()},
        {"test", p.splits.test.size()}}},
      {"metrics", m},
      {"timings",
       {{"pretrain_weak_s", p.weak_bb.meta.value("seconds", 0.0)},
        {"pretrain_strong_s", p.strong_bb.meta.value("seconds", 0.0)},
        {"weak_s", weak.seconds},
        {"weak_cached", weak.cached},
        {"ceiling_s", ceiling.seconds},
        {"ceiling_cached", ceiling.cached},
        {"student_s", student.seconds},
        {"seed_s", p.seed_seconds},
        {"process_s", p.total_seconds}}},
      {"runtime", runtime_record(cfg, p.threads)},
  };
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
