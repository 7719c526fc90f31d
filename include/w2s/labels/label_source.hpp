#pragma once
/// \file
/// The LabelSource role (docs/roles.md#labelsource): what the strong student is
/// trained on over the transfer half: its targets and, where needed, its inputs.
#include <ATen/ATen.h>

#include <concepts>
#include <functional>
#include <string>

#include "w2s/core/engine.hpp"
#include "w2s/core/policy.hpp"
#include "w2s/data/dataset.hpp"

namespace w2s {

/// What a label source sees: the splits, the weak supervisor's soft predictions
/// on the transfer half and on the test set, the run's seed, and the strong
/// ceiling's predictions on the transfer half (for errors placed where the strong
/// model is unconfident).
struct LabelContext {
  const Splits& splits;
  at::Tensor weak_transfer_probs;  ///< N_transfer × C
  at::Tensor weak_test_probs;      ///< N_test × C
  uint64_t seed = 0;
  at::Tensor ceiling_transfer_probs = {};  ///< N_transfer × C
  /// The ceiling trained on the transfer half (--ceiling-half transfer): its predictions
  /// there are on its own training rows, not held out.
  bool ceiling_trained_on_transfer = false;
  /// The strong model's frozen features (N × D, CPU) of rows of the transfer half, for the label
  /// sources that clean labels on them (labels/cleaned.hpp); empty where the run has none.
  std::function<at::Tensor(const Dataset&)> strong_features = {};
};

/// Whether label source `L` ranks examples by the ceiling's held-out confidence on the
/// transfer half (`static constexpr bool needs_held_out_ceiling = true`), which
/// --ceiling-half transfer cannot give.
template <class L>
constexpr bool needs_held_out_ceiling() {
  if constexpr (requires { L::needs_held_out_ceiling; })
    return L::needs_held_out_ceiling;
  else
    return false;
}

/// What the student trains and is tested on. `targets` are N×C distributions (N×k real
/// values for regression): what the label source made. A label source returns `train` as the
/// transfer half it labelled; before a student sees it, `for_student` takes the half's ground
/// truth out (`train.targets` undefined) and hands it back, as `ground_truth`, only to a
/// student whose type asks for it (needs_transfer_ground_truth). `test` is the test set as the
/// student sees it; its targets stay: the trainer's evaluation curve scores against them.
struct StudentData {
  Dataset train;
  at::Tensor targets;
  Dataset test;
  /// The transfer half's ground truth (N class ids, or N×k values); defined only for a student
  /// that asks for it (transfer_ground_truth<S>).
  at::Tensor ground_truth = {};
  /// A cleaning label source (labels/cleaned.hpp): its name, and which rows of the transfer half
  /// it kept (int64 indices; undefined: all of them, relabelled). The record's metrics.cleaning.
  std::string cleaned = {};
  at::Tensor kept = {};
  /// Width of a model's output: the classes, or the regression targets per example.
  [[nodiscard]] int64_t outputs() const { return train.classes > 0 ? train.classes : targets.size(1); }
};

/// Whether student `S` is handed the transfer half's ground truth: it declares
/// `static constexpr bool needs_transfer_ground_truth = true` (the saliency probe,
/// students/probe_after.hpp). Every other student trains on its label source's targets only.
template <class S>
constexpr bool needs_transfer_ground_truth() {
  if constexpr (requires { S::needs_transfer_ground_truth; })
    return S::needs_transfer_ground_truth;
  else
    return false;
}

/// `d` as student `S` may see it: the training half's ground truth removed, and handed back
/// as `ground_truth` where `S` asks for it by type.
template <class S>
StudentData for_student(StudentData d) {
  at::Tensor truth = std::move(d.train.targets);
  d.train.targets = at::Tensor();
  if constexpr (needs_transfer_ground_truth<S>()) d.ground_truth = std::move(truth);
  return d;
}

/// The transfer half's ground truth, for a student whose type asks for it; a student that
/// does not declare needs_transfer_ground_truth does not compile with it.
template <class S>
const at::Tensor& transfer_ground_truth(const StudentData& d) {
  static_assert(needs_transfer_ground_truth<S>(),
                "w2s::transfer_ground_truth<S>: S must declare `static constexpr bool needs_transfer_ground_truth = "
                "true`; only such students are handed the transfer half's ground truth (docs/roles.md#student)");
  check(d.ground_truth.defined(), S::name, ": the transfer half's ground truth was not handed over (the data did not ",
        "come through w2s::for_student<", S::name, ">)");
  return d.ground_truth;
}

template <class L>
concept LabelMaker = requires(const L& source, const LabelContext& context) {
  { source.make(context) } -> std::same_as<StudentData>;
};

/// A LabelSource: `name`, and `StudentData make(const LabelContext&) const`.
template <class L>
concept LabelSource = Named<L> && LabelMaker<L>;

/// One-hot distributions of int64 class ids.
W2S_ENGINE_INLINE at::Tensor one_hot_targets(const at::Tensor& ids, int64_t classes);

/// What a model trains on for ground truth of `d`: one-hot classes, or the regression targets.
W2S_ENGINE_INLINE at::Tensor ground_truth_targets(const Dataset& d);

/// Label sources that only make sense with classes call this first.
W2S_ENGINE_INLINE void require_classes(const Dataset& d, std::string_view source);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE at::Tensor one_hot_targets(const at::Tensor& ids, int64_t classes) {
  return at::one_hot(ids, classes).to(at::kFloat);
}

W2S_ENGINE_INLINE at::Tensor ground_truth_targets(const Dataset& d) {
  return d.regression() ? d.targets.to(at::kFloat) : one_hot_targets(d.targets, d.classes);
}

W2S_ENGINE_INLINE void require_classes(const Dataset& d, std::string_view source) {
  check(!d.regression(), source, ": dataset '", d.name, "' is regression data (real-valued targets); this label ",
        "source needs classes");
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
