#pragma once
/// \file
/// The one training loop every stage uses (weak supervisor, ceiling, student,
/// linear probe): Adam, cosine learning rate per batch, the loss over the whole
/// batch. Everything else is a callback (train/callback.hpp, train/callbacks.hpp): the
/// test-score curve at evenly spaced steps (paper Figs. 7, 13), early stopping on held-out
/// rows, the divergence guard, progress lines, and whatever a student adds (the oracle's
/// best step).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/module.h>
#include <torch/types.h>

#include <chrono>
#include <functional>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "w2s/core/seeds.hpp"
#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/metrics/metrics.hpp"
#include "w2s/train/callback.hpp"
#include "w2s/train/callbacks.hpp"
#include "w2s/train/predict.hpp"

// What only the definitions use (the optimiser, the schedule, CUDA autocast): kept out of the
// translation units that link the compiled engine, which then parse less of LibTorch
// (docs/performance.md).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
#include <ATen/autocast_mode.h>
#include <torch/optim/adam.h>

#include "w2s/train/cosine.hpp"
#endif

namespace w2s {

/// The loss to train with: `loss.for_training_set(targets)` where a loss fixes statistics
/// of the whole training set before the first step (Window's "midweak" radius), else `loss`.
template <class LossFn>
auto for_training_set(const LossFn& loss, const at::Tensor& targets) {
  if constexpr (requires { loss.for_training_set(targets); })
    return loss.for_training_set(targets);
  else
    return loss;
}

/// A loss as the training loop calls it: (outputs, targets, progress) → a scalar.
using LossFunction = std::function<at::Tensor(const at::Tensor&, const at::Tensor&, TrainProgress)>;

/// A loss of any type as the compiled engine takes it: the training targets → the loss to train
/// with (for_training_set). Students hand their Loss to the engine as one (loss_maker).
using LossMaker = std::function<LossFunction(const at::Tensor&)>;

/// `loss` as a LossMaker (a copy of it: the maker outlives the caller's frame).
template <class LossFn>
LossMaker loss_maker(const LossFn& loss) {
  return [loss](const at::Tensor& targets) -> LossFunction { return for_training_set(loss, targets); };
}

/// The training loop, compiled once into the engine (core/engine.hpp) for every loss: as
/// train_module, with `make_loss(training targets)` giving the loss to train with.
W2S_ENGINE_INLINE FitResult train_loop(torch::nn::Module& module, const ForwardFn& forward, const Examples& train,
                                       const LossMaker& make_loss, const TrainConfig& cfg, const Examples& test = {},
                                       const TrainObservers& observers = {});

/// Trains `module` (all its parameters) so that `loss(forward(train.x), train.y, progress)`
/// falls, with Adam and a cosine learning rate, as `cfg` says. With an evaluation set
/// (`test`: inputs and labels) the model is evaluated `cfg.eval_points` times, evenly
/// spaced, the last after the final step. The built-in callbacks (train/callbacks.hpp) and
/// then `observers` watch it; the guard throws Diverged naming the stage and step.
/// Only the loss is the caller's type: the loop (train_loop) is compiled once.
template <class LossFn>
FitResult train_module(torch::nn::Module& module, const ForwardFn& forward, const Examples& train,
                       const LossFn& loss_fn, const TrainConfig& cfg, const Examples& test = {},
                       const TrainObservers& observers = {}) {
  return train_loop(module, forward, train, loss_maker(loss_fn), cfg, test, observers);
}

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
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

W2S_ENGINE_INLINE FitResult train_loop(torch::nn::Module& module, const ForwardFn& forward, const Examples& train,
                                       const LossMaker& make_loss, const TrainConfig& cfg, const Examples& test,
                                       const TrainObservers& observers) {
  const auto& x = train.x;
  const auto& targets = train.y;
  check(x.size(0) == targets.size(0), cfg.label, ": ", x.size(0), " inputs but ", targets.size(0), " targets");
  check(x.size(0) > 0, cfg.label, ": no training examples");
  check(cfg.epochs >= 1 && cfg.batch_size >= 1 && cfg.lr > 0, cfg.label,
        ": expected epochs >= 1, batch size >= 1, lr > 0");
  check(cfg.val_fraction >= 0 && cfg.val_fraction < 1, cfg.label, ": validation share must be in [0, 1), got ",
        cfg.val_fraction);
  const auto start = std::chrono::steady_clock::now();
  FitResult result;
  TrainState s{cfg, module, forward, train, test, !test.empty() && metrics::is_regression(test.y), {}, 0, 0, 0, 0, 0,
               0, {}, NAN, result};
  std::vector<std::shared_ptr<Callback>> callbacks = {std::make_shared<DivergenceGuard>()};
  if (!test.empty()) callbacks.push_back(std::make_shared<EvaluationCurve>());
  if (cfg.val_fraction > 0) callbacks.push_back(std::make_shared<EarlyStopping>());
  if (observers.log) callbacks.push_back(std::make_shared<ProgressLog>(*observers.log));
  callbacks.insert(callbacks.end(), observers.callbacks.begin(), observers.callbacks.end());
  for (auto& c : callbacks) c->begin(s);

  const auto& rows = s.train_rows;  // undefined: every row trains
  const int64_t n = rows.defined() ? rows.size(0) : x.size(0);
  const LossFunction loss = make_loss(rows.defined() ? targets.index_select(0, rows) : targets);
  const int64_t per_epoch = (n + cfg.batch_size - 1) / cfg.batch_size;
  const int64_t total = per_epoch * cfg.epochs;
  s.total = total;
  const int64_t points = std::max<int64_t>(1, std::min(cfg.eval_points, total));
  module.to(cfg.device);
  torch::optim::Adam opt(module.parameters(), torch::optim::AdamOptions(cfg.lr));
  CosineSchedule schedule(opt, cfg.lr, total);
  auto gen = stream_generator(cfg.seed, Stream::train_order);
  int64_t step = 0, next_point = 1;
  module.train();
  for (int64_t epoch = 0; epoch < cfg.epochs; ++epoch) {
    const auto order = rows.defined() ? rows.index_select(0, at::randperm(n, gen, at::kLong))
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
      opt.zero_grad();
      double value = 0;
      if (micro == in_batch) {
        const at::Tensor l = loss(out_of(idx).to(at::kFloat), tb, TrainProgress{step, total});
        value = l.item<double>();
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
        value = l.item<double>();
        l.backward();
        const auto grad = outputs.grad();
        for (int64_t m = 0; m < in_batch; m += micro) {
          const int64_t end = std::min(in_batch, m + micro);
          out_of(idx.slice(0, m, end)).to(at::kFloat).backward(grad.slice(0, m, end));
        }
      }
      if (std::isfinite(value)) {  // a non-finite loss never reaches the weights: the guard stops first
        opt.step();
        schedule.step();
      }
      if (step == 0) s.first_loss = value;
      s.smoothed = step == 0 ? value : 0.98 * s.smoothed + 0.02 * value;
      s.loss = value;
      s.step = step + 1;
      s.epoch = epoch;
      for (auto& c : callbacks) c->step(s);
      if ((step + 1) * points >= next_point * total) {  // evenly spaced; the last is after the final step
        if (!test.empty()) {
          s.test_probs = result.test_probs = s.predict(test.x);
          s.test_score = metrics::score(s.test_probs, test.y);
        }
        for (auto& c : callbacks) c->evaluated(s);
        ++next_point;
      }
    }
  }
  for (auto& c : callbacks) c->end(s);
  result.steps = total;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
