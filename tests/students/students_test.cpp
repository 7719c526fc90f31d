// The students (include/w2s/students/): each adapts a frozen, randomly initialised MLP
// backbone to a small separable task from its targets alone; the transfer half's ground
// truth reaches only the student that asks for it by type (the saliency probe); the oracle
// reports its best test step; least squares is exact.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <algorithm>

#include "w2s/losses/squared_error.hpp"
#include "w2s/students/few_shot.hpp"
#include "w2s/students/fine_tune.hpp"
#include "w2s/students/least_squares.hpp"
#include "w2s/students/linear_probe.hpp"
#include "w2s/students/oracle_stopping.hpp"
#include "w2s/students/probe_after.hpp"

using namespace w2s;

namespace {

/// A frozen MLP of random weights (no pretraining) as a "pretrained" backbone.
PretrainedBackbone random_mlp(int64_t inputs, std::vector<int64_t> widths, uint64_t seed = 0) {
  LadderSize size{"tiny", {"mlp", std::move(widths)}, {.objective = "none"}};
  PretrainedBackbone bb{size, {inputs}, {}, "tiny-mlp-" + std::to_string(seed), {}, nullptr};
  torch::manual_seed(seed);
  auto fresh = make_backbone(size.backbone, {inputs});
  for (auto& p : fresh->parameters()) bb.state.push_back(p.detach().clone());
  for (auto& b : fresh->buffers()) bb.state.push_back(b.detach().clone());
  return bb;
}

/// Two classes split by a line through the origin of 4-d inputs.
Dataset separable(const std::string& part, int64_t n, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  Dataset d;
  d.name = "toy";
  d.part = part;
  d.modality = Modality::table;
  d.inputs = at::randn({n, 4}, gen);
  d.targets = (d.inputs.select(1, 0) + d.inputs.select(1, 1)).gt(0).to(at::kLong);
  d.classes = 2;
  d.class_names = {"no", "yes"};
  return d;
}

struct Fixture {
  PretrainedBackbone bb = random_mlp(4, {32});
  Log log{"test", true};
  FeatureCache features;
  Dataset train = separable("train", 300, 1);
  Dataset test = separable("test", 300, 2);
  TrainConfig config() const {
    TrainConfig c;
    c.epochs = 15;
    c.batch_size = 30;
    c.lr = 1e-2;
    c.eval_points = 5;
    return c;
  }
  /// The label source's output: `targets` over the transfer half, with its ground truth still in `train`.
  StudentData labelled(const at::Tensor& targets) const { return {train, targets, test}; }
  at::Tensor truth() const { return one_hot_targets(train.targets, 2); }
  at::Tensor flipped() const { return one_hot_targets(1 - train.targets, 2); }
  double accuracy(const Fitted& f) const { return metrics::accuracy(f.result.test_probs, test.targets); }
};

}  // namespace

TEST_CASE("a student sees its targets, not the transfer half's ground truth", "[student][ground_truth]") {
  Fixture fx;
  const auto seen = for_student<FineTune>(fx.labelled(fx.truth()));
  REQUIRE_FALSE(seen.train.targets.defined());  // taken out
  REQUIRE_FALSE(seen.ground_truth.defined());   // and not handed back
  REQUIRE(seen.test.targets.defined());         // the evaluation's labels stay
  REQUIRE(seen.outputs() == 2);
  REQUIRE(seen.train.subset(at::arange(3, at::kLong), "three").size() == 3);  // a view without targets still subsets
  // Trained on flipped labels, fine-tuning learns the flipped concept: the targets are all it has.
  const StudentContext ctx{fx.bb, fx.config(), fx.log, fx.features};
  const auto f = FineTune{}.fit(ctx, for_student<FineTune>(fx.labelled(fx.flipped())), CrossEntropy{});
  REQUIRE(fx.accuracy(f) < 0.15);
}

