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

/// What the student trains and is tested on. `targets` are N×C distributions;
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

}  // namespace w2s
