#pragma once
/// \file
/// The product loss of the openai code: the target is the normalised product of
/// the student's predictions and the weak labels.
#include <ATen/ATen.h>

#include "w2s/core/error.hpp"
#include "w2s/losses/loss.hpp"

namespace w2s {

struct ProductOptions {
  double alpha = 1.0;  ///< exponent of the weak labels
  double beta = 1.0;   ///< exponent of the student's predictions
};

/// target ∝ p^β · y^α (detached, normalised per row); loss = CE(logits, target).
struct Product {
  static constexpr std::string_view name = "product";
  ProductOptions options;
  at::Tensor operator()(const at::Tensor& logits, const at::Tensor& targets, TrainProgress) const {
    at::Tensor target;
    {
      at::NoGradGuard no_grad;
      // in log space: β log p + α log y, then softmax normalises (y = 0 → weight 0)
      const auto log_y = at::where(targets > 0, targets.clamp_min(1e-30).log(), at::full_like(targets, -1e30));
      target = at::softmax(at::log_softmax(logits, 1) * options.beta + log_y * options.alpha, 1);
    }
    return soft_cross_entropy(logits, target);
  }
  void add_options(po::options_description& o) {
    o.add_options()("product-alpha", po::value(&options.alpha)->default_value(options.alpha), "exponent α of the weak labels")(
        "product-beta", po::value(&options.beta)->default_value(options.beta), "exponent β of the student's predictions");
  }
  void validate() const {
    check(options.alpha >= 0 && options.beta >= 0, "--product-alpha and --product-beta: expected >= 0");
  }
  [[nodiscard]] nlohmann::json describe() const { return {{"alpha", options.alpha}, {"beta", options.beta}}; }
};

}  // namespace w2s
