#pragma once
/// \file
/// Builds a backbone from its spec: the one place that maps kind names to classes.
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/models/backbone.hpp"
#include "w2s/models/bert_backbone.hpp"
#include "w2s/models/gpt2_backbone.hpp"
#include "w2s/models/text_backbone.hpp"
#include "w2s/core/hash.hpp"

namespace w2s {

/// A freshly initialised backbone of `spec` for inputs of `input_shape` (one
/// example); text backbones also need the dataset's vocabulary.
W2S_ENGINE_INLINE std::shared_ptr<BackboneImpl> make_backbone(const BackboneSpec& spec,
                                                              const std::vector<int64_t>& input_shape,
                                                              const Vocabulary* vocab = nullptr);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINITIONS
W2S_ENGINE_INLINE std::shared_ptr<BackboneImpl> make_backbone(const BackboneSpec& spec,
                                                              const std::vector<int64_t>& input_shape,
                                                              const Vocabulary* vocab) {
  int64_t numel = 1;
  for (auto d : input_shape) numel *= d;
  if (spec.kind == "mlp") return std::make_shared<MlpBackbone>(numel, spec.widths);
  if (spec.kind == "conv") return std::make_shared<ConvBackbone>(input_shape, spec.widths);
  if (spec.kind == "gpt2") return std::make_shared<Gpt2Backbone>(load_gpt2(spec.checkpoint, /*dropout=*/false));
  if (spec.kind == "bert") {  // a pretrained encoder reads the dataset's WordPiece columns of its own vocabulary
    auto checkpoint = load_bert(spec.checkpoint);
    check(vocab != nullptr && vocab->subword_begin > 0, "backbone '", spec.checkpoint, "' reads WordPiece ids: the ",
          "dataset has none (text datasets get them when ", checkpoint.vocab.string(), " exists at load time)");
    std::ifstream in(checkpoint.vocab, std::ios::binary);
    check(bool(in), checkpoint.vocab.string(), ": cannot open the encoder's WordPiece vocabulary");
    std::ostringstream bytes;
    bytes << in.rdbuf();
    const auto hash = stable_hash(bytes.str());  // as text::WordPiece::vocab_hash, which the dataset's loader used
    check(hash == vocab->subword_vocab, "backbone '", spec.checkpoint, "': the dataset was tokenised with another ",
          "vocabulary (hash ", vocab->subword_vocab, ") than ", checkpoint.vocab.string(), " (hash ", hash, ")");
    return std::make_shared<BertBackbone>(std::move(checkpoint), vocab->subword_begin);
  }
  const bool text = spec.kind == "bow" || spec.kind == "glove-mlp" || spec.kind == "glove-transformer";
  check(!text || vocab != nullptr, "backbone kind '", spec.kind, "' reads token ids: it needs a text dataset");
  if (spec.kind == "bow") {
    check(spec.widths.size() == 1, "bow backbone: expected one width (the word-vector size)");
    return std::make_shared<BagOfWordsBackbone>(*vocab, spec.widths[0]);
  }
  if (spec.kind == "glove-mlp") return std::make_shared<GloveMlpBackbone>(*vocab, spec.widths);
  if (spec.kind == "glove-transformer") return std::make_shared<GloveTransformerBackbone>(*vocab, spec.widths);
  fail("backbone kind '", spec.kind, "' unknown; expected mlp, conv, bow, glove-mlp, glove-transformer, gpt2 or bert");
}
#endif  // W2S_ENGINE_DEFINITIONS

}  // namespace w2s
