#pragma once
/// \file
/// Model kinds by name (`BackboneSpec::kind`): an open registry, like the dataset registry
/// (data/registry.hpp). A kind says how to build its backbone and what it can do; the rest of
/// the framework asks for capabilities (`layered`, `checkpoint`, ...), never for a kind's
/// name. A kind is added by the one header that defines its backbone, with an inline variable
/// in its definitions block (models/bert_backbone.hpp is the model to follow):
///
///     inline const bool my_kind_registered = w2s::register_model_kind({.name = "my-kind", ...});
///
/// and that header's include in models/kinds.hpp (docs/architecture.md, "Adding a model kind").
#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/data/dataset.hpp"
#include "w2s/models/backbone.hpp"

namespace w2s {

/// How a tool turns texts into a checkpoint's ids when it runs the checkpoint on its own
/// (tools/encode.cpp); the ladder's datasets carry the same token columns (models/ladder.hpp).
enum class CheckpointText {
  wordpiece,  ///< BERT uncased WordPiece ids: the folder's vocab.txt, else the tool's --vocab
  own_file,   ///< the tokenizer inside the checkpoint file (a GGUF file's byte-level BPE)
  bpe_folder  ///< a GPT-2 byte-level BPE folder the tool names (--bpe)
};

/// A checkpoint opened on its own, outside any experiment: its forward pass on its own padded ids
/// and what a tool reports about it (tools/encode.cpp: parity with the reference, throughput).
struct OpenedCheckpoint {
  /// The last hidden states N×T×H of ids N×T (right-padded with `pad_id`; `mask` N×T, 1 on real
  /// tokens), as the reference's last_hidden_state.
  std::function<at::Tensor(const at::Tensor& ids, const at::Tensor& mask)> last_hidden;
  /// The checkpoint's own sentence vector from those states (empty: it has no pooling).
  std::function<at::Tensor(const at::Tensor& hidden, const at::Tensor& mask)> pool;
  int64_t width = 0;             ///< H
  double flops_per_token = 0;    ///< multiply-adds ×2 per token, attention scores excluded
  int64_t pad_id = 0;            ///< the id its reference pads with
};

/// One kind of model: its constructor and its capabilities.
struct ModelKind {
  std::string name;         ///< BackboneSpec::kind
  std::string description;  ///< one line, for errors and docs
  /// A freshly initialised backbone of `spec` for inputs of `input_shape` (one example);
  /// `vocab` is the text dataset's vocabulary (null for other data).
  std::function<std::shared_ptr<BackboneImpl>(const BackboneSpec& spec, const std::vector<int64_t>& input_shape,
                                              const Vocabulary* vocab)>
      make;
  /// Pretrained weights from a checkpoint folder (`spec.checkpoint`): nothing is trained or
  /// cached before use, and the backbone is named by `checkpoint_id` of the folder.
  bool checkpoint = false;
  /// For a checkpoint kind: a string of the folder's files and their checksums (the bytes,
  /// not the date: a copy is the same model); it names the backbone in every cache key.
  std::function<std::string(const std::filesystem::path& dir)> checkpoint_id;
  /// Layers that split for top-k fine-tuning: its backbone is a LayeredBackbone.
  bool layered = false;
  /// Reads a text's subword ids: its frozen features are stored per text (models/feature_store.hpp).
  bool per_text_features = false;
  /// Reads a text dataset's token ids: needs its vocabulary.
  bool reads_tokens = false;
  /// A language model over a dataset's own tokens (few-shot prompting, students/few_shot.hpp).
  bool language_model = false;
  /// Its input width follows the data it is used on (an MLP on flattened inputs): a pretrained
  /// copy widens to a part whose examples are larger than the pretraining pool's.
  bool widens_input = false;
  /// `model_type` values of a Hugging Face config.json this kind reads (checkpoint kinds).
  std::vector<std::string> model_types;
  /// A checkpoint kind whose checkpoint is one file of this extension (".gguf"), not a folder:
  /// `--strong path/to/file.gguf` names it, and text datasets tokenise with the file's own
  /// tokenizer when a run names such a model (ladder.hpp, token_files_for).
  std::string file_extension;
  /// The poolings `BackboneSpec::pooling` may choose instead of the kind's own (empty: none).
  std::vector<std::string> poolings;
  /// A checkpoint kind that tools can run on its own: the checkpoint at a path, loaded (empty: it
  /// cannot be). `text` says how texts become its ids; `ids_from_wordpiece` maps WordPiece ids
  /// to the model's own where they differ (MPNet's vocabulary: models/mpnet.hpp).
  std::function<OpenedCheckpoint(const std::filesystem::path& path)> open;
  CheckpointText text = CheckpointText::wordpiece;
  std::function<at::Tensor(const at::Tensor& wordpiece_ids)> ids_from_wordpiece;
};

/// Adds `kind`; refuses an empty name, a missing constructor, a checkpoint kind without
/// checkpoint_id, and a name already taken. Returns true (for static initialisers).
W2S_ENGINE_INLINE bool register_model_kind(ModelKind kind);

/// The kind `name`; an unknown name is an error that lists the registered kinds.
W2S_ENGINE_INLINE const ModelKind& model_kind(const std::string& name);

/// The checkpoint kind whose checkpoint is one file with `path`'s extension, or null.
W2S_ENGINE_INLINE const ModelKind* model_kind_for_file(const std::filesystem::path& path);

/// Every registered kind's name, sorted.
W2S_ENGINE_INLINE std::vector<std::string> model_kind_names();

/// The checkpoint kind that reads a Hugging Face config.json with `model_type`; an error
/// naming `where` and the known types when none does.
W2S_ENGINE_INLINE const ModelKind& model_kind_for_type(const std::string& model_type, const std::string& where);

namespace detail {
W2S_ENGINE_INLINE std::vector<ModelKind>& model_kinds_registered();
}  // namespace detail

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE std::vector<ModelKind>& detail::model_kinds_registered() {
  static std::vector<ModelKind> all;  // constructed on first use: safe from any static initialiser
  return all;
}

W2S_ENGINE_INLINE bool register_model_kind(ModelKind kind) {
  check(!kind.name.empty(), "register_model_kind: a model kind needs a name");
  check(static_cast<bool>(kind.make), "register_model_kind: '", kind.name, "' has no constructor (make)");
  check(!kind.checkpoint || static_cast<bool>(kind.checkpoint_id), "register_model_kind: '", kind.name,
        "' is a checkpoint kind without checkpoint_id");
  auto& all = detail::model_kinds_registered();
  for (const auto& k : all)
    check(k.name != kind.name, "register_model_kind: a model kind named '", kind.name, "' is registered already");
  all.push_back(std::move(kind));
  return true;
}

W2S_ENGINE_INLINE std::vector<std::string> model_kind_names() {
  std::vector<std::string> names;
  for (const auto& k : detail::model_kinds_registered()) names.push_back(k.name);
  std::sort(names.begin(), names.end());
  return names;
}

W2S_ENGINE_INLINE const ModelKind& model_kind(const std::string& name) {
  for (const auto& k : detail::model_kinds_registered())
    if (k.name == name) return k;
  std::string known;
  for (const auto& n : model_kind_names()) known += (known.empty() ? "" : ", ") + n;
  fail("backbone kind '", name, "' unknown; expected one of: ", known);
}

W2S_ENGINE_INLINE const ModelKind* model_kind_for_file(const std::filesystem::path& path) {
  for (const auto& k : detail::model_kinds_registered())
    if (!k.file_extension.empty() && path.extension() == k.file_extension) return &k;
  return nullptr;
}

W2S_ENGINE_INLINE const ModelKind& model_kind_for_type(const std::string& model_type, const std::string& where) {
  std::string known;
  for (const auto& k : detail::model_kinds_registered())
    for (const auto& t : k.model_types) {
      if (t == model_type) return k;
      known += (known.empty() ? "" : ", ") + t;
    }
  fail(where, ": model_type \"", model_type, "\" is no model kind here; expected one of: ", known);
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
