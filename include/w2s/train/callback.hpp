#pragma once
/// \file
/// What the trainer (train/trainer.hpp) is told and what it tells back: its options
/// (TrainConfig), its result (FitResult, Curve), and the Callback interface through which
/// everything beyond "Adam on the loss" is done: the evaluation curve, early stopping on
/// held-out rows, the oracle's best test step, the divergence guard, progress lines
/// (train/callbacks.hpp). A callback sees the training through TrainState.
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/types.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/core/log.hpp"
#include "w2s/train/predict.hpp"

namespace w2s {

/// How far training has got; losses with warm-ups read it.
struct TrainProgress {
  int64_t step = 0;   ///< 0-based index of the current batch
  int64_t total = 1;  ///< batches in the whole run
  [[nodiscard]] double fraction() const { return total > 0 ? static_cast<double>(step) / static_cast<double>(total) : 0.0; }
};

/// Training that went wrong numerically: the loss (or the model's predictions) became NaN
/// or infinite, or the smoothed loss grew past TrainConfig::divergence_factor times its
/// first value. Experiments stop with it as a one-line error, or with
/// `--on-divergence record` write a record marked diverged (README, "Reliability").
class Diverged : public Error {
 public:
  Diverged(std::string stage, int64_t step, double loss, const std::string& what)
      : Error(what), stage(std::move(stage)), step(step), loss(loss) {}
  std::string stage;  ///< TrainConfig::label of the training that diverged
  int64_t step;       ///< 1-based step at which it was detected
  double loss;        ///< the loss then (smoothed, for growth; NaN for non-finite predictions)
};

class Callback;

/// The trainer's options: what is trained and how. The numbers that change what is trained
/// are in describe() (cache keys); `label` and `lr_option` only name the stage in progress
/// lines and errors. Who watches the training (progress lines, callbacks) is not an option:
/// TrainObservers, passed to the trainer beside it, so a copy of a stage's options never
/// carries another stage's watchers.
struct TrainConfig {
  int64_t epochs = 3;
  int64_t batch_size = 100;
  /// Examples per forward/backward pass; gradients of a batch's minibatches are
  /// accumulated before the one optimiser step (openai: batch 32, minibatch 1 for
  /// the largest models), with the loss over the whole batch. Costs one extra
  /// forward pass per minibatch; needs a deterministic forward (no dropout).
  /// 0 = the whole batch at once.
  int64_t minibatch = 0;
  bool amp = false;  ///< CUDA autocast around forward passes (LibTorch's mixed precision)
  double lr = 1e-3;
  int64_t eval_points = 10;  ///< test evaluations during training (the last is the final model)
  /// Honest early stopping (as the EleutherAI code; the EarlyStopping callback): this share of
  /// the training rows is held out, the model is scored on them against its own targets (for a
  /// student, the weak labels: no ground truth, no test data) at every evaluation point, and
  /// training ends with the weights of the best point. 0 = off.
  double val_fraction = 0;
  uint64_t seed = 0;
  torch::Device device = torch::kCPU;
  std::string label = "train";  ///< names the stage in progress lines and errors
  /// The option that sets `lr` for this stage, named in divergence errors ("--weak-lr" for the
  /// weak supervisor, set by the stage that builds the options; SeedState::train_config).
  std::string lr_option = "--lr";
  /// Divergence bound (the DivergenceGuard callback): training stops (Diverged) once the
  /// smoothed loss (an exponential average, weight 0.02 per step) exceeds this many times
  /// max(|first batch's loss|, 0.1). Healthy runs stay below 3× (cross entropy starts at
  /// ln(classes)); a learning rate a thousand times too large crosses 100× within tens of
  /// steps. 0 = only non-finite losses.
  double divergence_factor = 100;

