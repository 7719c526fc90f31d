#pragma once
/// \file
/// Cosine learning-rate decay over all steps, stepped once per batch, no warm-up
/// (the openai code's schedule; LibTorch 1.13's C++ API has none).
#include <torch/optim/schedulers/lr_scheduler.h>

#include <cmath>
#include <vector>

namespace w2s {

/// lr(t) = base · ½(1 + cos(π t / total)), t = 0 … total.
inline double cosine_lr(double base, int64_t step, int64_t total) {
  if (total <= 0) return base;
  const double t = std::min<double>(static_cast<double>(step), static_cast<double>(total));
  return base * 0.5 * (1.0 + std::cos(M_PI * t / static_cast<double>(total)));
}

class CosineSchedule : public torch::optim::LRScheduler {
 public:
  CosineSchedule(torch::optim::Optimizer& optimizer, double base_lr, int64_t total_steps)
      : LRScheduler(optimizer), base_(base_lr), total_(total_steps) {}

 private:
  std::vector<double> get_lrs() override {
    auto lrs = get_current_lrs();
    // step() calls this after batch `step_count_` (0-based): set the rate of the next batch.
    for (auto& lr : lrs) lr = cosine_lr(base_, static_cast<int64_t>(step_count_) + 1, total_);
    return lrs;
  }
  double base_;
  int64_t total_;
};

}  // namespace w2s
