// Metrics against hand-computed values.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include "w2s/metrics/metrics.hpp"

using namespace w2s::metrics;
using Catch::Matchers::WithinAbs;

TEST_CASE("accuracy is the share of argmax hits", "[metrics]") {
  const auto probs = at::tensor({.9f, .1f, .4f, .6f, .7f, .3f}).view({3, 2});
  REQUIRE_THAT(accuracy(probs, at::tensor({0, 1, 1}, at::kLong)), WithinAbs(2.0 / 3, 1e-12));
}

TEST_CASE("ROC AUC by pairs", "[metrics]") {
  // Positives score .35 and .8; negatives .1 and .4. Of the 4 (positive, negative)
  // pairs the positive wins 3 (.35>.1, .8>.1, .8>.4) and loses 1: AUC = 3/4
  // (also sklearn.metrics.roc_auc_score's documented example).
  REQUIRE_THAT(roc_auc(at::tensor({.1, .4, .35, .8}), at::tensor({0, 0, 1, 1}, at::kLong)), WithinAbs(0.75, 1e-12));
  // All scores tied: every pair counts ½.
  REQUIRE_THAT(roc_auc(at::tensor({.5, .5, .5, .5}), at::tensor({0, 1, 0, 1}, at::kLong)), WithinAbs(0.5, 1e-12));
  // One tie across classes among 2×2 pairs: (.2 vs .2) = ½, others won → 3.5/4.
  REQUIRE_THAT(roc_auc(at::tensor({.1, .2, .2, .9}), at::tensor({0, 0, 1, 1}, at::kLong)), WithinAbs(0.875, 1e-12));
  REQUIRE(std::isnan(roc_auc(at::tensor({.1, .2}), at::tensor({1, 1}, at::kLong))));
  // Only for binary tasks:
  REQUIRE_FALSE(binary_auc(at::full({2, 3}, 1.f / 3), at::tensor({0, 1}, at::kLong)).has_value());
}

TEST_CASE("PGR = (student − weak) / (ceiling − weak)", "[metrics]") {
  REQUIRE_THAT(*pgr(0.7, 0.8, 0.9), WithinAbs(0.5, 1e-12));
  REQUIRE_THAT(*pgr(0.7, 0.65, 0.9), WithinAbs(-0.25, 1e-12));
  REQUIRE_FALSE(pgr(0.9, 0.8, 0.9).has_value());  // ceiling not above weak: dropped, as openai does
}

TEST_CASE("agreement overall, where the supervisor is right, and where it is wrong", "[metrics]") {
  // labels       0 1 1 0 1
  // weak preds   0 1 0 1 1   → right on examples 1,2,5; wrong on 3,4
  // student      0 0 0 0 1   → agrees on 1,3,5
  // all: 3/5; supervisor right: {1,2,5} agree on 1,5 → 2/3; wrong: {3,4} agree on 3 → 1/2
  const auto onehot = [](std::vector<int64_t> ids) { return at::one_hot(at::tensor(ids, at::kLong), 2).to(at::kFloat); };
  const auto a = agreement(onehot({0, 0, 0, 0, 1}), onehot({0, 1, 0, 1, 1}), at::tensor({0, 1, 1, 0, 1}, at::kLong));
  REQUIRE_THAT(a.all, WithinAbs(0.6, 1e-12));
  REQUIRE_THAT(a.supervisor_right, WithinAbs(2.0 / 3, 1e-12));
  REQUIRE_THAT(a.supervisor_wrong, WithinAbs(0.5, 1e-12));
}

TEST_CASE("per-example correctness packs 4 examples a hexadecimal digit, the first in the highest bit", "[metrics]") {
  // argmax 1,0,1,1 | 0,1,1,0 | 1,0 against labels 1,1,1,1 | 1,1,1,1 | 1,1: right 1011 0110 10 -> b, 6, 8
  const auto labels = at::ones({10}, at::kLong);
  const std::vector<int64_t> argmax = {1, 0, 1, 1, 0, 1, 1, 0, 1, 0};
  auto probs = at::zeros({10, 2});
  for (int64_t i = 0; i < 10; ++i) probs[i][argmax[size_t(i)]] = 1;
  REQUIRE(correct_hex(probs, labels) == "b68");
  REQUIRE(correct_hex(probs.slice(0, 0, 4), labels.slice(0, 0, 4)) == "b");
}

TEST_CASE("calibration: mean confidence, margin over uniform, expected calibration error", "[metrics]") {
  // max-probabilities 0.92 (right), 0.62 (wrong), 0.57 (right), 0.84 (right): mean 0.7375, margin
  // 0.7375 − 1/2. Ten bins: one row each, Σ|conf − right| / 4 = (0.08 + 0.62 + 0.43 + 0.16) / 4;
  // two bins: all in (0.5, 1], |2.95 − 3| / 4.
  const auto probs = at::tensor({.92f, .08f, .62f, .38f, .43f, .57f, .16f, .84f}).view({4, 2});
  const auto labels = at::tensor({0, 1, 1, 1}, at::kLong);
  const auto ten = calibration(probs, labels, 10);
  REQUIRE_THAT(ten.mean_confidence, WithinAbs(0.7375, 1e-6));
  REQUIRE_THAT(ten.mean_margin, WithinAbs(0.2375, 1e-6));
  REQUIRE_THAT(ten.ece, WithinAbs(1.29 / 4, 1e-6));
  REQUIRE_THAT(calibration(probs, labels, 2).ece, WithinAbs(0.05 / 4, 1e-6));
  // Uniform predictions: no margin; one-hot right ones: no calibration error.
  REQUIRE_THAT(calibration(at::full({3, 4}, 0.25f), at::tensor({0, 1, 2}, at::kLong)).mean_margin, WithinAbs(0, 1e-7));
  REQUIRE_THAT(calibration(at::eye(3), at::tensor({0, 1, 2}, at::kLong)).ece, WithinAbs(0, 1e-12));
  REQUIRE_THROWS_WITH(calibration(probs, at::tensor({0, 1}, at::kLong)), Catch::Contains("predictions for"));
}
