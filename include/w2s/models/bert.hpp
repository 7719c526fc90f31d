#pragma once
/// \file
/// BERT-family checkpoints in the Hugging Face / sentence-transformers layout: a folder
/// with config.json, model.safetensors and vocab.txt, and optionally modules.json naming
/// a Pooling module (1_Pooling/config.json) and a Normalize module. Supported: safetensors
/// weights (F32, F16, BF16, F64), by BertModel parameter name, with or without the
/// `bert.` prefix of HF's task models; pytorch_model.bin is not read (convert it with
/// HF's save_pretrained(safe_serialization=True)).
#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/atomic_file.hpp"
#include "w2s/core/error.hpp"
#include "w2s/io/file_memo.hpp"
#include "w2s/io/safetensors.hpp"
#include "w2s/models/bert_model.hpp"
#include "w2s/models/gpt2.hpp"

namespace w2s {

/// How token states become one sentence vector (sentence-transformers' Pooling and
/// Normalize modules): the mean over real tokens, the [CLS] state, the element-wise max or the
/// last real token's state (a decoder's, models/llama.hpp), then optionally L2 normalisation.
struct Pooling {
  std::string mode = "mean";  ///< mean, cls, max or lasttoken
  bool normalize = false;

  /// hidden N×T×H, attention_mask N×T (1 = real token) → N×H.
  [[nodiscard]] W2S_ENGINE_INLINE at::Tensor apply(const at::Tensor& hidden, const at::Tensor& attention_mask) const;
  [[nodiscard]] nlohmann::json describe() const { return {{"mode", mode}, {"normalize", normalize}}; }
};

/// The pooling a sentence-transformers folder declares; a folder without modules.json
/// gets mean pooling without normalisation (how sentence-transformers wraps a plain HF model).
W2S_ENGINE_INLINE Pooling read_pooling(const std::filesystem::path& dir);

/// Number of lines of a vocab.txt (one token per line).
W2S_ENGINE_INLINE int64_t count_vocab_lines(const std::filesystem::path& vocab_txt);

/// Copies every parameter of `model` from a safetensors file of HF BertModel names
/// (optionally prefixed `bert.`); the pooler and the position_ids buffer are skipped.
W2S_ENGINE_INLINE void load_bert_weights(BertModelImpl& model, const std::filesystem::path& file_path);

/// Copies every parameter of `model` from a safetensors file of the same names (F32, F16, BF16 or
/// F64), each optionally prefixed `task_prefix` (HF's task models: "bert.", "mpnet."); tensors
/// named `pooler.*` and `embeddings.position_ids` are skipped (sentence-transformers pools
/// itself; the positions are computed). Any other unknown name, a missing parameter, a shape or
/// a non-finite value is one error naming the file and tensor; `what` names the model in it.
W2S_ENGINE_INLINE void load_encoder_weights(torch::nn::Module& model, const std::filesystem::path& file_path,
                                            std::string_view task_prefix, const std::string& what);

/// Every file of checkpoint folder `dir` that load_bert and the WordPiece tokenizer read, in a
/// fixed order: config.json, model.safetensors, vocab.txt, modules.json and the config of each
/// module it lists (the pooling's, wherever its folder is). What names the encoder in cache keys
/// (models/pretrain.hpp): a file the encoder reads and the key does not hash could change the
/// features without changing their key.
W2S_ENGINE_INLINE std::vector<std::filesystem::path> bert_files(const std::filesystem::path& dir);

/// A BERT-family checkpoint folder, loaded: the encoder (eval mode), its pooling.
struct BertCheckpoint {
  BertModel model{nullptr};
  Pooling pooling;
  std::filesystem::path vocab;  ///< the folder's vocab.txt (text/wordpiece.hpp reads it)
};

/// Loads `dir` (config.json, model.safetensors, vocab.txt; modules.json optional). Every
/// missing or inconsistent file is one error naming it.
W2S_ENGINE_INLINE BertCheckpoint load_bert(const std::filesystem::path& dir);

/// Writes `dir`/config.json and `dir`/model.safetensors (BertModel names, F32), each
/// atomically; the folder still needs a vocab.txt of vocab_size lines to load back.
W2S_ENGINE_INLINE void save_bert(const BertModelImpl& model, const std::filesystem::path& dir);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE at::Tensor Pooling::apply(const at::Tensor& hidden, const at::Tensor& attention_mask) const {
  const auto mask = attention_mask.to(hidden.scalar_type()).unsqueeze(2);
  at::Tensor pooled;
  if (mode == "cls")
    pooled = hidden.select(1, 0);
  else if (mode == "lasttoken") {  // right padding: the state at each row's last real token
    const auto last = attention_mask.sum(1).sub(1).clamp_min(0).to(at::kLong);
    pooled = hidden.index({at::arange(hidden.size(0), last.options()), last});
  }
  else if (mode == "max")
    pooled = std::get<0>(hidden.masked_fill(mask.eq(0), -1e9).max(1));  // sentence-transformers' fill value
  else  // sentence-transformers clamps the token count at 1e-9
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9);
  if (normalize) pooled = pooled / pooled.norm(2, 1, true).clamp_min(1e-12);  // torch's F.normalize eps
  return pooled;
}

