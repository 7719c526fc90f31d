#pragma once
/// \file
/// KL divergence to the targets (EleutherAI w2s): same gradient as cross entropy, minimum 0.
#include "w2s/losses/loss.hpp"

namespace w2s {

/// KL(y ‖ p) = Σ_c y_c (log y_c − log p_c), batch mean; 0·log 0 = 0.
struct KL {
  static constexpr std::string_view name = "kl";
  at::Tensor operator()(const at::Tensor& logits, const at::Tensor& targets, TrainProgress) const {
    const auto y_log_y = at::where(targets > 0, targets * targets.clamp_min(1e-30).log(), at::zeros_like(targets));
    return (y_log_y - targets * at::log_softmax(logits, 1)).sum(1).mean();
  }
};

}  // namespace w2s
