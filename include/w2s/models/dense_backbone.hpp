#pragma once
/// \file
/// The dense backbones of the image and table ladders: an MLP on flattened inputs (`mlp`) and a
/// small convolutional network (`conv`), each registered as a model kind (models/model_kind.hpp).
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <memory>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/models/backbone.hpp"
#include "w2s/models/model_kind.hpp"

namespace w2s {

/// Fully connected ReLU network on the flattened input.
class MlpBackbone : public BackboneImpl {
 public:
  W2S_ENGINE_INLINE MlpBackbone(int64_t input_size, const std::vector<int64_t>& widths);
  at::Tensor forward(const at::Tensor& x) override { return net_->forward(x.flatten(1)); }

 private:
  torch::nn::Sequential net_;
};

/// Small convolutional network for C×H×W images: 3×3 convolutions (the first at
/// stride 1, the rest at stride 2), then a fully connected feature layer.
class ConvBackbone : public BackboneImpl {
 public:
  W2S_ENGINE_INLINE ConvBackbone(const std::vector<int64_t>& image_shape, const std::vector<int64_t>& widths);
  at::Tensor forward(const at::Tensor& x) override { return net_->forward(x); }

 private:
  torch::nn::Sequential net_;
};

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE MlpBackbone::MlpBackbone(int64_t input_size, const std::vector<int64_t>& widths) {
  check(!widths.empty(), "mlp backbone: expected at least one hidden width");
  int64_t in = input_size;
  for (const auto w : widths) {
    net_->push_back(torch::nn::Linear(in, w));
    net_->push_back(torch::nn::ReLU());
    flops_ += 2.0 * double(in) * double(w);
    in = w;
  }
  features_ = in;
  register_module("net", net_);
}

W2S_ENGINE_INLINE ConvBackbone::ConvBackbone(const std::vector<int64_t>& image_shape,
                                             const std::vector<int64_t>& widths) {
  check(image_shape.size() == 3, "conv backbone: expected C×H×W image inputs");
  check(widths.size() >= 2, "conv backbone: expected channel widths then a feature width");
  int64_t c = image_shape[0], h = image_shape[1], w = image_shape[2];
  for (size_t i = 0; i + 1 < widths.size(); ++i) {
    const int64_t stride = i == 0 ? 1 : 2;
    net_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(c, widths[i], 3).stride(stride).padding(1)));
    net_->push_back(torch::nn::ReLU());
    h = (h - 1) / stride + 1;
    w = (w - 1) / stride + 1;
    flops_ += 2.0 * double(c) * double(widths[i]) * 9.0 * double(h) * double(w);
    c = widths[i];
  }
  net_->push_back(torch::nn::Flatten());
  net_->push_back(torch::nn::Linear(c * h * w, widths.back()));
  net_->push_back(torch::nn::ReLU());
  flops_ += 2.0 * double(c * h * w) * double(widths.back());
  features_ = widths.back();
  register_module("net", net_);
}

/// The element count of one example of `shape`.
inline int64_t example_numel(const std::vector<int64_t>& shape) {
  int64_t numel = 1;
  for (auto d : shape) numel *= d;
  return numel;
}

inline const bool mlp_kind_registered = register_model_kind(
    {.name = "mlp",
     .description = "fully connected ReLU network on the flattened input (widths: hidden widths)",
     .make = [](const BackboneSpec& spec, const std::vector<int64_t>& shape,
                const Vocabulary*) -> std::shared_ptr<BackboneImpl> {
       return std::make_shared<MlpBackbone>(example_numel(shape), spec.widths);
     },
     .widens_input = true});

inline const bool conv_kind_registered = register_model_kind(
    {.name = "conv",
     .description = "3x3 convolutions on CxHxW images, then a fully connected feature layer",
     .make = [](const BackboneSpec& spec, const std::vector<int64_t>& shape,
                const Vocabulary*) -> std::shared_ptr<BackboneImpl> {
       return std::make_shared<ConvBackbone>(shape, spec.widths);
     }});
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
