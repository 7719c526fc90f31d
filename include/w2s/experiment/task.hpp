#pragma once
/// \file
/// The Task policy (docs/roles.md#task): what kind of prediction a dataset asks for, and
/// everything that follows from it: the score PGR is computed from, the metrics and record
/// fields of each model, the loss of the ground-truth stages and the weak learner, and the
/// one-line summary of a seed. The dataset chooses it (Dataset::regression(): classes or
/// real-valued targets); an experiment compiles only the task its Loss fits.
#include <ATen/ATen.h>

#include <nlohmann/json.hpp>

#include <concepts>
#include <optional>
#include <type_traits>
#include <sstream>
#include <string>
#include <string_view>

#include "w2s/core/engine.hpp"
#include "w2s/experiment/protocol.hpp"
#include "w2s/experiment/record.hpp"
#include "w2s/losses/cross_entropy.hpp"
#include "w2s/losses/squared_error.hpp"
#include "w2s/metrics/metrics.hpp"
#include "w2s/students/least_squares.hpp"

namespace w2s {

/// What a seed produced, for a task's record fields: the splits, the weak supervisor, the
/// strong ceiling and the trained student.
struct SeedOutcome {
  const Splits& splits;
  const StageResult& weak;
  const StageResult& ceiling;
  const Fitted& student;
};

/// Classes: accuracy (and ROC AUC for two classes), soft labels, student–supervisor agreement.
struct Classification {
  static constexpr std::string_view name = "classification";
  /// The loss of the ground-truth stages (weak supervisor, ceiling).
  using StageLoss = CrossEntropy;
  /// The weak supervisor is fine-tuned like the student's family (WeakStudentFor).
  template <class S>
  static auto weak_student(const S& student) {
    return WeakStudentFor<S>::make(student);
  }
  static double score(const at::Tensor& probs, const at::Tensor& labels) { return metrics::accuracy(probs, labels); }
  /// Accuracy, AUC and (when given) the curve of one model's test predictions.
  W2S_ENGINE_INLINE static nlohmann::json model_metrics(const at::Tensor& probs, const at::Tensor& labels,
                                                        const Curve* curve);
  /// Agreement of the student with its supervisor's predicted classes (paper Fig. 8).
  W2S_ENGINE_INLINE static void add_fields(nlohmann::json& m, const SeedOutcome& o);
  W2S_ENGINE_INLINE static std::string summary(const nlohmann::json& m);
};

/// Real-valued targets (Charikar et al. 2024): −MSE as the score, so that higher is better and
/// PGR = (err_weak − err_student) / (err_weak − err_ceiling); the weak model is the exact
/// least-squares head on its frozen representation; per-task gain and misfit in the record.
struct Regression {
  static constexpr std::string_view name = "regression";
  using StageLoss = SquaredError;
  /// The one regression setting, the default dataset of experiments whose loss fits values.
  static constexpr std::string_view default_dataset = "charikar";
  template <class S>
  static LeastSquares weak_student(const S&) {
    return {};
  }
  static double score(const at::Tensor& predictions, const at::Tensor& targets) {
    return -metrics::mse(predictions, targets);
  }
  W2S_ENGINE_INLINE static nlohmann::json model_metrics(const at::Tensor& predictions, const at::Tensor& targets,
                                                        const Curve* curve);
  /// For each output column j (one transfer task), on one split: err_weak = E(g − y)²,
  /// err_w2s = E(f − y)², err_ceiling, misfit = E(f − g)² and gain = err_weak − err_w2s,
  /// where g are the weak model's and f the student's predictions.
  W2S_ENGINE_INLINE static nlohmann::json tasks(const at::Tensor& weak, const at::Tensor& student,
                                                const at::Tensor& ceiling, const at::Tensor& y);
  W2S_ENGINE_INLINE static void add_fields(nlohmann::json& m, const SeedOutcome& o);
  W2S_ENGINE_INLINE static std::string summary(const nlohmann::json& m);
};

/// The task a Loss fits: Regression for losses that fit values (is_regression_loss), else Classification.
template <class Loss>
using TaskFor = std::conditional_t<is_regression_loss<Loss>(), Regression, Classification>;

/// A Task policy: `name`, `StageLoss`, `weak_student`, `score`, `model_metrics`, `add_fields`, `summary`.
template <class T>
concept TaskPolicy = requires(const at::Tensor& t, nlohmann::json& j, const SeedOutcome& o) {
  { T::name } -> std::convertible_to<std::string_view>;
  typename T::StageLoss;
  { T::score(t, t) } -> std::same_as<double>;
  { T::model_metrics(t, t, nullptr) } -> std::same_as<nlohmann::json>;
  T::add_fields(j, o);
  { T::summary(j) } -> std::same_as<std::string>;
};
static_assert(TaskPolicy<Classification> && TaskPolicy<Regression>);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE nlohmann::json Classification::model_metrics(const at::Tensor& probs, const at::Tensor& labels,
                                                               const Curve* curve) {
  const double s = score(probs, labels);
  nlohmann::json j = {{"accuracy", s},
                      {"score", s},
                      {"auc", number_or_null(metrics::binary_auc(probs, labels))},
                      {"test_correct", metrics::correct_hex(probs, labels)}};
  const auto cal = metrics::calibration(probs, labels);
  j["calibration"] = {{"mean_confidence", cal.mean_confidence}, {"mean_margin", cal.mean_margin}, {"ece", cal.ece}};
  if (curve) {
    j["best_accuracy"] = number_or_null(curve->best());
    j["final_accuracy"] = number_or_null(curve->final());
    j["curve"] = curve->to_json();
  }
  return j;
}

W2S_ENGINE_INLINE void Classification::add_fields(nlohmann::json& m, const SeedOutcome& o) {
  const auto agree = metrics::agreement(o.student.result.test_probs, o.weak.test_probs, o.splits.test.targets);
  m["agreement"] = {{"all", number_or_null(agree.all)},
                    {"supervisor_right", number_or_null(agree.supervisor_right)},
                    {"supervisor_wrong", number_or_null(agree.supervisor_wrong)}};
}

W2S_ENGINE_INLINE std::string Classification::summary(const nlohmann::json& m) {
  std::ostringstream out;
  out << "weak " << m["weak"]["accuracy"] << "  ceiling " << m["ceiling"]["accuracy"] << "  student "
      << m["student"]["accuracy"] << "  PGR " << m["pgr"] << "  agreement(weak wrong) "
      << m["agreement"]["supervisor_wrong"];
  return out.str();
}

W2S_ENGINE_INLINE nlohmann::json Regression::model_metrics(const at::Tensor& predictions, const at::Tensor& targets,
                                                           const Curve* curve) {
  const double s = score(predictions, targets);
  nlohmann::json j = {{"mse", -s}, {"score", s}};
  if (curve) {
    j["best_mse"] = number_or_null(-curve->best());
    j["final_mse"] = number_or_null(-curve->final());
    j["curve"] = curve->to_json();
  }
  return j;
}

W2S_ENGINE_INLINE nlohmann::json Regression::tasks(const at::Tensor& weak, const at::Tensor& student,
                                                   const at::Tensor& ceiling, const at::Tensor& y) {
  const auto per_column = [](const at::Tensor& a, const at::Tensor& b) {
    return (a.to(at::kDouble) - b.to(at::kDouble)).pow(2).mean(0);
  };
  const auto ew = per_column(weak, y), es = per_column(student, y), ec = per_column(ceiling, y),
             mf = per_column(student, weak);
  nlohmann::json out = nlohmann::json::array();
  for (int64_t j = 0; j < y.size(1); ++j)
    out.push_back({{"err_weak", ew[j].item<double>()},
                   {"err_w2s", es[j].item<double>()},
                   {"err_ceiling", ec[j].item<double>()},
                   {"misfit", mf[j].item<double>()},
                   {"gain", (ew[j] - es[j]).item<double>()}});
  return out;
}

W2S_ENGINE_INLINE void Regression::add_fields(nlohmann::json& m, const SeedOutcome& o) {
  const auto& s = o.splits;
  m["tasks"] = {{"test", tasks(o.weak.test_probs, o.student.result.test_probs, o.ceiling.test_probs, s.test.targets)},
                {"transfer", tasks(o.weak.transfer_probs, o.student.predict(s.transfer_half), o.ceiling.transfer_probs,
                                   s.transfer_half.targets)}};
}

W2S_ENGINE_INLINE std::string Regression::summary(const nlohmann::json& m) {
  std::ostringstream out;
  out << "mse weak " << m["weak"]["mse"] << "  ceiling " << m["ceiling"]["mse"] << "  student " << m["student"]["mse"]
      << "  PGR " << m["pgr"];
  return out.str();
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

// What every experiment with a fine-tuned student shares, instantiated once in the compiled engine
// (src/engine.cpp): the ground-truth stage with the shipped fine-tuning student (the training loop
// itself is compiled for every loss: train/trainer.hpp, train_loop). Header-only builds instantiate
// it where it is used, as before.
#if defined(W2S_COMPILED_ENGINE) && !defined(W2S_ENGINE_SOURCE)
extern template StageResult ground_truth_stage<Classification, FineTune>(const SeedState&, const FineTune&,
                                                                         const PretrainedBackbone&, const Dataset&,
                                                                         bool, const std::string&, bool);
#endif

}  // namespace w2s
