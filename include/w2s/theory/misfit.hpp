#pragma once
/// \file
/// The regression setting of Charikar, Pabbaraju & Shiragur (NeurIPS 2024),
/// "Quantifying the gain in weak-to-strong generalization": a target
/// representation h* (a random, frozen 5-layer ReLU MLP 8→16→…→16) with linear
/// heads; x ~ N(0, 500² I₈). A strong representation h_s (8-layer MLP) and a weak
/// one h_w (2-layer MLP) are learned on 10 random heads at once and frozen. Per
/// transfer task (a new random head a, target y = a·h*(x)):
///   f_w  = least squares of y on h_w over the weak split           (weak model)
///   g    = f_w∘h_w on the transfer split                            (weak labels)
///   f_sw = least squares of g on h_s over the transfer split        (w2s model)
///   f_s  = least squares of y on h_s over the transfer split        (strong ceiling)
/// and, on a split, err_weak = E(g − y)², err_w2s = E(f_sw∘h_s − y)²,
/// misfit = E(f_sw∘h_s − g)², gain = err_weak − err_w2s.
///
/// Heads are affine maps of fixed features, a linear space, so least squares is an
/// orthogonal projection P. With r = y − P y (the ceiling's residual, ε_s = E r²)
/// one gets exactly, on the split where the projections are taken:
///   gain = misfit − 2⟨g − f_sw∘h_s, r⟩ ≥ misfit − 2·√(misfit · ε_s)
/// (Cauchy–Schwarz). The theorem's gain ≥ misfit is the realisable case ε_s = 0;
/// 2√(misfit·ε_s) is the tolerance the tests use.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/activation.h>
#include <torch/optim/adam.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <vector>

#include "w2s/core/seeds.hpp"
#include "w2s/core/log.hpp"
#include "w2s/theory/affine_head.hpp"

namespace w2s::theory {

struct CharikarOptions {
  int64_t input_dim = 8, width = 16;
  int64_t target_depth = 5, strong_depth = 8, weak_depth = 2;
  double input_std = 500;
  int64_t pretrain_heads = 10, n_pretrain = 20000, pretrain_epochs = 300, batch_size = 256;
  double lr = 1e-3;
  int64_t n_weak = 2000, n_transfer = 2000, n_test = 10000;
  uint64_t seed = 0;
  [[nodiscard]] nlohmann::json describe() const {
    return {{"input_dim", input_dim}, {"width", width}, {"target_depth", target_depth},
            {"strong_depth", strong_depth}, {"weak_depth", weak_depth}, {"input_std", input_std},
            {"pretrain_heads", pretrain_heads}, {"n_pretrain", n_pretrain}, {"pretrain_epochs", pretrain_epochs},
            {"batch_size", batch_size}, {"lr", lr}, {"n_weak", n_weak}, {"n_transfer", n_transfer},
            {"n_test", n_test}, {"seed", seed}};
  }
};

/// An MLP in→width→…→width with `depth` linear layers, ReLU between and after each.
inline torch::nn::Sequential relu_mlp(int64_t in, int64_t width, int64_t depth) {
  torch::nn::Sequential net;
  for (int64_t i = 0; i < depth; ++i) {
    net->push_back(torch::nn::Linear(i == 0 ? in : width, width));
    net->push_back(torch::nn::ReLU());
  }
  return net;
}

/// The numbers of one transfer task on one split.
struct TaskResult {
  double err_weak = 0, err_w2s = 0, err_ceiling = 0, misfit = 0;
  [[nodiscard]] double gain() const { return err_weak - err_w2s; }
  /// 2·√(misfit·ε_s): how far below the misfit the gain may fall when h_s cannot represent y exactly.
  [[nodiscard]] double tolerance() const { return 2.0 * std::sqrt(misfit * err_ceiling); }
};

/// The setting, with its representations learned once.
class CharikarSetting {
 public:
  explicit CharikarSetting(CharikarOptions o, const Log& log) : o_(o) {
    torch::manual_seed(o_.seed);
    gen_ = stream_generator(o_.seed, Stream::misfit_data);
    target_ = relu_mlp(o_.input_dim, o_.width, o_.target_depth);
    const auto pool = sample_x(o_.n_pretrain);
    {
      at::NoGradGuard no_grad;
      // one global scale makes the targets O(1) for training; all errors share it
      scale_ = target_->forward(pool).std().item<double>();
    }
    strong_ = learn(relu_mlp(o_.input_dim, o_.width, o_.strong_depth), pool, "strong", log);
    weak_ = learn(relu_mlp(o_.input_dim, o_.width, o_.weak_depth), pool, "weak", log);
    x_weak_ = sample_x(o_.n_weak);
    x_transfer_ = sample_x(o_.n_transfer);
    x_test_ = sample_x(o_.n_test);
  }

