#pragma once
/// \file
/// LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models") for top-k
/// fine-tuning (students/fine_tune.hpp, `--lora-rank`): each adapted linear layer's weight W
/// (out × in) stays frozen and the layer computes with W + (alpha / r)·B·A, where A (r × in)
/// and B (out × r) are the only weights of the layer that train. As PEFT initialises them:
/// A like a fresh nn.Linear's weight (Kaiming uniform, a = √5: U(−1/√in, 1/√in)), B zero, so
/// training starts from the pretrained model exactly. No dropout on the adapter's input (the
/// framework's models have none). Biases and LayerNorms stay frozen, as PEFT's bias="none".
///
/// The adapted layers are torch::nn::Linear modules; their forward reads the module's `weight`
/// member, which apply() sets to the merged weight before each forward (the registered
/// parameter keeps the frozen W), so the models need no adapter-aware code.
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"

namespace w2s {

/// What LoRA adapts and how: `rank` 0 = off.
struct LoraOptions {
  int64_t rank = 0;
  double alpha = 16;  ///< the update is scaled by alpha / rank
  /// Names of the linear layers to adapt (the last part of a module name: "query", "value",
  /// "dense", "q", ...); empty = every linear layer of the adapted layers.
  std::vector<std::string> targets;
  [[nodiscard]] bool on() const { return rank > 0; }
  [[nodiscard]] W2S_ENGINE_INLINE nlohmann::json describe() const;
};

/// The adapters of a set of linear layers: their A and B (parameters "A_<i>", "B_<i>"); the
/// frozen weights stay the layers' own (registered) parameters, not trained.
class LoraAdaptersImpl : public torch::nn::Module {
 public:
  /// Adapts each of `linears` (name, module) whose name's last part is in `options.targets`
  /// (every one when empty); none matching is an error naming what there was.
  W2S_ENGINE_INLINE LoraAdaptersImpl(
      const std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>>& modules,
      const LoraOptions& options);
  /// Sets each adapted layer's weight to W + (alpha / r)·B·A (with gradients to A and B).
  W2S_ENGINE_INLINE void apply();
  [[nodiscard]] const std::vector<std::string>& names() const { return names_; }

 private:
  struct Adapted {
    std::shared_ptr<torch::nn::LinearImpl> linear;
    at::Tensor frozen, a, b;
  };
  std::vector<Adapted> adapted_;
  std::vector<std::string> names_;
  double scale_ = 1;
};
TORCH_MODULE(LoraAdapters);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE nlohmann::json LoraOptions::describe() const {
  nlohmann::json j = {{"rank", rank}, {"alpha", alpha}};
  if (!targets.empty()) j["targets"] = targets;
  return j;
}

W2S_ENGINE_INLINE LoraAdaptersImpl::LoraAdaptersImpl(
    const std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>>& modules, const LoraOptions& options)
    : scale_(options.alpha / double(options.rank)) {
  check(options.rank > 0, "--lora-rank: expected a rank >= 1, got ", options.rank);
  check(options.alpha > 0, "--lora-alpha: expected a number > 0, got ", options.alpha);
  std::string seen;
  for (const auto& [name, module] : modules) {
    auto linear = std::dynamic_pointer_cast<torch::nn::LinearImpl>(module);
    if (!linear) continue;
    const std::string last = name.substr(name.rfind('.') + 1);
    seen += (seen.empty() ? "" : ", ") + name;
    if (!options.targets.empty() &&
        std::find(options.targets.begin(), options.targets.end(), last) == options.targets.end())
      continue;
    const int64_t out = linear->weight.size(0), in = linear->weight.size(1);
    check(options.rank <= std::min(out, in), "--lora-rank ", options.rank, ": larger than the layer '", name, "' (",
          out, " x ", in, ")");
    const std::string i = std::to_string(adapted_.size());
    Adapted a{linear, linear->weight, register_parameter("A_" + i, at::empty({options.rank, in})),
              register_parameter("B_" + i, at::zeros({out, options.rank}))};
    {
      at::NoGradGuard no_grad;
      const double bound = 1.0 / std::sqrt(double(in));  // kaiming_uniform_(a=√5) on an r × in weight
      a.a.uniform_(-bound, bound);
    }
    linear->weight.requires_grad_(false);
    if (linear->bias.defined()) linear->bias.requires_grad_(false);
    adapted_.push_back(std::move(a));
    names_.push_back(name);
  }
  check(!adapted_.empty(), "--lora-targets: no linear layer matches (the adapted layers have: ", seen, ")");
}

W2S_ENGINE_INLINE void LoraAdaptersImpl::apply() {
  for (auto& a : adapted_) a.linear->weight = a.frozen + scale_ * at::mm(a.b, a.a);
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
