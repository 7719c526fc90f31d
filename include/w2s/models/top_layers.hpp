#pragma once
/// \file
/// Top-k fine-tuning's model (students/fine_tune.hpp): the top layers of a layered encoder
/// (LayeredBackbone, models/backbone.hpp) and the openai head, trained on the states the frozen
/// lower layers computed once per text (models/feature_store.hpp).
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include <memory>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/models/backbone.hpp"
#include "w2s/models/lora.hpp"

namespace w2s {

class TopLayersImpl : public torch::nn::Module {
 public:
  /// The layers of `encoder` from `from` on train (the rest are frozen), with a zero-initialised
  /// bias-free head to `classes` outputs. `encoder` must be a LayeredBackbone. With `lora` on,
  /// those layers stay frozen too and their linear layers get LoRA adapters (models/lora.hpp):
  /// the adapters and the head train.
  W2S_ENGINE_INLINE TopLayersImpl(std::shared_ptr<BackboneImpl> encoder, int64_t from, int64_t classes,
                                  const LoraOptions& lora = {});
  /// packed: the encoder's lower() states of layer `from`.
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& packed);

 private:
  std::shared_ptr<BackboneImpl> encoder_;
  LayeredBackbone* layers_;
  torch::nn::Linear head_;
  int64_t from_;
  LoraAdapters lora_{nullptr};
};

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE TopLayersImpl::TopLayersImpl(std::shared_ptr<BackboneImpl> encoder, int64_t from, int64_t classes,
                                               const LoraOptions& lora)
    : encoder_(register_module("encoder", std::move(encoder))),
      layers_(layered(*encoder_)),
      head_(register_module("head",
                            torch::nn::Linear(torch::nn::LinearOptions(encoder_->features(), classes).bias(false)))),
      from_(from) {
  check(layers_ != nullptr, "top layers: the backbone's layers do not split (not a LayeredBackbone)");
  torch::NoGradGuard no_grad;
  head_->weight.zero_();
  if (!lora.on()) {
    layers_->train_only_from(from);
    return;
  }
  layers_->train_only_from(layers_->layers());  // every encoder weight frozen
  const auto modules = layers_->layer_modules(from);
  check(!modules.empty(),
        "--lora-rank: this backbone does not name its layers' modules (LayeredBackbone::layer_modules)");
  lora_ = register_module("lora", LoraAdapters(modules, lora));
}

W2S_ENGINE_INLINE at::Tensor TopLayersImpl::forward(const at::Tensor& packed) {
  if (lora_) lora_->apply();
  return head_->forward(layers_->upper(packed, from_, /*chunk=*/32));
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
