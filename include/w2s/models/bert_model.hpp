#pragma once
/// \file
/// BERT (Devlin et al. 2019) as a LibTorch module whose parameter names and shapes are
/// those of Hugging Face's BertModel, so sentence-transformers and HF checkpoints load by
/// name (w2s/models/bert.hpp). Architecture facts used (paper §3, HF modeling_bert):
/// word + learned position + token-type embeddings, LayerNorm; post-LN encoder layers
/// (LayerNorm(x + attention(x)), then LayerNorm(y + MLP(y))); attention scaled by
/// 1/√d_head with padded keys masked out; an MLP of width `intermediate_size`.
/// Dropout is left out: the openai fine-tuning setting turns it off, and the exact
/// gradient accumulation of train/trainer.hpp needs a deterministic forward.
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/models/gpt2_model.hpp"
#include "w2s/models/hf_ops.hpp"
#include "w2s/models/text_encoder.hpp"

namespace w2s {

/// The hyper-parameters of a BERT encoder, with the names of HF's BertConfig.
struct BertConfig {
  int64_t vocab_size = 30522, hidden_size = 768, num_hidden_layers = 12, num_attention_heads = 12;
  int64_t intermediate_size = 3072, max_position_embeddings = 512, type_vocab_size = 2, pad_token_id = 0;
  double layer_norm_eps = 1e-12;
  std::string hidden_act = "gelu";  ///< "gelu" (erf), "gelu_new" (tanh approximation) or "relu"

  /// Reads an HF config.json; every size is required. Settings this module does not
  /// implement (relative position embeddings, another model type) are rejected by name.
  W2S_ENGINE_INLINE static BertConfig from_json_file(const std::filesystem::path& config_json);

  /// The config as HF writes it (BertModel.from_pretrained loads it).
  [[nodiscard]] W2S_ENGINE_INLINE nlohmann::json to_json() const;
};

/// One post-LN encoder layer with HF's names: attention.self.{query,key,value},
/// attention.output.{dense,LayerNorm}, intermediate.dense, output.{dense,LayerNorm}.
class BertLayerImpl : public torch::nn::Module {
 public:
  W2S_ENGINE_INLINE explicit BertLayerImpl(const BertConfig& c);

  /// x: N×T×H; mask_bias: N×1×1×T, added to the attention scores, 0 at real keys and the most
  /// negative float at padded ones (key_mask_bias, models/hf_ops.hpp).
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& x, const at::Tensor& mask_bias);

  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr}, attention_dense{nullptr};
  torch::nn::LayerNorm attention_norm{nullptr};
  torch::nn::Linear intermediate_dense{nullptr}, output_dense{nullptr};
  torch::nn::LayerNorm output_norm{nullptr};

 private:
  int64_t heads_;
  at::Tensor (*activation_)(const at::Tensor&) = nullptr;
};
TORCH_MODULE(BertLayer);

/// HF's BertModel without its pooler (sentence-transformers pools the last hidden state
/// itself): token ids → last hidden state N×T×H. Names: embeddings.{word,position,
/// token_type}_embeddings.weight, embeddings.LayerNorm.*, encoder.layer.{i}.…
class BertModelImpl : public torch::nn::Module, public TextEncoder {
 public:
  W2S_ENGINE_INLINE explicit BertModelImpl(BertConfig config);

  /// The embedding output N×T×H of ids N×T (single-segment inputs: token type 0).
  W2S_ENGINE_INLINE at::Tensor embed(const at::Tensor& ids);
  /// The same (positions 0..T-1 whatever the mask: right padding).
  at::Tensor embed(const at::Tensor& ids, const at::Tensor& /*mask*/) override { return embed(ids); }

  /// Layers [from, to) on hidden states x (N×T×H) with attention_mask N×T (1 = real token).
  W2S_ENGINE_INLINE at::Tensor run_layers(at::Tensor x, const at::Tensor& attention_mask, int64_t from,
                                          int64_t to) override;
  [[nodiscard]] int64_t layers() const override { return config_.num_hidden_layers; }
  [[nodiscard]] int64_t width() const override { return config_.hidden_size; }
  [[nodiscard]] int64_t mlp_width() const override { return config_.intermediate_size; }

