#pragma once
/// \file
/// The auxiliary confidence loss (paper §4.3.2, Fig. 5; openai `logconf`).
#include <ATen/ATen.h>

#include <algorithm>
#include <string>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/losses/loss.hpp"

namespace w2s {

/// How the auxiliary weight reaches `alpha`.
enum class AuxWarmup {
  linear,  ///< coef = α · min(1, t / w): EleutherAI's fix, the paper's description
  openai,  ///< coef = α · t for t ≤ w, then α: the openai code's ramp, which jumps just after t = w
};

struct AuxConfidenceOptions {
  double alpha = 0.75;  ///< α: the paper uses 0.75 for its largest students (our default strong), 0.5 otherwise
  double warmup_fraction = 0.2;  ///< w: the paper warms up over the first 20% of training
  AuxWarmup warmup = AuxWarmup::linear;
};

/// coef at training fraction `t` (docs/roles.md#loss has the worked numbers).
inline double aux_coefficient(const AuxConfidenceOptions& o, double t) {
  if (o.warmup_fraction <= 0) return o.alpha;
  if (o.warmup == AuxWarmup::linear) return o.alpha * std::min(1.0, t / o.warmup_fraction);
  return t > o.warmup_fraction ? o.alpha : o.alpha * t;  // openai loss.py: `1.0 if step_frac > warmup_frac else step_frac`
}

/// The student's hardened predictions ŷ (N×C, detached). Binary: threshold the
/// batch's p₀ at its quantile at level mean(y₁) (linear interpolation, as torch.quantile),
/// so that the share of class 1 in ŷ matches the targets' (ŷ = [p₀ ≥ t, p₀ < t]);
/// multiclass: one-hot argmax. Ties at t go to class 0, as in the openai code
/// (`preds[:, 0] >= threshold`) and EleutherAI's; argmax ties to the first class, as torch.
inline at::Tensor harden(const at::Tensor& probs, const at::Tensor& targets) {
  if (probs.size(1) == 2) {
    const auto p0 = probs.select(1, 0);
    const auto t = at::quantile(p0, targets.select(1, 1).mean().to(p0.scalar_type()));
    return at::stack({p0.ge(t), p0.lt(t)}, 1).to(probs.scalar_type());
  }
  return at::one_hot(probs.argmax(1), probs.size(1)).to(probs.scalar_type());
}

/// target = (1 − coef)·y + coef·ŷ, detached; loss = CE(logits, target).
struct AuxConfidence {
  static constexpr std::string_view name = "logconf";
  AuxConfidenceOptions options;

  at::Tensor operator()(const at::Tensor& logits, const at::Tensor& targets, TrainProgress p) const {
    const double coef = aux_coefficient(options, p.fraction());
    at::Tensor target;
    {
      at::NoGradGuard no_grad;
      target = targets * (1.0 - coef) + harden(at::softmax(logits, 1), targets) * coef;
    }
    return soft_cross_entropy(logits, target);
  }

  W2S_ENGINE_INLINE void add_options(po::options_description& o);
  W2S_ENGINE_INLINE void validate() const;
  [[nodiscard]] W2S_ENGINE_INLINE nlohmann::json describe() const;
};

/// The openai code's warm-up, for `aux_loss_openai_warmup` (paper-facts.md, "Losses").
struct AuxConfidenceOpenaiWarmup : AuxConfidence {
  AuxConfidenceOpenaiWarmup() { options.warmup = AuxWarmup::openai; }
};

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE void AuxConfidence::add_options(po::options_description& o) {
  o.add_options()("aux-alpha", po::value(&options.alpha)->default_value(options.alpha),
                  "auxiliary confidence weight α (paper: 0.75 for the largest students, 0.5 otherwise)")(
      "aux-warmup-fraction", po::value(&options.warmup_fraction)->default_value(options.warmup_fraction),
      "fraction of training over which the weight warms up");
}
W2S_ENGINE_INLINE void AuxConfidence::validate() const {
  check(options.alpha >= 0 && options.alpha <= 1, "--aux-alpha: expected 0..1, got ", options.alpha);
  check(options.warmup_fraction >= 0 && options.warmup_fraction <= 1,
        "--aux-warmup-fraction: expected 0..1, got ", options.warmup_fraction);
}
W2S_ENGINE_INLINE nlohmann::json AuxConfidence::describe() const {
  return {{"alpha", options.alpha},
          {"warmup_fraction", options.warmup_fraction},
          {"warmup", options.warmup == AuxWarmup::linear ? "linear" : "openai"}};
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