  /// One transfer task with a new random head: its numbers on the transfer split
  /// (where the projections are taken) and on the test split.
  std::pair<TaskResult, TaskResult> task() {
    const auto a = at::randn({o_.width}, gen_, at::TensorOptions().dtype(at::kDouble));
    const auto y = [&](const at::Tensor& x) { return target_features(x).matmul(a); };
    const auto hw = [&](const at::Tensor& x) { return features(weak_, x); };
    const auto hs = [&](const at::Tensor& x) { return features(strong_, x); };
    const auto f_w = fit_head(hw(x_weak_), y(x_weak_));
    const auto g_transfer = apply_head(hw(x_transfer_), f_w);
    const auto f_sw = fit_head(hs(x_transfer_), g_transfer);
    const auto f_s = fit_head(hs(x_transfer_), y(x_transfer_));
    const auto on = [&](const at::Tensor& x) {
      const auto yy = y(x), g = apply_head(hw(x), f_w), sw = apply_head(hs(x), f_sw), s = apply_head(hs(x), f_s);
      const auto mse = [](const at::Tensor& u, const at::Tensor& v) { return (u - v).pow(2).mean().item<double>(); };
      return TaskResult{mse(g, yy), mse(sw, yy), mse(s, yy), mse(sw, g)};
    };
    return {on(x_transfer_), on(x_test_)};
  }

  /// Mean squared error of the learned representations on the pretraining heads (how well they were learned).
  [[nodiscard]] const nlohmann::json& pretraining() const { return pretraining_; }

 private:
  at::Tensor sample_x(int64_t n) {
    return at::randn({n, o_.input_dim}, gen_, at::TensorOptions().dtype(at::kFloat)) * o_.input_std;
  }
  at::Tensor target_features(const at::Tensor& x) {
    at::NoGradGuard no_grad;
    return (target_->forward(x) / scale_).to(at::kDouble);
  }
  /// Learned representations see x / input_std: a fixed input scaling, part of the architecture.
  at::Tensor features(torch::nn::Sequential& net, const at::Tensor& x) {
    at::NoGradGuard no_grad;
    net->eval();
    return net->forward(x / o_.input_std);
  }
  torch::nn::Sequential learn(torch::nn::Sequential net, const at::Tensor& pool, const std::string& which, const Log& log) {
    const auto heads = at::randn({o_.width, o_.pretrain_heads}, gen_, at::TensorOptions().dtype(at::kFloat));
    at::Tensor targets;
    {
      at::NoGradGuard no_grad;
      targets = target_->forward(pool) / scale_;
      targets = targets.matmul(heads);
    }
    torch::nn::Linear head(o_.width, o_.pretrain_heads);
    auto params = net->parameters();
    for (auto& p : head->parameters()) params.push_back(p);
    torch::optim::Adam opt(params, torch::optim::AdamOptions(o_.lr));
    const int64_t n = pool.size(0), per_epoch = (n + o_.batch_size - 1) / o_.batch_size;
    double last = 0;
    for (int64_t e = 0; e < o_.pretrain_epochs; ++e) {
      const auto order = at::randperm(n, gen_, at::kLong);
      double sum = 0;
      for (int64_t b = 0; b < per_epoch; ++b) {
        const auto idx = order.slice(0, b * o_.batch_size, std::min(n, (b + 1) * o_.batch_size));
        opt.zero_grad();
        const auto loss = (head->forward(net->forward(pool.index_select(0, idx) / o_.input_std)) -
                           targets.index_select(0, idx)).pow(2).mean();
        loss.backward();
        opt.step();
        sum += loss.item<double>();
      }
      last = sum / double(per_epoch);
    }
    log("learned the ", which, " representation on ", o_.pretrain_heads, " heads: mse ", last,
        " (target variance ", targets.var().item<double>(), ")");
    pretraining_[which] = {{"mse", last}, {"target_variance", targets.var().item<double>()}};
    return net;
  }

  CharikarOptions o_;
  at::Generator gen_;
  torch::nn::Sequential target_{nullptr}, strong_{nullptr}, weak_{nullptr};
  double scale_ = 1;
  at::Tensor x_weak_, x_transfer_, x_test_;
  nlohmann::json pretraining_;
};

/// Pearson correlation of two equally long samples.
inline double correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const auto ta = at::tensor(a, at::kDouble), tb = at::tensor(b, at::kDouble);
  const auto da = ta - ta.mean(), db = tb - tb.mean();
  return ((da * db).sum() / (da.norm() * db.norm()).clamp_min(1e-300)).item<double>();
}

}  // namespace w2s::theory