  /// Last hidden state N×T×H; attention_mask N×T (1 = real token, 0 = padding).
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& ids, const at::Tensor& attention_mask);

  [[nodiscard]] const BertConfig& config() const { return config_; }

  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  torch::nn::LayerNorm embedding_norm{nullptr};
  torch::nn::ModuleList layer{nullptr};

 private:
  BertConfig config_;
};
TORCH_MODULE(BertModel);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE BertConfig BertConfig::from_json_file(const std::filesystem::path& config_json) {
  const std::string where = config_json.string();
  std::ifstream in(config_json);
  check(in.good(), where, ": cannot open (a BERT checkpoint folder needs Hugging Face's config.json)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(where, ": not valid JSON (", e.what(), ")");
  }
  check(j.is_object(), where, ": expected a JSON object");
  check(j.value("model_type", "") == "bert", where, ": model_type ", j.value("model_type", nlohmann::json()).dump(),
        " is not \"bert\" (supported encoders: BERT family, e.g. sentence-transformers all-MiniLM-L6-v2)");
  const auto integer = [&](const char* key) -> int64_t {
    check(j.contains(key) && j[key].is_number_integer() && j[key].get<int64_t>() > 0, where, ": '", key,
          "' must be a positive integer, got ", j.contains(key) ? j[key].dump() : "nothing");
    return j[key].get<int64_t>();
  };
  BertConfig c;
  c.vocab_size = integer("vocab_size"), c.hidden_size = integer("hidden_size");
  c.num_hidden_layers = integer("num_hidden_layers"), c.num_attention_heads = integer("num_attention_heads");
  c.intermediate_size = integer("intermediate_size"), c.max_position_embeddings = integer("max_position_embeddings");
  c.type_vocab_size = integer("type_vocab_size");
  if (j.contains("pad_token_id") && j["pad_token_id"].is_number_integer()) c.pad_token_id = j["pad_token_id"];
  if (j.contains("layer_norm_eps")) {
    check(j["layer_norm_eps"].is_number() && j["layer_norm_eps"].get<double>() > 0, where,
          ": 'layer_norm_eps' must be a positive number");
    c.layer_norm_eps = j["layer_norm_eps"];
  }
  c.hidden_act = j.value("hidden_act", c.hidden_act);
  check(c.hidden_act == "gelu" || c.hidden_act == "gelu_new" || c.hidden_act == "relu", where, ": hidden_act '",
        c.hidden_act, "' is not supported; expected gelu, gelu_new or relu");
  check(j.value("position_embedding_type", "absolute") == "absolute", where, ": position_embedding_type ",
        j["position_embedding_type"].dump(), " is not supported (absolute only)");
  check(c.hidden_size % c.num_attention_heads == 0, where, ": hidden_size (", c.hidden_size,
        ") is not divisible by num_attention_heads (", c.num_attention_heads, ")");
  check(c.pad_token_id >= 0 && c.pad_token_id < c.vocab_size, where, ": pad_token_id ", c.pad_token_id,
        " is outside the vocabulary (0..", c.vocab_size - 1, ")");
  return c;
}

W2S_ENGINE_INLINE nlohmann::json BertConfig::to_json() const {
  return {{"model_type", "bert"},
          {"architectures", {"BertModel"}},
          {"vocab_size", vocab_size},
          {"hidden_size", hidden_size},
          {"num_hidden_layers", num_hidden_layers},
          {"num_attention_heads", num_attention_heads},
          {"intermediate_size", intermediate_size},
          {"max_position_embeddings", max_position_embeddings},
          {"type_vocab_size", type_vocab_size},
          {"pad_token_id", pad_token_id},
          {"layer_norm_eps", layer_norm_eps},
          {"hidden_act", hidden_act},
          {"position_embedding_type", "absolute"}};
}

W2S_ENGINE_INLINE BertLayerImpl::BertLayerImpl(const BertConfig& c) : heads_(c.num_attention_heads) {
  const int64_t h = c.hidden_size;
  const auto ln = [&] { return torch::nn::LayerNorm(torch::nn::LayerNormOptions({h}).eps(c.layer_norm_eps)); };
  auto attention = register_module("attention", std::make_shared<torch::nn::Module>());
  auto self = attention->register_module("self", std::make_shared<torch::nn::Module>());
  query = self->register_module("query", torch::nn::Linear(h, h));
  key = self->register_module("key", torch::nn::Linear(h, h));
  value = self->register_module("value", torch::nn::Linear(h, h));
  auto attention_output = attention->register_module("output", std::make_shared<torch::nn::Module>());
  attention_dense = attention_output->register_module("dense", torch::nn::Linear(h, h));
  attention_norm = attention_output->register_module("LayerNorm", ln());
  auto intermediate = register_module("intermediate", std::make_shared<torch::nn::Module>());
  intermediate_dense = intermediate->register_module("dense", torch::nn::Linear(h, c.intermediate_size));
  auto output = register_module("output", std::make_shared<torch::nn::Module>());
  output_dense = output->register_module("dense", torch::nn::Linear(c.intermediate_size, h));
  output_norm = output->register_module("LayerNorm", ln());
  activation_ = c.hidden_act == "relu"       ? +[](const at::Tensor& x) { return at::relu(x); }
                : c.hidden_act == "gelu_new" ? +[](const at::Tensor& x) { return gelu_new(x); }
                                             : +[](const at::Tensor& x) { return at::gelu(x); };
}

