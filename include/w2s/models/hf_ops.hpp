#pragma once
/// \file
/// Two pieces of an encoder layer written as transformers' eager layers run them on the same
/// LibTorch, so our BERT and MPNet run the operators theirs do (`w2s_encode --time --profile`
/// against bench/op_profile.py, docs/performance.md).
#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>

#include <limits>

#include "w2s/core/error.hpp"

namespace w2s {

/// A linear layer's forward as Python's nn.Linear computes it (ATen's at::linear): a contiguous
/// N×T×H input is flattened into one addmm that adds the bias as it multiplies. The C++
/// frontend's own torch::nn::Linear forward (torch/nn/functional/linear.h in LibTorch 1.13) does
/// that for a 2-D input only, and for a batch of sequences runs a matrix product and then a second
/// pass over the output to add the bias: 4.6% of MiniLM-L6's forward time here. LoRA
/// (models/lora.hpp) sets the module's `weight` member, which this reads as the module's own
/// forward does.
inline at::Tensor linear(const torch::nn::Linear& layer, const at::Tensor& x) {
  return at::linear(x, layer->weight, layer->bias);
}

/// HF's additive attention mask: from `allowed` (bool, broadcastable to the scores, true where a
/// query may see a key), a tensor of `dtype` to add to the attention scores, 0 where allowed and
/// the most negative finite float elsewhere (not −inf, so a row with no key allowed stays finite).
/// Made once per forward and added in each layer; the softmax gives the same weights as filling
/// the masked scores with that value, since |score| is far below half its spacing.
inline at::Tensor additive_mask(const at::Tensor& allowed, at::ScalarType dtype) {
  check(allowed.scalar_type() == at::kBool, "additive_mask: expected a bool tensor, got ", allowed.scalar_type());
  const double lowest = dtype == at::kDouble ? std::numeric_limits<double>::lowest()
                                             : static_cast<double>(std::numeric_limits<float>::lowest());
  return (1 - allowed.to(dtype)).mul(lowest);
}

/// The encoders' padding mask as additive_mask: from `mask` N×T (1 = real token, 0 = padding),
/// N×1×1×T, 0 at real keys.
inline at::Tensor key_mask_bias(const at::Tensor& mask, at::ScalarType dtype) {
  check(mask.dim() == 2, "key_mask_bias: the mask must be N×T, got ", mask.sizes());
  return additive_mask(mask.to(at::kBool).view({mask.size(0), 1, 1, mask.size(1)}), dtype);
}

}  // namespace w2s
