// The trainer (train/trainer.hpp) and its callbacks (train/callback.hpp, train/callbacks.hpp):
// the divergence guard, the loss bound to the training rows, the cosine schedule, honest early
// stopping, the evaluation curve, the oracle's best step, and a user's callback.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "w2s/losses/aux_confidence.hpp"
#include "w2s/losses/cross_entropy.hpp"
#include "w2s/train/cosine.hpp"
#include "w2s/train/trainer.hpp"

using namespace w2s;

TEST_CASE("divergence: a loss growing past the bound, or non-finite predictions, stop training", "[train]") {
  torch::manual_seed(0);
  torch::nn::Linear model(4, 2);
  const auto x = at::randn({64, 4});
  const auto y = (x.select(1, 0) > 0).to(at::kLong);
  const auto t = at::one_hot(y, 2).to(at::kFloat);
  TrainConfig cfg;
  cfg.epochs = 20;
  cfg.batch_size = 16;
  cfg.lr = 1e6;  // the issue's --lr 1e6
  cfg.label = "ceiling l seed 0";
  const auto forward = [&](const at::Tensor& in) { return model->forward(in); };
  try {
    train_module(*model, forward, {x, t}, CrossEntropy{}, cfg, {x, y});
    FAIL("no divergence detected");
  } catch (const Diverged& d) {
    REQUIRE(d.stage == "ceiling l seed 0");
    REQUIRE(d.step >= 2);
    REQUIRE(d.step < 20);
    REQUIRE_THAT(d.what(), Catch::Contains("diverged: smoothed loss") && Catch::Contains("lower --lr"));
  }
  cfg.label = "weak xs seed 0";
  cfg.lr_option = "--weak-lr";  // the stage names its own option (SeedState::train_config), not the label
  torch::manual_seed(0);
  torch::nn::Linear weak(4, 2);
  REQUIRE_THROWS_WITH(train_module(*weak, [&](const at::Tensor& in) { return weak->forward(in); }, {x, t}, CrossEntropy{}, cfg, {x, y}),
                      Catch::Contains("lower --weak-lr"));
  // a sane learning rate trains without tripping the bound
  torch::nn::Linear fresh(4, 2);
  cfg.lr = 1e-2;
  const auto r = train_module(*fresh, [&](const at::Tensor& in) { return fresh->forward(in); }, {x, t}, CrossEntropy{}, cfg, {x, y});
  REQUIRE(r.curve.final() > 0.8);
  // predictions that are not finite, with a finite loss
  const auto nan_forward = [&](const at::Tensor& in) { return fresh->forward(in) * (in.size(0) == 64 ? NAN : 1.0); };
  cfg.epochs = 1;
  REQUIRE_THROWS_AS(train_module(*fresh, nan_forward, {x, t}, CrossEntropy{}, cfg, {x, y}), Diverged);
}

namespace {
/// A loss that records the rows it was bound to (for_training_set) and checks every batch sees that binding.
struct BindingSpy {
  static constexpr std::string_view name = "spy";
  int64_t bound_rows = -1;
  [[nodiscard]] BindingSpy for_training_set(const at::Tensor& targets) const {
    BindingSpy s = *this;
    s.bound_rows = targets.size(0);
    return s;
  }
  at::Tensor operator()(const at::Tensor& logits, const at::Tensor& targets, TrainProgress p) const {
    check(bound_rows == 40, "spy: bound to ", bound_rows, " rows, expected the 40 training rows");
    return CrossEntropy{}(logits, targets, p);
  }
};
}  // namespace

TEST_CASE("the trainer binds a loss to the whole training set before the first step", "[train]") {
  torch::nn::Linear model(4, 2);
  const auto x = at::randn({50, 4});
  const auto y = (x.select(1, 0) > 0).to(at::kLong);
  TrainConfig cfg;
  cfg.epochs = 1;
  cfg.batch_size = 8;
  cfg.val_fraction = 0.2;  // 10 rows held out: the loss sees the other 40
  REQUIRE_NOTHROW(train_module(*model, [&](const at::Tensor& in) { return model->forward(in); }, {x, at::one_hot(y, 2).to(at::kFloat)}, BindingSpy{}, cfg, {x, y}));
}

TEST_CASE("cosine learning rate per batch", "[train]") {
  // ½(1 + cos(π t/T)) at t = 0, T/4, T/2, T: 1, 0.853553, 0.5, 0
  REQUIRE(cosine_lr(1.0, 0, 8) == Approx(1.0));
  REQUIRE(cosine_lr(1.0, 2, 8) == Approx(0.8535534));
  REQUIRE(cosine_lr(1.0, 4, 8) == Approx(0.5));
  REQUIRE(cosine_lr(1.0, 8, 8) == Approx(0.0).margin(1e-12));
  auto w = at::zeros({1}).requires_grad_(true);
  torch::optim::Adam opt({w}, torch::optim::AdamOptions(0.1));
  CosineSchedule schedule(opt, 0.1, 8);
  for (int i = 0; i < 4; ++i) schedule.step();  // after 4 batches, the 5th runs at lr(4)
  REQUIRE(static_cast<torch::optim::AdamOptions&>(opt.param_groups()[0].options()).lr() == Approx(0.05));
}

