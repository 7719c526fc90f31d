#pragma once
/// \file
/// The Loss role (docs/roles.md#loss): the training objective from the student's
/// logits (N×C), its targets (N×C soft distributions) and training progress.
#include <ATen/ATen.h>

#include <concepts>
#include <string_view>

#include "w2s/core/policy.hpp"
#include "w2s/train/trainer.hpp"

namespace w2s {

template <class L>
concept LossCallable = requires(const L& loss, const at::Tensor& logits, const at::Tensor& targets, TrainProgress p) {
  { loss(logits, targets, p) } -> std::same_as<at::Tensor>;
};

/// A Loss: `name`, and `at::Tensor operator()(logits, targets, TrainProgress) const`
/// returning a scalar to minimise.
template <class L>
concept Loss = Named<L> && LossCallable<L>;

/// Cross entropy with soft targets, averaged over the batch: −Σ_c y_c log p_c.
inline at::Tensor soft_cross_entropy(const at::Tensor& logits, const at::Tensor& targets) {
  return -(targets * at::log_softmax(logits, 1)).sum(1).mean();
}

}  // namespace w2s
