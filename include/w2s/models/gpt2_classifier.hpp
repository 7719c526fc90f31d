#pragma once
/// \file
/// GPT-2 with the classification head of the openai weak-to-strong code: a bias-free
/// Linear(n_embd, classes), zero-initialised, applied to the final hidden state of the
/// last real token of each sequence (the openai code picks index len-1 with len the
/// count of non-padding tokens; with right padding and causal attention that state never
/// sees the padding, so padded and unpadded batches give the same logits).
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <filesystem>
#include <utility>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/models/gpt2.hpp"

namespace w2s {

class Gpt2ClassifierImpl : public torch::nn::Module {
  static int64_t checked_classes(int64_t classes) {
    check(classes >= 1, "gpt2 classifier: expected at least one class, got ", classes);
    return classes;
  }

 public:
  /// Wraps `transformer` (e.g. from load_gpt2); the head takes its dtype and device.
  Gpt2ClassifierImpl(Gpt2Model transformer, int64_t classes)
      : transformer_(register_module("transformer", std::move(transformer))),
        head_(register_module("head", torch::nn::Linear(torch::nn::LinearOptions(
                                          transformer_->config().n_embd, checked_classes(classes)).bias(false)))) {
    const auto& wte = transformer_->wte->weight;
    head_->to(wte.device(), wte.scalar_type());
    at::NoGradGuard no_grad;
    head_->weight.zero_();
  }
  /// A randomly initialised GPT-2 of `config` with a zero head.
  Gpt2ClassifierImpl(const Gpt2Config& config, int64_t classes) : Gpt2ClassifierImpl(Gpt2Model(config), classes) {}

  /// ids, attention_mask: N×T as for Gpt2ModelImpl::forward (right padding) → N×classes logits.
  at::Tensor forward(const at::Tensor& ids, const at::Tensor& attention_mask = {}) {
    return head_->forward(last_hidden(ids, attention_mask));
  }
  /// The final hidden state of each row's last real token, detached: N×n_embd (for linear probes).
  at::Tensor features(const at::Tensor& ids, const at::Tensor& attention_mask = {}) {
    return last_hidden(ids, attention_mask).detach();
  }

  [[nodiscard]] Gpt2Model& transformer() { return transformer_; }
  [[nodiscard]] torch::nn::Linear& head() { return head_; }

 private:
  at::Tensor last_hidden(const at::Tensor& ids, const at::Tensor& attention_mask) {
    const auto hidden = transformer_->forward(ids, attention_mask);  // N×T×E; checks shapes
    const int64_t n = hidden.size(0), t = hidden.size(1), e = hidden.size(2);
    if (!attention_mask.defined()) return hidden.select(1, t - 1);
    const auto last = attention_mask.to(hidden.device()).to(at::kBool).sum(1) - 1;  // N, int64
    check(n == 0 || last.min().item<int64_t>() >= 0, "gpt2 classifier: a row of attention_mask has no real token");
    return hidden.gather(1, last.view({n, 1, 1}).expand({n, 1, e})).squeeze(1);
  }

  Gpt2Model transformer_;
  torch::nn::Linear head_;
};
TORCH_MODULE(Gpt2Classifier);

/// A classifier on an HF GPT-2 checkpoint folder (see load_gpt2), with a zero head; eval mode.
W2S_ENGINE_INLINE Gpt2Classifier load_gpt2_classifier(const std::filesystem::path& dir, int64_t classes);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE Gpt2Classifier load_gpt2_classifier(const std::filesystem::path& dir, int64_t classes) {
  Gpt2Classifier classifier(load_gpt2(dir), classes);
  classifier->eval();
  return classifier;
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