W2S_ENGINE_INLINE Pooling read_pooling(const std::filesystem::path& dir) {
  Pooling p;
  const auto modules_json = dir / "modules.json";
  if (!std::filesystem::exists(modules_json)) return p;
  const auto read = [](const std::filesystem::path& f) {
    std::ifstream in(f);
    check(in.good(), f.string(), ": cannot open");
    try {
      return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      fail(f.string(), ": not valid JSON (", e.what(), ")");
    }
  };
  const auto modules = read(modules_json);
  check(modules.is_array(), modules_json.string(), ": expected a JSON array of modules");
  for (const auto& m : modules) {
    const std::string type = m.value("type", "");
    if (type.ends_with(".Normalize")) p.normalize = true;
    if (!type.ends_with(".Pooling")) continue;
    const auto config_path = dir / m.value("path", "") / "config.json";
    const auto c = read(config_path);
    std::vector<std::string> modes;
    for (const auto& [key, mode] : {std::pair{"pooling_mode_mean_tokens", "mean"}, std::pair{"pooling_mode_cls_token", "cls"},
                                    std::pair{"pooling_mode_max_tokens", "max"},
                                    std::pair{"pooling_mode_lasttoken", "lasttoken"}})
      if (c.value(key, false)) modes.push_back(mode);
    for (const char* unsupported : {"pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens"})
      check(!c.value(unsupported, false), config_path.string(), ": ", unsupported,
            " is not supported (mean, cls, max or lasttoken pooling)");
    check(modes.size() == 1, config_path.string(), ": expected exactly one of pooling_mode_mean_tokens, ",
          "pooling_mode_cls_token, pooling_mode_max_tokens, pooling_mode_lasttoken to be true");
    p.mode = modes.front();
  }
  return p;
}

W2S_ENGINE_INLINE int64_t count_vocab_lines(const std::filesystem::path& vocab_txt) {
  std::ifstream in(vocab_txt, std::ios::binary);
  check(in.good(), vocab_txt.string(), ": missing (a BERT checkpoint folder needs its WordPiece vocab.txt)");
  int64_t lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  return lines;
}

W2S_ENGINE_INLINE void load_bert_weights(BertModelImpl& model, const std::filesystem::path& file_path) {
  load_encoder_weights(model, file_path, "bert.",
                       "a BERT with " + std::to_string(model.config().num_hidden_layers) + " layers");
}