TEST_CASE("the saliency probe asks for the transfer half's ground truth by type, and gets it", "[student][ground_truth]") {
  static_assert(needs_transfer_ground_truth<ProbeAfter<FineTune>>());
  static_assert(!needs_transfer_ground_truth<FineTune>());
  static_assert(!needs_transfer_ground_truth<LinearProbe>());
  static_assert(!needs_transfer_ground_truth<OracleStopping<FineTune>>());
  static_assert(needs_transfer_ground_truth<OracleStopping<ProbeAfter<FineTune>>>());  // wrappers pass the need on
  Fixture fx;
  const auto seen = for_student<ProbeAfter<FineTune>>(fx.labelled(fx.flipped()));
  REQUIRE_FALSE(seen.train.targets.defined());
  REQUIRE(at::equal(seen.ground_truth, fx.train.targets));
  // Fine-tuned on flipped labels, then a probe on ground truth: the probe recovers the concept.
  ProbeAfter<FineTune> probe;
  probe.probe_epochs = 30;
  // A callback in the context watches the inner student's training, not the probe's (an oracle's
  // BestStep around ProbeAfter must see the fine-tuning alone).
  struct CountTrainings : Callback {
    int trainings = 0;
    void begin(TrainState&) override { ++trainings; }
  };
  const auto count = std::make_shared<CountTrainings>();
  const StudentContext ctx{fx.bb, fx.config(), fx.log, fx.features, {count}};
  const auto f = probe.fit(ctx, seen, CrossEntropy{});
  REQUIRE(fx.accuracy(f) > 0.85);
  REQUIRE(count->trainings == 1);
  // Data that did not come through for_student<ProbeAfter> has no ground truth to hand over.
  REQUIRE_THROWS_WITH(probe.fit(ctx, for_student<FineTune>(fx.labelled(fx.flipped())), CrossEntropy{}),
                      Catch::Contains("probe_after: the transfer half's ground truth was not handed over"));
}

TEST_CASE("fine-tuning trains the backbone and the head; the curve has the evaluation points", "[student]") {
  Fixture fx;
  const StudentContext ctx{fx.bb, fx.config(), fx.log, fx.features};
  const auto f = FineTune{}.fit(ctx, for_student<FineTune>(fx.labelled(fx.truth())), CrossEntropy{});
  REQUIRE(fx.accuracy(f) > 0.9);
  REQUIRE(f.result.curve.steps == std::vector<int64_t>{30, 60, 90, 120, 150});  // 10 steps an epoch, 15 epochs
  REQUIRE(f.result.curve.final() == Approx(fx.accuracy(f)));
  // the backbone's weights moved
  const auto before = fx.bb.make()->parameters().front();
  REQUIRE_FALSE(at::allclose(Classifier(f.model)->backbone().parameters().front(), before));
  // predict is the trained model's softmax on any part
  const auto p = f.predict(fx.test);
  REQUIRE(p.sizes() == at::IntArrayRef({300, 2}));
  REQUIRE(at::allclose(p, f.result.test_probs));
}

TEST_CASE("the linear probe trains the head alone, on features computed once", "[student]") {
  Fixture fx;
  const StudentContext ctx{fx.bb, fx.config(), fx.log, fx.features};
  REQUIRE(fx.features.computed() == 0);
  const auto f = LinearProbe{}.fit(ctx, for_student<LinearProbe>(fx.labelled(fx.truth())), CrossEntropy{});
  REQUIRE(fx.accuracy(f) > 0.85);
  // Features computed once per part: the training half and the test set, not once per epoch.
  REQUIRE(fx.features.computed() == 2);
  REQUIRE(at::allclose(f.predict(fx.test), f.result.test_probs));
  REQUIRE(fx.features.computed() == 2);  // predicting on a part it has seen reads the memory
  // The head was trained on the pretrained backbone's own features: the probe's predictions
  // are softmax(head(features of a fresh copy of the pretrained weights)).
  {
    torch::NoGradGuard no_grad;
    auto head = Classifier(f.model)->head();
    const auto fresh = fx.bb.make()->forward(fx.test.inputs);
    REQUIRE(at::allclose(at::softmax(head->forward(fresh), 1), f.result.test_probs, 1e-5, 1e-6));
  }
  // A second probe (another seed) on the same parts computes nothing again.
  auto again = fx.config();
  again.seed = 7;
  LinearProbe{}.fit(StudentContext{fx.bb, again, fx.log, fx.features}, for_student<LinearProbe>(fx.labelled(fx.truth())),
                    CrossEntropy{});
  REQUIRE(fx.features.computed() == 2);
}