TEST_CASE("training stops with a clear error on a NaN loss", "[train]") {
  torch::nn::Linear model(2, 2);
  const auto x = at::randn({8, 2});
  const auto t = at::full({8, 2}, 0.5);
  const auto y = at::zeros({8}, at::kLong);
  TrainConfig cfg;
  cfg.epochs = 1;
  cfg.batch_size = 4;
  cfg.label = "student l seed 3";
  const auto nan_loss = [](const at::Tensor& logits, const at::Tensor&, TrainProgress) { return logits.sum() * NAN; };
  REQUIRE_THROWS_WITH(train_module(*model, [&](const at::Tensor& in) { return model->forward(in); }, {x, t}, nan_loss, cfg, {x, y}),
                      Catch::Contains("student l seed 3: diverged: loss is nan at step 1 of 2"));
  // and a normal run records one test accuracy per evaluation point
  cfg.eval_points = 2;
  const auto r = train_module(*model, [&](const at::Tensor& in) { return model->forward(in); }, {x, t}, CrossEntropy{}, cfg, {x, y});
  REQUIRE(r.curve.steps == std::vector<int64_t>{1, 2});
  REQUIRE(r.test_probs.sizes() == at::IntArrayRef({8, 2}));
}

TEST_CASE("honest early stopping keeps the weights of the best held-out score against the targets", "[train]") {
  // Targets that a linear model fits early and a large learning rate then overshoots:
  // whichever step scores best on the held-out rows is the one whose weights remain.
  torch::manual_seed(0);
  torch::nn::Linear model(4, 2);
  const auto x = at::randn({200, 4});
  const auto labels = x.select(1, 0).gt(0).to(at::kLong);
  const auto targets = at::one_hot(labels, 2).to(at::kFloat);
  TrainConfig cfg;
  cfg.epochs = 6, cfg.batch_size = 20, cfg.lr = 0.5, cfg.eval_points = 12, cfg.val_fraction = 0.25;
  const ForwardFn forward = [&](const at::Tensor& in) { return model->forward(in); };
  const auto r = train_module(*model, forward, {x, targets}, CrossEntropy{}, cfg, {x, labels});
  REQUIRE(r.validation.steps == r.curve.steps);  // scored at every evaluation point
  REQUIRE(r.validation.score.size() == 12);
  const auto best = std::max_element(r.validation.score.begin(), r.validation.score.end());
  REQUIRE(r.stopped_step == r.validation.steps[best - r.validation.score.begin()]);  // the first best
  // The module ends with the kept weights, and the reported test predictions are theirs.
  model->eval();
  REQUIRE(at::allclose(predict_probs(forward, x, torch::kCPU), r.test_probs));
  REQUIRE(r.early_stopping().at("kept_step") == r.stopped_step);
  // 150 rows train: 8 batches of 20 per epoch, 48 steps in all.
  REQUIRE(r.steps == 48);
  cfg.val_fraction = 0;  // off: no held-out curve
  REQUIRE(train_module(*model, forward, {x, targets}, CrossEntropy{}, cfg, {x, labels}).early_stopping().is_null());
}

namespace {
/// A linear model whose logits are scaled by a buffer (not a parameter: no gradient moves it).
struct ScaledLinear : torch::nn::Module {
  torch::nn::Linear linear{nullptr};
  at::Tensor scale;
  ScaledLinear() {
    linear = register_module("linear", torch::nn::Linear(4, 2));
    scale = register_buffer("scale", at::ones({1}));
  }
  at::Tensor forward(const at::Tensor& x) { return linear->forward(x) * scale; }
};

/// Snapshots the weights and buffers at each evaluation point, and after the `at`-th one sets
/// the model's scale buffer to 0: every later prediction is uniform (argmax class 0) and no
/// gradient reaches the weights, so the held-out score can only fall after it.
struct Sabotage : Callback {
  ScaledLinear& model;
  int at = 0, seen = 0;
  std::map<int64_t, std::vector<at::Tensor>> snapshots;
  Sabotage(ScaledLinear& m, int a) : model(m), at(a) {}
  void evaluated(TrainState& s) override {
    snapshots[s.step] = {model.linear->weight.detach().clone(), model.linear->bias.detach().clone(),
                         model.scale.clone()};
    if (++seen == at) model.scale.fill_(0);
  }
};
}  // namespace

