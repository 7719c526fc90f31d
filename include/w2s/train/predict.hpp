#pragma once
/// \file
/// A model's outputs on many inputs, in batches, without gradients, gathered on the CPU.
#include <ATen/ATen.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "w2s/core/engine.hpp"

namespace w2s {

/// `forward` on `x` in batches, without gradients, gathered on the CPU (features, logits).
W2S_ENGINE_INLINE at::Tensor forward_in_batches(const std::function<at::Tensor(const at::Tensor&)>& forward,
                                                const at::Tensor& x, torch::Device device, int64_t batch = 1000);

/// Softmax probabilities of `forward` on `x`, in batches, without gradients, on the CPU;
/// with `regression`, the raw outputs.
W2S_ENGINE_INLINE at::Tensor predict_probs(const std::function<at::Tensor(const at::Tensor&)>& forward,
                                           const at::Tensor& x, torch::Device device, bool regression = false,
                                           int64_t batch = 1000);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE at::Tensor forward_in_batches(const std::function<at::Tensor(const at::Tensor&)>& forward,
                                                const at::Tensor& x, torch::Device device, int64_t batch) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> parts;
  for (int64_t i = 0; i < x.size(0); i += batch)
    parts.push_back(forward(x.slice(0, i, std::min(i + batch, x.size(0))).to(device)).to(at::kCPU));
  return at::cat(parts);
}

W2S_ENGINE_INLINE at::Tensor predict_probs(const std::function<at::Tensor(const at::Tensor&)>& forward,
                                           const at::Tensor& x, torch::Device device, bool regression, int64_t batch) {
  const auto out = forward_in_batches(forward, x, device, batch);
  return regression ? out : at::softmax(out, 1);
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
