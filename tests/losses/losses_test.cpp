// Losses against values worked out by hand (the arithmetic is in the comments).
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include "w2s/losses/aux_confidence.hpp"
#include "w2s/losses/cross_entropy.hpp"
#include "w2s/models/augment.hpp"
#include "w2s/train/trainer.hpp"

using namespace w2s;
using Catch::Matchers::WithinAbs;

static_assert(Loss<CrossEntropy>);
static_assert(Loss<AuxConfidence>);
static_assert(Loss<AuxConfidenceOpenaiWarmup>);

namespace {
// Logits whose softmax is exactly `probs` (log-probabilities).
at::Tensor logits_of(std::vector<std::vector<float>> probs) {
  std::vector<at::Tensor> rows;
  for (auto& r : probs) rows.push_back(at::tensor(r));
  return at::stack(rows).log();
}
}  // namespace

TEST_CASE("cross entropy with soft targets", "[loss]") {
  // Row 1: p = (0.5, 0.5), y = (1, 0):     −ln 0.5                      = 0.693147
  // Row 2: p = (0.75, 0.25), y = (.5, .5): −(.5 ln .75 + .5 ln .25)     = 0.836988
  // Mean over the batch: 0.765068 (python: math.log).
  const auto logits = logits_of({{0.5f, 0.5f}, {0.75f, 0.25f}});
  const auto y = at::tensor({1.f, 0.f, .5f, .5f}).view({2, 2});
  REQUIRE_THAT(CrossEntropy{}(logits, y, {}).item<double>(), WithinAbs(0.7650677, 1e-6));
}

TEST_CASE("aux confidence loss: a 4-example binary batch with quantile hardening", "[loss]") {
  // Student p0 = (0.9, 0.6, 0.3, 0.2); weak soft labels y1 = (0.2, 0.4, 0.6, 0.3).
  // Quantile level = mean(y1) = 0.375. Sorted p0 = (0.2, 0.3, 0.6, 0.9); torch.quantile's
  // linear rule: position 0.375·3 = 1.125 → t = 0.3 + 0.125·(0.6 − 0.3) = 0.3375.
  // Hardened: p0 ≥ t → ŷ = (1,0), (1,0), (0,1), (0,1).
  // Step 50 of 100 (fraction 0.5 > warm-up 0.2): coef = α = 0.75.
  // target = 0.25·y + 0.75·ŷ = (.95,.05), (.9,.1), (.1,.9), (.175,.825)
  // CE rows: .95·−ln .9 + .05·−ln .1 = 0.215222;  .9·−ln .6 + .1·−ln .4 = 0.551372;
  //          .1·−ln .3 + .9·−ln .7 = 0.441405;    .175·−ln .2 + .825·−ln .8 = 0.465745
  // Mean: 0.418436.
  const auto logits = logits_of({{.9f, .1f}, {.6f, .4f}, {.3f, .7f}, {.2f, .8f}});
  const auto y1 = at::tensor({.2f, .4f, .6f, .3f});
  const auto y = at::stack({1 - y1, y1}, 1);
  AuxConfidence aux;
  aux.options.alpha = 0.75;
  REQUIRE_THAT(aux(logits, y, {50, 100}).item<double>(), WithinAbs(0.4184359, 1e-5));

  SECTION("hardening matches the worked example") {
    const auto h = harden(at::softmax(logits, 1), y);
    REQUIRE(at::equal(h, at::tensor({1.f, 0.f, 1.f, 0.f, 0.f, 1.f, 0.f, 1.f}).view({4, 2})));
  }
  SECTION("at step 0 the weight is 0: plain cross entropy against y") {
    // mean of −((1−y1) ln p0 + y1 ln p1) over the rows = 0.776740
    REQUIRE_THAT(aux(logits, y, {0, 100}).item<double>(), WithinAbs(0.7767402, 1e-5));
  }
  SECTION("the target is detached: the gradient is (softmax − target) / N") {
    auto l = logits.clone().requires_grad_(true);
    aux(l, y, {50, 100}).backward();
    const auto target = at::tensor({.95f, .05f, .9f, .1f, .1f, .9f, .175f, .825f}).view({4, 2});
    REQUIRE(at::allclose(l.grad(), (at::softmax(logits, 1) - target) / 4, 1e-5, 1e-6));
  }
}

