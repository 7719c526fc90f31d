// The regression path: squared error, exact least-squares heads, the per-task
// gain/misfit numbers, and the Charikar et al. dataset.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include "w2s/ingest/charikar.hpp"
#include "w2s/experiment/task.hpp"
#include "w2s/labels/ground_truth.hpp"
#include "w2s/labels/noise.hpp"
#include "w2s/labels/weak_labels.hpp"
#include "w2s/losses/aux_confidence.hpp"
#include "w2s/losses/squared_error.hpp"
#include "w2s/students/least_squares.hpp"

using namespace w2s;

static_assert(Loss<SquaredError>);
static_assert(Student<LeastSquares>);
static_assert(is_regression_loss<SquaredError>() && !is_regression_loss<CrossEntropy>());

TEST_CASE("squared error is the mean of squared differences", "[loss][regression]") {
  const auto out = at::tensor({1.f, 2.f, 3.f, 4.f}).view({2, 2});
  const auto y = at::tensor({0.f, 2.f, 5.f, 5.f}).view({2, 2});
  // (1 + 0 + 4 + 1) / 4 = 1.5, by hand
  REQUIRE(SquaredError{}(out, y, {}).item<double>() == Approx(1.5));
}

TEST_CASE("score is accuracy for classes and minus MSE for real targets", "[metrics][regression]") {
  REQUIRE(metrics::score(at::tensor({.9f, .1f, .2f, .8f}).view({2, 2}), at::tensor({0, 0}, at::kLong)) == Approx(0.5));
  REQUIRE(metrics::score(at::tensor({1.f, 3.f}).view({2, 1}), at::tensor({0.f, 1.f}).view({2, 1})) == Approx(-2.5));
  // PGR on errors: weak mse 4, student 3, ceiling 2 → (−3 − −4) / (−2 − −4) = 0.5
  REQUIRE(*metrics::pgr(-4, -3, -2) == Approx(0.5));
}

TEST_CASE("regression tasks: per-column errors, misfit and gain by hand", "[metrics][regression]") {
  const auto y = at::tensor({0.f, 0.f, 0.f, 0.f}).view({2, 2});
  const auto weak = at::tensor({2.f, 1.f, 0.f, 1.f}).view({2, 2});
  const auto student = at::tensor({1.f, 1.f, 1.f, 0.f}).view({2, 2});
  const auto tasks = Regression::tasks(weak, student, y, y);
  // column 0: weak (4+0)/2 = 2, student (1+1)/2 = 1, misfit ((1−2)² + (1−0)²)/2 = 1, gain 1
  REQUIRE(tasks[0]["err_weak"].get<double>() == Approx(2));
  REQUIRE(tasks[0]["err_w2s"].get<double>() == Approx(1));
  REQUIRE(tasks[0]["misfit"].get<double>() == Approx(1));
  REQUIRE(tasks[0]["gain"].get<double>() == Approx(1));
  // column 1: weak (1+1)/2 = 1, student (1+0)/2 = .5, misfit (0 + 1)/2 = .5
  REQUIRE(tasks[1]["gain"].get<double>() == Approx(0.5));
  REQUIRE(tasks[1]["misfit"].get<double>() == Approx(0.5));
  REQUIRE(tasks[0]["err_ceiling"].get<double>() == Approx(0));
}

TEST_CASE("the Charikar dataset: shapes, determinism, O(1) targets", "[data][regression]") {
  data::CharikarDataOptions small{.tasks = 4, .n_pretrain = 500, .n_train = 100, .n_test = 50};
  const auto a = data::load_charikar("unused", small), b = data::load_charikar("unused", small);
  REQUIRE(a.train.regression());
  REQUIRE(a.train.outputs() == 4);
  REQUIRE(a.train.inputs.sizes() == at::IntArrayRef{100, 8});
  REQUIRE(a.pretrain.pretrain_targets.sizes() == at::IntArrayRef{500, 10});
  REQUIRE(at::equal(a.test.targets, b.test.targets));
  const double sd = a.pretrain.targets.std().item<double>();
  REQUIRE(sd > 0.3);
  REQUIRE(sd < 10);
  // inputs are stored at the representation's scale: x / 500 with x ~ N(0, 500²)
  REQUIRE(a.pretrain.inputs.std().item<double>() == Approx(1).epsilon(0.1));
}

TEST_CASE("label sources that need classes say so on regression data", "[labels][regression]") {
  const auto b = data::load_charikar("unused", {.tasks = 2, .n_pretrain = 10, .n_train = 8, .n_test = 4});
  const Splits s{b.train, b.train, b.test};
  const auto probs = at::zeros({8, 2});
  const LabelContext c{s, probs, at::zeros({4, 2}), 0, probs};
  REQUIRE(at::equal(GroundTruth{}.make(c).targets, b.train.targets));
  REQUIRE(at::equal(WeakLabels<Soft>{}.make(c).targets, probs));
  REQUIRE_THROWS_WITH(WeakLabels<Hard>{}.make(c), Catch::Contains("is regression data"));
  REQUIRE_THROWS_WITH(RandomNoise<Soft>{}.make(c), Catch::Contains("label noise: dataset 'charikar' is regression data"));
}
