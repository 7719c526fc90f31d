#pragma once
/// \file
/// The confidence-window loss of EleutherAI w2s: learn only where the student is
/// still unsure, so confident disagreements with the supervisor are left alone.
#include <ATen/ATen.h>

#include <cmath>
#include <string>

#include "w2s/core/error.hpp"
#include "w2s/losses/loss.hpp"

namespace w2s {

/// CE summed over the examples whose student max-probability is below 0.5 + r,
/// divided by the batch size. r is `--window-radius` (0.15), or with "midweak"
/// the median of |max_c y_c − 0.5| over the whole training set (for binary labels,
/// median |y − 0.5|; the lower middle value for an even count, as torch.median), fixed
/// before the first step as EleutherAI's sft.py does (the trainer calls for_training_set).
struct Window {
  static constexpr std::string_view name = "window";
  std::string radius = "0.15";
  double fixed_radius = NAN;  ///< set by for_training_set; NaN = take it from the targets at hand

  [[nodiscard]] double radius_for(const at::Tensor& targets) const {
    if (!std::isnan(fixed_radius)) return fixed_radius;
    if (radius == "midweak") return (targets.amax(1) - 0.5).abs().median().item<double>();
    return std::stod(radius);
  }
  /// This loss with the radius of the training set's targets.
  [[nodiscard]] Window for_training_set(const at::Tensor& targets) const {
    Window w = *this;
    w.fixed_radius = radius_for(targets);
    return w;
  }
  at::Tensor operator()(const at::Tensor& logits, const at::Tensor& targets, TrainProgress) const {
    const double r = radius_for(targets);
    const auto unsure = at::softmax(logits, 1).amax(1).detach().lt(0.5 + r).to(logits.scalar_type());
    const auto per_example = -(targets * at::log_softmax(logits, 1)).sum(1);
    return (per_example * unsure).sum() / double(logits.size(0));
  }
  void add_options(po::options_description& o) {
    o.add_options()("window-radius", po::value(&radius)->default_value(radius),
                    "train where the student's max probability < 0.5 + r; a number, or midweak");
  }
  void validate() const {
    if (radius == "midweak") return;
    double r = -1;
    try {
      r = std::stod(radius);
    } catch (const std::exception&) {
    }
    check(r >= 0 && r <= 0.5, "--window-radius: expected a number in 0..0.5 or 'midweak', got '", radius, "'");
  }
  [[nodiscard]] nlohmann::json describe() const { return {{"radius", radius}}; }
};

}  // namespace w2s
