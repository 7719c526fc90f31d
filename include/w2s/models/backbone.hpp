#pragma once
/// \file
/// Backbones: torch modules that map a batch of inputs to N×features. Models are
/// runtime choices (a named size on a ladder), so backbones are polymorphic
/// torch modules; policies never are.
#include <torch/nn/module.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"

namespace w2s {

/// What a backbone is: an architecture family and its widths. Serialised into
/// every cache key, so two sizes never share a cached artefact.
struct BackboneSpec {
  std::string kind;             ///< a registered model kind (models/model_kind.hpp; models/kinds.hpp lists the built-in ones)
  std::vector<int64_t> widths;  ///< hidden widths (mlp); channels then feature width (conv); see each backbone
  std::string checkpoint;       ///< checkpoint kinds (gpt2, bert): the Hugging Face checkpoint folder
  /// How the features pool a text's token states, where the kind offers a choice
  /// (ModelKind::poolings; e.g. llama: "mean" instead of its last token); "" = the kind's own.
  std::string pooling;

  [[nodiscard]] nlohmann::json describe() const {
    nlohmann::json j = {{"kind", kind}, {"widths", widths}};
    if (!checkpoint.empty()) j["checkpoint"] = checkpoint;
    if (!pooling.empty()) j["pooling"] = pooling;  // absent by default: existing keys stay valid
    return j;
  }
};

/// Base of every backbone: inputs → N×features().
class BackboneImpl : public torch::nn::Module {
 public:
  virtual at::Tensor forward(const at::Tensor& x) = 0;
  [[nodiscard]] int64_t features() const { return features_; }
  /// Multiply-adds ×2 of one example's forward pass (for benchmarks' GFLOP/s).
  [[nodiscard]] double forward_flops() const { return flops_; }

 protected:
  int64_t features_ = 0;  ///< set by the constructor of each backbone
  double flops_ = 0;
};

/// The capability of a backbone whose layers split (top-k fine-tuning, students/fine_tune.hpp):
/// the frozen bottom layers run once per text (`lower`), the trainable top ones on their
/// states (`upper`). A backbone that has it inherits this beside BackboneImpl; the students ask
/// for it with dynamic_cast (layered()), never by kind name.
class LayeredBackbone {
 public:
  virtual ~LayeredBackbone() = default;
  /// How many layers split.
  [[nodiscard]] virtual int64_t layers() const = 0;
  /// States after the first `layers` layers, packed for upper(): frozen, no gradient. `pad_to`
  /// widens the time axis (parts run apart share it to be concatenated).
  virtual at::Tensor lower(const at::Tensor& x, int64_t layers, int64_t pad_to) = 0;
  /// The layers from `from` on, and the backbone's pooling, on lower()'s states: N×features.
  virtual at::Tensor upper(const at::Tensor& packed, int64_t from, int64_t chunk) = 0;
  /// Marks the parameters of the layers from `from` on trainable, the rest frozen.
  virtual void train_only_from(int64_t from) = 0;
  /// Every module inside the layers from `from` on, with its name in the backbone (LoRA adapts
  /// the linear ones: models/lora.hpp); none where a backbone does not say.
  [[nodiscard]] virtual std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> layer_modules(
      int64_t /*from*/) {
    return {};
  }
};

/// Which columns of a text dataset's inputs a backbone reads its own token ids from: [begin, end)
/// (end 0: to the last column), right-padded with `pad` (data/dataset.hpp, TokenSegment).
struct TokenColumns {
  int64_t begin = 0, end = 0;
  int64_t pad = 0;
  /// Those columns of `x` (N×T).
  [[nodiscard]] at::Tensor of(const at::Tensor& x) const { return x.slice(1, begin, end > 0 ? end : x.size(1)); }
};

/// The capability of a backbone that reads a segment of a text's ids (pretrained encoders and
/// decoders): the per-text feature store names a text by the ids in these columns.
class TokenReader {
 public:
  virtual ~TokenReader() = default;
  [[nodiscard]] virtual TokenColumns columns() const = 0;
};

/// The capability of a language model (few-shot prompting, students/lm_prompting.hpp): next-token
/// log-probabilities over its own tokens, spelled by a tokenizer the dataset carries.
class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  /// Log-probabilities N×vocab of the next token after each row's last real token; `ids` are the
  /// model's own tokens, right-padded with −1.
  virtual at::Tensor next_token_log_probs(const at::Tensor& ids) = 0;
  /// The most tokens a row may hold.
  [[nodiscard]] virtual int64_t context() const = 0;
  /// The model's own token ids in a dataset's inputs (N×T), right-padded with −1.
  [[nodiscard]] virtual at::Tensor token_ids(const at::Tensor& inputs) const { return inputs; }
  /// The tokenizer of those ids: "" = the dataset's own (Vocabulary::encode), else the
  /// TokenSegment::vocab of the segment the model reads.
  [[nodiscard]] virtual std::string tokenizer() const { return ""; }
};

/// `backbone` as a LanguageModel, or null when it is none.
inline LanguageModel* language_model(BackboneImpl& backbone) { return dynamic_cast<LanguageModel*>(&backbone); }

/// `backbone` as a TokenReader, or null.
inline TokenReader* token_reader(BackboneImpl& backbone) { return dynamic_cast<TokenReader*>(&backbone); }

/// `backbone` as a LayeredBackbone, or null when its layers do not split.
inline LayeredBackbone* layered(BackboneImpl& backbone) { return dynamic_cast<LayeredBackbone*>(&backbone); }

}  // namespace w2s
