#pragma once
/// \file
/// Pretrained backbones: trained once per (dataset, size) without labels and
/// cached, so every experiment binary and seed starts from the same weights.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "w2s/core/cache.hpp"
#include "w2s/core/log.hpp"
#include "w2s/data/dataset.hpp"
#include "w2s/models/augment.hpp"
#include "w2s/models/ladder.hpp"

namespace w2s {

/// A size's pretrained weights: build as many fresh copies as needed with make().
struct PretrainedBackbone {
  LadderSize size;
  std::vector<int64_t> input_shape;
  std::vector<at::Tensor> state;  ///< parameters then buffers, in module order
  std::string key;                ///< the cache hash: names the weights in other keys
  nlohmann::json meta;

  [[nodiscard]] std::shared_ptr<BackboneImpl> make() const {
    auto b = make_backbone(size.backbone, input_shape);
    auto params = b->parameters();
    auto buffers = b->buffers();
    check(state.size() == params.size() + buffers.size(), "pretrained backbone '", size.name,
          "': cached state has ", state.size(), " tensors, expected ", params.size() + buffers.size());
    torch::NoGradGuard no_grad;
    size_t i = 0;
    for (auto& p : params) p.copy_(state[i++]);
    for (auto& p : buffers) p.copy_(state[i++]);
    return b;
  }
};

inline std::vector<int64_t> example_shape(const Dataset& d) {
  auto s = d.inputs.sizes().vec();
  s.erase(s.begin());
  return s;
}

/// Trains `size`'s backbone without labels on `pool.inputs` (PretrainSpec). Smoke runs use the first 2,000 inputs for one epoch.
inline PretrainedBackbone pretrain(const LadderSize& size, const Dataset& pool, const Cache& cache, bool smoke,
                                   torch::Device device, const Log& log) {
  PretrainSpec spec = size.pretrain;
  int64_t n = pool.size();
  if (smoke) {
    spec.epochs = 1;
    spec.min_steps = std::min<int64_t>(spec.min_steps, 20);
    n = std::min<int64_t>(n, 2000);
  }
  const nlohmann::json key = {{"dataset", pool.id()}, {"pool_size", n}, {"size", size.describe()},
                              {"pretrain", spec.describe()}};
  PretrainedBackbone out{size, example_shape(pool), {}, "", {}};
  const auto base = cache.base("backbones", pool.name + "-" + size.name, key);
  out.key = base.filename().string();
  auto artifact = cache.get_or_make(base, [&] {
    const auto start = std::chrono::steady_clock::now();
    torch::manual_seed(1234);
    auto backbone = make_backbone(size.backbone, out.input_shape);
    const int64_t numel = pool.inputs[0].numel();
    check(spec.objective == "dae" || spec.objective == "simclr", "pretraining objective '", spec.objective,
          "' unknown; expected simclr or dae");
    check(spec.objective != "simclr" || pool.inputs.dim() == 4, "simclr pretraining needs N×C×H×W images");
    // simclr: a projection head; dae: a linear decoder back to the input.
    torch::nn::Sequential head;
    if (spec.objective == "simclr")
      head = torch::nn::Sequential(torch::nn::Linear(backbone->features(), 256), torch::nn::ReLU(),
                                   torch::nn::Linear(256, 128));
    else
      head = torch::nn::Sequential(torch::nn::Linear(backbone->features(), numel));
    backbone->to(device);
    head->to(device);
    auto params = backbone->parameters();
    for (auto& p : head->parameters()) params.push_back(p);
    torch::optim::Adam opt(params, torch::optim::AdamOptions(spec.lr));
    auto gen = at::make_generator<at::CPUGeneratorImpl>(4321);
    const auto inputs = pool.inputs.slice(0, 0, n);
    const int64_t per_epoch = (n + spec.batch_size - 1) / spec.batch_size;
    spec.epochs = std::max(spec.epochs, (spec.min_steps + per_epoch - 1) / per_epoch);
    std::vector<double> epoch_loss;
    log("pretraining ", size.name, " (", size.backbone.kind, " ", nlohmann::json(size.backbone.widths).dump(),
        ", ", spec.objective, ") on ", n, " unlabelled inputs for ", spec.epochs, " epochs");
    const auto batch_loss = [&](const at::Tensor& x) {
      if (spec.objective == "simclr") {
        const auto views = at::cat({random_view(x, gen), random_view(x, gen)}).to(device);
        return nt_xent(head->forward(backbone->forward(views)), spec.temperature);
      }
      const auto xd = x.to(device);
      const auto keep = at::rand(x.sizes(), gen).to(device).ge(spec.mask).to(x.scalar_type());
      return (head->forward(backbone->forward(xd * keep)) - xd.flatten(1)).pow(2).mean();
    };
    for (int64_t e = 0; e < spec.epochs; ++e) {
      const auto order = at::randperm(n, gen, at::kLong);
      double sum = 0;
      for (int64_t b = 0; b < per_epoch; ++b) {
        const auto x = inputs.index_select(0, order.slice(0, b * spec.batch_size, std::min(n, (b + 1) * spec.batch_size)));
        opt.zero_grad();
        const auto loss = batch_loss(x);
        loss.backward();
        opt.step();
        sum += loss.item<double>();
      }
      epoch_loss.push_back(sum / double(per_epoch));
      log("pretraining ", size.name, ": epoch ", e + 1, "/", spec.epochs, " ", spec.objective, " loss ", epoch_loss.back());
    }
    backbone->to(at::kCPU);
    Artifact a;
    for (auto& p : backbone->parameters()) a.tensors.push_back(p.detach().clone());
    for (auto& p : backbone->buffers()) a.tensors.push_back(p.detach().clone());
    a.meta = {{"key", key},
              {"epoch_loss", epoch_loss},
              {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
    return a;
  });
  out.state = std::move(artifact.tensors);
  out.meta = std::move(artifact.meta);
  return out;
}

}  // namespace w2s
