#pragma once
/// \file
/// What a sentence-encoder backbone (models/bert_backbone.hpp, EncoderBackbone) needs of its
/// transformer: the embeddings, a range of layers, and its sizes. BERT (models/bert_model.hpp)
/// and MPNet (models/mpnet.hpp) implement it; the backbone's pooling, chunking, top-k split and
/// per-text feature store are written once against it.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace w2s {

class TextEncoder {
 public:
  virtual ~TextEncoder() = default;
  /// The embedding output N×T×H of the model's own token ids N×T; `mask` N×T (1 = real token,
  /// right padding) for models whose positions count real tokens.
  virtual at::Tensor embed(const at::Tensor& ids, const at::Tensor& mask) = 0;
  /// Layers [from, to) on hidden states x (N×T×H) with `mask` N×T (1 = real token).
  virtual at::Tensor run_layers(at::Tensor x, const at::Tensor& mask, int64_t from, int64_t to) = 0;
  [[nodiscard]] virtual int64_t layers() const = 0;
  [[nodiscard]] virtual int64_t width() const = 0;      ///< hidden size H
  [[nodiscard]] virtual int64_t mlp_width() const = 0;  ///< the feed-forward's inner size
  /// The name prefix of layer `i`'s parameters ("encoder.layer.3.", HF's BERT and MPNet names).
  [[nodiscard]] virtual std::string layer_prefix(int64_t i) const { return "encoder.layer." + std::to_string(i) + "."; }
  /// Multiply-adds ×2 per token of the layers, attention scores excluded: 4·H² for the
  /// attention's projections and 2·H·I for the feed-forward, per layer.
  [[nodiscard]] virtual double flops_per_token() const {
    const double h = double(width()), inner = double(mlp_width());
    return 2.0 * double(layers()) * (4.0 * h * h + 2.0 * h * inner);
  }
};

}  // namespace w2s