  [[nodiscard]] W2S_ENGINE_INLINE nlohmann::json describe() const;
};

/// Who watches a training besides the trainer's own guards: progress lines and callbacks.
/// Nothing here changes what is trained.
struct TrainObservers {
  /// Progress lines at each evaluation point (the ProgressLog callback); null = none.
  const Log* log = nullptr;
  /// Callbacks besides the built-in ones, called after them in this order (a wrapper student,
  /// OracleStopping, adds BestStep for the training of its inner student and reads it after).
  std::vector<std::shared_ptr<Callback>> callbacks;
};

/// The test score during training: accuracy, or −MSE for regression (metrics::score).
struct Curve {
  std::vector<int64_t> steps;
  std::vector<double> score;
  [[nodiscard]] double best() const { return score.empty() ? NAN : *std::max_element(score.begin(), score.end()); }
  [[nodiscard]] double final() const { return score.empty() ? NAN : score.back(); }
  [[nodiscard]] nlohmann::json to_json() const { return {{"steps", steps}, {"score", score}}; }
  W2S_ENGINE_INLINE static Curve from_json(const nlohmann::json& j);
};

struct FitResult {
  at::Tensor test_probs;  ///< N_test × outputs, on the CPU, of the final model (probabilities, or regression outputs)
  Curve curve;
  int64_t steps = 0;
  double seconds = 0;
  Curve validation;          ///< with early stopping: the held-out score against the training targets
  int64_t stopped_step = 0;  ///< with early stopping: the step whose weights were kept
  [[nodiscard]] W2S_ENGINE_INLINE nlohmann::json early_stopping() const;
};

using ForwardFn = std::function<at::Tensor(const at::Tensor&)>;

/// Inputs and what goes with them: training targets (N×C distributions, N×k values), or
/// evaluation labels (N class ids, N×k values).
struct Examples {
  at::Tensor x;
  at::Tensor y;
  [[nodiscard]] bool empty() const { return !x.defined(); }
};

/// What a callback sees of the training in progress.
struct TrainState {
  const TrainConfig& config;
  torch::nn::Module& module;
  const ForwardFn& forward;
  const Examples& train;
  const Examples& test;  ///< empty when the trainer was given no evaluation set
  bool regression;       ///< outputs are values (no softmax; score −MSE), as the evaluation labels say
  /// The rows of `train` that are trained on: all (undefined) unless a callback held some out in begin().
  at::Tensor train_rows;
  int64_t step = 0;   ///< optimiser steps done
  int64_t total = 0;  ///< steps in the whole run
  int64_t epoch = 0;  ///< 0-based epoch of the last step
  double loss = 0;      ///< the last step's batch loss
  double smoothed = 0;  ///< exponential average of the batch losses (weight 0.02 a step)
  double first_loss = 0;
  at::Tensor test_probs;  ///< at an evaluation point: the model's predictions on `test`
  double test_score = NAN;
  FitResult& result;
  /// The model's predictions on `x` (softmax, or values for regression), without gradients,
  /// in eval mode, on the CPU.
  [[nodiscard]] at::Tensor predict(const at::Tensor& x) const {
    module.eval();
    auto out = predict_probs(forward, x, config.device, regression);
    module.train();
    return out;
  }
};

/// Watches a training: each hook is called for every callback in order (the built-in ones
/// first, then TrainObservers::callbacks). A hook may throw (Diverged) to stop the training.
class Callback {
 public:
  virtual ~Callback() = default;
  /// Before the first step; may hold training rows out by setting `s.train_rows`.
  virtual void begin(TrainState& /*s*/) {}
  /// After each optimiser step (`s.loss`, `s.smoothed`).
  virtual void step(TrainState& /*s*/) {}
  /// After each evaluation point (`s.test_probs`, `s.test_score`; the last is after the final step).
  virtual void evaluated(TrainState& /*s*/) {}
  /// After the last step, before the result is returned.
  virtual void end(TrainState& /*s*/) {}
};

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE nlohmann::json TrainConfig::describe() const {
  nlohmann::json j = {{"epochs", epochs}, {"batch_size", batch_size}, {"lr", lr}, {"eval_points", eval_points}};
  if (minibatch > 0 && minibatch < batch_size) j["minibatch"] = minibatch;  // old cache keys stay valid
  if (amp) j["amp"] = true;
  if (val_fraction > 0) j["val_fraction"] = val_fraction;
  return j;
}

W2S_ENGINE_INLINE Curve Curve::from_json(const nlohmann::json& j) {
  return {j.at("steps").get<std::vector<int64_t>>(),
          j.at(j.contains("score") ? "score" : "accuracy").get<std::vector<double>>()};
}

W2S_ENGINE_INLINE nlohmann::json FitResult::early_stopping() const {
  if (validation.steps.empty()) return nullptr;
  return {{"validation", validation.to_json()}, {"kept_step", stopped_step}, {"steps", steps}};
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
