#pragma once
/// \file
/// A pretrained BERT-family encoder (models/bert.hpp) as a ladder backbone: features are
/// the sentence embedding the checkpoint folder declares (sentence-transformers pooling,
/// normalisation). With models/classifier.hpp's zero-initialised bias-free head this is
/// the openai classifier on a pooled encoder. Inputs are a text dataset's token ids whose
/// columns from `first_column` on hold WordPiece ids of this checkpoint's vocabulary
/// ([CLS] … [SEP], right-padded with [PAD] = 0; data/text_data.hpp).
///
/// For top-k fine-tuning (students/fine_tune.hpp) the encoder splits in two: `lower`
/// runs the frozen bottom layers once per example, `upper` the trainable top k.
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <sstream>
#include <utility>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/models/backbone.hpp"
#include "w2s/core/hash.hpp"
#include "w2s/models/bert.hpp"
#include "w2s/models/model_kind.hpp"

namespace w2s {

/// A pretrained transformer with pooling as a ladder backbone (BERT here, MPNet in
/// models/mpnet.hpp, Llama in models/llama.hpp): features are the pooled vectors of the
/// dataset's token columns `columns` (BERT uncased WordPiece ids right-padded with 0 for the
/// encoders; SmolLM2's BPE ids padded with −1), mapped to the model's own ids by `ids` (empty:
/// the same ids; padding reads as id 0 under the mask).
class EncoderBackbone : public BackboneImpl, public LayeredBackbone, public TokenReader {
 public:
  using IdMap = std::function<at::Tensor(const at::Tensor&)>;
  /// `module` is the encoder's torch module, registered under `name`; `encoder` the same object
  /// seen as a TextEncoder.
  W2S_ENGINE_INLINE EncoderBackbone(const std::string& name, std::shared_ptr<torch::nn::Module> module,
                                    TextEncoder& encoder, Pooling pooling, TokenColumns columns, IdMap ids = {});

  /// Pooled sentence vectors N×H of token-id rows N×T.
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& x) override;

  /// Hidden states after the first `layers` layers (0: the embeddings) packed with the
  /// attention mask as one more channel: N×T×(H+1), T the longest input of `x`, or
  /// `pad_to` when larger (slices of one dataset run apart must share their T to be
  /// concatenated). Frozen, no gradient.
  W2S_ENGINE_INLINE at::Tensor lower(const at::Tensor& x, int64_t layers, int64_t pad_to = 0) override;

  /// The layers from `from` on, and the pooling, on lower()'s packed states. Rows run in
  /// chunks of `chunk` sorted by length, each chunk cut to its own longest row, with or without
  /// gradients (the chunks join in the graph; the encoder has no dropout, so this is the batch's
  /// own computation): a batch of 100 Brown sentences holds one near the 128-piece cap and a mean
  /// near 30, so padding every row to the longest would triple the cost of a step.
  W2S_ENGINE_INLINE at::Tensor upper(const at::Tensor& packed, int64_t from, int64_t chunk = 32) override;

  /// Only the encoder layers from `from` on train (embeddings, lower layers and anything shared
  /// by all layers, such as MPNet's relative position table, frozen).
  W2S_ENGINE_INLINE void train_only_from(int64_t from) override;

  /// The modules of the encoder layers from `from` on ("encoder.layer.<i>.…", HF's names).
  [[nodiscard]] W2S_ENGINE_INLINE std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> layer_modules(
      int64_t from) override;

  /// The most WordPiece ids (with [CLS] and [SEP]) any row of `x` holds.
  [[nodiscard]] W2S_ENGINE_INLINE int64_t longest(const at::Tensor& x) const;

  [[nodiscard]] int64_t layers() const override { return encoder_.layers(); }
  [[nodiscard]] TokenColumns columns() const override { return columns_; }

 protected:
  [[nodiscard]] at::Tensor pieces(const at::Tensor& x) const {
    check(x.dim() == 2 && x.size(1) > columns_.begin && (columns_.end == 0 || x.size(1) >= columns_.end),
          "encoder backbone: expected N×T token ids with the model's own ids in columns ", columns_.begin, "..",
          columns_.end > 0 ? std::to_string(columns_.end - 1) : std::string("the last"), ", got ", x.sizes());
    return columns_.of(x);
  }

