#pragma once
/// \file
/// The one training loop every stage uses (weak supervisor, ceiling, student,
/// linear probe): Adam, cosine learning rate per batch, the loss over the whole
/// batch, test accuracy recorded at evenly spaced steps (paper Figs. 7, 13).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <torch/nn/module.h>
#include <torch/optim/adam.h>
#include <torch/types.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/core/log.hpp"
#include "w2s/metrics/metrics.hpp"
#include "w2s/train/cosine.hpp"

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
  /// Honest early stopping (as the EleutherAI code): this share of the training rows is
  /// held out, the model is scored on them against its own targets (for a student, the
  /// weak labels: no ground truth, no test data) at every evaluation point, and training
  /// ends with the weights of the best point. 0 = off.
  double val_fraction = 0;
  uint64_t seed = 0;
  torch::Device device = torch::kCPU;
  std::string label = "train";  ///< names the stage in progress lines and errors
  /// Divergence bound: training stops (Diverged) once the smoothed loss (an exponential
  /// average, weight 0.02 per step) exceeds this many times max(|first batch's loss|, 0.1).
  /// Healthy runs stay below 3× (cross entropy starts at ln(classes)); a learning rate a
  /// thousand times too large crosses 100× within tens of steps. 0 = only non-finite losses.
  double divergence_factor = 100;

  [[nodiscard]] nlohmann::json describe() const {
    nlohmann::json j = {{"epochs", epochs}, {"batch_size", batch_size}, {"lr", lr}, {"eval_points", eval_points}};
    if (minibatch > 0 && minibatch < batch_size) j["minibatch"] = minibatch;  // old cache keys stay valid
    if (amp) j["amp"] = true;
    if (val_fraction > 0) j["val_fraction"] = val_fraction;
    return j;
  }
};

/// The test score during training: accuracy, or −MSE for regression (metrics::score).
struct Curve {
  std::vector<int64_t> steps;
  std::vector<double> score;
  [[nodiscard]] double best() const { return score.empty() ? NAN : *std::max_element(score.begin(), score.end()); }
  [[nodiscard]] double final() const { return score.empty() ? NAN : score.back(); }
  [[nodiscard]] nlohmann::json to_json() const { return {{"steps", steps}, {"score", score}}; }
  static Curve from_json(const nlohmann::json& j) {
    return {j.at("steps").get<std::vector<int64_t>>(), j.at(j.contains("score") ? "score" : "accuracy").get<std::vector<double>>()};
  }
};

struct FitResult {
  at::Tensor test_probs;       ///< N_test × outputs, on the CPU, of the final model (probabilities, or regression outputs)
  at::Tensor best_test_probs;  ///< the same at the evaluation step of best test accuracy (the oracle)
  Curve curve;
  int64_t steps = 0;
  double seconds = 0;
  Curve validation;          ///< with early stopping: the held-out score against the training targets
  int64_t stopped_step = 0;  ///< with early stopping: the step whose weights were kept
  [[nodiscard]] nlohmann::json early_stopping() const {
    if (validation.steps.empty()) return nullptr;
    return {{"validation", validation.to_json()}, {"kept_step", stopped_step}, {"steps", steps}};
  }
};

using ForwardFn = std::function<at::Tensor(const at::Tensor&)>;

