#pragma once
/// \file
/// Pretrained backbones: trained once per (dataset, size) without labels and
/// cached, so every experiment binary and seed starts from the same pretrained weights
/// (sizes without pretraining draw their initialisation per seed: PretrainedBackbone::for_seed).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/modules/linear.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "w2s/core/seeds.hpp"
#include "w2s/core/engine.hpp"
#include "w2s/core/cache.hpp"
#include "w2s/core/log.hpp"
#include "w2s/data/dataset.hpp"
#include "w2s/models/augment.hpp"
#include "w2s/models/factory.hpp"
#include "w2s/models/ladder.hpp"
#include "w2s/models/model_kind.hpp"
#include "w2s/train/trainer.hpp"

#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)  // only the definitions train (the heads, the optimiser)
#include <torch/nn/modules/container/sequential.h>
#include <torch/optim/adam.h>
#endif

namespace w2s {

/// A size's pretrained weights: build as many fresh copies as needed with make().
struct PretrainedBackbone {
  LadderSize size;
  std::vector<int64_t> input_shape;
  std::vector<at::Tensor> state;  ///< parameters then buffers, in module order
  std::string key;                ///< the cache hash: names the weights in other keys
  nlohmann::json meta;
  std::shared_ptr<const Vocabulary> vocab;  ///< text: the ids the weights embed
  /// The backbone's parameter count (head excluded), once count_parameters() has set it: the
  /// records' sizes.*.parameters, Fig. 3's x axis. 0 = not counted.
  int64_t parameters = 0;

  /// Sets `parameters` from a model made of these weights (a checkpoint is loaded once for it).
  W2S_ENGINE_INLINE void count_parameters();

  /// A copy of the weights. For inputs of another `shape` (a table with the weak
  /// label appended as features, docs/roles.md#labelsource) an MLP is widened:
  /// the pretrained weights fill the leading block of the first layer and the new
  /// inputs' weights keep a fresh layer's random initialisation, so frozen
  /// features still carry them.
  [[nodiscard]] W2S_ENGINE_INLINE std::shared_ptr<BackboneImpl> make(const std::vector<int64_t>& shape = {}) const;

