#pragma once
/// \file
/// The LabelSource role (docs/roles.md#labelsource): what the strong student is
/// trained on over the transfer half: its targets and, where needed, its inputs.
#include <ATen/ATen.h>

#include <concepts>

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
};

/// What the student trains and is tested on. `targets` are N×C distributions
/// (N×k real values for regression);
/// `test` is the test set as the student sees it (its targets stay ground truth).
struct StudentData {
  Dataset train;
  at::Tensor targets;
  Dataset test;
};

template <class L>
concept LabelMaker = requires(const L& source, const LabelContext& context) {
  { source.make(context) } -> std::same_as<StudentData>;
};

/// A LabelSource: `name`, and `StudentData make(const LabelContext&) const`.
template <class L>
concept LabelSource = Named<L> && LabelMaker<L>;

/// One-hot distributions of int64 class ids.
inline at::Tensor one_hot_targets(const at::Tensor& ids, int64_t classes) {
  return at::one_hot(ids, classes).to(at::kFloat);
}

/// What a model trains on for ground truth of `d`: one-hot classes, or the regression targets.
inline at::Tensor ground_truth_targets(const Dataset& d) {
  return d.regression() ? d.targets.to(at::kFloat) : one_hot_targets(d.targets, d.classes);
}

/// Label sources that only make sense with classes call this first.
inline void require_classes(const Dataset& d, std::string_view source) {
  check(!d.regression(), source, ": dataset '", d.name, "' is regression data (real-valued targets); this label ",
        "source needs classes");
}

}  // namespace w2s
