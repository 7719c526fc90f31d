#pragma once
/// \file
/// What a sentence-encoder backbone (models/bert_backbone.hpp, EncoderBackbone) needs of its
/// transformer: the embeddings, a range of layers, and its sizes. BERT (models/bert_model.hpp)
/// and MPNet (models/mpnet.hpp) implement it; the backbone's pooling, chunking, top-k split and
/// per-text feature store are written once against it.
#include <ATen/ATen.h>

#include <cstdint>

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
};

}  // namespace w2s