TEST_CASE("honest early stopping restores the kept step's weights and buffers, not the last step's", "[train]") {
  torch::manual_seed(0);
  ScaledLinear model;
  const auto x = at::randn({200, 4});
  const auto labels = x.select(1, 0).gt(0).to(at::kLong);
  const auto targets = at::one_hot(labels, 2).to(at::kFloat);
  TrainConfig cfg;
  cfg.epochs = 6, cfg.batch_size = 20, cfg.lr = 0.1, cfg.eval_points = 12, cfg.val_fraction = 0.25;
  const auto sabotage = std::make_shared<Sabotage>(model, 5);
  const ForwardFn forward = [&](const at::Tensor& in) { return model.forward(in); };
  const auto r =
      train_module(model, forward, {x, targets}, CrossEntropy{}, cfg, {x, labels}, {.callbacks = {sabotage}});
  // The kept step is at or before the sabotage, so not the last one.
  REQUIRE(r.stopped_step <= r.curve.steps.at(4));
  REQUIRE(r.stopped_step != r.curve.steps.back());
  REQUIRE(r.validation.score.back() < *std::max_element(r.validation.score.begin(), r.validation.score.end()));
  // Weights and the buffer are the kept step's snapshot: Adam's momentum moved the weights after it,
  // and the scale buffer was 0 at the end.
  const auto& kept = sabotage->snapshots.at(r.stopped_step);
  const auto& last = sabotage->snapshots.at(r.curve.steps.back());
  REQUIRE_FALSE(at::equal(last[0], kept[0]));
  REQUIRE(at::equal(model.linear->weight, kept[0]));
  REQUIRE(at::equal(model.linear->bias, kept[1]));
  REQUIRE(model.scale.item<float>() == 1.0f);
  // The reported test predictions are the restored model's, recomputed here; not the last step's (uniform).
  torch::NoGradGuard no_grad;
  const auto restored = at::softmax(x.matmul(kept[0].t()) + kept[1], 1);
  REQUIRE(at::allclose(r.test_probs, restored, 1e-5, 1e-6));
  REQUIRE(r.test_probs.sub(0.5).abs().max().item<double>() > 0.1);
}

namespace {
/// Writes down every hook it sees, with the step and the test score.
struct Recorder : Callback {
  std::vector<std::string> hooks;
  std::vector<int64_t> eval_steps;
  std::vector<double> eval_scores;
  int64_t steps_seen = 0, total = 0;
  void begin(TrainState& s) override { hooks.push_back("begin"), total = s.total; }
  void step(TrainState& s) override {
    hooks.push_back("step");
    total = s.total;
    REQUIRE(s.step == ++steps_seen);  // 1-based, one call per optimiser step
  }
  void evaluated(TrainState& s) override {
    hooks.push_back("evaluated");
    eval_steps.push_back(s.step);
    eval_scores.push_back(s.test_score);
  }
  void end(TrainState& s) override { hooks.push_back("end"), total = s.total; }
};
}  // namespace

TEST_CASE("a user's callback sees begin, every step, every evaluation point and end, after the built-in ones",
          "[train][callbacks]") {
  torch::manual_seed(1);
  torch::nn::Linear model(4, 2);
  const auto x = at::randn({40, 4});
  const auto y = x.select(1, 0).gt(0).to(at::kLong);
  TrainConfig cfg;
  cfg.epochs = 3, cfg.batch_size = 10, cfg.lr = 0.05, cfg.eval_points = 4;
  const auto rec = std::make_shared<Recorder>();
  const auto r = train_module(*model, [&](const at::Tensor& in) { return model->forward(in); },
                              {x, at::one_hot(y, 2).to(at::kFloat)}, CrossEntropy{}, cfg, {x, y}, {.callbacks = {rec}});
  // 40 rows in batches of 10 for 3 epochs: 12 steps; 4 evaluation points at steps 3, 6, 9, 12.
  REQUIRE(rec->steps_seen == 12);
  REQUIRE(rec->total == 12);
  REQUIRE(rec->hooks.front() == "begin");
  REQUIRE(rec->hooks.back() == "end");
  REQUIRE(std::count(rec->hooks.begin(), rec->hooks.end(), "evaluated") == 4);
  REQUIRE(rec->eval_steps == std::vector<int64_t>{3, 6, 9, 12});
  // the built-in EvaluationCurve ran first and saw the same scores
  REQUIRE(r.curve.steps == rec->eval_steps);
  REQUIRE(r.curve.score == rec->eval_scores);
  // without an evaluation set there is no curve, and the user's callback still sees every step
  const auto quiet = std::make_shared<Recorder>();
  const auto r2 = train_module(*model, [&](const at::Tensor& in) { return model->forward(in); },
                               {x, at::one_hot(y, 2).to(at::kFloat)}, CrossEntropy{}, cfg, {}, {.callbacks = {quiet}});
  REQUIRE(r2.curve.steps.empty());
  REQUIRE(quiet->steps_seen == 12);
  REQUIRE(!r2.test_probs.defined());
}

