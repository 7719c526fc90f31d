// How labels reach the student: bootstrapping's cross-fitting, and the early-stopping
// oracle applied to the weak supervisor as to the ceiling and the student.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <set>

#include "w2s/experiment/method.hpp"
#include "w2s/students/linear_probe.hpp"

using namespace w2s;

TEST_CASE("bootstrapping cross-fits: no row is labelled by a model that trained on it", "[method]") {
  const int64_t n = 11;
  std::vector<std::set<int64_t>> trained;  // the rows of each fit
  std::vector<int64_t> labelled_by(n, -1);
  const auto labels = cross_fit(n, /*seed=*/3, /*step=*/1, [&](const at::Tensor& train, const at::Tensor& held) {
    const auto fit = static_cast<int64_t>(trained.size());
    std::set<int64_t> rows;
    for (int64_t i = 0; i < train.size(0); ++i) rows.insert(train[i].item<int64_t>());
    trained.push_back(rows);
    for (int64_t i = 0; i < held.size(0); ++i) {
      const auto r = held[i].item<int64_t>();
      REQUIRE(labelled_by[r] == -1);  // each row labelled once
      labelled_by[r] = fit;
    }
    // a "model" whose prediction for a row says which fit made it and which row it was
    return at::stack({held.to(at::kFloat), at::full({held.size(0)}, float(fit))}, 1);
  });
  REQUIRE(trained.size() == 2);
  REQUIRE(trained[0].size() + trained[1].size() == size_t(n));
  for (int64_t r = 0; r < n; ++r) {
    REQUIRE(labelled_by[r] >= 0);
    REQUIRE_FALSE(trained[labelled_by[r]].count(r));           // held out from the model that labels it
    REQUIRE(labels[r][0].item<float>() == float(r));            // predictions land on their own row
    REQUIRE(labels[r][1].item<float>() == float(labelled_by[r]));
  }
  // the folds are fixed by (seed, step) and differ between steps
  const auto first_fold = [&](uint64_t seed, uint64_t step) {
    at::Tensor fold;
    cross_fit(n, seed, step, [&](const at::Tensor& train, const at::Tensor& held) {
      if (!fold.defined()) fold = train.clone();
      return at::zeros({held.size(0), 2});
    });
    return fold;
  };
  REQUIRE(at::equal(first_fold(3, 1), first_fold(3, 1)));
  REQUIRE_FALSE(at::equal(first_fold(3, 1), first_fold(3, 2)));
  REQUIRE_THROWS_WITH(cross_fit(3, 0, 1, [](const at::Tensor&, const at::Tensor& h) { return at::zeros({h.size(0), 2}); }),
                      Catch::Contains("too few for two folds"));
}

TEST_CASE("the early-stopping oracle is applied to the weak supervisor as to the ceiling", "[method]") {
  OracleStopping<FineTune> oracle;
  oracle.evaluations_per_epoch = 7;
  const auto weak = WeakStudentFor<OracleStopping<FineTune>>::make(oracle);
  static_assert(std::is_same_v<std::decay_t<decltype(weak)>, OracleStopping<FineTune>>);
  REQUIRE(weak.evaluations_per_epoch == 7);
  // an ordinary student leaves the weak supervisor a plain FineTune
  static_assert(std::is_same_v<decltype(WeakStudentFor<FineTune>::make(FineTune{})), FineTune>);
  static_assert(std::is_same_v<decltype(WeakStudentFor<LinearProbe>::make(LinearProbe{})), FineTune>);
}

TEST_CASE("the weak supervisor stops early as the student does (--val-fraction moves all three models)", "[method]") {
  // Before, the weak model was a default FineTune whatever the student: --val-fraction changed
  // the ceiling and the student but not the weak model, so PGR's denominator moved alone.
  FineTune tuned;
  tuned.val_fraction = 0.2;
  tuned.train_layers = 0;
  const auto weak = WeakStudentFor<FineTune>::make(tuned);
  CHECK(weak.val_fraction == 0.2);
  CHECK(weak.train_layers == -1);  // the weak model is its own ladder size, fine-tuned whole
  LinearProbe probe;
  probe.val_fraction = 0.3;
  CHECK(WeakStudentFor<LinearProbe>::make(probe).val_fraction == 0.3);
  OracleStopping<FineTune> oracle;
  oracle.inner.val_fraction = 0.25;
  CHECK(WeakStudentFor<OracleStopping<FineTune>>::make(oracle).inner.val_fraction == 0.25);
  CHECK(WeakStudentFor<FineTune>::make(FineTune{}).describe().empty());  // off: the old cache keys
}

TEST_CASE("bootstrapping through a mixed ladder: a layer split applies to encoders only", "[method]") {
  FineTune top;
  top.train_layers = 0;
  nlohmann::json step = nlohmann::json::object();
  const LadderSize glove{"s", {"glove-mlp", {128}}, {.objective = "none"}};
  CHECK(student_for_size(top, glove, step).train_layers == -1);
  CHECK(step.at("train_layers") == -1);
  nlohmann::json encoder_step = nlohmann::json::object();
  const LadderSize encoder{"minilm-l6", {"bert", {}, "all-MiniLM-L6-v2"}, {.objective = "none"}};
  CHECK(student_for_size(top, encoder, encoder_step).train_layers == 0);
  CHECK(encoder_step.empty());
}
