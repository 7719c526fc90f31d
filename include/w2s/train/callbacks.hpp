#pragma once
/// \file
/// The trainer's built-in callbacks (train/callback.hpp has the interface). The trainer
/// installs the first four itself, from its options:
///   DivergenceGuard  always (TrainConfig::divergence_factor)
///   EvaluationCurve  when it is given an evaluation set
///   EarlyStopping    when TrainConfig::val_fraction > 0
///   ProgressLog      when TrainObservers::log is set
/// BestStep is for users: the early-stopping oracle (students/oracle_stopping.hpp) adds it.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <string>
#include <vector>

#include "w2s/core/seeds.hpp"
#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/metrics/metrics.hpp"
#include "w2s/train/callback.hpp"

namespace w2s {

/// The NaN guard: stops the training (Diverged, naming the stage and step) when a batch's
/// loss or the test predictions are not finite, or when the smoothed loss exceeds
/// TrainConfig::divergence_factor times max(|first batch's loss|, 0.1).
class DivergenceGuard : public Callback {
 public:
  W2S_ENGINE_INLINE void step(TrainState& s) override;
  W2S_ENGINE_INLINE void evaluated(TrainState& s) override;
};

/// The test score at each evaluation point, into FitResult::curve (paper Figs. 7 and 13).
class EvaluationCurve : public Callback {
 public:
  W2S_ENGINE_INLINE void evaluated(TrainState& s) override;
};

/// Honest early stopping (TrainConfig::val_fraction): holds out a fixed draw of the training
/// rows per seed, scores the model on them against their own targets (argmax of soft labels
/// for classification) at each evaluation point, keeps the weights and buffers of the best
/// point, and at the end puts them back, with their test predictions. Records FitResult::validation and
/// FitResult::stopped_step.
class EarlyStopping : public Callback {
 public:
  W2S_ENGINE_INLINE void begin(TrainState& s) override;
  W2S_ENGINE_INLINE void evaluated(TrainState& s) override;
  W2S_ENGINE_INLINE void end(TrainState& s) override;

 private:
  at::Tensor val_x_, val_y_;
  std::vector<at::Tensor> kept_;
};

/// A progress line at each evaluation point to `log`: epoch, step, smoothed loss, test score.
class ProgressLog : public Callback {
 public:
  explicit ProgressLog(const Log& log) : log_(log) {}
  W2S_ENGINE_INLINE void evaluated(TrainState& s) override;

 private:
  const Log& log_;
};

/// The test predictions of the evaluation point with the best test score (the first of
/// equals), as an oracle for when to stop would choose. Starts afresh with each training.
class BestStep : public Callback {
 public:
  void begin(TrainState&) override {
    probs_ = at::Tensor();
    step_ = -1;
  }
  W2S_ENGINE_INLINE void evaluated(TrainState& s) override;
  [[nodiscard]] bool found() const { return step_ >= 0; }
  [[nodiscard]] const at::Tensor& probs() const { return probs_; }
  [[nodiscard]] int64_t step() const { return step_; }
  [[nodiscard]] double score() const { return score_; }

 private:
  at::Tensor probs_;
  double score_ = NAN;
  int64_t step_ = -1;
};

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE void DivergenceGuard::step(TrainState& s) {
  const auto& cfg = s.config;
  if (!std::isfinite(s.loss))
    throw Diverged(cfg.label, s.step, s.loss,
                   detail::concat(cfg.label, ": diverged: loss is ", s.loss, " at step ", s.step, " of ", s.total,
                                  " (epoch ", s.epoch + 1, "); lower ", cfg.lr_option, " or check the targets"));
  if (cfg.divergence_factor > 0 && s.smoothed > cfg.divergence_factor * std::max(std::abs(s.first_loss), 0.1))
    throw Diverged(cfg.label, s.step, s.smoothed,
                   detail::concat(cfg.label, ": diverged: smoothed loss ", s.smoothed, " at step ", s.step, " of ",
                                  s.total, " is over ", cfg.divergence_factor, "x the first batch's ", s.first_loss,
                                  "; lower ", cfg.lr_option));
}

W2S_ENGINE_INLINE void DivergenceGuard::evaluated(TrainState& s) {
  if (s.test_probs.defined() && !s.test_probs.isfinite().all().item<bool>())
    throw Diverged(s.config.label, s.step, NAN,
                   detail::concat(s.config.label, ": diverged: test predictions are not finite after step ", s.step,
                                  "; lower ", s.config.lr_option));
}

W2S_ENGINE_INLINE void EvaluationCurve::evaluated(TrainState& s) {
  if (!s.test_probs.defined()) return;
  s.result.curve.steps.push_back(s.step);
  s.result.curve.score.push_back(s.test_score);
}

W2S_ENGINE_INLINE void EarlyStopping::begin(TrainState& s) {
  const auto& cfg = s.config;
  const int64_t n = s.train.x.size(0);
  auto draw = stream_generator(cfg.seed, Stream::val_holdout);
  const auto perm = at::randperm(n, draw, at::kLong);
  const int64_t n_val = std::max<int64_t>(1, std::llround(cfg.val_fraction * double(n)));
  check(n_val < n, cfg.label, ": ", n, " training rows leave none after holding out ", n_val, " for early stopping");
  s.train_rows = perm.slice(0, n_val);
  val_x_ = s.train.x.index_select(0, perm.slice(0, 0, n_val));
  val_y_ = s.train.y.index_select(0, perm.slice(0, 0, n_val));
  if (!s.regression) val_y_ = val_y_.argmax(1);
  kept_.clear();
}

W2S_ENGINE_INLINE void EarlyStopping::evaluated(TrainState& s) {
  const double held_out = metrics::score(s.predict(val_x_), val_y_);
  auto& v = s.result.validation;
  if (v.score.empty() || held_out > v.best()) {
    torch::NoGradGuard no_grad;
    kept_.clear();
    for (const auto& p : s.module.parameters()) kept_.push_back(p.detach().clone());
    for (const auto& b : s.module.buffers()) kept_.push_back(b.detach().clone());  // e.g. batch-norm statistics
    s.result.stopped_step = s.step;
  }
  v.steps.push_back(s.step);
  v.score.push_back(held_out);
}

W2S_ENGINE_INLINE void EarlyStopping::end(TrainState& s) {
  if (kept_.empty()) return;
  {
    torch::NoGradGuard no_grad;
    auto params = s.module.parameters();
    auto buffers = s.module.buffers();
    check(kept_.size() == params.size() + buffers.size(), s.config.label, ": early stopping kept ", kept_.size(),
          " tensors of a module that now has ", params.size() + buffers.size());
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(kept_[i]);
    for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(kept_[params.size() + i]);
  }
  if (!s.test.empty()) s.result.test_probs = s.predict(s.test.x);
}

W2S_ENGINE_INLINE void ProgressLog::evaluated(TrainState& s) {
  log_(s.config.label, ": epoch ", s.epoch + 1, "/", s.config.epochs, " step ", s.step, "/", s.total, " loss ",
       s.smoothed, s.regression ? " test mse " : " test acc ", s.regression ? -s.test_score : s.test_score);
}

W2S_ENGINE_INLINE void BestStep::evaluated(TrainState& s) {
  if (!s.test_probs.defined()) return;
  if (step_ < 0 || s.test_score > score_) {
    probs_ = s.test_probs;
    score_ = s.test_score;
    step_ = s.step;
  }
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
