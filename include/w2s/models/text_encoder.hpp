#pragma once
/// \file
/// What a sentence-encoder backbone (models/bert_backbone.hpp, EncoderBackbone) needs of its
/// transformer: the embeddings, a range of layers, and its sizes. BERT (models/bert_model.hpp)
/// and MPNet (models/mpnet.hpp) implement it; the backbone's pooling, chunking, top-k split and
/// per-text feature store are written once against it.
#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "w2s/core/engine.hpp"
#include "w2s/models/model_kind.hpp"

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

/// `encoder` run on its own (ModelKind::open): every layer on its own ids padded with `pad_id`,
/// its sizes and cost, and `pool` as its sentence vector (empty: none).
W2S_ENGINE_INLINE OpenedCheckpoint opened_encoder(
    std::shared_ptr<TextEncoder> encoder, int64_t pad_id,
    std::function<at::Tensor(const at::Tensor& hidden, const at::Tensor& mask)> pool = {});

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE OpenedCheckpoint opened_encoder(
    std::shared_ptr<TextEncoder> encoder, int64_t pad_id,
    std::function<at::Tensor(const at::Tensor& hidden, const at::Tensor& mask)> pool) {
  OpenedCheckpoint c;
  c.width = encoder->width();
  c.flops_per_token = encoder->flops_per_token();
  c.pad_id = pad_id;
  c.pool = std::move(pool);
  c.last_hidden = [encoder = std::move(encoder)](const at::Tensor& ids, const at::Tensor& mask) {
    return encoder->run_layers(encoder->embed(ids, mask), mask, 0, encoder->layers());
  };
  return c;
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
