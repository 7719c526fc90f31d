#pragma once
/// \file
/// Backbones: torch modules that map a batch of inputs to N×features. Models are
/// runtime choices (a named size on a ladder), so backbones are polymorphic
/// torch modules; policies never are.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/activation.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"

namespace w2s {

/// What a backbone is: an architecture family and its widths. Serialised into
/// every cache key, so two sizes never share a cached artefact.
struct BackboneSpec {
  std::string kind;             ///< mlp, conv, bow, glove-mlp, glove-transformer or gpt2 (models/factory.hpp)
  std::vector<int64_t> widths;  ///< hidden widths (mlp); channels then feature width (conv); see each backbone
  std::string checkpoint;       ///< gpt2: the Hugging Face checkpoint folder

  [[nodiscard]] nlohmann::json describe() const {
    nlohmann::json j = {{"kind", kind}, {"widths", widths}};
    if (!checkpoint.empty()) j["checkpoint"] = checkpoint;
    return j;
  }
};

/// Base of every backbone: inputs → N×features().
class BackboneImpl : public torch::nn::Module {
 public:
  virtual at::Tensor forward(const at::Tensor& x) = 0;
  [[nodiscard]] int64_t features() const { return features_; }
  /// Multiply-adds ×2 of one example's forward pass (for benchmarks' GFLOP/s).
  [[nodiscard]] double forward_flops() const { return flops_; }

 protected:
  int64_t features_ = 0;  ///< set by the constructor of each backbone
  double flops_ = 0;
};

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
#if W2S_ENGINE_DEFINITIONS
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
#endif  // W2S_ENGINE_DEFINITIONS

}  // namespace w2s
