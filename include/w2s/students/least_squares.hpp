#pragma once
/// \file
/// Least squares: the exact affine head on frozen features, as the theory of
/// Charikar, Pabbaraju & Shiragur (2024) assumes (a convex head class fitted to
/// optimality). Closed form through the SVD pseudo-inverse, so "fitted" means the
/// orthogonal projection and the gain–misfit identity holds to rounding
/// (docs/theory.md). Regression only; the loss must be SquaredError.
#include <chrono>

#include "w2s/losses/squared_error.hpp"
#include "w2s/students/student.hpp"
#include "w2s/theory/affine_head.hpp"

namespace w2s {

struct LeastSquares {
  static constexpr std::string_view name = "least_squares";

  template <class L>
  Fitted fit(const StudentContext& c, const StudentData& data, const L&) const {
    check(is_regression_loss<L>(), "least_squares: the loss must be squared_error (the closed form minimises it), got ",
          L::name);
    check(data.train.regression(), "least_squares: dataset '", data.train.name,
          "' has classes; least squares fits real-valued targets");
    const auto start = std::chrono::steady_clock::now();
    const auto head = theory::fit_head(c.features.get(c.backbone, data.train, c.config.device), data.targets);
    auto predict = [head, &cache = c.features, &backbone = c.backbone, device = c.config.device](const Dataset& d) {
      return theory::apply_head(cache.get(backbone, d, device), head).to(at::kFloat);
    };
    FitResult r;
    r.test_probs = predict(data.test);
    r.curve.steps = {0};
    r.curve.score = {metrics::score(r.test_probs, data.test.targets)};
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    c.log(c.config.label, ": least squares on ", data.train.size(), " examples, test mse ", -r.curve.score[0]);
    return {Classifier{nullptr}, std::move(r), predict};
  }
};

}  // namespace w2s