TEST_CASE("the early-stopping oracle reports the test predictions of its best evaluation step", "[student][oracle]") {
  Fixture fx;
  // Noisy targets and a large learning rate: the test curve goes up and down.
  const auto noisy = at::softmax(at::randn({300, 2}, at::make_generator<at::CPUGeneratorImpl>(5)) * 3, 1);
  auto cfg = fx.config();
  cfg.lr = 0.1;
  cfg.epochs = 4;
  const StudentContext ctx{fx.bb, cfg, fx.log, fx.features};
  OracleStopping<FineTune> oracle;
  oracle.evaluations_per_epoch = 5;
  const auto f = oracle.fit(ctx, for_student<OracleStopping<FineTune>>(fx.labelled(noisy)), CrossEntropy{});
  REQUIRE(f.result.curve.steps.size() == 20);  // 4 epochs × 5 evaluations
  REQUIRE(fx.accuracy(f) == Approx(f.result.curve.best()));
  // the plain student reports its final step, on the same curve
  const auto plain = FineTune{}.fit(StudentContext{fx.bb, [&] { auto c = cfg; c.eval_points = 20; return c; }(), fx.log,
                                                   fx.features},
                                    for_student<FineTune>(fx.labelled(noisy)), CrossEntropy{});
  REQUIRE(plain.result.curve.score == f.result.curve.score);
  REQUIRE(fx.accuracy(plain) == Approx(plain.result.curve.final()));
  // the caller's context is not changed by the oracle's callback
  REQUIRE(ctx.callbacks.empty());
}

TEST_CASE("few-shot prompting without a language model: the nearest class mean of k demonstrations", "[student]") {
  Fixture fx;
  const StudentContext ctx{fx.bb, fx.config(), fx.log, fx.features};
  FewShotPrompting few;
  few.shots = 20;
  const auto f = few.fit(ctx, for_student<FewShotPrompting>(fx.labelled(fx.truth())), CrossEntropy{});
  REQUIRE(fx.accuracy(f) > 0.6);  // random features: better than chance, not a trained model
  REQUIRE(f.result.curve.steps == std::vector<int64_t>{0});  // nothing trains
  // by hand: the class means of the demonstrations decide, so flipped labels flip every prediction
  const auto g = few.fit(ctx, for_student<FewShotPrompting>(fx.labelled(fx.flipped())), CrossEntropy{});
  REQUIRE(at::equal(g.result.test_probs.argmax(1), 1 - f.result.test_probs.argmax(1)));
  few.shots = 0;
  REQUIRE_THROWS_WITH(few.fit(ctx, for_student<FewShotPrompting>(fx.labelled(fx.truth())), CrossEntropy{}),
                      Catch::Contains("--shots"));
}

TEST_CASE("least squares recovers an exact affine map of the features", "[student][regression]") {
  // Features = a frozen 1-layer MLP; targets an exact affine function of them:
  // the closed form must reproduce them to rounding.
  Dataset d;
  d.name = "lsq";
  d.part = "train";
  d.modality = Modality::regression;
  d.inputs = at::randn({64, 3});
  const auto bb = random_mlp(3, {6});
  const auto features = [&] {
    at::NoGradGuard g;
    return bb.make()->forward(d.inputs);
  }();
  const auto w = at::randn({6, 2});
  d.targets = features.matmul(w) + at::tensor({1.f, -2.f});
  Log log("test", true);
  FeatureCache cache;
  const StudentContext ctx{bb, TrainConfig{}, log, cache};
  const auto seen = for_student<LeastSquares>({d, d.targets, d});
  const auto fitted = LeastSquares{}.fit(ctx, seen, SquaredError{});
  REQUIRE(metrics::mse(fitted.result.test_probs, d.targets) < 1e-8);
  REQUIRE(seen.outputs() == 2);  // the width comes from the targets when the half's own are gone
  REQUIRE_THROWS_WITH(LeastSquares{}.fit(ctx, seen, CrossEntropy{}), Catch::Contains("the loss must be squared_error"));
}
