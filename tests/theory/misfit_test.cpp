// The Charikar et al. regression setting: on the split where the heads are fitted,
// gain ≥ misfit − 2√(misfit·ε_s) for every task (include/w2s/theory/misfit.hpp
// derives it), which is their theorem gain ≥ misfit up to the strong ceiling's error.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include "w2s/theory/misfit.hpp"

using namespace w2s::theory;

TEST_CASE("gain ≥ misfit − 2√(misfit·ε_s) over 20 transfer tasks", "[theory]") {
  CharikarOptions o;
  o.n_pretrain = 4000;
  o.pretrain_epochs = 40;
  o.n_weak = o.n_transfer = 1000;
  o.n_test = 2000;
  CharikarSetting setting(o, w2s::Log("test", true));
  int misfit_positive = 0;
  for (int t = 0; t < 20; ++t) {
    const auto [transfer, test] = setting.task();
    INFO("task " << t << ": misfit " << transfer.misfit << ", gain " << transfer.gain() << ", tolerance "
                  << transfer.tolerance());
    REQUIRE(transfer.gain() >= transfer.misfit - transfer.tolerance() - 1e-9);
    // the strong ceiling fits y at least as well as the w2s head on its own split (it is y's projection)
    REQUIRE(transfer.err_ceiling <= transfer.err_w2s + 1e-9);
    misfit_positive += transfer.misfit > 0;
    REQUIRE(std::isfinite(test.gain()));
  }
  REQUIRE(misfit_positive == 20);
}

TEST_CASE("least-squares heads are exact projections", "[theory]") {
  // y = 2·f₀ − f₁ + 3 lies in the span of [f, 1]: its head recovers it exactly.
  const auto f = at::randn({50, 2}, at::kDouble);
  const auto y = f.select(1, 0) * 2 - f.select(1, 1) + 3;
  REQUIRE(at::allclose(fit_head(f, y), at::tensor({2.0, -1.0, 3.0}, at::kDouble), 1e-9, 1e-9));
  // a rank-deficient design (a dead ReLU unit: a zero column) still projects
  const auto dead = at::cat({f, at::zeros({50, 1}, at::kDouble)}, 1);
  REQUIRE(at::allclose(apply_head(dead, fit_head(dead, y)), y, 1e-9, 1e-9));
  REQUIRE(correlation({1, 2, 3}, {2, 4, 6}) == Approx(1.0));
}
