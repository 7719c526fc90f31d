#pragma once
/// \file
/// A model's outputs on many inputs, in batches, without gradients, gathered on the CPU.
#include <ATen/ATen.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <functional>
#include <vector>

namespace w2s {

/// `forward` on `x` in batches, without gradients, gathered on the CPU (features, logits).
inline at::Tensor forward_in_batches(const std::function<at::Tensor(const at::Tensor&)>& forward, const at::Tensor& x,
                                     torch::Device device, int64_t batch = 1000) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> parts;
  for (int64_t i = 0; i < x.size(0); i += batch)
    parts.push_back(forward(x.slice(0, i, std::min(i + batch, x.size(0))).to(device)).to(at::kCPU));
  return at::cat(parts);
}

/// Softmax probabilities of `forward` on `x`, in batches, without gradients, on the CPU;
/// with `regression`, the raw outputs.
inline at::Tensor predict_probs(const std::function<at::Tensor(const at::Tensor&)>& forward, const at::Tensor& x,
                                torch::Device device, bool regression = false, int64_t batch = 1000) {
  const auto out = forward_in_batches(forward, x, device, batch);
  return regression ? out : at::softmax(out, 1);
}

}  // namespace w2s
