#pragma once
/// \file
/// Builds a backbone from its spec, through the model-kind registry (models/model_kind.hpp);
/// models/kinds.hpp brings in every built-in kind, where the engine's definitions compile
/// (src/engine_models.cpp, or a header-only build): an experiment linking w2s::engine parses no model.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/models/backbone.hpp"
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
#include "w2s/models/kinds.hpp"
#endif
#include "w2s/models/model_kind.hpp"

namespace w2s {

/// A freshly initialised backbone of `spec` for inputs of `input_shape` (one
/// example); kinds that read token ids also need the dataset's vocabulary.
W2S_ENGINE_INLINE std::shared_ptr<BackboneImpl> make_backbone(const BackboneSpec& spec,
                                                              const std::vector<int64_t>& input_shape,
                                                              const Vocabulary* vocab = nullptr);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE std::shared_ptr<BackboneImpl> make_backbone(const BackboneSpec& spec,
                                                              const std::vector<int64_t>& input_shape,
                                                              const Vocabulary* vocab) {
  const auto& kind = model_kind(spec.kind);
  check(!kind.reads_tokens || vocab != nullptr, "backbone kind '", spec.kind,
        "' reads token ids: it needs a text dataset");
  if (!spec.pooling.empty() &&
      std::find(kind.poolings.begin(), kind.poolings.end(), spec.pooling) == kind.poolings.end()) {
    std::string offered;
    for (const auto& p : kind.poolings) offered += (offered.empty() ? "" : ", ") + p;
    fail("backbone kind '", spec.kind, "' has no pooling '", spec.pooling, "' (",
         offered.empty() ? "it pools one way only" : "it offers " + offered, ")");
  }
  return kind.make(spec, input_shape, vocab);
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