TEST_CASE("aux confidence warm-up: linear vs the openai code's ramp", "[loss]") {
  AuxConfidenceOptions linear{.alpha = 0.75, .warmup_fraction = 0.2, .warmup = AuxWarmup::linear};
  AuxConfidenceOptions openai{.alpha = 0.75, .warmup_fraction = 0.2, .warmup = AuxWarmup::openai};
  // linear: α·min(1, t/w): t = .1 → .375, t = .2 → .75, t = .5 → .75
  REQUIRE_THAT(aux_coefficient(linear, 0.1), WithinAbs(0.375, 1e-12));
  REQUIRE_THAT(aux_coefficient(linear, 0.2), WithinAbs(0.75, 1e-12));
  REQUIRE_THAT(aux_coefficient(linear, 0.5), WithinAbs(0.75, 1e-12));
  // openai loss.py: `coef = 1.0 if step_frac > warmup_frac else step_frac; coef = coef * aux_coef`.
  // α·t up to and at w (reaching only α·w = .15), α after: t = .1 → .075, t = .19 → .1425,
  // t = .2 → .15 (the boundary keeps the ramp: .2 > .2 is false), t = .21 → .75
  REQUIRE_THAT(aux_coefficient(openai, 0.1), WithinAbs(0.075, 1e-12));
  REQUIRE_THAT(aux_coefficient(openai, 0.19), WithinAbs(0.1425, 1e-12));
  REQUIRE_THAT(aux_coefficient(openai, 0.2), WithinAbs(0.15, 1e-12));
  REQUIRE_THAT(aux_coefficient(openai, 0.21), WithinAbs(0.75, 1e-12));
  // In training, t = step / total (0-based step, as openai's step / nsteps): step 20 of 100 is still on the ramp.
  REQUIRE_THAT(aux_coefficient(openai, TrainProgress{20, 100}.fraction()), WithinAbs(0.15, 1e-12));
  REQUIRE_THAT(aux_coefficient(openai, TrainProgress{21, 100}.fraction()), WithinAbs(0.75, 1e-12));
  REQUIRE(AuxConfidenceOpenaiWarmup{}.options.warmup == AuxWarmup::openai);
}

TEST_CASE("aux confidence hardening: ties at the threshold go to class 0, as in the reference", "[loss]") {
  // openai loss.py: threshold = torch.quantile(preds[:, 0], mean_weak[1]);
  // strong_preds = [preds[:, 0] >= threshold, preds[:, 0] < threshold].
  // p0 = (.5, .5, .5, .8), y1 = (1, 1, 0, 0): level .5, sorted p0 (.5, .5, .5, .8),
  // position .5·3 = 1.5 → t = .5 + .5·(.5 − .5) = .5. Every row has p0 ≥ t, the three ties
  // included: all four are class 0, so the hardened share of class 1 is 0, not the .5 the
  // level asks for. The reference computes exactly this; we keep it.
  const auto probs = at::tensor({.5f, .5f, .5f, .5f, .5f, .5f, .8f, .2f}).view({4, 2});
  const auto y1 = at::tensor({1.f, 1.f, 0.f, 0.f});
  const auto h = harden(probs, at::stack({1 - y1, y1}, 1));
  REQUIRE(at::equal(h, at::tensor({1.f, 0.f, 1.f, 0.f, 1.f, 0.f, 1.f, 0.f}).view({4, 2})));
  // Without ties the share follows the level: p0 = (.1, .4, .6, .9), level .5 → t = .5: two of each.
  const auto distinct = at::tensor({.1f, .9f, .4f, .6f, .6f, .4f, .9f, .1f}).view({4, 2});
  REQUIRE(at::equal(harden(distinct, at::stack({1 - y1, y1}, 1)),
                    at::tensor({0.f, 1.f, 0.f, 1.f, 1.f, 0.f, 1.f, 0.f}).view({4, 2})));
}

TEST_CASE("aux confidence hardens multiclass predictions with argmax", "[loss]") {
  const auto probs = at::tensor({.2f, .5f, .3f, .6f, .3f, .1f}).view({2, 3});
  const auto h = harden(probs, at::full({2, 3}, 1.f / 3));
  REQUIRE(at::equal(h, at::tensor({0.f, 1.f, 0.f, 1.f, 0.f, 0.f}).view({2, 3})));
}

TEST_CASE("aux confidence rejects out-of-range options", "[loss]") {
  AuxConfidence aux;
  aux.options.alpha = 1.5;
  REQUIRE_THROWS_WITH(aux.validate(), Catch::Contains("--aux-alpha: expected 0..1"));
}

TEST_CASE("NT-Xent of the contrastive pretraining", "[pretrain]") {
  // Rows 0,1 and their views 2,3 are the unit vectors e1, e2, e1, e2; τ = 1.
  // Row 0 sees cosine 0 (row 1), 1 (row 2, its partner), 0 (row 3); itself is masked:
  // −log(e / (1 + e + 1)) = log(2 + e) − 1 = 0.551445, and the same for every row.
  const auto z = at::tensor({1.f, 0.f, 0.f, 1.f, 1.f, 0.f, 0.f, 1.f}).view({4, 2});
  REQUIRE_THAT(nt_xent(z, 1.0).item<double>(), WithinAbs(std::log(2 + std::exp(1.0)) - 1, 1e-6));
}