  /// The weights a run of `seed` starts from. A size with no pretraining of its own (objective
  /// "none": the bag of words, the GloVe models' layers above their given word vectors) has a
  /// random initialisation as its only "pretraining", and that draw is part of what a seed
  /// samples: a copy with those weights drawn afresh from `seed` (the GloVe rows as given), under
  /// a key of its own. Pretrained sizes (an objective of their own, a checkpoint) are one fixed
  /// model, as the paper's checkpoints are: itself (docs/results.md, "What an interval covers").
  [[nodiscard]] W2S_ENGINE_INLINE PretrainedBackbone for_seed(uint64_t seed) const;
};

W2S_ENGINE_INLINE std::vector<int64_t> example_shape(const Dataset& d);

/// Trains `size`'s backbone without labels on `pool.inputs` (PretrainSpec). Smoke runs use the first 2,000 inputs for
/// one epoch.
W2S_ENGINE_INLINE PretrainedBackbone pretrain(const LadderSize& size, const Dataset& pool, const Cache& cache,
                                              bool smoke, torch::Device device, const Log& log);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE std::shared_ptr<BackboneImpl> PretrainedBackbone::make(const std::vector<int64_t>& shape) const {
  const auto& kind = model_kind(size.backbone.kind);
  if (kind.checkpoint)  // weights: the checkpoint
    return make_backbone(size.backbone, input_shape, vocab.get());
  const bool widen = !shape.empty() && shape != input_shape && kind.widens_input;
  auto b = make_backbone(size.backbone, widen ? shape : input_shape, vocab.get());
  auto params = b->parameters();
  auto buffers = b->buffers();
  check(state.size() == params.size() + buffers.size(), "pretrained backbone '", size.name, "': cached state has ",
        state.size(), " tensors, expected ", params.size() + buffers.size());
  torch::NoGradGuard no_grad;
  size_t i = 0;
  const auto load = [&](at::Tensor& target, const at::Tensor& source) {
    if (target.sizes() == source.sizes()) return void(target.copy_(source));
    check(widen && target.dim() == 2 && source.dim() == 2 && target.size(0) == source.size(0) &&
              target.size(1) >= source.size(1),
          "pretrained backbone '", size.name, "': weights of shape ", source.sizes(), " do not fit inputs of shape ",
          at::IntArrayRef(shape), " (pretrained on ", at::IntArrayRef(input_shape), ")");
    target.slice(1, 0, source.size(1)).copy_(source);
    // The new inputs' weights: a fresh layer's U(±1/√fan_in), drawn from a generator
    // seeded by the weights and the shape, so every copy (train and test features,
    // the student's model) reads the appended inputs the same way.
    auto gen = at::make_generator<at::CPUGeneratorImpl>(
        std::stoull(stable_hash(key + nlohmann::json(shape).dump()).substr(0, 12), nullptr, 16));
    const double bound = 1.0 / std::sqrt(static_cast<double>(target.size(1)));
    target.slice(1, source.size(1))
        .copy_(at::empty({target.size(0), target.size(1) - source.size(1)}).uniform_(-bound, bound, gen));
  };
  for (auto& p : params) load(p, state[i++]);
  for (auto& p : buffers) load(p, state[i++]);
  return b;
}

W2S_ENGINE_INLINE void PretrainedBackbone::count_parameters() {
  int64_t n = 0;
  for (const auto& p : make()->parameters()) n += p.numel();
  parameters = n;
}

W2S_ENGINE_INLINE PretrainedBackbone PretrainedBackbone::for_seed(uint64_t seed) const {
  if (size.pretrain.objective != "none" || model_kind(size.backbone.kind).checkpoint) return *this;
  PretrainedBackbone out = *this;
  // The global generator: the student seeds it again before use.
  torch::manual_seed(stream_seed(seed, Stream::backbone_init));
  auto fresh = make_backbone(size.backbone, input_shape, vocab.get());
  out.state.clear();
  for (auto& p : fresh->parameters()) out.state.push_back(p.detach().clone());
  for (auto& b : fresh->buffers()) out.state.push_back(b.detach().clone());
  out.key = key + "-init" + std::to_string(seed);
  return out;
}

W2S_ENGINE_INLINE std::vector<int64_t> example_shape(const Dataset& d) {
  auto s = d.inputs.sizes().vec();
  s.erase(s.begin());
  return s;
}

W2S_ENGINE_INLINE PretrainedBackbone pretrain(const LadderSize& size, const Dataset& pool, const Cache& cache,
                                              bool smoke, torch::Device device, const Log& log) {
  PretrainSpec spec = size.pretrain;
  int64_t n = pool.size();
  if (smoke) {
    spec.epochs = 1;
    spec.min_steps = std::min<int64_t>(spec.min_steps, 20);
    n = std::min<int64_t>(n, 2000);
  }
  nlohmann::json key = {{"dataset", pool.id()}, {"pool_size", n}, {"size", size.describe()},
                        {"pretrain", spec.describe()}};
  if (pool.vocab) {  // text weights hold the vocabulary's GloVe rows: a new tokenizer is a new backbone
    std::string words;
    for (const auto& w : pool.vocab->words) words += w + "\n";
    key["vocab"] = {{"size", pool.vocab->size()}, {"hash", stable_hash(words)}};
  }
  PretrainedBackbone out{size, example_shape(pool), {}, "", {}, pool.vocab};
  if (const auto& kind = model_kind(size.backbone.kind); kind.checkpoint) {
    // A checkpoint is already pretrained: named by the bytes of its files, nothing to train.
    const auto dir = std::filesystem::weakly_canonical(size.backbone.checkpoint);
    const std::string id = kind.checkpoint_id(dir);
    out.key = kind.name + "-" + stable_hash(id);
    if (!size.backbone.pooling.empty()) out.key += "-" + size.backbone.pooling;  // other features, same weights
    out.meta = {{"checkpoint", dir.string()}, {"files", id}};
    log("backbone ", size.name, ": ", kind.name, " checkpoint ", dir.string());
    return out;
  }
  const auto base = cache.base("backbones", pool.name + "-" + size.name, key);
  out.key = base.filename().string();
  auto artifact = cache.get_or_make(base, [&] {
    const auto start = std::chrono::steady_clock::now();
    torch::manual_seed(1234);
    auto backbone = make_backbone(size.backbone, out.input_shape, pool.vocab.get());
    const int64_t numel = pool.inputs[0].numel();
    check(spec.objective == "dae" || spec.objective == "simclr" || spec.objective == "regress" ||
              spec.objective == "none",
          "pretraining objective '", spec.objective, "' unknown; expected simclr, dae, regress or none");
    check(spec.objective != "simclr" || pool.inputs.dim() == 4, "simclr pretraining needs N×C×H×W images");
    check(spec.objective != "dae" || at::isFloatingType(pool.inputs.scalar_type()), "dae pretraining: dataset '",
          pool.name, "' has ", pool.inputs.scalar_type(), " inputs (token ids?); the autoencoder needs real values");
    check(spec.objective != "regress" || pool.pretrain_targets.defined(), "regress pretraining: dataset '", pool.name,
          "' has no pretraining targets");
    if (spec.objective == "none") spec.epochs = spec.min_steps = 0;  // the pretrained part (GloVe) is given
    // simclr: a projection head; dae: a linear decoder back to the input; regress: a linear head to the other tasks.
    torch::nn::Sequential head;
    if (spec.objective == "simclr")
      head = torch::nn::Sequential(torch::nn::Linear(backbone->features(), 256), torch::nn::ReLU(),
                                   torch::nn::Linear(256, 128));
    else if (spec.objective == "regress")
      head = torch::nn::Sequential(torch::nn::Linear(backbone->features(), pool.pretrain_targets.size(1)));
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
    if (spec.epochs > 0)
      log("pretraining ", size.name, " (", size.backbone.kind, " ", nlohmann::json(size.backbone.widths).dump(),
        ", ", spec.objective, ") on ", n, " unlabelled inputs for ", spec.epochs, " epochs");
    const auto batch_loss = [&](const at::Tensor& x, const at::Tensor& idx) {
      if (spec.objective == "regress")
        return (head->forward(backbone->forward(x.to(device))) - pool.pretrain_targets.index_select(0, idx).to(device))
            .pow(2)
            .mean();
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
        const auto idx = order.slice(0, b * spec.batch_size, std::min(n, (b + 1) * spec.batch_size));
        opt.zero_grad();
        const auto loss = batch_loss(inputs.index_select(0, idx), idx);
        const double value = loss.item<double>();
        if (!std::isfinite(value))  // nothing is cached: the exception leaves get_or_make before store
          throw Diverged("pretraining " + size.name, e * per_epoch + b + 1, value,
                         detail::concat("pretraining ", size.name, " on '", pool.name, "': diverged: ", spec.objective,
                                        " loss is ", value, " at epoch ", e + 1, ", batch ", b + 1,
                                        "; nothing was cached"));
        loss.backward();
        opt.step();
        sum += value;
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
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
