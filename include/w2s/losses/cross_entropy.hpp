#pragma once
/// \file
/// `xent` of the openai code: cross entropy against the (soft) targets.
#include "w2s/losses/loss.hpp"

namespace w2s {

/// Cross entropy with soft targets (paper §4.1; openai `xent_loss`).
/// Example: `using Naive = Experiment<WeakLabels<>, CrossEntropy, FineTune>;`
struct CrossEntropy {
  static constexpr std::string_view name = "xent";
  at::Tensor operator()(const at::Tensor& logits, const at::Tensor& targets, TrainProgress) const {
    return soft_cross_entropy(logits, targets);
  }
};

}  // namespace w2s
