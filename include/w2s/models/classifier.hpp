#pragma once
/// \file
/// A backbone with the openai classification head: `Linear(features, classes,
/// bias=false)`, zero-initialised (paper-facts.md, "Defaults of the openai code").
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <memory>

#include "w2s/models/backbone.hpp"

namespace w2s {

class ClassifierImpl : public torch::nn::Module {
 public:
  ClassifierImpl(std::shared_ptr<BackboneImpl> backbone, int64_t classes)
      : backbone_(register_module("backbone", std::move(backbone))),
        head_(register_module("head", torch::nn::Linear(torch::nn::LinearOptions(backbone_->features(), classes).bias(false)))) {
    torch::NoGradGuard no_grad;
    head_->weight.zero_();
  }
  at::Tensor forward(const at::Tensor& x) { return head_->forward(backbone_->forward(x)); }
  /// The backbone's features, for linear probes and few-shot students.
  at::Tensor features(const at::Tensor& x) { return backbone_->forward(x); }
  [[nodiscard]] BackboneImpl& backbone() { return *backbone_; }
  [[nodiscard]] torch::nn::Linear& head() { return head_; }

 private:
  std::shared_ptr<BackboneImpl> backbone_;
  torch::nn::Linear head_;
};
TORCH_MODULE(Classifier);

}  // namespace w2s
