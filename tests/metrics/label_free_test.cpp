// The label-free baselines (metrics/label_free.hpp): clusters named by the weak labels, never
// by ground truth, on data whose clusters are known.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "w2s/metrics/label_free.hpp"
#include "w2s/metrics/metrics.hpp"

using namespace w2s;

namespace {
/// 2n points: n around `-centre`, n around `+centre` (unit noise); class 0 left, class 1 right.
struct Blobs {
  at::Tensor x, truth;
};
Blobs blobs(int64_t n, const at::Tensor& centre, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto noise = at::randn({2 * n, centre.size(0)}, gen, at::kDouble);
  const auto side = at::cat({at::full({n}, -1.0, at::kDouble), at::full({n}, 1.0, at::kDouble)});
  return {noise + side.unsqueeze(1) * centre.unsqueeze(0), at::cat({at::zeros({n}, at::kLong), at::ones({n}, at::kLong)})};
}
/// `truth` with the first `flips` rows of each class moved to the other class.
at::Tensor noisy(const at::Tensor& truth, int64_t n, int64_t flips) {
  auto w = truth.clone();
  w.slice(0, 0, flips).fill_(1);
  w.slice(0, n, n + flips).fill_(0);
  return w;
}
}  // namespace

TEST_CASE("label-free baselines find separated clusters and name them by the weak labels", "[metrics][label_free]") {
  const auto centre = at::tensor({6.0, 0.0, 0.0}, at::kDouble);
  const auto train = blobs(100, centre, 1), test = blobs(50, centre, 2);
  const auto weak = noisy(train.truth, 100, 30);  // 30 % of each cluster mislabelled: the majority still right
  const auto km = metrics::kmeans_baseline(train.x, weak, test.x, 2, /*seed=*/0);
  REQUIRE(km.clusters_named == 2);
  REQUIRE(km.test_probs.sizes() == at::IntArrayRef({100, 2}));
  REQUIRE(metrics::accuracy(km.test_probs, test.truth) == 1.0);
  const auto pca = metrics::pca_sign_baseline(train.x, weak, test.x);
  REQUIRE(metrics::accuracy(pca.test_probs, test.truth) == 1.0);
  // Weak labels whose majority is wrong in both clusters name them the other way round: the
  // baselines read the weak labels, not ground truth.
  const auto inverted = noisy(train.truth, 100, 70);
  REQUIRE(metrics::accuracy(metrics::kmeans_baseline(train.x, inverted, test.x, 2, 0).test_probs, test.truth) == 0.0);
  REQUIRE(metrics::accuracy(metrics::pca_sign_baseline(train.x, inverted, test.x).test_probs, test.truth) == 0.0);
}

TEST_CASE("label-free baselines: the principal direction, a fixed seed, three clusters", "[metrics][label_free]") {
  // Clusters apart along (1, 1) with more noise along (1, -1) than a unit: PCA's direction is the cluster axis.
  const auto centre = at::tensor({4.0, 4.0}, at::kDouble);
  const auto train = blobs(80, centre, 3), test = blobs(40, centre, 4);
  const auto pca = metrics::pca_sign_baseline(train.x, train.truth, test.x);
  REQUIRE(metrics::accuracy(pca.test_probs, test.truth) == 1.0);
  const auto a = metrics::kmeans_baseline(train.x, train.truth, test.x, 2, 7);
  const auto b = metrics::kmeans_baseline(train.x, train.truth, test.x, 2, 7);
  REQUIRE(a.test_probs.equal(b.test_probs));
  // Three classes: blobs at -c, 0, +c (the middle one labelled 2).
  const auto c = at::tensor({10.0, 0.0}, at::kDouble);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  const auto x = at::cat({at::randn({60, 2}, gen, at::kDouble) - c, at::randn({60, 2}, gen, at::kDouble),
                          at::randn({60, 2}, gen, at::kDouble) + c});
  const auto y = at::cat({at::zeros({60}, at::kLong), at::full({60}, 2, at::kLong), at::ones({60}, at::kLong)});
  const auto three = metrics::kmeans_baseline(x, y, x, 3, 0);
  REQUIRE(three.clusters_named == 3);
  REQUIRE(metrics::accuracy(three.test_probs, y) == 1.0);
}

