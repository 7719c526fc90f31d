// KL, product, entropy and window losses against hand-computed values.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include "w2s/losses/entropy.hpp"
#include "w2s/losses/kl.hpp"
#include "w2s/losses/product.hpp"
#include "w2s/losses/window.hpp"

using namespace w2s;
using Catch::Matchers::WithinAbs;

static_assert(Loss<KL> && Loss<Product> && Loss<Entropy> && Loss<Window>);

namespace {
at::Tensor rows(std::vector<float> v, int64_t cols) { return at::tensor(v).view({-1, cols}); }
}  // namespace

TEST_CASE("KL(y || p)", "[loss]") {
  // Row 1: y = (.5, .5), p = (.75, .25): .5 ln(.5/.75) + .5 ln(.5/.25) = 0.143841
  // Row 2: y = (1, 0),   p = (.5, .5):   ln 2 = 0.693147 (0 · log 0 = 0). Mean 0.418494.
  const auto logits = rows({.75f, .25f, .5f, .5f}, 2).log();
  REQUIRE_THAT(KL{}(logits, rows({.5f, .5f, 1.f, 0.f}, 2), {}).item<double>(), WithinAbs(0.4184941, 1e-6));
  // KL is 0 when the student matches the targets.
  REQUIRE_THAT(KL{}(logits, at::softmax(logits, 1), {}).item<double>(), WithinAbs(0.0, 1e-6));
}

TEST_CASE("product loss: target ∝ p^β y^α", "[loss]") {
  // Row 1: p = (.75, .25), y = (.5, .5): p·y ∝ (.375, .125) → (.75, .25);
  //        CE = −(.75 ln .75 + .25 ln .25) = 0.562335
  // Row 2: p = (.5, .5), y = (.2, .8): → (.2, .8); CE = ln 2 = 0.693147. Mean 0.627741.
  const auto logits = rows({.75f, .25f, .5f, .5f}, 2).log();
  REQUIRE_THAT(Product{}(logits, rows({.5f, .5f, .2f, .8f}, 2), {}).item<double>(), WithinAbs(0.6277412, 1e-6));
}

TEST_CASE("entropy loss mixes in the student's soft predictions", "[loss]") {
  // α = .5, warmed up (fraction .5 > .2): target = .5·(1, 0) + .5·(.75, .25) = (.875, .125)
  // CE = −(.875 ln .75 + .125 ln .25) = 0.425009
  const auto logits = rows({.75f, .25f}, 2).log();
  REQUIRE_THAT(Entropy{}(logits, rows({1.f, 0.f}, 2), {50, 100}).item<double>(), WithinAbs(0.4250086, 1e-6));
}

TEST_CASE("window loss trains only where the student is unsure", "[loss]") {
  // p = (.9, .1) is sure (.9 ≥ .5 + .15): left out. p = (.6, .4) is unsure: −ln .4 = 0.916291.
  // Summed over the batch and divided by the batch size 2: 0.458145.
  const auto logits = rows({.9f, .1f, .6f, .4f}, 2).log();
  REQUIRE_THAT(Window{}(logits, rows({0.f, 1.f, 0.f, 1.f}, 2), {}).item<double>(), WithinAbs(0.4581454, 1e-6));
  // midweak: |max y − .5| = (.4, .2), median (torch: the lower middle) .2 → window .7:
  // row 1 (.9) out, row 2 in: −(.3 ln .6 + .7 ln .4) / 2 = 0.397326
  Window mid;
  mid.radius = "midweak";
  REQUIRE_THAT(mid(logits, rows({.9f, .1f, .3f, .7f}, 2), {}).item<double>(), WithinAbs(0.3973256, 1e-6));
  // EleutherAI sft.py fixes the midweak radius once, over the whole training set, before training:
  // |y − .5| over (.9, .3, .55, .95, .7) = (.4, .2, .05, .45, .2): median .2, window .7. A batch
  // with y = (.3, .55) has (.2, .05) and, alone, the lower middle .05, window .55: p = .6 would be
  // left out by the batch's radius; with the training set's it counts.
  const auto train_y1 = at::tensor({.9f, .3f, .55f, .95f, .7f});
  const auto bound = mid.for_training_set(at::stack({1 - train_y1, train_y1}, 1));
  REQUIRE_THAT(bound.fixed_radius, WithinAbs(0.2, 1e-6));
  const auto batch_y = rows({.7f, .3f, .45f, .55f}, 2);
  const auto batch_logits = rows({.6f, .4f, .6f, .4f}, 2).log();
  // both rows unsure under .7: −(.7 ln .6 + .3 ln .4) = 0.632465; −(.45 ln .6 + .55 ln .4) = 0.733835; sum/2 = 0.683148
  REQUIRE_THAT(bound(batch_logits, batch_y, {}).item<double>(), WithinAbs(0.6831483, 1e-5));
  REQUIRE_THAT(mid(batch_logits, batch_y, {}).item<double>(), WithinAbs(0.0, 1e-7));  // per batch: radius .05, none
  Window bad;
  bad.radius = "wide";
  REQUIRE_THROWS_WITH(bad.validate(), Catch::Contains("--window-radius"));
}
