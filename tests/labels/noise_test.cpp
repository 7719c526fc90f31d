// Label-source invariants: noise at exactly the supervisor's error rate, errors
// where they should be, and the weak label really in the input.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include "w2s/labels/noise.hpp"
#include "w2s/labels/weak_label_in_input.hpp"

using namespace w2s;

static_assert(LabelSource<RandomNoise<Soft>> && LabelSource<RandomNoise<Hard>>);
static_assert(LabelSource<StructuredNoise<Longest>> && LabelSource<StructuredNoise<Shortest>>);
static_assert(LabelSource<StructuredNoise<StrongUnconfident>> && LabelSource<WeakLabelInInput<>>);

namespace {
// 200 "images" 1×4×12 of 3 classes; length = index; the weak supervisor is wrong on 37.
struct Fixture {
  Splits splits;
  at::Tensor weak_probs, ceiling_probs;
  int64_t weak_errors = 37;
  Fixture() {
    Dataset d;
    d.name = "toy";
    d.classes = 3;
    d.modality = Modality::image;
    d.inputs = at::rand({200, 1, 4, 12});
    d.targets = at::arange(200, at::kLong).remainder(3);
    d.length = at::arange(200, at::kFloat);
    splits = {d, d, d};
    auto weak = d.targets.clone();
    const auto wrong = at::arange(0, 200, 5, at::kLong).slice(0, 0, weak_errors);
    weak.index_put_({wrong}, weak.index_select(0, wrong).add(1).remainder(3));
    weak_probs = at::one_hot(weak, 3).to(at::kFloat) * 0.7 + 0.1;
    ceiling_probs = at::softmax(at::randn({200, 3}), 1);
  }
  LabelContext context() const { return {splits, weak_probs, weak_probs, 7, ceiling_probs}; }
};
at::Tensor wrong_mask(const StudentData& d) { return d.targets.argmax(1).ne(d.train.targets); }
}  // namespace

TEST_CASE("random noise: the supervisor's error count, its mean confidence", "[labels]") {
  Fixture f;
  REQUIRE(weak_error_count(f.context()) == f.weak_errors);
  const auto soft = RandomNoise<Soft>{}.make(f.context());
  REQUIRE(wrong_mask(soft).sum().item<int64_t>() == f.weak_errors);
  REQUIRE(at::allclose(soft.targets.amax(1), at::full({200}, 0.8)));  // mean max-probability of the weak labels
  REQUIRE(at::allclose(soft.targets.sum(1), at::ones({200})));
  const auto hard = RandomNoise<Hard>{}.make(f.context());
  REQUIRE(wrong_mask(hard).sum().item<int64_t>() == f.weak_errors);
  // placed at random: not the supervisor's own mistakes
  const auto weak_wrong = f.weak_probs.argmax(1).ne(f.splits.transfer_half.targets);
  REQUIRE(wrong_mask(hard).logical_and(weak_wrong).sum().item<int64_t>() < f.weak_errors);
}

TEST_CASE("structured noise: errors on the longest, shortest, least confident", "[labels]") {
  Fixture f;
  const auto longest = wrong_mask(StructuredNoise<Longest>{}.make(f.context()));
  REQUIRE(at::equal(longest.nonzero().flatten(), at::arange(200 - f.weak_errors, 200, at::kLong)));
  const auto shortest = wrong_mask(StructuredNoise<Shortest, Hard>{}.make(f.context()));
  REQUIRE(at::equal(shortest.nonzero().flatten(), at::arange(0, f.weak_errors, at::kLong)));
  const auto unsure = wrong_mask(StructuredNoise<StrongUnconfident>{}.make(f.context()));
  const auto lowest = std::get<1>(at::sort(f.ceiling_probs.amax(1))).slice(0, 0, f.weak_errors);
  const auto expected = std::get<0>(at::sort(lowest));
  REQUIRE(at::equal(unsure.nonzero().flatten(), expected));
}

TEST_CASE("structured noise needs a per-example length", "[labels]") {
  Fixture f;
  f.splits.transfer_half.length = at::Tensor();
  REQUIRE_THROWS_WITH(StructuredNoise<Longest>{}.make(f.context()), Catch::Contains("has no per-example length"));
}

TEST_CASE("the weak label is in the input, for training and test", "[labels]") {
  Fixture f;
  const auto d = WeakLabelInInput<>{}.make(f.context());
  const auto stripe = [](const at::Tensor& x) { return x.select(1, 0).select(1, 0).slice(1, 0, 3); };
  REQUIRE(at::equal(stripe(d.train.inputs).argmax(1), f.weak_probs.argmax(1)));
  REQUIRE(at::equal(stripe(d.test.inputs).argmax(1), f.weak_probs.argmax(1)));
  REQUIRE(at::allclose(stripe(d.train.inputs).sum(1), at::ones({200})));
  // the rest of each image is untouched; targets are the inner source's (soft weak labels)
  REQUIRE(at::equal(d.train.inputs.slice(2, 1), f.splits.transfer_half.inputs.slice(2, 1)));
  REQUIRE(at::equal(d.targets, f.weak_probs));
  REQUIRE(d.train.part != f.splits.transfer_half.part);  // so frozen features are not reused from the plain images
}