  /// `f(ids, mask)` on the WordPiece columns (as the encoder's own ids). Columns no row uses are
  /// cut; without gradients rows go through in chunks of 64 sorted by length (less padding), and
  /// come back in their original order.
  template <class F>
  at::Tensor in_chunks(const at::Tensor& x, const F& f) {
    const auto ids = pieces(x);
    const int64_t pad = columns_.pad;
    const auto lengths = ids.ne(pad).sum(1);
    const auto extremes = at::stack({lengths.min(), lengths.max()}).cpu();  // one device sync per batch
    check(extremes[0].item<int64_t>() >= 1, "encoder backbone: a row has no token ids in columns ", columns_.begin,
          ".. (an empty text?)");
    const auto run = [&](const at::Tensor& rows) {
      const int64_t used = rows.ne(pad).sum(1).max().item<int64_t>();
      auto r = rows.slice(1, 0, used);
      const auto mask = r.ne(pad).to(at::kLong);
      if (pad != 0) r = r.masked_fill(mask.eq(0), 0);  // padding reads as id 0, under the mask
      return f(ids_ ? ids_(r) : r, mask);
    };
    if (at::GradMode::is_enabled() || ids.size(0) <= 64) return run(ids);
    const auto order = at::argsort(lengths);
    const auto sorted = ids.index_select(0, order);
    std::vector<at::Tensor> parts;
    for (int64_t i = 0; i < sorted.size(0); i += 64) parts.push_back(run(sorted.slice(0, i, std::min(sorted.size(0), i + 64))));
    const auto all = at::cat(parts);
    return at::empty_like(all).index_copy_(0, order, all);
  }

  std::shared_ptr<torch::nn::Module> module_;
  TextEncoder& encoder_;
  Pooling pooling_;
  TokenColumns columns_;
  IdMap ids_;
};

/// A BERT-family checkpoint (models/bert.hpp) as an EncoderBackbone; its ids are the dataset's.
class BertBackbone : public EncoderBackbone {
 public:
  BertBackbone(BertCheckpoint checkpoint, TokenColumns columns)
      : EncoderBackbone("bert", checkpoint.model.ptr(), *checkpoint.model, checkpoint.pooling, columns),
        model_(std::move(checkpoint.model)) {}
  [[nodiscard]] BertModelImpl& model() { return *model_; }

 private:
  BertModel model_;
};

/// The `bert` model kind's constructor: `spec.checkpoint` loaded, checked against the vocabulary
/// the dataset was tokenised with.
W2S_ENGINE_INLINE std::shared_ptr<BackboneImpl> make_bert_backbone(const BackboneSpec& spec, const Vocabulary* vocab);

/// The WordPiece segment of `vocab` (TokenSegment "wordpiece") as a backbone's columns, checked
/// to be of the vocabulary whose hash is `hash` (`what` names it in the error).
W2S_ENGINE_INLINE TokenColumns wordpiece_columns(const Vocabulary* vocab, const std::string& checkpoint,
                                                 const std::string& hash, const std::string& what);

/// A sentence-transformers checkpoint (BERT, MPNet) run on its own (ModelKind::open): every layer
/// of `encoder` on ids padded with `pad_id`, and `pooling` as its sentence vector.
W2S_ENGINE_INLINE OpenedCheckpoint opened_sentence_encoder(std::shared_ptr<TextEncoder> encoder, int64_t pad_id,
                                                           Pooling pooling);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE EncoderBackbone::EncoderBackbone(const std::string& name, std::shared_ptr<torch::nn::Module> module,
                                                   TextEncoder& encoder, Pooling pooling, TokenColumns columns,
                                                   IdMap ids)
    : module_(register_module(name, std::move(module))),
      encoder_(encoder),
      pooling_(std::move(pooling)),
      columns_(columns),
      ids_(std::move(ids)) {
  features_ = encoder_.width();
  flops_ = encoder_.flops_per_token();  // per token, attention scores excluded
}

W2S_ENGINE_INLINE void EncoderBackbone::train_only_from(int64_t from) {
  for (auto& p : module_->named_parameters()) {
    const auto& name = p.key();
    bool top = false;
    for (int64_t i = from; i < layers(); ++i) top |= name.starts_with(encoder_.layer_prefix(i));
    p.value().requires_grad_(top);
  }
}

W2S_ENGINE_INLINE std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>>
EncoderBackbone::layer_modules(int64_t from) {
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> out;
  for (const auto& m : module_->named_modules())
    for (int64_t i = from; i < layers(); ++i)
      if (m.key().starts_with(encoder_.layer_prefix(i))) out.emplace_back(m.key(), m.value());
  return out;
}

W2S_ENGINE_INLINE at::Tensor EncoderBackbone::forward(const at::Tensor& x) {
  return in_chunks(x, [&](const at::Tensor& ids, const at::Tensor& mask) {
    return pooling_.apply(encoder_.run_layers(encoder_.embed(ids, mask), mask, 0, layers()), mask);
  });
}

W2S_ENGINE_INLINE at::Tensor EncoderBackbone::lower(const at::Tensor& x, int64_t layers, int64_t pad_to) {
  at::NoGradGuard no_grad;
  const int64_t t = std::max(pad_to, longest(x));
  return in_chunks(x, [&](const at::Tensor& ids, const at::Tensor& mask) {
    auto h = encoder_.run_layers(encoder_.embed(ids, mask), mask, 0, layers);
    auto packed = at::cat({h, mask.unsqueeze(2).to(h.scalar_type())}, 2);
    return at::constant_pad_nd(packed, {0, 0, 0, t - packed.size(1)});  // every chunk to the same T
  });
}