W2S_ENGINE_INLINE void load_encoder_weights(torch::nn::Module& model, const std::filesystem::path& file_path,
                                            std::string_view task_prefix, const std::string& what) {
  using gpt2_detail::shape_text;
  using gpt2_detail::some_names;
  const std::string where = file_path.string();
  auto params = model.named_parameters(/*recurse=*/true);
  // Each parameter's float32 values, read, converted and checked once per process and file
  // (io/file_memo.hpp): the later makes of the same backbone in a run copy them.
  using Weights = std::map<std::string, at::Tensor>;
  const auto weights = memo_by_file<Weights>(file_path, "encoder weights " + std::string(task_prefix), [&] {
    const safetensors::File file(file_path);
    std::map<std::string, const safetensors::TensorView*> found;
    std::vector<std::string> unexpected;
    for (const auto& tensor : file.tensors()) {
      std::string_view name = tensor.name;
      if (name.starts_with(task_prefix)) name.remove_prefix(task_prefix.size());
      if (name.starts_with("pooler.") || name == "embeddings.position_ids") continue;
      if (!params.contains(std::string(name))) {
        unexpected.push_back(tensor.name);
        continue;
      }
      check(found.emplace(std::string(name), &tensor).second, where, ": parameter ", name, " is stored twice");
    }
    check(unexpected.empty(), where, ": unexpected tensor names (not parameters of ", what,
          "): ", some_names(unexpected));
    std::vector<std::string> missing;
    for (const auto& p : params)
      if (!found.count(p.key())) missing.push_back(p.key());
    check(missing.empty(), where, ": missing parameters: ", some_names(missing));
    Weights out;
    for (auto& p : params) {
      const auto& tensor = *found.at(p.key());
      check(at::IntArrayRef(tensor.shape) == p.value().sizes(), where, ": ", tensor.name, ": expected shape ",
            shape_text(p.value().sizes()), " (from config.json), got ", shape_text(tensor.shape));
      auto values = safetensors::parameter_values(tensor, where);
      out[p.key()] = at::from_blob(values.data(), p.value().sizes(), at::kFloat).clone();
    }
    return out;
  });
  // Every make: this model's parameters are those read (same names and shapes), then copied in.
  check(weights->size() == params.size(), where, ": ", weights->size(), " tensors read for ", params.size(),
        " parameters of ", what);
  at::NoGradGuard no_grad;
  for (auto& p : params) {
    const auto it = weights->find(p.key());
    check(it != weights->end(), where, ": missing parameters: ", p.key());
    check(it->second.sizes() == p.value().sizes(), where, ": ", p.key(), ": expected shape ",
          shape_text(p.value().sizes()), " (from config.json), got ", shape_text(it->second.sizes()));
    p.value().copy_(it->second);
  }
}

W2S_ENGINE_INLINE std::vector<std::filesystem::path> bert_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "modules.json"})
    if (std::filesystem::exists(dir / f)) files.push_back(dir / f);
  if (std::filesystem::exists(dir / "modules.json")) {
    nlohmann::json modules;
    try {
      std::ifstream in(dir / "modules.json");
      modules = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception&) {
      return files;  // read_pooling reports it
    }
    if (modules.is_array())
      for (const auto& m : modules)
        if (m.is_object() && m.contains("path") && m["path"].is_string() && !m["path"].get<std::string>().empty())
          if (const auto f = dir / m["path"].get<std::string>() / "config.json"; std::filesystem::exists(f))
            files.push_back(f);
  }
  return files;
}

W2S_ENGINE_INLINE BertCheckpoint load_bert(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  check(fs::is_directory(dir), dir.string(),
        ": not a folder (expected a BERT checkpoint: config.json, model.safetensors, vocab.txt)");
  const auto weights = dir / "model.safetensors";
  if (!fs::exists(weights))
    fail(weights.string(), ": missing",
         fs::exists(dir / "pytorch_model.bin")
             ? " (only pytorch_model.bin is there: convert it with HF's save_pretrained(safe_serialization=True))"
             : " (a BERT checkpoint folder needs config.json, model.safetensors and vocab.txt)");
  const auto config = BertConfig::from_json_file(dir / "config.json");
  BertCheckpoint c{BertModel(config), read_pooling(dir), dir / "vocab.txt"};
  const int64_t lines = count_vocab_lines(c.vocab);
  check(lines == config.vocab_size, c.vocab.string(), ": ", lines, " tokens, but ", (dir / "config.json").string(),
        " says vocab_size ", config.vocab_size, " (the vocabulary does not match the embedding table)");
  load_bert_weights(*c.model, weights);
  c.model->eval();
  return c;
}

W2S_ENGINE_INLINE void save_bert(const BertModelImpl& model, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::vector<safetensors::TensorData> tensors;
  for (const auto& p : model.named_parameters(/*recurse=*/true)) {
    const auto t = p.value().detach().to(at::kCPU, at::kFloat).contiguous();
    tensors.push_back(safetensors::from_float32(p.key(), t.sizes().vec(),
                                                {t.data_ptr<float>(), t.data_ptr<float>() + t.numel()}));
  }
  safetensors::write(dir / "model.safetensors", tensors, {{"format", "pt"}});
  atomic_write_text(dir / "config.json", model.config().to_json().dump(2) + "\n");
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
