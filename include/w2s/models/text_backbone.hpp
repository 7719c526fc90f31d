#pragma once
/// \file
/// Backbones over token ids (N × T int64, 0 = padding; data/dataset.hpp's
/// Vocabulary). The strong ones stand on GloVe 6B 100-d, a real pretrained
/// representation; the weak one learns its own word vectors from scratch, so its
/// knowledge is only what its half of the labels teaches it (docs/text.md).
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/transformercoder.h>
#include <torch/nn/modules/transformerlayer.h>

#include "w2s/core/engine.hpp"
#include "w2s/data/dataset.hpp"
#include "w2s/models/backbone.hpp"
#include "w2s/models/dense_backbone.hpp"
#include "w2s/models/model_kind.hpp"

namespace w2s {

/// Mean of `vectors` (N × T × d) over the positions where `ids` is not padding.
inline at::Tensor masked_mean(const at::Tensor& vectors, const at::Tensor& ids) {
  const auto mask = ids.ne(Vocabulary::pad).to(vectors.scalar_type()).unsqueeze(2);
  return (vectors * mask).sum(1) / mask.sum(1).clamp_min(1);
}

/// Bag of words: a trainable word vector per id (random init), averaged. With the
/// linear head this is a linear model of word frequencies.
class BagOfWordsBackbone : public BackboneImpl {
 public:
  BagOfWordsBackbone(const Vocabulary& vocab, int64_t dims)
      : embed_(register_module("embed", torch::nn::Embedding(torch::nn::EmbeddingOptions(vocab.size(), dims)))),
        word_columns_(vocab.subword_begin) {
    features_ = dims;
    flops_ = 2.0 * double(dims);  // per token
  }
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& x) override;

 private:
  torch::nn::Embedding embed_;
  int64_t word_columns_;
};

/// Word vectors initialised from GloVe: an embedding the backbone owns, so fine-tuning
/// adapts it like every other pretrained weight (the paper fine-tunes all weights);
/// linear probes read it frozen.
class GloveBackboneBase : public BackboneImpl {
 protected:
  W2S_ENGINE_INLINE explicit GloveBackboneBase(const Vocabulary& vocab);
  [[nodiscard]] at::Tensor embed(const at::Tensor& ids) { return glove_->forward(ids); }
  [[nodiscard]] int64_t glove_dims() const { return glove_->options.embedding_dim(); }
  /// The word-id columns of `x` (a text dataset may append WordPiece columns for encoders).
  [[nodiscard]] at::Tensor words(const at::Tensor& x) const { return word_columns_ > 0 ? x.slice(1, 0, word_columns_) : x; }

 private:
  torch::nn::Embedding glove_{nullptr};
  int64_t word_columns_;
};

/// Mean-pooled GloVe vectors, then a ReLU MLP of `widths`.
class GloveMlpBackbone : public GloveBackboneBase {
 public:
  GloveMlpBackbone(const Vocabulary& vocab, const std::vector<int64_t>& widths)
      : GloveBackboneBase(vocab), mlp_(register_module("mlp", std::make_shared<MlpBackbone>(glove_dims(), widths))) {
    features_ = mlp_->features();
    flops_ = mlp_->forward_flops();
  }
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& x) override;

 private:
  std::shared_ptr<MlpBackbone> mlp_;
};

/// GloVe vectors projected to `d` with learned positions, `layers` transformer
/// encoder layers (`heads` heads, feed-forward 2d, no dropout) that skip padding,
/// mean-pooled. `widths` = {d, layers, heads}. LibTorch 1.13's layers take T × N × d.
class GloveTransformerBackbone : public GloveBackboneBase {
 public:
  static constexpr int64_t max_positions = 512;
  W2S_ENGINE_INLINE GloveTransformerBackbone(const Vocabulary& vocab, const std::vector<int64_t>& widths);
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& inputs) override;

 private:
  torch::nn::Linear project_{nullptr};
  torch::nn::Embedding positions_{nullptr};
  torch::nn::TransformerEncoder encoder_{nullptr};
};

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE at::Tensor BagOfWordsBackbone::forward(const at::Tensor& x) {
  const auto ids = word_columns_ > 0 ? x.slice(1, 0, word_columns_) : x;  // not the WordPiece columns
  return masked_mean(embed_->forward(ids), ids);
}