W2S_ENGINE_INLINE at::Tensor EncoderBackbone::upper(const at::Tensor& packed, int64_t from, int64_t chunk) {
  const int64_t h = packed.size(2) - 1;
  const auto run = [&](const at::Tensor& rows) {
    const auto mask = rows.select(2, h);
    const int64_t used = std::max<int64_t>(1, mask.sum(1).max().item<int64_t>());  // cut columns no row uses
    const auto m = mask.slice(1, 0, used);
    const auto states = rows.slice(1, 0, used).slice(2, 0, h);
    return pooling_.apply(encoder_.run_layers(states, m, from, layers()), m);
  };
  if (packed.size(0) <= chunk) return run(packed);
  const auto order = at::argsort(packed.select(2, h).sum(1));
  const auto sorted = packed.index_select(0, order);
  std::vector<at::Tensor> parts;
  for (int64_t i = 0; i < sorted.size(0); i += chunk)
    parts.push_back(run(sorted.slice(0, i, std::min(sorted.size(0), i + chunk))));
  return at::cat(parts).index_select(0, at::argsort(order));  // back to the rows' order
}

W2S_ENGINE_INLINE int64_t EncoderBackbone::longest(const at::Tensor& x) const {
  return pieces(x).ne(columns_.pad).sum(1).max().item<int64_t>();
}

W2S_ENGINE_INLINE OpenedCheckpoint opened_sentence_encoder(std::shared_ptr<TextEncoder> encoder, int64_t pad_id,
                                                           Pooling pooling) {
  return opened_encoder(std::move(encoder), pad_id,
                        [pooling = std::move(pooling)](const at::Tensor& hidden, const at::Tensor& mask) {
                          return pooling.apply(hidden, mask);
                        });
}

/// A pretrained encoder reads the dataset's WordPiece columns of its own vocabulary: the
/// dataset must have been tokenised with this checkpoint's vocab.txt.
W2S_ENGINE_INLINE TokenColumns wordpiece_columns(const Vocabulary* vocab, const std::string& checkpoint,
                                                 const std::string& hash, const std::string& what) {
  const auto* seg = vocab ? vocab->segment("wordpiece") : nullptr;
  check(seg != nullptr, "backbone '", checkpoint, "' reads WordPiece ids: the dataset has none (text datasets get ",
        "BERT uncased WordPiece ids when ./w2s.sh setup has fetched MiniLM)");
  check(hash == seg->vocab, "backbone '", checkpoint, "': the dataset was tokenised with another vocabulary (hash ",
        seg->vocab, ") than ", what, " (hash ", hash, ")");
  return {seg->begin, seg->end, seg->pad};
}

/// The stable_hash of a file's bytes, as text::WordPiece::vocab_hash computes it.
W2S_ENGINE_INLINE std::string vocab_file_hash(const std::filesystem::path& vocab_txt) {
  std::ifstream in(vocab_txt, std::ios::binary);
  check(bool(in), vocab_txt.string(), ": cannot open the encoder's WordPiece vocabulary");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return stable_hash(bytes.str());
}

W2S_ENGINE_INLINE std::shared_ptr<BackboneImpl> make_bert_backbone(const BackboneSpec& spec, const Vocabulary* vocab) {
  auto checkpoint = load_bert(spec.checkpoint);
  const auto columns =
      wordpiece_columns(vocab, spec.checkpoint, vocab_file_hash(checkpoint.vocab), checkpoint.vocab.string());
  return std::make_shared<BertBackbone>(std::move(checkpoint), columns);
}

inline const bool bert_kind_registered = register_model_kind(
    {.name = "bert",
     .description = "a BERT-family sentence-transformers checkpoint folder (config.json, model.safetensors, "
                    "vocab.txt, pooling): pooled sentence vectors",
     .make = [](const BackboneSpec& spec, const std::vector<int64_t>&,
                const Vocabulary* vocab) { return make_bert_backbone(spec, vocab); },
     .checkpoint = true,
     .checkpoint_id =
         [](const std::filesystem::path& dir) {
           std::string id;
           for (const auto& f : bert_files(dir))  // every file the encoder reads; load_bert names a missing one
             id += std::filesystem::relative(f, dir).string() + ":" + file_checksum(f) + "|";
           return id;
         },
     .layered = true,
     .per_text_features = true,
     .model_types = {"bert"},
     .open =
         [](const std::filesystem::path& dir) {
           auto c = load_bert(dir);
           return opened_sentence_encoder(c.model.ptr(), /*pad_id=*/0, c.pooling);
         },
     .text = CheckpointText::wordpiece});
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
