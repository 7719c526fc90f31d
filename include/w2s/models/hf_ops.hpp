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

/// HF's extended attention mask: from `mask` N×T (1 = real token, 0 = padding), an N×1×1×T
/// tensor of `dtype` to add to the attention scores, 0 at real keys and the most negative
/// finite value at padded ones (not −inf, so a row of padding stays finite). Made once per
/// forward and added in each layer; the softmax gives the same weights as filling the padded
/// scores with that value, since |score| is far below half its spacing.
inline at::Tensor key_mask_bias(const at::Tensor& mask, at::ScalarType dtype) {
  check(mask.dim() == 2, "key_mask_bias: the mask must be N×T, got ", mask.sizes());
  const double lowest = dtype == at::kDouble ? std::numeric_limits<double>::lowest()
                                             : static_cast<double>(std::numeric_limits<float>::lowest());
  return (1 - mask.to(dtype)).mul(lowest).view({mask.size(0), 1, 1, mask.size(1)});
}

}  // namespace w2s
