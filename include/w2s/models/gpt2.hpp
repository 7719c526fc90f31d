#pragma once
/// \file
/// GPT-2 checkpoints in the Hugging Face layout: a folder with config.json and
/// model.safetensors. Loads GPT2Model and GPT2LMHeadModel checkpoints by parameter name
/// (the module is in w2s/models/gpt2_model.hpp) and saves weights HF can load back.
///
/// Name handling, from what HF checkpoints contain: GPT2LMHeadModel prefixes the body's
/// names with `transformer.` and stores `lm_head.weight`, which GPT-2 ties to `wte.weight`
/// (so it carries nothing new); older checkpoints also store the attention buffers
/// `h.{i}.attn.bias` (the causal mask) and `h.{i}.attn.masked_bias`, which are not
/// parameters. Anything else that does not name a parameter is an error, as is a missing
/// parameter or a shape mismatch: a silently half-loaded model would train on noise.
#include <ATen/ATen.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/atomic_file.hpp"
#include "w2s/core/error.hpp"
#include "w2s/io/safetensors.hpp"
#include "w2s/models/gpt2_model.hpp"

namespace w2s {

namespace gpt2_detail {
inline std::string shape_text(at::IntArrayRef shape) {
  std::ostringstream out;
  out << '[';
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << ']';
  return out.str();
}

/// True for `h.<digits>.attn.bias` and `h.<digits>.attn.masked_bias` (the buffers, not c_attn.bias).
inline bool is_attention_buffer(std::string_view name) {
  if (!name.starts_with("h.")) return false;
  name.remove_prefix(2);
  const auto digits = std::find_if(name.begin(), name.end(), [](char c) { return !std::isdigit(uint8_t(c)); });
  if (digits == name.begin()) return false;
  const std::string_view rest(digits, name.end());
  return rest == ".attn.bias" || rest == ".attn.masked_bias";
}

/// Up to `shown` names, then how many in all.
inline std::string some_names(const std::vector<std::string>& names, size_t shown = 5) {
  std::string out;
  for (size_t i = 0; i < std::min(names.size(), shown); ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > shown) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}
}  // namespace gpt2_detail

/// Copies every parameter of `model` from an HF GPT-2 safetensors file (F32, F16, BF16 or
/// F64 data, converted to each parameter's dtype and device). `lm_head.weight` is accepted
/// when it has the shape of wte.weight and otherwise ignored (the LM head is tied to wte).
W2S_ENGINE_INLINE void load_gpt2_weights(Gpt2ModelImpl& model, const std::filesystem::path& safetensors_file);

/// Loads an HF GPT-2 folder (config.json + model.safetensors) into a new Gpt2Model, in eval
/// mode like HF's from_pretrained (the trainer switches to train mode). Convert a
/// pytorch_model.bin or a sharded checkpoint to one model.safetensors first.
W2S_ENGINE_INLINE Gpt2Model load_gpt2(const std::filesystem::path& dir, bool dropout = true);

/// Writes `dir`/config.json and `dir`/model.safetensors (GPT2Model names, no prefix; the
/// `format: pt` metadata HF's loader requires), each atomically. `dtype`: F32, F16 or BF16.
W2S_ENGINE_INLINE void save_gpt2(const Gpt2ModelImpl& model, const std::filesystem::path& dir,
                                 safetensors::DType dtype = safetensors::DType::F32);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE void load_gpt2_weights(Gpt2ModelImpl& model, const std::filesystem::path& safetensors_file) {
  using namespace gpt2_detail;
  const std::string where = safetensors_file.string();
  const safetensors::File file(safetensors_file);
  auto params = model.named_parameters(/*recurse=*/true);
  std::map<std::string, const safetensors::TensorView*> found;
  std::vector<std::string> unexpected;
  for (const auto& tensor : file.tensors()) {
    std::string_view name = tensor.name;
    if (name.starts_with("transformer.")) name.remove_prefix(std::string_view("transformer.").size());
    if (is_attention_buffer(name)) continue;
    if (name == "lm_head.weight") {
      const auto& wte = model.wte->weight;
      check(at::IntArrayRef(tensor.shape) == wte.sizes(), where, ": lm_head.weight: expected shape ",
            shape_text(wte.sizes()), " (tied to wte.weight), got ", shape_text(tensor.shape));
      continue;
    }
    if (!params.contains(std::string(name))) {
      unexpected.push_back(tensor.name);
      continue;
    }
    check(found.emplace(std::string(name), &tensor).second, where, ": parameter ", name,
          " is stored twice (with and without the 'transformer.' prefix?)");
  }
  check(unexpected.empty(), where, ": unexpected tensor names (not parameters of a GPT-2 with ",
        model.config().n_layer, " layers): ", some_names(unexpected));
  std::vector<std::string> missing;
  for (const auto& p : params)
    if (!found.count(p.key())) missing.push_back(p.key());
  check(missing.empty(), where, ": missing parameters: ", some_names(missing));

  at::NoGradGuard no_grad;
  for (auto& p : params) {
    const auto& tensor = *found.at(p.key());
    auto& param = p.value();
    if (at::IntArrayRef(tensor.shape) != param.sizes())
      fail(where, ": ", tensor.name, ": expected shape ", shape_text(param.sizes()), ", got ", shape_text(tensor.shape),
           p.key().ends_with(".weight") && p.key().find(".c_") != std::string::npos
               ? " (GPT-2's Conv1D weights are stored in×out, the transpose of nn.Linear's)"
               : "");
    auto values = safetensors::parameter_values(tensor, where);
    param.copy_(at::from_blob(values.data(), param.sizes(), at::kFloat));
  }
}

W2S_ENGINE_INLINE Gpt2Model load_gpt2(const std::filesystem::path& dir, bool dropout) {
  namespace fs = std::filesystem;
  check(fs::is_directory(dir), dir.string(),
        ": not a folder (expected a Hugging Face GPT-2 checkpoint: config.json and model.safetensors)");
  const auto weights = dir / "model.safetensors";
  if (!fs::exists(weights)) {
    const bool sharded = fs::exists(dir / "model.safetensors.index.json");
    const bool pickle = fs::exists(dir / "pytorch_model.bin");
    fail(weights.string(), ": missing",
         sharded  ? " (sharded checkpoints are not supported: merge the shards into one model.safetensors)"
         : pickle ? " (only pytorch_model.bin is there: convert it to model.safetensors, e.g. with HF's "
                    "save_pretrained(safe_serialization=True))"
                  : "");
  }
  auto config = Gpt2Config::from_json_file(dir / "config.json");
  {  // the config's sizes against the weights' shapes, before allocating a model of the config's size
    const safetensors::File file(weights);
    int64_t layers = 0;
    for (const auto& t : file.tensors()) {
      std::string_view name = t.name;
      if (name.starts_with("transformer.")) name.remove_prefix(std::string_view("transformer.").size());
      const auto expect = [&](int64_t rows, const char* what) {
        check(t.shape == std::vector<int64_t>{rows, config.n_embd}, (dir / "config.json").string(), ": ", what,
              " do not match ", weights.string(), ": ", t.name, " has shape ", safetensors::detail::shape_string(t.shape),
              ", the config implies [", rows, ", ", config.n_embd, "]");
      };
      if (name == "wte.weight") expect(config.vocab_size, "vocab_size and n_embd");
      if (name == "wpe.weight") expect(config.n_positions, "n_positions and n_embd");
      if (name.starts_with("h.")) {
        const auto dot = name.find('.', 2);
        int64_t i = -1;
        std::from_chars(name.data() + 2, name.data() + (dot == std::string_view::npos ? name.size() : dot), i);
        layers = std::max(layers, i + 1);
      }
    }
    check(layers >= config.n_layer, (dir / "config.json").string(), ": n_layer ", config.n_layer, " does not match ",
          weights.string(), ", which holds ", layers, " layers");  // more layers: named as unexpected below
  }
  if (!dropout) config.resid_pdrop = config.embd_pdrop = config.attn_pdrop = 0;  // the openai fine-tuning setting
  Gpt2Model model(config);
  load_gpt2_weights(*model, weights);
  model->eval();
  return model;
}

W2S_ENGINE_INLINE void save_gpt2(const Gpt2ModelImpl& model, const std::filesystem::path& dir,
                                 safetensors::DType dtype) {
  std::filesystem::create_directories(dir);
  std::vector<safetensors::TensorData> tensors;
  for (const auto& p : model.named_parameters(/*recurse=*/true)) {
    const auto t = p.value().detach().to(at::kCPU, at::kFloat).contiguous();
    const std::vector<float> values(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    tensors.push_back(safetensors::from_float32(p.key(), t.sizes().vec(), values, dtype));
  }
  safetensors::write(dir / "model.safetensors", tensors, {{"format", "pt"}});
  atomic_write_text(dir / "config.json", model.config().to_json().dump(2) + "\n");
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