TEST_CASE("BestStep keeps the test predictions of the first evaluation point with the best score", "[train][callbacks]") {
  // A learning rate large enough that test accuracy goes up and down between points.
  torch::manual_seed(0);
  torch::nn::Linear model(4, 3);
  const auto x = at::randn({120, 4});
  const auto y = (x.select(1, 0).gt(0.5).to(at::kLong) + x.select(1, 1).gt(0).to(at::kLong));
  const auto noisy = at::softmax(at::randn({120, 3}) * 3, 1);  // targets that disagree with y: the curve wanders
  TrainConfig cfg;
  cfg.epochs = 8, cfg.batch_size = 15, cfg.lr = 0.3, cfg.eval_points = 16;
  const auto best = std::make_shared<BestStep>();
  const TrainObservers watch{.callbacks = {best}};
  const auto r = train_module(
      *model, [&](const at::Tensor& in) { return model->forward(in); }, {x, noisy}, CrossEntropy{}, cfg, {x, y}, watch);
  REQUIRE(best->found());
  const auto top = std::max_element(r.curve.score.begin(), r.curve.score.end());
  REQUIRE(best->score() == *top);
  REQUIRE(best->step() == r.curve.steps[top - r.curve.score.begin()]);  // the first of equals
  REQUIRE(metrics::accuracy(best->probs(), y) == Approx(*top));
  // the result's own predictions stay the final model's
  REQUIRE(metrics::accuracy(r.test_probs, y) == Approx(r.curve.final()));
  // a second training starts afresh
  cfg.eval_points = 1;
  train_module(
      *model, [&](const at::Tensor& in) { return model->forward(in); }, {x, noisy}, CrossEntropy{}, cfg, {x, y}, watch);
  REQUIRE(best->step() == cfg.epochs * 8);
}

namespace {
/// Holds out the first half of the rows before the first step, and stops at step 3.
struct HalfAndStop : Callback {
  void begin(TrainState& s) override { s.train_rows = at::arange(s.train.x.size(0) / 2, s.train.x.size(0), at::kLong); }
  void step(TrainState& s) override {
    if (s.step == 3) throw Error("stopped by the callback at step 3");
  }
};
}  // namespace

TEST_CASE("a callback can choose the training rows before the first step, and stop the training", "[train][callbacks]") {
  torch::nn::Linear model(2, 2);
  const auto x = at::randn({40, 2});
  const auto y = x.select(1, 0).gt(0).to(at::kLong);
  TrainConfig cfg;
  cfg.epochs = 1, cfg.batch_size = 5;
  const auto rec = std::make_shared<Recorder>();
  REQUIRE_THROWS_WITH(train_module(*model, [&](const at::Tensor& in) { return model->forward(in); },
                                   {x, at::one_hot(y, 2).to(at::kFloat)}, CrossEntropy{}, cfg, {x, y},
                                   {.callbacks = {std::make_shared<HalfAndStop>(), rec}}),
                      "stopped by the callback at step 3");
  REQUIRE(rec->total == 4);  // 20 of 40 rows in batches of 5
  REQUIRE(rec->steps_seen == 2);  // the stopping callback runs first; the recorder never saw step 3
}

TEST_CASE("gradient accumulation gives the whole batch's step, also for batch statistics", "[train]") {
  // The auxiliary confidence loss hardens with a quantile over the batch: minibatches
  // of 2 must still train exactly as one batch of 8 (trainer.hpp's two passes).
  const auto x = at::randn({8, 3});
  const auto y = at::softmax(at::randn({8, 2}), 1);
  const auto train = [&](int64_t minibatch) {
    torch::manual_seed(3);
    torch::nn::Linear model(3, 2);
    TrainConfig cfg;
    cfg.epochs = 2;
    cfg.batch_size = 8;
    cfg.minibatch = minibatch;
    cfg.lr = 0.1;
    Log log("test", true);
    train_module(*model, [&](const at::Tensor& in) { return model->forward(in); }, {x, y}, AuxConfidence{}, cfg, {x, at::zeros({8}, at::kLong)});
    return model->weight.detach().clone();
  };
  const auto whole = train(0);
  REQUIRE(at::allclose(train(2), whole, 1e-5, 1e-6));
  REQUIRE(at::allclose(train(1), whole, 1e-5, 1e-6));
}