W2S_ENGINE_INLINE at::Tensor BertLayerImpl::forward(const at::Tensor& x, const at::Tensor& mask_bias) {
  const int64_t n = x.size(0), t = x.size(1), e = x.size(2), d = e / heads_;
  const auto split = [&](const at::Tensor& y) { return y.view({n, t, heads_, d}).transpose(1, 2); };
  const auto q = split(linear(query, x)), k = split(linear(key, x)), v = split(linear(value, x));
  const auto scores = at::matmul(q, k.transpose(-1, -2)) / std::sqrt(double(d)) + mask_bias;
  const auto context = at::matmul(at::softmax(scores, -1), v).transpose(1, 2).reshape({n, t, e});
  const auto y = attention_norm(x + linear(attention_dense, context));
  return output_norm(y + linear(output_dense, activation_(linear(intermediate_dense, y))));
}

W2S_ENGINE_INLINE BertModelImpl::BertModelImpl(BertConfig config) : config_(std::move(config)) {
  const auto& c = config_;
  auto embeddings = register_module("embeddings", std::make_shared<torch::nn::Module>());
  word_embeddings = embeddings->register_module("word_embeddings", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  position_embeddings = embeddings->register_module("position_embeddings",
                                                    torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  token_type_embeddings =
      embeddings->register_module("token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  embedding_norm = embeddings->register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
  auto encoder = register_module("encoder", std::make_shared<torch::nn::Module>());
  layer = encoder->register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layer->push_back(BertLayer(c));
}

W2S_ENGINE_INLINE at::Tensor BertModelImpl::embed(const at::Tensor& ids) {
  check(ids.dim() == 2 && at::isIntegralType(ids.scalar_type(), /*includeBool=*/false),
        "bert: ids must be an N×T integer tensor, got ", ids.sizes(), " of ", ids.scalar_type());
  const int64_t t = ids.size(1);
  check(t >= 1 && t <= config_.max_position_embeddings, "bert: sequence length ", t,
        " must be in 1..max_position_embeddings (", config_.max_position_embeddings, ")");
  const auto positions = at::arange(t, ids.options().dtype(at::kLong));
  // Summed in HF's order (word + token type, then position): the same rounding as the reference.
  return embedding_norm(word_embeddings(ids.to(at::kLong)) + token_type_embeddings->weight[0] +
                        position_embeddings(positions));
}

W2S_ENGINE_INLINE at::Tensor BertModelImpl::run_layers(at::Tensor x, const at::Tensor& attention_mask, int64_t from,
                                                       int64_t to) {
  check(0 <= from && from <= to && to <= config_.num_hidden_layers, "bert: layers [", from, ", ", to, ") outside 0..",
        config_.num_hidden_layers);
  check(attention_mask.dim() == 2 && attention_mask.size(0) == x.size(0) && attention_mask.size(1) == x.size(1),
        "bert: attention_mask must be N×T of the hidden states ", x.sizes(), ", got ", attention_mask.sizes());
  const auto mask_bias = key_mask_bias(attention_mask, x.scalar_type());
  for (int64_t i = from; i < to; ++i) x = layer->at<BertLayerImpl>(i).forward(x, mask_bias);
  return x;
}

W2S_ENGINE_INLINE at::Tensor BertModelImpl::forward(const at::Tensor& ids, const at::Tensor& attention_mask) {
  check(attention_mask.sizes() == ids.sizes(), "bert: attention_mask must have the shape of ids ", ids.sizes(),
        ", got ", attention_mask.sizes());
  return run_layers(embed(ids), attention_mask, 0, config_.num_hidden_layers);
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
