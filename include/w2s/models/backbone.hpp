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

  [[nodiscard]] nlohmann::json describe() const {
    nlohmann::json j = {{"kind", kind}, {"widths", widths}};
    if (!checkpoint.empty()) j["checkpoint"] = checkpoint;
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

/// `backbone` as a LayeredBackbone, or null when its layers do not split.
inline LayeredBackbone* layered(BackboneImpl& backbone) { return dynamic_cast<LayeredBackbone*>(&backbone); }

}  // namespace w2s
