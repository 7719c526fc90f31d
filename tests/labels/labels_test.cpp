// Label sources: what each puts in front of the student.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include "w2s/labels/ground_truth.hpp"
#include "w2s/labels/weak_labels.hpp"

using namespace w2s;

static_assert(LabelSource<GroundTruth>);
static_assert(LabelSource<WeakLabels<Soft>>);
static_assert(LabelSource<WeakLabels<Hard>>);

namespace {
Splits tiny_splits() {
  Dataset d;
  d.name = "tiny";
  d.classes = 3;
  d.inputs = at::arange(12, at::kFloat).view({4, 3});
  d.targets = at::tensor({0, 2, 1, 2}, at::kLong);
  return {d, d, d};
}
}  // namespace

TEST_CASE("ground truth is one-hot of the transfer half's classes", "[labels]") {
  const auto s = tiny_splits();
  const auto out = GroundTruth{}.make({s, at::Tensor(), at::Tensor(), 0});
  REQUIRE(at::equal(out.targets.argmax(1), s.transfer_half.targets));
  REQUIRE(at::allclose(out.targets.sum(1), at::ones({4})));
}

TEST_CASE("weak labels: soft passes the supervisor's probabilities, hard its argmax", "[labels]") {
  const auto s = tiny_splits();
  const auto probs = at::tensor({.5f, .3f, .2f, .1f, .1f, .8f, .2f, .7f, .1f, .4f, .4f, .2f}).view({4, 3});
  const LabelContext c{s, probs, probs, 0};
  REQUIRE(at::equal(WeakLabels<Soft>{}.make(c).targets, probs));
  const auto hard = WeakLabels<Hard>{}.make(c).targets;
  REQUIRE(at::equal(hard, at::one_hot(at::tensor({0, 2, 1, 0}, at::kLong), 3).to(at::kFloat)));
  // inputs and the test set pass through unchanged
  REQUIRE(at::equal(WeakLabels<Hard>{}.make(c).train.inputs, s.transfer_half.inputs));
}

TEST_CASE("weak labels reject predictions of the wrong length", "[labels]") {
  const auto s = tiny_splits();
  const LabelContext c{s, at::full({3, 3}, 1.f / 3), at::Tensor(), 0};
  REQUIRE_THROWS_WITH(WeakLabels<Soft>{}.make(c), Catch::Contains("3 predictions for 4 transfer examples"));
}