/// CUDA mixed precision (LibTorch's autocast: matmuls in bfloat16, reductions in
/// float) for the guard's lifetime, when `enabled`. Losses see float outputs.
class AutocastGuard {
 public:
  explicit AutocastGuard(bool enabled) : enabled_(enabled) {
    if (!enabled_) return;
    was_enabled_ = at::autocast::is_enabled();
    // bfloat16, not float16: LibTorch 1.13's C++ API has no gradient scaler, and
    // bfloat16's float32 exponent range needs none.
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
    at::autocast::increment_nesting();
  }
  ~AutocastGuard() {
    if (!enabled_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_enabled(was_enabled_);
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool enabled_;
  bool was_enabled_ = false;
};

/// `forward` on `x` in batches, without gradients, gathered on the CPU (features, logits).
inline at::Tensor forward_in_batches(const ForwardFn& forward, const at::Tensor& x, torch::Device device,
                                     int64_t batch = 1000) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> parts;
  for (int64_t i = 0; i < x.size(0); i += batch)
    parts.push_back(forward(x.slice(0, i, std::min(i + batch, x.size(0))).to(device)).to(at::kCPU));
  return at::cat(parts);
}

/// Softmax probabilities of `forward` on `x`, in batches, without gradients, on the CPU;
/// with `regression`, the raw outputs.
inline at::Tensor predict_probs(const ForwardFn& forward, const at::Tensor& x, torch::Device device,
                                bool regression = false, int64_t batch = 1000) {
  const auto out = forward_in_batches(forward, x, device, batch);
  return regression ? out : at::softmax(out, 1);
}

/// The loss to train with: `loss.for_training_set(targets)` where a loss fixes statistics
/// of the whole training set before the first step (Window's "midweak" radius), else `loss`.
template <class LossFn>
auto for_training_set(const LossFn& loss, const at::Tensor& targets) {
  if constexpr (requires { loss.for_training_set(targets); })
    return loss.for_training_set(targets);
  else
    return loss;
}

/// The option that sets the learning rate of the stage `cfg.label` names, for error messages.
inline std::string lr_option(const TrainConfig& cfg) {
  return cfg.label.rfind("weak", 0) == 0 ? "--weak-lr" : "--lr";
}

/// Trains `module` (all its parameters) so that `loss(forward(x), targets,
/// progress)` falls; evaluates on (x_test, y_test) `cfg.eval_points` times.
/// Divergence (a non-finite loss or prediction, or the smoothed loss past
/// `cfg.divergence_factor` times the first) throws Diverged naming the stage and step.
template <class LossFn>
FitResult fit_module(torch::nn::Module& module, const ForwardFn& forward, const at::Tensor& x,
                     const at::Tensor& targets, const at::Tensor& x_test, const at::Tensor& y_test,
                     const LossFn& loss_fn, const TrainConfig& cfg, const Log& log) {
  check(x.size(0) == targets.size(0), cfg.label, ": ", x.size(0), " inputs but ", targets.size(0), " targets");
  check(x.size(0) > 0, cfg.label, ": no training examples");
  check(cfg.epochs >= 1 && cfg.batch_size >= 1 && cfg.lr > 0, cfg.label,
        ": expected epochs >= 1, batch size >= 1, lr > 0");
  check(cfg.val_fraction >= 0 && cfg.val_fraction < 1, cfg.label, ": validation share must be in [0, 1), got ",
        cfg.val_fraction);
  const auto start = std::chrono::steady_clock::now();
  const bool regression = metrics::is_regression(y_test);
  // Early stopping's held-out rows: a fixed draw per seed, scored against their targets
  // (argmax of soft labels for classification).
  at::Tensor train_rows, val_x, val_y;
  if (cfg.val_fraction > 0) {
    auto draw = at::make_generator<at::CPUGeneratorImpl>(cfg.seed * 7919ull + 3);
    const auto perm = at::randperm(x.size(0), draw, at::kLong);
    const int64_t n_val = std::max<int64_t>(1, std::llround(cfg.val_fraction * double(x.size(0))));
    check(n_val < x.size(0), cfg.label, ": ", x.size(0), " training rows leave none after holding out ", n_val,
          " for early stopping");
    train_rows = perm.slice(0, n_val);
    val_x = x.index_select(0, perm.slice(0, 0, n_val));
    val_y = targets.index_select(0, perm.slice(0, 0, n_val));
    if (!regression) val_y = val_y.argmax(1);
  }
  const int64_t n = train_rows.defined() ? train_rows.size(0) : x.size(0);
  const auto loss = for_training_set(loss_fn, train_rows.defined() ? targets.index_select(0, train_rows) : targets);
  const int64_t per_epoch = (n + cfg.batch_size - 1) / cfg.batch_size;
  const int64_t total = per_epoch * cfg.epochs;
  const int64_t points = std::max<int64_t>(1, std::min(cfg.eval_points, total));
  module.to(cfg.device);
  torch::optim::Adam opt(module.parameters(), torch::optim::AdamOptions(cfg.lr));
  CosineSchedule schedule(opt, cfg.lr, total);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(cfg.seed * 1000003ull + 17);
  FitResult result;
  std::vector<at::Tensor> kept;  // early stopping: the weights of the best held-out score
  int64_t step = 0, next_point = 1;
  double running = 0, first_loss = 0;
  const auto evaluate = [&](int64_t after_steps) {
    module.eval();
    result.test_probs = predict_probs(forward, x_test, cfg.device, regression);
    module.train();
    if (!result.test_probs.isfinite().all().item<bool>())
      throw Diverged(cfg.label, after_steps, NAN,
                     detail::concat(cfg.label, ": diverged: test predictions are not finite after step ", after_steps,
                                    "; lower ", lr_option(cfg)));
    const double score = metrics::score(result.test_probs, y_test);
    if (result.curve.score.empty() || score > result.curve.best()) result.best_test_probs = result.test_probs;
    result.curve.steps.push_back(after_steps);
    result.curve.score.push_back(score);
    if (val_x.defined()) {
      module.eval();
      const double held_out = metrics::score(predict_probs(forward, val_x, cfg.device, regression), val_y);
      module.train();
      if (result.validation.score.empty() || held_out > result.validation.best()) {
        torch::NoGradGuard no_grad;
        kept.clear();
        for (const auto& p : module.parameters()) kept.push_back(p.detach().clone());
        result.stopped_step = after_steps;
      }
      result.validation.steps.push_back(after_steps);
      result.validation.score.push_back(held_out);
    }
    return score;
  };
  module.train();
  for (int64_t epoch = 0; epoch < cfg.epochs; ++epoch) {
    const auto order = train_rows.defined() ? train_rows.index_select(0, at::randperm(n, gen, at::kLong))
                                            : at::randperm(n, gen, at::kLong);
    for (int64_t b = 0; b < per_epoch; ++b, ++step) {
      const auto idx = order.slice(0, b * cfg.batch_size, std::min(n, (b + 1) * cfg.batch_size));
      const int64_t in_batch = idx.size(0);
      const int64_t micro = cfg.minibatch > 0 ? std::min(cfg.minibatch, in_batch) : in_batch;
      const auto tb = targets.index_select(0, idx).to(cfg.device);
      const auto out_of = [&](const at::Tensor& part) {
        const AutocastGuard amp(cfg.amp);
        return forward(x.index_select(0, part).to(cfg.device));
      };
      const auto checked = [&](const at::Tensor& l) {
        const double v = l.item<double>();
        if (!std::isfinite(v))
          throw Diverged(cfg.label, step + 1, v,
                         detail::concat(cfg.label, ": diverged: loss is ", v, " at step ", step + 1, " of ", total,
                                        " (epoch ", epoch + 1, "); lower ", lr_option(cfg), " or check the targets"));
        return v;
      };
      opt.zero_grad();
      double value = 0;
      if (micro == in_batch) {
        const at::Tensor l = loss(out_of(idx).to(at::kFloat), tb, TrainProgress{step, total});
        value = checked(l);
        l.backward();
      } else {
        // Gradient accumulation that is exact for every loss, also those with batch
        // statistics (the aux loss's quantile, the window's median): the outputs of
        // all minibatches without gradients, the loss and dL/doutputs on the whole
        // batch, then each minibatch again with gradients, seeded with its slice.
        std::vector<at::Tensor> outs;
        {
          torch::NoGradGuard no_grad;
          for (int64_t m = 0; m < in_batch; m += micro)
            outs.push_back(out_of(idx.slice(0, m, std::min(in_batch, m + micro))).to(at::kFloat));
        }
        auto outputs = at::cat(outs).requires_grad_(true);
        const at::Tensor l = loss(outputs, tb, TrainProgress{step, total});
        value = checked(l);
        l.backward();
        const auto grad = outputs.grad();
        for (int64_t m = 0; m < in_batch; m += micro) {
          const int64_t end = std::min(in_batch, m + micro);
          out_of(idx.slice(0, m, end)).to(at::kFloat).backward(grad.slice(0, m, end));
        }
      }
      opt.step();
      schedule.step();
      if (step == 0) first_loss = value;
      running = step == 0 ? value : 0.98 * running + 0.02 * value;
      if (cfg.divergence_factor > 0 && running > cfg.divergence_factor * std::max(std::abs(first_loss), 0.1))
        throw Diverged(cfg.label, step + 1, running,
                       detail::concat(cfg.label, ": diverged: smoothed loss ", running, " at step ", step + 1, " of ",
                                      total, " is over ", cfg.divergence_factor, "x the first batch's ", first_loss,
                                      "; lower ", lr_option(cfg)));
      if ((step + 1) * points >= next_point * total) {  // evenly spaced; the last is after the final step
        const double acc = evaluate(step + 1);
        log(cfg.label, ": epoch ", epoch + 1, "/", cfg.epochs, " step ", step + 1, "/", total, " loss ", running,
            regression ? " test mse " : " test acc ", regression ? -acc : acc);
        ++next_point;
      }
    }
  }
  if (!kept.empty()) {  // early stopping: back to the best held-out point, and its test predictions
    torch::NoGradGuard no_grad;
    auto params = module.parameters();
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(kept[i]);
    module.eval();
    result.test_probs = predict_probs(forward, x_test, cfg.device, regression);
    module.train();
  }
  result.steps = total;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace w2s