W2S_ENGINE_INLINE GloveBackboneBase::GloveBackboneBase(const Vocabulary& vocab) : word_columns_(vocab.subword_begin) {
  check(vocab.glove.defined() && vocab.glove.dim() == 2 && vocab.glove.size(0) == vocab.size(), "text backbone: the ",
        "vocabulary has ", vocab.size(), " words but its GloVe matrix is ",
        vocab.glove.defined() ? vocab.glove.sizes() : at::IntArrayRef{}, " (GloVe backbones need a word vocabulary)");
  glove_ = register_module(
      "glove", torch::nn::Embedding(
                   torch::nn::EmbeddingOptions(vocab.size(), vocab.glove.size(1))._weight(vocab.glove.clone())));
}

W2S_ENGINE_INLINE at::Tensor GloveMlpBackbone::forward(const at::Tensor& x) {
  const auto ids = words(x);
  return mlp_->forward(masked_mean(embed(ids), ids));
}

W2S_ENGINE_INLINE GloveTransformerBackbone::GloveTransformerBackbone(const Vocabulary& vocab,
                                                                     const std::vector<int64_t>& widths)
    : GloveBackboneBase(vocab) {
  check(widths.size() == 3 && widths[0] > 0 && widths[1] > 0 && widths[2] > 0 && widths[0] % widths[2] == 0,
        "glove-transformer backbone: expected widths {d, layers, heads} with d divisible by heads");
  const int64_t d = widths[0];
  project_ = register_module("project", torch::nn::Linear(glove_dims(), d));
  positions_ = register_module("positions", torch::nn::Embedding(max_positions, d));
  torch::nn::TransformerEncoderLayerOptions layer(d, widths[2]);
  layer.dim_feedforward(2 * d).dropout(0.0);
  encoder_ =
      register_module("encoder", torch::nn::TransformerEncoder(torch::nn::TransformerEncoderOptions(layer, widths[1])));
  features_ = d;
  flops_ = 2.0 * double(glove_dims()) * double(d) + double(widths[1]) * 2.0 * (4.0 * d * d + 4.0 * d * d);  // per token
}

W2S_ENGINE_INLINE at::Tensor GloveTransformerBackbone::forward(const at::Tensor& inputs) {
  const auto ids = words(inputs);
  check(ids.size(1) <= max_positions, "glove-transformer backbone: ", ids.size(1), " tokens, at most ", max_positions,
        " positions");
  const auto pos = at::arange(ids.size(1), ids.options());
  auto x = project_->forward(embed(ids)) + positions_->forward(pos).unsqueeze(0);
  auto padding = ids.eq(Vocabulary::pad);
  // A row of only padding would give NaN attention: let such rows attend to their first position.
  padding.select(1, 0).logical_and_(padding.all(1).logical_not());
  x = encoder_->forward(x.transpose(0, 1), {}, padding).transpose(0, 1);
  return masked_mean(x, ids);
}
inline const bool bow_kind_registered = register_model_kind(
    {.name = "bow",
     .description = "bag of words: mean of word vectors learnt from scratch (widths: the vector size)",
     .make = [](const BackboneSpec& spec, const std::vector<int64_t>&,
                const Vocabulary* vocab) -> std::shared_ptr<BackboneImpl> {
       check(spec.widths.size() == 1, "bow backbone: expected one width (the word-vector size)");
       return std::make_shared<BagOfWordsBackbone>(*vocab, spec.widths[0]);
     },
     .reads_tokens = true});

inline const bool glove_mlp_kind_registered = register_model_kind(
    {.name = "glove-mlp",
     .description = "mean of frozen GloVe 6B 100-d vectors, then an MLP (widths: hidden widths)",
     .make = [](const BackboneSpec& spec, const std::vector<int64_t>&,
                const Vocabulary* vocab) -> std::shared_ptr<BackboneImpl> {
       return std::make_shared<GloveMlpBackbone>(*vocab, spec.widths);
     },
     .reads_tokens = true});

inline const bool glove_transformer_kind_registered = register_model_kind(
    {.name = "glove-transformer",
     .description = "frozen GloVe vectors through a small transformer encoder (widths: model width, layers, heads)",
     .make = [](const BackboneSpec& spec, const std::vector<int64_t>&,
                const Vocabulary* vocab) -> std::shared_ptr<BackboneImpl> {
       return std::make_shared<GloveTransformerBackbone>(*vocab, spec.widths);
     },
     .reads_tokens = true});
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