TEST_CASE("label-free naming: one class per cluster even when the supervisor is biased", "[metrics][label_free]") {
  const auto centre = at::tensor({6.0, 0.0, 0.0}, at::kDouble);
  const auto train = blobs(100, centre, 1), test = blobs(50, centre, 2);
  // A supervisor that says class 0 for 90 % of the left cluster and 60 % of the right one: the
  // majority names both clusters 0 (half the test set right); one-to-one names them apart.
  auto biased = train.truth.clone().fill_(1);
  biased.slice(0, 0, 90).fill_(0);
  biased.slice(0, 100, 160).fill_(0);
  for (const auto& p :
       {metrics::kmeans_baseline(train.x, biased, test.x, 2, 0), metrics::pca_sign_baseline(train.x, biased, test.x)}) {
    REQUIRE(metrics::accuracy(p.test_probs_majority, test.truth) == 0.5);
    REQUIRE(metrics::accuracy(p.test_probs, test.truth) == 1.0);
  }
}

TEST_CASE("max_assignment: the one-to-one assignment with the largest total", "[metrics][label_free]") {
  // Hand-checked over all six: the greedy pick (row 0 -> column 0, 9) reaches 9 + 7 + 1 = 17 at
  // best; the only maximum is 8 + 7 + 6 = 21 (row 0 -> 1, row 1 -> 2, row 2 -> 0).
  const std::vector<std::vector<double>> score{{9, 8, 1}, {7, 1, 7}, {6, 1, 1}};
  REQUIRE(metrics::max_assignment(score) == std::vector<int64_t>{1, 2, 0});
  REQUIRE(metrics::max_assignment({{0, 5}, {5, 0}}) == std::vector<int64_t>{1, 0});
  REQUIRE(metrics::max_assignment({{4}}) == std::vector<int64_t>{0});
  // Every permutation of 5 columns checked by brute force on a fixed random matrix.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  const auto m = at::randint(0, 20, {5, 5}, gen, at::kLong);
  std::vector<std::vector<double>> big(5, std::vector<double>(5));
  for (int64_t r = 0; r < 5; ++r)
    for (int64_t c = 0; c < 5; ++c) big[r][c] = static_cast<double>(m[r][c].item<int64_t>());
  std::vector<int64_t> perm{0, 1, 2, 3, 4};
  double best = -1;
  do {
    double total = 0;
    for (int64_t r = 0; r < 5; ++r) total += big[r][perm[r]];
    best = std::max(best, total);
  } while (std::next_permutation(perm.begin(), perm.end()));
  const auto got = metrics::max_assignment(big);
  double total = 0;
  for (int64_t r = 0; r < 5; ++r) total += big[r][got[r]];
  REQUIRE(total == best);
  REQUIRE(std::set<int64_t>(got.begin(), got.end()).size() == 5);
}

TEST_CASE("label-free baselines refuse shapes that do not fit", "[metrics][label_free]") {
  const auto x = at::randn({10, 3}), t = at::randn({4, 2});
  const auto w = at::zeros({10}, at::kLong);
  REQUIRE_THROWS_WITH(metrics::kmeans_baseline(x, w, t, 2, 0), Catch::Contains("must be N×D and M×D"));
  REQUIRE_THROWS_WITH(metrics::kmeans_baseline(x, at::zeros({9}, at::kLong), x, 2, 0),
                      Catch::Contains("weak labels for 10 rows"));
  REQUIRE_THROWS_WITH(metrics::pca_sign_baseline(x, w, t), Catch::Contains("must be N×D and M×D"));
}
