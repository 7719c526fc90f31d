#pragma once
/// \file
/// The entropy loss of EleutherAI w2s: like the auxiliary confidence loss, but
/// mixing in the student's own soft predictions instead of hardened ones.
#include "w2s/losses/aux_confidence.hpp"

namespace w2s {

/// target = (1 − coef)·y + coef·p (detached); coef warms up as in AuxConfidence.
struct Entropy {
  static constexpr std::string_view name = "entropy";
  AuxConfidenceOptions options{.alpha = 0.5};
  at::Tensor operator()(const at::Tensor& logits, const at::Tensor& targets, TrainProgress p) const {
    const double coef = aux_coefficient(options, p.fraction());
    at::Tensor target;
    {
      at::NoGradGuard no_grad;
      target = targets * (1.0 - coef) + at::softmax(logits, 1) * coef;
    }
    return soft_cross_entropy(logits, target);
  }
  void add_options(po::options_description& o) {
    o.add_options()("entropy-alpha", po::value(&options.alpha)->default_value(options.alpha),
                    "weight of the student's own predictions")(
        "entropy-warmup-fraction", po::value(&options.warmup_fraction)->default_value(options.warmup_fraction),
        "fraction of training over which the weight warms up");
  }
  void validate() const {
    check(options.alpha >= 0 && options.alpha <= 1, "--entropy-alpha: expected 0..1, got ", options.alpha);
    check(options.warmup_fraction >= 0 && options.warmup_fraction <= 1, "--entropy-warmup-fraction: expected 0..1");
  }
  [[nodiscard]] nlohmann::json describe() const {
    return {{"alpha", options.alpha}, {"warmup_fraction", options.warmup_fraction}};
  }
};

}  // namespace w2s
